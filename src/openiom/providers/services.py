"""Writes of referrals to pathway providers: one function per domain action.

Who may do what:
- send: the registration's lead worker and police and probation coordinators and offender
  managers (ProviderReferralAction.SEND on the registration);
- accept, start, complete, decline: the receiving agency's workers (the referral is to their
  agency and the policy allows RESPOND: they work with the person, and are not analysts, DPOs
  or administrators);
- end early: either side; withdraw: the sending side (SEND on the registration).

Access while active: sending opens an involvement for the receiving agency (its named worker,
or the whole agency) starting today; closing the referral ends that involvement *the day
before* the closing day. active_involvements() treats an involvement ending today as active all
day, so ending it on the closing day would leave the provider seeing the person until midnight
after the referral was declined or withdrawn; ending it the day before ends their access at
once. (A referral sent and closed on the same day leaves an involvement that ends the day before
it started: it grants no access from the moment of closing.) Only the involvement the referral
opened is ended: other work the agency does with the person keeps its own access.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiom.access.policy import CASEWORK_EXCLUDED_ROLES, Decision, ProviderReferralAction, can
from openiom.access.services import deny, require
from openiom.accounts.models import Membership
from openiom.audit.services import record, snapshot
from openiom.cohort.services import InvalidTransition
from openiom.people.models import Involvement
from openiom.providers.models import (
    ACTIVE_STATES,
    ConsentMethod,
    LegalBasis,
    ProviderReferral,
    ProviderReferralState,
    ProviderReferralStateChange,
    ServiceType,
)

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.cohort.models import Registration
    from openiom.partnership.models import Agency

REASON_MAX = 4000
S = ProviderReferralState


class ProviderReferralTransitionError(InvalidTransition):
    """A provider referral cannot take the step asked for from its current state (API: 409)."""


@dataclass(frozen=True)
class Transition:
    """One step of the state machine: who takes it, from where, to where, and what it needs."""

    name: str  # the API's and the form's name for it
    label: str  # the button
    event: str  # audit event type
    from_states: tuple[str, ...]
    to_state: str
    sides: frozenset[str]  # "receiving", "sending"
    reason: str  # "required", "optional" (a note) or "none"


RECEIVING = "receiving"
SENDING = "sending"
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "accept",
            "Accept the referral",
            "provider_referral.accepted",
            (S.SENT,),
            S.ACCEPTED,
            frozenset({RECEIVING}),
            "none",
        ),
        Transition(
            "start",
            "Start the work",
            "provider_referral.started",
            (S.ACCEPTED,),
            S.IN_PROGRESS,
            frozenset({RECEIVING}),
            "none",
        ),
        Transition(
            "complete",
            "Complete the referral",
            "provider_referral.completed",
            (S.IN_PROGRESS,),
            S.COMPLETED,
            frozenset({RECEIVING}),
            "optional",
        ),
        Transition(
            "decline",
            "Decline the referral",
            "provider_referral.declined",
            (S.SENT,),
            S.DECLINED,
            frozenset({RECEIVING}),
            "required",
        ),
        Transition(
            "end_early",
            "End the referral early",
            "provider_referral.ended_early",
            (S.ACCEPTED, S.IN_PROGRESS),
            S.ENDED_EARLY,
            frozenset({RECEIVING, SENDING}),
            "required",
        ),
        Transition(
            "withdraw",
            "Withdraw the referral",
            "provider_referral.withdrawn",
            (S.SENT, S.ACCEPTED),
            S.WITHDRAWN,
            frozenset({SENDING}),
            "required",
        ),
    ]
}


# --- Who is on which side -----------------------------------------------------------------------


def receiving_side(actor: Actor, referral: ProviderReferral) -> Decision:
    """The receiving agency's workers who may act on the referral (never audited here)."""
    if actor.membership is None:
        return Decision(False, "no active agency role")
    if actor.role in CASEWORK_EXCLUDED_ROLES:
        return Decision(
            False, "case workers only (analysts, DPOs and administrators respond to none)"
        )
    if referral.receiving_agency_id != actor.agency_id:
        return Decision(False, "only the receiving agency's workers respond to a referral")
    return can(actor, ProviderReferralAction.RESPOND, referral.person)


def sending_side(actor: Actor, referral: ProviderReferral) -> Decision:
    """The lead worker and police and probation coordinators and offender managers."""
    return can(actor, ProviderReferralAction.SEND, registration=referral.registration)


def side_decision(actor: Actor, referral: ProviderReferral, transition: Transition) -> Decision:
    if RECEIVING in transition.sides:
        decision = receiving_side(actor, referral)
        if decision or SENDING not in transition.sides:
            return decision
    decision = sending_side(actor, referral)
    if decision or RECEIVING not in transition.sides:
        return decision
    return Decision(
        False, "only the receiving agency or the sending side (lead worker, case managers)"
    )


def allowed_transitions(actor: Actor, referral: ProviderReferral) -> list[Transition]:
    """The steps the actor may take on the referral now (for the buttons; not audited)."""
    return [
        t
        for t in TRANSITIONS.values()
        if referral.state in t.from_states and side_decision(actor, referral, t)
    ]


# --- Sending ------------------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _validate_send(
    *,
    registration: Registration,
    service_type: str,
    receiving_agency: Agency | None,
    receiving_worker: Any,
    reason: str,
    consent_given_on: dt.date | None,
    consent_recorded_how: str,
    legal_basis: str,
    legal_basis_detail: str,
    today: dt.date,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(f"{field}: {message}")

    if not registration.is_current:
        add("registration", "the person is no longer registered with IOM")
    if service_type not in ServiceType.values:
        add(
            "service_type",
            f"{service_type!r} is not a service type; choose one of "
            + ", ".join(ServiceType.values),
        )
    if receiving_agency is None:
        add("receiving_agency", "choose the agency to refer the person to")
    elif not receiving_agency.is_active:
        add("receiving_agency", f"{receiving_agency.name} no longer takes part in the partnership")
    if receiving_worker is not None and receiving_agency is not None:
        works_there = Membership.objects.filter(
            user=receiving_worker, agency=receiving_agency, is_active=True
        ).exclude(role__in=CASEWORK_EXCLUDED_ROLES)
        if not works_there.exists():
            add(
                "receiving_worker",
                f"{receiving_worker.get_full_name() or receiving_worker.get_username()} is not a "
                f"case worker at {receiving_agency.name}; choose one of theirs or leave it empty",
            )
    if not reason:
        add("reason", "say why the person is referred and what is asked of the provider")
    elif len(reason) > REASON_MAX:
        add("reason", f"at most {REASON_MAX} characters")

    consent = consent_given_on is not None or bool(consent_recorded_how)
    if consent_given_on is not None and consent_given_on > today:
        add("consent_given_on", "the date consent was given cannot be in the future")
    if consent_recorded_how and consent_recorded_how not in ConsentMethod.values:
        add("consent_recorded_how", f"{consent_recorded_how!r} is not a way of recording consent")
    if consent and consent_given_on is None:
        add("consent_given_on", "enter the date the person gave consent")
    if consent and not consent_recorded_how:
        add("consent_recorded_how", "say how the person's consent was recorded")
    if legal_basis and legal_basis not in LegalBasis.values:
        add("legal_basis", f"{legal_basis!r} is not a legal basis; choose one from the list")
    if legal_basis == LegalBasis.OTHER and not legal_basis_detail:
        add("legal_basis_detail", "describe the legal basis for sharing without consent")
    if len(legal_basis_detail) > REASON_MAX:
        add("legal_basis_detail", f"at most {REASON_MAX} characters")
    if legal_basis_detail and not legal_basis:
        add("legal_basis", "choose the legal basis the detail is about")
    if not consent and not legal_basis and not legal_basis_detail:
        add(
            "legal_basis",
            "record the person's consent (the date and how it was recorded) or, if sharing "
            "without consent, the legal basis for sharing",
        )
    return errors


def send_referral(
    *,
    actor: Actor,
    registration: Registration,
    service_type: str,
    receiving_agency: Agency | None,
    reason: str,
    receiving_worker: Any = None,
    consent_given_on: dt.date | None = None,
    consent_recorded_how: str = "",
    legal_basis: str = "",
    legal_basis_detail: str = "",
) -> ProviderReferral:
    """Send a referral to a provider, opening the receiving agency's involvement with the person.

    Raises AccessDenied (audited) unless the actor may send (lead worker, core case managers);
    ValidationError with "field: why" messages for bad input (nothing is written then).
    """
    require(actor, ProviderReferralAction.SEND, registration=registration)
    reason = _clean(reason)
    consent_recorded_how = _clean(consent_recorded_how)
    legal_basis = _clean(legal_basis)
    legal_basis_detail = _clean(legal_basis_detail)
    today = timezone.localdate()
    errors = _validate_send(
        registration=registration,
        service_type=service_type,
        receiving_agency=receiving_agency,
        receiving_worker=receiving_worker,
        reason=reason,
        consent_given_on=consent_given_on,
        consent_recorded_how=consent_recorded_how,
        legal_basis=legal_basis,
        legal_basis_detail=legal_basis_detail,
        today=today,
    )
    if not errors:
        assert receiving_agency is not None
        duplicate = ProviderReferral.objects.filter(
            registration=registration,
            receiving_agency=receiving_agency,
            service_type=service_type,
            state__in=ACTIVE_STATES,
        ).first()
        if duplicate is not None:
            errors["receiving_agency"] = [
                f"receiving_agency: {receiving_agency.name} already has an active "
                f"{ServiceType(service_type).label.lower()} referral for this person "
                f"(referral {duplicate.pk})"
            ]
    if errors:
        raise ValidationError(errors)
    assert receiving_agency is not None and actor.agency_id is not None
    person = registration.person
    try:
        with transaction.atomic():
            referral = ProviderReferral.objects.create(
                person=person,
                registration=registration,
                service_type=service_type,
                receiving_agency=receiving_agency,
                receiving_worker=receiving_worker,
                reason=reason,
                sent_by=actor.user,
                sending_agency_id=actor.agency_id,
                consent_given_on=consent_given_on,
                consent_recorded_how=consent_recorded_how,
                legal_basis=legal_basis,
                legal_basis_detail=legal_basis_detail,
            )
            involvement = Involvement.objects.create(
                person=person,
                agency=receiving_agency,
                worker=receiving_worker,
                purpose=f"Provider referral #{referral.pk}: {referral.get_service_type_display()}",
                start_date=today,
            )
            referral.involvement = involvement
            referral.save(update_fields=["involvement"])
            ProviderReferralStateChange.objects.create(
                referral=referral,
                from_state="",
                to_state=S.SENT,
                reason=reason,
                changed_by=actor.user,
                changed_by_agency_id=actor.agency_id,
            )
            record(
                "involvement.started",
                actor=actor,
                obj=involvement,
                person_id=person.pk,
                after=snapshot(involvement),
                context={"agency": receiving_agency.name, "person": str(person)},
                details={"why": f"provider referral {referral.pk} sent"},
            )
            record(
                "provider_referral.sent",
                actor=actor,
                obj=referral,
                person_id=person.pk,
                after=snapshot(referral),
                context={
                    "person": str(person),
                    "agency": receiving_agency.name,
                    "service": referral.get_service_type_display().lower(),
                    "basis": referral.lawful_basis_text,
                },
            )
    except IntegrityError:
        # Two senders at once: the partial unique constraint caught the second.
        raise ValidationError(
            {
                "receiving_agency": [
                    f"receiving_agency: {receiving_agency.name} already has an active "
                    "referral of this kind for this person"
                ]
            }
        ) from None
    return referral


# --- Transitions --------------------------------------------------------------------------------


def transition(
    *, actor: Actor, referral: ProviderReferral, action: str, reason: str = ""
) -> ProviderReferral:
    """Take one step of the state machine (accept, start, complete, decline, end_early, withdraw).

    Raises AccessDenied (audited) when the actor is not on a side that may take the step;
    ProviderReferralTransitionError when the referral's state does not allow it;
    ValidationError {"reason": [...]} when a needed reason is missing or too long; nothing is
    written then. Closing the referral ends the receiving agency's involvement it opened.
    """
    step = TRANSITIONS.get(action)
    if step is None:
        raise ValidationError(
            {"action": [f"action: {action!r} is not one of " + ", ".join(TRANSITIONS)]}
        )
    decision = side_decision(actor, referral, step)
    if not decision:
        deny(actor, step.label.lower(), decision, referral.person)
    reason = _clean(reason)
    with transaction.atomic():
        locked = (
            ProviderReferral.objects.select_for_update(of=("self",))
            .select_related("person", "receiving_agency", "involvement")
            .get(pk=referral.pk)
        )
        if locked.state not in step.from_states:
            allowed = " or ".join(S(s).label.lower() for s in step.from_states)
            raise ProviderReferralTransitionError(
                f"This referral is {locked.get_state_display().lower()}: only a referral that is "
                f"{allowed} can be {_past(step)}."
            )
        if step.reason == "required" and not reason:
            raise ValidationError({"reason": [f"reason: {_reason_prompt(step)}"]})
        if step.reason == "none" and reason:
            reason = ""  # accepting and starting take no reason; ignore a stray one
        if len(reason) > REASON_MAX:
            raise ValidationError({"reason": [f"reason: at most {REASON_MAX} characters"]})
        before = snapshot(locked, ["state", "closing_reason", "closed_at"])
        from_state = locked.state
        locked.state = step.to_state
        now = timezone.now()
        closing = step.to_state not in ACTIVE_STATES
        if closing:
            locked.closing_reason = reason
            locked.closed_at = now
        locked.save(update_fields=["state", "closing_reason", "closed_at"])
        ProviderReferralStateChange.objects.create(
            referral=locked,
            from_state=from_state,
            to_state=step.to_state,
            reason=reason,
            changed_by=actor.user,
            changed_by_agency_id=actor.agency_id,
        )
        context = {
            "referral": locked.pk,
            "person": str(locked.person),
            "agency": locked.receiving_agency.name,
        }
        record(
            step.event,
            actor=actor,
            obj=locked,
            person_id=locked.person_id,
            before=before,
            after=snapshot(locked, ["state", "closing_reason", "closed_at"]),
            context=context,
            details={"reason": reason} if reason else None,
        )
        if closing:
            _end_access(actor, locked, timezone.localdate(now))
    return locked


def _past(step: Transition) -> str:
    return {
        "accept": "accepted",
        "start": "started",
        "complete": "completed",
        "decline": "declined",
        "end_early": "ended early",
        "withdraw": "withdrawn",
    }.get(step.name, step.name)


def _reason_prompt(step: Transition) -> str:
    return {
        "decline": "say why the referral is declined",
        "end_early": "say why the referral is ended early",
        "withdraw": "say why the referral is withdrawn",
    }.get(step.name, "give a reason")


def _end_access(actor: Actor, referral: ProviderReferral, closed_on: dt.date) -> None:
    """End the involvement the referral opened, so the provider's access ends now."""
    involvement = referral.involvement
    if involvement is None:
        return
    last_day = closed_on - dt.timedelta(days=1)
    if involvement.end_date is not None and involvement.end_date <= last_day:
        return  # already ended (by hand) no later than this
    before = snapshot(involvement, ["end_date"])
    involvement.end_date = last_day
    involvement.save(update_fields=["end_date"])
    record(
        "involvement.ended",
        actor=actor,
        obj=involvement,
        person_id=referral.person_id,
        before=before,
        after=snapshot(involvement, ["end_date"]),
        context={"agency": referral.receiving_agency.name, "person": str(referral.person)},
        details={"why": f"provider referral {referral.pk} {referral.state.replace('_', ' ')}"},
    )


def accept(*, actor: Actor, referral: ProviderReferral) -> ProviderReferral:
    return transition(actor=actor, referral=referral, action="accept")


def start(*, actor: Actor, referral: ProviderReferral) -> ProviderReferral:
    return transition(actor=actor, referral=referral, action="start")


def complete(*, actor: Actor, referral: ProviderReferral, note: str = "") -> ProviderReferral:
    return transition(actor=actor, referral=referral, action="complete", reason=note)


def decline(*, actor: Actor, referral: ProviderReferral, reason: str) -> ProviderReferral:
    return transition(actor=actor, referral=referral, action="decline", reason=reason)


def end_early(*, actor: Actor, referral: ProviderReferral, reason: str) -> ProviderReferral:
    return transition(actor=actor, referral=referral, action="end_early", reason=reason)


def withdraw(*, actor: Actor, referral: ProviderReferral, reason: str) -> ProviderReferral:
    return transition(actor=actor, referral=referral, action="withdraw", reason=reason)
