"""Scoring reads: ranked candidate lists and score explanations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from openiom.scoring.models import CandidateScore, RunStatus, ScoringPolicy, ScoringRun

SORTS = {
    "rank": ["rank"],
    "-total": ["-total", "rank"],
    "total": ["total", "-rank"],
    "ogrs3": ["-ogrs3_2yr", "rank"],
    "surname": ["person__surname", "person__first_names", "rank"],
}


class SelectorError(ValueError):
    pass


def latest_run(*, policy_key: str | None = None) -> ScoringRun | None:
    qs = ScoringRun.objects.filter(status=RunStatus.FINISHED)
    if policy_key:
        qs = qs.filter(policy__key=policy_key)
    return qs.order_by("-finished_at", "-id").first()


def candidates(
    *,
    run: ScoringRun,
    hub: str | None = None,
    flags: list[str] | None = None,
    exclude_flags: list[str] | None = None,
    min_score: float | None = None,
    eligible_only: bool = False,
    sort: str = "rank",
) -> QuerySet[CandidateScore]:
    """The run's ranked candidates. `flags`: must carry all of these; `exclude_flags`: none."""
    if sort not in SORTS:
        raise SelectorError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    qs = CandidateScore.objects.filter(run=run).select_related("person", "person__hub")
    if hub:
        qs = qs.filter(person__hub__code=hub)
    if min_score is not None:
        qs = qs.filter(total__gte=min_score)
    if eligible_only:
        qs = qs.filter(eligible=True)
    # Flags live in a small JSON list; filter portably (SQLite has no JSON containment).
    wanted, unwanted = set(flags or []), set(exclude_flags or [])
    if wanted or unwanted:
        keep = [
            pk
            for pk, f in qs.values_list("pk", "flags")
            if wanted <= set(f or []) and not (unwanted & set(f or []))
        ]
        qs = qs.filter(pk__in=keep)
    return qs.order_by(*SORTS[sort])


@dataclass(frozen=True)
class Explanation:
    person_id: int
    run_id: int
    rank: int
    total: float
    eligible: bool
    flags: list[str]
    breakdown: str
    components: dict[str, Any]
    policy: ScoringPolicy
    as_of: Any


def explain(*, person: Any, run: ScoringRun) -> Explanation | None:
    """Why the person scored what they did in the run (None if they were not stored)."""
    person_id = getattr(person, "pk", person)
    c = CandidateScore.objects.filter(run=run, person_id=person_id).first()
    if c is None:
        return None
    ordered = dict(sorted(c.components.items(), key=lambda kv: -float(kv[1].get("points", 0))))
    return Explanation(
        person_id=person_id,
        run_id=run.pk,
        rank=c.rank,
        total=c.total,
        eligible=c.eligible,
        flags=list(c.flags),
        breakdown=c.breakdown,
        components=ordered,
        policy=run.policy,
        as_of=run.as_of,
    )


@dataclass(frozen=True)
class LatestScore:
    total: float
    rank: int
    run: ScoringRun

    def describe(self) -> str:
        return f"scoring run {self.run.pk} of {self.run.as_of:%-d %B %Y}, ranked {self.rank}"


def latest_score_for(*, person_id: int, cohort_key: str, on: Any) -> LatestScore | None:
    """The person's score in the latest finished run for the cohort's scoring strand (as of `on`
    or earlier). None when the strand has no run, or the person is not among the candidates the
    run stored (runs keep the top of the list only)."""
    from openiom.scoring.defaults import POLICY_KEYS

    policy_key = POLICY_KEYS.get(cohort_key)
    if policy_key is None:
        return None
    run = (
        ScoringRun.objects.filter(status=RunStatus.FINISHED, policy__key=policy_key, as_of__lte=on)
        .order_by("-as_of", "-finished_at", "-id")
        .first()
    )
    if run is None:
        return None
    row = CandidateScore.objects.filter(run=run, person_id=person_id).first()
    if row is None:
        return None
    return LatestScore(total=row.total, rank=row.rank, run=run)
