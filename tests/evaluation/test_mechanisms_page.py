"""The mechanisms page shows the case-management "dose" of the cohort, labelled descriptive."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openiom.casework.services import record_contact
from tests.cohort.conftest import (  # noqa: F401  (fixtures)
    adopt,
    burglar,
    client_for,
    listed_referral,
    registration,
)

pytestmark = pytest.mark.django_db


def _summary_value(html: str, label: str) -> str:
    start = html.index(f'<dt class="govuk-summary-list__key">{label}</dt>')
    value = html.index('<dd class="govuk-summary-list__value">', start)
    return html[value:].split(">", 1)[1].split("<", 1)[0]


def test_contacts_reach_the_mechanisms_page(
    registration: Any,  # noqa: F811
    actor: Any,
    client_for: Any,  # noqa: F811
) -> None:
    page = client_for("coordinator").get("/evaluation/mechanisms/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Descriptive, not causal" in html
    assert _summary_value(html, "Registrations with any contact recorded") == "0"

    today = timezone.localdate()
    for days_ago in (3, 10):
        record_contact(
            actor=actor("probation.om"),
            person=registration.person,
            kind="appointment",
            contact_date=today - dt.timedelta(days=days_ago),
            attendance="kept",
        )
    html = client_for("coordinator").get("/evaluation/mechanisms/").content.decode()
    assert _summary_value(html, "Registrations with any contact recorded") == "1"
    assert _summary_value(html, "Average share of appointments kept") == "100%"
    assert _summary_value(html, "Average contacts per month registered") != "Not recorded"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("coordinator", 200), ("analyst", 200), ("housing.worker", 403), ("admin", 403)],
)
def test_who_sees_the_mechanisms_page(
    persona: str,
    status: int,
    registration: Any,  # noqa: F811
    client_for: Any,  # noqa: F811
) -> None:
    assert client_for(persona).get("/evaluation/mechanisms/").status_code == status
    csv = client_for(persona).get("/evaluation/mechanisms/?format=csv")
    assert csv.status_code == status
    if status == 200:
        assert csv.content.decode().startswith("measure,band,registrations")
