"""Fixtures borrowed for the audit tests: API clients and a registration with a lead worker."""

from tests.api.conftest import as_persona, as_session, as_token, token_for  # noqa: F401
from tests.cohort.conftest import adopt, burglar, listed_referral  # noqa: F401
