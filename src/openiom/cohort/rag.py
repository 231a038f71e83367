"""Suggesting a RAG status: small independent rules over the evidence, each with its reason.

Default rules (seed 001, one scheme's operational guide; exact criteria are local policy [U]):
- red: a new offence, an arrest or police intelligence within the window, or missed appointments;
- green: full attendance at arranged appointments and no current police intelligence, and
  negative drug tests and/or stable accommodation and/or employment;
- amber otherwise.

Offences, arrests and intelligence come from openiom's own records. Appointments come from the
contacts recorded in case management (kept and missed appointments in the window) when there are
any; otherwise, like drug tests, accommodation and employment, they are reported by the worker
(`ReportedEvidence`) or are *unknown*, and the reasons say so — an unknown never counts as
evidence of green.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from openiom.cohort.models import RagStatus
from openiom.cohort.policies import RagRules

if TYPE_CHECKING:
    from openiom.cohort.models import RagPolicy
    from openiom.people.models import Person


class Verdict(StrEnum):
    RED = "red"  # a red rule is triggered
    CLEAR = "clear"  # a red rule is not triggered
    GREEN = "green"  # a green condition is met
    NOT_GREEN = "not_green"  # a green condition is not met
    UNKNOWN = "unknown"  # no data to decide


@dataclass(frozen=True)
class RuleResult:
    rule: str
    verdict: Verdict
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "verdict": str(self.verdict), "reason": self.reason}


@dataclass(frozen=True)
class ReportedEvidence:
    """What the worker reports until case management records it; None means not known."""

    appointments_kept: int | None = None
    appointments_missed: int | None = None
    drug_tests_negative: int | None = None
    drug_tests_positive: int | None = None
    stable_accommodation: bool | None = None
    in_employment: bool | None = None

    def __post_init__(self) -> None:
        for name in (
            "appointments_kept",
            "appointments_missed",
            "drug_tests_negative",
            "drug_tests_positive",
        ):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ValueError(f"{name}: must be a whole number of 0 or more, got {value!r}")


@dataclass(frozen=True)
class RagEvidence:
    """Everything the rules look at, as of one date."""

    on: dt.date
    window_days: int
    current_intelligence_days: int
    offence_dates: list[dt.date] = field(default_factory=list)  # committed within the window
    arrest_dates: list[dt.date] = field(default_factory=list)  # within the window
    intelligence_dates: list[dt.date] = field(default_factory=list)  # within the window
    current_intelligence_count: int = 0  # within current_intelligence_days
    reported: ReportedEvidence = field(default_factory=ReportedEvidence)
    # True when the appointment counts in `reported` come from recorded contacts.
    appointments_recorded: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reported"] = asdict(self.reported)
        return data


def gather_rag_evidence(
    person: Person, *, on: dt.date, rules: RagRules, reported: ReportedEvidence | None = None
) -> RagEvidence:
    """Read the person's offending records and recorded appointments for the windows ending on
    `on`. Recorded appointments (kept or missed) replace reported appointment counts."""
    from openiom.casework.selectors import appointment_compliance
    from openiom.offending.models import Arrest, IntelligenceItem, Offence

    since = on - dt.timedelta(days=rules.window_days)
    current_since = on - dt.timedelta(days=rules.current_intelligence_days)
    offences = Offence.objects.filter(person=person, offence_date__gte=since, offence_date__lte=on)
    arrests = Arrest.objects.filter(person=person, arrest_date__gte=since, arrest_date__lte=on)
    intelligence = IntelligenceItem.objects.filter(person=person, recorded_date__lte=on)
    reported = reported or ReportedEvidence()
    compliance = appointment_compliance(person, since, on)
    if compliance.arranged:
        reported = replace(
            reported, appointments_kept=compliance.kept, appointments_missed=compliance.missed
        )
    return RagEvidence(
        on=on,
        window_days=rules.window_days,
        current_intelligence_days=rules.current_intelligence_days,
        offence_dates=sorted(offences.values_list("offence_date", flat=True)),
        arrest_dates=sorted(arrests.values_list("arrest_date", flat=True)),
        intelligence_dates=sorted(
            intelligence.filter(recorded_date__gte=since).values_list("recorded_date", flat=True)
        ),
        current_intelligence_count=intelligence.filter(recorded_date__gte=current_since).count(),
        reported=reported,
        appointments_recorded=bool(compliance.arranged),
    )


def _dates(dates: list[dt.date]) -> str:
    shown = ", ".join(d.isoformat() for d in dates[-3:])
    return shown if len(dates) <= 3 else f"{shown} and {len(dates) - 3} earlier"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- Red rules ---------------------------------------------------------------------------------


def rule_new_offence(e: RagEvidence, rules: RagRules) -> RuleResult:
    if e.offence_dates:
        return RuleResult(
            "new_offence",
            Verdict.RED,
            f"{_plural(len(e.offence_dates), 'offence')} committed in the last {e.window_days} "
            f"days ({_dates(e.offence_dates)})",
        )
    return RuleResult(
        "new_offence", Verdict.CLEAR, f"No offence recorded in the last {e.window_days} days"
    )


def rule_arrest(e: RagEvidence, rules: RagRules) -> RuleResult:
    if e.arrest_dates:
        return RuleResult(
            "arrest",
            Verdict.RED,
            f"Arrested in the last {e.window_days} days ({_dates(e.arrest_dates)})",
        )
    return RuleResult(
        "arrest", Verdict.CLEAR, f"No arrest recorded in the last {e.window_days} days"
    )


def rule_intelligence(e: RagEvidence, rules: RagRules) -> RuleResult:
    # Dates and a count only: the content stays with the police (who may see it on the record).
    if e.intelligence_dates:
        return RuleResult(
            "intelligence",
            Verdict.RED,
            f"Police intelligence recorded in the last {e.window_days} days "
            f"({_dates(e.intelligence_dates)})",
        )
    return RuleResult(
        "intelligence",
        Verdict.CLEAR,
        f"No police intelligence recorded in the last {e.window_days} days",
    )


def _source(e: RagEvidence) -> str:
    return f" (recorded contacts, last {e.window_days} days)" if e.appointments_recorded else ""


def rule_missed_appointments(e: RagEvidence, rules: RagRules) -> RuleResult:
    missed = e.reported.appointments_missed
    if missed is None:
        return RuleResult("missed_appointments", Verdict.UNKNOWN, "No appointment data recorded")
    if missed >= rules.missed_appointments_for_red:
        return RuleResult(
            "missed_appointments",
            Verdict.RED,
            f"Missed {_plural(missed, 'appointment')}{_source(e)}",
        )
    return RuleResult("missed_appointments", Verdict.CLEAR, f"No appointments missed{_source(e)}")


# --- Green conditions ------------------------------------------------------------------------


def rule_full_attendance(e: RagEvidence, rules: RagRules) -> RuleResult:
    kept, missed = e.reported.appointments_kept, e.reported.appointments_missed
    if kept is None and missed is None:
        return RuleResult(
            "full_attendance",
            Verdict.UNKNOWN,
            "No appointment data recorded, so full attendance cannot be confirmed",
        )
    kept, missed = kept or 0, missed or 0
    if kept + missed == 0:
        return RuleResult(
            "full_attendance",
            Verdict.UNKNOWN,
            "No appointments were arranged, so full attendance cannot be confirmed",
        )
    if missed:
        return RuleResult(
            "full_attendance",
            Verdict.NOT_GREEN,
            f"Attended {kept} of {_plural(kept + missed, 'arranged appointment')}{_source(e)}",
        )
    return RuleResult(
        "full_attendance",
        Verdict.GREEN,
        f"Attended all {_plural(kept, 'arranged appointment')}{_source(e)}",
    )


def rule_no_current_intelligence(e: RagEvidence, rules: RagRules) -> RuleResult:
    n = e.current_intelligence_count
    days = e.current_intelligence_days
    if n:
        return RuleResult(
            "no_current_intelligence",
            Verdict.NOT_GREEN,
            f"{_plural(n, 'police intelligence item')} recorded in the last {days} days",
        )
    return RuleResult(
        "no_current_intelligence",
        Verdict.GREEN,
        f"No police intelligence recorded in openiom in the last {days} days",
    )


def rule_negative_drug_tests(e: RagEvidence, rules: RagRules) -> RuleResult:
    neg, pos = e.reported.drug_tests_negative, e.reported.drug_tests_positive
    if neg is None and pos is None:
        return RuleResult("negative_drug_tests", Verdict.UNKNOWN, "No drug test results recorded")
    neg, pos = neg or 0, pos or 0
    if pos:
        return RuleResult(
            "negative_drug_tests",
            Verdict.NOT_GREEN,
            f"{pos} of {_plural(neg + pos, 'drug test')} positive",
        )
    if neg == 0:
        return RuleResult("negative_drug_tests", Verdict.UNKNOWN, "No drug tests taken")
    return RuleResult(
        "negative_drug_tests", Verdict.GREEN, f"All {_plural(neg, 'drug test')} negative"
    )


def rule_stable_accommodation(e: RagEvidence, rules: RagRules) -> RuleResult:
    value = e.reported.stable_accommodation
    if value is None:
        return RuleResult(
            "stable_accommodation", Verdict.UNKNOWN, "No accommodation status recorded"
        )
    if value:
        return RuleResult("stable_accommodation", Verdict.GREEN, "In stable accommodation")
    return RuleResult("stable_accommodation", Verdict.NOT_GREEN, "Not in stable accommodation")


def rule_employment(e: RagEvidence, rules: RagRules) -> RuleResult:
    value = e.reported.in_employment
    if value is None:
        return RuleResult("employment", Verdict.UNKNOWN, "No employment status recorded")
    if value:
        return RuleResult("employment", Verdict.GREEN, "In employment")
    return RuleResult("employment", Verdict.NOT_GREEN, "Not in employment")


Rule = Callable[[RagEvidence, RagRules], RuleResult]
RED_RULE_FUNCTIONS: dict[str, Rule] = {
    "new_offence": rule_new_offence,
    "arrest": rule_arrest,
    "intelligence": rule_intelligence,
    "missed_appointments": rule_missed_appointments,
}
GREEN_CONDITION_FUNCTIONS: dict[str, Rule] = {
    "full_attendance": rule_full_attendance,
    "no_current_intelligence": rule_no_current_intelligence,
    "negative_drug_tests": rule_negative_drug_tests,
    "stable_accommodation": rule_stable_accommodation,
    "employment": rule_employment,
}


@dataclass(frozen=True)
class RagSuggestion:
    status: RagStatus
    summary: str
    results: list[RuleResult]
    evidence: RagEvidence
    policy_key: str = ""
    policy_version: int | None = None

    def reasons(self) -> list[dict[str, str]]:
        return [r.as_dict() for r in self.results]


def suggest(evidence: RagEvidence, rules: RagRules) -> tuple[RagStatus, str, list[RuleResult]]:
    """Apply the rules: any red rule → red; all green_all_of and one green_any_of → green; else amber."""
    red_results = [RED_RULE_FUNCTIONS[name](evidence, rules) for name in rules.red_rules]
    wanted = list(dict.fromkeys([*rules.green_all_of, *rules.green_any_of]))
    green_results = {name: GREEN_CONDITION_FUNCTIONS[name](evidence, rules) for name in wanted}
    results = red_results + list(green_results.values())

    reds = [r for r in red_results if r.verdict == Verdict.RED]
    if reds:
        return RagStatus.RED, "Red: " + "; ".join(r.reason for r in reds), results

    missing = [
        green_results[n] for n in rules.green_all_of if green_results[n].verdict != Verdict.GREEN
    ]
    any_met = not rules.green_any_of or any(
        green_results[n].verdict == Verdict.GREEN for n in rules.green_any_of
    )
    if not missing and any_met:
        met = [r.reason for r in green_results.values() if r.verdict == Verdict.GREEN]
        return RagStatus.GREEN, "Green: " + "; ".join(met), results

    gaps = [r.reason for r in missing]
    if not any_met:
        gaps.append(
            "none of "
            + ", ".join(n.replace("_", " ") for n in rules.green_any_of)
            + " is evidenced ("
            + "; ".join(green_results[n].reason for n in rules.green_any_of)
            + ")"
        )
    return RagStatus.AMBER, "Amber: green is not evidenced — " + "; ".join(gaps), results


def suggest_rag(
    person: Person,
    *,
    on: dt.date,
    policy: RagPolicy,
    reported: ReportedEvidence | None = None,
) -> RagSuggestion:
    rules = policy.rules
    evidence = gather_rag_evidence(person, on=on, rules=rules, reported=reported)
    status, summary, results = suggest(evidence, rules)
    return RagSuggestion(
        status=status,
        summary=summary,
        results=results,
        evidence=evidence,
        policy_key=policy.key,
        policy_version=policy.version,
    )
