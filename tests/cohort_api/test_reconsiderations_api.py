"""Reconsiderations: the referral and review meeting's outcome, and the fields where they are shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from openiom.cohort.models import Reconsideration, Referral, ReferralState
from tests.cohort.conftest import events
from tests.cohort_api.helpers import field_error, post

MEETING = "2026-10-05"
NO_FURTHER_ACTION = {
    "outcome": "no_further_action",
    "considered_on": MEETING,
    "note": "Not suitable: MAPPA manages",
}


def url(item: Reconsideration) -> str:
    return f"/api/reconsiderations/{item.pk}/outcome"


def still_scheduled(item: Reconsideration) -> None:
    item.refresh_from_db()
    assert item.status == "scheduled" and item.outcome == "" and item.referral_id is None
    assert events("reconsideration.recorded") == []


class TestRecordOutcome:
    def test_no_further_action(self, as_persona, reconsideration):
        response = post(as_persona("coordinator"), url(reconsideration), NO_FURTHER_ACTION)

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["id"] == reconsideration.pk
        assert body["person_id"] == reconsideration.person_id
        assert body["registration_id"] == reconsideration.registration_id
        assert (body["status"], body["outcome"]) == ("considered", "no_further_action")
        assert body["considered_on"] == MEETING
        assert body["outcome_note"] == "Not suitable: MAPPA manages"
        assert body["closed_by"]["username"] == "coordinator"
        assert body["closed_at"] is not None
        assert body["referral_id"] is None
        assert body["due_date"] == "2029-09-01"
        [event] = events("reconsideration.recorded")
        assert event.actor_username == "coordinator"

    def test_cancelled(self, as_token, reconsideration):
        body = {**NO_FURTHER_ACTION, "outcome": "cancelled", "note": "Sentence reduced on appeal"}
        response = post(as_token("coordinator"), url(reconsideration), body)
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["outcome"]) == (
            "cancelled",
            "cancelled",
        )

    def test_re_referral_links_a_submitted_referral_both_ways(self, as_token, reconsideration):
        client = as_token("coordinator")
        body = {**NO_FURTHER_ACTION, "outcome": "re_referred", "note": "Panel to consider"}
        response = post(client, url(reconsideration), body)

        assert response.status_code == 200, response.content
        referral_id = response.json()["referral_id"]
        referral = Referral.objects.get(pk=referral_id)
        assert referral.state == ReferralState.SUBMITTED
        assert referral.referred_by.get_username() == "coordinator"
        detail = client.get(f"/api/referrals/{referral_id}").json()
        assert detail["reconsideration_id"] == reconsideration.pk
        assert detail["state"] == "submitted"
        assert detail["reason"].startswith("Re-referred by the referral and review meeting")
        queue = client.get("/api/referrals").json()
        assert referral_id in [r["id"] for r in queue["results"]]

    def test_closing_twice_is_a_409(self, as_token, reconsideration):
        client = as_token("coordinator")
        assert post(client, url(reconsideration), NO_FURTHER_ACTION).status_code == 200
        response = post(client, url(reconsideration), {**NO_FURTHER_ACTION, "outcome": "cancelled"})
        assert response.status_code == 409
        assert "Only a scheduled reconsideration can be closed" in response.json()["detail"]
        assert len(events("reconsideration.recorded")) == 1

    @pytest.mark.parametrize(
        ("change", "field", "says"),
        [
            ({"outcome": "adjourned"}, "outcome", "'re_referred'"),
            ({"outcome": None}, "outcome", ""),
            ({"considered_on": "2099-01-01"}, "considered_on", "in the future"),
            ({"considered_on": "2026-09-09"}, "considered_on", "before the registration ended"),
            ({"considered_on": "05/10/2026"}, "considered_on", ""),
            ({"note": "  "}, "note", "Say what the meeting decided and why"),
            ({"note": "bad\x00note"}, "note", "control characters"),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field(
        self, as_token, reconsideration, change, field, says
    ):
        body = {k: v for k, v in {**NO_FURTHER_ACTION, **change}.items() if v is not None}
        got, message = field_error(post(as_token("coordinator"), url(reconsideration), body))
        assert got == field and says in message
        still_scheduled(reconsideration)

    def test_tomorrow_is_in_the_future(self, as_token, reconsideration):
        tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
        body = {**NO_FURTHER_ACTION, "considered_on": tomorrow}
        got, message = field_error(post(as_token("coordinator"), url(reconsideration), body))
        assert got == "considered_on" and "is in the future" in message
        still_scheduled(reconsideration)

    @pytest.mark.parametrize("username", ["housing.worker", "probation.om"])
    def test_only_coordinators_and_refusals_are_audited(self, as_token, reconsideration, username):
        response = post(as_token(username), url(reconsideration), NO_FURTHER_ACTION)
        assert response.status_code == 403
        [denied] = events("access.denied")
        assert denied.actor_username == username
        assert denied.person_id == reconsideration.person_id
        still_scheduled(reconsideration)

    def test_an_unknown_reconsideration_is_a_404(self, as_token, db):
        response = post(
            as_token("coordinator"), "/api/reconsiderations/999999/outcome", NO_FURTHER_ACTION
        )
        assert response.status_code == 404
        assert response.json()["detail"] == "No such reconsideration."


class TestWhereReconsiderationsAreShown:
    def test_the_registration_and_the_history_include_the_outcome(self, as_token, reconsideration):
        client = as_token("coordinator")
        post(client, url(reconsideration), {**NO_FURTHER_ACTION, "outcome": "re_referred"})
        reg = client.get(f"/api/registrations/{reconsideration.registration_id}").json()
        [item] = reg["reconsiderations"]
        assert item["id"] == reconsideration.pk
        assert (item["status"], item["outcome"]) == ("considered", "re_referred")
        assert item["considered_on"] == MEETING and item["referral_id"] is not None
        assert item["closed_by"]["username"] == "coordinator"
        history = client.get(f"/api/people/{reconsideration.person_id}/iom").json()
        [entry] = [
            r["reconsiderations"]
            for r in history["registrations"]
            if r["registration"]["id"] == reconsideration.registration_id
        ]
        assert entry[0]["outcome"] == "re_referred"

    def test_a_scheduled_one_has_no_outcome_yet(self, as_token, reconsideration):
        reg = (
            as_token("coordinator")
            .get(f"/api/registrations/{reconsideration.registration_id}")
            .json()
        )
        [item] = reg["reconsiderations"]
        assert item["status"] == "scheduled"
        assert item["outcome"] is None and item["considered_on"] is None
        assert item["outcome_note"] == "" and item["closed_by"] is None
        assert item["referral_id"] is None

    def test_the_endpoint_is_in_the_schema(self, client, db):
        schema = client.get("/api/openapi.json").json()
        path = schema["paths"]["/api/reconsiderations/{reconsideration_id}/outcome"]
        assert set(path) == {"post"}
        body = schema["components"]["schemas"]["ReconsiderationOutcomeIn"]
        assert set(body["required"]) == {"outcome", "considered_on", "note"}
