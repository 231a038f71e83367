"""Scoring marks people already on a cohort using cohort.selectors.registered_person_ids."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiom.cohort.models import Registration
from openiom.cohort.selectors import registered_person_ids
from openiom.scoring.services import registered_person_ids as scoring_registered_ids


@pytest.mark.django_db
def test_current_registrations_count_as_registered_on_the_date(registration: Registration) -> None:
    start = registration.start_date

    assert registration.person_id in registered_person_ids(as_of=start)
    assert registration.person_id not in registered_person_ids(as_of=start - dt.timedelta(days=1))
    assert scoring_registered_ids(start) == registered_person_ids(as_of=start)


@pytest.mark.django_db
def test_a_panel_decision_cannot_be_dated_in_the_future(listed_referral: Any, actor: Any) -> None:
    from django.utils import timezone

    from openiom.cohort.services import CohortError, record_panel_decision

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(CohortError, match=r"decided_on: .* is in the future"):
        record_panel_decision(
            actor=actor("coordinator"),
            referral=listed_referral,
            decision="not_adopt",
            decided_on=tomorrow,
            agencies_present=[],
            rationale="Not now",
        )
