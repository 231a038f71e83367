"""Cohort lifecycle endpoints: referrals, panel decisions, registrations, RAG, exit, policies.

Every write calls the same service as the web pages (openiom.cohort.services), so permission
checks, validation and audit are identical; every read that discloses a person's record goes
through a selector (or records its own consultation). Errors: a referral step its state does not
allow is a 409 naming the state; bad input a 422 naming the field; a refusal a 403 (audited); an
unknown id a 404.

Mounted at the API root, so paths are /api/referrals, /api/registrations, /api/cohorts,
/api/policies/... and /api/people/{person_id}/iom (which does not clash with the people router:
that one has no `/iom` route).

TODO(scoring): `GET /api/scoring-runs/{run_id}/candidates` (candidates from a scoring run, to
refer) belongs here once openiom.scoring provides ScoringRun/CandidateScore and their selectors.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from openiom.access.policy import Action, Decision, can, is_partner_scope
from openiom.accounts.actor import Actor
from openiom.audit.services import record
from openiom.cohort import selectors, services
from openiom.cohort.models import (
    CohortDefinition,
    PanelOutcome,
    RagAssessment,
    Reconsideration,
    Referral,
    ReferralState,
    Registration,
    RegistrationStatus,
)
from openiom.cohort.permissions import CohortAction, can_cohort, deny, require_cohort
from openiom.cohort.policies import PolicyConfigError
from openiom.cohort.rag import ReportedEvidence
from openiom.cohort.schemas import (
    MAX_ID,
    CohortList,
    DecisionResult,
    DeregisterIn,
    DeregisterResult,
    ExitPlanIn,
    ExitPlanOut,
    ExitSuggestionOut,
    IomHistoryOut,
    ListForPanelIn,
    PanelDecisionIn,
    PolicyIn,
    PolicyKind,
    PolicyVersionList,
    PolicyVersionOut,
    RagAssessed,
    RagIn,
    RagSuggestionOut,
    RagSuggestionQuery,
    ReconsiderationOut,
    ReconsiderationOutcomeIn,
    ReferralDetail,
    ReferralIn,
    ReferralList,
    ReferralStateName,
    RegistrationDetail,
    RegistrationList,
    ReReferralIn,
    StatusIn,
    StatusResult,
    WithdrawIn,
)
from openiom.partnership.models import Agency, Hub
from openiom.people.models import Person

router = Router(tags=["cohort"])

REFERRAL_ID = Path(..., ge=1, le=MAX_ID, description="The referral's id.")
REGISTRATION_ID = Path(..., ge=1, le=MAX_ID, description="The registration's id.")
PERSON_ID = Path(..., ge=1, le=MAX_ID, description="The person's id.")
RECONSIDERATION_ID = Path(..., ge=1, le=MAX_ID, description="The reconsideration's id.")
CODE_PATTERN = r"^[-a-zA-Z0-9_]+$"  # keys and codes (also keeps NUL away from PostgreSQL)
POLICY_KEY = Path(..., min_length=1, max_length=64, pattern=CODE_PATTERN)
STATE_FILTER = Query(None, description="Only these states (repeat for more than one).")
STATUS_FILTER = Query(None, description="Registration status; current ones if empty.")
ON_DATE = Query(None, description="The date to judge on; today if empty.")
# Policy numbers that feed date arithmetic: larger ones would overflow a date.
MAX_POLICY_INT = 36_600


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    return actor


def _invalid(field: str, message: str, where: str = "body") -> NinjaValidationError:
    return NinjaValidationError([{"type": "value_error", "loc": [where, field], "msg": message}])


# --- Loading records -------------------------------------------------------------------------


def _referral(referral_id: int) -> Referral:
    return Referral.objects.select_related(
        "person",
        "person__hub",
        "proposed_cohort",
        "referred_by",
        "referring_agency",
    ).get(pk=referral_id)


def _registration(registration_id: int) -> Registration:
    return Registration.objects.select_related(
        "person", "person__hub", "cohort", "lead_agency", "lead_worker"
    ).get(pk=registration_id)


def _agency(code: str, field: str) -> Agency:
    agency = Agency.objects.filter(code=code).first()
    if agency is None:
        raise _invalid(field, f"There is no agency with the code {code!r}.")
    return agency


def _cohort_in_force(key: str, on: dt.date, field: str) -> CohortDefinition:
    cohort = CohortDefinition.in_force(key, on)
    if cohort is None:
        known = ", ".join(c.key for c in selectors.cohorts_in_force(on=on)) or "none"
        raise _invalid(field, f"No cohort {key!r} is in force on {on}; cohorts then: {known}.")
    assert isinstance(cohort, CohortDefinition)
    return cohort


def _check_on(registration: Registration, on: dt.date | None, field: str = "on") -> dt.date:
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise _invalid(field, f"{on} is in the future.", "query")
    if on < registration.start_date:
        raise _invalid(
            field,
            f"{on} is before the registration started ({registration.start_date}).",
            "query",
        )
    return on


def _may_see_evidence(actor: Actor, registration: Registration) -> bool:
    """RAG evidence and reasons name offence, arrest and intelligence dates: shown to those who
    may see offending or who set the RAG status (the lead worker among them)."""
    return bool(can(actor, Action.VIEW_OFFENDING, registration.person)) or bool(
        can_cohort(actor, CohortAction.SET_RAG, registration=registration)
    )


def _mark(items: list[Any], show: bool) -> list[Any]:
    for item in items:
        item.show_evidence = show
    return items


def _referral_visible(actor: Actor, referral: Referral) -> bool:
    return not is_partner_scope(actor) or actor.agency_id == referral.referring_agency_id


# --- Referrals ---------------------------------------------------------------------------------


@router.post(
    "/referrals",
    response={201: ReferralDetail},
    summary="Refer a person to the selection panel",
    description=(
        "Anyone who may view the person may refer them. A draft unless `submit` is true. A person "
        "whose last referral was not adopted needs `new_information`. One open referral per "
        "person. Audited."
    ),
)
def create_referral(request: HttpRequest, payload: ReferralIn) -> Status[Referral]:
    actor = actor_of(request)
    person = Person.objects.get(pk=payload.person_id)
    proposed = (
        _cohort_in_force(payload.proposed_cohort, timezone.localdate(), "proposed_cohort")
        if payload.proposed_cohort
        else None
    )
    referral = services.create_referral(
        actor=actor,
        person=person,
        reason=payload.reason,
        evidence=payload.evidence,
        proposed_cohort=proposed,
        new_information=payload.new_information,
        submit=payload.submit,
    )
    return Status(201, _referral(referral.pk))


@router.get(
    "/referrals",
    response=ReferralList,
    summary="Referrals: the coordinator's queue, or your agency's referrals",
    description=(
        "IOM coordinators get the queue (by default submitted and listed referrals; listed ones "
        "by panel date first). Everyone else gets the referrals their own agency made. `state` "
        "(repeatable) filters either list. Audited."
    ),
)
def list_referrals(
    request: HttpRequest,
    state: list[ReferralStateName] | None = STATE_FILTER,
) -> dict[str, Any]:
    actor = actor_of(request)
    if can_cohort(actor, CohortAction.LIST_FOR_PANEL):
        states = tuple(dict.fromkeys(state)) if state else selectors.QUEUE_STATES
        items = selectors.referral_queue(actor=actor, states=states)
        scope = "queue"
    else:
        require_cohort(actor, CohortAction.VIEW_REGISTER)  # refuses administrators, audited
        items = selectors.referrals_made_by_agency(actor=actor)
        if state:
            items = [r for r in items if r.state in state]
        scope = "agency"
    return {"scope": scope, "count": len(items), "results": items}


@router.get(
    "/referrals/{referral_id}",
    response=ReferralDetail,
    summary="A referral with its state history",
    description=(
        "For coordinators and area staff who may view the person, and the referring agency. "
        "Recorded as a consultation."
    ),
)
def referral_detail(request: HttpRequest, referral_id: int = REFERRAL_ID) -> Referral:
    actor = actor_of(request)
    referral = _referral(referral_id)
    require_cohort(actor, CohortAction.VIEW_REGISTER, referral.person)
    if not _referral_visible(actor, referral):
        deny(
            actor,
            CohortAction.VIEW_REGISTER,
            Decision(False, "partners see only the referrals their own agency made"),
            referral.person,
        )
    record(
        "cohort.history_consulted",
        actor=actor,
        obj=referral,
        person_id=referral.person_id,
        context={"person": str(referral.person)},
        details={"referral": referral.pk},
    )
    return referral


@router.post(
    "/referrals/{referral_id}/submit",
    response=ReferralDetail,
    summary="Submit a draft referral to the coordinator",
    description="The referring agency only. 409 unless the referral is a draft.",
)
def submit_referral(request: HttpRequest, referral_id: int = REFERRAL_ID) -> Referral:
    referral = _referral(referral_id)
    services.submit_referral(actor=actor_of(request), referral=referral)
    return _referral(referral_id)


@router.post(
    "/referrals/{referral_id}/list-for-panel",
    response=ReferralDetail,
    summary="List a submitted referral for a panel (or move it to another date)",
    description="IOM coordinators. 409 unless the referral is submitted or listed.",
)
def list_for_panel(
    request: HttpRequest, payload: ListForPanelIn, referral_id: int = REFERRAL_ID
) -> Referral:
    referral = _referral(referral_id)
    services.list_referral_for_panel(
        actor=actor_of(request),
        referral=referral,
        panel_date=payload.panel_date,
        note=payload.note,
    )
    return _referral(referral_id)


@router.post(
    "/referrals/{referral_id}/withdraw",
    response=ReferralDetail,
    summary="Withdraw an open referral, with a reason",
    description="The referring agency or an IOM coordinator. 409 once the referral is decided.",
)
def withdraw_referral(
    request: HttpRequest, payload: WithdrawIn, referral_id: int = REFERRAL_ID
) -> Referral:
    referral = _referral(referral_id)
    services.withdraw_referral(actor=actor_of(request), referral=referral, reason=payload.reason)
    return _referral(referral_id)


@router.post(
    "/referrals/{referral_id}/re-refer",
    response={201: ReferralDetail},
    summary="Refer again, with new information, a person the panel did not adopt",
    description=(
        "Creates a new referral linked to this one. 409 unless this referral was not adopted."
    ),
)
def re_refer(
    request: HttpRequest, payload: ReReferralIn, referral_id: int = REFERRAL_ID
) -> Status[Referral]:
    actor = actor_of(request)
    old = _referral(referral_id)
    require_cohort(actor, CohortAction.REFER_PERSON, old.person)
    if old.state != ReferralState.NOT_ADOPTED:
        raise services.InvalidTransition(
            f"Cannot re-refer referral {old.pk}: it is {old.get_state_display().lower()}. Only "
            "a referral the panel did not adopt can be followed by a re-referral."
        )
    proposed = (
        _cohort_in_force(payload.proposed_cohort, timezone.localdate(), "proposed_cohort")
        if payload.proposed_cohort
        else None
    )
    referral = services.create_referral(
        actor=actor,
        person=old.person,
        reason=payload.reason,
        evidence=payload.evidence,
        proposed_cohort=proposed,
        new_information=payload.new_information,
        submit=payload.submit,
    )
    return Status(201, _referral(referral.pk))


# --- Panel decisions -------------------------------------------------------------------------


@router.post(
    "/referrals/{referral_id}/decision",
    response={201: DecisionResult},
    summary="Record the selection panel's decision on a listed referral",
    description=(
        "IOM coordinators. `adopt` needs `cohort` (a key: the version in force on `decided_on` "
        "is used), `lead_agency` (code) and `lead_worker` (username, a member of that agency); "
        "a criterion not met needs `eligibility_override_reason`, a full cohort "
        "`over_capacity_reason`. Adoption registers the person in the same transaction. 409 "
        "unless the referral is listed. Audited; the referrer is told the outcome."
    ),
)
def record_decision(
    request: HttpRequest, payload: PanelDecisionIn, referral_id: int = REFERRAL_ID
) -> Status[dict[str, Any]]:
    actor = actor_of(request)
    referral = _referral(referral_id)
    # Refuse before looking anything up, so a refused caller learns nothing from a 422.
    require_cohort(actor, CohortAction.RECORD_PANEL_DECISION, referral.person)
    adopt = payload.decision == PanelOutcome.ADOPT
    if adopt:
        missing = [
            {
                "type": "value_error",
                "loc": ["body", name],
                "msg": f"To adopt, choose the {name.replace('_', ' ')}.",
            }
            for name in ("cohort", "lead_agency", "lead_worker")
            if getattr(payload, name) is None
        ]
        if missing:
            raise NinjaValidationError(missing)
    present = [
        _agency(code, "agencies_present") for code in dict.fromkeys(payload.agencies_present)
    ]
    lead_worker = None
    if payload.lead_worker is not None:
        lead_worker = get_user_model().objects.filter(username=payload.lead_worker).first()
        if lead_worker is None:
            raise _invalid("lead_worker", f"There is no user {payload.lead_worker!r}.")
    panel = services.record_panel_decision(
        actor=actor,
        referral=referral,
        decision=payload.decision,
        decided_on=payload.decided_on,
        agencies_present=present,
        rationale=payload.rationale,
        dissent=payload.dissent,
        dissent_agency=_agency(payload.dissent_agency, "dissent_agency")
        if payload.dissent_agency
        else None,
        cohort=_cohort_in_force(payload.cohort, payload.decided_on, "cohort")
        if payload.cohort
        else None,
        lead_agency=_agency(payload.lead_agency, "lead_agency") if payload.lead_agency else None,
        lead_worker=lead_worker,
        score=payload.score,
        eligibility_override_reason=payload.eligibility_override_reason,
        over_capacity_reason=payload.over_capacity_reason,
        meeting_reference=payload.meeting_reference,
    )
    registration = Registration.objects.filter(panel_decision=panel).first()
    return Status(
        201,
        {
            "decision": panel,
            "referral": _referral(referral_id),
            "registration": _registration(registration.pk) if registration is not None else None,
        },
    )


# --- Registrations -----------------------------------------------------------------------------


@router.get(
    "/registrations",
    response=RegistrationList,
    summary="The cohort register",
    description=(
        "Registrations you may see (partners: people their agency works with) with the latest "
        "RAG status. Current ones unless `status` says otherwise (`deregistered` for ended "
        "ones). `rag=none` finds people not yet assessed. Audited."
    ),
)
def cohort_register(
    request: HttpRequest,
    cohort: str | None = Query(
        None, max_length=64, pattern=CODE_PATTERN, description="Cohort key, e.g. fixed."
    ),
    rag: str | None = Query(
        None, max_length=8, pattern=CODE_PATTERN, description="red, amber, green or none."
    ),
    lead_agency: str | None = Query(
        None, max_length=64, pattern=CODE_PATTERN, description="Agency code."
    ),
    hub: str | None = Query(None, max_length=64, pattern=CODE_PATTERN, description="Hub code."),
    status: RegistrationStatus | None = STATUS_FILTER,
) -> dict[str, Any]:
    actor = actor_of(request)
    if rag is not None and rag not in {"red", "amber", "green", "none"}:
        raise _invalid("rag", "Choose red, amber, green or none.", "query")
    if cohort is not None and not CohortDefinition.objects.filter(key=cohort).exists():
        known = ", ".join(c.key for c in selectors.cohorts_in_force())
        raise _invalid("cohort", f"There is no cohort {cohort!r}; cohorts: {known}.", "query")
    agency = None
    if lead_agency is not None:
        agency = Agency.objects.filter(code=lead_agency).first()
        if agency is None:
            raise _invalid("lead_agency", f"There is no agency {lead_agency!r}.", "query")
    hub_row = None
    if hub is not None:
        hub_row = Hub.objects.filter(code=hub).first()
        if hub_row is None:
            raise _invalid("hub", f"There is no hub {hub!r}.", "query")
    entries = selectors.cohort_register(
        actor=actor,
        cohort_key=cohort,
        rag=rag,
        lead_agency=agency,
        hub=hub_row,
        include_ended=status == RegistrationStatus.DEREGISTERED,
    )
    if status is not None:
        entries = [e for e in entries if e.registration.status == status]
    results = [e.registration for e in entries]
    return {"count": len(results), "results": results}


@router.get(
    "/registrations/{registration_id}",
    response=RegistrationDetail,
    summary="A registration with its status and RAG history and the current suggestions",
    description=(
        "For anyone who may view the register for the person. The RAG and exit suggestions are "
        "included (and recorded as consulted) for a current registration when you may act on "
        "them; RAG evidence only when you may see offending or set the RAG status. Audited."
    ),
)
def registration_detail(
    request: HttpRequest, registration_id: int = REGISTRATION_ID
) -> Registration:
    actor = actor_of(request)
    registration = _registration(registration_id)
    history = selectors.person_iom_history(actor=actor, person=registration.person)
    entry = next(h for h in history.registrations if h.registration.pk == registration.pk)
    show = _may_see_evidence(actor, registration)
    reg: Any = registration
    reg.status_changes_list = _mark(entry.status_changes, show)
    reg.rag_assessments_list = _mark(entry.rag_assessments, show)
    reg.exit_plans_list = entry.exit_plans
    reg.reconsiderations_list = entry.reconsiderations
    reg.rag_suggestion_out = None
    reg.exit_suggestion_out = None
    if registration.is_current:
        if can_cohort(actor, CohortAction.SET_RAG, registration=registration):
            suggestion = selectors.suggested_rag(actor=actor, registration=registration)
            if suggestion is not None:
                reg.rag_suggestion_out = _rag_suggestion(suggestion)
        if can_cohort(actor, CohortAction.SET_RAG, registration=registration) or can_cohort(
            actor, CohortAction.DEREGISTER, registration=registration
        ):
            exit_now = selectors.suggested_exit(actor=actor, registration=registration)
            reg.exit_suggestion_out = _exit_suggestion(exit_now)
    return registration


def _rag_suggestion(suggestion: Any) -> dict[str, Any]:
    return {
        "on": suggestion.evidence.on,
        "status": str(suggestion.status),
        "summary": suggestion.summary,
        "results": suggestion.reasons(),
        "evidence": services._jsonable(suggestion.evidence.as_dict()),
        "policy": {"key": suggestion.policy_key, "version": suggestion.policy_version},
    }


def _exit_suggestion(suggestion: Any) -> dict[str, Any]:
    return {
        "on": suggestion.on,
        "policy": {"key": suggestion.policy_key, "version": suggestion.policy_version}
        if suggestion.policy_version is not None
        else None,
        "suggests_exit": suggestion.suggests_exit,
        "suggested_reasons": suggestion.suggested_reasons,
        "summary": suggestion.summary,
        "results": [r.as_dict() for r in suggestion.results],
    }


@router.post(
    "/registrations/{registration_id}/status",
    response=StatusResult,
    summary="Change a registration's status (active, in custody, suspended)",
    description="IOM coordinators. A note is required. De-register with .../deregister. Audited.",
)
def change_status(
    request: HttpRequest, payload: StatusIn, registration_id: int = REGISTRATION_ID
) -> dict[str, Any]:
    registration = _registration(registration_id)
    change = services.change_registration_status(
        actor=actor_of(request),
        registration=registration,
        status=payload.status,
        note=payload.note,
        on=payload.on,
    )
    return {"change": change, "registration": _registration(registration_id)}


@router.post(
    "/registrations/{registration_id}/rag",
    response={201: RagAssessed},
    summary="Decide a RAG status",
    description=(
        "Coordinators and offender managers at police and probation, and the lead worker. The "
        "rules' suggestion (from openiom's records and the `reported` evidence) is kept with the "
        "decision; a decision that differs needs a `reason`. Moves the review date on. Audited."
    ),
)
def set_rag(
    request: HttpRequest, payload: RagIn, registration_id: int = REGISTRATION_ID
) -> Status[RagAssessment]:
    registration = _registration(registration_id)
    reported = ReportedEvidence(**payload.reported.dict()) if payload.reported else None
    assessment: Any = services.set_rag_status(
        actor=actor_of(request),
        registration=registration,
        status=payload.status,
        reason=payload.reason,
        on=payload.on,
        reported=reported,
    )
    registration.refresh_from_db(fields=["review_date"])
    assessment.show_evidence = True
    assessment.review_date = registration.review_date
    return Status(201, assessment)


@router.get(
    "/registrations/{registration_id}/rag-suggestion",
    response=RagSuggestionOut,
    summary="The RAG status the rules suggest",
    description=(
        "For those who may set the RAG status. `on` (default today) and the reported evidence "
        "are optional query parameters. Recorded as a consultation."
    ),
)
def rag_suggestion(
    request: HttpRequest,
    query: Query[RagSuggestionQuery],
    registration_id: int = REGISTRATION_ID,
) -> dict[str, Any]:
    registration = _registration(registration_id)
    fields = query.dict()
    on = fields.pop("on")
    if on is not None:
        on = _check_on(registration, on)
    reported = ReportedEvidence(**fields) if any(v is not None for v in fields.values()) else None
    suggestion = selectors.suggested_rag(
        actor=actor_of(request), registration=registration, on=on, reported=reported
    )
    if suggestion is None:
        raise HttpError(404, f"No RAG policy is in force on {on or timezone.localdate()}.")
    return _rag_suggestion(suggestion)


@router.get(
    "/registrations/{registration_id}/exit-suggestion",
    response=ExitSuggestionOut,
    summary="Whether the de-registration policy suggests exit",
    description="For case managers and coordinators. Recorded as a consultation.",
)
def exit_suggestion(
    request: HttpRequest,
    registration_id: int = REGISTRATION_ID,
    on: dt.date | None = ON_DATE,
) -> dict[str, Any]:
    registration = _registration(registration_id)
    if on is not None:
        on = _check_on(registration, on)
    suggestion = selectors.suggested_exit(actor=actor_of(request), registration=registration, on=on)
    return _exit_suggestion(suggestion)


@router.post(
    "/registrations/{registration_id}/exit-plan",
    response={201: ExitPlanOut},
    summary="Record (or replace) the exit plan",
    description="Those who may set the RAG status. The latest plan applies. Audited.",
)
def record_exit_plan(
    request: HttpRequest, payload: ExitPlanIn, registration_id: int = REGISTRATION_ID
) -> Status[Any]:
    registration = _registration(registration_id)
    plan = services.record_exit_plan(
        actor=actor_of(request), registration=registration, plan=payload.plan, on=payload.on
    )
    return Status(201, plan)


@router.post(
    "/registrations/{registration_id}/deregister",
    response=DeregisterResult,
    summary="De-register, with a reason",
    description=(
        "IOM coordinators. `other` needs a `note`, as does a reason the policy does not support. "
        "The exit suggestion shown is stored with the decision. Long custody schedules a "
        "reconsideration (give `reconsideration_due` when no release date is recorded). Audited."
    ),
)
def deregister(
    request: HttpRequest, payload: DeregisterIn, registration_id: int = REGISTRATION_ID
) -> dict[str, Any]:
    actor = actor_of(request)
    registration = _registration(registration_id)
    change: Any = services.deregister(
        actor=actor,
        registration=registration,
        reason=payload.reason,
        note=payload.note,
        on=payload.on,
        reconsideration_due=payload.reconsideration_due,
        schedule_reconsideration=payload.schedule_reconsideration,
    )
    change.show_evidence = True
    reconsideration = (
        Reconsideration.objects.filter(
            registration_id=registration.pk, created_at__gte=change.created_at
        )
        .order_by("-id")
        .first()
    )
    return {
        "change": change,
        "registration": _registration(registration_id),
        "reconsideration": reconsideration,
    }


# --- Reconsiderations ----------------------------------------------------------------------------


def _reconsideration(reconsideration_id: int) -> Reconsideration:
    return Reconsideration.objects.select_related("person", "closed_by").get(pk=reconsideration_id)


@router.post(
    "/reconsiderations/{reconsideration_id}/outcome",
    response=ReconsiderationOut,
    summary="Record what the referral and review meeting decided on a reconsideration",
    description=(
        "IOM coordinators. `re_referred` makes a referral to the selection panel (submitted, with "
        "you as the referrer) in the same transaction and links it (`referral_id`); "
        "`no_further_action` closes the reconsideration as considered; `cancelled` (sentence "
        "changed, died, moved away) as cancelled. `considered_on` may not be in the future or "
        "before the registration ended. 409 unless the reconsideration is scheduled. Audited."
    ),
)
def record_reconsideration_outcome(
    request: HttpRequest,
    payload: ReconsiderationOutcomeIn,
    reconsideration_id: int = RECONSIDERATION_ID,
) -> Reconsideration:
    item = _reconsideration(reconsideration_id)
    services.record_reconsideration_outcome(
        actor=actor_of(request),
        reconsideration=item,
        outcome=payload.outcome,
        considered_on=payload.considered_on,
        note=payload.note,
    )
    return _reconsideration(reconsideration_id)


# --- A person's IOM history ----------------------------------------------------------------------


@router.get(
    "/people/{person_id}/iom",
    response=IomHistoryOut,
    tags=["cohort", "people"],
    summary="A person's IOM history",
    description=(
        "Referrals (with state histories), panel decisions and registrations (status changes, "
        "RAG history, exit plans, reconsiderations). Partner agencies see only the referrals "
        "their own agency made. Recorded as one consultation."
    ),
)
def person_iom(request: HttpRequest, person_id: int = PERSON_ID) -> Any:
    actor = actor_of(request)
    person = Person.objects.select_related("hub").get(pk=person_id)
    history = selectors.person_iom_history(actor=actor, person=person)
    history.referrals = [r for r in history.referrals if _referral_visible(actor, r)]
    for entry in history.registrations:
        show = _may_see_evidence(actor, entry.registration)
        _mark(entry.status_changes, show)
        _mark(entry.rag_assessments, show)
    return history


# --- Cohorts and policies ------------------------------------------------------------------------


@router.get(
    "/cohorts",
    response=CohortList,
    summary="The cohorts in force, with their rules",
    description="The version of each cohort definition in force on `on` (default today).",
)
def cohorts(request: HttpRequest, on: dt.date | None = ON_DATE) -> dict[str, Any]:
    on = on or timezone.localdate()
    occupancy = selectors.cohort_occupancy(on=on)
    results = []
    for cohort in selectors.cohorts_in_force(on=on):
        rules = cohort.rules
        results.append(
            {
                "id": cohort.pk,
                "key": cohort.key,
                "version": cohort.version,
                "name": cohort.name,
                "effective_from": cohort.effective_from,
                "source": cohort.source,
                "rules": asdict(rules),
                "registered": occupancy.get(cohort.key, (0, None))[0],
                "capacity": rules.capacity,
            }
        )
    return {"on": on, "results": results}


def _policy_out(kind: str, row: Any) -> dict[str, Any]:
    return {
        "id": row.pk,
        "kind": kind,
        "key": row.key,
        "version": row.version,
        "name": row.name,
        "effective_from": row.effective_from,
        "source": row.source,
        "change_note": row.change_note,
        "config": row.config,
        "created_by": row.created_by.get_username() if row.created_by else None,
        "created_at": row.created_at,
    }


@router.get(
    "/policies/{kind}/{key}/versions",
    response=PolicyVersionList,
    summary="Every version of a cohort definition, the RAG rules or the de-registration rules",
    description="Newest first. `kind` is cohort (key: the cohort), rag (key rag) or "
    "deregistration (key deregistration).",
)
def policy_versions(request: HttpRequest, kind: PolicyKind, key: str = POLICY_KEY) -> Any:
    rows = selectors.policy_versions(kind=kind, key=key)
    if not rows:
        raise HttpError(404, f"No {kind} policy {key!r}.")
    in_force = services.POLICY_MODELS[kind].in_force(key, timezone.localdate())
    return {
        "kind": kind,
        "key": key,
        "in_force": in_force.version if in_force is not None else None,
        "results": [_policy_out(kind, row) for row in rows],
    }


MAX_CONFIG_DEPTH = 10


def _check_config_values(config: Any) -> None:
    """What the policy validators let through but storage or date arithmetic would not.

    Iterative, so a deeply nested config is refused rather than exhausting the stack.
    """
    stack: list[tuple[str, Any, int]] = [("config", config, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise _invalid("config", f"{path}: nested too deeply.")
        if isinstance(value, dict):
            for k, v in value.items():
                if "\x00" in k:
                    raise _invalid("config", f"{path}: names must not contain NUL characters.")
                stack.append((f"{path}.{k}", v, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v, depth + 1) for i, v in enumerate(value))
        elif isinstance(value, str):
            if "\x00" in value:
                raise _invalid("config", f"{path}: must not contain NUL characters.")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise _invalid("config", f"{path}: must be a finite number.")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_POLICY_INT:
            raise _invalid("config", f"{path}: must be at most {MAX_POLICY_INT}.")


@router.post(
    "/policies/{kind}/{key}/versions",
    response={201: PolicyVersionOut},
    summary="Publish the next version of a policy",
    description=(
        "IOM coordinators at police and probation. Never changes an existing version. The config "
        "is checked setting by setting; `effective_from` may not be earlier than the version it "
        "replaces. Audited."
    ),
)
def publish_policy(
    request: HttpRequest, kind: PolicyKind, payload: PolicyIn, key: str = POLICY_KEY
) -> Status[dict[str, Any]]:
    actor = actor_of(request)
    require_cohort(actor, CohortAction.EDIT_POLICY)
    _check_config_values(payload.config)
    try:
        row = services.publish_cohort_policy_version(
            actor=actor,
            kind=kind,
            key=key,
            name=payload.name,
            config=payload.config,
            source=payload.source,
            change_note=payload.change_note,
            effective_from=payload.effective_from,
        )
    except PolicyConfigError as exc:
        raise _invalid("config", str(exc)) from None
    return Status(201, _policy_out(kind, row))
