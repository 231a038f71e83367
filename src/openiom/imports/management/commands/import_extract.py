"""manage.py import_extract DIR --user USERNAME --agency AGENCY_CODE [--dry-run]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiom.accounts.actor import actor_for_user
from openiom.imports.services import ExtractFile, import_extract
from openiom.partnership.models import Agency


class Command(BaseCommand):
    help = "Import extract files (people.csv, offences.csv... or .xlsx) from a directory, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="Directory of extract files, or one file")
        parser.add_argument("--user", required=True, help="Username to act as (audited)")
        parser.add_argument(
            "--agency", required=True, help="Code of the agency sending the extract"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count, then roll everything back"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if path.is_dir():
            paths = sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".xlsx"})
        elif path.is_file():
            paths = [path]
        else:
            raise CommandError(f"{path} is not a file or directory")
        if not paths:
            raise CommandError(f"{path} holds no .csv or .xlsx files")
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['user']!r}")
        agency = Agency.objects.filter(code=options["agency"]).first()
        if agency is None:
            raise CommandError(f"There is no agency with code {options['agency']!r}")
        actor = actor_for_user(user)

        def progress(done: int, total: int) -> None:
            if options["verbosity"] > 1:
                self.stderr.write(f"\r{done:,}/{total:,} rows", ending="")

        result = import_extract(
            actor=actor,
            files=[ExtractFile.from_path(p) for p in paths],
            agency=agency,
            progress=progress,
            dry_run=options["dry_run"],
        )
        batch = result.batch
        prefix = "Dry run (nothing kept): " if result.dry_run else f"Batch {batch.pk}: "
        if not result.accepted:
            for p in result.problems:
                self.stderr.write(str(p))
            raise CommandError(f"{prefix}{batch.message}")
        self.stdout.write(f"{prefix}{batch.message}")
        for name, counts in batch.counts.items():
            shown = ", ".join(f"{k} {v:,}" for k, v in counts.items())
            self.stdout.write(f"  {name}: {shown}")
