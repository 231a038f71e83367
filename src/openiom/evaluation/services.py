"""Evaluation writes: asking for an evaluation, running it, and running it again.

Each write checks permission first (`require`, before the transaction, so a refusal is audited),
then writes and records its audit event in one transaction. Running is split from asking so the
page can return at once and a background task (`openiom.evaluation.tasks`) does the work, saving
its progress as it goes.

Both modes end in the same engine call, `pipeline.evaluate_frame`, so their numbers cannot differ:
- database mode: `comparison.build_frame(selection=..., as_of=..., covariates=...)` builds the flat
  table (treated cohort plus time-aligned comparison pool) from the area's data;
- flat-table mode: an uploaded CSV or Parquet table, read by `tables.read_table` and stored
  (only the columns used, as Parquet) so a re-run reads exactly the same data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import platform
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from openiom.access.policy import EvaluationAction
from openiom.access.services import AccessDenied, require
from openiom.audit.services import record
from openiom.evaluation.methods.types import EvaluationSpec, MatchingSpec, Progress
from openiom.evaluation.models import (
    Evaluation,
    EvaluationKind,
    EvaluationStatus,
    InputTable,
)
from openiom.partnership.models import Partnership
from openiom.scoring.fingerprint import fingerprint_frames

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

# Libraries whose versions can change the numbers (stored with every evaluation).
SOFTWARE = (
    "openiom",
    "numpy",
    "scipy",
    "polars",
    "statsmodels",
    "scikit-learn",
    "lifelines",
    "matplotlib",
)
MAX_TABLE_BYTES = 200 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


class EvaluationError(ValueError):
    """An evaluation that cannot be asked for or run as given; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- configuration as plain JSON -----------------------------------------------------------------


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def spec_to_dict(spec: EvaluationSpec) -> dict[str, Any]:
    data = dataclasses.asdict(spec)
    data["covariates"] = list(spec.covariates)
    data["matching"]["exact"] = list(spec.matching.exact)
    return data


def spec_from_dict(data: Mapping[str, Any]) -> EvaluationSpec:
    values = dict(data)
    matching = dict(values.pop("matching", None) or {})
    matching["exact"] = tuple(matching.get("exact") or ())
    known = {f.name for f in dataclasses.fields(EvaluationSpec)}
    unknown = set(values) - known
    if unknown:
        raise EvaluationError(f"the stored configuration has unknown settings: {sorted(unknown)}")
    values["covariates"] = tuple(values.get("covariates") or ())
    return EvaluationSpec(**values, matching=MatchingSpec(**matching))


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list | set | frozenset):
        return [_json_value(v) for v in value]
    return value


def selection_to_dict(selection: Any) -> dict[str, Any]:
    """A TreatmentSelection (comparison.py) as JSON: dates as ISO text, tuples as lists."""
    if isinstance(selection, Mapping):
        return {str(k): _json_value(v) for k, v in selection.items()}
    if hasattr(selection, "to_dict"):
        return dict(selection.to_dict())
    return {k: _json_value(v) for k, v in dataclasses.asdict(selection).items()}


def selection_from_dict(data: Mapping[str, Any]) -> Any:
    """The TreatmentSelection stored by `selection_to_dict` (unknown keys are refused)."""
    from openiom.evaluation.comparison import TreatmentSelection
    from openiom.evaluation.outcomes import OutcomeRules

    fields = {f.name: f for f in dataclasses.fields(TreatmentSelection)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise EvaluationError(f"the stored treatment selection has unknown settings: {unknown}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        kind = str(fields[name].type)
        if name == "rules" and isinstance(value, Mapping):
            rules = dict(value)
            if "custody_disposals" in rules:
                rules["custody_disposals"] = tuple(rules["custody_disposals"])
            value = OutcomeRules(**rules)
        elif (
            isinstance(value, str) and "date" in kind and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
        ):
            value = dt.date.fromisoformat(value)
        elif isinstance(value, list) and "tuple" in kind:
            value = tuple(value)
        values[name] = value
    return TreatmentSelection(**values)


def database_spec(
    *,
    covariates: Sequence[str],
    matching: MatchingSpec | None = None,
    label: str = "",
    bootstrap_replicates: int = 500,
    confidence: float = 0.95,
) -> EvaluationSpec:
    """The spec for the frame comparison.build_frame makes (its fixed column names)."""
    from openiom.evaluation.comparison import evaluation_spec

    return evaluation_spec(
        list(covariates),
        label=label,
        matching=matching or MatchingSpec(),
        bootstrap_replicates=bootstrap_replicates,
        confidence=confidence,
    )


def spec_columns(spec: EvaluationSpec) -> list[str]:
    """Every column of the input table the spec uses, in a stable order, without repeats."""
    named = [spec.treatment, spec.outcome, spec.frequency, spec.time, spec.event, spec.harm]
    columns = [c for c in named if c] + list(spec.covariates) + list(spec.matching.exact)
    return list(dict.fromkeys(columns))


def frame_fingerprint(frame: pl.DataFrame) -> str:
    """Order-independent SHA-256 of the frame's values (see openiom.scoring.fingerprint)."""
    return fingerprint_frames([("evaluation-input", frame, sorted(frame.columns))])


def _partnership(actor: Actor | None) -> Partnership:
    if actor is not None and actor.membership is not None:
        return actor.membership.agency.partnership
    found = Partnership.objects.order_by("pk").first()
    if found is None:
        raise EvaluationError("No partnership is set up yet: run `manage.py setup` first")
    return found


def _user(actor: Actor | None) -> Any:
    return actor.user if actor is not None and actor.user.pk else None


def _clean(text: str) -> str:
    # Text echoed from a file may hold control characters (PostgreSQL refuses NUL in text/JSON).
    return _CONTROL.sub("?", text)


# --- flat-table uploads ---------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    base = Path(name or "upload").name
    stem, dot, suffix = base.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9_. -]", "_", stem or "upload")[:80] or "upload"
    return f"{stem}.{suffix.lower()}" if dot else stem


def table_error_message(exc: Exception) -> str:
    """tables.TableError as one sentence naming the row and column when it has them."""
    row = getattr(exc, "row", None)
    column = getattr(exc, "column", None)
    reason = getattr(exc, "reason", None) or str(exc)
    where = []
    if row is not None:
        where.append(f"row {row}")
    if column:
        where.append(f"column '{column}'")
    text = f"{', '.join(where).capitalize()}: {reason}" if where else str(reason)
    return _clean(text)


def read_upload(data: bytes, name: str) -> pl.DataFrame:
    """Read an uploaded CSV or Parquet file (via tables.read_table) or raise EvaluationError."""
    from openiom.evaluation.methods.tables import TableError, read_table

    safe = _safe_name(name)
    if not data:
        raise EvaluationError(f"{safe} is empty", field="file")
    if len(data) > MAX_TABLE_BYTES:
        raise EvaluationError(
            f"{safe} is larger than {MAX_TABLE_BYTES // (1024 * 1024)} MB", field="file"
        )
    if not safe.endswith((".csv", ".parquet")):
        raise EvaluationError(
            "The file must be a CSV (.csv) or Parquet (.parquet) file", field="file"
        )
    if safe.endswith(".csv") and b"\x00" in data[:65536]:
        raise EvaluationError(
            f"{safe} does not look like a CSV file: it contains binary data. Export the table "
            "as CSV (comma-separated text) or Parquet",
            field="file",
        )
    # A private directory (mode 0700) removed, with the file, as soon as it has been read.
    with tempfile.TemporaryDirectory(prefix="openiom-evaluation-") as folder:
        path = Path(folder) / safe
        path.write_bytes(data)
        try:
            return read_table(path)
        except TableError as exc:
            raise EvaluationError(table_error_message(exc), field="file") from None
        except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise EvaluationError(
                _clean(f"{safe} could not be read: {first}"), field="file"
            ) from None


def store_input_table(
    *, actor: Actor | None, data: bytes, name: str, frame: pl.DataFrame, columns: Sequence[str]
) -> InputTable:
    """Keep the used columns of an uploaded table (as Parquet) for the evaluation and re-runs."""
    import hashlib

    require(actor, EvaluationAction.RUN_EVALUATION)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise EvaluationError(
            f"The table has no column called {missing[0]!r}; its columns are "
            f"{', '.join(frame.columns[:30])}",
            field="columns",
        )
    kept = frame.select(list(columns))
    buffer = io.BytesIO()
    kept.write_parquet(buffer, compression="zstd", statistics=False)
    safe = _safe_name(name)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        table = InputTable.objects.create(
            name=safe,
            sha256=digest,
            size_bytes=len(data),
            rows=kept.height,
            columns=list(columns),
            parquet=buffer.getvalue(),
            fingerprint=frame_fingerprint(kept),
            uploaded_by=_user(actor),
        )
        record(
            "evaluation.table_uploaded",
            actor=actor,
            obj=table,
            context={"file": safe, "rows": kept.height},
            details={
                "file_name": safe,
                "file_sha256": digest,
                "file_bytes": len(data),
                "columns_kept": list(columns),
            },
        )
    return table


def load_input_table(table: InputTable) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(bytes(table.parquet)))


# --- asking for, running and re-running an evaluation --------------------------------------------


def request_evaluation(
    *,
    actor: Actor | None,
    title: str,
    kind: str,
    spec: EvaluationSpec,
    selection: Any = None,
    as_of: dt.date | None = None,
    input_table: InputTable | None = None,
    rerun_of: Evaluation | None = None,
) -> Evaluation:
    """Store a queued evaluation with its configuration; run it with `run_evaluation` (or the task)."""
    require(actor, EvaluationAction.RUN_EVALUATION)
    title = title.strip()
    if not title:
        raise EvaluationError("Enter a title for the evaluation", field="title")
    if len(title) > 200:
        raise EvaluationError("Title must be 200 characters or fewer", field="title")
    if not spec.covariates:
        raise EvaluationError("Choose at least one covariate to match on", field="covariates")
    config: dict[str, Any] = {"spec": spec_to_dict(spec)}
    if kind == EvaluationKind.DATABASE:
        if selection is None:
            raise EvaluationError(
                "Say which registered people are the treated group", field="selection"
            )
        if as_of is None:
            raise EvaluationError("Enter the date to measure outcomes up to", field="as_of")
        if as_of > timezone.localdate():
            raise EvaluationError(
                "The date to measure outcomes up to must not be in the future", field="as_of"
            )
        config["selection"] = selection_to_dict(selection)
        config["as_of"] = as_of.isoformat()
        if input_table is not None:
            raise EvaluationError("A database-mode evaluation takes no uploaded table")
    elif kind == EvaluationKind.TABLE:
        if input_table is None:
            raise EvaluationError("Upload the table to evaluate", field="file")
        missing = [c for c in spec_columns(spec) if c not in input_table.columns]
        if missing:
            raise EvaluationError(f"The stored table has no column {missing[0]!r}", field="columns")
        config["table"] = {"name": input_table.name, "sha256": input_table.sha256}
    else:
        raise EvaluationError(f"Unknown kind of evaluation {kind!r}", field="kind")
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            partnership=_partnership(actor),
            requested_by=_user(actor),
            title=title,
            kind=kind,
            config=config,
            input_table=input_table,
            rerun_of=rerun_of,
            software=software_versions(),
        )
        record(
            "evaluation.requested",
            actor=actor,
            obj=evaluation,
            username="" if actor is not None else "evaluation (system)",
            context={"evaluation": evaluation.pk, "kind": kind, "title": title},
            details={
                "config": config,
                "rerun_of": rerun_of.pk if rerun_of is not None else None,
                "input_table": input_table.pk if input_table is not None else None,
            },
        )
    return evaluation


def rerun_evaluation(*, actor: Actor | None, evaluation: Evaluation) -> Evaluation:
    """A new queued evaluation with the same configuration (and, in flat-table mode, data)."""
    spec = spec_from_dict(evaluation.config["spec"])
    selection = None
    as_of = None
    if evaluation.kind == EvaluationKind.DATABASE:
        selection = evaluation.config["selection"]
        as_of = dt.date.fromisoformat(evaluation.config["as_of"])
    return request_evaluation(
        actor=actor,
        title=evaluation.title,
        kind=evaluation.kind,
        spec=spec,
        selection=selection,
        as_of=as_of,
        input_table=evaluation.input_table,
        rerun_of=evaluation,
    )


def _set(evaluation: Evaluation, **fields: Any) -> None:
    # Saved outside any long transaction so the progress page sees it.
    for key, value in fields.items():
        setattr(evaluation, key, value)
    Evaluation.objects.filter(pk=evaluation.pk).update(**fields)


class _ProgressWriter:
    """Saves (stage, fraction) to the evaluation, mapped into [start, end], at most every 0.5 s."""

    def __init__(self, evaluation: Evaluation, outer: Progress | None) -> None:
        self.evaluation = evaluation
        self.outer = outer
        self.last = 0.0

    def part(self, start: float, end: float) -> Callable[[str, float], None]:
        def report(stage: str, fraction: float) -> None:
            fraction = min(1.0, max(0.0, float(fraction)))
            overall = start + (end - start) * fraction
            self.write(stage, overall)

        return report

    def write(self, stage: str, overall: float, *, force: bool = False) -> None:
        now = time.monotonic()
        changed = stage[:200] != self.evaluation.progress_stage
        if force or changed or now - self.last >= 0.5:
            self.last = now
            _set(self.evaluation, progress_stage=stage[:200], progress_fraction=round(overall, 4))
        if self.outer is not None:
            self.outer(stage, overall)


def _table_attrition(frame: pl.DataFrame, treatment: str) -> list[tuple[str, int, int]]:
    if treatment not in frame.columns:
        return []
    flags = frame[treatment].cast(pl.Int64, strict=False)
    treated = int((flags == 1).sum())
    comparison = int((flags == 0).sum())
    return [("rows in the table", treated, comparison)]


def _load_frame(
    evaluation: Evaluation, spec: EvaluationSpec, writer: _ProgressWriter
) -> tuple[pl.DataFrame, list[tuple[str, int, int]]]:
    if evaluation.kind == EvaluationKind.DATABASE:
        from openiom.evaluation import comparison

        selection = selection_from_dict(evaluation.config["selection"])
        as_of = dt.date.fromisoformat(evaluation.config["as_of"])
        writer.write("Building the treated group and comparison pool", 0.0, force=True)
        frame, attrition = comparison.build_frame(
            selection=selection,
            as_of=as_of,
            covariates=list(spec.covariates),
            progress=writer.part(0.0, 0.3),
        )
        return frame, [(str(s), int(t), int(c)) for s, t, c in attrition]
    if evaluation.input_table is None:
        raise EvaluationError("The uploaded table of this evaluation is missing")
    writer.write("Reading the uploaded table", 0.0, force=True)
    frame = load_input_table(evaluation.input_table)
    if frame_fingerprint(frame) != evaluation.input_table.fingerprint:
        raise EvaluationError("The stored table does not match its fingerprint")
    return frame, _table_attrition(frame, spec.treatment)


def run_evaluation(
    evaluation: Evaluation, *, actor: Actor | None = None, progress: Progress | None = None
) -> Evaluation:
    """Run a queued evaluation now and store its result (or why it failed).

    Bad data (a `tables.TableError`, or an `EvaluationError`) marks the evaluation failed with a
    specific message and returns it; anything unexpected is stored the same way and re-raised.
    """
    from openiom.evaluation.comparison import ComparisonError
    from openiom.evaluation.methods.pipeline import evaluate_frame
    from openiom.evaluation.methods.tables import TableError
    from openiom.evaluation.outcomes import OutcomeError

    if evaluation.status != EvaluationStatus.QUEUED:
        raise EvaluationError(
            f"Evaluation {evaluation.pk} is {evaluation.get_status_display().lower()}; only a "
            "queued evaluation can be run"
        )
    try:
        require(actor, EvaluationAction.RUN_EVALUATION)
    except AccessDenied as exc:
        _finish_failed(evaluation, actor, str(exc))
        raise
    writer = _ProgressWriter(evaluation, progress)
    _set(
        evaluation,
        status=EvaluationStatus.RUNNING,
        started_at=timezone.now(),
        software=software_versions(),
    )
    try:
        spec = spec_from_dict(evaluation.config["spec"])
        frame, attrition = _load_frame(evaluation, spec, writer)
        writer.write(
            "Fingerprinting the input data", 0.3 if evaluation.kind == "database" else 0.05
        )
        fingerprint = frame_fingerprint(frame)
        _set(evaluation, data_fingerprint=fingerprint, input_rows=frame.height)
        start = 0.3 if evaluation.kind == EvaluationKind.DATABASE else 0.05
        result = evaluate_frame(frame, spec, progress=writer.part(start, 0.97), attrition=attrition)
        if evaluation.kind == EvaluationKind.DATABASE:
            from openiom.evaluation.comparison import contamination_note

            note = contamination_note(frame, result)
            if note:  # comparison people registered during their own follow-up
                result.caveats.append(note)
        data = result.to_dict()
        writer.write("Appraising value for money", 0.98)
        data.update(_value_for_money(result, evaluation))
    except (TableError, EvaluationError, ComparisonError, OutcomeError) as exc:
        message = table_error_message(exc) if isinstance(exc, TableError) else _clean(str(exc))
        _finish_failed(evaluation, actor, message)
        return evaluation
    except Exception as exc:
        _finish_failed(evaluation, actor, _clean(f"{type(exc).__name__}: {exc}")[:2000])
        raise
    with transaction.atomic():
        _set(
            evaluation,
            status=EvaluationStatus.DONE,
            result=data,
            progress_stage="Finished",
            progress_fraction=1.0,
            finished_at=timezone.now(),
        )
        record(
            "evaluation.run",
            actor=actor,
            obj=evaluation,
            username="" if actor is not None else "evaluation (system)",
            context={"evaluation": evaluation.pk, "outcome": "finished", "title": evaluation.title},
            details={
                "data_fingerprint": fingerprint,
                "input_rows": frame.height,
                "attrition": data.get("attrition"),
                "software": evaluation.software,
            },
        )
    if progress is not None:
        progress("Finished", 1.0)
    return evaluation


def _value_for_money(result: Any, evaluation: Evaluation) -> dict[str, Any]:
    """The cost–benefit appraisal (openiom.vfm) of the matched estimate, with the policy versions
    in force on the outcome date (database mode) or today, stored with the result so the report
    never changes; why not, when the appraisal cannot be made."""
    try:
        from openiom.vfm.selectors import appraise_evaluation
    except ImportError:
        return {}
    on = None
    if evaluation.kind == EvaluationKind.DATABASE and evaluation.config.get("as_of"):
        on = dt.date.fromisoformat(evaluation.config["as_of"])
    try:
        appraisal = appraise_evaluation(result, on=on)
    except (LookupError, ValueError) as exc:  # no policy in force, or inputs it cannot use
        return {"value_for_money_unavailable": _clean(str(exc))}
    if appraisal is None:
        return {"value_for_money_unavailable": "There is no matched estimate to value."}
    return {"value_for_money": appraisal.to_dict()}


def _finish_failed(evaluation: Evaluation, actor: Actor | None, message: str) -> None:
    with transaction.atomic():
        _set(
            evaluation,
            status=EvaluationStatus.FAILED,
            error=message or "No reason was given.",
            finished_at=timezone.now(),
        )
        record(
            "evaluation.run",
            actor=actor,
            obj=evaluation,
            username="" if actor is not None else "evaluation (system)",
            context={"evaluation": evaluation.pk, "outcome": "failed", "title": evaluation.title},
            details={"error": message[:500]},
        )


def record_download(*, actor: Actor, evaluation: Evaluation, what: str) -> None:
    """Audit a copy of the results leaving the service (PDF, HTML, CSV or JSON)."""
    require(actor, EvaluationAction.VIEW_EVALUATION)
    record(
        "evaluation.downloaded",
        actor=actor,
        obj=evaluation,
        context={"what": what, "evaluation": evaluation.pk},
        details={"what": what},
    )
