from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from openiom.imports.formats import ORDER
from openiom.imports.models import MatchDecision
from openiom.partnership.models import Agency


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "govuk-file-upload"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if not data and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else single(data, initial)


class UploadForm(forms.Form):
    extract_files = MultipleFileField(
        label="Extract files",
        help_text="One file per record type, named people.csv, offences.csv, arrests.csv, "
        "custody.csv, supervision.csv or intelligence.csv (or .xlsx).",
        error_messages={"required": "Choose at least one file to import"},
    )
    record_type = forms.ChoiceField(
        label="What the file holds (only when uploading a single file)",
        choices=[("", "Work it out from the file name")] + [(t, t) for t in ORDER],
        required=False,
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )
    agency = forms.ModelChoiceField(
        label="Agency that sent the extract",
        queryset=Agency.objects.filter(is_active=True),
        empty_label=None,
        widget=forms.Select(attrs={"class": "govuk-select"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        files = data.get("extract_files") or []
        total = sum(f.size or 0 for f in files)
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if total > limit:
            self.add_error(
                "extract_files",
                f"The files are {total:,} bytes together; the most allowed is {limit:,}",
            )
        if data.get("record_type") and len(files) > 1:
            self.add_error(
                "record_type",
                "Choose what the file holds only when uploading one file; "
                "with several, name each file after its type",
            )
        return data


class MatchDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Is this the same person?",
        choices=[
            (MatchDecision.MERGE, "Yes – the same person: merge into the existing record"),
            (MatchDecision.NEW, "No – a different person: create a new record"),
        ],
        widget=forms.RadioSelect(attrs={"class": "govuk-radios__input"}),
        error_messages={"required": "Choose whether this is the same person"},
    )
