"""Reading the audit trail (for data-protection officers). Callers check permission and audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
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
    return qs.order_by("-occurred_at", "-id")
