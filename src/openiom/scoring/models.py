"""Identification scoring: versioned rule sets (policy as data) and append-only scoring runs."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from openiom.core.models import VersionedPolicy


class Strand(models.TextChoices):
    FIXED = "fixed", "Fixed (neighbourhood crime)"
    FLEX = "flex", "Flex (local priorities)"
    FREE = "free", "Free (local discretion)"


class _Immutable:
    """A published version is never changed: editing makes the next version."""

    pk: Any

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Published policy versions cannot be changed; publish a new one")
        super().save(*args, **kwargs)  # type: ignore[misc]


class ScoringPolicy(_Immutable, VersionedPolicy):
    """Component weights and parameters for scoring one cohort strand (see docs/scoring.md)."""

    strand = models.CharField(
        max_length=8, choices=Strand.choices, db_comment="Cohort strand this policy scores for."
    )

    class Meta(VersionedPolicy.Meta):
        db_table_comment = (
            "Versioned scoring rule sets per cohort strand: component weights, windows, caps, "
            "eligibility; never edited, a change makes the next version."
        )
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="scoringpolicy_key_version")
        ]
        verbose_name_plural = "scoring policies"


class CrimeHarmTable(_Immutable, VersionedPolicy):
    """Crime-harm days per offence category (Cambridge Crime Harm Index method)."""

    class Meta(VersionedPolicy.Meta):
        db_table_comment = (
            "Versioned crime-harm weights (days of imprisonment at the guideline starting point) "
            "per offence category and Home Office group, each row with its source and status."
        )
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="crimeharmtable_key_version")
        ]


class UnitCostTable(_Immutable, VersionedPolicy):
    """Home Office (Heeks et al. 2018) unit costs of crime per offence category."""

    class Meta(VersionedPolicy.Meta):
        db_table_comment = (
            "Versioned unit costs of crime (GBP, stated price year) per offence category and "
            "Home Office group, each row with its source and status."
        )
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="unitcosttable_key_version")
        ]


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class ScoringRun(models.Model):
    """One scoring of the area's offending population with one policy version on one date."""

    policy = models.ForeignKey(
        ScoringPolicy,
        on_delete=models.PROTECT,
        related_name="runs",
        db_comment="Scoring policy version used.",
    )
    harm_table = models.ForeignKey(
        CrimeHarmTable,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs",
        db_comment="Crime-harm table version used (pinned by the policy).",
    )
    cost_table = models.ForeignKey(
        UnitCostTable,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs",
        db_comment="Unit-cost table version used (pinned by the policy).",
    )
    as_of = models.DateField(db_comment="Date the scores are calculated at (start of follow-up).")
    input_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        db_comment="SHA-256 over the canonicalised input frames; equal inputs give equal hashes.",
    )
    input_counts = models.JSONField(
        default=dict, db_comment="Rows read per input (people, offences, arrests, ...)."
    )
    status = models.CharField(
        max_length=10,
        choices=RunStatus.choices,
        default=RunStatus.QUEUED,
        db_comment="Queued, running, finished or failed.",
    )
    progress = models.PositiveSmallIntegerField(
        default=0, db_comment="Percentage complete, for progress display."
    )
    progress_note = models.CharField(
        max_length=200, blank=True, db_comment="What the run is doing now."
    )
    people_scored = models.PositiveIntegerField(
        default=0, db_comment="People in the scored population."
    )
    candidates_stored = models.PositiveIntegerField(
        default=0, db_comment="Candidate rows stored for this run."
    )
    eligible_count = models.PositiveIntegerField(
        default=0, db_comment="People eligible under the policy's cohort rules."
    )
    error = models.TextField(blank=True, db_comment="Why the run failed, if it did.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who ran it; empty for the scheduled weekly run.",
    )
    trigger = models.CharField(
        max_length=16,
        default="on_demand",
        db_comment="on_demand, weekly or command: how the run was started.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the run was requested.")
    started_at = models.DateTimeField(null=True, blank=True, db_comment="When scoring started.")
    finished_at = models.DateTimeField(null=True, blank=True, db_comment="When scoring ended.")

    class Meta:
        db_table_comment = (
            "Scoring runs: policy version, date, input fingerprint, progress and counts. Results "
            "are never re-written: a new run is a new row."
        )
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Scoring run {self.pk} ({self.policy}, as of {self.as_of})"


class CandidateScoreQuerySet(models.QuerySet["CandidateScore"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("Candidate scores are append-only and cannot be updated")

    def delete(self) -> NoReturn:
        raise PermissionError("Candidate scores are append-only and cannot be deleted")


class CandidateScore(models.Model):
    """One person's score in one run: rank, total, component points and a readable breakdown."""

    run = models.ForeignKey(
        ScoringRun,
        on_delete=models.PROTECT,
        related_name="candidates",
        db_comment="Run the score belongs to.",
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="candidate_scores",
        db_comment="Person scored.",
    )
    rank = models.PositiveIntegerField(
        db_comment="Position in the run (1 = highest total; ties broken by person id)."
    )
    total = models.FloatField(db_comment="Total score: the sum of the component points.")
    eligible = models.BooleanField(
        db_comment="Meets the policy's cohort eligibility rules and has no excluding flag."
    )
    ogrs3_2yr = models.FloatField(
        null=True, blank=True, db_comment="OGRS3 2-year probability (0-1); empty if undefined."
    )
    ogrs3_band = models.CharField(
        max_length=10, blank=True, db_comment="OGRS3 band on the 2-year percentage."
    )
    components = models.JSONField(
        db_comment="Per component: raw value and points (see docs/scoring.md)."
    )
    breakdown = models.TextField(
        db_comment="Plain-English explanation of the score, largest contribution first."
    )
    flags = models.JSONField(
        default=list,
        db_comment="Flags: already_registered, long_custody, deceased, out_of_area.",
    )

    objects = CandidateScoreQuerySet.as_manager()

    class Meta:
        db_table_comment = (
            "Append-only scored candidates of a run, with components and breakdown, so a score "
            "can always be explained."
        )
        constraints = [
            models.UniqueConstraint(fields=["run", "person"], name="candidatescore_run_person"),
        ]
        indexes = [models.Index(fields=["run", "rank"])]
        ordering = ["run", "rank"]

    def __str__(self) -> str:
        return f"#{self.rank} {self.person_id} ({self.total:.1f})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Candidate scores are append-only and cannot be changed")
        super().save(*args, **kwargs)
