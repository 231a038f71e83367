"""Reads of referrals to pathway providers (audited).

Who sees which referrals of a person they may view:
- the sending side: police and probation coordinators and offender managers (in the person's
  hub) see all of them; a registration's lead worker sees that registration's; a sender sees
  those they sent;
- a receiving agency sees only the referrals to itself, and only while they are active: a
  closed referral vanishes for it (and with it, usually, its access to the person).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from openiom.access.policy import (
    Decision,
    ProviderReferralAction,
    people_visible_to,
    sees_all_contacts,
)
from openiom.access.services import deny, require
from openiom.audit.services import record
from openiom.providers.models import ACTIVE_STATES, ProviderReferral, ProviderReferralStateChange

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.people.models import Person

RELATED = (
    "person",
    "registration",
    "registration__lead_worker",
    "receiving_agency",
    "receiving_worker",
    "sent_by",
    "sending_agency",
)


def referrals_visible(actor: Actor, person: Person) -> QuerySet[ProviderReferral]:
    """The person's provider referrals the actor may see (see the module docstring). Unaudited;
    callers must first check ProviderReferralAction.VIEW on the person."""
    qs = ProviderReferral.objects.filter(person=person).select_related(*RELATED)
    if sees_all_contacts(actor, person):
        return qs
    if actor.agency_id is None:
        return qs.none()
    return qs.filter(
        Q(registration__lead_worker_id=actor.user.pk)
        | Q(sent_by_id=actor.user.pk)
        | Q(receiving_agency_id=actor.agency_id, state__in=ACTIVE_STATES)
    )


def person_referrals(*, actor: Actor, person: Person) -> list[ProviderReferral]:
    """The person's provider referrals the actor may see, newest first; audited."""
    require(actor, ProviderReferralAction.VIEW, person)
    referrals = list(referrals_visible(actor, person))
    record(
        "provider_referral.list_consulted",
        actor=actor,
        obj=person,
        person_id=person.pk,
        context={"person": str(person), "results": len(referrals)},
        details={"results": len(referrals)},
    )
    return referrals


def get_referral(*, actor: Actor, referral_id: int) -> ProviderReferral:
    """One referral the actor may see; audited. Raises ProviderReferral.DoesNotExist for an
    unknown id and AccessDenied (audited) when the actor may not see it."""
    referral = ProviderReferral.objects.select_related(*RELATED).get(pk=referral_id)
    person = referral.person
    require(actor, ProviderReferralAction.VIEW, person)
    if not referrals_visible(actor, person).filter(pk=referral.pk).exists():
        why = (
            "a closed referral is visible to the sending side only"
            if referral.receiving_agency_id == actor.agency_id
            else "this referral was not sent to your agency"
        )
        deny(actor, ProviderReferralAction.VIEW, Decision(False, why), person)
    record(
        "provider_referral.consulted",
        actor=actor,
        obj=referral,
        person_id=person.pk,
        context={"referral": referral.pk, "person": str(person)},
    )
    return referral


def history(referral: ProviderReferral) -> list[ProviderReferralStateChange]:
    """The referral's transitions, oldest first (shown with the referral it belongs to)."""
    return list(
        ProviderReferralStateChange.objects.filter(referral=referral).select_related(
            "changed_by", "changed_by_agency"
        )
    )


def agency_inbox(*, actor: Actor) -> list[ProviderReferral]:
    """Active referrals to the actor's agency about people the actor may see, oldest first
    (a referral naming another worker of the agency is theirs); audited."""
    require(actor, ProviderReferralAction.VIEW)
    if actor.agency_id is None:  # pragma: no cover - require() refuses actors without a role
        return []
    referrals = list(
        ProviderReferral.objects.filter(
            receiving_agency_id=actor.agency_id,
            state__in=ACTIVE_STATES,
            person__in=people_visible_to(actor),
        )
        .select_related(*RELATED)
        .order_by("sent_at", "id")
    )
    agency = actor.membership.agency.name if actor.membership else ""
    record(
        "provider_referral.inbox_consulted",
        actor=actor,
        context={"agency": agency, "results": len(referrals)},
        details={"results": len(referrals)},
    )
    return referrals
