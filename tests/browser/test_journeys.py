"""End-to-end journeys in a real browser, with axe-core on every page visited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiom.audit.models import AuditEvent
from tests.browser.conftest import Console, check_accessibility
from tests.web.conftest import add_history

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOT = "/tmp/openiom-person-page.png"


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/sign-in")
    check_accessibility(page, "sign in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert "You have signed out" in page.content()
    check_accessibility(page, "signed out")


def test_officer_views_a_person_and_the_dpo_sees_it_in_the_audit_log(
    live_server: Any,
    browser: Any,
    personas: Any,
    password: str,
    make_person: Any,
    offence_code: Any,
    involve: Any,
) -> None:
    person = add_history(
        make_person(first_names="Jason", surname="Smith", date_of_birth=dt.date(1991, 4, 2)),
        offence_code,
    )
    make_person(first_names="Kelly", surname="Smithers")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = Console(page)

    sign_in(page, base, "police.officer", password)
    assert page.url == f"{base}/"
    assert "Offender manager, Wessex Police" in page.content()
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    check_accessibility(page, "home")

    page.get_by_role("link", name="Search people", exact=True).click()
    check_accessibility(page, "search")
    page.get_by_role("button", name="Search").click()  # empty: an error, not a search
    assert "There is a problem" in page.content()
    check_accessibility(page, "search error")
    page.get_by_label("Search people").fill("smith")
    page.get_by_role("button", name="Search").click()
    assert "2 people found" in page.content()
    check_accessibility(page, "search results")

    page.get_by_role("link", name="SMITH, Jason").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Jason SMITH").is_visible()
    assert page.get_by_role("heading", name="Intelligence", exact=True).is_visible()
    assert page.get_by_role("img", name="Offending timeline").is_visible()
    check_accessibility(page, "person page")
    page.screenshot(path=SCREENSHOT, full_page=True)
    sign_out(page)

    sign_in(page, base, "dpo", password)
    page.get_by_role("link", name="Audit log", exact=True).click()
    check_accessibility(page, "audit log")
    page.get_by_label("Person ID", exact=True).fill(str(person.pk))
    page.get_by_label("Event", exact=True).select_option("person.consulted")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    table = page.locator("table.govuk-table")
    assert "1 event concerning person" in page.content()
    assert "police.officer" in table.inner_text()
    assert "Viewed the record of Jason SMITH" in table.inner_text()
    check_accessibility(page, "audit log filtered")
    page.get_by_role("link", name=f"Who has viewed person {person.pk}").first.click()
    page.wait_for_load_state()
    check_accessibility(page, "who has viewed")
    sign_out(page)

    context.close()
    # The only failed request is the deliberately empty search (a 400 with an error summary).
    unexpected = [e for e in console.errors if not e.startswith("400 ") and "of 400" not in e]
    assert unexpected == []
    consulted = AuditEvent.objects.filter(event_type="person.consulted", person_id=person.pk)
    assert [e.actor_username for e in consulted] == ["police.officer"]
    assert AuditEvent.objects.filter(event_type="auth.signed_out").count() == 2


def test_partner_journey_works_without_the_pages_javascript(
    live_server: Any, browser: Any, personas: Any, password: str, make_person: Any, involve: Any
) -> None:
    person = make_person(first_names="Dana", surname="Wells")
    involve(person, "vcs.mentor")
    # Block every script the pages load (they have no inline ones), rather than switching
    # JavaScript off, so that axe-core can still be run in the page.
    context = browser.new_context()
    context.route("**/*.js", lambda route: route.abort())
    page = context.new_page()
    sign_in(page, live_server.url, "vcs.mentor", password)
    page.get_by_role("link", name="Search people", exact=True).click()
    page.get_by_label("Search people").fill("wells")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="WELLS, Dana").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Dana WELLS").is_visible()
    assert not page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    assert "ntelligence" not in page.content()
    check_accessibility(page, "partner's person page without JavaScript")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert "You have signed out" in page.content()
    context.close()
