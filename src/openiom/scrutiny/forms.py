"""Forms for the scrutiny pages: disproportionality options and the score-audit upload."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone

from openiom.scoring.forms import DATE_FORMATS
from openiom.scrutiny.selectors import DEFAULT_TOP_N

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PREDICTORS = 20
_COLUMN = re.compile(r"^[^\x00-\x1f]{1,200}$")


class TopNForm(forms.Form):
    top = forms.IntegerField(
        min_value=1,
        max_value=100_000,
        initial=DEFAULT_TOP_N,
        error_messages={
            "required": "Enter how many top candidates count as selected",
            "invalid": "Number selected must be a whole number, like 50",
            "min_value": "Number selected must be 1 or more",
            "max_value": "Number selected must be 100,000 or fewer",
        },
    )


class AsOfForm(forms.Form):
    as_of = forms.DateField(
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the date to compare on",
            "invalid": "Date must be a real date, like 1/4/2025",
        },
    )

    def clean_as_of(self) -> Any:
        as_of = self.cleaned_data["as_of"]
        if as_of > timezone.localdate():
            raise forms.ValidationError("Date must be today or in the past")
        if as_of.year < 1900:
            raise forms.ValidationError("Date must be in 1900 or later")
        return as_of


def _column(value: str, label: str) -> str:
    value = value.strip()
    if value and not _COLUMN.match(value):
        raise forms.ValidationError(f"{label} must be a column name of 200 characters or fewer")
    return value


class ScoreAuditForm(forms.Form):
    file = forms.FileField(
        error_messages={
            "required": "Select a CSV or Parquet file",
            "empty": "The selected file is empty",
            "invalid": "Select a CSV or Parquet file",
        }
    )
    score = forms.CharField(
        max_length=200, error_messages={"required": "Enter the name of the score column"}
    )
    outcome = forms.CharField(
        max_length=200, error_messages={"required": "Enter the name of the outcome column"}
    )
    group = forms.CharField(max_length=200, required=False)
    threshold = forms.FloatField(
        error_messages={
            "required": "Enter the threshold: scores at or above it count as flagged",
            "invalid": "Threshold must be a number, like 0.5 or 40",
        }
    )
    predictors = forms.CharField(max_length=2000, required=False)
    probability = forms.ChoiceField(
        choices=[
            ("auto", "Decide from the scores (probabilities if every score is between 0 and 1)"),
            ("yes", "Yes, the scores are probabilities"),
            ("no", "No, the scores are points, ranks or bands"),
        ],
        initial="auto",
        error_messages={"required": "Select whether the scores are probabilities"},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".parquet", ".pq")):
            raise forms.ValidationError("The selected file must be a CSV or Parquet file")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The selected file must be smaller than 50 MB")
        return upload

    def clean_score(self) -> str:
        return _column(self.cleaned_data["score"], "Score column")

    def clean_outcome(self) -> str:
        return _column(self.cleaned_data["outcome"], "Outcome column")

    def clean_group(self) -> str:
        return _column(self.cleaned_data.get("group") or "", "Group column")

    def clean_predictors(self) -> tuple[str, ...]:
        text = self.cleaned_data.get("predictors") or ""
        names = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
        if len(names) > MAX_PREDICTORS:
            raise forms.ValidationError(f"Give at most {MAX_PREDICTORS} predictors")
        for n in names:
            _column(n, "Each predictor")
        return names

    def probability_flag(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data["probability"])
