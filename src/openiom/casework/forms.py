"""The quick-entry contact form: kind, date (today by default) and attendance or result."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiom.casework.models import Attendance, ContactKind, DrugTestResult

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"]
RESULT_CHOICES = [
    ("", "No attendance or result"),
    ("Appointment", [(c.value, c.label) for c in Attendance]),
    ("Drug test", [(c.value, c.label) for c in DrugTestResult]),
]
# Service error field -> form field.
SERVICE_FIELDS = {"attendance": "result", "drug_test_result": "result", "substances": "result"}


class QuickContactForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "Choose the kind of contact"), *ContactKind.choices],
        error_messages={
            "required": "Select the kind of contact",
            "invalid_choice": "Select a kind of contact from the list",
        },
    )
    contact_date = forms.DateField(
        input_formats=DATE_INPUT_FORMATS,
        error_messages={
            "required": "Enter the date of the contact",
            "invalid": "Enter the date of the contact as day/month/year, for example 27/03/2026",
        },
    )
    result = forms.ChoiceField(
        required=False,
        choices=RESULT_CHOICES,
        widget=forms.Select(attrs={"class": "govuk-select", "aria-describedby": "id_result-hint"}),
        error_messages={"invalid_choice": "Select an attendance or result from the list"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("contact_date", timezone.localdate().strftime("%d/%m/%Y"))

    def service_kwargs(self) -> dict[str, Any]:
        """Arguments for record_contact: the result goes to attendance or drug test result."""
        kind = self.cleaned_data["kind"]
        result = self.cleaned_data.get("result") or None
        kwargs: dict[str, Any] = {"kind": kind, "contact_date": self.cleaned_data["contact_date"]}
        if kind == ContactKind.DRUG_TEST:
            kwargs["drug_test_result"] = result
        else:
            kwargs["attendance"] = result
        return kwargs

    def add_service_errors(self, error: ValidationError) -> None:
        """Put each "field: why" message from the service against the form field it is about."""
        for field, messages in error.message_dict.items():
            target = SERVICE_FIELDS.get(field, field)
            if target not in self.fields:
                target = None  # type: ignore[assignment]
            for message in messages:
                _, _, why = message.partition(": ")
                why = why or message
                self.add_error(target, why[0].upper() + why[1:])


class HandlingNoteForm(forms.Form):
    text = forms.CharField(
        max_length=300,
        error_messages={
            "required": "Enter the handling note for police colleagues",
            "max_length": "The handling note must be 300 characters or fewer",
        },
    )
