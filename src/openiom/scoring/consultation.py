"""Audited reads of scores for the pages and the API.

A candidate list and a score explanation disclose who scored what, so each view is recorded as
one consultation (the pattern of people.selectors.view_person). Permission is checked first so
that a refusal is itself audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from openiom.access.policy import people_visible_to
from openiom.audit.services import record
from openiom.scoring import selectors
from openiom.scoring.models import CandidateScore, RunStatus, ScoringPolicy, ScoringRun
from openiom.scoring.permissions import ScoringAction, require_scoring

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

FLAGS = {
    "already_registered": "Already registered",
    "long_custody": "Long custody",
    "deceased": "Deceased",
    "out_of_area": "Out of area",
}
PAGE_SIZE = 50


@dataclass(frozen=True)
class CandidateFilters:
    hub: str = ""
    flag: str = ""  # "", "none" (no flags) or one of FLAGS (must carry it)
    min_score: float | None = None
    eligible_only: bool = False
    sort: str = "rank"

    def to_dict(self) -> dict[str, Any]:
        return {
            "hub": self.hub,
            "flag": self.flag,
            "min_score": self.min_score,
            "eligible_only": self.eligible_only,
            "sort": self.sort,
        }


@dataclass
class CandidatePage:
    run: ScoringRun
    page: Page[CandidateScore]
    count: int
    # Ids of people on the page the actor may open (restricted records are shown without names).
    visible_ids: set[int] = field(default_factory=set)


def candidate_queryset(*, run: ScoringRun, filters: CandidateFilters) -> QuerySet[CandidateScore]:
    flags: list[str] = []
    exclude: list[str] = []
    if filters.flag == "none":
        exclude = list(FLAGS)
    elif filters.flag:
        flags = [filters.flag]
    return selectors.candidates(
        run=run,
        hub=filters.hub or None,
        flags=flags,
        exclude_flags=exclude,
        min_score=filters.min_score,
        eligible_only=filters.eligible_only,
        sort=filters.sort,
    )


def _visible(actor: Actor, ids: list[int]) -> set[int]:
    return set(people_visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))


def consult_candidates(
    *,
    actor: Actor,
    run: ScoringRun,
    filters: CandidateFilters,
    page_number: int | str = 1,
    per_page: int = PAGE_SIZE,
    offset: int | None = None,
) -> CandidatePage:
    """One page of a run's ranked candidates. Records one consultation naming who was shown."""
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    qs = candidate_queryset(run=run, filters=filters)
    if offset is not None:
        # The API pages by offset/limit: a Page over just that slice.
        count = qs.count()
        rows = list(qs[offset : offset + per_page])
        paginator: Paginator[CandidateScore] = Paginator(rows, max(per_page, 1))
        page = paginator.page(1)
    else:
        paginator = Paginator(qs, per_page)
        page = paginator.get_page(page_number)
        count = paginator.count
    ids = [c.person_id for c in page.object_list]
    record(
        "scoring.candidates_consulted",
        actor=actor,
        obj=run,
        context={"run": run.pk, "results": len(ids)},
        details={"run_id": run.pk, "filters": filters.to_dict(), "person_ids": ids},
    )
    return CandidatePage(run=run, page=page, count=count, visible_ids=_visible(actor, ids))


@dataclass(frozen=True)
class ExplainedCandidate:
    candidate: CandidateScore
    explanation: selectors.Explanation
    may_open_person: bool
    eligible_rank: int | None


def consult_explanation(*, actor: Actor, run: ScoringRun, person_id: int) -> ExplainedCandidate:
    """Why the person scored what they did; raises CandidateScore.DoesNotExist if not stored."""
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    candidate = CandidateScore.objects.select_related("person", "person__hub").get(
        run=run, person_id=person_id
    )
    explanation = selectors.explain(person=person_id, run=run)
    assert explanation is not None
    eligible_rank = None
    if candidate.eligible:
        eligible_rank = (
            CandidateScore.objects.filter(run=run, eligible=True, rank__lt=candidate.rank).count()
            + 1
        )
    may_open = bool(_visible(actor, [person_id]))
    record(
        "scoring.explanation_consulted",
        actor=actor,
        obj=run,
        person_id=person_id,
        context={
            "person": str(candidate.person) if may_open else f"person {person_id}",
            "rank": candidate.rank,
            "run": run.pk,
        },
        details={"run_id": run.pk, "rank": candidate.rank, "total": candidate.total},
    )
    return ExplainedCandidate(candidate, explanation, may_open, eligible_rank)


def latest_runs() -> list[tuple[ScoringPolicy, ScoringRun | None, ScoringRun | None]]:
    """Per policy key (latest version): the latest finished run and the latest run of any state.

    Runs hold no personal data (counts only), so this is not audited.
    """
    out = []
    keys = ScoringPolicy.objects.values_list("key", flat=True).distinct().order_by("key")
    for key in keys:
        policy = ScoringPolicy.objects.filter(key=key).order_by("-version").first()
        assert policy is not None
        runs = ScoringRun.objects.filter(policy__key=key).select_related("policy")
        finished = runs.filter(status=RunStatus.FINISHED).order_by("-finished_at", "-id").first()
        newest = runs.order_by("-created_at", "-id").first()
        out.append((policy, finished, newest))
    return out
