"""Walk the audit hash chain and report every altered, deleted or inserted event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiom.audit.chain import verify
from openiom.audit.services import record


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain in id order. Prints one line per altered, deleted or "
        "inserted event and exits non-zero if there is any; otherwise prints 'N events, chain "
        "intact' with the last event's hash (keep it elsewhere to detect later truncation)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=2000, help="Rows fetched per round trip."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        report = verify(chunk_size=options["chunk_size"])
        for problem in sorted(report.problems, key=lambda p: (p.ids or (0,))[0]):
            self.stdout.write(str(problem))
        # Checking the trail reads it: recorded after the walk so it is not part of this check.
        record(
            "audit.verified",
            actor=None,
            context={"events": report.events, "result": report.summary()},
            details={
                "events": report.events,
                "intact": report.intact,
                "altered": [p.ids[0] for p in report.problems if p.kind == "altered"],
                "deleted_between": [list(p.ids) for p in report.problems if p.kind == "deleted"],
                "inserted": [p.ids[0] for p in report.problems if p.kind == "inserted"],
                "last_id": report.last_id,
                "last_hash": report.last_hash,
            },
        )
        if not report.intact:
            raise CommandError(report.summary())
        self.stdout.write(report.summary())
