"""The board dashboard: cohort size over time by scheme and RAG, flows in and out, before/after
tracking (descriptive, never impact) and the latest evaluation's headline.

Counts only, no names: every partnership member may see it (`EvaluationAction.VIEW_DASHBOARD`).
Month-end snapshots are worked out from the registrations' start and end dates and the RAG
assessments' dates, so the history is what the records say now.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from openiom.access.policy import EvaluationAction
from openiom.access.services import require
from openiom.cohort.dates import add_months
from openiom.people.charts import csp_safe_svg

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.evaluation.models import Evaluation

logger = logging.getLogger(__name__)

RAG_ORDER = ("red", "amber", "green", "none")
RAG_LABELS = {"red": "Red", "amber": "Amber", "green": "Green", "none": "Not yet assessed"}
RAG_COLOURS = {"red": "#d4351c", "amber": "#f47738", "green": "#00703c", "none": "#b1b4b6"}
SCHEME_COLOURS = ["#1d70b8", "#4c2c92", "#28a197", "#912b88", "#0b0c0c", "#f47738"]
SCHEME_STYLES = ["-", "--", ":", "-."]
TEXT = "#0b0c0c"
GREY = "#505a5f"
NOT_IMPACT = (
    "This is tracking, not impact. People are chosen for IOM because they have offended a lot "
    "recently, and offending usually falls back towards average afterwards whatever is done "
    "(regression to the mean). A fall here does not show that IOM worked: only a comparison with "
    "similar people who were not on IOM (an evaluation) can."
)


@dataclass
class Series:
    key: str
    label: str
    values: list[int]


@dataclass
class Dashboard:
    as_of: dt.date
    month_ends: list[dt.date]
    by_scheme: list[Series]
    by_rag: list[Series]
    flows: list[tuple[dt.date, int, int]]  # (month start, registered, de-registered)
    current_total: int
    tracking: dict[str, Any] | None = None
    latest: Evaluation | None = None
    charts: dict[str, str] = field(default_factory=dict)

    @property
    def scheme_rows(self) -> list[tuple[dt.date, list[int], int]]:
        return [
            (end, [s.values[i] for s in self.by_scheme], sum(s.values[i] for s in self.by_scheme))
            for i, end in enumerate(self.month_ends)
        ]

    @property
    def rag_rows(self) -> list[tuple[dt.date, list[int]]]:
        return [(end, [s.values[i] for s in self.by_rag]) for i, end in enumerate(self.month_ends)]

    def to_dict(self) -> dict[str, Any]:
        latest = None
        if self.latest is not None:
            latest = {
                "id": self.latest.pk,
                "title": self.latest.title,
                "finished_at": self.latest.finished_at.isoformat()
                if self.latest.finished_at
                else None,
                "headline": self.latest.headline,
            }
        return {
            "as_of": self.as_of.isoformat(),
            "month_ends": [d.isoformat() for d in self.month_ends],
            "by_scheme": [
                {"key": s.key, "label": s.label, "values": s.values} for s in self.by_scheme
            ],
            "by_rag": [{"key": s.key, "label": s.label, "values": s.values} for s in self.by_rag],
            "flows": [
                {"month": m.isoformat(), "registered": i, "deregistered": o}
                for m, i, o in self.flows
            ],
            "current_total": self.current_total,
            "tracking": self.tracking,
            "tracking_notice": NOT_IMPACT,
            "latest_evaluation": latest,
        }


def month_ends(as_of: dt.date, months: int) -> list[dt.date]:
    """The last day of each of the `months` months up to and including as_of's month (the last
    entry is as_of itself, the month so far)."""
    first_of_this = as_of.replace(day=1)
    ends = []
    for k in range(months - 1, 0, -1):
        start = add_months(first_of_this, -k)
        ends.append(add_months(start, 1) - dt.timedelta(days=1))
    ends.append(as_of)
    return ends


def _snapshots(
    regs: list[dict[str, Any]], rags: dict[int, list[tuple[dt.date, str]]], ends: list[dt.date]
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    by_scheme: dict[str, list[int]] = defaultdict(lambda: [0] * len(ends))
    by_rag: dict[str, list[int]] = {k: [0] * len(ends) for k in RAG_ORDER}
    for reg in regs:
        history = rags.get(reg["id"], [])
        dates = [d for d, _ in history]
        for i, end in enumerate(ends):
            if reg["start_date"] > end or (reg["end_date"] is not None and reg["end_date"] <= end):
                continue
            by_scheme[reg["cohort_key"]][i] += 1
            k = bisect_right(dates, end)
            by_rag[history[k - 1][1] if k else "none"][i] += 1
    return dict(by_scheme), by_rag


def _flows(regs: list[dict[str, Any]], ends: list[dt.date]) -> list[tuple[dt.date, int, int]]:
    starts = [end.replace(day=1) for end in ends]
    index = {(s.year, s.month): i for i, s in enumerate(starts)}
    ins = [0] * len(ends)
    outs = [0] * len(ends)
    for reg in regs:
        i = index.get((reg["start_date"].year, reg["start_date"].month))
        if i is not None and reg["start_date"] <= ends[i]:
            ins[i] += 1
        if reg["end_date"] is not None:
            j = index.get((reg["end_date"].year, reg["end_date"].month))
            if j is not None and reg["end_date"] <= ends[j]:
                outs[j] += 1
    return list(zip(starts, ins, outs, strict=True))


def _change_text(value: Any) -> str:
    if value is None:
        return "–"
    return f"{100 * float(value):+.0f}%"


def _tracking(as_of: dt.date) -> dict[str, Any] | None:
    """Before/after offending of each cohort (openiom.evaluation.tracking), for the table."""
    try:
        from openiom.evaluation.outcomes import OutcomeError
        from openiom.evaluation.tracking import cohort_before_after
    except ImportError:
        return None
    try:
        data = cohort_before_after(as_of=as_of).to_dict()
    except (OutcomeError, ValueError, LookupError):
        return None
    except Exception as exc:  # a board page never fails because one panel could not be drawn
        logger.exception("board dashboard: before/after tracking failed")
        return {"unavailable": f"it could not be worked out ({type(exc).__name__})"}
    groups = [g for g in data.get("groups") or [] if g.get("people_complete")]
    if not groups:
        return None
    rows = [
        [
            str(g["group"]),
            f"{g['people_complete']:,}",
            f"{g['offences_before']:,.0f}",
            f"{g['offences_after']:,.0f}",
            _change_text(g.get("offences_change")),
            f"{g['harm_before']:,.0f}",
            f"{g['harm_after']:,.0f}",
            f"£{g['cost_before']:,.0f}",
            f"£{g['cost_after']:,.0f}",
        ]
        for g in groups
    ]
    window = data.get("window_days", 365)
    return {
        "title": f"{data.get('title', '')}: proven offences in the {window} days before and after registration",
        "warning": data.get("warning", ""),
        "headers": [
            "Cohort",
            "People with a complete year after",
            "Offences before",
            "Offences after",
            "Change",
            "Harm days before",
            "Harm days after",
            "Cost before",
            "Cost after",
        ],
        "rows": rows,
        "notes": list(data.get("notes") or []),
        "large_fall": bool(data.get("large_fall")),
        "groups": groups,
    }


def board_dashboard(
    *, actor: Actor | None, as_of: dt.date | None = None, months: int = 24, charts: bool = True
) -> Dashboard:
    from django.utils import timezone

    from openiom.cohort.models import CohortDefinition, RagAssessment, Registration
    from openiom.evaluation.selectors import latest_finished

    require(actor, EvaluationAction.VIEW_DASHBOARD)
    as_of = as_of or timezone.localdate()
    months = max(1, min(120, months))
    ends = month_ends(as_of, months)
    regs: list[dict[str, Any]] = [
        dict(row)
        for row in Registration.objects.filter(start_date__lte=as_of).values(
            "id", "cohort_key", "start_date", "end_date"
        )
    ]
    rags: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for reg_id, on, status in (
        RagAssessment.objects.filter(assessed_on__lte=as_of)
        .order_by("registration_id", "assessed_on", "id")
        .values_list("registration_id", "assessed_on", "status")
    ):
        rags[reg_id].append((on, status))
    scheme_counts, rag_counts = _snapshots(regs, rags, ends)
    names: dict[str, str] = {}
    for key, name in CohortDefinition.objects.order_by("key", "-version").values_list(
        "key", "name"
    ):
        names.setdefault(key, name)
    by_scheme = [
        Series(key, names.get(key, key), scheme_counts[key]) for key in sorted(scheme_counts)
    ]
    by_rag = [
        Series(k, RAG_LABELS[k], rag_counts[k])
        for k in RAG_ORDER
        if any(rag_counts[k]) or k != "none"
    ]
    partnership_id = (
        actor.membership.agency.partnership_id if actor is not None and actor.membership else None
    )
    board = Dashboard(
        as_of=as_of,
        month_ends=ends,
        by_scheme=by_scheme,
        by_rag=by_rag,
        flows=_flows(regs, ends),
        current_total=sum(s.values[-1] for s in by_scheme),
        tracking=_tracking(as_of),
        latest=latest_finished(partnership_id=partnership_id),
    )
    if charts:
        board.charts = _charts(board)
    return board


# --- charts ----------------------------------------------------------------------------------------


def _rc() -> Any:  # matplotlib types rc keys as literals
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "openiom-dashboard",
        "font.family": "sans-serif",
        "font.sans-serif": ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans", "sans-serif"],
        "font.size": 10,
        "text.color": TEXT,
        "axes.labelcolor": TEXT,
        "xtick.color": TEXT,
        "ytick.color": TEXT,
    }


def _svg(fig: Figure, prefix: str, title: str, description: str) -> str:
    FigureCanvasSVG(fig)
    buffer = io.StringIO()
    with matplotlib.rc_context(_rc()):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return csp_safe_svg(buffer.getvalue(), id_prefix=prefix, title=title, description=description)


def _month_labels(ends: list[dt.date]) -> list[str]:
    return [f"{d:%b %Y}" for d in ends]


def _style(ax: Any, n: int, labels: list[str]) -> None:
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    step = max(1, n // 8)
    ax.set_xticks(range(0, n, step), labels=[labels[i] for i in range(0, n, step)], rotation=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#dddddd")
    ax.set_axisbelow(True)


def _charts(board: Dashboard) -> dict[str, str]:
    n = len(board.month_ends)
    labels = _month_labels(board.month_ends)
    x = list(range(n))
    out: dict[str, str] = {}
    with matplotlib.rc_context(_rc()):
        if board.by_scheme:
            fig = Figure(figsize=(8, 3.4), layout="constrained")
            ax = fig.add_subplot()
            for i, s in enumerate(board.by_scheme):
                ax.plot(
                    x,
                    s.values,
                    color=SCHEME_COLOURS[i % 6],
                    linestyle=SCHEME_STYLES[i % 4],
                    marker="o",
                    markersize=3,
                    linewidth=2,
                    label=s.label,
                )
            ax.set_ylabel("People registered at month end")
            ax.set_ylim(bottom=0)
            ax.legend(loc="upper left", frameon=False)
            _style(ax, n, labels)
            latest = ", ".join(f"{s.label} {s.values[-1]}" for s in board.by_scheme)
            out["scheme"] = _svg(
                fig,
                "cohort-size-chart",
                "Cohort size by scheme",
                f"People registered at each month end from {labels[0]} to {labels[-1]}, one line "
                f"per scheme. Now: {latest}.",
            )
        if any(any(s.values) for s in board.by_rag):
            fig = Figure(figsize=(8, 3.4), layout="constrained")
            ax = fig.add_subplot()
            bottom = [0] * n
            for s in board.by_rag:
                ax.bar(
                    x,
                    s.values,
                    bottom=bottom,
                    color=RAG_COLOURS[s.key],
                    edgecolor="white",
                    linewidth=0.5,
                    label=s.label,
                )
                bottom = [b + v for b, v in zip(bottom, s.values, strict=True)]
            ax.set_ylabel("People registered at month end")
            ax.legend(loc="upper left", frameon=False, ncols=4)
            _style(ax, n, labels)
            latest = ", ".join(f"{s.label} {s.values[-1]}" for s in board.by_rag)
            out["rag"] = _svg(
                fig,
                "rag-chart",
                "Cohort by RAG status",
                f"Stacked bars of the registered cohort at each month end by RAG status. Now: {latest}.",
            )
        fig = Figure(figsize=(8, 3.0), layout="constrained")
        ax = fig.add_subplot()
        width = 0.4
        ax.bar(
            [i - width / 2 for i in x],
            [f[1] for f in board.flows],
            width,
            color="#1d70b8",
            label="Registered",
        )
        ax.bar(
            [i + width / 2 for i in x],
            [f[2] for f in board.flows],
            width,
            color="#f47738",
            label="De-registered",
        )
        ax.set_ylabel("People in the month")
        ax.legend(loc="upper left", frameon=False, ncols=2)
        _style(ax, n, labels)
        total_in = sum(f[1] for f in board.flows)
        total_out = sum(f[2] for f in board.flows)
        out["flows"] = _svg(
            fig,
            "flows-chart",
            "Flows in and out of the cohort",
            f"Registrations and de-registrations per month from {labels[0]} to {labels[-1]}: "
            f"{total_in} registered and {total_out} de-registered in all.",
        )
    return out
