"""Import batches of partner extracts, their errors, and possible person matches awaiting a human."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

# A running batch with no sign of progress for this long is shown as stalled (and failed by the
# next background import); override with settings.IMPORT_STALLED_AFTER_SECONDS.
DEFAULT_STALLED_AFTER_SECONDS = 15 * 60


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    VALIDATING = "validating", "Checking"
    IMPORTING = "importing", "Importing"
    COMPLETED = "completed", "Imported"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class ImportBatch(models.Model):
    """One upload of one or more extract files; imported all together or not at all."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who uploaded or ran the import.",
    )
    agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="import_batches",
        db_comment="Agency whose extract this is; it owns the imported records.",
    )
    files = models.JSONField(
        default=list,
        db_comment="The files: name, record type, size in bytes, rows and SHA-256 of each.",
    )
    checksum = models.CharField(
        max_length=64,
        db_index=True,
        db_comment="SHA-256 over the files' names and checksums, to spot repeat uploads.",
    )
    status = models.CharField(
        max_length=16,
        choices=BatchStatus.choices,
        default=BatchStatus.PENDING,
        db_comment="pending, validating, importing, completed, rejected (errors in the files) "
        "or failed (stopped by an unexpected error; nothing imported).",
    )
    counts = models.JSONField(
        default=dict,
        db_comment="Per record type: rows created, updated, unchanged, linked and held for a match.",
    )
    error_count = models.PositiveIntegerField(
        default=0, db_comment="Number of errors found (only the first ones are stored)."
    )
    message = models.CharField(
        max_length=500, blank=True, db_comment="Summary of the outcome shown to the user."
    )
    rows_total = models.PositiveIntegerField(
        default=0, db_comment="Rows to process, for the progress display."
    )
    rows_done = models.PositiveIntegerField(
        default=0, db_comment="Rows processed so far, for the progress display."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the upload was made.")
    started_at = models.DateTimeField(
        null=True, blank=True, db_comment="When checking the files began."
    )
    finished_at = models.DateTimeField(
        null=True, blank=True, db_comment="When the batch was imported, rejected or failed."
    )
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        db_comment="Last sign of life of the import while it runs, to spot a stalled one.",
    )
    task_id = models.CharField(
        max_length=64,
        blank=True,
        db_comment="Id of the background task importing the batch (empty if run directly).",
    )

    class Meta:
        db_table_comment = (
            "Uploads of partner extracts (people, offences, custody...), all-or-nothing."
        )
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {BatchStatus.COMPLETED, BatchStatus.REJECTED, BatchStatus.FAILED}

    @property
    def last_seen(self) -> dt.datetime | None:
        """Latest sign of life: heartbeat, start or upload."""
        return self.heartbeat_at or self.started_at or self.created_at

    @property
    def stalled(self) -> bool:
        """Unfinished with no sign of life for a long time: running without progress, or
        waiting for a worker that has not taken it."""
        if self.is_finished or self.last_seen is None:
            return False
        return timezone.now() - self.last_seen > stalled_after()

    @property
    def percent_done(self) -> int:
        if not self.rows_total:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.rows_done / self.rows_total))


class ImportRowError(models.Model):
    """One problem found in a rejected batch (named ImportRowError to avoid Python's ImportError)."""

    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="errors",
        db_comment="Batch the error was found in.",
    )
    file_name = models.CharField(max_length=255, db_comment="File the error is in.")
    row = models.PositiveIntegerField(
        null=True,
        blank=True,
        db_comment="Row as a spreadsheet numbers it (header = 1); empty for whole-file errors.",
    )
    column = models.CharField(max_length=200, blank=True, db_comment="Column name, if any.")
    value = models.CharField(
        max_length=200, blank=True, db_comment="The offending value, truncated to 200 characters."
    )
    message = models.CharField(max_length=1000, db_comment="What is wrong, in plain English.")

    class Meta:
        db_table_comment = (
            "Errors that caused an import batch to be rejected (first 1,000 per batch)."
        )
        ordering = ["id"]

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row else ""
        col = f"column {self.column}: " if self.column else ""
        return f"{self.file_name}: {where}{col}{self.message}"


class MatchStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    RESOLVED = "resolved", "Resolved"


class MatchDecision(models.TextChoices):
    NONE = "", "None yet"
    MERGE = "merge", "Same person: merged into the existing record"
    NEW = "new", "Different person: created a new record"


class PendingMatch(models.Model):
    """An incoming person who matches an existing one only on name and date of birth.

    Neither merged nor created until someone decides; their records in the batch wait here too.
    """

    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        related_name="pending_matches",
        db_comment="Batch (latest) that brought the incoming person.",
    )
    source_system = models.CharField(max_length=40, db_comment="Incoming person's source system.")
    source_id = models.CharField(max_length=64, db_comment="Incoming person's id in that system.")
    incoming = models.JSONField(
        db_comment="The incoming people row and the records held with it, by record type.",
    )
    candidate = models.ForeignKey(
        "people.Person",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_comment="Existing person with the same normalised name and date of birth.",
    )
    candidate_ids = models.JSONField(
        default=list, db_comment="Every existing person matching on name and date of birth."
    )
    status = models.CharField(
        max_length=16,
        choices=MatchStatus.choices,
        default=MatchStatus.PENDING,
        db_comment="pending or resolved.",
    )
    decision = models.CharField(
        max_length=8,
        choices=MatchDecision.choices,
        blank=True,
        default="",
        db_comment="merge (same person) or new (different person).",
    )
    resolved_person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_comment="Person the incoming row became or was merged into.",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who decided.",
    )
    resolved_at = models.DateTimeField(null=True, blank=True, db_comment="When it was decided.")
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When it was queued.")

    class Meta:
        db_table_comment = (
            "Incoming people matching an existing person only by name and date of birth, "
            "held (with their records) until someone confirms merge or new person."
        )
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "source_id"],
                condition=models.Q(status="pending"),
                name="pendingmatch_one_pending_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"Possible match {self.source_system}:{self.source_id}"

    @property
    def person_row(self) -> dict:
        return dict(self.incoming.get("person", {}))

    @property
    def held_counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.incoming.get("records", {}).items()}


def stalled_after() -> dt.timedelta:
    return dt.timedelta(
        seconds=getattr(settings, "IMPORT_STALLED_AFTER_SECONDS", DEFAULT_STALLED_AFTER_SECONDS)
    )
