"""Scrutiny pages: disproportionality of a scoring run and of the registered cohort, and the
score audit (upload a table, get discrimination, calibration and error rates by group).

Uploaded files are never stored: the file is written to a private temporary directory only for
as long as the audit takes, then deleted. The audit trail records its name, size and SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from openiom.accounts.actor import actor_for_request
from openiom.audit.services import record
from openiom.people.charts import csp_safe_svg
from openiom.scoring.models import RunStatus, ScoringRun
from openiom.scoring.permissions import ScoringAction, require_scoring
from openiom.scrutiny import plots
from openiom.scrutiny.disproportionality import DisproportionalityError
from openiom.scrutiny.forms import AsOfForm, ScoreAuditForm, TopNForm
from openiom.scrutiny.report import RATE_HEADERS, _calibration_rows, _coef_rows, _rate_row
from openiom.scrutiny.score_audit import AuditOptions, ScoreAudit, ScoreAuditError, audit_file
from openiom.scrutiny.selectors import (
    DEFAULT_TOP_N,
    cohort_disproportionality,
    run_disproportionality,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def _safe_name(name: str) -> str:
    base = Path(name or "upload").name
    stem, dot, suffix = base.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9_. -]", "_", stem or "upload")[:80] or "upload"
    return f"{stem}.{suffix.lower()}" if dot else stem


# --- disproportionality -------------------------------------------------------------------------


@login_required
@require_GET
def run_view(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    run = get_object_or_404(ScoringRun.objects.select_related("policy"), pk=run_id)
    form = TopNForm(request.GET if "top" in request.GET else None, initial={"top": DEFAULT_TOP_N})
    top_n = DEFAULT_TOP_N
    if form.is_bound and form.is_valid():
        top_n = form.cleaned_data["top"]
    report = pops = None
    error = ""
    if run.status != RunStatus.FINISHED:
        error = f"Scoring run {run.pk} has not finished ({run.get_status_display().lower()})."
    elif not form.errors:
        try:
            report, pops = run_disproportionality(actor=actor, run=run, top_n=top_n)
        except DisproportionalityError as exc:
            error = str(exc)
    context = {
        "run": run,
        "form": form,
        "top_n": top_n,
        "report": report,
        "pops": pops,
        "error": error,
    }
    status = 400 if form.errors else 200
    return render(request, "scrutiny/run_disproportionality.html", context, status=status)


@login_required
@require_GET
def cohort_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    today = timezone.localdate()
    form = AsOfForm(
        request.GET if "as_of" in request.GET else None,
        initial={"as_of": today.strftime("%d/%m/%Y")},
    )
    as_of = today
    if form.is_bound and form.is_valid():
        as_of = form.cleaned_data["as_of"]
    report = pops = None
    error = ""
    if not form.errors:
        try:
            report, pops = cohort_disproportionality(actor=actor, as_of=as_of)
        except DisproportionalityError as exc:
            error = str(exc)
    context = {"form": form, "as_of": as_of, "report": report, "pops": pops, "error": error}
    status = 400 if form.errors else 200
    return render(request, "scrutiny/cohort_disproportionality.html", context, status=status)


# --- score audit ------------------------------------------------------------------------------


def _describe_roc(audit: ScoreAudit) -> str:
    a = audit.discrimination.auc
    return (
        f"ROC curve of '{audit.options.score}': true positive rate against false positive rate "
        f"at each of {len(audit.discrimination.roc) - 1} distinct scores. AUC {a.estimate:.3f} "
        f"(95% CI {a.ci_low:.3f} to {a.ci_high:.3f}); the diagonal is chance."
    )


def _describe_calibration(audit: ScoreAudit) -> str:
    parts = ", ".join(
        f"bin {b.index} {100 * (b.observed.estimate or 0):.0f}%" for b in audit.calibration.bins
    )
    what = (
        "observed against mean predicted probability"
        if audit.calibration.is_probability
        else "observed outcome rate"
    )
    return f"Calibration: {what} by decile of score, with 95% intervals: {parts}."


def _results_context(audit: ScoreAudit) -> dict[str, Any]:
    cal_headers, cal_rows = _calibration_rows(audit)
    coef_headers, coef_rows = _coef_rows(audit)
    thr = audit.threshold
    return {
        "audit": audit,
        "roc_svg": csp_safe_svg(
            plots.roc_svg(audit),
            id_prefix="roc-chart",
            title="ROC curve",
            description=_describe_roc(audit),
        ),
        "calibration_svg": csp_safe_svg(
            plots.calibration_svg(audit),
            id_prefix="calibration-chart",
            title="Calibration by decile of score",
            description=_describe_calibration(audit),
        ),
        "roc_description": _describe_roc(audit),
        "calibration_description": _describe_calibration(audit),
        "cal_headers": cal_headers,
        "cal_rows": cal_rows,
        "coef_headers": coef_headers,
        "coef_rows": coef_rows,
        "rate_headers": RATE_HEADERS,
        "rate_rows": [_rate_row(thr.overall)] + [_rate_row(g) for g in thr.groups],
        "rate_notes": [
            f"{g.group}: {n}"
            for g in [thr.overall, *thr.groups]
            for n in g.notes
            if not n.startswith("Too few")
        ],
    }


def _run_audit(data: bytes, name: str, options: AuditOptions) -> ScoreAudit:
    # A private directory (mode 0700) that is removed, with the file, when the audit is done.
    with tempfile.TemporaryDirectory(prefix="openiom-audit-") as folder:
        path = Path(folder) / _safe_name(name)
        path.write_bytes(data)
        return audit_file(path, options)


@login_required
@require_http_methods(["GET", "POST"])
def score_audit(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    if request.method != "POST":
        return render(request, "scrutiny/score_audit.html", {"form": ScoreAuditForm()})
    form = ScoreAuditForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "scrutiny/score_audit.html", {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    data = upload.read()
    digest = hashlib.sha256(data).hexdigest()
    name = _safe_name(upload.name)
    options = AuditOptions(
        score=form.cleaned_data["score"],
        outcome=form.cleaned_data["outcome"],
        threshold=form.cleaned_data["threshold"],
        group=form.cleaned_data["group"] or None,
        predictors=form.cleaned_data["predictors"],
        probability=form.probability_flag(),
    )
    audit: ScoreAudit | None = None
    error = ""
    try:
        if name.endswith(".csv") and b"\x00" in data[:65536]:
            raise ScoreAuditError(
                f"{name} does not look like a CSV file: it contains binary data. Export the "
                "table as CSV (comma-separated text) or Parquet"
            )
        audit = _run_audit(data, name, options)
    except ScoreAuditError as exc:
        error = str(exc)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, pl.exceptions.PolarsError) as exc:
        # Anything else the file provokes is still the file's problem: say so, never a 500.
        error = f"The file could not be audited: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    # Text echoed from the file may hold control characters (PostgreSQL refuses NUL in JSON).
    error = _CONTROL.sub("?", error)
    record(
        "scrutiny.score_audited",
        actor=actor,
        context={
            "score": options.score,
            "outcome": options.outcome,
            "file": name,
            "rows": audit.n if audit else 0,
        },
        details={
            "file_name": name,
            "file_sha256": digest,
            "file_bytes": len(data),
            "options": options.to_dict(),
            "result": "audited" if audit else "refused",
            "error": error[:500],
            "auc": audit.discrimination.auc.estimate if audit else None,
        },
    )
    if audit is None:
        form.add_error("file", error)
        return render(
            request, "scrutiny/score_audit.html", {"form": form, "audit_error": error}, status=400
        )
    context = {"form": form, "sha256": digest, "file_name": name, **_results_context(audit)}
    return render(request, "scrutiny/score_audit_results.html", context)
