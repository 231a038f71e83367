"""A referred, listed and registered person, and signed-in clients for the personas."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openiom.cohort import services
from openiom.cohort.models import CohortDefinition, Referral, Registration
from openiom.offending.models import Offence
from openiom.partnership.models import Agency
from tests.web.conftest import client_for  # noqa: F401  (fixture)

TODAY = timezone.localdate()
PANEL_DAY = TODAY - dt.timedelta(days=120)


def agency(code: str) -> Agency:
    return Agency.objects.get(code=code)


def fixed_cohort(on: dt.date = PANEL_DAY) -> CohortDefinition:
    found = CohortDefinition.in_force("fixed", on)
    assert found is not None
    return found


@pytest.fixture
def burglar(make_person: Any, offence_code: Any) -> Any:
    """An adult with a recent domestic burglary (meets the default Fixed cohort criteria)."""
    person = make_person(first_names="Dean", surname="Walsh", date_of_birth=dt.date(1994, 5, 17))
    Offence.objects.create(
        person=person,
        offence_code=offence_code("028/01"),
        offence_date=PANEL_DAY - dt.timedelta(days=60),
        disposal_type="community_order",
        disposal_date=PANEL_DAY - dt.timedelta(days=20),
    )
    return person


@pytest.fixture
def submitted(actor: Any, involve: Any, burglar: Any) -> Referral:
    involve(burglar, "housing.worker")
    return services.create_referral(
        actor=actor("housing.worker"),
        person=burglar,
        reason="Repeat burglaries; losing his tenancy",
        evidence="Two burglaries in a year",
        submit=True,
    )


@pytest.fixture
def listed(actor: Any, submitted: Referral) -> Referral:
    return services.list_referral_for_panel(
        actor=actor("coordinator"), referral=submitted, panel_date=PANEL_DAY
    )


@pytest.fixture
def registration(actor: Any, personas: Any, listed: Referral) -> Registration:
    panel = services.record_panel_decision(
        actor=actor("coordinator"),
        referral=listed,
        decision="adopt",
        decided_on=PANEL_DAY,
        agencies_present=[agency("probation-wessex"), agency("wessex-police")],
        rationale="Prolific burglar",
        cohort=fixed_cohort(),
        lead_agency=agency("probation-wessex"),
        lead_worker=personas["probation.om"],
    )
    return Registration.objects.get(panel_decision=panel)
