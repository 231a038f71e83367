"""The audit hash chain: every event's hash covers the previous event's hash and its own fields.

Each event stores its position in the chain (`sequence`: 1, 2, 3... with no gaps), the previous
event's hash (`prev_hash`) and its own `chain_hash` = SHA-256 of the previous hash and a canonical
JSON serialisation of its stored fields. Changing any stored field of a row, removing a row or
slipping a row in between two others therefore shows when the chain is walked (`verify()`,
`manage.py verify_audit`).

Writers are serialised so the chain is one sequence even with several workers: on PostgreSQL by a
transaction-level advisory lock taken before the previous hash is read (held until the write's
transaction commits or rolls back); SQLite allows one writer at a time, and the unique
`sequence` refuses a fork outright.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

GENESIS = "0" * 64
# pg_advisory_xact_lock key for audit writers: "openiom audit chain" as a stable 63-bit number.
ADVISORY_LOCK_KEY = 0x6F70_656E_696F_6D41  # b"openiomA"
# The stored fields the hash covers, in this order (the serialisation sorts keys anyway).
HASHED_FIELDS = (
    "id",
    "sequence",
    "occurred_at",
    "event_type",
    "category",
    "actor_id",
    "actor_username",
    "actor_agency_id",
    "actor_role",
    "object_type",
    "object_id",
    "person_id",
    "summary",
    "before",
    "after",
    "details",
    "request_id",
    "ip_address",
)
# Every column verify() reads: the hashed fields plus the two stored hashes.
COLUMNS = (*HASHED_FIELDS, "prev_hash", "chain_hash")


def _normal(value: Any) -> Any:
    """JSON values as the database gives them back (jsonb drops '.0' from whole floats)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ip(value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).split("/")[0]  # PostgreSQL inet may add a /32 mask
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def canonical(values: dict[str, Any]) -> str:
    """The canonical serialisation of an event's stored fields (sorted keys, no spaces, UTF-8)."""
    data = {name: values.get(name) for name in HASHED_FIELDS}
    data["occurred_at"] = _time(values["occurred_at"])
    data["ip_address"] = _ip(values.get("ip_address"))
    for name in ("before", "after", "details"):
        data[name] = _normal(data[name])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, values: dict[str, Any]) -> str:
    payload = f"{prev_hash}\n{canonical(values)}".encode()
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class Link:
    """Where the next event goes in the chain: its id, position and the previous hash."""

    id: int
    sequence: int
    prev_hash: str


def next_link() -> Link:
    """Lock the chain (until the current transaction ends) and read where the next event goes.

    Call inside transaction.atomic(); the event must be inserted in the same transaction.
    """
    from openiom.audit.models import AuditEvent

    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')), "  # noqa: S608
                f"(SELECT sequence FROM {table} WHERE sequence IS NOT NULL "
                "ORDER BY sequence DESC LIMIT 1), "
                f"(SELECT chain_hash FROM {table} WHERE sequence IS NOT NULL "
                "ORDER BY sequence DESC LIMIT 1)"
            )
            new_id, last_sequence, last_hash = cursor.fetchone()
        else:
            # SQLite: one writer at a time. The id continues AUTOINCREMENT's counter so ids of
            # removed rows are never reused.
            cursor.execute(
                f"SELECT (SELECT MAX(id) FROM {table}), "  # noqa: S608
                f"(SELECT seq FROM sqlite_sequence WHERE name = '{table}'), "
                f"(SELECT sequence FROM {table} WHERE sequence IS NOT NULL "
                "ORDER BY sequence DESC LIMIT 1), "
                f"(SELECT chain_hash FROM {table} WHERE sequence IS NOT NULL "
                "ORDER BY sequence DESC LIMIT 1)"
            )
            max_id, counter, last_sequence, last_hash = cursor.fetchone()
            new_id = max(max_id or 0, counter or 0) + 1
    return Link(id=new_id, sequence=(last_sequence or 0) + 1, prev_hash=last_hash or GENESIS)


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    kind: str  # "altered", "deleted" or "inserted"
    ids: tuple[int, ...]
    message: str

    def __str__(self) -> str:
        return f"{self.kind.upper()}: {self.message}"


@dataclass
class Report:
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    last_id: int | None = None
    last_hash: str = ""

    @property
    def intact(self) -> bool:
        return not self.problems

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    def summary(self) -> str:
        if self.intact:
            tail = f"; last event {self.last_id}, hash {self.last_hash}" if self.last_id else ""
            return f"{self.events} events, chain intact{tail}"
        counts = ", ".join(
            f"{self.count(k)} {k}" for k in ("altered", "deleted", "inserted") if self.count(k)
        )
        return f"{self.events} events, chain BROKEN: {counts}"


@dataclass(frozen=True)
class _Row:
    id: int
    sequence: int | None
    prev_hash: str
    chain_hash: str
    valid: bool  # its stored hash matches its contents


def _rows(values: Iterable[dict[str, Any]]) -> Iterator[_Row]:
    for v in values:
        expected = link_hash(v["prev_hash"], v)
        yield _Row(
            v["id"], v["sequence"], v["prev_hash"], v["chain_hash"], expected == v["chain_hash"]
        )


def _plural(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"


class _Walker:
    """Walks rows in id order, keeping the last row known to be in the chain (`anchor`) and the
    rows since that do not follow from it (`suspects`) until a later row says which is which:

    - a row that follows the anchor makes the suspects before it *inserted* rows;
    - a row that follows a suspect makes that suspect genuine and the gap between the anchor
      and it *deleted* rows (its position says how many);
    - a row whose stored hash does not match its contents is *altered*.
    """

    MAX_SUSPECTS = 10_000

    def __init__(self, report: Report) -> None:
        self.report = report
        self.anchor: _Row | None = None
        self.suspects: list[_Row] = []

    def _follows(self, prev: _Row | None, row: _Row) -> bool:
        if prev is None:
            return row.prev_hash == GENESIS and row.sequence == 1
        return row.prev_hash == prev.chain_hash and row.sequence == (prev.sequence or 0) + 1

    def _add(self, kind: str, ids: tuple[int, ...], message: str) -> None:
        self.report.problems.append(Problem(kind, ids, message))

    def _accept(self, row: _Row) -> None:
        if not row.valid:
            self._add(
                "altered",
                (row.id,),
                f"event {row.id} (chain position {row.sequence}) has been changed: its contents "
                "no longer match its hash",
            )
        self.anchor = row

    def _inserted(self, rows: list[_Row], before: _Row | None) -> None:
        after = f"after event {self.anchor.id}" if self.anchor else "at the start"
        until = f"before event {before.id}" if before else "at the end of the trail"
        for r in rows:
            self._add(
                "inserted",
                (r.id,),
                f"event {r.id} is not part of the chain ({after}, {until}): it was added outside "
                "the application",
            )

    def _deleted(self, genuine: _Row) -> None:
        prev = self.anchor
        prev_seq = prev.sequence or 0 if prev else 0
        missing = (genuine.sequence or 0) - prev_seq - 1
        where = (
            f"between event {prev.id} and event {genuine.id}"
            if prev
            else f"before event {genuine.id}"
        )
        if missing > 0:
            positions = (
                f"position {prev_seq + 1}"
                if missing == 1
                else f"positions {prev_seq + 1}–{prev_seq + missing}"
            )
            self._add(
                "deleted",
                ((prev.id,) if prev else ()) + (genuine.id,),
                f"{_plural(missing)} missing {where} (chain {positions})",
            )
        elif genuine.valid and (prev is None or prev.valid):
            # Same position, different predecessor: the predecessor was replaced.
            self._add(
                "altered",
                (prev.id,) if prev else (genuine.id,),
                f"event {prev.id if prev else genuine.id} was replaced: event {genuine.id} "
                "records a different predecessor",
            )

    def feed(self, row: _Row) -> None:
        if self._follows(self.anchor, row):
            if self.suspects:
                self._inserted(self.suspects, row)
                self.suspects = []
            self._accept(row)
            return
        for i in range(len(self.suspects) - 1, -1, -1):
            if self._follows(self.suspects[i], row):
                genuine = self.suspects[i]
                self._resolve(self.suspects[:i], genuine, rest=self.suspects[i + 1 :])
                self.feed(row)
                return
        self.suspects.append(row)
        if len(self.suspects) > self.MAX_SUSPECTS:
            self._flush()

    def _resolve(self, inserted: list[_Row], genuine: _Row, rest: list[_Row]) -> None:
        """`genuine` continues the chain after a gap; rows before it were inserted."""
        if inserted:
            self._inserted(inserted, genuine)
        self._deleted(genuine)
        self._accept(genuine)
        self.suspects = []
        if rest:
            self._inserted(rest, None)

    def _flush(self) -> None:
        """Suspects nothing later explains: the first that could continue the chain (valid, and
        further along) is taken as genuine after deleted rows; the rest are fed again."""
        pending, self.suspects = self.suspects, []
        anchor_seq = self.anchor.sequence or 0 if self.anchor else 0
        for i, row in enumerate(pending):
            if row.valid and (row.sequence or 0) > anchor_seq:
                if pending[:i]:
                    self._inserted(pending[:i], row)
                self._deleted(row)
                self._accept(row)
                for later in pending[i + 1 :]:
                    self.feed(later)
                return
        self._inserted(pending, None)

    def finish(self) -> None:
        while self.suspects:
            self._flush()


def verify(*, chunk_size: int = 2000) -> Report:
    """Walk the whole trail in id order (streamed) and report every break in the chain."""
    from openiom.audit.models import AuditEvent

    report = Report()
    walker = _Walker(report)
    values = AuditEvent.objects.order_by("id").values(*COLUMNS).iterator(chunk_size=chunk_size)
    for row in _rows(values):
        report.events += 1
        report.last_id, report.last_hash = row.id, row.chain_hash
        walker.feed(row)
    walker.finish()
    return report
