"""Rossi et al. (1980) re-arrest data (lifelines `load_rossi`): the survival module's building
blocks reproduce the published figures (evaluation-methods.md §8)."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines.datasets import load_rossi

from openiom.evaluation.methods import survival

COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


@pytest.fixture(scope="module")
def rossi() -> dict[str, np.ndarray]:
    frame = load_rossi()
    return {c: frame[c].to_numpy(dtype=float) for c in frame.columns}


def test_cox_efron_coefficients(rossi: dict[str, np.ndarray]) -> None:
    x = np.column_stack([rossi[c] for c in COVARIATES])
    fit = survival.fit_cox(rossi["week"], rossi["arrest"], x, COVARIATES)
    # Published: fin −0.3794 (HR 0.684), prio 0.0915, age −0.0574.
    assert fit.coefficient("fin") == pytest.approx(-0.379, abs=0.001)
    assert fit.hazard_ratios[0] == pytest.approx(0.684, abs=0.001)
    assert fit.coefficient("prio") == pytest.approx(0.0915, abs=0.0001)
    assert fit.coefficient("age") == pytest.approx(-0.0574, abs=0.0001)
    assert not fit.robust


def test_logrank_for_financial_aid(rossi: dict[str, np.ndarray]) -> None:
    chi2, p = survival.logrank(rossi["week"], rossi["arrest"], rossi["fin"])
    # Published: χ² = 3.84, p = 0.050.
    assert chi2 == pytest.approx(3.84, abs=0.005)
    assert p == pytest.approx(0.050, abs=0.001)


def test_one_year_arrest_by_kaplan_meier(rossi: dict[str, np.ndarray]) -> None:
    aid = rossi["fin"] == 1
    grid = np.array([52.0])
    ones = np.ones(len(aid))
    s_aid = survival.kaplan_meier(rossi["week"][aid], rossi["arrest"][aid], ones[aid], grid)
    s_none = survival.kaplan_meier(rossi["week"][~aid], rossi["arrest"][~aid], ones[~aid], grid)
    # Published: 52-week arrest 22.2% with aid vs 30.6% without.
    assert 1 - s_aid[0] == pytest.approx(0.222, abs=0.001)
    assert 1 - s_none[0] == pytest.approx(0.306, abs=0.001)
