"""Shared fixtures: the named personas make permission tests read like stories."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiom.accounts.actor import Actor, actor_for_user
from openiom.partnership.models import Agency, Hub
from openiom.partnership.setup import DEMO_PASSWORD, ensure_personas
from openiom.people.models import Involvement, Person
from openiom.reference.models import OffenceCode


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; tests hash many persona passwords, so use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def personas(db: Any) -> dict[str, Any]:
    """Users by username: police.officer, probation.om, coordinator, housing.worker, drug.worker,
    vcs.mentor, analyst, dpo, admin (password DEMO_PASSWORD)."""
    return ensure_personas()


@pytest.fixture
def password() -> str:
    return DEMO_PASSWORD


@pytest.fixture
def actor(personas: dict[str, Any]) -> Any:
    """actor("housing.worker") -> the Actor for that persona."""

    def make(username: str) -> Actor:
        return actor_for_user(personas[username])

    return make


@pytest.fixture
def make_person(personas: dict[str, Any]) -> Any:
    counter = {"n": 0}

    def make(**fields: Any) -> Person:
        counter["n"] += 1
        defaults: dict[str, Any] = {
            "hub": Hub.objects.get(code="north"),
            "first_names": "Test",
            "surname": f"Person{counter['n']}",
            "date_of_birth": dt.date(1990, 1, 1),
            "sex": "M",
            "pnc_id": f"2001/{counter['n']:07d}A",
        }
        defaults.update(fields)
        return Person.objects.create(**defaults)

    return make


@pytest.fixture
def involve(personas: dict[str, Any]) -> Any:
    """involve(person, "housing.worker") records that persona's agency working with the person."""

    def make(person: Person, username: str) -> Involvement:
        user = personas[username]
        agency = Agency.objects.get(memberships__user=user)
        return Involvement.objects.create(
            person=person, agency=agency, worker=user, start_date=dt.date(2020, 1, 1)
        )

    return make


@pytest.fixture
def offence_code(db: Any) -> Any:
    def get(code: str = "028/01") -> OffenceCode:
        return OffenceCode.objects.get(code=code)

    return get


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test must use serialized_rollback=True.

    A transactional test's teardown flushes the database and then re-creates content types
    unless it is serialized; a later serialized test then restores its snapshot on top of them
    and fails on duplicate keys. Serialized rollback also restores the reference data that
    migrations load (offence codes, default policies).
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if (
            marker
            and marker.kwargs.get("transaction")
            and not marker.kwargs.get("serialized_rollback")
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: use @pytest.mark.django_db(transaction=True, "
                "serialized_rollback=True) (see tests/conftest.py)"
            )
