"""Scoring permissions: the rules live in the one access policy (openiom.access.policy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openiom.access.policy import SCORING_ROLES, Decision, ScoringAction, can
from openiom.access.services import require

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

__all__ = ["SCORING_ROLES", "ScoringAction", "can_score", "require_scoring"]


def can_score(actor: Actor | None, action: ScoringAction) -> Decision:
    """None is the system (the weekly run, management commands), which may run scoring."""
    return can(actor, action)


def require_scoring(actor: Actor | None, action: ScoringAction) -> None:
    """Raise AccessDenied (after auditing access.denied) unless the actor may do `action`."""
    require(actor, action)
