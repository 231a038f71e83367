"""Management plans (ASPIRE: assess, plan, implement, review, evaluate) for registered people.

One plan per registration: needs per resettlement pathway, strengths and readiness, objectives
(including the person's own goals in their words), actions owned by an agency and a named worker,
and agreement and reviews, each of which keeps an immutable snapshot (PlanVersion). Rows that
people edit carry a `version` for optimistic locking; every edit is logged field by field in
PlanEdit so a conflicting save can show what changed, who changed it and when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openiom.cohort.models import AppendOnly


class Pathway(models.Model):
    """A resettlement pathway: the seven (Home Office 2004), the women's two, and local extras."""

    code = models.SlugField(max_length=64, unique=True, db_comment="Short stable code (slug).")
    name = models.CharField(max_length=200, db_comment="Name as practitioners know it.")
    description = models.TextField(blank=True, db_comment="What the pathway covers.")
    source = models.TextField(
        db_comment="Where the pathway comes from (publication, or who added it locally and why)."
    )
    default_on = models.BooleanField(
        default=True,
        db_comment="True when every new plan assesses it; False for pathways chosen per person.",
    )
    is_active = models.BooleanField(
        default=True, db_comment="False when no longer offered for new needs (history kept)."
    )
    position = models.PositiveIntegerField(
        default=100, db_comment="Order in which pathways are listed (lowest first)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Coordinator who added a local pathway; empty for the seeded ones.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the pathway was added.")

    class Meta:
        db_table_comment = (
            "Resettlement pathways for needs assessment: the seven of the Reducing Re-offending "
            "National Action Plan (2004), the two women's pathways (NOMS 2009) and local extras."
        )
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AGREED = "agreed", "Agreed"


class Readiness(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"
    NOT_ASSESSED = "not_assessed", "Not assessed"


READINESS_FIELDS = {
    "readiness_motivated": "Motivated",
    "readiness_able": "Able",
    "readiness_relevant": "Finds it relevant",
    "readiness_capacity": "Has the capacity",
}


def _readiness_field(what: str) -> models.CharField:
    return models.CharField(
        max_length=16,
        choices=Readiness.choices,
        default=Readiness.NOT_ASSESSED,
        db_comment=f"Readiness (seed 003): {what} - yes, partly, no or not assessed.",
    )


class ManagementPlan(models.Model):
    """The management plan of one IOM registration."""

    registration = models.OneToOneField(
        "cohort.Registration",
        on_delete=models.CASCADE,
        related_name="management_plan",
        db_comment="IOM registration the plan is for.",
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="management_plans",
        db_comment="Person the plan is for (copied from the registration).",
    )
    status = models.CharField(
        max_length=8,
        choices=PlanStatus.choices,
        default=PlanStatus.DRAFT,
        db_index=True,
        db_comment="draft until first agreed, then agreed.",
    )
    agreed_at = models.DateTimeField(
        null=True, blank=True, db_comment="When the plan was last agreed; empty while draft."
    )
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who last agreed the plan (with the person).",
    )
    last_reviewed_on = models.DateField(
        null=True, blank=True, db_comment="Date of the latest review; empty if never reviewed."
    )
    next_review_date = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        db_comment="When the plan is next due for review (agreement or review + review period).",
    )
    changed_since_agreed = models.BooleanField(
        default=False,
        db_comment="True when the plan was edited after it was last agreed (agree it again).",
    )
    strengths = models.TextField(
        blank=True, db_comment="The person's strengths and protective factors."
    )
    readiness_motivated = _readiness_field("motivated")
    readiness_able = _readiness_field("able")
    readiness_relevant = _readiness_field("finds it relevant")
    readiness_capacity = _readiness_field("has the capacity")
    readiness_note = models.TextField(blank=True, db_comment="Note on the person's readiness.")
    version = models.PositiveIntegerField(
        default=1, db_comment="Optimistic-locking version of the plan's own fields and needs."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who started the plan.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who last changed the plan's own fields or needs.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the plan was started.")
    updated_at = models.DateTimeField(auto_now=True, db_comment="When the plan was last changed.")

    class Meta:
        db_table_comment = (
            "Management plans (one per IOM registration): status, agreement, review schedule, "
            "strengths and readiness; needs, objectives and actions hang off it."
        )
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Management plan of {self.person}"


class NeedStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    SUPPORT_REQUIRED = "support_required", "Support required"
    IN_PROGRESS = "in_progress", "In progress"
    SUPPORT_DECLINED = "support_declined", "Support declined"
    SUPPORT_NOT_REQUIRED = "support_not_required", "Support not required"
    DONE = "done", "Done"


class PathwayNeed(models.Model):
    """The assessed need of one plan on one pathway."""

    plan = models.ForeignKey(
        ManagementPlan,
        on_delete=models.CASCADE,
        related_name="needs",
        db_comment="Plan the need belongs to.",
    )
    pathway = models.ForeignKey(
        Pathway, on_delete=models.PROTECT, related_name="needs", db_comment="Pathway assessed."
    )
    status = models.CharField(
        max_length=24,
        choices=NeedStatus.choices,
        default=NeedStatus.NOT_STARTED,
        db_comment=(
            "not_started, support_required, in_progress, support_declined, "
            "support_not_required or done."
        ),
    )
    notes = models.TextField(blank=True, db_comment="What the need is and what is being done.")
    updated_at = models.DateTimeField(auto_now=True, db_comment="When last changed.")

    class Meta:
        db_table_comment = "Needs per resettlement pathway of each management plan, with status."
        ordering = ["pathway__position", "pathway__name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "pathway"], name="pathwayneed_once_per_plan")
        ]

    def __str__(self) -> str:
        return f"{self.pathway}: {self.get_status_display()}"


class Objective(models.Model):
    """An objective of the plan; `own_words` marks the person's own goals in their words."""

    plan = models.ForeignKey(
        ManagementPlan,
        on_delete=models.CASCADE,
        related_name="objectives",
        db_comment="Plan the objective belongs to.",
    )
    text = models.TextField(db_comment="The objective.")
    own_words = models.BooleanField(
        default=False,
        db_comment="True when this is the person's own goal, written in their words.",
    )
    pathway = models.ForeignKey(
        Pathway,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objectives",
        db_comment="Pathway the objective serves, if any.",
    )
    achieved = models.BooleanField(default=False, db_comment="True once achieved.")
    version = models.PositiveIntegerField(default=1, db_comment="Optimistic-locking version.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who added the objective.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who last changed it.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When added.")
    updated_at = models.DateTimeField(auto_now=True, db_comment="When last changed.")

    class Meta:
        db_table_comment = (
            "Objectives of management plans, including the person's own goals in their words."
        )
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text


class ActionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    NOT_DONE = "not_done", "Not done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_ACTION_STATUSES = frozenset({"planned", "in_progress"})


class ActionType(models.TextChoices):
    SUPPORT = "support", "Support"
    INTERVENTION = "intervention", "Intervention"
    DISRUPTION = "disruption", "Disruption and enforcement"


class PlanAction(models.Model):
    """An action of the plan, owned by an agency and (usually) a named worker."""

    plan = models.ForeignKey(
        ManagementPlan,
        on_delete=models.CASCADE,
        related_name="actions",
        db_comment="Plan the action belongs to.",
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="plan_actions",
        db_comment="Person the action is for (copied from the plan).",
    )
    owner_agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="plan_actions",
        db_comment="Agency responsible for the action.",
    )
    owner_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan_actions",
        db_comment="Named worker responsible; empty until the agency names one.",
    )
    action_type = models.CharField(
        max_length=16,
        choices=ActionType.choices,
        db_index=True,
        db_comment="support, intervention or disruption (disruption and enforcement).",
    )
    pathway = models.ForeignKey(
        Pathway,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="actions",
        db_comment="Pathway the action serves, if any.",
    )
    description = models.TextField(db_comment="What will be done.")
    due_date = models.DateField(db_index=True, db_comment="When it should be done by.")
    status = models.CharField(
        max_length=16,
        choices=ActionStatus.choices,
        default=ActionStatus.PLANNED,
        db_index=True,
        db_comment="planned, in_progress, done, not_done or cancelled.",
    )
    outcome = models.TextField(blank=True, db_comment="What happened (free text).")
    completed_on = models.DateField(
        null=True,
        blank=True,
        db_comment="Date the action became done, not done or cancelled; empty while open.",
    )
    additional = models.BooleanField(
        default=False,
        db_comment=(
            "True when the action is additional to what the person would get without IOM "
            "(additionality, costed by the evaluation)."
        ),
    )
    estimated_cost = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        db_comment="Estimated cost of the action in pounds; empty when not estimated.",
    )
    version = models.PositiveIntegerField(default=1, db_comment="Optimistic-locking version.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who added the action.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who last changed it.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the action was added.")
    updated_at = models.DateTimeField(auto_now=True, db_comment="When it was last changed.")

    class Meta:
        db_table_comment = (
            "Actions of management plans: owning agency and worker, type, pathway, due date, "
            "status and outcome, and whether additional to usual services (with estimated cost)."
        )
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="planaction_status_due"),
            models.Index(fields=["owner_agency", "created_at"], name="planaction_agency_created"),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES


class VersionKind(models.TextChoices):
    AGREED = "agreed", "Agreed"
    REVIEWED = "reviewed", "Reviewed"


class PlanVersion(AppendOnly):
    """An immutable snapshot of the plan taken at each agreement and review."""

    plan = models.ForeignKey(
        ManagementPlan,
        on_delete=models.CASCADE,
        related_name="versions",
        db_comment="Plan snapshotted.",
    )
    number = models.PositiveIntegerField(db_comment="1, 2, 3... in order for the plan.")
    kind = models.CharField(
        max_length=8, choices=VersionKind.choices, db_comment="agreed or reviewed."
    )
    snapshot = models.JSONField(
        db_comment="The plan as it stood: needs, objectives, actions, readiness, who, when."
    )
    note = models.TextField(blank=True, db_comment="Review notes (what was reviewed and decided).")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who agreed or reviewed the plan.",
    )
    recorded_by_agency = models.ForeignKey(
        "partnership.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency they acted for.",
    )
    recorded_at = models.DateTimeField(auto_now_add=True, db_comment="When recorded.")

    class Meta:
        db_table_comment = (
            "Append-only snapshots of management plans at each agreement and review (the plan's "
            "version history)."
        )
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="planversion_unique_number")
        ]

    def __str__(self) -> str:
        return f"Version {self.number} ({self.get_kind_display().lower()})"


class PlanEdit(AppendOnly):
    """One saved edit of a plan, objective or action: the fields it changed, old and new."""

    plan = models.ForeignKey(
        ManagementPlan,
        on_delete=models.CASCADE,
        related_name="edits",
        db_comment="Plan the edited row belongs to.",
    )
    object_type = models.CharField(
        max_length=16, db_comment="What was edited: plan, objective or action."
    )
    object_id = models.PositiveBigIntegerField(db_comment="Id of the edited row.")
    version = models.PositiveIntegerField(db_comment="The row's version after this edit.")
    changes = models.JSONField(
        db_comment="Changed fields: {field: [old value, new value]} (JSON values)."
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who made the edit.",
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_comment="When the edit was saved.")

    class Meta:
        db_table_comment = (
            "Append-only log of edits to plans, objectives and actions, field by field; used to "
            "show a conflicting editor what changed since they opened the page."
        )
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "version"], name="planedit_object")
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} v{self.version}"
