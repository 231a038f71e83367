"""Multi-agency case management in a real browser, with axe-core on every page visited (issue #5):

the probation offender manager writes a plan with actions for police, housing and the drug service
and refers the person to housing → the housing worker sees only the person's basics, their own
action and the referral, never intelligence → the drug worker records a negative test → an
imported arrest raises an alert for the lead worker → the coordinator sees each agency's
contribution.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openiom.casework.models import Alert, AlertKind, Contact
from openiom.imports.services import ExtractFile, import_extract
from openiom.offending.models import IntelligenceItem
from openiom.partnership.models import Agency
from openiom.plans.models import ManagementPlan, PlanStatus
from openiom.providers.models import ProviderReferral
from tests.browser.conftest import Console, check_accessibility
from tests.browser.test_journeys import sign_in, sign_out
from tests.cohort.conftest import (  # noqa: F401  (fixtures)
    adopt,
    burglar,
    listed_referral,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

INTEL = "ZEBRAINTEL seen with known burglary associates at the Anchor pub"
POLICE_ACTION = "Curfew checks at the bail address"
HOUSING_ACTION = "Find a supported tenancy"
DRUG_ACTION = "Start an opiate substitution script"


def visit(page: Any, name: str) -> None:
    page.wait_for_load_state()
    check_accessibility(page, name)


def menu(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=name, exact=True).click()
    visit(page, name)


def add_action(
    page: Any,
    *,
    agency: str,
    kind: str,
    description: str,
    due: dt.date,
    worker: str | None = None,
    additional: bool = True,
) -> None:
    page.get_by_role("link", name="Add an action").click()
    visit(page, f"add action for {agency}")
    page.get_by_label("Agency responsible").select_option(label=agency)
    if worker:
        page.get_by_label("Named worker").select_option(label=worker)
    page.get_by_label("Type of action").select_option(label=kind)
    page.get_by_label("What will be done").fill(description)
    page.get_by_label("Due date").fill(due.strftime("%d/%m/%Y"))
    page.get_by_label("Yes" if additional else "No", exact=True).check()
    page.get_by_role("button", name="Add action").click()
    visit(page, f"plan after adding the {agency} action")
    assert description in page.content()


def test_plan_referral_contact_alert_and_contribution(
    live_server: Any,
    browser: Any,
    personas: Any,
    password: str,
    listed_referral: Any,  # noqa: F811
    adopt: Any,  # noqa: F811
) -> None:
    registration = adopt(listed_referral)
    person = registration.person
    person.source_system, person.source_id = "pnc", "P900042"
    person.save(update_fields=["source_system", "source_id"])
    IntelligenceItem.objects.create(
        person=person,
        recorded_date=timezone.localdate() - dt.timedelta(days=20),
        source_grade="1",
        intelligence_grade="B",
        handling_code="C",
        handling_conditions="IOM only",
        text=INTEL,
    )
    today = timezone.localdate()
    due = today + dt.timedelta(days=30)
    base = live_server.url
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    console = Console(page)

    # 1. The lead worker (probation) writes and agrees the plan, and refers to housing.
    sign_in(page, base, "probation.om", password)
    page.goto(f"{base}/people/{person.pk}/")
    visit(page, "person page (lead worker)")
    page.get_by_role("link", name="Management plan").click()
    visit(page, "plan not started")
    page.get_by_role("button", name="Start the plan").click()
    visit(page, "draft plan")
    page.get_by_role("link", name="Add an objective").click()
    visit(page, "add objective")
    page.get_by_label("Objective", exact=True).fill("I want my own flat and to see my daughter")
    page.get_by_label("These are the person's own words").check()
    page.get_by_role("button", name="Add objective").click()
    visit(page, "plan with objective")
    add_action(
        page,
        agency="Wessex Police",
        kind="Disruption and enforcement",
        description=POLICE_ACTION,
        due=due,
        additional=False,
    )
    add_action(
        page,
        agency="Harbour Housing Association",
        worker="Hannah Byrne (Harbour Housing Association)",
        kind="Support",
        description=HOUSING_ACTION,
        due=due,
    )
    add_action(
        page,
        agency="Wessex Drug and Alcohol Service",
        kind="Intervention",
        description=DRUG_ACTION,
        due=due,
    )
    page.get_by_role("link", name="Agree the plan").click()
    visit(page, "agree the plan")
    page.get_by_role("button", name="Agree the plan").click()
    visit(page, "agreed plan")
    plan = ManagementPlan.objects.get(registration=registration)
    assert plan.status == PlanStatus.AGREED and plan.actions.count() == 3

    page.goto(f"{base}/people/{person.pk}/")
    page.get_by_role("link", name="Referrals to pathway providers").click()
    visit(page, "provider referrals")
    page.get_by_role("link", name="Send a referral").click()
    visit(page, "send a referral")
    page.get_by_label("Service", exact=True).select_option(label="Housing")
    page.get_by_label("Agency to refer to").select_option(label="Harbour Housing Association")
    page.get_by_label("Why you are referring the person").fill(
        "Sofa-surfing since release; needs a supported tenancy"
    )
    page.get_by_label("Legal basis for sharing without consent").select_option(
        label="Crime and Disorder Act 1998 s115"
    )
    page.get_by_role("button", name="Send referral").click()
    visit(page, "referral sent")
    referral = ProviderReferral.objects.get(person=person)
    assert referral.receiving_agency.code == "harbour-housing"
    sign_out(page)

    # 2. Housing sees the basics, its own action and its referral; never intelligence.
    sign_in(page, base, "housing.worker", password)
    page.goto(f"{base}/people/{person.pk}/")
    visit(page, "person page (housing)")
    assert INTEL not in page.content() and "ZEBRAINTEL" not in page.content()
    page.get_by_role("link", name="Management plan").click()
    visit(page, "plan (housing)")
    html = page.content()
    assert HOUSING_ACTION in html
    assert POLICE_ACTION not in html and DRUG_ACTION not in html and "ZEBRAINTEL" not in html
    menu(page, "Referrals to my agency")
    assert f"Referral {referral.pk}" in page.content()
    page.goto(f"{base}/provider-referrals/{referral.pk}/")
    visit(page, "referral (housing)")
    assert "Sofa-surfing since release" in page.content()
    assert "ZEBRAINTEL" not in page.content()
    sign_out(page)

    # 3. The drug worker (whose agency the plan brought in) records a negative drug test.
    sign_in(page, base, "drug.worker", password)
    page.goto(f"{base}/people/{person.pk}/")
    visit(page, "person page (drug service)")
    assert "ZEBRAINTEL" not in page.content()
    page.get_by_role("link", name="Contacts: appointments, visits and drug tests").click()
    visit(page, "contacts (drug service)")
    page.get_by_label("Kind of contact").select_option(label="Drug test")
    page.get_by_label("Attendance or result").select_option(label="Negative")
    page.get_by_role("button", name="Record contact").click()
    visit(page, "contact recorded")
    test = Contact.objects.get(person=person, kind="drug_test")
    assert test.drug_test_result == "negative" and test.agency.code == "turning-point-wessex"
    sign_out(page)

    # 4. An imported arrest alerts the lead worker.
    header = "source_system,arrest_id,person_id,arrest_date,offence_code,description,outcome"
    row = f"pnc,A9000042,P900042,{today.isoformat()},028/01,Suspicion of burglary,charged"
    result = import_extract(
        actor=_actor("coordinator"),
        files=[ExtractFile("arrests.csv", f"{header}\n{row}\n".encode())],
        agency=Agency.objects.get(code="wessex-police"),
    )
    assert result.accepted, result.problems
    alert = Alert.objects.get(kind=AlertKind.NEW_ARREST, person=person)
    assert alert.recipient.username == "probation.om"
    sign_in(page, base, "probation.om", password)
    menu(page, "Alerts and tasks")
    assert "arrested" in page.content()
    sign_out(page)

    # 5. The coordinator sees each agency's contribution.
    sign_in(page, base, "coordinator", password)
    menu(page, "Agency contribution")
    # The last table is the whole period: actions owned, completed, overdue, contacts.
    period = page.locator("table").last
    for agency, contacts in (
        ("Wessex Police", 0),
        ("Harbour Housing Association", 0),
        ("Wessex Drug and Alcohol Service", 1),
    ):
        cells = period.get_by_role("row", name=agency).get_by_role("cell").all_inner_texts()
        assert [int(c) for c in cells] == [1, 0, 0, contacts], (agency, cells)
    assert console.errors == []


def _actor(username: str) -> Any:
    from django.contrib.auth import get_user_model

    from openiom.accounts.actor import actor_for_user

    return actor_for_user(get_user_model().objects.get(username=username))
