"""The scoring engine: input frames + a policy config + a date -> one scored row per person.

Pure polars in the hot path (no Django): `score()` takes `ScoringInputs` and plain dicts. The
loaders at the bottom build `ScoringInputs` from the database (PostgreSQL COPY or SQLite cursor)
or from import-format files (CSV or Parquet).

Every component yields a raw value and points (rounded to 4 decimal places so that any faithful
implementation gives the same totals); the total is their sum; rank 1 is the highest total, ties
broken by person id, so the ranking is deterministic. See docs/scoring.md for the formulas.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from openiom.scoring import ogrs3
from openiom.scoring.fingerprint import fingerprint_frames

EPOCH = dt.date(1970, 1, 1)
FLAG_NAMES = ("already_registered", "long_custody", "deceased", "out_of_area")
POINTS_DP = 4
# Code priority is packed below the disposal day so one max() finds the latest sanction's most
# serious offence; 2**14 > the number of Home Office codes (about 3,000).
_PRIORITY_BITS = 16384

PEOPLE_COLUMNS = ["person_id", "date_of_birth", "sex", "hub", "current_status", "date_of_death"]
OFFENCE_COLUMNS = ["person_id", "offence_code", "offence_date", "disposal_date"]
ARREST_COLUMNS = ["person_id", "arrest_date"]
INTELLIGENCE_COLUMNS = ["person_id", "recorded_date", "source_grade", "intelligence_grade"]
CUSTODY_COLUMNS = [
    "person_id",
    "received_date",
    "sentence_length_days",
    "expected_release_date",
    "release_date",
]
CODE_COLUMNS = ["offence_code", "group_code", "category", "ogrs3_weight", "is_neighbourhood_crime"]


class ScoringInputError(ValueError):
    """Input frames that cannot be scored (missing columns, wrong types), with specifics."""


@dataclass
class ScoringInputs:
    """The frames the engine reads. Dates are polars Date; person_id any sortable type."""

    people: pl.DataFrame
    offences: pl.DataFrame
    arrests: pl.DataFrame
    intelligence: pl.DataFrame
    custody: pl.DataFrame
    codes: pl.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "people": self.people.height,
            "offences": self.offences.height,
            "arrests": self.arrests.height,
            "intelligence": self.intelligence.height,
            "custody": self.custody.height,
        }

    def check(self) -> None:
        wanted = {
            "people": PEOPLE_COLUMNS,
            "offences": OFFENCE_COLUMNS,
            "arrests": ARREST_COLUMNS,
            "intelligence": INTELLIGENCE_COLUMNS,
            "custody": CUSTODY_COLUMNS,
            "codes": CODE_COLUMNS,
        }
        problems = []
        for name, columns in wanted.items():
            frame: pl.DataFrame = getattr(self, name)
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                problems.append(f"{name}: missing column(s) {', '.join(missing)}")
        if problems:
            raise ScoringInputError("; ".join(problems))


# --- helpers -------------------------------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (clamped to the month's end)."""
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _days(day: dt.date) -> int:
    return (day - EPOCH).days


def _int_days(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Date).cast(pl.Int32)


def _years(start_days: pl.Expr, end: dt.date) -> pl.Expr:
    """Whole years from a date (as epoch days) to `end`."""
    start = start_days.cast(pl.Date)
    birthday_not_yet = (start.dt.month().cast(pl.Int32) * 100 + start.dt.day().cast(pl.Int32)) > (
        end.month * 100 + end.day
    )
    return end.year - start.dt.year().cast(pl.Int32) - birthday_not_yet.cast(pl.Int32)


def _years_between(start_days: pl.Expr, end_days: pl.Expr) -> pl.Expr:
    start = start_days.cast(pl.Date)
    end = end_days.cast(pl.Date)
    md_start = start.dt.month().cast(pl.Int32) * 100 + start.dt.day().cast(pl.Int32)
    md_end = end.dt.month().cast(pl.Int32) * 100 + end.dt.day().cast(pl.Int32)
    return (
        end.dt.year().cast(pl.Int32)
        - start.dt.year().cast(pl.Int32)
        - (md_start > md_end).cast(pl.Int32)
    )


def _lookup(row_table: Mapping[str, Any], key: str, value_field: str) -> float | None:
    row = row_table.get(key)
    return float(row[value_field]) if isinstance(row, Mapping) else None


def _table_value(table: Mapping[str, Any], group: str, category: str, value_field: str) -> float:
    """Group override, else category, else the table's default."""
    for candidate in (
        _lookup(table.get("groups", {}), group, value_field),
        _lookup(table.get("categories", {}), category, value_field),
        _lookup({"d": table.get("default", {})}, "d", value_field),
    ):
        if candidate is not None:
            return candidate
    return 0.0


def code_table(
    codes: pl.DataFrame, harm: Mapping[str, Any], costs: Mapping[str, Any]
) -> pl.DataFrame:
    """Per offence code: category, OGRS3 offence weight, neighbourhood flag, harm days, unit cost
    and a seriousness priority (higher = more serious: harm, then OGRS3 weight, then code)."""
    rows = []
    for r in codes.select(CODE_COLUMNS).iter_rows(named=True):
        category = r["category"] or "Other offence"
        group = r["group_code"] or ""
        rows.append(
            {
                "offence_code": r["offence_code"],
                "category": category,
                "offence_weight": ogrs3.offence_weight(
                    ogrs3_weight=r["ogrs3_weight"], category=category
                ),
                "is_neighbourhood_crime": bool(r["is_neighbourhood_crime"]),
                "harm_days": _table_value(harm, group, category, "days"),
                "unit_cost": _table_value(costs, group, category, "cost"),
            }
        )
    # An offence code no catalogue knows still counts as an offence: category "Other offence".
    rows.append(
        {
            "offence_code": None,
            "category": "Other offence",
            "offence_weight": ogrs3.OTHER_OFFENCE_WEIGHT,
            "is_neighbourhood_crime": False,
            "harm_days": _table_value(harm, "", "Other offence", "days"),
            "unit_cost": _table_value(costs, "", "Other offence", "cost"),
        }
    )
    if len(rows) >= _PRIORITY_BITS:
        raise ScoringInputError(
            f"too many offence codes ({len(rows)}); at most {_PRIORITY_BITS - 1}"
        )
    ordered = sorted(
        rows, key=lambda r: (-r["harm_days"], -r["offence_weight"], r["offence_code"] or "~")
    )
    n = len(ordered)
    for i, r in enumerate(ordered):
        r["code_priority"] = n - i
    return pl.DataFrame(
        ordered,
        schema={
            "offence_code": pl.String,
            "category": pl.String,
            "offence_weight": pl.Float64,
            "is_neighbourhood_crime": pl.Boolean,
            "harm_days": pl.Float64,
            "unit_cost": pl.Float64,
            "code_priority": pl.Int64,
        },
    )


_MISSING = np.iinfo(np.int64).min
_DAY_BASE = -(1 << 19)  # disposal days are offset by this to stay positive in 20 bits


def _np_days(series: pl.Series) -> np.ndarray:
    """Dates as int64 epoch days; missing dates become a far-future day (never 'on or before')."""
    return series.cast(pl.Date).cast(pl.Int32).fill_null(1 << 18).to_numpy().astype(np.int64)


def _person_index(people_ids: pl.Series, ids: pl.Series) -> np.ndarray:
    """Row index in people of each id (-1 if unknown): an array lookup for integer ids."""
    if people_ids.dtype.is_integer() and ids.dtype.is_integer() and people_ids.len():
        lo = min(int(people_ids.min()), int(ids.min()) if ids.len() else 0)  # type: ignore[arg-type]
        hi = max(int(people_ids.max()), int(ids.max()) if ids.len() else 0)  # type: ignore[arg-type]
        if lo >= 0 and hi < 50 * people_ids.len() + 1_000_000:
            lookup = np.full(hi + 1, -1, dtype=np.int64)
            lookup[people_ids.to_numpy()] = np.arange(people_ids.len())
            return lookup[ids.fill_null(hi).to_numpy()] if ids.len() else np.empty(0, np.int64)
    return (
        ids.cast(pl.String)
        .replace_strict(
            people_ids.cast(pl.String),
            pl.Series(np.arange(people_ids.len())),
            default=-1,
            return_dtype=pl.Int64,
        )
        .to_numpy()
    )


def _code_index(offence_code: pl.Series, code_keys: pl.Series, unknown_ci: int) -> np.ndarray:
    """Row index in the code table of each offence's code (unknown or null: `unknown_ci`).

    Works on the distinct codes (a few thousand) and gathers by category number: an Enum column
    (as the loaders give) costs one array look-up; strings are cast to an Enum of the known codes
    first, which is several times faster than a string-keyed replace over ten million rows."""
    known = code_keys.drop_nulls()
    if isinstance(offence_code.dtype, pl.Enum):
        enum = offence_code
    else:
        enum = offence_code.cast(pl.String).cast(pl.Enum(known.to_list()), strict=False)
    assert isinstance(enum.dtype, pl.Enum)
    per_category = (
        pl.Series(enum.dtype.categories, dtype=pl.String)
        .replace_strict(
            known,
            pl.Series(np.flatnonzero(code_keys.is_not_null().to_numpy())),
            default=unknown_ci,
            return_dtype=pl.Int64,
        )
        .to_numpy()
    )
    lookup = np.append(per_category, unknown_ci)  # the last slot: null (or not a known code)
    physical = enum.to_physical().fill_null(len(per_category)).to_numpy().astype(np.int64)
    return lookup[physical]


def _group_max(idx: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, _MISSING, dtype=np.int64)
    np.maximum.at(out, idx, values.astype(np.int64))
    return out


def _group_min(idx: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, idx, values.astype(np.int64))
    out[out == np.iinfo(np.int64).max] = _MISSING
    return out


def _fmt(points: pl.Expr) -> pl.Expr:
    """Points for display: one decimal place, no trailing .0."""
    return points.round(1).cast(pl.String).str.strip_suffix(".0")


def _plural(n: pl.Expr, singular: str, plural: str) -> pl.Expr:
    return pl.concat_str(
        [
            n.cast(pl.String),
            pl.when(n == 1).then(pl.lit(" " + singular)).otherwise(pl.lit(" " + plural)),
        ]
    )


@dataclass(frozen=True)
class Component:
    name: str
    points: pl.Expr
    text: pl.Expr


# --- the engine ----------------------------------------------------------------------------------


def score(
    inputs: ScoringInputs,
    config: Mapping[str, Any],
    as_of: dt.date,
    *,
    harm: Mapping[str, Any],
    costs: Mapping[str, Any],
    registered: Iterable[Any] = (),
    breakdown: bool | int = True,
) -> pl.DataFrame:
    """Score everyone in `inputs.people` on `as_of`; one row per person, sorted by rank.

    `breakdown`: True writes the plain-English breakdown for everyone; an integer N only for the
    first N ranks (the rows a run stores; building text is the costliest step at scale); False
    for no one.
    """
    inputs.check()
    comps = config["components"]
    today = _days(as_of)
    codes = code_table(inputs.codes, harm, costs)

    def cutoff(months: int) -> int:
        return _days(months_before(as_of, int(months)))

    freq_windows = [w for w in comps["frequency"]["windows"]]
    harm_c, cost_c = comps["harm"], comps["cost"]
    nbh_c, lp_c, intel_c = comps["neighbourhood"], comps["local_priority"], comps["intelligence"]
    elig = config.get("eligibility", {})
    elig_months = int(elig.get("offence_window_months", 36))
    lp_categories = list(lp_c.get("categories", []))

    # Per-person aggregates with numpy on dense person indices (np.bincount / ufunc.at are an
    # order of magnitude faster than a hash group_by over ten million rows).
    people_ids = inputs.people["person_id"]
    if people_ids.n_unique() != people_ids.len():
        raise ScoringInputError("people: person_id is not unique")
    n = people_ids.len()
    code_keys = codes["offence_code"]
    unknown_ci = int(code_keys.is_null().arg_max() or 0)
    code_arr = {
        c: codes[c].to_numpy()
        for c in ("harm_days", "unit_cost", "code_priority", "is_neighbourhood_crime")
    }
    lp_mask_codes = codes["category"].is_in(lp_categories).to_numpy()

    agg: dict[str, np.ndarray] = {}
    off = inputs.offences
    pi = _person_index(people_ids, off["person_id"])
    ci = _code_index(off["offence_code"], code_keys, unknown_ci)
    od = _np_days(off["offence_date"])
    dd = _np_days(off["disposal_date"])
    keep = (pi >= 0) & (od <= today)
    pi, ci, od, dd = pi[keep], ci[keep], od[keep], dd[keep]

    def count(mask: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.bincount(idx[mask], minlength=n)

    def total(values: np.ndarray, mask: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.bincount(idx[mask], weights=values[mask], minlength=n)

    agg["last_offence"] = _group_max(pi, od, n)
    nbh = code_arr["is_neighbourhood_crime"][ci].astype(bool)
    agg["harm_sum"] = total(code_arr["harm_days"][ci], od > cutoff(harm_c["window_months"]), pi)
    agg["cost_sum"] = total(code_arr["unit_cost"][ci], od > cutoff(cost_c["window_months"]), pi)
    # Offence counts in look-back windows, all from one bincount: each offence falls in a bucket
    # between the distinct cut-offs (and is neighbourhood crime or not, local priority or not);
    # a count "since cut-off k" is the sum of the buckets above k.
    months = {
        "nbh": int(nbh_c["window_months"]),
        "lp": int(lp_c["window_months"]),
        "elig": elig_months,
        **{f"off_{int(w['months'])}m": int(w["months"]) for w in freq_windows},
    }
    cuts = np.array(sorted({cutoff(m) for m in months.values()}), dtype=np.int64)
    nb = cuts.size + 1
    cls = nbh.astype(np.int64) * 2 + lp_mask_codes[ci]
    cells = np.bincount(
        (pi * nb + np.searchsorted(cuts, od, side="left")) * 4 + cls, minlength=n * nb * 4
    ).reshape(n, nb, 4)
    since = cells[:, ::-1, :].cumsum(axis=1)[:, ::-1, :]  # since[:, b] = buckets b and above

    def window(m: int, since: np.ndarray = since) -> np.ndarray:
        """Per person and class: offences after the cut-off `m` months back."""
        return since[:, int(np.searchsorted(cuts, cutoff(m))) + 1, :]

    for w in freq_windows:
        agg[f"off_{int(w['months'])}m"] = window(int(w["months"])).sum(axis=1)
    agg["nbh_total"] = window(months["nbh"]).sum(axis=1)
    agg["nbh_n"] = window(months["nbh"])[:, 2:].sum(axis=1)
    agg["lp_n"] = window(months["lp"])[:, 1::2].sum(axis=1)
    agg["elig_n"] = window(months["elig"]).sum(axis=1)
    agg["elig_nbh"] = window(months["elig"])[:, 2:].sum(axis=1)
    del cells, since
    sanctioned = dd <= today
    s_pi, s_dd = pi[sanctioned], dd[sanctioned]
    # Sanction occasions: distinct (person, disposal date) pairs.
    occasions = np.sort(s_pi.astype(np.int64) * (1 << 20) + (s_dd - _DAY_BASE))
    new_occasion = np.empty(occasions.shape, dtype=bool)
    new_occasion[:1] = True
    np.not_equal(occasions[1:], occasions[:-1], out=new_occasion[1:])
    agg["sanctions"] = np.bincount(occasions[new_occasion] >> 20, minlength=n)
    agg["first_sanction"] = _group_min(s_pi, s_dd, n)
    key = s_dd.astype(np.int64) * _PRIORITY_BITS + code_arr["code_priority"][ci[sanctioned]]
    agg["current_key"] = _group_max(s_pi, key, n)

    arr = inputs.arrests
    api = _person_index(people_ids, arr["person_id"])
    ad = _np_days(arr["arrest_date"])
    keep = (api >= 0) & (ad <= today)
    api, ad = api[keep], ad[keep]
    agg["last_arrest"] = _group_max(api, ad, n)
    for w in freq_windows:
        agg[f"arr_{int(w['months'])}m"] = count(ad > cutoff(w["months"]), api)

    sw = {str(k): float(v) for k, v in intel_c["source_weights"].items()}
    iw = {str(k): float(v) for k, v in intel_c["intelligence_weights"].items()}
    it = inputs.intelligence
    ipi = _person_index(people_ids, it["person_id"])
    rd = _np_days(it["recorded_date"])
    weight = (
        it["source_grade"].cast(pl.String).replace_strict(sw, default=0.0, return_dtype=pl.Float64)
        * it["intelligence_grade"]
        .cast(pl.String)
        .replace_strict(iw, default=0.0, return_dtype=pl.Float64)
    ).to_numpy()
    in_intel = (ipi >= 0) & (rd <= today) & (rd > cutoff(intel_c["window_months"]))
    agg["intel_n"] = count(in_intel, ipi)
    agg["intel_w"] = total(weight, in_intel, ipi)

    long_days = int(config.get("flags", {}).get("long_custody_days", 365))
    cu = inputs.custody.select(
        pl.col("person_id"),
        _int_days("received_date").alias("rc"),
        _int_days("release_date").alias("rl"),
        pl.coalesce(
            _int_days("expected_release_date"),
            _int_days("received_date") + pl.col("sentence_length_days").cast(pl.Int32),
        ).alias("er"),
    ).filter(
        (pl.col("rc") <= today)
        & (pl.col("rl").is_null() | (pl.col("rl") > today))
        & pl.col("er").is_not_null()
    )
    cpi = _person_index(people_ids, cu["person_id"])
    left = (cu["er"].to_numpy() - today).astype(np.int64)
    agg["custody_days_left"] = _group_max(cpi[cpi >= 0], left[cpi >= 0], n)

    nullable = {"last_offence", "last_arrest", "first_sanction", "current_key", "custody_days_left"}
    agg_frame = pl.DataFrame(
        {
            k: pl.Series(k, v).set(pl.Series(v == _MISSING), None) if k in nullable else v
            for k, v in agg.items()
        }
    )
    people = inputs.people.select(
        pl.col("person_id"),
        _int_days("date_of_birth").alias("dob"),
        pl.col("sex").cast(pl.String).fill_null("U"),
        pl.col("hub").cast(pl.String),
        pl.col("current_status").cast(pl.String),
        _int_days("date_of_death").alias("dod"),
    )
    frame = pl.concat([people, agg_frame], how="horizontal").lazy()

    # OGRS3 at the start of follow-up (as_of): latest sanction is the current conviction.
    priority_weight = dict(
        zip(codes["code_priority"].to_list(), codes["offence_weight"].to_list(), strict=True)
    )
    frame = frame.with_columns(
        (pl.col("current_key") // _PRIORITY_BITS).alias("last_sanction"),
        (pl.col("current_key") % _PRIORITY_BITS)
        .replace_strict(priority_weight, default=None, return_dtype=pl.Float64)
        .alias("offence_weight"),
        _years(pl.col("dob"), as_of).alias("age"),
    ).with_columns(
        _years_between(pl.col("dob"), pl.col("last_sanction")).alias("age_at_current_conviction"),
        _years_between(pl.col("dob"), pl.col("first_sanction")).alias("age_at_first_sanction"),
    )
    one, two = ogrs3.ogrs3_expr(
        sanctions=pl.col("sanctions"),
        age_at_current_conviction=pl.col("age_at_current_conviction"),
        age_at_first_sanction=pl.col("age_at_first_sanction"),
        age_at_start=pl.col("age"),
        sex=pl.col("sex"),
        offence_weight=pl.col("offence_weight"),
    )
    frame = frame.with_columns(one.alias("ogrs3_1yr"), two.alias("ogrs3_2yr")).with_columns(
        ogrs3.band_expr(pl.col("ogrs3_2yr")).alias("ogrs3_band")
    )

    # Components: (points, text). Points are rounded so implementations agree exactly.
    components = _components(config, as_of, today, freq_windows)
    frame = frame.with_columns(
        [c.points.round(POINTS_DP).alias(f"pts_{c.name}") for c in components]
    )
    total_expr = pl.sum_horizontal([pl.col(f"pts_{c.name}") for c in components]).round(POINTS_DP)
    frame = frame.with_columns(total_expr.alias("total"))

    # Flags.
    hubs = list(config.get("flags", {}).get("area_hubs", []) or [])
    registered_list = list(registered)
    out_of_area = pl.col("hub").is_null() | (pl.col("hub") == "")
    if hubs:
        out_of_area = out_of_area | ~pl.col("hub").is_in(hubs)
    reg_expr = pl.col("person_id").is_in(registered_list) if registered_list else pl.lit(False)
    frame = frame.with_columns(
        reg_expr.alias("flag_already_registered"),
        (pl.col("custody_days_left").fill_null(-1) >= long_days).alias("flag_long_custody"),
        (
            (pl.col("dod").is_not_null() & (pl.col("dod") <= today))
            | (pl.col("current_status") == "deceased")
        )
        .fill_null(False)
        .alias("flag_deceased"),
        out_of_area.fill_null(True).alias("flag_out_of_area"),
    )
    frame = frame.with_columns(
        pl.concat_str(
            [pl.when(pl.col(f"flag_{f}")).then(pl.lit(f)) for f in FLAG_NAMES],
            separator=",",
            ignore_nulls=True,
        ).alias("flags")
    )

    # Eligibility per the cohort rules.
    ok = (
        (pl.col("age").fill_null(-1) >= int(elig.get("min_age", 0)))
        & (pl.col("elig_n") >= int(elig.get("min_offences", 0)))
        & (pl.col("total") >= float(elig.get("min_score", 0.0)))
    )
    if elig.get("require_neighbourhood_crime"):
        ok = ok & (pl.col("elig_nbh") > 0)
    for f in elig.get("exclude_flags", []):
        ok = ok & ~pl.col(f"flag_{f}")
    frame = frame.with_columns(ok.alias("eligible"))

    # Sort eagerly after a rechunk: the streaming engine hands back many small chunks per
    # column, and sorting (a gather of every column) over them was 3-8x slower at 1M people.
    result = (
        frame.collect()
        .rechunk()
        .sort(["total", "person_id"], descending=[True, False])
        .with_row_index("rank", offset=1)
    )
    eligible_rank = result["eligible"].cast(pl.Int64).cum_sum()
    result = result.with_columns(
        pl.when(pl.col("eligible")).then(eligible_rank).otherwise(None).alias("eligible_rank"),
        pl.col("rank").cast(pl.Int64),
    )
    if breakdown is not False:
        rows = result.height if breakdown is True else min(int(breakdown), result.height)
        text = result.head(rows).select(_breakdown(components).alias("breakdown"))["breakdown"]
        padding = pl.Series("breakdown", [None] * (result.height - rows), dtype=pl.String)
        result = result.with_columns(pl.concat([text, padding]).alias("breakdown"))
    return result


def _components(
    config: Mapping[str, Any], as_of: dt.date, today: int, windows: list[Mapping[str, Any]]
) -> list[Component]:
    comps = config["components"]
    out: list[Component] = []

    rec = comps["recency"]
    last = pl.col("last_offence")
    label = pl.lit("offence")
    if rec.get("include_arrests", True):
        last_arrest = pl.col("last_arrest")
        newer = last_arrest.is_not_null() & (last.is_null() | (last_arrest > last))
        label = pl.when(newer).then(pl.lit("arrest")).otherwise(pl.lit("offence"))
        last = pl.max_horizontal(last, last_arrest)
    days_since = today - last
    pts = (
        float(rec["weight"]) * (0.5 ** (days_since.cast(pl.Float64) / float(rec["half_life_days"])))
    ).fill_null(0.0)
    out.append(
        Component(
            "recency",
            pts,
            pl.concat_str(
                [
                    pl.lit("last "),
                    label,
                    pl.lit(" "),
                    _plural(days_since, "day", "days"),
                    pl.lit(" ago"),
                ]
            ),
        )
    )

    for w in windows:
        m = int(w["months"])
        n_off, n_arr = pl.col(f"off_{m}m"), pl.col(f"arr_{m}m")
        raw = float(w["offence_points"]) * n_off + float(w["arrest_points"]) * n_arr
        pts = pl.min_horizontal(raw, pl.lit(float(w["cap"])))
        arrests_text = (
            pl.when((n_arr > 0) & (float(w["arrest_points"]) > 0))
            .then(pl.concat_str([pl.lit(" and "), _plural(n_arr, "arrest", "arrests")]))
            .otherwise(pl.lit(""))
        )
        out.append(
            Component(
                f"frequency_{m}m",
                pts,
                pl.concat_str(
                    [
                        _plural(n_off, "offence", "offences"),
                        arrests_text,
                        pl.lit(f" in the last {m} months"),
                    ]
                ),
            )
        )

    harm_c = comps["harm"]
    pts = pl.min_horizontal(
        pl.col("harm_sum") * float(harm_c["points_per_day"]), pl.lit(float(harm_c["cap"]))
    )
    out.append(
        Component(
            "harm",
            pts,
            pl.concat_str(
                [
                    pl.lit("crime harm "),
                    _fmt(pl.col("harm_sum")),
                    pl.lit(f" days in the last {int(harm_c['window_months'])} months"),
                ]
            ),
        )
    )

    risk = comps["risk"]
    out.append(
        Component(
            "risk",
            (pl.col("ogrs3_2yr") * float(risk["weight"])).fill_null(0.0),
            pl.concat_str(
                [
                    pl.lit("OGRS3 2-year "),
                    (pl.col("ogrs3_2yr") * 100).round(0).cast(pl.Int64).cast(pl.String),
                    pl.lit("%"),
                ]
            ),
        )
    )

    nbh = comps["neighbourhood"]
    share = (
        pl.when(pl.col("nbh_total") > 0).then(pl.col("nbh_n") / pl.col("nbh_total")).otherwise(0.0)
    )
    out.append(
        Component(
            "neighbourhood",
            share * float(nbh["weight"]),
            pl.concat_str(
                [
                    (share * 100).round(0).cast(pl.Int64).cast(pl.String),
                    pl.lit(
                        f"% of offences in the last {int(nbh['window_months'])} months were neighbourhood crime"
                    ),
                ]
            ),
        )
    )

    lp = comps["local_priority"]
    out.append(
        Component(
            "local_priority",
            pl.min_horizontal(
                pl.col("lp_n") * float(lp["points_per_offence"]), pl.lit(float(lp["cap"]))
            ),
            pl.concat_str(
                [
                    _plural(pl.col("lp_n"), "local priority offence", "local priority offences"),
                    pl.lit(f" in the last {int(lp['window_months'])} months"),
                ]
            ),
        )
    )

    intel = comps["intelligence"]
    out.append(
        Component(
            "intelligence",
            pl.min_horizontal(
                pl.col("intel_w") * float(intel["points_per_item"]), pl.lit(float(intel["cap"]))
            ),
            pl.concat_str(
                [
                    _plural(pl.col("intel_n"), "intelligence item", "intelligence items"),
                    pl.lit(f" in the last {int(intel['window_months'])} months (graded weight "),
                    pl.col("intel_w").round(2).cast(pl.String),
                    pl.lit(")"),
                ]
            ),
        )
    )

    cost = comps["cost"]
    out.append(
        Component(
            "cost",
            pl.min_horizontal(
                pl.col("cost_sum") / 1000.0 * float(cost["points_per_thousand"]),
                pl.lit(float(cost["cap"])),
            ),
            pl.concat_str(
                [
                    pl.lit("estimated cost of crime £"),
                    _fmt(pl.col("cost_sum") / 1000.0),
                    pl.lit(f"k in the last {int(cost['window_months'])} months"),
                ]
            ),
        )
    )
    return out


def _breakdown(components: list[Component]) -> pl.Expr:
    """Component texts with their points, largest contribution first (ties: component order).

    Each non-zero item is prefixed with a fixed-width sort key (points descending, then the
    component's position), the row's items are sorted as a list, and the keys are cut off again.
    """
    items = []
    for i, c in enumerate(components):
        pts = pl.col(f"pts_{c.name}")
        sort_key = pl.concat_str(
            [
                (pl.lit(10**9) - (pts * 10**POINTS_DP).round(0).cast(pl.Int64))
                .cast(pl.String)
                .str.zfill(10),
                pl.lit(f"{i:02d}"),
            ]
        )
        items.append(
            pl.when(pts > 0).then(
                pl.concat_str([sort_key, c.text, pl.lit(" (+"), _fmt(pts), pl.lit(")")])
            )
        )
    joined = (
        pl.concat_list(items)
        .list.drop_nulls()
        .list.sort()
        .list.eval(pl.element().str.slice(12))
        .list.join("; ")
    )
    return (
        pl.when(joined == "")
        .then(pl.lit("Nothing scored in the policy's windows (0)"))
        .otherwise(joined)
    )


def component_names(config: Mapping[str, Any]) -> list[str]:
    windows = config["components"]["frequency"]["windows"]
    return (
        ["recency"]
        + [f"frequency_{int(w['months'])}m" for w in windows]
        + ["harm", "risk", "neighbourhood", "local_priority", "intelligence", "cost"]
    )


RAW_COLUMNS = {
    "recency": ["last_offence", "last_arrest"],
    "harm": ["harm_sum"],
    "risk": ["ogrs3_1yr", "ogrs3_2yr", "sanctions"],
    "neighbourhood": ["nbh_n", "nbh_total"],
    "local_priority": ["lp_n"],
    "intelligence": ["intel_n", "intel_w"],
    "cost": ["cost_sum"],
}


def components_json(row: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """One scored row's components as {name: {raw..., points}} for storage."""
    out: dict[str, Any] = {}
    for name in component_names(config):
        if name.startswith("frequency_"):
            m = name.removeprefix("frequency_").removesuffix("m")
            raw_cols = [f"off_{m}m", f"arr_{m}m"]
        else:
            raw_cols = RAW_COLUMNS[name]
        entry: dict[str, Any] = {}
        for col in raw_cols:
            value = row.get(col)
            if col in {"last_offence", "last_arrest"} and value is not None:
                value = (EPOCH + dt.timedelta(days=int(value))).isoformat()
            entry[col] = value
        entry["points"] = row[f"pts_{name}"]
        out[name] = entry
    return out


# --- fingerprint ---------------------------------------------------------------------------------


TABLES = (
    ("people", PEOPLE_COLUMNS),
    ("offences", OFFENCE_COLUMNS),
    ("arrests", ARREST_COLUMNS),
    ("intelligence", INTELLIGENCE_COLUMNS),
    ("custody", CUSTODY_COLUMNS),
    ("codes", CODE_COLUMNS),
)


def fingerprint(inputs: ScoringInputs) -> str:
    """SHA-256 hex identifying the engine's input values, whatever the row order, dtype or source
    (see scoring/fingerprint.py: an order-independent multiset hash; about a second at 10M rows)."""
    inputs.check()
    return fingerprint_frames([(name, getattr(inputs, name), cols) for name, cols in TABLES])


# --- loaders -------------------------------------------------------------------------------------

_DATE_COLS = {
    "date_of_birth",
    "date_of_death",
    "offence_date",
    "disposal_date",
    "arrest_date",
    "recorded_date",
    "received_date",
    "expected_release_date",
    "release_date",
}


def _dates(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for c in frame.columns:
        if c in _DATE_COLS and frame.schema[c] != pl.Date:
            exprs.append(
                pl.col(c).cast(pl.String).replace("", None).str.to_date("%Y-%m-%d", strict=True)
            )
    return frame.with_columns(exprs) if exprs else frame


def reference_codes() -> pl.DataFrame:
    """The offence catalogue as shipped (no database needed)."""
    from openiom.reference.loaders import offence_code_rows

    rows = offence_code_rows()
    return pl.DataFrame(
        {
            "offence_code": [r["code"] for r in rows],
            "group_code": [r["group_code"] for r in rows],
            "category": [r["category"] for r in rows],
            "ogrs3_weight": [r["ogrs3_weight"] for r in rows],
            "is_neighbourhood_crime": [r["is_neighbourhood_crime"] for r in rows],
        },
        schema={
            "offence_code": pl.String,
            "group_code": pl.String,
            "category": pl.String,
            "ogrs3_weight": pl.Float64,
            "is_neighbourhood_crime": pl.Boolean,
        },
    )


def load_frames_from_files(
    directory: Path | str, *, codes: pl.DataFrame | None = None
) -> ScoringInputs:
    """Read import-format files (name.parquet preferred over name.csv) from `directory`."""
    directory = Path(directory)
    wanted = {
        "people": PEOPLE_COLUMNS,
        "offences": OFFENCE_COLUMNS,
        "arrests": ARREST_COLUMNS,
        "intelligence": INTELLIGENCE_COLUMNS,
        "custody": CUSTODY_COLUMNS,
    }
    frames: dict[str, pl.DataFrame] = {}
    for name, columns in wanted.items():
        parquet, csv = directory / f"{name}.parquet", directory / f"{name}.csv"
        if parquet.exists():
            frame = pl.read_parquet(parquet, columns=columns)
        elif csv.exists():
            head = pl.read_csv(csv, n_rows=0)
            missing = [c for c in columns if c not in head.columns]
            if missing:
                raise ScoringInputError(f"{csv}: missing column(s) {', '.join(missing)}")
            frame = pl.read_csv(
                csv,
                columns=columns,
                schema_overrides={c: pl.String for c in columns if c != "sentence_length_days"}
                | ({"sentence_length_days": pl.Int64} if "sentence_length_days" in columns else {}),
            )
        else:
            raise ScoringInputError(f"{directory}: no {name}.parquet or {name}.csv")
        try:
            frames[name] = _dates(frame)
        except pl.exceptions.InvalidOperationError as exc:
            raise ScoringInputError(f"{name}: a date is not in YYYY-MM-DD form ({exc})") from None
    codes = codes if codes is not None else reference_codes()
    offences = frames["offences"]
    return ScoringInputs(
        people=frames["people"],
        offences=offences.with_columns(code_enum(offences["offence_code"], codes["offence_code"])),
        arrests=frames["arrests"],
        intelligence=frames["intelligence"],
        custody=frames["custody"],
        codes=codes,
    )


def code_enum(offence_code: pl.Series, known: pl.Series) -> pl.Series:
    """Offence codes as an Enum over the known codes plus any unknown ones present (sorted), so
    scoring and fingerprinting work on category numbers instead of ten million strings."""
    text = offence_code.cast(pl.String)
    categories = list(dict.fromkeys(known.drop_nulls().cast(pl.String).to_list()))
    enum = text.cast(pl.Enum(categories), strict=False)
    if enum.null_count() != text.null_count():
        unknown = text.filter(enum.is_null() & text.is_not_null()).unique().sort().to_list()
        enum = text.cast(pl.Enum(categories + unknown))
    return enum.alias(offence_code.name)


def load_frames_from_db(as_of: dt.date, *, workers: int | None = None) -> ScoringInputs:
    """Read the scoring inputs straight from the database (see scoring/dbload.py): on PostgreSQL
    binary COPY over ADBC, two connections sharing one snapshot; inside a transaction or on
    SQLite, over Django's own connection. Offence codes come back as an Enum of the code table."""
    from openiom.scoring import dbload

    inputs: ScoringInputs = dbload.load(as_of, workers=workers)
    return inputs
