"""The data-protection officer's tools: audit search and export, "who has looked at this
record", the unusual-access report. Only DPOs and administrators; every read is audited."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from openiom.audit import unusual
from openiom.audit.models import AuditEvent
from openiom.audit.services import record
from openiom.partnership.models import Agency
from openiom.people.models import Involvement
from openiom.people.selectors import view_person
from tests.cohort.conftest import PANEL_DAY
from tests.people.builders import events
from tests.web.helpers import assert_csp_safe

ALL = [
    "police.officer",
    "probation.om",
    "coordinator",
    "housing.worker",
    "drug.worker",
    "vcs.mentor",
    "analyst",
    "dpo",
    "admin",
]
READERS = {"dpo", "admin"}
TODAY = timezone.localdate()


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


@contextlib.contextmanager
def on(day: dt.date) -> Iterator[None]:
    """Events recorded inside happen at noon on that day."""
    with mock.patch("openiom.audit.services.timezone.now", return_value=noon(day)):
        yield


def viewed(actor: Any, person_id: int, day: dt.date, times: int = 1) -> None:
    """`times` views of the person's record on that day, as view_person records them."""
    with on(day):
        for _ in range(times):
            record(
                "person.consulted",
                actor=actor,
                person_id=person_id,
                context={"person": f"person {person_id}"},
                details={"sections": ["identity"]},
            )


def signed_in(personas: dict[str, Any], username: str) -> Client:
    client = Client()
    client.force_login(personas[username])
    return client


def csv_rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- Permissions ------------------------------------------------------------------------------


def _pages(person_id: int) -> list[tuple[str, dict[str, str]]]:
    viewers = reverse("audit:viewers", args=[person_id])
    unusual_page = reverse("audit:unusual_access")
    return [
        (reverse("audit:log"), {}),
        (reverse("audit:log"), {"format": "csv"}),
        (viewers, {}),
        (viewers, {"format": "csv"}),
        (unusual_page, {}),
        (unusual_page, {"format": "csv"}),
    ]


@pytest.mark.parametrize("username", ALL)
def test_only_dpos_and_administrators_reach_the_pages(personas, make_person, username):
    person = make_person()
    client = signed_in(personas, username)
    for url, params in _pages(person.pk):
        before = AuditEvent.objects.filter(event_type__startswith="audit.").count()
        response = client.get(url, params)
        if username in READERS:
            assert response.status_code == 200, (url, params)
            assert AuditEvent.objects.filter(event_type__startswith="audit.").count() == before + 1
        else:
            assert response.status_code == 403, (url, params)
            denied = AuditEvent.objects.filter(event_type="access.denied").latest("id")
            assert denied.actor_username == username
            assert denied.details["action"] == "view audit"
            # Nothing of the trail was read, so no reading is recorded.
            assert AuditEvent.objects.filter(event_type__startswith="audit.").count() == before


@pytest.mark.parametrize("username", ALL)
def test_only_dpos_and_administrators_reach_the_api(as_token, make_person, username):
    person = make_person()
    client = as_token(username)
    urls = [
        ("/api/audit/events", {"agency": "wessex-police"}),
        (f"/api/audit/people/{person.pk}/viewers", {}),
        ("/api/audit/unusual-access", {"date_from": "2026-03-01", "date_to": "2026-03-07"}),
    ]
    for url, params in urls:
        response = client.get(url, params)
        expected = 200 if username in READERS else 403
        assert response.status_code == expected, (url, response.content)
        if expected == 403:
            assert response.json()["detail"].startswith("You cannot view audit")


def test_a_signed_out_visitor_is_sent_to_sign_in(client, db, make_person):
    for url, params in _pages(make_person().pk):
        response = client.get(url, params)
        assert response.status_code == 302
        assert "sign-in" in response["Location"] or "login" in response["Location"]


# --- Audit search and export ------------------------------------------------------------------


class TestSearch:
    def test_filter_by_agency_user_person_event_and_period(self, personas, actor, make_person):
        person, other = make_person(), make_person()
        viewed(actor("police.officer"), person.pk, TODAY - dt.timedelta(days=3))
        viewed(actor("housing.worker"), person.pk, TODAY - dt.timedelta(days=3))
        viewed(actor("housing.worker"), other.pk, TODAY - dt.timedelta(days=20))
        housing = Agency.objects.get(code="harbour-housing")
        client = signed_in(personas, "dpo")

        by_agency = client.get(reverse("audit:log"), {"agency": housing.pk})
        assert by_agency.status_code == 200
        shown = by_agency.context["events"]
        assert shown and {e.actor_agency_id for e in shown} == {housing.pk}

        last_week = {
            "agency": housing.pk,
            "event_type": "person.consulted",
            "date_from": f"{TODAY - dt.timedelta(days=7):%d/%m/%Y}",
            "date_to": f"{TODAY:%d/%m/%Y}",
        }
        [event] = client.get(reverse("audit:log"), last_week).context["events"]
        assert (event.actor_username, event.person_id) == ("housing.worker", person.pk)

        by_user_and_person = client.get(
            reverse("audit:log"), {"user": "police.officer", "person": person.pk}
        ).context["events"]
        assert [(e.actor_username, e.person_id) for e in by_user_and_person] == [
            ("police.officer", person.pk)
        ]
        consulted = events("audit.consulted")
        assert consulted[-1].details["filters"] == {
            "person_id": person.pk,
            "username": "police.officer",
        }
        assert consulted[0].details["filters"]["agency_id"] == housing.pk

    def test_an_unknown_agency_is_a_field_error(self, personas):
        response = signed_in(personas, "dpo").get(reverse("audit:log"), {"agency": "999999"})
        assert response.status_code == 400
        assert "Select an agency from the list" in response.content.decode()
        assert events("audit.consulted") == []

    def test_the_export_has_every_matching_event_and_is_formula_safe(self, personas, actor):
        # A username typed at the sign-in page is stored as given; in the CSV it must not run.
        record(
            "auth.sign_in_failed",
            actor=None,
            username='=HYPERLINK("http://x")',
            context={"username": "=HYPERLINK"},
        )
        record("auth.sign_in_failed", actor=None, username="@SUM(A1)", context={"username": "x"})
        response = signed_in(personas, "dpo").get(
            reverse("audit:log"), {"event_type": "auth.sign_in_failed", "format": "csv"}
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        header, *rows = csv_rows(response)
        assert header[:3] == ["Event ID", "Time (UK)", "Event type"]
        users = sorted(r[header.index("Username")] for r in rows)
        assert users == ['\'=HYPERLINK("http://x")', "'@SUM(A1)"]
        assert all(not cell.startswith(("=", "+", "@")) for r in rows for cell in r)
        [exported] = events("audit.exported")
        assert exported.details["rows"] == 2
        assert exported.details["filters"] == {"event_type": "auth.sign_in_failed"}
        assert exported.category == "disclosure"

    def test_the_log_page_links_to_who_has_looked_at_a_record(self, personas, actor, make_person):
        person = make_person()
        view_person(actor=actor("police.officer"), person_id=person.pk)
        response = signed_in(personas, "dpo").get(reverse("audit:log"), {"person": person.pk})
        body = assert_csp_safe(response)
        assert reverse("audit:viewers", args=[person.pk]) in body
        assert reverse("audit:unusual_access") in body
        assert "format=csv" in body


# --- Who has looked at this record --------------------------------------------------------------


class TestViewers:
    def test_every_viewer_with_role_agency_and_when(self, personas, actor, make_person, involve):
        person, other = make_person(), make_person()
        involve(person, "housing.worker")
        view_person(actor=actor("police.officer"), person_id=person.pk)
        view_person(actor=actor("police.officer"), person_id=person.pk)
        view_person(actor=actor("housing.worker"), person_id=person.pk)
        view_person(actor=actor("probation.om"), person_id=other.pk)  # someone else's record
        record("audit.consulted", actor=actor("dpo"), person_id=person.pk)  # not a view of them

        response = signed_in(personas, "dpo").get(reverse("audit:viewers", args=[person.pk]))

        assert response.status_code == 200
        body = assert_csp_safe(response)
        viewers = {
            (v.username, v.role, v.agency_name, v.views) for v in response.context["viewers"]
        }
        assert viewers == {
            ("police.officer", "offender_manager", "Wessex Police", 2),
            ("housing.worker", "partner_worker", "Harbour Housing Association", 1),
        }
        assert len(response.context["events"]) == 3
        assert "2 users viewed this record" in body
        assert "Harbour Housing Association" in body and "Partner worker" in body
        assert str(person) in body  # the DPO may see who it is
        [read] = events("audit.viewers_consulted")
        assert read.person_id == person.pk and read.actor_username == "dpo"

    def test_last_week_only(self, personas, actor, make_person):
        person = make_person()
        viewed(actor("police.officer"), person.pk, TODAY - dt.timedelta(days=30))
        viewed(actor("analyst"), person.pk, TODAY - dt.timedelta(days=2), times=3)
        period = {
            "date_from": f"{TODAY - dt.timedelta(days=7):%d/%m/%Y}",
            "date_to": f"{TODAY:%d/%m/%Y}",
        }
        response = signed_in(personas, "dpo").get(
            reverse("audit:viewers", args=[person.pk]), period
        )
        [viewer] = response.context["viewers"]
        assert (viewer.username, viewer.views) == ("analyst", 3)
        assert viewer.last_viewed == noon(TODAY - dt.timedelta(days=2))

    def test_reading_who_viewed_is_not_itself_a_view_of_the_person(self, personas, make_person):
        person = make_person()
        client = signed_in(personas, "dpo")
        client.get(reverse("audit:viewers", args=[person.pk]))
        response = client.get(reverse("audit:viewers", args=[person.pk]))
        assert response.context["viewers"] == []
        assert "Nobody viewed this record" in response.content.decode()

    def test_the_administrator_sees_the_viewers_without_the_record(
        self, personas, actor, make_person
    ):
        person = make_person(first_names="Secret", surname="Name")
        view_person(actor=actor("police.officer"), person_id=person.pk)
        response = signed_in(personas, "admin").get(reverse("audit:viewers", args=[person.pk]))
        body = response.content.decode()
        assert response.status_code == 200
        # The heading names the person only to readers who may see them (event summaries, as
        # on the audit log, keep the wording of the time).
        assert f"Who has looked at person {person.pk}</h1>" in body
        assert "Open the record" not in body
        assert [v.username for v in response.context["viewers"]] == ["police.officer"]

    def test_a_bad_date_is_a_field_error(self, personas, make_person):
        person = make_person()
        client = signed_in(personas, "dpo")
        url = reverse("audit:viewers", args=[person.pk])
        response = client.get(url, {"date_from": "31/02/2026"})
        assert response.status_code == 400
        assert "‘From’ date must be a real date" in response.content.decode()
        response = client.get(url, {"date_from": "10/03/2026", "date_to": "01/03/2026"})
        assert response.status_code == 400
        assert "‘To’ date must be the same as or after" in response.content.decode()
        assert events("audit.viewers_consulted") == []

    def test_the_export_lists_each_view_and_is_audited(self, personas, actor, make_person):
        person = make_person()
        viewed(actor("police.officer"), person.pk, TODAY - dt.timedelta(days=1), times=2)
        response = signed_in(personas, "dpo").get(
            reverse("audit:viewers", args=[person.pk]), {"format": "csv"}
        )
        header, *rows = csv_rows(response)
        assert header[:4] == ["Time (UK)", "Username", "Role", "Agency"]
        assert [r[1:4] for r in rows] == [
            ["police.officer", "offender_manager", "Wessex Police"]
        ] * 2
        [exported] = events("audit.viewers_exported")
        assert exported.person_id == person.pk

    def test_the_api_lists_the_viewers(self, as_token, actor, make_person):
        person = make_person()
        viewed(actor("police.officer"), person.pk, TODAY - dt.timedelta(days=2))
        viewed(actor("police.officer"), person.pk, TODAY - dt.timedelta(days=40))
        body = (
            as_token("dpo")
            .get(
                f"/api/audit/people/{person.pk}/viewers",
                {"date_from": str(TODAY - dt.timedelta(days=7))},
            )
            .json()
        )
        assert body["count"] == 1
        [viewer] = body["viewers"]
        assert viewer["username"] == "police.officer" and viewer["agency"] == "Wessex Police"
        assert body["views"][0]["actor_agency"] == "wessex-police"
        [read] = events("audit.viewers_consulted")
        assert read.person_id == person.pk


# --- Unusual access ----------------------------------------------------------------------------

START = dt.date(2026, 3, 2)  # a Monday; the report covers 2 to 8 March 2026
END = START + dt.timedelta(days=6)


def baseline(actor: Any, person_id: int, per_day: int) -> None:
    """`per_day` views on every one of the 56 days before START."""
    for i in range(1, unusual.BASELINE_DAYS + 1):
        viewed(actor, person_id, START - dt.timedelta(days=i), times=per_day)


class TestUnusualVolume:
    def test_far_above_their_usual_is_flagged_with_the_reason(self, actor, make_person):
        person = make_person()
        baseline(actor("police.officer"), person.pk, per_day=4)
        viewed(actor("police.officer"), person.pk, START + dt.timedelta(days=2), times=20)
        viewed(actor("police.officer"), person.pk, START + dt.timedelta(days=3), times=12)

        report = unusual.unusual_access(date_from=START, date_to=END)

        [flag] = report.of_kind(unusual.VOLUME)
        assert (flag.username, flag.views, flag.median) == ("police.officer", 20, 4.0)
        assert flag.first_day == START + dt.timedelta(days=2)
        assert flag.explanation == (
            "On 4 March 2026 police.officer viewed people's records 20 times. That is more than "
            "3 times their usual (4 a day: the median over the 8 weeks from 5 January 2026 to "
            "1 March 2026, counting days without views as 0) and at least 20 views."
        )

    def test_busy_but_normal_for_them_is_not_flagged(self, actor, make_person):
        person = make_person()
        baseline(actor("analyst"), person.pk, per_day=10)
        viewed(actor("analyst"), person.pk, START, times=30)  # 3x, not more than 3x
        assert unusual.unusual_access(date_from=START, date_to=END).of_kind(unusual.VOLUME) == []

    def test_a_new_user_needs_at_least_twenty_views(self, actor, make_person):
        person = make_person()
        viewed(actor("probation.om"), person.pk, START, times=19)
        assert unusual.unusual_access(date_from=START, date_to=END).of_kind(unusual.VOLUME) == []
        viewed(actor("probation.om"), person.pk, START)
        [flag] = unusual.unusual_access(date_from=START, date_to=END).of_kind(unusual.VOLUME)
        assert flag.views == 20 and flag.median == 0
        assert "their usual (none on most days" in flag.explanation


class TestOutsideCaseload:
    def test_a_partner_view_without_their_agency_involved_is_flagged(
        self, actor, make_person, personas
    ):
        housed, stranger = make_person(), make_person()
        harbour = Agency.objects.get(code="harbour-housing")
        Involvement.objects.create(
            person=housed, agency=harbour, start_date=START - dt.timedelta(days=30)
        )
        # Housing only started working with the stranger after the view.
        Involvement.objects.create(
            person=stranger, agency=harbour, start_date=START + dt.timedelta(days=4)
        )
        viewed(actor("housing.worker"), housed.pk, START + dt.timedelta(days=1), times=2)
        viewed(actor("housing.worker"), stranger.pk, START + dt.timedelta(days=1), times=2)
        viewed(actor("housing.worker"), stranger.pk, START + dt.timedelta(days=2))
        viewed(actor("housing.worker"), stranger.pk, START + dt.timedelta(days=5))  # involved now
        viewed(actor("police.officer"), stranger.pk, START)  # police cover the whole area

        [flag] = unusual.unusual_access(date_from=START, date_to=END).of_kind(
            unusual.OUTSIDE_CASELOAD
        )

        assert (flag.username, flag.person_id, flag.views) == ("housing.worker", stranger.pk, 3)
        assert flag.explanation == (
            f"housing.worker (Partner worker at Harbour Housing Association) viewed the record "
            f"of person {stranger.pk} 3 times between 3 March 2026 and 4 March 2026, although "
            "they were not the person's lead worker, Harbour Housing Association was not working "
            "with the person at the time, and their role is not one that covers the whole area "
            "(coordinators, offender managers and analysts at police and probation)."
        )

    def test_an_ended_involvement_no_longer_covers_views(self, actor, make_person):
        person = make_person()
        Involvement.objects.create(
            person=person,
            agency=Agency.objects.get(code="turning-point-wessex"),
            start_date=START - dt.timedelta(days=100),
            end_date=START,
        )
        viewed(actor("drug.worker"), person.pk, START)  # last day of the work: fine
        viewed(actor("drug.worker"), person.pk, START + dt.timedelta(days=1))
        [flag] = unusual.unusual_access(date_from=START, date_to=END).of_kind(
            unusual.OUTSIDE_CASELOAD
        )
        assert flag.views == 1 and flag.first_day == START + dt.timedelta(days=1)

    def test_the_lead_worker_is_covered_while_the_registration_is_current(
        self, actor, personas, listed_referral, adopt
    ):
        drug = Agency.objects.get(code="turning-point-wessex")
        registration = adopt(listed_referral, lead_agency=drug, lead_worker=personas["drug.worker"])
        person = registration.person
        # Only the lead-worker rule can cover these views.
        Involvement.objects.filter(person=person, agency=drug).delete()
        before, during = PANEL_DAY - dt.timedelta(days=1), PANEL_DAY + dt.timedelta(days=1)
        viewed(actor("drug.worker"), person.pk, before)
        viewed(actor("drug.worker"), person.pk, during, times=4)

        report = unusual.unusual_access(date_from=before, date_to=during)

        [flag] = report.of_kind(unusual.OUTSIDE_CASELOAD)
        assert (flag.username, flag.views, flag.first_day) == ("drug.worker", 1, before)

    def test_a_dpo_consulting_a_record_is_shown_too(self, actor, make_person):
        # DPOs may consult any record for rights requests; the report still lists it.
        person = make_person()
        view_person(actor=actor("dpo"), person_id=person.pk)
        [flag] = unusual.unusual_access(date_from=TODAY, date_to=TODAY).of_kind(
            unusual.OUTSIDE_CASELOAD
        )
        assert (flag.username, flag.person_id) == ("dpo", person.pk)
        assert "Data-protection officer at Wessex County Council" in flag.explanation


class TestUnusualAccessPage:
    def test_the_report_page_explains_each_flag_and_is_audited(self, personas, actor, make_person):
        person = make_person()
        viewed(actor("vcs.mentor"), person.pk, START + dt.timedelta(days=1), times=21)
        client = signed_in(personas, "dpo")
        response = client.get(
            reverse("audit:unusual_access"), {"date_from": "02/03/2026", "date_to": "08/03/2026"}
        )
        body = assert_csp_safe(response)
        assert response.status_code == 200
        assert "2 flags from 2 March 2026 to 8 March 2026" in body
        assert "On 3 March 2026 vcs.mentor viewed people&#x27;s records 21 times" in body
        assert f"viewed the record of person {person.pk} 21 times on 3 March 2026" in body
        assert reverse("audit:viewers", args=[person.pk]) in body
        [read] = events("audit.unusual_access_consulted")
        assert read.details["flags"] == 2 and read.details["volume"] == 1
        assert read.summary == (
            "Viewed the unusual-access report for 2 March 2026 to 8 March 2026 (2 flags)"
        )

    def test_the_default_period_is_the_last_seven_days(self, personas):
        response = signed_in(personas, "dpo").get(reverse("audit:unusual_access"))
        report = response.context["report"]
        assert (report.date_from, report.date_to) == (TODAY - dt.timedelta(days=6), TODAY)

    def test_the_export_is_a_formula_safe_spreadsheet(self, personas, make_person):
        from django.contrib.auth import get_user_model

        from openiom.accounts.actor import Actor
        from openiom.accounts.models import Membership

        # Django allows usernames starting with @, + or -: a spreadsheet would run them.
        user = get_user_model().objects.create_user("@SUM(1+1)", password="x")
        membership = Membership.objects.create(
            user=user, agency=Agency.objects.get(code="work-wessex"), role="partner_worker"
        )
        person = make_person()
        viewed(Actor(user=user, membership=membership), person.pk, START)
        response = signed_in(personas, "dpo").get(
            reverse("audit:unusual_access"),
            {"date_from": "02/03/2026", "date_to": "08/03/2026", "format": "csv"},
        )
        assert response.status_code == 200
        header, *rows = csv_rows(response)
        assert header[0] == "Flag" and header[-1] == "Why flagged"
        [row] = rows
        assert row[:2] == ["Outside their caseload", "'@SUM(1+1)"]
        assert row[-1].startswith("'@SUM(1+1) (Partner worker at Work Wessex)")
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)
        [exported] = events("audit.unusual_access_exported")
        assert exported.details["flags"] == 1

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"date_from": "08/03/2026", "date_to": "02/03/2026"}, "‘To’ date must be the same"),
            ({"date_from": "01/01/2024", "date_to": "08/03/2026"}, "366 days or shorter"),
            ({"date_from": "02/03/2026"}, "Enter the ‘To’ date"),
            ({"date_from": "soon", "date_to": "08/03/2026"}, "‘From’ date must be a real date"),
        ],
    )
    def test_a_bad_period_is_a_field_error(self, personas, params, message):
        response = signed_in(personas, "dpo").get(reverse("audit:unusual_access"), params)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert events("audit.unusual_access_consulted") == []

    def test_the_api_gives_the_same_flags(self, as_token, actor, make_person):
        person = make_person()
        viewed(actor("vcs.mentor"), person.pk, START, times=20)
        response = as_token("admin").get(
            "/api/audit/unusual-access", {"date_from": "2026-03-02", "date_to": "2026-03-08"}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["baseline_from"] == "2026-01-05"
        assert sorted(f["kind"] for f in body["flags"]) == ["outside_caseload", "volume"]
        volume = next(f for f in body["flags"] if f["kind"] == "volume")
        assert volume["views"] == 20 and volume["usual_daily_views"] == 0
        assert events("audit.unusual_access_consulted")[0].actor_username == "admin"

    def test_the_api_refuses_a_bad_period(self, as_token):
        client = as_token("dpo")
        response = client.get(
            "/api/audit/unusual-access", {"date_from": "2026-03-08", "date_to": "2026-03-02"}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "date_to"]
        assert client.get("/api/audit/unusual-access").status_code == 422


class TestSearchApi:
    def test_filters_by_agency_user_and_period(self, as_token, actor, make_person):
        person = make_person()
        viewed(actor("housing.worker"), person.pk, TODAY - dt.timedelta(days=2))
        viewed(actor("police.officer"), person.pk, TODAY - dt.timedelta(days=2))
        viewed(actor("housing.worker"), person.pk, TODAY - dt.timedelta(days=20))
        body = (
            as_token("dpo")
            .get(
                "/api/audit/events",
                {
                    "agency": "harbour-housing",
                    "username": "housing.worker",
                    "category": "consultation",
                    "date_from": str(TODAY - dt.timedelta(days=7)),
                    "date_to": str(TODAY),
                },
            )
            .json()
        )
        assert body["count"] == 1
        assert body["results"][0]["actor_agency"] == "harbour-housing"

    def test_an_unknown_agency_is_a_422(self, as_token):
        response = as_token("dpo").get("/api/audit/events", {"agency": "nope"})
        assert response.status_code == 422
        assert "No agency has the code 'nope'" in response.json()["detail"][0]["msg"]
