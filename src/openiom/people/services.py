"""Writes to people's records: each checks the policy, writes, and audits in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction

from openiom.access.policy import Action
from openiom.access.services import require
from openiom.audit.services import record, snapshot
from openiom.people.models import Involvement, Person, Restriction

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.partnership.models import Agency

EDITABLE_FIELDS = {
    "first_names",
    "surname",
    "date_of_birth",
    "sex",
    "ethnicity_officer_defined",
    "ethnicity_self_defined",
    "pnc_id",
    "crn",
    "prison_number",
    "current_status",
    "status_since",
    "date_of_death",
    "youth_justice_status",
    "youth_justice_team",
    "hub_id",
}


def update_person(*, actor: Actor, person: Person, changes: dict[str, Any]) -> Person:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}")
    require(actor, Action.EDIT_PERSON, person)
    with transaction.atomic():
        before = snapshot(person, sorted(changes))
        for name, value in changes.items():
            setattr(person, name, value)
        person.full_clean()
        person.save()
        record(
            "person.altered",
            actor=actor,
            obj=person,
            person_id=person.pk,
            before=before,
            after=snapshot(person, sorted(changes)),
            context={"person": str(person)},
        )
    return person


def start_involvement(
    *,
    actor: Actor,
    person: Person,
    agency: Agency,
    worker: Any = None,
    purpose: str = "",
    start_date: dt.date | None = None,
) -> Involvement:
    """Record that an agency (or named worker) is working with a person, which grants them access."""
    require(actor, Action.MANAGE_INVOLVEMENT, person)
    with transaction.atomic():
        involvement = Involvement.objects.create(
            person=person,
            agency=agency,
            worker=worker,
            purpose=purpose,
            start_date=start_date or dt.date.today(),
        )
        record(
            "involvement.started",
            actor=actor,
            obj=involvement,
            person_id=person.pk,
            after=snapshot(involvement),
            context={"agency": agency.name, "person": str(person)},
        )
    return involvement


def end_involvement(
    *, actor: Actor, involvement: Involvement, end_date: dt.date | None = None
) -> Involvement:
    require(actor, Action.MANAGE_INVOLVEMENT, involvement.person)
    with transaction.atomic():
        before = snapshot(involvement, ["end_date"])
        involvement.end_date = end_date or dt.date.today()
        involvement.save(update_fields=["end_date"])
        record(
            "involvement.ended",
            actor=actor,
            obj=involvement,
            person_id=involvement.person_id,
            before=before,
            after=snapshot(involvement, ["end_date"]),
            context={"agency": involvement.agency.name, "person": str(involvement.person)},
        )
    return involvement


def restrict_person(
    *, actor: Actor, person: Person, users: list[Any], reason: str
) -> list[Restriction]:
    """Restrict a record to named users. The actor is always included so they keep access."""
    if not reason.strip():
        raise ValueError("Give a reason for restricting the record")
    require(actor, Action.RESTRICT_PERSON, person)
    named = {u.pk: u for u in [*users, actor.user]}
    with transaction.atomic():
        rows = [
            Restriction.objects.get_or_create(
                person=person, user=u, defaults={"reason": reason, "created_by": actor.user}
            )[0]
            for u in named.values()
        ]
        record(
            "person.restricted",
            actor=actor,
            obj=person,
            person_id=person.pk,
            after={"user_ids": sorted(named)},
            details={"reason": reason},
            context={
                "person": str(person),
                "users": ", ".join(u.get_username() for u in named.values()),
            },
        )
    return rows
