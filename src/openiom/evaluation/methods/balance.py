"""Covariate balance before and after matching (evaluation-methods.md §3).

For each covariate:
- the standardised mean difference (SMD), treated minus comparison, divided by
  - continuous: sqrt((s²_T + s²_C) / 2), sample variances (n − 1);
  - binary (only the values 0 and 1): sqrt((p_T(1 − p_T) + p_C(1 − p_C)) / 2);
  the SAME denominator before and after matching: the one from before matching (all treated
  units and all comparison units), so a change in the SMD is a change in the means only;
- the variance ratio s²_T / s²_C (continuous covariates only);
- after matching, means and variances weighted by the matching weights (`MatchResult.weights`;
  0 = not in the matched sample). Weighted variances use the "reliability" correction
  Σw(x − x̄)² · Σw / ((Σw)² − Σw²), which is the ordinary n − 1 variance when every weight is 1
  (as cobalt does);
- `balanced`: |SMD after| < 0.1 and, for a continuous covariate, a variance ratio after matching
  between 0.5 and 2. Balance, not a p-value, is the target.

An SMD or variance ratio that cannot be computed (e.g. nobody left in a group, or a comparison group
with no variation) is NaN, which `EvaluationResult.to_dict()` turns into None; such a row is never
`balanced`. A covariate that is constant in both groups has an SMD of 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from openiom.evaluation.methods.types import BalanceRow

SMD_THRESHOLD = 0.1
VARIANCE_RATIO_RANGE = (0.5, 2.0)


def _mean_var(values: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(Weighted) mean and variance with the n − 1 / reliability correction; NaN when undefined."""
    if values.size == 0:
        return math.nan, math.nan
    if weights is None:
        mean = float(values.mean())
        var = float(values.var(ddof=1)) if values.size > 1 else math.nan
        return mean, var
    total = float(weights.sum())
    if total <= 0:
        return math.nan, math.nan
    mean = float(weights @ values / total)
    squares = float(weights @ weights)
    denominator = total * total - squares
    if denominator <= 0:
        return mean, math.nan
    var = float(weights @ (values - mean) ** 2) * total / denominator
    return mean, var


def _smd(difference: float, denominator: float) -> float:
    if math.isnan(difference) or math.isnan(denominator):
        return math.nan
    if denominator > 0:
        return difference / denominator
    return 0.0 if difference == 0 else math.copysign(math.inf, difference)


def _ratio(a: float, b: float) -> float:
    if a == 0 and b == 0:
        return 1.0  # no variation in either group: the spreads agree
    if math.isnan(a) or math.isnan(b) or b <= 0:
        return math.nan
    return a / b


def balance_table(
    x: np.ndarray, names: Sequence[str], treated: np.ndarray, weights: np.ndarray
) -> list[BalanceRow]:
    """One `BalanceRow` per column of `x` (n × k), before and after matching.

    `treated` is a bool or 0/1 array and `weights` the matching weights per row (0 = unmatched).
    Raises ValueError for mismatched shapes, negative or non-finite weights, or missing values.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    n, k = x.shape
    names = list(names)
    if len(names) != k:
        raise ValueError(f"{len(names)} names given for {k} covariate columns")
    t = np.asarray(treated)
    if t.shape != (n,):
        raise ValueError(f"treated has {t.size} values; x has {n} rows")
    if t.dtype != bool:
        if not np.all(np.isin(t, (0, 1))):
            raise ValueError("treated must be 0 or 1")
        t = t.astype(bool)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights has {w.size} values; x has {n} rows")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and not negative")
    finite = np.isfinite(x)
    if not finite.all():
        row, bad = (int(v[0]) for v in np.nonzero(~finite))
        raise ValueError(f"covariate {names[bad]!r} is missing or not finite at row {row}")

    treated_rows = np.flatnonzero(t)
    matched = np.flatnonzero(w > 0)
    matched_t = matched[t[matched]]
    matched_c = matched[~t[matched]]
    n_control = n - treated_rows.size
    rows: list[BalanceRow] = []
    for j, name in enumerate(names):
        col = x[:, j]
        binary = bool(np.all((col == 0) | (col == 1)))
        xt = col[treated_rows]
        mt, vt = _mean_var(xt)
        # Comparison group = everyone else; from totals so that a million rows are not copied.
        if n_control:
            mc = float((col.sum() - xt.sum()) / n_control)
            ss = float(((col - mc) ** 2).sum() - ((xt - mc) ** 2).sum())
            vc = ss / (n_control - 1) if n_control > 1 else math.nan
        else:
            mc = vc = math.nan
        mta, vta = _mean_var(col[matched_t], w[matched_t])
        mca, vca = _mean_var(col[matched_c], w[matched_c])
        if binary:
            denominator = math.sqrt((mt * (1 - mt) + mc * (1 - mc)) / 2)
            vr_before = vr_after = None
        else:
            denominator = math.sqrt((vt + vc) / 2)
            vr_before, vr_after = _ratio(vt, vc), _ratio(vta, vca)
        smd_before = _smd(mt - mc, denominator)
        smd_after = _smd(mta - mca, denominator)
        ok = math.isfinite(smd_after) and abs(smd_after) < SMD_THRESHOLD
        if vr_after is not None:
            low, high = VARIANCE_RATIO_RANGE
            ok = ok and math.isfinite(vr_after) and low <= vr_after <= high
        rows.append(
            BalanceRow(
                name=name,
                kind="binary" if binary else "continuous",
                mean_treated_before=mt,
                mean_control_before=mc,
                smd_before=smd_before,
                variance_ratio_before=vr_before,
                mean_treated_after=mta,
                mean_control_after=mca,
                smd_after=smd_after,
                variance_ratio_after=vr_after,
                balanced=ok,
            )
        )
    return rows
