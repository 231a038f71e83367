"""Reading the audit trail (for data-protection officers). Callers check permission and audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from openiom.audit.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    person_id: int | None = None
    username: str = ""
    event_type: str = ""
    category: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    request_id: str = ""
    agency_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(*, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit events matching the filters, newest first. Dates are whole local days, inclusive."""
    qs = AuditEvent.objects.select_related("actor_agency")
    if filters.person_id is not None:
        qs = qs.filter(person_id=filters.person_id)
    if filters.username:
        qs = qs.filter(actor_username__iexact=filters.username)
    if filters.event_type:
        qs = qs.filter(event_type=filters.event_type)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.date_from is not None:
        qs = qs.filter(occurred_at__gte=_start_of(filters.date_from))
    if filters.date_to is not None:
        qs = qs.filter(occurred_at__lt=_start_of(filters.date_to + dt.timedelta(days=1)))
    if filters.request_id:
        qs = qs.filter(request_id=filters.request_id)
    if filters.agency_id is not None:
        qs = qs.filter(actor_agency_id=filters.agency_id)
    return qs.order_by("-occurred_at", "-id")


# --- Who has looked at a record -------------------------------------------------------------

# A "view of a person" is any consultation event about them, except reading the audit trail
# itself (a data-protection officer looking at who viewed someone has not viewed the person).
PERSON_VIEW = Q(category=AuditEvent.Category.CONSULTATION, person_id__isnull=False) & ~Q(
    event_type__startswith="audit."
)


def person_views(
    *,
    person_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Views of people's records (of one person if given) in the period, newest first."""
    qs = AuditEvent.objects.filter(PERSON_VIEW).select_related("actor_agency")
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if date_from is not None:
        qs = qs.filter(occurred_at__gte=_start_of(date_from))
    if date_to is not None:
        qs = qs.filter(occurred_at__lt=_start_of(date_to + dt.timedelta(days=1)))
    return qs.order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class Viewer:
    """One user, in one role at one agency, who viewed a person's record."""

    username: str
    role: str
    agency_id: int | None
    agency_name: str
    views: int
    first_viewed: dt.datetime
    last_viewed: dt.datetime


def viewers_of(
    *, person_id: int, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[Viewer]:
    """Everyone who viewed the person in the period, most recent viewer first."""
    rows = (
        person_views(person_id=person_id, date_from=date_from, date_to=date_to)
        .order_by()
        .values("actor_username", "actor_role", "actor_agency_id", "actor_agency__name")
        .annotate(views=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
    )
    viewers = [
        Viewer(
            username=r["actor_username"],
            role=r["actor_role"],
            agency_id=r["actor_agency_id"],
            agency_name=r["actor_agency__name"] or "",
            views=r["views"],
            first_viewed=r["first"],
            last_viewed=r["last"],
        )
        for r in rows
    ]
    return sorted(viewers, key=lambda v: (v.last_viewed, v.username), reverse=True)
