"""Existing audit events join the hash chain, in id order (the order they were written).

On PostgreSQL the append-only trigger is switched off for this one transaction (migrations run
as the table's owner) and back on before it commits, so no other session can update the trail
meanwhile.
"""

from django.db import migrations

from openiom.audit.chain import GENESIS, HASHED_FIELDS, link_hash

BATCH = 2000
TRIGGER = "audit_event_no_update_delete"


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    table = AuditEvent._meta.db_table
    connection = schema_editor.connection
    rows = AuditEvent.objects.filter(sequence__isnull=True)
    if not rows.exists():
        return
    chained = AuditEvent.objects.filter(sequence__isnull=False).order_by("-sequence")
    last = chained.values("sequence", "chain_hash").first()
    sequence = last["sequence"] if last else 0
    prev_hash = last["chain_hash"] if last else GENESIS
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            # Deferred foreign-key checks must run first: ALTER TABLE refuses pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {TRIGGER}")
        after_id = 0
        while True:
            # Keyset pages: never iterate a table while updating it through the same connection.
            page = list(rows.filter(id__gt=after_id).order_by("id").values(*HASHED_FIELDS)[:BATCH])
            if not page:
                break
            updates = []
            for values in page:
                sequence += 1
                values["sequence"] = sequence
                chain_hash = link_hash(prev_hash, values)
                updates.append((sequence, prev_hash, chain_hash, values["id"]))
                prev_hash = chain_hash
            cursor.executemany(
                f"UPDATE {table} SET sequence = %s, prev_hash = %s, chain_hash = %s "  # noqa: S608
                "WHERE id = %s",
                updates,
            )
            after_id = page[-1]["id"]
        if postgresql:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_hash_chain")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
