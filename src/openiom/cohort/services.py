"""Writes in the cohort lifecycle: one function per domain action.

Each checks permission (before the transaction, so a refusal is audited and committed), then in one
transaction locks what it changes, validates the step, writes, and records the audit event.
Bad input raises CohortError (a ValueError) whose message says what was wrong and why; an
impossible referral step raises InvalidTransition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiom.access.policy import Decision
from openiom.accounts.models import Membership
from openiom.audit.services import record, snapshot
from openiom.cohort.dates import add_months
from openiom.cohort.deregistration import POLICY_KEY as DEREGISTRATION_POLICY_KEY
from openiom.cohort.deregistration import suggest_exit
from openiom.cohort.eligibility import Met, check_eligibility
from openiom.cohort.models import (
    CohortDefinition,
    DeregistrationPolicy,
    DeregistrationReason,
    ExitPlan,
    Notification,
    PanelAttendance,
    PanelDecision,
    PanelOutcome,
    RagAssessment,
    RagPolicy,
    RagStatus,
    Reconsideration,
    ReconsiderationOutcome,
    ReconsiderationStatus,
    Referral,
    ReferralState,
    ReferralStateChange,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
)
from openiom.cohort.permissions import CohortAction, can_cohort, deny, require_cohort
from openiom.cohort.policies import validate_config
from openiom.cohort.rag import ReportedEvidence, suggest_rag
from openiom.people.models import Involvement, Person

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.partnership.models import Agency
    from openiom.people.models import CustodyEpisode

RAG_POLICY_KEY = "rag"
POLICY_MODELS: dict[str, Any] = {
    "cohort": CohortDefinition,
    "rag": RagPolicy,
    "deregistration": DeregistrationPolicy,
}
FIXED_POLICY_KEYS = {"rag": RAG_POLICY_KEY, "deregistration": DEREGISTRATION_POLICY_KEY}


class CohortError(ValueError):
    """A step that cannot be taken as asked; the message says what and why."""


class InvalidTransition(CohortError):
    """A referral cannot move from its current state to the one asked for."""


# --- Referral state machine -------------------------------------------------------------------

S = ReferralState
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.LISTED, S.WITHDRAWN},
    # listed → listed: re-listed for another panel date, or deferred by the panel.
    S.LISTED: {S.LISTED, S.ADOPTED, S.NOT_ADOPTED, S.WITHDRAWN},
    S.ADOPTED: set(),
    S.NOT_ADOPTED: set(),
    S.WITHDRAWN: set(),
}
_VERBS = {
    S.SUBMITTED: ("submit", "submitted"),
    S.LISTED: ("list for the panel", "listed for the panel"),
    S.ADOPTED: ("adopt", "adopted"),
    S.NOT_ADOPTED: ("record as not adopted", "recorded as not adopted"),
    S.WITHDRAWN: ("withdraw", "withdrawn"),
}


def allowed_transitions(state: str) -> set[str]:
    return set(TRANSITIONS[state])


def check_transition(referral: Referral, to: str) -> None:
    if to in TRANSITIONS[referral.state]:
        return
    verb, past = _VERBS[ReferralState(to)]
    sources = [
        ReferralState(s).label.lower() for s, targets in TRANSITIONS.items() if to in targets
    ]
    final = " (a final outcome)" if not TRANSITIONS[referral.state] else ""
    raise InvalidTransition(
        f"Cannot {verb} referral {referral.pk}: it is {referral.get_state_display().lower()}"
        f"{final}. A referral can be {past} only when it is {' or '.join(sources)}."
    )


def _move(referral: Referral, to: str, *, actor: Actor, reason: str = "") -> ReferralStateChange:
    check_transition(referral, to)
    change = ReferralStateChange.objects.create(
        referral=referral,
        from_state=referral.state,
        to_state=to,
        reason=reason,
        changed_by=actor.user,
        changed_by_agency_id=actor.agency_id,
    )
    referral.state = to
    if to in {S.ADOPTED, S.NOT_ADOPTED, S.WITHDRAWN}:
        referral.closed_at = timezone.now()
    referral.save()
    return change


def _locked(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=referral.pk)
    )


def referral_link(referral: Referral) -> str:
    return f"/cohort/referrals/{referral.pk}/"


def _notify(user: Any, text: str, link: str = "") -> Notification:
    return Notification.objects.create(user=user, text=text[:500], link=link)


def _required(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CohortError(message)
    return value


def _today(on: dt.date | None) -> dt.date:
    return on or timezone.localdate()


def _referral_context(referral: Referral) -> dict[str, Any]:
    return {"referral": referral.pk, "person": str(referral.person)}


def create_referral(
    *,
    actor: Actor,
    person: Person,
    reason: str,
    evidence: str = "",
    proposed_cohort: CohortDefinition | None = None,
    new_information: str = "",
    submit: bool = False,
) -> Referral:
    """Refer a person to the selection panel (as a draft, or submitted straight away).

    A person whose last decided referral was not adopted may be referred again only with new
    information; the new referral is linked to the earlier one.
    """
    reason = _required(
        reason, "Give a reason for the referral: why should the panel consider this person?"
    )
    require_cohort(actor, CohortAction.REFER_PERSON, person)
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()  # serialise referrals
        open_referral = Referral.objects.filter(
            person=person, state__in=ReferralState.open_states()
        ).first()
        if open_referral is not None:
            raise CohortError(
                f"{person} already has an open referral ({open_referral.pk}, "
                f"{open_referral.get_state_display().lower()}) from "
                f"{open_referral.referring_agency}; add your information to it instead"
            )
        current = (
            Registration.objects.filter(person=person)
            .exclude(status=RegistrationStatus.DEREGISTERED)
            .select_related("cohort")
            .first()
        )
        if current is not None:
            raise CohortError(
                f"{person} is already registered in the {current.cohort.name} since "
                f"{current.start_date}"
            )
        previous = (
            Referral.objects.filter(
                person=person, state__in=[ReferralState.ADOPTED, ReferralState.NOT_ADOPTED]
            )
            .order_by("-closed_at", "-id")
            .first()
        )
        if previous is not None and previous.state != ReferralState.NOT_ADOPTED:
            previous = None
        if previous is not None and not new_information.strip():
            raise CohortError(
                f"{person} was not adopted at the panel (referral {previous.pk}: "
                f"{previous.outcome_reason or 'no reason recorded'}). A re-referral needs new "
                "information: say what has changed since."
            )
        referral = Referral.objects.create(
            person=person,
            proposed_cohort=proposed_cohort,
            referred_by=actor.user,
            referring_agency=actor.membership.agency,  # type: ignore[union-attr]
            reason=reason,
            evidence=evidence.strip(),
            previous_referral=previous,
            new_information=new_information.strip(),
        )
        ReferralStateChange.objects.create(
            referral=referral,
            from_state="",
            to_state=ReferralState.DRAFT,
            reason="Re-referral with new information" if previous else "Referral created",
            changed_by=actor.user,
            changed_by_agency_id=actor.agency_id,
        )
        record(
            "referral.created",
            actor=actor,
            obj=referral,
            person_id=person.pk,
            after=snapshot(referral),
            context={**_referral_context(referral), "agency": str(referral.referring_agency)},
            details={"re_referral_of": previous.pk if previous else None},
        )
        if submit:
            _submit(actor=actor, referral=referral)
    return referral


def _referrers_agency(actor: Actor, referral: Referral) -> bool:
    return actor.agency_id == referral.referring_agency_id


def _submit(*, actor: Actor, referral: Referral) -> None:
    before = snapshot(referral, ["state", "submitted_at"])
    _move(referral, ReferralState.SUBMITTED, actor=actor, reason="Submitted to the coordinator")
    referral.submitted_at = timezone.now()
    referral.save(update_fields=["submitted_at"])
    record(
        "referral.submitted",
        actor=actor,
        obj=referral,
        person_id=referral.person_id,
        before=before,
        after=snapshot(referral, ["state", "submitted_at"]),
        context=_referral_context(referral),
    )


def submit_referral(*, actor: Actor, referral: Referral) -> Referral:
    """The referring agency sends its draft to the coordinator's queue."""
    require_cohort(actor, CohortAction.REFER_PERSON, referral.person)
    if not _referrers_agency(actor, referral):
        deny(
            actor,
            CohortAction.REFER_PERSON,
            Decision(False, "only the referring agency can submit its referral"),
            referral.person,
        )
    with transaction.atomic():
        referral = _locked(referral)
        _submit(actor=actor, referral=referral)
    return referral


def list_referral_for_panel(
    *, actor: Actor, referral: Referral, panel_date: dt.date, note: str = ""
) -> Referral:
    """The coordinator lists a submitted referral for a panel (or moves it to another date)."""
    if not isinstance(panel_date, dt.date):
        raise CohortError("panel_date: give the date of the panel the referral is listed for")
    require_cohort(actor, CohortAction.LIST_FOR_PANEL, referral.person)
    with transaction.atomic():
        referral = _locked(referral)
        before = snapshot(referral, ["state", "panel_date"])
        relisted = referral.state == ReferralState.LISTED
        reason = note.strip() or (
            f"Moved to the panel on {panel_date}" if relisted else f"Listed for {panel_date}"
        )
        _move(referral, ReferralState.LISTED, actor=actor, reason=reason)
        referral.panel_date = panel_date
        referral.save(update_fields=["panel_date"])
        record(
            "referral.listed",
            actor=actor,
            obj=referral,
            person_id=referral.person_id,
            before=before,
            after=snapshot(referral, ["state", "panel_date"]),
            context={**_referral_context(referral), "panel_date": panel_date.isoformat()},
        )
    return referral


def withdraw_referral(*, actor: Actor, referral: Referral, reason: str) -> Referral:
    """Withdraw an open referral: by the referring agency, or by a coordinator."""
    reason = _required(reason, "Give a reason for withdrawing the referral")
    coordinator = can_cohort(actor, CohortAction.LIST_FOR_PANEL, referral.person)
    if not coordinator:
        require_cohort(actor, CohortAction.REFER_PERSON, referral.person)
        if not _referrers_agency(actor, referral):
            deny(
                actor,
                CohortAction.REFER_PERSON,
                Decision(False, "only the referring agency or an IOM coordinator can withdraw it"),
                referral.person,
            )
    with transaction.atomic():
        referral = _locked(referral)
        before = snapshot(referral, ["state", "outcome_reason", "closed_at"])
        _move(referral, ReferralState.WITHDRAWN, actor=actor, reason=reason)
        referral.outcome_reason = reason
        referral.save(update_fields=["outcome_reason"])
        if referral.referred_by_id != actor.user.pk:
            _notify(
                referral.referred_by,
                f"Your referral of {referral.person} was withdrawn by {actor.user.get_username()}: "
                f"{reason}",
                referral_link(referral),
            )
        record(
            "referral.withdrawn",
            actor=actor,
            obj=referral,
            person_id=referral.person_id,
            before=before,
            after=snapshot(referral, ["state", "outcome_reason", "closed_at"]),
            context=_referral_context(referral),
            details={"reason": reason},
        )
    return referral


# --- Selection panel and registration -----------------------------------------------------------


def _current_registrations(cohort_key: str) -> int:
    return (
        Registration.objects.filter(cohort_key=cohort_key)
        .exclude(status=RegistrationStatus.DEREGISTERED)
        .count()
    )


def record_panel_decision(
    *,
    actor: Actor,
    referral: Referral,
    decision: str,
    decided_on: dt.date,
    agencies_present: Iterable[Agency],
    rationale: str,
    dissent: str = "",
    dissent_agency: Agency | None = None,
    cohort: CohortDefinition | None = None,
    lead_agency: Agency | None = None,
    lead_worker: Any = None,
    score: float | None = None,
    eligibility_override_reason: str = "",
    over_capacity_reason: str = "",
    meeting_reference: str = "",
) -> PanelDecision:
    """Record the panel's decision on a listed referral.

    adopt → a registration (with its first status change and an involvement for the lead agency),
    and the referral is adopted; not_adopt → the referral is not adopted; defer → it stays listed.
    The referrer is told the outcome.
    """
    try:
        outcome = PanelOutcome(decision)
    except ValueError:
        raise CohortError(
            f"decision: {decision!r} is not a panel decision; choose adopt, not_adopt or defer"
        ) from None
    if not isinstance(decided_on, dt.date):
        raise CohortError("decided_on: give the date of the panel")
    if decided_on > timezone.localdate():
        raise CohortError(f"decided_on: {decided_on} is in the future; record decisions once made")
    rationale = _required(
        rationale,
        "Give the panel's rationale"
        + (": a person not adopted must be told why" if outcome == PanelOutcome.NOT_ADOPT else ""),
    )
    present = list(dict.fromkeys(agencies_present))
    if not present:
        raise CohortError("agencies_present: record which agencies were present at the panel")
    dissent = dissent.strip()
    if dissent_agency is not None and not dissent:
        raise CohortError("dissent: record what the dissenting agency said")
    if outcome == PanelOutcome.ADOPT:
        missing = [
            name
            for name, value in (
                ("cohort", cohort),
                ("lead_agency", lead_agency),
                ("lead_worker", lead_worker),
            )
            if value is None
        ]
        if missing:
            raise CohortError(f"To adopt, choose the {', '.join(missing).replace('_', ' ')}")
        if not Membership.objects.filter(
            user=lead_worker, agency=lead_agency, is_active=True
        ).exists():
            raise CohortError(
                f"lead_worker: {lead_worker.get_username()} does not work for {lead_agency}; "
                "choose a lead worker from the lead agency"
            )
    elif cohort is not None or lead_agency is not None or lead_worker is not None:
        raise CohortError(
            "cohort, lead agency and lead worker are recorded only when the panel adopts"
        )

    person = referral.person
    require_cohort(actor, CohortAction.RECORD_PANEL_DECISION, person)
    if outcome == PanelOutcome.ADOPT:
        require_cohort(actor, CohortAction.REGISTER, person)

    with transaction.atomic():
        referral = _locked(referral)
        Person.objects.select_for_update().filter(pk=person.pk).first()
        if referral.state != ReferralState.LISTED:
            # Decisions are taken only on referrals listed for a panel (even a deferral).
            hint = (
                " (a final outcome)"
                if not TRANSITIONS[referral.state]
                else "; list it for a panel first"
            )
            raise InvalidTransition(
                f"Cannot record a panel decision ({outcome.label.lower()}) on referral "
                f"{referral.pk}: it is {referral.get_state_display().lower()}{hint}"
            )
        eligibility: list[dict[str, str]] = []
        if outcome == PanelOutcome.ADOPT:
            assert cohort is not None  # checked above; for the type checker
            eligibility = _check_adoption(
                person=person,
                cohort=cohort,
                on=decided_on,
                score=score,
                eligibility_override_reason=eligibility_override_reason,
                over_capacity_reason=over_capacity_reason,
            )
        panel = PanelDecision.objects.create(
            referral=referral,
            person=person,
            decision=outcome,
            decided_on=decided_on,
            rationale=rationale,
            dissent=dissent,
            dissent_agency=dissent_agency,
            cohort=cohort,
            lead_agency=lead_agency,
            lead_worker=lead_worker,
            eligibility=eligibility,
            eligibility_override_reason=eligibility_override_reason.strip(),
            over_capacity_reason=over_capacity_reason.strip(),
            meeting_reference=meeting_reference.strip(),
            recorded_by=actor.user,
        )
        PanelAttendance.objects.bulk_create(
            [PanelAttendance(decision=panel, agency=a) for a in present]
        )
        record(
            "panel.decision_recorded",
            actor=actor,
            obj=panel,
            person_id=person.pk,
            after={**snapshot(panel), "agencies_present": [a.pk for a in present]},
            context={"person": str(person), "decision": panel.get_decision_display().lower()},
        )
        before = snapshot(referral, ["state", "outcome_reason", "closed_at"])
        if outcome == PanelOutcome.ADOPT:
            assert cohort is not None and lead_agency is not None
            registration = _register(
                actor=actor,
                person=person,
                cohort=cohort,
                referral=referral,
                panel=panel,
                lead_agency=lead_agency,
                lead_worker=lead_worker,
                start=decided_on,
            )
            _move(referral, ReferralState.ADOPTED, actor=actor, reason=rationale)
            message = (
                f"Your referral of {person} was adopted at the panel on {decided_on} into the "
                f"{cohort.name}; lead agency {lead_agency}. Review date {registration.review_date}."
            )
        elif outcome == PanelOutcome.NOT_ADOPT:
            _move(referral, ReferralState.NOT_ADOPTED, actor=actor, reason=rationale)
            referral.outcome_reason = rationale
            referral.save(update_fields=["outcome_reason"])
            message = (
                f"Your referral of {person} was not adopted at the panel on {decided_on}: "
                f"{rationale}. You may refer again if there is new information."
            )
        else:
            _move(
                referral,
                ReferralState.LISTED,
                actor=actor,
                reason=f"Deferred at the panel on {decided_on}: {rationale}",
            )
            message = (
                f"Your referral of {person} was deferred at the panel on {decided_on}: {rationale}"
            )
        _notify(referral.referred_by, message, referral_link(referral))
        record(
            "referral.decided",
            actor=actor,
            obj=referral,
            person_id=person.pk,
            before=before,
            after=snapshot(referral, ["state", "outcome_reason", "closed_at"]),
            context={**_referral_context(referral), "outcome": panel.get_decision_display()},
            details={"panel_decision": panel.pk},
        )
    return panel


def _check_adoption(
    *,
    person: Person,
    cohort: CohortDefinition,
    on: dt.date,
    score: float | None,
    eligibility_override_reason: str,
    over_capacity_reason: str,
) -> list[dict[str, str]]:
    in_force = CohortDefinition.in_force(cohort.key, on)
    if in_force is None:
        raise CohortError(f"The {cohort.name} has no definition in force on {on}")
    if in_force.pk != cohort.pk:
        raise CohortError(
            f"{cohort} is not the version in force on {on}; use {in_force} (version "
            f"{in_force.version})"
        )
    current = (
        Registration.objects.filter(person=person, cohort_key=cohort.key)
        .exclude(status=RegistrationStatus.DEREGISTERED)
        .first()
    )
    if current is not None:
        raise CohortError(
            f"{person} is already registered in the {cohort.name} (since {current.start_date})"
        )
    rules = cohort.rules
    from openiom.cohort.selectors import score_for_panel

    score, source = score_for_panel(person=person, cohort=cohort, on=on, score=score)
    results = check_eligibility(person, cohort, on=on, score=score, score_source=source)
    not_met = [r for r in results if r.met == Met.NOT_MET]
    if not_met and not eligibility_override_reason.strip():
        raise CohortError(
            f"{person} does not meet the {cohort.name}'s criteria ("
            + "; ".join(r.reason for r in not_met)
            + "). Give eligibility_override_reason to adopt anyway."
        )
    if rules.capacity is not None:
        taken = _current_registrations(cohort.key)
        if taken >= rules.capacity and not over_capacity_reason.strip():
            raise CohortError(
                f"The {cohort.name} is full ({taken} of {rules.capacity} places). Give "
                "over_capacity_reason to adopt anyway."
            )
    return [r.as_dict() for r in results]


def _register(
    *,
    actor: Actor,
    person: Person,
    cohort: CohortDefinition,
    referral: Referral | None,
    panel: PanelDecision | None,
    lead_agency: Agency,
    lead_worker: Any,
    start: dt.date,
) -> Registration:
    rules = cohort.rules
    involvement = Involvement.objects.create(
        person=person,
        agency=lead_agency,
        worker=lead_worker,
        purpose=f"IOM lead agency ({cohort.name})",
        start_date=start,
    )
    record(
        "involvement.started",
        actor=actor,
        obj=involvement,
        person_id=person.pk,
        after=snapshot(involvement),
        context={"agency": lead_agency.name, "person": str(person)},
        details={"why": "IOM adoption: the lead agency works with the person"},
    )
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                person=person,
                cohort=cohort,
                cohort_key=cohort.key,
                referral=referral,
                panel_decision=panel,
                lead_agency=lead_agency,
                lead_worker=lead_worker,
                lead_involvement=involvement,
                start_date=start,
                review_date=start + dt.timedelta(days=rules.review_period_days),
                planned_end_date=add_months(start, rules.planned_registration_months),
                status=RegistrationStatus.ACTIVE,
                status_since=start,
                created_by=actor.user,
            )
    except IntegrityError:
        raise CohortError(
            f"{person} already has a current registration in the {cohort.name}"
        ) from None
    RegistrationStatusChange.objects.create(
        registration=registration,
        from_status="",
        to_status=RegistrationStatus.ACTIVE,
        changed_on=start,
        note=f"Registered in the {cohort.name}",
        changed_by=actor.user,
    )
    record(
        "registration.started",
        actor=actor,
        obj=registration,
        person_id=person.pk,
        after=snapshot(registration),
        context={"person": str(person), "cohort": cohort.name, "agency": lead_agency.name},
    )
    return registration


def _locked_current(registration: Registration) -> Registration:
    locked = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("person", "cohort", "lead_involvement")
        .get(pk=registration.pk)
    )
    if not locked.is_current:
        raise CohortError(
            f"{locked.person}'s registration in the {locked.cohort.name} ended on "
            f"{locked.end_date}; nothing more can be recorded on it"
        )
    return locked


def _check_date(registration: Registration, on: dt.date, what: str) -> None:
    if on > timezone.localdate():
        raise CohortError(f"{what}: {on} is in the future")
    if on < registration.start_date:
        raise CohortError(
            f"{what}: {on} is before the registration started ({registration.start_date})"
        )


def change_registration_status(
    *,
    actor: Actor,
    registration: Registration,
    status: str,
    note: str,
    on: dt.date | None = None,
) -> RegistrationStatusChange:
    """Active ↔ in custody ↔ suspended (use deregister to end a registration)."""
    try:
        to = RegistrationStatus(status)
    except ValueError:
        raise CohortError(f"status: {status!r} is not a registration status") from None
    if to == RegistrationStatus.DEREGISTERED:
        raise CohortError("status: use deregister() to de-register, with a reason")
    note = _required(note, "Say why the registration's status changed")
    on = _today(on)
    _check_date(registration, on, "on")
    require_cohort(actor, CohortAction.REGISTER, registration=registration)
    with transaction.atomic():
        reg = _locked_current(registration)
        if reg.status == to:
            raise CohortError(f"The registration is already {reg.get_status_display().lower()}")
        before = snapshot(reg, ["status", "status_since"])
        change = RegistrationStatusChange.objects.create(
            registration=reg,
            from_status=reg.status,
            to_status=to,
            changed_on=on,
            note=note,
            changed_by=actor.user,
        )
        reg.status, reg.status_since = to, on
        reg.save(update_fields=["status", "status_since"])
        record(
            "registration.status_changed",
            actor=actor,
            obj=reg,
            person_id=reg.person_id,
            before=before,
            after=snapshot(reg, ["status", "status_since"]),
            context={"person": str(reg.person), "status": reg.get_status_display().lower()},
            details={"note": note},
        )
    return change


def record_custody_status(
    *,
    registration: Registration,
    status: str,
    on: dt.date,
    note: str,
    recorded_by: Any,
) -> RegistrationStatusChange | None:
    """The system's status change when custody records show a person went in or came out.

    Active ↔ in custody only, with no permission check (no one asked: the daily run follows the
    custody records) and the audit event's actor "system"; `recorded_by` is the system account
    the status history row names. Returns None when the registration has ended or already has
    the status (a concurrent run got there first), so it is safe to run repeatedly.
    """
    to = RegistrationStatus(status)
    if to not in {RegistrationStatus.ACTIVE, RegistrationStatus.IN_CUSTODY}:
        raise CohortError(f"status: custody records set active or in custody, not {status!r}")
    note = _required(note, "Say which custody record changed the status")
    with transaction.atomic():
        reg = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("person")
            .get(pk=registration.pk)
        )
        if not reg.is_current or reg.status == to:
            return None
        on = max(on, reg.start_date, reg.status_since)
        before = snapshot(reg, ["status", "status_since"])
        change = RegistrationStatusChange.objects.create(
            registration=reg,
            from_status=reg.status,
            to_status=to,
            changed_on=on,
            note=note,
            changed_by=recorded_by,
        )
        reg.status, reg.status_since = to, on
        reg.save(update_fields=["status", "status_since"])
        record(
            "registration.status_changed",
            actor=None,
            username="system",
            obj=reg,
            person_id=reg.person_id,
            before=before,
            after=snapshot(reg, ["status", "status_since"]),
            context={"person": str(reg.person), "status": reg.get_status_display().lower()},
            details={"note": note, "by": "system (custody records)"},
        )
    return change


# --- RAG, exit plan, de-registration ----------------------------------------------------------


def set_rag_status(
    *,
    actor: Actor,
    registration: Registration,
    status: str,
    reason: str = "",
    on: dt.date | None = None,
    reported: ReportedEvidence | None = None,
) -> RagAssessment:
    """Decide a RAG status. The suggestion is computed and kept alongside the decision; a decision
    that differs from it needs a reason. Moves the review date on by the cohort's review period."""
    try:
        decided = RagStatus(status)
    except ValueError:
        raise CohortError(
            f"status: {status!r} is not a RAG status; choose red, amber or green"
        ) from None
    on = _today(on)
    _check_date(registration, on, "on")
    require_cohort(actor, CohortAction.SET_RAG, registration=registration)
    policy = RagPolicy.in_force(RAG_POLICY_KEY, on)
    if policy is None:
        raise CohortError(f"No RAG policy is in force on {on}; publish one first")
    with transaction.atomic():
        reg = _locked_current(registration)
        suggestion = suggest_rag(reg.person, on=on, policy=policy, reported=reported)
        differs = decided != suggestion.status
        reason = reason.strip()
        if differs and not reason:
            raise CohortError(
                f"The rules suggest {suggestion.status.label.lower()} ({suggestion.summary}); "
                f"give a reason for deciding {decided.label.lower()} instead"
            )
        assessment = RagAssessment.objects.create(
            registration=reg,
            person=reg.person,
            status=decided,
            assessed_on=on,
            reason=reason or f"Agreed with the suggestion. {suggestion.summary}",
            suggested_status=suggestion.status,
            suggestion_reasons=suggestion.reasons(),
            evidence=_jsonable(suggestion.evidence.as_dict()),
            differs_from_suggestion=differs,
            policy=policy,
            assessed_by=actor.user,
            assessed_by_agency_id=actor.agency_id,
        )
        before = snapshot(reg, ["review_date"])
        reg.review_date = on + dt.timedelta(days=reg.cohort.rules.review_period_days)
        reg.save(update_fields=["review_date"])
        record(
            "rag.assessed",
            actor=actor,
            obj=assessment,
            person_id=reg.person_id,
            before=before,
            after={**snapshot(assessment), "review_date": reg.review_date},
            context={
                "person": str(reg.person),
                "status": decided.label.lower(),
                "suggested": suggestion.status.label.lower(),
            },
            details={"policy": f"{policy.key} v{policy.version}", "differs": differs},
        )
    return assessment


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record_exit_plan(
    *, actor: Actor, registration: Registration, plan: str, on: dt.date | None = None
) -> ExitPlan:
    """Record (or replace) the exit plan; the latest applies, earlier ones are kept."""
    plan = _required(plan, "Write the exit plan: what support continues after IOM, and by whom")
    on = _today(on)
    _check_date(registration, on, "on")
    require_cohort(actor, CohortAction.SET_RAG, registration=registration)
    with transaction.atomic():
        reg = _locked_current(registration)
        exit_plan = ExitPlan.objects.create(
            registration=reg, plan=plan, recorded_on=on, recorded_by=actor.user
        )
        record(
            "exit_plan.recorded",
            actor=actor,
            obj=exit_plan,
            person_id=reg.person_id,
            after=snapshot(exit_plan),
            context={"person": str(reg.person)},
        )
    return exit_plan


def deregister(
    *,
    actor: Actor,
    registration: Registration,
    reason: str,
    note: str = "",
    on: dt.date | None = None,
    reconsideration_due: dt.date | None = None,
    schedule_reconsideration: bool = True,
) -> RegistrationStatusChange:
    """End a registration with a reason. The exit suggestion shown is stored with the decision.

    Long custody: a reconsideration is scheduled (by default 12 months before the expected release
    date) unless schedule_reconsideration is False. The lead agency's IOM involvement ends.
    """
    try:
        why = DeregistrationReason(reason)
    except ValueError:
        choices = ", ".join(DeregistrationReason.values)
        raise CohortError(
            f"reason: {reason!r} is not a de-registration reason; choose {choices}"
        ) from None
    note = note.strip()
    if why == DeregistrationReason.OTHER and not note:
        raise CohortError("note: say what the other reason for de-registration is")
    on = _today(on)
    _check_date(registration, on, "on")
    require_cohort(actor, CohortAction.DEREGISTER, registration=registration)
    policy = DeregistrationPolicy.in_force(DEREGISTRATION_POLICY_KEY, on)
    with transaction.atomic():
        reg = _locked_current(registration)
        suggestion = suggest_exit(reg, on, policy)
        if (
            why in {DeregistrationReason.GREEN_WITH_EXIT_PLAN, DeregistrationReason.LONG_CUSTODY}
            and why not in suggestion.suggested_reasons
            and not note
        ):
            rule = next((r for r in suggestion.results if r.deregistration_reason == why), None)
            raise CohortError(
                f"The de-registration policy does not support '{why.label}'"
                + (f" ({rule.reason})" if rule else "")
                + ": add a note explaining the decision"
            )
        before = snapshot(reg, ["status", "status_since", "end_date", "deregistration_reason"])
        change = RegistrationStatusChange.objects.create(
            registration=reg,
            from_status=reg.status,
            to_status=RegistrationStatus.DEREGISTERED,
            changed_on=on,
            reason=why,
            note=note,
            suggestion=suggestion.as_dict(),
            deregistration_policy=policy,
            changed_by=actor.user,
        )
        reg.status = RegistrationStatus.DEREGISTERED
        reg.status_since = on
        reg.end_date = on
        reg.deregistration_reason = why
        reg.save(update_fields=["status", "status_since", "end_date", "deregistration_reason"])
        record(
            "registration.deregistered",
            actor=actor,
            obj=reg,
            person_id=reg.person_id,
            before=before,
            after=snapshot(reg, ["status", "status_since", "end_date", "deregistration_reason"]),
            context={"person": str(reg.person), "cohort": reg.cohort.name, "reason": why.label},
            details={"note": note, "suggestion": suggestion.as_dict()},
        )
        involvement = reg.lead_involvement
        if involvement is not None and (involvement.end_date is None or involvement.end_date > on):
            inv_before = snapshot(involvement, ["end_date"])
            involvement.end_date = on
            involvement.save(update_fields=["end_date"])
            record(
                "involvement.ended",
                actor=actor,
                obj=involvement,
                person_id=reg.person_id,
                before=inv_before,
                after=snapshot(involvement, ["end_date"]),
                context={"agency": involvement.agency.name, "person": str(reg.person)},
                details={"why": "IOM de-registration"},
            )
        if why == DeregistrationReason.LONG_CUSTODY and schedule_reconsideration:
            rule = next(
                (
                    r
                    for r in suggestion.results
                    if r.deregistration_reason == why and r.suggests_exit
                ),
                None,
            )
            due = reconsideration_due or (rule.reconsideration_due if rule else None)
            if due is None:
                raise CohortError(
                    "No expected release date is recorded, so give reconsideration_due (the date "
                    "the case should come back to the referral and review meeting), or set "
                    "schedule_reconsideration=False"
                )
            _reconsider(
                actor=actor,
                registration=reg,
                due_date=due,
                reason=rule.reason if rule else note,
                custody_episode_id=rule.custody_episode_id if rule else None,
                expected_release_date=rule.expected_release_date if rule else None,
            )
    return change


def _reconsider(
    *,
    actor: Actor,
    registration: Registration,
    due_date: dt.date,
    reason: str,
    custody_episode_id: int | None = None,
    expected_release_date: dt.date | None = None,
) -> Reconsideration:
    item = Reconsideration.objects.create(
        person_id=registration.person_id,
        registration=registration,
        custody_episode_id=custody_episode_id,
        expected_release_date=expected_release_date,
        due_date=due_date,
        reason=reason,
        created_by=actor.user,
    )
    record(
        "reconsideration.scheduled",
        actor=actor,
        obj=item,
        person_id=registration.person_id,
        after=snapshot(item),
        context={"person": str(registration.person), "due_date": due_date.isoformat()},
    )
    return item


def create_reconsideration(
    *,
    actor: Actor,
    registration: Registration,
    due_date: dt.date,
    reason: str,
    custody_episode: CustodyEpisode | None = None,
) -> Reconsideration:
    """Bring a case back to the referral and review meeting by a date (e.g. before release)."""
    reason = _required(reason, "Say why the case is to be reconsidered")
    if not isinstance(due_date, dt.date):
        raise CohortError("due_date: give the date the case is due at the meeting")
    if custody_episode is not None and custody_episode.person_id != registration.person_id:
        raise CohortError("custody_episode: that custody episode is another person's")
    require_cohort(actor, CohortAction.DEREGISTER, registration=registration)
    with transaction.atomic():
        return _reconsider(
            actor=actor,
            registration=registration,
            due_date=due_date,
            reason=reason,
            custody_episode_id=custody_episode.pk if custody_episode else None,
            expected_release_date=custody_episode.expected_release_date
            if custody_episode
            else None,
        )


_RECONSIDERATION_FIELDS = [
    "status",
    "outcome",
    "considered_on",
    "outcome_note",
    "closed_by_id",
    "closed_at",
    "referral_id",
]


def record_reconsideration_outcome(
    *,
    actor: Actor,
    reconsideration: Reconsideration,
    outcome: str,
    considered_on: dt.date,
    note: str,
) -> Reconsideration:
    """Record what the referral and review meeting decided on a scheduled reconsideration.

    re_referred → considered, and a submitted referral to the selection panel is made (through
    create_referral, the coordinator as referrer) and linked both ways; no_further_action →
    considered; cancelled (sentence changed, died, moved away) → cancelled. One transaction.
    """
    person = reconsideration.person
    # The meeting's decision on a case is the coordinator's to record, as the selection panel's
    # decision on a referral is (and it may put the case back before that panel): the same
    # coordinator-only action, checked before anything is said about the input.
    require_cohort(actor, CohortAction.RECORD_PANEL_DECISION, person)
    try:
        result = ReconsiderationOutcome(outcome)
    except ValueError:
        raise CohortError(
            f"outcome: {outcome!r} is not a reconsideration outcome; choose re_referred, "
            "no_further_action or cancelled"
        ) from None
    if not isinstance(considered_on, dt.date):
        raise CohortError(
            "considered_on: give the date the referral and review meeting considered the case"
        )
    if considered_on > timezone.localdate():
        raise CohortError(
            f"considered_on: {considered_on} is in the future; record the outcome once the "
            "meeting has decided"
        )
    note = _required(note, "note: say what the meeting decided and why")
    if result == ReconsiderationOutcome.RE_REFERRED:
        require_cohort(actor, CohortAction.REFER_PERSON, person)  # create_referral's own check
    with transaction.atomic():
        item = (
            Reconsideration.objects.select_for_update(of=("self",))
            .select_related("person", "registration", "registration__cohort")
            .get(pk=reconsideration.pk)
        )
        if item.status != ReconsiderationStatus.SCHEDULED:
            raise InvalidTransition(
                f"Cannot record an outcome for reconsideration {item.pk}: it was already "
                f"{item.get_status_display().lower()} on {item.considered_on} "
                f"({item.get_outcome_display().lower()}). Only a scheduled reconsideration can "
                "be closed."
            )
        reg = item.registration
        earliest = reg.end_date or reg.start_date
        if considered_on < earliest:
            ended = "ended" if reg.end_date else "started"
            raise CohortError(
                f"considered_on: {considered_on} is before the registration {ended} ({earliest})"
            )
        before = snapshot(item, _RECONSIDERATION_FIELDS)
        referral = None
        if result == ReconsiderationOutcome.RE_REFERRED:
            release = (
                f" (expected release {item.expected_release_date})"
                if item.expected_release_date
                else ""
            )
            referral = create_referral(
                actor=actor,
                person=item.person,
                reason=(
                    f"Re-referred by the referral and review meeting on {considered_on} "
                    f"(reconsideration {item.pk}): {note}"
                ),
                evidence=(
                    f"Registration in the {reg.cohort.name} from {reg.start_date} ended"
                    + (
                        f" on {reg.end_date} ({reg.get_deregistration_reason_display()})"
                        if reg.end_date
                        else ""
                    )
                    + f". Scheduled for reconsideration: {item.reason}"
                ),
                proposed_cohort=CohortDefinition.in_force(reg.cohort_key, considered_on),
                new_information=(
                    f"Reconsidered before release{release} at the referral and review meeting "
                    f"on {considered_on}"
                ),
                submit=True,
            )
        item.status = (
            ReconsiderationStatus.CANCELLED
            if result == ReconsiderationOutcome.CANCELLED
            else ReconsiderationStatus.CONSIDERED
        )
        item.outcome = result
        item.considered_on = considered_on
        item.outcome_note = note
        item.closed_by = actor.user
        item.closed_at = timezone.now()
        item.referral = referral
        item.save(update_fields=_RECONSIDERATION_FIELDS)
        record(
            "reconsideration.recorded",
            actor=actor,
            obj=item,
            person_id=item.person_id,
            before=before,
            after=snapshot(item, _RECONSIDERATION_FIELDS),
            context={"person": str(item.person), "outcome": result.label.lower()},
            details={"referral": referral.pk if referral else None},
        )
    return item


# --- Policy versions ------------------------------------------------------------------------


def publish_cohort_policy_version(
    *,
    actor: Actor,
    kind: str,
    key: str,
    name: str,
    config: dict[str, Any],
    source: str,
    change_note: str,
    effective_from: dt.date,
) -> Any:
    """Publish the next version of a cohort definition, the RAG rules or the de-registration rules.

    Never alters an existing version: results that used it keep pointing at it.
    """
    require_cohort(actor, CohortAction.EDIT_POLICY)  # refuse before saying anything about input
    model = POLICY_MODELS.get(kind)
    if model is None:
        raise CohortError(f"kind: {kind!r} is not a policy kind; choose {', '.join(POLICY_MODELS)}")
    if kind in FIXED_POLICY_KEYS and key != FIXED_POLICY_KEYS[kind]:
        raise CohortError(f"key: the {kind} policy's key is {FIXED_POLICY_KEYS[kind]!r}")
    try:
        validate_slug(key)
    except Exception:
        raise CohortError(
            f"key: {key!r} must be letters, numbers, hyphens or underscores"
        ) from None
    name = _required(name, "name: give the policy a name people will recognise")
    source = _required(source, "source: say where the values come from and how sure they are")
    change_note = _required(change_note, "change_note: say why this version is being made")
    if not isinstance(effective_from, dt.date):
        raise CohortError("effective_from: give the date the version applies from")
    validate_config(kind, config)
    with transaction.atomic():
        latest = model.objects.select_for_update().filter(key=key).order_by("-version").first()
        if latest is not None and effective_from < latest.effective_from:
            raise CohortError(
                f"effective_from: {effective_from} is before version {latest.version}'s "
                f"{latest.effective_from}; a new version cannot apply earlier than the one it "
                "replaces"
            )
        row = model.objects.create(
            key=key,
            version=model.next_version_number(key),
            name=name,
            effective_from=effective_from,
            source=source,
            change_note=change_note,
            config=config,
            created_by=actor.user,
        )
        record(
            "cohort.policy_published",
            actor=actor,
            obj=row,
            before=snapshot(latest) if latest is not None else None,
            after=snapshot(row),
            context={"kind": kind, "key": key, "version": row.version},
        )
    return row


# --- Notifications ----------------------------------------------------------------------------


def mark_notification_read(*, user: Any, notification: Notification) -> Notification:
    if notification.user_id != user.pk:
        raise CohortError("That message is not yours")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


# --- Lead worker and lead agency changes -------------------------------------------------------


def change_lead_worker(
    *,
    actor: Actor,
    registration: Registration,
    worker: Any,
    agency: Agency,
    reason: str,
    on: dt.date | None = None,
) -> Any:
    """Hand a current registration to a new lead worker (and, if they work elsewhere, lead agency).

    The change is kept (LeadWorkerChange, append-only) and the registration names the new lead.
    When the new lead agency has no current involvement with the person, one is recorded (as at
    registration) and becomes the registration's lead involvement, ended at de-registration; the
    former lead agency's involvement continues (it stays a partner until someone ends it). The
    new lead worker is told.
    """
    from openiom.cohort.models import LeadWorkerChange

    if worker is None:
        raise CohortError("worker: choose the new lead worker")
    if agency is None:
        raise CohortError("agency: choose the new lead agency")
    reason = _required(reason, "reason: say why the lead worker is changing")
    on = _today(on)
    _check_date(registration, on, "on")
    if not Membership.objects.filter(user=worker, agency=agency, is_active=True).exists():
        raise CohortError(
            f"worker: {worker.get_username()} does not work for {agency}; choose a lead worker "
            "from the lead agency"
        )
    require_cohort(actor, CohortAction.REGISTER, registration=registration)
    with transaction.atomic():
        reg = _locked_current(registration)
        if reg.lead_worker_id == worker.pk and reg.lead_agency_id == agency.pk:
            raise CohortError(
                f"worker: {worker.get_full_name() or worker.get_username()} is already the lead "
                "worker"
            )
        latest = reg.lead_changes.order_by("-changed_on", "-id").first()
        if latest is not None and on < latest.changed_on:
            raise CohortError(
                f"on: the lead last changed on {latest.changed_on}; a later change cannot be "
                "dated before it"
            )
        fields = ["lead_agency_id", "lead_worker_id", "lead_involvement_id"]
        before = snapshot(reg, fields)
        change = LeadWorkerChange.objects.create(
            registration=reg,
            from_agency_id=reg.lead_agency_id,
            to_agency=agency,
            from_worker_id=reg.lead_worker_id,
            to_worker=worker,
            changed_on=on,
            reason=reason,
            changed_by=actor.user,
        )
        involved = (
            Involvement.objects.filter(person_id=reg.person_id, agency=agency, start_date__lte=on)
            .exclude(end_date__lte=on)
            .exists()
        )
        if not involved:
            involvement = Involvement.objects.create(
                person_id=reg.person_id,
                agency=agency,
                worker=worker,
                purpose=f"IOM lead agency ({reg.cohort.name})",
                start_date=on,
            )
            record(
                "involvement.started",
                actor=actor,
                obj=involvement,
                person_id=reg.person_id,
                after=snapshot(involvement),
                context={"agency": agency.name, "person": str(reg.person)},
                details={
                    "why": "IOM lead agency change: the new lead agency works with the person"
                },
            )
            reg.lead_involvement = involvement
        reg.lead_agency, reg.lead_worker = agency, worker
        reg.save(update_fields=["lead_agency", "lead_worker", "lead_involvement"])
        record(
            "registration.lead_changed",
            actor=actor,
            obj=reg,
            person_id=reg.person_id,
            before=before,
            after=snapshot(reg, fields),
            context={
                "person": str(reg.person),
                "worker": worker.get_full_name() or worker.get_username(),
                "agency": agency.name,
            },
            details={"reason": reason, "on": on.isoformat(), "change": change.pk},
        )
        _notify(
            worker,
            f"You are now the IOM lead worker for {reg.person} ({reg.cohort.name}) from {on}.",
            f"/cohort/registrations/{reg.pk}/",
        )
    return change
