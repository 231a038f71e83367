"""Calibration and ROC plots as SVG text, drawn headless (no pyplot, no display needed)."""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from openiom.scrutiny.score_audit import ScoreAudit

TEXT = "#0b0c0c"
BLUE = "#1d70b8"
ORANGE = "#f47738"
GREY = "#505a5f"


def _svg(fig: Figure) -> str:
    FigureCanvasSVG(fig)
    buf = io.StringIO()
    # A fixed hash salt and no date make the file identical for identical input.
    with matplotlib.rc_context({"svg.hashsalt": "openiom", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def calibration_svg(audit: ScoreAudit) -> str:
    cal = audit.calibration
    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    observed = [b.observed.estimate or 0.0 for b in cal.bins]
    low = [o - (b.observed.ci_low or 0.0) for o, b in zip(observed, cal.bins, strict=True)]
    high = [(b.observed.ci_high or 0.0) - o for o, b in zip(observed, cal.bins, strict=True)]
    if cal.is_probability:
        x = [b.mean_score for b in cal.bins]
        ax.plot([0, 1], [0, 1], linestyle="--", color=GREY, label="Perfect calibration")
        ax.set_xlabel("Mean predicted probability in bin")
        ax.set_xlim(0, 1)
        title = "Calibration: observed against predicted, by decile of score"
    else:
        x = [float(b.index) for b in cal.bins]
        ax.axhline(cal.observed_rate, linestyle="--", color=GREY, label="Overall observed rate")
        ax.set_xlabel("Decile of score (1 = lowest scores)")
        ax.set_xticks(x)
        title = "Observed outcome rate by decile of score"
    ax.errorbar(
        x,
        observed,
        yerr=[low, high],
        fmt="o",
        color=BLUE,
        ecolor=BLUE,
        capsize=3,
        label="Observed rate (95% Wilson CI)",
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("Observed proportion with the outcome")
    ax.set_title(title, color=TEXT, fontsize=11)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    ax.grid(alpha=0.3)
    return _svg(fig)


def roc_svg(audit: ScoreAudit) -> str:
    fig = Figure(figsize=(5.5, 5))
    ax = fig.add_subplot()
    auc = audit.discrimination.auc
    ax.plot(
        [p.fpr for p in audit.discrimination.roc],
        [p.tpr for p in audit.discrimination.roc],
        color=BLUE,
        linewidth=2,
        drawstyle="default",
        label=f"{audit.options.score} (AUC {auc.estimate:.3f})",
    )
    bench = audit.benchmark
    if bench is not None:
        ax.plot(
            [p.fpr for p in bench.roc],
            [p.tpr for p in bench.roc],
            color=ORANGE,
            linestyle="-.",
            label=f"Benchmark, in-sample (AUC {bench.auc_in_sample.estimate:.3f})",
        )
    ax.plot([0, 1], [0, 1], linestyle="--", color=GREY, label="Chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("False positive rate (1 − specificity)")
    ax.set_ylabel("True positive rate (sensitivity)")
    ax.set_title("ROC curve", color=TEXT, fontsize=11)
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    ax.grid(alpha=0.3)
    return _svg(fig)
