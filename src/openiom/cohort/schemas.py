"""API shapes for the cohort lifecycle. Who may do or see what is decided by the services and
selectors; these only check that input is well formed, naming the field when it is not."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from openiom.cohort.models import Reconsideration
from openiom.people.schemas import AgencyOut, HubOut

MAX_ID = 2**63 - 1  # larger ids overflow the database's integer
MAX_TEXT = 10_000
# Dates outside this range are typing mistakes, and far-future ones overflow date arithmetic.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def clean_text(value: str) -> str:
    # NUL is refused by PostgreSQL; other control characters are never meant.
    if any(not ch.isprintable() and ch not in _ALLOWED_CONTROLS and ch != " " for ch in value):
        raise PydanticCustomError("value_error", "must not contain control characters")
    return value.strip()


def required(message: str) -> AfterValidator:
    def check(value: str) -> str:
        if not value:
            raise PydanticCustomError("value_error", message)
        return value

    return AfterValidator(check)


def _sane_date(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError(
            "value_error",
            f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}",
        )
    return value


Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(clean_text)]
Code = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[-a-zA-Z0-9_]+$"),
]
Username = Annotated[str, Field(min_length=1, max_length=150), AfterValidator(clean_text)]
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Count = Annotated[int, Field(strict=True, ge=0, le=100_000)]
QueryCount = Annotated[int, Field(ge=0, le=100_000)]
Date = Annotated[dt.date, AfterValidator(_sane_date)]

ReferralStateName = Literal["draft", "submitted", "listed", "adopted", "not_adopted", "withdrawn"]
RagName = Literal["red", "amber", "green"]
DeregistrationReasonName = Literal[
    "green_exit_plan", "long_custody", "moved_away", "deceased", "mappa", "risk_reduced", "other"
]
PolicyKind = Literal["cohort", "rag", "deregistration"]
ReconsiderationOutcomeName = Literal["re_referred", "no_further_action", "cancelled"]


# --- Shared pieces -----------------------------------------------------------------------------


class UserOut(Schema):
    username: str
    full_name: str


def user_out(user: Any) -> dict[str, str] | None:
    if user is None:
        return None
    return {"username": user.get_username(), "full_name": user.get_full_name()}


class PersonRef(Schema):
    id: int
    first_names: str
    surname: str
    date_of_birth: dt.date
    hub: HubOut


class CohortRef(Schema):
    """A cohort definition version (the panel adopts into the version in force)."""

    id: int
    key: str
    version: int
    name: str


class PolicyRef(Schema):
    key: str
    version: int


# --- Referrals ---------------------------------------------------------------------------------


class ReferralIn(Schema):
    person_id: Id
    reason: Annotated[
        Text, required("Give a reason for the referral: why should the panel consider them?")
    ]
    evidence: Text = ""
    proposed_cohort: Code | None = Field(
        None, description="Key of the cohort proposed (e.g. fixed); the panel decides."
    )
    new_information: Text = Field(
        "", description="Needed when the person's last referral was not adopted."
    )
    submit: bool = Field(False, description="Submit to the coordinator at once.")


class ReReferralIn(Schema):
    reason: Annotated[
        Text, required("Give a reason for the referral: why should the panel consider them?")
    ]
    new_information: Annotated[
        Text, required("Say what is new since the panel decided not to adopt")
    ]
    evidence: Text = ""
    proposed_cohort: Code | None = None
    submit: bool = False


class ListForPanelIn(Schema):
    panel_date: Date
    note: Text = ""


class WithdrawIn(Schema):
    reason: Annotated[Text, required("Give a reason for withdrawing the referral")]


class StateChangeOut(Schema):
    from_state: str
    to_state: str
    reason: str
    changed_by: UserOut
    changed_by_agency: str | None = None
    changed_at: dt.datetime

    @staticmethod
    def resolve_changed_by(obj: Any) -> dict[str, str] | None:
        return user_out(obj.changed_by)

    @staticmethod
    def resolve_changed_by_agency(obj: Any) -> str | None:
        agency = obj.changed_by_agency
        return agency.code if agency is not None else None


class ReferralOut(Schema):
    id: int
    person: PersonRef
    state: ReferralStateName
    proposed_cohort: CohortRef | None
    referred_by: UserOut
    referring_agency: AgencyOut
    reason: str
    evidence: str
    previous_referral_id: int | None
    new_information: str
    panel_date: dt.date | None
    outcome_reason: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_referred_by(obj: Any) -> dict[str, str] | None:
        return user_out(obj.referred_by)


class ReferralList(Schema):
    """`scope` says which list this is: the coordinator's queue or your agency's referrals."""

    scope: Literal["queue", "agency"]
    count: int
    results: list[ReferralOut]


class ReferralDetail(ReferralOut):
    state_changes: list[StateChangeOut]
    panel_decision_ids: list[int]
    next_states: list[str] = Field(description="States the referral can move to from here.")
    reconsideration_id: int | None = Field(
        None, description="The reconsideration that re-referred the person, if any."
    )

    @staticmethod
    def resolve_reconsideration_id(obj: Any) -> int | None:
        return (
            Reconsideration.objects.filter(referral_id=obj.pk).values_list("pk", flat=True).first()
        )

    @staticmethod
    def resolve_panel_decision_ids(obj: Any) -> list[int]:
        return [d.pk for d in obj.panel_decisions.all()]

    @staticmethod
    def resolve_next_states(obj: Any) -> list[str]:
        from openiom.cohort.services import allowed_transitions

        return sorted(str(s) for s in allowed_transitions(obj.state))


# --- Panel decisions -------------------------------------------------------------------------


class PanelDecisionIn(Schema):
    decision: Literal["adopt", "not_adopt", "defer"]
    decided_on: Date
    agencies_present: list[Code] = Field(..., min_length=1, max_length=100)
    rationale: Annotated[Text, required("Give the panel's rationale")]
    dissent: Text = ""
    dissent_agency: Code | None = None
    cohort: Code | None = Field(None, description="Cohort key; the version in force is used.")
    lead_agency: Code | None = Field(None, description="Agency code.")
    lead_worker: Username | None = Field(None, description="Username of the lead worker.")
    score: float | None = Field(None, allow_inf_nan=False, ge=-1e9, le=1e9)
    eligibility_override_reason: Text = ""
    over_capacity_reason: Text = ""
    meeting_reference: Annotated[str, Field(max_length=100), AfterValidator(clean_text)] = ""


class CriterionOut(Schema):
    criterion: str
    met: str
    reason: str


class PanelDecisionOut(Schema):
    id: int
    referral_id: int
    decision: str
    decided_on: dt.date
    agencies_present: list[str]
    rationale: str
    dissent: str
    dissent_agency: str | None = None
    cohort: CohortRef | None
    lead_agency: AgencyOut | None
    lead_worker: UserOut | None = None
    eligibility: list[CriterionOut]
    eligibility_override_reason: str
    over_capacity_reason: str
    meeting_reference: str
    recorded_by: UserOut
    created_at: dt.datetime

    @staticmethod
    def resolve_agencies_present(obj: Any) -> list[str]:
        # In the order recorded; sorted here so a prefetched list keeps it too.
        return [a.agency.code for a in sorted(obj.attendance.all(), key=lambda a: a.pk)]

    @staticmethod
    def resolve_dissent_agency(obj: Any) -> str | None:
        agency = obj.dissent_agency
        return agency.code if agency is not None else None

    @staticmethod
    def resolve_lead_worker(obj: Any) -> dict[str, str] | None:
        return user_out(obj.lead_worker)

    @staticmethod
    def resolve_recorded_by(obj: Any) -> dict[str, str] | None:
        return user_out(obj.recorded_by)


# --- Registrations -----------------------------------------------------------------------------


class RegistrationOut(Schema):
    id: int
    person: PersonRef
    cohort: CohortRef
    lead_agency: AgencyOut
    lead_worker: UserOut
    referral_id: int | None
    panel_decision_id: int | None
    start_date: dt.date
    review_date: dt.date
    planned_end_date: dt.date
    status: str
    status_since: dt.date
    end_date: dt.date | None
    deregistration_reason: str
    rag_status: str = Field(description="Latest RAG status; empty before the first assessment.")
    rag_on: dt.date | None

    @staticmethod
    def resolve_lead_worker(obj: Any) -> dict[str, str] | None:
        return user_out(obj.lead_worker)

    @staticmethod
    def resolve_rag_status(obj: Any) -> str:
        if hasattr(obj, "latest_rag"):  # annotated by selectors.cohort_register
            return str(obj.latest_rag or "")
        latest = _latest_rag(obj)
        return str(latest.status) if latest is not None else ""

    @staticmethod
    def resolve_rag_on(obj: Any) -> dt.date | None:
        if hasattr(obj, "latest_rag_on"):
            return obj.latest_rag_on
        latest = _latest_rag(obj)
        return latest.assessed_on if latest is not None else None


def _latest_rag(registration: Any) -> Any:
    return registration.rag_assessments.order_by("-assessed_on", "-created_at", "-id").first()


def _shown(obj: Any, value: Any) -> Any:
    # The API marks rows whose evidence the reader may see (see cohort.api._may_see_evidence).
    return value if getattr(obj, "show_evidence", False) else None


class DecisionResult(Schema):
    decision: PanelDecisionOut
    referral: ReferralDetail
    registration: RegistrationOut | None = Field(description="Present when the panel adopted.")


class RegistrationList(Schema):
    count: int
    results: list[RegistrationOut]


class StatusChangeOut(Schema):
    id: int
    from_status: str
    to_status: str
    changed_on: dt.date
    reason: str
    note: str
    suggestion: dict[str, Any] | None = Field(
        None, description="The exit suggestion shown at de-registration (null if not yours to see)."
    )
    deregistration_policy: PolicyRef | None
    changed_by: UserOut
    created_at: dt.datetime

    @staticmethod
    def resolve_changed_by(obj: Any) -> dict[str, str] | None:
        return user_out(obj.changed_by)

    @staticmethod
    def resolve_suggestion(obj: Any) -> Any:
        return _shown(obj, obj.suggestion)


class RuleOut(Schema):
    rule: str
    verdict: str
    reason: str


class RagAssessmentOut(Schema):
    """`suggestion_reasons` and `evidence` are null for readers who may not see offending (they
    name offence, arrest and intelligence dates) unless they may set the RAG status."""

    id: int
    status: str
    assessed_on: dt.date
    reason: str
    suggested_status: str
    differs_from_suggestion: bool
    policy: PolicyRef
    assessed_by: UserOut
    assessed_by_agency: str | None = None
    created_at: dt.datetime
    suggestion_reasons: list[RuleOut] | None = None
    evidence: dict[str, Any] | None = None

    @staticmethod
    def resolve_assessed_by(obj: Any) -> dict[str, str] | None:
        return user_out(obj.assessed_by)

    @staticmethod
    def resolve_assessed_by_agency(obj: Any) -> str | None:
        agency = obj.assessed_by_agency
        return agency.code if agency is not None else None

    @staticmethod
    def resolve_suggestion_reasons(obj: Any) -> Any:
        return _shown(obj, obj.suggestion_reasons)

    @staticmethod
    def resolve_evidence(obj: Any) -> Any:
        return _shown(obj, obj.evidence)


class RagAssessed(RagAssessmentOut):
    review_date: dt.date = Field(description="The registration's next review date, moved on.")


class ExitPlanOut(Schema):
    id: int
    plan: str
    recorded_on: dt.date
    recorded_by: UserOut
    created_at: dt.datetime

    @staticmethod
    def resolve_recorded_by(obj: Any) -> dict[str, str] | None:
        return user_out(obj.recorded_by)


class ReconsiderationOut(Schema):
    """`outcome`, `considered_on`, `outcome_note`, `closed_by` and `closed_at` are empty while the
    reconsideration is scheduled; `referral_id` is the referral made when it was re-referred."""

    id: int
    person_id: int
    registration_id: int
    due_date: dt.date
    expected_release_date: dt.date | None
    custody_episode_id: int | None
    reason: str
    status: Literal["scheduled", "considered", "cancelled"]
    outcome: ReconsiderationOutcomeName | None
    considered_on: dt.date | None
    outcome_note: str
    closed_by: UserOut | None
    closed_at: dt.datetime | None
    referral_id: int | None

    @staticmethod
    def resolve_outcome(obj: Any) -> str | None:
        return obj.outcome or None

    @staticmethod
    def resolve_closed_by(obj: Any) -> dict[str, str] | None:
        return user_out(obj.closed_by)


class ReconsiderationOutcomeIn(Schema):
    outcome: ReconsiderationOutcomeName = Field(
        description=(
            "re_referred: a referral to the selection panel is made and submitted (you are the "
            "referrer); no_further_action; cancelled (e.g. sentence changed, died, moved away)."
        )
    )
    considered_on: Date = Field(description="Date of the referral and review meeting.")
    note: Annotated[Text, required("Say what the meeting decided and why")]


class RagSuggestionOut(Schema):
    on: dt.date
    status: str
    summary: str
    results: list[RuleOut]
    evidence: dict[str, Any]
    policy: PolicyRef


class ExitRuleOut(Schema):
    rule: str
    suggests_exit: bool
    reason: str
    deregistration_reason: str
    reconsideration_due: dt.date | None
    expected_release_date: dt.date | None
    custody_episode_id: int | None


class ExitSuggestionOut(Schema):
    on: dt.date
    policy: PolicyRef | None = Field(
        description="Empty when no de-registration policy is in force."
    )
    suggests_exit: bool
    suggested_reasons: list[str]
    summary: str
    results: list[ExitRuleOut]


class RegistrationDetail(RegistrationOut):
    """`rag_suggestion` and `exit_suggestion` are present only for a current registration and a
    reader who may act on them (each one shown is recorded as a consultation)."""

    status_changes: list[StatusChangeOut]
    rag_assessments: list[RagAssessmentOut]
    exit_plans: list[ExitPlanOut]
    reconsiderations: list[ReconsiderationOut]
    rag_suggestion: RagSuggestionOut | None = None
    exit_suggestion: ExitSuggestionOut | None = None

    # The API attaches the selector's history to the registration under these names.
    @staticmethod
    def resolve_status_changes(obj: Any) -> Any:
        return obj.status_changes_list

    @staticmethod
    def resolve_rag_assessments(obj: Any) -> Any:
        return obj.rag_assessments_list

    @staticmethod
    def resolve_exit_plans(obj: Any) -> Any:
        return obj.exit_plans_list

    @staticmethod
    def resolve_reconsiderations(obj: Any) -> Any:
        return obj.reconsiderations_list

    @staticmethod
    def resolve_rag_suggestion(obj: Any) -> Any:
        return obj.rag_suggestion_out

    @staticmethod
    def resolve_exit_suggestion(obj: Any) -> Any:
        return obj.exit_suggestion_out


class StatusIn(Schema):
    status: Literal["active", "in_custody", "suspended"] = Field(
        description="De-register with POST .../deregister instead."
    )
    note: Annotated[Text, required("Say why the registration's status changed")]
    on: Date | None = Field(None, description="Date the change took effect; today if empty.")


class StatusResult(Schema):
    change: StatusChangeOut
    registration: RegistrationOut


class ReportedIn(Schema):
    """What the worker reports until case management records it; leave out what is not known."""

    appointments_kept: Count | None = None
    appointments_missed: Count | None = None
    drug_tests_negative: Count | None = None
    drug_tests_positive: Count | None = None
    stable_accommodation: bool | None = None
    in_employment: bool | None = None


class RagSuggestionQuery(Schema):
    """Query parameters (text, so numbers are parsed rather than strictly typed)."""

    on: dt.date | None = Field(None, description="Date to suggest for; today if empty.")
    appointments_kept: QueryCount | None = None
    appointments_missed: QueryCount | None = None
    drug_tests_negative: QueryCount | None = None
    drug_tests_positive: QueryCount | None = None
    stable_accommodation: bool | None = None
    in_employment: bool | None = None


class RagIn(Schema):
    status: RagName
    reason: Text = Field("", description="Needed when the decision differs from the suggestion.")
    on: Date | None = Field(None, description="Date the status applies from; today if empty.")
    reported: ReportedIn | None = None


class ExitPlanIn(Schema):
    plan: Annotated[Text, required("Write the exit plan: what support continues, and by whom")]
    on: Date | None = None


class DeregisterIn(Schema):
    reason: DeregistrationReasonName
    note: Text = ""
    on: Date | None = None
    reconsideration_due: Date | None = None
    schedule_reconsideration: bool = True


class DeregisterResult(Schema):
    change: StatusChangeOut
    registration: RegistrationOut
    reconsideration: ReconsiderationOut | None = None


# --- A person's IOM history ----------------------------------------------------------------------


class RegistrationHistoryOut(Schema):
    registration: RegistrationOut
    status_changes: list[StatusChangeOut]
    rag_assessments: list[RagAssessmentOut]
    exit_plans: list[ExitPlanOut]
    reconsiderations: list[ReconsiderationOut]


class IomHistoryOut(Schema):
    """Partner agencies see the referrals their own agency made (and every panel decision)."""

    person: PersonRef
    referrals: list[ReferralDetail]
    panel_decisions: list[PanelDecisionOut]
    registrations: list[RegistrationHistoryOut]


# --- Cohorts and policies -----------------------------------------------------------------------


class CohortOut(Schema):
    id: int
    key: str
    version: int
    name: str
    effective_from: dt.date
    source: str
    rules: dict[str, Any] = Field(description="The validated rules, defaults filled in.")
    registered: int = Field(description="Current registrations (all areas).")
    capacity: int | None


class CohortList(Schema):
    on: dt.date
    results: list[CohortOut]


class PolicyVersionOut(Schema):
    id: int
    kind: PolicyKind
    key: str
    version: int
    name: str
    effective_from: dt.date
    source: str
    change_note: str
    config: dict[str, Any]
    created_by: str | None
    created_at: dt.datetime


class PolicyVersionList(Schema):
    kind: PolicyKind
    key: str
    in_force: int | None = Field(description="The version in force today, if any.")
    results: list[PolicyVersionOut]


class PolicyIn(Schema):
    name: Annotated[
        str,
        Field(max_length=200),
        AfterValidator(clean_text),
        required("Give the policy a name people will recognise"),
    ]
    config: dict[str, Any]
    source: Annotated[Text, required("Say where the values come from and how sure they are")]
    change_note: Annotated[Text, required("Say why this version is being made")]
    effective_from: Date
