"""API clients for the personas: by bearer token or by signed-in session."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from openiom.accounts.services import issue_token


@pytest.fixture
def token_for(actor: Any) -> Any:
    """token_for("police.officer") -> a fresh bearer token acting in that persona's role."""

    def make(username: str, **kwargs: Any) -> str:
        _token, plaintext = issue_token(actor=actor(username), name="test client", **kwargs)
        return plaintext

    return make


@pytest.fixture
def as_token(token_for: Any) -> Any:
    """as_token("police.officer") -> a test client sending that persona's bearer token."""

    def make(username: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {token_for(username)}"})

    return make


@pytest.fixture
def as_session(personas: dict[str, Any]) -> Any:
    """as_session("police.officer") -> a test client signed in as that persona (web session)."""

    def make(username: str, **kwargs: Any) -> Client:
        client = Client(**kwargs)
        client.force_login(personas[username])
        return client

    return make


@pytest.fixture(params=["token", "session"])
def as_persona(request: Any, as_token: Any, as_session: Any) -> Any:
    """Each API test that uses this runs twice: once with a bearer token, once with a session."""
    return as_token if request.param == "token" else as_session
