"""Evaluation endpoints: list, get, create (area data or an uploaded table), re-run, and the board
dashboard's data. Same services, permissions and audit as the pages.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import File, Form, Path, Query, Router, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile

from openiom.accounts.actor import Actor
from openiom.evaluation import selectors, services
from openiom.evaluation.dashboard import board_dashboard
from openiom.evaluation.methods.types import EvaluationSpec, MatchingSpec
from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus
from openiom.evaluation.schemas import (
    DashboardOut,
    DatabaseEvaluationIn,
    EvaluationDetail,
    EvaluationList,
)
from openiom.evaluation.services import EvaluationError
from openiom.evaluation.tasks import enqueue_evaluation

router = Router(tags=["evaluation"])

MAX_ID = 2**63 - 1
EVALUATION_ID = Path(..., ge=1, le=MAX_ID, description="The evaluation's id.")


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    return actor


def _invalid(field: str, message: str, where: str = "body") -> NinjaValidationError:
    loc = [where, field] if field else [where]
    return NinjaValidationError([{"type": "value_error", "loc": loc, "msg": message}])


def _out(evaluation: Evaluation) -> dict[str, Any]:
    user = evaluation.requested_by
    return {
        "id": evaluation.pk,
        "title": evaluation.title,
        "kind": evaluation.kind,
        "status": evaluation.status,
        "progress_stage": evaluation.progress_stage,
        "progress": evaluation.percent,
        "error": evaluation.error,
        "requested_by": user.get_username() if user is not None else None,
        "rerun_of": evaluation.rerun_of_id,
        "data_fingerprint": evaluation.data_fingerprint,
        "created_at": evaluation.created_at,
        "started_at": evaluation.started_at,
        "finished_at": evaluation.finished_at,
        "headline": "",
        "url": reverse("evaluation:detail", args=[evaluation.pk]),
    }


def _detail(evaluation: Evaluation) -> dict[str, Any]:
    return {
        **_out(evaluation),
        "headline": evaluation.headline,
        "config": evaluation.config,
        "software": evaluation.software,
        "input_rows": evaluation.input_rows,
        "result": evaluation.result if evaluation.status == EvaluationStatus.DONE else None,
    }


@router.get(
    "/evaluations",
    response=EvaluationList,
    summary="Evaluations",
    description="Newest first, with status and progress (results are in GET /evaluations/{id}).",
)
def list_evaluations(
    request: HttpRequest,
    status: str | None = Query(None, description="queued, running, done or failed."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> dict[str, Any]:
    if status and status not in EvaluationStatus.values:
        raise _invalid(
            "status", f"status must be one of {', '.join(EvaluationStatus.values)}", "query"
        )
    qs = selectors.evaluations_for(actor=actor_of(request), status=status or "")
    return {"count": qs.count(), "items": [_out(e) for e in qs[offset : offset + limit]]}


@router.get(
    "/evaluations/{int:evaluation_id}",
    response=EvaluationDetail,
    summary="An evaluation with its configuration and result",
)
def get_evaluation(request: HttpRequest, evaluation_id: int = EVALUATION_ID) -> dict[str, Any]:
    evaluation = selectors.get_evaluation(actor=actor_of(request), evaluation_id=evaluation_id)
    return _detail(evaluation)


def _queued(evaluation: Evaluation) -> Status:
    enqueue_evaluation(evaluation)
    evaluation.refresh_from_db()
    return Status(202, _detail(evaluation))


@router.post(
    "/evaluations",
    response={202: EvaluationDetail},
    summary="Evaluate a cohort from the area's data (queued)",
    description=(
        "The treated group is the registrations chosen by cohort, period and lead agency; the "
        "comparison pool is built from the area's records (coordinators and analysts). Poll "
        "GET /evaluations/{id} for progress."
    ),
)
def create_evaluation(request: HttpRequest, payload: DatabaseEvaluationIn) -> Status:
    from openiom.evaluation.comparison import (
        AVAILABLE_COVARIATES,
        DEFAULT_COVARIATES,
        ComparisonError,
        TreatmentSelection,
    )

    actor = actor_of(request)
    covariates = (
        list(payload.covariates) if payload.covariates is not None else list(DEFAULT_COVARIATES)
    )
    unknown = [c for c in [*covariates, *payload.matching.exact] if c not in AVAILABLE_COVARIATES]
    if unknown:
        raise _invalid(
            "covariates",
            f"unknown covariate {unknown[0]!r}; choose from {', '.join(AVAILABLE_COVARIATES)}",
        )
    try:
        selection = TreatmentSelection(
            cohorts=tuple(payload.cohorts),
            registered_from=payload.registered_from,
            registered_to=payload.registered_to,
            lead_agency=payload.lead_agency or None,
            label=payload.title,
        )
        spec = services.database_spec(
            covariates=covariates,
            matching=MatchingSpec(
                ratio=payload.matching.ratio,
                replace=payload.matching.replace,
                caliper_sd=payload.matching.caliper_sd,
                exact=tuple(payload.matching.exact),
            ),
            label=payload.title,
        )
        evaluation = services.request_evaluation(
            actor=actor,
            title=payload.title,
            kind=EvaluationKind.DATABASE,
            spec=spec,
            selection=selection,
            as_of=payload.as_of,
        )
    except EvaluationError as exc:
        raise _invalid(exc.field or "", str(exc)) from None
    except ComparisonError as exc:
        raise _invalid("", str(exc)) from None
    return _queued(evaluation)


def _names(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


@router.post(
    "/evaluations/table",
    response={202: EvaluationDetail},
    summary="Evaluate an uploaded table (queued)",
    description=(
        "Multipart form: `file` (CSV or Parquet, one row per person) and the column names. Only "
        "the named columns are kept, so the evaluation can be re-run on the same data."
    ),
)
def create_table_evaluation(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008
    title: str = Form(..., min_length=1, max_length=200),
    treatment: str = Form(..., min_length=1, max_length=200),
    outcome: str = Form(..., min_length=1, max_length=200),
    covariates: str = Form(..., min_length=1, max_length=4000, description="Comma-separated."),
    frequency: str | None = Form(None, max_length=200),
    time: str | None = Form(None, max_length=200),
    event: str | None = Form(None, max_length=200),
    harm: str | None = Form(None, max_length=200),
    label: str | None = Form(None, max_length=200),
    ratio: int = Form(1, ge=1, le=10),
    replace: bool = Form(False),
    caliper_sd: float | None = Form(0.2, gt=0, le=5),
    exact: str | None = Form(None, max_length=2000, description="Comma-separated."),
) -> Status:
    actor = actor_of(request)
    spec = EvaluationSpec(
        treatment=treatment.strip(),
        outcome=outcome.strip(),
        covariates=tuple(_names(covariates)),
        frequency=(frequency or "").strip() or None,
        time=(time or "").strip() or None,
        event=(event or "").strip() or None,
        harm=(harm or "").strip() or None,
        matching=MatchingSpec(
            ratio=ratio, replace=replace, caliper_sd=caliper_sd, exact=tuple(_names(exact))
        ),
        label=(label or "").strip() or title,
    )
    if (spec.time is None) != (spec.event is None):
        raise _invalid(
            "event" if spec.time else "time", "give both a time and an event column, or neither"
        )
    data = file.read()
    try:
        frame = services.read_upload(data, file.name or "upload")
        missing = [c for c in services.spec_columns(spec) if c not in frame.columns]
        if missing:
            raise EvaluationError(
                f"the table has no column called {missing[0]!r}; its columns are "
                f"{', '.join(frame.columns[:30])}",
                field="columns",
            )
        table = services.store_input_table(
            actor=actor,
            data=data,
            name=file.name or "upload",
            frame=frame,
            columns=services.spec_columns(spec),
        )
        evaluation = services.request_evaluation(
            actor=actor, title=title, kind=EvaluationKind.TABLE, spec=spec, input_table=table
        )
    except EvaluationError as exc:
        raise _invalid(exc.field or "file", str(exc)) from None
    return _queued(evaluation)


@router.post(
    "/evaluations/{int:evaluation_id}/rerun",
    response={202: EvaluationDetail},
    summary="Run an evaluation again (queued)",
    description="A new evaluation with the same configuration; the original is never changed.",
)
def rerun_evaluation(request: HttpRequest, evaluation_id: int = EVALUATION_ID) -> Status:
    actor = actor_of(request)
    evaluation = selectors.get_evaluation(actor=actor, evaluation_id=evaluation_id)
    if not evaluation.ended:
        raise _invalid("", "this evaluation has not finished yet")
    try:
        again = services.rerun_evaluation(actor=actor, evaluation=evaluation)
    except EvaluationError as exc:
        raise _invalid(exc.field or "", str(exc)) from None
    return _queued(again)


@router.get(
    "/dashboard",
    response=DashboardOut,
    summary="Board dashboard data",
    description=(
        "Cohort size at each month end by scheme and by RAG status, flows in and out per month, "
        "before/after tracking (not impact) and the latest evaluation's headline. Counts only."
    ),
)
def dashboard(request: HttpRequest, months: int = Query(24, ge=1, le=120)) -> dict[str, Any]:
    board = board_dashboard(actor=actor_of(request), months=months, charts=False)
    return board.to_dict()
