"""The person's "my plan" PDF: their goals and what each agency will do; no intelligence, no
disruption or enforcement actions."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from openiom.audit.models import AuditEvent
from openiom.offending.models import IntelligenceItem
from openiom.plans.my_plan import render_my_plan_pdf

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def intelligence(full_plan) -> IntelligenceItem:
    return IntelligenceItem.objects.create(
        person=full_plan["plan"].person,
        recorded_date=dt.date(2026, 1, 15),
        source_grade="1",
        intelligence_grade="B",
        handling_code="C",
        handling_conditions="Not to be shared outside IOM",
        text="ZEBRAINTEL seen with known burglary associates at the Anchor pub.",
    )


def test_my_plan_pdf_has_the_plan_and_no_intelligence_or_disruption(
    full_plan, intelligence, client_for
) -> None:
    plan = full_plan["plan"]
    response = client_for("probation.om").get(
        f"/plans/registrations/{plan.registration_id}/my-plan.pdf"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "My plan" in text
    assert "I want my own flat and to see my daughter again" in text
    assert "Find a supported tenancy" in text and "Harbour Housing Association" in text
    assert "Start a script" in text
    assert "Owen Marsh" in text  # who to contact: the lead worker
    assert "Hannah Byrne" in text
    assert "ZEBRAINTEL" not in text and "Anchor pub" not in text
    assert "DISRUPTCHECK" not in text and "curfew checks" not in text
    event = AuditEvent.objects.filter(event_type="plan.my_plan_printed").get()
    assert event.person_id == plan.person_id and event.category == "disclosure"


def test_needs_being_worked_on_are_in_plain_english(full_plan, actor) -> None:
    from openiom.plans import services

    plan = full_plan["plan"]
    services.set_needs(
        actor=actor("probation.om"),
        plan=plan,
        version=1,
        needs={"drugs-alcohol": {"status": "in_progress", "notes": "Script started"}},
    )
    plan.refresh_from_db()
    text = pdf_text(render_my_plan_pdf(actor=actor("probation.om"), plan=plan))
    assert "Drugs and alcohol: we are working on this together" in text
    assert (
        "Accommodation" not in text.split("Who will do what")[0].split("What we are working on")[1]
    )
