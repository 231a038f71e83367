"""Case management pages: a person's contacts with the quick-entry form.

Reads go through the audited selectors and writes through the services; a refusal raises
AccessDenied (audited, shown as the 403 page); a service's validation error is shown against
the field it is about, never as a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from openiom.access.policy import CaseworkAction
from openiom.access.services import require
from openiom.accounts.actor import actor_for_request
from openiom.casework import selectors, services
from openiom.casework.forms import QuickContactForm
from openiom.people.models import Person


@login_required
@require_http_methods(["GET", "POST"])
def person_contacts(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404("No such person")
    form = QuickContactForm(request.POST if request.method == "POST" else None)
    if form.is_bound:
        # Check before validating so an uninvolved user learns nothing from the form's errors.
        require(actor, CaseworkAction.RECORD_CONTACT, person)
        if form.is_valid():
            try:
                contact = services.record_contact(
                    actor=actor, person=person, **form.service_kwargs()
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(
                    request,
                    f"{contact.get_kind_display()} on {contact.contact_date:%d/%m/%Y} recorded.",
                )
                return redirect("casework:contacts", person_id=person.pk)
    contacts = selectors.person_contacts(actor=actor, person=person)
    context = {"form": form, "person": person, "contacts": contacts}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "casework/contacts.html", context, status=status)


@login_required
@require_GET
def briefing(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    hubs = selectors.police_briefing(actor=actor)
    return render(request, "casework/briefing.html", {"hubs": hubs})


@login_required
@require_http_methods(["GET", "POST"])
def alerts(request: HttpRequest) -> HttpResponse:
    """Your alerts and tasks: the signed-in user's own only.

    POST alert=<id> marks one read; with done=1 it marks a task done (and read).
    """
    from openiom.casework import alerts as alert_service

    if request.method == "POST":
        try:
            alert_id = int(request.POST.get("alert", ""))
        except ValueError:
            raise Http404("No such alert") from None
        if request.POST.get("done"):
            if alert_service.mark_done(user=request.user, alert_id=alert_id) is None:
                raise Http404("No such task")
            messages.success(request, "Task marked as done.")
        else:
            if alert_service.mark_read(user=request.user, alert_id=alert_id) is None:
                raise Http404("No such alert")
            messages.success(request, "Alert marked as read.")
        return redirect("casework:alerts")
    items = alert_service.alerts_for(request.user)
    tasks = sorted(
        (a for a in items if a.is_task and a.done_at is None),
        key=lambda a: (a.due_date is None, a.due_date, a.pk),
    )
    others = [a for a in items if not (a.is_task and a.done_at is None)]
    return render(request, "casework/alerts.html", {"tasks": tasks, "alerts": others})


@login_required
@require_http_methods(["GET", "POST"])
def handling_note(request: HttpRequest, registration_id: int) -> HttpResponse:
    """Set the handling note police colleagues see (lead worker or IOM coordinator)."""
    from openiom.casework.forms import HandlingNoteForm
    from openiom.cohort.models import Registration

    actor = actor_for_request(request)
    registration = Registration.objects.select_related("person").filter(pk=registration_id).first()
    if registration is None:
        raise Http404("No such registration")
    notes = selectors.handling_notes(actor=actor, registration=registration)
    form = HandlingNoteForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.set_handling_note(
                actor=actor, registration=registration, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            for message in error.message_dict.get("text", error.messages):
                why = message.partition(": ")[2] or message
                form.add_error("text", why[0].upper() + why[1:])
        else:
            messages.success(request, "Handling note set.")
            return redirect("casework:handling_note", registration_id=registration.pk)
    context = {"form": form, "registration": registration, "person": registration.person}
    context["notes"] = notes
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "casework/handling_note.html", context, status=status)
