"""The daily case-management run: queued for 06:00, raises alerts, emails digests, queues the next."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from openiom.casework.models import Alert, AlertKind
from openiom.casework.tasks import daily_casework_task, next_daily_slot, schedule_daily_casework
from openiom.offending.models import Arrest


def test_the_daily_slot_is_the_next_six_o_clock() -> None:
    early = timezone.make_aware(dt.datetime(2026, 11, 22, 5, 59))
    assert timezone.localtime(next_daily_slot(early)) == timezone.make_aware(
        dt.datetime(2026, 11, 22, 6, 0)
    )
    late = timezone.make_aware(dt.datetime(2026, 11, 22, 6, 0))
    assert timezone.localtime(next_daily_slot(late)).date() == dt.date(2026, 11, 23)


@pytest.mark.django_db
def test_scheduling_is_idempotent_and_each_run_raises_alerts_and_queues_the_next(
    registration: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    lead = registration.lead_worker
    lead.email = "owen.marsh@probation.example"
    lead.save(update_fields=["email"])

    call_command("schedule_daily_casework", stdout=None)
    queued = DBTaskResult.objects.filter(task_path=daily_casework_task.module_path, status="READY")
    assert queued.count() == 1 and queued.get().run_after > timezone.now()
    assert schedule_daily_casework() is False and queued.count() == 1

    Arrest.objects.create(
        person=registration.person, arrest_date=timezone.localdate(), outcome="charged"
    )
    DBTaskResult.objects.all().delete()
    result = daily_casework_task.call()
    assert result["raised"] >= 1 and result["emailed"] == 1
    assert Alert.objects.filter(recipient=lead, kind=AlertKind.NEW_ARREST).count() == 1
    assert "arrest" in mail.outbox[0].body.lower()
    assert queued.count() == 1  # tomorrow's run
