"""Fixtures for caseloads: web and API clients, and a hand-built world of registrations."""

from __future__ import annotations

from tests.api.conftest import as_persona, as_session, as_token, token_for  # noqa: F401
from tests.cohort.conftest import (  # noqa: F401
    adopt,
    burglar,
    client_for,
    listed_referral,
    registration,
)
