"""Background imports (django-tasks): the upload page queues one task per large batch."""

from __future__ import annotations

from django_tasks import task

from openiom.imports.services import run_stored_batch


@task()
def import_batch_task(batch_id: int, membership_id: int | None = None) -> str:
    """Import a pending batch from its stored files; returns the batch's final status.

    Never raises for a problem with the batch: run_stored_batch marks it failed with the reason.
    """
    return run_stored_batch(batch_id=batch_id, membership_id=membership_id)
