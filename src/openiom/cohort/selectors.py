"""Reads of the cohort lifecycle. Reads that disclose people's records are audited as consultations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from openiom.access.policy import people_visible_to
from openiom.audit.services import record
from openiom.cohort.deregistration import ExitSuggestion, suggest_exit
from openiom.cohort.eligibility import CriterionResult, check_eligibility
from openiom.cohort.models import (
    CohortDefinition,
    DeregistrationPolicy,
    Notification,
    PanelDecision,
    RagAssessment,
    RagPolicy,
    Reconsideration,
    ReconsiderationStatus,
    Referral,
    ReferralState,
    Registration,
    RegistrationStatus,
)
from openiom.cohort.permissions import CohortAction, can_cohort, deny, require_cohort
from openiom.cohort.rag import RagSuggestion, ReportedEvidence, suggest_rag

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.partnership.models import Agency, Hub
    from openiom.people.models import Person

QUEUE_STATES = (ReferralState.SUBMITTED, ReferralState.LISTED)


def referral_queue(*, actor: Actor, states: tuple[str, ...] = QUEUE_STATES) -> list[Referral]:
    """The coordinator's queue: listed referrals by panel date, then submitted ones oldest first."""
    require_cohort(actor, CohortAction.LIST_FOR_PANEL)
    referrals = list(
        Referral.objects.filter(state__in=states, person__in=people_visible_to(actor))
        .select_related(
            "person", "person__hub", "referring_agency", "referred_by", "proposed_cohort"
        )
        .order_by(F("panel_date").asc(nulls_last=True), "submitted_at", "id")
    )
    record(
        "referral.queue_consulted",
        actor=actor,
        context={"results": len(referrals)},
        details={"states": list(states), "referral_ids": [r.pk for r in referrals]},
    )
    return referrals


def referrals_made_by_agency(*, actor: Actor) -> list[Referral]:
    """The referrals the actor's agency made, with their states (what the referrer follows)."""
    if actor.agency_id is None:
        return []
    referrals = list(
        Referral.objects.filter(referring_agency_id=actor.agency_id)
        .select_related("person", "referred_by")
        .order_by("-created_at", "-id")
    )
    record(
        "referral.queue_consulted",
        actor=actor,
        context={"results": len(referrals)},
        details={"agency_referrals": True, "referral_ids": [r.pk for r in referrals]},
    )
    return referrals


@dataclass(frozen=True)
class RegisterEntry:
    registration: Registration
    rag_status: str  # "" when no RAG status has been set yet
    rag_on: dt.date | None


def cohort_register(
    *,
    actor: Actor,
    cohort_key: str | None = None,
    rag: str | None = None,
    lead_agency: Agency | None = None,
    hub: Hub | None = None,
    include_ended: bool = False,
) -> list[RegisterEntry]:
    """Registrations the actor may see (partners: people they work with), with the latest RAG.

    rag filters on the latest status: red, amber, green, or "none" for not yet assessed.
    """
    require_cohort(actor, CohortAction.VIEW_REGISTER)
    latest = RagAssessment.objects.filter(registration=OuterRef("pk")).order_by(
        "-assessed_on", "-created_at", "-id"
    )
    qs = (
        Registration.objects.filter(person__in=people_visible_to(actor))
        .select_related("person", "person__hub", "cohort", "lead_agency", "lead_worker")
        .annotate(
            latest_rag=Subquery(latest.values("status")[:1]),
            latest_rag_on=Subquery(latest.values("assessed_on")[:1]),
        )
    )
    if not include_ended:
        qs = qs.exclude(status=RegistrationStatus.DEREGISTERED)
    if cohort_key:
        qs = qs.filter(cohort_key=cohort_key)
    if lead_agency is not None:
        qs = qs.filter(lead_agency=lead_agency)
    if hub is not None:
        qs = qs.filter(person__hub=hub)
    if rag == "none":
        qs = qs.filter(latest_rag__isnull=True)
    elif rag:
        qs = qs.filter(latest_rag=rag)
    rows = [
        RegisterEntry(registration=r, rag_status=r.latest_rag or "", rag_on=r.latest_rag_on)
        for r in qs.order_by("person__surname", "person__first_names", "id")
    ]
    record(
        "cohort.register_consulted",
        actor=actor,
        context={"results": len(rows)},
        details={
            "filters": {
                "cohort": cohort_key or "",
                "rag": rag or "",
                "lead_agency": lead_agency.pk if lead_agency else None,
                "hub": hub.pk if hub else None,
                "include_ended": include_ended,
            },
            "person_ids": [e.registration.person_id for e in rows],
        },
    )
    return rows


@dataclass
class RegistrationHistory:
    registration: Registration
    status_changes: list[Any] = field(default_factory=list)
    rag_assessments: list[RagAssessment] = field(default_factory=list)
    exit_plans: list[Any] = field(default_factory=list)
    reconsiderations: list[Reconsideration] = field(default_factory=list)


@dataclass
class IomHistory:
    person: Person
    referrals: list[Referral] = field(default_factory=list)
    panel_decisions: list[PanelDecision] = field(default_factory=list)
    registrations: list[RegistrationHistory] = field(default_factory=list)

    @property
    def rag_history(self) -> list[RagAssessment]:
        return [a for r in self.registrations for a in r.rag_assessments]


def person_iom_history(*, actor: Actor, person: Person) -> IomHistory:
    """A person's IOM history: referrals (with changelogs), panel decisions, registrations with
    status changes, RAG history, exit plans and reconsiderations."""
    require_cohort(actor, CohortAction.VIEW_REGISTER, person)
    history = IomHistory(
        person=person,
        referrals=list(
            Referral.objects.filter(person=person)
            .select_related("referring_agency", "referred_by")
            .prefetch_related("state_changes")
            .order_by("created_at", "id")
        ),
        panel_decisions=list(
            PanelDecision.objects.filter(person=person)
            .prefetch_related("attendance__agency")
            .order_by("decided_on", "id")
        ),
    )
    for reg in (
        Registration.objects.filter(person=person)
        .select_related("cohort", "lead_agency", "lead_worker")
        .order_by("start_date", "id")
    ):
        history.registrations.append(
            RegistrationHistory(
                registration=reg,
                status_changes=list(reg.status_changes.order_by("changed_on", "id")),
                rag_assessments=list(
                    reg.rag_assessments.select_related("policy").order_by(
                        "assessed_on", "created_at", "id"
                    )
                ),
                exit_plans=list(reg.exit_plans.order_by("recorded_on", "id")),
                reconsiderations=list(reg.reconsiderations.order_by("due_date", "id")),
            )
        )
    record(
        "cohort.history_consulted",
        actor=actor,
        obj=person,
        person_id=person.pk,
        context={"person": str(person)},
        details={"registrations": len(history.registrations)},
    )
    return history


def suggested_rag(
    *,
    actor: Actor,
    registration: Registration,
    on: dt.date | None = None,
    reported: ReportedEvidence | None = None,
) -> RagSuggestion | None:
    """The RAG status the policy in force suggests now (None if no policy is in force)."""
    require_cohort(actor, CohortAction.SET_RAG, registration=registration)
    on = on or timezone.localdate()
    policy = RagPolicy.in_force("rag", on)
    if policy is None:
        return None
    suggestion = suggest_rag(registration.person, on=on, policy=policy, reported=reported)
    record(
        "rag.suggestion_consulted",
        actor=actor,
        obj=registration,
        person_id=registration.person_id,
        context={"person": str(registration.person), "what": "RAG"},
        details={"suggested": str(suggestion.status), "policy_version": policy.version},
    )
    return suggestion


def suggested_exit(
    *, actor: Actor, registration: Registration, on: dt.date | None = None
) -> ExitSuggestion:
    """What the de-registration policy in force suggests (for case managers and coordinators)."""
    decision = can_cohort(actor, CohortAction.SET_RAG, registration=registration)
    if not decision:
        decision = can_cohort(actor, CohortAction.DEREGISTER, registration=registration)
    if not decision:
        deny(actor, CohortAction.DEREGISTER, decision, registration.person)
    on = on or timezone.localdate()
    suggestion = suggest_exit(registration, on)
    record(
        "rag.suggestion_consulted",
        actor=actor,
        obj=registration,
        person_id=registration.person_id,
        context={"person": str(registration.person), "what": "exit"},
        details={
            "suggests_exit": suggestion.suggests_exit,
            "policy_version": suggestion.policy_version,
        },
    )
    return suggestion


def eligibility_for(
    *,
    actor: Actor,
    person: Person,
    cohort: CohortDefinition,
    on: dt.date | None = None,
    score: float | None = None,
) -> list[CriterionResult]:
    """The person against the cohort's entry criteria, for the panel (coordinators). Without a
    score given, the person's score in the latest scoring run for the cohort's strand is used."""
    require_cohort(actor, CohortAction.RECORD_PANEL_DECISION, person)
    on = on or timezone.localdate()
    score, source = score_for_panel(person=person, cohort=cohort, on=on, score=score)
    return check_eligibility(person, cohort, on=on, score=score, score_source=source)


def score_for_panel(
    *, person: Person, cohort: CohortDefinition, on: dt.date, score: float | None
) -> tuple[float | None, str]:
    """The score the minimum-score criterion is checked against, and where it came from: the
    one the panel gave, else the latest scoring run's for the cohort's strand."""
    if score is not None:
        return score, "given by the panel"
    from openiom.scoring.selectors import latest_score_for

    latest = latest_score_for(person_id=person.pk, cohort_key=cohort.key, on=on)
    if latest is None:
        return None, ""
    return latest.total, latest.describe()


def cohorts_in_force(*, on: dt.date | None = None) -> list[CohortDefinition]:
    """The version of each cohort in force on the date (policy, not personal data)."""
    on = on or timezone.localdate()
    keys = CohortDefinition.objects.values_list("key", flat=True).distinct().order_by("key")
    found = [CohortDefinition.in_force(k, on) for k in keys]
    return [c for c in found if c is not None]


def policy_versions(*, kind: str, key: str) -> list[Any]:
    model: Any = {
        "cohort": CohortDefinition,
        "rag": RagPolicy,
        "deregistration": DeregistrationPolicy,
    }[kind]
    return list(model.objects.filter(key=key).order_by("-version"))


def cohort_occupancy(*, on: dt.date | None = None) -> dict[str, tuple[int, int | None]]:
    """Current registrations and capacity per cohort key (counts only)."""
    result = {}
    for cohort in cohorts_in_force(on=on):
        taken = (
            Registration.objects.filter(cohort_key=cohort.key)
            .exclude(status=RegistrationStatus.DEREGISTERED)
            .count()
        )
        result[cohort.key] = (taken, cohort.rules.capacity)
    return result


def reconsiderations_due(*, actor: Actor, by: dt.date) -> list[Reconsideration]:
    """Scheduled reconsiderations due by the date, for the referral and review meeting."""
    require_cohort(actor, CohortAction.LIST_FOR_PANEL)
    items = list(
        Reconsideration.objects.filter(
            status=ReconsiderationStatus.SCHEDULED,
            due_date__lte=by,
            person__in=people_visible_to(actor),
        )
        .select_related("person", "registration__cohort")
        .order_by("due_date", "id")
    )
    record(
        "referral.queue_consulted",
        actor=actor,
        context={"results": len(items)},
        details={"reconsiderations_due_by": by.isoformat(), "ids": [i.pk for i in items]},
    )
    return items


def notifications_for(*, user: Any, unread_only: bool = False) -> list[Notification]:
    qs = Notification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at", "-id"))


def registered_person_ids(*, as_of: dt.date) -> set[int]:
    """People on any IOM cohort on the date (scoring marks them on the candidate list).

    Not audited: ids only, read by the scoring engine, never shown as such.
    """
    rows = Registration.objects.filter(start_date__lte=as_of).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=as_of)
    )
    return set(rows.values_list("person_id", flat=True))
