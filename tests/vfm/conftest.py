"""Signed-in clients for the value-for-money pages and API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from openiom.accounts.services import issue_token


@pytest.fixture
def client_for(personas: dict[str, Any]) -> Any:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(personas[username])
        return client

    return make


@pytest.fixture
def api_for(actor: Any) -> Any:
    def make(username: str) -> Client:
        _token, plaintext = issue_token(actor=actor(username), name="test")
        return Client(headers={"Authorization": f"Bearer {plaintext}"})

    return make
