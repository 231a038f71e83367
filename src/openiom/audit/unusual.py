"""The unusual-access report: views of people's records a data-protection officer should check.

Two kinds of flag, each with a plain-English reason:

- **Far above their usual**: on a day in the period a user viewed people's records at least
  MIN_VIEWS times and more than MULTIPLE times their median daily views over the BASELINE_DAYS
  before the period (days without views count as 0).
- **Outside their caseload**: a user viewed a person although, on that day, they were not the
  person's lead worker on an IOM registration, their agency had no involvement with the person,
  and their role was not one that covers the whole area (coordinators, offender managers and
  analysts at police and probation).

A flag is a prompt to ask, not a finding of misuse.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from openiom.accounts.models import Role
from openiom.audit.selectors import person_views

MULTIPLE = 3
MIN_VIEWS = 20
BASELINE_DAYS = 56
AREA_ROLES = (Role.COORDINATOR, Role.OFFENDER_MANAGER, Role.ANALYST)
MAX_PERIOD_DAYS = 366

VOLUME = "volume"
OUTSIDE_CASELOAD = "outside_caseload"
KIND_LABELS = {VOLUME: "Far above their usual", OUTSIDE_CASELOAD: "Outside their caseload"}


@dataclass(frozen=True)
class Flag:
    kind: str
    username: str
    role: str
    agency_name: str
    views: int
    first_day: dt.date
    last_day: dt.date
    explanation: str
    person_id: int | None = None  # outside-caseload flags
    median: float | None = None  # volume flags: the user's usual daily views

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class Report:
    date_from: dt.date
    date_to: dt.date
    baseline_from: dt.date
    baseline_to: dt.date
    flags: list[Flag] = field(default_factory=list)

    @property
    def period(self) -> str:
        return f"{_day(self.date_from)} to {_day(self.date_to)}"

    def of_kind(self, kind: str) -> list[Flag]:
        return [f for f in self.flags if f.kind == kind]


def _day(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _role_label(code: str) -> str:
    try:
        return str(Role(code).label)
    except ValueError:
        return code or "no role"


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _daily_counts(start: dt.date, end: dt.date) -> dict[int, dict[dt.date, int]]:
    """Views of people per user per local day."""
    rows = (
        person_views(date_from=start, date_to=end)
        .filter(actor__isnull=False)
        .order_by()
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values("actor_id", "day")
        .annotate(n=Count("id"))
    )
    counts: dict[int, dict[dt.date, int]] = defaultdict(dict)
    for r in rows:
        counts[r["actor_id"]][r["day"]] = r["n"]
    return counts


def _who(actor_id: int, start: dt.date, end: dt.date) -> tuple[str, str, str]:
    """Username, role and agency of the user's latest view in the period."""
    latest = (
        person_views(date_from=start, date_to=end)
        .filter(actor_id=actor_id)
        .values("actor_username", "actor_role", "actor_agency__name")
        .first()
    )
    if latest is None:
        return "", "", ""
    return latest["actor_username"], latest["actor_role"], latest["actor_agency__name"] or ""


def _volume_flags(report: Report) -> list[Flag]:
    baseline = _daily_counts(report.baseline_from, report.baseline_to)
    period = _daily_counts(report.date_from, report.date_to)
    baseline_days = _days(report.baseline_from, report.baseline_to)
    flags = []
    for actor_id, days in period.items():
        history = baseline.get(actor_id, {})
        median = statistics.median(history.get(d, 0) for d in baseline_days)
        high = sorted((d, n) for d, n in days.items() if n >= MIN_VIEWS and n > MULTIPLE * median)
        if not high:
            continue
        username, role, agency = _who(actor_id, report.date_from, report.date_to)
        usual = f"{median:g} a day" if median else "none on most days"
        for day, n in high:
            flags.append(
                Flag(
                    kind=VOLUME,
                    username=username,
                    role=role,
                    agency_name=agency,
                    views=n,
                    first_day=day,
                    last_day=day,
                    median=float(median),
                    explanation=(
                        f"On {_day(day)} {username} viewed people's records {n} times. That is "
                        f"more than {MULTIPLE} times their usual ({usual}: the median over the "
                        f"{BASELINE_DAYS // 7} weeks from {_day(report.baseline_from)} to "
                        f"{_day(report.baseline_to)}, counting days without views as 0) and at "
                        f"least {MIN_VIEWS} views."
                    ),
                )
            )
    return flags


def _outside_caseload_flags(report: Report) -> list[Flag]:
    from openiom.cohort.models import Registration
    from openiom.people.models import Involvement

    area_role = Q(actor_role__in=AREA_ROLES, actor_agency__agency_type__is_statutory_core=True)
    rows = list(
        person_views(date_from=report.date_from, date_to=report.date_to)
        .filter(actor__isnull=False)
        .exclude(area_role)
        .order_by()
        .annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
        .values(
            "actor_id",
            "actor_username",
            "actor_role",
            "actor_agency_id",
            "actor_agency__name",
            "person_id",
            "day",
        )
        .annotate(n=Count("id"))
    )
    if not rows:
        return []
    people = {r["person_id"] for r in rows}
    agencies = {r["actor_agency_id"] for r in rows if r["actor_agency_id"] is not None}
    users = {r["actor_id"] for r in rows}
    involved: dict[tuple[int, int], list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for inv in Involvement.objects.filter(person_id__in=people, agency_id__in=agencies).values(
        "person_id", "agency_id", "start_date", "end_date"
    ):
        involved[(inv["agency_id"], inv["person_id"])].append((inv["start_date"], inv["end_date"]))
    leads: dict[tuple[int, int], list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for reg in Registration.objects.filter(person_id__in=people, lead_worker_id__in=users).values(
        "person_id", "lead_worker_id", "start_date", "end_date"
    ):
        leads[(reg["lead_worker_id"], reg["person_id"])].append(
            (reg["start_date"], reg["end_date"])
        )

    def covers(spans: list[tuple[dt.date, dt.date | None]], day: dt.date) -> bool:
        return any(start <= day and (end is None or end >= day) for start, end in spans)

    grouped: dict[tuple[int, str, str, int | None, str, int], list[tuple[dt.date, int]]] = (
        defaultdict(list)
    )
    for r in rows:
        day, agency_id, person_id = r["day"], r["actor_agency_id"], r["person_id"]
        if covers(leads.get((r["actor_id"], person_id), []), day):
            continue
        if agency_id is not None and covers(involved.get((agency_id, person_id), []), day):
            continue
        key = (
            r["actor_id"],
            r["actor_username"],
            r["actor_role"],
            agency_id,
            r["actor_agency__name"] or "",
            person_id,
        )
        grouped[key].append((day, r["n"]))

    flags = []
    for (_uid, username, role, _aid, agency, person_id), days in grouped.items():
        views = sum(n for _, n in days)
        first, last = min(d for d, _ in days), max(d for d, _ in days)
        when = f"on {_day(first)}" if first == last else f"between {_day(first)} and {_day(last)}"
        as_role = f"{_role_label(role)} at {agency}" if agency else _role_label(role)
        agency_clause = (
            f"{agency} was not working with the person at the time"
            if agency
            else "they were acting for no agency"
        )
        flags.append(
            Flag(
                kind=OUTSIDE_CASELOAD,
                username=username,
                role=role,
                agency_name=agency,
                views=views,
                first_day=first,
                last_day=last,
                person_id=person_id,
                explanation=(
                    f"{username} ({as_role}) viewed the record of person {person_id} "
                    f"{_times(views)} {when}, although they were not the person's lead worker, "
                    f"{agency_clause}, and their role is not one that covers the whole area "
                    "(coordinators, offender managers and analysts at police and probation)."
                ),
            )
        )
    return flags


def unusual_access(*, date_from: dt.date, date_to: dt.date) -> Report:
    """Both kinds of flag for the period (whole local days, inclusive), most views first."""
    if date_to < date_from:
        raise ValueError("the period ends before it starts")
    report = Report(
        date_from=date_from,
        date_to=date_to,
        baseline_from=date_from - dt.timedelta(days=BASELINE_DAYS),
        baseline_to=date_from - dt.timedelta(days=1),
    )
    flags = _volume_flags(report) + _outside_caseload_flags(report)
    report.flags = sorted(
        flags, key=lambda f: (f.kind != VOLUME, -f.views, f.username, f.person_id or 0)
    )
    return report
