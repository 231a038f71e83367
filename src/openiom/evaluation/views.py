"""Evaluation pages: the list, asking for an evaluation (area data or an uploaded table), its
progress and report, downloads (PDF, HTML, JSON, CSV of every table), re-running, and the board
dashboard.

Pages work without JavaScript: a running evaluation's page refreshes itself (the Refresh
header, with a link to stop it), uploads are plain multipart forms.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiom.access.policy import EvaluationAction, can
from openiom.access.services import require
from openiom.accounts.actor import Actor, actor_for_request
from openiom.evaluation import report, selectors, services
from openiom.evaluation.dashboard import NOT_IMPACT, board_dashboard
from openiom.evaluation.forms import DatabaseEvaluationForm, TableEvaluationForm
from openiom.evaluation.methods.types import EvaluationSpec
from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus
from openiom.evaluation.services import EvaluationError
from openiom.evaluation.tasks import enqueue_evaluation

REFRESH_SECONDS = 5
SLUG = re.compile(r"^[a-z-]{1,40}$")


def _may_run(actor: Actor) -> bool:
    return bool(can(actor, EvaluationAction.RUN_EVALUATION))


def _evaluation(actor: Actor, evaluation_id: int) -> Evaluation:
    try:
        return selectors.get_evaluation(actor=actor, evaluation_id=evaluation_id)
    except Evaluation.DoesNotExist:
        raise Http404("No such evaluation") from None


def _filename(evaluation: Evaluation, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", evaluation.title).strip("-").lower()[:60] or "evaluation"
    return f"evaluation-{evaluation.pk}-{stem}.{suffix}"


def _finished(evaluation: Evaluation) -> dict[str, Any]:
    if evaluation.status != EvaluationStatus.DONE or not evaluation.result:
        raise Http404("This evaluation has no result")
    return evaluation.result


# --- list and forms ------------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    evaluations = list(selectors.evaluations_for(actor=actor)[:100])
    context = {"evaluations": evaluations, "may_run": _may_run(actor)}
    return render(request, "evaluation/index.html", context)


@login_required
@require_GET
def new(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, EvaluationAction.RUN_EVALUATION)
    return render(request, "evaluation/new.html")


def _queue(request: HttpRequest, evaluation: Evaluation) -> HttpResponse:
    enqueue_evaluation(evaluation)
    messages.success(request, f"Evaluation {evaluation.pk} started")
    return redirect("evaluation:detail", evaluation_id=evaluation.pk)


@login_required
@require_http_methods(["GET", "POST"])
def new_database(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, EvaluationAction.RUN_EVALUATION)
    form = DatabaseEvaluationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            spec = services.database_spec(
                covariates=data["covariates"],
                matching=form.matching_spec(tuple(data.get("exact") or ())),
                label=data["title"],
            )
            evaluation = services.request_evaluation(
                actor=actor,
                title=data["title"],
                kind=EvaluationKind.DATABASE,
                spec=spec,
                selection=form.selection(),
                as_of=data["as_of"],
            )
        except (EvaluationError, ValueError) as exc:
            field = getattr(exc, "field", None)
            form.add_error(field if field in form.fields else None, str(exc))
        else:
            return _queue(request, evaluation)
    status = 400 if form.errors else 200
    return render(request, "evaluation/new_database.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def new_table(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, EvaluationAction.RUN_EVALUATION)
    if request.method != "POST":
        return render(request, "evaluation/new_table.html", {"form": TableEvaluationForm()})
    form = TableEvaluationForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        raw = upload.read()
        spec = EvaluationSpec(
            treatment=data["treatment"],
            outcome=data["outcome"],
            covariates=tuple(data["covariates"]),
            frequency=data["frequency"] or None,
            time=data["time"] or None,
            event=data["event"] or None,
            harm=data["harm"] or None,
            matching=form.matching_spec(tuple(data["exact"])),
            label=data.get("label") or data["title"],
        )
        try:
            frame = services.read_upload(raw, upload.name)
            missing = [c for c in services.spec_columns(spec) if c not in frame.columns]
            if missing:
                shown = ", ".join(frame.columns[:30]) + (" …" if frame.width > 30 else "")
                raise EvaluationError(
                    f"The table has no column called {missing[0]!r}. Its columns are: {shown}",
                    field=form.role_of(missing[0]),
                )
            table = services.store_input_table(
                actor=actor,
                data=raw,
                name=upload.name,
                frame=frame,
                columns=services.spec_columns(spec),
            )
            evaluation = services.request_evaluation(
                actor=actor,
                title=data["title"],
                kind=EvaluationKind.TABLE,
                spec=spec,
                input_table=table,
            )
        except EvaluationError as exc:
            field = exc.field if exc.field in form.fields else "file"
            form.add_error(field, str(exc))
        else:
            return _queue(request, evaluation)
    return render(request, "evaluation/new_table.html", {"form": form}, status=400)


# --- one evaluation --------------------------------------------------------------------------------


@login_required
@require_GET
def detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    evaluation = _evaluation(actor, evaluation_id)
    context: dict[str, Any] = {
        "evaluation": evaluation,
        "may_run": _may_run(actor),
        "requester": selectors.requester_name(evaluation),
        "kind_label": EvaluationKind(evaluation.kind).label,
    }
    if not evaluation.ended:
        refresh = request.GET.get("refresh") != "off"
        context.update({"refresh": refresh, "refresh_seconds": REFRESH_SECONDS})
        response = render(request, "evaluation/progress.html", context)
        if refresh:
            # The Refresh header does what <meta http-equiv="refresh"> would, without an element
            # in the page (axe's meta-refresh rule); the page offers a way to stop it.
            response["Refresh"] = str(REFRESH_SECONDS)
        return response
    if evaluation.status == EvaluationStatus.FAILED:
        return render(request, "evaluation/failed.html", context)
    result = _finished(evaluation)
    csv_base = reverse("evaluation:detail", args=[evaluation.pk]) + "csv/"
    context["report"] = report.render_body(
        result, title=evaluation.title, meta=selectors.report_meta(evaluation), csv_base=csv_base
    )
    context["tables"] = [(slug, t.title) for slug, t in report.tables(result).items()]
    return render(request, "evaluation/detail.html", context)


def _download(
    request: HttpRequest, evaluation_id: int, what: str, content_type: str, suffix: str
) -> tuple[Actor, Evaluation, dict[str, Any], HttpResponse]:
    actor = actor_for_request(request)
    evaluation = _evaluation(actor, evaluation_id)
    result = _finished(evaluation)
    services.record_download(actor=actor, evaluation=evaluation, what=what)
    response = HttpResponse(content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_filename(evaluation, suffix)}"'
    return actor, evaluation, result, response


@login_required
@require_GET
def report_pdf(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    _, evaluation, result, response = _download(
        request, evaluation_id, "PDF report", "application/pdf", "pdf"
    )
    response.content = report.render_pdf(
        result, title=evaluation.title, meta=selectors.report_meta(evaluation)
    )
    return response


@login_required
@require_GET
def report_html(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    _, evaluation, result, response = _download(
        request, evaluation_id, "HTML report", "text/html; charset=utf-8", "html"
    )
    response.content = report.render_html(
        result, title=evaluation.title, meta=selectors.report_meta(evaluation)
    ).encode()
    return response


@login_required
@require_GET
def result_json(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    _, evaluation, result, response = _download(
        request, evaluation_id, "result (JSON)", "application/json", "json"
    )
    payload = {
        "id": evaluation.pk,
        "title": evaluation.title,
        "kind": evaluation.kind,
        "config": evaluation.config,
        "data_fingerprint": evaluation.data_fingerprint,
        "software": evaluation.software,
        "finished_at": evaluation.finished_at.isoformat() if evaluation.finished_at else None,
        "result": result,
    }
    response.content = json.dumps(payload, indent=2).encode()
    return response


@login_required
@require_GET
def table_csv(request: HttpRequest, evaluation_id: int, slug: str) -> HttpResponse:
    actor = actor_for_request(request)
    evaluation = _evaluation(actor, evaluation_id)
    result = _finished(evaluation)
    found = report.tables(result)
    if not SLUG.match(slug) or slug not in found:
        raise Http404("No such table")
    table = found[slug]
    services.record_download(actor=actor, evaluation=evaluation, what=f"{table.title} (CSV)")
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(evaluation, "")[:-1]}-{slug}.csv"'
    )
    return response


@login_required
@require_POST
def rerun(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    evaluation = _evaluation(actor, evaluation_id)
    if not evaluation.ended:
        messages.info(request, "This evaluation has not finished yet.")
        return redirect("evaluation:detail", evaluation_id=evaluation.pk)
    try:
        again = services.rerun_evaluation(actor=actor, evaluation=evaluation)
    except EvaluationError as exc:
        messages.error(request, str(exc))
        return redirect("evaluation:detail", evaluation_id=evaluation.pk)
    return _queue(request, again)


# --- board dashboard -------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    board = board_dashboard(actor=actor, as_of=timezone.localdate())
    context = {
        "board": board,
        "not_impact": NOT_IMPACT,
        "may_view_evaluations": bool(can(actor, EvaluationAction.VIEW_EVALUATION)),
        "may_run": _may_run(actor),
    }
    return render(request, "evaluation/dashboard.html", context)


# --- mechanisms ("dosage") ---------------------------------------------------------------------

MECHANISM_LABELS = {
    "registrations": "Registrations",
    "people": "People",
    "mean_days_registered": "Average days registered",
    "mean_days_red": "Average days at red",
    "mean_days_amber": "Average days at amber",
    "mean_days_green": "Average days at green",
    "mean_days_not_assessed": "Average days before a first RAG assessment",
    "mean_days_in_custody": "Average days in custody while registered",
    "mean_agencies_involved": "Average number of agencies involved",
    "registrations_after_a_lead_worker_change": "Registrations with any lead-worker change",
    "registrations_with_a_lead_change_within": "Registrations with a lead change during them",
    "mean_lead_worker_changes_within": "Average lead changes during a registration",
    "mean_contacts_per_month": "Average contacts per month registered",
    "registrations_with_contacts": "Registrations with any contact recorded",
    "mean_appointment_attendance": "Average share of appointments kept",
    "drug_tests": "Drug tests",
    "drug_tests_positive_share": "Share of drug tests positive",
    "mean_appointments_reported_per_month": "Average appointments reported at RAG reviews, per month",
    "registrations_with_reported_appointments": "Registrations with appointments reported",
}
SHARES = {"mean_appointment_attendance", "drug_tests_positive_share"}


def _mechanism_value(key: str, value: Any) -> str:
    if value is None:
        return "Not recorded"
    if key in SHARES:
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def _mechanism_label(key: str) -> str:
    if key in MECHANISM_LABELS:
        return MECHANISM_LABELS[key]
    if key.startswith("mean_") and key.endswith("_per_month"):
        kind = key.removeprefix("mean_").removesuffix("_per_month").replace("_", " ")
        return f"Average {kind}s per month registered"
    return key.replace("_", " ").capitalize()


@login_required
@require_GET
def mechanisms(request: HttpRequest) -> HttpResponse:
    """How much IOM each registration received, and outcomes by band: descriptive, not causal."""
    from openiom.core.csv_safety import safe_row
    from openiom.evaluation.mechanisms import cohort_dosage

    actor = actor_for_request(request)
    require(actor, EvaluationAction.VIEW_EVALUATION)
    cohort = request.GET.get("cohort", "")
    cohorts = {"fixed": "Fixed", "flex": "Flex", "free": "Free"}
    if cohort not in cohorts:
        cohort = ""
    dose = cohort_dosage(as_of=timezone.localdate(), cohorts=[cohort] if cohort else [])
    if request.GET.get("format") == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["measure", "band", "registrations", "complete", "reoffending_rate", "reoffences"]
        )
        for b in dose.bands:
            writer.writerow(
                safe_row(
                    [
                        b["label"],
                        b["band"],
                        b["registrations"],
                        b["complete"],
                        b["reoffending_rate"],
                        b["reoffences_per_person"],
                    ]
                )
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="mechanisms.csv"'
        return response
    summary = [
        {"label": _mechanism_label(k), "value": _mechanism_value(k, v)}
        for k, v in dose.summary.items()
    ]
    context = {
        "dose": dose,
        "summary": summary,
        "cohort": cohort,
        "cohorts": cohorts,
        "bands": dose.bands,
    }
    return render(request, "evaluation/mechanisms.html", context)
