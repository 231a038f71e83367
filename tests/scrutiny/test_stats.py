"""Wilson intervals and DeLong AUC variance against hand calculations, sklearn and a bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from openiom.scrutiny.stats import (
    Z95,
    auc_with_ci,
    delong,
    fmt_ratio,
    paired_auc_difference,
    wilson,
)


def test_wilson_by_hand() -> None:
    # 2 of 10: p = 0.2, z² = 3.84146, denominator 1 + z²/n = 1.384146;
    # centre = (0.2 + 3.84146/20) / 1.384146 = 0.283265;
    # half = (1.959964 / 1.384146) · sqrt(0.016 + 3.84146/400) = 1.416008 · 0.160012 = 0.226578;
    # so 0.0567 to 0.5098 (the textbook Wilson interval for 2/10).
    p = wilson(2, 10)
    assert p.estimate == 0.2
    assert p.ci_low == pytest.approx(0.056682, abs=1e-5)
    assert p.ci_high == pytest.approx(0.509843, abs=1e-5)


def test_wilson_edges() -> None:
    # 0 of n: lower bound exactly 0, upper bound z²/(n + z²) = 3.84146/13.84146 = 0.27753.
    zero = wilson(0, 10)
    assert zero.ci_low == 0.0
    assert zero.ci_high == pytest.approx(Z95**2 / (10 + Z95**2))
    assert wilson(0, 0).estimate is None
    with pytest.raises(ValueError):
        wilson(3, 2)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_estimate(x: int, n: int) -> None:
    x = min(x, n)
    p = wilson(x, n)
    assert p.ci_low is not None and p.ci_high is not None and p.estimate is not None
    assert 0.0 <= p.ci_low <= p.estimate <= p.ci_high <= 1.0


def test_delong_by_hand() -> None:
    # Positives score 0.9, 0.7, 0.4; negatives 0.8, 0.4, 0.3, 0.1: 3 × 4 = 12 pairs.
    # 0.9 beats all 4; 0.7 beats 3 (not 0.8); 0.4 beats 0.3 and 0.1, ties 0.4 (½), loses to 0.8.
    # Concordant = 4 + 3 + 2.5 = 9.5, so AUC = 9.5 / 12 = 0.791667.
    # V10 (per positive, share of negatives beaten) = 1, 0.75, 0.625: sample variance 0.0364583.
    # V01 (per negative, share of positives above it) = 1/3, 5/6, 1, 1: sample variance 0.0995370.
    # Var(AUC) = 0.0364583 / 3 + 0.0995370 / 4 = 0.0121528 + 0.0248843 = 0.0370370 (= 1/27).
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.7, 0.4, 0.8, 0.4, 0.3, 0.1])
    est = auc_with_ci(y, s)
    assert est.estimate == pytest.approx(9.5 / 12)
    assert est.se == pytest.approx(math.sqrt(1 / 27))
    assert est.ci_low == pytest.approx(9.5 / 12 - Z95 * math.sqrt(1 / 27))
    assert est.ci_high == 1.0  # 0.7917 + 0.3772 is clipped to 1


def test_delong_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="positive and one negative"):
        delong(np.array([1, 1]), np.array([0.1, 0.2]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_auc_matches_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    s = rng.integers(0, 20, 300).astype(float) + y * rng.integers(0, 4, 300)  # many ties
    assert auc_with_ci(y, s).estimate == pytest.approx(roc_auc_score(y, s))


def test_delong_se_agrees_with_bootstrap() -> None:
    rng = np.random.default_rng(7)
    n = 400
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + 0.8 * y
    est = auc_with_ci(y, s)
    boots = []
    for _ in range(1500):
        idx = rng.integers(0, n, n)
        if 0 < y[idx].sum() < n:
            boots.append(roc_auc_score(y[idx], s[idx]))
    boot_se = float(np.std(boots, ddof=1))
    assert est.se is not None
    # Both estimate the same sampling SD; 1,500 resamples pin the bootstrap SD to about ±2%.
    assert est.se == pytest.approx(boot_se, rel=0.12)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    assert est.ci_low == pytest.approx(lo, abs=0.02)
    assert est.ci_high == pytest.approx(hi, abs=0.02)


scores = st.lists(st.integers(-50, 50), min_size=4, max_size=60)


@settings(max_examples=60, deadline=None)
@given(scores, st.randoms())
def test_auc_properties(values: list[int], rnd: object) -> None:
    s = np.array(values, dtype=float)
    y = np.array([i % 2 for i in range(len(s))])
    a = auc_with_ci(y, s).estimate
    # Reversing the score reverses every pair: AUC(−s) = 1 − AUC(s).
    assert auc_with_ci(y, -s).estimate == pytest.approx(1 - a)
    # Only the order matters: strictly increasing transforms leave the AUC unchanged.
    assert auc_with_ci(y, np.exp(s / 10)).estimate == pytest.approx(a)
    assert auc_with_ci(y, 3 * s + 2).estimate == pytest.approx(a)
    assert auc_with_ci(y, s).estimate == pytest.approx(roc_auc_score(y, s))


def test_paired_difference_of_identical_scores_is_zero() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    s = rng.normal(size=200) + y
    d = paired_auc_difference(y, s, 2 * s + 1)
    assert d.difference == pytest.approx(0)
    assert d.se == pytest.approx(0, abs=1e-9)
    assert d.p_value is None  # no variance: no test


def test_paired_difference_detects_a_better_score() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 1000)
    good = rng.normal(size=1000) + 1.5 * y
    poor = rng.normal(size=1000) + 0.2 * y
    d = paired_auc_difference(y, good, poor)
    assert d.difference == pytest.approx(roc_auc_score(y, good) - roc_auc_score(y, poor))
    assert d.ci_low > 0 and d.p_value is not None and d.p_value < 0.001


def test_fmt_ratio() -> None:
    assert fmt_ratio(1.8049) == "1.8"
    assert fmt_ratio(0.4512) == "0.45"
    assert fmt_ratio(12.4) == "12"
