"""manage.py raise_alerts [--on YYYY-MM-DD]: the daily run (safe to run repeatedly).

Registration status first follows the custody records (casework.custody), then the day's alerts
and tasks are raised.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from openiom.casework.alerts import raise_alerts


class Command(BaseCommand):
    help = (
        "Follow custody records, then raise the day's alerts and tasks (new offences, arrests, "
        "intelligence, releases, 18ths, reviews, overdue actions, de-registration and "
        "reconsideration reminders)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--on", help="Date to raise alerts for (YYYY-MM-DD); default today.")

    def handle(self, *args: Any, **options: Any) -> None:
        on = timezone.localdate()
        if options["on"]:
            try:
                on = dt.date.fromisoformat(options["on"])
            except ValueError as error:
                raise CommandError(
                    f"--on must be a date as YYYY-MM-DD, not {options['on']!r}"
                ) from error
        count = raise_alerts(on=on)
        self.stdout.write(f"Raised {count} alert{'' if count == 1 else 's'} for {on:%d/%m/%Y}.")
