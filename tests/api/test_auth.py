"""API authentication: bearer tokens and the web session, both acting as an Actor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from openiom.accounts.auth import authenticate_token, hash_token
from openiom.accounts.models import ApiToken, Membership
from openiom.accounts.services import issue_token
from openiom.audit.models import AuditEvent
from tests.people.builders import events

ENDPOINTS = [
    "/api/me",
    "/api/people?q=smith",
    "/api/people",
    "/api/people/1",
    "/api/people/1/offences",
    "/api/people/1/intelligence",
    "/api/audit/events",
]


class TestWithoutCredentials:
    @pytest.mark.parametrize("url", ENDPOINTS)
    def test_every_endpoint_is_a_401(self, client, db, url):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json() == {"detail": "Unauthorized"}

    def test_revoking_without_credentials_is_a_401_not_a_csrf_failure(self, db):
        response = Client(enforce_csrf_checks=True).delete("/api/tokens/1")
        assert response.status_code == 401

    @pytest.mark.parametrize(
        "header",
        ["Bearer nonsense", "Bearer oiom_deadbeef_notthesecret", "Bearer ", "bearer oiom__x"],
    )
    def test_a_bad_token_is_a_401_that_says_so(self, db, header):
        response = Client(headers={"Authorization": header}).get("/api/me")
        assert response.status_code == 401
        assert response.json() == {"detail": "The API token is invalid, expired or revoked."}

    def test_a_bad_token_is_refused_even_alongside_a_signed_in_session(self, as_session):
        client = as_session("police.officer")
        assert client.get("/api/me").status_code == 200
        response = client.get("/api/me", headers={"Authorization": "Bearer oiom_x_y"})
        assert response.status_code == 401

    def test_other_schemes_are_not_accepted(self, db):
        response = Client(headers={"Authorization": "Basic cG9saWNlOnNlY3JldA=="}).get("/api/me")
        assert response.status_code == 401


class TestBearerToken:
    def test_a_token_acts_in_its_role(self, token_for):
        plaintext = token_for("housing.worker")
        response = Client(headers={"Authorization": f"Bearer {plaintext}"}).get("/api/me")

        assert response.status_code == 200
        assert response.json() == {
            "username": "housing.worker",
            "full_name": "Hannah Byrne",
            "agency": "harbour-housing",
            "agency_name": "Harbour Housing Association",
            "role": "partner_worker",
            "hub": None,
            "token": "test client",
        }

    def test_only_a_hash_is_stored_and_last_use_is_recorded(self, token_for):
        plaintext = token_for("police.officer")
        token = ApiToken.objects.get()
        assert plaintext not in {token.key_hash, token.prefix}
        assert token.key_hash == hash_token(plaintext)
        assert plaintext.startswith(f"oiom_{token.prefix}_")
        assert token.last_used_at is None

        Client(headers={"Authorization": f"Bearer {plaintext}"}).get("/api/me")

        token.refresh_from_db()
        assert token.last_used_at is not None

    def test_a_revoked_token_is_refused(self, token_for, actor):
        from openiom.accounts.services import revoke_token

        plaintext = token_for("police.officer")
        client = Client(headers={"Authorization": f"Bearer {plaintext}"})
        assert client.get("/api/me").status_code == 200

        revoke_token(actor=actor("police.officer"), token=ApiToken.objects.get())

        assert client.get("/api/me").status_code == 401
        assert authenticate_token(plaintext) is None

    def test_an_expired_token_is_refused(self, token_for):
        plaintext = token_for("police.officer", expires_at=timezone.now() + dt.timedelta(hours=1))
        client = Client(headers={"Authorization": f"Bearer {plaintext}"})
        assert client.get("/api/me").status_code == 200

        ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

        assert client.get("/api/me").status_code == 401

    def test_a_token_stops_working_when_its_role_ends_or_the_account_is_disabled(
        self, token_for, personas
    ):
        client = Client(headers={"Authorization": f"Bearer {token_for('police.officer')}"})
        Membership.objects.filter(user=personas["police.officer"]).update(is_active=False)
        assert client.get("/api/me").status_code == 401

        Membership.objects.filter(user=personas["police.officer"]).update(is_active=True)
        assert client.get("/api/me").status_code == 200
        personas["police.officer"].is_active = False
        personas["police.officer"].save()
        assert client.get("/api/me").status_code == 401

    def test_a_token_with_a_tampered_secret_is_refused(self, token_for):
        plaintext = token_for("police.officer")
        tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
        response = Client(headers={"Authorization": f"Bearer {tampered}"}).get("/api/me")
        assert response.status_code == 401


class TestSession:
    def test_the_web_session_works_and_acts_in_the_chosen_role(self, as_session):
        response = as_session("coordinator").get("/api/me")
        assert response.status_code == 200
        assert response.json()["role"] == "coordinator"
        assert response.json()["token"] is None

    def test_the_session_needs_a_second_factor_when_required(self, as_session, settings):
        settings.OTP_REQUIRED = True
        assert as_session("coordinator").get("/api/me").status_code == 401

    def test_unsafe_methods_need_the_csrf_token(self, as_session, actor):
        token, _ = issue_token(actor=actor("police.officer"), name="laptop")
        client = as_session("police.officer", enforce_csrf_checks=True)

        refused = client.delete(f"/api/tokens/{token.pk}")
        assert refused.status_code == 403
        assert refused.json() == {"detail": "CSRF check Failed"}
        token.refresh_from_db()
        assert token.revoked_at is None

        csrf = _csrf_cookie(client)
        allowed = client.delete(f"/api/tokens/{token.pk}", headers={"X-CSRFToken": csrf})
        assert allowed.status_code == 200
        assert allowed.json()["revoked_at"] is not None

    def test_a_bearer_token_needs_no_csrf_token(self, token_for, actor):
        plaintext = token_for("police.officer")
        other, _ = issue_token(actor=actor("police.officer"), name="old laptop")
        client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {plaintext}"})

        response = client.delete(f"/api/tokens/{other.pk}")

        assert response.status_code == 200
        assert response.json()["name"] == "old laptop"
        [revoked] = events("token.revoked")
        assert revoked.summary == "Revoked API token 'old laptop'"


def _csrf_cookie(client: Client) -> str:
    from django.middleware.csrf import _get_new_csrf_string

    if "csrftoken" not in client.cookies:
        client.cookies["csrftoken"] = _get_new_csrf_string()
    return client.cookies["csrftoken"].value


class TestRevokingOverTheApi:
    def test_someone_elses_token_is_refused_and_audited(self, as_token, actor):
        theirs, _ = issue_token(actor=actor("probation.om"), name="theirs")

        response = as_token("police.officer").delete(f"/api/tokens/{theirs.pk}")

        assert response.status_code == 403
        assert response.json() == {"detail": "You cannot manage users: administrators only."}
        theirs.refresh_from_db()
        assert theirs.revoked_at is None
        assert AuditEvent.objects.filter(event_type="access.denied").count() == 1

    def test_an_unknown_token_is_a_404(self, as_token):
        response = as_token("police.officer").delete("/api/tokens/987654")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such API token."}
