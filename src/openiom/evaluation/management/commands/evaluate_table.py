"""manage.py evaluate_table FILE --treatment COL --outcome COL --covariates A,B,C [options]

The flat-table mode of the impact evaluation, for analysts holding an external extract: one row
per person in a CSV or Parquet file. It runs the same engine as the database mode
(`methods.pipeline.evaluate_frame`) and writes JSON (`EvaluationResult.to_dict()` plus a
`source` block with the file's SHA-256, so a result can be traced to its data), or an HTML or PDF
report. Nothing is stored in the database.

Bad input stops with one line saying which row, column and why (a CommandError, exit status 1).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiom.evaluation.methods.pipeline import evaluate_frame
from openiom.evaluation.methods.tables import TableError, read_table
from openiom.evaluation.methods.types import EvaluationSpec, MatchingSpec

FORMATS = ("json", "html", "pdf")
ORDERS = ("descending", "ascending", "data", "random")


def _columns(value: str | None, option: str) -> tuple[str, ...]:
    if value is None:
        return ()
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    if not names:
        raise CommandError(f"{option} needs at least one column name (comma-separated)")
    return names


class Command(BaseCommand):
    help = (
        "Matched impact evaluation of a flat CSV/Parquet table (one row per person): propensity "
        "matching, balance, outcome differences per 100 people, survival and sensitivity."
    )
    # Pure analysis of a file: no database, so no reason to hold it up on system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV (UTF-8, header row) or Parquet file")
        parser.add_argument("--treatment", required=True, help="0/1 column: 1 = took part")
        parser.add_argument(
            "--outcome", required=True, help="0/1 column: proven reoffence in the follow-up"
        )
        parser.add_argument(
            "--covariates", required=True, help="Comma-separated columns to match on"
        )
        parser.add_argument("--time", help="Days to first reoffence or censoring")
        parser.add_argument("--event", help="0/1 column: 1 = reoffended at --time")
        parser.add_argument("--frequency", help="Count of proven reoffences (bootstrap CI)")
        parser.add_argument("--harm", help="Harm-weighted reoffending, crime-harm days")
        parser.add_argument("--ratio", default="1", help="Controls per treated person (1:K)")
        parser.add_argument(
            "--replace", action="store_true", help="Match with replacement (reuse controls)"
        )
        parser.add_argument(
            "--caliper",
            default="0.2",
            help="Caliper in SDs of the logit propensity score, or 'none' (default 0.2)",
        )
        parser.add_argument("--exact", help="Comma-separated columns to match exactly on")
        parser.add_argument(
            "--order",
            default="descending",
            help="Order treated people are matched in: " + ", ".join(ORDERS),
        )
        parser.add_argument("--bootstrap", default="500", help="Bootstrap replicates (500)")
        parser.add_argument("--seed", default=None, help="Random seed (bootstrap, random order)")
        parser.add_argument("--confidence", default="0.95", help="Confidence level (0.95)")
        parser.add_argument("--label", default="", help="Name of the treated group for the text")
        parser.add_argument("--format", default="json", help="json (default), html or pdf")
        parser.add_argument("--out", help="Write here instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt = str(options["format"]).lower()
        if fmt not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
        out = options.get("out")
        if fmt == "pdf" and not out:
            raise CommandError("--format pdf needs --out PATH (a PDF is not written to a terminal)")
        spec = self._spec(options)
        path = Path(options["file"])
        try:
            frame = read_table(path)
        except TableError as e:
            raise CommandError(f"{path.name}: {e}") from None

        def progress(stage: str, fraction: float) -> None:
            if options["verbosity"] > 1:
                self.stderr.write(f"{fraction:4.0%} {stage}")

        try:
            result = evaluate_frame(frame, spec, progress=progress)
        except TableError as e:
            raise CommandError(f"{path.name}: {e}") from None
        except ValueError as e:  # from the numerical stages: still one clear line
            raise CommandError(f"{path.name}: {str(e).splitlines()[0]}") from None
        data = result.to_dict()
        data["source"] = {
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "rows": frame.height,
            "columns": frame.width,
        }
        title = spec.label or f"Impact evaluation of {path.name}"
        self._write(data, fmt, title, out)

    def _spec(self, options: dict[str, Any]) -> EvaluationSpec:
        ratio = _integer(options["ratio"], "--ratio", minimum=1)
        bootstrap = _integer(options["bootstrap"], "--bootstrap", minimum=1)
        caliper_text = str(options["caliper"]).strip().lower()
        caliper: float | None
        if caliper_text in {"none", "off", "no"}:
            caliper = None
        else:
            caliper = _number(caliper_text, "--caliper")
            if caliper <= 0:
                raise CommandError(f"--caliper must be above 0, or 'none' (got {caliper_text})")
        confidence = _number(options["confidence"], "--confidence")
        if not 0 < confidence < 1:
            raise CommandError(f"--confidence must be between 0 and 1 (got {confidence})")
        order = str(options["order"]).lower()
        if order not in ORDERS:
            raise CommandError(f"--order must be one of {', '.join(ORDERS)} (got {order!r})")
        if (options.get("time") is None) != (options.get("event") is None):
            raise CommandError("--time and --event go together: give both or neither")
        matching = MatchingSpec(
            ratio=ratio,
            replace=bool(options["replace"]),
            caliper_sd=caliper,
            exact=_columns(options.get("exact"), "--exact"),
            order=order,  # type: ignore[arg-type]  # checked against ORDERS above
        )
        spec = EvaluationSpec(
            treatment=options["treatment"].strip(),
            outcome=options["outcome"].strip(),
            covariates=_columns(options["covariates"], "--covariates"),
            frequency=_strip(options.get("frequency")),
            time=_strip(options.get("time")),
            event=_strip(options.get("event")),
            harm=_strip(options.get("harm")),
            matching=matching,
            bootstrap_replicates=bootstrap,
            confidence=confidence,
            label=options["label"],
        )
        if options.get("seed") is not None:
            seed = _integer(options["seed"], "--seed", minimum=0)
            spec = replace(spec, seed=seed, matching=replace(matching, seed=seed))
        return spec

    def _write(self, data: dict[str, Any], fmt: str, title: str, out: str | None) -> None:
        payload: str | bytes
        if fmt == "json":
            payload = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        else:
            try:
                from openiom.evaluation import report
            except ImportError as e:  # pragma: no cover - only while the report module is absent
                raise CommandError(f"HTML and PDF reports are not available: {e}") from None
            source = data["source"]
            meta = {
                "Data file": source["file"],
                "Rows": f"{source['rows']:,}",
                "SHA-256 of the file": source["sha256"],
            }
            if fmt == "html":
                payload = report.render_html(data, title=title, meta=meta)
            else:
                payload = report.render_pdf(data, title=title, meta=meta)
        if out:
            target = Path(out)
            try:
                if isinstance(payload, bytes):
                    target.write_bytes(payload)
                else:
                    target.write_text(payload, encoding="utf-8")
            except OSError as e:
                raise CommandError(f"cannot write {out}: {e.strerror or e}") from None
            self.stdout.write(f"Wrote {fmt.upper()} to {target}")
            if data.get("headline"):
                self.stdout.write(str(data["headline"]))
        elif isinstance(payload, bytes):  # pragma: no cover - pdf is refused without --out
            sys.stdout.buffer.write(payload)
        else:
            self.stdout.write(payload, ending="")


def _strip(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


def _integer(value: Any, option: str, *, minimum: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise CommandError(f"{option} must be a whole number (got {value!r})") from None
    if number < minimum:
        raise CommandError(f"{option} must be at least {minimum} (got {number})")
    return number


def _number(value: Any, option: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise CommandError(f"{option} must be a number (got {value!r})") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise CommandError(f"{option} must be a finite number (got {value!r})")
    return number
