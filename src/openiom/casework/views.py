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
