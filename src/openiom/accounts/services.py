"""Writes to accounts: user accounts with their agency roles, and API tokens.

Each checks the policy before its transaction (so a refusal is audited), writes, and records
the audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from openiom.access.policy import Action
from openiom.access.services import require
from openiom.accounts.auth import TOKEN_SCHEME, hash_token
from openiom.accounts.models import ApiToken, Membership, Role
from openiom.audit.services import record

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.partnership.models import Agency, Hub


def _new_plaintext() -> tuple[str, str]:
    prefix = secrets.token_hex(4)  # 8 characters; ApiToken.prefix holds 12
    return prefix, f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def issue_token(
    *,
    actor: Actor,
    name: str,
    membership: Membership | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue an API token acting in `membership` (default: the actor's own role).

    Returns the token row and the plaintext, which is shown once and never stored. Users issue
    tokens for their own roles; administrators may issue them for anyone's.
    """
    name = (name or "").strip()
    membership = membership or actor.membership
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name that says what it is for."]
    elif len(name) > 100:
        errors["name"] = ["The name must be at most 100 characters."]
    if membership is None:
        errors["membership"] = ["The token needs an active agency role to act in."]
    elif not membership.is_active or not membership.agency.is_active:
        errors["membership"] = ["That agency role has ended; a token cannot act in it."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise ValidationError(errors)
    assert membership is not None
    if membership.user_id != actor.user.pk:
        require(actor, Action.MANAGE_USERS)

    prefix, plaintext = _new_plaintext()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user_id=membership.user_id,
            membership=membership,
            name=name,
            prefix=prefix,
            key_hash=hash_token(plaintext),
            expires_at=expires_at,
        )
        username = membership.user.get_username()
        record(
            "token.issued",
            actor=actor,
            obj=token,
            after={
                "name": name,
                "prefix": prefix,
                "user": username,
                "membership_id": membership.pk,
                "expires_at": expires_at,
            },
            context={"name": name, "username": username},
        )
    return token, plaintext


def revoke_token(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token (its owner, or an administrator). Revoking twice changes nothing."""
    if token.user_id != actor.user.pk:
        require(actor, Action.MANAGE_USERS)
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            "token.revoked",
            actor=actor,
            obj=token,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
            context={"name": token.name},
        )
    return token


def create_user_with_membership(
    *,
    actor: Actor,
    username: str,
    agency: Agency,
    role: str,
    hub: Hub | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    password: str | None = None,
    job_title: str = "",
) -> tuple[Any, Membership]:
    """Create a user account with one agency role (administrators only).

    Without a password the account cannot sign in with one (single sign-on, or a reset later).
    Raises ValidationError with a message per field for bad input; nothing is half-written.
    """
    require(actor, Action.MANAGE_USERS)
    user_model = get_user_model()
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["Enter a username."]
    elif user_model.objects.filter(username__iexact=username).exists():
        errors["username"] = [f"The username {username!r} is already taken."]
    if role not in Role.values:
        errors["role"] = [f"{role!r} is not a role; choose one of {', '.join(Role.values)}."]
    if not agency.is_active:
        errors["agency"] = [f"{agency} has left the partnership."]
    if hub is not None and hub.partnership_id != agency.partnership_id:
        errors["hub"] = [f"{hub} is not a hub of {agency}'s partnership."]
    user = user_model(username=username, first_name=first_name, last_name=last_name, email=email)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        for field_name, messages in exc.message_dict.items():
            errors.setdefault(field_name, list(messages))
    if password is not None and "username" not in errors:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        record(
            "account.created",
            actor=actor,
            obj=user,
            after={"username": username, "first_name": first_name, "last_name": last_name},
            context={"username": username},
        )
        membership = Membership.objects.create(
            user=user, agency=agency, role=role, hub=hub, job_title=job_title
        )
        record(
            "membership.granted",
            actor=actor,
            obj=membership,
            after={
                "user": username,
                "agency": agency.code,
                "role": role,
                "hub": hub.code if hub is not None else None,
            },
            context={"role": Role(role).label, "agency": agency.name, "username": username},
        )
    return user, membership


# --- Two-factor authentication (TOTP) ---------------------------------------------------------


def pending_totp_device(*, user: Any) -> Any:
    """The user's unconfirmed authenticator-app device, created on first use of the set-up page.

    Not audited: an unconfirmed device protects nothing until confirm_totp_device succeeds.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def confirm_totp_device(*, user: Any, device: Any, code: str) -> bool:
    """Confirm the device if the code is right (a user acting on their own account), audited."""
    from openiom.accounts.actor import actor_for_user

    if device.user_id != user.pk or not device.verify_token(code):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(
            "otp.enrolled",
            actor=actor_for_user(user),
            obj=user,
            context={"username": user.get_username()},
        )
    return True
