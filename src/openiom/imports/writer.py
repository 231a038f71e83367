"""Bulk upserts keyed on (source_system, source_id), comparing before writing.

New rows are inserted in bulk (COPY on PostgreSQL, bulk_create elsewhere); changed rows are
updated with bulk_update; unchanged rows are not touched, so a re-import writes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db import connection, models
from django.utils import timezone

LOOKUP_CHUNK = 5_000
WRITE_CHUNK = 50_000
KEYS = ["source_system", "source_id"]


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _dtype(field: models.Field) -> Any:
    if isinstance(field, models.DateTimeField):
        return pl.Datetime
    if isinstance(field, models.DateField):
        return pl.Date
    if isinstance(field, models.IntegerField | models.ForeignKey | models.AutoField):
        return pl.Int64
    return pl.String


def schema_for(model: type[models.Model], attnames: list[str]) -> dict[str, Any]:
    by_att = {f.attname: f for f in model._meta.concrete_fields}
    return {a: _dtype(by_att[a]) for a in attnames}


def conform(model: type[models.Model], frame: pl.DataFrame, attnames: list[str]) -> pl.DataFrame:
    """Types as the database returns them; blanks in NOT NULL columns become the field default."""
    by_att = {f.attname: f for f in model._meta.concrete_fields}
    exprs = []
    for a in KEYS + attnames:
        f = by_att[a]
        e = pl.col(a).cast(_dtype(f))
        if not f.null:
            default = f.get_default()
            if default is not None and default != "":
                e = e.fill_null(pl.lit(default))
            elif _dtype(f) == pl.String:
                e = e.fill_null("")
        exprs.append(e.alias(a))
    return frame.select(exprs)


def fetch_existing(
    model: type[models.Model], keys: pl.DataFrame, attnames: list[str]
) -> pl.DataFrame:
    """Existing rows with these (source_system, source_id) keys: id plus the compared fields."""
    schema = {"id": pl.Int64, **schema_for(model, KEYS + attnames)}
    parts: list[pl.DataFrame] = []
    for (system,), group in keys.select(KEYS).unique().group_by(["source_system"]):
        manager = model._default_manager
        if not manager.filter(source_system=system).exists():
            continue  # first import from this system: nothing to compare against
        ids = group["source_id"].to_list()
        for i in range(0, len(ids), LOOKUP_CHUNK):
            rows = list(
                manager.filter(source_system=system, source_id__in=ids[i : i + LOOKUP_CHUNK])
                .order_by()
                .values_list("id", *KEYS, *attnames)
            )
            if rows:
                parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts)


def upsert(
    model: type[models.Model],
    frame: pl.DataFrame,
    attnames: list[str],
    *,
    agency_id: int | None,
    progress: Callable[[int], None] | None = None,
    return_ids: bool = False,
) -> tuple[Counts, pl.DataFrame]:
    """Insert new, update changed, leave unchanged. Returns counts and, with return_ids,
    (keys -> id) of all rows."""
    frame = conform(model, frame, attnames)
    existing = fetch_existing(model, frame, attnames)
    joined = frame.join(existing, on=KEYS, how="left", suffix="__old")
    new = joined.filter(pl.col("id").is_null()).select(KEYS + attnames)
    matched = joined.filter(pl.col("id").is_not_null())
    if attnames:
        differs = pl.any_horizontal([pl.col(a).ne_missing(pl.col(f"{a}__old")) for a in attnames])
    else:
        differs = pl.lit(False)
    changed = matched.filter(differs)
    counts = Counts(
        created=new.height, updated=changed.height, unchanged=matched.height - changed.height
    )
    done = matched.height - changed.height
    now = timezone.now()
    if new.height:
        for start in range(0, new.height, WRITE_CHUNK):
            chunk = new.slice(start, WRITE_CHUNK)
            _insert(model, chunk, attnames, agency_id=agency_id, now=now)
            done += chunk.height
            if progress:
                progress(done)
    if changed.height:
        for start in range(0, changed.height, WRITE_CHUNK):
            chunk = changed.slice(start, WRITE_CHUNK)
            objs = [
                model(id=row["id"], **{a: row[a] for a in attnames}, updated_at=now)
                for row in chunk.iter_rows(named=True)
            ]
            model._default_manager.bulk_update(objs, [*attnames, "updated_at"], batch_size=500)
            done += chunk.height
            if progress:
                progress(done)
    if progress:
        progress(frame.height)
    ids = matched.select(*KEYS, "id")
    if new.height and return_ids:
        ids = pl.concat([ids, fetch_existing(model, new, []).select(*KEYS, "id")])
    return counts, ids


def _insert(
    model: type[models.Model],
    chunk: pl.DataFrame,
    attnames: list[str],
    *,
    agency_id: int | None,
    now: Any,
) -> None:
    if connection.vendor == "postgresql":
        _copy_insert(model, chunk, attnames, agency_id=agency_id, now=now)
        return
    objs = [model(**row, recorded_by_agency_id=agency_id) for row in chunk.iter_rows(named=True)]
    model._default_manager.bulk_create(objs, batch_size=1_000)


def _copy_insert(
    model: type[models.Model],
    chunk: pl.DataFrame,
    attnames: list[str],
    *,
    agency_id: int | None,
    now: Any,
) -> None:
    """COPY ... FROM STDIN (CSV): an order of magnitude faster than INSERTs for large batches."""
    by_att = {f.attname: f for f in model._meta.concrete_fields}
    cols = [*KEYS, *attnames]
    stamp = now.isoformat()
    out = chunk.select(cols).with_columns(
        pl.lit(agency_id, dtype=pl.Int64).alias("recorded_by_agency_id"),
        pl.lit(stamp).alias("created_at"),
        pl.lit(stamp).alias("updated_at"),
    )
    names = [*cols, "recorded_by_agency_id", "created_at", "updated_at"]
    # Columns the extract does not carry get their Django default (the database has none).
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in names:
            continue
        out = out.with_columns(pl.lit(f.get_default(), dtype=_dtype(f)).alias(f.attname))
        names.append(f.attname)
    out = out.select(names)
    text_cols = [
        by_att[c].column
        for c in names
        if c in by_att and _dtype(by_att[c]) == pl.String and not by_att[c].null
    ]
    buffer = io.BytesIO()
    out.write_csv(buffer, include_header=False, null_value="", quote_style="non_numeric")
    qn = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN WITH (FORMAT csv{})".format(
        qn(model._meta.db_table),
        ", ".join(qn(by_att[c].column) if c in by_att else qn(c) for c in names),
        f", FORCE_NOT_NULL ({', '.join(qn(c) for c in text_cols)})" if text_cols else "",
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(sql) as copy:
            copy.write(buffer.getvalue())
