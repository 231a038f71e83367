"""The acting user: who they are and which agency role they act in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from openiom.accounts.models import Membership

SESSION_KEY = "openiom_membership_id"


@dataclass(frozen=True)
class Actor:
    user: Any  # the auth user model instance
    membership: Membership | None

    @property
    def agency_type(self) -> str:
        return self.membership.agency.agency_type_id if self.membership else ""

    @property
    def role(self) -> str:
        return self.membership.role if self.membership else ""

    @property
    def agency_id(self) -> int | None:
        return self.membership.agency_id if self.membership else None

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.membership})"


def active_memberships(user: Any) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user, is_active=True, agency__is_active=True)
        .select_related("agency", "agency__agency_type", "hub")
        .order_by("id")
    )


def actor_for_user(
    user: AbstractBaseUser | AnonymousUser | Any, membership_id: int | None = None
) -> Actor:
    """The user's chosen membership, else their first active one."""
    if not getattr(user, "is_authenticated", False):
        return Actor(user=user, membership=None)
    memberships = active_memberships(user)
    chosen = next((m for m in memberships if m.pk == membership_id), None)
    return Actor(user=user, membership=chosen or (memberships[0] if memberships else None))


def actor_for_request(request: Any) -> Actor:
    cached = getattr(request, "_openiom_actor", None)
    if cached is not None:
        return cached
    actor = actor_for_user(
        request.user, request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    )
    request._openiom_actor = actor
    return actor
