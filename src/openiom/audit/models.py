"""The audit trail: one append-only row per event, DPA 2018 s62 categories recorded explicitly."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit events are append-only and cannot be updated")

    def delete(self) -> NoReturn:
        raise PermissionError("Audit events are append-only and cannot be deleted")


class AuditEvent(models.Model):
    """Who did what to which record, when, from which request. Never updated, never deleted."""

    class Category(models.TextChoices):
        # Data Protection Act 2018 s62(1): the logged processing operations.
        COLLECTION = "collection", "Collection"
        ALTERATION = "alteration", "Alteration"
        CONSULTATION = "consultation", "Consultation"
        DISCLOSURE = "disclosure", "Disclosure"
        COMBINATION = "combination", "Combination"
        ERASURE = "erasure", "Erasure"
        # Security events outside s62 but needed to reconstruct sessions.
        SECURITY = "security", "Security"

    occurred_at = models.DateTimeField(
        default=timezone.now, db_index=True, db_comment="When the event happened (UTC)."
    )
    event_type = models.CharField(
        max_length=64,
        db_index=True,
        db_comment="Registered event type code, e.g. person.consulted (see openiom.audit.events).",
    )
    category = models.CharField(
        max_length=16,
        choices=Category.choices,
        db_index=True,
        db_comment="DPA 2018 s62 processing category, or security for sign-in/out and denials.",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="User who acted; empty for system processes (imports from the command line).",
    )
    actor_username = models.CharField(
        max_length=150,
        blank=True,
        db_comment="Username at the time, kept even if the account is later renamed.",
    )
    actor_agency = models.ForeignKey(
        "partnership.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency the user was acting for.",
    )
    actor_role = models.CharField(
        max_length=32, blank=True, db_comment="Role the user was acting in."
    )
    object_type = models.CharField(
        max_length=64,
        blank=True,
        db_comment="Kind of record acted on, as app_label.model (e.g. people.person).",
    )
    object_id = models.CharField(
        max_length=64, blank=True, db_comment="Primary key of the record acted on."
    )
    person_id = models.BigIntegerField(
        null=True,
        blank=True,
        db_index=True,
        db_comment="The person (nominal) the event concerns; no foreign key so erasure keeps the log.",
    )
    summary = models.CharField(
        max_length=500, db_comment="Human-readable description formatted by the event type."
    )
    before = models.JSONField(
        null=True, blank=True, db_comment="Field values before an alteration or erasure."
    )
    after = models.JSONField(
        null=True, blank=True, db_comment="Field values after a collection or alteration."
    )
    details = models.JSONField(
        default=dict,
        blank=True,
        db_comment="Event-specific context (search terms, import file, reason for denial...).",
    )
    request_id = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        db_comment="Id of the web or API request, to group events from one action.",
    )
    ip_address = models.GenericIPAddressField(
        null=True, blank=True, db_comment="Client address of the request, if any."
    )
    # The hash chain (tamper evidence): see openiom.audit.chain and `manage.py verify_audit`.
    sequence = models.BigIntegerField(
        null=True,
        blank=True,
        unique=True,
        db_comment=(
            "Position in the hash chain: 1 for the first event, then one more than the previous "
            "event's, with no gaps (a gap shows a deleted event)."
        ),
    )
    prev_hash = models.CharField(
        max_length=64,
        blank=True,
        db_comment=(
            "chain_hash of the previous event in the chain (64 zeros for the first event), "
            "so a deleted or inserted event breaks the link."
        ),
    )
    chain_hash = models.CharField(
        max_length=64,
        blank=True,
        db_comment=(
            "SHA-256 (hex) over prev_hash and a canonical JSON serialisation of this event's "
            "stored fields, so any altered field no longer matches."
        ),
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table_comment = (
            "Append-only audit trail (DPA 2018 s62 logs of collection, alteration, consultation, "
            "disclosure, combination and erasure, plus sign-in, sign-out and denied access). "
            "On PostgreSQL a trigger refuses UPDATE and DELETE; a SHA-256 hash chain "
            "(sequence, prev_hash, chain_hash) makes any altered, deleted or inserted row "
            "detectable by manage.py verify_audit."
        )
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.event_type} {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Only ever an INSERT of a new row (record() assigns the id before saving, for the hash).
        if not self._state.adding:
            raise PermissionError("Audit events are append-only and cannot be updated")
        kwargs["force_insert"] = True
        kwargs.pop("force_update", None)
        kwargs.pop("update_fields", None)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit events are append-only and cannot be deleted")
