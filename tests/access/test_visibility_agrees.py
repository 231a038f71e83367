"""people_visible_to (used for search and lists) must agree with can() (used per person)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiom.access.policy import Action, can, people_visible_to
from openiom.accounts.actor import Actor, actor_for_user
from openiom.accounts.models import Role
from openiom.partnership.models import Agency, Hub
from openiom.partnership.setup import PERSONAS
from openiom.people.models import Involvement, Person, Restriction
from tests.people.builders import actor_with

HUBS = ["north", "south", "east", "west"]
AGENCIES = [
    "wessex-police",
    "probation-wessex",
    "harbour-housing",
    "turning-point-wessex",
    "second-chance-mentoring",
    "wessex-council",
]
USERNAMES = [p.username for p in PERSONAS]
TODAY = dt.date.today()

involvement = st.fixed_dictionaries(
    {
        "agency": st.sampled_from(AGENCIES),
        "worker": st.one_of(st.none(), st.sampled_from(USERNAMES)),
        "start": st.integers(-400, 30),  # days from today
        "length": st.one_of(st.none(), st.integers(0, 400)),
    }
)
person_spec = st.fixed_dictionaries(
    {
        "hub": st.sampled_from(HUBS),
        "involvements": st.lists(involvement, max_size=3),
        "restricted_to": st.one_of(
            st.none(), st.lists(st.sampled_from(USERNAMES), min_size=1, max_size=2)
        ),
    }
)


def _actors(personas: dict[str, Any]) -> list[Actor]:
    actors = [actor_for_user(user) for user in personas.values()]
    north = Hub.objects.get(code="north")
    # Hub-scoped and non-core-analyst memberships exercise the other branches of the policy.
    actors.append(
        actor_with(personas["probation.om"], "probation-wessex", Role.OFFENDER_MANAGER, hub=north)
    )
    actors.append(actor_with(personas["analyst"], "wessex-police", Role.ANALYST, hub=north))
    actors.append(actor_with(personas["drug.worker"], "wessex-council", Role.ANALYST))
    return actors


def _make(spec: dict[str, Any], n: int, personas: dict[str, Any]) -> Person:
    person = Person.objects.create(
        hub=Hub.objects.get(code=spec["hub"]),
        first_names="Prop",
        surname=f"Case{n}",
        date_of_birth=dt.date(1990, 1, 1),
        sex="M",
    )
    for inv in spec["involvements"]:
        start = TODAY + dt.timedelta(days=inv["start"])
        Involvement.objects.create(
            person=person,
            agency=Agency.objects.get(code=inv["agency"]),
            worker=personas[inv["worker"]] if inv["worker"] else None,
            start_date=start,
            end_date=start + dt.timedelta(days=inv["length"])
            if inv["length"] is not None
            else None,
        )
    for username in spec["restricted_to"] or []:
        Restriction.objects.get_or_create(
            person=person, user=personas[username], defaults={"reason": "test"}
        )
    return person


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(person_spec, min_size=1, max_size=6))
def test_the_list_and_the_per_person_decision_agree_for_every_persona(
    personas: dict[str, Any], specs: list[dict[str, Any]]
) -> None:
    sid = transaction.savepoint()
    try:
        people = [_make(spec, n, personas) for n, spec in enumerate(specs)]
        for actor in _actors(personas):
            visible = set(people_visible_to(actor).filter(pk__in=[p.pk for p in people]))
            allowed = {p for p in people if can(actor, Action.VIEW_PERSON, p)}
            assert visible == allowed, f"{actor}: list {visible} but can() {allowed}"
    finally:
        transaction.savepoint_rollback(sid)


def test_every_persona_over_a_fixed_area(personas: dict[str, Any], make_person, involve) -> None:
    """The same check without randomness, so a failure here is easy to read."""
    north, south = Hub.objects.get(code="north"), Hub.objects.get(code="south")
    people = [make_person(hub=north), make_person(hub=south), make_person(hub=south)]
    involve(people[1], "housing.worker")
    involve(people[2], "vcs.mentor")
    Restriction.objects.create(person=people[2], user=personas["vcs.mentor"], reason="test")

    seen = {
        actor.user.username: {p.surname for p in people if can(actor, Action.VIEW_PERSON, p)}
        for actor in (actor_for_user(u) for u in personas.values())
    }
    for actor in _actors(personas):
        assert set(people_visible_to(actor)) == {
            p for p in people if can(actor, Action.VIEW_PERSON, p)
        }

    everyone = {p.surname for p in people}
    assert seen["coordinator"] == seen["police.officer"] == {p.surname for p in people[:2]}
    assert seen["housing.worker"] == {people[1].surname}
    assert seen["vcs.mentor"] == {people[2].surname}
    assert seen["drug.worker"] == set() and seen["admin"] == set()
    assert seen["analyst"] == seen["dpo"] == everyone - {people[2].surname}
