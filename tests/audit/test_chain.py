"""The tamper-evident hash chain and `manage.py verify_audit`.

Each tamper test changes the table with raw SQL, as someone with database access would, and
checks that verify_audit names exactly what was done. On PostgreSQL the append-only trigger
refuses such SQL, so the tests switch it off inside the test's transaction (they run as the
superuser that owns the table) and back on afterwards.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import connection, connections

from openiom.audit import chain
from openiom.audit.models import AuditEvent
from openiom.audit.services import record
from openiom.core import request_context

TABLE = AuditEvent._meta.db_table
TRIGGER = "audit_event_no_update_delete"


@contextlib.contextmanager
def tampering() -> Iterator[Any]:
    """A cursor that may UPDATE, DELETE and INSERT audit rows (trigger off on PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks must run first: ALTER TABLE refuses pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def leave_id_gap(size: int = 5) -> None:
    """Advance the id counter, as rolled-back transactions do on PostgreSQL, leaving free ids."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
                f"(SELECT MAX(id) FROM {TABLE}) + %s)",
                [size],
            )
        else:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s", [size, TABLE]
            )


def run_verify() -> tuple[bool, str]:
    """(exit status ok?, output) of manage.py verify_audit."""
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + f"{exc}\n"
    return True, out.getvalue()


@pytest.fixture
def trail(actor, make_person) -> list[AuditEvent]:
    """Ten events of varied shape (JSON details, before/after, addresses), newest last."""
    person = make_person()
    token = request_context.set_current(
        request_context.RequestContext(request_id="req-chain", ip_address="2001:db8::1")
    )
    try:
        made = [
            record(
                "person.consulted",
                actor=actor("police.officer"),
                obj=person,
                person_id=person.pk,
                context={"person": str(person)},
                details={"sections": ["identity", "offending"], "score": 1.0, "ratio": 0.1},
            )
        ]
        made += [
            record(
                "person.altered",
                actor=actor("coordinator"),
                obj=person,
                person_id=person.pk,
                before={"surname": f"Smith{i}", "big": 1e20},
                after={"surname": f"Smyth{i}", "note": "Zoë – “quoted” 😀"},
                context={"person": str(person)},
            )
            for i in range(8)
        ]
    finally:
        request_context.reset(token)
    made.append(record("audit.consulted", actor=actor("dpo")))
    return made


def problems(report: chain.Report) -> list[tuple[str, tuple[int, ...]]]:
    return [(p.kind, p.ids) for p in report.problems]


class TestWriting:
    def test_every_event_links_to_the_one_before(self, trail):
        rows = list(AuditEvent.objects.order_by("id"))
        assert [r.sequence for r in rows] == list(range(1, len(rows) + 1))
        assert rows[0].prev_hash == chain.GENESIS
        for before, after in itertools.pairwise(rows):
            assert after.prev_hash == before.chain_hash
        assert len({r.chain_hash for r in rows}) == len(rows)

    def test_the_stored_hash_is_recomputable_from_the_stored_fields(self, trail):
        # Read back from the database (JSON, times, addresses as stored), not the objects made.
        for values in AuditEvent.objects.values(*chain.COLUMNS):
            assert chain.link_hash(values["prev_hash"], values) == values["chain_hash"]

    def test_a_rolled_back_event_leaves_no_trace_in_the_chain(self, trail, actor):
        from django.db import transaction

        last = AuditEvent.objects.order_by("-sequence").first()
        with pytest.raises(RuntimeError), transaction.atomic():
            record("audit.consulted", actor=actor("dpo"))
            raise RuntimeError
        event = record("audit.consulted", actor=actor("dpo"))
        assert event.sequence == last.sequence + 1
        assert event.prev_hash == last.chain_hash
        assert chain.verify().intact


class TestVerifyIntact:
    def test_an_untouched_trail_is_reported_intact_with_exit_status_zero(self, trail):
        count = AuditEvent.objects.count()
        last = AuditEvent.objects.order_by("-id").first()
        ok, output = run_verify()
        assert ok
        assert output.strip() == (
            f"{count} events, chain intact; last event {last.pk}, hash {last.chain_hash}"
        )

    def test_checking_is_itself_recorded_and_keeps_the_chain_intact(self, trail):
        run_verify()
        [checked] = AuditEvent.objects.filter(event_type="audit.verified")
        assert checked.details["intact"] is True
        assert checked.details["events"] == AuditEvent.objects.count() - 1
        ok, _ = run_verify()
        assert ok

    def test_an_empty_trail_is_intact(self, db):
        assert not AuditEvent.objects.exists()
        assert chain.verify().summary() == "0 events, chain intact"


class TestTampering:
    def test_an_altered_row_is_reported_with_its_id(self, trail):
        victim = trail[4]
        with tampering() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET details = %s WHERE id = %s", ['{"sections": []}', victim.pk]
            )

        report = chain.verify()
        assert problems(report) == [("altered", (victim.pk,))]
        ok, output = run_verify()
        assert not ok
        assert f"ALTERED: event {victim.pk} (chain position {victim.sequence})" in output
        assert "chain BROKEN: 1 altered" in output

    @pytest.mark.parametrize("column", ["summary", "actor_username", "occurred_at", "person_id"])
    def test_any_altered_column_is_caught(self, trail, column):
        victim = trail[2]
        new = {
            "summary": "'Nothing happened'",
            "actor_username": "'someone.else'",
            "occurred_at": "occurred_at",  # replaced below per database
            "person_id": "person_id + 1",
        }[column]
        if column == "occurred_at":
            new = (
                "occurred_at - INTERVAL '1 day'"
                if connection.vendor == "postgresql"
                else "datetime(occurred_at, '-1 day')"
            )
        with tampering() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET {column} = {new} WHERE id = %s", [victim.pk])
        assert problems(chain.verify()) == [("altered", (victim.pk,))]

    def test_an_altered_row_with_a_recomputed_hash_is_still_caught(self, trail):
        # A careful forger who recomputes the row's own hash breaks its successor's link.
        victim = trail[4]
        values = AuditEvent.objects.values(*chain.COLUMNS).get(pk=victim.pk)
        values["details"] = {"sections": []}
        forged_hash = chain.link_hash(values["prev_hash"], values)
        with tampering() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET details = %s, chain_hash = %s WHERE id = %s",
                ['{"sections": []}', forged_hash, victim.pk],
            )
        report = chain.verify()
        assert problems(report) == [("altered", (victim.pk,))]
        assert f"event {victim.pk} was replaced" in report.problems[0].message

    def test_a_deleted_row_is_reported_between_its_neighbours(self, trail):
        before, victim, after = trail[3], trail[4], trail[5]
        with tampering() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk])

        report = chain.verify()
        assert problems(report) == [("deleted", (before.pk, after.pk))]
        ok, output = run_verify()
        assert not ok
        assert (
            f"DELETED: 1 event missing between event {before.pk} and event {after.pk} "
            f"(chain position {victim.sequence})"
        ) in output

    def test_several_deleted_rows_are_counted(self, trail):
        before, after = trail[2], trail[6]
        with tampering() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id > %s AND id < %s", [before.pk, after.pk])
        report = chain.verify()
        assert problems(report) == [("deleted", (before.pk, after.pk))]
        assert report.problems[0].message.startswith("3 events missing")

    def test_a_deleted_second_to_last_row_is_caught(self, trail):
        before, victim, last = trail[-3], trail[-2], trail[-1]
        with tampering() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk])
        assert problems(chain.verify()) == [("deleted", (before.pk, last.pk))]

    def _forge(self, cursor: Any, *, id: int, copy_of: AuditEvent, **changes: Any) -> None:
        columns = [c for c in chain.COLUMNS if c != "id"]
        values = {c: changes.get(c, "__copy__") for c in columns}
        select = ", ".join("%s" if values[c] != "__copy__" else c for c in columns)
        params = [values[c] for c in columns if values[c] != "__copy__"]
        cursor.execute(
            f"INSERT INTO {TABLE} (id, {', '.join(columns)}) "
            f"SELECT %s, {select} FROM {TABLE} WHERE id = %s",
            [id, *params, copy_of.pk],
        )

    def _trail_with_free_ids(self, actor) -> tuple[AuditEvent, AuditEvent]:
        """Two consecutive events with free ids between them; (earlier, later)."""
        earlier = record("audit.consulted", actor=actor("dpo"))
        leave_id_gap()
        later = record("audit.consulted", actor=actor("dpo"))
        record("audit.consulted", actor=actor("dpo"))
        assert later.pk > earlier.pk + 1 and chain.verify().intact
        return earlier, later

    def test_a_naively_forged_row_is_reported_as_inserted(self, trail, actor):
        earlier, later = self._trail_with_free_ids(actor)
        forged_id = earlier.pk + 1
        with tampering() as cursor:
            # A copy of a genuine row (hashes and all) with a new summary and position.
            self._forge(cursor, id=forged_id, copy_of=earlier, summary="Signed in", sequence=10**6)

        report = chain.verify()
        assert problems(report) == [("inserted", (forged_id,))]
        ok, output = run_verify()
        assert not ok
        assert (
            f"INSERTED: event {forged_id} is not part of the chain (after event {earlier.pk}, "
            f"before event {later.pk})"
        ) in output

    def test_a_carefully_forged_row_is_reported_as_inserted(self, trail, actor):
        # The forger links the row to its predecessor and gives it a valid hash of its own.
        earlier, _later = self._trail_with_free_ids(actor)
        forged_id = earlier.pk + 1
        values = AuditEvent.objects.values(*chain.COLUMNS).get(pk=earlier.pk)
        values.update(id=forged_id, sequence=10**6, summary="Nothing to see")
        forged_hash = chain.link_hash(earlier.chain_hash, values)
        with tampering() as cursor:
            self._forge(
                cursor,
                id=forged_id,
                copy_of=earlier,
                summary="Nothing to see",
                sequence=10**6,
                prev_hash=earlier.chain_hash,
                chain_hash=forged_hash,
            )
        assert problems(chain.verify()) == [("inserted", (forged_id,))]

    def test_altered_deleted_and_inserted_rows_are_all_reported(self, trail, actor):
        earlier, _later = self._trail_with_free_ids(actor)
        with tampering() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET summary = 'x' WHERE id = %s", [trail[1].pk])
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [trail[6].pk])
            self._forge(cursor, id=earlier.pk + 2, copy_of=earlier, sequence=-1)
        assert sorted(problems(chain.verify())) == sorted(
            [
                ("altered", (trail[1].pk,)),
                ("deleted", (trail[5].pk, trail[7].pk)),
                ("inserted", (earlier.pk + 2,)),
            ]
        )
        ok, output = run_verify()
        assert not ok
        assert "chain BROKEN: 1 altered, 1 deleted, 1 inserted" in output


class TestBackfill:
    def test_existing_rows_get_the_hashes_record_would_have_given_them(self, trail):
        from importlib import import_module

        migration = import_module("openiom.audit.migrations.0004_backfill_hash_chain")
        expected = list(AuditEvent.objects.order_by("id").values_list("id", "chain_hash"))
        with tampering() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET sequence = NULL, prev_hash = '', chain_hash = ''")
        assert not chain.verify().intact

        migration.backfill(django_apps, SimpleNamespace(connection=connection))

        assert list(AuditEvent.objects.order_by("id").values_list("id", "chain_hash")) == expected
        assert chain.verify().intact
        if connection.vendor == "postgresql":  # and the trigger is back on
            with connection.cursor() as cursor:
                cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [TRIGGER])
                assert cursor.fetchone()[0] == "O"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite allows one writer at a time)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_form_one_chain(personas):
    from openiom.accounts.actor import actor_for_user

    dpo = actor_for_user(personas["dpo"])
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write() -> None:
        try:
            start.wait()
            for _ in range(25):
                record("audit.consulted", actor=dpo)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = chain.verify()
    assert report.intact, [str(p) for p in report.problems]
    assert AuditEvent.objects.filter(event_type="audit.consulted").count() == 100
