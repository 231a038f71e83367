"""Signing in and out, lockout, two-factor authentication and choosing a role."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiom.accounts.actor import SESSION_KEY
from openiom.accounts.models import Membership, Role
from openiom.audit.models import AuditEvent
from openiom.partnership.models import Agency
from tests.web.helpers import assert_csp_safe, html


def sign_in(client: Client, username: str, password: str, **extra: str) -> Any:
    return client.post(
        reverse("accounts:sign-in"), {"username": username, "password": password, **extra}
    )


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_sign_in_and_out_are_audited(client: Client, personas: Any, password: str) -> None:
    response = sign_in(client, "police.officer", password)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    signed_in = AuditEvent.objects.get(event_type="auth.signed_in")
    assert signed_in.actor_username == "police.officer"
    home = client.get(reverse("core:home"))
    assert "Priya Shah" in html(home)
    # GET asks for confirmation; only POST signs out.
    assert "Sign out" in assert_csp_safe(client.get(reverse("accounts:sign-out")))
    assert not AuditEvent.objects.filter(event_type="auth.signed_out").exists()
    response = client.post(reverse("accounts:sign-out"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:sign-in")
    assert AuditEvent.objects.get(event_type="auth.signed_out").actor_username == "police.officer"
    assert "You have signed out" in html(client.get(response["Location"]))
    assert client.get(reverse("core:home")).status_code == 302


def test_sign_in_goes_to_next_but_not_off_site(
    client: Client, personas: Any, password: str
) -> None:
    response = sign_in(client, "police.officer", password, next="/people/")
    assert response["Location"] == "/people/"
    other = Client()
    response = sign_in(other, "police.officer", password, next="https://evil.example/")
    assert response["Location"] == reverse("core:home")


def test_wrong_password_shows_an_error(client: Client, personas: Any) -> None:
    response = sign_in(client, "police.officer", "wrong-password")
    assert response.status_code == 400
    body = assert_csp_safe(response)
    assert "There is a problem" in body
    assert "Enter a correct username and password" in body
    assert AuditEvent.objects.filter(event_type="auth.sign_in_failed").count() == 1


def test_missing_fields_are_named(client: Client, db: Any) -> None:
    body = html(client.post(reverse("accounts:sign-in"), {"username": "", "password": ""}))
    assert "Enter your username" in body
    assert "Enter your password" in body
    assert 'href="#id_username"' in body


def test_lockout_shows_the_lockout_page(
    client: Client, personas: Any, password: str, settings: Any
) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert sign_in(client, "police.officer", "wrong-password").status_code == 400
    response = sign_in(client, "police.officer", "wrong-password")
    assert response.status_code == 429
    body = assert_csp_safe(response)
    assert "You are locked out" in body
    # Even the right password is refused while locked out.
    response = sign_in(client, "police.officer", password)
    assert response.status_code == 429
    assert "You are locked out" in html(response)
    assert not AuditEvent.objects.filter(event_type="auth.signed_in").exists()
    locked = AuditEvent.objects.filter(event_type="auth.locked_out")
    assert [e.actor_username for e in locked][:1] == ["police.officer"]


def test_set_up_two_factor_then_sign_in_with_a_code(
    client_for: Any, personas: Any, password: str
) -> None:
    client = client_for("probation.om")
    response = client.get(reverse("accounts:two-factor-setup"))
    body = assert_csp_safe(response)
    assert 'role="img"' in body and "QR code" in body
    device = TOTPDevice.objects.get(user=personas["probation.om"], confirmed=False)
    assert client.post(reverse("accounts:two-factor-setup"), {"code": "000000"}).status_code in {
        200,
        400,
    }
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    response = client.post(reverse("accounts:two-factor-setup"), {"code": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.get(event_type="otp.enrolled").actor_username == "probation.om"

    # Next time, the password alone does not sign in.
    fresh = Client()
    response = sign_in(fresh, "probation.om", password)
    assert response["Location"] == reverse("accounts:verify-code")
    assert fresh.get(reverse("core:home")).status_code == 302
    page = fresh.get(reverse("accounts:verify-code"))
    assert "Enter the code from your authenticator app" in assert_csp_safe(page)
    wrong = fresh.post(reverse("accounts:verify-code"), {"code": "12345"})
    assert wrong.status_code == 400
    assert "The code must be 6 digits" in html(wrong)
    device.refresh_from_db()
    device.last_t = -1
    device.save()
    response = fresh.post(reverse("accounts:verify-code"), {"code": code_for(device)})
    assert response.status_code == 302
    assert fresh.get(reverse("core:home")).status_code == 200


def test_verify_code_without_a_password_step_goes_back_to_sign_in(client: Client, db: Any) -> None:
    response = client.get(reverse("accounts:verify-code"))
    assert response["Location"] == reverse("accounts:sign-in")


@pytest.mark.parametrize("otp_required", [True])
def test_otp_required_sends_users_without_a_device_to_set_up(
    client: Client, personas: Any, password: str, settings: Any, otp_required: bool
) -> None:
    settings.OTP_REQUIRED = otp_required
    response = sign_in(client, "police.officer", password)
    assert response["Location"] == reverse("accounts:two-factor-setup")
    # Not signed in until the code is confirmed.
    assert client.get(reverse("core:home")).status_code == 302
    assert "Set up two-factor authentication" in html(
        client.get(reverse("accounts:two-factor-setup"))
    )
    device = TOTPDevice.objects.get(user=personas["police.officer"])
    response = client.post(reverse("accounts:two-factor-setup"), {"code": code_for(device)})
    assert response.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200


def test_user_with_several_roles_chooses_one(client: Client, personas: Any, password: str) -> None:
    user = personas["coordinator"]
    second = Membership.objects.create(
        user=user, agency=Agency.objects.get(code="wessex-police"), role=Role.ANALYST
    )
    response = sign_in(client, "coordinator", password)
    assert response["Location"] == reverse("accounts:choose-role")
    page = client.get(response["Location"])
    body = assert_csp_safe(page)
    assert "Choose the role you are acting in" in body
    assert "Analyst, Wessex Police" in body
    assert client.post(reverse("accounts:choose-role"), {}).status_code == 400
    response = client.post(reverse("accounts:choose-role"), {"membership": second.pk})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == second.pk
    home = html(client.get(reverse("core:home")))
    assert "Analyst, Wessex Police" in home
    assert "Change role" in home


def test_someone_elses_membership_cannot_be_chosen(
    client: Client, personas: Any, password: str
) -> None:
    Membership.objects.create(
        user=personas["coordinator"],
        agency=Agency.objects.get(code="wessex-police"),
        role=Role.ANALYST,
    )
    sign_in(client, "coordinator", password)
    not_mine = Membership.objects.get(user=personas["dpo"])
    response = client.post(reverse("accounts:choose-role"), {"membership": not_mine.pk})
    assert response.status_code == 400
    assert "Select one of your roles" in html(response)
    assert SESSION_KEY not in client.session
