"""Caseloads (issue #5 item 5): current registrations by scope, with filters and counts.

One queryset builder (`_caseload_queryset`) serves the list, the per-tab counts and the API, so
the counts shown always equal the lists' lengths. Every list is narrowed to the people the actor
may view (`people_visible_to`); reading a list is audited with the people it showed.

Scopes:
- mine: registrations whose lead worker is the actor, and people with open plan actions the
  actor owns;
- team: registrations whose lead worker is in the actor's team (`Membership.team`);
- agency: registrations whose lead agency is the actor's, and people whose plan has open
  actions the actor's agency owns;
- cohort: every current registration (IOM coordinators at police and probation only).

"Overdue work" on a day: an open plan action due before the day, or the registration's review
date or the plan's next review date before the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from openiom.access.policy import CaseloadAction, can, has_area_scope, people_visible_to
from openiom.access.services import require
from openiom.accounts.models import Membership, Role
from openiom.audit.services import record
from openiom.cohort.models import RagAssessment, Registration, RegistrationStatus
from openiom.plans.models import OPEN_ACTION_STATUSES, PlanAction

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

SCOPES: dict[str, str] = {
    "mine": "Mine",
    "team": "My team",
    "agency": "My agency",
    "cohort": "Whole cohort",
}
RAG_CHOICES: dict[str, str] = {
    "red": "Red",
    "amber": "Amber",
    "green": "Green",
    "none": "Not yet assessed",
}
STATUS_CHOICES: dict[str, str] = {
    s.value: str(s.label) for s in RegistrationStatus if s != RegistrationStatus.DEREGISTERED
}


@dataclass(frozen=True)
class CaseloadFilters:
    rag: str = ""  # red, amber, green, none ("" = any)
    cohort: str = ""  # cohort key: fixed, flex, free ("" = any)
    status: str = ""  # active, in_custody, suspended ("" = any)
    overdue: bool = False  # only people with overdue work

    def as_dict(self) -> dict[str, Any]:
        return {
            "rag": self.rag,
            "cohort": self.cohort,
            "status": self.status,
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class CaseloadRow:
    registration: Registration
    rag: str  # "" when not yet assessed
    overdue_actions: int
    plan_review: dt.date | None
    on: dt.date

    @property
    def person(self) -> Any:
        return self.registration.person

    @property
    def next_review(self) -> dt.date:
        """The sooner of the registration's review and the plan's next review."""
        reg_review = self.registration.review_date
        return min(reg_review, self.plan_review) if self.plan_review else reg_review

    @property
    def review_overdue(self) -> bool:
        return self.next_review < self.on

    @property
    def has_overdue_work(self) -> bool:
        return self.overdue_actions > 0 or self.review_overdue


@dataclass
class Caseload:
    scope: str
    filters: CaseloadFilters
    on: dt.date
    rows: list[CaseloadRow]
    tab_counts: dict[str, int] = field(default_factory=dict)  # scope -> people with the filters

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def with_overdue_work(self) -> int:
        return sum(1 for r in self.rows if r.has_overdue_work)


def allowed_scopes(actor: Actor) -> list[str]:
    """The tabs the actor may open (none for analysts, DPOs and administrators)."""
    if not can(actor, CaseloadAction.VIEW_OWN_CASELOAD):
        return []
    scopes = ["mine", "team", "agency"]
    if can(actor, CaseloadAction.VIEW_COHORT_CASELOAD):
        scopes.append("cohort")
    return scopes


def _sees_all_actions(actor: Actor) -> bool:
    """Core case managers count every agency's overdue actions; partners only their own's."""
    m = actor.membership
    return (
        m is not None
        and has_area_scope(actor)
        and m.agency.agency_type.is_statutory_core
        and actor.role in {Role.COORDINATOR, Role.OFFENDER_MANAGER}
    )


def _caseload_queryset(
    actor: Actor, scope: str, filters: CaseloadFilters, on: dt.date
) -> QuerySet[Registration]:
    open_actions = PlanAction.objects.filter(status__in=OPEN_ACTION_STATUSES)
    qs = Registration.objects.exclude(status=RegistrationStatus.DEREGISTERED).filter(
        person__in=people_visible_to(actor)
    )
    if scope == "mine":
        owned = open_actions.filter(owner_worker_id=actor.user.pk).values("plan__registration_id")
        qs = qs.filter(Q(lead_worker_id=actor.user.pk) | Q(pk__in=owned))
    elif scope == "team":
        team_id = actor.membership.team_id if actor.membership else None
        if team_id is None:
            return qs.none()
        members = Membership.objects.filter(team_id=team_id, is_active=True).values("user_id")
        qs = qs.filter(lead_worker_id__in=members)
    elif scope == "agency":
        owned = open_actions.filter(owner_agency_id=actor.agency_id).values("plan__registration_id")
        qs = qs.filter(Q(lead_agency_id=actor.agency_id) | Q(pk__in=owned))
    elif scope != "cohort":
        raise ValueError(f"unknown caseload scope {scope!r}")

    latest = RagAssessment.objects.filter(registration=OuterRef("pk")).order_by(
        "-assessed_on", "-created_at", "-id"
    )
    overdue = open_actions.filter(plan__registration_id=OuterRef("pk"), due_date__lt=on)
    if not _sees_all_actions(actor):
        overdue = overdue.filter(owner_agency_id=actor.agency_id)
    overdue_count = (
        overdue.order_by().values("plan__registration_id").annotate(n=Count("id")).values("n")
    )
    qs = qs.annotate(
        latest_rag=Subquery(latest.values("status")[:1]),
        overdue_actions=Coalesce(Subquery(overdue_count, output_field=IntegerField()), Value(0)),
        plan_review=Subquery(
            Registration.objects.filter(pk=OuterRef("pk")).values(
                "management_plan__next_review_date"
            )[:1]
        ),
    )
    if filters.rag == "none":
        qs = qs.filter(latest_rag__isnull=True)
    elif filters.rag:
        qs = qs.filter(latest_rag=filters.rag)
    if filters.cohort:
        qs = qs.filter(cohort_key=filters.cohort)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.filter(Q(overdue_actions__gt=0) | Q(review_date__lt=on) | Q(plan_review__lt=on))
    return qs


def caseload(
    *,
    actor: Actor,
    scope: str = "mine",
    filters: CaseloadFilters | None = None,
    on: dt.date | None = None,
) -> Caseload:
    """The actor's caseload for the scope, filtered, with the count of every tab they may open.

    Refusals (no caseload; the whole cohort for anyone but core coordinators) are audited.
    """
    filters = filters or CaseloadFilters()
    on = on or timezone.localdate()
    if scope not in SCOPES:
        raise ValueError(f"unknown caseload scope {scope!r}")
    require(actor, CaseloadAction.VIEW_OWN_CASELOAD)
    if scope == "cohort":
        require(actor, CaseloadAction.VIEW_COHORT_CASELOAD)
    qs = _caseload_queryset(actor, scope, filters, on).select_related(
        "person", "cohort", "lead_agency", "lead_worker"
    )
    rows = [
        CaseloadRow(
            registration=r,
            rag=r.latest_rag or "",  # type: ignore[attr-defined]
            overdue_actions=r.overdue_actions,  # type: ignore[attr-defined]
            plan_review=r.plan_review,  # type: ignore[attr-defined]
            on=on,
        )
        for r in qs.order_by("person__surname", "person__first_names", "id")
    ]
    tab_counts = {
        s: (len(rows) if s == scope else _caseload_queryset(actor, s, filters, on).count())
        for s in allowed_scopes(actor)
    }
    record(
        "caseload.consulted",
        actor=actor,
        context={"scope": SCOPES[scope], "results": len(rows)},
        details={
            "scope": scope,
            "filters": filters.as_dict(),
            "person_ids": [r.registration.person_id for r in rows],
        },
    )
    return Caseload(scope=scope, filters=filters, on=on, rows=rows, tab_counts=tab_counts)
