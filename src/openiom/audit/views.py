"""The audit log page: data-protection officers and administrators only; reading it is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from openiom.access.policy import Action, can
from openiom.access.services import require
from openiom.accounts.actor import Actor, actor_for_request
from openiom.audit import registry, unusual
from openiom.audit.exports import (
    event_rows,
    stream_csv,
    unusual_access_rows,
    viewer_rows,
)
from openiom.audit.models import AuditEvent
from openiom.audit.selectors import AuditFilters, audit_events, person_views, viewers_of
from openiom.audit.services import record
from openiom.partnership.models import Agency

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
    agency = forms.ModelChoiceField(
        queryset=Agency.objects.order_by("name"),
        required=False,
        empty_label="Any agency",
        error_messages={"invalid_choice": "Select an agency from the list"},
    )

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
            agency_id=data["agency"].pk if data.get("agency") else None,
        )


@login_required
@require_GET
def log(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    actor = actor_for_request(request)
    require(actor, Action.VIEW_AUDIT)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/log.html", {"form": form, "page_obj": None}, status=400)
    filters = form.filters()
    if request.GET.get("format") == "csv":
        return _log_csv(actor, filters)
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
        "csv_query": _csv_query(request),
    }
    return render(request, "audit/log.html", context)


def _csv_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    return query.urlencode()


def _log_csv(actor: Actor, filters: AuditFilters) -> StreamingHttpResponse:
    events = audit_events(filters=filters)
    count = events.count()
    record(
        "audit.exported",
        actor=actor,
        person_id=filters.person_id,
        context={"count": count},
        details={"filters": filters.as_dict(), "rows": count},
    )
    name = f"audit-events-{timezone.localdate():%Y-%m-%d}.csv"
    return stream_csv(name, event_rows(events))


class PeriodForm(forms.Form):
    """A period of whole days; both ends optional unless the page needs them."""

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

    def __init__(self, *args: Any, max_days: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_days = max_days

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "‘To’ date must be the same as or after the ‘From’ date")
        elif start and end and self.max_days and (end - start).days + 1 > self.max_days:
            self.add_error(
                "date_to",
                f"The period must be {self.max_days} days or shorter; choose a later ‘From’ date",
            )
        return data


def _person_label(actor: Actor, person_id: int) -> tuple[str, bool]:
    """The person's name if they still exist and the reader may see them, else their id."""
    from openiom.people.models import Person

    person = Person.objects.filter(pk=person_id).first()
    if person is not None and can(actor, Action.VIEW_PERSON, person):
        return str(person), True
    return f"person {person_id}", False


@login_required
@require_GET
def viewers(request: HttpRequest, person_id: int) -> HttpResponse | StreamingHttpResponse:
    """Who has looked at this record: every view of the person, by whom, in what role."""
    actor = actor_for_request(request)
    require(actor, Action.VIEW_AUDIT)
    form = PeriodForm(request.GET)
    context: dict[str, Any] = {"form": form, "person_id": person_id}
    if not form.is_valid():
        return render(request, "audit/viewers.html", {**context, "page_obj": None}, status=400)
    start, end = form.cleaned_data.get("date_from"), form.cleaned_data.get("date_to")
    period = {"date_from": start, "date_to": end}
    views = person_views(person_id=person_id, date_from=start, date_to=end)
    details = {"person_id": person_id, **{k: v for k, v in period.items() if v}}
    if request.GET.get("format") == "csv":
        record(
            "audit.viewers_exported",
            actor=actor,
            person_id=person_id,
            context={"person_id": person_id},
            details=details,
        )
        return stream_csv(f"viewers-of-person-{person_id}.csv", viewer_rows(views))
    paginator = Paginator(views, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    events = list(page_obj.object_list)
    who = viewers_of(person_id=person_id, date_from=start, date_to=end)
    label, known = _person_label(actor, person_id)
    record(
        "audit.viewers_consulted",
        actor=actor,
        person_id=person_id,
        context={"person_id": person_id},
        details={**details, "page": page_obj.number},
    )
    context.update(
        {
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number, on_each_side=2),
            "events": events,
            "viewers": who,
            "person_label": label,
            "person_known": known,
            "date_from": start,
            "date_to": end,
            "csv_query": _csv_query(request),
        }
    )
    return render(request, "audit/viewers.html", context)


@login_required
@require_GET
def unusual_access(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Users whose views of people are far above their norm, or outside their caseload."""
    actor = actor_for_request(request)
    require(actor, Action.VIEW_AUDIT)
    today = timezone.localdate()
    data = request.GET.copy()
    if not data.get("date_from") and not data.get("date_to"):
        data["date_from"] = f"{today - dt.timedelta(days=6):%d/%m/%Y}"
        data["date_to"] = f"{today:%d/%m/%Y}"
    form = PeriodForm(data, max_days=unusual.MAX_PERIOD_DAYS)
    if form.is_valid():
        if not form.cleaned_data.get("date_from"):
            form.add_error("date_from", "Enter the ‘From’ date")
        if not form.cleaned_data.get("date_to"):
            form.add_error("date_to", "Enter the ‘To’ date")
    if not form.is_valid():
        return render(
            request, "audit/unusual_access.html", {"form": form, "report": None}, status=400
        )
    report = unusual.unusual_access(
        date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
    )
    summary = {
        "date_from": report.date_from,
        "date_to": report.date_to,
        "flags": len(report.flags),
        "volume": len(report.of_kind(unusual.VOLUME)),
        "outside_caseload": len(report.of_kind(unusual.OUTSIDE_CASELOAD)),
    }
    ctx = {"period": report.period, "flags": len(report.flags)}
    if request.GET.get("format") == "csv":
        record("audit.unusual_access_exported", actor=actor, context=ctx, details=summary)
        name = f"unusual-access-{report.date_from:%Y-%m-%d}-to-{report.date_to:%Y-%m-%d}.csv"
        return stream_csv(name, unusual_access_rows(report))
    record("audit.unusual_access_consulted", actor=actor, context=ctx, details=summary)
    query = data.copy()
    query["format"] = "csv"
    context = {
        "form": form,
        "report": report,
        "volume": report.of_kind(unusual.VOLUME),
        "outside": report.of_kind(unusual.OUTSIDE_CASELOAD),
        "rules": unusual,
        "csv_query": query.urlencode(),
    }
    return render(request, "audit/unusual_access.html", context)
