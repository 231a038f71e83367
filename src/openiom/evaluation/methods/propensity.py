"""The propensity model: logistic regression of treatment on the covariates, by maximum likelihood.

Fitted by Newton–Raphson (iteratively reweighted least squares, as R's `glm(family = binomial)`),
in numpy so that a 1,000,000-person pool with 20 covariates fits in a few seconds. The estimates
are R's and statsmodels' to about 1e-8: the iterations stop only when the largest step is below
1e-10, tighter than glm's deviance criterion.

Numerical care, none of which changes the estimates:
- the covariates are centred and scaled before fitting and the coefficients and their covariance
  are transformed back, so earnings in dollars and age cubed sit together without ill-conditioning;
- the deviance uses log(1 + e^x) in its stable form, so a unit with a fitted probability of 0 or 1
  cannot make it infinite;
- a step that makes the deviance worse is halved (never needed when the fit is well behaved).

Covariates that are constant or an exact linear combination of earlier ones are dropped, as R
reports them aliased (`NA`): their coefficient and standard error are NaN and `note` names them.
Perfect or quasi-complete separation (some covariate pattern predicts treatment exactly) makes the
maximum-likelihood estimates infinite; the fit then stops after `max_iter` iterations with
`converged=False` or with fitted probabilities of 0 or 1, and `note` says so in plain words. The
linear predictor it returns still orders people sensibly for matching.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

from openiom.evaluation.methods.types import PropensityModel

# R's glm warns "fitted probabilities numerically 0 or 1 occurred" below 10 × machine epsilon.
_EDGE = 10 * np.finfo(float).eps
# A column whose variance left after the earlier columns is below this share of its own is aliased.
_ALIAS_TOL = 1e-9
_BLOCK = 8192


def _as_treated(treated: np.ndarray, n: int) -> np.ndarray:
    t = np.asarray(treated)
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"treated has {t.shape[0] if t.ndim else 0} values; expected {n}")
    if t.dtype != bool:
        if not np.all(np.isin(t, (0, 1))):
            bad = int(np.flatnonzero(~np.isin(t, (0, 1)))[0])
            raise ValueError(f"treated must be 0 or 1: row {bad} is {t[bad].item()!r}")
        t = t.astype(bool)
    return t


def _deviance(eta: np.ndarray, y: np.ndarray) -> float:
    # -2 log L = 2 Σ [y log(1 + e^-η) + (1 − y) log(1 + e^η)]
    return float(2.0 * np.sum(np.logaddexp(0.0, np.where(y, -eta, eta))))


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(np.linalg.solve(a, b))
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(a, b, rcond=None)[0])


def _kept_columns(gram: np.ndarray) -> list[int]:
    """Columns (of centred, scaled covariates) not aliased with the intercept or earlier columns."""
    kept: list[int] = []
    for j in range(gram.shape[0]):
        own = gram[j, j]
        if own <= _ALIAS_TOL:
            continue
        if kept:
            g = gram[np.ix_(kept, kept)]
            c = gram[kept, j]
            left = own - c @ _solve(g, c)
        else:
            left = own
        if left > _ALIAS_TOL * own:
            kept.append(j)
    return kept


def fit_propensity(
    x: np.ndarray,
    treated: np.ndarray,
    names: Sequence[str],
    *,
    max_iter: int = 25,
    tol: float = 1e-10,
) -> PropensityModel:
    """Logistic regression of `treated` on `x` (n × k, no intercept column) with an intercept.

    Returns the intercept, coefficients and standard errors (from the inverse of the observed
    information at the estimate, as R's `summary(glm(...))`), the linear predictor (`logit`) and
    fitted probability (`score`) for every row, and a plain-English `note` for anything that makes
    the estimates unreliable. Raises ValueError for malformed input (wrong shapes, non-finite
    values, a group with nobody in it).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError("x must be a 2-D array: one row per person, one column per covariate")
    n, k = x.shape
    names = list(names)
    if len(names) != k:
        raise ValueError(f"{len(names)} names given for {k} covariate columns")
    y = _as_treated(treated, n)
    n1 = int(y.sum())
    if n1 == 0 or n1 == n:
        group = "treated" if n1 == 0 else "comparison"
        raise ValueError(f"the {group} group is empty: a propensity model needs both groups")
    finite = np.isfinite(x)
    if not finite.all():
        row, col = (int(v[0]) for v in np.nonzero(~finite))
        raise ValueError(f"covariate {names[col]!r} is missing or not finite at row {row}")

    notes: list[str] = []
    with threadpool_limits(1, user_api="blas"):
        mean = x.mean(axis=0)
        sd = x.std(axis=0)
        safe_sd = np.where(sd > 0, sd, 1.0)
        z = np.empty((n, k + 1))
        z[:, 0] = 1.0
        np.subtract(x, mean, out=z[:, 1:])
        z[:, 1:] /= safe_sd
        gram = _gram(z) / n
        kept = _kept_columns(gram[1:, 1:])
        dropped = [names[j] for j in range(k) if j not in kept]
        if dropped:
            notes.append(
                "Left out of the model because they are constant or a combination of the other "
                f"covariates: {', '.join(dropped)}."
            )
            z = z[:, [0, *(j + 1 for j in kept)]]
        return _fit(z, y, names, kept, mean, safe_sd, notes, max_iter=max_iter, tol=tol)


def _gram(z: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Z'WZ, in blocks of rows that stay in cache (a single BLAS call over a million rows is
    several times slower, and threaded BLAS on a busy machine slower still)."""
    p = z.shape[1]
    out = np.zeros((p, p))
    for start in range(0, z.shape[0], _BLOCK):
        block = z[start : start + _BLOCK]
        weighted = block if w is None else block * w[start : start + _BLOCK, None]
        out += weighted.T @ block
    return out


def _fit(
    z: np.ndarray,
    y: np.ndarray,
    names: list[str],
    kept: list[int],
    mean: np.ndarray,
    safe_sd: np.ndarray,
    notes: list[str],
    *,
    max_iter: int,
    tol: float,
) -> PropensityModel:
    k = len(names)
    # glm's starting values: mu = (y + 0.5) / 2, then one weighted least-squares step.
    mu = np.where(y, 0.75, 0.25)
    eta = np.log(mu / (1.0 - mu))
    w = mu * (1.0 - mu)
    beta = _solve(_gram(z, w), z.T @ (w * eta + (y - mu)))
    eta = z @ beta
    dev = _deviance(eta, y)
    converged = False
    for _ in range(max_iter):
        mu = expit(eta)
        w = mu * (1.0 - mu)
        info = _gram(z, w)
        step = _solve(info, z.T @ (y - mu))
        new_beta = beta + step
        new_eta = z @ new_beta
        new_dev = _deviance(new_eta, y)
        halvings = 0
        while (not np.isfinite(new_dev) or new_dev > dev + 1e-9 * (abs(dev) + 1)) and halvings < 30:
            step = step / 2
            new_beta = beta + step
            new_eta = z @ new_beta
            new_dev = _deviance(new_eta, y)
            halvings += 1
        beta, eta, dev = new_beta, new_eta, new_dev
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
    mu = expit(eta)
    w = mu * (1.0 - mu)
    info = _gram(z, w)
    try:
        cov_std = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov_std = np.linalg.pinv(info)
        notes.append("The information matrix is singular: standard errors are approximate.")

    edge = int(np.sum((mu < _EDGE) | (mu > 1 - _EDGE)))
    if edge:
        notes.append(
            f"Fitted probabilities of 0 or 1 for {edge} "
            f"{'person' if edge == 1 else 'people'}: some covariate pattern predicts treatment "
            "(almost) exactly (separation), so those coefficients are unreliable and people with "
            "such patterns have no comparable counterparts."
        )
    if not converged:
        notes.append(
            f"The model did not converge in {max_iter} iterations (usually separation or a "
            "covariate with too few people in a category); treat the estimates with caution."
        )

    # Back to the original scale: coef_j = b_j / s_j, intercept = b_0 − Σ b_j m_j / s_j.
    p = len(kept) + 1
    a = np.zeros((p, p))
    a[0, 0] = 1.0
    for i, j in enumerate(kept, start=1):
        a[i, i] = 1.0 / safe_sd[j]
        a[0, i] = -mean[j] / safe_sd[j]
    theta = a @ beta
    cov = a @ cov_std @ a.T
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    coefficients = [float("nan")] * k
    errors = [float("nan")] * k
    for i, j in enumerate(kept, start=1):
        coefficients[j] = float(theta[i])
        errors[j] = float(se[i])
    return PropensityModel(
        names=names,
        intercept=float(theta[0]),
        coefficients=coefficients,
        standard_errors=errors,
        logit=eta,
        score=mu,
        converged=converged,
        note=" ".join(notes),
        intercept_standard_error=float(se[0]),
    )
