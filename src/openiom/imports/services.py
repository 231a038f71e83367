"""Importing partner extracts, all or nothing, and resolving possible person matches.

import_extract() checks permission, reads and checks every file, links every record to a person,
and only if nothing is wrong writes everything in one transaction with one audit event.
The linking and matching rules are described in docs/import-format.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from openiom.access.policy import Action
from openiom.access.services import require
from openiom.audit.services import record
from openiom.imports.formats import (
    ORDER,
    PEOPLE,
    RECORD_TYPES,
    RecordType,
    record_type_for_filename,
)
from openiom.imports.models import (
    BatchStatus,
    ImportBatch,
    ImportRowError,
    MatchDecision,
    MatchStatus,
    PendingMatch,
    stalled_after,
)
from openiom.imports.parsing import ROW, Problem, read_file
from openiom.imports.validation import Lookups, validate
from openiom.imports.writer import Counts, fetch_frame, temp_table, upsert
from openiom.partnership.models import Hub
from openiom.people.models import Address, IdentifierScheme, Person, PersonIdentifier
from openiom.people.normalise import normalise_name
from openiom.reference.models import OffenceCode

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.partnership.models import Agency

log = logging.getLogger(__name__)

MAX_STORED_ERRORS = 1_000
IDENTIFIERS = ["pnc_id", "crn", "prison_number"]
PERSON_FIELDS = [
    "hub_id",
    "first_names",
    "surname",
    "first_names_norm",
    "surname_norm",
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
]
ADDRESS_FIELDS = ["person_id", "line_1", "town", "postcode"]
SEP = "\x1f"  # joins source_system and person_id into one key


@dataclass
class ExtractFile:
    """One uploaded file. record_type overrides the type given by the file's name."""

    name: str
    data: bytes
    record_type: str | None = None

    @classmethod
    def from_path(cls, path: Path, record_type: str | None = None) -> ExtractFile:
        return cls(name=path.name, data=path.read_bytes(), record_type=record_type)


@dataclass
class FileProblem:
    file_name: str
    row: int | None
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row else ""
        col = f"column {self.column}: " if self.column else ""
        return f"{self.file_name}: {where}{col}{self.message}"


@dataclass
class ImportResult:
    batch: ImportBatch
    problems: list[FileProblem] = field(default_factory=list)
    error_count: int = 0
    dry_run: bool = False

    @property
    def accepted(self) -> bool:
        return self.batch.status == BatchStatus.COMPLETED


@dataclass
class _Checked:
    """A file that passed its own checks, with records linked to people."""

    name: str
    rt: RecordType
    frame: pl.DataFrame


class _Progress:
    """Writes rows_done to the batch so the page can show progress.

    Inside the write transaction the batch row's update would be invisible to other sessions,
    so on PostgreSQL progress goes through a second connection (autocommit).
    """

    def __init__(self, batch: ImportBatch, callback: Callable[[int, int], None] | None) -> None:
        self.batch = batch
        self.callback = callback
        self.base = 0
        self.last = 0.0
        self._side: Any = None

    def start_side_connection(self) -> None:
        if connection.vendor == "postgresql" and not connection.in_atomic_block and self.batch.pk:
            try:
                self._side = connections.create_connection("default")
            except Exception:  # progress is a nicety; never fail an import over it
                self._side = None

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

    def __call__(self, done: int, *, force: bool = False) -> None:
        total = self.batch.rows_total
        value = min(total, self.base + done)
        if self.callback:
            self.callback(value, total)
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        self.batch.rows_done = value
        if self._side is not None:
            with self._side.cursor() as c:
                c.execute(
                    f"UPDATE {ImportBatch._meta.db_table} "  # noqa: S608
                    "SET rows_done = %s, heartbeat_at = now() WHERE id = %s",
                    [value, self.batch.pk],
                )
        elif self.batch.pk and not connection.in_atomic_block:
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                rows_done=value, heartbeat_at=timezone.now()
            )

    def advance(self, n: int) -> None:
        self.base += n
        self(0)


def load_lookups() -> Lookups:
    return Lookups(
        offence_codes=dict(OffenceCode.objects.values_list("code", "id")),
        hubs=dict(Hub.objects.values_list("code", "id")),
        today=timezone.localdate(),
    )


# --- reading and checking ------------------------------------------------------------------


def _type_for(f: ExtractFile) -> str | None:
    return f.record_type or record_type_for_filename(f.name)


def _file_problems(files: Sequence[ExtractFile]) -> list[FileProblem]:
    problems: list[FileProblem] = []
    if not files:
        return [FileProblem("(none)", None, "", "", "no files were given")]
    seen: dict[str, str] = {}
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    total = sum(len(f.data) for f in files)
    if total > limit:
        problems.append(
            FileProblem(
                ", ".join(f.name for f in files),
                None,
                "",
                "",
                f"the files are {total:,} bytes together; the most allowed is {limit:,}",
            )
        )
    for f in files:
        rt = _type_for(f)
        if rt is None or rt not in RECORD_TYPES:
            problems.append(
                FileProblem(
                    f.name,
                    None,
                    "",
                    "",
                    "cannot tell what this file holds from its name; name it one of "
                    + ", ".join(f"{t}.csv" for t in ORDER)
                    + " (or .xlsx), or choose its type",
                )
            )
        elif rt in seen:
            problems.append(
                FileProblem(
                    f.name, None, "", "", f"{seen[rt]} already holds {rt}; send one file per type"
                )
            )
        else:
            seen[rt] = f.name
    return problems


def _to_file_problems(name: str, problems: Iterable[Problem]) -> list[FileProblem]:
    return [FileProblem(name, p.row, p.column, p.value, p.message) for p in problems]


def _frame_problems(name: str, frame: pl.DataFrame) -> list[FileProblem]:
    return [
        FileProblem(name, row, column, value or "", message)
        for row, column, value, message in frame.head(MAX_STORED_ERRORS).iter_rows()
    ]


def _check_files(
    files: Sequence[ExtractFile], lookups: Lookups
) -> tuple[dict[str, _Checked], list[FileProblem], int]:
    checked: dict[str, _Checked] = {}
    problems: list[FileProblem] = []
    count = 0
    for f in files:
        rt = RECORD_TYPES[_type_for(f) or ""]
        parsed = read_file(rt, f.name, f.data)
        if parsed.frame is None:
            problems += _to_file_problems(f.name, parsed.problems)
            count += len(parsed.problems)
            continue
        typed, found = validate(parsed.frame, rt, lookups)
        if found.height:
            problems += _frame_problems(f.name, found)
            count += found.height
            continue
        checked[rt.name] = _Checked(f.name, rt, typed)
    return checked, problems, count


# --- linking people ------------------------------------------------------------------------


_KEY_COLUMNS = "source_system varchar(40), source_id varchar(64)"
_KEY_SCHEMA = {"source_system": pl.String, "source_id": pl.String, "pk": pl.Int64}


def _keys_frame(keys: Iterable[tuple[str, str]]) -> pl.DataFrame:
    pairs = list(keys)
    return pl.DataFrame(
        {"source_system": [k[0] for k in pairs], "source_id": [k[1] for k in pairs]},
        schema={"source_system": pl.String, "source_id": pl.String},
    )


def _table(model: type[Any]) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _existing_by_source(
    keys: set[tuple[str, str]], own: set[tuple[str, str]] | None = None
) -> dict[tuple[str, str], int]:
    """(source_system, source_id) -> Person id, via the person or an identifier recorded on it.

    Keys that are the person's own source id (not an identifier) are added to `own`.
    The keys go into a temporary table and are joined, rather than sent in chunks of IN (...)."""
    if not keys:
        return {}
    found: dict[tuple[str, str], int] = {}
    with temp_table("_import_keys", _keys_frame(keys), _KEY_COLUMNS) as k:
        join = "x.source_system = k.source_system AND x.source_id = k.source_id"
        noted = fetch_frame(
            f"SELECT k.source_system, k.source_id, x.person_id FROM {k} k "  # noqa: S608
            f"JOIN {_table(PersonIdentifier)} x ON {join}",
            _KEY_SCHEMA,
        )
        people = fetch_frame(
            f"SELECT k.source_system, k.source_id, x.id FROM {k} k "  # noqa: S608
            f"JOIN {_table(Person)} x ON {join} AND x.source_id <> ''",
            _KEY_SCHEMA,
        )
    for system, sid, pk in noted.iter_rows():
        found[(system, sid)] = pk
    for system, sid, pk in people.iter_rows():  # the person's own id wins over a noted one
        found[(system, sid)] = pk
        if own is not None:
            own.add((system, sid))
    return found


def _existing_by_identifier(values: set[str]) -> dict[str, set[int]]:
    """Identifier value -> ids of people with it as PNC id, CRN or prison number."""
    found: dict[str, set[int]] = defaultdict(set)
    vals = sorted(v for v in values if v)
    if not vals:
        return found
    frame = pl.DataFrame({"v": vals}, schema={"v": pl.String})
    with temp_table("_import_idents", frame, "v varchar(64)") as k:
        sql = " UNION ALL ".join(
            f"SELECT k.v, p.id FROM {k} k JOIN {_table(Person)} p ON p.{col} = k.v"  # noqa: S608
            for col in IDENTIFIERS
        )
        rows = fetch_frame(sql, {"v": pl.String, "pk": pl.Int64})
    for value, pk in rows.iter_rows():
        found[value.upper()].add(pk)
    return found


def _pending_keys(keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not keys or not PendingMatch.objects.filter(status=MatchStatus.PENDING).exists():
        return {}
    with temp_table("_import_keys", _keys_frame(keys), _KEY_COLUMNS) as k:
        rows = fetch_frame(
            f"SELECT k.source_system, k.source_id, m.id FROM {k} k "  # noqa: S608
            f"JOIN {_table(PendingMatch)} m ON m.source_system = k.source_system "
            "AND m.source_id = k.source_id AND m.status = %s",
            _KEY_SCHEMA,
            [MatchStatus.PENDING.value],
        )
    return {(system, sid): pk for system, sid, pk in rows.iter_rows()}


def _name_dob_candidates(
    rows: list[tuple[str, str, dt.date]],
) -> dict[tuple[str, str, dt.date], list[int]]:
    """(normalised first names, normalised surname, date of birth) -> ids of people, by id."""
    found: dict[tuple[str, str, dt.date], list[int]] = defaultdict(list)
    if not rows:
        return found
    frame = pl.DataFrame(
        {
            "k": list(range(len(rows))),
            "fn": [r[0] for r in rows],
            "sn": [r[1] for r in rows],
            "dob": [r[2] for r in rows],
        },
        schema={"k": pl.Int64, "fn": pl.String, "sn": pl.String, "dob": pl.Date},
    )
    with temp_table(
        "_import_names", frame, "k bigint, fn varchar(200), sn varchar(100), dob date"
    ) as k:
        hits = fetch_frame(
            f"SELECT k.k, p.id FROM {k} k JOIN {_table(Person)} p "  # noqa: S608
            "ON p.first_names_norm = k.fn AND p.surname_norm = k.sn AND p.date_of_birth = k.dob "
            "ORDER BY p.id",
            {"k": pl.Int64, "pk": pl.Int64},
        )
    for i, pk in hits.iter_rows():
        found[rows[i]].append(pk)
    return found


def _link_people(frame: pl.DataFrame, name: str) -> tuple[pl.DataFrame, list[FileProblem]]:
    """Decide for each people row: existing (same source id), link (shared identifier),
    pending (name and date of birth only) or new. Adds _action, _pk and _candidates."""
    rows = frame.select(
        ROW, "source_system", "person_id", *IDENTIFIERS, "first_names", "surname", "date_of_birth"
    ).rows()
    keys = {(r[1], r[2]) for r in rows}
    own: set[tuple[str, str]] = set()
    by_source = _existing_by_source(keys, own)
    pending = _pending_keys(keys)
    unmatched = [r for r in rows if (r[1], r[2]) not in by_source]
    idents = _existing_by_identifier({v for r in unmatched for v in r[3:6] if v})
    names = {
        (normalise_name(r[6]), normalise_name(r[7]), r[8])
        for r in unmatched
        if not any(idents.get(v) for v in r[3:6] if v)
    }
    candidates = _name_dob_candidates(list(names)) if names else {}
    actions: list[str] = []
    pks: list[int | None] = []
    cands: list[list[int]] = []
    problems: list[FileProblem] = []
    for r in rows:
        row, system, pid = r[0], r[1], r[2]
        key = (system, pid)
        if key in by_source:
            # Their own record, or another system's id noted on them by an earlier link.
            actions.append("existing" if key in own else "link")
            pks.append(by_source[key])
            cands.append([])
            continue
        matched: dict[int, str] = {}
        for col, v in zip(IDENTIFIERS, r[3:6], strict=True):
            for pk in idents.get(v or "", set()):
                matched.setdefault(pk, col)
        if len(matched) > 1:
            problems.append(
                FileProblem(
                    name,
                    row,
                    ", ".join(IDENTIFIERS),
                    " / ".join(v or "" for v in r[3:6]),
                    "the identifiers match more than one existing person "
                    f"(person ids {', '.join(str(p) for p in sorted(matched))}); "
                    "correct the identifiers or merge those people first",
                )
            )
            actions.append("error")
            pks.append(None)
            cands.append([])
        elif matched:
            actions.append("link")
            pks.append(next(iter(matched)))
            cands.append([])
        else:
            found = candidates.get((normalise_name(r[6]), normalise_name(r[7]), r[8]), [])
            if found or key in pending:
                actions.append("pending")
                pks.append(None)
                cands.append(found)
            else:
                actions.append("new")
                pks.append(None)
                cands.append([])
    linked = frame.with_columns(
        pl.Series("_action", actions, dtype=pl.String),
        pl.Series("_pk", pks, dtype=pl.Int64),
        pl.Series("_candidates", cands, dtype=pl.List(pl.Int64)),
    )
    return linked, problems


def _link_records(
    rt: RecordType,
    frame: pl.DataFrame,
    name: str,
    people: pl.DataFrame | None,
) -> tuple[pl.DataFrame, list[FileProblem], int]:
    """Adds _pk (existing person), _pkey (a people row of this batch) or _held (a person
    already waiting in the match queue). Unlinkable rows are problems."""
    pairs = frame.select("source_system", "person_id").unique().rows()
    batch_keys: set[tuple[str, str]] = set()
    batch_idents: dict[str, tuple[str, str]] = {}
    if people is not None:
        for system, pid, *ids in people.select(
            "source_system", "person_id", *IDENTIFIERS
        ).iter_rows():
            batch_keys.add((system, pid))
            for v in ids:
                if v:
                    batch_idents[v] = (system, pid)
    rest = {p for p in pairs if p not in batch_keys}
    by_source = _existing_by_source(rest) if rest else {}
    rest -= set(by_source)
    pending = _pending_keys(rest) if rest else {}
    rest -= set(pending)
    idents = _existing_by_identifier({pid.upper() for _, pid in rest}) if rest else {}
    out_sys, out_pid, out_pk, out_key, out_held, unlinked = [], [], [], [], [], {}
    for system, pid in pairs:
        pk: int | None = None
        pkey: str | None = None
        held: str | None = None
        up = pid.upper()
        if (system, pid) in batch_keys:
            pkey = f"{system}{SEP}{pid}"
        elif (system, pid) in by_source:
            pk = by_source[(system, pid)]
        elif (system, pid) in pending:
            held = f"{system}{SEP}{pid}"
        elif up in batch_idents:
            pkey = SEP.join(batch_idents[up])
        elif len(idents.get(up, ())) == 1:
            pk = next(iter(idents[up]))
        elif len(idents.get(up, ())) > 1:
            unlinked[(system, pid)] = (
                f"'{pid}' is the PNC id, CRN or prison number of more than one person "
                f"(person ids {', '.join(str(p) for p in sorted(idents[up]))})"
            )
        else:
            unlinked[(system, pid)] = (
                f"'{pid}' matches no person: not a person_id from {system} in people.csv of "
                "this batch or of an earlier import, nor anyone's PNC id, CRN or prison number"
            )
        out_sys.append(system)
        out_pid.append(pid)
        out_pk.append(pk)
        out_key.append(pkey)
        out_held.append(held)
    mapping = pl.DataFrame(
        {
            "source_system": pl.Series(out_sys, dtype=pl.String),
            "person_id": pl.Series(out_pid, dtype=pl.String),
            "_pk": pl.Series(out_pk, dtype=pl.Int64),
            "_pkey": pl.Series(out_key, dtype=pl.String),
            "_held": pl.Series(out_held, dtype=pl.String),
        }
    )
    linked = frame.join(mapping, on=["source_system", "person_id"], how="left")
    problems: list[FileProblem] = []
    count = 0
    if unlinked:
        bad = linked.filter(
            pl.col("_pk").is_null() & pl.col("_pkey").is_null() & pl.col("_held").is_null()
        ).sort(ROW)
        count = bad.height
        for row, system, pid in (
            bad.select(ROW, "source_system", "person_id").head(MAX_STORED_ERRORS).iter_rows()
        ):
            problems.append(FileProblem(name, row, "person_id", pid, unlinked[(system, pid)]))
    return linked, problems, count


# --- writing -------------------------------------------------------------------------------


def _jsonable_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    cols = [c for c in frame.columns if not c.startswith("_") and c != ROW]
    out = frame.select(
        [
            pl.col(c).cast(pl.String) if frame.schema[c] == pl.Date else pl.col(c)
            for c in [ROW, *cols]
        ]
    )
    return out.to_dicts()


def _frame_from_json(rt: RecordType, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema: dict[str, Any] = {ROW: pl.Int64}
    for c in rt.columns:
        if c.kind == "date":
            schema[c.name] = pl.String
        elif c.kind in {"int", "hub", "offence_code"}:
            schema[c.name] = pl.Int64
        else:
            schema[c.name] = pl.String
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(
        [pl.col(c.name).str.strptime(pl.Date, "%Y-%m-%d") for c in rt.columns if c.kind == "date"]
    )


def _record_attnames(rt: RecordType) -> list[str]:
    return ["person_id"] + [
        c.attname for c in rt.columns if c.attname and c.name not in {"person_id"}
    ]


def _person_frame(people: pl.DataFrame) -> pl.DataFrame:
    """People rows as Person columns, with the normalised names search uses."""
    cols = {c.attname: c.name for c in PEOPLE.columns if c.attname}
    return people.select(
        pl.col("source_system"),
        pl.col("person_id").alias("source_id"),
        *[pl.col(name).alias(att) for att, name in cols.items()],
        pl.col("first_names")
        .map_elements(normalise_name, return_dtype=pl.String)
        .alias("first_names_norm"),
        pl.col("surname")
        .map_elements(normalise_name, return_dtype=pl.String)
        .alias("surname_norm"),
    )


def _write_people(
    people: pl.DataFrame, *, agency_id: int | None, progress: _Progress
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Returns (people key -> person id, person counts, address counts)."""
    keyed = people.with_columns(
        pl.concat_str([pl.col("source_system"), pl.lit(SEP), pl.col("person_id")]).alias("_key")
    )
    own = keyed.filter(pl.col("_action").is_in(["existing", "new"]))
    counts, ids = upsert(
        Person,
        _person_frame(own),
        PERSON_FIELDS,
        agency_id=agency_id,
        progress=progress,
        return_ids=True,
    )
    key_to_pk: dict[str, int] = {
        f"{s}{SEP}{sid}": pk for s, sid, pk in ids.select("source_system", "source_id", "id").rows()
    }
    linked = keyed.filter(pl.col("_action") == "link")
    for row in linked.iter_rows(named=True):
        person = Person.objects.get(pk=row["_pk"])
        _link_source(person, row)
        key_to_pk[row["_key"]] = person.pk
    addr_counts = _write_addresses(keyed, key_to_pk, agency_id=agency_id)
    person_counts = counts.as_dict() | {"linked": linked.height}
    return key_to_pk, person_counts, addr_counts


def _link_source(person: Person, row: dict[str, Any]) -> None:
    """A row from another system for a person we hold: note its id, fill blank identifiers."""
    changed = [col for col in IDENTIFIERS if row.get(col) and not getattr(person, col)]
    for col in changed:
        setattr(person, col, row[col])
    if changed:
        person.save(update_fields=[*changed, "updated_at"])
    value = f"{row['source_system']}:{row['person_id']}"
    if len(value) <= 40:
        PersonIdentifier.objects.get_or_create(
            source_system=row["source_system"],
            source_id=row["person_id"],
            defaults={"person": person, "scheme": IdentifierScheme.OTHER, "value": value.upper()},
        )


def _write_addresses(
    people: pl.DataFrame, key_to_pk: dict[str, int], *, agency_id: int | None
) -> dict[str, int]:
    with_addr = people.filter(
        pl.col("address_line_1").is_not_null() & pl.col("_key").is_in(list(key_to_pk))
    )
    if not with_addr.height:
        return Counts().as_dict()
    frame = with_addr.select(
        pl.col("source_system"),
        pl.col("person_id").alias("source_id"),
        pl.col("_key").replace_strict(key_to_pk, return_dtype=pl.Int64).alias("person_id"),
        pl.col("address_line_1").alias("line_1"),
        pl.col("address_town").alias("town"),
        pl.col("address_postcode").alias("postcode"),
    )
    counts, _ = upsert(Address, frame, ADDRESS_FIELDS, agency_id=agency_id)
    return counts.as_dict()


def _write_records(
    rt: RecordType,
    frame: pl.DataFrame,
    *,
    person_ids: pl.Series,
    agency_id: int | None,
    progress: Callable[[int], None] | None,
) -> dict[str, int]:
    cols = [c for c in rt.columns if c.attname and c.name != "person_id"]
    model_frame = frame.select(
        pl.col("source_system"),
        pl.col(rt.id_column).alias("source_id"),
        person_ids.alias("person_id"),
        *[pl.col(c.name).alias(c.attname or c.name) for c in cols],
    )
    counts, _ = upsert(
        rt.model, model_frame, _record_attnames(rt), agency_id=agency_id, progress=progress
    )
    return counts.as_dict()


def _hold(
    *,
    batch: ImportBatch,
    people: pl.DataFrame | None,
    held_records: dict[str, dict[str, list[dict[str, Any]]]],
) -> int:
    """Queue (or refresh) a PendingMatch for each person waiting for a decision."""
    queued = 0
    rows_by_key: dict[str, dict[str, Any]] = {}
    cands: dict[str, list[int]] = {}
    if people is not None:
        pending = people.filter(pl.col("_action") == "pending")
        for row, cand in zip(
            _jsonable_rows(pending), pending["_candidates"].to_list(), strict=True
        ):
            key = f"{row['source_system']}{SEP}{row['person_id']}"
            rows_by_key[key] = row
            cands[key] = list(cand or [])
    for key in sorted(set(rows_by_key) | set(held_records)):
        system, pid = key.split(SEP, 1)
        match = (
            PendingMatch.objects.select_for_update()
            .filter(source_system=system, source_id=pid, status=MatchStatus.PENDING)
            .first()
        )
        records = held_records.get(key, {})
        if match is None:
            ids = cands.get(key, [])
            match = PendingMatch(
                batch=batch,
                source_system=system,
                source_id=pid,
                incoming={"person": rows_by_key[key], "records": {}},
                candidate_id=ids[0] if ids else None,
                candidate_ids=ids,
            )
            queued += 1
        incoming = dict(match.incoming)
        if key in rows_by_key:
            incoming["person"] = rows_by_key[key]
            if cands.get(key):
                match.candidate_ids = cands[key]
                match.candidate_id = cands[key][0]
        merged = dict(incoming.get("records", {}))
        for rt_name, rows in records.items():
            by_id = {r[RECORD_TYPES[rt_name].id_column]: r for r in merged.get(rt_name, [])}
            for r in rows:
                by_id[r[RECORD_TYPES[rt_name].id_column]] = r
            merged[rt_name] = list(by_id.values())
        incoming["records"] = merged
        match.incoming = incoming
        match.batch = batch
        match.save()
    return queued


def _write_all(
    checked: dict[str, _Checked], *, batch: ImportBatch, progress: _Progress
) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    agency_id = batch.agency_id
    key_to_pk: dict[str, int] = {}
    people = checked["people"].frame if "people" in checked else None
    if people is not None:
        key_to_pk, counts["people"], counts["addresses"] = _write_people(
            people, agency_id=agency_id, progress=progress
        )
        counts["people"]["held"] = people.filter(pl.col("_action") == "pending").height
        progress.advance(people.height)
    held: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for rt_name in ORDER[1:]:
        if rt_name not in checked:
            continue
        item = checked[rt_name]
        frame = item.frame.with_columns(
            pl.coalesce(
                pl.col("_pk"),
                pl.col("_pkey").replace_strict(key_to_pk, default=None, return_dtype=pl.Int64),
            ).alias("_person")
        )
        ready = frame.filter(pl.col("_person").is_not_null())
        waiting = frame.filter(pl.col("_person").is_null()).with_columns(
            pl.coalesce(pl.col("_pkey"), pl.col("_held")).alias("_wait")
        )
        for key, group in waiting.group_by("_wait"):
            held[str(key[0])][rt_name] = _jsonable_rows(group.drop("_wait"))
        counts[rt_name] = _write_records(
            item.rt,
            ready,
            person_ids=ready["_person"],
            agency_id=agency_id,
            progress=progress,
        )
        counts[rt_name]["held"] = waiting.height
        progress.advance(item.frame.height)
    queued = _hold(batch=batch, people=people, held_records=held)
    counts["matches"] = {"queued": queued}
    return counts


# --- the services --------------------------------------------------------------------------


def _checksum(files: Sequence[ExtractFile]) -> tuple[str, list[dict[str, Any]]]:
    meta = []
    overall = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest = hashlib.sha256(f.data).hexdigest()
        overall.update(f"{f.name}\0{digest}\n".encode())
        meta.append(
            {
                "name": f.name,
                "record_type": _type_for(f) or "",
                "bytes": len(f.data),
                "sha256": digest,
            }
        )
    return overall.hexdigest(), meta


def _reject(
    result: ImportResult, problems: list[FileProblem], count: int, *, actor: Actor
) -> ImportResult:
    batch = result.batch
    count = max(count, len(problems))
    batch.status = BatchStatus.REJECTED
    batch.error_count = count
    batch.finished_at = timezone.now()
    batch.message = f"Nothing was imported: {count:,} error{'s' if count != 1 else ''} found" + (
        f" (the first {MAX_STORED_ERRORS:,} are listed)" if count > MAX_STORED_ERRORS else ""
    )
    names = ", ".join(f["name"] for f in batch.files) or "the upload"
    with transaction.atomic():
        batch.save()
        ImportRowError.objects.bulk_create(
            [
                ImportRowError(
                    batch=batch,
                    file_name=p.file_name[:255],
                    row=p.row,
                    column=p.column[:200],
                    value=(p.value or "")[:200],
                    message=p.message[:1000],
                )
                for p in problems[:MAX_STORED_ERRORS]
            ],
            batch_size=500,
        )
        record(
            "import.rejected",
            actor=actor,
            obj=batch,
            details={"batch": batch.pk, "errors": count, "files": batch.files},
            context={"file": names, "errors": count},
        )
    result.problems = problems[:MAX_STORED_ERRORS]
    result.error_count = count
    return result


def import_extract(
    *,
    actor: Actor,
    files: Sequence[ExtractFile],
    agency: Agency,
    progress: Callable[[int, int], None] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import extract files all-or-nothing, now; returns the batch (completed, rejected or
    failed).

    With dry_run, everything is checked and written inside a transaction that is then rolled
    back, so the counts are exact and nothing is kept (not even the batch).
    """
    require(actor, Action.IMPORT_EXTRACT)
    if dry_run:
        with transaction.atomic():
            result = _run(actor=actor, files=files, agency=agency, progress=progress)
            result.dry_run = True
            transaction.set_rollback(True)
        return result
    return _run(actor=actor, files=files, agency=agency, progress=progress)


# --- background imports --------------------------------------------------------------------

DEFAULT_SYNC_MAX_BYTES = 1_000_000


def sync_max_bytes() -> int:
    """Uploads up to this size are imported within the request (no wait for a worker)."""
    return int(getattr(settings, "IMPORT_SYNC_MAX_BYTES", DEFAULT_SYNC_MAX_BYTES))


def _stored_name(batch_pk: int, index: int) -> str:
    # Never the uploaded file name: it is the user's text and must not become a path.
    return f"imports/{batch_pk}/{index}.upload"


def start_import(
    *,
    actor: Actor,
    files: Sequence[ExtractFile],
    agency: Agency,
    membership_id: int | None = None,
) -> ImportBatch:
    """The upload page's import: small uploads now, larger ones as background work.

    For the background, the files are stored (default storage, under imports/<batch id>/) and
    a task is queued; the batch stays *pending* until a worker (manage.py db_worker) takes it,
    and its page shows progress. The stored files are deleted when the task ends."""
    require(actor, Action.IMPORT_EXTRACT)
    if sum(len(f.data) for f in files) <= sync_max_bytes():
        return _run(actor=actor, files=files, agency=agency, progress=None).batch
    from openiom.imports.tasks import import_batch_task

    batch = _create_batch(actor=actor, files=files, agency=agency, status=BatchStatus.PENDING)
    try:
        # batch.files is in this order (see _checksum); file i is stored as number i.
        for i, f in enumerate(sorted(files, key=lambda f: f.name)):
            name = _stored_name(batch.pk, i)
            if default_storage.exists(name):  # left by a database since reset: never reuse
                default_storage.delete(name)
            if default_storage.save(name, ContentFile(f.data)) != name:
                raise OSError(f"the upload could not be stored as {name}")
        task_result = import_batch_task.enqueue(batch_id=batch.pk, membership_id=membership_id)
    except Exception as e:
        log.exception("import batch %s could not be queued", batch.pk)
        _fail(batch.pk, f"The import could not be started ({type(e).__name__}: {e})")
        _delete_stored(batch)
    else:
        # update(), not save(): an immediate backend has already run the task.
        ImportBatch.objects.filter(pk=batch.pk).update(task_id=str(task_result.id)[:64])
    batch.refresh_from_db()
    return batch


def run_stored_batch(*, batch_id: int, membership_id: int | None = None) -> str:
    """The background task's work: import a pending batch from its stored files.

    Whatever happens the batch ends completed, rejected or failed (with the reason), and the
    stored files are deleted. A batch that is no longer pending (a repeated task) is left alone.
    """
    from openiom.accounts.actor import actor_for_user

    fail_stalled_batches()
    now = timezone.now()
    claimed = ImportBatch.objects.filter(pk=batch_id, status=BatchStatus.PENDING).update(
        status=BatchStatus.VALIDATING, started_at=now, heartbeat_at=now
    )
    batch = ImportBatch.objects.select_related("agency", "created_by").get(pk=batch_id)
    if not claimed:
        log.warning("import batch %s is %s, not pending; not run again", batch_id, batch.status)
        return str(batch.status)
    try:
        if batch.created_by is None:
            raise ValueError("the batch has no user to act as")
        actor = actor_for_user(batch.created_by, membership_id)
        require(actor, Action.IMPORT_EXTRACT)
        files = []
        for i, m in enumerate(batch.files):
            try:
                with default_storage.open(_stored_name(batch.pk, i), "rb") as fh:
                    data = fh.read()
            except OSError as e:
                raise ValueError(f"the uploaded file {m['name']} is no longer stored") from e
            files.append(ExtractFile(m["name"], data, m.get("record_type") or None))
        result = _process(result=ImportResult(batch), actor=actor, files=files, progress=None)
        return str(result.batch.status)
    except Exception as e:
        log.exception("import batch %s failed", batch_id)
        _fail(batch_id, _failure_message(e))
        return str(BatchStatus.FAILED)
    finally:
        _delete_stored(batch)


def _failure_message(e: BaseException) -> str:
    if isinstance(e, PermissionDenied):
        why = "the uploader is no longer allowed to import extracts"
    else:
        why = f"{type(e).__name__}: {e}"
    return f"Nothing was imported: the import stopped because of an unexpected problem ({why})"[
        :500
    ]


def _fail(batch_pk: int, message: str) -> None:
    """Mark an unfinished batch failed. Outside any transaction of the import, so it sticks."""
    marked = (
        ImportBatch.objects.filter(pk=batch_pk)
        .exclude(status__in=[BatchStatus.COMPLETED, BatchStatus.REJECTED, BatchStatus.FAILED])
        .update(status=BatchStatus.FAILED, message=message[:500], finished_at=timezone.now())
    )
    if marked:
        batch = ImportBatch.objects.select_related("created_by").get(pk=batch_pk)
        record(
            "import.failed",
            actor=None,
            obj=batch,
            username=batch.created_by.get_username() if batch.created_by else "",
            context={"file": ", ".join(f.get("name", "") for f in batch.files), "why": message},
            details={"batch_id": batch_pk, "message": message[:500]},
        )


def _delete_stored(batch: ImportBatch) -> None:
    for i in range(len(batch.files)):
        try:
            default_storage.delete(_stored_name(batch.pk, i))
        except OSError:  # deleting is tidying up; a leftover file must not fail the batch
            log.warning("could not delete stored upload %s", _stored_name(batch.pk, i))
    with contextlib.suppress(NotImplementedError, OSError):  # the now empty folder, if any
        os.rmdir(default_storage.path(f"imports/{batch.pk}"))


def fail_stalled_batches() -> int:
    """Mark failed the batches that stopped without finishing (their worker died): running,
    but no sign of progress for settings.IMPORT_STALLED_AFTER_SECONDS. Their write transaction
    was rolled back with the worker, so nothing of them is in the database."""
    cutoff = timezone.now() - stalled_after()
    running = ImportBatch.objects.filter(status__in=[BatchStatus.VALIDATING, BatchStatus.IMPORTING])
    stale = running.filter(heartbeat_at__lt=cutoff) | running.filter(
        heartbeat_at__isnull=True, started_at__lt=cutoff
    )
    return stale.update(
        status=BatchStatus.FAILED,
        finished_at=timezone.now(),
        message="Nothing was imported: the import stopped without finishing (no progress for "
        f"{int(stalled_after().total_seconds() // 60)} minutes). Upload the files again.",
    )


def _create_batch(
    *, actor: Actor, files: Sequence[ExtractFile], agency: Agency, status: str
) -> ImportBatch:
    checksum, meta = _checksum(files)
    now = timezone.now()
    return ImportBatch.objects.create(
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
        agency=agency,
        files=meta,
        checksum=checksum,
        status=status,
        started_at=now if status != BatchStatus.PENDING else None,
        heartbeat_at=now if status != BatchStatus.PENDING else None,
    )


def _run(
    *,
    actor: Actor,
    files: Sequence[ExtractFile],
    agency: Agency,
    progress: Callable[[int, int], None] | None,
) -> ImportResult:
    batch = _create_batch(actor=actor, files=files, agency=agency, status=BatchStatus.VALIDATING)
    return _process(result=ImportResult(batch), actor=actor, files=files, progress=progress)


def _process(
    *,
    result: ImportResult,
    actor: Actor,
    files: Sequence[ExtractFile],
    progress: Callable[[int, int], None] | None,
) -> ImportResult:
    batch = result.batch
    agency = batch.agency
    checksum = batch.checksum
    problems = _file_problems(files)
    if problems:
        return _reject(result, problems, len(problems), actor=actor)
    try:
        checked, problems, count = _check_files(files, load_lookups())
        for m in batch.files:
            item = checked.get(m["record_type"])
            m["rows"] = item.frame.height if item else None
        _beat(batch)
        if not problems:
            people = checked.get("people")
            if people is not None:
                people.frame, found = _link_people(people.frame, people.name)
                problems += found
                count += len(found)
            for rt_name in ORDER[1:]:
                if rt_name in checked:
                    item = checked[rt_name]
                    item.frame, found, n = _link_records(
                        item.rt, item.frame, item.name, people.frame if people else None
                    )
                    problems += found
                    count += n
    except Exception as e:  # never a 500: an unreadable upload is reported, not raised
        log.exception("import batch %s failed while checking", batch.pk)
        problems = [FileProblem("(upload)", None, "", "", f"the files could not be checked: {e}")]
        count = 1
    if problems:
        return _reject(result, problems, count, actor=actor)

    batch.status = BatchStatus.IMPORTING
    batch.rows_total = sum(c.frame.height for c in checked.values())
    batch.heartbeat_at = timezone.now()
    batch.save(update_fields=["status", "rows_total", "files", "heartbeat_at"])
    reporter = _Progress(batch, progress)
    reporter.start_side_connection()
    try:
        with transaction.atomic():
            counts = _write_all(checked, batch=batch, progress=reporter)
            batch.status = BatchStatus.COMPLETED
            batch.counts = counts
            batch.rows_done = batch.rows_total
            batch.finished_at = timezone.now()
            batch.heartbeat_at = batch.finished_at
            batch.message = _summary(counts)
            batch.save()
            record(
                "import.collected",
                actor=actor,
                obj=batch,
                details={
                    "batch": batch.pk,
                    "agency": agency.code,
                    "checksum": checksum,
                    "files": batch.files,
                    "counts": counts,
                },
                context={
                    "file": ", ".join(m["name"] for m in batch.files),
                    "rows": batch.rows_total,
                },
            )
            # New arrests, offences and intelligence on registered people reach their lead
            # workers as soon as the import is committed (not at the next daily run). Never on a
            # dry run: its transaction is rolled back, so the callback is discarded.
            transaction.on_commit(_raise_alerts_after_import)
    except DatabaseError as e:
        log.exception("import batch %s failed while writing", batch.pk)
        batch.refresh_from_db()
        problem = FileProblem("(upload)", None, "", "", f"the database refused the import: {e}")
        return _reject(result, [problem], 1, actor=actor)
    except Exception as e:
        # A bug or lost resource: the transaction is rolled back; say so rather than leave
        # the batch "importing" for ever.
        log.exception("import batch %s failed while writing", batch.pk)
        _fail(batch.pk, _failure_message(e))
        batch.refresh_from_db()
    finally:
        reporter.close()
    return result


def _raise_alerts_after_import() -> None:
    from openiom.casework.alerts import raise_alerts

    try:
        raise_alerts(on=timezone.localdate())
    except Exception:  # the import has landed; a failed alert run is retried by the daily run
        log.exception("raising alerts after an import failed")


def _beat(batch: ImportBatch) -> None:
    """A sign of life between the stages of checking (for the stalled-batch display)."""
    if batch.pk and not connection.in_atomic_block:
        ImportBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now())


def _summary(counts: dict[str, dict[str, int]]) -> str:
    created = sum(c.get("created", 0) for c in counts.values())
    updated = sum(c.get("updated", 0) for c in counts.values())
    unchanged = sum(c.get("unchanged", 0) for c in counts.values())
    queued = counts.get("matches", {}).get("queued", 0)
    text = f"Imported: {created:,} created, {updated:,} updated, {unchanged:,} unchanged"
    if queued:
        text += f"; {queued:,} possible match{'es' if queued != 1 else ''} to confirm"
    return text


def resolve_pending_match(*, actor: Actor, match: PendingMatch, decision: str) -> Person:
    """Merge the incoming person into the candidate, or create them as a new person; then
    import the records held with them."""
    if decision not in {MatchDecision.MERGE, MatchDecision.NEW}:
        raise ValueError("Choose whether this is the same person or a different person")
    require(actor, Action.RESOLVE_MATCH)
    with transaction.atomic():
        match = PendingMatch.objects.select_for_update().select_related("batch").get(pk=match.pk)
        if match.status != MatchStatus.PENDING:
            raise ValueError("This possible match has already been resolved")
        row = match.person_row
        people = _frame_from_json(PEOPLE, [row])
        agency_id = match.batch.agency_id
        if decision == MatchDecision.MERGE:
            if match.candidate_id is None:
                raise ValueError("The existing person no longer exists; create a new person")
            person = Person.objects.get(pk=match.candidate_id)
            _link_source(person, people.rows(named=True)[0])
        else:
            upsert(Person, _person_frame(people), PERSON_FIELDS, agency_id=agency_id)
            person = Person.objects.get(
                source_system=match.source_system, source_id=match.source_id
            )
        key = f"{match.source_system}{SEP}{match.source_id}"
        _write_addresses(
            people.with_columns(pl.lit(key).alias("_key")), {key: person.pk}, agency_id=agency_id
        )
        applied: dict[str, dict[str, int]] = {}
        for rt_name, rows in match.incoming.get("records", {}).items():
            rt = RECORD_TYPES[rt_name]
            frame = _frame_from_json(rt, rows)
            applied[rt_name] = _write_records(
                rt,
                frame,
                person_ids=pl.Series([person.pk] * frame.height, dtype=pl.Int64),
                agency_id=agency_id,
                progress=None,
            )
        match.status = MatchStatus.RESOLVED
        match.decision = decision
        match.resolved_person = person
        match.resolved_by = actor.user
        match.resolved_at = timezone.now()
        match.save()
        label = "same person, merged" if decision == MatchDecision.MERGE else "new person"
        record(
            "import.match_resolved",
            actor=actor,
            obj=match,
            person_id=person.pk,
            details={
                "decision": decision,
                "source": f"{match.source_system}:{match.source_id}",
                "candidate": match.candidate_id,
                "records": applied,
            },
            context={"person": str(person), "decision": label},
        )
        if decision == MatchDecision.MERGE:
            record(
                "person.merged",
                actor=actor,
                obj=person,
                person_id=person.pk,
                details={"source": f"{match.source_system}:{match.source_id}", "match": match.pk},
                context={
                    "source": f"{match.source_system}:{match.source_id}",
                    "person": str(person),
                },
            )
    return person
