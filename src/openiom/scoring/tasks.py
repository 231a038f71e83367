"""Background scoring (django-tasks): the weekly run and on-demand runs, progress on the run."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone
from django_tasks import task

from openiom.scoring.models import ScoringPolicy, ScoringRun
from openiom.scoring.services import create_run, execute_run

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor


@task()
def score_area_task(run_id: int | None = None, policy_key: str | None = None) -> int:
    """Execute a queued run (on demand), or, given a policy key, the weekly run as of today."""
    if run_id is None:
        if not policy_key:
            raise ValueError("score_area_task needs a run id or a policy key")
        today = timezone.localdate()
        policy = ScoringPolicy.in_force(policy_key, today)
        if policy is None:
            raise ValueError(f"no scoring policy {policy_key!r} is in force on {today}")
        run = create_run(actor=None, policy=policy, as_of=today, trigger="weekly")
    else:
        run = ScoringRun.objects.select_related("policy", "harm_table", "cost_table").get(pk=run_id)
    actor = None
    if run.requested_by_id is not None:
        from openiom.accounts.actor import actor_for_user

        actor = actor_for_user(run.requested_by)
    execute_run(run, actor=actor)
    if run.trigger == "weekly" and policy_key:
        schedule_weekly_scoring(policy_keys=[policy_key])  # keep the weekly chain going
    return run.pk


WEEKLY_WEEKDAY = 0  # Monday
WEEKLY_HOUR = 2  # 02:00 local time, before the working week's meetings


def next_weekly_slot(now: dt.datetime | None = None) -> dt.datetime:
    """The next Monday 02:00 (local time) strictly after now."""
    local = timezone.localtime(now or timezone.now())
    days = (WEEKLY_WEEKDAY - local.weekday()) % 7
    slot = local.replace(hour=WEEKLY_HOUR, minute=0, second=0, microsecond=0) + dt.timedelta(
        days=days
    )
    return slot if slot > local else slot + dt.timedelta(days=7)


def _weekly_already_queued(policy_key: str) -> bool:
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another backend: nothing to look in
        return False
    return DBTaskResult.objects.filter(
        task_path=score_area_task.module_path,
        status="READY",
        args_kwargs__kwargs__policy_key=policy_key,
    ).exists()


def schedule_weekly_scoring(
    *, policy_keys: list[str] | None = None, now: dt.datetime | None = None
) -> list[str]:
    """Queue next week's run for each scoring policy in force, unless one is already queued.

    Idempotent: run it at deployment (`manage.py schedule_weekly_scoring`); each weekly run then
    queues the next, so the chain continues as long as a worker runs. Returns the keys queued.
    """
    if not score_area_task.get_backend().supports_defer:
        return []
    today = timezone.localdate()
    keys = policy_keys or sorted(
        {p.key for p in ScoringPolicy.objects.filter(effective_from__lte=today)}
    )
    slot = next_weekly_slot(now)
    queued = []
    for key in keys:
        if ScoringPolicy.in_force(key, today) is None or _weekly_already_queued(key):
            continue
        score_area_task.using(run_after=slot).enqueue(policy_key=key)
        queued.append(key)
    return queued


def enqueue_scoring(*, actor: Actor, policy: ScoringPolicy, as_of: dt.date) -> ScoringRun:
    """Queue an on-demand run (permission checked now); the task fills in progress and results."""
    run = create_run(actor=actor, policy=policy, as_of=as_of, trigger="on_demand")
    score_area_task.enqueue(run_id=run.pk)
    return run
