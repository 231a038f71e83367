"""Reads for pages that have already audited the consultation they belong to.

The person page records exactly one `person.consulted` event per view; its IOM section must not
add another (selectors.person_iom_history records `cohort.history_consulted`). So these reads
check permission without auditing and must only be called from a view that has audited the
consultation of the same person itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openiom.cohort.models import (
    RagAssessment,
    Referral,
    ReferralState,
    Registration,
    RegistrationStatus,
)
from openiom.cohort.permissions import CohortAction, can_cohort

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.people.models import Person


@dataclass
class RegistrationSummary:
    registration: Registration
    status_changes: list[Any] = field(default_factory=list)
    rag_assessments: list[RagAssessment] = field(default_factory=list)

    @property
    def current_rag(self) -> RagAssessment | None:
        return self.rag_assessments[-1] if self.rag_assessments else None


@dataclass
class PersonIomSection:
    registrations: list[RegistrationSummary] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    may_refer: bool = False
    open_referral: Referral | None = None

    @property
    def current(self) -> list[RegistrationSummary]:
        return [r for r in self.registrations if r.registration.is_current]

    @property
    def ended(self) -> list[RegistrationSummary]:
        return [r for r in self.registrations if not r.registration.is_current]

    @property
    def can_be_referred(self) -> bool:
        return self.may_refer and self.open_referral is None and not self.current


def person_iom_section(*, actor: Actor, person: Person) -> PersonIomSection | None:
    """The person's IOM registrations, RAG history and referrals, or None if the actor may not
    see the IOM history. Not audited: see the module docstring."""
    if not can_cohort(actor, CohortAction.VIEW_REGISTER, person):
        return None
    section = PersonIomSection(
        may_refer=bool(can_cohort(actor, CohortAction.REFER_PERSON, person)),
        referrals=list(
            Referral.objects.filter(person=person)
            .select_related("referring_agency", "referred_by")
            .order_by("-created_at", "-id")
        ),
    )
    section.open_referral = next(
        (r for r in section.referrals if r.state in ReferralState.open_states()), None
    )
    registrations = (
        Registration.objects.filter(person=person)
        .select_related("cohort", "lead_agency", "lead_worker")
        .order_by("-start_date", "-id")
    )
    for reg in registrations:
        section.registrations.append(
            RegistrationSummary(
                registration=reg,
                status_changes=list(reg.status_changes.order_by("changed_on", "id")),
                rag_assessments=list(
                    reg.rag_assessments.select_related("assessed_by", "policy").order_by(
                        "assessed_on", "created_at", "id"
                    )
                ),
            )
        )
    return section


def current_registration_of(person: Person) -> Registration | None:
    return (
        Registration.objects.filter(person=person)
        .exclude(status=RegistrationStatus.DEREGISTERED)
        .select_related("cohort")
        .first()
    )
