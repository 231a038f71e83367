"""The person page's IOM section: registration, RAG history and the referral link, with exactly
one consultation event per view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from openiom.audit.models import AuditEvent
from openiom.cohort import services
from openiom.cohort.rag import ReportedEvidence
from tests.cohort_web.conftest import PANEL_DAY
from tests.web.helpers import assert_csp_safe, html


def test_person_page_with_iom_history_writes_exactly_one_event(
    client_for: Any, actor: Any, registration: Any
) -> None:
    services.set_rag_status(
        actor=actor("probation.om"),
        registration=registration,
        status="red",
        on=PANEL_DAY + dt.timedelta(days=3),
        reported=ReportedEvidence(appointments_missed=2),
    )
    client = client_for("police.officer")
    url = reverse("people:detail", args=[registration.person_id])
    for expected in (1, 2):
        before = AuditEvent.objects.count()
        response = client.get(url)
        assert response.status_code == 200
        assert AuditEvent.objects.count() == before + 1
        assert (
            AuditEvent.objects.filter(
                event_type="person.consulted", person_id=registration.person_id
            ).count()
            == expected
        )
    body = assert_csp_safe(response)
    assert "Integrated Offender Management" in body
    assert "Registered in the Fixed cohort" in body
    assert "Missed 2 appointments" in body  # the suggestion's reasons
    assert reverse("cohort:registration", args=[registration.pk]) in body
    assert f"Referral {registration.referral_id}" in body
    assert "Refer this person" not in body  # already registered


def test_person_not_on_iom_has_a_refer_link(client_for: Any, burglar: Any, involve: Any) -> None:
    involve(burglar, "housing.worker")
    body = html(client_for("housing.worker").get(reverse("people:detail", args=[burglar.pk])))
    assert "is not registered in an IOM cohort" in body
    assert reverse("cohort:refer", args=[burglar.pk]) in body


def test_open_referral_replaces_the_refer_link(client_for: Any, submitted: Any) -> None:
    body = html(
        client_for("housing.worker").get(reverse("people:detail", args=[submitted.person_id]))
    )
    assert reverse("cohort:refer", args=[submitted.person_id]) not in body
    assert f"Referral {submitted.pk} is open" in body
