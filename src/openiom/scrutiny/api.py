"""Scrutiny endpoints: disproportionality of a scoring run's top candidates and of the
registered cohort. Same permission and audit as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from openiom.accounts.actor import Actor
from openiom.scoring.models import RunStatus, ScoringRun
from openiom.scoring.permissions import ScoringAction, require_scoring
from openiom.scrutiny.disproportionality import DisproportionalityError
from openiom.scrutiny.selectors import (
    DEFAULT_TOP_N,
    Populations,
    cohort_disproportionality,
    run_disproportionality,
)

router = Router(tags=["scrutiny"])
AS_OF = Query(None, description="Date to compare on; default today.")


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    return actor


def _out(report: Any, pops: Populations) -> dict[str, Any]:
    return {
        **report.to_dict(),
        "selected_label": pops.selected_label,
        "eligible_label": pops.eligible_label,
        "notes": pops.notes,
    }


def _unprocessable(message: str) -> NinjaValidationError:
    return NinjaValidationError([{"type": "value_error", "loc": ["query"], "msg": message}])


@router.get(
    "/runs/{run_id}/disproportionality",
    response=dict[str, Any],
    summary="Disproportionality of a scoring run's top N eligible candidates",
    description="The top `top` eligible candidates against all the run's stored eligible "
    "candidates, by sex, ethnicity (officer- and self-defined) and age band: counts, shares, "
    "relative rate indices with 95% CIs, small-number flags and sentences.",
)
def run_view(
    request: HttpRequest,
    run_id: int = Path(..., ge=1, le=2**63 - 1),
    top: int = Query(DEFAULT_TOP_N, ge=1, le=100_000),
) -> dict[str, Any]:
    actor = actor_of(request)
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    run = ScoringRun.objects.select_related("policy").get(pk=run_id)
    if run.status != RunStatus.FINISHED:
        raise HttpError(409, f"Scoring run {run.pk} is {run.status}: nothing to compare yet.")
    try:
        report, pops = run_disproportionality(actor=actor, run=run, top_n=top)
    except DisproportionalityError as exc:
        raise _unprocessable(str(exc)) from None
    return {"run_id": run.pk, **_out(report, pops)}


@router.get(
    "/cohort/disproportionality",
    response=dict[str, Any],
    summary="Disproportionality of the registered cohort",
    description="Everyone registered on an IOM cohort on `as_of` against everyone alive then "
    "who meets the age and hub rules of a cohort definition in force (plus the registered).",
)
def cohort_view(request: HttpRequest, as_of: dt.date | None = AS_OF) -> dict[str, Any]:
    actor = actor_of(request)
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    on = as_of or timezone.localdate()
    if on > timezone.localdate():
        raise _unprocessable("as_of must be today or earlier")
    try:
        report, pops = cohort_disproportionality(actor=actor, as_of=on)
    except DisproportionalityError as exc:
        raise _unprocessable(str(exc)) from None
    return _out(report, pops)
