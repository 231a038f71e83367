"""Make sure each scoring policy in force has its weekly run queued (safe to run repeatedly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiom.scoring.tasks import next_weekly_slot, schedule_weekly_scoring


class Command(BaseCommand):
    help = "Queue the weekly scoring run of every policy in force (Monday 02:00), if not queued."

    def handle(self, *args: Any, **options: Any) -> None:
        queued = schedule_weekly_scoring()
        when = f"{next_weekly_slot():%A %-d %B %Y %H:%M}"
        if queued:
            self.stdout.write(f"Queued weekly scoring for {', '.join(queued)} at {when}.")
        else:
            self.stdout.write("Weekly scoring is already queued for every policy in force.")
