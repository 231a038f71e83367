"""The one place that answers "may this actor do action A (on person P)?".

Rules (foundation version; the sharing issue refines them with information-sharing agreements):
- Police and probation IOM staff (coordinators, offender managers, analysts) see the people of
  their area: every hub, or only their own hub when their membership names one.
- Analysts at other agencies see the area's people and offending for analysis, not circumstances.
- Partner-agency workers (housing, drug service, VCS, council, prison, YOS, health...) see only
  people their agency is working with (an active involvement naming them or the whole agency),
  and only the basics plus the records their own agency made.
- Police intelligence is visible to police staff only.
- A restricted person is visible only to the users named on the restriction.
- Data-protection officers read the audit trail and may consult records for rights requests.
- Administrators manage user accounts and may read the audit trail, but see no people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from openiom.accounts.models import Role

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.cohort.models import Registration
    from openiom.people.models import Person


class Action(StrEnum):
    SEARCH_PEOPLE = "search people"
    VIEW_PERSON = "view person"
    VIEW_OFFENDING = "view offending"
    VIEW_CIRCUMSTANCES = "view circumstances"
    VIEW_INTELLIGENCE = "view intelligence"
    EDIT_PERSON = "edit person"
    RECORD_INTELLIGENCE = "record intelligence"
    RESTRICT_PERSON = "restrict person"
    MANAGE_INVOLVEMENT = "manage involvement"
    IMPORT_EXTRACT = "import extract"
    RESOLVE_MATCH = "resolve match"
    VIEW_AUDIT = "view audit"
    MANAGE_USERS = "manage users"


class CohortAction(StrEnum):
    """The IOM lifecycle (referral, panel, registration, RAG, exit)."""

    REFER_PERSON = "refer person"
    LIST_FOR_PANEL = "list referral for panel"
    RECORD_PANEL_DECISION = "record panel decision"
    REGISTER = "register"
    SET_RAG = "set RAG status"
    DEREGISTER = "de-register"
    EDIT_POLICY = "edit cohort policy"
    VIEW_REGISTER = "view cohort register"


class ScoringAction(StrEnum):
    """Identification scoring (candidate lists and their rule sets)."""

    PUBLISH_POLICY = "publish scoring policy"
    RUN_SCORING = "run scoring"
    VIEW_SCORES = "view scores"


class EvaluationAction(StrEnum):
    """Impact evaluation, value for money and the board dashboard (aggregate, no person detail)."""

    RUN_EVALUATION = "run evaluation"
    VIEW_EVALUATION = "view evaluation"
    PUBLISH_VFM_ASSUMPTIONS = "publish value-for-money assumptions"
    VIEW_DASHBOARD = "view board dashboard"


class CaseworkAction(StrEnum):
    """Case management: contacts with a person."""

    RECORD_CONTACT = "record contact"
    VIEW_CONTACTS = "view contacts"
    VIEW_BRIEFING = "view police briefing"
    SET_HANDLING_NOTE = "set handling note"


class PlanAction(StrEnum):
    """Management plans (ASPIRE): pathway needs, objectives, actions, agreement, "my plan"."""

    VIEW_PLAN = "view management plan"
    EDIT_PLAN = "edit management plan"
    AGREE_PLAN = "agree management plan"
    UPDATE_ACTION = "update plan action"
    PRINT_MY_PLAN = "print my plan"


class ProviderReferralAction(StrEnum):
    """Referrals to pathway providers (housing, treatment, employment, mentoring)."""

    SEND = "send provider referral"
    VIEW = "view provider referrals"
    RESPOND = "respond to provider referral"


class CaseloadAction(StrEnum):
    """Caseload lists and the agency-contribution page."""

    VIEW_OWN_CASELOAD = "view my, my team's or my agency's caseload"
    VIEW_COHORT_CASELOAD = "view the whole cohort's caseload"
    VIEW_CONTRIBUTION = "view agency contribution"


AnyAction = (
    Action
    | CohortAction
    | ScoringAction
    | EvaluationAction
    | CaseworkAction
    | PlanAction
    | ProviderReferralAction
    | CaseloadAction
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


AREA_ROLES = {Role.COORDINATOR, Role.OFFENDER_MANAGER, Role.ANALYST}
POLICE_INTEL_ROLES = {
    Role.COORDINATOR,
    Role.OFFENDER_MANAGER,
    Role.ANALYST,
    Role.DATA_PROTECTION_OFFICER,
}


def _is_core(actor: Actor) -> bool:
    m = actor.membership
    return m is not None and m.agency.agency_type.is_statutory_core


def _is_police(actor: Actor) -> bool:
    m = actor.membership
    return m is not None and m.agency.agency_type.is_police


def has_area_scope(actor: Actor) -> bool:
    """Sees the people of the area (or their hub) rather than only those they work with."""
    if actor.membership is None:
        return False
    if actor.role in {Role.ANALYST, Role.DATA_PROTECTION_OFFICER}:
        return True
    return _is_core(actor) and actor.role in AREA_ROLES


def is_partner_scope(actor: Actor) -> bool:
    return (
        actor.membership is not None
        and not has_area_scope(actor)
        and actor.role != Role.ADMINISTRATOR
    )


def _restricted_out(actor: Actor, person: Person) -> bool:
    from openiom.people.models import Restriction

    named = Restriction.objects.filter(person=person)
    return named.exists() and not named.filter(user_id=actor.user.pk).exists()


def _involved(actor: Actor, person: Person, on: dt.date | None = None) -> bool:
    return active_involvements(actor, on).filter(person=person).exists()


def active_involvements(actor: Actor, on: dt.date | None = None) -> QuerySet:
    from openiom.people.models import Involvement

    today = on or timezone.localdate()
    if actor.agency_id is None:
        return Involvement.objects.none()
    return Involvement.objects.filter(
        Q(worker__isnull=True) | Q(worker_id=actor.user.pk),
        agency_id=actor.agency_id,
        start_date__lte=today,
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=today))


def _in_hub(actor: Actor, person: Person) -> bool:
    m = actor.membership
    return m is None or m.hub_id is None or m.hub_id == person.hub_id


def can(
    actor: Actor | None,
    action: AnyAction,
    person: Person | None = None,
    *,
    registration: Registration | None = None,
) -> Decision:
    """Decide; never raises. Person-level actions need a person (or, for RAG, a registration).

    `actor` None is the system itself (the weekly scoring run, commands), which may only run
    and read scoring.
    """
    if isinstance(action, ScoringAction):
        return _scoring_decision(actor, action)
    if isinstance(action, EvaluationAction):
        return _evaluation_decision(actor, action)
    if actor is None:
        return Decision(False, "no signed-in user")
    if isinstance(action, CohortAction):
        return _cohort_decision(actor, action, person, registration)
    if isinstance(action, CaseworkAction):
        return _casework_decision(actor, action, person, registration)
    if isinstance(action, PlanAction):
        return _plan_decision(actor, action, person, registration)
    if isinstance(action, ProviderReferralAction):
        return _provider_referral_decision(actor, action, person, registration)
    if isinstance(action, CaseloadAction):
        return _caseload_decision(actor, action)
    if actor.membership is None:
        return Decision(False, "no active agency role")
    role = actor.role

    if action == Action.VIEW_AUDIT:
        ok = role in {Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR}
        return Decision(ok, "data-protection officers and administrators only")
    if action == Action.MANAGE_USERS:
        return Decision(role == Role.ADMINISTRATOR, "administrators only")
    if action == Action.IMPORT_EXTRACT:
        return Decision(role in {Role.COORDINATOR, Role.ANALYST}, "coordinators and analysts only")
    if action == Action.RESOLVE_MATCH:
        return Decision(role in {Role.COORDINATOR, Role.ANALYST}, "coordinators and analysts only")
    if action == Action.SEARCH_PEOPLE:
        ok = role != Role.ADMINISTRATOR
        return Decision(ok, "administrators manage accounts, not people's records")

    if person is None:
        raise ValueError(f"{action} needs a person")
    if role == Role.ADMINISTRATOR:
        return Decision(False, "administrators manage accounts, not people's records")
    if _restricted_out(actor, person):
        return Decision(False, "this record is restricted to named users")

    area = has_area_scope(actor) and _in_hub(actor, person)
    involved = area or _involved(actor, person)
    if not involved:
        return Decision(False, "your agency is not working with this person")

    if action == Action.VIEW_PERSON:
        return Decision(True, "area scope" if area else "your agency is working with this person")
    if action == Action.VIEW_OFFENDING:
        return Decision(area, "partner agencies see the basics and their own records only")
    if action == Action.VIEW_CIRCUMSTANCES:
        # Partners (and analysts outside police and probation) still see the circumstances their
        # own agency recorded (filtered by records_for).
        all_records = _sees_all_records(actor, person)
        return Decision(True, "area scope" if all_records else "own agency's records only")
    if action == Action.VIEW_INTELLIGENCE:
        ok = area and _is_police(actor) and role in POLICE_INTEL_ROLES
        return Decision(ok, "police intelligence is visible to police staff only")
    if action in {Action.EDIT_PERSON, Action.MANAGE_INVOLVEMENT}:
        ok = area and _is_core(actor) and role in {Role.COORDINATOR, Role.OFFENDER_MANAGER}
        return Decision(ok, "police and probation coordinators and offender managers only")
    if action == Action.RESTRICT_PERSON:
        ok = area and role in {Role.COORDINATOR, Role.DATA_PROTECTION_OFFICER}
        return Decision(ok, "coordinators and data-protection officers only")
    if action == Action.RECORD_INTELLIGENCE:
        ok = area and _is_police(actor) and role in {Role.COORDINATOR, Role.OFFENDER_MANAGER}
        return Decision(ok, "police staff only")
    return Decision(False, "unknown action")


def people_visible_to(actor: Actor) -> QuerySet[Person]:
    """Every person the actor may view, as a queryset (for search and lists)."""
    from openiom.people.models import Person, Restriction

    if actor.membership is None or actor.role == Role.ADMINISTRATOR:
        return Person.objects.none()
    qs = Person.objects.all()
    if has_area_scope(actor):
        if actor.membership.hub_id is not None:
            # Their hub, plus anyone their agency works with elsewhere (as can() allows).
            working_with = active_involvements(actor).values("person_id")
            qs = qs.filter(Q(hub_id=actor.membership.hub_id) | Q(pk__in=working_with))
    else:
        qs = qs.filter(pk__in=active_involvements(actor).values("person_id"))
    restricted = Restriction.objects.values("person_id")
    allowed = Restriction.objects.filter(user_id=actor.user.pk).values("person_id")
    return qs.exclude(Q(pk__in=restricted) & ~Q(pk__in=allowed))


def _sees_all_records(actor: Actor, person: Person) -> bool:
    """Every agency's records about the person, not only the actor's own agency's.

    Area-scope staff do, except analysts outside police and probation: they analyse the area's
    people and offending, not their circumstances.
    """
    if not (has_area_scope(actor) and _in_hub(actor, person)):
        return False
    return not (actor.role == Role.ANALYST and not _is_core(actor))


def records_for(actor: Actor, person: Person, queryset: QuerySet) -> QuerySet:
    """Narrow a person's records to those the actor may see (partners: their own agency's)."""
    if _sees_all_records(actor, person):
        return queryset
    return queryset.filter(recorded_by_agency_id=actor.agency_id)


# --- The IOM lifecycle --------------------------------------------------------------------------
# - Refer a person: anyone who may view them (seed 001: "any agency or partner ... can refer").
# - List for panel, record a panel decision, register, de-register, edit cohort/RAG/exit policy:
#   IOM coordinators at core agencies (police, probation) who may view the person.
# - Set RAG (and record an exit plan): coordinators and offender managers at core agencies, and
#   the registration's lead worker, whatever their agency.
# - View the register: area-scope staff see their area's registrations, partners only the people
#   they work with.

COHORT_COORDINATOR_ONLY = {
    CohortAction.LIST_FOR_PANEL,
    CohortAction.RECORD_PANEL_DECISION,
    CohortAction.REGISTER,
    CohortAction.DEREGISTER,
}


def _core_coordinator(actor: Actor) -> bool:
    return actor.role == Role.COORDINATOR and _is_core(actor)


def _core_case_manager(actor: Actor) -> bool:
    return actor.role in {Role.COORDINATOR, Role.OFFENDER_MANAGER} and _is_core(actor)


def _cohort_decision(
    actor: Actor,
    action: CohortAction,
    person: Person | None,
    registration: Registration | None,
) -> Decision:
    if actor.membership is None:
        return Decision(False, "no active agency role")
    if actor.role == Role.ADMINISTRATOR:
        return Decision(False, "administrators manage accounts, not people's records")
    coordinators = "IOM coordinators at police and probation only"
    if action == CohortAction.EDIT_POLICY:
        return Decision(_core_coordinator(actor), coordinators)
    if person is None and registration is not None:
        person = registration.person
    if person is None:
        if action == CohortAction.VIEW_REGISTER:
            scope = has_area_scope(actor)
            return Decision(
                True, "area scope" if scope else "only the people your agency works with"
            )
        if action in COHORT_COORDINATOR_ONLY:
            return Decision(_core_coordinator(actor), coordinators)
        raise ValueError(f"{action} needs a person")

    sees = can(actor, Action.VIEW_PERSON, person)
    if not sees or action in {CohortAction.REFER_PERSON, CohortAction.VIEW_REGISTER}:
        return sees
    if action in COHORT_COORDINATOR_ONLY:
        return Decision(_core_coordinator(actor), coordinators)
    if action == CohortAction.SET_RAG:
        if _core_case_manager(actor):
            return Decision(True, "police and probation coordinators and offender managers")
        if registration is not None and registration.lead_worker_id == actor.user.pk:
            return Decision(True, "the lead worker")
        return Decision(
            False,
            "police and probation coordinators and offender managers, and the lead worker, only",
        )
    return Decision(False, "unknown action")


# --- Identification scoring --------------------------------------------------------------------
# Coordinators and analysts with area scope run scoring, read candidate lists and publish
# scoring rule sets; the system (actor None: the weekly task, commands) may run and read only.

SCORING_ROLES = {Role.COORDINATOR, Role.ANALYST}


def _scoring_decision(actor: Actor | None, action: ScoringAction) -> Decision:
    if actor is None:
        ok = action in {ScoringAction.RUN_SCORING, ScoringAction.VIEW_SCORES}
        return Decision(ok, "the system may run scoring but not change policy")
    if actor.membership is None:
        return Decision(False, "no active agency role")
    ok = actor.role in SCORING_ROLES and has_area_scope(actor)
    return Decision(ok, "coordinators and analysts with area scope only")


# --- Impact evaluation and value for money ------------------------------------------------------
# Evaluations hold pseudonymised, aggregate results about the area's cohort: coordinators and
# analysts with area scope run them and publish value-for-money assumptions; any core IOM member
# with area scope reads them; every signed-in member of the partnership sees the board dashboard
# (counts only). The system (actor None: background tasks) may run and read.

EVALUATION_RUN_ROLES = {Role.COORDINATOR, Role.ANALYST}


def _evaluation_decision(actor: Actor | None, action: EvaluationAction) -> Decision:
    if actor is None:
        ok = action in {EvaluationAction.RUN_EVALUATION, EvaluationAction.VIEW_EVALUATION}
        return Decision(ok, "the system may run evaluations but not change assumptions")
    if actor.membership is None:
        return Decision(False, "no active agency role")
    if action == EvaluationAction.VIEW_DASHBOARD:
        return Decision(True, "every partnership member sees the board dashboard")
    if action == EvaluationAction.VIEW_EVALUATION:
        ok = has_area_scope(actor)
        return Decision(ok, "IOM members with area scope only")
    ok = actor.role in EVALUATION_RUN_ROLES and has_area_scope(actor)
    return Decision(ok, "coordinators and analysts with area scope only")


# --- Case management: contacts ------------------------------------------------------------------
# A worker records and sees contacts with a person their agency is working with (an active
# involvement); police and probation coordinators and offender managers with area scope (in
# their hub) may too, for anyone in the area. Who sees *which* contacts: core case managers see
# every agency's; everyone else (partner agencies) only their own agency's (contacts_visible).
# Analysts, data-protection officers and administrators record none.
# The police briefing (registered people per hub, status and latest RAG) is for police staff only
# (any role but administrator), limited to their hub when their membership names one. With a
# person (the IOM marker a force system shows on lookup) police staff must also be able to view
# that person. The handling note shown to police is set by the registration's lead worker or an
# IOM coordinator at police or probation, who can view the person.

CASEWORK_EXCLUDED_ROLES = {Role.ANALYST, Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR}


def _core_case_manager_for(actor: Actor, person: Person) -> bool:
    return _core_case_manager(actor) and has_area_scope(actor) and _in_hub(actor, person)


def _casework_decision(
    actor: Actor,
    action: CaseworkAction,
    person: Person | None,
    registration: Registration | None = None,
) -> Decision:
    if actor.membership is None:
        return Decision(False, "no active agency role")
    if action == CaseworkAction.VIEW_BRIEFING:
        # The daily briefing of registered people is for police colleagues (seed 002).
        ok = _is_police(actor) and actor.role != Role.ADMINISTRATOR
        if not ok:
            return Decision(False, "police staff only")
        if person is None:
            return Decision(True, "police staff")
        return can(actor, Action.VIEW_PERSON, person)
    if action == CaseworkAction.SET_HANDLING_NOTE:
        if registration is None:
            raise ValueError(f"{action} needs a registration")
        # Cheap checks first: the briefing asks this for every row it shows.
        lead = registration.lead_worker_id == actor.user.pk
        if not (lead or _core_coordinator(actor)):
            return Decision(
                False, "the lead worker and IOM coordinators at police and probation only"
            )
        sees = can(actor, Action.VIEW_PERSON, registration.person)
        if not sees:
            return sees
        return Decision(True, "the lead worker" if lead else "IOM coordinator")
    if person is None:
        raise ValueError(f"{action} needs a person")
    if actor.role in CASEWORK_EXCLUDED_ROLES:
        return Decision(False, "case workers only (analysts, DPOs and administrators record none)")
    if _restricted_out(actor, person):
        return Decision(False, "this record is restricted to named users")
    if _core_case_manager_for(actor, person):
        return Decision(True, "police and probation coordinators and offender managers")
    if _involved(actor, person):
        return Decision(True, "your agency is working with this person")
    return Decision(False, "your agency is not working with this person")


def sees_all_contacts(actor: Actor, person: Person) -> bool:
    """Every agency's contacts with the person (core case managers), not only the actor's agency's."""
    return _core_case_manager_for(actor, person)


# --- Management plans ---------------------------------------------------------------------------
# Seeing a plan follows contacts: core case managers (police and probation coordinators and
# offender managers in the person's hub) and workers whose agency is working with the person.
# *What* a partner sees is narrowed by the plans selectors: the person's basics, the plan's
# pathway needs and objectives, and only the actions their own agency owns.
# Writing the plan (needs, objectives, actions, agreement, reviews, printing "my plan") is for the
# registration's lead worker and core case managers. Updating an action's status and outcome is
# open to anyone who may see the plan; the service limits partners to their own agency's actions.


def _plan_editor(actor: Actor, registration: Registration) -> Decision:
    if actor.role in CASEWORK_EXCLUDED_ROLES:
        return Decision(False, "case workers only (analysts, DPOs and administrators edit none)")
    person = registration.person
    if _restricted_out(actor, person):
        return Decision(False, "this record is restricted to named users")
    if registration.lead_worker_id == actor.user.pk:
        return Decision(True, "the lead worker")
    if _core_case_manager_for(actor, person):
        return Decision(True, "police and probation coordinators and offender managers")
    return Decision(
        False,
        "the lead worker and police and probation coordinators and offender managers only",
    )


def _plan_decision(
    actor: Actor,
    action: PlanAction,
    person: Person | None,
    registration: Registration | None,
) -> Decision:
    if actor.membership is None:
        return Decision(False, "no active agency role")
    if action in {PlanAction.EDIT_PLAN, PlanAction.AGREE_PLAN, PlanAction.PRINT_MY_PLAN}:
        if registration is None:
            raise ValueError(f"{action} needs a registration")
        return _plan_editor(actor, registration)
    if person is None and registration is not None:
        person = registration.person
    if person is None:
        raise ValueError(f"{action} needs a person")
    # VIEW_PLAN and UPDATE_ACTION: whoever may see the person's casework.
    return _casework_decision(actor, CaseworkAction.VIEW_CONTACTS, person)


# --- Referrals to pathway providers ---------------------------------------------------------------
# Sending a referral is a plan-editing act (lead worker, core case managers). The receiving
# agency's workers respond to it (accept, decline, progress, complete, end early) and see the
# person's basics only while it is active: the providers service opens an involvement for the
# receiving agency when the referral is sent and ends it when the referral closes. Viewing: the
# referral's sender side sees all of the person's referrals; the receiving agency its own (the
# providers selectors narrow the list).


def _provider_referral_decision(
    actor: Actor,
    action: ProviderReferralAction,
    person: Person | None,
    registration: Registration | None,
) -> Decision:
    if actor.membership is None:
        return Decision(False, "no active agency role")
    if action == ProviderReferralAction.SEND:
        # Also the sender side's other acts (withdrawing, ending early) on the registration.
        if registration is None:
            raise ValueError(f"{action} needs a registration")
        return _plan_editor(actor, registration)
    if person is None and registration is not None:
        person = registration.person
    if person is None:
        if action == ProviderReferralAction.VIEW:
            # The inbox of referrals to the actor's agency (narrowed by the providers selectors).
            ok = actor.role not in CASEWORK_EXCLUDED_ROLES
            return Decision(ok, "case workers only (analysts, DPOs and administrators have none)")
        raise ValueError(f"{action} needs a person")
    if action == ProviderReferralAction.RESPOND:
        # The receiving agency's workers, through the involvement its referral opened (the
        # providers service also checks that the referral is to the actor's agency).
        if actor.role in CASEWORK_EXCLUDED_ROLES:
            return Decision(
                False, "case workers only (analysts, DPOs and administrators respond to none)"
            )
        if _restricted_out(actor, person):
            return Decision(False, "this record is restricted to named users")
        if _involved(actor, person):
            return Decision(True, "your agency is working with this person")
        return Decision(False, "only the receiving agency's workers, while the referral is active")
    return _casework_decision(actor, CaseworkAction.VIEW_CONTACTS, person)


# --- Caseloads and agency contribution ----------------------------------------------------------
# Every case worker sees their own, their team's and their agency's caseload (the lists are
# narrowed to people they may view); the whole cohort's caseload is for IOM coordinators at
# police and probation. Agency contribution (counts per agency per month, no person detail) is
# for coordinators at any agency and analysts with area scope.


def _caseload_decision(actor: Actor, action: CaseloadAction) -> Decision:
    if actor.membership is None:
        return Decision(False, "no active agency role")
    if action == CaseloadAction.VIEW_COHORT_CASELOAD:
        return Decision(_core_coordinator(actor), "IOM coordinators at police and probation only")
    if action == CaseloadAction.VIEW_CONTRIBUTION:
        ok = actor.role == Role.COORDINATOR or (
            actor.role == Role.ANALYST and has_area_scope(actor)
        )
        return Decision(ok, "coordinators and analysts with area scope only")
    ok = actor.role not in CASEWORK_EXCLUDED_ROLES
    return Decision(ok, "case workers only (analysts, DPOs and administrators hold no caseload)")
