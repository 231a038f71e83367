"""Contacts with a person: visits, appointments, calls, drug tests, curfew and bail checks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ContactKind(models.TextChoices):
    HOME_VISIT = "home_visit", "Home visit"
    APPOINTMENT = "appointment", "Appointment"
    PHONE_CALL = "phone_call", "Phone call"
    DRUG_TEST = "drug_test", "Drug test"
    CURFEW_CHECK = "curfew_check", "Curfew check"
    BAIL_CHECK = "bail_check", "Bail check"
    PRISON_VISIT = "prison_visit", "Prison visit"


class Attendance(models.TextChoices):
    PLANNED = "planned", "Planned"
    KEPT = "kept", "Kept"
    MISSED = "missed", "Missed"


class DrugTestResult(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    REFUSED = "refused", "Refused"


class Contact(models.Model):
    """One contact with a person by a worker of an agency."""

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="contacts",
        db_comment="Person contacted.",
    )
    registration = models.ForeignKey(
        "cohort.Registration",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        db_comment="IOM registration current on the contact date (empty if none).",
    )
    agency = models.ForeignKey(
        "partnership.Agency",
        on_delete=models.PROTECT,
        related_name="contacts",
        db_comment="Agency that made the contact.",
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contacts_made",
        db_comment="Worker who made the contact.",
    )
    kind = models.CharField(
        max_length=16,
        choices=ContactKind.choices,
        db_index=True,
        db_comment="Kind of contact (home visit, appointment, phone call, drug test, ...).",
    )
    contact_date = models.DateField(db_comment="Date of the contact (or planned appointment).")
    attendance = models.CharField(
        max_length=8,
        choices=Attendance.choices,
        null=True,
        blank=True,
        db_comment="Appointments only: planned, kept or missed; empty for other kinds.",
    )
    drug_test_result = models.CharField(
        max_length=8,
        choices=DrugTestResult.choices,
        null=True,
        blank=True,
        db_comment="Drug tests only: negative, positive or refused; empty for other kinds.",
    )
    substances = models.CharField(
        max_length=200,
        blank=True,
        db_comment="Positive drug tests only: substances found.",
    )
    outcome = models.TextField(blank=True, db_comment="What happened (free-text outcome note).")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who recorded the contact.",
    )
    recorded_at = models.DateTimeField(auto_now_add=True, db_comment="When recorded.")

    class Meta:
        db_table_comment = (
            "Contacts with people: home visits, appointments (planned, kept, missed), phone "
            "calls, drug tests with result, curfew and bail checks, prison visits."
        )
        ordering = ["-contact_date", "-id"]
        indexes = [models.Index(fields=["person", "contact_date"], name="contact_person_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="appointment", attendance__isnull=False)
                | (~Q(kind="appointment") & Q(attendance__isnull=True)),
                name="contact_attendance_iff_appointment",
            ),
            models.CheckConstraint(
                condition=Q(kind="drug_test") | Q(drug_test_result__isnull=True),
                name="contact_result_only_for_drug_tests",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.person} on {self.contact_date}"
