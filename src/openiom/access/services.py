"""Enforcing the policy: refuse, and record the refusal in the audit trail.

Call require() *before* opening the transaction of the write it guards, so the audited refusal
is committed even though the action is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from openiom.access.policy import Action, Decision, can
from openiom.audit.services import record

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.people.models import Person


class AccessDenied(PermissionDenied):
    def __init__(self, action: Action | str, decision: Decision) -> None:
        super().__init__(f"You cannot {action}: {decision.reason}.")
        self.action = action
        self.reason = decision.reason


def require(actor: Actor, action: Action, person: Person | None = None) -> None:
    decision = can(actor, action, person)
    if decision:
        return
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
