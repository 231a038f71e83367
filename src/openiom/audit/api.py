"""Reading the audit trail over the API (data-protection officers). Reading it is itself audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Path, Query, Router, Schema

from openiom.access.policy import Action
from openiom.access.services import require
from openiom.accounts.actor import Actor
from openiom.audit import unusual
from openiom.audit.models import AuditEvent
from openiom.audit.selectors import AuditFilters, person_views, viewers_of
from openiom.audit.selectors import audit_events as select_events
from openiom.audit.services import record
from openiom.partnership.models import Agency

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


def _actor(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    return actor


def _period(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise ValidationError({"date_to": ["date_to must be the same as or after date_from."]})


@router.get(
    "/events",
    response=AuditEventList,
    summary="Audit events",
    description=(
        "Newest first, optionally for one person (their subject-access or rights request), one "
        "user, one agency, one event type or category, and a period of whole days (UK time). "
        "Data-protection officers and administrators only; audited."
    ),
)
def audit_events(
    request: HttpRequest,
    person_id: int | None = Query(None, ge=1, le=MAX_ID, description="Events about this person."),
    event_type: str | None = Query(None, max_length=64, description="e.g. person.consulted"),
    username: str | None = Query(None, max_length=150, description="The acting user."),
    agency: str | None = Query(
        None, max_length=50, description="Code of the agency the user acted for."
    ),
    category: AuditEvent.Category | None = Query(None, description="DPA 2018 s62 category."),  # noqa: B008
    date_from: dt.date | None = Query(None, description="First day (inclusive)."),  # noqa: B008
    date_to: dt.date | None = Query(None, description="Last day (inclusive)."),  # noqa: B008
    limit: int = Query(50, ge=1, le=MAX_PAGE, description="Page size."),
    offset: int = Query(0, ge=0, le=MAX_ID, description="Skip this many."),
) -> dict[str, Any]:
    actor = _actor(request)
    require(actor, Action.VIEW_AUDIT)
    _period(date_from, date_to)
    agency_id = None
    if agency:
        found = Agency.objects.filter(code=agency).values_list("pk", flat=True).first()
        if found is None:
            raise ValidationError({"agency": [f"No agency has the code {agency!r}."]})
        agency_id = found
    filters = AuditFilters(
        person_id=person_id,
        username=(username or "").strip(),
        event_type=event_type or "",
        category=str(category or ""),
        date_from=date_from,
        date_to=date_to,
        agency_id=agency_id,
    )
    events = select_events(filters=filters)
    count = events.count()
    page = list(events[offset : offset + limit])
    details = {**filters.as_dict(), "offset": offset, "limit": limit}
    record(
        "audit.consulted",
        actor=actor,
        person_id=person_id,
        details={"filters": details, "results": len(page)},
    )
    return {"count": count, "limit": limit, "offset": offset, "results": page}


class ViewerOut(Schema):
    username: str
    role: str
    agency: str
    views: int
    first_viewed: dt.datetime
    last_viewed: dt.datetime


class PersonViewOut(Schema):
    id: int
    occurred_at: dt.datetime
    event_type: str
    summary: str
    actor_username: str
    actor_role: str
    actor_agency: str | None = None

    @staticmethod
    def resolve_actor_agency(obj: Any) -> str | None:
        agency = obj.actor_agency
        return agency.code if agency is not None else None


class ViewersOut(Schema):
    person_id: int
    viewers: list[ViewerOut]
    count: int
    limit: int
    offset: int
    views: list[PersonViewOut]


@router.get(
    "/people/{person_id}/viewers",
    response=ViewersOut,
    summary="Who has looked at a person's record",
    description=(
        "Every user who viewed the person in the period (with role, agency, number of views, "
        "first and last view), then each view, newest first. Data-protection officers and "
        "administrators only; audited."
    ),
)
def person_viewers(
    request: HttpRequest,
    person_id: int = Path(..., ge=1, le=MAX_ID),
    date_from: dt.date | None = Query(None, description="First day (inclusive)."),  # noqa: B008
    date_to: dt.date | None = Query(None, description="Last day (inclusive)."),  # noqa: B008
    limit: int = Query(50, ge=1, le=MAX_PAGE, description="Page size of the views."),
    offset: int = Query(0, ge=0, le=MAX_ID, description="Skip this many views."),
) -> dict[str, Any]:
    actor = _actor(request)
    require(actor, Action.VIEW_AUDIT)
    _period(date_from, date_to)
    views = person_views(person_id=person_id, date_from=date_from, date_to=date_to)
    count = views.count()
    page = list(views[offset : offset + limit])
    who = viewers_of(person_id=person_id, date_from=date_from, date_to=date_to)
    record(
        "audit.viewers_consulted",
        actor=actor,
        person_id=person_id,
        context={"person_id": person_id},
        details={
            "person_id": person_id,
            "date_from": date_from,
            "date_to": date_to,
            "offset": offset,
            "limit": limit,
        },
    )
    return {
        "person_id": person_id,
        "viewers": [
            {
                "username": v.username,
                "role": v.role,
                "agency": v.agency_name,
                "views": v.views,
                "first_viewed": v.first_viewed,
                "last_viewed": v.last_viewed,
            }
            for v in who
        ],
        "count": count,
        "limit": limit,
        "offset": offset,
        "views": page,
    }


class FlagOut(Schema):
    kind: str
    username: str
    role: str
    agency: str
    person_id: int | None
    views: int
    first_day: dt.date
    last_day: dt.date
    usual_daily_views: float | None
    explanation: str


class UnusualAccessOut(Schema):
    date_from: dt.date
    date_to: dt.date
    baseline_from: dt.date
    baseline_to: dt.date
    flags: list[FlagOut]


@router.get(
    "/unusual-access",
    response=UnusualAccessOut,
    summary="Unusual-access report",
    description=(
        "For a period (at most 366 days): users whose daily views of people were at least "
        f"{unusual.MIN_VIEWS} and more than {unusual.MULTIPLE} times their median over the "
        f"{unusual.BASELINE_DAYS} days before (kind 'volume'), and views of people outside the "
        "user's caseload (kind 'outside_caseload'), each with a plain-English explanation. "
        "Data-protection officers and administrators only; audited."
    ),
)
def unusual_access(
    request: HttpRequest,
    date_from: dt.date = Query(..., description="First day (inclusive)."),  # noqa: B008
    date_to: dt.date = Query(..., description="Last day (inclusive)."),  # noqa: B008
) -> dict[str, Any]:
    actor = _actor(request)
    require(actor, Action.VIEW_AUDIT)
    _period(date_from, date_to)
    if (date_to - date_from).days + 1 > unusual.MAX_PERIOD_DAYS:
        raise ValidationError(
            {"date_to": [f"The period must be {unusual.MAX_PERIOD_DAYS} days or shorter."]}
        )
    report = unusual.unusual_access(date_from=date_from, date_to=date_to)
    record(
        "audit.unusual_access_consulted",
        actor=actor,
        context={"period": report.period, "flags": len(report.flags)},
        details={"date_from": date_from, "date_to": date_to, "flags": len(report.flags)},
    )
    return {
        "date_from": report.date_from,
        "date_to": report.date_to,
        "baseline_from": report.baseline_from,
        "baseline_to": report.baseline_to,
        "flags": [
            {
                "kind": f.kind,
                "username": f.username,
                "role": f.role,
                "agency": f.agency_name,
                "person_id": f.person_id,
                "views": f.views,
                "first_day": f.first_day,
                "last_day": f.last_day,
                "usual_daily_views": f.median,
                "explanation": f.explanation,
            }
            for f in report.flags
        ],
    }
