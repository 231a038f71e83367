"""Contacts endpoints: the same policy, services and audit as the pages."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status

from openiom.casework import selectors, services
from openiom.casework.models import Attendance, Contact, ContactKind, DrugTestResult
from openiom.people.api import PERSON_ID, actor_of
from openiom.people.models import Person

router = Router(tags=["casework"])


class ContactOut(Schema):
    id: int
    person_id: int
    registration_id: int | None
    agency: str
    worker: str
    kind: ContactKind
    contact_date: dt.date
    attendance: Attendance | None
    drug_test_result: DrugTestResult | None
    substances: str
    outcome: str
    recorded_at: dt.datetime

    @staticmethod
    def resolve_agency(obj: Contact) -> str:
        return obj.agency.code

    @staticmethod
    def resolve_worker(obj: Contact) -> str:
        return obj.worker.get_username()


class ContactIn(Schema):
    kind: ContactKind
    contact_date: dt.date
    attendance: Attendance | None = None
    drug_test_result: DrugTestResult | None = None
    substances: str = ""
    outcome: str = ""


@router.get(
    "/people/{person_id}/contacts",
    response=list[ContactOut],
    summary="A person's contacts",
    description="Newest first. Partner agencies see only their own agency's contacts. Audited.",
)
def list_contacts(request: HttpRequest, person_id: int = PERSON_ID) -> list[Contact]:
    person = Person.objects.get(pk=person_id)
    return selectors.person_contacts(actor=actor_of(request), person=person)


@router.post(
    "/people/{person_id}/contacts",
    response={201: ContactOut},
    summary="Record a contact",
    description=(
        "Attendance only for appointments (required for them); a result and substances only for "
        "drug tests; no future dates. Audited."
    ),
)
def create_contact(request: HttpRequest, payload: ContactIn, person_id: int = PERSON_ID) -> Status:
    person = Person.objects.get(pk=person_id)
    contact = services.record_contact(
        actor=actor_of(request),
        person=person,
        kind=payload.kind,
        contact_date=payload.contact_date,
        attendance=payload.attendance,
        drug_test_result=payload.drug_test_result,
        substances=payload.substances,
        outcome=payload.outcome,
    )
    return Status(201, contact)


class IomMarkerOut(Schema):
    registered: bool
    cohort: str | None
    status: str | None
    rag: str | None
    lead_agency: str | None
    handling_note: str | None
    since: dt.date | None


@router.get(
    "/people/{person_id}/iom-marker",
    response=IomMarkerOut,
    summary="A person's IOM marker (police only)",
    description=(
        "For force systems to show on lookup: whether the person is registered with IOM and, if "
        "so, the cohort, registration status, latest RAG, lead agency, current handling note and "
        "registration date. Police staff only; every lookup and refusal is audited."
    ),
)
def iom_marker(request: HttpRequest, person_id: int = PERSON_ID) -> selectors.IomMarker:
    person = Person.objects.get(pk=person_id)
    return selectors.iom_marker(actor=actor_of(request), person=person)
