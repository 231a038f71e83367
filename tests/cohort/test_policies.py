"""Policy as data: shipped defaults, validation, and versions that never change once published."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.cohort import services
from openiom.cohort.models import CohortDefinition, DeregistrationPolicy, RagAssessment, RagPolicy
from openiom.cohort.policies import (
    CohortRules,
    ExitRules,
    PolicyConfigError,
    RagRules,
    validate_config,
)
from openiom.cohort.rag import ReportedEvidence
from openiom.cohort.services import CohortError
from openiom.offending.models import Arrest
from tests.cohort.conftest import events


def publish(actor, **overrides):
    kwargs = dict(
        actor=actor("coordinator"),
        kind="rag",
        key="rag",
        name="RAG suggestion rules",
        config={"window_days": 56},
        source="Wessex IOM board minutes, 1 April 2026",
        change_note="Eight weeks suits our fortnightly meetings",
        effective_from=dt.date(2026, 4, 1),
    )
    kwargs.update(overrides)
    return services.publish_cohort_policy_version(**kwargs)


@pytest.mark.django_db
def test_shipped_defaults_are_seeded_valid_and_sourced():
    assert sorted(CohortDefinition.objects.values_list("key", flat=True)) == [
        "fixed",
        "flex",
        "free",
    ]
    for row in [
        *CohortDefinition.objects.all(),
        *RagPolicy.objects.all(),
        *DeregistrationPolicy.objects.all(),
    ]:
        assert row.version == 1 and row.created_by is None
        assert row.rules is not None  # parses
        assert "[U" in row.source or "[seed]" in row.source
    assert RagPolicy.objects.get().rules == RagRules()
    assert DeregistrationPolicy.objects.get().rules == ExitRules()
    fixed = CohortDefinition.objects.get(key="fixed").rules
    assert (fixed.planned_registration_months, fixed.eligibility.neighbourhood_crime) == (12, True)


def test_policy_config_errors_name_the_field_and_why():
    with pytest.raises(
        PolicyConfigError, match=r"window_days: must be a whole number of at least 1, got 0"
    ):
        RagRules.from_config({"window_days": 0})
    with pytest.raises(PolicyConfigError, match=r"red_rules: unknown name\(s\) new_crime"):
        RagRules.from_config({"red_rules": ["new_crime"]})
    with pytest.raises(PolicyConfigError, match=r"unknown setting\(s\) windw_days"):
        RagRules.from_config({"windw_days": 28})
    with pytest.raises(PolicyConfigError, match=r"eligibility\.min_age: 30 is above max_age 25"):
        CohortRules.from_config({"eligibility": {"min_age": 30, "max_age": 25}})
    with pytest.raises(PolicyConfigError, match="exit_plan_required: must be true or false"):
        ExitRules.from_config({"exit_plan_required": "yes"})
    with pytest.raises(PolicyConfigError, match="Unknown policy kind"):
        validate_config("scoring", {})


def test_publishing_makes_a_new_version_and_never_alters_the_old_one(actor):
    v1 = RagPolicy.objects.get(key="rag", version=1)
    v2 = publish(actor)
    assert (v2.version, v2.created_by.username, v2.config) == (
        2,
        "coordinator",
        {"window_days": 56},
    )
    v1_again = RagPolicy.objects.get(pk=v1.pk)
    assert (v1_again.config, v1_again.effective_from) == (v1.config, v1.effective_from)
    assert RagPolicy.in_force("rag", dt.date(2026, 3, 31)) == v1
    assert RagPolicy.in_force("rag", dt.date(2026, 4, 1)) == v2
    [event] = events("cohort.policy_published")
    assert event.before["version"] == 1 and event.after["version"] == 2
    assert event.summary == "Published rag policy rag v2"
    v2.name = "edited in place"
    with pytest.raises(PermissionError, match="append-only"):
        v2.save()


def test_publishing_never_changes_a_stored_suggestions_version(registration, actor):
    Arrest.objects.create(
        person=registration.person, arrest_date=dt.date(2026, 2, 20), outcome="rui"
    )
    on = dt.date(2026, 3, 30)  # 38 days after the arrest: outside v1's 28-day window
    first = services.set_rag_status(
        actor=actor("probation.om"),
        registration=registration,
        status="amber",
        on=on,
        reported=ReportedEvidence(appointments_kept=2, appointments_missed=0),
    )
    assert (first.policy.version, first.suggested_status) == (1, "amber")

    publish(actor, effective_from=dt.date(2026, 3, 1), change_note="Wider window from March")

    first.refresh_from_db()
    assert (first.policy.version, first.suggested_status) == (1, "amber")
    assert first.suggestion_reasons[1] == {
        "rule": "arrest",
        "verdict": "clear",
        "reason": "No arrest recorded in the last 28 days",
    }
    # The same evidence under v2 (56 days) now suggests red, and says which version it used.
    second = services.set_rag_status(
        actor=actor("probation.om"),
        registration=registration,
        status="red",
        on=on,
    )
    assert (second.policy.version, second.suggested_status) == (2, "red")
    assert RagAssessment.objects.filter(policy__version=1).count() == 1


def test_publishing_checks_config_key_and_dates(actor):
    with pytest.raises(PolicyConfigError, match="window_days"):
        publish(actor, config={"window_days": -3})
    with pytest.raises(CohortError, match="the rag policy's key is 'rag'"):
        publish(actor, key="rag-2")
    with pytest.raises(CohortError, match="change_note: say why"):
        publish(actor, change_note=" ")
    publish(actor)
    with pytest.raises(CohortError, match="cannot apply earlier than the one it replaces"):
        publish(actor, effective_from=dt.date(2026, 3, 1))
    assert RagPolicy.objects.filter(key="rag").count() == 2


def test_a_partnership_can_add_a_local_cohort_strand(actor):
    row = publish(
        actor,
        kind="cohort",
        key="women",
        name="Women's strand",
        config={"description": "Women's IOM", "capacity": 15, "eligibility": {"min_age": 18}},
    )
    assert (row.key, row.version, row.rules.capacity) == ("women", 1, 15)
    with pytest.raises(CohortError, match="must be letters, numbers"):
        publish(actor, kind="cohort", key="women's strand", config={})
