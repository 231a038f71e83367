"""Small helpers for the cohort API tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from openiom.audit.models import AuditEvent

PANEL = "2026-03-02"
ADOPT = {
    "decision": "adopt",
    "decided_on": PANEL,
    "agencies_present": ["probation-wessex", "wessex-police"],
    "rationale": "Prolific burglar; housing at risk",
    "cohort": "fixed",
    "lead_agency": "probation-wessex",
    "lead_worker": "probation.om",
}


def post(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, body if body is not None else {}, content_type="application/json")


def field_error(response: Any) -> tuple[str, str]:
    """(field, message) of a 422's first error: the last part of its location names the field."""
    assert response.status_code == 422, response.content
    error = response.json()["detail"][0]
    return str(error["loc"][-1]), error["msg"]


def event_types(after_id: int, **filters: Any) -> list[tuple[str, str]]:
    return [
        (e.event_type, e.actor_username)
        for e in AuditEvent.objects.filter(id__gt=after_id, **filters).order_by("id")
    ]


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def iso(day: dt.date) -> str:
    return day.isoformat()
