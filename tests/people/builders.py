"""Test data: a person with records made by several agencies (plain functions, shared by tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from openiom.accounts.actor import Actor
from openiom.accounts.models import Membership
from openiom.audit.models import AuditEvent
from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.partnership.models import Agency
from openiom.people.models import (
    Address,
    Alias,
    CustodyEpisode,
    Person,
    PersonIdentifier,
    SupervisionPeriod,
)
from openiom.reference.models import OffenceCode


def agency(code: str) -> Agency:
    return Agency.objects.get(code=code)


@dataclass
class Records:
    """What was recorded about a person, and by which agency."""

    police_alias: Alias
    housing_alias: Alias
    police_identifier: PersonIdentifier
    housing_address: Address
    probation_address: Address
    custody: CustodyEpisode
    supervision: SupervisionPeriod
    offence: Offence
    arrest: Arrest
    intelligence: IntelligenceItem


def add_records(person: Person) -> Records:
    police = agency("wessex-police")
    probation = agency("probation-wessex")
    housing = agency("harbour-housing")
    prison = agency("hmp-wessex")
    code = OffenceCode.objects.get(code="028/01")
    n = person.pk
    return Records(
        police_alias=Alias.objects.create(
            person=person, first_names="Jonny", surname=f"Police{n}", recorded_by_agency=police
        ),
        housing_alias=Alias.objects.create(
            person=person, first_names="Jon", surname=f"Housing{n}", recorded_by_agency=housing
        ),
        police_identifier=PersonIdentifier.objects.create(
            person=person, scheme="force", value=f"WP{n:06d}", recorded_by_agency=police
        ),
        housing_address=Address.objects.create(
            person=person, line_1="1 Harbour Row", town="Northgate", recorded_by_agency=housing
        ),
        probation_address=Address.objects.create(
            person=person,
            line_1="Approved Premises",
            town="Northgate",
            recorded_by_agency=probation,
        ),
        custody=CustodyEpisode.objects.create(
            person=person,
            custody_type="sentenced",
            received_date=dt.date(2022, 3, 1),
            recorded_by_agency=prison,
        ),
        supervision=SupervisionPeriod.objects.create(
            person=person,
            supervision_type="licence",
            start_date=dt.date(2023, 1, 1),
            recorded_by_agency=probation,
        ),
        offence=Offence.objects.create(
            person=person,
            offence_code=code,
            offence_date=dt.date(2021, 6, 1),
            disposal_type="custody",
            disposal_date=dt.date(2021, 9, 1),
            recorded_by_agency=police,
        ),
        arrest=Arrest.objects.create(
            person=person,
            arrest_date=dt.date(2021, 6, 2),
            offence_code=code,
            outcome="charged",
            recorded_by_agency=police,
        ),
        intelligence=IntelligenceItem.objects.create(
            person=person,
            recorded_date=dt.date(2024, 2, 1),
            source_grade="1",
            intelligence_grade="B",
            handling_code="P",
            text="Seen with known associates near the harbour.",
            recorded_by_agency=police,
        ),
    )


def actor_with(user: Any, agency_code: str, role: str, hub: Any = None) -> Actor:
    """An actor in an extra membership (e.g. a hub-scoped one), without touching the persona's."""
    membership = Membership.objects.create(
        user=user, agency=agency(agency_code), role=role, hub=hub
    )
    membership = Membership.objects.select_related("agency__agency_type", "hub").get(
        pk=membership.pk
    )
    return Actor(user=user, membership=membership)


def events(event_type: str, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type, **filters).order_by("id"))
