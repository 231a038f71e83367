"""Agency contribution: the numbers on a hand-built case, the CSV, and who may see it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.caseloads.contribution import Counts, agency_contribution, csv_rows
from openiom.casework.models import Contact
from openiom.partnership.models import Agency
from openiom.plans.models import PlanAction
from tests.caseloads.world import action, register

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 22)
SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def case(personas: dict[str, Any], make_person: Any) -> dict[str, Agency]:
    """Five actions and four contacts whose monthly counts are worked out by hand below."""
    person = make_person()
    reg = register(person, personas)

    def add(agency: str, created: dt.date, due: dt.date, status: str, done: dt.date | None) -> None:
        made = action(reg, personas, agency=agency, status="planned", due=due)
        PlanAction.objects.filter(pk=made.pk).update(
            created_at=at(created), status=status, completed_on=done
        )

    add("harbour-housing", dt.date(2026, 8, 15), dt.date(2026, 9, 10), "done", dt.date(2026, 10, 5))
    add("harbour-housing", dt.date(2026, 10, 20), dt.date(2026, 12, 1), "planned", None)
    add("probation-wessex", SEP, dt.date(2026, 9, 20), "cancelled", dt.date(2026, 9, 25))
    add("probation-wessex", dt.date(2026, 9, 5), dt.date(2026, 10, 15), "in_progress", None)
    add("wessex-police", dt.date(2026, 7, 1), dt.date(2026, 8, 1), "done", dt.date(2026, 8, 20))
    for agency, worker, day in [
        ("harbour-housing", "housing.worker", dt.date(2026, 9, 3)),
        ("harbour-housing", "housing.worker", dt.date(2026, 10, 31)),
        ("probation-wessex", "probation.om", dt.date(2026, 11, 2)),
        ("wessex-police", "police.officer", dt.date(2026, 8, 31)),
    ]:
        Contact.objects.create(
            person=person,
            agency=Agency.objects.get(code=agency),
            worker=personas[worker],
            kind="phone_call",
            contact_date=day,
            recorded_by=personas[worker],
        )
    return {a.code: a for a in Agency.objects.all()}


def test_the_numbers_on_a_hand_built_case(case: dict[str, Agency], actor: Any) -> None:
    result = agency_contribution(
        actor=actor("coordinator"), first_month=SEP, last_month=NOV, today=TODAY
    )
    housing, probation, police = (
        case["harbour-housing"].pk,
        case["probation-wessex"].pk,
        case["wessex-police"].pk,
    )
    sep, oct_, nov = result.months
    # (owned during the month, completed in it, overdue at its end, contacts)
    assert sep.counts[housing] == Counts(1, 0, 1, 1)  # due 10 Sep, done only on 5 Oct
    assert sep.counts[probation] == Counts(2, 0, 0, 0)  # the cancelled one is no completion
    assert sep.total == Counts(3, 0, 1, 1)
    assert oct_.counts[housing] == Counts(2, 1, 0, 1)
    assert oct_.counts[probation] == Counts(1, 0, 1, 0)  # due 15 Oct, still in progress
    assert oct_.total == Counts(3, 1, 1, 1)
    assert nov.counts[housing] == Counts(1, 0, 0, 0)
    assert nov.counts[probation] == Counts(1, 0, 1, 1)
    assert nov.total == Counts(2, 0, 1, 1)
    assert police not in sep.counts and police not in oct_.counts and police not in nov.counts
    whole = result.whole_range
    assert whole is not None
    assert whole.counts[housing] == Counts(2, 1, 0, 2)
    assert whole.counts[probation] == Counts(2, 0, 1, 1)
    assert whole.total == Counts(4, 1, 1, 3)
    # August only: the police action and contact.
    august = agency_contribution(
        actor=actor("coordinator"),
        first_month=dt.date(2026, 8, 1),
        last_month=dt.date(2026, 8, 1),
        today=TODAY,
    )
    assert august.months[0].counts[police] == Counts(1, 1, 0, 1)
    assert august.months[0].counts[housing] == Counts(1, 0, 0, 0)


def test_default_is_the_last_six_months(case: Any, actor: Any) -> None:
    result = agency_contribution(actor=actor("analyst"), today=TODAY)
    assert result.months[0].start == dt.date(2026, 6, 1)
    assert result.months[-1].start == NOV
    assert len(result.months) == 6


def test_only_coordinators_and_area_analysts(case: Any, actor: Any) -> None:
    agency_contribution(actor=actor("coordinator"), today=TODAY)
    agency_contribution(actor=actor("analyst"), today=TODAY)
    for username in (
        "police.officer",
        "probation.om",
        "housing.worker",
        "drug.worker",
        "vcs.mentor",
        "dpo",
        "admin",
    ):
        with pytest.raises(AccessDenied):
            agency_contribution(actor=actor(username), today=TODAY)


def test_csv_rows_have_month_and_whole_range_totals(case: Any, actor: Any) -> None:
    result = agency_contribution(
        actor=actor("coordinator"), first_month=SEP, last_month=NOV, today=TODAY
    )
    rows = csv_rows(result)
    assert rows[0][:2] == ["period", "agency"]
    assert ["2026-10", "All agencies", 3, 1, 1, 1] in rows
    assert ["2026-09 to 2026-11", "Harbour Housing Association", 2, 1, 0, 2] in rows


def test_page_and_csv_download(case: Any, client_for: Any) -> None:
    client = client_for("coordinator")
    url = reverse("caseloads:contribution")
    page = client.get(url, {"first": "2026-09", "last": "2026-11"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "September 2026" in html and "Whole period" in html
    assert "Harbour Housing Association" in html
    base = Agency.objects.get(code="harbour-housing")
    Agency.objects.create(
        partnership=base.partnership,
        agency_type=base.agency_type,
        code="evil",
        name="=cmd|' /C calc'!A0",
    )
    download = client.get(url, {"first": "2026-09", "last": "2026-11", "format": "csv"})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "agency-contribution-2026-09-to-2026-11.csv" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert ["2026-10", "All agencies", "3", "1", "1", "1"] in rows
    evil = [r for r in rows if "cmd" in r[1]]
    assert evil and all(r[1].startswith("'=") for r in evil)
    assert AuditEvent.objects.filter(event_type="contribution.exported").count() == 1
    # No person detail anywhere.
    assert "Person" not in download.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"first": "September"}, "Enter a month as YYYY-MM"),
        ({"first": "2026-13"}, "Enter a month as YYYY-MM"),
        ({"first": "2026-10", "last": "2026-09"}, "must be the same as or after"),
        ({"first": "2020-01", "last": "2026-01"}, "at most 36 months"),
        ({"last": "2099-01"}, "this month"),
    ],
)
def test_bad_months_are_field_errors(
    case: Any, client_for: Any, query: dict[str, str], message: str
) -> None:
    page = client_for("coordinator").get(reverse("caseloads:contribution"), query)
    assert page.status_code == 400
    html = page.content.decode()
    assert "There is a problem" in html and message in html


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("coordinator", 200),
        ("analyst", 200),
        ("police.officer", 403),
        ("probation.om", 403),
        ("housing.worker", 403),
        ("drug.worker", 403),
        ("vcs.mentor", 403),
        ("dpo", 403),
        ("admin", 403),
    ],
)
def test_page_permissions(client_for: Any, username: str, status: int) -> None:
    assert client_for(username).get(reverse("caseloads:contribution")).status_code == status


def test_signed_out_is_sent_to_sign_in(client: Any) -> None:
    response = client.get(reverse("caseloads:contribution"))
    assert response.status_code == 302 and "next=" in response["Location"]
