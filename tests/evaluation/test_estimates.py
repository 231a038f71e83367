"""Matched outcome differences on small samples worked out by hand (and cross-checked with
statsmodels' cluster-robust regression, the route MatchIt's documentation recommends)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import statsmodels.api as sm

from openiom.evaluation.methods import estimates
from openiom.evaluation.methods.types import MatchResult

Z95 = 1.959963984540054  # standard normal 97.5% point


def make_match(sets: list[tuple[int, list[int]]], n: int) -> MatchResult:
    """A MatchResult from [(treated row, [control rows]), ...] with MatchIt-style ATT weights
    (treated 1; each control 1/k per set it is in). A test stand-in for matching.match."""
    pair_treated, pair_control, pair_id = [], [], []
    weights = np.zeros(n)
    for set_id, (t, controls) in enumerate(sets):
        weights[t] = 1.0
        for c in controls:
            pair_treated.append(t)
            pair_control.append(c)
            pair_id.append(set_id)
            weights[c] += 1.0 / len(controls)
    used = {c for _, cs in sets for c in cs}
    return MatchResult(
        treated_rows=np.array([t for t, _ in sets], dtype=np.int64),
        pair_treated=np.array(pair_treated, dtype=np.int64),
        pair_control=np.array(pair_control, dtype=np.int64),
        pair_id=np.array(pair_id, dtype=np.int64),
        weights=weights,
        caliper=None,
        n_treated=len(sets),
        n_treated_matched=len(sets),
        n_treated_unmatched=0,
        n_controls=n - len(sets),
        n_controls_used=len(used),
    )


def _flags(n: int, treated_rows: list[int]) -> np.ndarray:
    t = np.zeros(n, dtype=bool)
    t[treated_rows] = True
    return t


def test_rate_difference_one_to_one_by_hand() -> None:
    # Pairs (0,4) (1,5) (2,6) (3,7). Treated reoffend 0,1,0,0; controls 1,1,0,1.
    y = np.array([0, 1, 0, 0, 1, 1, 0, 1], dtype=float)
    match = make_match([(0, [4]), (1, [5]), (2, [6]), (3, [7])], 8)
    est = estimates.rate_difference(y, _flags(8, [0, 1, 2, 3]), match)
    # Rates 1/4 and 3/4; pair differences d = -1, 0, 0, -1 → mean -0.5.
    assert est.treated == pytest.approx(0.25)
    assert est.comparison == pytest.approx(0.75)
    assert est.difference == pytest.approx(-0.5)
    # var(d) = [(−.5)² + .5² + .5² + (−.5)²]/3 = 1/3; SE² = var(d)/S × (N−1)/(N−2), N = 8 rows
    se = math.sqrt((1 / 3) / 4 * 7 / 6)
    assert se == pytest.approx(0.311805, abs=1e-6)
    assert est.ci_low == pytest.approx(-0.5 - Z95 * se)
    assert est.ci_high == pytest.approx(-0.5 + Z95 * se)
    # z = 0.5 / 0.311805 = 1.6036 → two-sided p = 0.1088
    assert est.p_value == pytest.approx(0.10880, abs=1e-4)
    assert not est.significant
    assert est.measure == "one_year_rate"
    assert "inconclusive" in est.text


def test_mean_difference_one_to_k_matches_weighted_regression() -> None:
    # Sets: treated 0 with controls 3,4; treated 1 with 5; treated 2 with 6,7 (variable ratio).
    y = np.array([5, 2, 4, 1, 3, 4, 0, 2], dtype=float)
    match = make_match([(0, [3, 4]), (1, [5]), (2, [6, 7])], 8)
    est = estimates.mean_difference(
        y, _flags(8, [0, 1, 2]), match, measure="frequency", label="reoffences"
    )
    # Set control means 2, 4, 1 → d = 3, −2, 3; ATT 4/3; treated mean 11/3, comparison 7/3.
    assert est.treated == pytest.approx(11 / 3)
    assert est.comparison == pytest.approx(7 / 3)
    assert est.difference == pytest.approx(4 / 3)
    # var(d) = [(5/3)² + (10/3)² + (5/3)²]/2 = 25/3; SE² = (25/3)/3 × 7/6 → SE = 5/3 × √(7/6)
    se = 5 / 3 * math.sqrt(7 / 6)
    assert est.ci_high - est.difference == pytest.approx(Z95 * se)
    # The same as lm(y ~ treat, weights) with vcovCL(cluster = ~subclass), i.e. statsmodels:
    rows_y = np.array([5, 2, 4, 1, 3, 4, 0, 2], dtype=float)
    w = np.array([1, 1, 1, 0.5, 0.5, 1, 0.5, 0.5])
    t = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=float)
    groups = np.array([0, 1, 2, 0, 0, 1, 2, 2])
    fit = sm.WLS(rows_y, sm.add_constant(t), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": groups}
    )
    assert fit.params[1] == pytest.approx(est.difference)
    assert fit.bse[1] == pytest.approx(se)


def test_weights_agree_with_the_sets() -> None:
    y = np.array([5, 2, 4, 1, 3, 4, 0, 2], dtype=float)
    match = make_match([(0, [3, 4]), (1, [5]), (2, [6, 7])], 8)
    est = estimates.mean_difference(y, _flags(8, [0, 1, 2]), match, measure="x", label="x")
    w = match.weights
    control = ~_flags(8, [0, 1, 2])
    assert est.comparison == pytest.approx(np.sum(w[control] * y[control]) / w[control].sum())


def test_with_replacement_two_way_clustering_by_hand() -> None:
    # 1:1 with replacement: (0,3) (1,3) (2,4); control 3 is used twice.
    y = np.array([1, 1, 0, 0, 1], dtype=float)
    match = make_match([(0, [3]), (1, [3]), (2, [4])], 5)
    est = estimates.rate_difference(y, _flags(5, [0, 1, 2]), match)
    assert est.difference == pytest.approx(1 / 3)  # d = 1, 1, −1
    # Influence values: treated (y − 2/3)/3 = 1/9, 1/9, −2/9; control links −(y − 1/3)/3 =
    # 1/9, 1/9, −2/9. By set: 2/9, 2/9, −4/9 → Σ² = 24/81, × 3/2 = 4/9.
    # By person: treated 1/81+1/81+4/81, control 3: (2/9)² = 4/81, control 4: 4/81 → 14/81 × 5/4.
    # By row (set ∩ person): 12/81 × 6/5.  V = (4/9 + 14/81·5/4 − 12/81·6/5) × (6−1)/(6−2).
    v = (4 / 9 + 14 / 81 * 5 / 4 - 12 / 81 * 6 / 5) * 5 / 4
    assert est.ci_high - est.difference == pytest.approx(Z95 * math.sqrt(v))
    assert "by person" in est.method
    # statsmodels' two-way cluster covariance on the get_matches layout agrees.
    rows_y = np.array([1, 1, 0, 0, 0, 1], dtype=float)
    t = np.array([1, 1, 1, 0, 0, 0], dtype=float)
    groups = np.column_stack([[0, 1, 2, 0, 1, 2], [0, 1, 2, 3, 3, 4]])
    fit = sm.OLS(rows_y, sm.add_constant(t)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    assert fit.bse[1] == pytest.approx(math.sqrt(v))


def test_significant_reduction_is_flagged_and_worded() -> None:
    # 40 pairs: treated never reoffend, 30 of the 40 controls do.
    n = 80
    y = np.zeros(n)
    y[40:70] = 1
    match = make_match([(i, [40 + i]) for i in range(40)], n)
    est = estimates.rate_difference(y, _flags(n, list(range(40))), match)
    assert est.difference == pytest.approx(-0.75)
    assert est.significant and est.ci_high < 0
    assert est.p_value is not None and est.p_value < 0.001
    assert "fewer proven reoffenders per 100 people" in est.text


def test_rate_needs_binary_and_right_way_round() -> None:
    y = np.array([0, 2, 1, 0], dtype=float)
    match = make_match([(0, [2]), (1, [3])], 4)
    with pytest.raises(ValueError, match="binary"):
        estimates.rate_difference(y, _flags(4, [0, 1]), match)
    with pytest.raises(ValueError, match="wrong way round"):
        estimates.rate_difference(np.zeros(4), _flags(4, [2, 3]), match)
    with pytest.raises(ValueError, match="missing"):
        estimates.mean_difference(
            np.array([1, np.nan, 0, 0]), _flags(4, [0, 1]), match, measure="x", label="x"
        )


def test_single_set_has_no_interval() -> None:
    match = make_match([(0, [1])], 2)
    est = estimates.rate_difference(np.array([1.0, 0.0]), _flags(2, [0]), match)
    assert est.difference == 1.0
    assert math.isnan(est.ci_low) and est.p_value is None and not est.significant


def test_bootstrap_two_sets_by_hand() -> None:
    # d = 0 and 1: a resample mean is 0, ½ or 1 with chances ¼, ½, ¼, so the 2.5% and 97.5%
    # percentiles of 500 replicates are 0 and 1 (P(no replicate at 0) = 0.75^500 ≈ 0).
    y = np.array([0.0, 1.0, 0.0, 0.0])
    match = make_match([(0, [2]), (1, [3])], 4)
    est = estimates.bootstrap_difference(
        y, _flags(4, [0, 1]), match, measure="frequency", label="reoffences", seed=1
    )
    assert est.difference == pytest.approx(0.5)
    assert (est.ci_low, est.ci_high) == (0.0, 1.0)
    # About a quarter of replicates are exactly 0: p ≈ 2 × (1 + 125)/501 ≈ 0.5
    assert est.p_value is not None and 0.3 < est.p_value < 0.7
    assert "bootstrap" in est.method and "500" in est.method


def test_bootstrap_is_seeded_fast_and_agrees_with_wald() -> None:
    rng = np.random.default_rng(7)
    sets_n = 2000
    n = sets_n * 2
    y = rng.poisson(2.0, size=n).astype(float)
    y[:sets_n] = rng.poisson(1.6, size=sets_n)  # treated: fewer reoffences
    match = make_match([(i, [sets_n + i]) for i in range(sets_n)], n)
    flags = _flags(n, list(range(sets_n)))
    started = time.perf_counter()
    est = estimates.bootstrap_difference(
        y, flags, match, measure="frequency", label="reoffences", replicates=500, seed=3
    )
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"500 replicates on 2,000 sets took {elapsed:.2f} s"
    again = estimates.bootstrap_difference(
        y, flags, match, measure="frequency", label="reoffences", replicates=500, seed=3
    )
    assert (again.ci_low, again.ci_high) == (est.ci_low, est.ci_high)
    wald = estimates.mean_difference(y, flags, match, measure="frequency", label="reoffences")
    assert est.difference == pytest.approx(wald.difference)
    # Percentile and Wald intervals agree to within a few per cent of their width here.
    width = wald.ci_high - wald.ci_low
    assert abs(est.ci_low - wald.ci_low) < 0.1 * width
    assert abs(est.ci_high - wald.ci_high) < 0.1 * width
    assert est.significant and est.ci_high < 0


def test_resample_means_chunks_like_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    d = np.arange(10.0)
    whole = estimates.resample_means(d, replicates=50, seed=9)
    assert whole.shape == (50,)
    assert np.all((whole >= 0) & (whole <= 9))
    # Large samples are resampled in chunks of replicates; the random stream is the same.
    monkeypatch.setattr(estimates, "_BOOTSTRAP_CELLS", 30)  # 3 replicates per chunk
    assert np.array_equal(whole, estimates.resample_means(d, replicates=50, seed=9))
