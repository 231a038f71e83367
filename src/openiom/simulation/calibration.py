"""Proven reoffending, measured the Ministry of Justice way, over polars frames.

Definition (MoJ proven reoffending statistics): a *proven re-offence* is any offence committed in a
12-month follow-up period after the index date that leads to a conviction or caution within that
period or a further 6-month waiting period. The *index date* is the date of release from custody,
or the court or caution date for a non-custodial disposal. Outcomes are final only once follow-up
and waiting period are over, so people whose window is incomplete on the as-of date are excluded.

One index event per person per cohort period: the first qualifying release or non-custodial
disposal dated within [cohort_start, cohort_end). Previous offences are the proven offences
disposed of before the index case (before the custodial sentence for a release).

The frames use the import-file columns (see docs/simulator.md), so the same function measures the
simulator's output and, later, real imported data:

* offences: person_id, offence_date, disposal_type, disposal_date
* custody: person_id, custody_type, received_date, sentence_length_days, release_date, release_type
* people: person_id, date_of_birth
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

FOLLOW_UP_DAYS = 365
WAITING_DAYS = 182


def index_events(
    *,
    offences: pl.DataFrame,
    custody: pl.DataFrame,
    people: pl.DataFrame,
    cohort_start: dt.date,
    cohort_end: dt.date,
    as_of: dt.date,
    follow_up_days: int = FOLLOW_UP_DAYS,
    waiting_days: int = WAITING_DAYS,
) -> pl.DataFrame:
    """One row per person: the first qualifying index event in the cohort period, and its outcome.

    Columns: person_id, index_date, index_kind ("release" or "non_custodial"),
    custody_sentence_days (releases only), age_at_index, previous_offences, reoffences,
    reoffended, days_to_first_reoffence.
    """
    latest_index = as_of - dt.timedelta(days=follow_up_days + waiting_days)
    end = min(cohort_end, latest_index + dt.timedelta(days=1))
    non_custodial = (
        offences.filter(pl.col("disposal_type") != "custody")
        .select(
            "person_id",
            pl.col("disposal_date").alias("index_date"),
            pl.col("disposal_date").alias("prior_cutoff"),
            pl.lit("non_custodial").alias("index_kind"),
            pl.lit(None, dtype=pl.Int64).alias("custody_sentence_days"),
        )
        .unique()
    )
    releases = custody.filter(
        (pl.col("custody_type") == "sentenced")
        & pl.col("release_date").is_not_null()
        & (pl.col("release_type") != "died in custody")
    ).select(
        "person_id",
        pl.col("release_date").alias("index_date"),
        pl.col("received_date").alias("prior_cutoff"),
        pl.lit("release").alias("index_kind"),
        pl.col("sentence_length_days").cast(pl.Int64).alias("custody_sentence_days"),
    )
    events = (
        pl.concat([releases, non_custodial], how="vertical")
        .filter((pl.col("index_date") >= cohort_start) & (pl.col("index_date") < end))
        # earliest event; on a tie a release counts (it is the later stage of the same case)
        .sort("person_id", "index_date", pl.col("index_kind") != "release")
        .unique(subset="person_id", keep="first", maintain_order=True)
    )
    follow_end = pl.col("index_date") + pl.duration(days=follow_up_days)
    proven_by = follow_end + pl.duration(days=waiting_days)
    joined = events.join(
        offences.select("person_id", "offence_date", "disposal_date"), on="person_id", how="left"
    )
    is_reoffence = (
        (pl.col("offence_date") > pl.col("index_date"))
        & (pl.col("offence_date") <= follow_end)
        & (pl.col("disposal_date") <= proven_by)
    )
    outcomes = joined.group_by("person_id").agg(
        is_reoffence.sum().alias("reoffences"),
        (pl.col("disposal_date") < pl.col("prior_cutoff")).sum().alias("previous_offences"),
        ((pl.col("offence_date") - pl.col("index_date")).dt.total_days())
        .filter(is_reoffence)
        .min()
        .alias("days_to_first_reoffence"),
    )
    return (
        events.join(outcomes, on="person_id", how="left")
        .join(people.select("person_id", "date_of_birth"), on="person_id", how="left")
        .with_columns(
            ((pl.col("index_date") - pl.col("date_of_birth")).dt.total_days() / 365.25).alias(
                "age_at_index"
            ),
            (pl.col("reoffences") > 0).alias("reoffended"),
            pl.col("previous_offences").cast(pl.Int64),
            pl.col("reoffences").cast(pl.Int64),
        )
        .select(
            "person_id",
            "index_date",
            "index_kind",
            "custody_sentence_days",
            "age_at_index",
            "previous_offences",
            "reoffences",
            "reoffended",
            "days_to_first_reoffence",
        )
        .sort("person_id")
    )


def reoffending_rate(events: pl.DataFrame, where: pl.Expr | None = None) -> tuple[float, int]:
    """(proportion who reoffended, cohort size) for the index events matching `where`."""
    chosen = events.filter(where) if where is not None else events
    size = chosen.height
    return (float(chosen["reoffended"].mean()) if size else float("nan")), size  # type: ignore[arg-type]


def offence_concentration(offences: pl.DataFrame, top_share: float = 0.10) -> float:
    """Share of all proven offences committed by the most active `top_share` of offenders."""
    counts = offences.group_by("person_id").len("n").sort("n", descending=True)["n"]
    if counts.is_empty():
        return float("nan")
    top = max(1, round(len(counts) * top_share))
    return int(counts.head(top).sum()) / int(counts.sum())


@dataclass(frozen=True)
class Calibration:
    """The simulator's headline figures next to the published ones they are tuned to."""

    adult_rate: float
    adult_cohort: int
    adult_11_plus_rate: float
    adult_11_plus_cohort: int
    short_custody_rate: float
    short_custody_cohort: int
    top10_share: float

    TARGETS = {
        "adult_rate": (0.24, 0.31),
        "adult_11_plus_rate": (0.42, 0.54),
        "short_custody_rate": (0.52, 0.65),
        "top10_share": (0.50, 0.65),
    }

    def failures(self) -> list[str]:
        out = []
        for name, (lo, hi) in self.TARGETS.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                out.append(f"{name}={value:.3f} outside [{lo}, {hi}]")
        return out


def calibrate(
    *,
    offences: pl.DataFrame,
    custody: pl.DataFrame,
    people: pl.DataFrame,
    as_of: dt.date,
    cohort_years_back: int = 4,
    cohort_years: int = 2,
) -> Calibration:
    """Measure the headline figures for index events from `cohort_years_back` years before the
    as-of date, over `cohort_years` years (one index event per person in that period)."""
    start = dt.date(as_of.year - cohort_years_back, as_of.month, 1)
    end = dt.date(start.year + cohort_years, start.month, 1)
    events = index_events(
        offences=offences,
        custody=custody,
        people=people,
        cohort_start=start,
        cohort_end=end,
        as_of=as_of,
    )
    adult = pl.col("age_at_index") >= 18
    a, an = reoffending_rate(events, adult)
    b, bn = reoffending_rate(events, adult & (pl.col("previous_offences") >= 11))
    c, cn = reoffending_rate(
        events,
        adult & (pl.col("index_kind") == "release") & (pl.col("custody_sentence_days") < 365),
    )
    return Calibration(a, an, b, bn, c, cn, offence_concentration(offences))
