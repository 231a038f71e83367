"""The police briefing: registered people per hub with status and latest RAG, police only."""

from __future__ import annotations

import pytest

from openiom.audit.models import AuditEvent
from openiom.cohort import services as cohort_services
from tests.cohort.conftest import PANEL_DAY

pytestmark = pytest.mark.django_db
URL = "/casework/briefing/"


def test_a_police_officer_sees_registered_people_with_status_and_latest_rag(
    client_for, actor, registration
):
    cohort_services.set_rag_status(
        actor=actor("probation.om"),
        registration=registration,
        status="red",
        reason="Arrested last week",
        on=PANEL_DAY,
    )
    response = client_for("police.officer").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert registration.person.full_name in html
    assert registration.person.hub.name in html
    assert "Active" in html
    assert "govuk-tag--red" in html
    assert AuditEvent.objects.filter(event_type="briefing.consulted").count() == 1


def test_de_registered_people_are_not_in_the_briefing(client_for, make_person):
    make_person(first_names="Never", surname="Registered")
    html = client_for("police.officer").get(URL).content.decode()
    assert "Never Registered" not in html
    assert "Nobody you can see is currently registered" in html


@pytest.mark.parametrize(
    "username",
    ["probation.om", "coordinator", "housing.worker", "drug.worker", "vcs.mentor", "dpo", "admin"],
)
def test_non_police_personas_are_refused_and_audited(client_for, username):
    response = client_for(username).get(URL)
    assert response.status_code == 403
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 1
    assert not AuditEvent.objects.filter(event_type="briefing.consulted").exists()


@pytest.mark.parametrize("username", ["police.officer", "analyst"])  # both at Wessex Police
def test_police_personas_may_open_the_briefing(client_for, username):
    assert client_for(username).get(URL).status_code == 200
