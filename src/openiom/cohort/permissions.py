"""Who may do what in the cohort lifecycle (to be folded into openiom.access.policy later).

- Refer a person: anyone who may view them (partners refer the people they work with; police
  and probation staff anyone in their area) — seed 001: "any agency or partner ... can refer".
- List for panel, record a panel decision, register, de-register, edit cohort/RAG/de-registration
  policy: IOM coordinators at core agencies (police, probation) who may view the person.
- Set RAG (and record an exit plan): coordinators and offender managers at core agencies, and
  the registration's lead worker, whatever their agency.
- View the register: area-scope staff see their area's registrations, partners only the people
  they work with.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from openiom.access.policy import Action, Decision, can, has_area_scope
from openiom.access.services import AccessDenied
from openiom.accounts.models import Role
from openiom.audit.services import record

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.cohort.models import Registration
    from openiom.people.models import Person


class CohortAction(StrEnum):
    REFER_PERSON = "refer person"
    LIST_FOR_PANEL = "list referral for panel"
    RECORD_PANEL_DECISION = "record panel decision"
    REGISTER = "register"
    SET_RAG = "set RAG status"
    DEREGISTER = "de-register"
    EDIT_POLICY = "edit cohort policy"
    VIEW_REGISTER = "view cohort register"


COORDINATOR_ONLY = {
    CohortAction.LIST_FOR_PANEL,
    CohortAction.RECORD_PANEL_DECISION,
    CohortAction.REGISTER,
    CohortAction.DEREGISTER,
}


def _core_coordinator(actor: Actor) -> bool:
    m = actor.membership
    return (
        m is not None and actor.role == Role.COORDINATOR and m.agency.agency_type.is_statutory_core
    )


def _core_case_manager(actor: Actor) -> bool:
    m = actor.membership
    return (
        m is not None
        and actor.role in {Role.COORDINATOR, Role.OFFENDER_MANAGER}
        and m.agency.agency_type.is_statutory_core
    )


def can_cohort(
    actor: Actor,
    action: CohortAction,
    person: Person | None = None,
    *,
    registration: Registration | None = None,
) -> Decision:
    """Decide; never raises. Person-level actions need a person (or a registration)."""
    if actor.membership is None:
        return Decision(False, "no active agency role")
    if actor.role == Role.ADMINISTRATOR:
        return Decision(False, "administrators manage accounts, not people's records")
    if action == CohortAction.EDIT_POLICY:
        return Decision(_core_coordinator(actor), "IOM coordinators at police and probation only")
    if person is None and registration is not None:
        person = registration.person
    if person is None:
        if action == CohortAction.VIEW_REGISTER:
            reason = (
                "area scope"
                if has_area_scope(actor)
                else "partners see only the people their agency works with"
            )
            return Decision(True, reason)
        if action in COORDINATOR_ONLY:
            return Decision(
                _core_coordinator(actor), "IOM coordinators at police and probation only"
            )
        raise ValueError(f"{action} needs a person")

    sees = can(actor, Action.VIEW_PERSON, person)
    if not sees:
        return sees
    if action in {CohortAction.REFER_PERSON, CohortAction.VIEW_REGISTER}:
        return sees
    if action in COORDINATOR_ONLY:
        return Decision(_core_coordinator(actor), "IOM coordinators at police and probation only")
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


def deny(actor: Actor, action: CohortAction, decision: Decision, person: Person | None) -> None:
    """Audit the refusal (as access.services.require does) and raise AccessDenied.

    Call before the transaction of the write it guards, so the refusal is committed.
    """
    record(
        "access.denied",
        actor=actor,
        obj=person,
        person_id=person.pk if person is not None else None,
        context={
            "action": str(action),
            "object": f"person {person.pk}" if person else "the service",
        },
        details={"action": str(action), "reason": decision.reason},
    )
    raise AccessDenied(action, decision)


def require_cohort(
    actor: Actor,
    action: CohortAction,
    person: Person | None = None,
    *,
    registration: Registration | None = None,
) -> None:
    decision = can_cohort(actor, action, person, registration=registration)
    if decision:
        return
    if person is None and registration is not None:
        person = registration.person
    deny(actor, action, decision, person)
