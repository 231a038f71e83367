"""Database mode: the flat evaluation table built from the area's own records.

`build_frame(selection=..., as_of=...)` returns one row per person — the treated group (IOM
registrations matching a `TreatmentSelection`) and a time-aligned comparison pool — with the
outcome columns of `openiom.evaluation.outcomes` and the covariates, ready for
`openiom.evaluation.methods.pipeline.evaluate_frame` (see `evaluation_spec`).

**Treated group.** Registrations (`cohort.Registration`) in the chosen cohort(s), registered
between the chosen dates, with the chosen lead agency; a person's first such registration is
their index date. A treated person is kept when their outcome window is complete on `as_of`
(registration + 365 + 182 days ≤ `as_of`) and they met the eligibility rules below on their
index date.

**Eligibility** (the same for both groups, on the index date I): aged `min_age` to `max_age`,
alive, living in the chosen hubs (current hub; all hubs when none are chosen), not in custody on
I, and at least one offence committed in the `look_back_days` before I.

**Comparison pool: time-aligned pseudo-index dates (risk-set rule).** Everyone in the area's
data is a candidate, including people registered later — even people in the treated group, at a
date before their own registration: a comparison person is someone *not yet* registered on the
date they are compared on, as in risk-set matching. The treated index dates are grouped by
calendar quarter. For each candidate and each such quarter one of that quarter's treated index
dates is drawn at random; the candidate is eligible on that date if they meet the eligibility
rules and had not been registered on IOM (any cohort) on or before it. Of the quarters in which a
candidate was eligible, one is chosen at random with probability proportional to the number of
treated index dates in it, so the comparison index dates follow the treated group's calendar; each
person is in the pool once. Draws come from a numpy generator seeded with `selection.seed` over the
candidates in person-id order: the same data and seed give the same frame.

Why this rule: IOM panels take the highest-risk people as places free up, so high-risk people who
are not registered on a date are mostly registered soon after. Leaving out everyone registered
later (`exclude_treated_from_pool`, or `pool_unregistered_through_follow_up` for those registered
within their own follow-up) keeps only the high-risk people who were *never* chosen — those whose
offending fell away — and makes IOM look harmful: in six simulated 20,000-person areas with no
true effect the matched one-year rate difference averaged +13 and +15 percentage points with
those options, against +4 with this rule. The price of this rule:
a comparison person registered during their own follow-up spent part of it on IOM, which biases
the comparison towards no difference; the frame's `registered_in_follow_up` column marks them
and `contamination_note` words it for the report.

**Covariates** (`DEFAULT_COVARIATES`, or any of `AVAILABLE_COVARIATES`), all on the index date
from records before it: age; sex; offences (by offence date) in the last year, last three years and
ever, and ever by broad category; years since the first sanction and OGRS3 two-year probability
(sanctions = conviction or caution dates before I; `openiom.scoring.ogrs3`); days since the last
offence and since the last sanction; custody episodes before I; crime-harm days of the offences in
the last year; the neighbourhood-crime share of the last three years' offences; optionally arrests
in the last year, offences in the last 90 days, police intelligence in the last six months.

Vectorised with polars (join_asof for the per-date look-ups, one join of the offences against the
frame rows for the covariates): on a simulated 1,000,000-person area (5.1 million offences, 2,000
registrations) `frame_from_area` takes about 2.3 s once the records are loaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from openiom.evaluation.methods.types import EvaluationSpec, MatchingSpec, Progress
from openiom.evaluation.outcomes import (
    OutcomeRules,
    attach_codes,
    codes_query,
    current_tables,
    offence_query,
    proven_outcomes,
    read_queries,
)
from openiom.scoring import ogrs3
from openiom.scoring.engine import _years_between

# Broad offence groups for the criminal-history counts (OGRS3 categories of the catalogue).
CATEGORY_GROUPS: dict[str, str] = {
    "Violence against the person": "violence",
    "Robbery": "violence",
    "Sexual (not against a child)": "violence",
    "Sexual (against a child)": "violence",
    "Burglary (domestic)": "acquisitive",
    "Burglary (other)": "acquisitive",
    "Theft (non-motor)": "acquisitive",
    "Handling stolen goods": "acquisitive",
    "Fraud and forgery": "acquisitive",
    "Taking and driving away and related offences": "acquisitive",
    "Theft from a vehicle": "acquisitive",
    "Drug import, export or production": "drugs",
    "Drug possession or supply": "drugs",
}
HISTORY_GROUPS = ("violence", "acquisitive", "drugs", "other")

AVAILABLE_COVARIATES: dict[str, str] = {
    "age": "age in whole years on the index date",
    "sex": "sex as recorded (M, F, ...)",
    "offences_last_year": "offences committed in the 365 days before the index date",
    "offences_last_3_years": "offences committed in the 3 years before the index date",
    "offences_total": "offences committed before the index date",
    "history_violence": "offences before the index date: violence, robbery or sexual",
    "history_acquisitive": "offences before the index date: burglary, theft, handling, fraud, vehicle",
    "history_drugs": "offences before the index date: drugs",
    "history_other": "offences before the index date: any other category",
    "years_since_first_sanction": "years from the first conviction or caution to the index date",
    "days_since_last_offence": "days from the last offence committed to the index date",
    "days_since_last_sanction": "days from the last conviction or caution to the index date",
    "ogrs3_2yr": "OGRS3 two-year proven reoffending probability on the index date",
    "custody_history": "custody episodes (remand or sentence) begun before the index date",
    "harm_last_year": "crime-harm days of the offences in the 365 days before the index date",
    "neighbourhood_share": "share of the last 3 years' offences that were neighbourhood crime",
    "arrests_last_year": "arrests in the 365 days before the index date",
    "offences_last_90_days": "offences committed in the 90 days before the index date",
    "intelligence_last_6_months": "police intelligence items recorded in the 182 days before the index date",
}
DEFAULT_COVARIATES: tuple[str, ...] = (
    "age",
    "sex",
    "offences_last_year",
    "offences_last_3_years",
    "history_violence",
    "history_acquisitive",
    "history_drugs",
    "history_other",
    "years_since_first_sanction",
    "days_since_last_offence",
    "days_since_last_sanction",
    "ogrs3_2yr",
    "custody_history",
    "harm_last_year",
    "neighbourhood_share",
)
OUTCOME_COLUMNS = (
    "reoffended",
    "reoffences",
    "days_to_reoffence",
    "reoffence_event",
    "harm_days",
    "custody",
)
ATTRITION_STAGES = (
    "registrations selected",
    "matched to data",
    "eligible / outcome window complete",
)


class ComparisonError(ValueError):
    """The selection cannot give an evaluation table (and why, in plain words)."""


@dataclass(frozen=True)
class TreatmentSelection:
    """Which registrations form the treated group, and the eligibility both groups must meet."""

    cohorts: tuple[str, ...] = ()  # cohort keys (fixed, flex, free) or names; empty = all
    registered_from: dt.date | None = None
    registered_to: dt.date | None = None
    lead_agency: str | None = None  # agency code or name; None = any
    hubs: tuple[str, ...] = ()  # hub codes forming the area; empty = every hub
    min_age: int = 18
    max_age: int | None = None
    look_back_days: int = 365  # an offence committed in this many days before the index date
    label: str = ""
    seed: int = 20261122
    rules: OutcomeRules = field(default_factory=OutcomeRules)
    # Sensitivity options (see the module docstring; both condition on the future):
    exclude_treated_from_pool: bool = False  # treated people are never comparison rows
    pool_unregistered_through_follow_up: bool = False  # nor anyone registered by I + 365 days

    def __post_init__(self) -> None:
        if self.look_back_days < 1:
            raise ComparisonError("look_back_days must be at least 1")
        if self.max_age is not None and self.max_age < self.min_age:
            raise ComparisonError("max_age is below min_age")
        if (
            self.registered_from is not None
            and self.registered_to is not None
            and self.registered_to < self.registered_from
        ):
            raise ComparisonError("registered_to is before registered_from")

    def describe(self) -> str:
        parts = ["registrations in " + (", ".join(self.cohorts) if self.cohorts else "any cohort")]
        if self.registered_from or self.registered_to:
            parts.append(
                f"registered {self.registered_from or 'from the start'} to "
                f"{self.registered_to or 'the latest'}"
            )
        if self.lead_agency:
            parts.append(f"lead agency {self.lead_agency}")
        if self.hubs:
            parts.append("hubs " + ", ".join(self.hubs))
        ages = f"aged {self.min_age}" + (f" to {self.max_age}" if self.max_age else " or over")
        parts.append(
            f"{ages}, not in custody, with an offence in the {self.look_back_days} days before "
            "the index date"
        )
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("registered_from", "registered_to"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        data["cohorts"], data["hubs"] = list(self.cohorts), list(self.hubs)
        data["rules"]["custody_disposals"] = list(self.rules.custody_disposals)
        return data


@dataclass
class AreaData:
    """The area's records the comparison needs (polars frames; dates as Date).

    people: person_id, date_of_birth, sex, hub, date_of_death
    offences: person_id, offence_date, disposal_date, disposal_type, category, harm_days,
        is_neighbourhood_crime, offence_weight, code_priority (see outcomes.attach_codes)
    custody: person_id, received_date, release_date
    arrests: person_id, arrest_date
    registrations: registration_id, person_id, cohort_key, cohort_name, lead_agency,
        start_date, end_date
    intelligence: person_id, recorded_date
    """

    people: pl.DataFrame
    offences: pl.DataFrame
    custody: pl.DataFrame
    arrests: pl.DataFrame
    registrations: pl.DataFrame
    intelligence: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"person_id": pl.Int64, "recorded_date": pl.Date}
        )
    )
    tables: dict[str, str] = field(default_factory=dict)  # harm/cost table versions used


def _registration_query(connection: Any) -> Any:
    from openiom.cohort.models import CohortDefinition, Registration
    from openiom.partnership.models import Agency
    from openiom.scoring import dbload

    def t(model: Any) -> str:
        return str(connection.ops.quote_name(model._meta.db_table))

    return dbload.Query(
        "registrations",
        "",
        "r",
        f"SELECT r.id AS registration_id, r.person_id, r.cohort_key, c.name AS cohort_name, "  # noqa: S608 (table names from models)
        f"a.code AS lead_agency, r.start_date, r.end_date FROM {t(Registration)} r "
        f"JOIN {t(CohortDefinition)} c ON c.id = r.cohort_id "
        f"JOIN {t(Agency)} a ON a.id = r.lead_agency_id WHERE {{where}}",
        {
            "registration_id": pl.Int64,
            "person_id": pl.Int64,
            "cohort_key": pl.String,
            "cohort_name": pl.String,
            "lead_agency": pl.String,
            "start_date": pl.Date,
            "end_date": pl.Date,
        },
    )


def load_area(as_of: dt.date) -> AreaData:
    """Read the area's people, offences (with harm from the current crime-harm table), custody,
    arrests and registrations from the database (the scoring loader's queries and paths)."""
    from django.db import connection

    from openiom.scoring import dbload

    connection.ensure_connection()
    wanted = {"people", "custody", "arrests", "intelligence"}
    queries = [offence_query(connection, as_of), _registration_query(connection)]
    queries.append(codes_query(connection))
    queries += [q for q in dbload._queries(connection, as_of) if q.name in wanted]
    frames = read_queries(queries)
    harm, cost = current_tables(as_of)
    offences = attach_codes(
        frames["offences"], frames["codes"], harm=harm.config, costs=cost.config
    )
    return AreaData(
        people=frames["people"].select("person_id", "date_of_birth", "sex", "hub", "date_of_death"),
        offences=offences,
        custody=frames["custody"].select("person_id", "received_date", "release_date"),
        arrests=frames["arrests"],
        registrations=frames["registrations"].filter(pl.col("start_date") <= as_of),
        intelligence=frames["intelligence"].select("person_id", "recorded_date"),
        tables={
            "crime_harm_table": f"{harm.key} v{harm.version}",
            "unit_cost_table": f"{cost.key} v{cost.version}",
        },
    )


# --- selection -----------------------------------------------------------------------------------


def _select_registrations(regs: pl.DataFrame, selection: TreatmentSelection) -> pl.DataFrame:
    cond = pl.lit(True)
    if selection.cohorts:
        names = list(selection.cohorts)
        cond = cond & (pl.col("cohort_key").is_in(names) | pl.col("cohort_name").is_in(names))
    if selection.registered_from is not None:
        cond = cond & (pl.col("start_date") >= selection.registered_from)
    if selection.registered_to is not None:
        cond = cond & (pl.col("start_date") <= selection.registered_to)
    if selection.lead_agency:
        cond = cond & (pl.col("lead_agency") == selection.lead_agency)
    chosen = regs.filter(cond).sort("start_date", "registration_id")
    return chosen.unique("person_id", keep="first", maintain_order=True)


def _eligibility(rows: pl.DataFrame, area: AreaData, selection: TreatmentSelection) -> pl.DataFrame:
    """`rows` (person_id, index_date, ...) with a boolean `eligible` column (see the module
    docstring) and `_dob`, `_sex` from the people table."""
    people = area.people.select(
        "person_id",
        pl.col("date_of_birth").alias("_dob"),
        pl.col("sex").cast(pl.String).alias("_sex"),
        pl.col("hub").cast(pl.String).alias("_hub"),
        pl.col("date_of_death").alias("_dod"),
    )
    out = rows.join(people, on="person_id", how="left").sort("index_date")
    last = (
        area.offences.select("person_id", pl.col("offence_date").alias("_last_offence"))
        .filter(pl.col("person_id").is_in(out["person_id"].unique().implode()))
        .sort("_last_offence")
    )
    out = out.join_asof(
        last,
        left_on="index_date",
        right_on="_last_offence",
        by="person_id",
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    custody = (
        area.custody.select(
            "person_id",
            pl.col("received_date").alias("_received"),
            pl.col("release_date").alias("_released"),
        )
        .filter(pl.col("_received").is_not_null())
        .sort("_received")
    )
    out = out.join_asof(
        custody,
        left_on="index_date",
        right_on="_received",
        by="person_id",
        strategy="backward",
        check_sortedness=False,
    )
    age = _years_between(pl.col("_dob").cast(pl.Int32), pl.col("index_date").cast(pl.Int32))
    ok = (
        pl.col("_dob").is_not_null()
        & (age >= selection.min_age)
        & (pl.col("_dod").is_null() | (pl.col("_dod") > pl.col("index_date")))
        & pl.col("_last_offence").is_not_null()
        & (
            (pl.col("index_date") - pl.col("_last_offence")).dt.total_days()
            <= selection.look_back_days
        )
        & ~(
            pl.col("_received").is_not_null()
            & (pl.col("_released").is_null() | (pl.col("_released") > pl.col("index_date")))
        )
    )
    if selection.max_age is not None:
        ok = ok & (age <= selection.max_age)
    if selection.hubs:
        ok = ok & pl.col("_hub").is_in(list(selection.hubs)).fill_null(False)
    return out.with_columns(ok.fill_null(False).alias("eligible")).drop(
        "_hub", "_dod", "_last_offence", "_received", "_released"
    )


def _quarter(col: pl.Expr) -> pl.Expr:
    return col.dt.year().cast(pl.Int32) * 4 + (col.dt.month().cast(pl.Int32) - 1) // 3


def _pool_index_dates(
    area: AreaData, treated: pl.DataFrame, selection: TreatmentSelection
) -> pl.DataFrame:
    """One eligible pseudo-index date per comparison candidate (see the module docstring):
    rows (person_id, index_date, eligible, _dob, _sex)."""
    dates = (
        treated.select("index_date")
        .sort("index_date")
        .with_columns(_quarter(pl.col("index_date")).alias("q"))
    )
    quarters = dates.group_by("q", maintain_order=True).agg(pl.len().alias("w"))
    offsets = np.concatenate([[0], np.cumsum(quarters["w"].to_numpy())[:-1]])
    quarters = quarters.with_columns(pl.Series("offset", offsets, dtype=pl.Int64))
    all_dates = dates["index_date"]

    if selection.exclude_treated_from_pool:
        treated_ids = treated["person_id"].implode()
        candidates = area.people.select("person_id").filter(~pl.col("person_id").is_in(treated_ids))
    else:
        candidates = area.people.select("person_id")
    # Only people with an offence that could fall in some look-back window can be eligible.
    lo = all_dates.min() - dt.timedelta(days=selection.look_back_days)  # type: ignore[operator]
    hi = all_dates.max()
    active = (
        area.offences.filter((pl.col("offence_date") >= lo) & (pl.col("offence_date") < hi))
        .select("person_id")
        .unique()
    )
    candidates = candidates.join(active, on="person_id", how="semi").sort("person_id")
    rows = candidates.join(quarters, how="cross").sort("person_id", "q")
    rng = np.random.default_rng(np.random.SeedSequence([selection.seed, 0xC0]))
    u = rng.random((2, rows.height))
    w = rows["w"].to_numpy()
    pick = rows["offset"].to_numpy() + np.minimum((u[0] * w).astype(np.int64), w - 1)
    date_values = all_dates.to_numpy()[pick] if rows.height else np.array([], "datetime64[D]")
    rows = rows.with_columns(
        pl.Series("index_date", date_values).cast(pl.Date),
        pl.Series("_race", -np.log(1.0 - u[1]) / np.maximum(w, 1)),
    )
    first_reg = area.registrations.group_by("person_id").agg(
        pl.col("start_date").min().alias("_first_reg")
    )
    # Not registered on or before the index date (or, optionally, before the end of the
    # follow-up: then no comparison person's outcome window includes time on IOM).
    clear_until = pl.col("index_date")
    if selection.pool_unregistered_through_follow_up:
        clear_until = clear_until + dt.timedelta(days=selection.rules.follow_up_days)
    rows = rows.join(first_reg, on="person_id", how="left").filter(
        pl.col("_first_reg").is_null() | (pl.col("_first_reg") > clear_until)
    )
    rows = _eligibility(rows.select("person_id", "index_date", "_race"), area, selection)
    chosen = (
        rows.filter(pl.col("eligible"))
        .sort("person_id", "_race")
        .unique("person_id", keep="first", maintain_order=True)
        .drop("_race")
    )
    return chosen


# --- covariates ----------------------------------------------------------------------------------


def _covariates(rows: pl.DataFrame, area: AreaData, wanted: Sequence[str]) -> pl.DataFrame:
    """Covariates on each row's index date (rows: _row, person_id, index_date, _dob, _sex)."""
    year, three = dt.timedelta(days=365), dt.timedelta(days=3 * 365)
    keys = rows.select("_row", "person_id", "index_date")
    off = area.offences.select(
        "person_id",
        "offence_date",
        "disposal_date",
        pl.col("category")
        .cast(pl.String)
        .replace_strict(CATEGORY_GROUPS, default="other", return_dtype=pl.String)
        .alias("_group"),
        pl.col("harm_days").cast(pl.Float64).fill_null(0.0),
        pl.col("is_neighbourhood_crime").fill_null(False),
        pl.col("offence_weight").cast(pl.Float64),
        pl.col("code_priority").cast(pl.Int64).fill_null(0),
    ).filter(pl.col("person_id").is_in(keys["person_id"].unique().implode()))
    before = (
        keys.lazy()
        .join(off.lazy(), on="person_id", how="inner")
        .filter(pl.col("offence_date") < pl.col("index_date"))
    )
    last_year = pl.col("offence_date") >= pl.col("index_date") - year
    last_three = pl.col("offence_date") >= pl.col("index_date") - three
    history = before.group_by("_row").agg(
        pl.len().alias("offences_total"),
        last_year.sum().alias("offences_last_year"),
        last_three.sum().alias("offences_last_3_years"),
        (pl.col("offence_date") >= pl.col("index_date") - dt.timedelta(days=90))
        .sum()
        .alias("offences_last_90_days"),
        *[(pl.col("_group") == g).sum().alias(f"history_{g}") for g in HISTORY_GROUPS],
        pl.col("offence_date").max().alias("_last_offence"),
        pl.col("harm_days").filter(last_year).sum().alias("harm_last_year"),
        (pl.col("is_neighbourhood_crime") & last_three).sum().alias("_nbh"),
    )
    # Sanctions known on the index date: conviction or caution dates before it (OGRS3).
    sanctions = before.filter(
        pl.col("disposal_date").is_not_null() & (pl.col("disposal_date") < pl.col("index_date"))
    )
    # The current (latest) sanction's offence is its most serious one, as in the scoring engine.
    latest = sanctions.group_by("_row").agg(
        pl.col("disposal_date").n_unique().alias("_sanctions"),
        pl.col("disposal_date").min().alias("_first_sanction"),
        pl.col("disposal_date").max().alias("_last_sanction"),
        pl.col("offence_weight")
        .sort_by(["disposal_date", "code_priority"])
        .last()
        .alias("_offence_weight"),
    )
    frame = (
        rows.lazy()
        .join(history, on="_row", how="left")
        .join(latest, on="_row", how="left")
        .collect()
    )
    counts = [
        "offences_total",
        "offences_last_year",
        "offences_last_3_years",
        "offences_last_90_days",
        *[f"history_{g}" for g in HISTORY_GROUPS],
        "_nbh",
    ]
    frame = frame.with_columns(
        [pl.col(c).fill_null(0).cast(pl.Int32) for c in counts]
        + [pl.col("harm_last_year").fill_null(0.0)]
    )
    dob = pl.col("_dob").cast(pl.Int32)
    age = _years_between(dob, pl.col("index_date").cast(pl.Int32))
    _one, two = ogrs3.ogrs3_expr(
        sanctions=pl.col("_sanctions"),
        age_at_current_conviction=_years_between(dob, pl.col("_last_sanction").cast(pl.Int32)),
        age_at_first_sanction=_years_between(dob, pl.col("_first_sanction").cast(pl.Int32)),
        age_at_start=age,
        sex=pl.col("_sex"),
        offence_weight=pl.col("_offence_weight"),
    )
    frame = frame.with_columns(
        age.alias("age"),
        pl.col("_sex").alias("sex"),
        (
            (pl.col("index_date") - pl.col("_first_sanction")).dt.total_days().cast(pl.Float64)
            / 365.25
        ).alias("years_since_first_sanction"),
        (pl.col("index_date") - pl.col("_last_offence"))
        .dt.total_days()
        .cast(pl.Int32)
        .alias("days_since_last_offence"),
        (pl.col("index_date") - pl.col("_last_sanction"))
        .dt.total_days()
        .cast(pl.Int32)
        .alias("days_since_last_sanction"),
        two.alias("ogrs3_2yr"),
        pl.when(pl.col("offences_last_3_years") > 0)
        .then(pl.col("_nbh") / pl.col("offences_last_3_years"))
        .otherwise(0.0)
        .alias("neighbourhood_share"),
    )
    if "custody_history" in wanted:
        custody = (
            keys.join(area.custody.select("person_id", "received_date"), on="person_id")
            .filter(pl.col("received_date") < pl.col("index_date"))
            .group_by("_row")
            .agg(pl.len().cast(pl.Int32).alias("custody_history"))
        )
        frame = frame.join(custody, on="_row", how="left").with_columns(
            pl.col("custody_history").fill_null(0)
        )
    for name, records, column, days in (
        ("arrests_last_year", area.arrests, "arrest_date", 365),
        ("intelligence_last_6_months", area.intelligence, "recorded_date", 182),
    ):
        if name in wanted:
            counted = (
                keys.join(records.select("person_id", column), on="person_id")
                .filter(
                    (pl.col(column) < pl.col("index_date"))
                    & (pl.col(column) >= pl.col("index_date") - dt.timedelta(days=days))
                )
                .group_by("_row")
                .agg(pl.len().cast(pl.Int32).alias(name))
            )
            frame = frame.join(counted, on="_row", how="left").with_columns(
                pl.col(name).fill_null(0)
            )
    return frame.sort("_row").select("_row", *wanted)


# --- the frame -----------------------------------------------------------------------------------


def frame_from_area(
    area: AreaData,
    *,
    selection: TreatmentSelection,
    as_of: dt.date,
    covariates: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> tuple[pl.DataFrame, list[tuple[str, int, int]]]:
    """The evaluation table from already-loaded records (what `build_frame` does after loading).

    Columns: person_id, index_date, treated (0/1), registration_id and cohort (treated rows),
    index_quarter (e.g. "2023Q2", usable for exact matching), the outcomes (`OUTCOME_COLUMNS`),
    `registered_in_follow_up` (comparison rows registered on IOM during their follow-up), and the
    covariates. Attrition: (stage, treated, comparison) for `ATTRITION_STAGES`.
    """

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    wanted = list(dict.fromkeys(covariates if covariates is not None else DEFAULT_COVARIATES))
    unknown = [c for c in wanted if c not in AVAILABLE_COVARIATES]
    if unknown:
        raise ComparisonError(
            f"unknown covariate(s) {', '.join(unknown)}; choose from "
            + ", ".join(AVAILABLE_COVARIATES)
        )
    if not wanted:
        raise ComparisonError("choose at least one covariate")
    rules = selection.rules
    report("selecting the treated group", 0.05)
    chosen = _select_registrations(area.registrations, selection)
    if chosen.is_empty():
        raise ComparisonError(f"no registrations match the selection ({selection.describe()})")
    people_ids = area.people["person_id"].implode()
    stages: list[tuple[str, int, int]] = [
        (ATTRITION_STAGES[0], chosen.height, area.people.height - chosen.height)
    ]
    known = chosen.filter(pl.col("person_id").is_in(people_ids))
    with_data = area.people.filter(pl.col("date_of_birth").is_not_null())
    n_pool_data = with_data.height - with_data.join(known, on="person_id", how="semi").height
    stages.append((ATTRITION_STAGES[1], known.height, n_pool_data))

    treated = known.select(
        "person_id",
        pl.col("start_date").alias("index_date"),
        "registration_id",
        pl.col("cohort_key").alias("cohort"),
    ).filter(pl.col("index_date") + dt.timedelta(days=rules.window_days) <= as_of)
    if treated.is_empty():
        latest = as_of - dt.timedelta(days=rules.window_days)
        raise ComparisonError(
            f"none of the {known.height} selected registrations has a complete outcome window "
            f"on {as_of}: registrations must start on or before {latest}"
        )
    treated = _eligibility(treated, area, selection).filter(pl.col("eligible"))
    if treated.is_empty():
        raise ComparisonError(
            "no selected registration met the eligibility rules on its registration date "
            f"({selection.describe()})"
        )
    report("finding comparison index dates", 0.2)
    pool = _pool_index_dates(area, treated, selection)
    stages.append((ATTRITION_STAGES[2], treated.height, pool.height))
    if pool.is_empty():
        raise ComparisonError("no one in the area's data was eligible for the comparison group")

    rows = pl.concat(
        [
            treated.select(
                "person_id",
                "index_date",
                pl.lit(1, dtype=pl.Int8).alias("treated"),
                pl.col("registration_id").cast(pl.Int64),
                pl.col("cohort").cast(pl.String),
                "_dob",
                "_sex",
            ),
            pool.select(
                "person_id",
                "index_date",
                pl.lit(0, dtype=pl.Int8).alias("treated"),
                pl.lit(None, dtype=pl.Int64).alias("registration_id"),
                pl.lit(None, dtype=pl.String).alias("cohort"),
                "_dob",
                "_sex",
            ),
        ]
    ).with_row_index("_row")
    report("computing covariates", 0.45)
    covs = _covariates(rows, area, wanted)
    report("computing outcomes", 0.75)
    outcomes = proven_outcomes(
        area.offences.select(
            "person_id", "offence_date", "disposal_date", "disposal_type", "harm_days"
        ),
        rows.select("person_id", "index_date"),
        as_of=as_of,
        rules=rules,
    )
    later = (
        rows.select("_row", "person_id", "index_date", "treated")
        .join(area.registrations.select("person_id", "start_date"), on="person_id")
        .filter(
            (pl.col("treated") == 0)
            & (pl.col("start_date") > pl.col("index_date"))
            & (
                pl.col("start_date")
                <= pl.col("index_date") + dt.timedelta(days=rules.follow_up_days)
            )
        )
        .select("_row")
        .unique()
    )
    frame = pl.concat(
        [
            rows.select(
                "person_id",
                "index_date",
                "treated",
                "registration_id",
                "cohort",
                pl.format(
                    "{}Q{}",
                    pl.col("index_date").dt.year(),
                    (pl.col("index_date").dt.month() - 1) // 3 + 1,
                ).alias("index_quarter"),
                pl.col("_row")
                .is_in(later["_row"].implode())
                .cast(pl.Int8)
                .alias("registered_in_follow_up"),
            ),
            outcomes.select(OUTCOME_COLUMNS),
            covs.drop("_row"),
        ],
        how="horizontal",
    )
    report("table ready", 1.0)
    return frame, stages


def contamination_note(frame: pl.DataFrame, result: Any) -> str:
    """A plain sentence on the matched comparison people who were registered on IOM during their
    own follow-up (empty when there are none). `result` is `evaluate_frame`'s result for `frame`
    (its matching's control rows index the frame)."""
    controls = np.unique(np.asarray(result.matching.pair_control, dtype=np.int64))
    if "registered_in_follow_up" not in frame.columns or controls.size == 0:
        return ""
    flags = frame["registered_in_follow_up"].to_numpy()[controls]
    n = int(np.nansum(flags))
    if n == 0:
        return ""
    return (
        f"{n} of the {controls.size} matched comparison people ({100 * n / controls.size:.0f}%) "
        "were themselves registered on IOM during their one-year follow-up, so part of their "
        "outcome reflects time on IOM. This makes the groups look more alike: if IOM reduces "
        "reoffending, the difference shown is smaller than the true one."
    )


def build_frame(
    *,
    selection: TreatmentSelection,
    as_of: dt.date,
    covariates: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> tuple[pl.DataFrame, list[tuple[str, int, int]]]:
    """Load the area's records from the database and build the evaluation table (see the module
    docstring and `frame_from_area`)."""
    if progress is not None:
        progress("loading the area's records", 0.0)
    area = load_area(as_of)
    return frame_from_area(
        area, selection=selection, as_of=as_of, covariates=covariates, progress=progress
    )


def evaluation_spec(
    covariates: Sequence[str] | None = None,
    *,
    label: str = "",
    matching: MatchingSpec | None = None,
    **options: Any,
) -> EvaluationSpec:
    """The `EvaluationSpec` for a `build_frame` table (all outcome columns named)."""
    return EvaluationSpec(
        treatment="treated",
        outcome="reoffended",
        covariates=tuple(covariates if covariates is not None else DEFAULT_COVARIATES),
        frequency="reoffences",
        time="days_to_reoffence",
        event="reoffence_event",
        harm="harm_days",
        matching=matching or MatchingSpec(),
        label=label,
        **options,
    )
