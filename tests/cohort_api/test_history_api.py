"""A person's IOM history at /api/people/{id}/iom (beside, not clashing with, the people API)."""

from __future__ import annotations

import datetime as dt

from openiom.cohort import services
from tests.cohort.conftest import events
from tests.cohort_api.helpers import post

DOING_WELL = {"appointments_kept": 2, "appointments_missed": 0, "in_employment": True}


def test_the_history_tells_the_story_back(as_persona, actor, registration):
    services.set_rag_status(
        actor=actor("probation.om"),
        registration=registration,
        status="amber",
        on=dt.date(2026, 3, 9),
    )
    person = registration.person

    response = as_persona("coordinator").get(f"/api/people/{person.pk}/iom")

    assert response.status_code == 200
    body = response.json()
    assert body["person"]["id"] == person.pk
    [referral] = body["referrals"]
    assert referral["state"] == "adopted"
    assert [c["to_state"] for c in referral["state_changes"]] == [
        "draft",
        "submitted",
        "listed",
        "adopted",
    ]
    [decision] = body["panel_decisions"]
    assert decision["decision"] == "adopt"
    [reg] = body["registrations"]
    assert reg["registration"]["id"] == registration.pk
    assert reg["registration"]["rag_status"] == "amber"
    assert [c["to_status"] for c in reg["status_changes"]] == ["active"]
    assert [a["status"] for a in reg["rag_assessments"]] == ["amber"]
    assert reg["rag_assessments"][0]["evidence"] is not None
    [consulted] = events("cohort.history_consulted")
    assert consulted.person_id == person.pk and consulted.actor_username == "coordinator"


def test_the_people_api_still_answers_beside_it(as_token, registration):
    client = as_token("coordinator")
    person = registration.person
    assert client.get(f"/api/people/{person.pk}").json()["id"] == person.pk
    assert client.get(f"/api/people/{person.pk}/iom").json()["person"]["id"] == person.pk


def test_a_partner_sees_only_their_own_agencys_referrals_and_no_evidence(
    as_token, actor, registration, involve, make_person
):
    person = registration.person
    involve(person, "drug.worker")
    services.set_rag_status(
        actor=actor("probation.om"),
        registration=registration,
        status="amber",
        on=dt.date(2026, 3, 9),
    )

    housing = as_token("housing.worker").get(f"/api/people/{person.pk}/iom").json()
    drugs = as_token("drug.worker").get(f"/api/people/{person.pk}/iom").json()

    assert len(housing["referrals"]) == 1  # Harbour Housing made it
    assert drugs["referrals"] == []
    assert len(drugs["panel_decisions"]) == 1
    [reg] = drugs["registrations"]
    assert reg["rag_assessments"][0]["status"] == "amber"
    assert reg["rag_assessments"][0]["suggestion_reasons"] is None


def test_the_lead_worker_sees_the_evidence(as_token, actor, registration):
    post(
        as_token("probation.om"),
        f"/api/registrations/{registration.pk}/rag",
        {"status": "amber", "on": "2026-03-09"},
    )
    body = as_token("probation.om").get(f"/api/people/{registration.person_id}/iom").json()
    assert body["registrations"][0]["rag_assessments"][0]["suggestion_reasons"]


def test_someone_who_may_not_see_the_person_is_refused(as_token, registration):
    response = as_token("vcs.mentor").get(f"/api/people/{registration.person_id}/iom")
    assert response.status_code == 403
    assert len(events("access.denied")) == 1


def test_a_person_never_referred_has_an_empty_history(as_token, make_person):
    person = make_person()
    body = as_token("coordinator").get(f"/api/people/{person.pk}/iom").json()
    assert (body["referrals"], body["panel_decisions"], body["registrations"]) == ([], [], [])


def test_unknown_and_malformed_people(as_token, db):
    client = as_token("coordinator")
    assert client.get("/api/people/777777/iom").json() == {"detail": "No such person."}
    for bad in ("0", "abc", str(2**64)):
        assert client.get(f"/api/people/{bad}/iom").status_code in {404, 422}
