"""A person with a full history, and signed-in clients for the personas."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import (
    Address,
    Alias,
    CustodyEpisode,
    Person,
    PersonIdentifier,
    SupervisionPeriod,
)


def add_history(person: Person, offence_code: Any) -> Person:
    """Offences in several categories, a custody period, licence, alias, address, intelligence."""
    offences = [
        ("028/01", dt.date(2016, 5, 3), "custody"),
        ("028/01", dt.date(2019, 8, 21), "custody"),
        ("038/00", dt.date(2018, 2, 11), "fine"),
        ("038/00", dt.date(2022, 11, 2), "community_order"),
        ("077/00", dt.date(2021, 6, 30), "caution"),
    ]
    for code, date, disposal in offences:
        Offence.objects.create(
            person=person,
            offence_code=offence_code(code),
            offence_date=date,
            disposal_type=disposal,
            disposal_date=date + dt.timedelta(days=40),
            court="Wessex Crown Court",
        )
    Arrest.objects.create(
        person=person,
        arrest_date=dt.date(2023, 3, 1),
        offence_code=offence_code("028/01"),
        outcome="nfa",
    )
    CustodyEpisode.objects.create(
        person=person,
        custody_type="sentenced",
        establishment="HMP Wessex",
        received_date=dt.date(2019, 10, 1),
        release_date=dt.date(2020, 9, 30),
        release_type="licence",
    )
    SupervisionPeriod.objects.create(
        person=person,
        supervision_type="licence",
        start_date=dt.date(2020, 9, 30),
        expected_end_date=dt.date.today() + dt.timedelta(days=200),
    )
    Alias.objects.create(person=person, first_names="Jay", surname="Smythe")
    PersonIdentifier.objects.create(person=person, scheme="cro", value="123456/16X")
    Address.objects.create(
        person=person, line_1="1 Harbour Row", town="Southport", postcode="SP1 1AA"
    )
    IntelligenceItem.objects.create(
        person=person,
        recorded_date=dt.date(2024, 1, 15),
        source_grade="1",
        intelligence_grade="B",
        handling_code="C",
        handling_conditions="Not to be shared outside IOM without the originator's agreement",
        text="SECRETINTEL seen with known burglary associates.",
    )
    return person


@pytest.fixture
def nominal(make_person: Any, offence_code: Any) -> Person:
    person = make_person(first_names="Jason", surname="Smith", date_of_birth=dt.date(1991, 4, 2))
    return add_history(person, offence_code)


@pytest.fixture
def client_for(personas: dict[str, Any]) -> Any:
    """client_for("dpo") -> a test client signed in as that persona."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(personas[username])
        return client

    return make
