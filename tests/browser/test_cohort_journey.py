"""The IOM cohort lifecycle in a real browser, with axe-core on every page visited:

a housing worker refers a person their agency works with → the coordinator lists the referral →
the panel adopts into the Fixed cohort with probation as lead → RAG red → three months of green
(backdated) → openiom suggests exit → exit plan → de-registration; every step audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openiom.audit.models import AuditEvent
from openiom.cohort.models import RagAssessment, Referral, Registration
from openiom.offending.models import Offence
from tests.browser.conftest import Console, check_accessibility
from tests.browser.test_journeys import sign_in, sign_out

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOT = "/tmp/openiom-registration-page.png"


def d(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def menu(page: Any, name: str, *, exact: bool = False) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=name, exact=exact).click()


def visit(page: Any, name: str) -> None:
    page.wait_for_load_state()
    check_accessibility(page, name)


def assess(page: Any, on: dt.date, status: str, *, kept: int, missed: int) -> None:
    page.get_by_role("link", name="Assess RAG").click()
    visit(page, f"assess RAG {on}")
    page.get_by_label("Assessed on").fill(d(on))
    page.get_by_label("Appointments kept").fill(str(kept))
    page.get_by_label("Appointments missed").fill(str(missed))
    page.locator("#id_stable_accommodation").check()  # "Yes"
    page.get_by_role("button", name="Update the suggestion").click()
    visit(page, f"RAG suggestion {on}")
    assert f"Suggested for {on:%-d %B %Y}" in page.content()
    page.get_by_label(status, exact=True).check()
    page.get_by_role("button", name="Save RAG status").click()
    visit(page, f"registration after RAG {on}")
    assert f"RAG status {status.lower()} recorded" in page.content()


def test_referral_to_deregistration(
    live_server: Any,
    browser: Any,
    personas: Any,
    password: str,
    make_person: Any,
    offence_code: Any,
    involve: Any,
) -> None:
    today = timezone.localdate()
    panel_day = today - dt.timedelta(days=130)
    person = make_person(first_names="Dean", surname="Walsh", date_of_birth=dt.date(1994, 5, 17))
    Offence.objects.create(
        person=person,
        offence_code=offence_code("028/01"),
        offence_date=panel_day - dt.timedelta(days=60),
        disposal_type="community_order",
        disposal_date=panel_day - dt.timedelta(days=20),
    )
    involve(person, "housing.worker")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = Console(page)

    # The housing worker refers the person their agency works with.
    sign_in(page, base, "housing.worker", password)
    page.get_by_role("link", name="Search people", exact=True).click()
    page.get_by_label("Search people").fill("walsh")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="WALSH, Dean").click()
    visit(page, "person page before referral")
    assert page.get_by_role("heading", name="Integrated Offender Management").is_visible()
    page.get_by_role("link", name="Refer this person").click()
    visit(page, "referral form")
    page.get_by_label("Why should the panel consider this person?").fill(
        "Repeat burglaries; at risk of losing his tenancy"
    )
    page.get_by_label("Evidence (optional)").fill("Two burglaries this year; rent arrears")
    page.get_by_role("button", name="Submit referral").click()
    visit(page, "referral submitted")
    assert "was submitted to the IOM coordinator" in page.content()
    menu(page, "Referrals", exact=True)
    visit(page, "my agency's referrals")
    assert "WALSH, Dean" in page.content()
    sign_out(page)

    # The coordinator lists it for the panel and records the panel's decision.
    sign_in(page, base, "coordinator", password)
    menu(page, "Referrals", exact=True)
    visit(page, "referral queue")
    referral = Referral.objects.get(person=person)
    page.get_by_role("link", name=f"Referral {referral.pk} of Dean WALSH").click()
    visit(page, "referral detail")
    page.get_by_role("link", name="List for panel").click()
    visit(page, "list for panel")
    page.get_by_label("Date of the panel").fill(d(panel_day))
    page.get_by_role("button", name="List for panel").click()
    visit(page, "referral listed")
    page.get_by_role("link", name="Record the panel's decision").click()
    visit(page, "panel decision")
    assert "Neighbourhood crime" in page.content()
    page.get_by_label("Adopt", exact=True).check()
    page.get_by_label("Date of the panel").fill(d(panel_day))
    page.get_by_label("Probation Service – Wessex", exact=True).check()
    page.get_by_label("Wessex Police", exact=True).check()
    page.get_by_label("Harbour Housing Association", exact=True).check()
    page.get_by_label("The panel's rationale").fill("Prolific burglar; housing at risk")
    page.get_by_label("Cohort", exact=True).select_option(label="Fixed cohort")
    page.get_by_label("Lead agency").select_option(label="Probation Service – Wessex")
    page.get_by_label("Lead worker").select_option(label="Owen Marsh – Probation Service – Wessex")
    page.get_by_role("button", name="Record decision").click()
    visit(page, "registration after adoption")
    assert page.get_by_role("heading", name="Fixed cohort registration").is_visible()
    registration = Registration.objects.get(person=person)
    assert registration.lead_worker == personas["probation.om"]

    # RAG red, then three months of green recorded afterwards (backdated).
    assess(page, panel_day + dt.timedelta(days=1), "Red", kept=1, missed=2)
    for days in (10, 40, 70, 104):
        assess(page, panel_day + dt.timedelta(days=days), "Green", kept=4, missed=0)
    assert "exit plan is recorded" in page.content() or "no exit plan" in page.content()

    page.get_by_role("link", name="Record exit plan").click()
    visit(page, "exit plan")
    page.get_by_label("Exit plan").fill("Housing support and mentoring continue for 6 months")
    page.get_by_label("Date the plan was agreed").fill(d(panel_day + dt.timedelta(days=105)))
    page.get_by_role("button", name="Save exit plan").click()
    visit(page, "registration with exit suggestion")
    assert "openiom suggests de-registration" in page.content()
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.get_by_role("link", name="De-register").click()
    visit(page, "de-registration form")
    assert page.get_by_label("Green for the set period with an exit plan").is_checked()
    page.get_by_label("Note").fill("Green since the spring; exit plan in place")
    page.get_by_role("button", name="De-register").click()
    visit(page, "registration after de-registration")
    assert "was de-registered" in page.content()

    menu(page, "Cohort register")
    visit(page, "cohort register")
    page.get_by_label("Registration status").select_option(label="All, including de-registered")
    page.get_by_role("button", name="Apply filters").click()
    visit(page, "cohort register filtered")
    assert "WALSH, Dean" in page.content()
    page.get_by_role("link", name="Registered").click()  # sort by a column
    visit(page, "cohort register sorted")
    page.get_by_role("link", name="Cohort definitions and policies").click()
    visit(page, "policies")
    sign_out(page)

    # The referrer sees the outcome.
    sign_in(page, base, "housing.worker", password)
    menu(page, "Messages")
    visit(page, "messages")
    assert "was adopted at the panel" in page.content()
    sign_out(page)
    context.close()

    assert console.errors == []
    registration.refresh_from_db()
    assert registration.deregistration_reason == "green_exit_plan"
    assert [a.status for a in RagAssessment.objects.order_by("assessed_on")] == [
        "red",
        "green",
        "green",
        "green",
        "green",
    ]
    steps = {
        "referral.created": "housing.worker",
        "referral.submitted": "housing.worker",
        "referral.listed": "coordinator",
        "panel.decision_recorded": "coordinator",
        "registration.started": "coordinator",
        "referral.decided": "coordinator",
        "exit_plan.recorded": "coordinator",
        "registration.deregistered": "coordinator",
    }
    for event_type, username in steps.items():
        events = AuditEvent.objects.filter(event_type=event_type, person_id=person.pk)
        assert [e.actor_username for e in events] == [username], event_type
    assert AuditEvent.objects.filter(event_type="rag.assessed", person_id=person.pk).count() == 5
    assert AuditEvent.objects.filter(
        event_type="cohort.history_consulted", actor_username="coordinator"
    ).exists()
    assert not AuditEvent.objects.filter(event_type="access.denied").exists()
