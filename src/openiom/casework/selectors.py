"""Reads of case management."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from openiom.access.policy import CaseworkAction, can, people_visible_to, sees_all_contacts
from openiom.access.services import require
from openiom.audit.services import record
from openiom.casework.models import Attendance, Contact, ContactKind, HandlingNote

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.cohort.models import Registration
    from openiom.people.models import Person


def contacts_visible(actor: Actor, person: Person) -> QuerySet[Contact]:
    """The person's contacts the actor may see (partners: their own agency's only). Unaudited."""
    qs = Contact.objects.filter(person=person).select_related("agency", "worker")
    if sees_all_contacts(actor, person):
        return qs
    if actor.agency_id is None:
        return qs.none()
    return qs.filter(agency_id=actor.agency_id)


def person_contacts(*, actor: Actor, person: Person) -> list[Contact]:
    """The person's contacts the actor may see, newest first; refusals and reads are audited."""
    require(actor, CaseworkAction.VIEW_CONTACTS, person)
    contacts = list(contacts_visible(actor, person))
    record(
        "contact.list_consulted",
        actor=actor,
        obj=person,
        person_id=person.pk,
        context={"person": str(person), "results": len(contacts)},
        details={"results": len(contacts)},
    )
    return contacts


@dataclass(frozen=True)
class AppointmentCompliance:
    kept: int
    missed: int

    @property
    def arranged(self) -> int:
        return self.kept + self.missed

    @property
    def rate(self) -> float | None:
        """Share of arranged (kept or missed) appointments kept; None when there were none."""
        return self.kept / self.arranged if self.arranged else None


def appointment_compliance(person: Person, since: dt.date, until: dt.date) -> AppointmentCompliance:
    """Appointments kept and missed between two dates inclusive (planned ones do not count).

    Every agency's appointments count: compliance is a fact about the person that feeds the RAG
    suggestion, not a disclosure of other agencies' records.
    """
    counts = Contact.objects.filter(
        person=person,
        kind=ContactKind.APPOINTMENT,
        contact_date__gte=since,
        contact_date__lte=until,
    ).aggregate(
        kept=Count("id", filter=Q(attendance=Attendance.KEPT)),
        missed=Count("id", filter=Q(attendance=Attendance.MISSED)),
    )
    return AppointmentCompliance(kept=counts["kept"], missed=counts["missed"])


@dataclass(frozen=True)
class BriefingHub:
    hub: str
    registrations: list[Registration]


def police_briefing(*, actor: Actor) -> list[BriefingHub]:
    """Current registrations per hub with status, latest RAG (`latest_rag`) and current handling
    note (`handling_note`), for police staff; `may_set_note` says whether the actor may set it.

    Limited to the people the actor may view (their hub when their membership names one).
    """
    from openiom.cohort.models import Registration, RegistrationStatus

    require(actor, CaseworkAction.VIEW_BRIEFING)
    registrations = list(
        _with_marker_fields(Registration.objects.exclude(status=RegistrationStatus.DEREGISTERED))
        .filter(person__in=people_visible_to(actor))
        .select_related("person", "person__hub", "cohort", "lead_agency", "lead_worker")
        .order_by("person__hub__name", "person__surname", "person__first_names", "id")
    )
    hubs: dict[str, list[Registration]] = {}
    for reg in registrations:
        may_set = can(actor, CaseworkAction.SET_HANDLING_NOTE, registration=reg)
        reg.may_set_note = bool(may_set)  # type: ignore[attr-defined]
        hubs.setdefault(reg.person.hub.name if reg.person.hub else "No hub", []).append(reg)
    record(
        "briefing.consulted",
        actor=actor,
        context={"results": len(registrations)},
        details={"results": len(registrations), "hubs": len(hubs)},
    )
    return [BriefingHub(hub=name, registrations=regs) for name, regs in hubs.items()]


def _with_marker_fields(registrations: QuerySet[Registration]) -> QuerySet[Registration]:
    """Annotate `latest_rag` (status) and the current handling note (`handling_note`, `note_at`)."""
    from openiom.cohort.models import RagAssessment

    rag = RagAssessment.objects.filter(registration=OuterRef("pk")).order_by(
        "-assessed_on", "-created_at", "-id"
    )
    note = HandlingNote.objects.filter(registration=OuterRef("pk")).order_by("-set_at", "-id")
    return registrations.annotate(
        latest_rag=Subquery(rag.values("status")[:1]),
        handling_note=Subquery(note.values("text")[:1]),
        note_at=Subquery(note.values("set_at")[:1]),
    )


def handling_notes(*, actor: Actor, registration: Registration) -> list[HandlingNote]:
    """The registration's handling notes, newest first, for those who may set them. Unaudited:
    the caller's page consults the registration it is shown on."""
    require(actor, CaseworkAction.SET_HANDLING_NOTE, registration=registration)
    return list(
        registration.handling_notes.select_related("set_by", "set_by_agency").order_by(
            "-set_at", "-id"
        )
    )


@dataclass(frozen=True)
class IomMarker:
    registered: bool
    cohort: str | None = None
    status: str | None = None
    rag: str | None = None
    lead_agency: str | None = None
    handling_note: str | None = None
    since: dt.date | None = None


def iom_marker(*, actor: Actor, person: Person) -> IomMarker:
    """What a force system shows on lookup: is the person on IOM, and how to handle them.

    Police staff who may view the person only; refusals and lookups are audited. With several
    current registrations (cohorts), the latest started is the marker.
    """
    from openiom.cohort.models import Registration, RegistrationStatus

    require(actor, CaseworkAction.VIEW_BRIEFING, person)
    reg = (
        _with_marker_fields(
            Registration.objects.filter(person=person).exclude(
                status=RegistrationStatus.DEREGISTERED
            )
        )
        .select_related("cohort", "lead_agency")
        .order_by("-start_date", "-id")
        .first()
    )
    if reg is None:
        marker = IomMarker(registered=False)
    else:
        marker = IomMarker(
            registered=True,
            cohort=reg.cohort.name,
            status=reg.status,
            rag=reg.latest_rag,  # type: ignore[attr-defined]
            lead_agency=reg.lead_agency.name,
            handling_note=reg.handling_note,  # type: ignore[attr-defined]
            since=reg.start_date,
        )
    record(
        "iom_marker.consulted",
        actor=actor,
        obj=person,
        person_id=person.pk,
        context={"person": str(person), "registered": "yes" if marker.registered else "no"},
        details={"registered": marker.registered, "registration": reg.pk if reg else None},
    )
    return marker
