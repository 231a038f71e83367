"""The audit trail over the API: data-protection officers (and administrators) only; audited."""

from __future__ import annotations

import pytest

from openiom.people.selectors import view_person
from tests.people.builders import events


@pytest.fixture
def consulted(actor, make_person):
    """Two people, each viewed once by the probation offender manager."""
    first, second = make_person(), make_person()
    view_person(actor=actor("probation.om"), person_id=first.pk)
    view_person(actor=actor("probation.om"), person_id=second.pk)
    return first, second


def test_the_dpo_reads_the_events_about_one_person(as_persona, consulted):
    first, _ = consulted
    response = as_persona("dpo").get("/api/audit/events", {"person_id": first.pk})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [event] = body["results"]
    assert event["event_type"] == "person.consulted"
    assert event["category"] == "consultation"
    assert event["person_id"] == first.pk
    assert event["actor_username"] == "probation.om"
    assert event["actor_agency"] == "probation-wessex"
    assert event["actor_role"] == "offender_manager"
    assert event["summary"] == f"Viewed the record of {first}"


def test_reading_the_trail_is_itself_audited(as_persona, consulted):
    first, _ = consulted
    as_persona("dpo").get("/api/audit/events", {"person_id": first.pk})

    [read] = events("audit.consulted")
    assert read.actor_username == "dpo"
    assert read.person_id == first.pk
    assert read.details["filters"]["person_id"] == first.pk
    assert read.details["results"] == 1


def test_filtering_by_type_and_paging(as_token, consulted):
    client = as_token("dpo")
    page = client.get(
        "/api/audit/events", {"event_type": "person.consulted", "limit": 1, "offset": 1}
    ).json()
    assert page["count"] == 2 and len(page["results"]) == 1
    assert page["results"][0]["person_id"] == consulted[0].pk  # newest first


@pytest.mark.parametrize("username", ["probation.om", "police.officer", "housing.worker"])
def test_everyone_else_is_refused_and_the_refusal_audited(as_persona, consulted, username):
    response = as_persona(username).get("/api/audit/events")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "You cannot view audit: data-protection officers and administrators only."
    }
    [denial] = events("access.denied")
    assert denial.actor_username == username
    assert events("audit.consulted") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"person_id": "x"}, "person_id"), ({"person_id": 0}, "person_id"), ({"limit": 500}, "limit")],
)
def test_bad_filters_are_a_422(as_token, db, params, field):
    response = as_token("dpo").get("/api/audit/events", params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]
