"""Staff memberships of agencies (agency + role + hub) and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "IOM coordinator"
    OFFENDER_MANAGER = "offender_manager", "Offender manager"
    PARTNER_WORKER = "partner_worker", "Partner worker"
    ANALYST = "analyst", "Analyst"
    DATA_PROTECTION_OFFICER = "dpo", "Data-protection officer"
    ADMINISTRATOR = "administrator", "Administrator"


class Membership(models.Model):
    """A user's role at an agency. A user may hold several; they act in one at a time."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="memberships",
        db_comment="The member of staff.",
    )
    agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="memberships",
        db_comment="Agency the user works for in this role.",
    )
    role = models.CharField(max_length=32, choices=Role.choices, db_comment="Role within IOM.")
    hub = models.ForeignKey(
        "partnership.Hub",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
        db_comment="Hub the user works in; empty means every hub in the partnership.",
    )
    team = models.ForeignKey(
        "partnership.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
        db_comment="Team within the agency, if any.",
    )
    job_title = models.CharField(
        max_length=200, blank=True, db_comment="Job title shown to colleagues."
    )
    is_active = models.BooleanField(
        default=True, db_comment="False once the role ends; kept for the audit trail."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the role was granted.")

    class Meta:
        db_table_comment = (
            "Users' roles at agencies; the access policy reads agency type, role and hub from here."
        )
        ordering = ["user__username", "agency__name"]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} at {self.agency}"


class ApiToken(models.Model):
    """A bearer token for the API. Only a hash is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        db_comment="Owner; the API acts as this user.",
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        db_comment="Agency role the token acts in.",
    )
    name = models.CharField(
        max_length=100, db_comment="What the token is for, as the owner named it."
    )
    prefix = models.CharField(
        max_length=12, db_index=True, db_comment="First characters of the token, to find it."
    )
    key_hash = models.CharField(max_length=128, unique=True, db_comment="SHA-256 of the token.")
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the token was issued.")
    expires_at = models.DateTimeField(
        null=True, blank=True, db_comment="When the token stops working; empty = no expiry."
    )
    last_used_at = models.DateTimeField(null=True, blank=True, db_comment="Last successful use.")
    revoked_at = models.DateTimeField(
        null=True, blank=True, db_comment="When the token was revoked."
    )

    class Meta:
        db_table_comment = "API bearer tokens (hashed)."

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
