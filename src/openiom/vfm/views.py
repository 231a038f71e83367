"""Value-for-money pages: the assumptions and programme costs in force (with every source and
status), publishing new versions, an appraisal calculator with its tornado chart, and
payment-by-results contracts with their measurements.

Reading needs `EvaluationAction.VIEW_EVALUATION`; publishing and recording contracts need
`PUBLISH_VFM_ASSUMPTIONS`; measuring a contract needs `RUN_EVALUATION` (it reads outcomes).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from openiom.access.policy import EvaluationAction, can
from openiom.access.services import require
from openiom.accounts.actor import Actor, actor_for_request
from openiom.vfm import calculations as calc
from openiom.vfm import selectors, services
from openiom.vfm.charts import tornado_svg
from openiom.vfm.defaults import ASSUMPTIONS_KEY
from openiom.vfm.forms import (
    AppraiseForm,
    AssumptionsPublishForm,
    ContractForm,
    MeasureForm,
    ProgrammePublishForm,
)
from openiom.vfm.models import AppraisalAssumptions, ProgrammeCost, ResultsContract
from openiom.vfm.validation import VfmConfigError

STATUS_TEXT = calc.STATUS_TEXT


def _may(actor: Actor, action: EvaluationAction) -> bool:
    return bool(can(actor, action))


def _view(request: HttpRequest) -> Actor:
    actor = actor_for_request(request)
    require(actor, EvaluationAction.VIEW_EVALUATION)
    return actor


def _assumption_rows(config: dict[str, Any]) -> list[dict[str, Any]]:
    built = calc.assumptions_from_config(config)
    return [item.to_dict() for item in built.items()]


def _programme_summary(config: dict[str, Any]) -> dict[str, Any]:
    programme = calc.programme_from_config(config)
    return {
        "programme": programme,
        "per_person": programme.per_person(),
        "staff_per_month": programme.staff_per_person_month,
        "interventions_per_person": programme.interventions_per_person,
        "set_up": programme.set_up_total,
        "months": programme.months_per_person.to_dict(),
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    actor = _view(request)
    today = timezone.localdate()
    record = selectors.assumptions_in_force(on=today)
    table = selectors.unit_cost_table_for(record) if record else None
    programmes = [
        (p, _programme_summary(p.config)) for p in selectors.latest_of_each(ProgrammeCost)
    ]
    context = {
        "assumptions": record,
        "assumption_rows": _assumption_rows(record.config) if record else [],
        "table": table,
        "programmes": programmes,
        "contracts": selectors.contracts(),
        "may_publish": _may(actor, EvaluationAction.PUBLISH_VFM_ASSUMPTIONS),
        "status_text": STATUS_TEXT,
    }
    return render(request, "vfm/index.html", context)


def _versions_page(
    request: HttpRequest,
    actor: Actor,
    model: type[AppraisalAssumptions] | type[ProgrammeCost],
    key: str,
    template: str,
    extra: Any,
) -> HttpResponse:
    versions = selectors.versions_of(model, key)
    if not versions:
        raise Http404("No such policy")
    shown = versions[0]
    wanted = request.GET.get("version", "")
    if wanted:
        shown = next((v for v in versions if str(v.version) == wanted), None)
        if shown is None:
            raise Http404("No such version")
    context = {
        "key": key,
        "versions": versions,
        "shown": shown,
        "in_force": model.in_force(key, timezone.localdate()),
        "today": timezone.localdate(),
        "config_json": json.dumps(shown.config, indent=2, ensure_ascii=False),
        "may_publish": _may(actor, EvaluationAction.PUBLISH_VFM_ASSUMPTIONS),
        **extra(shown),
    }
    return render(request, template, context)


@login_required
@require_GET
def assumptions(request: HttpRequest) -> HttpResponse:
    actor = _view(request)

    def extra(shown: AppraisalAssumptions) -> dict[str, Any]:
        config = shown.config
        deflator = config.get("deflator") or {}
        mix = config.get("offence_mix") or {}
        return {
            "rows": _assumption_rows(config),
            "deflator": deflator,
            "deflator_index": sorted((deflator.get("index") or {}).items()),
            "mix": mix,
            "mix_shares": list((mix.get("shares") or {}).items()),
            "table": selectors.unit_cost_table_for(shown),
        }

    return _versions_page(
        request, actor, AppraisalAssumptions, ASSUMPTIONS_KEY, "vfm/assumptions.html", extra
    )


@login_required
@require_GET
def programme(request: HttpRequest, key: str) -> HttpResponse:
    actor = _view(request)
    return _versions_page(
        request,
        actor,
        ProgrammeCost,
        key,
        "vfm/programme.html",
        lambda shown: {"summary": _programme_summary(shown.config)},
    )


def _apply_errors(form: Any, errors: list[str]) -> None:
    for message in errors:
        path = message.split(":", 1)[0]
        name = path if path in {"source", "change_note", "name"} else form.field_for_path(path)
        if name is not None and name in form.fields:
            form.add_error(name, message)
        else:
            form.add_error(None, message)


def _publish_page(
    request: HttpRequest,
    *,
    model: type[AppraisalAssumptions] | type[ProgrammeCost],
    key: str,
    form_class: type[AssumptionsPublishForm] | type[ProgrammePublishForm],
    template: str,
    done: str,
) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, EvaluationAction.PUBLISH_VFM_ASSUMPTIONS)
    latest = model.objects.filter(key=key).order_by("-version").first()
    if latest is None:
        raise Http404("No such policy")
    if request.method == "POST":
        form = form_class(request.POST, latest=latest)
        if form.is_valid():
            publish = (
                services.publish_assumptions
                if model is AppraisalAssumptions
                else services.publish_programme_costs
            )
            extra: dict[str, Any] = {}
            if model is ProgrammeCost and form.cleaned_data.get("name"):
                extra["name"] = form.cleaned_data["name"]
            try:
                version = publish(
                    actor=actor,
                    key=key,
                    config=form.build_config(),
                    effective_from=form.cleaned_data["effective_from"],
                    source=form.cleaned_data["source"],
                    change_note=form.cleaned_data["change_note"],
                    **extra,
                )
            except VfmConfigError as exc:
                _apply_errors(form, exc.errors)
            else:
                messages.success(request, f"Published {version.name} version {version.version}")
                return redirect(done)
    else:
        form = form_class(
            latest=latest,
            initial={
                "effective_from": timezone.localdate().strftime("%d/%m/%Y"),
                "source": latest.source,
            },
        )
    context = {"latest": latest, "form": form, "key": key}
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def assumptions_publish(request: HttpRequest) -> HttpResponse:
    return _publish_page(
        request,
        model=AppraisalAssumptions,
        key=ASSUMPTIONS_KEY,
        form_class=AssumptionsPublishForm,
        template="vfm/assumptions_publish.html",
        done=reverse("vfm:assumptions"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def programme_publish(request: HttpRequest, key: str) -> HttpResponse:
    return _publish_page(
        request,
        model=ProgrammeCost,
        key=key,
        form_class=ProgrammePublishForm,
        template="vfm/programme_publish.html",
        done=reverse("vfm:programme", args=[key]),
    )


# --- the appraisal calculator ---------------------------------------------------------------------


@login_required
@require_GET
def appraise(request: HttpRequest) -> HttpResponse:
    """Try the appraisal with figures typed in (e.g. a Justice Data Lab result)."""
    _view(request)
    programmes = selectors.latest_of_each(ProgrammeCost)
    result: dict[str, Any] | None = None
    chart = ""
    error = ""
    submitted = "cohort_size" in request.GET
    form = AppraiseForm(request.GET if submitted else None, programmes=programmes)
    if not submitted:
        form.initial = {
            "measure": "frequency",
            "programme": programmes[0].key if programmes else "",
        }
    elif form.is_valid():
        d = form.cleaned_data
        estimate = calc.effect_estimate(
            difference=d["difference"],
            ci_low=d["ci_low"],
            ci_high=d["ci_high"],
            comparison=d["comparison"],
            measure=d["measure"],
        )
        try:
            appraisal = selectors.appraise_with_policy(
                estimate=estimate, cohort_size=d["cohort_size"], programme_key=d["programme"]
            )
        except (calc.AppraisalError, selectors.VfmUnavailable) as exc:
            error = str(exc)
            form.add_error(None, error)
        else:
            result = appraisal.to_dict()
            chart = tornado_svg(result)
    status = 400 if form.errors else 200
    return render(
        request,
        "vfm/appraise.html",
        {"form": form, "vfm": result, "tornado_svg": chart, "status_text": STATUS_TEXT},
        status=status,
    )


# --- results contracts ----------------------------------------------------------------------------


def _contract_or_404(contract_id: int) -> ResultsContract:
    return get_object_or_404(ResultsContract.objects.select_related("created_by"), pk=contract_id)


@login_required
@require_http_methods(["GET", "POST"])
def contract_new(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, EvaluationAction.PUBLISH_VFM_ASSUMPTIONS)
    varies = None
    vary_ref = request.GET.get("vary") or request.POST.get("vary") or ""
    if vary_ref:
        varies = ResultsContract.objects.filter(reference=vary_ref).order_by("-version").first()
        if varies is None:
            raise Http404("No such contract")
    if request.method == "POST":
        form = ContractForm(request.POST)
        if form.is_valid():
            reference = form.cleaned_data["reference"]
            if varies is not None and reference != varies.reference:
                form.add_error("reference", "A variation keeps the contract's reference")
            else:
                try:
                    contract = services.agree_contract(
                        actor=actor,
                        reference=reference,
                        change_note=form.cleaned_data.get("change_note") or "",
                        **form.contract_fields(),
                    )
                except VfmConfigError as exc:
                    for message in exc.errors:
                        name = message.split(":", 1)[0]
                        if name == "baseline_binary_rate":
                            name = "baseline_binary_percent"
                        form.add_error(name if name in form.fields else None, message)
                else:
                    messages.success(
                        request, f"Recorded {contract.name} (version {contract.version})"
                    )
                    return redirect("vfm:contract", contract_id=contract.pk)
    else:
        initial: dict[str, Any] = {"effective_from": timezone.localdate().strftime("%d/%m/%Y")}
        if varies is not None:
            for name in (
                "reference",
                "name",
                "commissioner",
                "provider",
                "cohort_definition",
                "follow_up_days",
                "waiting_days",
                "baseline_frequency",
                "frequency_basis",
                "baseline_description",
                "binary_target_points",
                "frequency_target_percent",
                "binary_payment_per_person",
                "frequency_payment_per_reoffence",
                "payment_cap",
                "minimum_cohort_size",
                "notes",
            ):
                initial[name] = getattr(varies, name)
            initial["cohort_keys"] = ", ".join(varies.cohort_keys)
            initial["cohort_from"] = varies.cohort_from.strftime("%d/%m/%Y")
            initial["cohort_to"] = varies.cohort_to.strftime("%d/%m/%Y")
            initial["baseline_binary_percent"] = round(100 * varies.baseline_binary_rate, 6)
        form = ContractForm(initial=initial)
    return render(
        request,
        "vfm/contract_new.html",
        {"form": form, "varies": varies},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    actor = _view(request)
    contract = _contract_or_404(contract_id)
    may_measure = _may(actor, EvaluationAction.RUN_EVALUATION)
    if request.method == "POST":
        require(actor, EvaluationAction.RUN_EVALUATION)
        form = MeasureForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                measurement = services.measure_contract(
                    actor=actor,
                    contract=contract,
                    as_of=d["as_of"],
                    cohort_size=d.get("cohort_size"),
                    reoffenders=d.get("reoffenders"),
                    reoffences=d.get("reoffences"),
                )
            except calc.AppraisalError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, str(exc.reason if field else exc))
            else:
                messages.success(
                    request,
                    f"Measured as of {measurement.as_of:%-d %B %Y}: {measurement.result['summary']}",
                )
                return redirect("vfm:contract", contract_id=contract.pk)
    else:
        form = MeasureForm(initial={"as_of": timezone.localdate().strftime("%d/%m/%Y")})
    context = {
        "contract": contract,
        "versions": selectors.contract_versions(contract.reference),
        "measurements": selectors.measurements(contract),
        "form": form,
        "may_measure": may_measure,
        "may_vary": _may(actor, EvaluationAction.PUBLISH_VFM_ASSUMPTIONS),
        "final_days": contract.follow_up_days + contract.waiting_days,
        "final_after": contract.cohort_to
        + dt.timedelta(days=contract.follow_up_days + contract.waiting_days),
    }
    return render(request, "vfm/contract_detail.html", context, status=400 if form.errors else 200)
