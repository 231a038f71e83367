"""The person page links to the management plan and provider referrals for those who may see them."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "sees_plan", "sees_referrals"),
    [
        ("probation.om", True, True),  # lead worker
        ("coordinator", True, True),
        ("housing.worker", True, True),  # housing works with the person (own records only)
        ("analyst", False, False),  # sees the person for analysis, not casework
    ],
)
def test_person_page_links(
    persona: str, sees_plan: bool, sees_referrals: bool, plan: Any, client_for: Any
) -> None:
    page = client_for(persona).get(f"/people/{plan.person_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (f'href="/plans/registrations/{plan.registration_id}/"' in html) == sees_plan
    assert (f'href="/provider-referrals/people/{plan.person_id}/"' in html) == sees_referrals


@pytest.mark.parametrize(("persona", "sees"), [("probation.om", True), ("housing.worker", True)])
def test_registration_page_links_to_the_plan(
    persona: str, sees: bool, plan: Any, client_for: Any
) -> None:
    page = client_for(persona).get(f"/cohort/registrations/{plan.registration_id}/")
    assert page.status_code == 200
    assert (f'href="/plans/registrations/{plan.registration_id}/"' in page.content.decode()) == sees
