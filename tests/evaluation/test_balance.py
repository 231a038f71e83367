"""Balance (SMD, variance ratio, weighted means) on a tiny table worked by hand, and the charts.

Formulas: evaluation-methods.md §3 — continuous SMD (x̄T − x̄C)/sqrt((s²T + s²C)/2), binary
(pT − pC)/sqrt((pT(1−pT) + pC(1−pC))/2), the same (before-matching) denominator after matching.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from openiom.evaluation.methods.balance import balance_table
from openiom.evaluation.methods.plots import love_plot_svg, overlap_histogram, overlap_svg

# rows:       0  1  2 | 3  4  5  6
# treated:    1  1  1 | 0  0  0  0
# x:          1  2  3 | 2  4  6  8
# b:          1  1  0 | 0  1  0  0
# weights:    1  1  1 | 2  1  0  0   (control row 3 used twice, row 4 once)
T = np.array([1, 1, 1, 0, 0, 0, 0])
X = np.array([[1, 1], [2, 1], [3, 0], [2, 0], [4, 1], [6, 0], [8, 0]], dtype=float)
W = np.array([1, 1, 1, 2, 1, 0, 0], dtype=float)


def test_continuous_covariate_by_hand() -> None:
    x = balance_table(X, ["x", "b"], T, W)[0]
    assert x.kind == "continuous"
    # Before: treated mean 2, variance ((−1)² + 0 + 1²)/2 = 1; controls mean 5, variance
    # (9 + 1 + 1 + 9)/3 = 20/3. Denominator sqrt((1 + 20/3)/2) = sqrt(23/6) = 1.957890.
    denominator = math.sqrt(23 / 6)
    assert (x.mean_treated_before, x.mean_control_before) == pytest.approx((2, 5))
    assert x.smd_before == pytest.approx(-3 / denominator)  # −1.532262
    assert x.variance_ratio_before == pytest.approx(1 / (20 / 3))  # 0.15
    # After: treated weights 1 → mean 2, variance 1. Controls: (2·2 + 1·4)/3 = 8/3;
    # Σw(x − m)² = 2·(2 − 8/3)² + (4 − 8/3)² = 8/9 + 16/9 = 8/3; Σw = 3, Σw² = 5:
    # variance = (8/3)·3/(9 − 5) = 2; variance ratio 1/2.
    assert (x.mean_treated_after, x.mean_control_after) == pytest.approx((2, 8 / 3))
    assert x.smd_after == pytest.approx((2 - 8 / 3) / denominator)  # same denominator: −0.340503
    assert x.variance_ratio_after == pytest.approx(0.5)
    assert not x.balanced  # |SMD| 0.34 ≥ 0.1


def test_binary_covariate_by_hand() -> None:
    b = balance_table(X, ["x", "b"], T, W)[1]
    assert b.kind == "binary"
    # Before: pT = 2/3, pC = 1/4; denominator sqrt((2/9 + 3/16)/2) = sqrt(59/288) = 0.452616.
    denominator = math.sqrt((2 / 9 + 3 / 16) / 2)
    assert (b.mean_treated_before, b.mean_control_before) == pytest.approx((2 / 3, 1 / 4))
    assert b.smd_before == pytest.approx((2 / 3 - 1 / 4) / denominator)  # 0.920605
    # After: controls (2·0 + 1·1)/3 = 1/3; SMD (2/3 − 1/3)/0.452616 = 0.736484.
    assert b.mean_control_after == pytest.approx(1 / 3)
    assert b.smd_after == pytest.approx((1 / 3) / denominator)
    assert b.variance_ratio_before is None and b.variance_ratio_after is None
    assert not b.balanced


def test_balanced_flag_and_unmatched_treated() -> None:
    # Treated row 2 unmatched (weight 0) → treated after = rows 0, 1: x mean 1.5, b mean 1.
    # Controls: rows 3 (x 2, b 0) and 4 (x 4, b 1) weight 1 → x mean 3, b mean 0.5.
    w = np.array([1, 1, 0, 1, 1, 0, 0], dtype=float)
    x, b = balance_table(X, ["x", "b"], T, w)
    assert x.mean_treated_after == pytest.approx(1.5)
    assert x.mean_control_after == pytest.approx(3.0)
    assert b.mean_treated_after == pytest.approx(1.0)
    assert b.mean_control_after == pytest.approx(0.5)
    # A covariate equal in the matched groups with equal spread is balanced.
    z = np.array([5.0, 7.0, 0.0, 5.0, 7.0, 100.0, -50.0])
    (row,) = balance_table(z[:, None], ["z"], T, w)
    assert row.smd_after == pytest.approx(0.0)
    assert row.variance_ratio_after == pytest.approx(1.0)
    assert row.balanced


def test_constant_and_degenerate_columns() -> None:
    const = np.full(7, 3.0)
    (row,) = balance_table(const[:, None], ["const"], T, W)
    assert row.smd_before == 0 and row.smd_after == 0
    assert row.variance_ratio_before == 1 and row.variance_ratio_after == 1
    assert row.balanced
    # Perfectly separated flag: denominator 0, difference 1 → infinite SMD, never balanced.
    flag = T.astype(float)
    (row,) = balance_table(flag[:, None], ["flag"], T, W)
    assert row.smd_before == math.inf and not row.balanced
    # Nobody matched: after-matching values are not computable (NaN → None in to_dict).
    (row,) = balance_table(X[:, :1], ["x"], T, np.zeros(7))
    assert math.isnan(row.smd_after) and math.isnan(row.mean_control_after)
    assert not row.balanced


@pytest.mark.parametrize(
    ("x", "names", "t", "w", "message"),
    [
        (X, ["x"], T, W, "1 names given for 2 covariate columns"),
        (X, ["x", "b"], T[:-1], W, "treated has 6 values; x has 7 rows"),
        (X, ["x", "b"], T, W[:-1], "weights has 6 values"),
        (X, ["x", "b"], T, -W, "weights must be finite and not negative"),
        (np.where(X == 8, np.nan, X), ["x", "b"], T, W, "'x' is missing or not finite at row 6"),
    ],
)
def test_bad_input(
    x: np.ndarray, names: list[str], t: np.ndarray, w: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        balance_table(x, names, t, w)


# --- charts --------------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    return root


def test_love_plot_is_an_accessible_csp_safe_svg() -> None:
    rows = balance_table(X, ["x", "b"], T, W)
    svg = love_plot_svg(rows)
    root = parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("role") == "img"
    title = root.find(f"{ns}title")
    desc = root.find(f"{ns}desc")
    assert title is not None and "Love plot" in (title.text or "")
    assert desc is not None
    # The description carries the numbers: |SMD| before and after for each covariate.
    assert f"x {abs(rows[0].smd_before):.2f} before, {abs(rows[0].smd_after):.2f} after" in (
        desc.text or ""
    )
    assert "0 of 2 meet the balance target" in (desc.text or "")
    assert "style=" not in svg and "<style" not in svg
    assert ">x<" in svg and ">b<" in svg  # covariate names are text (svg.fonttype none)


def test_overlap_histogram_shares_by_hand() -> None:
    # Scores from 0.0 to 0.9 in 2 bands, [0, 0.45) and [0.45, 0.9]:
    # treated rows 0, 1, 2 at 0.9, 0.6, 0.2; controls rows 3–6 at 0.1, 0.3, 0.7, 0.0.
    score = np.array([0.9, 0.6, 0.2, 0.1, 0.3, 0.7, 0.0])
    # Weights: treated rows 0 and 1 matched; controls row 5 (weight 1.5) and row 4 (0.5).
    w = np.array([1, 1, 0, 0, 0.5, 1.5, 0])
    h = overlap_histogram(score, T, w, bins=2)
    assert h["edges"] == pytest.approx([0.0, 0.45, 0.9])
    assert h["treated_before_matching"] == pytest.approx([1 / 3, 2 / 3])  # 0.2 | 0.6, 0.9
    assert h["comparison_before_matching"] == pytest.approx([3 / 4, 1 / 4])  # 0.0, 0.1, 0.3 | 0.7
    assert h["treated_after_matching"] == pytest.approx([0, 1])
    assert h["comparison_after_matching"] == pytest.approx([0.25, 0.75])  # 0.5 | 1.5 of 2
    assert set(h) == {
        "edges",
        "treated_before_matching",
        "comparison_before_matching",
        "treated_after_matching",
        "comparison_after_matching",
    }


def test_overlap_svg_is_accessible() -> None:
    score = np.array([0.9, 0.6, 0.2, 0.1, 0.3, 0.7, 0.0])
    w = np.array([1, 1, 0, 0, 0.5, 1.5, 0])
    svg = overlap_svg(score, T, w)
    root = parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    desc = root.find(f"{ns}desc")
    assert root.find(f"{ns}title") is not None and desc is not None
    assert "Programme group: 3 people, scores 0.200 to 0.900" in (desc.text or "")
    assert "comparison group: 2 people, scores 0.300 to 0.700" in (desc.text or "")
    assert "style=" not in svg
    with pytest.raises(ValueError, match="not finite at row 1"):
        overlap_svg(np.array([0.1, np.nan]), np.array([1, 0]), np.ones(2))
