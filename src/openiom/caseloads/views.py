"""Caseload and agency-contribution pages (GET forms, no JavaScript).

A refusal raises AccessDenied (audited, shown as the 403 page); bad filter values are shown as
field errors with status 400, never a 500.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from openiom.access.policy import CaseloadAction
from openiom.access.services import require
from openiom.accounts.actor import actor_for_request
from openiom.caseloads import contribution as contrib
from openiom.caseloads.forms import CaseloadFilterForm, ContributionForm
from openiom.caseloads.selectors import RAG_CHOICES, SCOPES, allowed_scopes, caseload
from openiom.core.csv_safety import safe_row


@login_required
@require_GET
def caseload_page(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, CaseloadAction.VIEW_OWN_CASELOAD)
    form = CaseloadFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        context: dict[str, Any] = {
            "form": form,
            "caseload": None,
            "tabs": [
                {"key": s, "label": SCOPES[s], "count": None, "query": f"scope={s}"}
                for s in allowed_scopes(actor)
            ],
        }
        return render(request, "caseloads/caseload.html", context, status=400)
    scope = form.chosen_scope() if form.is_bound else "mine"
    result = caseload(actor=actor, scope=scope, filters=form.filters() if form.is_bound else None)
    query = request.GET.copy()
    tabs: list[dict[str, object]] = []
    for s in allowed_scopes(actor):
        query["scope"] = s
        tabs.append(
            {
                "key": s,
                "label": SCOPES[s],
                "count": result.tab_counts[s],
                "query": query.urlencode(),
            }
        )
    context = {
        "form": form,
        "caseload": result,
        "tabs": tabs,
        "scope_label": SCOPES[scope],
        "rag_labels": RAG_CHOICES,
        "no_team": scope == "team"
        and (actor.membership is None or actor.membership.team_id is None),
    }
    return render(request, "caseloads/caseload.html", context)


@login_required
@require_GET
def contribution_page(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, CaseloadAction.VIEW_CONTRIBUTION)
    today = timezone.localdate()
    form = ContributionForm(request.GET or {}, today=today)
    if not form.is_valid():
        return render(
            request, "caseloads/contribution.html", {"form": form, "result": None}, status=400
        )
    export = request.GET.get("format") == "csv"
    result = contrib.agency_contribution(
        actor=actor,
        first_month=form.cleaned_data["first"],
        last_month=form.cleaned_data["last"],
        today=today,
        export=export,
    )
    if export:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"agency-contribution-{result.first_month:%Y-%m}-to-{result.last_month:%Y-%m}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response)
        for row in contrib.csv_rows(result):
            writer.writerow(safe_row(row))
        return response
    periods = [*result.months]
    if result.whole_range is not None:
        periods.append(result.whole_range)
    tables = [
        {
            "period": p,
            "rows": [(a, p.counts.get(a.pk, contrib.Counts())) for a in result.agencies],
        }
        for p in periods
    ]
    query = request.GET.copy()
    query["first"], query["last"] = f"{result.first_month:%Y-%m}", f"{result.last_month:%Y-%m}"
    query["format"] = "csv"
    context = {
        "form": form,
        "result": result,
        "tables": tables,
        "measures": contrib.MEASURES,
        "csv_query": query.urlencode(),
    }
    return render(request, "caseloads/contribution.html", context)
