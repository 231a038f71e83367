"""The contract between the evaluation engine's parts (pure Python: no Django here).

`openiom.evaluation.methods` is the statistical engine: it takes a flat table (one row per person,
treatment flag, outcomes, covariates) and returns an `EvaluationResult`. The database mode
(`openiom.evaluation.comparison`) builds that table from the area's data; the flat-table mode
(`manage.py evaluate_table`) reads it from CSV or Parquet. Both end in `pipeline.evaluate_frame`,
so the numbers cannot differ between them.

Arrays are numpy; row indices are positions (0..n-1) in the frame given to the engine.
Everything in a result is turned into JSON-safe plain data by `to_dict()` so an evaluation can be
stored, compared and re-run to the same numbers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

# Called with (stage, fraction 0..1) so background tasks can show progress.
Progress = Callable[[str, float], None]

MatchOrder = Literal["descending", "ascending", "data", "random"]


@dataclass(frozen=True)
class MatchingSpec:
    """Nearest-neighbour matching on the logit of the propensity score.

    Defaults follow evaluation-methods.md §3: 1:1, without replacement, treated units taken in
    descending propensity order (MatchIt's default), caliper 0.2 × SD of the logit (Austin 2011).
    `caliper_sd=None` turns the caliper off (MatchIt's default design, used for parity).
    """

    ratio: int = 1
    replace: bool = False
    caliper_sd: float | None = 0.2
    exact: tuple[str, ...] = ()
    order: MatchOrder = "descending"
    seed: int = 20261122


@dataclass(frozen=True)
class EvaluationSpec:
    """What to evaluate: column names in the flat table and the method's settings."""

    treatment: str
    outcome: str  # binary 0/1: proven reoffence within the follow-up
    covariates: tuple[str, ...]
    frequency: str | None = None  # count of proven reoffences
    time: str | None = None  # days to first reoffence or censoring
    event: str | None = None  # 1 = reoffended at `time`, 0 = censored
    harm: str | None = None  # harm-weighted reoffending (crime-harm days)
    matching: MatchingSpec = field(default_factory=MatchingSpec)
    bootstrap_replicates: int = 500
    confidence: float = 0.95
    seed: int = 20261122
    label: str = ""  # plain name of the treated group, e.g. "Fixed cohort, 2024"


@dataclass
class PropensityModel:
    names: list[str]
    intercept: float
    coefficients: list[float]
    standard_errors: list[float]
    logit: np.ndarray  # per row, linear predictor
    score: np.ndarray  # per row, fitted probability
    converged: bool = True
    note: str = ""
    intercept_standard_error: float | None = None


@dataclass
class MatchResult:
    """Matched sets. `pairs` has one row per (treated, control) link."""

    treated_rows: np.ndarray  # row positions of treated units that were matched
    pair_treated: np.ndarray  # per link: treated row position
    pair_control: np.ndarray  # per link: control row position
    pair_id: np.ndarray  # per link: matched-set id (one per matched treated unit)
    weights: np.ndarray  # per row of the frame: ATT matching weight (0 = not in the matched sample)
    caliper: float | None  # on the logit scale, after multiplying by its SD
    n_treated: int
    n_treated_matched: int
    n_treated_unmatched: int  # no control within the caliper / exact cell
    n_controls: int
    n_controls_used: int


@dataclass
class BalanceRow:
    name: str
    kind: Literal["binary", "continuous"]
    mean_treated_before: float
    mean_control_before: float
    smd_before: float
    variance_ratio_before: float | None  # None for binary
    mean_treated_after: float
    mean_control_after: float
    smd_after: float
    variance_ratio_after: float | None
    balanced: bool  # |smd_after| < 0.1 (and variance ratio in 0.5–2 for continuous)


@dataclass
class Estimate:
    """One outcome compared between the matched groups; "per 100 people" wording lives in `text`."""

    measure: str  # "one_year_rate", "frequency", "harm", ...
    label: str  # plain English name
    treated: float
    comparison: float
    difference: float  # treated − comparison
    ci_low: float
    ci_high: float
    p_value: float | None
    significant: bool
    method: str  # how the CI was made, e.g. "Wald, matched-pair", "bootstrap (500)"
    text: str = ""  # JDL-style sentence


@dataclass
class SurvivalResult:
    times: list[float]  # union grid of event times (days)
    survival_treated: list[float]
    survival_comparison: list[float]
    logrank_chi2: float
    logrank_p: float
    hazard_ratio: float
    hazard_ratio_ci_low: float
    hazard_ratio_ci_high: float
    cox_p: float
    variance: str  # "cluster-robust by matched set"
    proportional_hazards_p: float | None = None
    note: str = ""  # what could not be estimated and why (e.g. no reoffences in one group)
    events_treated: float = 0.0  # weighted count of first reoffences in the follow-up
    events_comparison: float = 0.0


@dataclass
class Sensitivity:
    discordant_pairs: int | None
    favourable_pairs: int | None
    largest_gamma: float | None  # largest Γ with p_upper < 0.05; None when not significant at Γ=1
    gamma_table: list[tuple[float, float]] = field(default_factory=list)  # (Γ, p_upper)
    minimum_detectable_effect: float | None = None  # percentage points, 80% power, two-sided 5%
    multiple_outcomes_note: str = ""


@dataclass
class EvaluationResult:
    spec: EvaluationSpec
    attrition: list[tuple[str, int, int]]  # (stage, treated count, comparison count)
    propensity: PropensityModel
    matching: MatchResult
    balance: list[BalanceRow]
    estimates: list[Estimate]
    survival: SurvivalResult | None
    sensitivity: Sensitivity
    headline: str  # the per-100 summary sentence(s)
    caveats: list[str] = field(default_factory=list)
    overlap: dict[str, list[float]] = field(default_factory=dict)  # histogram data for PS overlap

    def to_dict(self) -> dict[str, Any]:
        """Plain data for storage; per-row arrays (one value per pool member) are left out."""
        data = dataclasses.asdict(self)
        for key in ("logit", "score"):
            data["propensity"].pop(key, None)
        data["matching"].pop("weights", None)
        return _plain(data)


def _plain(value: Any) -> Any:
    """JSON-safe: numpy to lists/scalars, NaN/inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
