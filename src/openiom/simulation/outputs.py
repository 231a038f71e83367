"""Where simulated records go: import-format CSV files, and the database (bulk, fast)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import polars as pl
from django.db import connection, models
from django.utils import timezone

from openiom.imports.formats import ORDER, RECORD_TYPES
from openiom.simulation.generator import Chunk

# The import format (openiom.imports.formats) is the one definition of the files' columns.
IMPORT_FILES: dict[str, list[str]] = {name: RECORD_TYPES[name].column_names for name in ORDER}


class FileWriter:
    """Appends chunks to the import files (UTF-8, header row once, ISO dates, '' for null)."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.handles: dict[str, IO[bytes]] = {}

    def write(self, chunk: Chunk) -> None:
        frames = chunk.frames()
        # Each source system keys people its own way, as real extracts do: the prison system
        # by prison number, probation by CRN (the importer links those to the PNC's people).
        # Youth orders (no CRN) are keyed by the PNC id, which youth justice systems record.
        keys = frames["people"].select("person_id", "pnc_id", "crn", "prison_number")
        for name, key in (("custody", "prison_number"), ("supervision", "crn")):
            frames[name] = (
                frames[name]
                .join(keys, on="person_id", how="left")
                .with_columns(
                    pl.when(pl.col(key) != "")
                    .then(pl.col(key))
                    .when(pl.col("pnc_id") != "")
                    .then(pl.col("pnc_id"))
                    .otherwise(pl.col("person_id"))
                    .alias("person_id")
                )
            )
        for name, columns in IMPORT_FILES.items():
            frame = frames[name].select(columns)
            first = name not in self.handles
            if first:
                self.handles[name] = (self.out_dir / f"{name}.csv").open("wb")
            frame.write_csv(self.handles[name], include_header=first, date_format="%Y-%m-%d")

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _norm(col: str) -> pl.Expr:
    """Same result as openiom.people.normalise.normalise_name for the simulator's ASCII names."""
    return (
        pl.col(col)
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z ]+", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


class DatabaseWriter:
    """Loads chunks with COPY (PostgreSQL) or executemany (SQLite); much faster than the ORM."""

    def __init__(self) -> None:
        from openiom.partnership.models import Agency, Hub
        from openiom.partnership.setup import ensure_area
        from openiom.reference.models import OffenceCode

        ensure_area()
        self.hubs = dict(Hub.objects.values_list("code", "id"))
        self.agencies = dict(Agency.objects.values_list("code", "id"))
        self.codes = dict(OffenceCode.objects.values_list("code", "id"))
        now = timezone.now()
        self.now = connection.ops.adapt_datetimefield_value(now)
        self.activity: list[pl.DataFrame] = []
        self.counts: dict[str, int] = {}

    # -- low level ----------------------------------------------------------------------------
    def insert(self, model: type[models.Model], frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in frame.columns if c not in fields]
        if unknown:
            raise ValueError(f"{model._meta.label}: no such columns {unknown}")
        if "created_at" in fields and "created_at" not in frame.columns:
            frame = frame.with_columns(pl.lit(str(self.now)).alias("created_at"))
        if "updated_at" in fields and "updated_at" not in frame.columns:
            frame = frame.with_columns(pl.lit(str(self.now)).alias("updated_at"))
        frame = frame.with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d"))
        table = model._meta.db_table
        cols = [fields[c].column for c in frame.columns]
        quoted = ", ".join(connection.ops.quote_name(c) for c in cols)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                buffer = io.BytesIO()
                frame.write_csv(buffer, include_header=False)
                raw = cursor.cursor  # the psycopg cursor under Django's wrapper
                with raw.copy(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buffer.getvalue())
            else:
                marks = ", ".join(["%s"] * len(cols))
                # table and column names come from model metadata, never from input
                sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608
                rows = frame.rows()
                for i in range(0, len(rows), 20_000):
                    cursor.executemany(sql, rows[i : i + 20_000])
        self.counts[model._meta.label] = self.counts.get(model._meta.label, 0) + frame.height

    # -- records -------------------------------------------------------------------------------
    def write(self, chunk: Chunk) -> None:
        from openiom.offending.models import Arrest, IntelligenceItem, Offence
        from openiom.people.models import Address, Alias, CustodyEpisode, Person, SupervisionPeriod

        police = self.agencies["wessex-police"]
        probation = self.agencies["probation-wessex"]
        prison = self.agencies["hmp-wessex"]
        people = chunk.people.select(
            "source_system",
            pl.col("person_id").alias("source_id"),
            pl.lit(police).alias("recorded_by_agency_id"),
            pl.col("hub").replace_strict(self.hubs).alias("hub_id"),
            "first_names",
            "surname",
            _norm("first_names").alias("first_names_norm"),
            _norm("surname").alias("surname_norm"),
            "date_of_birth",
            "sex",
            "ethnicity_officer_defined",
            "ethnicity_self_defined",
            "pnc_id",
            "crn",
            "prison_number",
            "current_status",
            "status_since",
            "date_of_death",
            "youth_justice_status",
            "youth_justice_team",
        )
        self.insert(Person, people)
        keys = chunk.people["person_id"]
        ids = pl.DataFrame(
            list(
                Person.objects.filter(
                    source_system="pnc", source_id__gte=keys[0], source_id__lte=keys[-1]
                ).values_list("source_id", "id")
            ),
            schema={"person_id": pl.String, "person_pk": pl.Int64},
            orient="row",
        )

        def with_person(frame: pl.DataFrame, id_col: str) -> pl.DataFrame:
            return (
                frame.join(ids, on="person_id", how="inner")
                .drop("person_id")
                .rename({"person_pk": "person_id", id_col: "source_id"})
            )

        code_map = self.codes
        self.insert(
            Offence,
            with_person(chunk.offences, "offence_id")
            .with_columns(
                pl.col("offence_code").replace_strict(code_map).alias("offence_code_id"),
                pl.lit(police).alias("recorded_by_agency_id"),
            )
            .drop("offence_code"),
        )
        self.insert(
            Arrest,
            with_person(chunk.arrests, "arrest_id")
            .with_columns(
                pl.col("offence_code").replace_strict(code_map).alias("offence_code_id"),
                pl.lit(police).alias("recorded_by_agency_id"),
            )
            .drop("offence_code"),
        )
        self.insert(
            IntelligenceItem,
            with_person(chunk.intelligence, "intelligence_id").with_columns(
                pl.lit(police).alias("recorded_by_agency_id")
            ),
        )
        self.insert(
            CustodyEpisode,
            with_person(chunk.custody, "custody_id").with_columns(
                pl.lit(prison).alias("recorded_by_agency_id")
            ),
        )
        self.insert(
            SupervisionPeriod,
            with_person(chunk.supervision, "supervision_id").with_columns(
                pl.lit(probation).alias("recorded_by_agency_id")
            ),
        )
        self.insert(
            Alias,
            with_person(chunk.aliases, "alias_id").with_columns(
                _norm("first_names").alias("first_names_norm"),
                _norm("surname").alias("surname_norm"),
                pl.lit(police).alias("recorded_by_agency_id"),
            ),
        )
        self.insert(
            Address,
            with_person(chunk.addresses, "address_id").with_columns(
                pl.lit("").alias("line_2"), pl.lit(police).alias("recorded_by_agency_id")
            ),
        )
        self.activity.append(chunk.activity.join(ids, on="person_id", how="inner"))

    def finish(self, *, seed: int, as_of: dt.date) -> None:
        """Partner caseloads: housing, drug and alcohol, mentoring and YOS work with people."""
        from openiom.people.models import Involvement

        if not self.activity:
            return
        activity = pl.concat(self.activity).sort("person_id")
        involvements = partner_caseloads(activity, seed=seed, as_of=as_of, agencies=self.agencies)
        self.insert(Involvement, involvements)


# agency code, caseload per 20,000 people, purpose
CASELOADS = (
    ("harbour-housing", 350, "Housing support and tenancy sustainment"),
    ("turning-point-wessex", 300, "Drug and alcohol treatment"),
    ("second-chance-mentoring", 200, "Peer mentoring"),
)


def partner_caseloads(
    activity: pl.DataFrame, *, seed: int, as_of: dt.date, agencies: dict[str, int]
) -> pl.DataFrame:
    """Agency-level involvements for the most active people in the community, drawn
    deterministically (weighted by recent offending) so partner workers have caseloads."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA5E]))
    n = activity.height
    pool = activity.filter(
        pl.col("current_status").is_in(["community", "ual"]) & (pl.col("recent_offences") > 0)
    )
    base = np.datetime64(as_of.isoformat(), "D")
    frames = []
    for code, per_20k, purpose in CASELOADS:
        size = min(pool.height, max(1, round(per_20k * n / 20_000)))
        if size == 0:
            continue
        weight = pool["recent_offences"].to_numpy().astype(float) ** 1.5
        chosen = rng.choice(pool.height, size=size, replace=False, p=weight / weight.sum())
        started = base - rng.integers(14, 540, size=size).astype("timedelta64[D]")
        frames.append(
            pl.DataFrame(
                {
                    "person_id": pool["person_pk"].to_numpy()[np.sort(chosen)],
                    "agency_id": agencies[code],
                    "purpose": purpose,
                    "start_date": started,
                }
            )
        )
    youth = (
        activity.filter(pl.col("youth_justice_status") != "")
        if "youth_justice_status" in activity.columns
        else None
    )
    if youth is not None and youth.height:
        frames.append(
            pl.DataFrame(
                {
                    "person_id": youth["person_pk"],
                    "agency_id": agencies["wessex-yos"],
                    "purpose": "Youth offending service case",
                    "start_date": np.full(youth.height, base - np.timedelta64(180, "D")),
                }
            )
        )
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames).with_columns(pl.lit(None, dtype=pl.Date).alias("end_date"))


def write_all(chunks: Iterable[Chunk], writers: list[Any]) -> dict[str, int]:
    """Send each chunk to every writer; return record counts per import-file table."""
    counts: dict[str, int] = {}
    for chunk in chunks:
        for writer in writers:
            writer.write(chunk)
        for name, frame in chunk.frames().items():
            counts[name] = counts.get(name, 0) + frame.height
    return counts
