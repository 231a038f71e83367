"""Scoring pages: runs and their ranked candidate lists, score explanations, running scoring on
demand, and the versioned rule sets (scoring policies, crime-harm and unit-cost tables).

Candidate lists and explanations are read through openiom.scoring.consultation, which checks
permission and records each view as a consultation.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from openiom.accounts.actor import Actor, actor_for_request
from openiom.scoring.consultation import (
    FLAGS,
    consult_candidates,
    consult_explanation,
    latest_runs,
)
from openiom.scoring.forms import (
    POLICY_FIELDS,
    CandidateFilterForm,
    PolicyPublishForm,
    PublishForm,
    RunScoringForm,
    TablePublishForm,
)
from openiom.scoring.models import (
    CandidateScore,
    CrimeHarmTable,
    RunStatus,
    ScoringPolicy,
    ScoringRun,
    Strand,
    UnitCostTable,
)
from openiom.scoring.permissions import ScoringAction, can_score, require_scoring
from openiom.scoring.services import ScoringError, publish_policy_version
from openiom.scoring.tasks import enqueue_scoring
from openiom.scoring.validation import PolicyConfigError

REFRESH_SECONDS = 5

COMPONENT_LABELS = {
    "recency": "Recency",
    "harm": "Crime harm",
    "risk": "Risk (OGRS3)",
    "neighbourhood": "Neighbourhood crime",
    "local_priority": "Local priority offending",
    "intelligence": "Intelligence",
    "cost": "Cost of crime",
}
RAW_LABELS = {
    "last_offence": "Date of the last offence",
    "last_arrest": "Date of the last arrest",
    "harm_sum": "Crime harm (days)",
    "ogrs3_1yr": "OGRS3 1-year probability",
    "ogrs3_2yr": "OGRS3 2-year probability",
    "sanctions": "Sanction occasions",
    "nbh_n": "Neighbourhood crimes in the window",
    "nbh_total": "Offences in the window",
    "lp_n": "Local priority offences in the window",
    "intel_n": "Intelligence items in the window",
    "intel_w": "Weighted intelligence items",
    "cost_sum": "Cost of the offences (£)",
}

# Column sort links: the sort each column asks for, and its aria-sort when active.
SORT_COLUMNS = {
    "rank": ("rank", "ascending"),
    "surname": ("surname", "ascending"),
    "-total": ("total", "descending"),
    "total": ("total", "ascending"),
    "ogrs3": ("ogrs3", "descending"),
}

KINDS: dict[str, tuple[type[Any], str, str]] = {
    "policy": (ScoringPolicy, "Scoring policy", "scoring policies"),
    "harm": (CrimeHarmTable, "Crime-harm table", "crime-harm tables"),
    "cost": (UnitCostTable, "Unit-cost table", "unit-cost tables"),
}
STATUS_TAG = re.compile(r"\[(V2|V|U)\]")
STATUS_TEXT = {
    "V": "Verified against the primary source",
    "V2": "From a secondary source only",
    "U": "Unconfirmed local default: review it",
}


def component_label(name: str) -> str:
    if name.startswith("frequency_"):
        months = name.removeprefix("frequency_").removesuffix("m")
        return f"Offences and arrests, last {months} months"
    return COMPONENT_LABELS.get(name, name.replace("_", " ").capitalize())


def raw_label(name: str) -> str:
    match = re.fullmatch(r"(off|arr)_(\d+)m", name)
    if match:
        what = "Offences" if match.group(1) == "off" else "Arrests"
        return f"{what} in the last {match.group(2)} months"
    return RAW_LABELS.get(name, name.replace("_", " "))


def format_raw(name: str, value: Any) -> str:
    if value is None:
        return "None"
    if name in {"last_offence", "last_arrest"}:
        try:
            return f"{dt.date.fromisoformat(str(value)):%-d %B %Y}"
        except ValueError:
            return str(value)
    if name.startswith("ogrs3_") and isinstance(value, int | float):
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)


def format_points(value: Any) -> str:
    try:
        return f"{float(value):.4f}".rstrip("0").rstrip(".")
    except (TypeError, ValueError):
        return str(value)


def top_contributions(components: dict[str, Any], n: int = 3) -> list[str]:
    ranked = sorted(components.items(), key=lambda kv: -float(kv[1].get("points") or 0))
    return [
        f"{component_label(name)} +{format_points(c.get('points'))}"
        for name, c in ranked[:n]
        if float(c.get("points") or 0) > 0
    ]


def status_tags(text: str) -> list[tuple[str, str]]:
    found = list(dict.fromkeys(STATUS_TAG.findall(text or "")))
    return [(s, STATUS_TEXT[s]) for s in found]


def _run_or_404(run_id: int) -> ScoringRun:
    return get_object_or_404(
        ScoringRun.objects.select_related("policy", "harm_table", "cost_table", "requested_by"),
        pk=run_id,
    )


def _may(actor: Actor, action: ScoringAction) -> bool:
    return bool(can_score(actor, action))


# --- runs -------------------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    strand = request.GET.get("strand", "")
    if strand and strand not in Strand.values:
        strand = ""
    runs = ScoringRun.objects.select_related("policy").order_by("-created_at", "-id")
    if strand:
        runs = runs.filter(policy__strand=strand)
    latest = [row for row in latest_runs() if not strand or row[0].strand == strand]
    context = {
        "latest": latest,
        "runs": list(runs[:25]),
        "strand": strand,
        "strands": Strand.choices,
        "may_run": _may(actor, ScoringAction.RUN_SCORING),
    }
    return render(request, "scoring/index.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def run_new(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require_scoring(actor, ScoringAction.RUN_SCORING)
    error = ""
    if request.method == "POST":
        form = RunScoringForm(request.POST)
        if form.is_valid():
            try:
                run = enqueue_scoring(
                    actor=actor,
                    policy=form.cleaned_data["policy"],
                    as_of=form.cleaned_data["as_of"],
                )
            except ScoringError as exc:
                error = str(exc)
                form.add_error("policy", error)
            else:
                return redirect("scoring:run", run_id=run.pk)
    else:
        initial: dict[str, Any] = {"as_of": timezone.localdate().strftime("%d/%m/%Y")}
        key = request.GET.get("policy")
        if key:
            chosen = ScoringPolicy.objects.filter(key=key).order_by("-version").first()
            if chosen is not None:
                initial["policy"] = chosen.pk
        form = RunScoringForm(initial=initial)
    status = 400 if form.errors else 200
    return render(request, "scoring/run_new.html", {"form": form}, status=status)


def _sort_headers(request: HttpRequest, current: str) -> dict[str, dict[str, str]]:
    def href(sort: str) -> str:
        query: QueryDict = request.GET.copy()
        query["sort"] = sort
        query.pop("page", None)
        return "?" + query.urlencode()

    column_of = {k: v[0] for k, v in SORT_COLUMNS.items()}
    active = column_of.get(current, "rank")
    direction = SORT_COLUMNS.get(current, SORT_COLUMNS["rank"])[1]
    columns = {
        "rank": "rank",
        "surname": "surname",
        # The score column toggles: highest first, then lowest first.
        "total": "total" if current == "-total" else "-total",
        "ogrs3": "ogrs3",
    }
    return {
        column: {
            "href": href(sort),
            "aria_sort": direction if column == active else "none",
        }
        for column, sort in columns.items()
    }


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    run = _run_or_404(run_id)
    if run.status != RunStatus.FINISHED:
        require_scoring(actor, ScoringAction.VIEW_SCORES)
        refresh = run.status in {RunStatus.QUEUED, RunStatus.RUNNING} and (
            request.GET.get("refresh") != "off"
        )
        response = render(
            request,
            "scoring/run_progress.html",
            {"run": run, "refresh": refresh, "refresh_seconds": REFRESH_SECONDS},
        )
        if refresh:
            # The Refresh header does what <meta http-equiv="refresh"> would, without an
            # element in the page (axe's meta-refresh rule); the page offers a way to stop it.
            response["Refresh"] = str(REFRESH_SECONDS)
        return response
    form = CandidateFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else CandidateFilterForm().filters()
    result = consult_candidates(
        actor=actor, run=run, filters=filters, page_number=request.GET.get("page", 1)
    )
    page = result.page
    rows = [
        {
            "c": c,
            "visible": c.person_id in result.visible_ids,
            "top": top_contributions(c.components),
            "flags": [FLAGS.get(f, f) for f in c.flags],
            "ogrs3_pct": None if c.ogrs3_2yr is None else 100 * c.ogrs3_2yr,
        }
        for c in page.object_list
    ]
    context = {
        "run": run,
        "form": form,
        "filters": filters,
        "rows": rows,
        "count": result.count,
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
        "headers": _sort_headers(request, filters.sort),
        "filtered": any(
            [filters.hub, filters.flag, filters.min_score is not None, filters.eligible_only]
        ),
        "may_run": _may(actor, ScoringAction.RUN_SCORING),
    }
    return render(request, "scoring/run_detail.html", context, status=400 if form.errors else 200)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@login_required
@require_GET
def explanation(request: HttpRequest, run_id: int, person_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    run = _run_or_404(run_id)
    try:
        found = consult_explanation(actor=actor, run=run, person_id=person_id)
    except CandidateScore.DoesNotExist:
        raise Http404("This person was not stored in this run") from None
    components = [
        {
            "name": name,
            "label": component_label(name),
            "points": format_points(c.get("points")),
            "raw": [(raw_label(k), format_raw(k, v)) for k, v in c.items() if k != "points"],
        }
        for name, c in found.explanation.components.items()
    ]
    context = {
        "run": run,
        "found": found,
        "c": found.candidate,
        "rank_text": ordinal(found.candidate.rank),
        "eligible_rank_text": ordinal(found.eligible_rank) if found.eligible_rank else "",
        "components": components,
        "breakdown_parts": [p.strip() for p in found.explanation.breakdown.split(";") if p.strip()],
        "flags": [FLAGS.get(f, f) for f in found.candidate.flags],
        "total_text": format_points(found.candidate.total),
    }
    return render(request, "scoring/explanation.html", context)


# --- rule sets ----------------------------------------------------------------------------------


def _require_role(actor: Actor) -> None:
    # Rule sets are policy, not personal data: anyone with an active role may read them.
    if actor.membership is None:
        raise PermissionDenied("You need an active agency role to see scoring rule sets.")


def _kind(kind: str) -> tuple[type[Any], str, str]:
    if kind not in KINDS:
        raise Http404("No such kind of rule set")
    return KINDS[kind]


@login_required
@require_GET
def policies(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    _require_role(actor)
    groups = []
    for kind, (model, title, plural) in KINDS.items():
        keys = model.objects.values_list("key", flat=True).distinct().order_by("key")
        latest = [model.objects.filter(key=k).order_by("-version").first() for k in keys]
        latest = [(item, status_tags(item.source)) for item in latest if item is not None]
        groups.append({"kind": kind, "title": title, "plural": plural, "latest": latest})
    return render(
        request,
        "scoring/policies.html",
        {"groups": groups, "may_publish": _may(actor, ScoringAction.PUBLISH_POLICY)},
    )


def _table_rows(config: dict[str, Any]) -> list[dict[str, Any]]:
    """A harm or cost table's rows: default, categories, then Home Office groups."""
    value_field = "days" if "unit" in config or "method" in config else "cost"
    rows = []
    default = config.get("default") or {}
    if default:
        rows.append({"section": "Default", "name": "Any other offence", **default})
    for name, row in (config.get("categories") or {}).items():
        rows.append({"section": "Category", "name": name, **row})
    for code, row in (config.get("groups") or {}).items():
        rows.append({"section": "Home Office group", "name": code, **row})
    for row in rows:
        row["value"] = row.get("days", row.get("cost", row.get(value_field)))
    return rows


def _policy_rows(config: dict[str, Any]) -> list[tuple[str, str]]:
    from openiom.scoring.forms import get_path

    rows = [(label, format_raw("", get_path(config, path))) for path, label, _ in POLICY_FIELDS]
    windows = get_path(config, "components.frequency.windows") or []
    for w in windows:
        rows.append(
            (
                f"Frequency, last {w.get('months')} months",
                f"{format_points(w.get('offence_points'))} per offence, "
                f"{format_points(w.get('arrest_points'))} per arrest, at most "
                f"{format_points(w.get('cap'))}",
            )
        )
    categories = get_path(config, "components.local_priority.categories") or []
    rows.append(("Local priority categories", ", ".join(categories) or "None"))
    hubs = get_path(config, "flags.area_hubs") or []
    rows.append(("Area hubs", ", ".join(hubs) or "All hubs"))
    excluded = get_path(config, "eligibility.exclude_flags") or []
    rows.append(("Flags that exclude", ", ".join(FLAGS.get(f, f) for f in excluded) or "None"))
    for table in ("harm_table", "cost_table"):
        ref = config.get(table) or {}
        rows.append(
            (
                "Crime-harm table" if table == "harm_table" else "Unit-cost table",
                f"{ref.get('key')} version {ref.get('version')}",
            )
        )
    return rows


@login_required
@require_GET
def policy_detail(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    actor = actor_for_request(request)
    _require_role(actor)
    model, title, _plural = _kind(kind)
    versions = list(model.objects.filter(key=key).order_by("-version"))
    if not versions:
        raise Http404("No such rule set")
    shown = versions[0]
    wanted = request.GET.get("version", "")
    if wanted:
        shown = next((v for v in versions if str(v.version) == wanted), None)
        if shown is None:
            raise Http404("No such version")
    runs = 0
    if model is ScoringPolicy:
        runs = ScoringRun.objects.filter(policy=shown).count()
    context = {
        "kind": kind,
        "title": title,
        "key": key,
        "versions": [(v, status_tags(v.source)) for v in versions],
        "shown": shown,
        "shown_tags": status_tags(shown.source),
        "today": timezone.localdate(),
        "in_force": model.in_force(key, timezone.localdate()),
        "table_rows": _table_rows(shown.config) if kind != "policy" else None,
        "policy_rows": _policy_rows(shown.config) if kind == "policy" else None,
        "config_json": json.dumps(shown.config, indent=2, ensure_ascii=False),
        "runs": runs,
        "may_publish": _may(actor, ScoringAction.PUBLISH_POLICY),
        "status_text": STATUS_TEXT,
    }
    return render(request, "scoring/policy_detail.html", context)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        return {prefix: json.dumps(value, ensure_ascii=False)}
    return {prefix: value}


def diff_configs(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    a, b = flatten(old), flatten(new)
    rows = []
    for path in sorted(set(a) | set(b)):
        if path not in a:
            rows.append({"path": path, "change": "Added", "old": "", "new": b[path]})
        elif path not in b:
            rows.append({"path": path, "change": "Removed", "old": a[path], "new": ""})
        elif a[path] != b[path]:
            rows.append({"path": path, "change": "Changed", "old": a[path], "new": b[path]})
    return rows


@login_required
@require_GET
def policy_diff(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    actor = actor_for_request(request)
    _require_role(actor)
    model, title, _plural = _kind(kind)
    versions = list(model.objects.filter(key=key).order_by("-version"))
    if not versions:
        raise Http404("No such rule set")
    by_number = {str(v.version): v for v in versions}
    error = ""
    new = by_number.get(request.GET.get("to", ""), versions[0])
    default_old = versions[1] if len(versions) > 1 else versions[0]
    old = by_number.get(request.GET.get("from", ""), default_old)
    if ("from" in request.GET and request.GET["from"] not in by_number) or (
        "to" in request.GET and request.GET["to"] not in by_number
    ):
        error = "Choose versions that exist"
    rows = diff_configs(old.config, new.config)
    meta = [
        (label, getattr(old, field), getattr(new, field))
        for label, field in (
            ("Effective from", "effective_from"),
            ("Source", "source"),
            ("Change note", "change_note"),
        )
        if getattr(old, field) != getattr(new, field)
    ]
    context = {
        "kind": kind,
        "title": title,
        "key": key,
        "versions": versions,
        "old": old,
        "new": new,
        "rows": rows,
        "meta": meta,
        "error": error,
        "name": versions[0].name,
    }
    return render(request, "scoring/policy_diff.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def policy_publish(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    actor = actor_for_request(request)
    require_scoring(actor, ScoringAction.PUBLISH_POLICY)
    model, title, _plural = _kind(kind)
    latest = model.objects.filter(key=key).order_by("-version").first()
    if latest is None:
        raise Http404("No such rule set")
    form_class: type[PublishForm] = PolicyPublishForm if kind == "policy" else TablePublishForm
    config_errors: list[str] = []
    if request.method == "POST":
        form = form_class(request.POST, latest=latest)
        if form.is_valid():
            try:
                version = publish_policy_version(
                    actor=actor,
                    model=model,
                    key=key,
                    config=form.build_config(),
                    effective_from=form.cleaned_data["effective_from"],
                    source=form.cleaned_data["source"],
                    change_note=form.cleaned_data["change_note"],
                )
            except PolicyConfigError as exc:
                for message in exc.errors:
                    path = message.split(":", 1)[0]
                    name = form.field_for_path(path)
                    if path in {"source", "change_note"}:
                        name = path
                    if name is not None and name in form.fields:
                        form.add_error(name, message)
                    else:
                        config_errors.append(message)
                        form.add_error(None, message)
            else:
                messages.success(request, f"Published {version.name} version {version.version}")
                return redirect(reverse("scoring:policy", args=[kind, key]))
    else:
        form = form_class(
            latest=latest,
            initial={
                "effective_from": timezone.localdate().strftime("%d/%m/%Y"),
                "source": latest.source,
            },
        )
    number_fields = [form[name] for name, _ in getattr(form, "number_fields", [])]
    context = {
        "kind": kind,
        "title": title,
        "key": key,
        "latest": latest,
        "form": form,
        "number_fields": number_fields,
        "error_anchor": "id_config" if kind != "policy" else "id_effective_from",
    }
    return render(
        request, "scoring/policy_publish.html", context, status=400 if form.errors else 200
    )
