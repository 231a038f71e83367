"""Contacts with a person: visits, appointments, calls, drug tests, curfew and bail checks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openiom.cohort.models import AppendOnly


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


# --- Handling notes (the police briefing and IOM marker) -----------------------------------------


class HandlingNote(AppendOnly):
    """Advice to police colleagues about a registered person; the latest one is current."""

    registration = models.ForeignKey(
        "cohort.Registration",
        on_delete=models.CASCADE,
        related_name="handling_notes",
        db_comment="IOM registration the note is about.",
    )
    text = models.CharField(
        max_length=300,
        db_comment=(
            "The note shown to police, e.g. 'engaging well - contact the IOM team before "
            "enforcement'."
        ),
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Who set the note (the lead worker or an IOM coordinator).",
    )
    set_by_agency = models.ForeignKey(
        "partnership.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_comment="Agency they acted for.",
    )
    set_at = models.DateTimeField(
        auto_now_add=True, db_comment="When the note was set (the latest note is current)."
    )

    class Meta:
        db_table_comment = (
            "Append-only history of police handling notes on IOM registrations; the latest is "
            "the one shown on the police briefing and the IOM marker."
        )
        ordering = ["set_at", "id"]
        indexes = [models.Index(fields=["registration", "set_at"], name="handlingnote_reg_set_at")]

    def __str__(self) -> str:
        return self.text


class AlertKind(models.TextChoices):
    NEW_OFFENCE = "new_offence", "New offence"
    NEW_ARREST = "new_arrest", "New arrest"
    NEW_INTELLIGENCE = "new_intelligence", "New intelligence"
    RELEASE_DUE = "release_due", "Release from custody due"
    TURNING_18 = "turning_18", "Turning 18"
    # Tasks: alerts with a due date that the recipient marks done (issue #5 item 4).
    RELEASE_TASK = "release_task", "Plan the day of release"
    RAG_REVIEW_DUE = "rag_review_due", "RAG review due"
    PLAN_REVIEW_DUE = "plan_review_due", "Plan review due"
    ACTION_OVERDUE = "action_overdue", "Plan action overdue"
    DEREGISTRATION_DUE = "deregistration_due", "Consider de-registration"
    RECONSIDERATION_DUE = "reconsideration_due", "Reconsideration due"


# Alerts of these kinds are tasks: they have a due date and are marked done, not only read.
TASK_KINDS = frozenset(
    {
        AlertKind.RELEASE_TASK,
        AlertKind.RAG_REVIEW_DUE,
        AlertKind.PLAN_REVIEW_DUE,
        AlertKind.ACTION_OVERDUE,
        AlertKind.DEREGISTRATION_DUE,
        AlertKind.RECONSIDERATION_DUE,
    }
)


class Alert(models.Model):
    """An alert for a worker about a registered person; fires once per (recipient, kind, subject)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="alerts",
        db_comment=(
            "Worker the alert is for (the lead worker; an overdue action's owner; coordinators "
            "for reconsiderations)."
        ),
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="alerts",
        db_comment="Person the alert is about.",
    )
    registration = models.ForeignKey(
        "cohort.Registration",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        db_comment="IOM registration the alert was raised under (empty if since removed).",
    )
    kind = models.CharField(
        max_length=20,
        choices=AlertKind.choices,
        db_comment=(
            "Kind of alert: new_offence, new_arrest, new_intelligence, release_due, turning_18; "
            "tasks: release_task, rag_review_due, plan_review_due, action_overdue, "
            "deregistration_due, reconsideration_due."
        ),
    )
    subject_key = models.CharField(
        max_length=100,
        db_comment="The triggering event, e.g. 'offence:123' or 'turns18:2027-03-01'.",
    )
    message = models.TextField(db_comment="What the recipient is told (plain English).")
    due_date = models.DateField(
        null=True,
        blank=True,
        db_comment=(
            "Date the alert is about or the task is due (release, 18th birthday, review, action "
            "due date); empty otherwise."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True, db_comment="When the alert was raised.")
    read_at = models.DateTimeField(
        null=True, blank=True, db_comment="When the recipient marked it read; empty while unread."
    )
    done_at = models.DateTimeField(
        null=True,
        blank=True,
        db_comment="Tasks only: when the recipient marked the task done; empty while to do.",
    )

    class Meta:
        db_table_comment = (
            "Alerts and tasks for workers about registered people: new offences, arrests and "
            "intelligence, releases due, 18th birthdays, reviews due, overdue plan actions, "
            "de-registration and reconsideration reminders (each fires once per recipient and "
            "event)."
        )
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject_key"], name="alert_once_per_event"
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="alert_recipient_read")]

    def __str__(self) -> str:
        return self.message

    @property
    def is_task(self) -> bool:
        return self.kind in TASK_KINDS
