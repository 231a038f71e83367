"""Small statistical building blocks shared by the scrutiny modules (no Django here).

Everything is plain numpy/scipy so that each formula can be checked by hand in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

Z95 = float(sps.norm.ppf(0.975))  # 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """x out of n with a Wilson score interval; estimate and bounds are None when n == 0."""

    successes: int
    total: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "successes": self.successes,
            "total": self.total,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


def wilson(successes: int, total: int, *, z: float = Z95) -> Proportion:
    """Wilson score interval for a binomial proportion.

    centre = (p + z²/2n) / (1 + z²/n);  half = z/(1 + z²/n) · sqrt(p(1−p)/n + z²/4n²).
    Unlike the Wald interval it stays inside [0, 1] and behaves at 0 and n successes.
    """
    if total < 0 or successes < 0 or successes > total:
        raise ValueError(f"need 0 <= successes <= total, got {successes}/{total}")
    if total == 0:
        return Proportion(successes, total, None, None, None)
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    # At 0 or n successes the bound is exactly 0 or 1; set it so rounding cannot exclude p.
    low = 0.0 if successes == 0 else max(0.0, min(p, centre - half))
    high = 1.0 if successes == total else min(1.0, max(p, centre + half))
    return Proportion(successes, total, p, low, high)


def midrank(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Ranks 1..n with ties given the mean of the ranks they span (as in Sun & Xu 2014)."""
    return np.asarray(sps.rankdata(x, method="average"), dtype=np.float64)


@dataclass(frozen=True)
class DeLong:
    """AUCs of one or more scores on the same rows and their DeLong covariance matrix."""

    aucs: npt.NDArray[np.float64]
    covariance: npt.NDArray[np.float64]


def delong(outcome: npt.NDArray[np.int_], *scores: npt.NDArray[np.float64]) -> DeLong:
    """DeLong, DeLong & Clarke-Pearson (1988) AUC variance, via Sun & Xu's (2014) midranks.

    For positives X (m of them) and negatives Y (n): AUC = mean over pairs of ψ(X, Y) with
    ψ = 1 if X > Y, ½ if tied, 0 otherwise. The structural components V10_i (for each positive,
    the share of negatives it outranks) and V01_j (for each negative, the share of positives
    that outrank it) give Var(AUC) = S10/m + S01/n, where S10 and S01 are their sample
    (co)variances. With several scores on the same rows this gives the covariance needed for a
    paired comparison.
    """
    y = np.asarray(outcome).astype(bool)
    m = int(y.sum())
    n = int((~y).sum())
    if m == 0 or n == 0:
        raise ValueError("AUC needs at least one positive and one negative outcome")
    k = len(scores)
    aucs = np.empty(k)
    v10 = np.empty((k, m))
    v01 = np.empty((k, n))
    for i, s in enumerate(scores):
        s = np.asarray(s, dtype=np.float64)
        pos, neg = s[y], s[~y]
        tx = midrank(pos)
        ty = midrank(neg)
        tz = midrank(np.concatenate([pos, neg]))
        aucs[i] = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
        v10[i] = (tz[:m] - tx) / n
        v01[i] = 1.0 - (tz[m:] - ty) / m
    s10 = np.atleast_2d(np.cov(v10)) if m > 1 else np.zeros((k, k))
    s01 = np.atleast_2d(np.cov(v01)) if n > 1 else np.zeros((k, k))
    return DeLong(aucs=aucs, covariance=s10 / m + s01 / n)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a 95% confidence interval (bounds None when not available)."""

    estimate: float
    se: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "estimate": clean_float(self.estimate),
            "se": clean_float(self.se),
            "ci_low": clean_float(self.ci_low),
            "ci_high": clean_float(self.ci_high),
        }


def auc_with_ci(outcome: npt.NDArray[np.int_], score: npt.NDArray[np.float64]) -> Estimate:
    """AUC with a DeLong 95% CI on the AUC scale, clipped to [0, 1] (as pROC does)."""
    d = delong(outcome, score)
    auc = float(d.aucs[0])
    se = math.sqrt(max(float(d.covariance[0, 0]), 0.0))
    return Estimate(auc, se, max(0.0, auc - Z95 * se), min(1.0, auc + Z95 * se))


@dataclass(frozen=True)
class PairedAucDifference:
    """AUC(a) − AUC(b) on the same rows, with DeLong CI and two-sided p-value."""

    difference: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "difference": clean_float(self.difference),
            "se": clean_float(self.se),
            "ci_low": clean_float(self.ci_low),
            "ci_high": clean_float(self.ci_high),
            "p_value": clean_float(self.p_value),
        }


def paired_auc_difference(
    outcome: npt.NDArray[np.int_], a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> PairedAucDifference:
    d = delong(outcome, a, b)
    diff = float(d.aucs[0] - d.aucs[1])
    var = float(d.covariance[0, 0] + d.covariance[1, 1] - 2 * d.covariance[0, 1])
    se = math.sqrt(max(var, 0.0))
    p = float(2 * sps.norm.sf(abs(diff) / se)) if se > 0 else None
    return PairedAucDifference(diff, se, diff - Z95 * se, diff + Z95 * se, p)


def clean_float(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def fmt_ratio(value: float) -> str:
    """Ratios as people read them: 1.8, 12, 0.45 (two significant figures below 1)."""
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"
