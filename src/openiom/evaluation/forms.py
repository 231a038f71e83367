"""Forms for asking for an evaluation: database mode (a treatment selection) and an uploaded table.

Errors name the field and say what to do, GOV.UK style ("Enter ...", "... must be ...").
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils import timezone

from openiom.evaluation.methods.types import MatchingSpec

DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]
COLUMN = re.compile(r"^[^\x00-\x1f,]{1,200}$")
MAX_UPLOAD_MB = 200


def _date_field(name: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        required=required,
        input_formats=DATE_FORMATS,
        error_messages={
            "required": f"Enter the {name}",
            "invalid": f"The {name} must be a real date, like 1/4/2024",
        },
    )


class MatchingFields(forms.Form):
    """Matching options shared by both modes (defaults: evaluation-methods.md §3)."""

    ratio = forms.IntegerField(
        min_value=1,
        max_value=10,
        initial=1,
        error_messages={
            "required": "Enter how many comparison people to match to each person, from 1 to 10",
            "invalid": "Comparison people per person must be a whole number, like 1",
            "min_value": "Comparison people per person must be 1 or more",
            "max_value": "Comparison people per person must be 10 or fewer",
        },
    )
    replace = forms.ChoiceField(
        choices=[
            ("no", "No: use each comparison person once"),
            ("yes", "Yes: a comparison person may be matched more than once"),
        ],
        initial="no",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether comparison people may be reused"},
    )
    caliper = forms.DecimalField(
        required=False,
        min_value=0.01,
        max_value=5,
        decimal_places=3,
        initial="0.2",
        error_messages={
            "invalid": "Caliper must be a number, like 0.2, or empty for no caliper",
            "min_value": "Caliper must be at least 0.01 (or empty for no caliper)",
            "max_value": "Caliper must be 5 or less",
            "max_decimal_places": "Caliper can have at most 3 decimal places",
        },
    )

    def matching_spec(self, exact: tuple[str, ...] = ()) -> MatchingSpec:
        data = self.cleaned_data
        caliper = data.get("caliper")
        return MatchingSpec(
            ratio=int(data["ratio"]),
            replace=data["replace"] == "yes",
            caliper_sd=None if caliper is None else float(caliper),
            exact=exact,
        )


class DatabaseEvaluationForm(MatchingFields):
    title = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Enter a title for the evaluation",
            "max_length": "Title must be 200 characters or fewer",
        },
    )
    cohorts = forms.MultipleChoiceField(
        required=False,
        error_messages={"invalid_choice": "Select cohorts from the list"},
    )
    registered_from = _date_field("first registration date")
    registered_to = _date_field("last registration date")
    lead_agency = forms.ChoiceField(required=False)
    as_of = _date_field("date to measure outcomes up to")
    covariates = forms.MultipleChoiceField(
        error_messages={
            "required": "Select at least one characteristic to match on",
            "invalid_choice": "Select characteristics from the list",
        }
    )
    exact = forms.MultipleChoiceField(
        required=False,
        error_messages={"invalid_choice": "Select exact-matching characteristics from the list"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from openiom.cohort.models import CohortDefinition
        from openiom.evaluation.comparison import AVAILABLE_COVARIATES, DEFAULT_COVARIATES
        from openiom.partnership.models import Agency

        names: dict[str, str] = {}
        for key, name in CohortDefinition.objects.order_by("key", "-version").values_list(
            "key", "name"
        ):
            names.setdefault(key, name)
        self._set_choices("cohorts", [(k, n) for k, n in names.items()])
        agencies = (
            Agency.objects.filter(is_active=True).order_by("name").values_list("code", "name")
        )
        self._set_choices("lead_agency", [("", "Any lead agency"), *agencies])
        covariates = [
            (k, f"{k.replace('_', ' ').capitalize()}: {v}") for k, v in AVAILABLE_COVARIATES.items()
        ]
        self._set_choices("covariates", covariates)
        self._set_choices(
            "exact", [(k, k.replace("_", " ").capitalize()) for k in AVAILABLE_COVARIATES]
        )
        self.fields["covariates"].initial = list(DEFAULT_COVARIATES)
        if not self.is_bound:
            self.initial.setdefault("as_of", timezone.localdate().strftime("%d/%m/%Y"))

    def _set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        from openiom.evaluation.outcomes import OutcomeRules

        data = super().clean() or {}
        start: dt.date | None = data.get("registered_from")
        end: dt.date | None = data.get("registered_to")
        as_of: dt.date | None = data.get("as_of")
        today = timezone.localdate()
        if as_of is not None and as_of > today:
            self.add_error(
                "as_of", "The date to measure outcomes up to must be today or in the past"
            )
        if start is not None and end is not None and end < start:
            self.add_error(
                "registered_to", "The last registration date must be the same as or after the first"
            )
        window = OutcomeRules().window_days
        if end is not None and as_of is not None and end + dt.timedelta(days=window) > as_of:
            latest = as_of - dt.timedelta(days=window)
            self.add_error(
                "registered_to",
                f"The last registration date must be {latest:%-d/%-m/%Y} or earlier, so that "
                f"everyone has a one-year follow-up and six-month waiting period ({window} days) "
                "before the date outcomes are measured up to",
            )
        exact = data.get("exact") or []
        chosen = set(data.get("covariates") or [])
        outside = [e for e in exact if e not in chosen]
        if outside and chosen:
            self.add_error(
                "exact",
                "Exact-matching characteristics must also be selected as characteristics to "
                f"match on: {', '.join(outside)}",
            )
        return data

    def selection(self) -> Any:
        from openiom.evaluation.comparison import TreatmentSelection

        data = self.cleaned_data
        return TreatmentSelection(
            cohorts=tuple(data.get("cohorts") or ()),
            registered_from=data["registered_from"],
            registered_to=data["registered_to"],
            lead_agency=data.get("lead_agency") or None,
            label=data["title"],
        )


def _columns(text: str, what: str) -> list[str]:
    names = [c.strip() for c in (text or "").split(",")]
    names = [c for c in names if c]
    for name in names:
        if not COLUMN.match(name):
            raise forms.ValidationError(f"{what}: {name[:40]!r} is not a column name")
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise forms.ValidationError(f"{what}: {twice[0]!r} is named more than once")
    return names


class TableEvaluationForm(MatchingFields):
    title = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Enter a title for the evaluation",
            "max_length": "Title must be 200 characters or fewer",
        },
    )
    label = forms.CharField(
        required=False,
        max_length=200,
        error_messages={
            "max_length": "Name of the programme group must be 200 characters or fewer"
        },
    )
    file = forms.FileField(
        error_messages={
            "required": "Select a CSV or Parquet file",
            "empty": "The selected file is empty",
        }
    )
    treatment = forms.CharField(
        max_length=200, error_messages={"required": "Enter the name of the treatment column"}
    )
    outcome = forms.CharField(
        max_length=200, error_messages={"required": "Enter the name of the outcome column"}
    )
    frequency = forms.CharField(required=False, max_length=200)
    time = forms.CharField(required=False, max_length=200)
    event = forms.CharField(required=False, max_length=200)
    harm = forms.CharField(required=False, max_length=200)
    covariates = forms.CharField(
        max_length=4000,
        error_messages={"required": "Enter the covariate columns to match on, separated by commas"},
    )
    exact = forms.CharField(required=False, max_length=2000)

    ROLES = ("treatment", "outcome", "frequency", "time", "event", "harm")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".parquet", ".pq", ".txt")):
            raise forms.ValidationError("The selected file must be a CSV or Parquet file")
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                f"The selected file must be smaller than {MAX_UPLOAD_MB} MB"
            )
        return upload

    def clean_covariates(self) -> list[str]:
        names = _columns(self.cleaned_data["covariates"], "Covariates")
        if not names:
            raise forms.ValidationError(
                "Enter the covariate columns to match on, separated by commas"
            )
        return names

    def clean_exact(self) -> list[str]:
        return _columns(self.cleaned_data.get("exact", ""), "Exact-matching columns")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for role in self.ROLES:
            value = (data.get(role) or "").strip()
            data[role] = value
            if value and not COLUMN.match(value):
                self.add_error(role, f"{value[:40]!r} is not a column name")
        if bool(data.get("time")) != bool(data.get("event")):
            missing = "event" if data.get("time") else "time"
            self.add_error(
                missing,
                "Enter both a time-to-reoffence column and an event column, or neither",
            )
        covariates = data.get("covariates") or []
        for role in self.ROLES:
            if data.get(role) and data[role] in covariates:
                self.add_error(
                    "covariates",
                    f"The {role} column {data[role]!r} cannot also be a covariate: covariates "
                    "describe people before the programme",
                )
        if data.get("treatment") and data.get("treatment") == data.get("outcome"):
            self.add_error(
                "outcome", "The outcome column must be different from the treatment column"
            )
        return data

    def role_of(self, column: str | None) -> str:
        """The form field to show an error about `column` against."""
        data = getattr(self, "cleaned_data", {})
        for role in self.ROLES:
            if column and data.get(role) == column:
                return role
        if column and column in (data.get("exact") or []):
            return "exact"
        if column and column in (data.get("covariates") or []):
            return "covariates"
        return "file"
