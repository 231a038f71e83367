"""Panel decisions: coordinators only; adoption registers in the same transaction."""

from __future__ import annotations

import pytest

from openiom.cohort.models import PanelDecision, Referral, Registration
from tests.cohort.conftest import events
from tests.cohort_api.helpers import ADOPT, PANEL, field_error, post


def url(referral):
    return f"/api/referrals/{referral.pk}/decision"


class TestAdopt:
    def test_the_coordinator_adopts_into_fixed_with_probation_leading(
        self, as_persona, listed_referral
    ):
        response = post(as_persona("coordinator"), url(listed_referral), ADOPT)

        assert response.status_code == 201, response.content
        body = response.json()
        decision, registration = body["decision"], body["registration"]
        assert decision["decision"] == "adopt" and decision["decided_on"] == PANEL
        assert decision["agencies_present"] == ["probation-wessex", "wessex-police"]
        assert decision["cohort"]["key"] == "fixed" and decision["cohort"]["version"] == 1
        assert decision["lead_agency"]["code"] == "probation-wessex"
        assert decision["lead_worker"]["username"] == "probation.om"
        assert decision["recorded_by"]["username"] == "coordinator"
        assert {c["criterion"]: c["met"] for c in decision["eligibility"]}[
            "neighbourhood_crime"
        ] == ("met")
        assert body["referral"]["state"] == "adopted"
        assert registration["cohort"]["key"] == "fixed"
        assert registration["status"] == "active" and registration["start_date"] == PANEL
        assert registration["review_date"] == "2026-03-30"
        assert registration["planned_end_date"] == "2027-03-02"
        assert registration["rag_status"] == "" and registration["rag_on"] is None
        assert registration["panel_decision_id"] == decision["id"]
        assert [e.event_type for e in events("registration.started")] == ["registration.started"]
        assert len(events("panel.decision_recorded")) == 1

    def test_dissent_and_overrides_are_recorded(self, as_token, listed_referral, make_person):
        listed_referral.person.date_of_birth = listed_referral.person.date_of_birth.replace(
            year=2010
        )
        listed_referral.person.save()
        body = {**ADOPT, "dissent": "Police think Flex fits", "dissent_agency": "wessex-police"}
        refused = post(as_token("coordinator"), url(listed_referral), body)
        _field, message = field_error(refused)
        assert "does not meet the Fixed cohort's criteria" in message
        assert "eligibility_override_reason" in message

        body["eligibility_override_reason"] = "Panel agreed: 15 but prolific"
        response = post(as_token("coordinator"), url(listed_referral), body)

        assert response.status_code == 201
        decision = response.json()["decision"]
        assert decision["dissent"] == "Police think Flex fits"
        assert decision["dissent_agency"] == "wessex-police"
        assert decision["eligibility_override_reason"] == "Panel agreed: 15 but prolific"

    def test_the_housing_worker_cannot_record_a_decision(self, as_persona, listed_referral):
        response = post(as_persona("housing.worker"), url(listed_referral), ADOPT)

        assert response.status_code == 403
        assert "IOM coordinators at police and probation only" in response.json()["detail"]
        assert not PanelDecision.objects.exists()
        [denied] = events("access.denied")
        assert denied.details["action"] == "record panel decision"
        assert denied.actor_username == "housing.worker"

    def test_a_refused_caller_gets_a_403_even_with_a_bad_body(self, as_token, listed_referral):
        body = {**ADOPT, "lead_worker": "nobody", "cohort": "platinum"}
        response = post(as_token("housing.worker"), url(listed_referral), body)
        assert response.status_code == 403

    @pytest.mark.parametrize("missing", ["cohort", "lead_agency", "lead_worker"])
    def test_adoption_needs_cohort_lead_agency_and_worker(self, as_token, listed_referral, missing):
        body = {k: v for k, v in ADOPT.items() if k != missing}
        response = post(as_token("coordinator"), url(listed_referral), body)
        assert field_error(response)[0] == missing
        assert not Registration.objects.exists()

    @pytest.mark.parametrize(
        ("change", "field", "says"),
        [
            ({"cohort": "platinum"}, "cohort", "No cohort 'platinum' is in force on 2026-03-02"),
            ({"lead_agency": "mi5"}, "lead_agency", "no agency with the code 'mi5'"),
            ({"lead_worker": "nobody"}, "lead_worker", "no user 'nobody'"),
            ({"lead_worker": "housing.worker"}, "lead_worker", "does not work for"),
            ({"agencies_present": []}, "agencies_present", "at least 1 item"),
            ({"agencies_present": ["ghost-agency"]}, "agencies_present", "'ghost-agency'"),
            ({"agencies_present": "wessex-police"}, "agencies_present", ""),
            ({"dissent_agency": "wessex-police"}, "dissent", "record what the dissenting agency"),
            ({"decision": "maybe"}, "decision", "'adopt', 'not_adopt' or 'defer'"),
            ({"decided_on": "2026-02-30"}, "decided_on", ""),
            ({"decided_on": "1066-10-14"}, "decided_on", "between 1900-01-01 and 2100-12-31"),
            ({"rationale": ""}, "rationale", "Give the panel's rationale"),
            ({"score": "high"}, "score", ""),
            ({"meeting_reference": "x" * 101}, "meeting_reference", "at most 100"),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field(
        self, as_token, listed_referral, change, field, says
    ):
        response = post(as_token("coordinator"), url(listed_referral), {**ADOPT, **change})
        got_field, message = field_error(response)
        assert got_field == field
        assert says in message
        assert Referral.objects.get(pk=listed_referral.pk).state == "listed"

    def test_cohort_details_are_refused_when_not_adopting(self, as_token, listed_referral):
        body = {**ADOPT, "decision": "defer"}
        response = post(as_token("coordinator"), url(listed_referral), body)
        _field, message = field_error(response)
        assert message == (
            "cohort, lead agency and lead worker are recorded only when the panel adopts"
        )

    def test_a_decision_on_a_decided_referral_is_a_409(self, as_token, listed_referral):
        client = as_token("coordinator")
        assert post(client, url(listed_referral), ADOPT).status_code == 201
        response = post(client, url(listed_referral), ADOPT)
        assert response.status_code == 409
        assert response.json()["detail"] == (
            f"Cannot record a panel decision (adopt) on referral {listed_referral.pk}: it is "
            "adopted (a final outcome)"
        )

    def test_a_decision_on_a_submitted_referral_is_a_409(self, as_token, actor, burglar):
        from openiom.cohort import services

        referral = services.create_referral(
            actor=actor("coordinator"), person=burglar, reason="x", submit=True
        )
        response = post(as_token("coordinator"), url(referral), ADOPT)
        assert response.status_code == 409
        assert "it is submitted; list it for a panel first" in response.json()["detail"]

    def test_unknown_referral_is_a_404(self, as_token, db):
        response = post(as_token("coordinator"), "/api/referrals/424242/decision", ADOPT)
        assert response.status_code == 404


class TestNotAdoptAndDefer:
    def test_not_adopted_with_reasons_and_the_referrer_told(self, as_token, listed_referral):
        body = {
            "decision": "not_adopt",
            "decided_on": PANEL,
            "agencies_present": ["probation-wessex"],
            "rationale": "Offending has stopped",
        }
        response = post(as_token("coordinator"), url(listed_referral), body)

        assert response.status_code == 201
        result = response.json()
        assert result["registration"] is None
        assert result["referral"]["state"] == "not_adopted"
        assert result["referral"]["outcome_reason"] == "Offending has stopped"
        assert result["decision"]["cohort"] is None and result["decision"]["lead_worker"] is None

    def test_deferred_stays_listed(self, as_token, listed_referral):
        body = {
            "decision": "defer",
            "decided_on": PANEL,
            "agencies_present": ["probation-wessex"],
            "rationale": "Need the drug service's view",
        }
        response = post(as_token("coordinator"), url(listed_referral), body)
        assert response.status_code == 201
        referral = response.json()["referral"]
        assert referral["state"] == "listed"
        assert referral["state_changes"][-1]["reason"].startswith("Deferred at the panel")
        assert referral["panel_decision_ids"] == [response.json()["decision"]["id"]]


def test_the_permission_story(as_persona, burglar, involve):
    """Hannah may refer Dean, whom she houses, but not decide on him; Carol may."""
    involve(burglar, "housing.worker")
    hannah, carol = as_persona("housing.worker"), as_persona("coordinator")

    referral = post(hannah, "/api/referrals", {"person_id": burglar.pk, "reason": "Burglary"})
    assert referral.status_code == 201
    referral_id = referral.json()["id"]
    assert post(hannah, f"/api/referrals/{referral_id}/submit").status_code == 200
    listing = post(hannah, f"/api/referrals/{referral_id}/list-for-panel", {"panel_date": PANEL})
    assert listing.status_code == 403
    listed = post(carol, f"/api/referrals/{referral_id}/list-for-panel", {"panel_date": PANEL})
    assert listed.status_code == 200

    refused = post(hannah, f"/api/referrals/{referral_id}/decision", ADOPT)
    assert refused.status_code == 403
    adopted = post(carol, f"/api/referrals/{referral_id}/decision", ADOPT)
    assert adopted.status_code == 201

    denied = events("access.denied")
    assert [(e.actor_username, e.details["action"]) for e in denied] == [
        ("housing.worker", "list referral for panel"),
        ("housing.worker", "record panel decision"),
    ]


def test_a_partner_lead_worker_may_set_the_rag_status(as_token, listed_referral):
    body = {**ADOPT, "lead_agency": "harbour-housing", "lead_worker": "housing.worker"}
    registration = post(as_token("coordinator"), url(listed_referral), body).json()["registration"]

    response = post(
        as_token("housing.worker"),
        f"/api/registrations/{registration['id']}/rag",
        {"status": "amber", "on": PANEL},
    )

    assert response.status_code == 201
    assert response.json()["assessed_by_agency"] == "harbour-housing"
