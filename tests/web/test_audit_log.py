"""The audit log page: data-protection officers only, filtered, paginated, and itself audited."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from openiom.audit.models import AuditEvent
from tests.web.helpers import assert_csp_safe, html


def test_dpo_reads_the_log_and_the_reading_is_audited(client_for: Any) -> None:
    response = client_for("dpo").get(reverse("audit:log"))
    assert response.status_code == 200
    body = assert_csp_safe(response)
    assert "Audit log" in body
    assert "auth.signed_in" in body  # force_login is audited
    consulted = AuditEvent.objects.get(event_type="audit.consulted")
    assert consulted.actor_username == "dpo"


def test_police_officer_is_refused_and_the_refusal_audited(client_for: Any) -> None:
    response = client_for("police.officer").get(reverse("audit:log"))
    assert response.status_code == 403
    denied = AuditEvent.objects.get(event_type="access.denied")
    assert denied.actor_username == "police.officer"
    assert denied.details["action"] == "view audit"
    assert not AuditEvent.objects.filter(event_type="audit.consulted").exists()


def test_filter_by_person_shows_who_viewed_the_record(client_for: Any, make_person: Any) -> None:
    viewed = make_person(first_names="Viewed")
    other = make_person(first_names="Other")
    client_for("police.officer").get(reverse("people:detail", args=[viewed.pk]))
    client_for("probation.om").get(reverse("people:detail", args=[other.pk]))
    response = client_for("dpo").get(
        reverse("audit:log"), {"person": viewed.pk, "category": "consultation"}
    )
    body = assert_csp_safe(response)
    assert f"Viewed the record of Viewed {viewed.surname.upper()}" in body
    assert "police.officer" in body
    assert "Other" not in body.split('id="events-heading"')[1]
    assert "1 event concerning person" in body
    assert f"Who has viewed person {viewed.pk}" in body
    consulted = AuditEvent.objects.get(event_type="audit.consulted")
    assert consulted.person_id == viewed.pk
    assert consulted.details["filters"] == {"person_id": viewed.pk, "category": "consultation"}


def test_filter_by_user_event_type_and_dates(client_for: Any, make_person: Any) -> None:
    person = make_person()
    client_for("police.officer").get(reverse("people:detail", args=[person.pk]))
    client = client_for("dpo")
    body = html(
        client.get(
            reverse("audit:log"),
            {"user": "Police.Officer", "event_type": "person.consulted", "date_from": "01/01/2000"},
        )
    )
    assert "1 event" in body
    body = html(client.get(reverse("audit:log"), {"date_to": "01/01/2000"}))
    assert "No events match these filters" in body


def test_bad_filters_get_clear_errors_not_500(client_for: Any) -> None:
    response = client_for("dpo").get(
        reverse("audit:log"),
        {"person": "abc", "date_from": "31/02/2026", "event_type": "made.up", "page": "x"},
    )
    assert response.status_code == 400
    body = html(response)
    assert "There is a problem" in body
    assert "Person ID must be a whole number" in body
    assert "‘From’ date must be a real date" in body
    assert "Select an event type from the list" in body
    assert 'href="#id_person"' in body
    assert not AuditEvent.objects.filter(event_type="audit.consulted").exists()


def test_dates_the_wrong_way_round(client_for: Any) -> None:
    response = client_for("dpo").get(
        reverse("audit:log"), {"date_from": "02/01/2026", "date_to": "01/01/2026"}
    )
    assert response.status_code == 400
    assert "must be the same as or after" in html(response)


def test_log_is_paginated(client_for: Any, personas: Any) -> None:
    from openiom.audit.services import record

    for i in range(60):
        record("data.exported", actor=None, context={"what": f"thing {i}"})
    client = client_for("dpo")
    first = html(client.get(reverse("audit:log"), {"event_type": "data.exported"}))
    assert "60 events" in first
    assert "Page 1 of 2" in first
    assert 'rel="next"' in first
    assert "Exported thing 59" in first and "Exported thing 0<" not in first
    second = html(client.get(reverse("audit:log"), {"event_type": "data.exported", "page": "2"}))
    assert "Exported thing 0<" in second
    assert 'rel="prev"' in second
    # Out-of-range pages show the last page rather than failing.
    assert client.get(reverse("audit:log"), {"page": "999"}).status_code == 200
