"""The audit log page: data-protection officers and administrators only; reading it is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from openiom.access.policy import Action
from openiom.access.services import require
from openiom.accounts.actor import actor_for_request
from openiom.audit import registry
from openiom.audit.models import AuditEvent
from openiom.audit.selectors import AuditFilters, audit_events
from openiom.audit.services import record

PAGE_SIZE = 50
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]


class AuditFilterForm(forms.Form):
    person = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={
            "invalid": "Person ID must be a whole number, like 1234",
            "min_value": "Person ID must be a whole number, like 1234",
        },
    )
    user = forms.CharField(required=False, max_length=150)
    event_type = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select an event type from the list"}
    )
    category = forms.ChoiceField(
        required=False,
        choices=[("", "Any category"), *AuditEvent.Category.choices],
        error_messages={"invalid_choice": "Select a category from the list"},
    )
    date_from = forms.DateField(
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        error_messages={"invalid": "‘From’ date must be a real date, like 27/03/2026"},
    )
    date_to = forms.DateField(
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        error_messages={"invalid": "‘To’ date must be a real date, like 27/03/2026"},
    )
    request_id = forms.CharField(required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["event_type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Any event")] + [
            (t.code, f"{t.description} ({t.code})") for t in registry.all_types()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "‘To’ date must be the same as or after the ‘From’ date")
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            person_id=data.get("person"),
            username=(data.get("user") or "").strip(),
            event_type=data.get("event_type") or "",
            category=data.get("category") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            request_id=(data.get("request_id") or "").strip(),
        )


@login_required
@require_GET
def log(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    require(actor, Action.VIEW_AUDIT)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/log.html", {"form": form, "page_obj": None}, status=400)
    filters = form.filters()
    paginator = Paginator(audit_events(filters=filters), PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    events = list(page_obj.object_list)  # before our own event is added to the log
    record(
        "audit.consulted",
        actor=actor,
        person_id=filters.person_id,
        details={"filters": filters.as_dict(), "page": page_obj.number},
    )
    context = {
        "form": form,
        "filters": filters,
        "page_obj": page_obj,
        "page_range": paginator.get_elided_page_range(page_obj.number, on_each_side=2),
        "events": events,
    }
    return render(request, "audit/log.html", context)
