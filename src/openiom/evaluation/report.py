"""The evaluation report: HTML (a page section and a standalone document), PDF and CSV tables.

Everything is drawn from the stored result dict (`EvaluationResult.to_dict()`, plus an optional
`result["value_for_money"]` from openiom.vfm), never from the engine's objects, so a stored
evaluation renders the same report years later. Sections: headline per 100 people, methodology,
cohort profile, attrition, balance (Love plot and propensity overlap), outcomes with confidence
intervals, survival, sensitivity (Rosenbaum bounds, minimum detectable effect), value for money,
assumptions and caveats (including regression to the mean and multiple outcomes).

Charts are matplotlib SVG made safe for the site's content security policy (no style attributes;
`openiom.people.charts.csp_safe_svg`), each labelled with a title and a description, and every
chart's numbers are also in a table (and downloadable as CSV).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from openiom.people.charts import csp_safe_svg

BLUE = "#1d70b8"
ORANGE = "#f47738"
RED = "#d4351c"
GREEN = "#00703c"
GREY = "#505a5f"
LIGHT = "#b1b4b6"
TEXT = "#0b0c0c"
FONTS = ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans", "sans-serif"]
SMD_TARGET = 0.1
SURVIVAL_DAYS = (30, 91, 182, 273, 365)

NOUNS = {
    "one_year_rate": "proven reoffenders",
    "frequency": "proven reoffences",
    "harm": "crime-harm days",
}

REGRESSION_TO_THE_MEAN = (
    "Regression to the mean: people are chosen for IOM because they have offended a lot "
    "recently, and people picked at a peak tend to offend less afterwards whatever is done. A "
    "fall in a cohort's offending after registration is therefore not, by itself, evidence that "
    "IOM works, and before-and-after figures are never shown as impact. This evaluation compares "
    "the programme group with matched people who were not on the programme, chosen at a similar "
    "point in their offending, so that fall affects both groups and cancels out of the difference."
)
MULTIPLE_OUTCOMES = (
    "Several outcomes are reported. Each extra test adds a chance that one of them looks "
    "significant by luck alone, so read the results together rather than picking one out."
)
HIDDEN_BIAS = (
    "Matching makes the groups alike only in the characteristics that were measured. People "
    "chosen for the programme may differ in ways the data do not record (motivation, family "
    "support); the sensitivity analysis shows how strong such a hidden difference would have to "
    "be to explain the result away."
)
STANDARD_CAVEATS = (
    HIDDEN_BIAS,
    "Proven reoffending counts offences that led to a conviction or caution within the follow-up "
    "and waiting periods; it understates all offending.",
    "The estimates describe the programme-group members who could be matched (the average effect "
    "on the treated); people left unmatched are not represented.",
)


# --- number formatting ----------------------------------------------------------------------------


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def per100(value: Any) -> str:
    """A proportion or per-person figure as a count per 100 people ("12", "4.5")."""
    if not _finite(value):
        return "not available"
    scaled = float(value) * 100
    if abs(scaled) >= 100:
        return f"{scaled:,.0f}"
    text = f"{scaled:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def number(value: Any, digits: int = 2) -> str:
    if not _finite(value):
        return "not available"
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{float(value):,.{digits}f}"
    return text


def signed(value: Any, digits: int = 3) -> str:
    if not _finite(value):
        return "not available"
    return f"{float(value):+.{digits}f}"


def pct(value: Any, digits: int = 1) -> str:
    if not _finite(value):
        return "not available"
    return f"{100 * float(value):.{digits}f}%"


def p_value(value: Any) -> str:
    if not _finite(value):
        return "not available"
    if value < 0.001:
        return "< 0.001"
    return f"{float(value):.3f}"


def count(value: Any) -> str:
    if not _finite(value):
        return "not available"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):,.1f}"


def level(result: Mapping[str, Any]) -> str:
    confidence = (result.get("spec") or {}).get("confidence", 0.95) or 0.95
    return f"{round(float(confidence) * 100):d}%"


# --- tables (shown in the report and downloadable as CSV) ------------------------------------------


@dataclass
class Table:
    """A report table: raw values (for CSV) and the same cells formatted for people."""

    slug: str
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    display: list[list[str]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)  # per column: right-align
    shown: list[int] | None = None  # columns shown on the page and in the PDF (all in the CSV)

    def add(self, raw: Sequence[Any], shown: Sequence[str]) -> None:
        self.rows.append(list(raw))
        self.display.append([str(s) for s in shown])

    def _numeric(self, column: int) -> bool:
        return column < len(self.numeric) and self.numeric[column]

    def _columns(self) -> list[int]:
        return self.shown if self.shown is not None else list(range(len(self.headers)))

    @property
    def header_cells(self) -> list[tuple[str, bool]]:
        return [(self.headers[i], self._numeric(i)) for i in self._columns()]

    @property
    def body(self) -> list[list[tuple[str, bool]]]:
        columns = self._columns()
        return [[(row[i], self._numeric(i)) for i in columns] for row in self.display]

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.headers)
        for row in self.rows:
            writer.writerow(["" if v is None else _csv_cell(v) for v in row])
        return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A cell a spreadsheet would run as a formula (CSV injection); numbers are not strings.
        return "'" + value
    return value


def _estimates(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(result.get("estimates") or [])


def _noun(estimate: Mapping[str, Any]) -> str:
    return NOUNS.get(str(estimate.get("measure")), f"units of {estimate.get('label', 'outcome')}")


def estimates_table(result: Mapping[str, Any]) -> Table:
    lv = level(result)
    table = Table(
        "estimates",
        "Outcomes: programme group against matched comparison group",
        [
            "Outcome",
            "Measure",
            "Programme group",
            "Matched comparison group",
            "Difference",
            f"{lv} CI low",
            f"{lv} CI high",
            "p-value",
            "Significant",
            "Method",
        ],
        numeric=[False, False, True, True, True, True, True, True, False, False],
        shown=[0, 2, 3, 4, 5, 6, 7, 8],
    )
    for e in _estimates(result):
        per = f"{_noun(e)} per 100 people"
        table.add(
            [
                e.get("label"),
                e.get("measure"),
                e.get("treated"),
                e.get("comparison"),
                e.get("difference"),
                e.get("ci_low"),
                e.get("ci_high"),
                e.get("p_value"),
                bool(e.get("significant")),
                e.get("method"),
            ],
            [
                f"{str(e.get('label', '')).capitalize()} ({per})",
                per,
                per100(e.get("treated")),
                per100(e.get("comparison")),
                _signed_per100(e.get("difference")),
                _signed_per100(e.get("ci_low")),
                _signed_per100(e.get("ci_high")),
                p_value(e.get("p_value")),
                "Yes" if e.get("significant") else "No",
                str(e.get("method", "")),
            ],
        )
    return table


def _signed_per100(value: Any) -> str:
    text = per100(value)
    if _finite(value) and float(value) > 0 and text != "0":
        return "+" + text
    return text


def attrition_table(result: Mapping[str, Any]) -> Table:
    table = Table(
        "attrition",
        "Attrition: people at each stage",
        ["Stage", "Programme group", "Comparison group"],
        numeric=[False, True, True],
    )
    for stage, treated, comparison in result.get("attrition") or []:
        table.add(
            [stage, treated, comparison],
            [str(stage)[:1].upper() + str(stage)[1:], count(treated), count(comparison)],
        )
    return table


def balance_table(result: Mapping[str, Any]) -> Table:
    table = Table(
        "balance",
        "Balance of each characteristic before and after matching",
        [
            "Characteristic",
            "Type",
            "Mean, programme group (before)",
            "Mean, comparison pool (before)",
            "SMD before",
            "Variance ratio before",
            "Mean, programme group (matched)",
            "Mean, matched comparison",
            "SMD after",
            "Variance ratio after",
            "Balanced",
        ],
        numeric=[False, False, True, True, True, True, True, True, True, True, False],
        shown=[0, 4, 8, 5, 9, 10],  # the means are in the cohort profile
    )
    for r in result.get("balance") or []:
        binary = r.get("kind") == "binary"
        fmt: Callable[[Any], str] = pct if binary else number
        table.add(
            [
                r.get("name"),
                r.get("kind"),
                r.get("mean_treated_before"),
                r.get("mean_control_before"),
                r.get("smd_before"),
                r.get("variance_ratio_before"),
                r.get("mean_treated_after"),
                r.get("mean_control_after"),
                r.get("smd_after"),
                r.get("variance_ratio_after"),
                bool(r.get("balanced")),
            ],
            [
                str(r.get("name")),
                "Yes/no (shown as %)" if binary else "Number",
                fmt(r.get("mean_treated_before")),
                fmt(r.get("mean_control_before")),
                signed(r.get("smd_before")),
                "–"
                if r.get("variance_ratio_before") is None
                else number(r.get("variance_ratio_before")),
                fmt(r.get("mean_treated_after")),
                fmt(r.get("mean_control_after")),
                signed(r.get("smd_after")),
                "–"
                if r.get("variance_ratio_after") is None
                else number(r.get("variance_ratio_after")),
                "Yes" if r.get("balanced") else "No",
            ],
        )
    return table


def profile_table(result: Mapping[str, Any]) -> Table:
    table = Table(
        "profile",
        "Cohort profile: the programme group and its comparison groups",
        [
            "Characteristic",
            "Programme group (all)",
            "Comparison pool (all)",
            "Programme group (matched)",
            "Matched comparison group",
        ],
        numeric=[False, True, True, True, True],
    )
    for r in result.get("balance") or []:
        fmt: Callable[[Any], str] = pct if r.get("kind") == "binary" else number
        table.add(
            [
                r.get("name"),
                r.get("mean_treated_before"),
                r.get("mean_control_before"),
                r.get("mean_treated_after"),
                r.get("mean_control_after"),
            ],
            [
                str(r.get("name")),
                fmt(r.get("mean_treated_before")),
                fmt(r.get("mean_control_before")),
                fmt(r.get("mean_treated_after")),
                fmt(r.get("mean_control_after")),
            ],
        )
    return table


def survival_table(result: Mapping[str, Any]) -> Table:
    """The whole Kaplan–Meier curve of each group (the CSV); the page shows selected days."""
    table = Table(
        "survival",
        "Proportion not yet reoffended (Kaplan–Meier, matching-weighted)",
        ["Day", "Programme group", "Matched comparison group"],
        numeric=[True, True, True],
    )
    surv = result.get("survival") or {}
    for day, t, c in zip(
        surv.get("times") or [],
        surv.get("survival_treated") or [],
        surv.get("survival_comparison") or [],
        strict=False,
    ):
        table.add([day, t, c], [count(day), pct(t), pct(c)])
    return table


def _step_value(times: Sequence[float], values: Sequence[Any], day: float) -> Any:
    """The Kaplan–Meier value at `day` (the last step at or before it; 1 before any event)."""
    found: Any = 1.0
    for t, v in zip(times, values, strict=False):
        if t is None or t > day:
            break
        found = v
    return found


def survival_points_table(result: Mapping[str, Any]) -> Table:
    table = Table(
        "survival-points",
        "Proportion not yet reoffended at selected days",
        ["Day", "Programme group", "Matched comparison group"],
        numeric=[True, True, True],
    )
    surv = result.get("survival") or {}
    times = surv.get("times") or []
    if not times:
        return table
    for day in SURVIVAL_DAYS:
        t = _step_value(times, surv.get("survival_treated") or [], day)
        c = _step_value(times, surv.get("survival_comparison") or [], day)
        table.add([day, t, c], [str(day), pct(t), pct(c)])
    return table


def pairs_table(result: Mapping[str, Any]) -> Table:
    table = Table(
        "pairs",
        "Matching summary",
        ["Measure", "Value"],
        numeric=[False, True],
    )
    m = result.get("matching") or {}
    spec = result.get("spec") or {}
    matching = spec.get("matching") or {}
    pair_id = list(m.get("pair_id") or [])
    controls = list(m.get("pair_control") or [])
    sizes: dict[Any, int] = {}
    for pid in pair_id:
        sizes[pid] = sizes.get(pid, 0) + 1
    reuse: dict[Any, int] = {}
    for c in controls:
        reuse[c] = reuse.get(c, 0) + 1
    rows: list[tuple[str, Any, str]] = [
        ("Programme-group members", m.get("n_treated"), count(m.get("n_treated"))),
        ("Matched", m.get("n_treated_matched"), count(m.get("n_treated_matched"))),
        (
            "Not matched (no comparison person close enough)",
            m.get("n_treated_unmatched"),
            count(m.get("n_treated_unmatched")),
        ),
        ("People in the comparison pool", m.get("n_controls"), count(m.get("n_controls"))),
        (
            "Comparison people used",
            m.get("n_controls_used"),
            count(m.get("n_controls_used")),
        ),
        ("Matched sets", len(sizes), count(len(sizes))),
        ("Links (pairs)", len(pair_id), count(len(pair_id))),
        (
            "Comparison people per matched set (mean)",
            (len(pair_id) / len(sizes)) if sizes else None,
            number((len(pair_id) / len(sizes)) if sizes else None),
        ),
        (
            "Comparison people used more than once",
            sum(1 for n in reuse.values() if n > 1),
            count(sum(1 for n in reuse.values() if n > 1)),
        ),
        (
            "Most uses of one comparison person",
            max(reuse.values(), default=0),
            count(max(reuse.values(), default=0)),
        ),
        (
            "Caliper (logit scale)",
            m.get("caliper"),
            number(m.get("caliper"), 4) if m.get("caliper") is not None else "none",
        ),
        (
            "Ratio (comparison people per programme member)",
            matching.get("ratio"),
            count(matching.get("ratio")),
        ),
        (
            "With replacement",
            bool(matching.get("replace")),
            "Yes" if matching.get("replace") else "No",
        ),
    ]
    for name, raw, shown in rows:
        table.add([name, raw], [name, shown])
    return table


def propensity_table(result: Mapping[str, Any]) -> Table:
    table = Table(
        "propensity",
        "Propensity model (logistic regression): coefficients",
        ["Term", "Coefficient", "Standard error"],
        numeric=[False, True, True],
    )
    model = result.get("propensity") or {}
    table.add(
        ["(intercept)", model.get("intercept"), None],
        ["(intercept)", number(model.get("intercept"), 4), "–"],
    )
    for name, coef, se in zip(
        model.get("names") or [],
        model.get("coefficients") or [],
        model.get("standard_errors") or [],
        strict=False,
    ):
        table.add([name, coef, se], [str(name), number(coef, 4), number(se, 4)])
    return table


def sensitivity_table(result: Mapping[str, Any]) -> Table:
    table = Table(
        "sensitivity",
        "Rosenbaum bounds: upper p-value at each level of hidden bias Γ",
        ["Gamma", "Upper p-value"],
        numeric=[True, True],
    )
    for gamma, p in (result.get("sensitivity") or {}).get("gamma_table") or []:
        table.add([gamma, p], [number(gamma, 2), p_value(p)])
    return table


TABLE_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Table]] = {
    "estimates": estimates_table,
    "attrition": attrition_table,
    "balance": balance_table,
    "profile": profile_table,
    "survival": survival_table,
    "pairs": pairs_table,
    "propensity": propensity_table,
    "sensitivity": sensitivity_table,
}


def tables(result: Mapping[str, Any]) -> dict[str, Table]:
    """Every downloadable table of the result, by slug (empty tables left out)."""
    built = {slug: build(result) for slug, build in TABLE_BUILDERS.items()}
    return {slug: t for slug, t in built.items() if t.rows}


# --- charts -------------------------------------------------------------------------------------


def _rc() -> Any:  # matplotlib types rc keys as literals
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "openiom-evaluation",
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


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    svg: str


def outcomes_chart(result: Mapping[str, Any]) -> Chart | None:
    rows = [e for e in _estimates(result) if _finite(e.get("difference"))]
    if not rows:
        return None
    lv = level(result)
    title = f"Differences per 100 people with {lv} confidence intervals"
    parts = []
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.5, 1.0 + 1.1 * len(rows)), layout="constrained")
        axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
        for ax, e in zip(axes, rows, strict=True):
            d = 100 * float(e["difference"])
            low = 100 * float(e["ci_low"]) if _finite(e.get("ci_low")) else d
            high = 100 * float(e["ci_high"]) if _finite(e.get("ci_high")) else d
            colour = (
                GREEN
                if e.get("significant") and high < 0
                else RED
                if e.get("significant")
                else BLUE
            )
            ax.errorbar(
                [d],
                [0],
                xerr=[[d - low], [high - d]],
                fmt="o",
                color=colour,
                ecolor=colour,
                capsize=5,
                markersize=8,
            )
            ax.axvline(0, color=GREY, linewidth=1, linestyle="--")
            span = max(abs(low), abs(high), 1e-9) * 1.25
            ax.set_xlim(-span, span)
            ax.set_yticks([])
            ax.set_ylim(-1, 1)
            label = str(e.get("label", "")).capitalize()
            ax.set_title(f"{label}: {_noun(e)} per 100 people", loc="left", fontsize=10)
            ax.grid(axis="x", color="#dddddd")
            _tidy(ax)
            ax.spines["left"].set_visible(False)
            parts.append(
                f"{label}: difference {_signed_per100(e['difference'])} {_noun(e)} per 100 "
                f"people ({lv} CI {_signed_per100(e.get('ci_low'))} to {_signed_per100(e.get('ci_high'))})"
            )
        axes[-1].set_xlabel("Programme group minus matched comparison group (below 0 = fewer)")
        svg = _svg(fig, id_prefix="outcomes-chart", title=title, description="; ".join(parts) + ".")
    return Chart("outcomes", title, "; ".join(parts) + ".", svg)


def survival_chart(result: Mapping[str, Any]) -> Chart | None:
    surv = result.get("survival") or {}
    times = [t for t in surv.get("times") or [] if t is not None]
    if not times:
        return None
    title = "Proportion not yet reoffended (Kaplan–Meier)"
    treated = [1.0 if v is None else v for v in surv.get("survival_treated") or []]
    comparison = [1.0 if v is None else v for v in surv.get("survival_comparison") or []]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.5, 4.2), layout="constrained")
        ax = fig.add_subplot()
        x = [0.0, *times]
        ax.step(
            x,
            [1.0, *treated[: len(times)]],
            where="post",
            color=BLUE,
            linewidth=2,
            label="Programme group",
        )
        ax.step(
            x,
            [1.0, *comparison[: len(times)]],
            where="post",
            color=ORANGE,
            linewidth=2,
            linestyle="--",
            label="Matched comparison group",
        )
        ax.set_ylim(
            min([0.0, *treated, *comparison]) if min([1.0, *treated, *comparison]) < 0.5 else 0.4,
            1.02,
        )
        ax.set_xlim(0, max(times))
        ax.set_xlabel("Days since the index date")
        ax.set_ylabel("Proportion not yet reoffended")
        ax.grid(color="#dddddd")
        ax.legend(loc="lower left", frameon=False)
        _tidy(ax)
        end_t = treated[len(times) - 1] if treated else None
        end_c = comparison[len(times) - 1] if comparison else None
        description = (
            f"Step curves of the proportion of each group not yet proven to have reoffended, from "
            f"day 0 to day {count(max(times))}. At the end of follow-up: programme group "
            f"{pct(end_t)}, matched comparison group {pct(end_c)}. Log-rank p {p_value(surv.get('logrank_p'))}."
        )
        svg = _svg(fig, id_prefix="survival-chart", title=title, description=description)
    return Chart("survival", title, description, svg)


def love_chart(result: Mapping[str, Any]) -> Chart | None:
    rows = [
        r
        for r in result.get("balance") or []
        if _finite(r.get("smd_before")) or _finite(r.get("smd_after"))
    ]
    if not rows:
        return None
    title = "Love plot: standardised mean differences before and after matching"
    names = [str(r.get("name")) for r in rows]
    before = [abs(r["smd_before"]) if _finite(r.get("smd_before")) else math.nan for r in rows]
    after = [abs(r["smd_after"]) if _finite(r.get("smd_after")) else math.nan for r in rows]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.5, 1.2 + 0.32 * len(rows)), layout="constrained")
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
        finite = [v for v in before + after if _finite(v)]
        ax.set_xlim(0, max([0.3, *finite]) * 1.1)
        ax.set_xlabel("Absolute standardised mean difference")
        ax.grid(axis="x", color="#dddddd")
        ax.legend(loc="lower right", frameon=True, framealpha=0.9, edgecolor=LIGHT)
        _tidy(ax)
        balanced = sum(1 for v in after if _finite(v) and v < SMD_TARGET)
        description = (
            f"Absolute standardised mean difference of {len(rows)} characteristics before "
            f"(open circles) and after matching (filled squares). {balanced} of {len(rows)} are "
            f"below the 0.1 target after matching; largest after matching "
            f"{number(max([v for v in after if _finite(v)], default=math.nan), 3)}."
        )
        svg = _svg(fig, id_prefix="love-plot", title=title, description=description)
    return Chart("love", title, description, svg)


def _overlap_series(overlap: Mapping[str, Any]) -> tuple[list[float], dict[str, list[float]]]:
    edges_key = next((k for k in ("edges", "bin_edges", "bins", "breaks") if k in overlap), None)
    if edges_key is None:
        return [], {}
    edges = [float(v) for v in overlap[edges_key] if v is not None]
    series = {
        k: [0.0 if v is None else float(v) for v in values]
        for k, values in overlap.items()
        if k != edges_key and isinstance(values, list) and len(values) == len(edges) - 1
    }
    return edges, series


def overlap_chart(result: Mapping[str, Any]) -> Chart | None:
    edges, series = _overlap_series(result.get("overlap") or {})
    if len(edges) < 2 or not series:
        return None
    title = "Propensity score overlap before and after matching"
    panels = [
        ("Before matching", {k: v for k, v in series.items() if "before" in k}),
        ("After matching", {k: v for k, v in series.items() if "after" in k}),
    ]
    panels = [(name, found) for name, found in panels if found] or [("", series)]
    with matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(7.5, 3.4), layout="constrained")
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        for ax, (name, found) in zip(axes, panels, strict=True):
            for key, values in found.items():
                is_treated = "treated" in key
                ax.stairs(
                    values,
                    edges,
                    color=BLUE if is_treated else ORANGE,
                    linestyle="-" if is_treated else "--",
                    linewidth=2,
                    label="Programme group" if is_treated else "Comparison group",
                )
            ax.set_title(name, loc="left", fontsize=10)
            ax.set_xlabel("Propensity score")
            ax.grid(axis="y", color="#dddddd")
            _tidy(ax)
        axes[0].set_ylabel("Share of the group in each band")
        axes[0].legend(loc="upper right", frameon=False)
        description = (
            f"Distribution of the propensity score (the estimated probability of being in the "
            f"programme group) in {len(edges) - 1} bands from {number(edges[0], 2)} to "
            f"{number(edges[-1], 2)}, for the programme group (solid) and the comparison group "
            "(dashed)"
            + (", before and after matching" if len(panels) == 2 else "")
            + ". Good overlap means the matched comparison group covers the same range as the "
            "programme group."
        )
        svg = _svg(fig, id_prefix="overlap-chart", title=title, description=description)
    return Chart("overlap", title, description, svg)


def _tornado(vfm: Mapping[str, Any]) -> Chart | None:
    if not vfm.get("tornado"):
        return None
    try:
        from openiom.vfm.charts import describe, tornado_svg
    except ImportError:
        return None
    title = "Sensitivity of the net present value to each assumption"
    try:
        svg = tornado_svg(vfm, id_prefix="tornado-chart", title=title)
        rows = sorted(vfm["tornado"], key=lambda r: -float(r.get("swing") or 0.0))
        description = describe(
            rows, float(vfm.get("npv") or 0.0), str(vfm.get("currency") or "GBP")
        )
    except (TypeError, KeyError, ValueError):
        return None
    return Chart("tornado", title, description, svg)


# --- the report context ----------------------------------------------------------------------------


def _methodology(result: Mapping[str, Any]) -> list[str]:
    spec = result.get("spec") or {}
    matching = spec.get("matching") or {}
    model = result.get("propensity") or {}
    lv = level(result)
    label = spec.get("label") or "the programme group"
    covariates = ", ".join(spec.get("covariates") or []) or "none"
    ratio = int(matching.get("ratio") or 1)
    caliper_sd = matching.get("caliper_sd")
    caliper = (
        f"no further than {number(caliper_sd, 2)} standard deviations of the logit apart (the caliper)"
        if caliper_sd is not None
        else "with no caliper (the nearest comparison person whatever the distance)"
    )
    exact = matching.get("exact") or []
    paragraphs = [
        f"The programme group ({label}) was compared with people who were not in it but who were "
        "similar beforehand (a matched comparison group), following the Justice Data Lab's design.",
        "A logistic regression (the propensity model) estimated, for everyone, the probability of "
        f"being in the programme group from these characteristics: {covariates}.",
        f"Each programme-group member was matched to the {ratio} nearest comparison "
        f"{'person' if ratio == 1 else 'people'} on the logit of that probability, "
        f"{'with' if matching.get('replace') else 'without'} replacement, {caliper}"
        + (f", and only within the same {', '.join(exact)}" if exact else "")
        + f"; programme-group members were taken in {matching.get('order', 'descending')} order of "
        "their score.",
        "Balance was checked with standardised mean differences (target below 0.1) and variance "
        "ratios (target 0.5 to 2); balance, not a p-value, is the test of a good match.",
        f"The one-year proven reoffending rate is compared with a {lv} Wald confidence interval "
        "clustered by matched set; the number of reoffences and harm with bootstrap intervals "
        f"({spec.get('bootstrap_replicates', 500)} resamples of matched sets, seed {spec.get('seed')}). "
        "Time to first reoffence is compared with Kaplan–Meier curves, a log-rank test and a Cox "
        "hazard ratio with variance robust to clustering by matched set.",
        "Results are given per 100 people, as the Justice Data Lab does: a result whose interval "
        "includes no difference is inconclusive, not evidence of no effect.",
    ]
    if model and not model.get("converged", True):
        paragraphs.append("The propensity model did not converge: " + str(model.get("note") or ""))
    elif model.get("note"):
        paragraphs.append("Propensity model note: " + str(model.get("note")))
    return paragraphs


def key_figures_table(result: Mapping[str, Any]) -> Table:
    lv = level(result)
    table = Table(
        "key-figures",
        "Key figures per 100 people",
        [
            "Outcome",
            "Programme group",
            "Matched comparison group",
            "Difference",
            f"{lv} confidence interval",
            "Result",
        ],
        numeric=[False, True, True, True, True, False],
    )
    for e in _estimates(result):
        interval = f"{_signed_per100(e.get('ci_low'))} to {_signed_per100(e.get('ci_high'))}"
        verdict = "Statistically significant" if e.get("significant") else "Inconclusive"
        table.add(
            [
                e.get("label"),
                e.get("treated"),
                e.get("comparison"),
                e.get("difference"),
                interval,
                verdict,
            ],
            [
                f"{str(e.get('label', '')).capitalize()} ({_noun(e)})",
                per100(e.get("treated")),
                per100(e.get("comparison")),
                _signed_per100(e.get("difference")),
                interval,
                verdict,
            ],
        )
    return table


def _outcome_texts(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(e.get("label", "")).capitalize(), str(e.get("text") or ""))
        for e in _estimates(result)
        if e.get("text")
    ]


def _sensitivity(result: Mapping[str, Any]) -> dict[str, Any]:
    sens = result.get("sensitivity") or {}
    rate = next((e for e in _estimates(result) if e.get("measure") == "one_year_rate"), None)
    m = result.get("matching") or {}
    out: dict[str, Any] = {"table": sensitivity_table(result)}
    gamma = sens.get("largest_gamma")
    if sens.get("discordant_pairs") is None:
        out["rosenbaum"] = (
            "Rosenbaum bounds were not computed: they apply to 1:1 matched pairs with a yes/no outcome."
        )
    elif gamma is None:
        out["rosenbaum"] = (
            f"Of {count(sens.get('discordant_pairs'))} pairs in which only one person reoffended, "
            f"{count(sens.get('favourable_pairs'))} favour the programme group. The result is not "
            "significant even with no hidden bias (Γ = 1), so there is nothing for hidden bias to "
            "explain away."
        )
    else:
        out["rosenbaum"] = (
            f"Of {count(sens.get('discordant_pairs'))} pairs in which only one person reoffended, "
            f"{count(sens.get('favourable_pairs'))} favour the direction of the result. It stays "
            f"significant (upper p below 0.05) for hidden bias up to Γ = {number(gamma, 2)}: an "
            "unmeasured characteristic would have to make one person of a matched pair "
            f"{number(gamma, 2)} times as likely as the other to be in the programme group to explain "
            "it away."
        )
    mde = sens.get("minimum_detectable_effect")
    if _finite(mde):
        base = rate.get("comparison") if rate else None
        out["mde"] = (
            f"With {count(m.get('n_treated_matched'))} matched programme-group members and a "
            f"comparison-group rate of {pct(base)}, the smallest difference in the one-year rate "
            f"this evaluation could reliably detect (80% power, two-sided 5% test) is about "
            f"{number(mde, 1)} percentage points ({number(mde, 1)} per 100 people). Smaller real "
            "effects would usually show as inconclusive."
        )
    out["multiple"] = str(sens.get("multiple_outcomes_note") or "")
    return out


def _survival(result: Mapping[str, Any]) -> dict[str, Any] | None:
    surv = result.get("survival")
    if not surv:
        return None
    lv = level(result)
    hr = surv.get("hazard_ratio")
    lines = [
        f"Log-rank test: χ² = {number(surv.get('logrank_chi2'), 2)}, p {p_value(surv.get('logrank_p'))}.",
        f"Cox hazard ratio (programme against comparison): {number(hr, 3)} ({lv} CI "
        f"{number(surv.get('hazard_ratio_ci_low'), 3)} to {number(surv.get('hazard_ratio_ci_high'), 3)}), "
        f"p {p_value(surv.get('cox_p'))}; variance {surv.get('variance') or 'cluster-robust'}. "
        "A ratio below 1 means the programme group reoffended more slowly.",
    ]
    if surv.get("proportional_hazards_p") is not None:
        php = surv.get("proportional_hazards_p")
        lines.append(
            f"Proportional-hazards check: p {p_value(php)}"
            + (
                " — the hazard ratio may change over time, so read the curves rather than the single ratio."
                if _finite(php) and php < 0.05
                else " (no evidence against the assumption)."
            )
        )
    if surv.get("note"):
        lines.append(str(surv["note"]))
    return {"lines": lines, "points": survival_points_table(result)}


def money(value: Any, currency: str = "GBP") -> str:
    if not _finite(value):
        return "–"
    symbol = "£" if currency == "GBP" else f"{currency} "
    sign = "−" if value < 0 else ""
    return f"{sign}{symbol}{abs(float(value)):,.0f}"


def _ratio(value: Any) -> str:
    return "–" if not _finite(value) else f"{float(value):.2f}"


def _appraisal(vfm: Mapping[str, Any]) -> dict[str, Any]:
    """The value-for-money section from an openiom.vfm Appraisal.to_dict()."""
    cur = str(vfm.get("currency") or "GBP")
    rows: list[tuple[str, str]] = [
        (
            "Benefit–cost ratio",
            f"{_ratio(vfm.get('bcr'))} (95% CI {_ratio(vfm.get('bcr_low'))} to {_ratio(vfm.get('bcr_high'))})",
        ),
        (
            "Net present value",
            f"{money(vfm.get('npv'), cur)} (95% CI {money(vfm.get('npv_low'), cur)} to {money(vfm.get('npv_high'), cur)})",
        ),
        (
            "Present value of benefits",
            f"{money(vfm.get('pv_benefits'), cur)} (95% CI {money(vfm.get('pv_benefits_low'), cur)} to {money(vfm.get('pv_benefits_high'), cur)})",
        ),
        ("Present value of costs", money(vfm.get("pv_costs"), cur)),
        ("People in the cohort", count(vfm.get("cohort_size"))),
        ("Reoffences prevented in the first year", number(vfm.get("prevented_reoffences"), 1)),
        ("Cost of one reoffence", money(vfm.get("cost_per_reoffence"), cur)),
        ("Programme cost per person", money(vfm.get("cost_per_person"), cur)),
    ]
    if vfm.get("break_even_reduction") is not None:
        rows.append(("Reduction needed to break even", pct(vfm.get("break_even_reduction"))))
    if vfm.get("observed_reduction") is not None:
        rows.append(
            (
                "Reduction the evaluation found",
                f"{pct(vfm.get('observed_reduction'))} (95% CI {pct(vfm.get('observed_reduction_low'))} to {pct(vfm.get('observed_reduction_high'))})",
            )
        )
    if vfm.get("projection"):
        rows.append(
            (
                f"Over {len(vfm['projection'])} years",
                f"net present value {money(vfm.get('projection_npv'), cur)}, benefit–cost ratio {_ratio(vfm.get('projection_bcr'))}",
            )
        )
    rows.append(("Prices", f"{vfm.get('appraisal_year', '')} prices"))
    tables: list[Table] = []
    projection = Table(
        "vfm-projection",
        f"Projection over {len(vfm.get('projection') or [])} years (discounted)",
        ["Year", "Cost", "Benefit", "Discount factor", "Cumulative net present value"],
        numeric=[True, True, True, True, True],
    )
    for y in vfm.get("projection") or []:
        projection.add(
            [
                y.get("year"),
                y.get("cost"),
                y.get("benefit"),
                y.get("discount_factor"),
                y.get("cumulative_npv"),
            ],
            [
                str(int(y.get("year") or 0) + 1),
                money(y.get("cost"), cur),
                money(y.get("benefit"), cur),
                number(y.get("discount_factor"), 3),
                money(y.get("cumulative_npv"), cur),
            ],
        )
    if projection.rows:
        tables.append(projection)
    assumptions = Table(
        "vfm-assumptions",
        "Assumptions (unverified ones flagged)",
        ["Assumption", "Value", "Range tested", "Status", "Source"],
        numeric=[False, True, False, False, False],
    )
    for item in vfm.get("assumptions") or []:
        unit = f" {item.get('unit')}" if item.get("unit") else ""
        low, high = item.get("low"), item.get("high")
        status = str(item.get("status_text") or item.get("status") or "")
        if item.get("unverified"):
            status = "Not verified: " + status
        assumptions.add(
            [
                item.get("label"),
                item.get("value"),
                f"{low}–{high}" if low is not None else "",
                status,
                item.get("source"),
            ],
            [
                str(item.get("label", "")),
                f"{_cell(item.get('value'))}{unit}",
                f"{_cell(low)} to {_cell(high)}" if low is not None and high is not None else "–",
                status,
                str(item.get("source") or ""),
            ],
        )
    if assumptions.rows:
        tables.append(assumptions)
    return {
        "summary": str(vfm.get("summary") or ""),
        "scalars": rows,
        "tables": tables,
        "caveats": [str(c) for c in vfm.get("caveats") or []],
        "tornado": _tornado(vfm),
    }


def _vfm(result: Mapping[str, Any]) -> dict[str, Any] | None:
    vfm = result.get("value_for_money")
    if not vfm:
        return None
    if "npv" in vfm and "pv_costs" in vfm:
        return _appraisal(vfm)
    scalars: list[tuple[str, str]] = []
    lists: list[Table] = []
    for key, value in vfm.items():
        name = key.replace("_", " ").capitalize()
        if isinstance(value, bool):
            scalars.append((name, "Yes" if value else "No"))
        elif isinstance(value, int | float):
            scalars.append((name, number(value)))
        elif isinstance(value, str):
            scalars.append((name, value))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            headers = list(dict.fromkeys(k for v in value for k in v))
            table = Table(f"vfm-{key}", name, headers, numeric=[False] * len(headers))
            for v in value:
                cells = [v.get(h) for h in headers]
                table.add(cells, [_cell(c) for c in cells])
            lists.append(table)
    return {
        "summary": "",
        "scalars": scalars,
        "tables": lists,
        "caveats": [],
        "tornado": _tornado(vfm),
    }


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return number(value)
    return str(value)


def _caveats(result: Mapping[str, Any]) -> list[str]:
    found = [str(c) for c in result.get("caveats") or [] if c]
    sens = result.get("sensitivity") or {}
    note = str(sens.get("multiple_outcomes_note") or "")
    tested = len(_estimates(result)) + (1 if result.get("survival") else 0)
    out = [REGRESSION_TO_THE_MEAN]
    if tested > 1:
        out.append(note or MULTIPLE_OUTCOMES)
        # The note itself is in this list, so a pointer to it is not needed.
        found = [c for c in found if "note on multiple comparisons" not in c]
    out.extend(found)
    mentions_hidden_bias = any("unrecorded" in c or "unmeasured" in c for c in found)
    out.extend(c for c in STANDARD_CAVEATS if not (mentions_hidden_bias and c is HIDDEN_BIAS))
    return list(dict.fromkeys(out))


def report_context(
    result: Mapping[str, Any], *, title: str, meta: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Everything the report templates need, computed once from the result dict."""
    m = result.get("matching") or {}
    balance = result.get("balance") or []
    balanced = sum(1 for r in balance if r.get("balanced"))
    charts = {
        c.slug: c
        for c in (
            outcomes_chart(result),
            survival_chart(result),
            love_chart(result),
            overlap_chart(result),
        )
        if c is not None
    }
    return {
        "title": title,
        "meta": list((meta or {}).items()),
        "headline": str(result.get("headline") or ""),
        "label": (result.get("spec") or {}).get("label") or "",
        "level": level(result),
        "key_figures": key_figures_table(result),
        "outcome_texts": _outcome_texts(result),
        "methodology": _methodology(result),
        "profile": profile_table(result),
        "attrition": attrition_table(result),
        "pairs": pairs_table(result),
        "n_matched": count(m.get("n_treated_matched")),
        "n_treated": count(m.get("n_treated")),
        "balance": balance_table(result),
        "balance_summary": f"{balanced} of {len(balance)} characteristics meet the balance target after matching.",
        "propensity": propensity_table(result),
        "estimates": estimates_table(result),
        "survival": _survival(result),
        "sensitivity": _sensitivity(result),
        "vfm": _vfm(result),
        "vfm_unavailable": str(result.get("value_for_money_unavailable") or ""),
        "caveats": _caveats(result),
        "charts": charts,
    }


def render_body(
    result: Mapping[str, Any],
    *,
    title: str,
    meta: Mapping[str, str] | None = None,
    csv_base: str = "",
) -> str:
    """The report's sections as an HTML fragment (GOV.UK classes, no styles or scripts).

    `csv_base` (a URL ending in "/") adds a "download as CSV" link under each table.
    """
    from django.template.loader import render_to_string

    context = report_context(result, title=title, meta=meta)
    context["standalone"] = False
    context["csv_base"] = csv_base
    return render_to_string("evaluation/report/_body.html", context)


def render_html(
    result: Mapping[str, Any], *, title: str, meta: Mapping[str, str] | None = None
) -> str:
    """The report as a standalone HTML document (its own print styles, no scripts)."""
    from django.template.loader import render_to_string

    context = report_context(result, title=title, meta=meta)
    context["standalone"] = True
    return render_to_string("evaluation/report/standalone.html", context)


def render_pdf(
    result: Mapping[str, Any], *, title: str, meta: Mapping[str, str] | None = None
) -> bytes:
    """The standalone report as a PDF (WeasyPrint), with tagged structure for screen readers."""
    import logging

    from weasyprint import HTML

    # WeasyPrint warns about every CSS property it ignores; the report's CSS is ours.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = HTML(string=render_html(result, title=title, meta=meta))
    pdf = document.write_pdf(pdf_tags=True)
    assert pdf is not None
    return bytes(pdf)
