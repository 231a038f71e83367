"""Who may change scoring rule sets and run scoring: coordinators and analysts with area scope.

Kept here until the lead folds it into openiom.access.policy; refusals are audited and raised
exactly as openiom.access.services.require does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from openiom.access.policy import Decision, has_area_scope
from openiom.access.services import AccessDenied
from openiom.accounts.models import Role
from openiom.audit.services import record

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor


class ScoringAction(StrEnum):
    PUBLISH_POLICY = "publish scoring policy"
    RUN_SCORING = "run scoring"
    VIEW_SCORES = "view scores"


SCORING_ROLES = {Role.COORDINATOR, Role.ANALYST}


def can_score(actor: Actor | None, action: ScoringAction) -> Decision:
    """None is the system (the weekly run, management commands), which may run scoring."""
    if actor is None:
        ok = action in {ScoringAction.RUN_SCORING, ScoringAction.VIEW_SCORES}
        return Decision(ok, "the system may run scoring but not change policy")
    if actor.membership is None:
        return Decision(False, "no active agency role")
    ok = actor.role in SCORING_ROLES and has_area_scope(actor)
    return Decision(ok, "coordinators and analysts with area scope only")


def require_scoring(actor: Actor | None, action: ScoringAction) -> None:
    """Raise AccessDenied (after auditing access.denied) unless the actor may do `action`."""
    decision = can_score(actor, action)
    if decision:
        return
    record(
        "access.denied",
        actor=actor,
        context={"action": str(action), "object": "scoring"},
        details={"action": str(action), "reason": decision.reason},
    )
    raise AccessDenied(action, decision)
