"""Proven reoffending outcomes by the Ministry of Justice's rules (evaluation-methods.md §1).

"A proven re-offence is any offence committed in a 12 month follow-up period that results in a
court conviction, caution, reprimand or warning in the 12 months or in a further six month
waiting period." So, for a person with index date I (release from custody, the court or caution
date, or — for IOM — the registration date):

* an offence counts when it was **committed** in the follow-up, I < offence date ≤ I + 365 days
  (the index day itself is the index offence's, not a reoffence), **and proven** — conviction or
  caution date — on or before I + 365 + 182 days;
* the outcome is **final** on I + 547 days (`final_on`): before then a reoffence may still be
  proven, so the binary, frequency, harm and custody outcomes of an incomplete window are left
  empty (people with incomplete windows are excluded from rates, never counted as
  non-reoffenders);
* time to first reoffence is the number of days from I to the offence date of the first proven
  reoffence. Without one the person is censored at the end of the follow-up (365 days). When the
  window is incomplete on `as_of`, observation stops at `as_of` minus the waiting period, so every
  offence that counts has had at least the six-month waiting period to be proven; the person is
  censored there (and has no time at all when that is not after I);
* records dated after `as_of` are ignored, so an evaluation run later on the same data with the
  same `as_of` gives the same numbers.

`proven_outcomes` is pure polars (no Django); `load_offences` reads the offences it needs from the
database with the crime-harm days and unit cost of each offence from the current scoring tables
(`openiom.scoring.engine.code_table`, the same look-up the scoring engine uses).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

INDEX_COLUMNS = ("person_id", "index_date")
OFFENCE_COLUMNS = ("person_id", "offence_date", "disposal_date")
# Columns proven_outcomes adds to the index frame (in this order).
OUTCOME_COLUMNS = (
    "follow_up_end",
    "final_on",
    "complete",
    "reoffended",
    "reoffences",
    "harm_days",
    "custodial_reoffences",
    "custody",
    "first_reoffence_date",
    "days_to_reoffence",
    "reoffence_event",
)


class OutcomeError(ValueError):
    """Input that the outcome rules cannot use: which frame, row (1 = first row), column, why."""

    def __init__(
        self, reason: str, *, frame: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.reason = reason
        self.frame = frame
        self.row = row
        self.column = column
        where = [frame]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {reason}")


@dataclass(frozen=True)
class OutcomeRules:
    """The proven-reoffending definition (MoJ defaults)."""

    follow_up_days: int = 365
    waiting_days: int = 182
    custody_disposals: tuple[str, ...] = ("custody",)  # disposals counted as a custody outcome

    def __post_init__(self) -> None:
        if self.follow_up_days < 1:
            raise ValueError("follow_up_days must be at least 1")
        if self.waiting_days < 0:
            raise ValueError("waiting_days cannot be negative")

    @property
    def window_days(self) -> int:
        """Days from the index date until the outcome is final."""
        return self.follow_up_days + self.waiting_days

    def final_on(self, index_date: dt.date) -> dt.date:
        return index_date + dt.timedelta(days=self.window_days)

    def describe(self) -> str:
        return (
            f"A proven reoffence is an offence committed within {self.follow_up_days} days after "
            f"the index date that led to a conviction or caution within a further "
            f"{self.waiting_days}-day waiting period. Outcomes are final "
            f"{self.window_days} days after the index date; people whose window had not closed "
            "are left out of rates and censored in the time-to-reoffence analysis."
        )


# --- validation ----------------------------------------------------------------------------------


def require_columns(frame: pl.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise OutcomeError(f"missing column(s) {', '.join(missing)}", frame=name)


def _first(mask: pl.Series) -> int:
    return int(mask.arg_max() or 0)


def _date_column(frame: pl.DataFrame, column: str, name: str, *, nullable: bool) -> pl.Series:
    """The column as polars Date: dates, datetimes or ISO text (YYYY-MM-DD) are accepted."""
    series = frame.get_column(column)
    if series.dtype == pl.Date:
        out = series
    elif isinstance(series.dtype, pl.Datetime):
        out = series.dt.date()
    elif series.dtype == pl.String:
        out = series.str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        bad = out.is_null() & series.is_not_null() & (series.str.strip_chars() != "")
        if bad.any():
            row = _first(bad)
            raise OutcomeError(
                f"is not a date in YYYY-MM-DD form (found {series[row]!r})",
                frame=name,
                row=row + 1,
                column=column,
            )
    elif series.dtype == pl.Null:
        out = series.cast(pl.Date)
    else:
        raise OutcomeError(f"must hold dates, not {series.dtype}", frame=name, column=column)
    if not nullable and out.null_count():
        row = _first(out.is_null())
        raise OutcomeError("is empty", frame=name, row=row + 1, column=column)
    return out.alias(column)


def check_person_ids(
    index: pl.DataFrame, offences: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both frames with comparable person ids (integers of any width become Int64), or an
    `OutcomeError` naming the problem."""
    for frame, name in ((index, "index"), (offences, "offences")):
        ids = frame.get_column("person_id")
        if ids.null_count():
            raise OutcomeError(
                "is empty", frame=name, row=_first(ids.is_null()) + 1, column="person_id"
            )
    a, b = index.schema["person_id"], offences.schema["person_id"]
    if a != b and not (a.is_integer() and b.is_integer()):
        raise OutcomeError(
            f"is {b} but the index frame's person_id is {a}: the same ids are needed in both",
            frame="offences",
            column="person_id",
        )
    if a != b:
        index = index.with_columns(pl.col("person_id").cast(pl.Int64))
        offences = offences.with_columns(pl.col("person_id").cast(pl.Int64))
    return index, offences


# --- the rules -----------------------------------------------------------------------------------


def proven_outcomes(
    offences: pl.DataFrame,
    index: pl.DataFrame,
    *,
    as_of: dt.date,
    rules: OutcomeRules | None = None,
) -> pl.DataFrame:
    """One row per row of `index` (same order, same columns) with the outcome columns added.

    offences: `person_id`, `offence_date`, `disposal_date` (conviction or caution; empty = not
    proven), optionally `harm_days` (crime-harm days of the offence) and `disposal_type`.
    index: `person_id`, `index_date` (a person may have several rows, e.g. two registrations).

    Added columns:

    - `follow_up_end` (Date): index date + follow-up days (last day an offence can count);
    - `final_on` (Date): follow-up end + waiting days: the date the outcome becomes final;
    - `complete` (Boolean): `final_on` ≤ `as_of`;
    - `reoffended` (Int8 0/1): at least one proven reoffence — empty when not complete;
    - `reoffences` (Int32): number of proven reoffences (offences, not occasions) — empty when
      not complete;
    - `harm_days` (Float64): crime-harm days summed over the proven reoffences — empty when not
      complete or when the offences carry no `harm_days`;
    - `custodial_reoffences` (Int32) and `custody` (Int8 0/1): proven reoffences disposed of by a
      custodial sentence (`rules.custody_disposals`), and whether there was one — empty when not
      complete or when the offences carry no `disposal_type`;
    - `first_reoffence_date` (Date): offence date of the first proven reoffence seen (empty if
      none);
    - `days_to_reoffence` (Int32) and `reoffence_event` (Int8): days from the index date to the
      first proven reoffence (event 1) or to censoring (event 0): the end of the follow-up, or for
      an incomplete window `as_of` minus the waiting days; both empty when that leaves no
      observation time.
    """
    rules = rules or OutcomeRules()
    require_columns(index, INDEX_COLUMNS, "index")
    require_columns(offences, OFFENCE_COLUMNS, "offences")
    clash = [c for c in OUTCOME_COLUMNS if c in index.columns]
    if clash:
        raise OutcomeError(
            f"already has column(s) {', '.join(clash)} that the outcomes would overwrite",
            frame="index",
        )
    original = index
    index, offences = check_person_ids(index, offences)
    index_date = _date_column(index, "index_date", "index", nullable=False)
    off_date = _date_column(offences, "offence_date", "offences", nullable=False)
    disp_date = _date_column(offences, "disposal_date", "offences", nullable=True)
    before = disp_date.is_not_null() & (disp_date < off_date)
    if before.any():
        row = _first(before)
        raise OutcomeError(
            f"is before the offence date ({disp_date[row]} < {off_date[row]}): an offence "
            "cannot be proven before it is committed",
            frame="offences",
            row=row + 1,
            column="disposal_date",
        )
    has_harm = "harm_days" in offences.columns
    has_disposal = "disposal_type" in offences.columns
    if has_harm and not offences.schema["harm_days"].is_numeric():
        raise OutcomeError("must be a number of days", frame="offences", column="harm_days")

    follow = dt.timedelta(days=rules.follow_up_days)
    wait = dt.timedelta(days=rules.waiting_days)
    cutoff = as_of - wait  # incomplete windows: observation ends here
    idx = pl.DataFrame(
        {
            "_row": pl.Series(range(index.height), dtype=pl.UInt32),
            "person_id": index.get_column("person_id"),
            "_index": index_date,
        }
    ).with_columns(
        (pl.col("_index") + follow).alias("_follow_end"),
        (pl.col("_index") + follow + wait).alias("_final"),
    )
    idx = idx.with_columns(
        pl.min_horizontal(pl.col("_follow_end"), pl.lit(cutoff)).alias("_obs_end"),
        (pl.col("_final") <= as_of).alias("_complete"),
    )
    extra = []
    if has_harm:
        extra.append(pl.col("harm_days").cast(pl.Float64).fill_null(0.0).alias("_harm"))
    if has_disposal:
        extra.append(
            pl.col("disposal_type")
            .cast(pl.String)
            .is_in(list(rules.custody_disposals))
            .fill_null(False)
            .alias("_custodial")
        )
    off = (
        offences.select("person_id", *extra)
        .with_columns(off_date.alias("_od"), disp_date.alias("_dd"))
        .filter(pl.col("_dd").is_not_null() & (pl.col("_dd") <= as_of) & (pl.col("_od") <= as_of))
    )
    # Only people in the index and offences that could fall in someone's window.
    if idx.height:
        lo, hi = idx["_index"].min(), idx["_follow_end"].max()
        off = off.filter((pl.col("_od") > lo) & (pl.col("_od") <= hi))
    hits = (
        idx.lazy()
        .join(off.lazy(), on="person_id", how="inner")
        .filter(
            (pl.col("_od") > pl.col("_index"))
            & (pl.col("_od") <= pl.col("_follow_end"))
            & (pl.col("_dd") <= pl.col("_final"))
        )
    )
    aggs = [
        pl.len().cast(pl.Int32).alias("_n"),
        pl.col("_od").filter(pl.col("_od") <= pl.col("_obs_end")).min().alias("_first"),
    ]
    if has_harm:
        aggs.append(pl.col("_harm").sum().alias("_harm"))
    if has_disposal:
        aggs.append(pl.col("_custodial").sum().cast(pl.Int32).alias("_ncust"))
    per_row = hits.group_by("_row").agg(aggs)
    out = idx.lazy().join(per_row, on="_row", how="left").sort("_row")
    complete = pl.col("_complete")
    n = pl.col("_n").fill_null(0)
    observed = (pl.col("_obs_end") - pl.col("_index")).dt.total_days()
    columns = [
        pl.col("_follow_end").alias("follow_up_end"),
        pl.col("_final").alias("final_on"),
        complete.alias("complete"),
        pl.when(complete).then((n > 0).cast(pl.Int8)).alias("reoffended"),
        pl.when(complete).then(n.cast(pl.Int32)).alias("reoffences"),
        (
            pl.when(complete).then(pl.col("_harm").fill_null(0.0))
            if has_harm
            else pl.lit(None, dtype=pl.Float64)
        ).alias("harm_days"),
        (
            pl.when(complete).then(pl.col("_ncust").fill_null(0))
            if has_disposal
            else pl.lit(None, dtype=pl.Int32)
        ).alias("custodial_reoffences"),
        (
            pl.when(complete).then((pl.col("_ncust").fill_null(0) > 0).cast(pl.Int8))
            if has_disposal
            else pl.lit(None, dtype=pl.Int8)
        ).alias("custody"),
        pl.col("_first").alias("first_reoffence_date"),
        pl.when(pl.col("_first").is_not_null())
        .then((pl.col("_first") - pl.col("_index")).dt.total_days())
        .when(observed > 0)
        .then(observed)
        .cast(pl.Int32)
        .alias("days_to_reoffence"),
        pl.when(pl.col("_first").is_not_null())
        .then(pl.lit(1, dtype=pl.Int8))
        .when(observed > 0)
        .then(pl.lit(0, dtype=pl.Int8))
        .alias("reoffence_event"),
    ]
    result = out.select(columns).collect()
    return pl.concat([original, result], how="horizontal")


def summarise(outcomes: pl.DataFrame) -> dict[str, Any]:
    """Headline figures of a `proven_outcomes` frame (complete windows only), JDL style."""
    done = outcomes.filter(pl.col("complete"))
    n = done.height
    reoffenders = int(done["reoffended"].sum()) if n else 0
    total = int(done["reoffences"].sum()) if n else 0
    return {
        "people": outcomes.height,
        "complete": n,
        "incomplete": outcomes.height - n,
        "reoffenders": reoffenders,
        "rate": reoffenders / n if n else None,
        "reoffences": total,
        "reoffences_per_person": total / n if n else None,
        "reoffences_per_reoffender": total / reoffenders if reoffenders else None,
        "harm_days": float(done["harm_days"].sum())
        if n and done["harm_days"].null_count() < n
        else None,
    }


# --- loading from the database -------------------------------------------------------------------


def current_tables(on: dt.date | None = None) -> tuple[Any, Any]:
    """The crime-harm and unit-cost tables in force on `on` (default today): the shipped keys'
    latest version effective by then, else the most recent version of any key."""
    from django.utils import timezone

    from openiom.scoring.defaults import COST_KEY, HARM_KEY
    from openiom.scoring.models import CrimeHarmTable, UnitCostTable

    on = on or timezone.localdate()
    harm = (
        CrimeHarmTable.in_force(HARM_KEY, on)
        or CrimeHarmTable.objects.order_by("-effective_from", "-version").first()
    )
    cost = (
        UnitCostTable.in_force(COST_KEY, on)
        or UnitCostTable.objects.order_by("-effective_from", "-version").first()
    )
    if harm is None or cost is None:
        raise OutcomeError("no crime-harm or unit-cost table exists", frame="scoring tables")
    return harm, cost


def offence_query(connection: Any, as_of: dt.date | None) -> Any:
    """The offences with their disposal type, as a `scoring.dbload.Query` (split by block range
    on PostgreSQL like the scoring loader's)."""
    from openiom.offending.models import Offence
    from openiom.scoring import dbload

    table = connection.ops.quote_name(Offence._meta.db_table)
    when = f"o.offence_date <= '{as_of.isoformat()}' AND " if as_of else ""
    return dbload.Query(
        "offences",
        table,
        "o",
        f"SELECT o.person_id, o.offence_code_id AS code_id, o.offence_date, o.disposal_date, "  # noqa: S608 (table name from the model, date from dt.date)
        f"o.disposal_type FROM {table} o WHERE {when}{{where}}",
        {
            "person_id": pl.Int64,
            "code_id": pl.Int64,
            "offence_date": pl.Date,
            "disposal_date": pl.Date,
            "disposal_type": pl.String,
        },
    )


def codes_query(connection: Any) -> Any:
    """The offence code table, as the scoring loader reads it (code_id, offence_code, ...)."""
    from openiom.scoring import dbload

    return next(q for q in dbload._queries(connection, dt.date.max) if q.name == "codes")


def load_codes() -> pl.DataFrame:
    """The offence code table from the database (for `attach_codes`)."""
    from django.db import connection

    connection.ensure_connection()
    return read_queries([codes_query(connection)])["codes"]


def read_queries(queries: list[Any]) -> dict[str, pl.DataFrame]:
    """Run `scoring.dbload.Query` objects the way the scoring loader does (`dbload.read`: binary
    COPY over ADBC on PostgreSQL outside a transaction, else Django's own connection)."""
    from openiom.scoring import dbload

    return dbload.read(queries)


def attach_codes(
    offences: pl.DataFrame,
    codes: pl.DataFrame,
    *,
    harm: Mapping[str, Any],
    costs: Mapping[str, Any],
) -> pl.DataFrame:
    """Offences with `code_id` -> plus offence_code, category, harm_days, unit_cost,
    is_neighbourhood_crime, offence_weight (OGRS3) and code_priority (seriousness), from
    `scoring.engine.code_table`; an unknown code gets the 'Other offence' row."""
    from openiom.scoring.engine import code_table

    table = code_table(codes.drop("code_id"), harm, costs)
    known = codes.select("code_id", "offence_code").join(table, on="offence_code", how="inner")
    other = table.filter(pl.col("offence_code").is_null()).drop("offence_code").row(0, named=True)
    joined = offences.join(known, on="code_id", how="left")
    return joined.with_columns([pl.col(c).fill_null(pl.lit(v)) for c, v in other.items()]).drop(
        "code_id"
    )


def load_offences(
    person_ids: Iterable[Any] | None = None,
    *,
    as_of: dt.date | None = None,
    harm: Mapping[str, Any] | None = None,
    costs: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """The area's offences from the database (optionally only these people's, committed on or
    before `as_of`), ready for `proven_outcomes`: person_id, offence_code, category,
    offence_date, disposal_date, disposal_type, harm_days and unit_cost (current crime-harm and
    unit-cost tables unless given), is_neighbourhood_crime, offence_weight, code_priority."""
    from django.db import connection

    connection.ensure_connection()
    frames = read_queries([offence_query(connection, as_of), codes_query(connection)])
    offences = frames["offences"]
    if person_ids is not None:
        wanted = pl.Series("person_id", list(person_ids), dtype=pl.Int64)
        offences = offences.filter(pl.col("person_id").is_in(wanted.implode()))
    if harm is None or costs is None:
        harm_table, cost_table = current_tables(as_of)
        harm = harm if harm is not None else harm_table.config
        costs = costs if costs is not None else cost_table.config
    assert harm is not None and costs is not None
    return attach_codes(offences, frames["codes"], harm=harm, costs=costs)
