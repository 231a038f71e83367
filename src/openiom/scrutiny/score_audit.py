"""Audit any risk score against an observed binary outcome on a flat table (CSV or Parquet).

Works for openiom's own scores, a force's matrix or an external tool: all it needs is a score
column (higher = more likely), a 0/1 outcome column, optionally a group column and predictor
columns. It reports

- discrimination: ROC AUC with a DeLong 95% CI, and the ROC curve;
- calibration: observed (with Wilson CIs) against predicted by decile of score; for
  probabilities also calibration-in-the-large and the calibration slope;
- error rates at a threshold T (score ≥ T is "flagged"): FPR, FNR, PPV and the flagged rate,
  overall and by group, with Wilson CIs and the confusion counts;
- a transparent benchmark: a logistic regression on chosen predictors, its coefficients and
  odds ratios, and its AUC beside the audited score's (in-sample, and k-fold cross-validated).

Bad input raises ScoreAuditError with a message naming the column, rows and values. No Django.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from openiom.scrutiny.stats import (
    Z95,
    Estimate,
    PairedAucDifference,
    Proportion,
    auc_with_ci,
    clean_float,
    paired_auc_difference,
    wilson,
)

AUDIT_VERSION = "1"
TRUE_WORDS = {"1", "1.0", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "0.0", "false", "f", "no", "n"}
BLANK_GROUP = "(blank)"
MAX_LEVELS = 30  # categorical predictor levels before we refuse (dummy explosion)


class ScoreAuditError(ValueError):
    """Input that cannot be audited; the message says which column, rows and values."""


class BenchmarkFitError(ScoreAuditError):
    """The benchmark model could not be fitted; the rest of the audit still stands."""


@dataclass(frozen=True)
class AuditOptions:
    score: str
    outcome: str
    threshold: float
    group: str | None = None
    predictors: tuple[str, ...] = ()
    # None: treat scores as probabilities if they all lie in [0, 1]; True: insist; False: never.
    probability: bool | None = None
    bins: int = 10
    cv_folds: int = 5  # 0 or 1: no cross-validation
    groups: tuple[str, ...] = ()  # groups that must be present (error if one has no rows)
    min_group_size: int = 5
    seed: int = 20240601

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "outcome": self.outcome,
            "threshold": self.threshold,
            "group": self.group,
            "predictors": list(self.predictors),
            "probability": self.probability,
            "bins": self.bins,
            "cv_folds": self.cv_folds,
            "groups": list(self.groups),
            "min_group_size": self.min_group_size,
            "seed": self.seed,
        }


# --- loading and checking --------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    name: str
    format: str
    sha256: str | None
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format, "sha256": self.sha256, "rows": self.rows}


def load_table(path: Path) -> tuple[pl.DataFrame, Source]:
    """Read a CSV (every column as text: we parse and report bad cells ourselves) or Parquet."""
    if not path.is_file():
        raise ScoreAuditError(f"{path} is not a file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
            fmt = "csv"
        elif suffix in {".parquet", ".pq"}:
            frame = pl.read_parquet(path)
            fmt = "parquet"
        else:
            raise ScoreAuditError(f"{path.name}: expected a .csv or .parquet file")
    except pl.exceptions.NoDataError as exc:
        raise ScoreAuditError(f"{path.name} is empty") from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScoreAuditError(f"{path.name} could not be read as {suffix[1:]}: {first}") from exc
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return frame, Source(path.name, fmt, digest, frame.height)


def _where(row: int, fmt: str) -> str:
    """Row numbers count data rows from 1; in a CSV the header is line 1, so row r is line r+1."""
    return f"row {row} (line {row + 1} of the file)" if fmt == "csv" else f"row {row}"


def _rows(rows: Sequence[int], fmt: str, limit: int = 5) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    lines = " (file lines are one more: the header is line 1)" if fmt == "csv" else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}{more}{lines}"


def parse_outcome(series: pl.Series, fmt: str = "parquet") -> npt.NDArray[np.int_]:
    """0/1, true/false or yes/no (any case) to 0/1; anything else is listed with its rows."""
    values = series.to_list()
    out = np.empty(len(values), dtype=np.int_)
    bad: dict[str, list[int]] = {}
    for i, v in enumerate(values):
        text = "" if v is None else str(v).strip().lower()
        if isinstance(v, bool):
            out[i] = int(v)
        elif text in TRUE_WORDS:
            out[i] = 1
        elif text in FALSE_WORDS:
            out[i] = 0
        else:
            key = "(blank)" if text in {"", "nan", "none", "null"} else repr(v)
            bad.setdefault(key, []).append(i + 1)
    if bad:
        examples = "; ".join(f"{k} in {_rows(r, fmt)}" for k, r in list(bad.items())[:5])
        extra = f" ({len(bad)} different values)" if len(bad) > 5 else ""
        raise ScoreAuditError(
            f"Outcome column '{series.name}' must be binary (0/1, true/false or yes/no); "
            f"found {examples}{extra}"
        )
    return out


def parse_numbers(series: pl.Series, what: str, fmt: str = "parquet") -> npt.NDArray[np.float64]:
    """Finite numbers or an error naming the first bad row."""
    if series.dtype == pl.Boolean:
        series = series.cast(pl.Int8)
    values = series.to_list()
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        try:
            if v is None or (isinstance(v, str) and not v.strip()):
                raise ValueError("blank")
            x = float(v)
            if not math.isfinite(x):
                raise ValueError("not finite")
        except (TypeError, ValueError):
            shown = "a blank" if v is None or str(v).strip() == "" else f"{v!r}"
            raise ScoreAuditError(
                f"{what} '{series.name}' must be numeric: {_where(i + 1, fmt)} has {shown}"
            ) from None
        out[i] = x
    return out


def _check_columns(frame: pl.DataFrame, options: AuditOptions) -> None:
    wanted = [options.score, options.outcome]
    if options.group:
        wanted.append(options.group)
    wanted.extend(options.predictors)
    missing = [c for c in dict.fromkeys(wanted) if c not in frame.columns]
    if missing:
        raise ScoreAuditError(
            f"Missing column(s): {', '.join(missing)}. "
            f"The table has: {', '.join(frame.columns) or 'no columns'}"
        )
    if frame.height == 0:
        raise ScoreAuditError("The table has no rows")
    if options.outcome in options.predictors:
        raise ScoreAuditError("The outcome cannot also be a predictor")
    if not math.isfinite(options.threshold):
        raise ScoreAuditError("The threshold must be a finite number")
    if options.bins < 2:
        raise ScoreAuditError("Calibration needs at least 2 bins")


# --- discrimination --------------------------------------------------------------------------


@dataclass(frozen=True)
class RocPoint:
    threshold: float | None  # score ≥ threshold is positive; None for the (0, 0) corner
    fpr: float
    tpr: float

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": clean_float(self.threshold), "fpr": self.fpr, "tpr": self.tpr}


def roc_points(outcome: npt.NDArray[np.int_], score: npt.NDArray[np.float64]) -> list[RocPoint]:
    """(FPR, TPR) at each distinct score used as a threshold, from (0, 0) to (1, 1)."""
    order = np.argsort(-score, kind="mergesort")
    s, y = score[order], outcome[order]
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    cut = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each distinct score
    tp = np.cumsum(y)[cut]
    fp = (cut + 1) - tp
    points = [RocPoint(None, 0.0, 0.0)]
    points += [
        RocPoint(float(s[c]), float(f) / neg, float(t) / pos)
        for c, t, f in zip(cut, tp, fp, strict=True)
    ]
    return points


@dataclass(frozen=True)
class Discrimination:
    auc: Estimate
    roc: list[RocPoint]

    def to_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc.to_dict(),
            "method": "DeLong (1988) variance; 95% CI on the AUC scale, clipped to [0, 1]",
            "roc": [p.to_dict() for p in self.roc],
        }


# --- calibration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationBin:
    index: int
    score_min: float
    score_max: float
    mean_score: float
    observed: Proportion
    expected_events: float | None  # sum of predicted probabilities (probabilities only)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "n": self.observed.total,
            "events": self.observed.successes,
            "score_min": self.score_min,
            "score_max": self.score_max,
            "mean_score": self.mean_score,
            "observed_rate": self.observed.estimate,
            "observed_ci_low": self.observed.ci_low,
            "observed_ci_high": self.observed.ci_high,
            "expected_events": clean_float(self.expected_events),
        }


@dataclass(frozen=True)
class Calibration:
    is_probability: bool
    probability_reason: str
    bins: list[CalibrationBin]
    observed_rate: float
    mean_predicted: float | None
    # Calibration-in-the-large: intercept a in logit P(y) = a + logit(p) (ideal 0).
    citl: Estimate | None
    # Calibration slope: b in logit P(y) = a + b·logit(p) (ideal 1; < 1 = too extreme).
    slope: Estimate | None
    clipped: int  # predictions of exactly 0 or 1 moved to 1e-6 / 1 − 1e-6 for the logit
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "is_probability": self.is_probability,
            "probability_reason": self.probability_reason,
            "bins": [b.to_dict() for b in self.bins],
            "observed_rate": self.observed_rate,
            "mean_predicted": clean_float(self.mean_predicted),
            "calibration_in_the_large": self.citl.to_dict() if self.citl else None,
            "calibration_slope": self.slope.to_dict() if self.slope else None,
            "clipped_predictions": self.clipped,
            "notes": self.notes,
        }


def decile_bins(score: npt.NDArray[np.float64], bins: int = 10) -> npt.NDArray[np.int_]:
    """Bin index (0-based) by quantile of score, intervals closed on the right.

    Edges are the k/bins quantiles (linear interpolation, numpy's default); repeated edges are
    merged so that tied scores always share a bin, which can leave fewer than `bins` bins.
    Returned indices are renumbered 0..k−1 over non-empty bins.
    """
    edges = np.unique(np.quantile(score, np.linspace(0, 1, bins + 1)))
    raw = np.searchsorted(edges[1:-1], score, side="left")
    _, dense = np.unique(raw, return_inverse=True)
    return np.asarray(dense, dtype=np.int_)


def _logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(np.log(p / (1 - p)), dtype=np.float64)


def _estimate(value: float, se: float) -> Estimate:
    return Estimate(value, se, value - Z95 * se, value + Z95 * se)


def calibration(
    outcome: npt.NDArray[np.int_],
    score: npt.NDArray[np.float64],
    *,
    is_probability: bool,
    probability_reason: str,
    bins: int = 10,
) -> Calibration:
    import statsmodels.api as sm

    idx = decile_bins(score, bins)
    rows: list[CalibrationBin] = []
    for k in range(int(idx.max()) + 1):
        m = idx == k
        s = score[m]
        rows.append(
            CalibrationBin(
                index=k + 1,
                score_min=float(s.min()),
                score_max=float(s.max()),
                mean_score=float(s.mean()),
                observed=wilson(int(outcome[m].sum()), int(m.sum())),
                expected_events=float(s.sum()) if is_probability else None,
            )
        )
    notes: list[str] = []
    if len(rows) < bins:
        notes.append(
            f"Tied scores allowed only {len(rows)} bins rather than {bins}: tied scores are "
            "kept in the same bin."
        )
    if not is_probability:
        return Calibration(
            False, probability_reason, rows, float(outcome.mean()), None, None, None, 0, notes
        )
    eps = 1e-6
    clipped = int(((score < eps) | (score > 1 - eps)).sum())
    lp = _logit(np.clip(score, eps, 1 - eps))
    citl = slope = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.GLM(
                outcome, np.ones((len(lp), 1)), family=sm.families.Binomial(), offset=lp
            ).fit()
            citl = _estimate(float(fit.params[0]), float(fit.bse[0]))
            fit2 = sm.GLM(
                outcome, sm.add_constant(lp, has_constant="add"), family=sm.families.Binomial()
            ).fit()
            slope = _estimate(float(fit2.params[1]), float(fit2.bse[1]))
        except (np.linalg.LinAlgError, ValueError, OverflowError) as exc:
            notes.append(f"Logistic recalibration could not be fitted ({exc}).")
    if clipped:
        notes.append(
            f"{clipped} predictions of exactly 0 or 1 were moved to 0.000001 or 0.999999 to take "
            "their logit; a score that is certain and wrong is badly calibrated."
        )
    return Calibration(
        True,
        probability_reason,
        rows,
        float(outcome.mean()),
        float(score.mean()),
        citl,
        slope,
        clipped,
        notes,
    )


# --- error rates at a threshold ---------------------------------------------------------------


@dataclass(frozen=True)
class GroupRates:
    group: str
    n: int
    tp: int
    fp: int
    tn: int
    fn: int
    flagged_rate: Proportion  # (TP + FP) / n
    base_rate: Proportion  # (TP + FN) / n: observed outcome rate
    fpr: Proportion  # FP / (FP + TN)
    fnr: Proportion  # FN / (FN + TP)
    ppv: Proportion  # TP / (TP + FP)
    too_few: bool
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "n": self.n,
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
            "flagged_rate": self.flagged_rate.to_dict(),
            "base_rate": self.base_rate.to_dict(),
            "fpr": self.fpr.to_dict(),
            "fnr": self.fnr.to_dict(),
            "ppv": self.ppv.to_dict(),
            "too_few": self.too_few,
            "notes": self.notes,
        }


def group_rates(
    group: str,
    outcome: npt.NDArray[np.int_],
    flagged: npt.NDArray[np.bool_],
    *,
    min_size: int = 5,
) -> GroupRates:
    y = outcome.astype(bool)
    tp = int((flagged & y).sum())
    fp = int((flagged & ~y).sum())
    tn = int((~flagged & ~y).sum())
    fn = int((~flagged & y).sum())
    n = tp + fp + tn + fn
    notes = []
    if fp + tn == 0:
        notes.append("False positive rate not defined: no one in this group lacked the outcome.")
    if fn + tp == 0:
        notes.append("False negative rate not defined: no one in this group had the outcome.")
    if tp + fp == 0:
        notes.append("Positive predictive value not defined: no one in this group was flagged.")
    too_few = n < min_size
    if too_few:
        notes.append(f"Too few to interpret: {n} people (fewer than {min_size}).")
    return GroupRates(
        group,
        n,
        tp,
        fp,
        tn,
        fn,
        wilson(tp + fp, n),
        wilson(tp + fn, n),
        wilson(fp, fp + tn),
        wilson(fn, fn + tp),
        wilson(tp, tp + fp),
        too_few,
        notes,
    )


@dataclass(frozen=True)
class ThresholdResult:
    threshold: float
    overall: GroupRates
    group_column: str | None
    groups: list[GroupRates]

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "rule": f"flagged when score ≥ {self.threshold:g}",
            "overall": self.overall.to_dict(),
            "group_column": self.group_column,
            "groups": [g.to_dict() for g in self.groups],
        }


def threshold_rates(
    outcome: npt.NDArray[np.int_],
    score: npt.NDArray[np.float64],
    threshold: float,
    *,
    groups: Sequence[str] | None = None,
    group_column: str | None = None,
    required_groups: Sequence[str] = (),
    min_size: int = 5,
) -> ThresholdResult:
    flagged = score >= threshold
    by_group: list[GroupRates] = []
    if groups is not None:
        labels = np.asarray(groups, dtype=object)
        present = sorted(set(labels.tolist()))
        empty = [g for g in required_groups if g not in present]
        if empty:
            raise ScoreAuditError(
                f"Group(s) with no rows in column '{group_column}': {', '.join(empty)}. "
                f"Groups present: {', '.join(present)}"
            )
        for g in present:
            m = labels == g
            by_group.append(group_rates(g, outcome[m], flagged[m], min_size=min_size))
    overall = group_rates("All", outcome, flagged, min_size=min_size)
    return ThresholdResult(threshold, overall, group_column, by_group)


# --- transparent benchmark ---------------------------------------------------------------------


@dataclass(frozen=True)
class Coefficient:
    term: str
    coef: float
    se: float
    z: float
    p_value: float
    odds_ratio: float
    or_ci_low: float
    or_ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return {k: clean_float(v) if isinstance(v, float) else v for k, v in vars(self).items()}


@dataclass(frozen=True)
class Benchmark:
    predictors: list[str]
    terms_note: str
    coefficients: list[Coefficient]
    converged: bool
    auc_in_sample: Estimate
    difference_in_sample: PairedAucDifference  # audited − benchmark, same rows
    cv_folds: int
    auc_cv: Estimate | None
    difference_cv: PairedAucDifference | None
    notes: list[str]
    roc: list[RocPoint]
    predictions: npt.NDArray[np.float64] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "logistic regression (statsmodels Logit, maximum likelihood)",
            "predictors": self.predictors,
            "terms_note": self.terms_note,
            "coefficients": [c.to_dict() for c in self.coefficients],
            "converged": self.converged,
            "auc_in_sample": self.auc_in_sample.to_dict(),
            "difference_in_sample": self.difference_in_sample.to_dict(),
            "cv_folds": self.cv_folds,
            "auc_cross_validated": self.auc_cv.to_dict() if self.auc_cv else None,
            "difference_cross_validated": (
                self.difference_cv.to_dict() if self.difference_cv else None
            ),
            "notes": self.notes,
            "roc": [p.to_dict() for p in self.roc],
        }


def design_matrix(
    frame: pl.DataFrame, predictors: Sequence[str], fmt: str = "parquet"
) -> tuple[npt.NDArray[np.float64], list[str], list[str]]:
    """Numeric columns as they are; text columns as 0/1 dummies against their commonest level.

    Returns (matrix with a leading constant, term names, notes).
    """
    columns: list[npt.NDArray[np.float64]] = [np.ones(frame.height)]
    names = ["(intercept)"]
    notes: list[str] = []
    for col in predictors:
        series = frame.get_column(col)
        blanks = [
            i + 1
            for i, v in enumerate(series.to_list())
            if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""
        ]
        if blanks:
            raise ScoreAuditError(
                f"Predictor '{col}' is blank in {len(blanks)} row(s): {_rows(blanks, fmt)}. "
                "Fill or remove them so the benchmark uses the same rows as the score."
            )
        numeric = series.dtype.is_numeric() or series.dtype == pl.Boolean
        if not numeric:
            cast = series.cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False)
            numeric = cast.null_count() == 0
            if numeric:
                series = cast
        if numeric:
            x = series.cast(pl.Float64).to_numpy()
            if np.all(x == x[0]):
                raise ScoreAuditError(f"Predictor '{col}' has the same value in every row")
            columns.append(x)
            names.append(col)
            continue
        text = series.cast(pl.Utf8).str.strip_chars()
        counts = text.value_counts(sort=True).rows()
        levels = sorted((str(v) for v, _ in counts), key=lambda v: (-dict(counts)[v], v))
        if len(levels) < 2:
            raise ScoreAuditError(f"Predictor '{col}' has the same value in every row")
        if len(levels) > MAX_LEVELS:
            raise ScoreAuditError(
                f"Predictor '{col}' is text with {len(levels)} different values; at most "
                f"{MAX_LEVELS} can be used as categories"
            )
        values = np.asarray(text.to_list(), dtype=object)
        for level in levels[1:]:
            columns.append((values == level).astype(np.float64))
            names.append(f"{col}={level}")
        notes.append(f"'{col}' is categorical: each level is compared with '{levels[0]}'.")
    return np.column_stack(columns), names, notes


def _fit_logit(y: npt.NDArray[np.int_], x: npt.NDArray[np.float64]) -> tuple[Any, list[str]]:
    import statsmodels.api as sm

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = sm.Logit(y, x).fit(disp=0, maxiter=200)
        except (np.linalg.LinAlgError, ValueError, OverflowError) as exc:
            raise BenchmarkFitError(f"The benchmark model could not be fitted: {exc}") from exc
    for w in caught:
        name = type(w.message).__name__
        if "Separation" in name:
            notes.append(
                "Some predictors separate the outcome perfectly: coefficients and their CIs are "
                "not reliable."
            )
        elif "Convergence" in name:
            notes.append("The model did not fully converge: treat its coefficients with care.")
    return fit, sorted(set(notes))


def benchmark(
    outcome: npt.NDArray[np.int_],
    score: npt.NDArray[np.float64],
    frame: pl.DataFrame,
    predictors: Sequence[str],
    *,
    cv_folds: int = 5,
    seed: int = 0,
    fmt: str = "parquet",
) -> Benchmark:
    x, names, notes = design_matrix(frame, predictors, fmt)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise BenchmarkFitError(
            "The benchmark predictors are collinear (one is a combination of others): "
            + ", ".join(names[1:])
        )
    fit, fit_notes = _fit_logit(outcome, x)
    notes += fit_notes
    params = np.asarray(fit.params, dtype=float)
    bse = np.asarray(fit.bse, dtype=float)
    coefs = [
        Coefficient(
            term=name,
            coef=float(b),
            se=float(se),
            z=float(b / se) if se > 0 else float("nan"),
            p_value=float(p),
            odds_ratio=float(np.exp(b)),
            or_ci_low=float(np.exp(b - Z95 * se)),
            or_ci_high=float(np.exp(b + Z95 * se)),
        )
        for name, b, se, p in zip(names, params, bse, np.asarray(fit.pvalues), strict=True)
    ]
    pred = np.asarray(fit.predict(x), dtype=np.float64)
    notes.append(
        "The in-sample AUC of the benchmark is optimistic: the model was fitted to these rows."
    )
    auc_cv = diff_cv = None
    used_folds = 0
    if cv_folds >= 2:
        smallest = int(min(outcome.sum(), len(outcome) - outcome.sum()))
        if smallest < cv_folds:
            notes.append(
                f"Cross-validation skipped: the rarer outcome has only {smallest} rows for "
                f"{cv_folds} folds."
            )
        else:
            from sklearn.model_selection import StratifiedKFold

            oof = np.empty(len(outcome))
            folds = StratifiedKFold(n_splits=cv_folds, shuffle=True, random_state=seed)
            try:
                for train, test in folds.split(x, outcome):
                    f, _ = _fit_logit(outcome[train], x[train])
                    oof[test] = f.predict(x[test])
                auc_cv = auc_with_ci(outcome, oof)
                diff_cv = paired_auc_difference(outcome, score, oof)
                used_folds = cv_folds
            except BenchmarkFitError as exc:
                notes.append(f"Cross-validation failed in one fold: {exc}")
    return Benchmark(
        predictors=list(predictors),
        terms_note="; ".join(n for n in notes if "categorical" in n),
        coefficients=coefs,
        converged=bool(fit.mle_retvals.get("converged", True)),
        auc_in_sample=auc_with_ci(outcome, pred),
        difference_in_sample=paired_auc_difference(outcome, score, pred),
        cv_folds=used_folds,
        auc_cv=auc_cv,
        difference_cv=diff_cv,
        notes=[n for n in notes if "categorical" not in n],
        roc=roc_points(outcome, pred),
        predictions=pred,
    )


# --- the whole audit -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreAudit:
    """Everything an audit found; to_dict() gives plain JSON-ready data for pages and files."""

    version: str
    source: Source
    options: AuditOptions
    n: int
    events: int
    score_min: float
    score_max: float
    score_mean: float
    discrimination: Discrimination
    calibration: Calibration
    threshold: ThresholdResult
    benchmark: Benchmark | None
    benchmark_error: str | None
    summary: list[str]
    caveats: list[str]

    @property
    def prevalence(self) -> float:
        return self.events / self.n

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": self.source.to_dict(),
            "options": self.options.to_dict(),
            "n": self.n,
            "events": self.events,
            "prevalence": self.prevalence,
            "score": {"min": self.score_min, "max": self.score_max, "mean": self.score_mean},
            "discrimination": self.discrimination.to_dict(),
            "calibration": self.calibration.to_dict(),
            "threshold": self.threshold.to_dict(),
            "benchmark": self.benchmark.to_dict() if self.benchmark else None,
            "benchmark_error": self.benchmark_error,
            "summary": self.summary,
            "caveats": self.caveats,
        }


CAVEATS = [
    "An audit on the rows a score was built or tuned on is optimistic; audit it on later, "
    "independent cases where you can.",
    "The outcome is what was recorded (for example a proven reoffence), not all offending: "
    "groups that are policed more may have more recorded outcomes for the same behaviour.",
    "Different error rates between groups are a reason to look closer, not proof of bias on "
    "their own; when base rates differ, equal FPR, FNR and PPV cannot all hold at once.",
]


def _summary(
    disc: Discrimination,
    cal: Calibration,
    thr: ThresholdResult,
    bench: Benchmark | None,
    n: int,
    events: int,
) -> list[str]:
    a = disc.auc
    lines = [
        f"{n} rows; {events} had the outcome ({100 * events / n:.1f}%).",
        f"AUC {a.estimate:.3f} (95% CI {a.ci_low:.3f} to {a.ci_high:.3f}): the chance that a "
        "randomly chosen person with the outcome scores higher than one without "
        "(0.5 = no better than chance, 1 = perfect).",
    ]
    if cal.is_probability and cal.mean_predicted is not None:
        lines.append(
            f"Mean predicted probability {100 * cal.mean_predicted:.1f}% against an observed rate "
            f"of {100 * cal.observed_rate:.1f}%."
        )
        if cal.slope is not None:
            lines.append(
                f"Calibration slope {cal.slope.estimate:.2f} (95% CI {cal.slope.ci_low:.2f} to "
                f"{cal.slope.ci_high:.2f}); 1 is ideal, below 1 means predictions are too extreme."
            )
    else:
        lines.append(f"Scores are not treated as probabilities: {cal.probability_reason}")
    o = thr.overall
    lines.append(
        f"At threshold {thr.threshold:g}, {o.tp + o.fp} of {o.n} were flagged; "
        + ", ".join(
            f"{name} {100 * p.estimate:.1f}%" if p.estimate is not None else f"{name} not defined"
            for name, p in (("FPR", o.fpr), ("FNR", o.fnr), ("PPV", o.ppv))
        )
        + "."
    )
    if bench is not None:
        d = bench.difference_in_sample
        lines.append(
            f"The transparent benchmark ({', '.join(bench.predictors)}) has AUC "
            f"{bench.auc_in_sample.estimate:.3f} in-sample"
            + (
                f" and {bench.auc_cv.estimate:.3f} cross-validated"
                if bench.auc_cv is not None
                else ""
            )
            + f"; the audited score minus the benchmark is {d.difference:+.3f} "
            f"(95% CI {d.ci_low:+.3f} to {d.ci_high:+.3f})."
        )
    return lines


def _probability_decision(
    score: npt.NDArray[np.float64], flag: bool | None, column: str, fmt: str
) -> tuple[bool, str]:
    inside = (score >= 0) & (score <= 1)
    if flag is True:
        if not inside.all():
            row = int(np.flatnonzero(~inside)[0]) + 1
            raise ScoreAuditError(
                f"Scores were declared probabilities, but '{column}' is outside [0, 1]: "
                f"{_where(row, fmt)} has {score[row - 1]:g}"
            )
        return True, "declared to be probabilities."
    if flag is False:
        return False, "declared not to be probabilities."
    if inside.all():
        return True, "every score lies in [0, 1], so they are treated as probabilities."
    return False, (
        f"scores run from {score.min():g} to {score.max():g}, outside [0, 1], so only the "
        "observed rate by decile of score is shown."
    )


def audit_frame(
    frame: pl.DataFrame, options: AuditOptions, *, source: Source | None = None
) -> ScoreAudit:
    """Audit `options.score` against `options.outcome` on `frame`."""
    source = source or Source("(table)", "parquet", None, frame.height)
    fmt = source.format
    _check_columns(frame, options)
    y = parse_outcome(frame.get_column(options.outcome), fmt)
    s = parse_numbers(frame.get_column(options.score), "Score column", fmt)
    events = int(y.sum())
    if events == 0 or events == len(y):
        only = "1 (had the outcome)" if events else "0 (did not have the outcome)"
        raise ScoreAuditError(
            f"Every row has outcome {only}, so the AUC is not defined and error rates cannot be "
            "compared: the audit needs people with and without the outcome"
        )
    is_prob, reason = _probability_decision(s, options.probability, options.score, fmt)
    groups = None
    if options.group:
        groups = [
            BLANK_GROUP if v is None or str(v).strip() == "" else str(v).strip()
            for v in frame.get_column(options.group).to_list()
        ]
    elif options.groups:
        raise ScoreAuditError("Required groups were given without a group column")
    disc = Discrimination(auc_with_ci(y, s), roc_points(y, s))
    cal = calibration(y, s, is_probability=is_prob, probability_reason=reason, bins=options.bins)
    thr = threshold_rates(
        y,
        s,
        options.threshold,
        groups=groups,
        group_column=options.group,
        required_groups=options.groups,
        min_size=options.min_group_size,
    )
    bench = None
    bench_error = None
    if options.predictors:
        try:
            bench = benchmark(
                y,
                s,
                frame,
                options.predictors,
                cv_folds=options.cv_folds,
                seed=options.seed,
                fmt=fmt,
            )
        except BenchmarkFitError as exc:  # bad input still raises; a failed fit is reported
            bench_error = str(exc)
    return ScoreAudit(
        version=AUDIT_VERSION,
        source=source,
        options=options,
        n=len(y),
        events=events,
        score_min=float(s.min()),
        score_max=float(s.max()),
        score_mean=float(s.mean()),
        discrimination=disc,
        calibration=cal,
        threshold=thr,
        benchmark=bench,
        benchmark_error=bench_error,
        summary=_summary(disc, cal, thr, bench, len(y), events),
        caveats=list(CAVEATS),
    )


def audit_file(path: Path, options: AuditOptions) -> ScoreAudit:
    frame, source = load_table(path)
    return audit_frame(frame, options, source=source)
