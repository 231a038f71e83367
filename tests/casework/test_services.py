"""Recording contacts: permission (audited refusals), validation, the audit row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiom.access.policy import CaseworkAction, can
from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.casework.models import Contact
from openiom.casework.selectors import appointment_compliance, person_contacts
from openiom.casework.services import record_contact

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 4, 1)


def test_an_involved_partner_records_a_contact_with_an_audit_row(actor, make_person, involve):
    person = make_person()
    involve(person, "drug.worker")
    contact = record_contact(
        actor=actor("drug.worker"),
        person=person,
        kind="drug_test",
        contact_date=DAY,
        drug_test_result="negative",
        outcome="Clean test",
    )
    assert contact.agency.code == actor("drug.worker").membership.agency.code
    assert contact.worker == actor("drug.worker").user
    assert contact.registration is None
    event = AuditEvent.objects.get(event_type="contact.recorded")
    assert event.person_id == person.pk
    assert event.object_id == str(contact.pk)
    assert "drug test" in event.summary
    assert event.after["drug_test_result"] == "negative"


def test_an_uninvolved_partner_is_refused_and_the_refusal_is_audited(actor, make_person):
    person = make_person()
    with pytest.raises(AccessDenied):
        record_contact(
            actor=actor("housing.worker"), person=person, kind="home_visit", contact_date=DAY
        )
    assert not Contact.objects.exists()
    denied = AuditEvent.objects.get(event_type="access.denied")
    assert denied.person_id == person.pk
    assert denied.details["action"] == str(CaseworkAction.RECORD_CONTACT)
    assert not AuditEvent.objects.filter(event_type="contact.recorded").exists()


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("police.officer", True),
        ("probation.om", True),
        ("coordinator", True),
        ("housing.worker", False),
        ("drug.worker", False),
        ("vcs.mentor", False),
        ("analyst", False),
        ("dpo", False),
        ("admin", False),
    ],
)
def test_who_may_record_contacts_with_a_person_nobody_works_with(
    actor, make_person, username, allowed
):
    person = make_person()
    for action in (CaseworkAction.RECORD_CONTACT, CaseworkAction.VIEW_CONTACTS):
        assert bool(can(actor(username), action, person)) is allowed


def test_the_contact_is_linked_to_the_registration_current_on_its_date(actor, registration):
    contact = record_contact(
        actor=actor("probation.om"),
        person=registration.person,
        kind="appointment",
        contact_date=registration.start_date + dt.timedelta(days=3),
        attendance="kept",
    )
    assert contact.registration == registration
    before = record_contact(
        actor=actor("probation.om"),
        person=registration.person,
        kind="phone_call",
        contact_date=registration.start_date - dt.timedelta(days=1),
    )
    assert before.registration is None


def test_partners_see_only_their_own_agencys_contacts(actor, make_person, involve):
    person = make_person()
    involve(person, "drug.worker")
    involve(person, "housing.worker")
    record_contact(
        actor=actor("drug.worker"),
        person=person,
        kind="drug_test",
        contact_date=DAY,
        drug_test_result="positive",
        substances="opiates",
    )
    record_contact(
        actor=actor("housing.worker"), person=person, kind="home_visit", contact_date=DAY
    )
    record_contact(
        actor=actor("probation.om"),
        person=person,
        kind="appointment",
        contact_date=DAY,
        attendance="missed",
    )
    housing = person_contacts(actor=actor("housing.worker"), person=person)
    assert [c.kind for c in housing] == ["home_visit"]
    drugs = person_contacts(actor=actor("drug.worker"), person=person)
    assert [c.kind for c in drugs] == ["drug_test"]
    everyone = person_contacts(actor=actor("probation.om"), person=person)
    assert sorted(c.kind for c in everyone) == ["appointment", "drug_test", "home_visit"]
    assert AuditEvent.objects.filter(event_type="contact.list_consulted").count() == 3


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"kind": "home_visit", "attendance": "kept"}, "attendance", "only appointments"),
        ({"kind": "appointment"}, "attendance", "planned, kept or missed"),
        ({"kind": "appointment", "attendance": "late"}, "attendance", "'late'"),
        ({"kind": "phone_call", "drug_test_result": "negative"}, "drug_test_result", "only drug"),
        (
            {"kind": "drug_test", "drug_test_result": "negative", "substances": "cocaine"},
            "substances",
            "only a positive",
        ),
        ({"kind": "teleport"}, "kind", "not a kind of contact"),
        ({"kind": "home_visit", "outcome": "x" * 4001}, "outcome", "at most 4000"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_the_field(
    actor, make_person, kwargs, field, words
):
    person = make_person()
    with pytest.raises(ValidationError) as caught:
        record_contact(actor=actor("probation.om"), person=person, contact_date=DAY, **kwargs)
    messages = caught.value.message_dict[field]
    assert any(m.startswith(f"{field}: ") and words in m for m in messages), messages
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.filter(event_type="contact.recorded").exists()


def test_a_future_date_is_refused(actor, make_person):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        record_contact(
            actor=actor("probation.om"),
            person=make_person(),
            kind="appointment",
            contact_date=tomorrow,
            attendance="planned",
        )
    assert "in the future" in caught.value.message_dict["contact_date"][0]


def test_appointment_compliance_counts_kept_and_missed_in_the_window(actor, make_person):
    person = make_person()
    om = actor("probation.om")
    for day, attendance in [(1, "kept"), (2, "kept"), (3, "missed"), (4, "planned"), (40, "kept")]:
        record_contact(
            actor=om,
            person=person,
            kind="appointment",
            contact_date=dt.date(2026, 3, day) if day < 32 else dt.date(2026, 5, 1),
            attendance=attendance,
        )
    compliance = appointment_compliance(person, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert (compliance.kept, compliance.missed) == (2, 1)
    assert compliance.rate == pytest.approx(2 / 3)
    none = appointment_compliance(person, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert none.rate is None
