"""The data-protection officer in a real browser, with axe-core on every page (issue #7):

finds who viewed a person last week, opens the unusual-access report, reviews a flag in the
audit log and downloads the report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from openiom.audit.models import AuditEvent
from openiom.audit.services import record
from tests.browser.conftest import Console, check_accessibility
from tests.browser.test_journeys import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_dpo_finds_who_viewed_a_person_and_reviews_an_unusual_access_flag(
    live_server: Any, browser: Any, personas: Any, password: str, make_person: Any, actor: Any
) -> None:
    person = make_person(first_names="Jamie")
    today = timezone.localdate()
    three_days_ago = timezone.make_aware(
        dt.datetime.combine(today - dt.timedelta(days=3), dt.time(10, 30))
    )
    with mock.patch("openiom.audit.services.timezone.now", return_value=three_days_ago):
        for _ in range(22):  # a mentor with no history viewing one record 22 times in a day
            record(
                "person.consulted",
                actor=actor("vcs.mentor"),
                person_id=person.pk,
                context={"person": str(person)},
            )
        record(
            "person.consulted",
            actor=actor("police.officer"),
            person_id=person.pk,
            context={"person": str(person)},
        )

    base = live_server.url
    page = browser.new_page()
    console = Console(page)
    sign_in(page, base, "dpo", password)

    page.goto(f"{base}/audit/")
    check_accessibility(page, "audit log")
    page.get_by_label("Person ID").fill(str(person.pk))
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Who has looked at this record").click()
    page.wait_for_load_state()
    check_accessibility(page, "who has looked")
    page.get_by_label("From date").fill(f"{today - dt.timedelta(days=7):%d/%m/%Y}")
    page.get_by_label("To date").fill(f"{today:%d/%m/%Y}")
    page.get_by_role("button", name="Show views").click()
    page.wait_for_load_state()
    check_accessibility(page, "who has looked, last week")
    viewers = page.locator("table").first.inner_text()
    assert "vcs.mentor" in viewers and "Second Chance Mentoring" in viewers
    assert "police.officer" in viewers and "Wessex Police" in viewers

    page.goto(f"{base}/audit/unusual-access/")
    check_accessibility(page, "unusual access")
    body = page.content()
    assert "Far above their usual (1)" in body
    assert "Outside their caseload (1)" in body
    page.get_by_role("link", name="Review vcs.mentor's views on").click()
    page.wait_for_load_state()
    check_accessibility(page, "flag reviewed in the audit log")
    assert "22 events" in page.content()

    page.goto(f"{base}/audit/unusual-access/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report as a spreadsheet (CSV)").click()
    assert download.value.suggested_filename.startswith("unusual-access-")
    assert AuditEvent.objects.filter(event_type="audit.unusual_access_exported").count() == 1
    assert console.errors == []
