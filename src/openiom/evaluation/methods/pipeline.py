"""The whole matched evaluation of one flat table: `evaluate_frame(frame, spec)`.

Both modes end here — the database mode (`evaluation.comparison.build_frame`) and the flat-table
mode (`manage.py evaluate_table`) — so their numbers cannot differ. Stages:

1. check the table against the spec: every named column exists, the treatment, outcome and
   event flags are 0/1, counts/harm/times are numbers ≥ 0, nothing is missing in them; a problem
   raises `TableError` naming the row (spreadsheet numbering: header = row 1), column and reason;
2. leave out people with a missing covariate (or exact-matching variable) — counted in the
   attrition table as "complete covariates";
3. build the covariate matrix: numbers as they are, true/false as 0/1, and text columns as
   categories, one 0/1 column per category ("sex=F"). The model leaves out the most common
   category (the reference level, as R's factor coding does with its first level) so the columns
   are not collinear with the intercept; the balance table shows every category;
4. propensity model (logistic, `propensity.fit_propensity`), matching on its logit
   (`matching.match`, exact cells from `spec.matching.exact`), balance (`balance.balance_table`);
5. outcomes: one-year rate difference with a Wald CI clustered by matched set; frequency and
   harm differences with bootstrap CIs (resampling matched sets); survival (KM, log-rank, Cox)
   when time and event columns are given;
6. sensitivity: Rosenbaum bounds for 1:1 matching of the binary outcome, the minimum
   detectable effect, and a note on multiple comparisons;
7. headline ("per 100 people") and caveats (small cohort, unmatched treated people, imbalance,
   dropped rows, model problems, survival notes).

Row positions in the result (matched pairs, per-row weights, logit and score) refer to the
frame as given, including rows left out for missing covariates (their weight is 0 and their
score NaN).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from openiom.evaluation.methods import (
    balance,
    estimates,
    matching,
    plots,
    propensity,
    sensitivity,
    survival,
    wording,
)
from openiom.evaluation.methods.tables import TableError, spreadsheet_row
from openiom.evaluation.methods.types import (
    BalanceRow,
    Estimate,
    EvaluationResult,
    EvaluationSpec,
    MatchResult,
    Progress,
    PropensityModel,
    Sensitivity,
    SurvivalResult,
)

JDL_MINIMUM_COHORT = 60  # evaluation-methods.md §2 [V2]
MAX_CATEGORIES = 50  # a text covariate with more distinct values than this is probably an id
SMD_TARGET = 0.1
SMD_LENIENT = 0.25

RATE_LABEL = estimates.RATE_LABEL
FREQUENCY_LABEL = "number of proven reoffences"
HARM_LABEL = "harm-weighted reoffending (crime-harm days)"


@dataclass
class Design:
    """The covariate matrices of the complete rows."""

    keep: np.ndarray  # frame positions of the rows with complete covariates
    x: np.ndarray  # model matrix (categories without their reference level)
    names: list[str]
    x_balance: np.ndarray  # every category shown
    names_balance: list[str]
    exact: np.ndarray | None  # integer cell per kept row


def evaluate_frame(
    frame: pl.DataFrame,
    spec: EvaluationSpec,
    *,
    progress: Progress | None = None,
    attrition: Sequence[tuple[str, int, int]] = (),
) -> EvaluationResult:
    """Run the matched evaluation of `frame` as `spec` says; see the module docstring."""

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    report("checking the table", 0.0)
    _check_spec(frame, spec)
    treated_all = _flag(frame, spec.treatment)
    outcome_all = _flag(frame, spec.outcome).astype(float)
    frequency_all = _non_negative(frame, spec.frequency) if spec.frequency else None
    harm_all = _non_negative(frame, spec.harm) if spec.harm else None
    time_all = _non_negative(frame, spec.time) if spec.time else None
    event_all = _flag(frame, spec.event).astype(float) if spec.event else None
    design = build_design(frame, spec)
    keep = design.keep
    treated = treated_all[keep]
    stages = list(attrition) or [
        ("rows in table", int(treated_all.sum()), int((~treated_all).sum()))
    ]
    stages.append(("complete covariates", int(treated.sum()), int((~treated).sum())))
    dropped = frame.height - len(keep)
    if not treated.any() or treated.all():
        group = "treated" if not treated.any() else "comparison"
        reason = f"there are no {group} people"
        if dropped:
            reason += f" once the {dropped:,} rows with a missing covariate are left out"
        raise TableError(reason, column=spec.treatment)

    report("fitting the propensity model", 0.1)
    model = propensity.fit_propensity(design.x, treated, design.names)

    report("matching", 0.3)
    match = matching.match(model.logit, treated, spec.matching, exact=design.exact)
    stages.append(("matched", int(match.n_treated_matched), int(match.n_controls_used)))
    if match.n_treated_matched == 0:
        raise TableError(
            "no treated person could be matched to a comparison person"
            + (" within the caliper" if spec.matching.caliper_sd is not None else "")
            + (" in the same exact-matching cell" if spec.matching.exact else "")
            + "; try a wider caliper or fewer exact-matching variables"
        )

    report("checking balance", 0.5)
    balance_rows = balance.balance_table(
        design.x_balance, design.names_balance, treated, match.weights
    )

    report("estimating outcomes", 0.6)
    confidence = spec.confidence
    rate = estimates.rate_difference(outcome_all[keep], treated, match, confidence=confidence)
    found: list[Estimate] = [rate]
    if frequency_all is not None:
        found.append(
            estimates.bootstrap_difference(
                frequency_all[keep],
                treated,
                match,
                measure="frequency",
                label=FREQUENCY_LABEL,
                replicates=spec.bootstrap_replicates,
                seed=spec.seed,
                confidence=confidence,
            )
        )
    if harm_all is not None:
        found.append(
            estimates.bootstrap_difference(
                harm_all[keep],
                treated,
                match,
                measure="harm",
                label=HARM_LABEL,
                replicates=spec.bootstrap_replicates,
                seed=spec.seed + 1,
                confidence=confidence,
            )
        )

    surv: SurvivalResult | None = None
    if time_all is not None and event_all is not None:
        report("survival analysis", 0.75)
        surv = survival.compare_survival(
            time_all[keep], event_all[keep], treated, match, confidence=confidence
        )

    report("sensitivity analysis", 0.9)
    sens, sens_caveats = _sensitivity(outcome_all[keep], rate, match, spec, surv, found)
    caveats = _caveats(
        spec=spec,
        match=match,
        model_note=model.note,
        converged=model.converged,
        balance_rows=balance_rows,
        dropped=dropped,
        surv=surv,
        found=found,
    )
    caveats.extend(sens_caveats)
    overlap = plots.overlap_histogram(model.score, treated, match.weights)

    report("done", 1.0)
    return EvaluationResult(
        spec=spec,
        attrition=stages,
        propensity=_full_model(model, keep, frame.height),
        matching=_full_match(match, keep, frame.height),
        balance=balance_rows,
        estimates=found,
        survival=surv,
        sensitivity=sens,
        headline=wording.headline(found, spec.label),
        caveats=caveats,
        overlap=overlap,
    )


# ---- checking the table -------------------------------------------------------------------


def _check_spec(frame: pl.DataFrame, spec: EvaluationSpec) -> None:
    if frame.height == 0:
        raise TableError("the table has no rows")
    if not spec.covariates:
        raise TableError("name at least one covariate to match on")
    if (spec.time is None) != (spec.event is None):
        missing = "event" if spec.event is None else "time"
        raise TableError(
            f"survival analysis needs both a time and an event column; the {missing} column "
            "was not given"
        )
    if spec.bootstrap_replicates < 1:
        raise TableError(
            f"bootstrap replicates must be at least 1 (got {spec.bootstrap_replicates})"
        )
    if not 0 < spec.confidence < 1:
        raise TableError(f"the confidence level must be between 0 and 1 (got {spec.confidence})")
    roles = {
        "treatment": spec.treatment,
        "outcome": spec.outcome,
        "frequency": spec.frequency,
        "time": spec.time,
        "event": spec.event,
        "harm": spec.harm,
    }
    named = [c for c in (*roles.values(), *spec.covariates, *spec.matching.exact) if c]
    missing_columns = [c for c in dict.fromkeys(named) if c not in frame.columns]
    if missing_columns:
        shown = ", ".join(frame.columns[:30]) + (" …" if frame.width > 30 else "")
        raise TableError(
            f"there is no such column (the table has: {shown})", column=missing_columns[0]
        )
    if len(set(spec.covariates)) != len(spec.covariates):
        twice = next(c for c in spec.covariates if spec.covariates.count(c) > 1)
        raise TableError("this covariate is named twice", column=twice)
    for role, column in roles.items():
        if column and (column in spec.covariates or column in spec.matching.exact):
            raise TableError(
                f"the {role} column cannot also be a covariate or exact-matching variable "
                "(those describe people before the programme)",
                column=column,
            )
    if spec.treatment == spec.outcome:
        raise TableError("the treatment and outcome columns must differ", column=spec.outcome)


def _first_bad(mask: pl.Series) -> int:
    return int(mask.arg_true()[0])


def _missing_error(column: str, missing: pl.Series) -> TableError:
    row = _first_bad(missing)
    total = int(missing.sum())
    more = f" ({total:,} rows are missing it)" if total > 1 else ""
    return TableError(f"a value is required here{more}", row=spreadsheet_row(row), column=column)


def _numbers(frame: pl.DataFrame, column: str) -> tuple[np.ndarray, pl.Series]:
    """The column as floats (NaN = missing) and its missing mask; text that is not a number is
    an error naming the first such cell."""
    series = frame.get_column(column)
    dtype = series.dtype
    if dtype == pl.Boolean or dtype == pl.Null or dtype.is_numeric():
        values = series.cast(pl.Float64)
    elif dtype == pl.String:
        stripped = series.str.strip_chars()
        values = stripped.cast(pl.Float64, strict=False)
        bad = values.is_null() & stripped.is_not_null() & (stripped != "")
        if bad.any():
            row = _first_bad(bad)
            raise TableError(
                f"is not a number (found {stripped[row]!r})",
                row=spreadsheet_row(row),
                column=column,
            )
    else:
        raise TableError(f"must hold numbers, but it holds {dtype}", column=column)
    array = values.to_numpy().astype(float, copy=False)
    missing = pl.Series(np.isnan(array))
    if np.isinf(array).any():
        row = int(np.flatnonzero(np.isinf(array))[0])
        raise TableError("is infinite", row=spreadsheet_row(row), column=column)
    return array, missing


def _flag(frame: pl.DataFrame, column: str) -> np.ndarray:
    """A 0/1 column (numbers, true/false, or the text "0"/"1") as a bool array."""
    series = frame.get_column(column)
    if series.dtype == pl.String:
        lowered = series.str.strip_chars().str.to_lowercase()
        mapping = {"0": 0.0, "1": 1.0, "true": 1.0, "false": 0.0}
        mapped = lowered.replace_strict(mapping, default=None, return_dtype=pl.Float64)
        bad = mapped.is_null() & lowered.is_not_null() & (lowered != "")
        if bad.any():
            row = _first_bad(bad)
            raise TableError(
                f"must be 0 or 1 (found {series[row]!r})", row=spreadsheet_row(row), column=column
            )
        array = mapped.to_numpy().astype(float, copy=False)
        missing = pl.Series(np.isnan(array))
    else:
        array, missing = _numbers(frame, column)
    if missing.any():
        raise _missing_error(column, missing)
    bad_values = (array != 0) & (array != 1)
    if bad_values.any():
        row = int(np.flatnonzero(bad_values)[0])
        raise TableError(
            f"must be 0 or 1 (found {_show(array[row])})", row=spreadsheet_row(row), column=column
        )
    return array == 1


def _non_negative(frame: pl.DataFrame, column: str) -> np.ndarray:
    array, missing = _numbers(frame, column)
    if missing.any():
        raise _missing_error(column, missing)
    negative = array < 0
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise TableError(
            f"cannot be negative (found {_show(array[row])})",
            row=spreadsheet_row(row),
            column=column,
        )
    return array


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# ---- covariates ---------------------------------------------------------------------------


@dataclass
class _Column:
    names: list[str]  # model columns
    values: np.ndarray  # n × k model columns (NaN where missing)
    balance_names: list[str]
    balance_values: np.ndarray
    missing: np.ndarray  # bool per row


def _covariate(frame: pl.DataFrame, column: str) -> _Column:
    series = frame.get_column(column)
    dtype = series.dtype
    if series.null_count() == len(series) or (
        dtype == pl.String and series.str.strip_chars().is_in(["", None]).all()
    ):
        raise TableError("has no values in any row", column=column)
    if dtype == pl.String or dtype == pl.Categorical or dtype == pl.Enum:
        text = series.cast(pl.String).str.strip_chars()
        as_number = text.cast(pl.Float64, strict=False)
        present = text.is_not_null() & (text != "")
        numeric_share = float((as_number.is_not_null() & present).sum()) / max(
            1, int(present.sum())
        )
        if numeric_share == 1.0:
            values = as_number.to_numpy().astype(float, copy=False)
            return _numeric_column(column, values)
        if numeric_share >= 0.9:
            bad = present & as_number.is_null()
            row = _first_bad(bad)
            raise TableError(
                f"is not a number (found {text[row]!r}) but most of the column is; "
                "correct it or leave the cell empty",
                row=spreadsheet_row(row),
                column=column,
            )
        return _categorical_column(column, text.set(~present, None))
    if dtype == pl.Boolean or dtype.is_numeric():
        values = series.cast(pl.Float64).to_numpy().astype(float, copy=False)
        return _numeric_column(column, values)
    raise TableError(
        f"cannot be a covariate: it holds {dtype}; use a number (e.g. age or days since) or "
        "a category",
        column=column,
    )


def _numeric_column(column: str, values: np.ndarray) -> _Column:
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise TableError("is infinite", row=spreadsheet_row(row), column=column)
    block = values.reshape(-1, 1)
    return _Column([column], block, [column], block, np.isnan(values))


def _categorical_column(column: str, text: pl.Series) -> _Column:
    missing = text.is_null().to_numpy()
    counts = text.drop_nulls().value_counts(sort=True, name="n")
    if counts.height > MAX_CATEGORIES:
        raise TableError(
            f"has {counts.height:,} different values; a category column can have at most "
            f"{MAX_CATEGORIES} (is it an identifier? use numbers or group the values)",
            column=column,
        )
    # Most common level is the reference (ties: alphabetical) — left out of the model.
    ordered = counts.sort(["n", column], descending=[True, False]).get_column(column).to_list()
    levels = sorted(ordered)
    filled = text.fill_null("").to_numpy()
    block = np.column_stack([(filled == level).astype(float) for level in levels])
    block[missing] = np.nan
    names = [f"{column}={level}" for level in levels]
    reference = levels.index(ordered[0])
    keep = [j for j in range(len(levels)) if j != reference]
    return _Column(
        names=[names[j] for j in keep],
        values=block[:, keep],
        balance_names=names,
        balance_values=block,
        missing=missing,
    )


def _exact_cells(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """An integer cell code per row from the exact-matching columns, and their missing mask."""
    code = np.zeros(frame.height, dtype=np.int64)
    missing = np.zeros(frame.height, dtype=bool)
    for column in columns:
        series = frame.get_column(column)
        if series.dtype == pl.String:
            series = series.str.strip_chars()
            series = series.set(series == "", None)
        if series.dtype.is_float():
            series = series.fill_nan(None)
        missing |= series.is_null().to_numpy()
        ranks = series.rank("dense").fill_null(0).cast(pl.Int64).to_numpy()
        code = code * (int(ranks.max()) + 1) + ranks
        _, code = np.unique(code, return_inverse=True)  # keep codes small
    return code.astype(np.int64), missing


def build_design(frame: pl.DataFrame, spec: EvaluationSpec) -> Design:
    """Covariate matrices of the rows with no missing covariate or exact-matching variable."""
    columns = [_covariate(frame, c) for c in spec.covariates]
    missing = np.zeros(frame.height, dtype=bool)
    for col in columns:
        missing |= col.missing
    exact: np.ndarray | None = None
    if spec.matching.exact:
        exact, exact_missing = _exact_cells(frame, spec.matching.exact)
        missing |= exact_missing
    keep = np.flatnonzero(~missing)
    x = np.column_stack([c.values for c in columns])[keep]
    x_balance = np.column_stack([c.balance_values for c in columns])[keep]
    return Design(
        keep=keep,
        x=np.ascontiguousarray(x, dtype=float),
        names=[n for c in columns for n in c.names],
        x_balance=np.ascontiguousarray(x_balance, dtype=float),
        names_balance=[n for c in columns for n in c.balance_names],
        exact=None if exact is None else exact[keep],
    )


# ---- sensitivity and caveats --------------------------------------------------------------


def _sensitivity(
    outcome: np.ndarray,
    rate: Estimate,
    match: MatchResult,
    spec: EvaluationSpec,
    surv: SurvivalResult | None,
    found: list[Estimate],
) -> tuple[Sensitivity, list[str]]:
    caveats: list[str] = []
    if spec.matching.ratio == 1:
        discordant, favourable = sensitivity.discordant_pairs(outcome, match)
        increase = rate.difference > 0
        if increase:
            favourable = discordant - favourable
        sens = sensitivity.rosenbaum_bounds(discordant, favourable)
        if increase and sens.largest_gamma is not None:
            caveats.append(
                "The Rosenbaum bounds are for the hypothesis that the programme increases "
                "reoffending, the direction the result points."
            )
        if spec.matching.replace:
            caveats.append(
                "Controls were reused across pairs, so the pairs are not independent and the "
                "Rosenbaum bounds are approximate."
            )
    else:
        sens = Sensitivity(discordant_pairs=None, favourable_pairs=None, largest_gamma=None)
        caveats.append(
            f"Rosenbaum bounds are computed for 1:1 matching only (this run used 1:{spec.matching.ratio})."
        )
    control_weight = _control_weights(match)
    n_comparison = float(control_weight.sum() ** 2 / np.sum(control_weight**2))
    if np.isfinite(rate.comparison) and match.n_treated_matched > 0:
        sens.minimum_detectable_effect = sensitivity.minimum_detectable_effect(
            match.n_treated_matched, n_comparison, rate.comparison
        )
    others: list[tuple[str, float | None]] = []
    if surv is not None:
        others.append(("time to first reoffence (Cox hazard ratio)", _p(surv.cox_p)))
    sens.multiple_outcomes_note = wording.multiple_outcomes_note(found, others=others)
    return sens, caveats


def _p(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _control_weights(match: MatchResult) -> np.ndarray:
    """Per distinct control: the sum over its sets of 1/k (its ATT weight)."""
    sets = estimates.matched_sets(match)
    if len(sets.control_row) == 0:
        return np.ones(1)
    _, person = np.unique(sets.control_row, return_inverse=True)
    return np.bincount(person, weights=sets.control_weight)


def _caveats(
    *,
    spec: EvaluationSpec,
    match: MatchResult,
    model_note: str,
    converged: bool,
    balance_rows: list[BalanceRow],
    dropped: int,
    surv: SurvivalResult | None,
    found: list[Estimate],
) -> list[str]:
    out: list[str] = []
    n = match.n_treated_matched
    if n < JDL_MINIMUM_COHORT:
        out.append(
            f"Only {n} treated people were matched; the Justice Data Lab asks for about "
            f"{JDL_MINIMUM_COHORT} or more, so these estimates are imprecise."
        )
    if match.n_treated_unmatched:
        share = match.n_treated_unmatched / max(1, match.n_treated)
        out.append(
            f"{match.n_treated_unmatched} of {match.n_treated} treated people ({share:.0%}) had "
            "no comparison person close enough"
            + (" (caliper)" if match.caliper is not None else "")
            + (" in their exact-matching cell" if spec.matching.exact else "")
            + " and are left out: the results describe the matched people only."
        )
    if dropped:
        out.append(f"{dropped:,} rows with a missing covariate were left out before matching.")
    poor = [r for r in balance_rows if np.isfinite(r.smd_after) and abs(r.smd_after) >= SMD_LENIENT]
    fair = [
        r
        for r in balance_rows
        if np.isfinite(r.smd_after) and SMD_TARGET <= abs(r.smd_after) < SMD_LENIENT
    ]
    if poor:
        out.append(
            "Poor balance after matching (|SMD| ≥ 0.25) on: "
            + ", ".join(f"{r.name} ({r.smd_after:+.2f})" for r in poor)
            + "; the groups still differ, so the estimates may be biased."
        )
    if fair:
        out.append(
            "Balance short of the 0.1 target on: "
            + ", ".join(f"{r.name} ({r.smd_after:+.2f})" for r in fair)
            + "."
        )
    if not converged or model_note:
        out.append("Propensity model: " + (model_note or "the fit did not converge."))
    if spec.matching.replace:
        out.append(
            "Comparison people were used more than once (matching with replacement): the Wald "
            "intervals are clustered by matched set and by person; the bootstrap resamples sets."
        )
    if surv is not None and surv.note:
        out.append("Survival analysis: " + surv.note[:1].upper() + surv.note[1:] + ".")
    if len(found) + (1 if surv is not None else 0) > 1:
        tests = [e.label for e in found] + (["time to first reoffence"] if surv else [])
        out.append(
            f"{len(tests)} outcomes were tested ({', '.join(tests)}); see the note on multiple "
            "comparisons."
        )
    out.append(
        "Matching balances only the characteristics in the table ("
        + ", ".join(spec.covariates)
        + "); differences in anything unrecorded could still bias the result — the "
        "sensitivity analysis shows how strong such a difference would need to be."
    )
    return out


# ---- results in frame positions -----------------------------------------------------------


def _full_model(model: PropensityModel, keep: np.ndarray, n: int) -> PropensityModel:
    logit = np.full(n, np.nan)
    score = np.full(n, np.nan)
    logit[keep] = model.logit
    score[keep] = model.score
    return dataclasses.replace(model, logit=logit, score=score)


def _full_match(match: MatchResult, keep: np.ndarray, n: int) -> MatchResult:
    weights = np.zeros(n)
    weights[keep] = match.weights
    return dataclasses.replace(
        match,
        treated_rows=keep[np.asarray(match.treated_rows, dtype=np.int64)],
        pair_treated=keep[np.asarray(match.pair_treated, dtype=np.int64)],
        pair_control=keep[np.asarray(match.pair_control, dtype=np.int64)],
        weights=weights,
    )
