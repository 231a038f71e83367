"""API schemas for value for money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class PolicyVersionOut(Schema):
    id: int
    key: str
    version: int
    name: str
    effective_from: dt.date
    source: str
    change_note: str
    config: dict[str, Any]
    in_force: bool = Field(description="The version that applies today.")
    created_at: dt.datetime
    created_by: str | None


class PolicyPublishIn(Schema):
    config: dict[str, Any] = Field(..., description="The whole configuration (see the docs).")
    effective_from: dt.date
    source: str = Field(..., max_length=4000)
    change_note: str = Field(..., max_length=4000)
    name: str | None = Field(None, max_length=200, description="Needed to start a new programme.")


class AppraiseIn(Schema):
    measure: Literal["frequency", "one_year_rate"] = Field(
        "frequency", description="What the estimate measures: reoffences per person or the rate."
    )
    comparison: float = Field(..., ge=0, le=1000, description="The comparison group's value.")
    difference: float = Field(
        ..., ge=-1000, le=1000, description="Cohort minus comparison (negative = fewer)."
    )
    ci_low: float = Field(..., ge=-1000, le=1000)
    ci_high: float = Field(..., ge=-1000, le=1000)
    cohort_size: int = Field(..., ge=1, le=10**7, description="People whose costs are counted.")
    programme_key: str = Field("iom-programme-costs", max_length=64)
    on: dt.date | None = Field(None, description="Use the policy versions in force then.")
    offence_mix: dict[str, float] | None = Field(
        None, description="Offence category → count or share; the assumptions' mix if omitted."
    )
    tornado_svg: bool = Field(False, description="Also return the tornado chart as SVG.")


class AppraisalOut(Schema):
    appraisal: dict[str, Any]
    tornado_svg: str | None = None


class ContractIn(Schema):
    reference: str = Field(..., max_length=64)
    name: str = Field(..., max_length=200)
    commissioner: str = Field(..., max_length=200)
    provider: str = Field(..., max_length=200)
    cohort_definition: str = Field(..., max_length=4000)
    cohort_keys: list[str] = Field(default_factory=list)
    cohort_from: dt.date
    cohort_to: dt.date
    follow_up_days: int = Field(365, ge=1, le=3650)
    waiting_days: int = Field(182, ge=0, le=3650)
    baseline_binary_rate: float = Field(..., ge=0, le=1, description="Proportion 0–1.")
    baseline_frequency: float = Field(..., ge=0, le=1000)
    frequency_basis: Literal["per_reoffender", "per_person"] = "per_reoffender"
    baseline_description: str = Field(..., max_length=4000)
    binary_target_points: float = Field(0, ge=0, le=100)
    frequency_target_percent: float = Field(0, ge=0, le=100)
    binary_payment_per_person: Decimal = Field(Decimal(0), ge=0, max_digits=12, decimal_places=2)
    frequency_payment_per_reoffence: Decimal = Field(
        Decimal(0), ge=0, max_digits=12, decimal_places=2
    )
    payment_cap: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    minimum_cohort_size: int = Field(60, ge=1, le=10**7)
    effective_from: dt.date | None = None
    notes: str = Field("", max_length=8000)
    change_note: str = Field("", max_length=4000, description="Needed for a variation.")


class ContractOut(Schema):
    id: int
    reference: str
    version: int
    name: str
    commissioner: str
    provider: str
    cohort_definition: str
    cohort_keys: list[str]
    cohort_from: dt.date
    cohort_to: dt.date
    follow_up_days: int
    waiting_days: int
    baseline_binary_rate: float
    baseline_frequency: float
    frequency_basis: str
    baseline_description: str
    binary_target_points: float
    frequency_target_percent: float
    binary_payment_per_person: Decimal
    frequency_payment_per_reoffence: Decimal
    payment_cap: Decimal | None
    minimum_cohort_size: int
    effective_from: dt.date
    notes: str
    change_note: str
    created_at: dt.datetime


class MeasureIn(Schema):
    as_of: dt.date | None = None
    cohort_size: int | None = Field(None, ge=1, le=10**7)
    reoffenders: int | None = Field(None, ge=0, le=10**7)
    reoffences: int | None = Field(None, ge=0, le=10**8)


class MeasurementOut(Schema):
    id: int
    contract_id: int
    as_of: dt.date
    source: str
    cohort_size: int
    reoffenders: int
    reoffences: int
    pending: int
    result: dict[str, Any]
    created_at: dt.datetime
