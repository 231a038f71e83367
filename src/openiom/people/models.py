"""People managed by (or eligible for) IOM — "nominals" — and their circumstances."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openiom.core.models import SourcedRecord, source_unique


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    UNKNOWN = "U", "Not known"


class OfficerDefinedEthnicity(models.TextChoices):
    """Police IC codes (officer-defined ethnicity)."""

    IC1 = "IC1", "IC1 White – North European"
    IC2 = "IC2", "IC2 White – South European"
    IC3 = "IC3", "IC3 Black"
    IC4 = "IC4", "IC4 Asian"
    IC5 = "IC5", "IC5 Chinese, Japanese or other South East Asian"
    IC6 = "IC6", "IC6 Arab or North African"
    IC9 = "IC9", "IC9 Not known"


class SelfDefinedEthnicity(models.TextChoices):
    """ONS 2021 Census ethnic groups (England and Wales), 19 categories plus not stated."""

    W1 = "W1", "White: English, Welsh, Scottish, Northern Irish or British"
    W2 = "W2", "White: Irish"
    W3 = "W3", "White: Gypsy or Irish Traveller"
    W4 = "W4", "White: Roma"
    W9 = "W9", "White: Any other White background"
    M1 = "M1", "Mixed: White and Black Caribbean"
    M2 = "M2", "Mixed: White and Black African"
    M3 = "M3", "Mixed: White and Asian"
    M9 = "M9", "Mixed: Any other Mixed or multiple ethnic background"
    A1 = "A1", "Asian: Indian"
    A2 = "A2", "Asian: Pakistani"
    A3 = "A3", "Asian: Bangladeshi"
    A4 = "A4", "Asian: Chinese"
    A9 = "A9", "Asian: Any other Asian background"
    B1 = "B1", "Black: Caribbean"
    B2 = "B2", "Black: African"
    B9 = "B9", "Black: Any other Black, Black British or Caribbean background"
    O2 = "O2", "Other: Arab"
    O9 = "O9", "Other: Any other ethnic group"
    NS = "NS", "Not stated"


class CurrentStatus(models.TextChoices):
    COMMUNITY = "community", "In the community"
    CUSTODY = "custody", "In custody"
    UNLAWFULLY_AT_LARGE = "ual", "Unlawfully at large"
    DECEASED = "deceased", "Deceased"


class YouthJusticeStatus(models.TextChoices):
    NONE = "", "None"
    YOS_ORDER = "yos_order", "Under a youth offending service order"
    YOS_VOLUNTARY = "yos_voluntary", "Working voluntarily with the youth offending service"
    TRANSITION = "transition", "Transitioning from youth to adult services"


class Person(SourcedRecord):
    """A person known to the partnership: an IOM nominal or someone in the offending population."""

    hub = models.ForeignKey(
        "partnership.Hub",
        on_delete=models.PROTECT,
        related_name="people",
        db_comment="Hub whose area the person lives or offends in.",
    )
    first_names = models.CharField(max_length=200, db_comment="Given names.")
    surname = models.CharField(max_length=100, db_comment="Family name.")
    first_names_norm = models.CharField(
        max_length=200,
        db_index=True,
        editable=False,
        db_comment="Upper-cased given names without punctuation, for search.",
    )
    surname_norm = models.CharField(
        max_length=100,
        db_index=True,
        editable=False,
        db_comment="Upper-cased surname without punctuation, for search.",
    )
    date_of_birth = models.DateField(db_index=True, db_comment="Date of birth.")
    sex = models.CharField(
        max_length=1, choices=Sex.choices, db_comment="Sex as recorded by the police."
    )
    ethnicity_officer_defined = models.CharField(
        max_length=3,
        choices=OfficerDefinedEthnicity.choices,
        default=OfficerDefinedEthnicity.IC9,
        db_comment="Officer-defined ethnicity (police IC code).",
    )
    ethnicity_self_defined = models.CharField(
        max_length=2,
        choices=SelfDefinedEthnicity.choices,
        default=SelfDefinedEthnicity.NS,
        db_comment="Self-defined ethnicity (ONS 2021 categories).",
    )
    pnc_id = models.CharField(
        max_length=20,
        blank=True,
        db_index=True,
        db_comment="Police National Computer id, e.g. 2001/0123456A.",
    )
    crn = models.CharField(
        max_length=10, blank=True, db_index=True, db_comment="Probation case reference number."
    )
    prison_number = models.CharField(
        max_length=10, blank=True, db_index=True, db_comment="Prison (NOMS) number."
    )
    current_status = models.CharField(
        max_length=16,
        choices=CurrentStatus.choices,
        default=CurrentStatus.COMMUNITY,
        db_comment="Where the person is now.",
    )
    status_since = models.DateField(
        null=True, blank=True, db_comment="Date the current status began."
    )
    date_of_death = models.DateField(
        null=True, blank=True, db_comment="Date of death, if deceased."
    )
    youth_justice_status = models.CharField(
        max_length=16,
        choices=YouthJusticeStatus.choices,
        blank=True,
        default="",
        db_comment="Involvement with the youth offending service, if any.",
    )
    youth_justice_team = models.CharField(
        max_length=200, blank=True, db_comment="Youth offending team responsible, if any."
    )

    class Meta:
        db_table_comment = (
            "People known to the partnership (IOM nominals and the wider offending population)."
        )
        constraints = [source_unique("person")]
        indexes = [
            models.Index(fields=["surname_norm", "first_names_norm"]),
            models.Index(fields=["surname_norm", "date_of_birth"]),
        ]
        ordering = ["surname", "first_names"]

    def __str__(self) -> str:
        return f"{self.first_names} {self.surname.upper()}"

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.surname}"

    def save(self, *args: object, **kwargs: object) -> None:
        from openiom.people.normalise import normalise_name

        self.first_names_norm = normalise_name(self.first_names)
        self.surname_norm = normalise_name(self.surname)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Alias(SourcedRecord):
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="aliases",
        db_comment="Person using the alias.",
    )
    first_names = models.CharField(max_length=200, blank=True, db_comment="Given names used.")
    surname = models.CharField(max_length=100, db_comment="Surname used.")
    first_names_norm = models.CharField(
        max_length=200,
        db_index=True,
        editable=False,
        db_comment="Normalised given names, for search.",
    )
    surname_norm = models.CharField(
        max_length=100, db_index=True, editable=False, db_comment="Normalised surname, for search."
    )
    date_of_birth = models.DateField(
        null=True, blank=True, db_comment="Date of birth given with the alias, if different."
    )

    class Meta:
        db_table_comment = "Other names (and dates of birth) a person has used."
        constraints = [source_unique("alias")]
        verbose_name_plural = "aliases"

    def __str__(self) -> str:
        return f"{self.first_names} {self.surname}"

    def save(self, *args: object, **kwargs: object) -> None:
        from openiom.people.normalise import normalise_name

        self.first_names_norm = normalise_name(self.first_names)
        self.surname_norm = normalise_name(self.surname)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class IdentifierScheme(models.TextChoices):
    PNC = "pnc", "PNC ID"
    CRO = "cro", "CRO number"
    CRN = "crn", "Probation CRN"
    PRISON = "prison", "Prison number"
    FORCE_LOCAL = "force", "Force-local id"
    YOS = "yos", "Youth offending service id"
    OTHER = "other", "Other"


class PersonIdentifier(SourcedRecord):
    """Identifiers in other systems, including old and force-local ones."""

    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="identifiers",
        db_comment="Person identified.",
    )
    scheme = models.CharField(
        max_length=16, choices=IdentifierScheme.choices, db_comment="Identifier scheme."
    )
    value = models.CharField(max_length=40, db_comment="Identifier as issued, upper-cased.")

    class Meta:
        db_table_comment = (
            "Identifiers of people in other systems (PNC, CRN, prison number, force-local...)."
        )
        constraints = [
            models.UniqueConstraint(fields=["scheme", "value"], name="identifier_unique_value"),
        ]
        indexes = [models.Index(fields=["value"])]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.value}"


class Address(SourcedRecord):
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="addresses",
        db_comment="Person living there.",
    )
    line_1 = models.CharField(max_length=200, db_comment="First line of the address.")
    line_2 = models.CharField(max_length=200, blank=True, db_comment="Second line of the address.")
    town = models.CharField(max_length=100, blank=True, db_comment="Town or city.")
    postcode = models.CharField(max_length=10, blank=True, db_comment="Postcode.")
    address_type = models.CharField(
        max_length=32,
        blank=True,
        db_comment="Kind of accommodation (settled, temporary, approved premises, no fixed abode...).",
    )
    from_date = models.DateField(null=True, blank=True, db_comment="Date the person moved in.")
    to_date = models.DateField(
        null=True, blank=True, db_comment="Date the person left; empty if current."
    )

    class Meta:
        db_table_comment = "Address history of people."
        constraints = [source_unique("address")]
        ordering = ["-from_date"]
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return ", ".join(p for p in [self.line_1, self.town, self.postcode] if p)


class SupervisionType(models.TextChoices):
    LICENCE = "licence", "Licence"
    POST_SENTENCE = "pss", "Post-sentence supervision"
    COMMUNITY_ORDER = "community_order", "Community order"
    SUSPENDED_SENTENCE = "sso", "Suspended sentence order"
    YOUTH_ORDER = "youth_order", "Youth order"
    NONE = "none", "No statutory supervision"


class SupervisionPeriod(SourcedRecord):
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="supervision_periods",
        db_comment="Person supervised.",
    )
    supervision_type = models.CharField(
        max_length=20, choices=SupervisionType.choices, db_comment="Kind of supervision."
    )
    start_date = models.DateField(db_comment="Start of supervision.")
    expected_end_date = models.DateField(
        null=True, blank=True, db_comment="Expected end (licence or order expiry)."
    )
    end_date = models.DateField(
        null=True, blank=True, db_comment="Actual end; empty while current."
    )
    end_reason = models.CharField(
        max_length=100, blank=True, db_comment="Why it ended (completed, revoked, recalled...)."
    )

    class Meta:
        db_table_comment = "Periods of statutory supervision (licence, orders) or none."
        constraints = [source_unique("supervisionperiod")]
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return f"{self.get_supervision_type_display()} from {self.start_date}"


class CustodyEpisode(SourcedRecord):
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="custody_episodes",
        db_comment="Person in custody.",
    )
    custody_type = models.CharField(max_length=20, db_comment="remand, sentenced or recall.")
    establishment = models.CharField(
        max_length=200, blank=True, db_comment="Prison or young offender institution."
    )
    received_date = models.DateField(db_comment="Date received into custody.")
    sentence_length_days = models.PositiveIntegerField(
        null=True, blank=True, db_comment="Sentence imposed, in days (empty for remand)."
    )
    expected_release_date = models.DateField(
        null=True, blank=True, db_comment="Expected (conditional) release date."
    )
    release_date = models.DateField(
        null=True, blank=True, db_comment="Actual release date; empty while in custody."
    )
    release_type = models.CharField(
        max_length=40, blank=True, db_comment="Release type (licence, end of sentence, bail...)."
    )

    class Meta:
        db_table_comment = "Custody episodes: remands, sentences and recalls, with release dates."
        constraints = [source_unique("custodyepisode")]
        ordering = ["-received_date"]

    def __str__(self) -> str:
        return f"{self.custody_type} from {self.received_date}"


class Involvement(models.Model):
    """An agency (and optionally a named worker) working with a person.

    This is what lets a partner-agency worker see a person at all.
    """

    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="involvements",
        db_comment="Person worked with.",
    )
    agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="involvements",
        db_comment="Agency working with the person.",
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="involvements",
        db_comment="Named worker; empty means the agency as a whole.",
    )
    purpose = models.CharField(
        max_length=200, blank=True, db_comment="What the agency is doing with the person."
    )
    start_date = models.DateField(db_comment="When the work started.")
    end_date = models.DateField(
        null=True, blank=True, db_comment="When the work ended; empty while current."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When recorded.")

    class Meta:
        db_table_comment = (
            "Which agencies and workers are working with which people (drives partner access)."
        )
        indexes = [models.Index(fields=["agency", "person"])]

    def __str__(self) -> str:
        return f"{self.agency} with {self.person}"


class Restriction(models.Model):
    """A person's record restricted to named users (e.g. a member of staff's relative, a witness)."""

    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="restrictions",
        db_comment="Restricted person.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="A user allowed to see the restricted record.",
    )
    reason = models.CharField(max_length=300, db_comment="Why the record is restricted.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who restricted it.",
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_comment="When the restriction was made."
    )

    class Meta:
        db_table_comment = (
            "Named users allowed to see a restricted person's record; no one else may."
        )
        constraints = [
            models.UniqueConstraint(fields=["person", "user"], name="restriction_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.person} restricted to {self.user}"
