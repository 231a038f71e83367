"""Scoring runs weekly as a background task: queued for Monday 02:00, and each run queues the next."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from openiom.scoring.models import ScoringPolicy, ScoringRun
from openiom.scoring.tasks import next_weekly_slot, schedule_weekly_scoring, score_area_task


def test_the_weekly_slot_is_the_next_monday_at_two() -> None:
    wednesday = timezone.make_aware(dt.datetime(2026, 11, 18, 15, 0))
    assert timezone.localtime(next_weekly_slot(wednesday)) == timezone.make_aware(
        dt.datetime(2026, 11, 23, 2, 0)
    )
    monday_early = timezone.make_aware(dt.datetime(2026, 11, 23, 1, 0))
    assert timezone.localtime(next_weekly_slot(monday_early)).date() == dt.date(2026, 11, 23)
    monday_late = timezone.make_aware(dt.datetime(2026, 11, 23, 3, 0))
    assert timezone.localtime(next_weekly_slot(monday_late)).date() == dt.date(2026, 11, 30)


@pytest.mark.django_db
def test_scheduling_is_idempotent_and_each_weekly_run_queues_the_next(personas: Any) -> None:
    keys = sorted({p.key for p in ScoringPolicy.objects.all()})
    assert keys, "the shipped scoring policies are loaded by migration"

    call_command("schedule_weekly_scoring", stdout=None)
    queued = DBTaskResult.objects.filter(task_path=score_area_task.module_path, status="READY")
    assert queued.count() == len(keys)
    assert all(t.run_after is not None and t.run_after > timezone.now() for t in queued)
    assert schedule_weekly_scoring() == []  # already queued: nothing added
    assert queued.count() == len(keys)

    # The worker runs this week's task: it scores the area and queues next week's.
    DBTaskResult.objects.all().delete()
    run_id = score_area_task.call(policy_key=keys[0])
    run = ScoringRun.objects.get(pk=run_id)
    assert run.trigger == "weekly" and run.status == "finished"
    assert DBTaskResult.objects.filter(
        status="READY", args_kwargs__kwargs__policy_key=keys[0]
    ).exists()
