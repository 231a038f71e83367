"""Upload extracts, follow batches, read error reports and confirm possible matches."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from openiom.access.policy import Action
from openiom.access.services import require
from openiom.accounts.actor import actor_for_request
from openiom.core.csv_safety import safe_row
from openiom.imports import selectors
from openiom.imports.forms import MatchDecisionForm, UploadForm
from openiom.imports.models import ImportBatch, MatchStatus, PendingMatch
from openiom.imports.services import ExtractFile, resolve_pending_match, start_import
from openiom.partnership.models import Hub

REFRESH_SECONDS = 5


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, Action.IMPORT_EXTRACT)
    initial = {"agency": actor.membership.agency_id if actor.membership else None}
    posted = request.method == "POST"
    form = UploadForm(
        request.POST if posted else None, request.FILES if posted else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        files = [
            ExtractFile(
                name=f.name or "upload",
                data=f.read(),
                record_type=form.cleaned_data["record_type"] or None,
            )
            for f in form.cleaned_data["extract_files"]
        ]
        batch = start_import(
            actor=actor,
            files=files,
            agency=form.cleaned_data["agency"],
            membership_id=actor.membership.pk if actor.membership else None,
        )
        return redirect("imports:batch_detail", pk=batch.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/upload.html", {"form": form}, status=status)


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    require(actor_for_request(request), Action.IMPORT_EXTRACT)
    return render(
        request,
        "imports/batch_list.html",
        {
            "batches": selectors.recent_batches(),
            "pending_count": selectors.pending_matches().count(),
        },
    )


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(actor_for_request(request), Action.IMPORT_EXTRACT)
    batch = get_object_or_404(ImportBatch.objects.select_related("agency", "created_by"), pk=pk)
    counts = [
        {"name": name, **values} for name, values in batch.counts.items() if name != "matches"
    ]
    return render(
        request,
        "imports/batch_detail.html",
        {
            "batch": batch,
            "counts": counts,
            "queued": batch.counts.get("matches", {}).get("queued", 0),
            "refresh": None if batch.is_finished else REFRESH_SECONDS,
            "stalled": batch.stalled,
            "first_errors": selectors.batch_errors(batch=batch)[:10],
        },
    )


@login_required
def batch_errors(request: HttpRequest, pk: int) -> HttpResponse:
    require(actor_for_request(request), Action.IMPORT_EXTRACT)
    batch = get_object_or_404(ImportBatch, pk=pk)
    page = Paginator(selectors.batch_errors(batch=batch), 200).get_page(request.GET.get("page"))
    return render(request, "imports/batch_errors.html", {"batch": batch, "page": page})


@login_required
def batch_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    require(actor_for_request(request), Action.IMPORT_EXTRACT)
    batch = get_object_or_404(ImportBatch, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    response.write("\ufeff")  # so spreadsheet apps read it as UTF-8
    writer = csv.writer(response)
    writer.writerow(["file", "row", "column", "value", "message"])
    for e in selectors.batch_errors(batch=batch):
        writer.writerow(safe_row([e.file_name, e.row or "", e.column, e.value, e.message]))
    return response


@login_required
def match_list(request: HttpRequest) -> HttpResponse:
    require(actor_for_request(request), Action.RESOLVE_MATCH)
    return render(request, "imports/match_list.html", {"matches": selectors.pending_matches()})


@login_required
@require_http_methods(["GET", "POST"])
def match_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, Action.RESOLVE_MATCH)
    match = get_object_or_404(PendingMatch.objects.select_related("candidate", "batch"), pk=pk)
    form = MatchDecisionForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and match.status == MatchStatus.PENDING and form.is_valid():
        try:
            resolve_pending_match(actor=actor, match=match, decision=form.cleaned_data["decision"])
        except ValueError as e:
            error = str(e)
        else:
            return redirect("imports:match_detail", pk=match.pk)
    row = match.person_row
    hub = Hub.objects.filter(pk=row["hub"]).first() if row.get("hub") else None
    status = 400 if request.method == "POST" and match.status == MatchStatus.PENDING else 200
    return render(
        request,
        "imports/match_detail.html",
        {
            "match": match,
            "row": row,
            "hub": hub,
            "form": form,
            "error": error,
            "held": match.held_counts,
        },
        status=status,
    )
