"""API schemas for evaluations and the board dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class EvaluationOut(Schema):
    id: int
    title: str
    kind: str = Field(description="database (the area's data) or table (an uploaded table).")
    status: str = Field(description="queued, running, done or failed.")
    progress_stage: str
    progress: int = Field(description="Percentage complete.")
    error: str
    requested_by: str | None
    rerun_of: int | None
    data_fingerprint: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    headline: str = Field(description="The per-100 summary, once done.")
    url: str


class EvaluationDetail(EvaluationOut):
    config: dict[str, Any] = Field(
        description="spec (EvaluationSpec), and selection and as_of in database mode."
    )
    software: dict[str, str]
    input_rows: int | None
    result: dict[str, Any] | None = Field(description="EvaluationResult.to_dict(), once done.")


class EvaluationList(Schema):
    count: int
    items: list[EvaluationOut]


class MatchingIn(Schema):
    ratio: int = Field(1, ge=1, le=10, description="Comparison people per treated person.")
    replace: bool = Field(False, description="May a comparison person be matched more than once.")
    caliper_sd: float | None = Field(
        0.2, gt=0, le=5, description="In SDs of the logit; null for no caliper."
    )
    exact: list[str] = Field(default_factory=list, description="Match exactly on these.")


class DatabaseEvaluationIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    cohorts: list[str] = Field(default_factory=list, description="Cohort keys; empty = all.")
    registered_from: dt.date
    registered_to: dt.date
    lead_agency: str | None = Field(None, description="Agency code; null = any.")
    as_of: dt.date = Field(..., description="Measure outcomes up to this date.")
    covariates: list[str] | None = Field(
        None, description="Names from comparison.AVAILABLE_COVARIATES; null = the default set."
    )
    matching: MatchingIn = Field(default_factory=MatchingIn)  # type: ignore[arg-type]


class FlowOut(Schema):
    month: dt.date
    registered: int
    deregistered: int


class SeriesOut(Schema):
    key: str
    label: str
    values: list[int]


class LatestEvaluationOut(Schema):
    id: int
    title: str
    finished_at: dt.datetime | None
    headline: str


class DashboardOut(Schema):
    as_of: dt.date
    month_ends: list[dt.date]
    by_scheme: list[SeriesOut]
    by_rag: list[SeriesOut]
    flows: list[FlowOut]
    current_total: int
    tracking: dict[str, Any] | None
    tracking_notice: str
    latest_evaluation: LatestEvaluationOut | None
