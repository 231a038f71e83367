"""Fixtures for the cohort lifecycle: cohorts, a referred person, and quick routes to a registration."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiom.audit.models import AuditEvent
from openiom.cohort import services
from openiom.cohort.models import CohortDefinition, Reconsideration, Referral, Registration
from openiom.offending.models import Offence
from openiom.partnership.models import Agency
from tests.web.conftest import client_for  # noqa: F401  (fixture, for the page tests)

# Fixed dates in the past (services refuse RAG and de-registration dates in the future).
PANEL_DAY = dt.date(2026, 3, 2)
SENTENCED_DAY = dt.date(2026, 9, 10)  # long custody: de-registered, reconsideration scheduled


def agency(code: str) -> Agency:
    return Agency.objects.get(code=code)


def events(event_type: str, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type, **filters).order_by("id"))


def cohort(key: str, on: dt.date = PANEL_DAY) -> CohortDefinition:
    found = CohortDefinition.in_force(key, on)
    assert found is not None
    return found


@pytest.fixture
def burglar(make_person: Any, offence_code: Any) -> Any:
    """An adult with a recent domestic burglary (meets the default Fixed cohort criteria)."""
    person = make_person(first_names="Dean", surname="Walsh", date_of_birth=dt.date(1994, 5, 17))
    Offence.objects.create(
        person=person,
        offence_code=offence_code("028/01"),
        offence_date=dt.date(2025, 11, 3),
        disposal_type="community_order",
        disposal_date=dt.date(2025, 12, 15),
    )
    return person


@pytest.fixture
def listed_referral(actor: Any, involve: Any, burglar: Any) -> Referral:
    """Housing refers the burglar they house; the coordinator lists it for the panel."""
    involve(burglar, "housing.worker")
    referral = services.create_referral(
        actor=actor("housing.worker"),
        person=burglar,
        reason="Repeat burglaries; losing his tenancy",
        evidence="Two burglaries in a year; arrears letters",
        submit=True,
    )
    return services.list_referral_for_panel(
        actor=actor("coordinator"), referral=referral, panel_date=PANEL_DAY
    )


@pytest.fixture
def adopt(actor: Any, personas: dict[str, Any]) -> Any:
    """adopt(referral) -> Registration in the Fixed cohort with probation.om as lead worker."""

    def run(referral: Referral, on: dt.date = PANEL_DAY, **overrides: Any) -> Registration:
        kwargs: dict[str, Any] = {
            "actor": actor("coordinator"),
            "referral": referral,
            "decision": "adopt",
            "decided_on": on,
            "agencies_present": [agency("probation-wessex"), agency("wessex-police")],
            "rationale": "Prolific burglar; housing at risk",
            "cohort": cohort("fixed", on),
            "lead_agency": agency("probation-wessex"),
            "lead_worker": personas["probation.om"],
        }
        kwargs.update(overrides)
        decision = services.record_panel_decision(**kwargs)
        return Registration.objects.get(panel_decision=decision)

    return run


@pytest.fixture
def registration(listed_referral: Referral, adopt: Any) -> Registration:
    return adopt(listed_referral)


@pytest.fixture
def reconsideration(registration: Registration, actor: Any) -> Reconsideration:
    """Eight years' custody: de-registered on SENTENCED_DAY, back to the referral and review
    meeting by 1 September 2029 (12 months before the expected release on 1 September 2030)."""
    from openiom.people.models import CustodyEpisode

    CustodyEpisode.objects.create(
        person=registration.person,
        custody_type="sentenced",
        received_date=dt.date(2026, 9, 1),
        sentence_length_days=8 * 365,
        expected_release_date=dt.date(2030, 9, 1),
    )
    services.deregister(
        actor=actor("coordinator"),
        registration=registration,
        reason="long_custody",
        on=SENTENCED_DAY,
    )
    return Reconsideration.objects.get(registration=registration)
