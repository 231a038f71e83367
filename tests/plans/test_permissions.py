"""Every persona on every plan page and endpoint.

The registration's lead worker is probation.om; coordinator (probation) and police.officer are
core case managers; housing.worker's agency works with the person and owns one action;
drug.worker's agency owns another (adding it opened the drug service's involvement), so each
partner sees the plan with only its own agency's action; vcs.mentor has nothing to do with them;
analysts, data-protection officers and administrators never see plans.
"""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from openiom.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

EDITORS = ["probation.om", "coordinator", "police.officer"]
INVOLVED_PARTNER = ["housing.worker", "drug.worker"]
REFUSED = ["vcs.mentor", "analyst", "dpo", "admin"]
# Each partner's own agency's action, and another agency's (editors: any two).
OWN = {"drug.worker": "drugs"}
OTHER = {"drug.worker": "housing"}


def own(persona: str) -> str:
    return OWN.get(persona, "housing")


def other(persona: str) -> str:
    return OTHER.get(persona, "drugs")


EVERYONE = EDITORS + INVOLVED_PARTNER + REFUSED


def expected(persona: str, *, partner_allowed: bool) -> int:
    if persona in EDITORS:
        return 200
    if persona in INVOLVED_PARTNER and partner_allowed:
        return 200
    return 403


def pages(full_plan, persona: str) -> list[tuple[str, bool]]:
    plan = full_plan["plan"]
    base = f"/plans/registrations/{plan.registration_id}/"
    objective = plan.objectives.get()
    return [
        (base, True),
        (base + "history/", True),
        (base + f"actions/{full_plan[own(persona)].pk}/progress/", True),
        (base + f"actions/{full_plan[other(persona)].pk}/progress/", False),
        (base + "needs/", False),
        (base + "readiness/", False),
        (base + "objectives/new/", False),
        (base + f"objectives/{objective.pk}/", False),
        (base + "actions/new/", False),
        (base + f"actions/{full_plan['housing'].pk}/", False),
        (base + "agree/", False),
        (base + "review/", False),
        (base + "my-plan.pdf", False),
    ]


@pytest.mark.parametrize("persona", EVERYONE)
def test_every_page(persona, full_plan, client_for) -> None:
    client = client_for(persona)
    for url, partner_allowed in pages(full_plan, persona):
        response = client.get(url)
        assert response.status_code == expected(persona, partner_allowed=partner_allowed), url
    denied = AuditEvent.objects.filter(event_type="access.denied", actor__username=persona)
    assert denied.exists() == (persona not in EDITORS)


@pytest.mark.parametrize("persona", EVERYONE)
def test_starting_a_plan(persona, registration, client_for) -> None:
    response = client_for(persona).post(f"/plans/registrations/{registration.pk}/start/")
    assert response.status_code == (302 if persona in EDITORS else 403)


@pytest.mark.parametrize("persona", INVOLVED_PARTNER + REFUSED)
def test_posting_forms_is_refused_to_non_editors(persona, full_plan, client_for) -> None:
    """(Editors' posts succeed in test_pages.)"""
    plan = full_plan["plan"]
    base = f"/plans/registrations/{plan.registration_id}/"
    client = client_for(persona)
    today = timezone.localdate().strftime("%d/%m/%Y")
    for url, data in [
        (base + "needs/", {"version": "1"}),
        (base + "readiness/", {"version": "1", "strengths": "x"}),
        (base + "objectives/new/", {"text": "x"}),
        (base + "actions/new/", {"description": "x"}),
        (base + "agree/", {"version": "1"}),
        (base + "review/", {"version": "1", "reviewed_on": today, "note": "x"}),
        (
            base + f"actions/{full_plan[other(persona)].pk}/progress/",
            {"version": "1", "status": "done"},
        ),
    ]:
        assert client.post(url, data).status_code == 403, url
    plan.refresh_from_db()
    assert plan.version == 1 and plan.objectives.count() == 1 and plan.actions.count() == 3


@pytest.mark.parametrize("persona", EVERYONE)
def test_every_endpoint(persona, full_plan, as_token) -> None:
    plan = full_plan["plan"]
    client = as_token(persona)
    api = f"/api/plans/registrations/{plan.registration_id}"
    read = expected(persona, partner_allowed=True)
    write = expected(persona, partner_allowed=False)

    got = client.get(api)
    assert got.status_code == read
    if read == 200:
        descriptions = {a["description"] for a in got.json()["actions"]}
        if persona in INVOLVED_PARTNER:
            assert descriptions == {full_plan[own(persona)].description}
        else:
            assert len(descriptions) == 3
    assert client.get(f"{api}/actions").status_code == read

    put = client.put(api, json.dumps({"version": 1, "strengths": "Kind"}), "application/json")
    assert put.status_code == write
    action = {
        "owner_agency": "work-wessex",
        "action_type": "support",
        "description": "CV workshop",
        "due_date": "2026-07-01",
    }
    assert client.post(f"{api}/actions", action, "application/json").status_code == (
        201 if write == 200 else 403
    )
    own_patch = client.patch(
        f"/api/plans/actions/{full_plan[own(persona)].pk}",
        json.dumps({"version": 1, "status": "in_progress"}),
        "application/json",
    )
    assert own_patch.status_code == read
    other_patch = client.patch(
        f"/api/plans/actions/{full_plan[other(persona)].pk}",
        json.dumps({"version": 1, "status": "in_progress"}),
        "application/json",
    )
    assert other_patch.status_code == write
    agree = client.post(f"{api}/agree", {"version": 99}, "application/json")
    assert agree.status_code == (409 if write == 200 else 403)
