"""A small scored area, signed-in clients, and the immediate task backend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import CustodyEpisode
from openiom.scoring import defaults
from openiom.scoring.models import ScoringPolicy, ScoringRun
from openiom.scoring.services import run_scoring
from tests.browser.conftest import browser, govuk_assets  # noqa: F401  (the journey's fixtures)

AS_OF = dt.date(2025, 1, 1)
FIXED = defaults.POLICY_KEYS["fixed"]
FREE = defaults.POLICY_KEYS["free"]
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = IMMEDIATE


@pytest.fixture
def client_for(personas: dict[str, Any]) -> Any:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(personas[username])
        return client

    return make


def build_area(make_person: Any, offence_code: Any, n: int = 6) -> list[Any]:
    """n people with rising offending (person i has 2i+1 offences), one with intelligence and
    one in long custody; sexes and ethnicities vary."""
    sexes = ["M", "F"]
    ethnic = [("IC1", "W1"), ("IC3", "B1"), ("IC4", "A1")]
    people = []
    for i in range(n):
        officer, self_defined = ethnic[i % 3]
        people.append(
            make_person(
                date_of_birth=dt.date(1985 + i, 3, 1),
                sex=sexes[i % 2],
                ethnicity_officer_defined=officer,
                ethnicity_self_defined=self_defined,
            )
        )
    burglary, assault = offence_code("028/01"), offence_code("105/01")
    for i, person in enumerate(people):
        for k in range(i * 2 + 1):
            Offence.objects.create(
                person=person,
                offence_code=burglary if k % 2 == 0 else assault,
                offence_date=AS_OF - dt.timedelta(days=20 + 40 * k),
                disposal_type="community_order",
                disposal_date=AS_OF - dt.timedelta(days=10 + 40 * k),
            )
        Arrest.objects.create(
            person=person, arrest_date=AS_OF - dt.timedelta(days=5 + i), outcome="charged"
        )
    IntelligenceItem.objects.create(
        person=people[1],
        recorded_date=AS_OF - dt.timedelta(days=7),
        source_grade="1",
        intelligence_grade="A",
        handling_code="P",
        text="Seen with stolen goods.",
    )
    CustodyEpisode.objects.create(
        person=people[n - 1],
        custody_type="sentenced",
        received_date=AS_OF - dt.timedelta(days=3),
        sentence_length_days=2000,
        expected_release_date=AS_OF + dt.timedelta(days=900),
    )
    return people


@pytest.fixture
def area(make_person: Any, offence_code: Any) -> list[Any]:
    return build_area(make_person, offence_code)


@pytest.fixture
def policy(db: Any) -> ScoringPolicy:
    return ScoringPolicy.objects.get(key=FREE, version=1)


@pytest.fixture
def run(area: list[Any], actor: Any, policy: ScoringPolicy) -> ScoringRun:
    return run_scoring(actor=actor("coordinator"), policy=policy, as_of=AS_OF)
