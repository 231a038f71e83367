"""The panel's minimum-score criterion uses the person's score from the latest scoring run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiom.cohort import selectors, services
from openiom.cohort.eligibility import Met
from openiom.scoring.models import CandidateScore, ScoringPolicy
from openiom.scoring.services import run_scoring

from .conftest import PANEL_DAY, cohort

pytestmark = pytest.mark.django_db


def _fixed_with_minimum_score(actor: Any, minimum: float) -> None:
    services.publish_cohort_policy_version(
        actor=actor("coordinator"),
        kind="cohort",
        key="fixed",
        name="Fixed cohort",
        config={"eligibility": {"minimum_score": minimum, "neighbourhood_crime": True}},
        source="Wessex IOM board minutes, 1 February 2026",
        change_note="Entry needs a score",
        effective_from=dt.date(2026, 2, 1),
    )


def _score(burglar: Any) -> CandidateScore:
    policy = ScoringPolicy.objects.filter(key="fixed-cohort-scoring").latest("version")
    run = run_scoring(actor=None, policy=policy, as_of=PANEL_DAY - dt.timedelta(days=3))
    return CandidateScore.objects.get(run=run, person=burglar)


def _criterion(results: list[Any]) -> Any:
    return next(r for r in results if r.criterion == "minimum_score")


def test_without_a_run_the_minimum_score_is_unknown(actor, listed_referral):
    _fixed_with_minimum_score(actor, 1)
    results = selectors.eligibility_for(
        actor=actor("coordinator"),
        person=listed_referral.person,
        cohort=cohort("fixed"),
        on=PANEL_DAY,
    )
    found = _criterion(results)
    assert found.met == Met.UNKNOWN and "needs at least 1" in found.reason


def test_the_latest_runs_score_is_checked_and_cited(actor, listed_referral, burglar):
    scored = _score(burglar)
    _fixed_with_minimum_score(actor, scored.total - 0.5)
    found = _criterion(
        selectors.eligibility_for(
            actor=actor("coordinator"), person=burglar, cohort=cohort("fixed"), on=PANEL_DAY
        )
    )
    assert found.met == Met.MET
    assert (
        f"scoring run {scored.run_id}" in found.reason and f"ranked {scored.rank}" in found.reason
    )

    _fixed_with_minimum_score(actor, scored.total + 0.5)
    found = _criterion(
        selectors.eligibility_for(
            actor=actor("coordinator"), person=burglar, cohort=cohort("fixed"), on=PANEL_DAY
        )
    )
    assert found.met == Met.NOT_MET


def test_adoption_below_the_minimum_score_needs_an_override(actor, listed_referral, burglar, adopt):
    scored = _score(burglar)
    _fixed_with_minimum_score(actor, scored.total + 10)
    with pytest.raises(services.CohortError) as refused:
        adopt(listed_referral)
    assert f"Score {scored.total:g} (scoring run {scored.run_id}" in str(refused.value)
    registration = adopt(
        listed_referral, eligibility_override_reason="Panel judgement: rising risk"
    )
    recorded = {c["criterion"]: c["met"] for c in registration.panel_decision.eligibility}
    assert recorded["minimum_score"] == "not_met"


def test_a_score_given_by_the_panel_wins(actor, listed_referral, burglar):
    _score(burglar)
    _fixed_with_minimum_score(actor, 50)
    found = _criterion(
        selectors.eligibility_for(
            actor=actor("coordinator"),
            person=burglar,
            cohort=cohort("fixed"),
            on=PANEL_DAY,
            score=60,
        )
    )
    assert found.met == Met.MET and "given by the panel" in found.reason
