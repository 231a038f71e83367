"""Registrations: the register, a registration's history and suggestions, status, RAG, exit."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.cohort import services
from openiom.cohort.models import RagAssessment, Registration
from openiom.people.models import CustodyEpisode
from tests.cohort.conftest import events
from tests.cohort_api.helpers import field_error, post

API = "/api/registrations"
DOING_WELL = {
    "appointments_kept": 4,
    "appointments_missed": 0,
    "drug_tests_negative": 2,
    "stable_accommodation": True,
}


def reg_url(registration, tail=""):
    return f"{API}/{registration.pk}{tail}"


class TestRegister:
    def test_the_coordinator_sees_the_register_with_the_latest_rag(
        self, as_persona, actor, registration
    ):
        services.set_rag_status(
            actor=actor("probation.om"),
            registration=registration,
            status="amber",
            on=dt.date(2026, 3, 9),
        )
        response = as_persona("coordinator").get(API)

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        [row] = body["results"]
        assert row["id"] == registration.pk
        assert (row["rag_status"], row["rag_on"]) == ("amber", "2026-03-09")
        assert row["lead_agency"]["code"] == "probation-wessex"
        [consulted] = events("cohort.register_consulted")
        assert consulted.details["person_ids"] == [registration.person_id]

    @pytest.mark.parametrize(
        ("params", "found"),
        [
            ({"cohort": "fixed"}, True),
            ({"cohort": "flex"}, False),
            ({"rag": "none"}, True),
            ({"rag": "red"}, False),
            ({"lead_agency": "probation-wessex"}, True),
            ({"lead_agency": "wessex-police"}, False),
            ({"hub": "north"}, True),
            ({"hub": "south"}, False),
            ({"status": "active"}, True),
            ({"status": "suspended"}, False),
            ({"status": "deregistered"}, False),
        ],
    )
    def test_filters(self, as_token, registration, params, found):
        body = as_token("coordinator").get(API, params).json()
        assert [r["id"] for r in body["results"]] == ([registration.pk] if found else [])

    def test_ended_registrations_are_found_by_status(self, as_token, actor, registration):
        services.deregister(
            actor=actor("coordinator"),
            registration=registration,
            reason="moved_away",
            on=dt.date(2026, 4, 1),
        )
        client = as_token("coordinator")
        assert client.get(API).json()["count"] == 0
        [row] = client.get(API, {"status": "deregistered"}).json()["results"]
        assert row["end_date"] == "2026-04-01" and row["deregistration_reason"] == "moved_away"

    def test_partners_see_only_the_people_they_work_with(self, as_persona, registration):
        assert as_persona("housing.worker").get(API).json()["count"] == 1
        assert as_persona("vcs.mentor").get(API).json()["count"] == 0

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"cohort": "platinum"}, "cohort"),
            ({"rag": "purple"}, "rag"),
            ({"lead_agency": "mi5"}, "lead_agency"),
            ({"hub": "atlantis"}, "hub"),
            ({"status": "asleep"}, "status"),
            ({"cohort": "x" * 65}, "cohort"),
        ],
    )
    def test_unknown_filters_are_a_422_naming_the_parameter(self, as_token, db, params, field):
        response = as_token("coordinator").get(API, params)
        assert field_error(response)[0] == field

    def test_the_administrator_is_refused(self, as_token, db):
        assert as_token("admin").get(API).status_code == 403


class TestDetail:
    def test_the_coordinator_sees_history_and_suggestions(self, as_persona, actor, registration):
        services.set_rag_status(
            actor=actor("probation.om"),
            registration=registration,
            status="amber",
            on=dt.date(2026, 3, 9),
        )
        response = as_persona("coordinator").get(reg_url(registration))

        assert response.status_code == 200
        body = response.json()
        assert [c["to_status"] for c in body["status_changes"]] == ["active"]
        [assessment] = body["rag_assessments"]
        assert assessment["status"] == "amber" and assessment["suggested_status"] == "amber"
        assert assessment["policy"] == {"key": "rag", "version": 1}
        assert assessment["assessed_by"]["username"] == "probation.om"
        assert {r["rule"] for r in assessment["suggestion_reasons"]} >= {"new_offence", "arrest"}
        assert assessment["evidence"]["window_days"] == 28
        assert body["rag_suggestion"]["policy"] == {"key": "rag", "version": 1}
        assert body["exit_suggestion"]["suggests_exit"] is False
        assert body["exit_plans"] == [] and body["reconsiderations"] == []
        assert len(events("cohort.history_consulted")) == 1
        person = registration.person
        assert [e.summary for e in events("rag.suggestion_consulted")] == [
            f"Viewed the RAG suggestion for {person}",
            f"Viewed the exit suggestion for {person}",
        ]

    def test_a_partner_sees_the_history_without_evidence_or_suggestions(
        self, as_token, actor, registration
    ):
        services.set_rag_status(
            actor=actor("probation.om"),
            registration=registration,
            status="amber",
            on=dt.date(2026, 3, 9),
        )
        response = as_token("housing.worker").get(reg_url(registration))

        assert response.status_code == 200
        body = response.json()
        [assessment] = body["rag_assessments"]
        assert assessment["status"] == "amber"
        assert assessment["suggestion_reasons"] is None and assessment["evidence"] is None
        assert body["rag_suggestion"] is None and body["exit_suggestion"] is None
        assert events("rag.suggestion_consulted") == []

    def test_someone_not_working_with_the_person_is_refused(self, as_token, registration):
        response = as_token("vcs.mentor").get(reg_url(registration))
        assert response.status_code == 403
        assert len(events("access.denied")) == 1

    def test_unknown_registration_is_a_404(self, as_token, db):
        response = as_token("coordinator").get(f"{API}/31337")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such registration."}


class TestStatus:
    def test_the_coordinator_records_custody(self, as_persona, registration):
        response = post(
            as_persona("coordinator"),
            reg_url(registration, "/status"),
            {"status": "in_custody", "note": "Remanded", "on": "2026-04-01"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["change"]["from_status"] == "active"
        assert body["change"]["to_status"] == "in_custody"
        assert body["registration"]["status"] == "in_custody"
        assert body["registration"]["status_since"] == "2026-04-01"
        assert len(events("registration.status_changed")) == 1

    @pytest.mark.parametrize(
        ("body", "field", "says"),
        [
            ({"status": "in_custody"}, "note", "Field required"),
            ({"status": "in_custody", "note": "  "}, "note", "Say why"),
            ({"status": "deregistered", "note": "x"}, "status", "'active', 'in_custody'"),
            ({"status": "active", "note": "x"}, "body", "already active"),
            ({"status": "suspended", "note": "x", "on": "2099-01-01"}, "on", "in the future"),
            ({"status": "suspended", "note": "x", "on": "2026-01-01"}, "on", "before the"),
        ],
    )
    def test_bad_input_is_a_422(self, as_token, registration, body, field, says):
        response = post(as_token("coordinator"), reg_url(registration, "/status"), body)
        got, message = field_error(response)
        assert got == field and says in message

    def test_an_offender_manager_cannot_change_the_status(self, as_token, registration):
        response = post(
            as_token("probation.om"),
            reg_url(registration, "/status"),
            {"status": "suspended", "note": "x"},
        )
        assert response.status_code == 403


class TestRag:
    def test_a_decision_keeps_the_suggestion_alongside(self, as_persona, registration):
        response = post(
            as_persona("probation.om"),
            reg_url(registration, "/rag"),
            {"status": "green", "on": "2026-03-09", "reported": DOING_WELL},
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["status"], body["suggested_status"]) == ("green", "green")
        assert body["differs_from_suggestion"] is False
        assert body["reason"].startswith("Agreed with the suggestion. Green:")
        assert body["evidence"]["reported"]["appointments_kept"] == 4
        assert {r["rule"]: r["verdict"] for r in body["suggestion_reasons"]}["employment"] == (
            "unknown"
        )
        assert body["review_date"] == "2026-04-06"
        assert body["assessed_by_agency"] == "probation-wessex"
        assert len(events("rag.assessed")) == 1

    def test_differing_from_the_suggestion_needs_a_reason(self, as_token, registration):
        client = as_token("probation.om")
        refused = post(
            client, reg_url(registration, "/rag"), {"status": "green", "on": "2026-03-09"}
        )
        _field, message = field_error(refused)
        assert message.startswith("The rules suggest amber")
        kept = post(
            client,
            reg_url(registration, "/rag"),
            {"status": "green", "on": "2026-03-09", "reason": "Attends everything"},
        )
        assert kept.status_code == 201
        assert kept.json()["differs_from_suggestion"] is True

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"status": "blue"}, "status"),
            ({"status": "red", "reported": {"appointments_missed": -1}}, "appointments_missed"),
            ({"status": "red", "reported": {"appointments_kept": 10**12}}, "appointments_kept"),
            ({"status": "red", "reported": {"in_employment": "perhaps"}}, "in_employment"),
            ({"status": "red", "on": "tomorrow"}, "on"),
            ({"status": "amber", "on": "2099-12-31"}, "on"),
        ],
    )
    def test_bad_input_is_a_422(self, as_token, registration, body, field):
        response = post(as_token("probation.om"), reg_url(registration, "/rag"), body)
        assert field_error(response)[0] == field
        assert not RagAssessment.objects.exists()

    def test_unknown_evidence_keys_are_ignored(self, as_token, registration):
        response = post(
            as_token("probation.om"),
            reg_url(registration, "/rag"),
            {"status": "amber", "on": "2026-03-09", "reported": {"pets": 2}},
        )
        assert response.status_code == 201
        assert "pets" not in response.json()["evidence"]["reported"]

    def test_a_housing_worker_cannot_set_rag(self, as_token, registration):
        response = post(
            as_token("housing.worker"), reg_url(registration, "/rag"), {"status": "red"}
        )
        assert response.status_code == 403
        assert [e.details["action"] for e in events("access.denied")] == ["set RAG status"]

    def test_the_suggestion_endpoint_takes_reported_evidence(self, as_persona, registration):
        response = as_persona("probation.om").get(
            reg_url(registration, "/rag-suggestion"),
            {
                "on": "2026-03-09",
                "appointments_kept": 3,
                "appointments_missed": 0,
                "in_employment": "true",
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "green" and body["on"] == "2026-03-09"
        assert body["summary"].startswith("Green:")
        assert body["evidence"]["reported"]["in_employment"] is True
        assert len(events("rag.suggestion_consulted")) == 1

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"on": "2099-01-01"}, "on"),
            ({"on": "2020-01-01"}, "on"),
            ({"on": "0001-01-01"}, "on"),
            ({"appointments_kept": -3}, "appointments_kept"),
            ({"appointments_kept": "lots"}, "appointments_kept"),
        ],
    )
    def test_bad_suggestion_parameters_are_a_422(self, as_token, registration, params, field):
        response = as_token("probation.om").get(reg_url(registration, "/rag-suggestion"), params)
        assert field_error(response)[0] == field

    def test_a_partner_cannot_see_the_suggestion(self, as_token, registration):
        response = as_token("housing.worker").get(reg_url(registration, "/rag-suggestion"))
        assert response.status_code == 403
        assert len(events("access.denied")) == 1


class TestExit:
    def test_the_exit_suggestion_says_why_not(self, as_persona, registration):
        response = as_persona("coordinator").get(
            reg_url(registration, "/exit-suggestion"), {"on": "2026-04-01"}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["suggests_exit"] is False and body["policy"] == {
            "key": "deregistration",
            "version": 1,
        }
        assert {r["rule"] for r in body["results"]} == {
            "continuous_green_with_exit_plan",
            "long_custodial_sentence",
        }
        assert body["summary"].startswith("No de-registration suggested")

    def test_a_partner_cannot_see_the_exit_suggestion(self, as_token, registration):
        response = as_token("housing.worker").get(reg_url(registration, "/exit-suggestion"))
        assert response.status_code == 403

    def test_an_exit_plan_is_recorded(self, as_persona, registration):
        response = post(
            as_persona("probation.om"),
            reg_url(registration, "/exit-plan"),
            {"plan": "Mentor continues fortnightly", "on": "2026-04-01"},
        )
        assert response.status_code == 201
        assert response.json()["plan"] == "Mentor continues fortnightly"
        assert response.json()["recorded_by"]["username"] == "probation.om"
        assert len(events("exit_plan.recorded")) == 1

    def test_an_exit_plan_needs_text(self, as_token, registration):
        response = post(as_token("probation.om"), reg_url(registration, "/exit-plan"), {"plan": ""})
        assert field_error(response) == (
            "plan",
            "Write the exit plan: what support continues, and by whom",
        )

    def test_deregistering_with_a_reason(self, as_persona, registration):
        response = post(
            as_persona("coordinator"),
            reg_url(registration, "/deregister"),
            {"reason": "mappa", "note": "Now MAPPA level 2", "on": "2026-04-01"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["change"]["to_status"] == "deregistered"
        assert body["change"]["reason"] == "mappa"
        assert body["change"]["suggestion"]["suggests_exit"] is False
        assert body["change"]["deregistration_policy"] == {"key": "deregistration", "version": 1}
        assert body["registration"]["status"] == "deregistered"
        assert body["reconsideration"] is None
        assert len(events("registration.deregistered")) == 1

    def test_long_custody_schedules_a_reconsideration(self, as_token, registration):
        CustodyEpisode.objects.create(
            person=registration.person,
            custody_type="sentenced",
            received_date=dt.date(2026, 9, 1),
            sentence_length_days=8 * 365,
            expected_release_date=dt.date(2030, 9, 1),
        )
        response = post(
            as_token("coordinator"),
            reg_url(registration, "/deregister"),
            {"reason": "long_custody", "on": "2026-09-10"},
        )
        assert response.status_code == 200
        reconsideration = response.json()["reconsideration"]
        assert reconsideration["due_date"] == "2029-09-01"
        assert reconsideration["expected_release_date"] == "2030-09-01"

    def test_long_custody_without_a_release_date_needs_the_due_date(self, as_token, registration):
        client = as_token("coordinator")
        body = {"reason": "long_custody", "note": "Sentenced today", "on": "2026-04-01"}
        _field, message = field_error(post(client, reg_url(registration, "/deregister"), body))
        assert "give reconsideration_due" in message
        assert (
            Registration.objects.get(pk=registration.pk).status == "active"
        )  # nothing half-written
        response = post(
            client,
            reg_url(registration, "/deregister"),
            {**body, "reconsideration_due": "2030-01-01"},
        )
        assert response.status_code == 200
        assert response.json()["reconsideration"]["due_date"] == "2030-01-01"

    @pytest.mark.parametrize(
        ("body", "field", "says"),
        [
            ({}, "reason", "Field required"),
            ({"reason": "retired"}, "reason", "'green_exit_plan'"),
            ({"reason": "other"}, "note", "say what the other reason"),
            ({"reason": "green_exit_plan", "on": "2026-04-01"}, "body", "does not support"),
            ({"reason": "mappa", "on": "2099-01-01"}, "on", "in the future"),
            ({"reason": "mappa", "reconsideration_due": "9999-12-31"}, "reconsideration_due", ""),
        ],
    )
    def test_bad_input_is_a_422(self, as_token, registration, body, field, says):
        response = post(as_token("coordinator"), reg_url(registration, "/deregister"), body)
        got, message = field_error(response)
        assert got == field and says in message
        assert Registration.objects.get(pk=registration.pk).status == "active"

    def test_a_housing_worker_cannot_deregister(self, as_token, registration):
        response = post(
            as_token("housing.worker"), reg_url(registration, "/deregister"), {"reason": "deceased"}
        )
        assert response.status_code == 403

    def test_nothing_more_is_recorded_after_deregistration(self, as_token, registration):
        client = as_token("coordinator")
        post(
            client, reg_url(registration, "/deregister"), {"reason": "deceased", "on": "2026-04-01"}
        )
        response = post(client, reg_url(registration, "/deregister"), {"reason": "deceased"})
        _field, message = field_error(response)
        assert "ended on 2026-04-01; nothing more can be recorded on it" in message
        response = post(client, reg_url(registration, "/rag"), {"status": "red"})
        assert field_error(response)[1].endswith("nothing more can be recorded on it")
