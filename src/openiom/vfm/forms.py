"""Forms for the value-for-money pages: one input per value, each with its own error message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django import forms

from openiom.scoring.forms import DATE_FORMATS
from openiom.scoring.models import UnitCostTable
from openiom.vfm.calculations import ASSUMPTION_LABELS, RATE_MEASURES
from openiom.vfm.models import FrequencyBasis
from openiom.vfm.validation import ASSUMPTION_LIMITS, MONTHS_LIMITS

STATUS_CHOICES = [
    ("V", "[V] verified against the primary source"),
    ("V2", "[V2] from a secondary source only"),
    ("U", "[U] unconfirmed local default"),
]
ASSUMPTION_HINTS = {
    "discount_rate": "A proportion: 0.035 is 3.5% a year.",
    "horizon_years": "Whole years, for example 10.",
    "proven_to_actual": "Crimes behind each proven reoffence: 1 counts proven offences only.",
    "persistence": "Share of the first year's effect kept each following year, 0 to 1.",
    "reoffences_per_reoffender": "Used only when the estimate is a one-year rate.",
    "unit_cost_scale": "1 uses the table's values; 0.8 is 20% lower.",
    "programme_cost_scale": "1 uses the costed values; 1.2 is 20% higher.",
    "months_per_person": "Average months each person spends on the cohort.",
}
LINE = re.compile(r"^\s*(?P<label>[^:]+?)\s*:\s*(?P<value>\S+)\s*$")


def _number_field(
    label: str, *, required: bool, integer: bool, low: float, high: float
) -> forms.Field:
    messages = {
        "required": f"Enter {label.lower()}",
        "invalid": f"{label} must be {'a whole number' if integer else 'a number'}",
        "min_value": f"{label} must be {low:g} or more",
        "max_value": f"{label} must be {high:g} or less",
    }
    if integer:
        return forms.IntegerField(
            required=required, min_value=int(low), max_value=int(high), error_messages=messages
        )
    return forms.FloatField(
        required=required, min_value=low, max_value=high, error_messages=messages
    )


def parse_lines(text: str, *, what: str) -> dict[str, float]:
    """ "label: number" lines (blank lines ignored) → dict, with the line number of any error."""
    values: dict[str, float] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = LINE.match(raw)
        if match is None:
            raise forms.ValidationError(
                f"Line {number} of the {what} must look like “label: number”"
            )
        label, value = match.group("label"), match.group("value").replace(",", "")
        try:
            values[label] = float(value)
        except ValueError:
            raise forms.ValidationError(
                f"Line {number} of the {what}: “{match.group('value')}” is not a number"
            ) from None
        if label in list(values)[:-1]:
            raise forms.ValidationError(f"Line {number} of the {what}: “{label}” appears twice")
    if not values:
        raise forms.ValidationError(f"Enter at least one line in the {what}")
    return values


def format_lines(values: dict[str, Any]) -> str:
    return "\n".join(
        f"{k}: {v:g}" if isinstance(v, int | float) else f"{k}: {v}" for k, v in values.items()
    )


class _PublishBase(forms.Form):
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
        max_length=4000, error_messages={"required": "Enter why this version is being made"}
    )

    def __init__(self, *args: Any, latest: Any, **kwargs: Any) -> None:
        self.latest = latest
        super().__init__(*args, **kwargs)

    def _assumption_fields(
        self, key: str, current: dict[str, Any], limits: tuple[float, float, bool]
    ) -> None:
        label = ASSUMPTION_LABELS[key][0]
        low, high, integer = limits
        for part, text, required in (
            ("value", label, True),
            ("low", f"{label}: low value", False),
            ("high", f"{label}: high value", False),
        ):
            field = _number_field(text, required=required, integer=integer, low=low, high=high)
            field.label = {"value": "Central value", "low": "Low value", "high": "High value"}[part]
            field.initial = current.get(part)
            self.fields[f"{key}__{part}"] = field
        status = forms.ChoiceField(
            choices=STATUS_CHOICES,
            label="Status",
            error_messages={"required": f"Select the status of {label.lower()}"},
        )
        status.initial = current.get("status", "U")
        self.fields[f"{key}__status"] = status
        source = forms.CharField(
            max_length=4000,
            label="Source",
            error_messages={"required": f"Enter where {label.lower()} comes from"},
        )
        source.initial = current.get("source", "")
        self.fields[f"{key}__source"] = source

    def _assumption_config(self, key: str) -> dict[str, Any]:
        d = self.cleaned_data
        item: dict[str, Any] = {"value": d[f"{key}__value"]}
        if d.get(f"{key}__low") is not None:
            item["low"] = d[f"{key}__low"]
        if d.get(f"{key}__high") is not None:
            item["high"] = d[f"{key}__high"]
        item["status"] = d[f"{key}__status"]
        item["source"] = d[f"{key}__source"]
        return item

    def _check_range(self, key: str) -> None:
        d = self.cleaned_data
        value, low, high = (d.get(f"{key}__{p}") for p in ("value", "low", "high"))
        label = ASSUMPTION_LABELS[key][0]
        if (
            (low is None) != (high is None)
            and f"{key}__low" not in self.errors
            and f"{key}__high" not in self.errors
        ):
            missing = f"{key}__high" if high is None else f"{key}__low"
            self.add_error(missing, f"{label}: give both a low and a high value, or neither")
        if value is not None and low is not None and low > value:
            self.add_error(
                f"{key}__low", f"{label}: the low value must not be above the central value"
            )
        if value is not None and high is not None and high < value:
            self.add_error(
                f"{key}__high", f"{label}: the high value must not be below the central value"
            )

    def assumption_groups(self, keys: list[str]) -> Iterator[dict[str, Any]]:
        for key in keys:
            yield {
                "key": key,
                "label": ASSUMPTION_LABELS[key][0],
                "hint": ASSUMPTION_HINTS.get(key, ""),
                "fields": [self[f"{key}__{p}"] for p in ("value", "low", "high")],
                "status": self[f"{key}__status"],
                "source": self[f"{key}__source"],
            }

    def field_for_path(self, path: str) -> str | None:
        raise NotImplementedError


class AssumptionsPublishForm(_PublishBase):
    appraisal_year = forms.CharField(
        max_length=9,
        label="Price year of the results",
        error_messages={"required": "Enter the price year to express results in, like 2024"},
    )
    unit_cost_table = forms.ChoiceField(label="Unit costs of crime table")
    deflator_series = forms.CharField(
        max_length=200,
        label="Deflator series",
        error_messages={"required": "Enter the name of the deflator series"},
    )
    deflator_base = forms.CharField(max_length=60, required=False, label="Base year")
    deflator_status = forms.ChoiceField(choices=STATUS_CHOICES, label="Status of the deflator")
    deflator_source = forms.CharField(
        max_length=4000, error_messages={"required": "Enter where the deflator values come from"}
    )
    deflator_index = forms.CharField(
        max_length=20000,
        label="Deflator index by year",
        error_messages={"required": "Enter the deflator index, one “year: value” a line"},
    )
    mix_status = forms.ChoiceField(choices=STATUS_CHOICES, label="Status of the offence mix")
    mix_source = forms.CharField(
        max_length=4000, error_messages={"required": "Enter where the offence mix comes from"}
    )
    mix_shares = forms.CharField(
        max_length=20000,
        label="Offence mix",
        error_messages={"required": "Enter the offence mix, one “category: share” a line"},
    )

    KEYS = list(ASSUMPTION_LIMITS)

    def __init__(self, *args: Any, latest: Any, **kwargs: Any) -> None:
        super().__init__(*args, latest=latest, **kwargs)
        config = latest.config
        for key in self.KEYS:
            self._assumption_fields(key, config.get(key) or {}, ASSUMPTION_LIMITS[key])
        tables = UnitCostTable.objects.order_by("key", "-version")
        choice = self.fields["unit_cost_table"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [
            (f"{t.key}:{t.version}", f"{t.name} – version {t.version}") for t in tables
        ]
        ref = config.get("unit_cost_table") or {}
        deflator = config.get("deflator") or {}
        mix = config.get("offence_mix") or {}
        initial = {
            "appraisal_year": config.get("appraisal_year", ""),
            "unit_cost_table": f"{ref.get('key')}:{ref.get('version')}",
            "deflator_series": deflator.get("series", ""),
            "deflator_base": deflator.get("base", ""),
            "deflator_status": deflator.get("status", "U"),
            "deflator_source": deflator.get("source", ""),
            "deflator_index": format_lines(deflator.get("index") or {}),
            "mix_status": mix.get("status", "U"),
            "mix_source": mix.get("source", ""),
            "mix_shares": format_lines(mix.get("shares") or {}),
        }
        for name, value in initial.items():
            self.fields[name].initial = value

    def assumption_groups_all(self) -> list[dict[str, Any]]:
        return list(self.assumption_groups(self.KEYS))

    def clean_deflator_index(self) -> dict[str, float]:
        return parse_lines(self.cleaned_data["deflator_index"], what="deflator index")

    def clean_mix_shares(self) -> dict[str, float]:
        return parse_lines(self.cleaned_data["mix_shares"], what="offence mix")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for key in self.KEYS:
            self._check_range(key)
        return cleaned

    def build_config(self) -> dict[str, Any]:
        d = self.cleaned_data
        key, _, version = d["unit_cost_table"].rpartition(":")
        config: dict[str, Any] = {
            "currency": self.latest.config.get("currency", "GBP"),
            "appraisal_year": d["appraisal_year"].strip(),
            "unit_cost_table": {"key": key, "version": int(version)},
            "deflator": {
                "series": d["deflator_series"],
                "base": d["deflator_base"],
                "status": d["deflator_status"],
                "source": d["deflator_source"],
                "index": d["deflator_index"],
            },
        }
        for k in self.KEYS:
            config[k] = self._assumption_config(k)
        config["offence_mix"] = {
            "status": d["mix_status"],
            "source": d["mix_source"],
            "shares": d["mix_shares"],
        }
        return config

    def field_for_path(self, path: str) -> str | None:
        path = path.removeprefix("config.")
        parts = path.split(".")
        if parts[0] in self.KEYS and len(parts) > 1 and f"{parts[0]}__{parts[1]}" in self.fields:
            return f"{parts[0]}__{parts[1]}"
        if parts[0] in self.KEYS:
            return f"{parts[0]}__value"
        if parts[0] == "deflator":
            sub = parts[1] if len(parts) > 1 else "index"
            return f"deflator_{sub}" if f"deflator_{sub}" in self.fields else "deflator_index"
        if parts[0] == "offence_mix":
            sub = parts[1] if len(parts) > 1 else "shares"
            return f"mix_{sub}" if f"mix_{sub}" in self.fields else "mix_shares"
        if parts[0] in self.fields:
            return parts[0]
        return None


# --- programme costs -----------------------------------------------------------------------------

ROW_SPECS: dict[str, list[tuple[str, str, str]]] = {
    # section: (field, label, kind)
    "staff": [
        ("agency", "Agency", "text"),
        ("role", "Role", "optional"),
        ("hours_per_person_month", "Hours per person-month", "number"),
        ("hourly_cost", "Cost per hour (£)", "number"),
        ("status", "Status", "status"),
        ("source", "Source", "text"),
    ],
    "interventions": [
        ("name", "Intervention", "text"),
        ("cost_per_participant", "Cost per participant (£)", "number"),
        ("share_receiving", "Share of the cohort receiving it (0 to 1)", "share"),
        ("status", "Status", "status"),
        ("source", "Source", "text"),
    ],
    "set_up": [
        ("name", "Set-up item", "text"),
        ("cost", "One-off cost (£)", "number"),
        ("status", "Status", "status"),
        ("source", "Source", "text"),
    ],
}
SECTION_NAMES = {
    "staff": "Staff time by agency",
    "interventions": "Interventions",
    "set_up": "Set-up costs",
}
SECTION_ROW = {"staff": "Staff row", "interventions": "Intervention", "set_up": "Set-up item"}
BLANK_ROWS = {"staff": 2, "interventions": 2, "set_up": 1}


class ProgrammePublishForm(_PublishBase):
    price_year = forms.CharField(
        max_length=9,
        label="Price year of these costs",
        error_messages={"required": "Enter the price year of the costs, like 2024"},
    )
    name = forms.CharField(max_length=200, required=False, label="Name of the programme")

    def __init__(self, *args: Any, latest: Any, **kwargs: Any) -> None:
        super().__init__(*args, latest=latest, **kwargs)
        config = latest.config
        self.fields["price_year"].initial = config.get("price_year", "")
        self.fields["name"].initial = latest.name
        self._assumption_fields(
            "months_per_person", config.get("months_per_person") or {}, MONTHS_LIMITS
        )
        self.rows: dict[str, int] = {}
        for section, spec in ROW_SPECS.items():
            existing = list(config.get(section) or [])
            count = len(existing) + BLANK_ROWS[section]
            self.rows[section] = count
            for i in range(count):
                row = existing[i] if i < len(existing) else {}
                for name, label, kind in spec:
                    field: forms.Field
                    if kind == "status":
                        field = forms.ChoiceField(
                            choices=[("", "Choose"), *STATUS_CHOICES], required=False
                        )
                    elif kind in ("number", "share"):
                        high = 1.0 if kind == "share" else 10**9
                        field = _number_field(
                            f"{SECTION_ROW[section]} {i + 1}: {label.lower()}",
                            required=False,
                            integer=False,
                            low=0.0,
                            high=high,
                        )
                    else:
                        field = forms.CharField(max_length=4000, required=False)
                    field.label = label
                    field.initial = row.get(name, "U" if kind == "status" and row else None)
                    self.fields[f"{section}_{i}_{name}"] = field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._check_range("months_per_person")
        for section, spec in ROW_SPECS.items():
            for i in range(self.rows[section]):
                names = [f"{section}_{i}_{n}" for n, _, _ in spec]
                filled = [n for n in names if cleaned.get(n) not in (None, "") or n in self.errors]
                if not filled:
                    continue
                for (_field, label, kind), name in zip(spec, names, strict=True):
                    if kind == "optional" or name in self.errors:
                        continue
                    if cleaned.get(name) in (None, ""):
                        self.add_error(
                            name, f"{SECTION_ROW[section]} {i + 1}: enter the {label.lower()}"
                        )
        return cleaned

    def clean_price_year(self) -> str:
        from django.utils import timezone

        from openiom.vfm import selectors
        from openiom.vfm.calculations import AppraisalError, assumptions_from_config

        year = str(self.cleaned_data["price_year"]).strip()
        on = self.cleaned_data.get("effective_from") or timezone.localdate()
        record = selectors.assumptions_in_force(on=on)
        if record is not None:
            try:
                assumptions_from_config(record.config).deflator.lookup(year)
            except AppraisalError as exc:
                raise forms.ValidationError(f"Price year: {exc.reason}") from None
        return year

    def months_groups(self) -> list[dict[str, Any]]:
        return list(self.assumption_groups(["months_per_person"]))

    def row_groups(self) -> Iterator[dict[str, Any]]:
        for section, spec in ROW_SPECS.items():
            rows = [
                {
                    "number": i + 1,
                    "fields": [self[f"{section}_{i}_{n}"] for n, _, _ in spec],
                }
                for i in range(self.rows[section])
            ]
            yield {
                "section": section,
                "title": SECTION_NAMES[section],
                "row_name": SECTION_ROW[section],
                "rows": rows,
            }

    def build_config(self) -> dict[str, Any]:
        d = self.cleaned_data
        config: dict[str, Any] = {
            "currency": self.latest.config.get("currency", "GBP"),
            "price_year": d["price_year"].strip(),
            "months_per_person": self._assumption_config("months_per_person"),
        }
        for section, spec in ROW_SPECS.items():
            rows = []
            for i in range(self.rows[section]):
                values = {n: d.get(f"{section}_{i}_{n}") for n, _, _ in spec}
                if all(v in (None, "") for v in values.values()):
                    continue
                if "role" in values and values["role"] is None:
                    values["role"] = ""
                rows.append(values)
            config[section] = rows
        return config

    def field_for_path(self, path: str) -> str | None:
        path = path.removeprefix("config.")
        match = re.match(r"(staff|interventions|set_up)\[(\d+)\](?:\.(\w+))?", path)
        if match:
            section, index, name = match.group(1), int(match.group(2)), match.group(3)
            # Blank rows are dropped from the config, so map the n-th kept row back to its inputs.
            kept = [
                i
                for i in range(self.rows[section])
                if any(
                    self.cleaned_data.get(f"{section}_{i}_{n}") not in (None, "")
                    for n, _, _ in ROW_SPECS[section]
                )
            ]
            if index < len(kept):
                candidate = f"{section}_{kept[index]}_{name or ROW_SPECS[section][0][0]}"
                return candidate if candidate in self.fields else None
            return None
        if path.startswith("months_per_person"):
            parts = path.split(".")
            return (
                f"months_per_person__{parts[1]}"
                if len(parts) > 1 and f"months_per_person__{parts[1]}" in self.fields
                else "months_per_person__value"
            )
        if path.split(".")[0] in self.fields:
            return path.split(".")[0]
        if path.startswith("staff"):
            return "staff_0_agency"
        return None


# --- contracts ------------------------------------------------------------------------------------


class ContractForm(forms.Form):
    reference = forms.SlugField(
        max_length=64,
        error_messages={
            "required": "Enter a reference for the contract, like iom-pbr-2026",
            "invalid": "Reference must use only letters, numbers, hyphens and underscores",
        },
    )
    name = forms.CharField(max_length=200, error_messages={"required": "Enter the contract's name"})
    commissioner = forms.CharField(
        max_length=200, error_messages={"required": "Enter who pays for the results"}
    )
    provider = forms.CharField(
        max_length=200, error_messages={"required": "Enter who is paid for the results"}
    )
    cohort_definition = forms.CharField(
        max_length=4000, error_messages={"required": "Enter who is in the measured cohort"}
    )
    cohort_keys = forms.CharField(max_length=400, required=False)
    cohort_from = forms.DateField(
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the first registration date counted",
            "invalid": "First registration date must be a real date, like 1/4/2025",
        },
    )
    cohort_to = forms.DateField(
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the last registration date counted",
            "invalid": "Last registration date must be a real date, like 31/3/2026",
        },
    )
    follow_up_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        initial=365,
        error_messages={
            "required": "Enter the follow-up period in days",
            "invalid": "Follow-up period must be a whole number of days",
            "min_value": "Follow-up period must be at least 1 day",
            "max_value": "Follow-up period must be 3650 days or less",
        },
    )
    waiting_days = forms.IntegerField(
        min_value=0,
        max_value=3650,
        initial=182,
        error_messages={
            "required": "Enter the waiting period in days",
            "invalid": "Waiting period must be a whole number of days",
            "min_value": "Waiting period must be 0 days or more",
            "max_value": "Waiting period must be 3650 days or less",
        },
    )
    baseline_binary_percent = forms.FloatField(
        min_value=0,
        max_value=100,
        error_messages={
            "required": "Enter the baseline percentage reoffending",
            "invalid": "Baseline percentage reoffending must be a number, like 56",
            "min_value": "Baseline percentage reoffending must be 0 or more",
            "max_value": "Baseline percentage reoffending must be 100 or less",
        },
    )
    baseline_frequency = forms.FloatField(
        min_value=0,
        max_value=1000,
        error_messages={
            "required": "Enter the baseline frequency",
            "invalid": "Baseline frequency must be a number, like 2.9",
            "min_value": "Baseline frequency must be 0 or more",
            "max_value": "Baseline frequency must be 1000 or less",
        },
    )
    frequency_basis = forms.ChoiceField(
        choices=FrequencyBasis.choices,
        initial=FrequencyBasis.PER_REOFFENDER,
        error_messages={"required": "Select what the frequency is counted per"},
    )
    baseline_description = forms.CharField(
        max_length=4000,
        error_messages={"required": "Enter where the baseline comes from"},
    )
    binary_target_points = forms.FloatField(
        min_value=0,
        max_value=100,
        initial=0,
        error_messages={
            "required": "Enter the reduction in percentage points needed for the binary payment",
            "invalid": "Binary target must be a number of percentage points, like 5",
            "min_value": "Binary target must be 0 or more",
            "max_value": "Binary target must be 100 or less",
        },
    )
    frequency_target_percent = forms.FloatField(
        min_value=0,
        max_value=100,
        initial=0,
        error_messages={
            "required": "Enter the reduction in per cent needed for the frequency payment",
            "invalid": "Frequency target must be a percentage, like 10",
            "min_value": "Frequency target must be 0 or more",
            "max_value": "Frequency target must be 100 or less",
        },
    )
    binary_payment_per_person = forms.DecimalField(
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=0,
        error_messages={
            "required": "Enter the payment per person fewer reoffending (0 for none)",
            "invalid": "Payment per person must be an amount in pounds, like 1500",
            "min_value": "Payment per person must be 0 or more",
            "max_decimal_places": "Payment per person must be in pounds and pence",
            "max_digits": "Payment per person is too large",
            "max_whole_digits": "Payment per person is too large",
        },
    )
    frequency_payment_per_reoffence = forms.DecimalField(
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=0,
        error_messages={
            "required": "Enter the payment per reoffence fewer (0 for none)",
            "invalid": "Payment per reoffence must be an amount in pounds, like 700",
            "min_value": "Payment per reoffence must be 0 or more",
            "max_decimal_places": "Payment per reoffence must be in pounds and pence",
            "max_digits": "Payment per reoffence is too large",
            "max_whole_digits": "Payment per reoffence is too large",
        },
    )
    payment_cap = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        error_messages={
            "invalid": "Payment cap must be an amount in pounds, like 250000",
            "min_value": "Payment cap must be 0 or more",
            "max_decimal_places": "Payment cap must be in pounds and pence",
            "max_digits": "Payment cap is too large",
            "max_whole_digits": "Payment cap is too large",
        },
    )
    minimum_cohort_size = forms.IntegerField(
        min_value=1,
        max_value=10**7,
        initial=60,
        error_messages={
            "required": "Enter the smallest cohort for which payment is due",
            "invalid": "Minimum cohort size must be a whole number",
            "min_value": "Minimum cohort size must be 1 or more",
            "max_value": "Minimum cohort size is too large",
        },
    )
    effective_from = forms.DateField(
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the date the contract was agreed from",
            "invalid": "Date agreed from must be a real date, like 1/4/2025",
        },
    )
    notes = forms.CharField(max_length=8000, required=False)
    change_note = forms.CharField(max_length=4000, required=False)

    def clean_cohort_keys(self) -> list[str]:
        text = self.cleaned_data.get("cohort_keys") or ""
        keys = [k.strip() for k in re.split(r"[,\s]+", text) if k.strip()]
        bad = [k for k in keys if not re.fullmatch(r"[-a-zA-Z0-9_]+", k)]
        if bad:
            raise forms.ValidationError(
                f"Cohort keys must be letters, numbers and hyphens, separated by commas (not {bad[0]!r})"
            )
        return keys

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("cohort_from"), cleaned.get("cohort_to")
        if start and end and end < start:
            self.add_error("cohort_to", "Last registration date must be on or after the first")
        return cleaned

    def contract_fields(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d["baseline_binary_rate"] = d.pop("baseline_binary_percent") / 100.0
        d.pop("reference")
        d.pop("change_note")
        return d


class MeasureForm(forms.Form):
    as_of = forms.DateField(
        input_formats=DATE_FORMATS,
        error_messages={
            "required": "Enter the date the outcomes are measured at",
            "invalid": "Date measured at must be a real date, like 1/4/2025",
        },
    )
    cohort_size = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10**7,
        error_messages={
            "invalid": "Cohort size must be a whole number",
            "min_value": "Cohort size must be 1 or more",
            "max_value": "Cohort size is too large",
        },
    )
    reoffenders = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=10**7,
        error_messages={
            "invalid": "Reoffenders must be a whole number",
            "min_value": "Reoffenders must be 0 or more",
            "max_value": "Reoffenders is too large",
        },
    )
    reoffences = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=10**8,
        error_messages={
            "invalid": "Reoffences must be a whole number",
            "min_value": "Reoffences must be 0 or more",
            "max_value": "Reoffences is too large",
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        names = ("cohort_size", "reoffenders", "reoffences")
        given = [n for n in names if cleaned.get(n) is not None]
        if self.data.get("mode") == "entered" or given:
            for name in names:
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, f"Enter the number of {name.replace('_', ' ')}")
        n, r, o = (cleaned.get(x) for x in names)
        if n is not None and r is not None and r > n:
            self.add_error("reoffenders", "Reoffenders cannot be more than the cohort size")
        if r is not None and o is not None and o < r:
            self.add_error("reoffences", "Reoffences cannot be fewer than reoffenders")
        return cleaned


# --- appraisal calculator --------------------------------------------------------------------------


class AppraiseForm(forms.Form):
    measure = forms.ChoiceField(
        choices=[
            ("frequency", "Reoffences per person (frequency)"),
            ("one_year_rate", "One-year proven reoffending rate"),
        ],
        initial="frequency",
        error_messages={"required": "Select what the estimate measures"},
    )
    comparison = forms.FloatField(
        min_value=0,
        max_value=1000,
        error_messages={
            "required": "Enter the comparison group's value",
            "invalid": "Comparison group's value must be a number, like 2.05",
            "min_value": "Comparison group's value must be 0 or more",
            "max_value": "Comparison group's value must be 1000 or less",
        },
    )
    difference = forms.FloatField(
        min_value=-1000,
        max_value=1000,
        error_messages={
            "required": "Enter the difference (cohort minus comparison)",
            "invalid": "Difference must be a number, like -0.4",
            "min_value": "Difference must be −1000 or more",
            "max_value": "Difference must be 1000 or less",
        },
    )
    ci_low = forms.FloatField(
        min_value=-1000,
        max_value=1000,
        error_messages={
            "required": "Enter the lower limit of the 95% confidence interval",
            "invalid": "Lower limit must be a number, like -0.8",
            "min_value": "Lower limit must be −1000 or more",
            "max_value": "Lower limit must be 1000 or less",
        },
    )
    ci_high = forms.FloatField(
        min_value=-1000,
        max_value=1000,
        error_messages={
            "required": "Enter the upper limit of the 95% confidence interval",
            "invalid": "Upper limit must be a number, like 0",
            "min_value": "Upper limit must be −1000 or more",
            "max_value": "Upper limit must be 1000 or less",
        },
    )
    cohort_size = forms.IntegerField(
        min_value=1,
        max_value=10**7,
        error_messages={
            "required": "Enter the number of people in the cohort",
            "invalid": "Cohort size must be a whole number",
            "min_value": "Cohort size must be 1 or more",
            "max_value": "Cohort size is too large",
        },
    )
    programme = forms.ChoiceField(error_messages={"required": "Select the programme costs"})

    def __init__(self, *args: Any, programmes: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice = self.fields["programme"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [(p.key, f"{p.name} (version {p.version})") for p in programmes]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        d, lo, hi = cleaned.get("difference"), cleaned.get("ci_low"), cleaned.get("ci_high")
        if lo is not None and hi is not None and lo > hi:
            self.add_error("ci_low", "Lower limit must not be above the upper limit")
        elif d is not None and lo is not None and hi is not None and not lo <= d <= hi:
            self.add_error("difference", "Difference must lie inside its confidence interval")
        if cleaned.get("measure") in RATE_MEASURES:
            comp = cleaned.get("comparison")
            if comp is not None and comp > 1:
                self.add_error("comparison", "A one-year rate is a proportion: enter 0.56 for 56%")
        return cleaned
