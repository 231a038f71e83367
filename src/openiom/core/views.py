from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

from openiom.access.policy import Action, can
from openiom.accounts.actor import actor_for_request
from openiom.people.selectors import visible_people_counts


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    may_search = bool(can(actor, Action.SEARCH_PEOPLE))
    context = {
        "may_search": may_search,
        "may_import": bool(can(actor, Action.IMPORT_EXTRACT)),
        "may_audit": bool(can(actor, Action.VIEW_AUDIT)),
        "counts": visible_people_counts(actor=actor) if may_search else None,
    }
    return render(request, "core/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception or "")
    return render(request, "core/403.html", {"reason": reason}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the context processors read the database, which may be what failed.
    html = loader.get_template("core/500.html").render(
        {"service_name": settings.SERVICE_NAME, "phase": settings.PHASE}
    )
    return HttpResponseServerError(html)
