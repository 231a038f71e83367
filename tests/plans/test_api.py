"""Plan endpoints: reading, creating, editing with versions and 409 conflicts."""

from __future__ import annotations

import json

import pytest

from openiom.audit.models import AuditEvent
from openiom.plans.models import PlanAction

pytestmark = pytest.mark.django_db


def patch(client, url: str, body: dict):
    return client.patch(url, json.dumps(body), "application/json")


def test_create_read_and_put_the_plan(registration, as_persona) -> None:
    client = as_persona("probation.om")
    api = f"/api/plans/registrations/{registration.pk}"
    assert client.get(api).status_code == 404
    created = client.post(api)
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft" and body["version"] == 1 and len(body["needs"]) == 7
    put = client.put(
        api,
        json.dumps(
            {
                "version": 1,
                "strengths": "Loyal friend",
                "readiness_motivated": "partly",
                "needs": {"accommodation": {"status": "support_required", "notes": "NFA"}},
            }
        ),
        "application/json",
    )
    assert put.status_code == 200, put.content
    body = put.json()
    assert body["strengths"] == "Loyal friend" and body["readiness_motivated"] == "partly"
    assert body["version"] == 3  # needs, then strengths and readiness
    need = next(n for n in body["needs"] if n["pathway"] == "accommodation")
    assert need == {
        "pathway": "accommodation",
        "name": "Accommodation",
        "status": "support_required",
        "notes": "NFA",
    }
    stale = client.put(api, json.dumps({"version": 1, "strengths": "Other"}), "application/json")
    assert stale.status_code == 409
    detail = stale.json()["detail"]
    assert detail["current_version"] == 3
    strengths = next(f for f in detail["fields"] if f["field"] == "strengths")
    assert (strengths["seen"], strengths["stored"], strengths["tried"]) == (
        "",
        "Loyal friend",
        "Other",
    )


def test_bad_input_is_422_and_nothing_is_written(plan, as_token) -> None:
    client = as_token("probation.om")
    api = f"/api/plans/registrations/{plan.registration_id}"
    bad = client.post(
        f"{api}/actions",
        {
            "owner_agency": "harbour-housing",
            "owner_worker": "drug.worker",
            "action_type": "support",
            "description": "",
            "due_date": "2026-07-01",
            "estimated_cost": "-3",
        },
        "application/json",
    )
    assert bad.status_code == 422
    fields = {e["loc"][-1] for e in bad.json()["detail"]}
    assert fields == {"owner_worker", "description", "estimated_cost"}
    unknown = client.post(
        f"{api}/actions",
        {
            "owner_agency": "nope",
            "action_type": "support",
            "description": "x",
            "due_date": "2026-07-01",
        },
        "application/json",
    )
    assert unknown.status_code == 422
    assert not PlanAction.objects.exists()


def test_patch_an_action_with_its_version_and_get_409_on_conflict(full_plan, as_persona) -> None:
    housing = as_persona("housing.worker")
    lead = as_persona("probation.om")
    url = f"/api/plans/actions/{full_plan['housing'].pk}"
    both = patch(lead, url, {"version": 1, "status": "done", "description": "x"})
    assert both.status_code == 422 and "not both" in both.content.decode()
    first = patch(housing, url, {"version": 1, "status": "done", "outcome": "Moved in"})
    assert first.status_code == 200
    assert first.json()["completed_on"] is not None and first.json()["version"] == 2
    second = patch(lead, url, {"version": 1, "description": "Find a flat"})
    assert second.status_code == 409
    detail = second.json()["detail"]
    assert detail["changed_by"] == "Hannah Byrne"
    assert {f["field"] for f in detail["fields"]} == {"status", "outcome"}
    retry = patch(lead, url, {"version": 2, "description": "Find a flat"})
    assert retry.status_code == 200
    assert retry.json()["description"] == "Find a flat" and retry.json()["status"] == "done"
    assert AuditEvent.objects.filter(event_type="plan.action_edited").count() == 1


def test_list_actions_is_audited_and_narrowed(full_plan, as_token) -> None:
    plan = full_plan["plan"]
    rows = as_token("housing.worker").get(
        f"/api/plans/registrations/{plan.registration_id}/actions"
    )
    assert [r["owner_agency"] for r in rows.json()] == ["harbour-housing"]
    assert rows.json()[0]["estimated_cost"] == "1200.00"
    event = AuditEvent.objects.filter(event_type="plan.consulted").latest("id")
    assert event.actor_username == "housing.worker" and event.details["actions"] == 1


def test_agree_and_review_through_the_api(full_plan, as_token) -> None:
    from django.utils import timezone

    client = as_token("coordinator")
    api = f"/api/plans/registrations/{full_plan['plan'].registration_id}"
    agreed = client.post(f"{api}/agree", {"version": 1}, "application/json")
    assert agreed.status_code == 201 and agreed.json()["number"] == 1
    plan = client.get(api).json()
    review = client.post(
        f"{api}/reviews",
        {"version": plan["version"], "reviewed_on": timezone.localdate().isoformat(), "note": "OK"},
        "application/json",
    )
    assert review.status_code == 201 and review.json()["kind"] == "reviewed"
