"""Payment-by-results measures: binary and frequency against the agreed baseline (hand-computed)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from openiom.vfm import calculations as calc

# Baseline agreed on the contract: 50% reoffend, 3.0 reoffences per reoffender. The binary
# payment needs a fall of at least 5 percentage points and pays £1,000 per person fewer
# reoffending; the frequency payment needs a fall of at least 10% and pays £500 per reoffence
# fewer. No payment below 60 people.
TERMS = calc.ContractTerms(
    baseline_binary_rate=0.50,
    baseline_frequency=3.0,
    frequency_basis="per_reoffender",
    binary_target_points=5.0,
    frequency_target_percent=10.0,
    binary_payment_per_person=1000.0,
    frequency_payment_per_reoffence=500.0,
    minimum_cohort_size=60,
)


def binomial_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def test_both_measures_met_hand_computed() -> None:
    # 100 people, 42 reoffended, 110 reoffences.
    r = calc.contract_measures(cohort_size=100, reoffenders=42, reoffences=110, terms=TERMS)
    assert r.binary_rate == pytest.approx(0.42)
    assert r.binary_reduction_points == pytest.approx(8.0)  # 50 − 42
    assert r.binary_met
    assert r.people_fewer == pytest.approx(50 - 42)  # 0.5 × 100 − 42 = 8
    assert r.binary_payment == pytest.approx(8 * 1000)
    assert r.frequency == pytest.approx(110 / 42)  # 2.619
    assert r.frequency_reduction_percent == pytest.approx(100 * (3.0 - 110 / 42) / 3.0)  # 12.7%
    assert r.frequency_met
    assert r.reoffences_fewer == pytest.approx(3.0 * 42 - 110)  # 16
    assert r.frequency_payment == pytest.approx(16 * 500)
    assert r.payment == pytest.approx(16_000.0)
    assert not r.capped and r.large_enough
    # One-sided exact binomial test of 42/100 against 0.5, summed by hand.
    assert r.binary_p_value == pytest.approx(binomial_cdf(42, 100, 0.5))
    assert r.binary_p_value == pytest.approx(0.0666, abs=5e-5)
    assert "Payable: £16,000.00" in r.summary


def test_targets_not_reached_pay_nothing() -> None:
    # 47 of 100 reoffend (3 points, below the 5-point target); 47 × 2.8 = 131.6 → 132 reoffences
    # gives 132/47 = 2.809 per reoffender, a 6.4% fall (below 10%).
    r = calc.contract_measures(cohort_size=100, reoffenders=47, reoffences=132, terms=TERMS)
    assert r.binary_reduction_points == pytest.approx(3.0)
    assert not r.binary_met and not r.frequency_met
    assert r.frequency_reduction_percent == pytest.approx(100 * (3 - 132 / 47) / 3)
    assert r.payment == 0.0


def test_the_cap_limits_the_payment() -> None:
    capped = replace(TERMS, payment_cap=10_000.0)
    r = calc.contract_measures(cohort_size=100, reoffenders=42, reoffences=110, terms=capped)
    assert r.binary_payment + r.frequency_payment == pytest.approx(16_000.0)
    assert r.payment == 10_000.0 and r.capped
    assert any("cap" in n for n in r.notes)


def test_too_small_a_cohort_meets_nothing() -> None:
    r = calc.contract_measures(cohort_size=50, reoffenders=10, reoffences=20, terms=TERMS)
    assert not r.large_enough and not r.binary_met and not r.frequency_met
    assert r.payment == 0.0
    assert "smaller than the contract's minimum of 60" in r.notes[0]


def test_frequency_per_person_basis() -> None:
    per_person = replace(TERMS, frequency_basis="per_person", baseline_frequency=1.5)
    r = calc.contract_measures(cohort_size=100, reoffenders=42, reoffences=110, terms=per_person)
    assert r.frequency == pytest.approx(1.1)  # 110 / 100
    assert r.frequency_reduction_percent == pytest.approx(100 * 0.4 / 1.5)  # 26.7%
    assert r.reoffences_fewer == pytest.approx(150 - 110)
    assert r.frequency_payment == pytest.approx(40 * 500)


def test_no_reoffenders_has_no_frequency_per_reoffender() -> None:
    r = calc.contract_measures(cohort_size=80, reoffenders=0, reoffences=0, terms=TERMS)
    assert r.frequency is None and not r.frequency_met
    assert r.binary_met and r.people_fewer == pytest.approx(40.0)
    assert any("Nobody reoffended" in n for n in r.notes)


def test_from_outcome_rows_leaves_out_pending_people() -> None:
    rows = [{"reoffended": 1, "reoffences": 3}] * 30 + [{"reoffended": 0, "reoffences": 0}] * 40
    rows += [{"reoffended": None, "reoffences": None}] * 5
    r = calc.contract_measures_from_outcomes(rows, TERMS)
    assert (r.cohort_size, r.reoffenders, r.reoffences) == (70, 30, 90)
    assert any("5 people were left out" in n for n in r.notes)
    with pytest.raises(calc.AppraisalError, match="no one in the cohort has a final outcome"):
        calc.contract_measures_from_outcomes([{"reoffended": None, "reoffences": None}], TERMS)


@pytest.mark.parametrize(
    ("figures", "message"),
    [
        ({"cohort_size": 0, "reoffenders": 0, "reoffences": 0}, "cohort_size: must be 1 or more"),
        ({"cohort_size": 10, "reoffenders": 11, "reoffences": 20}, "reoffenders: cannot be more"),
        ({"cohort_size": 10, "reoffenders": 5, "reoffences": 4}, "reoffences: every reoffender"),
        ({"cohort_size": 10, "reoffenders": -1, "reoffences": 4}, "reoffenders: must be a whole"),
    ],
)
def test_bad_figures_are_refused_with_the_field(figures: dict[str, int], message: str) -> None:
    with pytest.raises(calc.AppraisalError, match=message):
        calc.contract_measures(terms=TERMS, **figures)


def test_result_to_dict_is_plain() -> None:
    import json

    r = calc.contract_measures(cohort_size=100, reoffenders=42, reoffences=110, terms=TERMS)
    data = r.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["payment"] == pytest.approx(16_000.0) and data["binary_met"] is True
