"""Value for money: versioned appraisal assumptions and programme costs (policy as data), and
payment-by-results contracts whose measure definitions are fixed when they are agreed.

The unit costs of crime are the scoring app's `UnitCostTable` (Home Office 2018 values, each row
with its source and status, the table with its price year); the assumptions pin its version.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from openiom.core.models import VersionedPolicy


class _Immutable:
    """A published version is never changed: editing makes the next version."""

    pk: Any

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Published versions cannot be changed; publish a new one")
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Published versions cannot be deleted; publish a new one")


class AppraisalAssumptions(_Immutable, VersionedPolicy):
    """Discount rate, horizon, GDP deflator, proven→actual multiplier, persistence, sensitivity
    ranges and the unit-cost table version (see vfm.defaults.ASSUMPTIONS and
    docs/value-for-money.md); each assumption carries its source and status."""

    class Meta(VersionedPolicy.Meta):
        db_table_comment = (
            "Versioned value-for-money appraisal assumptions (discount rate, horizon, GDP "
            "deflator series, proven-to-actual multiplier, persistence, sensitivity ranges, "
            "unit-cost table version), each with its source and status; never edited."
        )
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version"], name="appraisalassumptions_key_version"
            )
        ]
        verbose_name = "appraisal assumptions"
        verbose_name_plural = "appraisal assumptions"


class ProgrammeCost(_Immutable, VersionedPolicy):
    """The incremental cost of IOM over usual management: staff time by agency per person-month,
    interventions, set-up (see vfm.defaults.PROGRAMME); each line with its source and status."""

    class Meta(VersionedPolicy.Meta):
        db_table_comment = (
            "Versioned IOM programme costs (staff hours by agency per person-month and hourly "
            "cost, interventions with uptake, one-off set-up, months on IOM, price year), each "
            "line with its source and status; never edited."
        )
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="programmecost_key_version")
        ]
        verbose_name = "programme cost"


class FrequencyBasis(models.TextChoices):
    PER_REOFFENDER = "per_reoffender", "Reoffences per reoffender"
    PER_PERSON = "per_person", "Reoffences per person in the cohort"


class ResultsContract(models.Model):
    """A payment-by-results agreement: binary and frequency measures against an agreed baseline.

    Seed 000 (Wong 2013) warns that payment by results founders when the definitions of the
    intervention, the cohort and additionality are unclear; so every definition is fixed on the
    record when it is agreed and never edited. A variation is a new version of the reference.
    """

    reference = models.SlugField(
        max_length=64, db_comment="Contract reference; versions of one contract share it."
    )
    version = models.PositiveIntegerField(
        db_comment="Version of the contract, 1 upwards; a variation makes the next version."
    )
    name = models.CharField(max_length=200, db_comment="Name of the contract.")
    commissioner = models.CharField(max_length=200, db_comment="Who pays for the results.")
    provider = models.CharField(max_length=200, db_comment="Who is paid for the results.")
    cohort_definition = models.TextField(
        db_comment="Who is in the measured cohort (eligibility, how people join), in words."
    )
    cohort_keys = models.JSONField(
        default=list,
        blank=True,
        db_comment="Cohort definition keys (e.g. fixed, flex) whose registrations are measured.",
    )
    cohort_from = models.DateField(
        db_comment="First index date (registration) counted in the measured cohort."
    )
    cohort_to = models.DateField(
        db_comment="Last index date (registration) counted in the measured cohort."
    )
    follow_up_days = models.PositiveIntegerField(
        default=365, db_comment="Follow-up period after the index date in which offences count."
    )
    waiting_days = models.PositiveIntegerField(
        default=182,
        db_comment="Further period for offences in the follow-up to be proven (court or caution).",
    )
    baseline_binary_rate = models.FloatField(
        db_comment="Agreed baseline share reoffending (proportion 0-1) the cohort is compared with."
    )
    baseline_frequency = models.FloatField(
        db_comment="Agreed baseline proven reoffences per reoffender or per person (see basis)."
    )
    frequency_basis = models.CharField(
        max_length=16,
        choices=FrequencyBasis.choices,
        default=FrequencyBasis.PER_REOFFENDER,
        db_comment="per_reoffender or per_person: the frequency measure's denominator.",
    )
    baseline_description = models.TextField(
        db_comment="Where the baseline comes from: which cohort, period and source, with status."
    )
    binary_target_points = models.FloatField(
        default=0.0,
        db_comment="Reduction in the binary rate, percentage points, needed for the binary payment.",
    )
    frequency_target_percent = models.FloatField(
        default=0.0,
        db_comment="Reduction in frequency, per cent of the baseline, needed for the frequency payment.",
    )
    binary_payment_per_person = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        db_comment="GBP paid per person fewer reoffending than the baseline rate implies.",
    )
    frequency_payment_per_reoffence = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        db_comment="GBP paid per reoffence fewer than the baseline frequency implies.",
    )
    payment_cap = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        db_comment="Most that can be paid for the cohort, GBP; empty for no cap.",
    )
    minimum_cohort_size = models.PositiveIntegerField(
        default=60,
        db_comment="Smallest measured cohort for which any payment is due (JDL minimum ~60 [V2]).",
    )
    effective_from = models.DateField(db_comment="Date the contract (version) was agreed from.")
    notes = models.TextField(
        blank=True, db_comment="Anything else agreed (exclusions, disputes process)."
    )
    change_note = models.TextField(blank=True, db_comment="Why this version was made.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who recorded the contract.",
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_comment="When the contract was recorded."
    )

    class Meta:
        db_table_comment = (
            "Payment-by-results contracts: cohort, binary and frequency measures, agreed baseline, "
            "targets and payments, fixed when agreed (a variation is a new version)."
        )
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "version"], name="resultscontract_reference_version"
            ),
            models.CheckConstraint(
                condition=models.Q(baseline_binary_rate__gte=0)
                & models.Q(baseline_binary_rate__lte=1),
                name="resultscontract_baseline_rate_proportion",
            ),
            models.CheckConstraint(
                condition=models.Q(cohort_to__gte=models.F("cohort_from")),
                name="resultscontract_cohort_period",
            ),
        ]
        ordering = ["reference", "-version"]

    def __str__(self) -> str:
        return f"{self.name} ({self.reference} v{self.version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("An agreed contract cannot be changed; record a variation")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("An agreed contract cannot be deleted; record a variation")

    def terms(self) -> Any:
        from openiom.vfm.calculations import ContractTerms

        return ContractTerms(
            baseline_binary_rate=self.baseline_binary_rate,
            baseline_frequency=self.baseline_frequency,
            frequency_basis=self.frequency_basis,  # type: ignore[arg-type]
            binary_target_points=self.binary_target_points,
            frequency_target_percent=self.frequency_target_percent,
            binary_payment_per_person=float(self.binary_payment_per_person),
            frequency_payment_per_reoffence=float(self.frequency_payment_per_reoffence),
            payment_cap=float(self.payment_cap) if self.payment_cap is not None else None,
            minimum_cohort_size=self.minimum_cohort_size,
        )


class MeasurementSource(models.TextChoices):
    ENTERED = "entered", "Figures entered by hand"
    OUTCOMES = "outcomes", "The outcome engine, from the area's data"


class ContractMeasurement(models.Model):
    """One measurement of a contract's cohort against its baseline, kept with its inputs."""

    contract = models.ForeignKey(
        ResultsContract,
        on_delete=models.PROTECT,
        related_name="measurements",
        db_comment="Contract (version) measured.",
    )
    as_of = models.DateField(db_comment="Date the outcomes were measured at.")
    source = models.CharField(
        max_length=10,
        choices=MeasurementSource.choices,
        db_comment="entered (figures typed in) or outcomes (the outcome engine on the area's data).",
    )
    cohort_size = models.PositiveIntegerField(db_comment="People with a final outcome measured.")
    reoffenders = models.PositiveIntegerField(
        db_comment="People with a proven reoffence in the follow-up."
    )
    reoffences = models.PositiveIntegerField(db_comment="Proven reoffences in the follow-up.")
    pending = models.PositiveIntegerField(
        default=0, db_comment="People left out because their outcome was not final yet."
    )
    result = models.JSONField(
        db_comment="The measures and payment (vfm.calculations.ContractResult.to_dict())."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who measured it.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When it was measured.")

    class Meta:
        db_table_comment = (
            "Measurements of results contracts: the cohort's outcome figures and the resulting "
            "measures and payment; never edited (a new measurement is a new row)."
        )
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.contract} measured as of {self.as_of}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Measurements cannot be changed; measure again")
        super().save(*args, **kwargs)
