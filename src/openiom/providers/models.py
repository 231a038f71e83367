"""Referrals to pathway providers: housing, treatment, employment, mentoring, mental health.

A referral is sent under a person's IOM registration to a receiving agency (optionally a named
worker). Sending it opens an involvement for the receiving agency, which is what lets its
workers see the person's basics; closing it ends that involvement, so the provider's access
lasts only while the referral is active. Each referral records its lawful basis for sharing:
the person's consent or a legal basis for sharing without consent.

States: sent → accepted → in progress → completed; a sent referral may be declined by the
provider or withdrawn by the sender (also once accepted, before the work starts); an accepted
or in-progress referral may be ended early by either side. The history is append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiom.cohort.models import AppendOnly


class ServiceType(models.TextChoices):
    HOUSING = "housing", "Housing"
    DRUG_ALCOHOL = "drug_alcohol", "Drug and alcohol treatment"
    EMPLOYMENT = "employment", "Employment, training and education"
    MENTORING = "mentoring", "Mentoring"
    MENTAL_HEALTH = "mental_health", "Mental health"
    OTHER = "other", "Other"


class ProviderReferralState(models.TextChoices):
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    ENDED_EARLY = "ended_early", "Ended early"
    WITHDRAWN = "withdrawn", "Withdrawn"

    @classmethod
    def active_states(cls) -> list[str]:
        return [cls.SENT, cls.ACCEPTED, cls.IN_PROGRESS]

    @classmethod
    def closed_states(cls) -> list[str]:
        return [cls.COMPLETED, cls.DECLINED, cls.ENDED_EARLY, cls.WITHDRAWN]


ACTIVE_STATES = ProviderReferralState.active_states()
# Closing states that need a reason (completion takes an optional note instead).
REASON_STATES = ["declined", "ended_early", "withdrawn"]


class ConsentMethod(models.TextChoices):
    SIGNED_FORM = "signed_form", "Written: signed consent form"
    VERBAL = "verbal", "Verbal: recorded on the case file"
    ELECTRONIC = "electronic", "Electronic: email or online form"


class LegalBasis(models.TextChoices):
    CDA_S115 = "cda_1998_s115", "Crime and Disorder Act 1998 s115"
    PUBLIC_TASK = (
        "ukgdpr_6_1_e_dpa_sch1_p6",
        "UK GDPR Art 6(1)(e) public task with DPA 2018 Sch 1 para 6",
    )
    OMA_S14 = "oma_2007_s14", "Offender Management Act 2007 s14"
    OTHER = "other", "Other (describe in the detail)"


class ProviderReferral(models.Model):
    """A referral of a registered person to a pathway provider agency."""

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="provider_referrals",
        db_comment="Person referred (the registration's person).",
    )
    registration = models.ForeignKey(
        "cohort.Registration",
        on_delete=models.CASCADE,
        related_name="provider_referrals",
        db_comment="IOM registration the referral is made under.",
    )
    service_type = models.CharField(
        max_length=16,
        choices=ServiceType.choices,
        db_comment=(
            "Service asked for: housing, drug_alcohol (treatment), employment (training and "
            "education), mentoring, mental_health, other."
        ),
    )
    receiving_agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="provider_referrals_received",
        db_comment="Provider agency the referral is sent to.",
    )
    receiving_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="provider_referrals_received",
        db_comment="Named worker at the receiving agency; empty means the agency as a whole.",
    )
    reason = models.TextField(db_comment="Why the person is referred: the need and what is asked.")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="provider_referrals_sent",
        db_comment="Worker who sent the referral.",
    )
    sending_agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="provider_referrals_sent",
        db_comment="Agency the sender acted for.",
    )
    sent_at = models.DateTimeField(auto_now_add=True, db_comment="When the referral was sent.")
    consent_given_on = models.DateField(
        null=True,
        blank=True,
        db_comment="Date the person consented to the sharing; empty when shared without consent.",
    )
    consent_recorded_how = models.CharField(
        max_length=16,
        choices=ConsentMethod.choices,
        blank=True,
        db_comment="How the consent was recorded: signed_form, verbal, electronic; empty if none.",
    )
    legal_basis = models.CharField(
        max_length=32,
        choices=LegalBasis.choices,
        blank=True,
        db_comment=(
            "Legal basis for sharing without consent (cda_1998_s115, ukgdpr_6_1_e_dpa_sch1_p6, "
            "oma_2007_s14, other); empty when the person consented."
        ),
    )
    legal_basis_detail = models.TextField(
        blank=True,
        db_comment="Detail of the legal basis (required for 'other'): why sharing is necessary.",
    )
    state = models.CharField(
        max_length=16,
        choices=ProviderReferralState.choices,
        default=ProviderReferralState.SENT,
        db_index=True,
        db_comment=(
            "Where the referral is: sent, accepted, in_progress (active); completed, declined, "
            "ended_early, withdrawn (closed)."
        ),
    )
    closing_reason = models.TextField(
        blank=True,
        db_comment=(
            "Why it was declined, ended early or withdrawn; for completion an optional note."
        ),
    )
    closed_at = models.DateTimeField(
        null=True, blank=True, db_comment="When it reached a closed state; empty while active."
    )
    involvement = models.ForeignKey(
        "people.Involvement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_comment=(
            "Involvement opened for the receiving agency when the referral was sent (its access "
            "to the person); ended when the referral closes."
        ),
    )

    class Meta:
        db_table_comment = (
            "Referrals of registered people to pathway providers (housing, treatment, "
            "employment, mentoring, mental health) with state, lawful basis for sharing and the "
            "receiving agency's involvement."
        )
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["receiving_agency", "state"], name="provref_receiving_state"),
            models.Index(fields=["person", "sent_at"], name="provref_person_sent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(consent_given_on__isnull=False) & ~Q(consent_recorded_how=""))
                | ~Q(legal_basis=""),
                name="provref_lawful_basis_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(legal_basis="other") | ~Q(legal_basis_detail=""),
                name="provref_other_basis_has_detail",
            ),
            models.CheckConstraint(
                condition=(Q(state__in=ACTIVE_STATES) & Q(closed_at__isnull=True))
                | (~Q(state__in=ACTIVE_STATES) & Q(closed_at__isnull=False)),
                name="provref_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=REASON_STATES) | ~Q(closing_reason=""),
                name="provref_closing_reason",
            ),
            models.UniqueConstraint(
                fields=["registration", "receiving_agency", "service_type"],
                condition=Q(state__in=ACTIVE_STATES),
                name="provref_one_active_per_service",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Provider referral {self.pk} of {self.person} to {self.receiving_agency} "
            f"({self.get_state_display()})"
        )

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def lawful_basis_text(self) -> str:
        parts = []
        if self.consent_given_on:
            how = self.get_consent_recorded_how_display()
            parts.append(f"Consent given on {self.consent_given_on:%d/%m/%Y} ({how})")
        if self.legal_basis:
            basis = self.get_legal_basis_display()
            if self.legal_basis == LegalBasis.OTHER:
                basis = "Other legal basis"
            detail = f": {self.legal_basis_detail}" if self.legal_basis_detail else ""
            parts.append(f"Without consent under {basis}{detail}")
        return "; ".join(parts)


class ProviderReferralStateChange(AppendOnly):
    """The provider referral's changelog: every transition, with who, when and why."""

    referral = models.ForeignKey(
        ProviderReferral,
        on_delete=models.CASCADE,
        related_name="state_changes",
        db_comment="Provider referral that changed.",
    )
    from_state = models.CharField(
        max_length=16,
        choices=ProviderReferralState.choices,
        blank=True,
        db_comment="State before; empty when the referral was sent.",
    )
    to_state = models.CharField(
        max_length=16, choices=ProviderReferralState.choices, db_comment="State after."
    )
    reason = models.TextField(
        blank=True, db_comment="Why the change was made (or the completion note)."
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who made the change.",
    )
    changed_by_agency = models.ForeignKey(
        "partnership.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency they acted for.",
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_comment="When the change was made.")

    class Meta:
        db_table_comment = "Append-only changelog of provider referral state transitions."
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or 'new'} → {self.to_state}"
