"""Reading the audit trail over the API (data-protection officers). Reading it is itself audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from openiom.access.policy import Action
from openiom.access.services import require
from openiom.accounts.actor import Actor
from openiom.audit.models import AuditEvent
from openiom.audit.services import record

router = Router(tags=["audit"])

MAX_ID = 2**63 - 1
MAX_PAGE = 200


class AuditEventOut(Schema):
    id: int
    occurred_at: dt.datetime
    event_type: str
    category: str
    summary: str
    actor_username: str
    actor_agency: str | None = None
    actor_role: str
    object_type: str
    object_id: str
    person_id: int | None
    before: Any = None
    after: Any = None
    details: dict[str, Any]
    request_id: str
    ip_address: str | None

    @staticmethod
    def resolve_actor_agency(obj: Any) -> str | None:
        agency = obj.actor_agency
        return agency.code if agency is not None else None


class AuditEventList(Schema):
    count: int
    limit: int
    offset: int
    results: list[AuditEventOut]


@router.get(
    "/events",
    response=AuditEventList,
    summary="Audit events",
    description=(
        "Newest first, optionally for one person (their subject-access or rights request) or "
        "one event type. Data-protection officers and administrators only; audited."
    ),
)
def audit_events(
    request: HttpRequest,
    person_id: int | None = Query(None, ge=1, le=MAX_ID, description="Events about this person."),
    event_type: str | None = Query(None, max_length=64, description="e.g. person.consulted"),
    limit: int = Query(50, ge=1, le=MAX_PAGE, description="Page size."),
    offset: int = Query(0, ge=0, le=MAX_ID, description="Skip this many."),
) -> dict[str, Any]:
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    require(actor, Action.VIEW_AUDIT)
    events = AuditEvent.objects.select_related("actor_agency")
    if person_id is not None:
        events = events.filter(person_id=person_id)
    if event_type:
        events = events.filter(event_type=event_type)
    count = events.count()
    page = list(events.order_by("-occurred_at", "-id")[offset : offset + limit])
    filters = {"person_id": person_id, "event_type": event_type, "offset": offset, "limit": limit}
    record(
        "audit.consulted",
        actor=actor,
        person_id=person_id,
        details={"filters": filters, "results": len(page)},
    )
    return {"count": count, "limit": limit, "offset": offset, "results": page}
