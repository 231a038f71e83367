"""Management plan pages.

Reads go through the audited selectors and writes through the services; a refusal raises
AccessDenied (audited, shown as the 403 page). A service's validation error is shown against the
field it is about; a conflicting edit (someone saved since the page was opened) re-renders the
form with the user's entries kept, the error summary and a table of what changed since.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiom.access.policy import PlanAction
from openiom.access.services import deny, require
from openiom.accounts.actor import Actor, actor_for_request
from openiom.cohort.models import Registration
from openiom.plans import forms, selectors, services
from openiom.plans.models import ManagementPlan, Objective
from openiom.plans.models import PlanAction as PlanActionRow
from openiom.plans.services import PlanConflict


def _registration(registration_id: int) -> Registration:
    reg = (
        Registration.objects.select_related("person", "person__hub", "lead_agency", "lead_worker")
        .select_related("cohort")
        .filter(pk=registration_id)
        .first()
    )
    if reg is None:
        raise Http404("No such registration")
    return reg


def _plan(registration: Registration) -> ManagementPlan:
    plan = ManagementPlan.objects.filter(registration=registration).first()
    if plan is None:
        raise Http404("This registration has no management plan yet")
    plan.registration = registration
    return plan


def _plan_url(registration: Registration) -> str:
    return reverse("plans:plan", args=[registration.pk])


def _rebind_after_conflict(form: forms.PlanForm, conflict: PlanConflict, **kwargs: Any) -> Any:
    """The same form with the user's entries kept and the version they have now seen."""
    assert isinstance(form.data, QueryDict)  # bound from request.POST
    data = form.data.copy()
    data["version"] = str(conflict.current_version)
    fresh = type(form)(data, **kwargs)
    fresh.is_valid()
    fresh.add_error(None, str(conflict))
    return fresh


def _save(
    request: HttpRequest,
    form: Any,
    save: Callable[[], Any],
    *,
    registration: Registration,
    success: str | Callable[[Any], str],
    rebind: dict[str, Any] | None = None,
) -> tuple[Any, PlanConflict | None, HttpResponse | None]:
    """Run a valid bound form's service: on success a message and the redirect to the plan; on a
    conflict the form rebound with the user's entries (and the version now seen) and the conflict;
    a service's validation errors against their fields. Returns (form, conflict, redirect)."""
    if not (form.is_bound and form.is_valid()):
        return form, None, None
    try:
        saved = save()
    except PlanConflict as error:
        return _rebind_after_conflict(form, error, **(rebind or {})), error, None
    except ValidationError as error:
        form.add_service_errors(error)
        return form, None, None
    messages.success(request, success(saved) if callable(success) else success)
    return form, None, redirect(_plan_url(registration))


def _render_form(
    request: HttpRequest,
    *,
    registration: Registration,
    form: Any,
    title: str,
    submit: str,
    action_url: str,
    conflict: PlanConflict | None = None,
    template: str = "plans/form.html",
    **extra: Any,
) -> HttpResponse:
    context = {
        "registration": registration,
        "person": registration.person,
        "form": form,
        "title": title,
        "submit": submit,
        "action_url": action_url,
        "conflict": conflict,
        "back_url": _plan_url(registration),
        **extra,
    }
    status = 200
    if conflict is not None:
        status = 409
    elif form.is_bound and form.errors:
        status = 400
    return render(request, template, context, status=status)


@login_required
@require_GET
def plan_page(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    view = selectors.plan_for_registration(actor=actor, registration=registration)
    today = timezone.localdate()
    review_due = bool(
        view.plan is not None and view.plan.next_review_date and view.plan.next_review_date <= today
    )
    return render(
        request,
        "plans/plan.html",
        {"view": view, "plan": view.plan, "person": registration.person, "review_due": review_due},
    )


@login_required
@require_POST
def create_plan(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    try:
        services.create_plan(actor=actor, registration=registration)
    except ValidationError as error:
        messages.error(request, " ".join(m.partition(": ")[2] or m for m in error.messages))
    else:
        messages.success(request, "Draft plan started. Assess each pathway's needs.")
    return redirect(_plan_url(registration))


@login_required
@require_http_methods(["GET", "POST"])
def needs(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.EDIT_PLAN, registration=registration)
    plan = _plan(registration)
    current = list(plan.needs.select_related("pathway"))
    data = request.POST if request.method == "POST" else None
    form = forms.NeedsForm(data, needs=current, initial={"version": plan.version})

    def save() -> Any:
        return services.set_needs(
            actor=actor, plan=plan, version=form.cleaned_data["version"], needs=form.needs()
        )

    form, conflict, done = _save(
        request,
        form,
        save,
        registration=registration,
        success="Pathway needs saved.",
        rebind={"needs": current},
    )
    if done is not None:
        return done
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Pathway needs",
        submit="Save needs",
        action_url=reverse("plans:needs", args=[registration.pk]),
        conflict=conflict,
        template="plans/needs.html",
    )


@login_required
@require_http_methods(["GET", "POST"])
def readiness(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.EDIT_PLAN, registration=registration)
    plan = _plan(registration)
    initial = {name: getattr(plan, name) for name in services.PLAN_FIELDS[:6]}
    initial["version"] = plan.version
    form = forms.ReadinessForm(request.POST if request.method == "POST" else None, initial=initial)

    def save() -> Any:
        kwargs = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        return services.set_readiness(
            actor=actor, plan=plan, version=form.cleaned_data["version"], **kwargs
        )

    form, conflict, done = _save(
        request, form, save, registration=registration, success="Strengths and readiness saved."
    )
    if done is not None:
        return done
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Strengths and readiness",
        submit="Save strengths and readiness",
        action_url=reverse("plans:readiness", args=[registration.pk]),
        conflict=conflict,
        intro=(
            "Readiness (what makes IOM work): is the person motivated, able, do they find the "
            "plan relevant, and do they have the capacity to follow it?"
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def objective_add(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.EDIT_PLAN, registration=registration)
    plan = _plan(registration)
    form = forms.ObjectiveForm(request.POST if request.method == "POST" else None)

    def save() -> Any:
        return services.add_objective(
            actor=actor,
            plan=plan,
            text=form.cleaned_data["text"],
            own_words=form.cleaned_data["own_words"],
            pathway=form.chosen_pathway(),
        )

    form, _, done = _save(
        request, form, save, registration=registration, success="Objective added."
    )
    if done is not None:
        return done
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Add an objective",
        submit="Add objective",
        action_url=reverse("plans:objective_add", args=[registration.pk]),
        intro="Where you can, write the person's own goals in their own words.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request: HttpRequest, registration_id: int, objective_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.EDIT_PLAN, registration=registration)
    plan = _plan(registration)
    objective = Objective.objects.filter(pk=objective_id, plan=plan).first()
    if objective is None:
        raise Http404("No such objective")
    objective.plan = plan
    initial = {
        "text": objective.text,
        "own_words": objective.own_words,
        "pathway": objective.pathway_id or "",
        "achieved": objective.achieved,
        "version": objective.version,
    }
    form_kwargs = {"current": objective.pathway}
    data = request.POST if request.method == "POST" else None
    form = forms.ObjectiveEditForm(data, initial=initial, **form_kwargs)

    def save() -> Any:
        return services.edit_objective(
            actor=actor,
            objective=objective,
            version=form.cleaned_data["version"],
            text=form.cleaned_data["text"],
            own_words=form.cleaned_data["own_words"],
            pathway=form.chosen_pathway(),
            achieved=form.cleaned_data["achieved"],
        )

    form, conflict, done = _save(
        request,
        form,
        save,
        registration=registration,
        success="Objective saved.",
        rebind=form_kwargs,
    )
    if done is not None:
        return done
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Change an objective",
        submit="Save objective",
        action_url=reverse("plans:objective_edit", args=[registration.pk, objective.pk]),
        conflict=conflict,
    )


def _action(plan: ManagementPlan, action_id: int) -> PlanActionRow:
    action = (
        PlanActionRow.objects.select_related("owner_agency", "owner_worker", "pathway")
        .filter(pk=action_id, plan=plan)
        .first()
    )
    if action is None:
        raise Http404("No such action")
    action.plan = plan
    return action


@login_required
@require_http_methods(["GET", "POST"])
def action_add(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.EDIT_PLAN, registration=registration)
    plan = _plan(registration)
    form = forms.ActionForm(
        request.POST if request.method == "POST" else None, initial={"additional": "no"}
    )

    def save() -> Any:
        return services.add_action(actor=actor, plan=plan, **form.service_kwargs())

    form, _, done = _save(request, form, save, registration=registration, success="Action added.")
    if done is not None:
        return done
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Add an action",
        submit="Add action",
        action_url=reverse("plans:action_add", args=[registration.pk]),
        intro="Every action names the agency responsible and, when known, the worker.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, registration_id: int, action_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.EDIT_PLAN, registration=registration)
    plan = _plan(registration)
    action = _action(plan, action_id)
    initial = {
        "owner_agency": action.owner_agency_id,
        "owner_worker": action.owner_worker_id or "",
        "action_type": action.action_type,
        "pathway": action.pathway_id or "",
        "description": action.description,
        "due_date": action.due_date.strftime("%d/%m/%Y"),
        "additional": "yes" if action.additional else "no",
        "estimated_cost": action.estimated_cost,
        "version": action.version,
    }
    data = request.POST if request.method == "POST" else None
    form = forms.ActionEditForm(data, initial=initial, current=action)

    def save() -> Any:
        return services.edit_action(
            actor=actor,
            action=action,
            version=form.cleaned_data["version"],
            **form.service_kwargs(),
        )

    form, conflict, done = _save(
        request,
        form,
        save,
        registration=registration,
        success="Action saved.",
        rebind={"current": action},
    )
    if done is not None:
        return done
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Change an action",
        submit="Save action",
        action_url=reverse("plans:action_edit", args=[registration.pk, action.pk]),
        conflict=conflict,
    )


def _require_update(actor: Actor, action: PlanActionRow) -> None:
    require(actor, PlanAction.UPDATE_ACTION, registration=action.plan.registration)
    decision = services.may_update_action(actor, action)
    if not decision:
        deny(actor, PlanAction.UPDATE_ACTION, decision, action.plan.person)


@login_required
@require_http_methods(["GET", "POST"])
def action_progress(request: HttpRequest, registration_id: int, action_id: int) -> HttpResponse:
    """The partner's page: record the status and outcome of an action their agency owns."""
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.UPDATE_ACTION, registration=registration)
    plan = _plan(registration)
    action = _action(plan, action_id)
    _require_update(actor, action)
    initial = {"status": action.status, "outcome": action.outcome, "version": action.version}
    form = forms.ActionProgressForm(
        request.POST if request.method == "POST" else None, initial=initial
    )

    def save() -> Any:
        return services.update_action_progress(
            actor=actor,
            action=action,
            version=form.cleaned_data["version"],
            status=form.cleaned_data["status"],
            outcome=form.cleaned_data["outcome"],
        )

    form, conflict, done = _save(
        request, form, save, registration=registration, success="Action updated."
    )
    if done is not None:
        return done
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Update an action",
        submit="Save progress",
        action_url=reverse("plans:action_progress", args=[registration.pk, action.pk]),
        conflict=conflict,
        action=action,
    )


@login_required
@require_http_methods(["GET", "POST"])
def agree(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.AGREE_PLAN, registration=registration)
    plan = _plan(registration)
    form = forms.AgreeForm(
        request.POST if request.method == "POST" else None, initial={"version": plan.version}
    )

    def save() -> Any:
        return services.agree_plan(actor=actor, plan=plan, version=form.cleaned_data["version"])

    form, conflict, done = _save(
        request,
        form,
        save,
        registration=registration,
        success=lambda version: f"Plan agreed (version {version.number}).",
    )
    if done is not None:
        return done
    period = services.review_period(registration)
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Agree the plan",
        submit="Agree the plan",
        action_url=reverse("plans:agree", args=[registration.pk]),
        conflict=conflict,
        intro=(
            "Agree the plan once you have gone through it with the person. A copy of the plan as "
            f"it stands is kept, and the next review is set for {period.days} days from today."
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.AGREE_PLAN, registration=registration)
    plan = _plan(registration)
    initial = {"version": plan.version, "reviewed_on": timezone.localdate().strftime("%d/%m/%Y")}
    form = forms.ReviewForm(request.POST if request.method == "POST" else None, initial=initial)

    def save() -> Any:
        return services.record_review(
            actor=actor,
            plan=plan,
            version=form.cleaned_data["version"],
            reviewed_on=form.cleaned_data["reviewed_on"],
            note=form.cleaned_data["note"],
        )

    form, conflict, done = _save(
        request,
        form,
        save,
        registration=registration,
        success=lambda version: f"Review recorded (version {version.number}).",
    )
    if done is not None:
        return done
    return _render_form(
        request,
        registration=registration,
        form=form,
        title="Record a review of the plan",
        submit="Record review",
        action_url=reverse("plans:review", args=[registration.pk]),
        conflict=conflict,
    )


@login_required
@require_GET
def history(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.VIEW_PLAN, registration=registration)
    plan = _plan(registration)
    versions = selectors.plan_history(actor=actor, plan=plan)
    return render(
        request,
        "plans/history.html",
        {"registration": registration, "person": registration.person, "versions": versions},
    )


@login_required
@require_GET
def my_plan(request: HttpRequest, registration_id: int) -> HttpResponse:
    """The person's own copy of their plan, as a PDF."""
    from openiom.plans.my_plan import render_my_plan_pdf

    actor = actor_for_request(request)
    registration = _registration(registration_id)
    require(actor, PlanAction.PRINT_MY_PLAN, registration=registration)
    plan = _plan(registration)
    pdf = render_my_plan_pdf(actor=actor, plan=plan)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="my-plan-{registration.pk}.pdf"'
    return response
