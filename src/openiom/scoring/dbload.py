"""Reading the scoring inputs from the database (engine.load_frames_from_db).

PostgreSQL, fast path (the production case): the ADBC PostgreSQL driver runs binary COPY and
decodes it to Arrow in C++, so no Python code runs per row (psycopg's COPY hands Python one
message per row: 30-50 s for ten million offences). The big tables are split into block ranges
(TID range scans, PostgreSQL 14+) that `WORKERS` connections read in parallel; all of them share
one exported REPEATABLE READ snapshot, so every range and table sees the same committed state. Offence codes travel as their integer id
and become an Enum over the small code table here.

The fast path needs its own connections, which cannot see uncommitted rows, so inside a
transaction (an `atomic` block, as in most tests) or without the driver it reads over Django's
own connection instead: a CSV COPY on PostgreSQL, a cursor on SQLite (small areas).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import queue
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

logger = logging.getLogger(__name__)

# Rows are split into ranges of this many 8 kB blocks (about 250 MB of table per range).
BLOCKS_PER_RANGE = 4096 * 8
# Connections read in parallel. Each costs about one core on the server (COPY output, ~6 CPU-s
# at 1M/10M) and one here (ADBC decoding, ~6 CPU-s). Measured with the database on the same
# 2-core machine under other jobs' load, two connections edged out one (8.9 s vs 9.3 s median of
# 3, interleaved); more cores, or the database on its own machine, let more connections pay off.
WORKERS = max(2, min(4, (os.cpu_count() or 2) // 2))


@dataclass(frozen=True)
class Query:
    name: str
    table: str  # the table whose block ranges split the query ("" = never split)
    alias: str
    sql: str  # with {where}: extra conditions ANDed in ("TRUE" when not split)
    schema: dict[str, Any]
    # Fast path only: the same rows as (packed, rest). `packed` carries several small columns in
    # one bigint (fewer fields for PostgreSQL to send and ADBC to decode: the big tables' cost is
    # per field); `rest` is the rare rows whose values do not fit, read unpacked via indexes.
    packed: Packed | None = None


@dataclass(frozen=True)
class Packed:
    sql: str  # with {where}; columns person_id (or none) and packed
    rest_sql: str  # unsplit; the query's own columns, rows that did not fit
    kind: str  # "offences" or "arrests": how to unpack


# Packed dates are days since 1900-01-01 in 21 bits (imports refuse earlier dates); the top
# value stands for a missing date.
_BITS = 21
_MASK = (1 << _BITS) - 1
_BASE = "DATE '1900-01-01'"
_BASE_EPOCH_DAYS = (dt.date(1900, 1, 1) - dt.date(1970, 1, 1)).days
_HIGH = f"({_BASE} + {_MASK})"  # first date that does not fit


def _queries(connection: Any, as_of: dt.date) -> list[Query]:
    from openiom.offending.models import Arrest, IntelligenceItem, Offence
    from openiom.partnership.models import Hub
    from openiom.people.models import CustodyEpisode, Person
    from openiom.reference.models import OffenceCode

    def t(model: Any) -> str:
        return str(connection.ops.quote_name(model._meta.db_table))

    day = as_of.isoformat()  # from a dt.date: safe to inline
    return [
        Query(
            "offences",
            t(Offence),
            "o",
            f"SELECT o.person_id, o.offence_code_id AS code_id, o.offence_date, o.disposal_date "  # noqa: S608 (table names from models, date from dt.date)
            f"FROM {t(Offence)} o WHERE o.offence_date <= '{day}' AND {{where}}",
            {
                "person_id": pl.Int64,
                "code_id": pl.Int64,
                "offence_date": pl.Date,
                "disposal_date": pl.Date,
            },
            Packed(
                f"SELECT o.person_id, (o.offence_code_id << {2 * _BITS}) "  # noqa: S608 (table names from models, date from dt.date)
                f"| ((o.offence_date - {_BASE})::int8 << {_BITS}) "
                f"| COALESCE(o.disposal_date - {_BASE}, {_MASK})::int8 AS packed "
                f"FROM {t(Offence)} o WHERE o.offence_date <= '{day}' "
                f"AND o.offence_date >= {_BASE} AND o.offence_code_id < {_MASK} "
                f"AND (o.disposal_date IS NULL OR (o.disposal_date >= {_BASE} "
                f"AND o.disposal_date < {_HIGH})) AND {{where}}",
                f"SELECT o.person_id, o.offence_code_id AS code_id, o.offence_date, "  # noqa: S608 (table names from models, date from dt.date)
                f"o.disposal_date FROM {t(Offence)} o WHERE o.offence_date <= '{day}' "
                f"AND (o.offence_date < {_BASE} OR o.offence_code_id >= {_MASK} "
                f"OR o.disposal_date < {_BASE} OR o.disposal_date >= {_HIGH})",
                "offences",
            ),
        ),
        Query(
            "arrests",
            t(Arrest),
            "a",
            f"SELECT a.person_id, a.arrest_date FROM {t(Arrest)} a "  # noqa: S608 (table names from models, date from dt.date)
            f"WHERE a.arrest_date <= '{day}' AND {{where}}",
            {"person_id": pl.Int64, "arrest_date": pl.Date},
            Packed(
                f"SELECT (a.person_id << {_BITS}) | (a.arrest_date - {_BASE})::int8 AS packed "  # noqa: S608 (table names from models, date from dt.date)
                f"FROM {t(Arrest)} a WHERE a.arrest_date <= '{day}' "
                f"AND a.arrest_date >= {_BASE} AND a.person_id < {1 << (63 - _BITS)} "
                f"AND {{where}}",
                f"SELECT a.person_id, a.arrest_date FROM {t(Arrest)} a "  # noqa: S608 (table names from models, date from dt.date)
                f"WHERE a.arrest_date <= '{day}' "
                f"AND (a.arrest_date < {_BASE} OR a.person_id >= {1 << (63 - _BITS)})",
                "arrests",
            ),
        ),
        Query(
            "people",
            t(Person),
            "p",
            f"SELECT p.id AS person_id, p.date_of_birth, p.sex, h.code AS hub, p.current_status, "  # noqa: S608 (table names from models)
            f"p.date_of_death FROM {t(Person)} p LEFT JOIN {t(Hub)} h ON h.id = p.hub_id "
            f"WHERE {{where}}",
            {
                "person_id": pl.Int64,
                "date_of_birth": pl.Date,
                "sex": pl.String,
                "hub": pl.String,
                "current_status": pl.String,
                "date_of_death": pl.Date,
            },
        ),
        Query(
            "intelligence",
            t(IntelligenceItem),
            "i",
            f"SELECT i.person_id, i.recorded_date, i.source_grade, i.intelligence_grade "  # noqa: S608 (table names from models, date from dt.date)
            f"FROM {t(IntelligenceItem)} i WHERE i.recorded_date <= '{day}' AND {{where}}",
            {
                "person_id": pl.Int64,
                "recorded_date": pl.Date,
                "source_grade": pl.String,
                "intelligence_grade": pl.String,
            },
        ),
        Query(
            "custody",
            "",
            "c",
            f"SELECT c.person_id, c.received_date, c.sentence_length_days, "  # noqa: S608 (table names from models, date from dt.date)
            f"c.expected_release_date, c.release_date FROM {t(CustodyEpisode)} c "
            f"WHERE c.received_date <= '{day}' AND {{where}}",
            {
                "person_id": pl.Int64,
                "received_date": pl.Date,
                "sentence_length_days": pl.Int64,
                "expected_release_date": pl.Date,
                "release_date": pl.Date,
            },
        ),
        Query(
            "codes",
            "",
            "r",
            f"SELECT r.id AS code_id, r.code AS offence_code, r.group_code, r.category, "  # noqa: S608 (table names from models)
            f"r.ogrs3_weight, r.is_neighbourhood_crime FROM {t(OffenceCode)} r WHERE {{where}}",
            {
                "code_id": pl.Int64,
                "offence_code": pl.String,
                "group_code": pl.String,
                "category": pl.String,
                "ogrs3_weight": pl.Float64,
                "is_neighbourhood_crime": pl.Boolean,
            },
        ),
    ]


def _dates(days: np.ndarray) -> pl.Series:
    """Packed day numbers -> a Date series (the top value: missing)."""
    series = pl.Series((days + _BASE_EPOCH_DAYS).astype(np.int32)).cast(pl.Date)
    missing = days == _MASK
    return series.set(pl.Series(missing), None) if missing.any() else series


def _unpack(kind: str, frame: pl.DataFrame) -> pl.DataFrame:
    v = frame["packed"].cast(pl.Int64).to_numpy()
    if kind == "offences":
        return pl.DataFrame(
            {
                "person_id": frame["person_id"].cast(pl.Int64),
                "code_id": v >> (2 * _BITS),
                "offence_date": _dates((v >> _BITS) & _MASK),
                "disposal_date": _dates(v & _MASK),
            }
        )
    return pl.DataFrame({"person_id": v >> _BITS, "arrest_date": _dates(v & _MASK)})


def _expand(queries: list[Query]) -> list[Query]:
    """Packed queries become their two parts, named name#packed and name#rest."""
    out: list[Query] = []
    for q in queries:
        if q.packed is None:
            out.append(q)
            continue
        out.append(Query(f"{q.name}#packed", q.table, q.alias, q.packed.sql, {}))
        out.append(Query(f"{q.name}#rest", "", q.alias, q.packed.rest_sql + " AND {where}", {}))
    return out


def _fold(queries: list[Query], frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    for q in queries:
        if q.packed is None:
            out[q.name] = _conform(frames[q.name], q.schema)
            continue
        parts = [_unpack(q.packed.kind, frames[f"{q.name}#packed"])]
        rest = frames[f"{q.name}#rest"]
        if rest.height:
            parts.append(rest)
        out[q.name] = pl.concat([_conform(f, q.schema) for f in parts], rechunk=False)
    return out


def _conform(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    """The query's columns with the engine's dtypes (e.g. int4 -> Int64)."""
    return frame.select([pl.col(c).cast(d) for c, d in schema.items()])


# --- assembling ----------------------------------------------------------------------------------


def offence_code_enum(code_ids: pl.Series, codes: pl.DataFrame) -> pl.Series:
    """Offence code ids -> an Enum of the code strings (ids not in the table -> null)."""
    ids = codes["code_id"].to_numpy().astype(np.int64)
    categories = codes["offence_code"].to_list()
    enum = pl.Enum(categories)
    if code_ids.len() == 0 or ids.size == 0:
        return pl.Series("offence_code", [None] * code_ids.len(), dtype=pl.String).cast(enum)
    raw = code_ids.fill_null(-1).to_numpy().astype(np.int64)
    lookup = np.full(max(int(ids.max()), int(raw.max())) + 2, -1, dtype=np.int64)
    lookup[ids] = np.arange(ids.size)
    position = lookup[np.where(raw < 0, lookup.size - 1, raw)]
    physical = pl.Series("offence_code", position, dtype=pl.Int64)
    physical = physical.set(pl.Series(position < 0), None).cast(pl.UInt32)
    return physical.cat.to(enum)


def _assemble(frames: dict[str, pl.DataFrame]) -> Any:
    from openiom.scoring.engine import ScoringInputs

    codes = frames["codes"].sort("code_id")
    offences = frames["offences"]
    if codes["offence_code"].is_duplicated().any():
        # Not possible with the model's unique constraint; a plain join keeps it working anyway.
        offences = offences.join(
            codes.select("code_id", "offence_code"), on="code_id", how="left"
        ).drop("code_id")
    else:
        offences = offences.with_columns(offence_code_enum(offences["code_id"], codes)).select(
            "person_id", "offence_code", "offence_date", "disposal_date"
        )
    return ScoringInputs(
        people=frames["people"],
        offences=offences,
        arrests=frames["arrests"],
        intelligence=frames["intelligence"],
        custody=frames["custody"],
        codes=codes.drop("code_id"),
    )


def load(as_of: dt.date, *, workers: int | None = None) -> Any:
    """The scoring inputs as of `as_of` (see the module docstring for the paths)."""
    from django.db import connection

    connection.ensure_connection()
    return _assemble(read(_queries(connection, as_of), workers=workers))


def read(queries: list[Query], *, workers: int | None = None) -> dict[str, pl.DataFrame]:
    """Run `queries` (name -> frame with each query's schema) the fastest way available: ADBC on
    PostgreSQL outside a transaction, else Django's own connection. Other apps' bulk reads (the
    evaluation's outcomes) use this too."""
    from django.db import connection

    connection.ensure_connection()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        frames = _load_adbc(_libpq_params(connection), queries, workers or WORKERS)
        if frames is not None:
            return frames
    return {
        q.name: _read_django(connection, q.sql.format(where="1 = 1"), q.schema) for q in queries
    }


# --- PostgreSQL over ADBC ------------------------------------------------------------------------


def _libpq_params(connection: Any) -> str:
    """A libpq connection string for the same server, database and user as Django's."""
    from psycopg.conninfo import make_conninfo

    info = connection.connection.info
    params = dict(info.get_parameters())
    if info.password:
        params["password"] = info.password
    params.setdefault("application_name", "openiom-scoring")
    return str(make_conninfo(**params))


class _Worker:
    def __init__(self, dbapi: Any, conninfo: str) -> None:
        self.conn = dbapi.connect(conninfo, autocommit=True)

    def execute(self, sql: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql)

    def arrow(self, sql: str) -> Any:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetch_arrow_table()

    def close(self) -> None:
        try:
            self.execute("ROLLBACK")
        finally:
            self.conn.close()


def _load_adbc(conninfo: str, queries: list[Query], workers: int) -> dict[str, pl.DataFrame] | None:
    try:
        import adbc_driver_postgresql.dbapi as dbapi
    except ImportError:
        logger.info("adbc-driver-postgresql not installed: reading scoring inputs over psycopg")
        return None
    try:
        pool = [_Worker(dbapi, conninfo) for _ in range(max(1, workers))]
    except Exception as exc:  # e.g. an authentication method the bundled libpq lacks
        logger.warning("scoring: ADBC connection failed (%s); reading over psycopg", exc)
        return None
    try:
        # One snapshot for every connection: the ranges and tables are mutually consistent.
        lead = pool[0]
        lead.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = lead.arrow("SELECT pg_export_snapshot()").column(0)[0].as_py()
        for w in pool[1:]:
            w.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            w.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        frames = _run_parallel(pool, _plan(lead, _expand(queries)))
        return _fold(queries, frames)
    finally:
        for w in pool:
            w.close()


def _plan(lead: _Worker, queries: list[Query]) -> list[tuple[int, str, str]]:
    """(order, name, sql) work items, biggest first: large tables split by block range."""
    tables = sorted({q.table for q in queries if q.table})
    if not tables:  # nothing to split: one item per query
        return [(0, q.name, q.sql.format(where="TRUE")) for q in queries]
    sizes_sql = " UNION ALL ".join(
        f"SELECT {i}::int4 AS i, (pg_relation_size('{name}') / "
        "current_setting('block_size')::int8)::int8 AS blocks"
        for i, name in enumerate(tables)
    )
    blocks = {tables[r["i"]]: int(r["blocks"]) for r in lead.arrow(sizes_sql).to_pylist()}
    items: list[tuple[int, str, str]] = []
    for q in queries:
        size = blocks.get(q.table, 0)
        ranges = max(1, -(-size // BLOCKS_PER_RANGE))
        if ranges == 1:
            items.append((size, q.name, q.sql.format(where="TRUE")))
            continue
        step = -(-size // ranges)
        for k in range(ranges):
            lo = f"{q.alias}.ctid >= '({k * step},0)'::tid"
            # The last range is open-ended: it also covers blocks added since the size was read.
            hi = f" AND {q.alias}.ctid < '({(k + 1) * step},0)'::tid" if k < ranges - 1 else ""
            items.append((step, q.name, q.sql.format(where=lo + hi)))
    items.sort(key=lambda item: -item[0])
    return items


def _run_parallel(
    pool: list[_Worker], items: list[tuple[int, str, str]]
) -> dict[str, pl.DataFrame]:
    """Each connection takes the next item until none is left; results keep the plan's order."""
    import pyarrow as pa

    work: queue.Queue[tuple[int, str, str]] = queue.Queue()
    for order, (_blocks, name, sql) in enumerate(items):
        work.put((order, name, sql))
    results: dict[int, tuple[str, Any]] = {}
    errors: list[BaseException] = []

    def run(worker: _Worker) -> None:
        while not errors:
            try:
                order, name, sql = work.get_nowait()
            except queue.Empty:
                return
            try:
                results[order] = (name, worker.arrow(sql))
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in pool[1:]]
    for th in threads:
        th.start()
    run(pool[0])
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    tables: dict[str, list[Any]] = {}
    for order in sorted(results):
        name, table = results[order]
        tables.setdefault(name, []).append(table)
    return {
        name: pl.from_arrow(pa.concat_tables(parts), rechunk=False)  # type: ignore[misc]
        for name, parts in tables.items()
    }


# --- Django's own connection (in a transaction, SQLite, or no ADBC) ------------------------------


def _read_django(connection: Any, sql: str, schema: dict[str, Any]) -> pl.DataFrame:
    if connection.vendor == "postgresql":
        buf = io.BytesIO()
        with (
            connection.connection.cursor() as cur,
            cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy,
        ):
            for block in copy:
                buf.write(block)
        buf.seek(0)
        read_schema = {c: (pl.String if d == pl.Boolean else d) for c, d in schema.items()}
        frame = pl.read_csv(buf, schema=read_schema, try_parse_dates=False)
        bools = [c for c, d in schema.items() if d == pl.Boolean]
        if bools:
            frame = frame.with_columns([(pl.col(c) == "t").alias(c) for c in bools])
        return frame
    # SQLite (the embedded default, small areas): a plain cursor is fast enough.
    with connection.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    data: dict[str, pl.Series] = {}
    for (name, dtype), values in zip(schema.items(), columns, strict=True):
        if dtype == pl.Date:
            values = tuple(
                dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v for v in values
            )
        data[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(data)
