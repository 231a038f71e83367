"""Fixtures for provider referrals: a registered person no partner agency works with yet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiom.cohort import services as cohort_services
from openiom.cohort.models import Registration
from openiom.partnership.models import Agency
from openiom.providers import services
from openiom.providers.models import ProviderReferral
from tests.api.conftest import as_persona, as_session, as_token, token_for  # noqa: F401
from tests.cohort.conftest import PANEL_DAY, adopt, burglar, client_for  # noqa: F401

CONSENT_DAY = dt.date(2026, 3, 20)


def agency(code: str) -> Agency:
    return Agency.objects.get(code=code)


@pytest.fixture
def reg(actor: Any, burglar: Any, adopt: Any) -> Registration:  # noqa: F811
    """The burglar referred by the IOM coordinator (not by a partner), adopted with probation.om
    as lead worker: no partner agency is working with him."""
    referral = cohort_services.create_referral(
        actor=actor("coordinator"),
        person=burglar,
        reason="Repeat burglaries",
        submit=True,
    )
    referral = cohort_services.list_referral_for_panel(
        actor=actor("coordinator"), referral=referral, panel_date=PANEL_DAY
    )
    return adopt(referral)


@pytest.fixture
def send(actor: Any, reg: Registration) -> Any:
    """send() -> probation.om refers the person to Harbour Housing (with consent)."""

    def run(
        by: str = "probation.om",
        to: str = "harbour-housing",
        service_type: str = "housing",
        **overrides: Any,
    ) -> ProviderReferral:
        kwargs: dict[str, Any] = {
            "actor": actor(by),
            "registration": reg,
            "service_type": service_type,
            "receiving_agency": agency(to),
            "reason": "Sofa surfing since release; needs supported accommodation",
            "consent_given_on": CONSENT_DAY,
            "consent_recorded_how": "signed_form",
        }
        kwargs.update(overrides)
        return services.send_referral(**kwargs)

    return run


@pytest.fixture
def referral(send: Any) -> ProviderReferral:
    return send()


@pytest.fixture
def step(actor: Any) -> Any:
    """step(referral, "accept", by="housing.worker", reason="") -> the referral after the step."""

    def run(
        referral: ProviderReferral, action: str, by: str = "housing.worker", reason: str = ""
    ) -> ProviderReferral:
        return services.transition(actor=actor(by), referral=referral, action=action, reason=reason)

    return run


# The steps that take a referral from sent to each state (action, actor, reason).
PATHS: dict[str, list[tuple[str, str, str]]] = {
    "sent": [],
    "accepted": [("accept", "housing.worker", "")],
    "in_progress": [("accept", "housing.worker", ""), ("start", "housing.worker", "")],
    "completed": [
        ("accept", "housing.worker", ""),
        ("start", "housing.worker", ""),
        ("complete", "housing.worker", "Tenancy signed"),
    ],
    "declined": [("decline", "housing.worker", "No capacity this quarter")],
    "ended_early": [
        ("accept", "housing.worker", ""),
        ("end_early", "housing.worker", "Moved out of the area"),
    ],
    "withdrawn": [("withdraw", "probation.om", "Found accommodation with family")],
}


@pytest.fixture
def in_state(referral: ProviderReferral, step: Any) -> Any:
    """in_state("in_progress") -> the referral moved there by the natural actors."""

    def run(state: str) -> ProviderReferral:
        current = referral
        for action, by, reason in PATHS[state]:
            current = step(current, action, by=by, reason=reason)
        assert current.state == state
        return current

    return run
