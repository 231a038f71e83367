"""GET/POST /api/casework/people/{id}/contacts: same policy, validation and audit as the page."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.audit.models import AuditEvent
from openiom.casework.models import Contact
from openiom.casework.services import record_contact

pytestmark = pytest.mark.django_db


def api(person_id: int) -> str:
    return f"/api/casework/people/{person_id}/contacts"


def test_record_and_list_contacts(as_persona, make_person, involve):
    person = make_person()
    involve(person, "drug.worker")
    client = as_persona("drug.worker")
    response = client.post(
        api(person.pk),
        {
            "kind": "drug_test",
            "contact_date": "2026-04-02",
            "drug_test_result": "positive",
            "substances": "opiates",
            "outcome": "Referred to the prescribing clinic",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "drug_test" and body["substances"] == "opiates"
    assert body["agency"] == Contact.objects.get().agency.code
    assert AuditEvent.objects.filter(event_type="contact.recorded").count() == 1
    listed = client.get(api(person.pk))
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == [body["id"]]


def test_validation_errors_name_the_field(as_persona, make_person):
    person = make_person()
    response = as_persona("probation.om").post(
        api(person.pk),
        {"kind": "home_visit", "contact_date": "2026-04-02", "attendance": "kept"},
        content_type="application/json",
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "attendance"]
    assert "only appointments" in error["msg"]
    assert not Contact.objects.exists()


def test_an_uninvolved_partner_is_refused_with_an_audited_403(as_persona, make_person):
    person = make_person()
    client = as_persona("housing.worker")
    assert client.get(api(person.pk)).status_code == 403
    response = client.post(
        api(person.pk),
        {"kind": "home_visit", "contact_date": "2026-04-02"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(event_type="access.denied", person_id=person.pk).count() == 2


def test_partners_see_only_their_own_agencys_contacts_through_the_api(
    as_persona, make_person, involve, actor
):

    person = make_person()
    involve(person, "housing.worker")
    record_contact(
        actor=actor("probation.om"),
        person=person,
        kind="appointment",
        contact_date=dt.date(2026, 4, 1),
        attendance="kept",
    )
    assert as_persona("housing.worker").get(api(person.pk)).json() == []
    assert len(as_persona("probation.om").get(api(person.pk)).json()) == 1


def test_an_unknown_person_is_404(as_persona):
    assert as_persona("probation.om").get(api(999999)).status_code == 404
