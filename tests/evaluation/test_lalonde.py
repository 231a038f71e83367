"""LaLonde (1986) / Dehejia & Wahba (1999): the classic test of a matching engine.

Data: `causaldata`'s `nsw_mixtape` (the NSW experiment: 185 treated, 260 randomised controls) and
`cps_mixtape` (15,992 CPS-1 non-experimental controls). Published numbers (evaluation-methods.md
§8): the experimental benchmark ATT on 1978 earnings is $1,794 (NSW treated minus NSW controls);
the naive comparison of NSW treated with CPS-1 is −$8,498. A sound matching engine on NSW treated +
CPS-1, with Dehejia and Wahba's covariates (age, age², age³, educ, educ², married, nodegree, black,
hisp, re74, re75, u74, u75), recovers an ATT whose 95% confidence interval covers $1,794.

Design: 1:1 nearest neighbour on the logit of the propensity score, WITH replacement, caliper
0.2 SD of the logit (the engine's defaults, plus replacement, as Dehejia and Wahba matched). With
185 treated among 16,177 people and few comparable CPS controls, matching without replacement
runs out of close controls; with replacement each treated person gets the nearest one. The
confidence interval is H2's `estimates.mean_difference` (Wald, clustered by matched set and by
person when controls are reused).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from openiom.evaluation.methods.balance import balance_table
from openiom.evaluation.methods.estimates import mean_difference
from openiom.evaluation.methods.matching import match
from openiom.evaluation.methods.propensity import fit_propensity
from openiom.evaluation.methods.types import MatchingSpec

causaldata = pytest.importorskip("causaldata")

COVARIATES = [
    "age",
    "age2",
    "age3",
    "educ",
    "educ2",
    "married",
    "nodegree",
    "black",
    "hisp",
    "re74",
    "re75",
    "u74",
    "u75",
]
EXPERIMENTAL_ATT = 1794  # NSW treated − NSW controls, 1978 earnings ($)
NAIVE_CPS = -8498  # NSW treated − CPS-1, 1978 earnings ($)


@pytest.fixture(scope="module")
def nsw() -> dict[str, np.ndarray]:
    data = causaldata.nsw_mixtape.load_pandas().data
    return {"treated": data.treat.to_numpy().astype(bool), "re78": data.re78.to_numpy()}


@pytest.fixture(scope="module")
def cps_sample() -> dict[str, np.ndarray]:
    """NSW treated + CPS-1 controls, with the Dehejia–Wahba design matrix."""
    nsw = causaldata.nsw_mixtape.load_pandas().data
    cps = causaldata.cps_mixtape.load_pandas().data
    treated = nsw[nsw.treat == 1]
    controls = cps[cps.treat == 0]
    age = np.r_[treated.age, controls.age].astype(float)
    educ = np.r_[treated.educ, controls.educ].astype(float)
    re74 = np.r_[treated.re74, controls.re74].astype(float)
    re75 = np.r_[treated.re75, controls.re75].astype(float)
    x = np.column_stack(
        [
            age,
            age**2,
            age**3,
            educ,
            educ**2,
            np.r_[treated.marr, controls.marr],
            np.r_[treated.nodegree, controls.nodegree],
            np.r_[treated.black, controls.black],
            np.r_[treated.hisp, controls.hisp],
            re74,
            re75,
            re74 == 0,
            re75 == 0,
        ]
    ).astype(float)
    t = np.r_[np.ones(len(treated), bool), np.zeros(len(controls), bool)]
    y = np.r_[treated.re78, controls.re78].astype(float)
    return {"x": x, "treated": t, "re78": y}


def test_experimental_benchmark(nsw: dict[str, np.ndarray]) -> None:
    t, y = nsw["treated"], nsw["re78"]
    assert (t.sum(), (~t).sum()) == (185, 260)
    assert round(y[t].mean() - y[~t].mean()) == EXPERIMENTAL_ATT


def test_naive_difference_with_cps(cps_sample: dict[str, np.ndarray]) -> None:
    t, y = cps_sample["treated"], cps_sample["re78"]
    assert (t.sum(), (~t).sum()) == (185, 15_992)
    assert round(y[t].mean() - y[~t].mean()) == NAIVE_CPS


def test_matching_recovers_the_experimental_benchmark(cps_sample: dict[str, np.ndarray]) -> None:
    x, t, y = cps_sample["x"], cps_sample["treated"], cps_sample["re78"]
    model = fit_propensity(x, t, COVARIATES)
    assert model.converged, model.note
    result = match(model.logit, t, MatchingSpec(replace=True, caliper_sd=0.2))
    assert result.n_treated_matched == 185  # everyone has a control within the caliper
    estimate = mean_difference(y, t, result, measure="re78", label="Earnings in 1978 ($)")
    assert estimate.ci_low < EXPERIMENTAL_ATT < estimate.ci_high
    assert estimate.ci_low > NAIVE_CPS  # far from the naive comparison
    assert estimate.difference == pytest.approx(estimate.treated - estimate.comparison)

    # Balance is reported for every covariate, before and after matching, and meets the target.
    rows = balance_table(x, COVARIATES, t, result.weights)
    assert [r.name for r in rows] == COVARIATES
    for r in rows:
        assert math.isfinite(r.smd_before) and math.isfinite(r.smd_after), r.name
        assert abs(r.smd_after) < 0.1, r.name
        assert r.balanced, r.name
        if r.kind == "continuous":
            assert r.variance_ratio_after is not None and math.isfinite(r.variance_ratio_after)
    # Before matching the groups were far apart (black, re74, re75 |SMD| > 1).
    assert max(abs(r.smd_before) for r in rows) > 1


def test_without_replacement_with_caliper_also_covers(cps_sample: dict[str, np.ndarray]) -> None:
    """The engine's default design (1:1, no replacement, caliper 0.2 SD) drops the treated people
    no CPS control resembles closely; its interval still covers the benchmark."""
    x, t, y = cps_sample["x"], cps_sample["treated"], cps_sample["re78"]
    model = fit_propensity(x, t, COVARIATES)
    result = match(model.logit, t, MatchingSpec())
    assert 0 < result.n_treated_unmatched < 185
    estimate = mean_difference(y, t, result, measure="re78", label="Earnings in 1978 ($)")
    assert estimate.ci_low < EXPERIMENTAL_ATT < estimate.ci_high
    rows = balance_table(x, COVARIATES, t, result.weights)
    assert len(rows) == len(COVARIATES)
