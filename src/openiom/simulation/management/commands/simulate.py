"""manage.py simulate: generate a synthetic IOM area (database and/or import-format files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of {value!r} is not a date in YYYY-MM-DD form") from None


class Command(BaseCommand):
    help = (
        "Generate a deterministic synthetic area: people, offending careers and partner caseloads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, required=True, help="Number of people.")
        parser.add_argument("--seed", type=int, required=True, help="Random seed.")
        parser.add_argument(
            "--as-of",
            type=str,
            default=None,
            help="Date the records run up to (YYYY-MM-DD; default today). Fix it for reproducible output.",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if people already exist."
        )
        parser.add_argument("--out", type=Path, default=None, help="Also write import files here.")
        parser.add_argument("--no-db", action="store_true", help="Write files only (needs --out).")
        parser.add_argument(
            "--no-scheme",
            action="store_true",
            help="Do not simulate the partnership running IOM over the last three years.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from openiom.people.models import Person
        from openiom.simulation.services import SimulationRefused, simulate_area

        as_of = _date(options["as_of"]) if options["as_of"] else dt.date.today()
        to_db = not options["no_db"]
        if options["if_empty"] and to_db and Person.objects.exists():
            self.stdout.write("People already exist; nothing simulated (--if-empty).")
            return
        try:
            result = simulate_area(
                people=options["people"],
                seed=options["seed"],
                as_of=as_of,
                out_dir=Path(options["out"]) if options["out"] else None,
                to_database=to_db,
                scheme=not options["no_scheme"],
            )
        except SimulationRefused as exc:
            raise CommandError(str(exc)) from None
        m = result.manifest
        counts = ", ".join(f"{k} {v:,}" for k, v in m["counts"].items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Simulated {m['people']:,} people (seed {m['seed']}, as of {m['as_of']}) "
                f"in {m['generation_seconds']:.1f}s: {counts}."
            )
        )
        scheme = m.get("scheme")
        if scheme:
            c = scheme["counts"]
            self.stdout.write(
                f"IOM scheme since {scheme['start']} ({scheme['seconds']:.1f}s): "
                f"{c.get('cohort.Referral', 0):,} referrals, {scheme['panels']} panels, "
                f"{scheme['registrations']:,} registrations ({scheme['live_registrations']} "
                f"current), {c.get('cohort.RagAssessment', 0):,} RAG assessments, "
                f"{scheme['scoring_runs_stored']} scoring runs stored."
            )
        self.stdout.write(f"Manifest: {result.manifest_path}")
