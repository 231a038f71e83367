"""Scoring endpoints: runs (with progress), ranked candidates with their breakdowns, score
explanations, enqueueing a run, and the versioned rule sets.

Same permissions and audit as the pages: candidate lists and explanations are consultations.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from openiom.accounts.actor import Actor
from openiom.scoring.consultation import (
    FLAGS,
    CandidateFilters,
    consult_candidates,
    consult_explanation,
)
from openiom.scoring.models import CandidateScore, ScoringPolicy, ScoringRun, Strand
from openiom.scoring.permissions import ScoringAction, require_scoring
from openiom.scoring.schemas import (
    CandidateList,
    ExplanationOut,
    RuleSetDetail,
    RuleSetOut,
    RunIn,
    RunList,
    RunOut,
)
from openiom.scoring.selectors import SORTS
from openiom.scoring.services import ScoringError
from openiom.scoring.tasks import enqueue_scoring
from openiom.scoring.views import KINDS, status_tags

router = Router(tags=["scoring"])

MAX_ID = 2**63 - 1
MAX_PAGE = 500
RUN_ID = Path(..., ge=1, le=MAX_ID, description="The scoring run's id.")
NOTICE = (
    "This list is an indicator only. It needs professional judgement before anyone is referred."
)


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    return actor


def _invalid(field: str, message: str, where: str = "query") -> NinjaValidationError:
    return NinjaValidationError([{"type": "value_error", "loc": [where, field], "msg": message}])


def _ref(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.pk, "key": obj.key, "version": obj.version, "name": obj.name}


def _run_out(run: ScoringRun) -> dict[str, Any]:
    user = run.requested_by
    return {
        **{
            name: getattr(run, name)
            for name in (
                "as_of",
                "status",
                "progress",
                "progress_note",
                "error",
                "input_fingerprint",
                "input_counts",
                "people_scored",
                "eligible_count",
                "candidates_stored",
                "trigger",
                "created_at",
                "started_at",
                "finished_at",
            )
        },
        "id": run.pk,
        "policy": _ref(run.policy),
        "strand": run.policy.strand,
        "harm_table": _ref(run.harm_table),
        "cost_table": _ref(run.cost_table),
        "requested_by": user.get_username() if user is not None else None,
    }


def _get_run(run_id: int) -> ScoringRun:
    return ScoringRun.objects.select_related(
        "policy", "harm_table", "cost_table", "requested_by"
    ).get(pk=run_id)


def _candidate_out(c: CandidateScore, visible: bool) -> dict[str, Any]:
    return {
        "person_id": c.person_id,
        "name": c.person.full_name if visible else None,
        "hub": c.person.hub.code if visible and c.person.hub_id else None,
        "rank": c.rank,
        "total": c.total,
        "eligible": c.eligible,
        "ogrs3_2yr": c.ogrs3_2yr,
        "ogrs3_band": c.ogrs3_band,
        "flags": list(c.flags),
        "breakdown": c.breakdown,
        "components": c.components,
    }


@router.get(
    "/runs",
    response=RunList,
    summary="Scoring runs",
    description="Newest first, with status and progress. Counts only: no personal data.",
)
def list_runs(
    request: HttpRequest,
    policy: str | None = Query(None, max_length=64, description="Policy key."),
    strand: str | None = Query(None, description="fixed, flex or free."),
    status: str | None = Query(None, description="queued, running, finished or failed."),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> dict[str, Any]:
    require_scoring(actor_of(request), ScoringAction.VIEW_SCORES)
    qs = ScoringRun.objects.select_related(
        "policy", "harm_table", "cost_table", "requested_by"
    ).order_by("-created_at", "-id")
    if policy:
        qs = qs.filter(policy__key=policy)
    if strand:
        if strand not in Strand.values:
            raise _invalid("strand", f"strand must be one of {', '.join(Strand.values)}")
        qs = qs.filter(policy__strand=strand)
    if status:
        qs = qs.filter(status=status)
    count = qs.count()
    runs = [_run_out(r) for r in qs[offset : offset + limit]]
    return {"count": count, "limit": limit, "offset": offset, "results": runs}


@router.post(
    "/runs",
    response={202: RunOut},
    summary="Run scoring (queued)",
    description=(
        "Queue a scoring run with a policy version as of a date (coordinators and analysts). "
        "Poll `GET /scoring/runs/{id}` for progress."
    ),
)
def create_run(request: HttpRequest, payload: RunIn) -> Status:
    actor = actor_of(request)
    require_scoring(actor, ScoringAction.RUN_SCORING)
    qs = ScoringPolicy.objects.filter(key=payload.policy_key)
    if payload.policy_version is not None:
        qs = qs.filter(version=payload.policy_version)
    policy = qs.order_by("-version").first()
    if policy is None:
        raise _invalid("policy_key", "No scoring policy with that key and version.", "body")
    if payload.as_of > timezone.localdate():
        raise _invalid("as_of", "The date to score as of must be today or earlier.", "body")
    try:
        run = enqueue_scoring(actor=actor, policy=policy, as_of=payload.as_of)
    except ScoringError as exc:
        raise _invalid("policy_key", str(exc), "body") from None
    return Status(202, _run_out(_get_run(run.pk)))


@router.get("/runs/{run_id}", response=RunOut, summary="A scoring run, with its progress")
def run_detail(request: HttpRequest, run_id: int = RUN_ID) -> dict[str, Any]:
    require_scoring(actor_of(request), ScoringAction.VIEW_SCORES)
    return _run_out(_get_run(run_id))


@router.get(
    "/runs/{run_id}/candidates",
    response=CandidateList,
    summary="A run's ranked candidates",
    description=(
        f"{NOTICE} Each with components and the plain-English breakdown. Filters: `hub`, "
        "`flag` (a flag the person must carry, or `none` for no flags), `min_score`, "
        f"`eligible`; `sort` one of {', '.join(SORTS)}. Recorded as one consultation."
    ),
)
def run_candidates(
    request: HttpRequest,
    run_id: int = RUN_ID,
    hub: str | None = Query(None, max_length=32),
    flag: str | None = Query(None, max_length=32),
    min_score: float | None = Query(None, ge=0, le=1e6),
    eligible: bool = Query(False),
    sort: str = Query("rank"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> dict[str, Any]:
    actor = actor_of(request)
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    run = _get_run(run_id)
    if flag and flag != "none" and flag not in FLAGS:
        raise _invalid("flag", f"flag must be none or one of {', '.join(FLAGS)}")
    if sort not in SORTS:
        raise _invalid("sort", f"sort must be one of {', '.join(SORTS)}")
    if run.status != "finished":
        raise HttpError(409, f"Scoring run {run.pk} is {run.status}: no candidates yet.")
    filters = CandidateFilters(
        hub=hub or "", flag=flag or "", min_score=min_score, eligible_only=eligible, sort=sort
    )
    result = consult_candidates(
        actor=actor, run=run, filters=filters, per_page=limit, offset=offset
    )
    return {
        "run_id": run.pk,
        "notice": NOTICE,
        "count": result.count,
        "limit": limit,
        "offset": offset,
        "results": [
            _candidate_out(c, c.person_id in result.visible_ids) for c in result.page.object_list
        ],
    }


@router.get(
    "/runs/{run_id}/candidates/{person_id}",
    response=ExplanationOut,
    summary="Why a person scored what they did",
    description="Components (raw values and points), breakdown, policy version and input "
    "fingerprint. Recorded as a consultation of the person.",
)
def run_candidate(
    request: HttpRequest,
    run_id: int = RUN_ID,
    person_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict[str, Any]:
    actor = actor_of(request)
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    run = _get_run(run_id)
    try:
        found = consult_explanation(actor=actor, run=run, person_id=person_id)
    except CandidateScore.DoesNotExist:
        raise HttpError(404, "This person was not stored in this run.") from None
    return {
        **_candidate_out(found.candidate, found.may_open_person),
        "components": found.explanation.components,
        "run_id": run.pk,
        "eligible_rank": found.eligible_rank,
        "as_of": run.as_of,
        "policy": _ref(run.policy),
        "harm_table": _ref(run.harm_table),
        "cost_table": _ref(run.cost_table),
        "input_fingerprint": run.input_fingerprint,
        "notice": NOTICE,
    }


def _rule_set(kind: str, obj: Any, config: bool = False) -> dict[str, Any]:
    out = {
        "kind": kind,
        "id": obj.pk,
        "key": obj.key,
        "version": obj.version,
        "name": obj.name,
        "strand": getattr(obj, "strand", None),
        "effective_from": obj.effective_from,
        "source": obj.source,
        "status_tags": [code for code, _ in status_tags(obj.source)],
        "change_note": obj.change_note,
        "created_at": obj.created_at,
    }
    if config:
        out["config"] = obj.config
    return out


def _kind_model(kind: str) -> Any:
    if kind not in KINDS:
        raise HttpError(404, f"No such kind of rule set: choose {', '.join(KINDS)}.")
    return KINDS[kind][0]


def _any_role(request: HttpRequest) -> None:
    if actor_of(request).membership is None:
        raise HttpError(403, "You need an active agency role to see scoring rule sets.")


@router.get(
    "/policies",
    response=list[RuleSetOut],
    summary="Scoring rule sets (every version)",
    description="Scoring policies (`policy`), crime-harm tables (`harm`), unit-cost tables "
    "(`cost`): every version, newest first. Policy, not personal data.",
)
def list_rule_sets(
    request: HttpRequest, kind: str | None = Query(None, description="policy, harm or cost.")
) -> list[dict[str, Any]]:
    _any_role(request)
    kinds = [kind] if kind else list(KINDS)
    out = []
    for k in kinds:
        model = _kind_model(k)
        out += [_rule_set(k, v) for v in model.objects.order_by("key", "-version")]
    return out


@router.get(
    "/policies/{kind}/{key}",
    response=list[RuleSetDetail],
    summary="Every version of one rule set, with its configuration",
)
def rule_set_versions(
    request: HttpRequest,
    kind: str = Path(..., max_length=16),
    key: str = Path(..., max_length=64),
) -> list[dict[str, Any]]:
    _any_role(request)
    model = _kind_model(kind)
    versions = list(model.objects.filter(key=key).order_by("-version"))
    if not versions:
        raise HttpError(404, "No such rule set.")
    return [_rule_set(kind, v, config=True) for v in versions]


@router.get(
    "/policies/{kind}/{key}/{version}",
    response=RuleSetDetail,
    summary="One version of a rule set",
)
def rule_set_version(
    request: HttpRequest,
    kind: str = Path(..., max_length=16),
    key: str = Path(..., max_length=64),
    version: int = Path(..., ge=1, le=2**31 - 1),
) -> dict[str, Any]:
    _any_role(request)
    model = _kind_model(kind)
    obj = model.objects.filter(key=key, version=version).first()
    if obj is None:
        raise HttpError(404, "No such rule set version.")
    return _rule_set(kind, obj, config=True)
