"""The partnership area, its local hubs, and the agencies and teams that take part."""

from __future__ import annotations

from django.db import models


class Partnership(models.Model):
    """One deployment serves one IOM partnership area (e.g. a county or police-force area)."""

    name = models.CharField(max_length=200, unique=True, db_comment="Name of the partnership area.")
    police_force = models.CharField(
        max_length=200, blank=True, db_comment="Police force covering the area."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the record was created.")

    class Meta:
        db_table_comment = "IOM partnership areas (one per deployment in practice)."

    def __str__(self) -> str:
        return self.name


class Hub(models.Model):
    """A local IOM hub within the partnership (seed 001: Sussex has four)."""

    partnership = models.ForeignKey(
        Partnership,
        on_delete=models.PROTECT,
        related_name="hubs",
        db_comment="Partnership the hub belongs to.",
    )
    name = models.CharField(max_length=200, db_comment="Hub name, usually the town it is based in.")
    code = models.SlugField(
        max_length=32, unique=True, db_comment="Short code used in imports and URLs."
    )

    class Meta:
        db_table_comment = "Local IOM hubs; people, cohorts and staff belong to hubs."
        constraints = [
            models.UniqueConstraint(fields=["partnership", "name"], name="hub_unique_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    """A partner organisation: a police force, probation region, council, housing provider..."""

    partnership = models.ForeignKey(
        Partnership,
        on_delete=models.PROTECT,
        related_name="agencies",
        db_comment="Partnership the agency takes part in.",
    )
    name = models.CharField(max_length=200, db_comment="Agency name as staff know it.")
    agency_type = models.ForeignKey(
        "reference.AgencyType",
        on_delete=models.PROTECT,
        related_name="agencies",
        db_comment="Kind of agency (police, probation, housing...), which drives the access policy.",
    )
    code = models.SlugField(max_length=32, unique=True, db_comment="Short code used in imports.")
    is_active = models.BooleanField(
        default=True, db_comment="False once the agency leaves the partnership."
    )

    class Meta:
        db_table_comment = "Agencies taking part in the partnership."
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="teams",
        db_comment="Agency the team belongs to.",
    )
    hub = models.ForeignKey(
        Hub,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teams",
        db_comment="Hub the team works in; empty for teams covering the whole partnership.",
    )
    name = models.CharField(max_length=200, db_comment="Team name.")

    class Meta:
        db_table_comment = "Teams within agencies, optionally tied to a hub."
        ordering = ["agency__name", "name"]

    def __str__(self) -> str:
        return f"{self.agency} – {self.name}"
