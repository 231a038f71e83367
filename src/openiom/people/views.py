"""People pages: search and the person's record. Both read through the audited selectors."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from openiom.access.policy import (
    Action,
    CaseworkAction,
    PlanAction,
    ProviderReferralAction,
    can,
)
from openiom.access.services import require
from openiom.accounts.actor import actor_for_request
from openiom.cohort.page_data import person_iom_section
from openiom.people.charts import offending_timeline
from openiom.people.models import CurrentStatus, Person, SupervisionType
from openiom.people.selectors import SEARCH_LIMIT, parse_date, search_people, view_person

MAX_QUERY = 200
_DATE_LIKE = re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$")
TURNING_18_WITHIN = dt.timedelta(days=183)


def _query_error(query: str) -> str:
    if not query:
        return "Enter a name, date of birth, PNC ID, CRN or prison number"
    if len(query) > MAX_QUERY:
        return f"Search must be {MAX_QUERY} characters or fewer"
    for term in query.split():
        if _DATE_LIKE.match(term) and parse_date(term) is None:
            return "Date of birth must be a real date, like 27/03/1990"
    return ""


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    if not can(actor, Action.SEARCH_PEOPLE):
        require(actor, Action.SEARCH_PEOPLE)  # records the refusal and raises
    submitted = "q" in request.GET
    query = request.GET.get("q", "").strip()
    error = _query_error(query) if submitted else ""
    results: list[Person] | None = None
    if submitted and not error:
        results = search_people(actor=actor, query=query)
    context = {
        "query": query,
        "error": error,
        "results": results,
        "limit": SEARCH_LIMIT,
        "truncated": results is not None and len(results) >= SEARCH_LIMIT,
    }
    return render(request, "people/search.html", context, status=400 if error else 200)


@dataclass(frozen=True)
class Marker:
    text: str
    colour: str  # GOV.UK tag modifier
    detail: str = ""


def _age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _eighteenth_birthday(born: dt.date) -> dt.date:
    try:
        return born.replace(year=born.year + 18)
    except ValueError:  # born on 29 February
        return dt.date(born.year + 18, 3, 1)


def _current(period: Any, today: dt.date, start: str, end: str) -> bool:
    begun = getattr(period, start)
    finished = getattr(period, end)
    return begun is not None and begun <= today and (finished is None or finished >= today)


def markers(rec: Any, today: dt.date) -> list[Marker]:
    person: Person = rec.person
    found: list[Marker] = []
    if rec.is_restricted:
        found.append(Marker("Restricted record", "red", "Only named users can see this record"))
    in_custody = person.current_status == CurrentStatus.CUSTODY or any(
        e.release_date is None for e in rec.custody_episodes
    )
    if in_custody:
        found.append(Marker("In custody", "grey"))
    if person.current_status == CurrentStatus.UNLAWFULLY_AT_LARGE:
        found.append(Marker("Unlawfully at large", "red"))
    if person.current_status == CurrentStatus.DECEASED:
        found.append(Marker("Deceased", "grey"))
    if any(
        p.supervision_type == SupervisionType.LICENCE
        and _current(p, today, "start_date", "end_date")
        for p in rec.supervision_periods
    ):
        found.append(Marker("On licence", "blue"))
    if person.youth_justice_status:
        found.append(
            Marker(
                "Youth justice",
                "purple",
                person.get_youth_justice_status_display()
                + (f" ({person.youth_justice_team})" if person.youth_justice_team else ""),
            )
        )
    eighteenth = _eighteenth_birthday(person.date_of_birth)
    if today < eighteenth <= today + TURNING_18_WITHIN:
        found.append(Marker("Turning 18 soon", "orange", f"Turns 18 on {eighteenth:%-d %B %Y}"))
    elif today < eighteenth:
        found.append(Marker("Under 18", "orange"))
    return found


def _identity_rows(rec: Any, today: dt.date) -> list[tuple[str, str]]:
    person: Person = rec.person
    born = person.date_of_birth
    return [
        ("Name", person.full_name),
        (
            "Other names",
            "; ".join(
                " ".join(part for part in (a.first_names, a.surname) if part)
                + (f" (born {a.date_of_birth:%d/%m/%Y})" if a.date_of_birth else "")
                for a in rec.aliases
            ),
        ),
        ("Date of birth", f"{born:%-d %B %Y} (age {_age_on(born, today)})"),
        ("Sex", person.get_sex_display()),
        ("Ethnicity (self-defined)", person.get_ethnicity_self_defined_display()),
        ("Ethnicity (officer-defined)", person.get_ethnicity_officer_defined_display()),
        ("PNC ID", person.pnc_id),
        ("Probation CRN", person.crn),
        ("Prison number", person.prison_number),
        (
            "Other identifiers",
            "; ".join(
                f"{i.get_scheme_display()} {i.value}"
                for i in rec.identifiers
                if i.value not in {person.pnc_id, person.crn, person.prison_number}
            ),
        ),
        ("Hub", person.hub.name),
    ]


def _plan_registration_id(actor: Any, person: Person) -> int | None:
    """The current registration whose management plan the actor may open (for the link)."""
    from openiom.cohort.models import Registration, RegistrationStatus

    current = (
        Registration.objects.filter(person=person)
        .exclude(status=RegistrationStatus.DEREGISTERED)
        .order_by("-start_date", "-id")
        .first()
    )
    if current is None or not can(actor, PlanAction.VIEW_PLAN, registration=current):
        return None
    return current.pk


@login_required
@require_GET
def detail(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    try:
        # One consultation event per view: nothing else on this page reads audited data.
        rec = view_person(actor=actor, person_id=person_id)
    except Person.DoesNotExist:
        raise Http404("No such person") from None
    today = timezone.localdate()
    chart = None
    if rec.may_see_offending:
        chart = offending_timeline(
            offences=rec.offences, custody_episodes=rec.custody_episodes, today=today
        )
    context = {
        "rec": rec,
        "person": rec.person,
        "markers": markers(rec, today),
        "identity_rows": _identity_rows(rec, today),
        "chart": chart,
        "today": today,
        "may_see_audit": bool(can(actor, Action.VIEW_AUDIT)),
        "may_see_contacts": bool(can(actor, CaseworkAction.VIEW_CONTACTS, rec.person)),
        "may_see_provider_referrals": bool(can(actor, ProviderReferralAction.VIEW, rec.person)),
        "plan_registration_id": _plan_registration_id(actor, rec.person),
        # Not audited on its own: part of the consultation view_person recorded above.
        "iom": person_iom_section(actor=actor, person=rec.person),
    }
    return render(request, "people/detail.html", context)
