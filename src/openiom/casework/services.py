"""Writes of case management: one function per domain action."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiom.access.policy import CaseworkAction
from openiom.access.services import require
from openiom.audit.services import record, snapshot
from openiom.casework.models import (
    Attendance,
    Contact,
    ContactKind,
    DrugTestResult,
    HandlingNote,
)
from openiom.cohort.models import Registration

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.people.models import Person

OUTCOME_MAX = 4000
SUBSTANCES_MAX = 200


def registration_on(person: Person, on: dt.date) -> Registration | None:
    """The person's IOM registration current on a date (the latest started, if several)."""
    return (
        Registration.objects.filter(person=person, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .order_by("-start_date", "-id")
        .first()
    )


def _validate(
    *,
    kind: str,
    contact_date: dt.date,
    attendance: str | None,
    drug_test_result: str | None,
    substances: str,
    outcome: str,
    today: dt.date,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if kind not in ContactKind.values:
        add(
            "kind",
            f"kind: {kind!r} is not a kind of contact; choose one of "
            + ", ".join(ContactKind.values),
        )
    if contact_date > today:
        add(
            "contact_date",
            f"contact_date: {contact_date.isoformat()} is in the future; record "
            "a contact on or after the day it happens",
        )
    if kind == ContactKind.APPOINTMENT:
        if attendance is None:
            add("attendance", "attendance: say whether the appointment is planned, kept or missed")
        elif attendance not in Attendance.values:
            add("attendance", f"attendance: {attendance!r} is not planned, kept or missed")
    elif attendance is not None:
        add("attendance", "attendance: only appointments have an attendance")
    if kind == ContactKind.DRUG_TEST:
        if drug_test_result is not None and drug_test_result not in DrugTestResult.values:
            add(
                "drug_test_result",
                f"drug_test_result: {drug_test_result!r} is not negative, positive or refused",
            )
        if substances and drug_test_result != DrugTestResult.POSITIVE:
            add("substances", "substances: only a positive drug test names substances")
    else:
        if drug_test_result is not None:
            add("drug_test_result", "drug_test_result: only drug tests have a result")
        if substances:
            add("substances", "substances: only a positive drug test names substances")
    if len(substances) > SUBSTANCES_MAX:
        add("substances", f"substances: at most {SUBSTANCES_MAX} characters")
    if len(outcome) > OUTCOME_MAX:
        add("outcome", f"outcome: at most {OUTCOME_MAX} characters")
    return errors


def record_contact(
    *,
    actor: Actor,
    person: Person,
    kind: str,
    contact_date: dt.date,
    attendance: str | None = None,
    drug_test_result: str | None = None,
    substances: str = "",
    outcome: str = "",
) -> Contact:
    """Record a contact made by the actor (their agency) with the person.

    Raises AccessDenied (audited) when the policy refuses, ValidationError with a message per
    field ("field: why") for bad input; nothing is written then.
    """
    require(actor, CaseworkAction.RECORD_CONTACT, person)
    attendance = attendance or None
    drug_test_result = drug_test_result or None
    substances = (substances or "").strip()
    outcome = (outcome or "").strip()
    errors = _validate(
        kind=kind,
        contact_date=contact_date,
        attendance=attendance,
        drug_test_result=drug_test_result,
        substances=substances,
        outcome=outcome,
        today=timezone.localdate(),
    )
    if errors:
        raise ValidationError(errors)
    assert actor.agency_id is not None  # require() refuses actors without a membership
    with transaction.atomic():
        contact = Contact.objects.create(
            person=person,
            registration=registration_on(person, contact_date),
            agency_id=actor.agency_id,
            worker=actor.user,
            kind=kind,
            contact_date=contact_date,
            attendance=attendance,
            drug_test_result=drug_test_result,
            substances=substances,
            outcome=outcome,
            recorded_by=actor.user,
        )
        record(
            "contact.recorded",
            actor=actor,
            obj=contact,
            person_id=person.pk,
            after=snapshot(contact),
            context={
                "agency": actor.membership.agency.name if actor.membership else "",
                "kind": contact.get_kind_display().lower(),
                "person": str(person),
                "date": contact_date.isoformat(),
            },
        )
    return contact


# --- Handling notes -----------------------------------------------------------------------------

HANDLING_NOTE_MAX = 300


def set_handling_note(*, actor: Actor, registration: Registration, text: str) -> HandlingNote:
    """Record a new handling note for police colleagues; earlier notes are kept as history.

    The registration's lead worker or an IOM coordinator only. Raises AccessDenied (audited)
    when refused, ValidationError {"text": ["text: why"]} for an empty or over-long note.
    """
    require(actor, CaseworkAction.SET_HANDLING_NOTE, registration=registration)
    text = " ".join((text or "").split())  # one line: it is shown in tables and on force systems
    if not text:
        raise ValidationError({"text": ["text: enter the handling note for police colleagues"]})
    if len(text) > HANDLING_NOTE_MAX:
        raise ValidationError(
            {
                "text": [
                    f"text: the handling note must be {HANDLING_NOTE_MAX} characters or fewer "
                    f"(it has {len(text)})"
                ]
            }
        )
    if not registration.is_current:
        raise ValidationError({"text": ["text: the person is no longer registered with IOM"]})
    previous = registration.handling_notes.order_by("-set_at", "-id").first()
    with transaction.atomic():
        note = HandlingNote.objects.create(
            registration=registration,
            text=text,
            set_by=actor.user,
            set_by_agency_id=actor.agency_id,
        )
        record(
            "handling_note.set",
            actor=actor,
            obj=note,
            person_id=registration.person_id,
            before={"text": previous.text} if previous else None,
            after=snapshot(note),
            context={"person": str(registration.person), "text": text},
        )
    return note
