"""One test per de-registration rule, named after the rule, with worked examples (seed 001)."""

from __future__ import annotations

import datetime as dt

from openiom.cohort.dates import add_months
from openiom.cohort.deregistration import (
    rule_continuous_green_with_exit_plan,
    rule_long_custodial_sentence,
    suggest_exit,
)
from openiom.cohort.models import ExitPlan, RagAssessment, RagPolicy, Registration
from openiom.cohort.policies import ExitRules
from openiom.offending.models import Offence
from openiom.people.models import CustodyEpisode

DEFAULT = ExitRules()


def rag(registration: Registration, status: str, on: dt.date) -> RagAssessment:
    return RagAssessment.objects.create(
        registration=registration,
        person=registration.person,
        status=status,
        assessed_on=on,
        reason="test",
        suggested_status=status,
        suggestion_reasons=[],
        evidence={},
        differs_from_suggestion=False,
        policy=RagPolicy.in_force("rag", on),
        assessed_by=registration.lead_worker,
    )


def plan(registration: Registration, on: dt.date) -> ExitPlan:
    return ExitPlan.objects.create(
        registration=registration,
        plan="Tenancy sustainment continues with Harbour Housing; mentor weekly",
        recorded_on=on,
        recorded_by=registration.lead_worker,
    )


def test_dereg_rule_three_months_continuous_green_with_exit_plan_suggests_exit(registration):
    # Worked example: red in March, green from 6 April; three calendar months reached 6 July.
    rag(registration, "red", dt.date(2026, 3, 2))
    rag(registration, "green", dt.date(2026, 4, 6))
    rag(registration, "green", dt.date(2026, 5, 4))
    rag(registration, "green", dt.date(2026, 6, 1))
    plan(registration, dt.date(2026, 6, 15))

    not_yet = rule_continuous_green_with_exit_plan(registration, DEFAULT, dt.date(2026, 7, 5))
    assert not not_yet.suggests_exit
    assert not_yet.reason == (
        "Green since 2026-04-06: 3 months continuously green is reached on 2026-07-06"
    )

    reached = rule_continuous_green_with_exit_plan(registration, DEFAULT, dt.date(2026, 7, 6))
    assert reached.suggests_exit
    assert reached.deregistration_reason == "green_exit_plan"
    assert reached.reason == (
        "Green continuously since 2026-04-06 (3 months reached on 2026-07-06) and an exit plan "
        "was recorded on 2026-06-15"
    )


def test_dereg_rule_three_months_green_without_exit_plan_says_the_plan_is_missing(registration):
    rag(registration, "green", dt.date(2026, 3, 2))
    result = rule_continuous_green_with_exit_plan(registration, DEFAULT, dt.date(2026, 6, 2))
    assert not result.suggests_exit
    assert result.reason.endswith("but no exit plan is recorded: record one before de-registering")
    # A policy that does not require an exit plan suggests exit on green alone.
    relaxed = ExitRules(exit_plan_required=False)
    assert rule_continuous_green_with_exit_plan(
        registration, relaxed, dt.date(2026, 6, 2)
    ).suggests_exit


def test_dereg_rule_continuous_green_restarts_after_an_amber(registration):
    rag(registration, "green", dt.date(2026, 3, 2))
    rag(registration, "amber", dt.date(2026, 4, 6))
    rag(registration, "green", dt.date(2026, 5, 4))
    plan(registration, dt.date(2026, 5, 4))
    result = rule_continuous_green_with_exit_plan(registration, DEFAULT, dt.date(2026, 7, 1))
    assert not result.suggests_exit
    assert result.reason == (
        "Green since 2026-05-04: 3 months continuously green is reached on 2026-08-04"
    )
    assert (
        rule_continuous_green_with_exit_plan(registration, DEFAULT, dt.date(2026, 4, 20)).reason
        == "Currently amber (since 2026-04-06); exit needs 3 months continuously green"
    )


def test_dereg_rule_green_period_can_be_set_in_days(registration):
    rag(registration, "green", dt.date(2026, 3, 2))
    plan(registration, dt.date(2026, 3, 2))
    rules = ExitRules(green_days=60)
    assert not rule_continuous_green_with_exit_plan(
        registration, rules, dt.date(2026, 4, 30)
    ).suggests_exit
    assert rule_continuous_green_with_exit_plan(
        registration, rules, dt.date(2026, 5, 1)
    ).suggests_exit


def test_dereg_rule_no_rag_status_yet_suggests_nothing(registration):
    result = rule_continuous_green_with_exit_plan(registration, DEFAULT, dt.date(2026, 3, 2))
    assert (result.suggests_exit, result.reason) == (False, "No RAG status recorded yet")


def test_dereg_rule_five_years_custody_schedules_reconsideration_12_months_before_release(
    registration,
):
    # Worked example: 6 years imposed 1 Sept 2026, expected release 1 Sept 2029 → due 1 Sept 2028.
    episode = CustodyEpisode.objects.create(
        person=registration.person,
        custody_type="sentenced",
        received_date=dt.date(2026, 9, 1),
        sentence_length_days=6 * 365,
        expected_release_date=dt.date(2029, 9, 1),
    )
    result = rule_long_custodial_sentence(registration, DEFAULT, dt.date(2026, 9, 10))
    assert result.suggests_exit
    assert result.deregistration_reason == "long_custody"
    assert result.reconsideration_due == dt.date(2028, 9, 1)
    assert result.custody_episode_id == episode.pk
    assert result.reason == (
        "Serving 6 years (2190 days) custody since 2026-09-01, which is 5 years or more: "
        "de-register and bring the case back to the referral and review meeting by 2028-09-01, "
        "12 months before the expected release date 2029-09-01"
    )


def test_dereg_rule_five_years_custody_counts_exactly_five_years_but_not_less(registration):
    CustodyEpisode.objects.create(
        person=registration.person,
        custody_type="sentenced",
        received_date=dt.date(2026, 9, 1),
        sentence_length_days=1825,
        expected_release_date=dt.date(2028, 9, 1),
    )
    assert rule_long_custodial_sentence(registration, DEFAULT, dt.date(2026, 9, 2)).suggests_exit
    four_years = ExitRules(long_sentence_days=1826)
    result = rule_long_custodial_sentence(registration, four_years, dt.date(2026, 9, 2))
    assert not result.suggests_exit
    assert result.reason == "No custodial sentence of 5 years or more recorded"


def test_dereg_rule_five_years_custody_released_episode_does_not_count(registration):
    CustodyEpisode.objects.create(
        person=registration.person,
        custody_type="sentenced",
        received_date=dt.date(2019, 1, 1),
        sentence_length_days=2555,
        expected_release_date=dt.date(2022, 7, 1),
        release_date=dt.date(2022, 7, 1),
    )
    assert not rule_long_custodial_sentence(
        registration, DEFAULT, dt.date(2026, 9, 2)
    ).suggests_exit


def test_dereg_rule_five_years_custody_imposed_at_court_without_release_date(
    registration, offence_code
):
    # The court's sentence arrives before the prison record: de-register, date set by hand.
    Offence.objects.create(
        person=registration.person,
        offence_code=offence_code("034/01"),
        offence_date=dt.date(2026, 4, 1),
        disposal_type="custody",
        disposal_date=dt.date(2026, 8, 14),
        sentence_length_days=7 * 365,
    )
    result = rule_long_custodial_sentence(registration, DEFAULT, dt.date(2026, 8, 20))
    assert result.suggests_exit
    assert result.reconsideration_due is None
    assert result.reason == (
        "Sentenced to 7 years (2555 days) custody on 2026-08-14, which is 5 years or more: "
        "de-register; no expected release date is recorded, so set the reconsideration date by hand"
    )


def test_dereg_rule_release_within_twelve_months_makes_the_reconsideration_due_now(registration):
    CustodyEpisode.objects.create(
        person=registration.person,
        custody_type="sentenced",
        received_date=dt.date(2026, 9, 1),
        sentence_length_days=1900,
        expected_release_date=dt.date(2027, 3, 1),  # e.g. long remand counted as time served
    )
    on = dt.date(2026, 9, 5)
    assert rule_long_custodial_sentence(registration, DEFAULT, on).reconsideration_due == on


def test_suggest_exit_names_the_policy_version_and_summarises(registration):
    suggestion = suggest_exit(registration, dt.date(2026, 3, 10))
    assert (suggestion.policy_key, suggestion.policy_version) == ("deregistration", 1)
    assert not suggestion.suggests_exit
    assert suggestion.summary == (
        "No de-registration suggested: No RAG status recorded yet; No custodial sentence of "
        "5 years or more recorded"
    )
    assert suggestion.as_dict()["results"][1]["rule"] == "long_custodial_sentence"


def test_add_months_counts_calendar_months():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2029, 9, 1), -12) == dt.date(2028, 9, 1)
