"""Agency contribution (issue #5 item 7): per agency per month, counts only, no person detail.

For a period (a calendar month, or the whole range for the totals) from `start` to `end`, with
the cut-off D = the day after `end`, or today if sooner (a month not yet over counts to today):

- actions owned: plan actions the agency owns that were open at some time in the period (added
  by its end and not closed before it began);
- completed: actions the agency owns that became done in the period (`completed_on` in it;
  "not done" and cancelled actions are not completions);
- overdue at the period's end: actions the agency owns that were due before D and still open on
  D (not closed, or closed on or after D) - the plans contract's "overdue on day D";
- contacts: contacts the agency made with a date in the period (casework.Contact.agency).

The inspection's "differing degrees of commitment", made visible to coordinators and boards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, F, Q
from django.utils import timezone

from openiom.access.policy import CaseloadAction
from openiom.access.services import require
from openiom.audit.services import record
from openiom.casework.models import Contact
from openiom.cohort.dates import add_months
from openiom.partnership.models import Agency
from openiom.plans.models import OPEN_ACTION_STATUSES, ActionStatus, PlanAction

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

DEFAULT_MONTHS = 6
MAX_MONTHS = 36
MEASURES = {
    "actions_owned": "Actions owned (open during the period)",
    "completed": "Actions completed",
    "overdue": "Actions overdue at the period's end",
    "contacts": "Contacts recorded",
}


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(first: dt.date) -> dt.date:
    return add_months(first, 1) - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months from `first`'s month to `last`'s month, inclusive."""
    months, current = [], month_start(first)
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last six months, this month included."""
    this_month = month_start(today)
    return add_months(this_month, -(DEFAULT_MONTHS - 1)), this_month


@dataclass(frozen=True)
class Counts:
    actions_owned: int = 0
    completed: int = 0
    overdue: int = 0
    contacts: int = 0

    def values(self) -> list[int]:
        return [self.actions_owned, self.completed, self.overdue, self.contacts]


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str
    counts: dict[int, Counts]  # agency id -> counts
    total: Counts


@dataclass
class Contribution:
    first_month: dt.date
    last_month: dt.date
    agencies: list[Agency]
    months: list[Period] = field(default_factory=list)
    whole_range: Period | None = None


def _grouped(qs: object) -> dict[int, int]:
    return {row["owner"]: row["n"] for row in qs}  # type: ignore[attr-defined]


def period_counts(start: dt.date, end: dt.date, today: dt.date) -> dict[int, Counts]:
    """Counts per agency id for the period (agencies with nothing are absent)."""
    cutoff = min(end + dt.timedelta(days=1), today)
    actions = PlanAction.objects.order_by()
    still_open = Q(status__in=OPEN_ACTION_STATUSES)
    owned = _grouped(
        actions.filter(created_at__date__lte=end)
        .filter(still_open | Q(completed_on__gte=start))
        .values(owner=F("owner_agency_id"))
        .annotate(n=Count("id"))
    )
    completed = _grouped(
        actions.filter(status=ActionStatus.DONE, completed_on__gte=start, completed_on__lte=end)
        .values(owner=F("owner_agency_id"))
        .annotate(n=Count("id"))
    )
    overdue = _grouped(
        actions.filter(created_at__date__lt=cutoff, due_date__lt=cutoff)
        .filter(still_open | Q(completed_on__gte=cutoff))
        .values(owner=F("owner_agency_id"))
        .annotate(n=Count("id"))
    )
    contacts = _grouped(
        Contact.objects.order_by()
        .filter(contact_date__gte=start, contact_date__lte=end)
        .values(owner=F("agency_id"))
        .annotate(n=Count("id"))
    )
    ids = set(owned) | set(completed) | set(overdue) | set(contacts)
    return {
        i: Counts(owned.get(i, 0), completed.get(i, 0), overdue.get(i, 0), contacts.get(i, 0))
        for i in ids
    }


def _period(start: dt.date, end: dt.date, label: str, today: dt.date) -> Period:
    counts = period_counts(start, end, today)
    total = Counts(*(sum(c.values()[i] for c in counts.values()) for i in range(4)))
    return Period(start=start, end=end, label=label, counts=counts, total=total)


def agency_contribution(
    *,
    actor: Actor,
    first_month: dt.date | None = None,
    last_month: dt.date | None = None,
    today: dt.date | None = None,
    export: bool = False,
) -> Contribution:
    """Counts per agency per month from first_month to last_month (default the last six)."""
    require(actor, CaseloadAction.VIEW_CONTRIBUTION)
    today = today or timezone.localdate()
    default_first, default_last = default_range(today)
    first = month_start(first_month or default_first)
    last = month_start(last_month or default_last)
    if last < first:
        raise ValueError("the last month is before the first")
    months = months_between(first, last)
    if len(months) > MAX_MONTHS:
        raise ValueError(f"at most {MAX_MONTHS} months at a time")
    result = Contribution(
        first_month=first,
        last_month=last,
        # Every agency, so the totals are the sums of the rows shown.
        agencies=list(Agency.objects.order_by("name")),
    )
    for m in months:
        result.months.append(_period(m, month_end(m), f"{m:%B %Y}", today))
    result.whole_range = _period(first, month_end(last), f"{first:%B %Y} to {last:%B %Y}", today)
    record(
        "contribution.exported" if export else "contribution.consulted",
        actor=actor,
        context={"first": f"{first:%B %Y}", "last": f"{last:%B %Y}"},
        details={"first_month": first, "last_month": last, "agencies": len(result.agencies)},
    )
    return result


def csv_rows(contribution: Contribution) -> list[list[object]]:
    """Header, a row per month per agency with an all-agencies row per month, then the range."""
    rows: list[list[object]] = [
        ["period", "agency", "actions_owned", "actions_completed", "actions_overdue", "contacts"]
    ]
    periods = [*contribution.months]
    if contribution.whole_range is not None:
        periods.append(contribution.whole_range)
    for period in periods:
        key = (
            f"{period.start:%Y-%m}"
            if period is not contribution.whole_range
            else f"{contribution.first_month:%Y-%m} to {contribution.last_month:%Y-%m}"
        )
        for agency in contribution.agencies:
            counts = period.counts.get(agency.pk, Counts())
            rows.append([key, agency.name, *counts.values()])
        rows.append([key, "All agencies", *period.total.values()])
    return rows
