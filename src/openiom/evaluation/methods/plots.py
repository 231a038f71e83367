"""Balance charts: the Love plot and the propensity score overlap (evaluation-methods.md §3).

SVG strings drawn with matplotlib's object API and SVG canvas (no pyplot: no display, no global
backend state, safe in a web worker), made safe for the
site's content security policy and labelled as one image with a <title> and <desc>
(`openiom.people.charts.csp_safe_svg`). The description states the chart's numbers in words, and
`overlap_histogram` gives the same data as plain lists for a table or a stored result.
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from openiom.evaluation.methods.types import BalanceRow
from openiom.people.charts import csp_safe_svg

BLUE = "#1d70b8"
RED = "#d4351c"
ORANGE = "#f47738"
GREEN = "#00703c"
GREY = "#505a5f"
TEXT = "#0b0c0c"
FONTS = ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans", "sans-serif"]
SMD_TARGET = 0.1

# overlap_histogram's series, in drawing order, with their plain labels.
SERIES = {
    "treated_before_matching": "Programme group, before matching",
    "comparison_before_matching": "Comparison pool, before matching",
    "treated_after_matching": "Programme group, after matching",
    "comparison_after_matching": "Comparison group, after matching",
}


def _rc() -> Any:  # a dict of rc settings (typed loosely: the stubs want literal keys)
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "openiom-evaluation-methods",
        "font.family": "sans-serif",
        "font.sans-serif": FONTS,
        "font.size": 10,
        "text.color": TEXT,
        "axes.labelcolor": TEXT,
        "axes.edgecolor": GREY,
        "xtick.color": TEXT,
        "ytick.color": TEXT,
    }


def _svg(fig: Figure, *, id_prefix: str, title: str, description: str) -> str:
    FigureCanvasSVG(fig)
    buffer = io.StringIO()
    with matplotlib.rc_context(_rc()):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return csp_safe_svg(
        buffer.getvalue(), id_prefix=id_prefix, title=title, description=description
    )


def _tidy(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_axisbelow(True)


def _fmt(value: float, digits: int = 2) -> str:
    return "not computable" if not math.isfinite(value) else f"{value:.{digits}f}"


def love_plot_svg(rows: list[BalanceRow]) -> str:
    """|SMD| per covariate before (open circles) and after matching (filled squares), with the 0.1
    target marked. Covariates keep the table's order; a value that cannot be computed is left out
    of the chart and called so in the description."""
    title = "Love plot: standardised mean differences before and after matching"
    names = [r.name for r in rows]
    before = [abs(r.smd_before) if math.isfinite(r.smd_before) else math.nan for r in rows]
    after = [abs(r.smd_after) if math.isfinite(r.smd_after) else math.nan for r in rows]
    finite = [v for v in before + after if math.isfinite(v)]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.5, 1.4 + 0.32 * max(len(rows), 1)), layout="constrained")
        ax = fig.add_subplot()
        y = list(range(len(rows)))
        ax.scatter(
            before,
            y,
            marker="o",
            facecolors="white",
            edgecolors=RED,
            s=40,
            linewidths=1.5,
            label="Before matching",
            zorder=3,
        )
        ax.scatter(after, y, marker="s", color=BLUE, s=36, label="After matching", zorder=4)
        ax.axvline(SMD_TARGET, color=GREY, linestyle="--", linewidth=1, label="Target |SMD| 0.1")
        ax.set_yticks(y, labels=names)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xlim(0, max([0.3, *finite]) * 1.1)
        ax.set_xlabel("Absolute standardised mean difference")
        ax.grid(axis="x", color="#dddddd")
        ax.legend(loc="lower right", frameon=True, framealpha=0.9)
        _tidy(ax)
    balanced = sum(1 for r in rows if r.balanced)
    parts = [
        f"{r.name} {_fmt(b)} before, {_fmt(a)} after"
        for r, b, a in zip(rows, before, after, strict=True)
    ]
    description = (
        f"Absolute standardised mean difference of {len(rows)} characteristics before matching "
        f"(open circles) and after (filled squares), against the 0.1 target (dashed line). "
        f"{balanced} of {len(rows)} meet the balance target after matching. "
        + ("; ".join(parts) + "." if parts else "")
    )
    return _svg(fig, id_prefix="love-plot", title=title, description=description)


def _validate(
    score: np.ndarray, treated: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(score, dtype=np.float64)
    t = np.asarray(treated).astype(bool)
    w = np.asarray(weights, dtype=np.float64)
    if s.ndim != 1 or t.shape != s.shape or w.shape != s.shape:
        raise ValueError("score, treated and weights must be 1-D arrays of the same length")
    if not np.all(np.isfinite(s)):
        raise ValueError(
            f"the score is missing or not finite at row {int(np.flatnonzero(~np.isfinite(s))[0])}"
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and not negative")
    return s, t, w


def overlap_histogram(
    score: np.ndarray, treated: np.ndarray, weights: np.ndarray, bins: int = 20
) -> dict[str, list[float]]:
    """The score's distribution per group, as shares of the group in each of `bins` equal bands.

    Keys: `edges` (bins + 1 band edges, from the lowest to the highest score of anyone), then
    `treated_before_matching`, `comparison_before_matching` (everyone, unweighted),
    `treated_after_matching`, `comparison_after_matching` (weighted by the matching weights) —
    each `bins` shares adding up to 1 (all 0 for an empty group).
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    s, t, w = _validate(score, treated, weights)
    if s.size == 0:
        raise ValueError("no scores to plot")
    low, high = float(s.min()), float(s.max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    groups = {
        "treated_before_matching": (t, None),
        "comparison_before_matching": (~t, None),
        "treated_after_matching": (t & (w > 0), w),
        "comparison_after_matching": (~t & (w > 0), w),
    }
    out: dict[str, list[float]] = {"edges": [float(e) for e in edges]}
    for key, (mask, weight) in groups.items():
        values = s[mask]
        hist, _ = np.histogram(values, bins=edges, weights=None if weight is None else weight[mask])
        hist = hist.astype(np.float64)
        total = hist.sum()
        out[key] = [float(v) for v in (hist / total if total > 0 else hist)]
    return out


def overlap_svg(score: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> str:
    """Step histograms of the score: programme group and comparison pool before matching, and the
    two matched groups (weighted) after, with the ranges stated in the description."""
    s, t, w = _validate(score, treated, weights)
    data = overlap_histogram(s, t, w)
    edges = data["edges"]
    # (colour, line style, width): the matched programme group often equals the whole group, so it
    # is drawn thinner and dash-dotted on top where both stay visible.
    styles = [(BLUE, "-", 3.0), (ORANGE, "--", 2.0), (GREEN, "-.", 1.5), (GREY, ":", 2.0)]
    title = "Propensity score overlap before and after matching"
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.5, 3.8), layout="constrained")
        ax = fig.add_subplot()
        for (key, label), (colour, style, width) in zip(SERIES.items(), styles, strict=True):
            ax.stairs(data[key], edges, color=colour, linestyle=style, linewidth=width, label=label)
        ax.set_xlabel("Propensity score")
        ax.set_ylabel("Share of the group in each band")
        ax.grid(axis="y", color="#dddddd")
        ax.legend(loc="upper center", frameon=False, fontsize=8)
        _tidy(ax)

    def span(mask: np.ndarray) -> str:
        if not mask.any():
            return "nobody"
        return f"{int(mask.sum()):,} people, scores {s[mask].min():.3f} to {s[mask].max():.3f}"

    matched = w > 0
    description = (
        f"Distribution of the propensity score in {len(edges) - 1} bands from {edges[0]:.3f} to "
        f"{edges[-1]:.3f}. Programme group: {span(t)}; comparison pool: {span(~t)}; after "
        f"matching, programme group: {span(t & matched)}; comparison group: "
        f"{span(~t & matched)}. Good overlap means the comparison group covers the same range "
        "of scores as the programme group."
    )
    return _svg(fig, id_prefix="overlap-chart", title=title, description=description)
