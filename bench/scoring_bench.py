"""Identification scoring at scale: 1,000,000 people, ~10,000,000 offences (targets: median
<= 10 s, peak RSS <= 3 GB), from Parquet files and from PostgreSQL.

Data: a fast vectorised generator in this script with the import-format column layout (the
simulator, at ~3 min per million people writing CSV, is too slow to regenerate per run; point
`--from-dir` at a `manage.py simulate --out DIR --no-db` directory to use its files instead).

Baseline, side by side: a straightforward pandas implementation of the same scoring (same
components, rounding and tie-break). The script checks that pandas, files and PostgreSQL give the
identical ranking and that files and PostgreSQL give the same input fingerprint.

Each leg (files, pandas, postgres) runs in its own process, so each peak RSS is that leg's alone.
The PostgreSQL data is loaded once (about 10 minutes at 1M/10M) and reused while its row counts
match the generated files; --reload-pg forces a reload. The load average (`uptime`) is recorded
around every leg: other jobs on the machine slow the timings down.

Usage:
  .venv/bin/python bench/scoring_bench.py [--people 1000000] [--offences-per-person 10]
      [--repeats 3] [--pg postgres://postgres@127.0.0.1:5432/bench_scoring] [--from-dir DIR]
      [--skip-pandas] [--full-breakdown] [--reload-pg]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiom.settings")
os.environ.setdefault("AXES_ENABLED", "false")

AS_OF = dt.date(2025, 1, 1)
EPOCH = dt.date(1970, 1, 1)


class PeakRSS:
    """Samples this process's resident set size every 10 ms; `peak` in bytes."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def __enter__(self) -> PeakRSS:
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], int, Any]:
    times, peak, result = [], 0, None
    for _ in range(repeats):
        result = None
        with PeakRSS() as rss:
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        peak = max(peak, rss.peak)
    return statistics.median(times), times, peak, result


# --- data ----------------------------------------------------------------------------------------


def _dates_where(values: Any, mask: Any) -> Any:
    import polars as pl

    d = pl.Series(values.astype("int32")).cast(pl.Date)
    return pl.select(pl.when(pl.Series(mask)).then(d).otherwise(None)).to_series()


def generate(out: Path, people: int, per_person: float, seed: int) -> dict[str, int]:
    import numpy as np
    import polars as pl

    from openiom.scoring.engine import reference_codes

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    today = (AS_OF - EPOCH).days
    pid = np.arange(1, people + 1, dtype=np.int64)
    dob = today - rng.integers(12 * 365, 70 * 365, people)
    sex = np.where(rng.random(people) < 0.85, "M", "F")
    hubs = np.array(["north", "south", "east", "west", "elsewhere"])[
        rng.choice(5, people, p=[0.3, 0.3, 0.2, 0.19, 0.01])
    ]
    dead = rng.random(people) < 0.005
    pl.DataFrame(
        {
            "source_system": "bench",
            "person_id": pid,
            "date_of_birth": pl.Series(dob.astype("int32")).cast(pl.Date),
            "sex": sex,
            "hub": hubs,
            "current_status": np.where(dead, "deceased", "community"),
            "date_of_death": _dates_where(np.full(people, today - 30), dead),
        }
    ).write_parquet(out / "people.parquet")

    # A few prolific offenders commit most offences: Pareto-distributed offending rates.
    rate = rng.pareto(1.6, people) + 0.05
    rate = rate / rate.sum()
    n_off = int(people * per_person)
    who = rng.choice(pid, n_off, p=rate)
    codes = reference_codes()["offence_code"].to_numpy()
    code_p = np.ones(len(codes))
    common = np.isin(codes, ["046/00", "028/01", "105/01", "008/01", "058/01", "034/01", "092/01"])
    code_p[common] = 300.0
    code_p /= code_p.sum()
    # Offences spread over 15 years, weighted towards the recent past.
    age = (rng.exponential(1500, n_off).clip(0, 15 * 365)).astype(np.int32)
    od = today - age
    dd = od + rng.integers(0, 120, n_off).astype(np.int32)
    disposal = rng.choice(["caution", "fine", "community_order", "custody"], n_off)
    pl.DataFrame(
        {
            "source_system": "bench",
            "offence_id": np.arange(n_off, dtype=np.int64),
            "person_id": who,
            "offence_code": rng.choice(codes, n_off, p=code_p),
            "offence_date": pl.Series(od).cast(pl.Date),
            "disposal_type": disposal,
            "disposal_date": pl.Series(dd).cast(pl.Date),
        }
    ).write_parquet(out / "offences.parquet")
    n_arr = n_off // 2
    pl.DataFrame(
        {
            "person_id": rng.choice(pid, n_arr, p=rate),
            "arrest_date": pl.Series(
                today - rng.exponential(1500, n_arr).clip(0, 5475).astype(np.int32)
            ).cast(pl.Date),
            "outcome": "charged",
        }
    ).write_parquet(out / "arrests.parquet")
    n_int = people // 2
    pl.DataFrame(
        {
            "person_id": rng.choice(pid, n_int, p=rate),
            "recorded_date": pl.Series(today - rng.integers(0, 1500, n_int).astype(np.int32)).cast(
                pl.Date
            ),
            "source_grade": rng.choice(["1", "2", "3"], n_int),
            "intelligence_grade": rng.choice(list("ABCDE"), n_int),
            "handling_code": "P",
        }
    ).write_parquet(out / "intelligence.parquet")
    n_cus = people // 20
    received = today - rng.integers(0, 3000, n_cus).astype(np.int32)
    length = rng.integers(30, 3000, n_cus).astype(np.int64)
    released = received + length // 2
    pl.DataFrame(
        {
            "person_id": rng.choice(pid, n_cus, p=rate),
            "received_date": pl.Series(received).cast(pl.Date),
            "sentence_length_days": length,
            "expected_release_date": pl.Series(released).cast(pl.Date),
            "release_date": _dates_where(released, released <= today),
        }
    ).write_parquet(out / "custody.parquet")
    return {
        "people": people,
        "offences": n_off,
        "arrests": n_arr,
        "intelligence": n_int,
        "custody": n_cus,
    }


# --- pandas baseline -----------------------------------------------------------------------------


def pandas_score(
    directory: Path, config: dict[str, Any], harm: dict[str, Any], costs: dict[str, Any]
) -> Any:
    """The same scoring, written plainly in pandas (no breakdown text)."""
    import numpy as np
    import pandas as pd

    from openiom.scoring import engine, ogrs3

    def read(name: str, cols: list[str]) -> pd.DataFrame:
        return pd.read_parquet(directory / f"{name}.parquet", columns=cols)

    def days(s: pd.Series) -> pd.Series:
        return (pd.to_datetime(s) - pd.Timestamp(EPOCH)).dt.days

    today = (AS_OF - EPOCH).days

    def cut(m: int) -> int:
        return (engine.months_before(AS_OF, int(m)) - EPOCH).days

    comps = config["components"]
    codes = engine.code_table(engine.reference_codes(), harm, costs).to_pandas()
    unknown = codes[codes["offence_code"].isna()].iloc[0]
    people = read("people", engine.PEOPLE_COLUMNS).set_index("person_id")
    off = read("offences", engine.OFFENCE_COLUMNS)
    off["od"], off["dd"] = days(off["offence_date"]), days(off["disposal_date"])
    off = off[off["od"] <= today].merge(codes, on="offence_code", how="left")
    for c in ("category", "harm_days", "unit_cost", "code_priority"):
        off[c] = off[c].fillna(unknown[c])
    off["is_neighbourhood_crime"] = off["is_neighbourhood_crime"].fillna(False).astype(bool)
    g = off.groupby("person_id")
    agg = pd.DataFrame({"last_offence": g["od"].max()})
    windows = comps["frequency"]["windows"]
    for w in windows:
        agg[f"off_{w['months']}m"] = (off["od"] > cut(w["months"])).groupby(off["person_id"]).sum()
    hc, cc, nc, lc = comps["harm"], comps["cost"], comps["neighbourhood"], comps["local_priority"]
    agg["harm_sum"] = (
        off["harm_days"]
        .where(off["od"] > cut(hc["window_months"]), 0.0)
        .groupby(off["person_id"])
        .sum()
    )
    agg["cost_sum"] = (
        off["unit_cost"]
        .where(off["od"] > cut(cc["window_months"]), 0.0)
        .groupby(off["person_id"])
        .sum()
    )
    in_n = off["od"] > cut(nc["window_months"])
    agg["nbh_total"] = in_n.groupby(off["person_id"]).sum()
    agg["nbh_n"] = (in_n & off["is_neighbourhood_crime"]).groupby(off["person_id"]).sum()
    agg["lp_n"] = (
        ((off["od"] > cut(lc["window_months"])) & off["category"].isin(lc["categories"]))
        .groupby(off["person_id"])
        .sum()
    )
    el = config["eligibility"]
    in_e = off["od"] > cut(el["offence_window_months"])
    agg["elig_n"] = in_e.groupby(off["person_id"]).sum()
    agg["elig_nbh"] = (in_e & off["is_neighbourhood_crime"]).groupby(off["person_id"]).sum()
    sanc = off[off["dd"].notna() & (off["dd"] <= today)]
    gs = sanc.groupby("person_id")
    agg["sanctions"] = gs["dd"].nunique()
    agg["first_sanction"] = gs["dd"].min()
    agg["current_key"] = (
        (sanc["dd"].astype("int64") * 16384 + sanc["code_priority"].astype("int64"))
        .groupby(sanc["person_id"])
        .max()
    )

    arr = read("arrests", engine.ARREST_COLUMNS)
    arr["ad"] = days(arr["arrest_date"])
    arr = arr[arr["ad"] <= today]
    ga = arr.groupby("person_id")
    aagg = pd.DataFrame({"last_arrest": ga["ad"].max()})
    for w in windows:
        aagg[f"arr_{w['months']}m"] = (arr["ad"] > cut(w["months"])).groupby(arr["person_id"]).sum()

    ic = comps["intelligence"]
    intel = read("intelligence", engine.INTELLIGENCE_COLUMNS)
    intel["rd"] = days(intel["recorded_date"])
    intel = intel[(intel["rd"] <= today) & (intel["rd"] > cut(ic["window_months"]))]
    intel["iw"] = intel["source_grade"].map(ic["source_weights"]).fillna(0.0) * intel[
        "intelligence_grade"
    ].map(ic["intelligence_weights"]).fillna(0.0)
    iagg = intel.groupby("person_id").agg(intel_n=("iw", "size"), intel_w=("iw", "sum"))

    cus = read("custody", engine.CUSTODY_COLUMNS)
    cus["rc"], cus["rl"] = days(cus["received_date"]), days(cus["release_date"])
    cus["er"] = days(cus["expected_release_date"]).fillna(cus["rc"] + cus["sentence_length_days"])
    cus = cus[(cus["rc"] <= today) & (cus["rl"].isna() | (cus["rl"] > today))]
    cagg = (cus["er"] - today).groupby(cus["person_id"]).max().rename("custody_days_left")

    f = people.join(agg).join(aagg).join(iagg).join(cagg)
    for c in [c for c in f.columns if c.startswith(("off_", "arr_"))] + [
        "nbh_total",
        "nbh_n",
        "lp_n",
        "elig_n",
        "elig_nbh",
        "sanctions",
        "intel_n",
    ]:
        f[c] = f[c].fillna(0)
    for c in ("harm_sum", "cost_sum", "intel_w"):
        f[c] = f[c].fillna(0.0)

    dob = pd.to_datetime(f["date_of_birth"])

    def years(start: pd.Series, end_days: pd.Series) -> pd.Series:
        end = pd.to_datetime(end_days, unit="D")
        return (
            end.dt.year
            - start.dt.year
            - ((start.dt.month * 100 + start.dt.day) > (end.dt.month * 100 + end.dt.day)).astype(
                int
            )
        )

    f["age"] = years(dob, pd.Series(today, index=f.index))
    last_s = f["current_key"] // 16384
    weight_by_priority = dict(zip(codes["code_priority"], codes["offence_weight"], strict=True))
    f["offence_weight"] = (f["current_key"] % 16384).map(weight_by_priority)
    cur_age = years(dob, last_s)
    first_age = years(dob, f["first_sanction"])
    sex = f["sex"].fillna("U")
    ag = pd.Series(np.nan, index=f.index)
    for lowest, m, fe in ogrs3.AGE_GENDER_BANDS:
        ag = ag.mask((f["age"] >= lowest) & (sex == "M"), m).mask(
            (f["age"] >= lowest) & (sex == "F"), fe
        )
    s = f["sanctions"].astype(float)
    valid = (f["sanctions"] >= 1) & (first_age >= 10) & (first_age <= cur_age)
    copas = np.log(s / (10 + cur_age - first_age))
    status = np.where(f["sanctions"] == 1, ogrs3.STATUS_FIRST, ogrs3.STATUS_REPEAT)
    x = (ogrs3.COPAS_COEFFICIENT * copas + status + ag + f["offence_weight"]).where(valid)
    p2 = 1.0 / (1.0 + np.exp(-(ogrs3.INTERCEPT_2YR + x)))

    pts: dict[str, pd.Series] = {}
    rc = comps["recency"]
    last = (
        pd.concat([f["last_offence"], f["last_arrest"]], axis=1).max(axis=1)
        if rc.get("include_arrests", True)
        else f["last_offence"]
    )
    pts["recency"] = (rc["weight"] * 0.5 ** ((today - last) / rc["half_life_days"])).fillna(0.0)
    for w in windows:
        m = w["months"]
        pts[f"frequency_{m}m"] = np.minimum(
            w["offence_points"] * f[f"off_{m}m"] + w["arrest_points"] * f[f"arr_{m}m"], w["cap"]
        )
    pts["harm"] = np.minimum(f["harm_sum"] * hc["points_per_day"], hc["cap"])
    pts["risk"] = (p2 * comps["risk"]["weight"]).fillna(0.0)
    share = (f["nbh_n"] / f["nbh_total"]).where(f["nbh_total"] > 0, 0.0)
    pts["neighbourhood"] = share * nc["weight"]
    pts["local_priority"] = np.minimum(f["lp_n"] * lc["points_per_offence"], lc["cap"])
    pts["intelligence"] = np.minimum(f["intel_w"] * ic["points_per_item"], ic["cap"])
    pts["cost"] = np.minimum(f["cost_sum"] / 1000.0 * cc["points_per_thousand"], cc["cap"])
    total = pd.Series(0.0, index=f.index)
    for name in engine.component_names(config):
        p = pts[name].astype(float).round(engine.POINTS_DP)
        f[f"pts_{name}"] = p
        total = total + p
    f["total"] = total.round(engine.POINTS_DP)
    out = f.reset_index().sort_values(
        ["total", "person_id"], ascending=[False, True], kind="mergesort"
    )
    out["rank"] = np.arange(1, len(out) + 1)
    return out[["person_id", "total", "rank"]]


# --- PostgreSQL ----------------------------------------------------------------------------------


def load_postgres(directory: Path) -> None:
    """Load the generated frames into the (migrated) database with COPY."""
    import io

    import polars as pl
    from django.db import connection
    from django.utils import timezone

    from openiom.partnership.models import Hub
    from openiom.partnership.setup import ensure_personas
    from openiom.reference.models import OffenceCode

    ensure_personas()
    partnership = Hub.objects.first().partnership  # type: ignore[union-attr]
    for code in ("north", "south", "east", "west", "elsewhere"):
        Hub.objects.get_or_create(
            code=code, defaults={"name": code.title(), "partnership": partnership}
        )
    hub_ids = dict(Hub.objects.values_list("code", "id"))
    code_ids = dict(OffenceCode.objects.values_list("code", "id"))
    now = timezone.now().isoformat()

    def copy(table: str, frame: pl.DataFrame) -> None:
        buf = io.BytesIO()
        frame.write_csv(buf, include_header=False, date_format="%Y-%m-%d", null_value="\\N")
        buf.seek(0)
        cols = ", ".join(frame.columns)
        with (
            connection.cursor() as cur,
            cur.cursor.copy(
                f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            ) as cp,
        ):
            while chunk := buf.read(1 << 24):
                cp.write(chunk)

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE people_custodyepisode, offending_intelligenceitem, offending_arrest, "
            "offending_offence, people_person RESTART IDENTITY CASCADE"
        )
    p = pl.read_parquet(directory / "people.parquet")
    copy(
        "people_person",
        p.select(
            pl.col("person_id").alias("id"),
            pl.lit("bench").alias("source_system"),
            pl.col("person_id").cast(pl.String).alias("source_id"),
            pl.lit(now).alias("created_at"),
            pl.lit(now).alias("updated_at"),
            pl.col("hub").replace_strict(hub_ids).alias("hub_id"),
            pl.lit("Bench").alias("first_names"),
            pl.lit("Person").alias("surname"),
            pl.lit("BENCH").alias("first_names_norm"),
            pl.lit("PERSON").alias("surname_norm"),
            "date_of_birth",
            "sex",
            pl.lit("IC9").alias("ethnicity_officer_defined"),
            pl.lit("NS").alias("ethnicity_self_defined"),
            pl.lit("").alias("pnc_id"),
            pl.lit("").alias("crn"),
            pl.lit("").alias("prison_number"),
            "current_status",
            "date_of_death",
            pl.lit("").alias("youth_justice_status"),
            pl.lit("").alias("youth_justice_team"),
        ),
    )
    o = pl.read_parquet(directory / "offences.parquet")
    copy(
        "offending_offence",
        o.select(
            pl.lit("").alias("source_system"),
            pl.lit("").alias("source_id"),
            pl.lit(now).alias("created_at"),
            pl.lit(now).alias("updated_at"),
            "person_id",
            pl.col("offence_code").replace_strict(code_ids).alias("offence_code_id"),
            "offence_date",
            pl.lit("").alias("description"),
            "disposal_type",
            "disposal_date",
            pl.lit("").alias("sentence"),
            pl.lit("").alias("court"),
        ),
    )
    a = pl.read_parquet(directory / "arrests.parquet")
    copy(
        "offending_arrest",
        a.select(
            pl.lit("").alias("source_system"),
            pl.lit("").alias("source_id"),
            pl.lit(now).alias("created_at"),
            pl.lit(now).alias("updated_at"),
            "person_id",
            "arrest_date",
            pl.lit("").alias("description"),
            "outcome",
        ),
    )
    i = pl.read_parquet(directory / "intelligence.parquet")
    copy(
        "offending_intelligenceitem",
        i.select(
            pl.lit("").alias("source_system"),
            pl.lit("").alias("source_id"),
            pl.lit(now).alias("created_at"),
            pl.lit(now).alias("updated_at"),
            "person_id",
            "recorded_date",
            "source_grade",
            "intelligence_grade",
            "handling_code",
            pl.lit("").alias("handling_conditions"),
            pl.lit("Bench item.").alias("text"),
        ),
    )
    c = pl.read_parquet(directory / "custody.parquet")
    copy(
        "people_custodyepisode",
        c.select(
            pl.lit("").alias("source_system"),
            pl.lit("").alias("source_id"),
            pl.lit(now).alias("created_at"),
            pl.lit(now).alias("updated_at"),
            "person_id",
            pl.lit("sentenced").alias("custody_type"),
            pl.lit("").alias("establishment"),
            "received_date",
            "sentence_length_days",
            "expected_release_date",
            "release_date",
            pl.lit("").alias("release_type"),
        ),
    )
    # Freeze and analyse: the first scan of freshly loaded rows would otherwise set hint bits
    # (writing every page) inside the first timed run, and the visibility map lets scans skip
    # per-row visibility checks, as on a settled production table.
    with connection.cursor() as cur:
        cur.execute(
            "VACUUM (FREEZE, ANALYZE) offending_offence, offending_arrest, people_person, "
            "offending_intelligenceitem, people_custodyepisode"
        )


def _create_database(url: str) -> None:
    """Create the benchmark's own database if it does not exist yet."""
    from urllib.parse import urlparse, urlunparse

    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# --- main ----------------------------------------------------------------------------------------


def _counts_match(directory: Path) -> bool:
    """Whether the database already holds exactly the generated rows (so the load can be skipped)."""
    import polars as pl
    from django.db import connection

    tables = {
        "people": "people_person",
        "offences": "offending_offence",
        "arrests": "offending_arrest",
        "intelligence": "offending_intelligenceitem",
        "custody": "people_custodyepisode",
    }
    with connection.cursor() as cur:
        for name, table in tables.items():
            want = pl.scan_parquet(directory / f"{name}.parquet").select(pl.len()).collect().item()
            cur.execute(f"SELECT count(*) FROM {table}")
            if cur.fetchone()[0] != want:  # type: ignore[index]
                return False
    return True


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_leg(leg: str, args: argparse.Namespace, data: Path, out: Path) -> dict[str, Any]:
    """One leg, in this process: timings, peak RSS, ranking (written to `out`), fingerprint."""
    import django

    django.setup()
    import polars as pl

    from openiom.scoring import defaults, engine

    config = defaults.policy_config("fixed")
    harm, costs = defaults.HARM_TABLE, defaults.COST_TABLE
    top = int(config["store"]["max_candidates"])
    result: dict[str, Any] = {"leg": leg, "load_before": _load()}

    def median_of(fn: Callable[[], Any], repeats: int) -> tuple[dict[str, Any], Any]:
        med, times, peak, value = timed(fn, repeats)
        return {"median": med, "runs": [round(t, 2) for t in times], "peak": peak}, value

    if leg == "pandas":
        stats, scored = median_of(lambda: pandas_score(data, config, harm, costs), 1)
        scored[["person_id", "total"]].to_parquet(out)
        result |= stats
    else:
        if leg == "files":

            def load() -> engine.ScoringInputs:
                return engine.load_frames_from_files(data)
        else:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            if args.reload_pg or not _counts_match(data):
                start = time.perf_counter()
                load_postgres(data)
                result["pg_load_seconds"] = time.perf_counter() - start

            def load() -> engine.ScoringInputs:
                return engine.load_frames_from_db(AS_OF)

        def load_and_score() -> pl.DataFrame:
            inputs = load()
            return engine.score(inputs, config, AS_OF, harm=harm, costs=costs, breakdown=top)

        stats, scored = median_of(load_and_score, args.repeats)
        result |= stats
        scored.select("person_id", "total").write_parquet(out)
        del scored
        result["load_only"], inputs = median_of(load, args.repeats)
        result["fingerprint"], fp = median_of(lambda: engine.fingerprint(inputs), args.repeats)
        result["fingerprint_hex"] = fp
        result["counts"] = inputs.counts()
        if args.full_breakdown and leg == "files":
            start = time.perf_counter()
            engine.score(inputs, config, AS_OF, harm=harm, costs=costs, breakdown=True)
            result["breakdown_everyone"] = time.perf_counter() - start
    result["load_after"] = _load()
    return result


def main() -> None:
    import json
    import platform
    import subprocess

    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--offences-per-person", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench_scoring")
    parser.add_argument(
        "--from-dir", type=Path, default=None, help="Use these import files instead."
    )
    parser.add_argument(
        "--pg", default=None, help="PostgreSQL URL for the database leg (skipped if absent)."
    )
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--full-breakdown", action="store_true", help="Also time text for all.")
    parser.add_argument("--reload-pg", action="store_true", help="Reload even if counts match.")
    parser.add_argument("--leg", choices=["files", "pandas", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pg:
        os.environ["DATABASE_URL"] = args.pg
    data = args.from_dir or args.data

    if args.leg:
        result = run_leg(args.leg, args, data, args.out)
        args.out.with_suffix(".json").write_text(json.dumps(result))
        return

    if args.pg:
        _create_database(args.pg)
    import django

    django.setup()
    import polars as pl

    if args.from_dir is None:
        marker = data / f"generated-{args.people}-{args.offences_per_person}-{args.seed}"
        if not marker.exists():
            start = time.perf_counter()
            counts = generate(data, args.people, args.offences_per_person, args.seed)
            marker.touch()
            print(f"generated {counts} in {time.perf_counter() - start:.1f}s")
    print(
        f"{dt.datetime.now():%Y-%m-%d %H:%M}  polars {pl.__version__}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}, data {data}"
    )
    legs = ["files"] + ([] if args.skip_pandas else ["pandas"]) + (["postgres"] if args.pg else [])
    results: dict[str, dict[str, Any]] = {}
    for leg in legs:
        out = data / f"ranking-{leg}.parquet"
        argv = [sys.executable, __file__, "--leg", leg, "--out", str(out)]
        argv += ["--repeats", str(args.repeats), "--data", str(args.data)]
        argv += ["--from-dir", str(args.from_dir)] if args.from_dir else []
        argv += ["--pg", args.pg] if args.pg else []
        argv += ["--full-breakdown"] if args.full_breakdown else []
        argv += ["--reload-pg"] if args.reload_pg else []
        subprocess.run(argv, check=True)
        results[leg] = json.loads(out.with_suffix(".json").read_text())
        r = results[leg]
        line = (
            f"{leg:9}: median {r['median']:.2f}s  runs {r['runs']}  peak RSS "
            f"{r['peak'] / 2**30:.2f} GB  load avg {r['load_before']} -> {r['load_after']}"
        )
        if "load_only" in r:
            line += (
                f"\n           load only {r['load_only']['median']:.2f}s {r['load_only']['runs']}"
                f"  fingerprint {r['fingerprint']['median']:.2f}s {r['fingerprint']['runs']}"
                f"  {r['fingerprint_hex'][:16]}…"
            )
        if "pg_load_seconds" in r:
            line += f"\n           (PostgreSQL data loaded in {r['pg_load_seconds']:.0f}s)"
        if "breakdown_everyone" in r:
            line += f"\n           breakdown for everyone: {r['breakdown_everyone']:.2f}s"
        print(line, flush=True)

    files = pl.read_parquet(data / "ranking-files.parquet")
    print(f"counts {results['files']['counts']}")
    if "pandas" in results:
        pandas_rank = pl.read_parquet(data / "ranking-pandas.parquet")
        same = pandas_rank["person_id"].to_list() == files["person_id"].to_list() and (
            pandas_rank["total"].to_list() == files["total"].to_list()
        )
        ratio = results["pandas"]["median"] / results["files"]["median"]
        print(f"pandas / polars files: {ratio:.1f}x   identical ranking (ids and totals): {same}")
    if "postgres" in results:
        db = pl.read_parquet(data / "ranking-postgres.parquet")
        same_db = db.equals(files)
        same_fp = results["postgres"]["fingerprint_hex"] == results["files"]["fingerprint_hex"]
        print(f"postgres vs files: identical ranking {same_db}, same fingerprint {same_fp}")
        if "pandas" in results:
            ratio = results["pandas"]["median"] / results["postgres"]["median"]
            print(f"pandas (from Parquet) / polars postgres: {ratio:.1f}x")


if __name__ == "__main__":
    main()
