"""Managing accounts and API tokens: who may, what is checked, what is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiom.access.services import AccessDenied
from openiom.accounts.models import ApiToken, Membership, Role
from openiom.accounts.services import create_user_with_membership, issue_token, revoke_token
from openiom.partnership.models import Hub, Partnership
from tests.people.builders import actor_with, agency, events

User = get_user_model()


class TestCreatingAccounts:
    def test_the_administrator_creates_an_account_with_a_role_and_both_are_audited(self, actor):
        north = Hub.objects.get(code="north")
        user, membership = create_user_with_membership(
            actor=actor("admin"),
            username="new.worker",
            first_name="Nia",
            last_name="Evans",
            email="nia@example.org",
            password="a-long-enough-passphrase",
            agency=agency("harbour-housing"),
            role=Role.PARTNER_WORKER,
            hub=north,
        )

        assert user.check_password("a-long-enough-passphrase")
        assert (membership.agency.code, membership.role, membership.hub) == (
            "harbour-housing",
            "partner_worker",
            north,
        )
        [created] = events("account.created")
        [granted] = events("membership.granted")
        assert created.actor_username == granted.actor_username == "admin"
        assert created.summary == "Created account new.worker"
        assert granted.summary == (
            "Granted Partner worker at Harbour Housing Association to new.worker"
        )
        assert "password" not in str(created.after)

    def test_without_a_password_the_account_cannot_sign_in_with_one(self, actor):
        user, _ = create_user_with_membership(
            actor=actor("admin"),
            username="sso.user",
            agency=agency("wessex-police"),
            role=Role.ANALYST,
        )
        assert not user.has_usable_password()

    @pytest.mark.parametrize("username", ["coordinator", "dpo", "police.officer"])
    def test_no_one_else_may_and_the_refusal_is_audited(self, actor, username):
        with pytest.raises(AccessDenied, match="administrators only"):
            create_user_with_membership(
                actor=actor(username),
                username="sneaky",
                agency=agency("wessex-police"),
                role=Role.COORDINATOR,
            )
        assert not User.objects.filter(username="sneaky").exists()
        [denial] = events("access.denied")
        assert denial.details == {"action": "manage users", "reason": "administrators only"}

    def test_bad_input_names_each_field_and_writes_nothing(self, actor):
        elsewhere = Partnership.objects.create(name="Elsewhere")
        other_hub = Hub.objects.create(partnership=elsewhere, name="Faraway", code="faraway")

        with pytest.raises(ValidationError) as invalid:
            create_user_with_membership(
                actor=actor("admin"),
                username="Coordinator",  # taken, case aside
                agency=agency("wessex-police"),
                role="chief",
                hub=other_hub,
                password="short",
                email="not-an-email",
            )

        errors = invalid.value.message_dict
        assert set(errors) == {"username", "role", "hub", "email"}
        assert errors["username"] == ["The username 'Coordinator' is already taken."]
        assert errors["role"][0].startswith("'chief' is not a role")
        assert events("account.created") == []

    def test_a_weak_password_is_refused_with_the_reasons(self, actor):
        with pytest.raises(ValidationError) as invalid:
            create_user_with_membership(
                actor=actor("admin"),
                username="weak.password",
                agency=agency("wessex-police"),
                role=Role.ANALYST,
                password="12345678",
            )
        assert "password" in invalid.value.message_dict
        assert not User.objects.filter(username="weak.password").exists()


class TestTokens:
    def test_a_user_issues_a_token_for_their_own_role(self, actor):
        officer = actor("police.officer")
        token, plaintext = issue_token(actor=officer, name="  analysis notebook ")

        assert token.name == "analysis notebook"
        assert token.membership == officer.membership and token.user == officer.user
        assert plaintext.startswith("oiom_")
        [issued] = events("token.issued")
        assert issued.summary == "Issued API token 'analysis notebook' to police.officer"
        assert plaintext not in str(issued.after) and plaintext not in str(issued.details)

    def test_the_administrator_may_issue_one_for_someone_else(self, actor):
        membership = actor("analyst").membership
        token, _ = issue_token(actor=actor("admin"), name="dashboard", membership=membership)
        assert token.user.username == "analyst"
        assert events("token.issued")[0].actor_username == "admin"

    def test_no_one_else_may_issue_one_for_someone_else(self, actor):
        with pytest.raises(AccessDenied):
            issue_token(
                actor=actor("coordinator"), name="x", membership=actor("analyst").membership
            )
        assert not ApiToken.objects.exists()

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"name": "  "}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"name": "old", "expires_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}, "expires_at"),
        ],
    )
    def test_bad_input_is_refused_by_field(self, actor, kwargs, field):
        with pytest.raises(ValidationError) as invalid:
            issue_token(actor=actor("police.officer"), **kwargs)
        assert set(invalid.value.message_dict) == {field}

    def test_a_token_cannot_act_in_an_ended_role(self, actor, personas):
        ended = actor_with(personas["police.officer"], "wessex-police", Role.ANALYST)
        Membership.objects.filter(pk=ended.membership.pk).update(is_active=False)
        ended.membership.is_active = False
        with pytest.raises(ValidationError, match="role has ended"):
            issue_token(actor=ended, name="x")

    def test_revoking_is_audited_once_and_idempotent(self, actor):
        officer = actor("police.officer")
        token, _ = issue_token(actor=officer, name="laptop")

        revoke_token(actor=officer, token=token)
        first = token.revoked_at
        revoke_token(actor=officer, token=token)

        assert first is not None and first <= timezone.now()
        assert token.revoked_at == first
        assert len(events("token.revoked")) == 1

    def test_only_the_owner_or_an_administrator_may_revoke(self, actor):
        token, _ = issue_token(actor=actor("police.officer"), name="laptop")
        with pytest.raises(AccessDenied):
            revoke_token(actor=actor("probation.om"), token=token)
        revoke_token(actor=actor("admin"), token=token)
        token.refresh_from_db()
        assert token.revoked_at is not None
