"""Forms for the scoring pages: candidate filters, running scoring and publishing rule sets."""

from __future__ import annotations

import copy
import json
from typing import Any

from django import forms
from django.utils import timezone

from openiom.partnership.models import Hub
from openiom.scoring.consultation import FLAGS, CandidateFilters
from openiom.scoring.models import CrimeHarmTable, ScoringPolicy, UnitCostTable
from openiom.scoring.selectors import SORTS

DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]
DATE_HINT = "For example, 1/4/2025"


class CandidateFilterForm(forms.Form):
    hub = forms.ChoiceField(required=False)
    flag = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), ("none", "No flags")] + [(k, v) for k, v in FLAGS.items()],
    )
    min_score = forms.FloatField(
        required=False,
        min_value=0,
        max_value=100000,
        error_messages={
            "invalid": "Minimum score must be a number, like 40",
            "min_value": "Minimum score must be 0 or more",
            "max_value": "Minimum score must be 100,000 or less",
        },
    )
    eligible = forms.BooleanField(required=False)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORTS])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hubs = Hub.objects.order_by("name").values_list("code", "name")
        hub = self.fields["hub"]
        assert isinstance(hub, forms.ChoiceField)
        hub.choices = [("", "All hubs"), *hubs]

    def filters(self) -> CandidateFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return CandidateFilters(
            hub=data.get("hub") or "",
            flag=data.get("flag") or "",
            min_score=data.get("min_score"),
            eligible_only=bool(data.get("eligible")),
            sort=data.get("sort") or "rank",
        )


class PolicyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} – version {obj.version} (from {obj.effective_from:%-d %B %Y})"


class RunScoringForm(forms.Form):
    policy = PolicyChoiceField(
        queryset=ScoringPolicy.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Select a scoring policy",
            "invalid_choice": "Select a scoring policy from the list",
        },
    )
    as_of = forms.DateField(
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the date to score as of",
            "invalid": "Date to score as of must be a real date, like 1/4/2025",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["policy"]
        assert isinstance(field, PolicyChoiceField)
        field.queryset = ScoringPolicy.objects.order_by("key", "-version")

    def clean_as_of(self) -> Any:
        as_of = self.cleaned_data["as_of"]
        if as_of > timezone.localdate():
            raise forms.ValidationError("Date to score as of must be today or in the past")
        if as_of.year < 2000:
            raise forms.ValidationError("Date to score as of must be in 2000 or later")
        return as_of


# Per-field inputs for a scoring policy's numeric settings: (path in config, label, whole number).
POLICY_FIELDS: list[tuple[str, str, bool]] = [
    ("components.recency.weight", "Recency: weight (points for an offence or arrest today)", False),
    ("components.recency.half_life_days", "Recency: half-life in days", True),
    ("components.harm.points_per_day", "Crime harm: points per harm day", False),
    ("components.harm.cap", "Crime harm: most points", False),
    ("components.harm.window_months", "Crime harm: window in months", True),
    ("components.risk.weight", "Risk: points for an OGRS3 2-year probability of 100%", False),
    ("components.neighbourhood.weight", "Neighbourhood crime: weight", False),
    ("components.local_priority.points_per_offence", "Local priority: points per offence", False),
    ("components.local_priority.cap", "Local priority: most points", False),
    ("components.intelligence.points_per_item", "Intelligence: points per item", False),
    ("components.intelligence.cap", "Intelligence: most points", False),
    ("components.cost.points_per_thousand", "Cost of crime: points per £1,000", False),
    ("components.cost.cap", "Cost of crime: most points", False),
    ("flags.long_custody_days", "Long custody: days to expected release", True),
    ("eligibility.min_age", "Eligibility: minimum age", True),
    ("eligibility.min_offences", "Eligibility: minimum offences in the window", True),
    ("eligibility.min_score", "Eligibility: minimum score", False),
    ("store.max_candidates", "Candidates stored per run", True),
]


def field_name(path: str) -> str:
    return "cfg__" + path.replace(".", "__")


def get_path(config: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(config, dict) or part not in config:
            return None
        config = config[part]
    return config


def set_path(config: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        config = config.setdefault(part, {})
    config[parts[-1]] = value


class PublishForm(forms.Form):
    """The common part of publishing a new version of any scoring rule set."""

    effective_from = forms.DateField(
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the date the new version applies from",
            "invalid": "Date it applies from must be a real date, like 1/4/2025",
        },
    )
    source = forms.CharField(
        max_length=4000,
        error_messages={
            "required": "Enter where the values come from, with their status ([V], [V2] or [U])"
        },
    )
    change_note = forms.CharField(
        max_length=4000,
        error_messages={"required": "Enter why this version is being made"},
    )

    def __init__(self, *args: Any, latest: Any, **kwargs: Any) -> None:
        self.latest = latest
        super().__init__(*args, **kwargs)

    def build_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def field_for_path(self, path: str) -> str | None:
        """Which input a validation error at `path` belongs to (None: the whole form)."""
        return None


class PolicyPublishForm(PublishForm):
    harm_table = forms.ChoiceField(label="Crime-harm table version")
    cost_table = forms.ChoiceField(label="Unit-cost table version")

    def __init__(self, *args: Any, latest: ScoringPolicy, **kwargs: Any) -> None:
        super().__init__(*args, latest=latest, **kwargs)
        self.number_fields: list[tuple[str, str]] = []
        for path, label, integer in POLICY_FIELDS:
            name = field_name(path)
            current = get_path(latest.config, path)
            messages = {
                "required": f"Enter {label.lower()}",
                "invalid": f"{label} must be {'a whole number' if integer else 'a number'}",
                "min_value": f"{label} must be 0 or more",
            }
            field: forms.Field = (
                forms.IntegerField(min_value=0, max_value=10**7, error_messages=messages)
                if integer
                else forms.FloatField(min_value=0, max_value=10**7, error_messages=messages)
            )
            field.label = label
            field.initial = current
            self.fields[name] = field
            self.number_fields.append((name, path))
        for name, model, ref in (
            ("harm_table", CrimeHarmTable, latest.config.get("harm_table", {})),
            ("cost_table", UnitCostTable, latest.config.get("cost_table", {})),
        ):
            versions = model.objects.order_by("key", "-version")
            choice = self.fields[name]
            assert isinstance(choice, forms.ChoiceField)
            choice.choices = [
                (f"{v.key}:{v.version}", f"{v.name} – version {v.version}") for v in versions
            ]
            choice.initial = f"{ref.get('key')}:{ref.get('version')}"

    def build_config(self) -> dict[str, Any]:
        config = copy.deepcopy(self.latest.config)
        for name, path in self.number_fields:
            set_path(config, path, self.cleaned_data[name])
        for name in ("harm_table", "cost_table"):
            key, _, version = self.cleaned_data[name].rpartition(":")
            config[name] = {"key": key, "version": int(version)}
        return config

    def field_for_path(self, path: str) -> str | None:
        path = path.removeprefix("config.")
        for name, p in self.number_fields:
            if path == p:
                return name
        for name in ("harm_table", "cost_table"):
            if path.startswith(name):
                return name
        return None


class TablePublishForm(PublishForm):
    config = forms.CharField(
        max_length=500_000,
        error_messages={"required": "Enter the table as JSON"},
    )

    def __init__(self, *args: Any, latest: Any, **kwargs: Any) -> None:
        super().__init__(*args, latest=latest, **kwargs)
        self.fields["config"].initial = json.dumps(latest.config, indent=2, ensure_ascii=False)

    def clean_config(self) -> dict[str, Any]:
        text = self.cleaned_data["config"]
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"The table is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError('The table must be a JSON object, like {"default": …}')
        return value

    def build_config(self) -> dict[str, Any]:
        config: dict[str, Any] = self.cleaned_data["config"]
        return config

    def field_for_path(self, path: str) -> str | None:
        return "config" if path.startswith("config") else None
