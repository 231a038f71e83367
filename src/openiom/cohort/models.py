"""The IOM case lifecycle: cohorts, referrals, panel decisions, registrations, RAG, de-registration.

Words are the domain's own (iom-domain.md §3): a person is *referred*, *listed* for the selection
panel, *adopted* (or not) and *registered* in a cohort with a lead agency and lead worker; their RAG
status is reviewed; they are *de-registered* with a reason. Histories (state changes, status
changes, RAG assessments) are append-only: a correction is a new row, never an edit.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiom.core.models import VersionedPolicy


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError(f"{self.model.__name__} rows are append-only and cannot be updated")

    def delete(self) -> NoReturn:
        raise PermissionError(f"{self.model.__name__} rows are append-only and cannot be deleted")


class AppendOnly(models.Model):
    """History rows and policy versions: written once, never changed (erasure cascades past this)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(
                f"{type(self).__name__} rows are append-only: record a new one instead"
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError(f"{type(self).__name__} rows are append-only and cannot be deleted")


# --- Policy as data --------------------------------------------------------------------------


class CohortDefinition(AppendOnly, VersionedPolicy):
    """A version of a cohort's definition (key = the cohort, e.g. fixed, flex, free).

    config (validated by openiom.cohort.policies.CohortRules): description, eligibility
    (offence categories, neighbourhood crime, minimum score, ages, hubs), capacity,
    review_period_days, planned_registration_months.
    """

    class Meta(VersionedPolicy.Meta):
        db_table_comment = (
            "Cohort definitions (Fixed, Flex, Free and local strands), one row per version: "
            "eligibility rules, capacity, review period and planned registration period."
        )
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version"], name="cohortdefinition_unique_version"
            )
        ]

    def __str__(self) -> str:
        return VersionedPolicy.__str__(self)

    @property
    def rules(self) -> Any:
        from openiom.cohort.policies import CohortRules

        return CohortRules.from_config(self.config)


class RagPolicy(AppendOnly, VersionedPolicy):
    """A version of the RAG suggestion rules (config validated by policies.RagRules)."""

    class Meta(VersionedPolicy.Meta):
        db_table_comment = (
            "RAG (red/amber/green) suggestion rules, one row per version; each RAG assessment "
            "stores the version its suggestion used."
        )
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="ragpolicy_unique_version")
        ]
        verbose_name_plural = "RAG policies"

    def __str__(self) -> str:
        return VersionedPolicy.__str__(self)

    @property
    def rules(self) -> Any:
        from openiom.cohort.policies import RagRules

        return RagRules.from_config(self.config)


class DeregistrationPolicy(AppendOnly, VersionedPolicy):
    """A version of the de-registration (exit) rules (config validated by policies.ExitRules)."""

    class Meta(VersionedPolicy.Meta):
        db_table_comment = (
            "De-registration (exit) suggestion rules, one row per version: continuous green "
            "period, exit plan, long custodial sentence and reconsideration before release."
        )
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version"], name="deregistrationpolicy_unique_version"
            )
        ]
        verbose_name_plural = "de-registration policies"

    def __str__(self) -> str:
        return VersionedPolicy.__str__(self)

    @property
    def rules(self) -> Any:
        from openiom.cohort.policies import ExitRules

        return ExitRules.from_config(self.config)


# --- Referral ----------------------------------------------------------------------------------


class ReferralState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    LISTED = "listed", "Listed for panel"
    ADOPTED = "adopted", "Adopted"
    NOT_ADOPTED = "not_adopted", "Not adopted"
    WITHDRAWN = "withdrawn", "Withdrawn"

    @classmethod
    def open_states(cls) -> list[str]:
        return [cls.DRAFT, cls.SUBMITTED, cls.LISTED]


class Referral(models.Model):
    """A request by an agency that the selection panel consider a person for IOM."""

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="iom_referrals",
        db_comment="Person referred.",
    )
    proposed_cohort = models.ForeignKey(
        CohortDefinition,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Cohort the referrer proposes, if any; the panel decides.",
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="iom_referrals",
        db_comment="Worker who made the referral (told the outcome).",
    )
    referring_agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="iom_referrals",
        db_comment="Agency the referrer acted for.",
    )
    reason = models.TextField(db_comment="Why the referrer thinks the person should be on IOM.")
    evidence = models.TextField(
        blank=True, db_comment="Evidence offered (offending, intelligence, needs, engagement)."
    )
    state = models.CharField(
        max_length=16,
        choices=ReferralState.choices,
        default=ReferralState.DRAFT,
        db_index=True,
        db_comment="Where the referral is: draft, submitted, listed, adopted, not_adopted, withdrawn.",
    )
    previous_referral = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="re_referrals",
        db_comment="The earlier referral that was not adopted, when this is a re-referral.",
    )
    new_information = models.TextField(
        blank=True,
        db_comment="For a re-referral: what is new since the earlier referral was not adopted.",
    )
    panel_date = models.DateField(
        null=True, blank=True, db_comment="Date of the panel the referral is listed for."
    )
    outcome_reason = models.TextField(
        blank=True, db_comment="Why it was not adopted or withdrawn (the panel's or referrer's)."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the referral was made.")
    submitted_at = models.DateTimeField(
        null=True, blank=True, db_comment="When it was submitted to the coordinator."
    )
    closed_at = models.DateTimeField(
        null=True, blank=True, db_comment="When it reached a final state."
    )

    class Meta:
        db_table_comment = "Referrals of people to the IOM selection panel by any partner agency, with their state."
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(state__in=["draft", "submitted", "listed"]),
                name="referral_one_open_per_person",
            )
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Referral {self.pk} of {self.person} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in ReferralState.open_states()


class ReferralStateChange(AppendOnly):
    """The referral's changelog: every transition, with who, when and why."""

    referral = models.ForeignKey(
        Referral,
        on_delete=models.CASCADE,
        related_name="state_changes",
        db_comment="Referral that changed.",
    )
    from_state = models.CharField(
        max_length=16,
        choices=ReferralState.choices,
        blank=True,
        db_comment="State before; empty when the referral was created.",
    )
    to_state = models.CharField(
        max_length=16, choices=ReferralState.choices, db_comment="State after."
    )
    reason = models.TextField(blank=True, db_comment="Why the change was made.")
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
        db_table_comment = "Append-only changelog of referral state transitions."
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or 'new'} → {self.to_state}"


class Notification(models.Model):
    """A simple inbox message for a user (e.g. the outcome of their referral)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="iom_notifications",
        db_comment="User the message is for.",
    )
    text = models.CharField(max_length=500, db_comment="The message.")
    link = models.CharField(max_length=300, blank=True, db_comment="Path of the page it is about.")
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When it was sent.")
    read_at = models.DateTimeField(
        null=True, blank=True, db_comment="When the user read it; empty while unread."
    )

    class Meta:
        db_table_comment = "Users' inbox messages (referral outcomes and similar)."
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text


# --- Selection panel ----------------------------------------------------------------------------


class PanelOutcome(models.TextChoices):
    ADOPT = "adopt", "Adopt"
    NOT_ADOPT = "not_adopt", "Do not adopt"
    DEFER = "defer", "Defer"


class PanelDecision(models.Model):
    """The selection panel's decision on a referral, with rationale, attendance and dissent."""

    referral = models.ForeignKey(
        Referral,
        on_delete=models.CASCADE,
        related_name="panel_decisions",
        db_comment="Referral decided.",
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="iom_panel_decisions",
        db_comment="Person the decision is about.",
    )
    decision = models.CharField(
        max_length=16, choices=PanelOutcome.choices, db_comment="adopt, not_adopt or defer."
    )
    decided_on = models.DateField(db_comment="Date of the panel.")
    agencies_present: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "partnership.Agency",
        through="PanelAttendance",
        related_name="+",
        blank=True,
    )
    rationale = models.TextField(db_comment="The panel's reasons for the decision.")
    dissent = models.TextField(blank=True, db_comment="Any dissent, as recorded.")
    dissent_agency = models.ForeignKey(
        "partnership.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency that dissented, if any.",
    )
    cohort = models.ForeignKey(
        CohortDefinition,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Cohort (definition version) adopted into; empty unless adopted.",
    )
    lead_agency = models.ForeignKey(
        "partnership.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Lead agency chosen; empty unless adopted.",
    )
    lead_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Lead worker chosen; empty unless adopted.",
    )
    eligibility = models.JSONField(
        default=list,
        blank=True,
        db_comment="Eligibility check against the cohort's rules as shown at the decision.",
    )
    eligibility_override_reason = models.TextField(
        blank=True, db_comment="Why the panel adopted someone who did not meet a criterion."
    )
    over_capacity_reason = models.TextField(
        blank=True, db_comment="Why the panel adopted into a cohort already at capacity."
    )
    meeting_reference = models.CharField(
        max_length=100, blank=True, db_comment="Reference of the meeting, until meetings exist."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who recorded the decision.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When it was recorded.")

    class Meta:
        db_table_comment = (
            "Selection panel decisions on referrals (adopt, not adopt, defer) with rationale, "
            "agencies present and dissent."
        )
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.person} on {self.decided_on}"


class PanelAttendance(models.Model):
    decision = models.ForeignKey(
        PanelDecision,
        on_delete=models.CASCADE,
        related_name="attendance",
        db_comment="Panel decision.",
    )
    agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency present when the decision was made.",
    )

    class Meta:
        db_table_comment = "Agencies present at the panel for each decision."
        constraints = [
            models.UniqueConstraint(fields=["decision", "agency"], name="panelattendance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agency} at {self.decision}"


# --- Registration ---------------------------------------------------------------------------------


class RegistrationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    IN_CUSTODY = "in_custody", "In custody"
    SUSPENDED = "suspended", "Suspended"
    DEREGISTERED = "deregistered", "De-registered"


class DeregistrationReason(models.TextChoices):
    GREEN_WITH_EXIT_PLAN = "green_exit_plan", "Green for the set period with an exit plan"
    LONG_CUSTODY = "long_custody", "Long custodial sentence imposed"
    MOVED_AWAY = "moved_away", "Moved out of the area"
    DECEASED = "deceased", "Deceased"
    TRANSFERRED_TO_MAPPA = "mappa", "Transferred to MAPPA"
    RISK_REDUCED = "risk_reduced", "Risk reduced"
    OTHER = "other", "Other"


class Registration(models.Model):
    """A person's registration in a cohort: lead agency and worker, dates and current status."""

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="iom_registrations",
        db_comment="Person registered.",
    )
    cohort = models.ForeignKey(
        CohortDefinition,
        on_delete=models.PROTECT,
        related_name="registrations",
        db_comment="Cohort definition version the person was registered under.",
    )
    cohort_key = models.SlugField(
        max_length=64,
        db_comment="Cohort key (copied from the definition) so one current registration per cohort is enforced.",
    )
    referral = models.ForeignKey(
        Referral,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
        db_comment="Referral the registration came from.",
    )
    panel_decision = models.OneToOneField(
        PanelDecision,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registration",
        db_comment="Panel decision that adopted the person.",
    )
    lead_agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency with main responsibility for the plan.",
    )
    lead_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="iom_lead_registrations",
        db_comment="Lead worker.",
    )
    lead_involvement = models.ForeignKey(
        "people.Involvement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_comment="Involvement recorded for the lead agency at adoption (ended at de-registration).",
    )
    start_date = models.DateField(db_comment="Date registered.")
    review_date = models.DateField(db_comment="Next review date.")
    planned_end_date = models.DateField(
        db_comment="End of the planned registration period (e.g. 12 months)."
    )
    status = models.CharField(
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.ACTIVE,
        db_index=True,
        db_comment="Current status (the latest status change).",
    )
    status_since = models.DateField(db_comment="Date the current status began.")
    end_date = models.DateField(
        null=True, blank=True, db_comment="Date de-registered; empty while current."
    )
    deregistration_reason = models.CharField(
        max_length=20,
        choices=DeregistrationReason.choices,
        blank=True,
        db_comment="Why the person was de-registered.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who registered the person.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When recorded.")

    class Meta:
        db_table_comment = (
            "Registrations of people in IOM cohorts with lead agency, lead worker, review and "
            "planned end dates and current status."
        )
        constraints = [
            models.UniqueConstraint(
                fields=["person", "cohort_key"],
                condition=~Q(status="deregistered"),
                name="registration_one_current_per_person_cohort",
            ),
            models.CheckConstraint(
                condition=(Q(status="deregistered") & Q(end_date__isnull=False))
                | (~Q(status="deregistered") & Q(end_date__isnull=True)),
                name="registration_end_date_iff_deregistered",
            ),
        ]
        ordering = ["-start_date", "-id"]

    def __str__(self) -> str:
        return f"{self.person} in {self.cohort.name} from {self.start_date}"

    @property
    def is_current(self) -> bool:
        return self.status != RegistrationStatus.DEREGISTERED


class RegistrationStatusChange(AppendOnly):
    """Append-only status history: registered, in custody, suspended, active again, de-registered."""

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="status_changes",
        db_comment="Registration that changed.",
    )
    from_status = models.CharField(
        max_length=16,
        choices=RegistrationStatus.choices,
        blank=True,
        db_comment="Status before; empty at registration.",
    )
    to_status = models.CharField(
        max_length=16, choices=RegistrationStatus.choices, db_comment="Status after."
    )
    changed_on = models.DateField(db_comment="Date the change took effect.")
    reason = models.CharField(
        max_length=20,
        choices=DeregistrationReason.choices,
        blank=True,
        db_comment="De-registration reason, for de-registrations.",
    )
    note = models.TextField(blank=True, db_comment="Explanation of the change.")
    suggestion = models.JSONField(
        null=True,
        blank=True,
        db_comment="The exit suggestion shown when de-registering (rules, reasons, version).",
    )
    deregistration_policy = models.ForeignKey(
        DeregistrationPolicy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="De-registration policy version the suggestion used.",
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who recorded the change.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When recorded.")

    class Meta:
        db_table_comment = "Append-only history of registration status changes."
        ordering = ["changed_on", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status} on {self.changed_on}"


# --- RAG ----------------------------------------------------------------------------------------


class RagStatus(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


class RagAssessment(AppendOnly):
    """One RAG decision, kept with the suggestion shown at the time and the policy it used."""

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="rag_assessments",
        db_comment="Registration assessed.",
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="iom_rag_assessments",
        db_comment="Person assessed (copied for history queries).",
    )
    status = models.CharField(
        max_length=8, choices=RagStatus.choices, db_comment="Status decided: red, amber, green."
    )
    assessed_on = models.DateField(db_index=True, db_comment="Date the status applies from.")
    reason = models.TextField(db_comment="Why this status was decided.")
    suggested_status = models.CharField(
        max_length=8, choices=RagStatus.choices, db_comment="Status the rules suggested."
    )
    suggestion_reasons = models.JSONField(
        db_comment="Each rule's verdict and plain-English reason, as shown at the time."
    )
    evidence = models.JSONField(db_comment="The evidence the suggestion was computed from.")
    differs_from_suggestion = models.BooleanField(
        db_comment="True when the decision differs from the suggestion (a reason is then required)."
    )
    policy = models.ForeignKey(
        RagPolicy,
        on_delete=models.PROTECT,
        related_name="assessments",
        db_comment="RAG policy version the suggestion used.",
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who decided.",
    )
    assessed_by_agency = models.ForeignKey(
        "partnership.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency they acted for.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When recorded.")

    class Meta:
        db_table_comment = (
            "Append-only RAG history: each decision with the suggestion, reasons, evidence and "
            "policy version used."
        )
        ordering = ["assessed_on", "id"]
        indexes = [models.Index(fields=["registration", "assessed_on"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()} on {self.assessed_on}"


# --- Exit and reconsideration -------------------------------------------------------------------


class ExitPlan(AppendOnly):
    """The exit plan for a registration; a new row replaces the previous one (history kept)."""

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="exit_plans",
        db_comment="Registration the plan is for.",
    )
    plan = models.TextField(db_comment="The exit plan: support continuing after IOM, by whom.")
    recorded_on = models.DateField(db_comment="Date the plan was agreed or implemented.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who recorded it.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When recorded.")

    class Meta:
        db_table_comment = "Exit plans recorded on registrations (latest one applies)."
        ordering = ["recorded_on", "id"]

    def __str__(self) -> str:
        return f"Exit plan of {self.recorded_on}"


class ReconsiderationStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CONSIDERED = "considered", "Considered"
    CANCELLED = "cancelled", "Cancelled"


class ReconsiderationOutcome(models.TextChoices):
    RE_REFERRED = "re_referred", "Re-referred to the selection panel"
    NO_FURTHER_ACTION = "no_further_action", "No further action"
    CANCELLED = "cancelled", "Cancelled"


class Reconsideration(models.Model):
    """A case to bring back to the referral and review meeting (e.g. 12 months before release).

    Scheduled until the meeting's outcome is recorded: re-referred (a submitted referral to the
    selection panel is created and linked) or no further action → considered; cancelled (the
    sentence changed, the person died or moved away) → cancelled.
    """

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="iom_reconsiderations",
        db_comment="Person to reconsider.",
    )
    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="reconsiderations",
        db_comment="The registration that ended.",
    )
    custody_episode = models.ForeignKey(
        "people.CustodyEpisode",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_comment="Custody episode whose release the reconsideration anticipates.",
    )
    expected_release_date = models.DateField(
        null=True, blank=True, db_comment="Expected release date used to set the due date."
    )
    due_date = models.DateField(
        db_index=True, db_comment="When the case is due at the referral and review meeting."
    )
    reason = models.TextField(db_comment="Why the case is to be reconsidered.")
    status = models.CharField(
        max_length=16,
        choices=ReconsiderationStatus.choices,
        default=ReconsiderationStatus.SCHEDULED,
        db_comment="scheduled, considered or cancelled.",
    )
    outcome = models.CharField(
        max_length=20,
        choices=ReconsiderationOutcome.choices,
        blank=True,
        db_comment=(
            "What the referral and review meeting decided: re_referred, no_further_action or "
            "cancelled; empty while scheduled."
        ),
    )
    considered_on = models.DateField(
        null=True,
        blank=True,
        db_comment="Date the meeting considered the case (or it was cancelled); empty while scheduled.",
    )
    outcome_note = models.TextField(
        blank=True,
        default="",
        db_comment="What the meeting decided and why (required when the outcome is recorded).",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who recorded the outcome; empty while scheduled.",
    )
    closed_at = models.DateTimeField(
        null=True, blank=True, db_comment="When the outcome was recorded; empty while scheduled."
    )
    referral = models.OneToOneField(
        Referral,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reconsideration",
        db_comment="The referral to the selection panel made when the meeting re-referred the case.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who scheduled it.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When scheduled.")

    class Meta:
        db_table_comment = (
            "Cases scheduled to come back to the referral and review meeting (e.g. long custody: "
            "12 months before expected release), with the meeting's outcome once recorded."
        )
        ordering = ["due_date", "id"]
        constraints = [
            # Status and outcome agree; a re-referral always links its referral.
            models.CheckConstraint(
                condition=Q(
                    status="scheduled",
                    outcome="",
                    considered_on__isnull=True,
                    referral__isnull=True,
                )
                | Q(
                    status="considered",
                    outcome="re_referred",
                    considered_on__isnull=False,
                    referral__isnull=False,
                )
                | Q(
                    status="considered",
                    outcome="no_further_action",
                    considered_on__isnull=False,
                    referral__isnull=True,
                )
                | Q(
                    status="cancelled",
                    outcome="cancelled",
                    considered_on__isnull=False,
                    referral__isnull=True,
                ),
                name="reconsideration_status_matches_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"Reconsider {self.person} by {self.due_date}"


# --- Lead worker and lead agency changes ---------------------------------------------------------


class LeadWorkerChange(AppendOnly):
    """A change of lead worker (and possibly lead agency) within a registration.

    The registration holds the current lead; this history keeps every handover, so continuity of
    the lead worker (a mechanism the evaluation reads) can be measured.
    """

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="lead_changes",
        db_comment="Registration whose lead changed.",
    )
    from_agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Lead agency before the change.",
    )
    to_agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Lead agency after the change (the same agency when only the worker changed).",
    )
    from_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Lead worker before the change.",
    )
    to_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Lead worker after the change.",
    )
    changed_on = models.DateField(db_comment="Date the new lead worker took over.")
    reason = models.TextField(
        db_comment="Why the lead changed (e.g. worker left, licence ended, caseload balancing)."
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who recorded the change (an IOM coordinator).",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When recorded.")

    class Meta:
        db_table_comment = (
            "Append-only history of lead worker and lead agency changes within IOM registrations."
        )
        ordering = ["changed_on", "id"]
        indexes = [
            models.Index(fields=["registration", "changed_on"], name="leadchange_reg_changed_on")
        ]

    def __str__(self) -> str:
        return f"Lead changed on {self.changed_on}"

    @property
    def agency_changed(self) -> bool:
        return self.from_agency_id != self.to_agency_id
