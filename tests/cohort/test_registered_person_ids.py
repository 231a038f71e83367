"""Scoring marks people already on a cohort using cohort.selectors.registered_person_ids."""

from __future__ import annotations

import datetime as dt

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
