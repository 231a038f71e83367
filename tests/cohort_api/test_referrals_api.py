"""Referral endpoints: the same services, permissions and audit as the pages; JSON errors."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.cohort import services
from openiom.cohort.models import Referral
from tests.cohort.conftest import agency, events
from tests.cohort_api.helpers import PANEL, field_error, post

API = "/api/referrals"


@pytest.fixture
def housed(burglar, involve):
    """Dean, whom Hannah's housing agency works with."""
    involve(burglar, "housing.worker")
    return burglar


def refer(client, person, **extra):
    return post(client, API, {"person_id": person.pk, "reason": "Repeat burglaries", **extra})


class TestCreate:
    def test_a_partner_refers_a_person_they_work_with(self, as_persona, housed):
        response = refer(as_persona("housing.worker"), housed, evidence="Arrears letters")

        assert response.status_code == 201
        body = response.json()
        assert body["state"] == "draft"
        assert body["person"]["id"] == housed.pk and body["person"]["surname"] == "Walsh"
        assert body["referring_agency"]["code"] == "harbour-housing"
        assert body["referred_by"] == {"username": "housing.worker", "full_name": "Hannah Byrne"}
        assert body["evidence"] == "Arrears letters"
        assert [c["to_state"] for c in body["state_changes"]] == ["draft"]
        assert body["next_states"] == ["submitted", "withdrawn"]
        [created] = events("referral.created")
        assert created.actor_username == "housing.worker" and created.object_id == str(body["id"])

    def test_created_and_submitted_at_once_with_a_proposed_cohort(self, as_token, housed):
        response = refer(as_token("housing.worker"), housed, submit=True, proposed_cohort="fixed")

        assert response.status_code == 201
        body = response.json()
        assert body["state"] == "submitted" and body["submitted_at"]
        assert body["proposed_cohort"]["key"] == "fixed"
        assert [c["to_state"] for c in body["state_changes"]] == ["draft", "submitted"]
        assert len(events("referral.submitted")) == 1

    def test_a_partner_cannot_refer_someone_they_do_not_work_with(self, as_persona, burglar):
        response = refer(as_persona("housing.worker"), burglar)

        assert response.status_code == 403
        assert "refer person" in response.json()["detail"]
        assert not Referral.objects.exists()
        [denied] = events("access.denied")
        assert denied.details["action"] == "refer person"

    def test_a_second_open_referral_is_refused_naming_the_first(self, as_token, housed):
        client = as_token("housing.worker")
        first = refer(client, housed).json()
        response = refer(client, housed)

        field, message = field_error(response)
        assert field == "body"
        assert f"already has an open referral ({first['id']}, draft)" in message

    def test_unknown_person_is_a_404(self, as_token, db):
        response = post(as_token("coordinator"), API, {"person_id": 987654, "reason": "x"})
        assert response.status_code == 404
        assert response.json() == {"detail": "No such person."}

    def test_an_unknown_proposed_cohort_is_a_422_naming_the_field(self, as_token, housed):
        response = refer(as_token("housing.worker"), housed, proposed_cohort="platinum")
        field, message = field_error(response)
        assert field == "proposed_cohort"
        assert "No cohort 'platinum' is in force" in message and "fixed, flex, free" in message

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"reason": "   "}, "reason"),
            ({"reason": "ok\x00"}, "reason"),
            ({"reason": "x" * 10_001}, "reason"),
            ({"reason": 12}, "reason"),
            ({"person_id": "1"}, "person_id"),
            ({"person_id": 2**63}, "person_id"),
            ({"person_id": 0}, "person_id"),
            ({"submit": [1]}, "submit"),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field(self, as_token, housed, body, field):
        response = post(
            as_token("housing.worker"), API, {"person_id": housed.pk, "reason": "ok", **body}
        )
        assert field_error(response)[0] == field
        assert not Referral.objects.exists()

    def test_a_missing_reason_names_the_field(self, as_token, housed):
        response = post(as_token("housing.worker"), API, {"person_id": housed.pk})
        assert field_error(response)[0] == "reason"


class TestQueueAndAgencyList:
    def test_the_coordinator_sees_the_queue_listed_first(
        self, actor, as_persona, housed, make_person
    ):
        other = make_person()
        services.create_referral(
            actor=actor("coordinator"), person=other, reason="Robberies", submit=True
        )
        listed = Referral.objects.get(person=other)
        services.list_referral_for_panel(
            actor=actor("coordinator"), referral=listed, panel_date=dt.date(2026, 3, 2)
        )
        submitted = services.create_referral(
            actor=actor("housing.worker"), person=housed, reason="Burglary", submit=True
        )

        response = as_persona("coordinator").get(API)

        assert response.status_code == 200
        body = response.json()
        assert body["scope"] == "queue"
        assert [r["id"] for r in body["results"]] == [listed.pk, submitted.pk]
        [consulted] = events("referral.queue_consulted")
        assert consulted.details["referral_ids"] == [listed.pk, submitted.pk]

    def test_the_queue_filters_by_state(self, as_token, listed_referral, make_person):
        response = as_token("coordinator").get(API, {"state": "listed"})
        assert [r["id"] for r in response.json()["results"]] == [listed_referral.pk]
        response = as_token("coordinator").get(API, {"state": ["draft", "withdrawn"]})
        assert response.json()["results"] == []

    def test_a_partner_sees_only_what_their_agency_referred(
        self, actor, as_persona, housed, make_person
    ):
        other = make_person()
        services.create_referral(actor=actor("coordinator"), person=other, reason="Robbery")
        mine = services.create_referral(actor=actor("housing.worker"), person=housed, reason="x")

        body = as_persona("housing.worker").get(API).json()

        assert body["scope"] == "agency"
        assert [r["id"] for r in body["results"]] == [mine.pk]

    def test_the_agency_list_filters_by_state(self, actor, as_token, housed):
        services.create_referral(actor=actor("housing.worker"), person=housed, reason="x")
        client = as_token("housing.worker")
        assert client.get(API, {"state": "submitted"}).json()["count"] == 0
        assert client.get(API, {"state": "draft"}).json()["count"] == 1

    def test_an_unknown_state_is_a_422(self, as_token, db):
        response = as_token("coordinator").get(API, {"state": "lost"})
        assert response.status_code == 422
        assert "state" in response.json()["detail"][0]["loc"]

    def test_the_administrator_is_refused(self, as_token, db):
        response = as_token("admin").get(API)
        assert response.status_code == 403
        assert len(events("access.denied")) == 1


class TestDetail:
    def test_the_referrer_and_coordinator_see_it_with_its_history(
        self, as_persona, listed_referral
    ):
        for username in ("housing.worker", "coordinator"):
            response = as_persona(username).get(f"{API}/{listed_referral.pk}")
            assert response.status_code == 200
            body = response.json()
            assert [c["to_state"] for c in body["state_changes"]] == [
                "draft",
                "submitted",
                "listed",
            ]
            assert body["panel_date"] == PANEL
            assert body["state_changes"][-1]["changed_by"]["username"] == "coordinator"
            assert body["state_changes"][-1]["changed_by_agency"] == "probation-wessex"
        consulted = events("cohort.history_consulted")
        assert [e.actor_username for e in consulted] == ["housing.worker", "coordinator"]
        assert consulted[0].details == {"referral": listed_referral.pk}

    def test_another_partner_working_with_the_person_is_refused(
        self, as_token, listed_referral, involve
    ):
        involve(listed_referral.person, "drug.worker")
        response = as_token("drug.worker").get(f"{API}/{listed_referral.pk}")
        assert response.status_code == 403
        assert "only the referrals their own agency made" in response.json()["detail"]
        assert len(events("access.denied")) == 1

    def test_a_partner_not_working_with_the_person_is_refused(self, as_token, listed_referral):
        response = as_token("vcs.mentor").get(f"{API}/{listed_referral.pk}")
        assert response.status_code == 403

    @pytest.mark.parametrize("bad_id", ["0", "-1", "abc", "1.5", str(2**63), "99999999"])
    def test_a_bad_or_unknown_id_is_a_422_or_404(self, as_token, db, bad_id):
        response = as_token("coordinator").get(f"{API}/{bad_id}")
        assert response.status_code in {404, 422}
        if bad_id == "99999999":
            assert response.json() == {"detail": "No such referral."}


class TestTransitions:
    def test_submit_list_and_withdraw(self, as_persona, housed):
        hannah, carol = as_persona("housing.worker"), as_persona("coordinator")
        referral = refer(hannah, housed).json()
        url = f"{API}/{referral['id']}"

        submitted = post(hannah, f"{url}/submit")
        assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
        listed = post(carol, f"{url}/list-for-panel", {"panel_date": PANEL, "note": "March"})
        assert listed.status_code == 200
        assert listed.json()["state"] == "listed" and listed.json()["panel_date"] == PANEL
        assert listed.json()["state_changes"][-1]["reason"] == "March"
        withdrawn = post(hannah, f"{url}/withdraw", {"reason": "Moved to another area"})
        assert withdrawn.status_code == 200
        body = withdrawn.json()
        assert body["state"] == "withdrawn" and body["outcome_reason"] == "Moved to another area"
        assert body["next_states"] == []
        assert [e.event_type for e in events("referral.listed")] == ["referral.listed"]
        assert len(events("referral.withdrawn")) == 1

    def test_an_invalid_transition_is_a_409_naming_the_state(self, as_persona, listed_referral):
        response = post(as_persona("housing.worker"), f"{API}/{listed_referral.pk}/submit")
        assert response.status_code == 409
        assert response.json() == {
            "detail": f"Cannot submit referral {listed_referral.pk}: it is listed for panel. "
            "A referral can be submitted only when it is draft."
        }

    def test_withdrawing_a_withdrawn_referral_is_a_409(self, as_token, listed_referral):
        client = as_token("coordinator")
        post(client, f"{API}/{listed_referral.pk}/withdraw", {"reason": "Duplicate"})
        response = post(client, f"{API}/{listed_referral.pk}/withdraw", {"reason": "Again"})
        assert response.status_code == 409
        assert "it is withdrawn (a final outcome)" in response.json()["detail"]

    def test_withdrawing_needs_a_reason(self, as_token, listed_referral):
        client = as_token("coordinator")
        assert field_error(post(client, f"{API}/{listed_referral.pk}/withdraw"))[0] == "reason"
        response = post(client, f"{API}/{listed_referral.pk}/withdraw", {"reason": " "})
        assert field_error(response) == ("reason", "Give a reason for withdrawing the referral")

    def test_only_the_referring_agency_submits(self, actor, as_token, housed):
        referral = services.create_referral(
            actor=actor("housing.worker"), person=housed, reason="x"
        )
        response = post(as_token("coordinator"), f"{API}/{referral.pk}/submit")
        assert response.status_code == 403
        assert "only the referring agency can submit" in response.json()["detail"]

    def test_a_partner_cannot_list_for_panel(self, actor, as_token, housed):
        referral = services.create_referral(
            actor=actor("housing.worker"), person=housed, reason="x", submit=True
        )
        response = post(
            as_token("housing.worker"), f"{API}/{referral.pk}/list-for-panel", {"panel_date": PANEL}
        )
        assert response.status_code == 403
        assert [e.details["action"] for e in events("access.denied")] == ["list referral for panel"]

    @pytest.mark.parametrize(
        "body",
        [{}, {"panel_date": "not a date"}, {"panel_date": "0001-01-01"}, {"panel_date": 5.5}],
    )
    def test_a_bad_panel_date_is_a_422(self, as_token, listed_referral, body):
        response = post(as_token("coordinator"), f"{API}/{listed_referral.pk}/list-for-panel", body)
        assert field_error(response)[0] == "panel_date"


class TestReReferral:
    @pytest.fixture
    def not_adopted(self, actor, listed_referral):
        services.record_panel_decision(
            actor=actor("coordinator"),
            referral=listed_referral,
            decision="not_adopt",
            decided_on=dt.date(2026, 3, 2),
            agencies_present=[agency("probation-wessex")],
            rationale="Offending is falling",
        )
        return listed_referral

    def test_re_referral_with_new_information_links_the_old_one(self, as_persona, not_adopted):
        response = post(
            as_persona("housing.worker"),
            f"{API}/{not_adopted.pk}/re-refer",
            {"reason": "Offending again", "new_information": "Two burglaries in May"},
        )
        assert response.status_code == 201
        body = response.json()
        assert body["previous_referral_id"] == not_adopted.pk
        assert body["new_information"] == "Two burglaries in May"
        assert body["state_changes"][0]["reason"] == "Re-referral with new information"

    def test_re_referral_needs_new_information(self, as_token, not_adopted):
        response = post(
            as_token("housing.worker"), f"{API}/{not_adopted.pk}/re-refer", {"reason": "Again"}
        )
        assert field_error(response)[0] == "new_information"

    def test_a_plain_referral_after_not_adopted_needs_new_information(self, as_token, not_adopted):
        response = refer(as_token("housing.worker"), not_adopted.person)
        _field, message = field_error(response)
        assert "A re-referral needs new information" in message
        response = refer(
            as_token("housing.worker"), not_adopted.person, new_information="Evicted in May"
        )
        assert response.status_code == 201
        assert response.json()["previous_referral_id"] == not_adopted.pk

    def test_only_a_referral_not_adopted_can_be_re_referred(self, as_token, listed_referral):
        response = post(
            as_token("housing.worker"),
            f"{API}/{listed_referral.pk}/re-refer",
            {"reason": "Again", "new_information": "New"},
        )
        assert response.status_code == 409
        assert (
            f"Cannot re-refer referral {listed_referral.pk}: it is listed for panel"
            in (response.json()["detail"])
        )
