"""Enforcing the policy: refuse, and record the refusal in the audit trail.

Call require() *before* opening the transaction of the write it guards, so the audited refusal
is committed even though the action is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from openiom.access.policy import AnyAction, Decision, can
from openiom.audit.services import record

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.cohort.models import Registration
    from openiom.people.models import Person


class AccessDenied(PermissionDenied):
    def __init__(self, action: AnyAction | str, decision: Decision) -> None:
        super().__init__(f"You cannot {action}: {decision.reason}.")
        self.action = action
        self.reason = decision.reason


def deny(
    actor: Actor | None, action: AnyAction | str, decision: Decision, person: Person | None = None
) -> None:
    """Record the refusal in the audit trail and raise AccessDenied."""
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


def require(
    actor: Actor | None,
    action: AnyAction,
    person: Person | None = None,
    *,
    registration: Registration | None = None,
) -> None:
    decision = can(actor, action, person, registration=registration)
    if decision:
        return
    if person is None and registration is not None:
        person = registration.person
    deny(actor, action, decision, person)
