"""Cost–benefit arithmetic against evaluation-methods.md §6 and hand computation.

Every expected number is worked out in the test, step by step, from the inputs written next to
it (or read from the Home Office values the scoring table ships with, evaluation-methods.md §6).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from openiom.scoring.defaults import COST_TABLE
from openiom.vfm import calculations as calc
from openiom.vfm import defaults

# --- the hand-computed case -----------------------------------------------------------------------
#
# Cohort n = 100. Matched frequency estimate: comparison 2.0 reoffences per person, difference
# −0.5 (95% CI −0.9 to −0.1), so p = 0.5 proven reoffences prevented per person in year 1.
# Offence mix: one burglary (domestic) to one criminal damage, at £5,930 and £1,350 (2015/16
# prices) → £3,640 per crime. Deflator 2015 = 80, 2024 = 100 → × 1.25 → £4,550 per crime.
# Proven→actual multiplier m = 2 → £9,100 per proven reoffence.
# Persistence s = 0.5, discount r = 3.5%, horizon H = 3 years:
#   A = 1 + 0.5/1.035 + 0.25/1.035² = 1.716469… (annuity factor)
#   B₁ = 0.5 × 100 × 2 × 4,550 = 455,000;  PV(benefits) = 455,000 × A = 780,993.6
# Programme (2024 prices): 10 h × £40 per person-month for 12 months = £4,800; an intervention of
# £1,000 for half the cohort = £500; per person £5,300; × 100 = £530,000; set-up £20,000:
#   PV(costs) = 550,000 (all in year 0, undiscounted)
#   BCR = 780,993.6 / 550,000 = 1.42;  NPV = 230,993.6
# Break-even: baseline reoffences 2.0 × 100 = 200;
#   r* = 550,000 / (9,100 × 200 × A) = 0.17606

A_HAND = 1 + 0.5 / 1.035 + 0.25 / 1.035**2


def hand_assumptions(**changes: float) -> calc.Assumptions:
    def item(
        key: str, value: float, low: float | None = None, high: float | None = None
    ) -> calc.Assumption:
        return calc.Assumption(
            key, key.replace("_", " "), value, "U", f"test value for {key}", "", low, high
        )

    built = calc.Assumptions(
        appraisal_year="2024",
        deflator=calc.Deflator({"2015": 80.0, "2024": 100.0}, status="V2", source="test"),
        discount_rate=item("discount_rate", 0.035, 0.015, 0.05),
        horizon_years=item("horizon_years", 3),
        proven_to_actual=item("proven_to_actual", 2.0, 1.0, 3.0),
        persistence=item("persistence", 0.5, 0.0, 0.8),
        reoffences_per_reoffender=replace(
            item("reoffences_per_reoffender", 2.9, 2.0, 4.3), status="V"
        ),
        unit_cost_scale=item("unit_cost_scale", 1.0, 0.8, 1.2),
        programme_cost_scale=item("programme_cost_scale", 1.0, 0.8, 1.2),
    )
    for key, value in changes.items():
        built = built.with_value(key, value)
    return built


def hand_programme() -> calc.ProgrammeCosts:
    return calc.ProgrammeCosts(
        price_year="2024",
        months_per_person=calc.Assumption(
            "months_per_person", "Months on IOM", 12, "U", "test", "", 6, 18
        ),
        staff=(calc.StaffTime("Police", "IOM officer", 10, 40, "U", "test"),),
        interventions=(calc.Intervention("Drug treatment", 1000, 0.5, "U", "test"),),
        set_up=(calc.SetUpCost("Set-up", 20000, "U", "test"),),
    )


def hand_unit_costs() -> calc.UnitCosts:
    table = {
        "price_year": "2015/16",
        "categories": {
            "Burglary (domestic)": {"cost": 5930.0, "status": "U", "source": "HO 2018"},
            "Criminal damage": {"cost": 1350.0, "status": "V2", "source": "HO 2018"},
        },
        "default": {"cost": 1000.0, "status": "U", "source": "default"},
    }
    return calc.unit_costs_from_table(
        table, {"Burglary (domestic)": 1, "Criminal damage": 1}, label="test table"
    )


def hand_estimate(**changes: float) -> calc.Estimate:
    values = {"difference": -0.5, "ci_low": -0.9, "ci_high": -0.1, "comparison": 2.0, **changes}
    return calc.effect_estimate(**values)


def hand_appraisal(**assumption_changes: float) -> calc.Appraisal:
    return calc.appraise(
        estimate=hand_estimate(),
        cohort_size=100,
        programme=hand_programme(),
        unit_costs=hand_unit_costs(),
        assumptions=hand_assumptions(**assumption_changes),
    )


def test_hand_computed_case() -> None:
    ap = hand_appraisal()
    assert ap.prevented_per_person == pytest.approx(0.5)
    assert ap.prevented_reoffences == pytest.approx(50.0)
    assert ap.prevented_crimes == pytest.approx(100.0)  # × m = 2
    assert ap.unit_cost_uprating == pytest.approx(100 / 80)
    assert ap.cost_per_crime == pytest.approx((5930 + 1350) / 2 * 1.25)  # 4,550
    assert ap.cost_per_crime == pytest.approx(4550.0)
    assert ap.cost_per_reoffence == pytest.approx(9100.0)
    assert ap.cost_per_person == pytest.approx(10 * 40 * 12 + 1000 * 0.5)  # 5,300
    assert ap.running_cost == pytest.approx(530_000.0)
    assert ap.set_up_cost == pytest.approx(20_000.0)
    assert ap.pv_costs == pytest.approx(550_000.0)
    assert ap.first_year_benefit == pytest.approx(0.5 * 100 * 2 * 4550)  # 455,000
    assert ap.annuity_factor == pytest.approx(A_HAND)
    assert pytest.approx(1.716469, abs=1e-6) == A_HAND
    assert ap.pv_benefits == pytest.approx(455_000 * A_HAND)
    assert ap.pv_benefits == pytest.approx(780_993.6, abs=0.1)
    assert ap.bcr == pytest.approx(455_000 * A_HAND / 550_000)
    assert ap.bcr == pytest.approx(1.42, abs=0.005)
    assert ap.npv == pytest.approx(455_000 * A_HAND - 550_000)
    assert ap.npv == pytest.approx(230_993.6, abs=0.1)
    assert ap.baseline_reoffences == pytest.approx(200.0)
    assert ap.break_even_reduction == pytest.approx(550_000 / (9100 * 200 * A_HAND))
    assert ap.break_even_reduction == pytest.approx(0.17606, abs=1e-5)
    assert ap.observed_reduction == pytest.approx(0.5 / 2.0)


def test_break_even_is_where_npv_is_zero() -> None:
    ap = hand_appraisal()
    assert ap.break_even_reduction is not None
    needed = ap.break_even_reduction * ap.baseline_per_person  # prevented per person
    at_break_even = calc.appraise(
        estimate=hand_estimate(difference=-needed, ci_low=-needed - 0.1, ci_high=-needed + 0.1),
        cohort_size=100,
        programme=hand_programme(),
        unit_costs=hand_unit_costs(),
        assumptions=hand_assumptions(),
    )
    assert at_break_even.npv == pytest.approx(0.0, abs=1e-6)
    assert at_break_even.bcr == pytest.approx(1.0)


def test_break_even_reduces_to_the_toolkit_formula_without_persistence() -> None:
    # IOM efficiency toolkit: incremental cost ÷ (cost per reoffence × baseline reoffences).
    ap = hand_appraisal(persistence=0.0)
    assert ap.annuity_factor == pytest.approx(1.0)
    assert ap.break_even_reduction == pytest.approx(550_000 / (9100 * 200))
    assert ap.break_even_reduction == pytest.approx(0.302198, abs=1e-6)
    assert calc.break_even_reduction(
        incremental_cost=550_000, cost_per_reoffence=9100, baseline_reoffences=200
    ) == pytest.approx(0.302198, abs=1e-6)
    assert (
        calc.break_even_reduction(
            incremental_cost=1, cost_per_reoffence=9100, baseline_reoffences=0
        )
        is None
    )


def test_home_office_worked_example_benefits_are_sum_of_prevented_times_unit_cost() -> None:
    """evaluation-methods.md §6: benefits = Σ_k prevented offences_k × unit cost_k, with the Home
    Office 2018 values violence with injury £14,050 and robbery (individual) £11,320."""
    assert COST_TABLE["categories"]["Violence against the person"]["cost"] == 14050.0
    assert COST_TABLE["categories"]["Robbery"]["cost"] == 11320.0
    # 10 people prevent 5 proven offences: 3 violent, 2 robberies (mix 3:2), no uprating,
    # one year, no multiplier.
    unit_costs = calc.unit_costs_from_table(
        COST_TABLE, {"Violence against the person": 3, "Robbery": 2}
    )
    assumptions = hand_assumptions(persistence=0.0, proven_to_actual=1.0, horizon_years=1)
    assumptions = replace(
        assumptions,
        appraisal_year="2015",
        deflator=calc.Deflator({"2015": 100.0}),
    )
    ap = calc.appraise(
        estimate=hand_estimate(difference=-0.5, ci_low=-0.8, ci_high=-0.2, comparison=2.0),
        cohort_size=10,
        programme=replace(hand_programme(), price_year="2015"),
        unit_costs=unit_costs,
        assumptions=assumptions,
    )
    assert ap.prevented_reoffences == pytest.approx(5.0)
    assert ap.pv_benefits == pytest.approx(3 * 14050 + 2 * 11320)  # 64,790
    assert ap.pv_benefits == pytest.approx(64_790.0)
    by_category = {line["category"]: line["first_year_benefit"] for line in ap.cost_lines}
    assert by_category == {
        "Violence against the person": pytest.approx(3 * 14050),
        "Robbery": pytest.approx(2 * 11320),
    }


def test_uprating_with_the_shipped_gdp_deflator() -> None:
    # 2015/16 prices are uprated with the calendar year 2015 (2024 = 100): × 100 / 75.1536.
    assumptions = calc.assumptions_from_config(defaults.ASSUMPTIONS)
    assert assumptions.deflator.lookup("2015/16") == ("2015", 75.1536)
    assert assumptions.deflator.factor("2015/16", "2024") == pytest.approx(100 / 75.1536)
    assert assumptions.deflator.factor("2015/16", "2024") == pytest.approx(1.33061, abs=1e-5)
    with pytest.raises(calc.AppraisalError, match="2030"):
        assumptions.deflator.factor("2030", "2024")


def test_discounting_green_book_factors() -> None:
    # 1/(1.035)^t: year 0 undiscounted, year 1 0.9662, year 10 0.7089 (Green Book 3.5% table).
    assert calc.discount_factor(0.035, 0) == 1.0
    assert calc.discount_factor(0.035, 1) == pytest.approx(0.966184, abs=1e-6)
    assert calc.discount_factor(0.035, 10) == pytest.approx(0.708919, abs=1e-6)
    ap = hand_appraisal()
    assert [row.discount_factor for row in ap.cohort_years] == pytest.approx(
        [1.0, 1 / 1.035, 1 / 1.035**2]
    )
    assert [row.benefit for row in ap.cohort_years] == pytest.approx([455_000, 227_500, 113_750])
    assert sum(row.pv_benefit for row in ap.cohort_years) == pytest.approx(ap.pv_benefits)
    assert ap.cohort_years[-1].cumulative_npv == pytest.approx(ap.npv)


def test_projection_runs_a_new_cohort_each_year() -> None:
    ap = hand_appraisal()
    # Year t benefits: 455,000 × (1 + 0.5 + … + 0.5^t); costs 530,000 a year, + 20,000 in year 0.
    benefits = [455_000 * 1.0, 455_000 * 1.5, 455_000 * 1.75]
    costs = [550_000.0, 530_000.0, 530_000.0]
    assert [r.benefit for r in ap.projection] == pytest.approx(benefits)
    assert [r.cost for r in ap.projection] == pytest.approx(costs)
    pv_b = sum(b / 1.035**t for t, b in enumerate(benefits))
    pv_c = sum(c / 1.035**t for t, c in enumerate(costs))
    assert ap.projection_pv_benefits == pytest.approx(pv_b)
    assert ap.projection_pv_costs == pytest.approx(pv_c)
    assert ap.projection_npv == pytest.approx(pv_b - pv_c)
    assert ap.projection_bcr == pytest.approx(pv_b / pv_c)
    assert ap.projection[-1].cumulative_npv == pytest.approx(pv_b - pv_c)


def test_ten_year_default_horizon_gives_ten_rows() -> None:
    ap = calc.appraise(
        estimate=hand_estimate(),
        cohort_size=100,
        programme=calc.programme_from_config(defaults.PROGRAMME),
        unit_costs=calc.unit_costs_from_table(
            COST_TABLE, defaults.ASSUMPTIONS["offence_mix"]["shares"]
        ),
        assumptions=calc.assumptions_from_config(defaults.ASSUMPTIONS),
    )
    assert len(ap.projection) == 10 and len(ap.cohort_years) == 10
    assert [r.year for r in ap.projection] == list(range(10))


def test_ci_propagates_to_benefits_bcr_and_npv() -> None:
    ap = hand_appraisal()
    # Prevented per person: 0.1 (CI upper −0.1) to 0.9 (CI lower −0.9).
    assert ap.prevented_per_person_low == pytest.approx(0.1)
    assert ap.prevented_per_person_high == pytest.approx(0.9)
    assert ap.pv_benefits_low == pytest.approx(0.1 * 100 * 9100 * A_HAND)  # 156,198.7
    assert ap.pv_benefits_high == pytest.approx(0.9 * 100 * 9100 * A_HAND)  # 1,405,788.5
    assert ap.bcr_low == pytest.approx(ap.pv_benefits_low / 550_000)
    assert ap.bcr_high == pytest.approx(ap.pv_benefits_high / 550_000)
    assert ap.npv_low == pytest.approx(ap.pv_benefits_low - 550_000)
    assert ap.npv_high == pytest.approx(ap.pv_benefits_high - 550_000)
    assert ap.observed_reduction_low == pytest.approx(0.05)
    assert ap.observed_reduction_high == pytest.approx(0.45)


def test_a_ci_including_no_effect_is_flagged_and_can_be_negative() -> None:
    ap = calc.appraise(
        estimate=hand_estimate(difference=-0.2, ci_low=-0.6, ci_high=0.2),
        cohort_size=100,
        programme=hand_programme(),
        unit_costs=hand_unit_costs(),
        assumptions=hand_assumptions(),
    )
    assert ap.pv_benefits_low == pytest.approx(-0.2 * 100 * 9100 * A_HAND)
    assert ap.pv_benefits_low < 0 < ap.pv_benefits_high
    assert any("includes no change" in c for c in ap.caveats)
    assert ap.bcr_low is not None and ap.bcr_low < 0


def test_one_year_rate_is_converted_with_reoffences_per_reoffender() -> None:
    # Rate 0.56 in the comparison group, difference −0.05 (CI −0.12 to 0.02), 2.9 per reoffender:
    # prevented 0.05 × 2.9 = 0.145 per person; baseline 0.56 × 2.9 = 1.624 per person.
    ap = calc.appraise(
        estimate=calc.effect_estimate(
            difference=-0.05, ci_low=-0.12, ci_high=0.02, comparison=0.56, measure="one_year_rate"
        ),
        cohort_size=100,
        programme=hand_programme(),
        unit_costs=hand_unit_costs(),
        assumptions=hand_assumptions(),
    )
    assert ap.converted_from_rate
    assert ap.prevented_per_person == pytest.approx(0.145)
    assert ap.prevented_per_person_low == pytest.approx(-0.02 * 2.9)
    assert ap.prevented_per_person_high == pytest.approx(0.12 * 2.9)
    assert ap.baseline_per_person == pytest.approx(1.624)
    assert "reoffences_per_reoffender" in [r.key for r in ap.tornado]
    assert "reoffences_per_reoffender" in [a["key"] for a in ap.assumptions]
    assert any("one-year rate" in c for c in ap.caveats)


def test_tornado_is_ordered_by_swing_with_hand_computed_swings() -> None:
    ap = hand_appraisal()
    b1_unit = 0.5 * 100 * 4550  # first-year benefit per unit of m
    a_low_r = 1 + 0.5 / 1.015 + 0.25 / 1.015**2
    a_high_r = 1 + 0.5 / 1.05 + 0.25 / 1.05**2
    a_high_s = 1 + 0.8 / 1.035 + 0.64 / 1.035**2
    expected = {
        "effect": (0.9 - 0.1) * 100 * 9100 * A_HAND,  # 1,249,589.8
        "proven_to_actual": (3 - 1) * b1_unit * A_HAND,  # 780,993.6
        "persistence": 455_000 * (a_high_s - 1),  # 623,529.1
        "months_per_person": (18 - 6) * 400 * 100,  # 480,000
        "unit_cost_scale": 0.4 * 455_000 * A_HAND,  # 312,397.4
        "programme_cost_scale": 0.4 * 550_000,  # 220,000
        "discount_rate": 455_000 * (a_low_r - a_high_r),  # 14,709.5
    }
    swings = {r.key: r.swing for r in ap.tornado}
    assert swings == {k: pytest.approx(v) for k, v in expected.items()}
    assert [r.key for r in ap.tornado] == sorted(expected, key=lambda k: -expected[k])
    assert [r.key for r in ap.tornado] == [
        "effect",
        "proven_to_actual",
        "persistence",
        "months_per_person",
        "unit_cost_scale",
        "programme_cost_scale",
        "discount_rate",
    ]
    effect = ap.tornado[0]
    assert effect.npv_low == pytest.approx(ap.npv_low) and effect.npv_high == pytest.approx(
        ap.npv_high
    )
    # Raising the discount rate lowers the NPV; raising the programme cost scale lowers it too.
    by_key = {r.key: r for r in ap.tornado}
    assert by_key["discount_rate"].npv_high < by_key["discount_rate"].npv_low
    assert by_key["programme_cost_scale"].npv_high < by_key["programme_cost_scale"].npv_low


def test_assumptions_are_all_visible_and_unverified_ones_flagged() -> None:
    ap = hand_appraisal()
    keys = [a["key"] for a in ap.assumptions]
    for key in (
        "discount_rate",
        "horizon_years",
        "proven_to_actual",
        "persistence",
        "unit_cost_scale",
        "programme_cost_scale",
        "months_per_person",
        "deflator",
        "offence_mix",
    ):
        assert key in keys
    assert "reoffences_per_reoffender" not in keys  # only used for a rate estimate
    flagged = {a["key"] for a in ap.assumptions if a["unverified"]}
    assert "discount_rate" in flagged  # [U]
    assert "deflator" in flagged  # [V2] is flagged too: not checked against the primary source
    for item in ap.assumptions:
        assert item["source"] or item["key"] == "offence_mix"
        assert item["status"] in calc.STATUSES
    assert set(ap.unverified) == {a["label"] for a in ap.assumptions if a["unverified"]}
    # Unit-cost lines carry their own status: criminal damage [V2] and burglary [U] both flagged.
    assert all(line["unverified"] for line in ap.cost_lines)


def test_a_verified_assumption_is_not_flagged() -> None:
    item = calc.Assumption("x", "X", 1.0, "V", "primary source")
    assert not item.unverified and item.to_dict()["unverified"] is False
    assert calc.Assumption("x", "X", 1.0, "V2", "press").unverified


def test_to_dict_is_json_safe_and_has_the_documented_keys() -> None:
    import json

    data = hand_appraisal().to_dict()
    json.dumps(data, allow_nan=False)
    for key in (
        "summary",
        "bcr",
        "bcr_low",
        "bcr_high",
        "npv",
        "npv_low",
        "npv_high",
        "pv_benefits",
        "pv_costs",
        "break_even_reduction",
        "projection",
        "tornado",
        "assumptions",
        "unverified",
        "caveats",
        "cost_lines",
        "programme_lines",
        "versions",
    ):
        assert key in data
    assert "£1.42 of benefit for every £1 spent" in data["summary"]
    assert "17.6%" in data["summary"]  # break-even reduction


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"difference": math.nan}, "estimate.difference"),
        ({"ci_low": 0.1, "ci_high": -0.1}, "estimate.ci_low"),
        ({"difference": -2.0}, "estimate.difference"),
        ({"comparison": -1.0}, "estimate.comparison"),
    ],
)
def test_bad_estimates_name_the_field(changes: dict[str, float], field: str) -> None:
    with pytest.raises(calc.AppraisalError) as info:
        calc.appraise(
            estimate=hand_estimate(**changes),
            cohort_size=100,
            programme=hand_programme(),
            unit_costs=hand_unit_costs(),
            assumptions=hand_assumptions(),
        )
    assert info.value.field == field


def test_other_bad_inputs_name_the_field() -> None:
    def run(**kw: object) -> None:
        args: dict[str, object] = {
            "estimate": hand_estimate(),
            "cohort_size": 100,
            "programme": hand_programme(),
            "unit_costs": hand_unit_costs(),
            "assumptions": hand_assumptions(),
            **kw,
        }
        calc.appraise(**args)  # type: ignore[arg-type]

    with pytest.raises(calc.AppraisalError, match="cohort_size: must be 1 or more"):
        run(cohort_size=0)
    with pytest.raises(calc.AppraisalError, match="cohort_size: must be a whole number"):
        run(cohort_size=10.5)
    harm = replace(hand_estimate(), measure="harm")
    with pytest.raises(calc.AppraisalError, match=r"frequency .* or the one-year rate"):
        run(estimate=harm)
    with pytest.raises(calc.AppraisalError, match=r"persistence.value: must be between 0 and 1"):
        run(assumptions=hand_assumptions(persistence=1.5))
    with pytest.raises(calc.AppraisalError, match="no index value for price year '2010'"):
        run(programme=replace(hand_programme(), price_year="2010"))
    with pytest.raises(calc.AppraisalError, match=r"offence_mix\.Robbery: must be a number"):
        calc.unit_costs_from_table(COST_TABLE, {"Robbery": -1})


def test_unknown_category_uses_the_tables_default_row_and_says_so() -> None:
    costs = calc.unit_costs_from_table(COST_TABLE, {"Drug possession or supply": 1})
    (line,) = costs.lines
    assert line.unit_cost == COST_TABLE["default"]["cost"]
    assert line.source.startswith("Default row")
    assert line.status == "U"


def test_zero_cost_gives_no_ratio() -> None:
    # No costs at all: no ratio, NPV = benefits; the summary says so rather than dividing by 0.
    free = calc.ProgrammeCosts(
        price_year="2024",
        months_per_person=calc.Assumption("months_per_person", "Months", 12, "U", "t"),
    )
    ap = calc.appraise(
        estimate=hand_estimate(),
        cohort_size=100,
        programme=free,
        unit_costs=hand_unit_costs(),
        assumptions=hand_assumptions(),
    )
    assert ap.bcr is None and ap.npv == pytest.approx(ap.pv_benefits)
    assert "no costs are recorded" in ap.summary
