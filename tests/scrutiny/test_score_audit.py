"""Score audit pieces against hand-computed confusion counts, bins and recalibration."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from openiom.scrutiny.score_audit import (
    AuditOptions,
    ScoreAuditError,
    audit_frame,
    calibration,
    decile_bins,
    roc_points,
    threshold_rates,
)


def test_threshold_rates_by_group_from_explicit_counts() -> None:
    # Threshold 0.5. Group A: TP 3, FP 1, TN 4, FN 2; group B: TP 1, FP 3, TN 2, FN 0.
    def block(tp: int, fp: int, tn: int, fn: int) -> tuple[list[float], list[int]]:
        s = [0.9] * tp + [0.6] * fp + [0.1] * tn + [0.4] * fn
        y = [1] * tp + [0] * fp + [0] * tn + [1] * fn
        return s, y

    sa, ya = block(3, 1, 4, 2)
    sb, yb = block(1, 3, 2, 0)
    res = threshold_rates(
        np.array(ya + yb),
        np.array(sa + sb),
        0.5,
        groups=["A"] * 10 + ["B"] * 6,
        group_column="area",
    )
    a, b = res.groups
    assert (a.group, a.tp, a.fp, a.tn, a.fn) == ("A", 3, 1, 4, 2)
    # A: FPR = FP/(FP+TN) = 1/5; FNR = FN/(FN+TP) = 2/5; PPV = TP/(TP+FP) = 3/4; flagged 4/10.
    assert (a.fpr.estimate, a.fnr.estimate, a.ppv.estimate) == (0.2, 0.4, 0.75)
    assert a.flagged_rate.estimate == 0.4 and a.base_rate.estimate == 0.5
    # B: FPR 3/5, FNR 0/1, PPV 1/4, flagged 4/6.
    assert (b.fpr.estimate, b.fnr.estimate, b.ppv.estimate) == (0.6, 0.0, 0.25)
    assert b.too_few is False  # 6 people, not fewer than 5
    # Overall: TP 4, FP 4, TN 6, FN 2 -> FPR 4/10, FNR 2/6, PPV 4/8.
    o = res.overall
    assert (o.tp, o.fp, o.tn, o.fn) == (4, 4, 6, 2)
    assert o.fpr.estimate == 0.4 and o.fnr.estimate == pytest.approx(1 / 3)
    assert o.ppv.estimate == 0.5
    # Wilson CIs come with each rate (2/5 for FNR in A: 0.1176 to 0.7693).
    assert a.fnr.ci_low == pytest.approx(0.117621, abs=1e-5)
    assert a.fnr.ci_high == pytest.approx(0.769276, abs=1e-5)
    # A score exactly at the threshold is flagged (score ≥ T).
    at = threshold_rates(np.array([1, 0]), np.array([0.5, 0.5]), 0.5)
    assert at.overall.tp == 1 and at.overall.fp == 1


def test_undefined_rates_and_missing_groups() -> None:
    res = threshold_rates(
        np.array([1, 1, 0]), np.array([0.9, 0.1, 0.2]), 0.5, groups=["A", "A", "B"]
    )
    a, b = res.groups
    assert a.fpr.estimate is None and "no one in this group lacked the outcome" in a.notes[0]
    assert b.fnr.estimate is None and b.ppv.estimate is None
    assert a.too_few and b.too_few
    with pytest.raises(ScoreAuditError, match="no rows in column 'area': C"):
        threshold_rates(
            np.array([1, 0]),
            np.array([1.0, 0.0]),
            0.5,
            groups=["A", "B"],
            group_column="area",
            required_groups=["A", "C"],
        )


def test_calibration_bins_by_hand() -> None:
    # 20 scores 0.025, 0.075, ..., 0.975. The k/10 quantile (linear) is (3.8k + 1)/40, e.g.
    # 0.12 for k = 1, so each decile holds two consecutive scores, with mean (k − 0.5)/10.
    s = np.array([(2 * j + 1) / 40 for j in range(20)])
    events = [0, 0, 1, 0, 1, 1, 1, 2, 1, 2]  # per bin, out of 2
    y = np.array([1 if i < e else 0 for e in events for i in range(2)])
    assert decile_bins(s).tolist() == [j // 2 for j in range(20)]
    cal = calibration(y, s, is_probability=True, probability_reason="test")
    assert [b.observed.total for b in cal.bins] == [2] * 10
    assert [b.observed.successes for b in cal.bins] == events
    assert [b.mean_score for b in cal.bins] == pytest.approx([(k - 0.5) / 10 for k in range(1, 11)])
    assert [b.expected_events for b in cal.bins] == pytest.approx(
        [2 * (k - 0.5) / 10 for k in range(1, 11)]
    )
    assert cal.observed_rate == 0.45 and cal.mean_predicted == pytest.approx(0.5)


def test_tied_scores_share_a_bin() -> None:
    # [1,1,1,1,2,2,3,3,3,3]: decile edges are 1, 1, 1, 1.6, 2, 2.4, 3, ... so only 3 bins remain.
    s = np.array([1, 1, 1, 1, 2, 2, 3, 3, 3, 3], dtype=float)
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1, 1, 0])
    cal = calibration(y, s, is_probability=False, probability_reason="not probabilities")
    assert [b.observed.total for b in cal.bins] == [4, 2, 4]
    assert [b.observed.successes for b in cal.bins] == [1, 1, 3]
    assert cal.citl is None and cal.slope is None
    assert "only 3 bins" in cal.notes[0]


def test_recalibration_by_hand() -> None:
    # Two predicted values, 0.2 and 0.5, ten rows each; observed 4/10 and 8/10. A logistic model
    # on logit(p) with two distinct values is saturated, so it reproduces the observed rates:
    # slope = (logit 0.8 − logit 0.4) / (logit 0.5 − logit 0.2) = 1.791759 / 1.386294 = 1.29248.
    s = np.array([0.2] * 10 + [0.5] * 10)
    y = np.array([1] * 4 + [0] * 6 + [1] * 8 + [0] * 2)
    cal = calibration(y, s, is_probability=True, probability_reason="test", bins=2)
    assert cal.slope is not None and cal.citl is not None
    assert cal.slope.estimate == pytest.approx(1.29248, abs=1e-4)
    # CITL a solves the score equation Σ y = Σ expit(a + logit p) (observed events = 12).
    a = cal.citl.estimate
    expit = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert 10 * expit(a + math.log(0.25)) + 10 * expit(a) == pytest.approx(12, abs=1e-6)
    assert a > 0  # more events than predicted (12 against 7)


def test_perfect_calibration_is_recovered() -> None:
    rng = np.random.default_rng(11)
    p = rng.uniform(0.05, 0.95, 5000)
    y = rng.binomial(1, p)
    cal = calibration(y, p, is_probability=True, probability_reason="test")
    assert cal.slope is not None and cal.citl is not None
    assert cal.slope.se is not None and cal.citl.se is not None
    # Truly calibrated: slope 1 and intercept 0 up to sampling error (4 SE: not a 1-in-20 test).
    assert abs(cal.slope.estimate - 1) < 4 * cal.slope.se
    assert abs(cal.citl.estimate) < 4 * cal.citl.se
    # Over-confident predictions (logit doubled) give a slope near 0.5.
    lp = np.log(p / (1 - p))
    over = calibration(y, 1 / (1 + np.exp(-2 * lp)), is_probability=True, probability_reason="")
    assert over.slope is not None and over.slope.estimate == pytest.approx(0.5, abs=0.06)


def test_roc_points_match_sklearn() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 200)
    s = rng.integers(0, 30, 200).astype(float)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    pts = roc_points(y, s)
    assert [p.fpr for p in pts] == pytest.approx(fpr.tolist())
    assert [p.tpr for p in pts] == pytest.approx(tpr.tolist())
    assert (pts[-1].fpr, pts[-1].tpr) == (1.0, 1.0)


def synthetic(n: int = 600, seed: int = 2) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 60, n)
    priors = rng.poisson(3, n)
    area = rng.choice(["north", "south", "east"], n)
    lp = -1 + 0.25 * priors - 0.03 * (age - 30) + np.where(area == "east", 0.4, 0.0)
    y = rng.binomial(1, 1 / (1 + np.exp(-lp)))
    matrix_score = priors * 10 + rng.integers(0, 20, n)  # a points score, not a probability
    return pl.DataFrame({"score": matrix_score, "y": y, "area": area, "age": age, "priors": priors})


def test_audit_frame_end_to_end_with_benchmark() -> None:
    df = synthetic()
    opts = AuditOptions(
        score="score", outcome="y", threshold=40, group="area", predictors=("age", "priors", "area")
    )
    audit = audit_frame(df, opts)
    y = df["y"].to_numpy()
    assert audit.discrimination.auc.estimate == pytest.approx(roc_auc_score(y, df["score"]))
    assert not audit.calibration.is_probability
    assert "outside [0, 1]" in audit.calibration.probability_reason
    assert [g.group for g in audit.threshold.groups] == ["east", "north", "south"]
    assert sum(g.n for g in audit.threshold.groups) == 600
    b = audit.benchmark
    assert b is not None
    # Coefficients agree with an independent fit (scikit-learn, no penalty: C = ∞).
    x = np.column_stack(
        [df["age"], df["priors"], df["area"] == "north", df["area"] == "south"]
    ).astype(float)
    sk = LogisticRegression(C=np.inf, max_iter=5000, tol=1e-10).fit(x, y)
    terms = {c.term: c for c in b.coefficients}
    levels = sorted(["north", "south", "east"], key=lambda v: (-(df["area"] == v).sum(), v))
    assert list(terms) == ["(intercept)", "age", "priors"] + [f"area={v}" for v in levels[1:]]
    assert terms["(intercept)"].coef == pytest.approx(sk.intercept_[0], abs=1e-4)
    assert terms["age"].coef == pytest.approx(sk.coef_[0][0], abs=1e-4)
    assert terms["priors"].coef == pytest.approx(sk.coef_[0][1], abs=1e-4)
    assert terms["priors"].odds_ratio == pytest.approx(math.exp(terms["priors"].coef))
    assert b.auc_in_sample.estimate == pytest.approx(roc_auc_score(y, b.predictions))
    assert b.auc_cv is not None and b.cv_folds == 5
    assert b.difference_in_sample.difference == pytest.approx(
        audit.discrimination.auc.estimate - b.auc_in_sample.estimate
    )
    assert any("optimistic" in n for n in b.notes)
    text = json.dumps(audit.to_dict(), allow_nan=False)
    assert '"calibration_slope": null' in text


def test_probability_detection_and_flag() -> None:
    df = pl.DataFrame({"p": [0.1, 0.8, 0.3, 0.9], "y": [0, 1, 0, 1]})
    auto = audit_frame(df, AuditOptions(score="p", outcome="y", threshold=0.5))
    assert auto.calibration.is_probability
    off = audit_frame(df, AuditOptions(score="p", outcome="y", threshold=0.5, probability=False))
    assert not off.calibration.is_probability
    big = pl.DataFrame({"p": [0.1, 8, 0.3, 0.9], "y": [0, 1, 0, 1]})
    with pytest.raises(ScoreAuditError, match=r"outside \[0, 1\]: row 2 has 8"):
        audit_frame(big, AuditOptions(score="p", outcome="y", threshold=0.5, probability=True))


@pytest.mark.parametrize(
    ("frame", "opts", "message"),
    [
        (
            pl.DataFrame({"s": [1.0], "y": [1]}),
            AuditOptions(score="score", outcome="y", threshold=1, group="area"),
            r"Missing column\(s\): score, area\. The table has: s, y",
        ),
        (
            pl.DataFrame({"s": [], "y": []}),
            AuditOptions(score="s", outcome="y", threshold=1),
            "no rows",
        ),
        (
            pl.DataFrame({"s": [1.0, 2, 3, 4], "y": ["0", "2", "yes", "maybe"]}),
            AuditOptions(score="s", outcome="y", threshold=1),
            r"must be binary.*'2' in row 2; 'maybe' in row 4",
        ),
        (
            pl.DataFrame({"s": ["1", "2", "high", "4"], "y": [0, 1, 0, 1]}),
            AuditOptions(score="s", outcome="y", threshold=1),
            r"must be numeric: row 3 has 'high'",
        ),
        (
            pl.DataFrame({"s": [1.0, None, 3.0], "y": [0, 1, 0]}),
            AuditOptions(score="s", outcome="y", threshold=1),
            r"row 2 has a blank",
        ),
        (
            pl.DataFrame({"s": [1.0, 2.0, 3.0], "y": [1, 1, 1]}),
            AuditOptions(score="s", outcome="y", threshold=1),
            r"Every row has outcome 1.*AUC is not defined",
        ),
        (
            pl.DataFrame({"s": [1.0, 2.0, 3.0], "y": [0, 1, 0], "g": ["a", "a", "b"]}),
            AuditOptions(score="s", outcome="y", threshold=1, group="g", groups=("a", "z")),
            r"no rows in column 'g': z",
        ),
        (
            pl.DataFrame({"s": [1.0, 2.0, 3.0], "y": [0, 1, 0], "x": [1.0, None, 2.0]}),
            AuditOptions(score="s", outcome="y", threshold=1, predictors=("x",)),
            r"Predictor 'x' is blank in 1 row\(s\): row 2",
        ),
    ],
)
def test_bad_input_messages(frame: pl.DataFrame, opts: AuditOptions, message: str) -> None:
    with pytest.raises(ScoreAuditError, match=message):
        audit_frame(frame, opts)


def test_collinear_benchmark_is_reported_not_fatal() -> None:
    df = synthetic(200).with_columns((pl.col("age") * 2).alias("age2"))
    audit = audit_frame(
        df, AuditOptions(score="score", outcome="y", threshold=40, predictors=("age", "age2"))
    )
    assert audit.benchmark is None
    assert audit.benchmark_error is not None and "collinear" in audit.benchmark_error
