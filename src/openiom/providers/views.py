"""Pages of referrals to pathway providers: a person's referrals, sending one, a referral with
its history and steps, and the receiving agency's inbox.

Reads go through the audited selectors and writes through the services; a refusal raises
AccessDenied (audited, shown as the 403 page); bad input is shown against its field, never as a
500. Every page works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiom.access.policy import ProviderReferralAction, can
from openiom.access.services import require
from openiom.accounts.actor import Actor, actor_for_request
from openiom.cohort.models import Registration, RegistrationStatus
from openiom.people.models import Person
from openiom.providers import selectors, services
from openiom.providers.forms import SendReferralForm
from openiom.providers.models import ProviderReferral


def _sendable_registrations(actor: Actor, person: Person) -> list[Registration]:
    current = (
        Registration.objects.filter(person=person)
        .exclude(status=RegistrationStatus.DEREGISTERED)
        .select_related("cohort", "person")
        .order_by("-start_date", "-id")
    )
    return [r for r in current if can(actor, ProviderReferralAction.SEND, registration=r)]


@login_required
@require_GET
def person_referrals(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404("No such person")
    referrals = selectors.person_referrals(actor=actor, person=person)
    context = {
        "person": person,
        "referrals": referrals,
        "registrations": _sendable_registrations(actor, person),
    }
    return render(request, "providers/person_referrals.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def send(request: HttpRequest, registration_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    registration = (
        Registration.objects.select_related("person", "cohort").filter(pk=registration_id).first()
    )
    if registration is None:
        raise Http404("No such registration")
    # Check before showing or validating the form: a refused user learns nothing from it.
    require(actor, ProviderReferralAction.SEND, registration=registration)
    form = SendReferralForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            referral = services.send_referral(
                actor=actor, registration=registration, **form.service_kwargs()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                f"Referral {referral.pk} sent to {referral.receiving_agency.name}. "
                "They can see the person's basics while the referral is active.",
            )
            return redirect("providers:detail", referral_id=referral.pk)
    context = {"form": form, "registration": registration, "person": registration.person}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "providers/send.html", context, status=status)


def _detail_context(actor: Actor, referral: ProviderReferral) -> dict[str, Any]:
    return {
        "referral": referral,
        "person": referral.person,
        "changes": selectors.history(referral),
        "steps": services.allowed_transitions(actor, referral),
        "may_see_person": bool(can(actor, ProviderReferralAction.VIEW, referral.person)),
    }


def _get(actor: Actor, referral_id: int) -> ProviderReferral:
    try:
        return selectors.get_referral(actor=actor, referral_id=referral_id)
    except ProviderReferral.DoesNotExist:
        raise Http404("No such referral") from None


@login_required
@require_GET
def detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    referral = _get(actor, referral_id)
    return render(request, "providers/detail.html", _detail_context(actor, referral))


@login_required
@require_POST
def transition(request: HttpRequest, referral_id: int) -> HttpResponse:
    """One step (POST action=accept|start|complete|decline|end_early|withdraw, reason)."""
    actor = actor_for_request(request)
    referral = _get(actor, referral_id)
    action = request.POST.get("action", "")
    if action not in services.TRANSITIONS:
        raise Http404("No such step")
    reason = request.POST.get("reason", "")
    error = ""
    status = 200
    try:
        done = services.transition(actor=actor, referral=referral, action=action, reason=reason)
    except services.ProviderReferralTransitionError as exc:
        error, status = str(exc), 409
    except ValidationError as exc:
        messages_ = exc.message_dict.get("reason", exc.messages)
        why = messages_[0].partition(": ")[2] or messages_[0]
        error, status = why[0].upper() + why[1:], 400
    else:
        messages.success(request, f"Referral {done.pk} is now {done.get_state_display().lower()}.")
        still_visible = can(actor, ProviderReferralAction.VIEW, done.person) and (
            selectors.referrals_visible(actor, done.person).filter(pk=done.pk).exists()
        )
        if still_visible:
            return redirect("providers:detail", referral_id=done.pk)
        # A provider that closed the referral no longer sees it.
        return redirect("providers:inbox")
    referral.refresh_from_db()
    context = _detail_context(actor, referral)
    context.update({"error_step": action, "error": error, "reason_value": reason})
    return render(request, "providers/detail.html", context, status=status)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    referrals = selectors.agency_inbox(actor=actor)
    agency = actor.membership.agency if actor.membership else None
    return render(request, "providers/inbox.html", {"referrals": referrals, "agency": agency})
