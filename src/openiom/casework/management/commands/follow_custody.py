"""manage.py follow_custody [--on YYYY-MM-DD]: registration status follows the custody records.

`raise_alerts` runs this first every day; run it on its own after a custody import if needed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from openiom.casework.custody import follow_custody


def parse_on(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--on must be a date as YYYY-MM-DD, not {value!r}") from error


class Command(BaseCommand):
    help = "Move IOM registrations into and out of custody as the custody records say."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--on", help="Date to follow custody for (YYYY-MM-DD); default today.")

    def handle(self, *args: Any, **options: Any) -> None:
        on = parse_on(options["on"])
        run = follow_custody(on=on)
        self.stdout.write(
            f"{len(run.into_custody)} into custody, {len(run.released)} released, on {on:%d/%m/%Y}."
        )
