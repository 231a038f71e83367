"""compare_survival on matched samples: weighted Kaplan–Meier and log-rank by hand, the Cox
hazard ratio on simulated data with a known ratio, and awkward data that must not crash."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from openiom.evaluation.methods import survival
from tests.evaluation.test_estimates import make_match


def _flags(n: int, rows: list[int]) -> np.ndarray:
    t = np.zeros(n, dtype=bool)
    t[rows] = True
    return t


def test_km_and_logrank_by_hand() -> None:
    # Pairs (0,2) (1,3). Treated: reoffended day 2; censored day 4. Controls: days 1 and 3.
    time = np.array([2.0, 4.0, 1.0, 3.0])
    event = np.array([1.0, 0.0, 1.0, 1.0])
    result = survival.compare_survival(
        time, event, _flags(4, [0, 1]), make_match([(0, [2]), (1, [3])], 4)
    )
    # KM treated: day 2, 1 of 2 at risk → ½; stays ½. Control: day 1 → ½; day 3, 1 of 1 → 0.
    assert result.times == [0.0, 1.0, 2.0, 3.0]
    assert result.survival_treated == pytest.approx([1, 1, 0.5, 0.5])
    assert result.survival_comparison == pytest.approx([1, 0.5, 0.5, 0])
    # Log-rank: at day 1 (n=4, 2 treated at risk, 1 event): E_T = ½, V = ½·½·3/3 = ¼;
    # day 2 (n=3, 2 treated): E_T = ⅔, V = ⅔·⅓ = 2/9; day 3 (n=2, 1 treated): E_T = ½, V = ¼.
    # O_T − E_T = 1 − 5/3 = −⅔; χ² = (4/9) / (13/18) = 8/13.
    assert result.logrank_chi2 == pytest.approx(8 / 13)
    assert result.logrank_p == pytest.approx(stats.chi2.sf(8 / 13, 1))
    assert result.events_treated == 1 and result.events_comparison == 2
    assert math.isfinite(result.hazard_ratio)
    assert result.variance == "cluster-robust by matched set"


def test_weighted_km_for_one_to_two() -> None:
    # Treated 0 (reoffends day 5) with controls 1 (day 2) and 2 (censored day 6), weight ½ each.
    time = np.array([5.0, 2.0, 6.0])
    event = np.array([1.0, 1.0, 0.0])
    result = survival.compare_survival(time, event, _flags(3, [0]), make_match([(0, [1, 2])], 3))
    # Control KM: day 2, weight ½ of 1 at risk reoffends → ½; day 5 nobody at risk reoffends.
    assert result.times == [0.0, 2.0, 5.0]
    assert result.survival_comparison == pytest.approx([1, 0.5, 0.5])
    assert result.survival_treated == pytest.approx([1, 1, 0])
    assert result.events_comparison == pytest.approx(0.5)


def _simulated(pairs: int, hazard_ratio: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    base = 1 / 300  # comparison: exponential, mean 300 days
    t_treated = rng.exponential(1 / (base * hazard_ratio), pairs)
    t_control = rng.exponential(1 / base, pairs)
    time = np.concatenate([t_treated, t_control])
    event = (time <= 365).astype(float)
    time = np.minimum(time, 365)
    return time, event


def test_cox_hazard_ratio_recovers_a_known_ratio() -> None:
    pairs = 1500
    time, event = _simulated(pairs, 0.6, seed=11)
    match = make_match([(i, [pairs + i]) for i in range(pairs)], 2 * pairs)
    result = survival.compare_survival(time, event, _flags(2 * pairs, list(range(pairs))), match)
    assert result.hazard_ratio_ci_low < 0.6 < result.hazard_ratio_ci_high
    assert result.cox_p < 0.001 and result.logrank_p < 0.001
    # Constant hazards: the proportional-hazards check should not object.
    assert result.proportional_hazards_p is not None and result.proportional_hazards_p > 0.01


def test_non_proportional_hazards_are_flagged() -> None:
    rng = np.random.default_rng(5)
    pairs = 1500
    # Treated: Weibull shape 3 (hazard rising steeply); controls: exponential. Same median-ish.
    t_treated = 250 * rng.weibull(3.0, pairs)
    t_control = rng.exponential(250, pairs)
    time = np.concatenate([t_treated, t_control])
    event = (time <= 365).astype(float)
    time = np.minimum(time, 365)
    match = make_match([(i, [pairs + i]) for i in range(pairs)], 2 * pairs)
    result = survival.compare_survival(time, event, _flags(2 * pairs, list(range(pairs))), match)
    assert result.proportional_hazards_p is not None and result.proportional_hazards_p < 0.05
    assert "proportional-hazards" in result.note


def test_no_events_in_the_treated_group_does_not_crash() -> None:
    time = np.array([365.0, 365.0, 365.0, 100.0, 200.0, 365.0])
    event = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    match = make_match([(0, [3]), (1, [4]), (2, [5])], 6)
    result = survival.compare_survival(time, event, _flags(6, [0, 1, 2]), match)
    assert math.isnan(result.hazard_ratio) and math.isnan(result.cox_p)
    assert "no one in the programme group reoffended" in result.note
    assert result.survival_treated == [1.0, 1.0, 1.0]
    assert result.survival_comparison == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert math.isfinite(result.logrank_p)


def test_no_events_at_all() -> None:
    time = np.full(4, 365.0)
    event = np.zeros(4)
    match = make_match([(0, [2]), (1, [3])], 4)
    result = survival.compare_survival(time, event, _flags(4, [0, 1]), match)
    assert math.isnan(result.logrank_p) and math.isnan(result.hazard_ratio)
    assert "either group" in result.note
    assert result.times == [0.0]


def test_bad_time_or_event_values() -> None:
    match = make_match([(0, [1])], 2)
    with pytest.raises(ValueError, match="negative"):
        survival.compare_survival(
            np.array([-1.0, 3.0]), np.array([1.0, 1.0]), _flags(2, [0]), match
        )
    with pytest.raises(ValueError, match="event flag"):
        survival.compare_survival(np.array([1.0, 3.0]), np.array([2.0, 1.0]), _flags(2, [0]), match)


def test_cox_with_weights_uses_robust_variance() -> None:
    time, event = _simulated(300, 0.7, seed=2)
    group = np.r_[np.ones(300), np.zeros(300)].reshape(-1, 1)
    fit = survival.fit_cox(time, event, group, ["treated"], weights=np.full(600, 0.5))
    plain = survival.fit_cox(time, event, group, ["treated"])
    assert fit.robust and not plain.robust
    # Scaling all weights leaves the estimate unchanged.
    assert fit.coefficients[0] == pytest.approx(plain.coefficients[0], abs=1e-6)
