"""Reads for the import pages."""

from __future__ import annotations

from django.db.models import QuerySet

from openiom.imports.models import ImportBatch, ImportRowError, MatchStatus, PendingMatch


def recent_batches(*, limit: int = 50) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("agency", "created_by")[:limit]


def batch_errors(*, batch: ImportBatch) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(batch=batch).order_by("id")


def pending_matches() -> QuerySet[PendingMatch]:
    return PendingMatch.objects.filter(status=MatchStatus.PENDING).select_related(
        "candidate", "candidate__hub", "batch"
    )
