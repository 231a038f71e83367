"""Shared model bases."""

from __future__ import annotations

from typing import Any

from django.db import models


class SourcedRecord(models.Model):
    """A record that came from (or was keyed into) a named system, owned by one agency.

    (source_system, source_id) makes imports idempotent; recorded_by_agency is how partner
    workers see what they recorded themselves (each agency keeps ownership of what it records).
    """

    source_system = models.CharField(
        max_length=40,
        blank=True,
        db_comment="System the record came from (e.g. pnc, ndelius, nomis, openiom).",
    )
    source_id = models.CharField(
        max_length=64,
        blank=True,
        db_comment="The record's id in its source system; empty for records keyed here.",
    )
    recorded_by_agency = models.ForeignKey(
        "partnership.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency that owns this record.",
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_comment="When the record was created here."
    )
    updated_at = models.DateTimeField(
        auto_now=True, db_comment="When the record was last changed here."
    )

    class Meta:
        abstract = True


def source_unique(model_name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["source_system", "source_id"],
        condition=~models.Q(source_id=""),
        name=f"{model_name}_unique_source_id",
    )


class VersionedPolicy(models.Model):
    """Policy as data: a numbered, dated, sourced version of a configurable rule set.

    A change never edits a version in use: it creates the next version (see
    `next_version_number`). Results (scores, suggestions, evaluations) store the version they used,
    so old results stay reproducible and explainable.
    """

    key = models.SlugField(
        max_length=64, db_comment="Which policy this is a version of (e.g. fixed-cohort-scoring)."
    )
    version = models.PositiveIntegerField(db_comment="Version number, 1 upwards, per key.")
    name = models.CharField(max_length=200, db_comment="Human-readable name of the policy.")
    effective_from = models.DateField(db_comment="Date from which this version applies.")
    source = models.TextField(
        db_comment="Where the values come from (document, paragraph, decision), with its status."
    )
    change_note = models.TextField(blank=True, db_comment="Why this version was made.")
    config = models.JSONField(db_comment="The rule set itself (weights, thresholds, windows).")
    created_by = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who made this version; empty for shipped defaults.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When this version was made.")

    class Meta:
        abstract = True
        ordering = ["key", "-version"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} (from {self.effective_from})"

    @classmethod
    def next_version_number(cls, key: str) -> int:
        latest = cls.objects.filter(key=key).aggregate(models.Max("version"))["version__max"]  # type: ignore[attr-defined]
        return (latest or 0) + 1

    @classmethod
    def in_force(cls, key: str, on: Any) -> Any:
        """The latest version effective on the given date, or None."""
        return (
            cls.objects.filter(key=key, effective_from__lte=on)  # type: ignore[attr-defined]
            .order_by("-effective_from", "-version")
            .first()
        )
