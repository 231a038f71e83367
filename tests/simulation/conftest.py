"""One simulated area per test session, shared by the generator tests (generation is the slow part)."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.simulation.generator import Chunk, generate_all

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="session")
def area() -> Chunk:
    return generate_all(people=20_000, seed=11, as_of=AS_OF)
