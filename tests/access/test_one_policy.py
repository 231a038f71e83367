"""One access policy answers every question: core, lifecycle and scoring actions alike."""

from __future__ import annotations

from typing import Any

import pytest

from openiom.access.policy import Action, CohortAction, ScoringAction, can
from openiom.access.services import AccessDenied, require
from openiom.audit.models import AuditEvent
from openiom.cohort.permissions import can_cohort
from openiom.scoring.permissions import can_score


@pytest.mark.django_db
def test_lifecycle_and_scoring_questions_go_through_the_central_policy(
    actor: Any, make_person: Any, involve: Any
) -> None:
    person = make_person()
    involve(person, "housing.worker")
    housing, coordinator = actor("housing.worker"), actor("coordinator")

    assert can(housing, CohortAction.REFER_PERSON, person)
    assert not can(housing, CohortAction.RECORD_PANEL_DECISION, person)
    assert can(coordinator, CohortAction.RECORD_PANEL_DECISION, person)
    assert can(actor("analyst"), ScoringAction.RUN_SCORING)
    assert not can(housing, ScoringAction.VIEW_SCORES)
    assert can(None, ScoringAction.RUN_SCORING) and not can(None, ScoringAction.PUBLISH_POLICY)
    assert not can(None, Action.VIEW_PERSON, person)
    # The app-level names give the same answers.
    assert can_cohort(housing, CohortAction.REFER_PERSON, person) == can(
        housing, CohortAction.REFER_PERSON, person
    )
    assert can_score(coordinator, ScoringAction.PUBLISH_POLICY) == can(
        coordinator, ScoringAction.PUBLISH_POLICY
    )


@pytest.mark.django_db
def test_a_refused_lifecycle_action_is_audited_like_any_other(
    actor: Any, make_person: Any, involve: Any
) -> None:
    person = make_person()
    involve(person, "housing.worker")

    with pytest.raises(AccessDenied, match="record panel decision"):
        require(actor("housing.worker"), CohortAction.RECORD_PANEL_DECISION, person)

    denial = AuditEvent.objects.get(event_type="access.denied")
    assert denial.person_id == person.pk
    assert denial.details["action"] == "record panel decision"
