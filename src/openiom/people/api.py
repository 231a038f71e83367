"""People endpoints. Every read goes through the selectors (or the policy), so it is audited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router
from ninja.errors import ValidationError as NinjaValidationError

from openiom.accounts.actor import Actor
from openiom.people import selectors
from openiom.people.schemas import IntelligenceList, OffenceList, PersonDetail, PersonList
from openiom.people.selectors import SEARCH_LIMIT, search_people, view_person

router = Router(tags=["people"])

MAX_ID = 2**63 - 1  # larger ids overflow the database's integer, so they are refused as input
MAX_PAGE = 100
PERSON_ID = Path(..., ge=1, le=MAX_ID, description="The person's id.")


def actor_of(request: HttpRequest) -> Actor:
    # request.auth is set by the authentication classes in openiom.accounts.auth.
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    return actor


def _invalid(field: str, message: str, where: str = "query") -> NinjaValidationError:
    return NinjaValidationError([{"type": "value_error", "loc": [where, field], "msg": message}])


def _check_query_text(q: str) -> str:
    if any(not (ch.isprintable() or ch == " ") for ch in q):
        raise _invalid("q", "The search must not contain control characters.")
    q = q.strip()
    if not q:
        raise _invalid("q", "Enter a name, date of birth or identifier to search for.")
    return q


@router.get(
    "",
    response=PersonList,
    summary="Search or list people",
    description=(
        "With `q`, search by name or alias (prefixes), date of birth, PNC id, CRN or prison "
        f"number; the best {SEARCH_LIMIT} matches at most, so refine the search rather than "
        "paging. Without `q`, list everyone you may see, a page at a time. Only people you may "
        "view are returned, and the request is recorded in the audit trail."
    ),
)
def list_people(
    request: HttpRequest,
    q: str | None = Query(None, max_length=200, description="Search text."),
    limit: int = Query(SEARCH_LIMIT, ge=1, le=MAX_PAGE, description="Page size."),
    offset: int = Query(0, ge=0, le=MAX_ID, description="Skip this many (listing only)."),
) -> dict[str, Any]:
    actor = actor_of(request)
    if q is not None:
        query = _check_query_text(q)
        if limit > SEARCH_LIMIT:
            raise _invalid("limit", f"A search returns at most {SEARCH_LIMIT} people.")
        if offset:
            raise _invalid("offset", "Searches are not paged; refine the search instead.")
        results = search_people(actor=actor, query=query, limit=limit)
        return {"count": len(results), "limit": limit, "offset": 0, "results": results}

    count, page = selectors.list_visible_people(actor=actor, offset=offset, limit=limit)
    return {"count": count, "limit": limit, "offset": offset, "results": page}


@router.get(
    "/{person_id}",
    response=PersonDetail,
    exclude_unset=True,
    summary="A person's record",
    description=(
        "The record as you may see it. `offences` and `arrests` appear only if you may see "
        "offending, `intelligence` only if you may see police intelligence. Partner agencies "
        "see the basics and the records their own agency made. Recorded as one consultation."
    ),
)
def person_detail(request: HttpRequest, person_id: int = PERSON_ID) -> dict[str, Any]:
    rec = view_person(actor=actor_of(request), person_id=person_id)
    person = rec.person
    data: dict[str, Any] = {
        name: getattr(person, name)
        for name in (
            "id",
            "first_names",
            "surname",
            "date_of_birth",
            "sex",
            "ethnicity_officer_defined",
            "ethnicity_self_defined",
            "hub",
            "pnc_id",
            "crn",
            "prison_number",
            "current_status",
            "status_since",
            "date_of_death",
            "youth_justice_status",
            "youth_justice_team",
        )
    }
    data.update(
        is_restricted=rec.is_restricted,
        sections=rec.sections,
        may_see_offending=rec.may_see_offending,
        may_see_intelligence=rec.may_see_intelligence,
        may_edit=rec.may_edit,
        aliases=rec.aliases,
        identifiers=rec.identifiers,
        addresses=rec.addresses,
        custody_episodes=rec.custody_episodes,
        supervision_periods=rec.supervision_periods,
        involvements=rec.involvements,
    )
    # Absent rather than empty, so a client cannot mistake "not allowed" for "none recorded".
    if rec.may_see_offending:
        data.update(offences=rec.offences, arrests=rec.arrests)
    if rec.may_see_intelligence:
        data["intelligence"] = rec.intelligence
    return data


@router.get(
    "/{person_id}/offences",
    response=OffenceList,
    summary="A person's proven offences",
    description="Newest first. Offending is not shared with partner agencies. Audited.",
)
def person_offences(
    request: HttpRequest,
    person_id: int = PERSON_ID,
    limit: int = Query(50, ge=1, le=MAX_PAGE, description="Page size."),
    offset: int = Query(0, ge=0, le=MAX_ID, description="Skip this many."),
) -> dict[str, Any]:
    count, page = selectors.person_offences(
        actor=actor_of(request), person_id=person_id, offset=offset, limit=limit
    )
    return {"count": count, "limit": limit, "offset": offset, "results": page}


@router.get(
    "/{person_id}/intelligence",
    response=IntelligenceList,
    summary="Police intelligence on a person",
    description="Police staff only; anyone else is refused, and the refusal is audited.",
)
def person_intelligence(request: HttpRequest, person_id: int = PERSON_ID) -> dict[str, Any]:
    items = selectors.person_intelligence(actor=actor_of(request), person_id=person_id)
    return {"count": len(items), "results": items}
