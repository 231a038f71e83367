"""Fixtures for management plans: a registration (probation.om lead worker, housing involved),
its plan, and web and API clients for the personas."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest

from openiom.partnership.models import Agency
from openiom.plans import services
from openiom.plans.models import ManagementPlan, PlanAction
from tests.api.conftest import as_persona, as_session, as_token, token_for  # noqa: F401
from tests.cohort.conftest import (  # noqa: F401
    adopt,
    burglar,
    client_for,
    listed_referral,
    registration,
)

DUE = dt.date(2026, 6, 30)


def agency(code: str) -> Agency:
    return Agency.objects.get(code=code)


@pytest.fixture
def plan(registration: Any, actor: Any) -> ManagementPlan:  # noqa: F811
    """The draft plan of the burglar's registration, started by the lead worker (probation.om)."""
    return services.create_plan(actor=actor("probation.om"), registration=registration)


@pytest.fixture
def add_action(actor: Any, personas: dict[str, Any]) -> Any:
    """add_action(plan, "harbour-housing", description=..., **overrides) -> PlanAction."""

    def make(plan: ManagementPlan, agency_code: str, **overrides: Any) -> PlanAction:
        kwargs: dict[str, Any] = {
            "actor": actor("probation.om"),
            "plan": plan,
            "owner_agency": agency(agency_code),
            "action_type": "support",
            "description": f"Action for {agency_code}",
            "due_date": DUE,
        }
        kwargs.update(overrides)
        return services.add_action(**kwargs)

    return make


@pytest.fixture
def full_plan(plan: ManagementPlan, add_action: Any, actor: Any, personas: dict[str, Any]) -> Any:
    """A plan with an own-words objective and actions for housing, drugs and police (disruption)."""
    services.add_objective(
        actor=actor("probation.om"),
        plan=plan,
        text="I want my own flat and to see my daughter again",
        own_words=True,
    )
    housing = add_action(
        plan,
        "harbour-housing",
        description="Find a supported tenancy",
        owner_worker=personas["housing.worker"],
        additional=True,
        estimated_cost=decimal.Decimal("1200.00"),
    )
    drugs = add_action(
        plan, "turning-point-wessex", action_type="intervention", description="Start a script"
    )
    police = add_action(
        plan,
        "wessex-police",
        action_type="disruption",
        description="DISRUPTCHECK curfew checks at the bail address",
    )
    return {"plan": plan, "housing": housing, "drugs": drugs, "police": police}
