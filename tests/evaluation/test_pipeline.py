"""evaluate_frame end to end on synthetic tables with a known effect, plus the checks that turn
bad tables into TableError with row, column and reason."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy.special import expit

from openiom.evaluation.methods import pipeline
from openiom.evaluation.methods.tables import TableError
from openiom.evaluation.methods.types import EvaluationResult, EvaluationSpec, MatchingSpec

Run = tuple[pl.DataFrame, dict[str, float], EvaluationResult, list[tuple[str, float]]]
TRUE_RATE_DIFFERENCE = -0.15  # each treated person's chance of reoffending falls by 15 points
FREQUENCY_FACTOR = 0.6  # and their expected number of reoffences by 40%


def synthetic(
    n: int = 3000, seed: int = 1, *, missing: int = 0
) -> tuple[pl.DataFrame, dict[str, float]]:
    """People with risk factors; the riskier are more likely to be treated (selection on
    observables); treatment lowers the one-year rate by exactly 15 points and reoffences by 40%.
    Returns the frame and the true effects among the treated."""
    rng = np.random.default_rng(seed)
    age = rng.normal(32, 8, n).round()
    priors = rng.poisson(4, n).astype(float)
    sex = np.where(rng.random(n) < 0.85, "M", "F")
    ogrs = rng.uniform(0.1, 0.9, n)
    logit = -3.2 + 0.25 * priors - 0.02 * (age - 32) + 1.5 * ogrs + 0.3 * (sex == "M")
    treated = rng.random(n) < expit(logit)
    p0 = np.clip(0.2 + 0.04 * priors + 0.3 * ogrs - 0.004 * (age - 32), 0.16, 0.95)
    p = np.where(treated, p0 + TRUE_RATE_DIFFERENCE, p0)
    reoffended = (rng.random(n) < p).astype(int)
    lam0 = 0.3 + 0.2 * priors + ogrs
    lam = np.where(treated, lam0 * FREQUENCY_FACTOR, lam0)
    reoffences = np.where(reoffended == 1, 1 + rng.poisson(lam), 0)
    hazard = -np.log(1 - p) / 365  # so P(time ≤ 365) = p
    days = rng.exponential(1 / hazard)
    event = (days <= 365).astype(int)
    days = np.minimum(days, 365).round(1)
    truth = {
        "rate": TRUE_RATE_DIFFERENCE,
        "frequency": float(
            np.mean((p[treated] * (1 + lam[treated])) - (p0[treated] * (1 + lam0[treated])))
        ),
    }
    frame = pl.DataFrame(
        {
            "treated": treated.astype(int),
            "reoffended": reoffended,
            "reoffences": reoffences,
            "days": days,
            "event": event,
            "harm": reoffences * 7.5,
            "age": age,
            "priors": priors,
            "sex": sex,
            "ogrs": ogrs,
        }
    )
    if missing:
        rows = rng.choice(n, missing, replace=False)
        ages = frame["age"].to_list()
        for r in rows:
            ages[int(r)] = None
        frame = frame.with_columns(pl.Series("age", ages, dtype=pl.Float64))
    return frame, truth


SPEC = EvaluationSpec(
    treatment="treated",
    outcome="reoffended",
    covariates=("age", "priors", "sex", "ogrs"),
    frequency="reoffences",
    time="days",
    event="event",
    harm="harm",
    bootstrap_replicates=300,
    label="Synthetic cohort",
)


@pytest.fixture(scope="module")
def run() -> Run:
    frame, truth = synthetic(missing=37)
    stages: list[tuple[str, float]] = []
    result = pipeline.evaluate_frame(
        frame,
        SPEC,
        progress=lambda stage, fraction: stages.append((stage, fraction)),
        attrition=[("submitted", 999, 0), ("eligible", 998, 0)],
    )
    return frame, truth, result, stages


def test_recovers_the_known_rate_difference(run: Run) -> None:
    frame, truth, result, _ = run
    rate = result.estimates[0]
    assert rate.measure == "one_year_rate"
    assert rate.ci_low < truth["rate"] < rate.ci_high
    assert rate.significant and rate.ci_high < 0
    # The naive difference is biased towards zero by selection of riskier people.
    t = frame["treated"].to_numpy() == 1
    y = frame["reoffended"].to_numpy()
    naive = y[t].mean() - y[~t].mean()
    assert abs(rate.difference - truth["rate"]) < abs(naive - truth["rate"])


def test_frequency_and_harm_use_the_bootstrap(run: Run) -> None:
    _, truth, result, _ = run
    by = {e.measure: e for e in result.estimates}
    assert set(by) == {"one_year_rate", "frequency", "harm"}
    freq = by["frequency"]
    assert "bootstrap" in freq.method and "300" in freq.method
    assert freq.ci_low < truth["frequency"] < freq.ci_high
    # Harm is 7.5 × reoffences, so its estimate is 7.5 × the frequency one.
    assert by["harm"].difference == pytest.approx(7.5 * freq.difference)
    assert "crime-harm days per 100 people" in by["harm"].text


def test_attrition_counts(run: Run) -> None:
    frame, _, result, _ = run
    complete = frame.filter(pl.col("age").is_not_null())
    nt = int(complete["treated"].sum())
    assert result.attrition[:2] == [("submitted", 999, 0), ("eligible", 998, 0)]
    assert result.attrition[2] == ("complete covariates", nt, complete.height - nt)
    stage, treated, controls = result.attrition[3]
    assert stage == "matched"
    assert treated == result.matching.n_treated_matched
    assert controls == result.matching.n_controls_used
    assert any("37 rows with a missing covariate" in c for c in result.caveats)


def test_rows_refer_to_the_frame_as_given(run: Run) -> None:
    frame, _, result, _ = run
    missing = frame["age"].is_null().to_numpy()
    m = result.matching
    assert len(m.weights) == frame.height
    assert np.all(m.weights[missing] == 0)
    assert np.all(np.isnan(result.propensity.score[missing]))
    assert not missing[m.pair_treated].any() and not missing[m.pair_control].any()
    t = frame["treated"].to_numpy()
    assert np.all(t[m.pair_treated] == 1) and np.all(t[m.pair_control] == 0)


def test_categories_balance_survival_sensitivity(run: Run) -> None:
    _, _, result, _ = run
    # One-hot: the model leaves out the commonest sex ("M"); balance shows both.
    assert "sex=F" in result.propensity.names and "sex=M" not in result.propensity.names
    assert {"sex=F", "sex=M", "age", "priors", "ogrs"} <= {r.name for r in result.balance}
    assert all(abs(r.smd_after) < 0.1 for r in result.balance)
    surv = result.survival
    assert surv is not None and surv.hazard_ratio_ci_high < 1
    sens = result.sensitivity
    assert sens.largest_gamma is not None and sens.largest_gamma > 1
    assert sens.minimum_detectable_effect is not None and 0 < sens.minimum_detectable_effect < 15
    assert "4 outcomes were tested" in sens.multiple_outcomes_note
    assert result.headline.startswith("Synthetic cohort: between")
    assert result.overlap  # histogram data from plots.overlap_histogram


def test_progress_and_plain_data(run: Run) -> None:
    _, _, result, stages = run
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {"fitting the propensity model", "matching", "survival analysis"} <= {
        s for s, _ in stages
    }
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert "per 100 people" in text


def test_exact_matching_and_one_to_two() -> None:
    frame, _ = synthetic(n=2000, seed=3)
    spec = replace(
        SPEC,
        frequency=None,
        harm=None,
        time=None,
        event=None,
        matching=MatchingSpec(ratio=2, exact=("sex",)),
    )
    result = pipeline.evaluate_frame(frame, spec)
    sex = frame["sex"].to_numpy()
    m = result.matching
    assert np.all(sex[m.pair_treated] == sex[m.pair_control])
    assert result.survival is None and len(result.estimates) == 1
    assert result.sensitivity.largest_gamma is None
    assert any("1:1 matching only" in c for c in result.caveats)
    assert result.attrition[0][0] == "rows in table"


def test_small_cohort_and_unmatched_caveats() -> None:
    frame, _ = synthetic(n=300, seed=4)
    result = pipeline.evaluate_frame(frame, replace(SPEC, matching=MatchingSpec(caliper_sd=0.005)))
    assert result.matching.n_treated_matched < 60
    assert any(c.startswith("Only ") for c in result.caveats)
    assert any("no comparison person close enough" in c for c in result.caveats)


def _error(frame: pl.DataFrame, spec: EvaluationSpec = SPEC) -> TableError:
    with pytest.raises(TableError) as info:
        pipeline.evaluate_frame(frame, spec)
    return info.value


def _with(frame: pl.DataFrame, column: str, row: int, value: object) -> pl.DataFrame:
    values = frame[column].to_list()
    values[row] = value
    return frame.with_columns(pl.Series(column, values, strict=False))


@pytest.fixture(scope="module")
def small() -> pl.DataFrame:
    return synthetic(n=200, seed=9)[0]


def test_treatment_not_zero_one(small: pl.DataFrame) -> None:
    # The 16th person (position 15) is row 17 counting the header as row 1.
    err = _error(_with(small, "treated", 15, 2))
    assert (err.row, err.column) == (17, "treated")
    assert err.reason == "must be 0 or 1 (found 2)"
    assert str(err) == "row 17, column 'treated': must be 0 or 1 (found 2)"


def test_text_flags_and_their_errors(small: pl.DataFrame) -> None:
    as_text = small.with_columns(pl.col("treated").cast(pl.String))
    result = pipeline.evaluate_frame(as_text, replace(SPEC, bootstrap_replicates=20))
    assert result.matching.n_treated == int(small["treated"].sum())
    err = _error(_with(as_text, "treated", 4, "yes"))
    assert (err.row, err.column, err.reason) == (6, "treated", "must be 0 or 1 (found 'yes')")


def test_missing_outcome_and_negative_count(small: pl.DataFrame) -> None:
    err = _error(_with(small, "reoffended", 9, None))
    assert (err.row, err.column) == (11, "reoffended")
    assert "required" in err.reason
    err = _error(_with(small, "reoffences", 3, -1))
    assert (err.row, err.column, err.reason) == (5, "reoffences", "cannot be negative (found -1)")
    err = _error(_with(small, "event", 0, 0.5))
    assert (err.row, err.column) == (2, "event")


def test_covariate_text_in_a_number_column(small: pl.DataFrame) -> None:
    bad = small.with_columns(pl.col("priors").cast(pl.String))
    err = _error(_with(bad, "priors", 7, "lots"))
    assert (err.row, err.column) == (9, "priors")
    assert "is not a number (found 'lots')" in err.reason


def test_spec_problems(small: pl.DataFrame) -> None:
    err = _error(small, replace(SPEC, covariates=("age", "nope")))
    assert err.column == "nope" and "no such column" in err.reason
    err = _error(small, replace(SPEC, event=None))
    assert "both a time and an event" in err.reason
    err = _error(small, replace(SPEC, covariates=("age", "reoffended")))
    assert err.column == "reoffended" and "cannot also be a covariate" in err.reason
    err = _error(small, replace(SPEC, covariates=()))
    assert "at least one covariate" in err.reason
    err = _error(small.head(0))
    assert err.reason == "the table has no rows"


def test_identifier_like_category_and_date_covariate(small: pl.DataFrame) -> None:
    ids = small.with_columns(pl.Series("pid", [f"P{i:04d}" for i in range(small.height)]))
    err = _error(ids, replace(SPEC, covariates=("age", "pid")))
    assert err.column == "pid" and "different values" in err.reason
    dates = small.with_columns(pl.lit(date(2024, 1, 1)).alias("when"))
    err = _error(dates, replace(SPEC, covariates=("age", "when")))
    assert err.column == "when" and "cannot be a covariate" in err.reason


def test_empty_covariate_column(small: pl.DataFrame) -> None:
    blank = small.with_columns(pl.lit(None, dtype=pl.String).alias("notes"))
    err = _error(blank, replace(SPEC, covariates=("age", "notes")))
    assert (err.column, err.reason) == ("notes", "has no values in any row")


def test_no_comparison_people_left(small: pl.DataFrame) -> None:
    t = small["treated"].to_numpy()
    ages = [None if x == 0 else a for x, a in zip(t, small["age"].to_list(), strict=True)]
    err = _error(small.with_columns(pl.Series("age", ages, dtype=pl.Float64)))
    assert err.column == "treated"
    assert "no comparison people" in err.reason and "missing covariate" in err.reason


def test_no_events_gives_a_caveat_not_a_crash() -> None:
    frame, _ = synthetic(n=600, seed=12)
    frame = frame.with_columns(pl.lit(0).alias("event"), pl.lit(365.0).alias("days"))
    result = pipeline.evaluate_frame(frame, replace(SPEC, bootstrap_replicates=50))
    assert result.survival is not None and math.isnan(result.survival.hazard_ratio)
    survival_caveat = next(c for c in result.caveats if c.startswith("Survival analysis: "))
    assert "no one in either group reoffended" in survival_caveat
    assert "log-rank test needs at least one reoffence" in survival_caveat
