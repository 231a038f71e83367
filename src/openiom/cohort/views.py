"""Cohort pages: referrals, the coordinator's queue, the panel decision, the register, the
registration page (RAG, exit plan, status, de-registration), policy versions and messages.

Views read through the audited selectors and write through the services. Permission refusals
raise AccessDenied (audited, shown as the 403 page); a service's CohortError is shown against the
field it is about, never as a 500.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiom.access.policy import Action, PlanAction, ProviderReferralAction, ScoringAction, can
from openiom.accounts.actor import Actor, actor_for_request
from openiom.audit.services import record
from openiom.cohort import forms as f
from openiom.cohort import selectors, services
from openiom.cohort.models import (
    CohortDefinition,
    DeregistrationPolicy,
    Notification,
    RagPolicy,
    RagStatus,
    Reconsideration,
    ReconsiderationStatus,
    Referral,
    ReferralState,
    Registration,
    RegistrationStatus,
)
from openiom.cohort.permissions import CohortAction, can_cohort, require_cohort
from openiom.cohort.services import CohortError
from openiom.partnership.models import Agency, Hub
from openiom.people.models import Person
from openiom.people.selectors import get_person, view_person
from openiom.scrutiny.disproportionality import DisproportionalityError
from openiom.scrutiny.selectors import cohort_disproportionality

RAG_ORDER = {RagStatus.RED: 0, RagStatus.AMBER: 1, RagStatus.GREEN: 2, "": 3}
REGISTER_PAGE_SIZE = 50
RECONSIDERATION_HORIZON = dt.timedelta(days=92)
POLICY_KINDS: dict[str, tuple[str, Any]] = {
    "cohort": ("Cohort definition", CohortDefinition),
    "rag": ("RAG policy", RagPolicy),
    "deregistration": ("De-registration policy", DeregistrationPolicy),
}


def _ddmmyyyy(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _status(form: Any) -> int:
    return 400 if form.is_bound and form.errors else 200


def _referral(referral_id: int) -> Referral:
    return get_object_or_404(
        Referral.objects.select_related(
            "person", "person__hub", "referring_agency", "referred_by", "proposed_cohort"
        ),
        pk=referral_id,
    )


def _registration(registration_id: int) -> Registration:
    return get_object_or_404(
        Registration.objects.select_related(
            "person", "person__hub", "cohort", "lead_agency", "lead_worker", "referral"
        ),
        pk=registration_id,
    )


def _person(actor: Actor, person_id: int) -> Person:
    try:
        return get_person(actor=actor, person_id=person_id)
    except Person.DoesNotExist:
        raise Http404("No such person") from None


def _is_coordinator(actor: Actor) -> bool:
    return bool(can_cohort(actor, CohortAction.LIST_FOR_PANEL))


# --- Referrals -----------------------------------------------------------------------------------


def _previous_not_adopted(person: Person) -> Referral | None:
    previous = (
        Referral.objects.filter(
            person=person, state__in=[ReferralState.ADOPTED, ReferralState.NOT_ADOPTED]
        )
        .order_by("-closed_at", "-id")
        .first()
    )
    return previous if previous and previous.state == ReferralState.NOT_ADOPTED else None


@login_required
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    person = _person(actor, person_id)
    require_cohort(actor, CohortAction.REFER_PERSON, person)
    previous = _previous_not_adopted(person)
    open_referral = Referral.objects.filter(
        person=person, state__in=ReferralState.open_states()
    ).first()
    current = (
        Registration.objects.filter(person=person)
        .exclude(status=RegistrationStatus.DEREGISTERED)
        .select_related("cohort")
        .first()
    )
    cohorts = selectors.cohorts_in_force()
    form = f.ReferralForm(
        request.POST if request.method == "POST" else None,
        cohorts=cohorts,
        needs_new_information=previous is not None,
    )
    if form.is_bound and form.is_valid():
        try:
            referral = services.create_referral(
                actor=actor,
                person=person,
                reason=form.cleaned_data["reason"],
                evidence=form.cleaned_data.get("evidence") or "",
                proposed_cohort=form.cohort(),
                new_information=form.cleaned_data.get("new_information") or "",
                submit=request.POST.get("action") != "draft",
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            done = (
                "submitted to the IOM coordinator" if referral.submitted_at else "saved as a draft"
            )
            messages.success(request, f"Your referral of {person.full_name} was {done}.")
            return redirect("cohort:referral", referral_id=referral.pk)
    context = {
        "form": form,
        "person": person,
        "previous": previous,
        "open_referral": open_referral,
        "current": current,
    }
    return render(request, "cohort/refer.html", context, status=_status(form))


@login_required
@require_GET
def my_referrals(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require_cohort(actor, CohortAction.VIEW_REGISTER)  # refuses (and audits) administrators
    referrals = selectors.referrals_made_by_agency(actor=actor)
    context = {"referrals": referrals, "is_coordinator": _is_coordinator(actor)}
    return render(request, "cohort/my_referrals.html", context)


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require_cohort(actor, CohortAction.LIST_FOR_PANEL)
    form = f.QueueFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "cohort/queue.html", {"form": form, "referrals": None}, status=400)
    referrals = selectors.referral_queue(actor=actor, states=form.states())
    today = timezone.localdate()
    due = selectors.reconsiderations_due(actor=actor, by=today + RECONSIDERATION_HORIZON)
    context = {
        "form": form,
        "referrals": referrals,
        "state": form.cleaned_data.get("state") or "open",
        "reconsiderations": due,
        "horizon": today + RECONSIDERATION_HORIZON,
    }
    return render(request, "cohort/queue.html", context)


def _may_see_referral(actor: Actor, referral: Referral) -> bool:
    if actor.agency_id is not None and actor.agency_id == referral.referring_agency_id:
        return actor.role != "" and bool(can(actor, Action.SEARCH_PEOPLE))
    return bool(can_cohort(actor, CohortAction.VIEW_REGISTER, referral.person))


@login_required
@require_GET
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    referral = _referral(referral_id)
    if not _may_see_referral(actor, referral):
        require_cohort(actor, CohortAction.VIEW_REGISTER, referral.person)  # audits, raises
    record(
        "cohort.history_consulted",
        actor=actor,
        obj=referral.person,
        person_id=referral.person_id,
        context={"person": str(referral.person)},
        details={"referral": referral.pk},
    )
    own_agency = actor.agency_id == referral.referring_agency_id
    coordinator = bool(can_cohort(actor, CohortAction.LIST_FOR_PANEL, referral.person))
    state = referral.state
    context = {
        "referral": referral,
        "person": referral.person,
        "changes": list(
            referral.state_changes.select_related("changed_by", "changed_by_agency").order_by(
                "changed_at", "id"
            )
        ),
        "decisions": list(
            referral.panel_decisions.select_related(
                "cohort", "lead_agency", "lead_worker", "dissent_agency", "recorded_by"
            )
            .prefetch_related("attendance__agency")
            .order_by("decided_on", "id")
        ),
        "registration": referral.registrations.first(),
        "from_reconsideration": Reconsideration.objects.filter(referral=referral).first(),
        "may_see_person": bool(can(actor, Action.VIEW_PERSON, referral.person)),
        "may_submit": own_agency and state == ReferralState.DRAFT,
        "may_list": coordinator and state in {ReferralState.SUBMITTED, ReferralState.LISTED},
        "may_decide": coordinator and state == ReferralState.LISTED,
        "may_withdraw": (own_agency or coordinator) and referral.is_open,
    }
    return render(request, "cohort/referral_detail.html", context)


@login_required
@require_POST
def submit_referral(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    referral = _referral(referral_id)
    try:
        services.submit_referral(actor=actor, referral=referral)
    except CohortError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The referral was submitted to the IOM coordinator.")
    return redirect("cohort:referral", referral_id=referral.pk)


@login_required
@require_http_methods(["GET", "POST"])
def list_for_panel(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    referral = _referral(referral_id)
    require_cohort(actor, CohortAction.LIST_FOR_PANEL, referral.person)
    form = f.ListForPanelForm(
        request.POST if request.method == "POST" else None,
        initial={"panel_date": _ddmmyyyy(referral.panel_date)},
    )
    if form.is_bound and form.is_valid():
        try:
            services.list_referral_for_panel(
                actor=actor,
                referral=referral,
                panel_date=form.cleaned_data["panel_date"],
                note=form.cleaned_data.get("note") or "",
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            when = form.cleaned_data["panel_date"].strftime("%-d %B %Y")
            messages.success(request, f"The referral is listed for the panel on {when}.")
            return redirect("cohort:referral", referral_id=referral.pk)
    context = {"form": form, "referral": referral, "person": referral.person}
    return render(request, "cohort/list_for_panel.html", context, status=_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    referral = _referral(referral_id)
    if not _may_see_referral(actor, referral):
        require_cohort(actor, CohortAction.VIEW_REGISTER, referral.person)
    form = f.WithdrawForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.withdraw_referral(
                actor=actor, referral=referral, reason=form.cleaned_data["reason"]
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "The referral was withdrawn.")
            return redirect("cohort:referral", referral_id=referral.pk)
    context = {"form": form, "referral": referral, "person": referral.person}
    return render(request, "cohort/withdraw.html", context, status=_status(form))


# --- Reconsiderations ------------------------------------------------------------------------------


def _reconsideration(reconsideration_id: int) -> Reconsideration:
    return get_object_or_404(
        Reconsideration.objects.select_related(
            "person",
            "person__hub",
            "registration",
            "registration__cohort",
            "registration__lead_agency",
            "created_by",
            "closed_by",
            "referral",
        ),
        pk=reconsideration_id,
    )


@login_required
@require_http_methods(["GET", "POST"])
def reconsideration_detail(request: HttpRequest, reconsideration_id: int) -> HttpResponse:
    """A case back at the referral and review meeting, and the form for the meeting's outcome."""
    actor = actor_for_request(request)
    item = _reconsideration(reconsideration_id)
    person = item.person
    if request.method == "POST":
        require_cohort(actor, CohortAction.RECORD_PANEL_DECISION, person)  # audits, raises
    else:
        require_cohort(actor, CohortAction.VIEW_REGISTER, person)
    scheduled = item.status == ReconsiderationStatus.SCHEDULED
    if request.method == "POST" and not scheduled:
        messages.error(
            request,
            f"This reconsideration was already {item.get_status_display().lower()} on "
            f"{item.considered_on:%-d %B %Y}; its outcome cannot be changed.",
        )
        return redirect("cohort:reconsideration", reconsideration_id=item.pk)
    may_record = scheduled and bool(can_cohort(actor, CohortAction.RECORD_PANEL_DECISION, person))
    form = f.ReconsiderationOutcomeForm(
        request.POST if request.method == "POST" else None,
        initial={"considered_on": _ddmmyyyy(timezone.localdate())},
    )
    if form.is_bound and form.is_valid():
        try:
            done = services.record_reconsideration_outcome(
                actor=actor,
                reconsideration=item,
                outcome=form.cleaned_data["outcome"],
                considered_on=form.cleaned_data["considered_on"],
                note=form.cleaned_data["note"],
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            if done.referral_id:
                messages.success(
                    request,
                    f"{person.full_name} was re-referred: referral {done.referral_id} is in the "
                    "queue for the selection panel.",
                )
            else:
                messages.success(
                    request,
                    f"The outcome ({done.get_outcome_display().lower()}) was recorded.",
                )
            return redirect("cohort:reconsideration", reconsideration_id=item.pk)
    record(
        "cohort.history_consulted",
        actor=actor,
        obj=person,
        person_id=person.pk,
        context={"person": str(person)},
        details={"reconsideration": item.pk},
    )
    reg = item.registration
    open_referral = (
        Referral.objects.filter(person=person, state__in=ReferralState.open_states())
        .select_related("referring_agency")
        .first()
        if may_record
        else None
    )
    context = {
        "form": form,
        "item": item,
        "person": person,
        "reg": reg,
        "status_changes": list(
            reg.status_changes.select_related("changed_by").order_by("changed_on", "id")
        ),
        "open_referral": open_referral,
        "may_record": may_record,
        "may_see_person": bool(can(actor, Action.VIEW_PERSON, person)),
        "is_coordinator": _is_coordinator(actor),
        "today": timezone.localdate(),
    }
    return render(request, "cohort/reconsideration.html", context, status=_status(form))


# --- Panel decision ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def panel_decision(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    referral = _referral(referral_id)
    require_cohort(actor, CohortAction.RECORD_PANEL_DECISION, referral.person)
    cohorts = selectors.cohorts_in_force()
    proposed = next(
        (c for c in cohorts if referral.proposed_cohort and c.key == referral.proposed_cohort.key),
        None,
    )
    form = f.PanelDecisionForm(
        request.POST if request.method == "POST" else None,
        cohorts=cohorts,
        initial={
            "decided_on": _ddmmyyyy(referral.panel_date or timezone.localdate()),
            "cohort": str(proposed.pk) if proposed else "",
        },
    )
    if form.is_bound and form.is_valid():
        try:
            panel = services.record_panel_decision(
                actor=actor, referral=referral, **form.service_kwargs()
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"The panel's decision ({panel.get_decision_display().lower()}) was recorded "
                "and the referrer has been told.",
            )
            registration = getattr(panel, "registration", None)
            if registration is not None:
                return redirect("cohort:registration", registration_id=registration.pk)
            return redirect("cohort:referral", referral_id=referral.pk)
    rec = view_person(actor=actor, person_id=referral.person_id)  # the panel consults the record
    on = timezone.localdate()
    if form.is_bound and not form.errors.get("decided_on"):
        on = form.cleaned_data.get("decided_on") or on
    occupancy = selectors.cohort_occupancy(on=on)
    eligibility = [
        (
            c,
            selectors.eligibility_for(actor=actor, person=rec.person, cohort=c, on=on),
            occupancy.get(c.key, (0, None)),
        )
        for c in cohorts
    ]
    context = {
        "form": form,
        "referral": referral,
        "person": rec.person,
        "rec": rec,
        "eligibility": eligibility,
        "eligibility_on": on,
        "listed": referral.state == ReferralState.LISTED,
    }
    return render(request, "cohort/panel_decision.html", context, status=_status(form))


# --- Register ------------------------------------------------------------------------------------


def _cohort_keys() -> list[tuple[str, str]]:
    names: dict[str, str] = {}
    for c in CohortDefinition.objects.order_by("key", "version"):
        names[c.key] = c.name
    return sorted(names.items(), key=lambda kv: kv[1])


def _sort_rows(rows: list[Any], sort: str, descending: bool) -> list[Any]:
    def key(entry: Any) -> Any:
        r = entry.registration
        return {
            "name": (r.person.surname.lower(), r.person.first_names.lower()),
            "cohort": r.cohort.name,
            "rag": RAG_ORDER.get(entry.rag_status, 3),
            "lead": r.lead_agency.name,
            "hub": r.person.hub.name,
            "status": r.get_status_display(),
            "start": r.start_date,
            "review": r.review_date,
        }[sort]

    return sorted(rows, key=key, reverse=descending)


@login_required
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require_cohort(actor, CohortAction.VIEW_REGISTER)
    form = f.RegisterFilterForm(request.GET, cohort_keys=_cohort_keys())
    if not form.is_valid():
        return render(request, "cohort/register.html", {"form": form, "rows": None}, status=400)
    data = form.cleaned_data
    status = data.get("status") or "current"
    entries = selectors.cohort_register(
        actor=actor,
        cohort_key=data.get("cohort") or None,
        rag=data.get("rag") or None,
        lead_agency=Agency.objects.filter(pk=data["lead_agency"]).first()
        if data.get("lead_agency")
        else None,
        hub=Hub.objects.filter(pk=data["hub"]).first() if data.get("hub") else None,
        include_ended=status in {"all", RegistrationStatus.DEREGISTERED},
    )
    if status not in {"all", "current"}:
        entries = [e for e in entries if e.registration.status == status]
    sort = data.get("sort") or "name"
    descending = data.get("dir") == "desc"
    entries = _sort_rows(entries, sort, descending)
    counts = {
        "total": len(entries),
        "red": sum(1 for e in entries if e.rag_status == RagStatus.RED),
        "amber": sum(1 for e in entries if e.rag_status == RagStatus.AMBER),
        "green": sum(1 for e in entries if e.rag_status == RagStatus.GREEN),
        "none": sum(1 for e in entries if not e.rag_status),
    }
    paginator = Paginator(entries, REGISTER_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    columns = [
        ("name", "Name"),
        ("cohort", "Cohort"),
        ("rag", "RAG"),
        ("lead", "Lead agency"),
        ("hub", "Hub"),
        ("status", "Status"),
        ("start", "Registered"),
        ("review", "Review due"),
    ]
    context = {
        "form": form,
        "rows": list(page_obj.object_list),
        "page_obj": page_obj,
        "page_range": paginator.get_elided_page_range(page_obj.number, on_each_side=2),
        "counts": counts,
        "columns": columns,
        "sort": sort,
        "descending": descending,
        "filtered": any(data.get(k) for k in ("cohort", "rag", "lead_agency", "hub"))
        or status != "current",
        "today": timezone.localdate(),
    }
    if can(actor, ScoringAction.VIEW_SCORES):
        # Who is on the cohort, against who could be (sex, ethnicity, age): the inspectors'
        # question, answered on the page where the cohort is managed.
        try:
            report, _populations = cohort_disproportionality(
                actor=actor, as_of=timezone.localdate()
            )
        except DisproportionalityError:  # nobody eligible yet: nothing to compare
            report = None
        context["disproportionality"] = report
        context["disproportionality_url"] = reverse("scrutiny:cohort_disproportionality")
    return render(request, "cohort/register.html", context)


# --- Registration --------------------------------------------------------------------------------


@login_required
@require_GET
def registration_detail(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    reg = _registration(registration_id)
    history = selectors.person_iom_history(actor=actor, person=reg.person)  # audited
    mine = next(h for h in history.registrations if h.registration.pk == reg.pk)
    may_set_rag = bool(can_cohort(actor, CohortAction.SET_RAG, registration=reg))
    may_deregister = bool(can_cohort(actor, CohortAction.DEREGISTER, registration=reg))
    exit_suggestion = None
    if reg.is_current and (may_set_rag or may_deregister):
        exit_suggestion = selectors.suggested_exit(actor=actor, registration=reg)
    latest_plan = mine.exit_plans[-1] if mine.exit_plans else None
    context = {
        "reg": reg,
        "person": reg.person,
        "history": mine,
        "rag_history": list(reversed(mine.rag_assessments)),
        "current_rag": mine.rag_assessments[-1] if mine.rag_assessments else None,
        "status_changes": list(reversed(mine.status_changes)),
        "latest_plan": latest_plan,
        "exit_suggestion": exit_suggestion,
        "may_set_rag": may_set_rag and reg.is_current,
        "may_deregister": may_deregister and reg.is_current,
        "may_change_status": bool(can_cohort(actor, CohortAction.REGISTER, registration=reg))
        and reg.is_current,
        "may_see_person": bool(can(actor, Action.VIEW_PERSON, reg.person)),
        "may_see_plan": bool(can(actor, PlanAction.VIEW_PLAN, registration=reg)),
        "may_see_provider_referrals": bool(
            can(actor, ProviderReferralAction.VIEW, registration=reg)
        ),
        "lead_changes": list(
            reg.lead_changes.select_related(
                "from_agency", "to_agency", "from_worker", "to_worker", "changed_by"
            ).order_by("-changed_on", "-id")
        ),
        "today": timezone.localdate(),
    }
    return render(request, "cohort/registration.html", context)


def _current_or_message(request: HttpRequest, reg: Registration) -> HttpResponse | None:
    if reg.is_current:
        return None
    messages.error(
        request,
        f"This registration ended on {reg.end_date:%-d %B %Y}; nothing more can be recorded on it.",
    )
    return redirect("cohort:registration", registration_id=reg.pk)


@login_required
@require_http_methods(["GET", "POST"])
def assess_rag(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    reg = _registration(registration_id)
    require_cohort(actor, CohortAction.SET_RAG, registration=reg)
    ended = _current_or_message(request, reg)
    if ended is not None:
        return ended
    today = timezone.localdate()
    saving = request.method == "POST" and request.POST.get("action") == "save"
    form = f.RagForm(
        request.POST if request.method == "POST" else None,
        saving=saving,
        initial={"assessed_on": _ddmmyyyy(today)},
    )
    on, reported = today, None
    if form.is_bound:
        valid = form.is_valid()
        if not form.errors.get("assessed_on"):
            on = form.cleaned_data.get("assessed_on") or today
        if not any(
            name in form.errors
            for name in (
                "appointments_kept",
                "appointments_missed",
                "drug_tests_negative",
                "drug_tests_positive",
                "stable_accommodation",
                "in_employment",
            )
        ):
            reported = form.reported()
        if valid and saving:
            try:
                assessment = services.set_rag_status(
                    actor=actor,
                    registration=reg,
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data.get("reason") or "",
                    on=form.cleaned_data["assessed_on"],
                    reported=reported,
                )
            except CohortError as error:
                form.add_service_error(error)
            else:
                reg.refresh_from_db(fields=["review_date"])
                messages.success(
                    request,
                    f"RAG status {assessment.get_status_display().lower()} recorded for "
                    f"{assessment.assessed_on:%-d %B %Y}. Next review by "
                    f"{reg.review_date:%-d %B %Y}.",
                )
                return redirect("cohort:registration", registration_id=reg.pk)
    if on < reg.start_date or on > today:
        on = today
    suggestion = selectors.suggested_rag(actor=actor, registration=reg, on=on, reported=reported)
    context = {
        "form": form,
        "reg": reg,
        "person": reg.person,
        "suggestion": suggestion,
        "suggestion_on": on,
        "rule_labels": f.RULE_LABELS,
    }
    return render(request, "cohort/assess_rag.html", context, status=_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def exit_plan(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    reg = _registration(registration_id)
    require_cohort(actor, CohortAction.SET_RAG, registration=reg)
    ended = _current_or_message(request, reg)
    if ended is not None:
        return ended
    latest = reg.exit_plans.order_by("-recorded_on", "-id").first()
    form = f.ExitPlanForm(
        request.POST if request.method == "POST" else None,
        initial={
            "recorded_on": _ddmmyyyy(timezone.localdate()),
            "plan": latest.plan if latest else "",
        },
    )
    if form.is_bound and form.is_valid():
        try:
            services.record_exit_plan(
                actor=actor,
                registration=reg,
                plan=form.cleaned_data["plan"],
                on=form.cleaned_data["recorded_on"],
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "The exit plan was recorded.")
            return redirect("cohort:registration", registration_id=reg.pk)
    context = {"form": form, "reg": reg, "person": reg.person, "latest": latest}
    return render(request, "cohort/exit_plan.html", context, status=_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def deregister(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    reg = _registration(registration_id)
    require_cohort(actor, CohortAction.DEREGISTER, registration=reg)
    ended = _current_or_message(request, reg)
    if ended is not None:
        return ended
    suggestion = selectors.suggested_exit(actor=actor, registration=reg)
    suggested = suggestion.suggested_reasons
    form = f.DeregisterForm(
        request.POST if request.method == "POST" else None,
        initial={
            "on": _ddmmyyyy(timezone.localdate()),
            "reason": suggested[0] if suggested else "",
        },
    )
    if form.is_bound and form.is_valid():
        try:
            services.deregister(
                actor=actor,
                registration=reg,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data.get("note") or "",
                on=form.cleaned_data["on"],
                reconsideration_due=form.cleaned_data.get("reconsideration_due"),
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{reg.person.full_name} was de-registered.")
            return redirect("cohort:registration", registration_id=reg.pk)
    context = {"form": form, "reg": reg, "person": reg.person, "suggestion": suggestion}
    return render(request, "cohort/deregister.html", context, status=_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def change_status(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    reg = _registration(registration_id)
    require_cohort(actor, CohortAction.REGISTER, registration=reg)
    ended = _current_or_message(request, reg)
    if ended is not None:
        return ended
    form = f.StatusForm(
        request.POST if request.method == "POST" else None,
        initial={"on": _ddmmyyyy(timezone.localdate())},
    )
    if form.is_bound and form.is_valid():
        try:
            services.change_registration_status(
                actor=actor,
                registration=reg,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                on=form.cleaned_data["on"],
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "The registration's status was changed.")
            return redirect("cohort:registration", registration_id=reg.pk)
    context = {"form": form, "reg": reg, "person": reg.person}
    return render(request, "cohort/change_status.html", context, status=_status(form))


# --- Policies ------------------------------------------------------------------------------------


def _policy_kind(kind: str) -> tuple[str, Any]:
    if kind not in POLICY_KINDS:
        raise Http404("No such kind of policy")
    return POLICY_KINDS[kind]


@login_required
@require_GET
def policies(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require_cohort(actor, CohortAction.VIEW_REGISTER)  # staff with a role; not administrators
    today = timezone.localdate()
    groups = []
    for kind, (label, model) in POLICY_KINDS.items():
        keys = model.objects.values_list("key", flat=True).distinct().order_by("key")
        rows = []
        for key in keys:
            latest = model.objects.filter(key=key).order_by("-version").first()
            rows.append({"key": key, "in_force": model.in_force(key, today), "latest": latest})
        groups.append({"kind": kind, "label": label, "rows": rows})
    context = {
        "groups": groups,
        "may_edit": bool(can_cohort(actor, CohortAction.EDIT_POLICY)),
        "occupancy": selectors.cohort_occupancy(),
    }
    return render(request, "cohort/policies.html", context)


@login_required
@require_GET
def policy_detail(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    actor = actor_for_request(request)
    require_cohort(actor, CohortAction.VIEW_REGISTER)
    label, model = _policy_kind(kind)
    versions = selectors.policy_versions(kind=kind, key=key)
    if not versions:
        raise Http404("No such policy")
    in_force = model.in_force(key, timezone.localdate())
    context = {
        "kind": kind,
        "key": key,
        "label": label,
        "versions": versions,
        "in_force": in_force,
        "rules": [(v, _config_rows(kind, v.config)) for v in versions],
        "may_edit": bool(can_cohort(actor, CohortAction.EDIT_POLICY)),
    }
    return render(request, "cohort/policy_detail.html", context)


def _config_rows(kind: str, config: Any) -> list[tuple[str, str]]:
    """A policy config as (setting, value) rows people can read."""
    try:
        rules = POLICY_KINDS[kind][1](config=config).rules
    except ValueError:
        return [("Settings", json.dumps(config))]
    rows: list[tuple[str, str]] = []
    if kind == "cohort":
        e = rules.eligibility
        rows = [
            ("Description", rules.description),
            ("Neighbourhood crime required", "Yes" if e.neighbourhood_crime else "No"),
            ("Offence categories", ", ".join(e.offence_categories) or "Any"),
            (
                "Look-back",
                f"{e.offence_lookback_days} days" if e.offence_lookback_days else "Whole record",
            ),
            ("Minimum score", f"{e.minimum_score:g}" if e.minimum_score is not None else "None"),
            ("Minimum age", str(e.min_age) if e.min_age is not None else "None"),
            ("Maximum age", str(e.max_age) if e.max_age is not None else "None"),
            ("Hubs", ", ".join(e.hub_codes) or "All"),
            ("Capacity", str(rules.capacity) if rules.capacity else "No limit"),
            ("Review period", f"{rules.review_period_days} days"),
            ("Planned registration period", f"{rules.planned_registration_months} months"),
        ]
    elif kind == "rag":
        labels = f.RULE_LABELS
        rows = [
            ("Window", f"{rules.window_days} days"),
            ("Current intelligence period", f"{rules.current_intelligence_days} days"),
            ("Red when any of", "; ".join(labels[n] for n in rules.red_rules) or "None"),
            ("Missed appointments for red", str(rules.missed_appointments_for_red)),
            ("Green needs all of", "; ".join(labels[n] for n in rules.green_all_of) or "None"),
            (
                "Green needs one of",
                "; ".join(labels[n] for n in rules.green_any_of) or "None",
            ),
        ]
    else:
        rows = [
            ("Green period", rules.green_period_text()),
            ("Exit plan required", "Yes" if rules.exit_plan_required else "No"),
            ("Long custodial sentence", f"{rules.long_sentence_days} days or more"),
            (
                "Reconsider before release",
                f"{rules.reconsider_months_before_release} months",
            ),
        ]
    return rows


POLICY_FORMS: dict[str, Any] = {
    "cohort": f.CohortPolicyForm,
    "rag": f.RagPolicyForm,
    "deregistration": f.DeregistrationPolicyForm,
}


@login_required
@require_http_methods(["GET", "POST"])
def publish_policy(request: HttpRequest, kind: str, key: str = "") -> HttpResponse:
    actor = actor_for_request(request)
    label, model = _policy_kind(kind)
    require_cohort(actor, CohortAction.EDIT_POLICY)
    new_key = not key
    if new_key and kind != "cohort":
        raise Http404("Only cohorts can be added")
    latest = model.objects.filter(key=key).order_by("-version").first() if key else None
    if key and latest is None:
        raise Http404("No such policy")
    form_class = POLICY_FORMS[kind]
    initial: dict[str, Any] = {"effective_from": _ddmmyyyy(timezone.localdate())}
    if latest is not None:
        initial["name"] = latest.name
        initial["source"] = latest.source
        if kind == "cohort":
            initial["config_json"] = json.dumps(latest.config, indent=2)
        else:
            initial.update(form_class.initial_from(latest.rules))
    elif kind == "cohort":
        template = CohortDefinition.objects.filter(key="free").order_by("-version").first()
        initial["config_json"] = json.dumps(template.config if template else {}, indent=2)
    kwargs: dict[str, Any] = {"new_key": new_key} if kind == "cohort" else {}
    form = form_class(request.POST if request.method == "POST" else None, initial=initial, **kwargs)
    if form.is_bound and form.is_valid():
        publish_key = form.cleaned_data["key"] if new_key else key
        if new_key and model.objects.filter(key=publish_key).exists():
            form.add_error("key", "A cohort with that key exists: publish a new version of it")
        else:
            try:
                row = services.publish_cohort_policy_version(
                    actor=actor,
                    kind=kind,
                    key=publish_key,
                    name=form.cleaned_data["name"],
                    config=form.config(),
                    source=form.cleaned_data["source"],
                    change_note=form.cleaned_data["change_note"],
                    effective_from=form.cleaned_data["effective_from"],
                )
            except ValueError as error:  # CohortError and PolicyConfigError
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    f"Version {row.version} of {row.name} was published; it applies from "
                    f"{row.effective_from:%-d %B %Y}.",
                )
                return redirect("cohort:policy", kind=kind, key=row.key)
    context = {
        "form": form,
        "kind": kind,
        "key": key,
        "label": label,
        "latest": latest,
        "new_key": new_key,
        "rule_labels": f.RULE_LABELS,
    }
    return render(request, "cohort/publish_policy.html", context, status=_status(form))


# --- Messages ------------------------------------------------------------------------------------


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    items = selectors.notifications_for(user=request.user)
    context = {"items": items, "unread": sum(1 for n in items if n.read_at is None)}
    return render(request, "cohort/notifications.html", context)


@login_required
@require_POST
def read_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    item = get_object_or_404(Notification, pk=notification_id, user=request.user)
    services.mark_notification_read(user=request.user, notification=item)
    if request.POST.get("open") and item.link.startswith("/cohort/"):
        return redirect(item.link)
    return redirect(reverse("cohort:notifications"))


@login_required
@require_http_methods(["GET", "POST"])
def change_lead(request: HttpRequest, registration_id: int) -> HttpResponse:
    """Hand the registration to a new lead worker (and lead agency, if theirs differs)."""
    actor = actor_for_request(request)
    reg = _registration(registration_id)
    require_cohort(actor, CohortAction.REGISTER, registration=reg)
    ended = _current_or_message(request, reg)
    if ended is not None:
        return ended
    form = f.LeadWorkerForm(
        request.POST if request.method == "POST" else None,
        initial={"on": _ddmmyyyy(timezone.localdate())},
    )
    if form.is_bound and form.is_valid():
        worker, agency = form.chosen()
        try:
            services.change_lead_worker(
                actor=actor,
                registration=reg,
                worker=worker,
                agency=agency,
                reason=form.cleaned_data["reason"],
                on=form.cleaned_data["on"],
            )
        except CohortError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                f"{f.worker_name(worker)} ({agency.name}) is now the lead worker for "
                f"{reg.person.full_name}.",
            )
            return redirect("cohort:registration", registration_id=reg.pk)
    context = {"form": form, "reg": reg, "person": reg.person}
    return render(request, "cohort/change_lead.html", context, status=_status(form))
