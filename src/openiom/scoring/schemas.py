"""API schemas for scoring runs, candidates and rule sets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class PolicyRef(Schema):
    id: int
    key: str
    version: int
    name: str


class RunOut(Schema):
    id: int
    policy: PolicyRef
    strand: str
    harm_table: PolicyRef | None
    cost_table: PolicyRef | None
    as_of: dt.date
    status: str
    progress: int = Field(description="Percentage complete.")
    progress_note: str
    error: str
    input_fingerprint: str
    input_counts: dict[str, Any]
    people_scored: int
    eligible_count: int
    candidates_stored: int
    trigger: str
    requested_by: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class RunList(Schema):
    count: int
    limit: int
    offset: int
    results: list[RunOut]


class RunIn(Schema):
    policy_key: str = Field(..., max_length=64, description="Scoring policy key.")
    policy_version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Version to use; the latest if omitted."
    )
    as_of: dt.date = Field(..., description="Date to score as of (today or earlier).")


class CandidateOut(Schema):
    person_id: int
    name: str | None = Field(description="Empty when the record is restricted from you.")
    hub: str | None
    rank: int
    total: float
    eligible: bool
    ogrs3_2yr: float | None
    ogrs3_band: str
    flags: list[str]
    breakdown: str
    components: dict[str, Any]


class CandidateList(Schema):
    run_id: int
    notice: str
    count: int
    limit: int
    offset: int
    results: list[CandidateOut]


class ExplanationOut(CandidateOut):
    run_id: int
    eligible_rank: int | None
    as_of: dt.date
    policy: PolicyRef
    harm_table: PolicyRef | None
    cost_table: PolicyRef | None
    input_fingerprint: str
    notice: str


class RuleSetOut(Schema):
    kind: str
    id: int
    key: str
    version: int
    name: str
    strand: str | None
    effective_from: dt.date
    source: str
    status_tags: list[str]
    change_note: str
    created_at: dt.datetime


class RuleSetDetail(RuleSetOut):
    config: dict[str, Any]
