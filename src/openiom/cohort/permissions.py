"""Cohort permissions: the rules live in the one access policy (openiom.access.policy).

These names are kept so cohort code reads naturally: can_cohort/require_cohort are the central
can/require with a CohortAction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openiom.access.policy import COHORT_COORDINATOR_ONLY as COORDINATOR_ONLY
from openiom.access.policy import CohortAction, Decision, can
from openiom.access.services import deny as _deny
from openiom.access.services import require

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.cohort.models import Registration
    from openiom.people.models import Person

__all__ = ["COORDINATOR_ONLY", "CohortAction", "can_cohort", "deny", "require_cohort"]


def can_cohort(
    actor: Actor,
    action: CohortAction,
    person: Person | None = None,
    *,
    registration: Registration | None = None,
) -> Decision:
    return can(actor, action, person, registration=registration)


def deny(actor: Actor, action: CohortAction, decision: Decision, person: Person | None) -> None:
    _deny(actor, action, decision, person)


def require_cohort(
    actor: Actor,
    action: CohortAction,
    person: Person | None = None,
    *,
    registration: Registration | None = None,
) -> None:
    require(actor, action, person, registration=registration)
