from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from openiom.accounts.actor import actor_for_request


def service(request: HttpRequest) -> dict[str, Any]:
    actor = actor_for_request(request) if hasattr(request, "user") else None
    return {
        "service_name": settings.SERVICE_NAME,
        "phase": settings.PHASE,
        "demo_mode": settings.DEMO_MODE,
        "actor": actor,
    }
