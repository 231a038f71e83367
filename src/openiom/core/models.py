"""Shared model bases."""

from __future__ import annotations

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
