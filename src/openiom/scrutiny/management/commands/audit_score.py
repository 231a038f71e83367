"""manage.py audit_score FILE --score COL --outcome COL --threshold T [--group COL]
[--predictors A,B,C] [--probability | --no-probability] [--out DIR]"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiom.scrutiny.report import render_text, write_outputs
from openiom.scrutiny.score_audit import AuditOptions, ScoreAuditError, audit_file


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


class Command(BaseCommand):
    help = (
        "Audit a risk score against an observed 0/1 outcome in a CSV or Parquet file: AUC, "
        "calibration, error rates by group at a threshold, and a transparent benchmark."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or Parquet file, one row per person")
        parser.add_argument("--score", required=True, help="Score column (higher = more risk)")
        parser.add_argument("--outcome", required=True, help="Observed outcome column (0/1)")
        parser.add_argument(
            "--threshold", required=True, type=float, help="Flag when score ≥ this value"
        )
        parser.add_argument("--group", help="Column to compare error rates across")
        parser.add_argument(
            "--groups", help="Comma-separated groups that must be present in --group"
        )
        parser.add_argument(
            "--predictors", help="Comma-separated columns for the logistic benchmark"
        )
        parser.add_argument(
            "--probability",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Scores are (or are not) probabilities; default: yes if all lie in [0, 1]",
        )
        parser.add_argument("--bins", type=int, default=10, help="Calibration bins (default 10)")
        parser.add_argument(
            "--cv-folds", type=int, default=5, help="Folds for cross-validated AUC (0: none)"
        )
        parser.add_argument(
            "--min-group-size", type=int, default=5, help="Smaller groups are flagged"
        )
        parser.add_argument("--out", help="Directory for audit.json, SVG plots and report.html")

    def handle(self, *args: Any, **options: Any) -> None:
        audit_options = AuditOptions(
            score=options["score"],
            outcome=options["outcome"],
            threshold=options["threshold"],
            group=options["group"] or None,
            groups=_names(options["groups"]),
            predictors=_names(options["predictors"]),
            probability=options["probability"],
            bins=options["bins"],
            cv_folds=options["cv_folds"],
            min_group_size=options["min_group_size"],
        )
        try:
            audit = audit_file(Path(options["file"]), audit_options)
        except ScoreAuditError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(render_text(audit))
        if options["out"]:
            try:
                written = write_outputs(audit, Path(options["out"]))
            except OSError as exc:
                raise CommandError(f"Could not write to {options['out']}: {exc}") from exc
            for path in written.values():
                self.stdout.write(f"Wrote {path}")
