"""Time to first proven reoffence in the matched sample: Kaplan–Meier, log-rank and Cox.

The matched sample is laid out one row per (matched set, member), as MatchIt's `get_matches`
does: the treated person with weight 1 and each of the set's k controls with weight 1/k, so a
control reused by several sets appears once per set. Then

- Kaplan–Meier curves per group use those weights (lifelines `KaplanMeierFitter(weights=)`);
- the log-rank test is lifelines' `logrank_test` with the same weights (with 1:1 matching
  without replacement every weight is 1 and this is the ordinary log-rank test);
- the Cox proportional-hazards model (lifelines `CoxPHFitter`, Efron ties) has the treatment flag
  as its only covariate, the matching weights, and `cluster_col` = matched set, so its variance
  is the cluster-robust (sandwich) variance by matched set (evaluation-methods.md §3);
- proportional hazards are checked with the Grambsch–Therneau test on rank-transformed time
  (lifelines `proportional_hazard_test`); p < 0.05 suggests the hazard ratio changes over time.

Nothing here crashes on awkward data: with no reoffence in a group the hazard ratio would be 0 or
infinite, so it is left out (NaN) and `note` says why; the curves are still given.

`fit_cox` and `logrank` are the building blocks, usable on any data (test_rossi.py reproduces the
published Rossi figures with them).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning, StatisticalWarning
from lifelines.statistics import logrank_test, proportional_hazard_test

from openiom.evaluation.methods.estimates import matched_sets
from openiom.evaluation.methods.types import MatchResult, SurvivalResult

_TIME, _EVENT, _WEIGHT, _CLUSTER = "_time", "_event", "_weight", "_cluster"


@dataclass
class CoxFit:
    names: list[str]
    coefficients: list[float]
    standard_errors: list[float]
    hazard_ratios: list[float]
    ci_low: list[float]  # hazard-ratio scale
    ci_high: list[float]
    p_values: list[float]
    robust: bool
    proportional_hazards_p: list[float | None] = field(default_factory=list)
    note: str = ""

    def coefficient(self, name: str) -> float:
        return self.coefficients[self.names.index(name)]


@contextmanager
def _quiet() -> Iterator[None]:
    """lifelines warns that non-integer weights bias the *naive* variance; ours is robust."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def fit_cox(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    names: Sequence[str],
    *,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    confidence: float = 0.95,
    check_ph: bool = True,
) -> CoxFit:
    """Cox PH (Efron ties) of `time`/`event` on the columns of `x` (n × k).

    With `cluster` the variance is lifelines' cluster-robust sandwich; with `weights` but no
    cluster it is the robust (per-row) sandwich, as non-integer weights require.
    Raises ConvergenceError from lifelines if the model cannot be fitted.
    """
    data = {name: np.asarray(x[:, j], dtype=float) for j, name in enumerate(names)}
    frame = pd.DataFrame(data)
    frame[_TIME] = np.asarray(time, dtype=float)
    frame[_EVENT] = np.asarray(event, dtype=float)
    kwargs: dict[str, object] = {}
    if weights is not None:
        frame[_WEIGHT] = np.asarray(weights, dtype=float)
        kwargs["weights_col"] = _WEIGHT
        kwargs["robust"] = True
    if cluster is not None:
        frame[_CLUSTER] = np.asarray(cluster)
        kwargs["cluster_col"] = _CLUSTER
    cph = CoxPHFitter(alpha=1 - confidence)
    ph: list[float | None] = [None] * len(names)
    note = ""
    with _quiet():
        cph.fit(frame, duration_col=_TIME, event_col=_EVENT, **kwargs)
        summary = cph.summary
        if check_ph:
            try:
                test = proportional_hazard_test(cph, frame, time_transform="rank")
                pvals = dict(zip(test.summary.index, test.summary["p"], strict=False))
                ph = [_finite(pvals.get(name)) for name in names]
            except Exception as e:  # the check is a diagnostic: never fail the fit for it
                note = f"the proportional-hazards check could not be run ({type(e).__name__})"
    low_col = next(c for c in summary.columns if c.startswith("exp(coef) lower"))
    high_col = next(c for c in summary.columns if c.startswith("exp(coef) upper"))
    return CoxFit(
        names=list(names),
        coefficients=[float(v) for v in summary["coef"]],
        standard_errors=[float(v) for v in summary["se(coef)"]],
        hazard_ratios=[float(v) for v in summary["exp(coef)"]],
        ci_low=[float(v) for v in summary[low_col]],
        ci_high=[float(v) for v in summary[high_col]],
        p_values=[float(v) for v in summary["p"]],
        robust=bool(cluster is not None or weights is not None),
        proportional_hazards_p=ph,
        note=note,
    )


def logrank(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """(χ², p) of the log-rank test between group == 1 and group == 0."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group).astype(bool)
    w = None if weights is None else np.asarray(weights, dtype=float)
    if e.sum() == 0 or g.all() or not g.any():
        return float("nan"), float("nan")
    with _quiet():
        result = logrank_test(
            t[g],
            t[~g],
            event_observed_A=e[g],
            event_observed_B=e[~g],
            weights_A=None if w is None else w[g],
            weights_B=None if w is None else w[~g],
        )
    return float(result.test_statistic), float(result.p_value)


def kaplan_meier(
    time: np.ndarray, event: np.ndarray, weights: np.ndarray, grid: np.ndarray
) -> np.ndarray:
    """Weighted Kaplan–Meier survival evaluated at each point of `grid`."""
    if len(time) == 0:
        return np.full(len(grid), np.nan)
    km = KaplanMeierFitter()
    with _quiet():
        km.fit(np.asarray(time, dtype=float), np.asarray(event, dtype=float), weights=weights)
        values = km.survival_function_at_times(grid).to_numpy(dtype=float)
    return np.asarray(values, dtype=float)


def compare_survival(
    time: np.ndarray,
    event: np.ndarray,
    treated: np.ndarray,
    match: MatchResult,
    *,
    confidence: float = 0.95,
) -> SurvivalResult:
    """KM per group, log-rank and a cluster-robust Cox hazard ratio for the matched sample."""
    sets = matched_sets(match, treated)
    rows = np.concatenate([sets.treated_row, sets.control_row])
    group = np.concatenate([np.ones(sets.n_sets), np.zeros(len(sets.control_row))])
    weight = np.concatenate([np.ones(sets.n_sets), sets.control_weight])
    cluster = np.concatenate([np.arange(sets.n_sets), sets.link_set])
    t = np.asarray(time, dtype=float)[rows]
    e = np.asarray(event, dtype=float)[rows]
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times to reoffence must be present and not negative")
    if not np.all((e == 0) | (e == 1)):
        raise ValueError("the event flag must be 0 (censored) or 1 (reoffended)")
    is_t = group == 1
    events_t = float(np.sum(weight[is_t] * e[is_t]))
    events_c = float(np.sum(weight[~is_t] * e[~is_t]))
    grid = np.concatenate([[0.0], np.unique(t[e == 1])])
    surv_t = kaplan_meier(t[is_t], e[is_t], weight[is_t], grid)
    surv_c = kaplan_meier(t[~is_t], e[~is_t], weight[~is_t], grid)
    notes: list[str] = []
    nan = float("nan")
    chi2, p = logrank(t, e, group, weight)
    if not math.isfinite(p):
        notes.append(
            "the log-rank test needs at least one reoffence and people in both groups"
            if len(t)
            else "no matched people, so survival could not be compared"
        )
    hr = low = high = cox_p = nan
    ph_p: float | None = None
    if events_t == 0 or events_c == 0:
        if events_t == 0 and events_c == 0:
            which = "either group"
        else:
            which = "the programme group" if events_t == 0 else "the comparison group"
        notes.append(
            f"no one in {which} reoffended during the follow-up, so the hazard ratio "
            "cannot be estimated (it would be 0 or infinite); the curves are still shown"
        )
    else:
        try:
            fit = fit_cox(
                t,
                e,
                group.reshape(-1, 1),
                ["treated"],
                weights=weight,
                cluster=cluster,
                confidence=confidence,
            )
            hr, low, high = fit.hazard_ratios[0], fit.ci_low[0], fit.ci_high[0]
            cox_p = fit.p_values[0]
            ph_p = fit.proportional_hazards_p[0] if fit.proportional_hazards_p else None
            if fit.note:
                notes.append(fit.note)
        except (ConvergenceError, np.linalg.LinAlgError, ValueError, ZeroDivisionError) as err:
            notes.append(f"the Cox model could not be fitted ({type(err).__name__})")
    if ph_p is not None and ph_p < 0.05:
        notes.append(
            f"the proportional-hazards check suggests the hazard ratio changes over the "
            f"follow-up (p = {ph_p:.3f}); read it as an average and look at the curves"
        )
    variance = "cluster-robust by matched set"
    if sets.replaced:
        variance += " (controls reused across sets; clustered by set only)"
    return SurvivalResult(
        times=[float(v) for v in grid],
        survival_treated=[float(v) for v in surv_t],
        survival_comparison=[float(v) for v in surv_c],
        logrank_chi2=chi2,
        logrank_p=p,
        hazard_ratio=hr,
        hazard_ratio_ci_low=low,
        hazard_ratio_ci_high=high,
        cox_p=cox_p,
        variance=variance,
        proportional_hazards_p=ph_p,
        note="; ".join(notes),
        events_treated=events_t,
        events_comparison=events_c,
    )


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
