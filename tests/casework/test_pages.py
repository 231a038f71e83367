"""The contacts page: list, quick entry (success and errors), permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from openiom.audit.models import AuditEvent
from openiom.casework.models import Contact
from openiom.casework.services import record_contact

pytestmark = pytest.mark.django_db


def url(person) -> str:
    return f"/casework/people/{person.pk}/contacts/"


def test_the_page_lists_the_contacts_the_worker_may_see(client_for, actor, make_person, involve):
    person = make_person()
    involve(person, "housing.worker")
    record_contact(
        actor=actor("housing.worker"),
        person=person,
        kind="home_visit",
        contact_date=dt.date(2026, 4, 2),
        outcome="Tenancy sustained",
    )
    record_contact(
        actor=actor("probation.om"),
        person=person,
        kind="phone_call",
        contact_date=dt.date(2026, 4, 3),
        outcome="Probation-only note",
    )
    response = client_for("housing.worker").get(url(person))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tenancy sustained" in html
    assert "Probation-only note" not in html
    assert timezone.localdate().strftime("%d/%m/%Y") in html  # the date defaults to today
    both = client_for("probation.om").get(url(person)).content.decode()
    assert "Tenancy sustained" in both and "Probation-only note" in both


def test_quick_entry_records_a_kept_appointment(client_for, make_person):
    person = make_person()
    client = client_for("probation.om")
    response = client.post(
        url(person), {"kind": "appointment", "contact_date": "02/04/2026", "result": "kept"}
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.kind, contact.attendance, contact.contact_date) == (
        "appointment",
        "kept",
        dt.date(2026, 4, 2),
    )
    page = client.get(response["Location"]).content.decode()
    assert "Appointment on 02/04/2026 recorded." in page


def test_quick_entry_records_a_drug_test_result(client_for, make_person, involve):
    person = make_person()
    involve(person, "drug.worker")
    response = client_for("drug.worker").post(
        url(person), {"kind": "drug_test", "contact_date": "02/04/2026", "result": "negative"}
    )
    assert response.status_code == 302
    assert Contact.objects.get().drug_test_result == "negative"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "", "contact_date": "02/04/2026"}, "Select the kind of contact"),
        ({"kind": "home_visit", "contact_date": "31/02/2026"}, "Enter the date of the contact as"),
        ({"kind": "appointment", "contact_date": "02/04/2026"}, "Say whether the appointment"),
        (
            {"kind": "home_visit", "contact_date": "02/04/2026", "result": "kept"},
            "Only appointments have an attendance",
        ),
        (
            {"kind": "phone_call", "contact_date": "02/04/2099", "result": ""},
            "is in the future",
        ),
    ],
)
def test_quick_entry_errors_are_shown_in_the_error_summary(client_for, make_person, data, message):
    person = make_person()
    response = client_for("probation.om").post(url(person), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert message in html
    assert "<title>Error:" in html.replace("\n", "")
    assert not Contact.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_uninvolved_partner_gets_403_and_the_refusal_is_audited(client_for, make_person, method):
    person = make_person()
    client = client_for("housing.worker")
    data = {"kind": "home_visit", "contact_date": "02/04/2026"}
    response = client.get(url(person)) if method == "get" else client.post(url(person), data)
    assert response.status_code == 403
    assert AuditEvent.objects.filter(event_type="access.denied", person_id=person.pk).exists()
    assert not Contact.objects.exists()


def test_an_unknown_person_is_404(client_for):
    assert client_for("probation.om").get("/casework/people/999999/contacts/").status_code == 404


def test_the_person_page_links_to_contacts_only_for_those_who_may_see_them(
    client_for, make_person, involve
):
    person = make_person()
    involve(person, "housing.worker")
    link = url(person)
    assert link in client_for("housing.worker").get(f"/people/{person.pk}/").content.decode()
    analyst = client_for("analyst").get(f"/people/{person.pk}/")
    assert analyst.status_code == 200 and link not in analyst.content.decode()
