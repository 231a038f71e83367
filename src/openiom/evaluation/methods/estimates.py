"""Outcome differences between the matched treated people and their comparison group (the ATT).

Every matched set holds one treated person and k ≥ 1 controls. Each treated person counts once
and each control in a set of k counts 1/k (MatchIt's ATT weights), so a control reused by several
sets (matching with replacement) counts once per set. The estimate is then

    ATT = mean over sets s of d_s,   d_s = y(treated in s) − mean of y over the controls in s,

which equals the difference between the treated mean and the weighted comparison mean.

Variance (Wald): the sandwich variance of the weighted difference in means (equivalently of the
regression y ~ treated with the matching weights), clustered by matched set, as MatchIt's
documentation recommends. When controls are reused, sets that share a control are not
independent, so the variance is clustered two ways — by matched set and by person — following
Cameron, Gelbach & Miller (2011): V = V_set + V_person − V_set∩person, each with the G/(G − 1)
small-sample factor, times (N − 1)/(N − 2) for the N rows of the matched data — the defaults of
R's `sandwich::vcovCL` (type "HC1") that MatchIt's guidance uses, and statsmodels' cluster
covariance with its correction. Without replacement V_person = V_set∩person and this reduces to
the familiar paired form var(d_s)/S × (N − 1)/(N − 2).

Bootstrap: matched sets are resampled with replacement (Austin & Small 2014), keeping each set's
treated person and its controls together; the percentile interval is reported. It is vectorised
(a replicates × sets index matrix, in chunks), so 500 replicates on thousands of sets take
milliseconds.

Rates are proportions (0–1), counts are per person; the "per 100 people" wording multiplies by
100 (see `wording`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from openiom.evaluation.methods import wording
from openiom.evaluation.methods.types import Estimate, MatchResult

RATE_MEASURE = "one_year_rate"
RATE_LABEL = "one-year proven reoffending rate"
_BOOTSTRAP_CELLS = 4_000_000  # index-matrix cells per chunk (~32 MB of int64)


@dataclass(frozen=True)
class MatchedSets:
    """The matched sample arranged by set; `link_set` maps each link to its set position."""

    treated_row: np.ndarray  # per set: row of the treated person
    size: np.ndarray  # per set: number of controls k_s
    link_set: np.ndarray  # per link: set position 0..S-1
    control_row: np.ndarray  # per link: row of the control
    control_weight: np.ndarray  # per link: 1 / k_s
    replaced: bool  # some control is used by more than one set

    @property
    def n_sets(self) -> int:
        return len(self.treated_row)


def matched_sets(match: MatchResult, treated: np.ndarray | None = None) -> MatchedSets:
    """Group the links of `match` into sets, checking they are coherent."""
    pair_id = np.asarray(match.pair_id)
    pair_treated = np.asarray(match.pair_treated, dtype=np.int64)
    pair_control = np.asarray(match.pair_control, dtype=np.int64)
    if not (len(pair_id) == len(pair_treated) == len(pair_control)):
        raise ValueError("the match has links of different lengths")
    _, link_set = np.unique(pair_id, return_inverse=True)
    n_sets = int(link_set.max()) + 1 if len(link_set) else 0
    size = np.bincount(link_set, minlength=n_sets)
    treated_row = np.zeros(n_sets, dtype=np.int64)
    treated_row[link_set] = pair_treated
    if np.any(treated_row[link_set] != pair_treated):
        raise ValueError("a matched set has more than one treated person")
    if treated is not None and len(pair_id):
        flags = np.asarray(treated).astype(bool)
        if not flags[pair_treated].all() or flags[pair_control].any():
            raise ValueError("the match pairs treated and comparison rows the wrong way round")
    replaced = len(np.unique(pair_control)) < len(pair_control)
    return MatchedSets(
        treated_row=treated_row,
        size=size,
        link_set=link_set,
        control_row=pair_control,
        control_weight=1.0 / size[link_set],
        replaced=replaced,
    )


@dataclass(frozen=True)
class _SetMeans:
    y_treated: np.ndarray  # per set
    y_control: np.ndarray  # per set: mean over the set's controls

    @property
    def difference(self) -> np.ndarray:
        return self.y_treated - self.y_control


def _set_means(values: np.ndarray, sets: MatchedSets) -> _SetMeans:
    y_control = np.bincount(
        sets.link_set, weights=values[sets.control_row], minlength=sets.n_sets
    ) / np.maximum(sets.size, 1)
    return _SetMeans(values[sets.treated_row], y_control)


def _outcome(y: np.ndarray, sets: MatchedSets, *, binary: bool, label: str) -> np.ndarray:
    values = np.asarray(y, dtype=float)
    used = np.concatenate([values[sets.treated_row], values[sets.control_row]])
    if not np.all(np.isfinite(used)):
        raise ValueError(f"{label}: the matched sample has missing or infinite outcome values")
    if binary and not np.all((used == 0) | (used == 1)):
        raise ValueError(f"{label}: a rate needs a binary 0/1 outcome")
    return values


def clustered_variance(values: np.ndarray, sets: MatchedSets) -> float:
    """Sandwich variance of the ATT, clustered by matched set (and by person when reused)."""
    s = sets.n_sets
    if s < 2:
        return float("nan")
    means = _set_means(values, sets)
    t_bar = means.y_treated.mean()
    c_bar = means.y_control.mean()
    # Influence of each treated row and each control link on the ATT.
    psi_t = (means.y_treated - t_bar) / s
    psi_c = -(values[sets.control_row] - c_bar) * sets.control_weight / s
    per_set = psi_t + np.bincount(sets.link_set, weights=psi_c, minlength=s)
    rows = s + len(psi_c)
    hc1 = (rows - 1) / (rows - 2)
    v_set = float(np.sum(per_set**2)) * s / (s - 1) * hc1
    if not sets.replaced:
        return v_set
    _, person = np.unique(sets.control_row, return_inverse=True)
    per_control = np.bincount(person, weights=psi_c)
    n_person = s + len(per_control)
    n_row = s + len(psi_c)
    v_person = float(np.sum(psi_t**2) + np.sum(per_control**2)) * n_person / (n_person - 1)
    v_row = float(np.sum(psi_t**2) + np.sum(psi_c**2)) * n_row / (n_row - 1)
    total = v_set + (v_person - v_row) * hc1
    # Two-way clustering can (rarely) go negative in small samples; fall back to by-set.
    return total if total > 0 else v_set


def _wald(
    values: np.ndarray,
    sets: MatchedSets,
    *,
    measure: str,
    label: str,
    confidence: float,
) -> Estimate:
    _check_confidence(confidence)
    means = _set_means(values, sets)
    if sets.n_sets == 0:
        return _empty(measure, label, "Wald, matched sets", confidence)
    treated_mean = float(means.y_treated.mean())
    comparison_mean = float(means.y_control.mean())
    diff = treated_mean - comparison_mean
    se = float(np.sqrt(clustered_variance(values, sets)))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    if not np.isfinite(se):
        low = high = float("nan")
        p: float | None = None
    elif se == 0:
        low = high = diff
        p = 1.0 if diff == 0 else 0.0
    else:
        low, high = diff - z * se, diff + z * se
        p = float(2 * stats.norm.sf(abs(diff) / se))
    method = (
        "Wald, clustered by matched set and by person (controls reused)"
        if sets.replaced
        else "Wald, clustered by matched set"
    )
    return _finish(
        Estimate(
            measure=measure,
            label=label,
            treated=treated_mean,
            comparison=comparison_mean,
            difference=diff,
            ci_low=low,
            ci_high=high,
            p_value=p,
            significant=p is not None and bool(np.isfinite(low)) and (low > 0 or high < 0),
            method=method,
        ),
        confidence,
    )


def rate_difference(
    y: np.ndarray, treated: np.ndarray, match: MatchResult, *, confidence: float = 0.95
) -> Estimate:
    """Difference in the one-year proven reoffending rate (proportions), Wald CI."""
    sets = matched_sets(match, treated)
    values = _outcome(y, sets, binary=True, label=RATE_LABEL)
    return _wald(values, sets, measure=RATE_MEASURE, label=RATE_LABEL, confidence=confidence)


def mean_difference(
    y: np.ndarray,
    treated: np.ndarray,
    match: MatchResult,
    *,
    measure: str,
    label: str,
    confidence: float = 0.95,
) -> Estimate:
    """Difference in means of any numeric outcome (count, harm days...), Wald CI."""
    sets = matched_sets(match, treated)
    values = _outcome(y, sets, binary=False, label=label)
    return _wald(values, sets, measure=measure, label=label, confidence=confidence)


def bootstrap_difference(
    y: np.ndarray,
    treated: np.ndarray,
    match: MatchResult,
    *,
    measure: str,
    label: str,
    replicates: int = 500,
    seed: int,
    confidence: float = 0.95,
) -> Estimate:
    """Difference in means with a percentile CI from resampling matched sets.

    p-value: twice the smaller share of replicates on either side of zero, with the usual +1
    Monte-Carlo correction, (1 + #)/(B + 1), so it is never reported as exactly 0.
    `significant` means the percentile interval excludes zero.
    """
    _check_confidence(confidence)
    if replicates < 1:
        raise ValueError(f"the bootstrap needs at least one replicate (got {replicates})")
    sets = matched_sets(match, treated)
    values = _outcome(y, sets, binary=False, label=label)
    method = f"bootstrap of matched sets ({replicates} replicates), percentile interval"
    s = sets.n_sets
    if s == 0:
        return _empty(measure, label, method, confidence)
    means = _set_means(values, sets)
    d = means.difference
    diff = float(d.mean())
    boot = resample_means(d, replicates=replicates, seed=seed)
    tail = (1 - confidence) / 2
    if s < 2:
        low = high = float("nan")
        p: float | None = None
    else:
        low, high = (float(v) for v in np.quantile(boot, [tail, 1 - tail]))
        below = int(np.count_nonzero(boot <= 0))
        above = int(np.count_nonzero(boot >= 0))
        p = min(1.0, 2 * (1 + min(below, above)) / (replicates + 1))
    return _finish(
        Estimate(
            measure=measure,
            label=label,
            treated=float(means.y_treated.mean()),
            comparison=float(means.y_control.mean()),
            difference=diff,
            ci_low=low,
            ci_high=high,
            p_value=p,
            significant=p is not None and (low > 0 or high < 0),
            method=method,
        ),
        confidence,
    )


def resample_means(d: np.ndarray, *, replicates: int, seed: int) -> np.ndarray:
    """Means of `replicates` resamples (with replacement) of the per-set differences `d`."""
    rng = np.random.default_rng(seed)
    s = len(d)
    out = np.empty(replicates)
    chunk = max(1, _BOOTSTRAP_CELLS // max(s, 1))
    for start in range(0, replicates, chunk):
        stop = min(replicates, start + chunk)
        idx = rng.integers(0, s, size=(stop - start, s))
        out[start:stop] = d[idx].mean(axis=1)
    return out


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"the confidence level must be between 0 and 1 (got {confidence})")


def _empty(measure: str, label: str, method: str, confidence: float) -> Estimate:
    nan = float("nan")
    return _finish(
        Estimate(
            measure=measure,
            label=label,
            treated=nan,
            comparison=nan,
            difference=nan,
            ci_low=nan,
            ci_high=nan,
            p_value=None,
            significant=False,
            method=method,
        ),
        confidence,
    )


def _finish(estimate: Estimate, confidence: float) -> Estimate:
    estimate.text = wording.per_100_sentence(estimate, confidence=confidence)
    return estimate
