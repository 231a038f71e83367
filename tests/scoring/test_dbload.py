"""Reading scoring inputs from the database: the PostgreSQL fast path (ADBC, block ranges over
two connections sharing a snapshot) gives exactly what Django's own connection gives."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import polars as pl
import pytest
from django.db import connection, transaction

from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import CustodyEpisode
from openiom.reference.models import OffenceCode
from openiom.scoring import dbload, defaults, engine

AS_OF = dt.date(2025, 1, 1)


def _make_area(make_person: Any, offence_code: Any) -> None:
    people = [make_person(date_of_birth=dt.date(1970 + i % 30, 1 + i % 12, 1)) for i in range(12)]
    codes = [offence_code(c) for c in ("028/01", "105/01", "046/00")]
    Offence.objects.bulk_create(
        Offence(
            person=people[k % len(people)],
            offence_code=codes[k % len(codes)],
            offence_date=AS_OF - dt.timedelta(days=3 + 7 * k),
            disposal_type="community_order",
            disposal_date=AS_OF - dt.timedelta(days=1 + 7 * k - (k % 3)),
        )
        # Enough rows to fill several 8 kB blocks, so the loader splits the table into ranges;
        # the last few are after the as-of date and must be left out.
        for k in range(-5, 400)
    )
    Arrest.objects.bulk_create(
        Arrest(person=people[k % 5], arrest_date=AS_OF - dt.timedelta(days=k), outcome="charged")
        for k in range(60)
    )
    # Values the fast path's packed transfer cannot carry (dates before 1900, entered other than
    # by import): read unpacked, so nothing is lost.
    Offence.objects.create(
        person=people[0],
        offence_code=codes[0],
        offence_date=dt.date(1899, 12, 31),
        disposal_type="caution",
        disposal_date=dt.date(1900, 1, 1),
    )
    Offence.objects.create(
        person=people[1],
        offence_code=codes[1],
        offence_date=dt.date(1900, 1, 1),
        disposal_type="caution",
        disposal_date=dt.date(1899, 6, 1),
    )
    Arrest.objects.create(person=people[2], arrest_date=dt.date(1899, 1, 2), outcome="charged")
    IntelligenceItem.objects.create(
        person=people[1],
        recorded_date=AS_OF - dt.timedelta(days=7),
        source_grade="1",
        intelligence_grade="A",
        handling_code="P",
        text="Seen with stolen goods.",
    )
    CustodyEpisode.objects.create(
        person=people[3],
        custody_type="sentenced",
        received_date=AS_OF - dt.timedelta(days=3),
        sentence_length_days=2000,
    )


def _canonical(inputs: engine.ScoringInputs) -> dict[str, pl.DataFrame]:
    out = {}
    for name, columns in engine.TABLES:
        frame: pl.DataFrame = getattr(inputs, name).select(columns)
        frame = frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
        out[name] = frame.sort(columns, nulls_last=True)
    return out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fast_path_matches_djangos_connection(
    make_person: Any, offence_code: Any, monkeypatch: Any
) -> None:
    _make_area(make_person, offence_code)
    monkeypatch.setattr(dbload, "BLOCKS_PER_RANGE", 2)
    used: list[int] = []
    plan = dbload._plan

    def spy(lead: Any, queries: Any) -> Any:
        items = plan(lead, queries)
        used.append(sum(1 for _blocks, name, _sql in items if name == "offences#packed"))
        return items

    monkeypatch.setattr(dbload, "_plan", spy)
    fast = engine.load_frames_from_db(AS_OF)
    assert used and used[0] > 1, "offences were not split into block ranges"
    with transaction.atomic():  # inside a transaction the loader uses Django's connection
        slow = engine.load_frames_from_db(AS_OF)
    assert len(used) == 1
    assert fast.offences.height == Offence.objects.filter(offence_date__lte=AS_OF).count() == 402
    assert fast.arrests.height == Arrest.objects.count() == 61
    assert isinstance(fast.offences["offence_code"].dtype, pl.Enum)
    a, b = _canonical(fast), _canonical(slow)
    for name in a:
        assert a[name].equals(b[name]), name
        assert getattr(fast, name).schema == getattr(slow, name).schema, name
    assert engine.fingerprint(fast) == engine.fingerprint(slow)
    cfg = defaults.policy_config("fixed")
    scored = [
        engine.score(x, cfg, AS_OF, harm=defaults.HARM_TABLE, costs=defaults.COST_TABLE)
        for x in (fast, slow)
    ]
    assert (
        scored[0]
        .select("person_id", "total", "breakdown")
        .equals(scored[1].select("person_id", "total", "breakdown"))
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fast_path_falls_back_without_the_driver(
    make_person: Any, offence_code: Any, monkeypatch: Any
) -> None:
    _make_area(make_person, offence_code)
    monkeypatch.setitem(sys.modules, "adbc_driver_postgresql.dbapi", None)
    calls: list[str] = []
    read = dbload._read_django

    def spy(conn: Any, sql: str, schema: Any) -> Any:
        calls.append(sql)
        return read(conn, sql, schema)

    monkeypatch.setattr(dbload, "_read_django", spy)
    inputs = engine.load_frames_from_db(AS_OF)
    assert inputs.offences.height == 402
    assert len(calls) == len(engine.TABLES)


def test_offence_code_ids_become_an_enum_of_the_code_table() -> None:
    codes = pl.DataFrame({"code_id": [3, 7, 9], "offence_code": ["028/01", "105/01", "046/00"]})
    ids = pl.Series([7, 3, None, 42, 9, 7])
    enum = dbload.offence_code_enum(ids, codes)
    assert enum.to_list() == ["105/01", "028/01", None, None, "046/00", "105/01"]
    assert isinstance(enum.dtype, pl.Enum)
    assert dbload.offence_code_enum(pl.Series([], dtype=pl.Int64), codes).len() == 0


def test_file_codes_become_an_enum_that_keeps_unknown_codes() -> None:
    known = pl.Series(["028/01", "105/01"])
    enum = engine.code_enum(pl.Series("offence_code", ["105/01", "999/99", None, "028/01"]), known)
    assert enum.to_list() == ["105/01", "999/99", None, "028/01"]
    assert isinstance(enum.dtype, pl.Enum)
    assert enum.dtype.categories.to_list() == ["028/01", "105/01", "999/99"]


def test_loader_on_any_database_gives_the_engine_dtypes(db: Any, make_person: Any) -> None:
    make_person(date_of_birth=dt.date(1990, 1, 1))
    inputs = engine.load_frames_from_db(AS_OF)
    assert inputs.people.schema["date_of_birth"] == pl.Date
    assert isinstance(inputs.offences.schema["offence_code"], pl.Enum)
    assert inputs.custody.schema["sentence_length_days"] == pl.Int64
    assert inputs.codes.height > 1000


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_read_runs_queries_that_are_never_split() -> None:
    """A plan with no splittable table (only small queries) still reads over the fast path."""
    codes = [q for q in dbload._queries(connection, AS_OF) if q.name == "codes"]
    assert codes and codes[0].table == ""
    frames = dbload.read(codes)
    assert frames["codes"].height == OffenceCode.objects.count() > 3000
