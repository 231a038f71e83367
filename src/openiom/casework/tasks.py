"""The daily case-management run (django-tasks): custody, alerts and tasks, then the email digest.

Like the weekly scoring run, each daily run queues the next, so the chain continues as long as a
worker runs; `manage.py schedule_daily_casework` starts it (idempotent).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from openiom.casework.alerts import raise_alerts, send_digest

DAILY_HOUR = 6  # 06:00 local time: alerts are waiting when the working day starts


@task()
def daily_casework_task() -> dict[str, int]:
    """Follow custody, raise the day's alerts and tasks, email the digests; queue tomorrow's."""
    raised = raise_alerts(on=timezone.localdate())
    emailed = send_digest()
    schedule_daily_casework()
    return {"raised": raised, "emailed": emailed}


def next_daily_slot(now: dt.datetime | None = None) -> dt.datetime:
    """The next 06:00 (local time) strictly after now."""
    local = timezone.localtime(now or timezone.now())
    slot = local.replace(hour=DAILY_HOUR, minute=0, second=0, microsecond=0)
    return slot if slot > local else slot + dt.timedelta(days=1)


def _already_queued() -> bool:
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another backend: nothing to look in
        return False
    return DBTaskResult.objects.filter(
        task_path=daily_casework_task.module_path, status="READY"
    ).exists()


def schedule_daily_casework(*, now: dt.datetime | None = None) -> bool:
    """Queue the next daily run unless one is already queued; True when one was queued."""
    if not daily_casework_task.get_backend().supports_defer or _already_queued():
        return False
    daily_casework_task.using(run_after=next_daily_slot(now)).enqueue()
    return True
