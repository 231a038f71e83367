"""One test per RAG rule, named after the rule, with worked examples (default policy: seed 001)."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.cohort.models import RagPolicy, RagStatus
from openiom.cohort.policies import RagRules
from openiom.cohort.rag import (
    RagEvidence,
    ReportedEvidence,
    Verdict,
    gather_rag_evidence,
    rule_arrest,
    rule_employment,
    rule_full_attendance,
    rule_intelligence,
    rule_missed_appointments,
    rule_negative_drug_tests,
    rule_new_offence,
    rule_no_current_intelligence,
    rule_stable_accommodation,
    suggest,
    suggest_rag,
)
from openiom.offending.models import Arrest, IntelligenceItem, Offence

ON = dt.date(2026, 3, 2)
DEFAULT = RagRules()


def evidence(**reported: object) -> RagEvidence:
    return RagEvidence(
        on=ON,
        window_days=28,
        current_intelligence_days=90,
        reported=ReportedEvidence(**reported),  # type: ignore[arg-type]
    )


def intel(person, recorded: dt.date) -> IntelligenceItem:
    return IntelligenceItem.objects.create(
        person=person,
        recorded_date=recorded,
        source_grade="2",
        intelligence_grade="B",
        handling_code="P",
        text="Seen with known handlers",
    )


# --- Red rules (offending from openiom's records) -------------------------------------------------


def test_rag_rule_new_offence_in_window_suggests_red(make_person, offence_code):
    person = make_person()
    # Worked example: an offence committed 28 days before the assessment is inside a 28-day window.
    Offence.objects.create(
        person=person,
        offence_code=offence_code("028/01"),
        offence_date=dt.date(2026, 2, 2),
        disposal_type="other",
        disposal_date=dt.date(2026, 2, 20),
    )
    inside = gather_rag_evidence(person, on=ON, rules=DEFAULT)
    result = rule_new_offence(inside, DEFAULT)
    assert result.verdict == Verdict.RED
    assert result.reason == "1 offence committed in the last 28 days (2026-02-02)"
    assert suggest(inside, DEFAULT)[0] == RagStatus.RED

    # A day later it has left the window.
    outside = gather_rag_evidence(person, on=dt.date(2026, 3, 3), rules=DEFAULT)
    assert rule_new_offence(outside, DEFAULT).verdict == Verdict.CLEAR
    assert rule_new_offence(outside, DEFAULT).reason == "No offence recorded in the last 28 days"

    # The window is policy: with 60 days it is back in.
    wide = RagRules(window_days=60)
    assert (
        rule_new_offence(
            gather_rag_evidence(person, on=dt.date(2026, 3, 3), rules=wide), wide
        ).verdict
        == Verdict.RED
    )


def test_rag_rule_arrest_in_window_suggests_red(make_person):
    person = make_person()
    Arrest.objects.create(person=person, arrest_date=dt.date(2026, 2, 25), outcome="rui")
    result = rule_arrest(gather_rag_evidence(person, on=ON, rules=DEFAULT), DEFAULT)
    assert result.verdict == Verdict.RED
    assert result.reason == "Arrested in the last 28 days (2026-02-25)"
    later = gather_rag_evidence(person, on=dt.date(2026, 4, 1), rules=DEFAULT)
    assert rule_arrest(later, DEFAULT).verdict == Verdict.CLEAR


def test_rag_rule_intelligence_in_window_suggests_red_without_disclosing_its_content(make_person):
    person = make_person()
    intel(person, dt.date(2026, 2, 27))
    result = rule_intelligence(gather_rag_evidence(person, on=ON, rules=DEFAULT), DEFAULT)
    assert result.verdict == Verdict.RED
    assert result.reason == "Police intelligence recorded in the last 28 days (2026-02-27)"
    assert "handlers" not in result.reason
    later = gather_rag_evidence(person, on=dt.date(2026, 4, 1), rules=DEFAULT)
    assert rule_intelligence(later, DEFAULT).verdict == Verdict.CLEAR


def test_rag_rule_missed_appointments_suggests_red():
    assert rule_missed_appointments(evidence(appointments_missed=1), DEFAULT).verdict == Verdict.RED
    assert (
        rule_missed_appointments(evidence(appointments_missed=2), DEFAULT).reason
        == "Missed 2 appointments"
    )
    assert (
        rule_missed_appointments(evidence(appointments_missed=0), DEFAULT).verdict == Verdict.CLEAR
    )
    # The threshold is policy: two misses before red.
    lenient = RagRules(missed_appointments_for_red=2)
    assert (
        rule_missed_appointments(evidence(appointments_missed=1), lenient).verdict == Verdict.CLEAR
    )
    # No data is said honestly, and is not a reason for red.
    unknown = rule_missed_appointments(evidence(), DEFAULT)
    assert (unknown.verdict, unknown.reason) == (Verdict.UNKNOWN, "No appointment data recorded")


# --- Green conditions ----------------------------------------------------------------------------


def test_rag_rule_full_attendance_supports_green():
    met = rule_full_attendance(evidence(appointments_kept=4, appointments_missed=0), DEFAULT)
    assert (met.verdict, met.reason) == (Verdict.GREEN, "Attended all 4 arranged appointments")
    partly = rule_full_attendance(evidence(appointments_kept=3, appointments_missed=1), DEFAULT)
    assert (partly.verdict, partly.reason) == (
        Verdict.NOT_GREEN,
        "Attended 3 of 4 arranged appointments",
    )
    assert rule_full_attendance(evidence(), DEFAULT).reason == (
        "No appointment data recorded, so full attendance cannot be confirmed"
    )
    none_arranged = rule_full_attendance(
        evidence(appointments_kept=0, appointments_missed=0), DEFAULT
    )
    assert none_arranged.verdict == Verdict.UNKNOWN


def test_rag_rule_no_current_intelligence_supports_green(make_person):
    person = make_person()
    assert rule_no_current_intelligence(
        gather_rag_evidence(person, on=ON, rules=DEFAULT), DEFAULT
    ).reason == ("No police intelligence recorded in openiom in the last 90 days")
    # Worked example: intelligence 60 days old is outside the red window but still "current".
    intel(person, ON - dt.timedelta(days=60))
    e = gather_rag_evidence(person, on=ON, rules=DEFAULT)
    assert rule_intelligence(e, DEFAULT).verdict == Verdict.CLEAR
    result = rule_no_current_intelligence(e, DEFAULT)
    assert (result.verdict, result.reason) == (
        Verdict.NOT_GREEN,
        "1 police intelligence item recorded in the last 90 days",
    )


def test_rag_rule_negative_drug_tests_supports_green():
    assert rule_negative_drug_tests(evidence(drug_tests_negative=3), DEFAULT).reason == (
        "All 3 drug tests negative"
    )
    positive = rule_negative_drug_tests(
        evidence(drug_tests_negative=2, drug_tests_positive=1), DEFAULT
    )
    assert (positive.verdict, positive.reason) == (Verdict.NOT_GREEN, "1 of 3 drug tests positive")
    assert rule_negative_drug_tests(evidence(), DEFAULT).reason == "No drug test results recorded"


def test_rag_rule_stable_accommodation_supports_green():
    assert (
        rule_stable_accommodation(evidence(stable_accommodation=True), DEFAULT).verdict
        == Verdict.GREEN
    )
    assert (
        rule_stable_accommodation(evidence(stable_accommodation=False), DEFAULT).verdict
        == Verdict.NOT_GREEN
    )
    assert (
        rule_stable_accommodation(evidence(), DEFAULT).reason == "No accommodation status recorded"
    )


def test_rag_rule_employment_supports_green():
    assert rule_employment(evidence(in_employment=True), DEFAULT).reason == "In employment"
    assert rule_employment(evidence(in_employment=False), DEFAULT).verdict == Verdict.NOT_GREEN
    assert rule_employment(evidence(), DEFAULT).reason == "No employment status recorded"


# --- How the rules combine ------------------------------------------------------------------------


def test_rag_combination_green_needs_attendance_no_intelligence_and_one_of_drugs_housing_work():
    status, summary, _ = suggest(
        evidence(appointments_kept=4, appointments_missed=0, stable_accommodation=True), DEFAULT
    )
    assert status == RagStatus.GREEN
    assert summary == (
        "Green: Attended all 4 arranged appointments; No police intelligence recorded in "
        "openiom in the last 90 days; In stable accommodation"
    )
    # Full attendance and no intelligence, but nothing on drugs, housing or work: amber.
    status, summary, _ = suggest(evidence(appointments_kept=4, appointments_missed=0), DEFAULT)
    assert status == RagStatus.AMBER
    assert "none of negative drug tests, stable accommodation, employment is evidenced" in summary


def test_rag_combination_unknown_evidence_never_counts_as_green_and_is_said_plainly():
    status, summary, results = suggest(evidence(stable_accommodation=True), DEFAULT)
    assert status == RagStatus.AMBER
    assert summary == (
        "Amber: green is not evidenced — No appointment data recorded, so full attendance "
        "cannot be confirmed"
    )
    assert {r.rule: r.verdict for r in results}["missed_appointments"] == Verdict.UNKNOWN


def test_rag_combination_any_red_rule_wins_over_green_evidence():
    status, summary, _ = suggest(
        evidence(appointments_kept=3, appointments_missed=1, in_employment=True), DEFAULT
    )
    assert (status, summary) == (RagStatus.RED, "Red: Missed 1 appointment")


def test_rag_combination_a_rule_left_out_of_the_policy_is_not_applied():
    rules = RagRules(red_rules=("new_offence", "arrest", "intelligence"))
    status, _, results = suggest(
        evidence(appointments_kept=3, appointments_missed=1, in_employment=True), rules
    )
    assert status == RagStatus.AMBER  # missed appointments no longer make red; attendance not full
    assert "missed_appointments" not in [r.rule for r in results]


@pytest.mark.django_db
def test_rag_suggestion_records_the_policy_version_it_used(make_person):
    policy = RagPolicy.in_force("rag", ON)
    suggestion = suggest_rag(make_person(), on=ON, policy=policy)
    assert (suggestion.policy_key, suggestion.policy_version) == ("rag", 1)
    assert suggestion.status == RagStatus.AMBER


def test_reported_evidence_refuses_negative_counts():
    with pytest.raises(ValueError, match="appointments_kept: must be a whole number of 0 or more"):
        ReportedEvidence(appointments_kept=-1)
