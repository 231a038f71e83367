"""The evaluation report (HTML, PDF, CSV) from a hand-made result.

`sample_result()` builds an EvaluationResult directly from the dataclasses, with numbers worked
out by hand below, so the report is tested without running the engine (the Django-layer tests
import it too). PDF text is extracted with pypdf (a dev dependency).
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

import numpy as np
import pytest
from scipy import stats

from openiom.evaluation import report
from openiom.evaluation.methods import wording
from openiom.evaluation.methods.types import (
    BalanceRow,
    Estimate,
    EvaluationResult,
    EvaluationSpec,
    MatchingSpec,
    MatchResult,
    PropensityModel,
    Sensitivity,
    SurvivalResult,
)

# 100 matched pairs (1:1). Pairs by outcome: both reoffended 30, neither 33, only the programme
# member 12, only the comparison person 25.
PAIRS = 100
BOTH, NEITHER, ONLY_TREATED, ONLY_COMPARISON = 30, 33, 12, 25
TREATED_RATE = (BOTH + ONLY_TREATED) / PAIRS  # 0.42
COMPARISON_RATE = (BOTH + ONLY_COMPARISON) / PAIRS  # 0.55
DIFFERENCE = TREATED_RATE - COMPARISON_RATE  # −0.13
# Paired differences d = +1 (12 pairs), −1 (25), 0 (63): sample variance with n − 1,
# SE = sqrt(var / pairs), Wald 95% interval.
_d = np.array([1] * ONLY_TREATED + [-1] * ONLY_COMPARISON + [0] * (BOTH + NEITHER), dtype=float)
SE = math.sqrt(_d.var(ddof=1) / PAIRS)  # sqrt(((37 − 100 × 0.13²) / 99) / 100) = 0.05972
CI = (DIFFERENCE - 1.959964 * SE, DIFFERENCE + 1.959964 * SE)  # (−0.2471, −0.0129)
P = 2 * (1 - stats.norm.cdf(abs(DIFFERENCE) / SE))  # 0.0295
# Frequency: 0.9 against 1.4 reoffences per person, bootstrap interval (−0.85, −0.15).
FREQ = (0.9, 1.4, -0.85, -0.15)


def _estimate(
    measure: str, label: str, t: float, c: float, low: float, high: float, p: float, method: str
) -> Estimate:
    e = Estimate(
        measure=measure,
        label=label,
        treated=t,
        comparison=c,
        difference=t - c,
        ci_low=low,
        ci_high=high,
        p_value=p,
        significant=high < 0 or low > 0,
        method=method,
    )
    e.text = wording.per_100_sentence(e)
    return e


def sample_result(
    *, label: str = "Fixed cohort, 2024", vfm: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A complete EvaluationResult as a dict, built by hand (see the module's arithmetic)."""
    n_controls = 400
    n = PAIRS + n_controls
    treated_rows = np.arange(PAIRS)
    spec = EvaluationSpec(
        treatment="treated",
        outcome="reoffended",
        covariates=("age", "male", "previous_offences"),
        frequency="reoffences",
        time="days",
        event="event",
        matching=MatchingSpec(),
        label=label,
    )
    estimates = [
        _estimate(
            "one_year_rate",
            "one-year proven reoffending rate",
            TREATED_RATE,
            COMPARISON_RATE,
            CI[0],
            CI[1],
            P,
            "Wald, clustered by matched set",
        ),
        _estimate(
            "frequency",
            "number of proven reoffences",
            FREQ[0],
            FREQ[1],
            FREQ[2],
            FREQ[3],
            0.004,
            "bootstrap (500)",
        ),
    ]
    times = [30.0, 91.0, 182.0, 365.0]
    result = EvaluationResult(
        spec=spec,
        attrition=[
            ("submitted", 110, 0),
            ("eligible", 104, 5000),
            ("complete covariates", 104, 4900),
            ("matched", PAIRS, PAIRS),
        ],
        propensity=PropensityModel(
            names=["age", "male", "previous_offences"],
            intercept=-2.5,
            coefficients=[-0.03, 0.4, 0.12],
            standard_errors=[0.01, 0.2, 0.02],
            logit=np.zeros(n),
            score=np.full(n, 0.2),
        ),
        matching=MatchResult(
            treated_rows=treated_rows,
            pair_treated=treated_rows,
            pair_control=np.arange(PAIRS, 2 * PAIRS),
            pair_id=np.arange(PAIRS),
            weights=np.r_[np.ones(2 * PAIRS), np.zeros(n - 2 * PAIRS)],
            caliper=0.21,
            n_treated=104,
            n_treated_matched=PAIRS,
            n_treated_unmatched=4,
            n_controls=4900,
            n_controls_used=PAIRS,
        ),
        balance=[
            BalanceRow("age", "continuous", 29.0, 35.0, -0.62, 0.8, 29.2, 29.5, -0.03, 1.05, True),
            BalanceRow("male", "binary", 0.95, 0.80, 0.46, None, 0.95, 0.94, 0.04, None, True),
            BalanceRow(
                "previous_offences", "continuous", 24.0, 9.0, 1.3, 3.1, 23.5, 22.0, 0.14, 1.3, False
            ),
        ],
        estimates=estimates,
        survival=SurvivalResult(
            times=times,
            survival_treated=[0.95, 0.85, 0.72, 0.58],
            survival_comparison=[0.92, 0.76, 0.60, 0.45],
            logrank_chi2=4.1,
            logrank_p=0.043,
            hazard_ratio=0.71,
            hazard_ratio_ci_low=0.51,
            hazard_ratio_ci_high=0.99,
            cox_p=0.044,
            variance="cluster-robust by matched set",
        ),
        sensitivity=Sensitivity(
            discordant_pairs=ONLY_TREATED + ONLY_COMPARISON,
            favourable_pairs=ONLY_COMPARISON,
            largest_gamma=1.1,
            gamma_table=[(1.0, 0.024), (1.1, 0.046), (1.2, 0.081)],
            minimum_detectable_effect=19.7,
            multiple_outcomes_note=wording.multiple_outcomes_note(estimates),
        ),
        headline=wording.headline(estimates, label),
        caveats=["Balance short of the 0.1 target on: previous_offences (+0.14)."],
        overlap={  # the shape of methods.plots.overlap_histogram
            "edges": [i / 5 for i in range(6)],
            "treated_before_matching": [0.1, 0.2, 0.3, 0.3, 0.1],
            "comparison_before_matching": [0.5, 0.3, 0.1, 0.07, 0.03],
            "treated_after_matching": [0.1, 0.2, 0.3, 0.3, 0.1],
            "comparison_after_matching": [0.1, 0.22, 0.28, 0.3, 0.1],
        },
    )
    data = result.to_dict()
    if vfm is not None:
        data["value_for_money"] = vfm
    return data


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    # Lines wrap anywhere; hyphen-minus and the minus sign are the same figure to a reader.
    return re.sub(r"\s+", " ", text).replace("−", "-")


def test_hand_arithmetic() -> None:
    assert TREATED_RATE == 0.42 and COMPARISON_RATE == 0.55
    assert pytest.approx(math.sqrt(((37 - 100 * 0.13**2) / 99) / 100)) == SE
    assert CI[0] == pytest.approx(-0.2471, abs=1e-4) and CI[1] == pytest.approx(-0.0129, abs=1e-4)


def test_pdf_contains_the_headline_figures() -> None:
    result = sample_result()
    pdf = report.render_pdf(result, title="Fixed cohort evaluation")
    assert pdf.startswith(b"%PDF-")
    text = _pdf_text(pdf)
    # The per-100 headline: the CI of −0.2471..−0.0129 is "between 1.3 and 24.7 fewer".
    assert "between 1.3 and 24.7 fewer proven reoffenders per 100 people" in text
    # Key figures: 42 against 55 per 100, a difference of −13 (−24.7 to −1.3).
    assert (
        "42 in every 100 people in the programme group had a proven reoffence within one year, compared with 55 in every 100"
        in text
    )
    assert "42 55 -13 -24.7 to -1.3 Statistically significant" in text  # the key-figures row
    assert "between 15 and 85 fewer proven reoffences per 100 people" in text  # frequency CI
    for heading in (
        "Summary per 100 people",
        "Methodology",
        "Cohort profile",
        "Attrition",
        "Balance",
        "Outcomes with confidence intervals",
        "Time to first reoffence",
        "Sensitivity",
        "Value for money",
        "Assumptions and caveats",
    ):
        assert heading in text, heading
    assert "Regression to the mean" in text
    assert "2 outcomes were tested" in text  # the multiple-outcomes note
    assert "hidden bias up to Γ = 1.10" in text.replace("\u0393", "Γ")
    assert "19.7 percentage points" in text  # minimum detectable effect


def test_html_is_standalone_and_escapes_text() -> None:
    result = sample_result(label="<script>alert(1)</script>")
    html = report.render_html(result, title="A & B <evaluation>")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>A &amp; B &lt;evaluation&gt;</title>" in html
    # Four charts, each labelled for screen readers.
    for prefix in ("outcomes-chart", "survival-chart", "love-plot", "overlap-chart"):
        assert f'aria-labelledby="{prefix}-title {prefix}-desc"' in html


def test_page_fragment_has_no_inline_styles_and_links_csv() -> None:
    body = report.render_body(sample_result(), title="T", csv_base="/evaluation/1/csv/")
    assert not re.search(r"<style\b|\sstyle\s*=|<script\b", body)
    for slug in ("estimates", "attrition", "balance", "survival", "pairs", "profile"):
        assert f'href="/evaluation/1/csv/{slug}.csv"' in body


def test_csv_tables_carry_raw_numbers() -> None:
    found = report.tables(sample_result())
    assert set(found) >= {
        "estimates",
        "attrition",
        "balance",
        "survival",
        "pairs",
        "profile",
        "propensity",
        "sensitivity",
    }
    rows = list(csv.DictReader(io.StringIO(found["estimates"].csv())))
    rate = rows[0]
    assert rate["Measure"] == "one_year_rate"
    assert float(rate["Programme group"]) == pytest.approx(0.42)
    assert float(rate["Difference"]) == pytest.approx(-0.13)
    assert float(rate["95% CI low"]) == pytest.approx(CI[0])
    attrition = list(csv.reader(io.StringIO(found["attrition"].csv())))
    assert attrition[0] == ["Stage", "Programme group", "Comparison group"]
    assert attrition[-1] == ["matched", "100", "100"]
    survival = list(csv.reader(io.StringIO(found["survival"].csv())))
    assert survival[1] == ["30.0", "0.95", "0.92"] and len(survival) == 5
    pairs = dict(csv.reader(io.StringIO(found["pairs"].csv())))
    assert pairs["Matched sets"] == "100" and pairs["Comparison people used more than once"] == "0"


def test_csv_cells_cannot_run_as_formulas() -> None:
    table = report.Table("t", "T", ["a", "b"])
    table.add(['=HYPERLINK("x")', -1.5], ["", ""])
    row = list(csv.reader(io.StringIO(table.csv())))[1]
    assert row == ['\'=HYPERLINK("x")', "-1.5"]


def test_survival_points_read_the_step_function() -> None:
    points = report.survival_points_table(sample_result())
    # Day 30 is an event time (0.95); day 273 falls between 182 and 365, so the value at 182.
    by_day = {row[0]: row[1] for row in points.rows}
    assert by_day[30] == 0.95 and by_day[273] == 0.72 and by_day[365] == 0.58


def test_inconclusive_result_and_missing_parts_still_render() -> None:
    result = sample_result()
    result["survival"] = None
    result["overlap"] = {}
    result["sensitivity"]["discordant_pairs"] = None
    result["sensitivity"]["minimum_detectable_effect"] = None
    result["estimates"][0]["ci_high"] = 0.05
    result["estimates"][0]["significant"] = False
    html = report.render_html(result, title="T")
    assert "No time-to-reoffence data were given" in html
    assert "Rosenbaum bounds were not computed" in html
    assert "inconclusive" in html


def test_value_for_money_section_when_present() -> None:
    vfm = {"benefit_cost_ratio": 1.71, "net_present_value": 125000.0, "price_year": 2024}
    html = report.render_html(sample_result(vfm=vfm), title="T")
    assert "Benefit cost ratio" in html and "1.71" in html and "125,000.00" in html


def test_value_for_money_from_an_appraisal() -> None:
    """The openiom.vfm Appraisal shape: figures, tornado chart, flagged assumptions."""
    vfm = {
        "currency": "GBP",
        "appraisal_year": "2024",
        "cohort_size": 100,
        "summary": "For every 100 people, the matched comparison suggests 50 fewer proven reoffences.",
        "bcr": 1.71,
        "bcr_low": 0.4,
        "bcr_high": 3.1,
        "npv": 125000.0,
        "npv_low": -90000.0,
        "npv_high": 300000.0,
        "pv_benefits": 300000.0,
        "pv_benefits_low": 70000.0,
        "pv_benefits_high": 480000.0,
        "pv_costs": 175000.0,
        "prevented_reoffences": 50.0,
        "cost_per_reoffence": 6000.0,
        "cost_per_person": 1750.0,
        "break_even_reduction": 0.21,
        "observed_reduction": 0.357,
        "observed_reduction_low": 0.107,
        "observed_reduction_high": 0.607,
        "projection": [
            {
                "year": 0,
                "cost": 175000.0,
                "benefit": 300000.0,
                "discount_factor": 1.0,
                "cumulative_npv": 125000.0,
            }
        ],
        "projection_npv": 125000.0,
        "projection_bcr": 1.71,
        "tornado": [
            {
                "key": "discount_rate",
                "label": "Discount rate",
                "low": 0.015,
                "high": 0.05,
                "npv_low": 130000.0,
                "npv_high": 120000.0,
                "bcr_low": 1.7,
                "bcr_high": 1.7,
                "swing": 10000.0,
                "unit": "",
            },
            {
                "key": "multiplier",
                "label": "Crimes per proven reoffence",
                "low": 1.0,
                "high": 3.0,
                "npv_low": 125000.0,
                "npv_high": 725000.0,
                "bcr_low": 1.7,
                "bcr_high": 5.1,
                "swing": 600000.0,
                "unit": "",
            },
        ],
        "assumptions": [
            {
                "key": "discount_rate",
                "label": "Discount rate",
                "value": 0.035,
                "low": 0.015,
                "high": 0.05,
                "unit": "a year",
                "status": "U",
                "status_text": "unconfirmed local default",
                "source": "Green Book",
                "unverified": True,
            }
        ],
        "caveats": ["Costs of crime are per crime, not per proven offence."],
    }
    html = report.render_html(sample_result(vfm=vfm), title="T")
    assert "Benefit–cost ratio" in html and "1.71 (95% CI 0.40 to 3.10)" in html
    assert "£125,000 (95% CI −£90,000 to £300,000)" in html
    assert "Reduction needed to break even" in html and "21.0%" in html
    assert 'aria-labelledby="tornado-chart-title tornado-chart-desc"' in html
    assert "Not verified: unconfirmed local default" in html
    assert "Costs of crime are per crime, not per proven offence." in html
