"""Suggesting de-registration (exit): independent rules, each with a plain-English reason.

Default rules (seed 001, one scheme's operational guide):
- green for three continuous months with an exit plan implemented → suggest exit;
- a custodial sentence of 5 years or more imposed → suggest de-registration and bring the case
  back to the referral and review meeting 12 months before the expected release date.
The suggestion never de-registers anyone: a coordinator decides (services.deregister) and the
suggestion shown is stored with the decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openiom.cohort.dates import add_months
from openiom.cohort.models import (
    DeregistrationPolicy,
    DeregistrationReason,
    ExitPlan,
    RagAssessment,
    RagStatus,
)
from openiom.cohort.policies import ExitRules

if TYPE_CHECKING:
    from openiom.cohort.models import Registration

POLICY_KEY = "deregistration"


@dataclass(frozen=True)
class ExitRuleResult:
    rule: str
    suggests_exit: bool
    reason: str
    deregistration_reason: str = ""  # the DeregistrationReason this rule would record
    reconsideration_due: dt.date | None = None
    expected_release_date: dt.date | None = None
    custody_episode_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "suggests_exit": self.suggests_exit,
            "reason": self.reason,
            "deregistration_reason": self.deregistration_reason,
            "reconsideration_due": self.reconsideration_due.isoformat()
            if self.reconsideration_due
            else None,
            "expected_release_date": self.expected_release_date.isoformat()
            if self.expected_release_date
            else None,
            "custody_episode_id": self.custody_episode_id,
        }


@dataclass(frozen=True)
class ExitSuggestion:
    on: dt.date
    policy_key: str
    policy_version: int | None
    results: list[ExitRuleResult] = field(default_factory=list)

    @property
    def suggests_exit(self) -> bool:
        return any(r.suggests_exit for r in self.results)

    @property
    def suggested_reasons(self) -> list[str]:
        return [r.deregistration_reason for r in self.results if r.suggests_exit]

    @property
    def summary(self) -> str:
        if self.policy_version is None:
            return "No de-registration policy is in force"
        chosen = [r.reason for r in self.results if r.suggests_exit]
        if chosen:
            return "Suggest de-registration: " + "; ".join(chosen)
        return "No de-registration suggested: " + "; ".join(r.reason for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "policy_key": self.policy_key,
            "policy_version": self.policy_version,
            "suggests_exit": self.suggests_exit,
            "summary": self.summary,
            "results": [r.as_dict() for r in self.results],
        }


def green_run_start(assessments: list[RagAssessment], on: dt.date) -> dt.date | None:
    """First day of the current unbroken run of green assessments up to `on`, or None."""
    start = None
    for a in assessments:
        if a.assessed_on > on:
            break
        start = (start or a.assessed_on) if a.status == RagStatus.GREEN else None
    return start


def rule_continuous_green_with_exit_plan(
    registration: Registration, rules: ExitRules, on: dt.date
) -> ExitRuleResult:
    name = "continuous_green_with_exit_plan"
    reason_code = DeregistrationReason.GREEN_WITH_EXIT_PLAN.value
    period = rules.green_period_text()
    assessments = list(
        RagAssessment.objects.filter(registration=registration).order_by(
            "assessed_on", "created_at", "id"
        )
    )
    if not [a for a in assessments if a.assessed_on <= on]:
        return ExitRuleResult(name, False, "No RAG status recorded yet", reason_code)
    start = green_run_start(assessments, on)
    if start is None:
        latest = [a for a in assessments if a.assessed_on <= on][-1]
        return ExitRuleResult(
            name,
            False,
            f"Currently {latest.get_status_display().lower()} (since {latest.assessed_on}); "
            f"exit needs {period} continuously green",
            reason_code,
        )
    reached = (
        start + dt.timedelta(days=rules.green_days)
        if rules.green_days is not None
        else add_months(start, rules.green_months)
    )
    if on < reached:
        return ExitRuleResult(
            name,
            False,
            f"Green since {start}: {period} continuously green is reached on {reached}",
            reason_code,
        )
    plan = (
        ExitPlan.objects.filter(registration=registration, recorded_on__lte=on)
        .order_by("-recorded_on", "-id")
        .first()
    )
    if plan is None and rules.exit_plan_required:
        return ExitRuleResult(
            name,
            False,
            f"Green continuously since {start} ({period} reached on {reached}), but no exit "
            "plan is recorded: record one before de-registering",
            reason_code,
        )
    with_plan = f" and an exit plan was recorded on {plan.recorded_on}" if plan else ""
    return ExitRuleResult(
        name,
        True,
        f"Green continuously since {start} ({period} reached on {reached}){with_plan}",
        reason_code,
    )


def _years(days: int) -> str:
    return f"{days / 365:.1f}".rstrip("0").rstrip(".") + " years"


def rule_long_custodial_sentence(
    registration: Registration, rules: ExitRules, on: dt.date
) -> ExitRuleResult:
    """A sentence of at least long_sentence_days being served (custody episode not yet released),
    or imposed by a court during the registration (offence disposal) before custody is imported."""
    from openiom.offending.models import DisposalType, Offence
    from openiom.people.models import CustodyEpisode

    name = "long_custodial_sentence"
    reason_code = DeregistrationReason.LONG_CUSTODY.value
    threshold = _years(rules.long_sentence_days)
    episode = (
        CustodyEpisode.objects.filter(
            person_id=registration.person_id,
            sentence_length_days__gte=rules.long_sentence_days,
            received_date__lte=on,
        )
        .exclude(release_date__lte=on)
        .order_by("-sentence_length_days", "-received_date")
        .first()
    )
    if episode is not None:
        length = episode.sentence_length_days or 0
        imposed = f"Serving {_years(length)} ({length} days) custody since {episode.received_date}"
        release = episode.expected_release_date
    else:
        offence = (
            Offence.objects.filter(
                person_id=registration.person_id,
                disposal_type=DisposalType.CUSTODY,
                sentence_length_days__gte=rules.long_sentence_days,
                disposal_date__gte=registration.start_date,
                disposal_date__lte=on,
            )
            .order_by("-sentence_length_days")
            .first()
        )
        if offence is None:
            return ExitRuleResult(
                name, False, f"No custodial sentence of {threshold} or more recorded", reason_code
            )
        length = offence.sentence_length_days or 0
        imposed = (
            f"Sentenced to {_years(length)} ({length} days) custody on {offence.disposal_date}"
        )
        release = None
    if release is None:
        return ExitRuleResult(
            name,
            True,
            f"{imposed}, which is {threshold} or more: de-register; no expected release date "
            "is recorded, so set the reconsideration date by hand",
            reason_code,
            custody_episode_id=episode.pk if episode else None,
        )
    due = max(add_months(release, -rules.reconsider_months_before_release), on)
    return ExitRuleResult(
        name,
        True,
        f"{imposed}, which is {threshold} or more: de-register and bring the case back to the "
        f"referral and review meeting by {due}, {rules.reconsider_months_before_release} months "
        f"before the expected release date {release}",
        reason_code,
        reconsideration_due=due,
        expected_release_date=release,
        custody_episode_id=episode.pk if episode else None,
    )


EXIT_RULES = [rule_continuous_green_with_exit_plan, rule_long_custodial_sentence]


def suggest_exit(
    registration: Registration, on: dt.date, policy: DeregistrationPolicy | None = None
) -> ExitSuggestion:
    """What the de-registration policy in force on `on` suggests for this registration."""
    policy = policy or DeregistrationPolicy.in_force(POLICY_KEY, on)
    if policy is None:
        return ExitSuggestion(on=on, policy_key=POLICY_KEY, policy_version=None)
    rules = policy.rules
    return ExitSuggestion(
        on=on,
        policy_key=policy.key,
        policy_version=policy.version,
        results=[rule(registration, rules, on) for rule in EXIT_RULES],
    )
