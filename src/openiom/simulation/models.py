"""A record of each synthetic area generated, so demo and benchmark data can be traced."""

from __future__ import annotations

from django.db import models


class SimulationRun(models.Model):
    """One run of `manage.py simulate`: its parameters, outputs and timing."""

    seed = models.BigIntegerField(
        db_comment="Random seed; the same seed and as-of date give the same area."
    )
    people = models.PositiveIntegerField(db_comment="Number of people simulated.")
    as_of = models.DateField(db_comment="Date the simulated records run up to.")
    parameters = models.JSONField(
        db_comment="Every generator parameter used (see docs/simulator.md)."
    )
    counts = models.JSONField(db_comment="Records generated per table.")
    software_version = models.CharField(
        max_length=40, db_comment="openiom version that generated the area."
    )
    wrote_database = models.BooleanField(
        db_comment="True when the records were loaded into this database."
    )
    output_dir = models.CharField(
        max_length=500,
        blank=True,
        db_comment="Directory the import-format files were written to, if any.",
    )
    manifest_path = models.CharField(
        max_length=500, db_comment="Path of the JSON manifest describing the run."
    )
    started_at = models.DateTimeField(db_comment="When generation started.")
    duration_seconds = models.FloatField(db_comment="Wall-clock time the run took, in seconds.")

    class Meta:
        db_table_comment = (
            "Runs of the synthetic area generator (manage.py simulate) with parameters and counts."
        )
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Simulation of {self.people} people, seed {self.seed}, as of {self.as_of}"
