"""The person's own copy of their plan ("my plan"), in plain English, as a PDF (WeasyPrint).

It is written for the person to read and keep. It holds no police intelligence (plans hold none,
and nothing here reads intelligence), and it leaves out disruption and enforcement actions: those
are the agencies' plan for managing risk, not the person's plan to read, and printing them could
tip off or endanger. Cancelled actions are left out too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils import timezone

from openiom.access.policy import PlanAction
from openiom.access.services import require
from openiom.audit.services import record
from openiom.plans.models import ActionStatus, ActionType, ManagementPlan, NeedStatus
from openiom.plans.services import user_name

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

# Needs worth telling the person about, in their words.
NEED_WORDS = {
    NeedStatus.SUPPORT_REQUIRED: "you want help with this",
    NeedStatus.IN_PROGRESS: "we are working on this together",
    NeedStatus.DONE: "done",
}
ACTION_WORDS = {
    ActionStatus.PLANNED: "to do",
    ActionStatus.IN_PROGRESS: "started",
    ActionStatus.DONE: "done",
    ActionStatus.NOT_DONE: "did not happen",
}


def my_plan_context(plan: ManagementPlan) -> dict[str, Any]:
    registration = plan.registration
    needs = [
        {"name": n.pathway.name, "words": NEED_WORDS[NeedStatus(n.status)], "notes": n.notes}
        for n in plan.needs.select_related("pathway")
        if n.status in NEED_WORDS
    ]
    objectives = list(plan.objectives.select_related("pathway"))
    actions = (
        plan.actions.exclude(action_type=ActionType.DISRUPTION)
        .exclude(status=ActionStatus.CANCELLED)
        .select_related("owner_agency", "owner_worker", "pathway")
        .order_by("owner_agency__name", "due_date", "id")
    )
    agencies: dict[str, dict[str, Any]] = {}
    for action in actions:
        group = agencies.setdefault(
            action.owner_agency.name, {"agency": action.owner_agency.name, "items": []}
        )
        group["items"].append(
            {
                "what": action.description,
                "who": user_name(action.owner_worker),
                "by": action.due_date,
                "state": ACTION_WORDS.get(ActionStatus(action.status), ""),
            }
        )
    contacts = {
        (registration.lead_agency.name, user_name(registration.lead_worker), True),
    }
    for action in actions:
        if action.owner_worker is not None:
            contacts.add((action.owner_agency.name, user_name(action.owner_worker), False))
    return {
        "person": plan.person,
        "plan": plan,
        "own_goals": [o for o in objectives if o.own_words],
        "other_goals": [o for o in objectives if not o.own_words],
        "needs": needs,
        "agencies": list(agencies.values()),
        "lead": {
            "agency": registration.lead_agency.name,
            "name": user_name(registration.lead_worker),
        },
        "contacts": sorted(contacts, key=lambda c: (not c[2], c[0], c[1])),
        "printed_on": timezone.localdate(),
    }


def render_my_plan_html(plan: ManagementPlan) -> str:
    return render_to_string("plans/my_plan.html", my_plan_context(plan))


def render_my_plan_pdf(*, actor: Actor, plan: ManagementPlan) -> bytes:
    """The plan for the person, as a tagged PDF; printing it is audited (a disclosure)."""
    import logging

    from weasyprint import HTML

    require(actor, PlanAction.PRINT_MY_PLAN, registration=plan.registration)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf = HTML(string=render_my_plan_html(plan)).write_pdf(pdf_tags=True)
    assert pdf is not None
    record(
        "plan.my_plan_printed",
        actor=actor,
        obj=plan,
        person_id=plan.person_id,
        context={"person": str(plan.person)},
        details={"plan": plan.pk, "plan_version": plan.version},
    )
    return bytes(pdf)
