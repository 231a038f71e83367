"""Evaluation reads: lists, one evaluation, the latest finished one, and the report's "about" rows.

Evaluations are aggregate results about matched groups (no person is named), read by IOM members
with area scope (`EvaluationAction.VIEW_EVALUATION`); reads are not audited, downloads are
(`services.record_download`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from openiom.access.policy import EvaluationAction
from openiom.access.services import require
from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

LIST_FIELDS = (
    "id",
    "title",
    "kind",
    "status",
    "progress_stage",
    "progress_fraction",
    "created_at",
    "started_at",
    "finished_at",
    "requested_by",
    "partnership",
    "rerun_of",
    "error",
    "data_fingerprint",
)


def evaluations_for(*, actor: Actor | None, status: str = "") -> QuerySet[Evaluation]:
    """The partnership's evaluations, newest first (results not loaded: they can be large)."""
    require(actor, EvaluationAction.VIEW_EVALUATION)
    qs = Evaluation.objects.select_related("requested_by").only(*LIST_FIELDS)
    if actor is not None and actor.membership is not None:
        qs = qs.filter(partnership_id=actor.membership.agency.partnership_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def get_evaluation(*, actor: Actor | None, evaluation_id: int) -> Evaluation:
    """One evaluation with its result; Evaluation.DoesNotExist if unknown or another area's."""
    require(actor, EvaluationAction.VIEW_EVALUATION)
    qs = Evaluation.objects.select_related("requested_by", "input_table", "rerun_of", "partnership")
    if actor is not None and actor.membership is not None:
        qs = qs.filter(partnership_id=actor.membership.agency.partnership_id)
    return qs.defer("input_table__parquet").get(pk=evaluation_id)


def latest_finished(*, partnership_id: int | None = None) -> Evaluation | None:
    """The most recently finished evaluation (for the board dashboard's headline)."""
    qs = Evaluation.objects.filter(status=EvaluationStatus.DONE)
    if partnership_id is not None:
        qs = qs.filter(partnership_id=partnership_id)
    return qs.order_by("-finished_at", "-id").first()


def requester_name(evaluation: Evaluation) -> str:
    user = evaluation.requested_by
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return f"{timezone.localtime(value):%-d %B %Y %H:%M}"


def report_meta(evaluation: Evaluation) -> dict[str, str]:
    """The "About this evaluation" rows: who, when, configuration, data and software."""
    config: dict[str, Any] = evaluation.config or {}
    rows: dict[str, str] = {
        "Evaluation": f"Number {evaluation.pk}"
        + (f", a re-run of number {evaluation.rerun_of_id}" if evaluation.rerun_of_id else ""),
        "Asked for by": f"{requester_name(evaluation)} on {_when(evaluation.created_at)}",
        "Data": str(EvaluationKind(evaluation.kind).label),
    }
    if evaluation.kind == EvaluationKind.DATABASE:
        selection = config.get("selection") or {}
        rows["Programme group"] = _describe(selection)
        rows["Outcomes measured up to"] = _date_text(config.get("as_of"))
    elif evaluation.input_table is not None:
        table = evaluation.input_table
        rows["Table"] = f"{table.name} ({table.rows:,} rows; SHA-256 {table.sha256})"
    if evaluation.finished_at:
        rows["Finished"] = _when(evaluation.finished_at)
    if evaluation.input_rows is not None:
        rows["Rows the engine saw"] = f"{evaluation.input_rows:,}"
    if evaluation.data_fingerprint:
        rows["Data fingerprint"] = evaluation.data_fingerprint
    software = evaluation.software or {}
    if software:
        rows["Software"] = ", ".join(f"{k} {v}" for k, v in sorted(software.items()))
    return rows


def _date_text(value: Any) -> str:
    try:
        return f"{dt.date.fromisoformat(str(value)):%-d %B %Y}"
    except ValueError:
        return str(value or "")


def _describe(selection: dict[str, Any]) -> str:
    try:
        from openiom.evaluation.services import selection_from_dict

        return str(selection_from_dict(selection).describe())
    except (ImportError, ValueError, TypeError):
        return describe_selection(selection)


def describe_selection(selection: dict[str, Any]) -> str:
    """A TreatmentSelection (as stored) in words."""
    parts: list[str] = []
    cohorts = selection.get("cohorts") or selection.get("cohort_keys") or selection.get("schemes")
    if isinstance(cohorts, str):
        cohorts = [cohorts]
    if cohorts:
        parts.append("people registered on " + ", ".join(str(c) for c in cohorts))
    else:
        parts.append("people registered on any cohort")
    start = selection.get("registered_from")
    end = selection.get("registered_to")
    if start and end:
        parts.append(f"from {_date_text(start)} to {_date_text(end)}")
    elif start:
        parts.append(f"from {_date_text(start)}")
    elif end:
        parts.append(f"up to {_date_text(end)}")
    agency = selection.get("lead_agency")
    if agency:
        parts.append(f"with lead agency {agency}")
    return " ".join(parts)
