"""Reading people's records. Reads that disclose personal data are audited as consultations."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from openiom.access.policy import Action, can, people_visible_to, records_for
from openiom.access.services import require
from openiom.audit.services import record
from openiom.people.models import Person, PersonIdentifier
from openiom.people.normalise import normalise_name

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

SEARCH_LIMIT = 50
_PNC = re.compile(r"^\d{2,4}/\d{1,7}[A-Z]$")
_CRN = re.compile(r"^[A-Z]\d{6}$")
_PRISON = re.compile(r"^[A-Z]\d{4}[A-Z]{2}$")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


def parse_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _search_queryset(actor: Actor, query: str) -> QuerySet[Person]:
    """Match by identifier, date of birth, or name/alias prefixes (all terms must match)."""
    qs = people_visible_to(actor)
    terms = query.split()
    if not terms:
        return qs.none()
    upper = query.strip().upper()
    if _PNC.match(upper) or _CRN.match(upper) or _PRISON.match(upper) or upper.isdigit():
        by_id = PersonIdentifier.objects.filter(value=upper).values("person_id")
        return qs.filter(Q(pnc_id=upper) | Q(crn=upper) | Q(prison_number=upper) | Q(pk__in=by_id))
    condition = Q()
    for term in terms:
        date = parse_date(term)
        if date is not None:
            condition &= Q(date_of_birth=date) | Q(aliases__date_of_birth=date)
            continue
        name = normalise_name(term)
        if not name:
            continue
        condition &= (
            Q(surname_norm__startswith=name)
            | Q(first_names_norm__startswith=name)
            | Q(first_names_norm__contains=f" {name}")
            | Q(aliases__surname_norm__startswith=name)
            | Q(aliases__first_names_norm__startswith=name)
        )
    if not condition:
        return qs.none()
    return qs.filter(condition).distinct()


def search_people(*, actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[Person]:
    """People matching the query that the actor may see. Audited: results disclose data."""
    require(actor, Action.SEARCH_PEOPLE)
    # Control characters match nothing, and PostgreSQL refuses NUL in the audit record.
    query = "".join(ch for ch in query if ch.isprintable() or ch.isspace()).strip()[:200]
    results = list(
        _search_queryset(actor, query)
        .select_related("hub")
        .order_by("surname", "first_names", "pk")[:limit]
    )
    record(
        "person.searched",
        actor=actor,
        context={"query": query, "results": len(results)},
        details={"query": query, "result_ids": [p.pk for p in results]},
    )
    return results


@dataclass
class PersonRecord:
    """Everything about one person that this actor may see, for the person page and the API."""

    person: Person
    may_see_offending: bool
    may_see_intelligence: bool
    may_edit: bool
    aliases: list[Any] = field(default_factory=list)
    identifiers: list[Any] = field(default_factory=list)
    addresses: list[Any] = field(default_factory=list)
    custody_episodes: list[Any] = field(default_factory=list)
    supervision_periods: list[Any] = field(default_factory=list)
    offences: list[Any] = field(default_factory=list)
    arrests: list[Any] = field(default_factory=list)
    intelligence: list[Any] = field(default_factory=list)
    involvements: list[Any] = field(default_factory=list)
    is_restricted: bool = False

    @property
    def sections(self) -> list[str]:
        shown = ["identity", "circumstances"]
        if self.may_see_offending:
            shown.append("offending")
        if self.may_see_intelligence:
            shown.append("intelligence")
        return shown


def get_person(*, actor: Actor, person_id: int) -> Person:
    """The person if the actor may view them; raises Person.DoesNotExist or AccessDenied."""
    person = Person.objects.select_related("hub").get(pk=person_id)
    require(actor, Action.VIEW_PERSON, person)
    return person


def view_person(*, actor: Actor, person_id: int) -> PersonRecord:
    """Load a person's record for display. Writes exactly one consultation event."""
    person = get_person(actor=actor, person_id=person_id)
    offending = bool(can(actor, Action.VIEW_OFFENDING, person))
    intelligence = bool(can(actor, Action.VIEW_INTELLIGENCE, person))
    rec = PersonRecord(
        person=person,
        may_see_offending=offending,
        may_see_intelligence=intelligence,
        may_edit=bool(can(actor, Action.EDIT_PERSON, person)),
        is_restricted=person.restrictions.exists(),
    )
    rec.aliases = list(records_for(actor, person, person.aliases.all()))
    rec.identifiers = list(records_for(actor, person, person.identifiers.all()))
    rec.addresses = list(records_for(actor, person, person.addresses.all()))
    rec.custody_episodes = list(records_for(actor, person, person.custody_episodes.all()))
    rec.supervision_periods = list(records_for(actor, person, person.supervision_periods.all()))
    rec.involvements = list(
        person.involvements.select_related("agency", "worker").order_by("-start_date")
    )
    if offending:
        rec.offences = list(
            person.offences.select_related("offence_code").order_by("-offence_date", "-pk")
        )
        rec.arrests = list(
            person.arrests.select_related("offence_code").order_by("-arrest_date", "-pk")
        )
    if intelligence:
        rec.intelligence = list(person.intelligence.order_by("-recorded_date", "-pk"))
    record(
        "person.consulted",
        actor=actor,
        obj=person,
        person_id=person.pk,
        context={"person": str(person)},
        details={"sections": rec.sections, "intelligence_items": len(rec.intelligence)},
    )
    return rec


def visible_people_counts(*, actor: Actor) -> dict[str, int]:
    """How many people the actor may see, by current status (no personal data, so not audited)."""
    from django.db.models import Count

    from openiom.people.models import CurrentStatus

    rows = people_visible_to(actor).values("current_status").annotate(n=Count("pk"))
    counts = {status.value: 0 for status in CurrentStatus}
    for row in rows:
        counts[row["current_status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts


def list_visible_people(*, actor: Actor, offset: int, limit: int) -> tuple[int, list[Person]]:
    """Everyone the actor may see, a page at a time (surname order); the page is audited."""
    require(actor, Action.SEARCH_PEOPLE)
    visible = (
        people_visible_to(actor).select_related("hub").order_by("surname", "first_names", "pk")
    )
    count = visible.count()
    page = list(visible[offset : offset + limit])
    record(
        "person.listed",
        actor=actor,
        context={"results": len(page)},
        details={"offset": offset, "limit": limit, "result_ids": [p.pk for p in page]},
    )
    return count, page


def person_offences(
    *, actor: Actor, person_id: int, offset: int, limit: int
) -> tuple[int, list[Any]]:
    """A person's proven offences, newest first, a page at a time; audited as a consultation."""
    person = get_person(actor=actor, person_id=person_id)
    require(actor, Action.VIEW_OFFENDING, person)
    offences = person.offences.select_related("offence_code", "recorded_by_agency").order_by(
        "-offence_date", "-pk"
    )
    count = offences.count()
    page = list(offences[offset : offset + limit])
    record(
        "person.consulted",
        actor=actor,
        obj=person,
        person_id=person.pk,
        context={"person": str(person)},
        details={"sections": ["offending"], "offence_ids": [o.pk for o in page]},
    )
    return count, page


def person_intelligence(*, actor: Actor, person_id: int) -> list[Any]:
    """Police intelligence on a person, newest first (police roles only); audited."""
    person = get_person(actor=actor, person_id=person_id)
    require(actor, Action.VIEW_INTELLIGENCE, person)
    items = list(
        person.intelligence.select_related("recorded_by_agency").order_by("-recorded_date", "-pk")
    )
    record(
        "intelligence.consulted",
        actor=actor,
        obj=person,
        person_id=person.pk,
        context={"count": len(items), "person": str(person)},
        details={"intelligence_ids": [i.pk for i in items]},
    )
    return items
