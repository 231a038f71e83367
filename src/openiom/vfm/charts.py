"""The tornado chart of the one-way sensitivity analysis, as an accessible, CSP-safe inline SVG.

Each bar spans the net present value from an assumption's low value to its high value, with
every other input at its central value; the widest swing is at the top. The vertical line is the
central NPV and zero is marked, so a bar crossing zero shows an assumption that decides whether
the programme pays for itself.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from openiom.people.charts import FONTS, TEXT_COLOUR, csp_safe_svg
from openiom.vfm.calculations import Appraisal

LOW_COLOUR = "#1d70b8"  # GOV.UK blue
HIGH_COLOUR = "#f47738"  # GOV.UK orange
GREY = "#505a5f"


def _rows(appraisal: Appraisal | Mapping[str, Any]) -> tuple[list[dict[str, Any]], float, str]:
    data = appraisal.to_dict() if isinstance(appraisal, Appraisal) else appraisal
    rows = [dict(r) for r in data.get("tornado") or []]
    return rows, float(data.get("npv") or 0.0), str(data.get("currency") or "GBP")


def _money(value: float, currency: str) -> str:
    symbol = "£" if currency == "GBP" else f"{currency} "
    sign = "−" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.0f}"


def _value(value: Any) -> str:
    if value is None:
        return "–"
    number = float(value)
    return f"{number:.3g}".replace("-", "−") if number != 0 else "0"


def describe(rows: Sequence[Mapping[str, Any]], npv: float, currency: str) -> str:
    if not rows:
        return "No assumption has a low and a high value, so there is nothing to compare."
    parts = [f"Central net present value {_money(npv, currency)}."]
    for r in rows:
        parts.append(
            f"{r['label']}: {_money(float(r['npv_low'] or 0), currency)} at {_value(r['low'])}, "
            f"{_money(float(r['npv_high'] or 0), currency)} at {_value(r['high'])}."
        )
    return " ".join(parts)


def tornado_svg(
    appraisal: Appraisal | Mapping[str, Any],
    *,
    id_prefix: str = "vfm-tornado",
    title: str = "Sensitivity of the net present value to each assumption",
) -> str:
    """The tornado chart for an `Appraisal` (or its `to_dict()`), largest swing at the top."""
    rows, npv, currency = _rows(appraisal)
    rows = sorted(rows, key=lambda r: -float(r.get("swing") or 0.0))
    height = 1.2 + 0.6 * max(len(rows), 1)
    rc: dict[str, Any] = {
        "svg.fonttype": "none",
        "svg.hashsalt": id_prefix,
        "font.family": "sans-serif",
        "font.sans-serif": FONTS,
        "font.size": 10,
        "text.color": TEXT_COLOUR,
        "axes.labelcolor": TEXT_COLOUR,
        "xtick.color": TEXT_COLOUR,
        "ytick.color": TEXT_COLOUR,
        "hatch.color": "#ffffff",
    }
    with matplotlib.rc_context(rc):  # type: ignore[arg-type]
        fig = Figure(figsize=(7.5, height))
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        labels = [f"{r['label']}\n({_value(r['low'])} to {_value(r['high'])})" for r in rows]
        for y, r in enumerate(rows):
            low, high = float(r["npv_low"] or 0.0), float(r["npv_high"] or 0.0)
            ax.barh(y, low - npv, left=npv, color=LOW_COLOUR, height=0.6)
            ax.barh(y, high - npv, left=npv, color=HIGH_COLOUR, height=0.6, hatch="//")
        ax.axvline(npv, color=TEXT_COLOUR, linewidth=1.2)
        ax.axvline(0, color=GREY, linewidth=0.8, linestyle="--")
        ax.set_yticks(range(len(rows)), labels=labels)
        ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
        ax.set_xlabel(f"Net present value ({'£' if currency == 'GBP' else currency})")
        ax.xaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(lambda v, _p: _money(v, currency))
        )
        ax.tick_params(axis="x", labelrotation=20)
        ax.grid(axis="x", color="#cecece", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        handles = [
            matplotlib.patches.Patch(color=LOW_COLOUR, label="Low value"),
            matplotlib.patches.Patch(
                facecolor=HIGH_COLOUR, edgecolor=HIGH_COLOUR, hatch="//", label="High value"
            ),
        ]
        ax.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False, ncols=2
        )
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return csp_safe_svg(
        buffer.getvalue(),
        id_prefix=id_prefix,
        title=title,
        description=describe(rows, npv, currency),
    )
