"""The caseload, contribution and alerts pages in a real browser, checked with axe-core."""

from __future__ import annotations

from typing import Any

import pytest

from openiom.casework.alerts import raise_alerts
from tests.browser.conftest import (  # noqa: F401  (browser, govuk_assets: fixtures)
    Console,
    browser,
    check_accessibility,
    govuk_assets,
)
from tests.browser.test_journeys import sign_in
from tests.caseloads.test_caseloads import world  # noqa: F401  (fixture)
from tests.caseloads.world import ON

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_caseload_contribution_and_alerts_pages_are_accessible(
    live_server: Any,
    browser: Any,  # noqa: F811
    password: str,
    world: Any,  # noqa: F811
) -> None:
    raise_alerts(on=ON, custody=False)
    base = live_server.url
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    console = Console(page)
    sign_in(page, base, "coordinator", password)

    page.goto(f"{base}/caseloads/")
    assert "Whole cohort" in page.content()
    check_accessibility(page, "caseload")
    page.get_by_role("link", name="Whole cohort").click()
    page.get_by_label("Registration status").select_option("in_custody")
    page.get_by_label("Only people with overdue work").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert "1 person, 1 with overdue work" in page.content()
    check_accessibility(page, "caseload filtered")
    page.goto(f"{base}/caseloads/?scope=cohort&rag=purple")
    assert "There is a problem" in page.content()
    check_accessibility(page, "caseload with errors")

    page.goto(f"{base}/caseloads/contribution/?first=2026-09&last=2026-11")
    assert "Whole period" in page.content()
    check_accessibility(page, "contribution")
    page.goto(f"{base}/caseloads/contribution/?first=nonsense")
    check_accessibility(page, "contribution with errors")

    page.goto(f"{base}/casework/alerts/")
    assert "Tasks to do" in page.content()
    check_accessibility(page, "alerts and tasks")
    page.get_by_role("button", name="Mark as done").first.click()
    page.wait_for_load_state()
    assert "Task marked as done" in page.content()
    check_accessibility(page, "alerts after marking done")
    assert [e for e in console.errors if "400" not in e] == []
