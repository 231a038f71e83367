"""Fixtures for the cohort API: the API clients (tests/api) and the lifecycle routes (tests/cohort)."""

from __future__ import annotations

from tests.api.conftest import as_persona, as_session, as_token, token_for  # noqa: F401
from tests.cohort.conftest import (  # noqa: F401
    adopt,
    burglar,
    listed_referral,
    reconsideration,
    registration,
)
