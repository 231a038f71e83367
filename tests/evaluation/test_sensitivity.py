"""Rosenbaum bounds against evaluation-methods.md §3's test vector, and the minimum detectable
effect against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openiom.evaluation.methods import sensitivity
from tests.evaluation.test_estimates import make_match

# evaluation-methods.md §3: D = 122 discordant pairs, T = 110 favourable.
D, T = 122, 110
PUBLISHED = {3.0: 2e-5, 4.0: 0.00196, 5.0: 0.0232, 6.0: 0.0969}


@pytest.mark.parametrize(("gamma", "expected"), sorted(PUBLISHED.items()))
def test_upper_p_matches_the_worked_example(gamma: float, expected: float) -> None:
    p = sensitivity.rosenbaum_upper_p(D, T, gamma)
    # The reference gives 1–3 significant figures; agree to its last digit.
    assert p == pytest.approx(expected, rel=0.02)


def test_gamma_one_is_the_sign_test() -> None:
    # With no hidden bias p_upper = P(Bin(D, ½) ≥ T). Small case by hand: D = 4, T = 4 → 1/16.
    assert sensitivity.rosenbaum_upper_p(4, 4, 1.0) == pytest.approx(1 / 16)
    # D = 4, T = 3: (4 + 1)/16.
    assert sensitivity.rosenbaum_upper_p(4, 3, 1.0) == pytest.approx(5 / 16)
    # Γ = 3, D = 2, T = 2: q = 3/4, q² = 9/16.
    assert sensitivity.rosenbaum_upper_p(2, 2, 3.0) == pytest.approx(9 / 16)


def test_largest_gamma_brackets_the_boundary() -> None:
    gamma = sensitivity.largest_gamma(D, T)
    assert gamma is not None
    # From the table, p_upper crosses 0.05 between Γ = 5 (0.0232) and Γ = 6 (0.0969).
    assert 5 < gamma < 6
    assert sensitivity.rosenbaum_upper_p(D, T, gamma) < 0.05
    assert sensitivity.rosenbaum_upper_p(D, T, gamma + 0.01) >= 0.05


def test_bounds_table_and_not_significant_case() -> None:
    bounds = sensitivity.rosenbaum_bounds(D, T, gammas=[1, 3, 4, 5, 6])
    assert [g for g, _ in bounds.gamma_table] == [1, 3, 4, 5, 6]
    for g, p in bounds.gamma_table[1:]:
        assert p == pytest.approx(PUBLISHED[g], rel=0.02)
    assert bounds.discordant_pairs == D and bounds.favourable_pairs == T
    # 6 of 10 favourable: P(Bin(10, ½) ≥ 6) = 386/1024 ≈ 0.377, not significant even at Γ = 1.
    weak = sensitivity.rosenbaum_bounds(10, 6)
    assert weak.largest_gamma is None
    assert weak.gamma_table[0] == (1.0, pytest.approx(386 / 1024))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="favourable"):
        sensitivity.rosenbaum_upper_p(5, 6, 1.0)
    with pytest.raises(ValueError, match="at least 1"):
        sensitivity.rosenbaum_upper_p(5, 3, 0.5)
    assert sensitivity.rosenbaum_upper_p(5, 0, 2.0) == 1.0


def test_discordant_pairs_from_matched_pairs() -> None:
    # Pairs (treated, control): (0,5) 0/1 favourable, (1,6) 1/0 unfavourable, (2,7) 0/0,
    # (3,8) 0/1 favourable, (4,9) 1/1.
    y = np.array([0, 1, 0, 0, 1, 1, 0, 0, 1, 1], dtype=float)
    match = make_match([(0, [5]), (1, [6]), (2, [7]), (3, [8]), (4, [9])], 10)
    assert sensitivity.discordant_pairs(y, match) == (3, 2)


def test_discordant_pairs_one_to_k_uses_first_control() -> None:
    # Treated 0 with controls 2 (first, reoffended) and 3; treated 1 with 4 (first, no) and 5.
    y = np.array([0, 1, 1, 0, 0, 1], dtype=float)
    match = make_match([(0, [2, 3]), (1, [4, 5])], 6)
    # First controls: pair (0, 2) = 0/1 favourable; pair (1, 4) = 1/0 unfavourable.
    assert sensitivity.discordant_pairs(y, match) == (2, 1)


def test_minimum_detectable_effect_by_hand() -> None:
    # n = 100 per group, base rate 50%: SE = √(0.25 × (1/100 + 1/100)) = √0.005 = 0.0707107;
    # z(0.975) + z(0.8) = 1.959964 + 0.841621 = 2.801585; MDE = 0.198101 → 19.81 points.
    assert sensitivity.minimum_detectable_effect(100, 100, 0.5) == pytest.approx(19.81, abs=0.005)
    # 142 analysed (Leeds IOM, evaluation-methods.md §2) against 142 controls, 56% base rate:
    se = math.sqrt(0.56 * 0.44 * (2 / 142))
    assert sensitivity.minimum_detectable_effect(142, 142, 0.56) == pytest.approx(
        100 * 2.801585 * se, rel=1e-5
    )
    with pytest.raises(ValueError):
        sensitivity.minimum_detectable_effect(0, 10, 0.5)
    with pytest.raises(ValueError):
        sensitivity.minimum_detectable_effect(10, 10, 1.5)
