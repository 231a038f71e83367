"""Offending history: proven offences (with disposals), arrests and police intelligence."""

from __future__ import annotations

from django.db import models

from openiom.core.models import SourcedRecord, source_unique


class DisposalType(models.TextChoices):
    CAUTION = "caution", "Caution"
    CONDITIONAL_CAUTION = "conditional_caution", "Conditional caution"
    YOUTH_CAUTION = "youth_caution", "Youth caution or reprimand/warning"
    FINE = "fine", "Fine"
    DISCHARGE = "discharge", "Discharge"
    COMMUNITY_ORDER = "community_order", "Community order"
    SUSPENDED_SENTENCE = "sso", "Suspended sentence order"
    CUSTODY = "custody", "Immediate custody"
    YOUTH_ORDER = "youth_order", "Youth order"
    OTHER = "other", "Other"

    @classmethod
    def cautions(cls) -> set[str]:
        return {cls.CAUTION, cls.CONDITIONAL_CAUTION, cls.YOUTH_CAUTION}


class Offence(SourcedRecord):
    """A proven offence: a conviction or caution (a 'sanction' in OGRS terms)."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="offences", db_comment="Offender."
    )
    offence_code = models.ForeignKey(
        "reference.OffenceCode",
        on_delete=models.PROTECT,
        related_name="offences",
        db_comment="Home Office offence code and sub-code.",
    )
    offence_date = models.DateField(db_index=True, db_comment="Date the offence was committed.")
    description = models.CharField(
        max_length=300, blank=True, db_comment="Offence wording from the source system."
    )
    disposal_type = models.CharField(
        max_length=24, choices=DisposalType.choices, db_comment="Outcome at court or out of court."
    )
    disposal_date = models.DateField(db_index=True, db_comment="Date of conviction or caution.")
    sentence = models.CharField(
        max_length=200, blank=True, db_comment="Sentence as described by the court."
    )
    sentence_length_days = models.PositiveIntegerField(
        null=True, blank=True, db_comment="Custodial or order length in days, if any."
    )
    court = models.CharField(
        max_length=200, blank=True, db_comment="Court or police station (for cautions)."
    )

    class Meta:
        db_table_comment = "Proven offences (convictions and cautions) with their disposals."
        constraints = [source_unique("offence")]
        indexes = [models.Index(fields=["person", "offence_date"])]
        ordering = ["-offence_date"]

    def __str__(self) -> str:
        return f"{self.offence_code_id} on {self.offence_date}"


class ArrestOutcome(models.TextChoices):
    CHARGED = "charged", "Charged"
    CAUTIONED = "cautioned", "Cautioned"
    NO_FURTHER_ACTION = "nfa", "No further action"
    RELEASED_UNDER_INVESTIGATION = "rui", "Released under investigation"
    BAILED = "bailed", "Bailed"
    OTHER = "other", "Other"


class Arrest(SourcedRecord):
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="arrests",
        db_comment="Person arrested.",
    )
    arrest_date = models.DateField(db_index=True, db_comment="Date of arrest.")
    offence_code = models.ForeignKey(
        "reference.OffenceCode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="arrests",
        db_comment="Suspected offence, if coded.",
    )
    description = models.CharField(
        max_length=300, blank=True, db_comment="Reason for arrest as recorded."
    )
    outcome = models.CharField(
        max_length=16, choices=ArrestOutcome.choices, db_comment="Outcome of the arrest."
    )

    class Meta:
        db_table_comment = "Arrests, whether or not they led to a charge."
        constraints = [source_unique("arrest")]
        ordering = ["-arrest_date"]

    def __str__(self) -> str:
        return f"Arrest on {self.arrest_date}"


class SourceGrade(models.TextChoices):
    """3x5x2 source evaluation."""

    RELIABLE = "1", "1 – Reliable"
    UNTESTED = "2", "2 – Untested"
    NOT_RELIABLE = "3", "3 – Not reliable"


class IntelligenceGrade(models.TextChoices):
    """3x5x2 intelligence assessment."""

    A = "A", "A – Known directly to the source"
    B = "B", "B – Known indirectly but corroborated"
    C = "C", "C – Known indirectly"
    D = "D", "D – Not known"
    E = "E", "E – Suspected to be false"


class HandlingCode(models.TextChoices):
    """3x5x2 handling code."""

    P = "P", "P – Lawful sharing permitted"
    C = "C", "C – Lawful sharing permitted with conditions"


class IntelligenceItem(SourcedRecord):
    """Police intelligence about a person, graded 3x5x2. Visible to police roles only (for now)."""

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="intelligence",
        db_comment="Subject of the intelligence.",
    )
    recorded_date = models.DateField(
        db_index=True, db_comment="Date the intelligence was recorded."
    )
    source_grade = models.CharField(
        max_length=1, choices=SourceGrade.choices, db_comment="3x5x2 source evaluation (1-3)."
    )
    intelligence_grade = models.CharField(
        max_length=1,
        choices=IntelligenceGrade.choices,
        db_comment="3x5x2 intelligence assessment (A-E).",
    )
    handling_code = models.CharField(
        max_length=1, choices=HandlingCode.choices, db_comment="3x5x2 handling code (P or C)."
    )
    handling_conditions = models.CharField(
        max_length=500, blank=True, db_comment="Conditions on sharing when the handling code is C."
    )
    text = models.TextField(db_comment="The intelligence as recorded (sanitised for sharing).")

    class Meta:
        db_table_comment = "Police intelligence items graded 3x5x2."
        constraints = [source_unique("intelligenceitem")]
        ordering = ["-recorded_date"]

    def __str__(self) -> str:
        return f"Intelligence {self.source_grade}{self.intelligence_grade}{self.handling_code} on {self.recorded_date}"

    @property
    def grading(self) -> str:
        return f"{self.source_grade}{self.intelligence_grade}{self.handling_code}"
