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
    return run.pk


def enqueue_scoring(*, actor: Actor, policy: ScoringPolicy, as_of: dt.date) -> ScoringRun:
    """Queue an on-demand run (permission checked now); the task fills in progress and results."""
    run = create_run(actor=actor, policy=policy, as_of=as_of, trigger="on_demand")
    score_area_task.enqueue(run_id=run.pk)
    return run
