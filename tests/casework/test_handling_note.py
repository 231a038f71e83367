"""Handling notes for police colleagues: service, page, briefing and the IOM marker API."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.casework.models import HandlingNote
from openiom.casework.services import set_handling_note

pytestmark = pytest.mark.django_db
NOTE = "Engaging well - contact the IOM team before enforcement"


def page(registration) -> str:
    return f"/casework/registrations/{registration.pk}/handling-note/"


def marker(person_id: int) -> str:
    return f"/api/casework/people/{person_id}/iom-marker"


@pytest.mark.parametrize("username", ["probation.om", "coordinator"])  # lead worker, coordinator
def test_lead_worker_and_coordinator_may_set_it(actor, registration, username):
    note = set_handling_note(actor=actor(username), registration=registration, text=NOTE)
    assert note.text == NOTE
    event = AuditEvent.objects.get(event_type="handling_note.set")
    assert event.person_id == registration.person_id


def test_housing_worker_is_refused_and_audited(actor, registration):
    with pytest.raises(AccessDenied):
        set_handling_note(actor=actor("housing.worker"), registration=registration, text=NOTE)
    assert not HandlingNote.objects.exists()
    assert AuditEvent.objects.filter(
        event_type="access.denied", person_id=registration.person_id
    ).exists()


@pytest.mark.parametrize(
    ("text", "why"), [("   ", "enter the handling note"), ("x" * 301, "300 characters or fewer")]
)
def test_validation(actor, registration, text, why):
    with pytest.raises(ValidationError) as error:
        set_handling_note(actor=actor("probation.om"), registration=registration, text=text)
    assert why in error.value.message_dict["text"][0]
    assert not HandlingNote.objects.exists()


def test_history_is_kept_and_the_latest_is_current(actor, registration, client_for):
    set_handling_note(actor=actor("probation.om"), registration=registration, text="First note")
    set_handling_note(actor=actor("coordinator"), registration=registration, text=NOTE)
    assert [n.text for n in HandlingNote.objects.order_by("id")] == ["First note", NOTE]
    html = client_for("police.officer").get("/casework/briefing/").content.decode()
    assert NOTE in html and "First note" not in html


def test_page_sets_the_note_and_shows_errors(client_for, registration):
    client = client_for("probation.om")
    assert client.get(page(registration)).status_code == 200
    response = client.post(page(registration), {"text": NOTE})
    assert response.status_code == 302
    assert NOTE in client.get(page(registration)).content.decode()
    bad = client.post(page(registration), {"text": ""})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "govuk-error-summary" in html and "Enter the handling note" in html
    too_long = client.post(page(registration), {"text": "x" * 301})
    assert too_long.status_code == 400
    assert HandlingNote.objects.count() == 1


def test_page_refuses_others(client_for, registration):
    assert client_for("housing.worker").get(page(registration)).status_code == 403
    assert client_for("police.officer").post(page(registration), {"text": NOTE}).status_code == 403
    assert not HandlingNote.objects.exists()


def test_police_get_the_marker(as_persona, actor, registration):
    set_handling_note(actor=actor("probation.om"), registration=registration, text=NOTE)
    response = as_persona("police.officer").get(marker(registration.person_id))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["registered"] is True
    assert body["handling_note"] == NOTE
    assert body["status"] == "active"
    assert body["since"] == registration.start_date.isoformat()
    assert body["lead_agency"] == registration.lead_agency.name
    assert AuditEvent.objects.filter(event_type="iom_marker.consulted").count() == 1


def test_a_person_not_registered_has_registered_false(as_token, make_person):
    person = make_person()
    body = as_token("police.officer").get(marker(person.pk)).json()
    assert body == {
        "registered": False,
        "cohort": None,
        "status": None,
        "rag": None,
        "lead_agency": None,
        "handling_note": None,
        "since": None,
    }


@pytest.mark.parametrize(
    "username",
    ["probation.om", "coordinator", "housing.worker", "drug.worker", "vcs.mentor", "dpo", "admin"],
)
def test_non_police_personas_get_403(as_token, registration, username):
    response = as_token(username).get(marker(registration.person_id))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(event_type="access.denied").exists()
    assert not AuditEvent.objects.filter(event_type="iom_marker.consulted").exists()
