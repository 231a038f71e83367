"""Stored evaluations: configuration, data fingerprint, software versions, progress and result.

An evaluation is requested (queued), run in the background (running), and ends done or failed.
Once it has ended it is never changed: running it again makes a new evaluation that points back
at the one it repeats (`rerun_of`). Its configuration is plain JSON (the `EvaluationSpec`, the
`TreatmentSelection` and the as-of date in database mode; the stored input table in flat-table
mode), so the same configuration on the same data gives the same numbers (tests/evaluation/
test_services.py shows it).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class EvaluationKind(models.TextChoices):
    DATABASE = "database", "The area's data (database mode)"
    TABLE = "table", "An uploaded table (flat-table mode)"


class EvaluationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ENDED = (EvaluationStatus.DONE, EvaluationStatus.FAILED)


class InputTable(models.Model):
    """A table uploaded for a flat-table evaluation, kept (only the columns used) for re-runs."""

    name = models.CharField(max_length=200, db_comment="File name as uploaded (made safe).")
    sha256 = models.CharField(max_length=64, db_comment="SHA-256 of the file as uploaded.")
    size_bytes = models.PositiveBigIntegerField(db_comment="Size of the file as uploaded.")
    rows = models.PositiveIntegerField(db_comment="Rows in the table.")
    columns = models.JSONField(
        db_comment="Names of the columns kept (those the evaluation uses), in order."
    )
    parquet = models.BinaryField(
        db_comment="The kept columns as a Parquet file: what re-runs read, so they see the same data."
    )
    fingerprint = models.CharField(
        max_length=64,
        db_comment="Order-independent SHA-256 fingerprint of the kept columns' values.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who uploaded it; empty when loaded by the system.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When it was uploaded.")

    class Meta:
        db_table_comment = (
            "Tables uploaded for flat-table evaluations (pseudonymised extracts), reduced to the "
            "columns used and stored as Parquet so an evaluation can be re-run on the same data."
        )
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.rows} rows)"


class EvaluationQuerySet(models.QuerySet["Evaluation"]):
    def update(self, **kwargs: Any) -> int:
        if self.filter(status__in=ENDED).exists():
            raise PermissionError("A finished evaluation cannot be changed; run it again instead")
        return super().update(**kwargs)

    def delete(self) -> NoReturn:
        raise PermissionError("Evaluations are kept: they cannot be deleted")


class Evaluation(models.Model):
    """One matched-comparison evaluation: who asked, what, on which data, and what it found."""

    partnership = models.ForeignKey(
        "partnership.Partnership",
        on_delete=models.PROTECT,
        related_name="evaluations",
        db_comment="Partnership area the evaluation is about.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who asked for it; empty when the system ran it.",
    )
    title = models.CharField(max_length=200, db_comment="Title shown on the page and the report.")
    kind = models.CharField(
        max_length=10,
        choices=EvaluationKind.choices,
        db_comment="database: the area's data chosen by a treatment selection; table: an uploaded table.",
    )
    config = models.JSONField(
        db_comment=(
            "Configuration as plain JSON: spec (EvaluationSpec), selection (TreatmentSelection), "
            "as_of and covariates in database mode; enough to re-run to the same numbers."
        )
    )
    input_table = models.ForeignKey(
        InputTable,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evaluations",
        db_comment="The uploaded table (flat-table mode only).",
    )
    data_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        db_comment="SHA-256 fingerprint of the input frame the engine saw (order-independent).",
    )
    input_rows = models.PositiveIntegerField(
        null=True, blank=True, db_comment="Rows in the input frame the engine saw."
    )
    software = models.JSONField(
        default=dict,
        db_comment="Versions of openiom, Python and the numerical libraries that produced the result.",
    )
    status = models.CharField(
        max_length=8,
        choices=EvaluationStatus.choices,
        default=EvaluationStatus.QUEUED,
        db_index=True,
        db_comment="queued, running, done or failed.",
    )
    progress_stage = models.CharField(
        max_length=200, blank=True, db_comment="What the evaluation is doing now."
    )
    progress_fraction = models.FloatField(
        default=0.0, db_comment="Fraction complete, 0 to 1, for the progress display."
    )
    result = models.JSONField(
        null=True,
        blank=True,
        db_comment="EvaluationResult.to_dict(): attrition, balance, estimates, survival, sensitivity, headline.",
    )
    error = models.TextField(
        blank=True, db_comment="Why it failed (row, column and reason for bad data)."
    )
    rerun_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reruns",
        db_comment="The evaluation this one repeats with the same configuration, if any.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When it was requested.")
    started_at = models.DateTimeField(null=True, blank=True, db_comment="When it started running.")
    finished_at = models.DateTimeField(
        null=True, blank=True, db_comment="When it finished or failed."
    )

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        db_table_comment = (
            "Impact evaluations (matched comparison): configuration, data fingerprint, software "
            "versions, progress and result. Never changed once done or failed; a re-run is a new row."
        )
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-finished_at"], name="evaluation_status_finished")
        ]

    def __str__(self) -> str:
        return f"Evaluation {self.pk}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored in ENDED:
                raise PermissionError(
                    "A finished evaluation cannot be changed; run it again instead"
                )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Evaluations are kept: they cannot be deleted")

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def percent(self) -> int:
        return max(0, min(100, round(100 * (self.progress_fraction or 0.0))))

    @property
    def headline(self) -> str:
        return str((self.result or {}).get("headline", ""))
