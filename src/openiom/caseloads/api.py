"""Caseload and agency-contribution endpoints: the same selectors, policy and audit as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import ValidationError as NinjaValidationError

from openiom.caseloads import contribution as contrib
from openiom.caseloads.forms import CaseloadFilterForm, ContributionForm
from openiom.caseloads.selectors import CaseloadRow, caseload
from openiom.people.api import actor_of

router = Router(tags=["caseloads"])


def _invalid(form: Any) -> NinjaValidationError:
    return NinjaValidationError(
        [
            {"type": "value_error", "loc": ["query", name], "msg": message}
            for name, messages in form.errors.items()
            for message in messages
        ]
    )


class CaseloadRowOut(Schema):
    registration_id: int
    person_id: int
    person: str
    cohort: str
    cohort_name: str
    status: str
    rag: str | None
    lead_agency: str
    lead_worker: str
    next_review: dt.date
    review_overdue: bool
    overdue_actions: int
    has_overdue_work: bool


class CaseloadOut(Schema):
    scope: str
    on: dt.date
    filters: dict[str, Any]
    count: int
    with_overdue_work: int
    tab_counts: dict[str, int]
    rows: list[CaseloadRowOut]


def _row(row: CaseloadRow) -> dict[str, Any]:
    reg = row.registration
    return {
        "registration_id": reg.pk,
        "person_id": reg.person_id,
        "person": reg.person.full_name,
        "cohort": reg.cohort_key,
        "cohort_name": reg.cohort.name,
        "status": reg.status,
        "rag": row.rag or None,
        "lead_agency": reg.lead_agency.code,
        "lead_worker": reg.lead_worker.get_username(),
        "next_review": row.next_review,
        "review_overdue": row.review_overdue,
        "overdue_actions": row.overdue_actions,
        "has_overdue_work": row.has_overdue_work,
    }


@router.get(
    "",
    response=CaseloadOut,
    summary="A caseload",
    description=(
        "scope: mine (default), team, agency or cohort (IOM coordinators at police and probation "
        "only); rag: red, amber, green or none; cohort: a cohort key (fixed, flex, free); status: "
        "active, in_custody or suspended; overdue: true for people with overdue work only. "
        "Only people the caller may view; count and tab_counts equal the lists' lengths. Audited."
    ),
)
def get_caseload(
    request: HttpRequest,
    scope: str = "",
    rag: str = "",
    cohort: str = "",
    status: str = "",
    overdue: bool = False,
) -> dict[str, Any]:
    form = CaseloadFilterForm(
        {
            "scope": scope,
            "rag": rag,
            "cohort": cohort,
            "status": status,
            **({"overdue": "on"} if overdue else {}),
        }
    )
    if not form.is_valid():
        raise _invalid(form)
    result = caseload(actor=actor_of(request), scope=form.chosen_scope(), filters=form.filters())
    return {
        "scope": result.scope,
        "on": result.on,
        "filters": result.filters.as_dict(),
        "count": result.count,
        "with_overdue_work": result.with_overdue_work,
        "tab_counts": result.tab_counts,
        "rows": [_row(r) for r in result.rows],
    }


class AgencyCountsOut(Schema):
    agency: str
    agency_name: str
    actions_owned: int
    completed: int
    overdue: int
    contacts: int


class PeriodOut(Schema):
    start: dt.date
    end: dt.date
    label: str
    agencies: list[AgencyCountsOut]
    total: dict[str, int]


class ContributionOut(Schema):
    first_month: dt.date
    last_month: dt.date
    months: list[PeriodOut]
    whole_range: PeriodOut


def _period(period: contrib.Period, agencies: list[Any]) -> dict[str, Any]:
    def counts(c: contrib.Counts) -> dict[str, int]:
        return {
            "actions_owned": c.actions_owned,
            "completed": c.completed,
            "overdue": c.overdue,
            "contacts": c.contacts,
        }

    return {
        "start": period.start,
        "end": period.end,
        "label": period.label,
        "agencies": [
            {
                "agency": a.code,
                "agency_name": a.name,
                **counts(period.counts.get(a.pk, contrib.Counts())),
            }
            for a in agencies
        ],
        "total": counts(period.total),
    }


@router.get(
    "/contribution",
    response=ContributionOut,
    summary="Agency contribution per month",
    description=(
        "Per agency per month: plan actions owned (open during the month), completed in it, "
        "overdue at its end, and contacts recorded. first and last are months as YYYY-MM "
        "(default: the last six months). Coordinators and analysts with area scope; counts only. "
        "Audited."
    ),
)
def get_contribution(request: HttpRequest, first: str = "", last: str = "") -> dict[str, Any]:
    from openiom.access.policy import CaseloadAction
    from openiom.access.services import require

    actor = actor_of(request)
    require(actor, CaseloadAction.VIEW_CONTRIBUTION)  # refuse before judging the input
    today = timezone.localdate()
    form = ContributionForm({"first": first, "last": last}, today=today)
    if not form.is_valid():
        raise _invalid(form)
    result = contrib.agency_contribution(
        actor=actor,
        first_month=form.cleaned_data["first"],
        last_month=form.cleaned_data["last"],
        today=today,
    )
    assert result.whole_range is not None
    return {
        "first_month": result.first_month,
        "last_month": result.last_month,
        "months": [_period(p, result.agencies) for p in result.months],
        "whole_range": _period(result.whole_range, result.agencies),
    }
