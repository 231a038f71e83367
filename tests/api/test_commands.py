"""manage.py issue_token and seed_demo_users."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from openiom.accounts.models import ApiToken
from openiom.partnership.setup import DEMO_PASSWORD, PERSONAS
from tests.people.builders import events


def run(*args: str, **options: object) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


class TestIssueToken:
    def test_prints_a_working_token_once(self, personas):
        output = run("issue_token", "probation.om", "--name", "case system", "--days", "30")

        plaintext = output.strip().splitlines()[-1]
        assert plaintext.startswith("oiom_")
        token = ApiToken.objects.get()
        assert token.name == "case system" and token.expires_at is not None
        assert "will not be shown again" in output
        response = Client(headers={"Authorization": f"Bearer {plaintext}"}).get("/api/me")
        assert response.json()["username"] == "probation.om"
        [issued] = events("token.issued")
        assert issued.actor_username == "probation.om"

    def test_without_days_the_token_does_not_expire(self, personas):
        run("issue_token", "analyst", "--name", "notebook")
        assert ApiToken.objects.get().expires_at is None

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["nobody", "--name", "x"], "No user called 'nobody'"),
            (["analyst", "--name", "x", "--days", "0"], "--days must be at least 1"),
            (["analyst", "--name", "  "], "Give the token a name"),
            (["analyst", "--name", "x", "--agency", "harbour-housing"], "no active agency role"),
        ],
    )
    def test_bad_input_is_a_clear_error(self, personas, args, message):
        with pytest.raises(CommandError, match=message):
            run("issue_token", *args)
        assert not ApiToken.objects.exists()


class TestSeedDemoUsers:
    def test_creates_the_personas_and_lists_them_with_the_password(self, db):
        output = run("seed_demo_users")

        for persona in PERSONAS:
            assert persona.username in output
        assert "Housing support" not in output  # roles, not job titles
        assert "Partner worker" in output and "Harbour Housing Association" in output
        assert DEMO_PASSWORD in output
        assert run("seed_demo_users") == output  # running it again changes nothing

    def test_refuses_in_production(self, db, settings):
        settings.PRODUCTION = True
        with pytest.raises(CommandError, match="never created in production"):
            run("seed_demo_users")
