"""Cohort tracking (what IDIOM does): offending, harm and cost before and after registration.

`before_after(offences, index, as_of=...)` counts, per registered person, the proven offences
committed in equal windows before and after their registration (index) date, with their
crime-harm days and estimated cost (unit costs per offence category from the current
`scoring.UnitCostTable`), and sums them for the cohort.

This view is **never** an estimate of what IOM achieved. People are chosen for IOM *because* they
offended a lot recently; a group chosen at a peak of its offending falls back towards its usual
level whatever is done (regression to the mean), and offending declines with age anyway. Every
result carries `REGRESSION_TO_THE_MEAN_WARNING`, and a large fall carries a note saying that a
fall of that size is what regression to the mean predicts. Only the matched comparison
(`comparison` + `methods.pipeline`) answers whether IOM made a difference.

Windows (W = `window_days`, default 365; index date I):

* before: offences committed in [I − W, I); after: offences committed in (I, I + W];
* an offence counts when proven (conviction or caution) within `waiting_days` (default 182) after
  the end of its window, as in the proven-reoffending rules, so both sides are counted alike;
* the after window is complete when I + W + waiting ≤ `as_of`; people whose after window is not
  complete are listed but left out of the cohort figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from openiom.evaluation.methods.types import _plain
from openiom.evaluation.outcomes import OutcomeError, check_person_ids

TITLE = "Offending before and after registration (a description, not an evaluation)"
REGRESSION_TO_THE_MEAN_WARNING = (
    "Read this as a description of the cohort, not as a result of IOM. People are chosen for IOM "
    "because they offended a lot recently, and a group chosen at a peak of its offending usually "
    "offends less afterwards even if nothing is done (regression to the mean); offending also "
    "falls with age. A fall after registration is therefore expected and is not evidence that "
    "IOM reduced offending. Only the matched comparison group shows whether IOM made a "
    "difference."
)
LARGE_FALL = 0.2  # a fall of 20% or more in proven offences is flagged
COST_NOTE = (
    "Costs are the Home Office unit costs of crime (per crime, not per proven offence) of the "
    "offences counted; proven offences understate offending."
)


@dataclass
class BeforeAfter:
    """Before-and-after counts per person (`people`) and per group (`groups`)."""

    window_days: int
    waiting_days: int
    as_of: dt.date
    people: pl.DataFrame
    groups: list[dict[str, Any]]
    warning: str = REGRESSION_TO_THE_MEAN_WARNING
    title: str = TITLE
    notes: list[str] = field(default_factory=list)

    @property
    def large_fall(self) -> bool:
        return any(g["large_fall"] for g in self.groups)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "title": self.title,
            "warning": self.warning,
            "window_days": self.window_days,
            "waiting_days": self.waiting_days,
            "as_of": self.as_of.isoformat(),
            "groups": self.groups,
            "notes": self.notes,
            "large_fall": self.large_fall,
        }
        return dict(_plain(data))


def _change(before: float, after: float) -> float | None:
    return (after - before) / before if before else None


def _group_summary(frame: pl.DataFrame, name: str, window_days: int) -> dict[str, Any]:
    done = frame.filter(pl.col("after_complete"))
    n = done.height
    totals = {
        c: float(done[c].sum()) if n else 0.0
        for c in (
            "offences_before",
            "offences_after",
            "harm_before",
            "harm_after",
            "cost_before",
            "cost_after",
        )
    }
    offending_before = int((done["offences_before"] > 0).sum()) if n else 0
    offending_after = int((done["offences_after"] > 0).sum()) if n else 0
    change = _change(totals["offences_before"], totals["offences_after"])
    large = change is not None and change <= -LARGE_FALL
    summary: dict[str, Any] = {
        "group": name,
        "people": frame.height,
        "people_complete": n,
        "people_incomplete": frame.height - n,
        **totals,
        "offences_before_per_person": totals["offences_before"] / n if n else None,
        "offences_after_per_person": totals["offences_after"] / n if n else None,
        "share_offending_before": offending_before / n if n else None,
        "share_offending_after": offending_after / n if n else None,
        "offences_change": change,
        "harm_change": _change(totals["harm_before"], totals["harm_after"]),
        "cost_change": _change(totals["cost_before"], totals["cost_after"]),
        "large_fall": large,
        "note": "",
    }
    if change is not None:
        direction = "fell" if change < 0 else "rose" if change > 0 else "did not change"
        size = f" by {abs(change) * 100:.0f}%" if change else ""
        summary["note"] = (
            f"{name}: proven offences {direction}{size} in the {window_days} days after "
            f"registration compared with the {window_days} days before ({n} people)."
        )
        if large:
            summary["note"] += (
                " A fall of this size is what regression to the mean predicts for people chosen "
                "at a peak of their offending; it does not show that IOM worked."
            )
    return summary


def before_after(
    offences: pl.DataFrame,
    index: pl.DataFrame,
    *,
    as_of: dt.date,
    window_days: int = 365,
    waiting_days: int = 182,
    group: str | None = None,
) -> BeforeAfter:
    """Before-and-after counts (see the module docstring).

    offences: person_id, offence_date, disposal_date, and optionally harm_days and unit_cost.
    index: person_id, index_date (the registration date), optionally a `group` column (e.g.
    cohort) summarised separately; every group is also summarised together as "All".
    `people` has the index columns plus offences_before, offences_after, harm_before, harm_after,
    cost_before, cost_after and after_complete.
    """
    if window_days < 1:
        raise OutcomeError("window_days must be at least 1", frame="tracking")
    for name, frame, columns in (
        ("index", index, ("person_id", "index_date")),
        ("offences", offences, ("person_id", "offence_date", "disposal_date")),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise OutcomeError(f"missing column(s) {', '.join(missing)}", frame=name)
    if group is not None and group not in index.columns:
        raise OutcomeError(f"has no column {group!r} to group by", frame="index")
    index, offences = check_person_ids(index, offences)
    w, wait = dt.timedelta(days=window_days), dt.timedelta(days=waiting_days)
    rows = index.with_row_index("_row")
    off = offences.select(
        "person_id",
        "offence_date",
        "disposal_date",
        (pl.col("harm_days") if "harm_days" in offences.columns else pl.lit(0.0))
        .cast(pl.Float64)
        .fill_null(0.0)
        .alias("_harm"),
        (pl.col("unit_cost") if "unit_cost" in offences.columns else pl.lit(0.0))
        .cast(pl.Float64)
        .fill_null(0.0)
        .alias("_cost"),
    ).filter(
        pl.col("disposal_date").is_not_null()
        & (pl.col("disposal_date") <= as_of)
        & pl.col("person_id").is_in(index["person_id"].unique().implode())
    )
    joined = rows.select("_row", "person_id", "index_date").join(off, on="person_id")
    i = pl.col("index_date")
    before = (
        (pl.col("offence_date") >= i - w)
        & (pl.col("offence_date") < i)
        & (pl.col("disposal_date") <= i + wait)
    )
    after = (
        (pl.col("offence_date") > i)
        & (pl.col("offence_date") <= i + w)
        & (pl.col("disposal_date") <= i + w + wait)
    )
    per_row = joined.group_by("_row").agg(
        before.sum().alias("offences_before"),
        after.sum().alias("offences_after"),
        pl.col("_harm").filter(before).sum().alias("harm_before"),
        pl.col("_harm").filter(after).sum().alias("harm_after"),
        pl.col("_cost").filter(before).sum().alias("cost_before"),
        pl.col("_cost").filter(after).sum().alias("cost_after"),
    )
    people = (
        rows.join(per_row, on="_row", how="left")
        .sort("_row")
        .with_columns(
            pl.col("offences_before", "offences_after").fill_null(0).cast(pl.Int32),
            pl.col("harm_before", "harm_after", "cost_before", "cost_after").fill_null(0.0),
            (i + w + wait <= as_of).alias("after_complete"),
        )
        .drop("_row")
    )
    groups = [_group_summary(people, "All", window_days)]
    if group is not None:
        for key in sorted(people[group].drop_nulls().unique().to_list(), key=str):
            groups.append(
                _group_summary(people.filter(pl.col(group) == key), str(key), window_days)
            )
    notes = [g["note"] for g in groups if g["note"]]
    notes.append(COST_NOTE)
    return BeforeAfter(
        window_days=window_days,
        waiting_days=waiting_days,
        as_of=as_of,
        people=people,
        groups=groups,
        notes=notes,
    )


def cohort_before_after(
    *,
    as_of: dt.date,
    cohorts: Iterable[str] = (),
    registered_from: dt.date | None = None,
    registered_to: dt.date | None = None,
    lead_agency: str | None = None,
    window_days: int = 365,
) -> BeforeAfter:
    """`before_after` for the area's registrations from the database (each person's first
    registration matching the filters; grouped by cohort)."""
    from django.db import connection

    from openiom.evaluation.comparison import (
        TreatmentSelection,
        _registration_query,
        _select_registrations,
    )
    from openiom.evaluation.outcomes import load_offences, read_queries

    connection.ensure_connection()
    regs = read_queries([_registration_query(connection)])["registrations"].filter(
        pl.col("start_date") <= as_of
    )
    selection = TreatmentSelection(
        cohorts=tuple(cohorts),
        registered_from=registered_from,
        registered_to=registered_to,
        lead_agency=lead_agency,
    )
    chosen = _select_registrations(regs, selection).select(
        "person_id",
        pl.col("start_date").alias("index_date"),
        "registration_id",
        pl.col("cohort_key").alias("cohort"),
    )
    offences = load_offences(chosen["person_id"].to_list(), as_of=as_of)
    return before_after(offences, chosen, as_of=as_of, window_days=window_days, group="cohort")
