"""manage.py score_area: score the area's offending population and store the ranked candidates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Score the offending population with a scoring policy and store the ranked list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--policy",
            default="fixed-cohort-scoring",
            help="Scoring policy key (default fixed-cohort-scoring).",
        )
        parser.add_argument(
            "--policy-version",
            type=int,
            default=None,
            help="Policy version (default: the one in force).",
        )
        parser.add_argument(
            "--as-of", default=None, help="Scoring date, YYYY-MM-DD (default today)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.utils import timezone

        from openiom.scoring.models import ScoringPolicy
        from openiom.scoring.services import ScoringError, run_scoring

        try:
            as_of = (
                dt.date.fromisoformat(options["as_of"])
                if options["as_of"]
                else timezone.localdate()
            )
        except ValueError:
            raise CommandError(
                f"--as-of {options['as_of']!r} is not a date in YYYY-MM-DD form"
            ) from None
        key = options["policy"]
        if options["policy_version"] is not None:
            policy = ScoringPolicy.objects.filter(
                key=key, version=options["policy_version"]
            ).first()
        else:
            policy = ScoringPolicy.in_force(key, as_of)
        if policy is None:
            known = ", ".join(sorted(set(ScoringPolicy.objects.values_list("key", flat=True))))
            raise CommandError(
                f"No scoring policy {key!r} in force on {as_of} (known: {known or 'none'})"
            )

        def progress(pct: int, note: str) -> None:
            self.stdout.write(f"{pct:3d}% {note}")

        try:
            run = run_scoring(
                actor=None, policy=policy, as_of=as_of, progress=progress, trigger="command"
            )
        except ScoringError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Run {run.pk}: scored {run.people_scored:,} people with {policy} as of {as_of}; "
                f"{run.eligible_count:,} eligible, {run.candidates_stored:,} candidates stored."
            )
        )
