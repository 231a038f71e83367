"""The whole lifecycle through the API, every step audited.

Hannah (housing, bearer token) refers Dean, whom she houses → Carol (coordinator, web session)
lists him → the panel adopts him into Fixed with probation as lead → Owen (probation, token) sets
him red → backdated green assessments covering three months → an exit plan → exit is suggested →
Carol de-registers him with the reason.
"""

from __future__ import annotations

import datetime as dt

from openiom.audit.models import AuditEvent
from openiom.cohort.models import Notification, Registration
from openiom.offending.models import Offence
from tests.cohort_api.helpers import PANEL, event_types, last_event_id, post

DOING_WELL = {
    "appointments_kept": 4,
    "appointments_missed": 0,
    "drug_tests_negative": 2,
    "stable_accommodation": True,
}
GREEN_DAYS = ["2026-04-06", "2026-05-04", "2026-06-01", "2026-07-06"]


def test_referral_to_deregistration_through_the_api(
    as_token, as_session, personas, burglar, involve, offence_code
):
    hannah, carol, owen = (
        as_token("housing.worker"),
        as_session("coordinator"),
        as_token("probation.om"),
    )
    involve(burglar, "housing.worker")
    before = last_event_id()

    # 1. Hannah refers Dean and submits the referral.
    created = post(
        hannah,
        "/api/referrals",
        {
            "person_id": burglar.pk,
            "reason": "Two burglaries this year; at risk of losing his tenancy",
            "evidence": "Police call-outs to the flat; rent arrears",
            "proposed_cohort": "fixed",
        },
    )
    assert created.status_code == 201
    referral_id = created.json()["id"]
    assert post(hannah, f"/api/referrals/{referral_id}/submit").json()["state"] == "submitted"

    # 2. Carol finds it in her queue and lists it for the panel.
    queue = carol.get("/api/referrals").json()
    assert [r["id"] for r in queue["results"]] == [referral_id]
    listed = post(carol, f"/api/referrals/{referral_id}/list-for-panel", {"panel_date": PANEL})
    assert listed.json()["state"] == "listed"

    # 3. The panel adopts him into Fixed; probation leads, Owen is lead worker.
    decided = post(
        carol,
        f"/api/referrals/{referral_id}/decision",
        {
            "decision": "adopt",
            "decided_on": PANEL,
            "agencies_present": ["probation-wessex", "wessex-police", "harbour-housing"],
            "rationale": "Prolific neighbourhood crime; housing support needed",
            "cohort": "fixed",
            "lead_agency": "probation-wessex",
            "lead_worker": "probation.om",
        },
    )
    assert decided.status_code == 201
    registration = decided.json()["registration"]
    reg_url = f"/api/registrations/{registration['id']}"
    assert registration["lead_agency"]["code"] == "probation-wessex"
    assert Notification.objects.get(user=personas["housing.worker"]).text.startswith(
        f"Your referral of {burglar} was adopted at the panel on {PANEL} into the Fixed cohort"
    )

    # 4. A burglary on 20 February: the rules suggest red, and Owen agrees.
    Offence.objects.create(
        person=burglar,
        offence_code=offence_code("028/01"),
        offence_date=dt.date(2026, 2, 20),
        disposal_type="other",
        disposal_date=dt.date(2026, 2, 27),
    )
    suggestion = owen.get(f"{reg_url}/rag-suggestion", {"on": PANEL}).json()
    assert suggestion["status"] == "red"
    assert suggestion["summary"] == "Red: 1 offence committed in the last 28 days (2026-02-20)"
    red = post(owen, f"{reg_url}/rag", {"status": "red", "on": PANEL})
    assert red.status_code == 201
    assert (red.json()["suggested_status"], red.json()["differs_from_suggestion"]) == ("red", False)

    # 5. Backdated green assessments covering three months, with the evidence Owen reports.
    for day in GREEN_DAYS:
        green = post(owen, f"{reg_url}/rag", {"status": "green", "on": day, "reported": DOING_WELL})
        assert green.status_code == 201
        assert green.json()["suggested_status"] == "green"

    # Not yet: no exit plan.
    exit_now = carol.get(f"{reg_url}/exit-suggestion", {"on": GREEN_DAYS[-1]}).json()
    assert exit_now["suggests_exit"] is False
    assert "no exit plan is recorded" in exit_now["summary"]

    plan = post(
        owen,
        f"{reg_url}/exit-plan",
        {"plan": "Tenancy support continues; mentor fortnightly", "on": GREEN_DAYS[-1]},
    )
    assert plan.status_code == 201

    # 6. Exit is suggested.
    exit_now = carol.get(f"{reg_url}/exit-suggestion", {"on": GREEN_DAYS[-1]}).json()
    assert exit_now["suggests_exit"] is True
    assert exit_now["suggested_reasons"] == ["green_exit_plan"]

    # 7. Carol de-registers him with the reason.
    ended = post(
        carol,
        f"{reg_url}/deregister",
        {"reason": "green_exit_plan", "note": "Panel agreed on 6 July", "on": GREEN_DAYS[-1]},
    )
    assert ended.status_code == 200
    result = ended.json()
    assert result["registration"]["status"] == "deregistered"
    assert result["registration"]["end_date"] == GREEN_DAYS[-1]
    assert result["change"]["suggestion"]["suggests_exit"] is True
    reg = Registration.objects.get(pk=registration["id"])
    assert reg.lead_involvement.end_date == dt.date(2026, 7, 6)

    # Every step is in the audit trail, attributed to the right person, in order.
    assert event_types(before, person_id=burglar.pk) == [
        ("referral.created", "housing.worker"),
        ("referral.submitted", "housing.worker"),
        ("referral.listed", "coordinator"),
        ("panel.decision_recorded", "coordinator"),
        ("involvement.started", "coordinator"),
        ("registration.started", "coordinator"),
        ("referral.decided", "coordinator"),
        ("rag.suggestion_consulted", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.suggestion_consulted", "coordinator"),
        ("exit_plan.recorded", "probation.om"),
        ("rag.suggestion_consulted", "coordinator"),
        ("registration.deregistered", "coordinator"),
        ("involvement.ended", "coordinator"),
    ]
    assert event_types(before, event_type="referral.queue_consulted") == [
        ("referral.queue_consulted", "coordinator")
    ]
    # Each came through an API request, so each carries the request's id.
    assert not AuditEvent.objects.filter(id__gt=before, request_id="").exists()

    # The person's IOM history tells it back.
    history = carol.get(f"/api/people/{burglar.pk}/iom").json()
    assert [r["state"] for r in history["referrals"]] == ["adopted"]
    [entry] = history["registrations"]
    assert [c["to_status"] for c in entry["status_changes"]] == ["active", "deregistered"]
    assert [a["status"] for a in entry["rag_assessments"]] == ["red", *["green"] * 4]
    assert len(entry["exit_plans"]) == 1
