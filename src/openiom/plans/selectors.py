"""Reads of management plans.

Plans hold no police intelligence at all. What a partner agency's worker sees of a plan is the
person's basics, the pathway needs and objectives, and only the actions their own agency owns;
core case managers and the registration's lead worker see every action.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum

from openiom.access.policy import PlanAction, can, sees_all_contacts
from openiom.access.services import require
from openiom.audit.services import record
from openiom.plans.models import (
    OPEN_ACTION_STATUSES,
    ManagementPlan,
    Objective,
    PathwayNeed,
    PlanStatus,
    PlanVersion,
)
from openiom.plans.models import (
    PlanAction as PlanActionRow,
)
from openiom.plans.services import may_update_action

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.cohort.models import Registration
    from openiom.partnership.models import Agency


def sees_all_actions(actor: Actor, plan: ManagementPlan) -> bool:
    """Core case managers (in the person's hub) and the lead worker see every agency's actions."""
    if plan.registration.lead_worker_id == actor.user.pk:
        return True
    return sees_all_contacts(actor, plan.person)


def actions_visible(actor: Actor, plan: ManagementPlan) -> QuerySet[PlanActionRow]:
    """The plan's actions the actor may see (partners: their own agency's only). Unaudited."""
    qs = plan.actions.select_related("owner_agency", "owner_worker", "pathway")
    if sees_all_actions(actor, plan):
        return qs
    if actor.agency_id is None:
        return qs.none()
    return qs.filter(owner_agency_id=actor.agency_id)


@dataclass
class AgencyActions:
    agency: Agency
    actions: list[PlanActionRow]


@dataclass
class PlanView:
    """A registration's plan as the actor may see it."""

    registration: Registration
    plan: ManagementPlan | None
    needs: list[PathwayNeed] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    actions: list[PlanActionRow] = field(default_factory=list)
    by_agency: list[AgencyActions] = field(default_factory=list)
    versions: int = 0
    may_edit: bool = False
    may_agree: bool = False
    sees_all: bool = False

    @property
    def person(self) -> Any:
        return self.registration.person


def group_by_agency(actions: Iterable[PlanActionRow]) -> list[AgencyActions]:
    groups: dict[int, AgencyActions] = {}
    for action in actions:
        group = groups.setdefault(action.owner_agency_id, AgencyActions(action.owner_agency, []))
        group.actions.append(action)
    return sorted(groups.values(), key=lambda g: g.agency.name)


def plan_for_registration(
    *, actor: Actor, registration: Registration, on: dt.date | None = None
) -> PlanView:
    """The registration's plan (or None yet) as the actor may see it; reads are audited."""
    from django.utils import timezone

    require(actor, PlanAction.VIEW_PLAN, registration=registration)
    today = on or timezone.localdate()
    plan = (
        ManagementPlan.objects.select_related("agreed_by", "updated_by", "registration")
        .filter(registration=registration)
        .first()
    )
    may_edit = bool(can(actor, PlanAction.EDIT_PLAN, registration=registration))
    view = PlanView(registration=registration, plan=plan, may_edit=may_edit, may_agree=may_edit)
    if plan is not None:
        view.needs = list(plan.needs.select_related("pathway"))
        view.objectives = list(plan.objectives.select_related("pathway"))
        view.actions = list(actions_visible(actor, plan))
        for action in view.actions:
            action.overdue = action.is_open and action.due_date < today  # type: ignore[attr-defined]
            action.may_update = bool(may_update_action(actor, action))  # type: ignore[attr-defined]
        view.by_agency = group_by_agency(view.actions)
        view.versions = plan.versions.count()
        view.sees_all = sees_all_actions(actor, plan)
    record(
        "plan.consulted",
        actor=actor,
        obj=plan if plan is not None else registration,
        person_id=registration.person_id,
        context={"person": str(registration.person), "actions": len(view.actions)},
        details={
            "registration": registration.pk,
            "plan": plan.pk if plan else None,
            "actions": len(view.actions),
            "all_actions": view.sees_all,
        },
    )
    return view


def plan_history(*, actor: Actor, plan: ManagementPlan) -> list[dict[str, Any]]:
    """The plan's versions (agreements and reviews), newest first; audited.

    Each snapshot's actions are narrowed like the live plan: partners see their own agency's.
    """
    require(actor, PlanAction.VIEW_PLAN, registration=plan.registration)
    all_actions = sees_all_actions(actor, plan)
    versions = []
    for version in plan.versions.select_related("recorded_by", "recorded_by_agency").order_by(
        "-number"
    ):
        data = dict(version.snapshot)
        if not all_actions:
            data["actions"] = [
                a for a in data.get("actions", []) if a.get("agency_id") == actor.agency_id
            ]
        versions.append({"version": version, "data": data})
    record(
        "plan.history_consulted",
        actor=actor,
        obj=plan,
        person_id=plan.person_id,
        context={"person": str(plan.person)},
        details={"versions": len(versions)},
    )
    return versions


def latest_version(plan: ManagementPlan) -> PlanVersion | None:
    return plan.versions.order_by("-number").first()


# --- Work lists (system reads: alerts, caseloads, agency contribution) ----------------------------


def overdue_actions(on: dt.date) -> QuerySet[PlanActionRow]:
    """Actions overdue on day `on`: still open and due before it. Unaudited (counts and alerts)."""
    return (
        PlanActionRow.objects.filter(status__in=OPEN_ACTION_STATUSES, due_date__lt=on)
        .select_related("plan", "plan__registration", "owner_agency", "owner_worker", "person")
        .order_by("due_date", "id")
    )


def plans_due_review(on: dt.date) -> QuerySet[ManagementPlan]:
    """Agreed plans of current registrations whose next review is on or before `on`."""
    return (
        ManagementPlan.objects.filter(status=PlanStatus.AGREED, next_review_date__lte=on)
        .exclude(registration__status="deregistered")
        .select_related("registration", "registration__lead_worker", "person")
        .order_by("next_review_date", "id")
    )


@dataclass(frozen=True)
class AgencyAdditionalCost:
    """Additional (beyond usual services) actions an agency took on in a period, and their cost."""

    agency_id: int
    agency_code: str
    agency_name: str
    actions: int
    costed_actions: int
    estimated_cost: decimal.Decimal


def additional_action_costs(start: dt.date, end: dt.date) -> list[AgencyAdditionalCost]:
    """Per agency: additional actions created between `start` and `end` inclusive, and the sum of
    their estimated costs (actions without an estimate are counted but add nothing), for the
    evaluation's cost model. Agencies with none are left out; ordered by agency name."""
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    rows = (
        PlanActionRow.objects.filter(additional=True, created_at__gte=since, created_at__lt=until)
        .values("owner_agency_id", "owner_agency__code", "owner_agency__name")
        .annotate(
            n=Count("id"),
            costed=Count("id", filter=Q(estimated_cost__isnull=False)),
            total=Sum("estimated_cost"),
        )
        .order_by("owner_agency__name")
    )
    return [
        AgencyAdditionalCost(
            agency_id=row["owner_agency_id"],
            agency_code=row["owner_agency__code"],
            agency_name=row["owner_agency__name"],
            actions=row["n"],
            costed_actions=row["costed"],
            estimated_cost=(row["total"] or decimal.Decimal("0")).quantize(decimal.Decimal("0.01")),
        )
        for row in rows
    ]
