"""Justice-Data-Lab style wording "per 100 people" (evaluation-methods.md §2)."""

from __future__ import annotations

from openiom.evaluation.methods import wording
from openiom.evaluation.methods.types import Estimate


def _est(
    measure: str,
    label: str,
    treated: float,
    comparison: float,
    low: float,
    high: float,
    p: float | None,
) -> Estimate:
    return Estimate(
        measure=measure,
        label=label,
        treated=treated,
        comparison=comparison,
        difference=treated - comparison,
        ci_low=low,
        ci_high=high,
        p_value=p,
        significant=p is not None and (low > 0 or high < 0),
        method="test",
    )


REDUCTION = _est(
    "one_year_rate", "one-year proven reoffending rate", 0.45, 0.56, -0.18, -0.04, 0.003
)
INCREASE = _est("frequency", "number of proven reoffences", 2.6, 2.05, 0.1, 1.0, 0.02)
INCONCLUSIVE = _est(
    "one_year_rate", "one-year proven reoffending rate", 0.52, 0.56, -0.12, 0.04, 0.31
)


def test_significant_reduction_per_100() -> None:
    text = wording.per_100_sentence(REDUCTION)
    # 45 and 56 in every 100; CI −0.18..−0.04 → between 4 and 18 fewer per 100 people.
    assert "45 in every 100 people in the programme group" in text
    assert "compared with 56 in every 100" in text
    assert "statistically significant reduction" in text
    assert "between 4 and 18 fewer proven reoffenders per 100 people" in text
    assert "(95% confidence interval; p = 0.003)" in text


def test_significant_increase_in_frequency() -> None:
    text = wording.per_100_sentence(INCREASE)
    # 2.6 and 2.05 reoffences per person → 260 and 205 per 100; CI 0.1..1.0 → 10 to 100 more.
    assert "260 proven reoffences per 100 people, compared with 205 per 100" in text
    assert "statistically significant increase" in text
    assert "between 10 and 100 more proven reoffences per 100 people" in text


def test_inconclusive_uses_the_careful_jdl_wording() -> None:
    text = wording.per_100_sentence(INCONCLUSIVE)
    assert "inconclusive" in text
    assert "between 12 fewer and 4 more proven reoffenders per 100 people" in text
    assert "More people would need to take part" in text
    assert "this does not mean the programme fails to affect reoffending" in text
    assert "significant reduction" not in text


def test_other_confidence_level_and_small_p() -> None:
    est = _est("harm", "harm-weighted reoffending (crime-harm days)", 3.1, 4.25, -2.0, -0.3, 1e-5)
    text = wording.per_100_sentence(est, confidence=0.9)
    assert "(90% confidence interval; p < 0.001)" in text
    assert "between 30 and 200 fewer crime-harm days per 100 people" in text
    assert text.startswith("Harm-weighted reoffending")


def test_not_estimable() -> None:
    nan = float("nan")
    est = _est("one_year_rate", "one-year proven reoffending rate", nan, nan, nan, nan, None)
    assert "could not be estimated" in wording.per_100_sentence(est)


def test_number_format() -> None:
    assert wording.fmt(4.0) == "4"
    assert wording.fmt(4.25) == "4.2"  # one decimal below 100 (round half to even)
    assert wording.fmt(1234.5) == "1,234"
    assert wording.fmt(-0.04) == "0"


def test_headline_leads_with_the_rate_and_flags_several_tests() -> None:
    text = wording.headline([INCREASE, REDUCTION], "Fixed cohort, 2024")
    assert text.startswith(
        "Fixed cohort, 2024: between 4 and 18 fewer proven reoffenders per 100 people than a "
        "matched comparison group"
    )
    assert "Number of proven reoffences: between 10 and 100 more" in text
    assert "Several outcomes were tested" in text


def test_headline_inconclusive() -> None:
    text = wording.headline([INCONCLUSIVE], "")
    assert text.startswith(
        "The programme group: the one-year proven reoffending rate result is inconclusive"
    )
    assert "this does not mean the programme fails to affect reoffending" in text
    assert "Several outcomes" not in text
    assert wording.headline([], "X") == "X: no outcomes were estimated."


def test_multiple_outcomes_note() -> None:
    assert wording.multiple_outcomes_note([REDUCTION]) == ""
    # Three tests → Bonferroni threshold 0.05/3 = 0.0167: p = 0.003 survives, 0.02 does not.
    note = wording.multiple_outcomes_note(
        [REDUCTION, INCREASE], others=[("time to first reoffence", 0.2)]
    )
    assert note.startswith("3 outcomes were tested")
    assert "p < 0.0167" in note
    assert "these remain significant: one-year proven reoffending rate." in note
    # Two tests → threshold 0.025; p = 0.03 is significant alone but not after the correction.
    borderline = _est("frequency", "number of proven reoffences", 2.6, 2.05, 0.05, 1.0, 0.03)
    none_left = wording.multiple_outcomes_note([borderline, INCONCLUSIVE])
    assert "none of the results remains significant" in none_left
    nothing = wording.multiple_outcomes_note([INCONCLUSIVE, INCONCLUSIVE])
    assert "Bonferroni" not in nothing
