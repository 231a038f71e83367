"""GET forms of the caseload and contribution pages (also used to validate the API's query)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from openiom.caseloads.contribution import (
    DEFAULT_MONTHS,
    MAX_MONTHS,
    default_range,
    months_between,
)
from openiom.caseloads.selectors import RAG_CHOICES, SCOPES, STATUS_CHOICES, CaseloadFilters
from openiom.cohort.dates import add_months
from openiom.cohort.selectors import cohorts_in_force


def cohort_choices() -> list[tuple[str, str]]:
    return [(c.key, c.name) for c in cohorts_in_force()]


class CaseloadFilterForm(forms.Form):
    scope = forms.ChoiceField(
        required=False,
        choices=list(SCOPES.items()),
        error_messages={"invalid_choice": "Choose mine, team, agency or cohort"},
    )
    rag = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), *RAG_CHOICES.items()],
        error_messages={"invalid_choice": "Choose red, amber, green or not yet assessed"},
    )
    cohort = forms.ChoiceField(
        required=False,
        error_messages={"invalid_choice": "Choose one of the cohorts (scheme) listed"},
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), *STATUS_CHOICES.items()],
        error_messages={"invalid_choice": "Choose active, in custody or suspended"},
    )
    overdue = forms.BooleanField(required=False, label="Only people with overdue work")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["cohort"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Any"), *cohort_choices()]

    def filters(self) -> CaseloadFilters:
        data = self.cleaned_data
        return CaseloadFilters(
            rag=data.get("rag") or "",
            cohort=data.get("cohort") or "",
            status=data.get("status") or "",
            overdue=bool(data.get("overdue")),
        )

    def chosen_scope(self) -> str:
        return self.cleaned_data.get("scope") or "mine"


MONTH_ERROR = "Enter a month as YYYY-MM, for example 2026-03"


class MonthField(forms.CharField):
    def to_python(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            year, month = (int(part) for part in text.split("-"))
            return dt.date(year, month, 1)
        except ValueError:
            raise forms.ValidationError(MONTH_ERROR, code="invalid") from None


class ContributionForm(forms.Form):
    first = MonthField(required=False, label="From month")
    last = MonthField(required=False, label="To month")

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        """Fill a missing month from the default range; check both are sensible together."""
        data = super().clean() or {}
        this_month = self.today.replace(day=1)
        for name in ("first", "last"):
            value = data.get(name)
            if value is not None and value > this_month:
                self.add_error(
                    name, f"The month must be this month ({this_month:%Y-%m}) or earlier"
                )
        if self.errors:
            return data
        first, last = data.get("first"), data.get("last")
        if last is None:
            last = this_month if first is not None else default_range(self.today)[1]
        if first is None:
            first = add_months(last, -(DEFAULT_MONTHS - 1))
        if last < first:
            self.add_error("last", "The 'to' month must be the same as or after the 'from' month")
        elif len(months_between(first, last)) > MAX_MONTHS:
            self.add_error("last", f"Choose at most {MAX_MONTHS} months at a time")
        data["first"], data["last"] = first, last
        return data
