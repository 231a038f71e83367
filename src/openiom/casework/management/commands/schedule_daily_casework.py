"""Make sure the daily case-management run is queued (safe to run repeatedly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiom.casework.tasks import next_daily_slot, schedule_daily_casework


class Command(BaseCommand):
    help = (
        "Queue the daily run of custody, alerts, tasks and the email digest (06:00), if not queued."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        when = f"{next_daily_slot():%A %-d %B %Y %H:%M}"
        if schedule_daily_casework():
            self.stdout.write(f"Queued the daily case-management run at {when}.")
        else:
            self.stdout.write("The daily case-management run is already queued.")
