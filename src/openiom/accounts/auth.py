"""API authentication: a bearer token or the signed-in session, each resolved to an Actor.

Tokens look like ``oiom_<prefix>_<secret>``. Only the prefix (to find the row) and a SHA-256 of
the whole token are stored, so a leaked database does not leak working tokens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from openiom.accounts.actor import Actor, actor_for_request
from openiom.accounts.models import ApiToken

TOKEN_SCHEME = "oiom"  # noqa: S105  (a prefix marking openiom tokens, not a secret)
# Refresh last_used_at at most this often, so busy clients do not write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def split_token(plaintext: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed token, else None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def token_is_usable(token: ApiToken, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    membership = token.membership
    return (
        token.revoked_at is None
        and (token.expires_at is None or token.expires_at > now)
        and token.user.is_active
        and membership.is_active
        and membership.agency.is_active
        and membership.user_id == token.user_id
    )


def authenticate_token(plaintext: str) -> ApiToken | None:
    """The live token matching `plaintext`, or None (unknown, revoked, expired, role ended)."""
    parsed = split_token(plaintext.strip())
    if parsed is None:
        return None
    prefix, _secret = parsed
    digest = hash_token(plaintext.strip())
    candidates = ApiToken.objects.filter(prefix=prefix).select_related(
        "user",
        "membership",
        "membership__agency",
        "membership__agency__agency_type",
        "membership__hub",
    )
    now = timezone.now()
    for token in candidates:
        if hmac.compare_digest(token.key_hash, digest) and token_is_usable(token, now):
            if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
                token.last_used_at = now
            return token
    return None


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer oiom_...``; acts in the token's agency role."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header, "")
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        # A client that sent a token meant to use it: a bad one is a 401, not a fallback to the
        # session (which would hide a revoked token behind a browser cookie).
        actor = self.authenticate(request, value)
        if actor is None:
            raise AuthenticationError(message="The API token is invalid, expired or revoked.")
        return actor

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        api_token = authenticate_token(token)
        if api_token is None:
            return None
        request.api_token = api_token  # type: ignore[attr-defined]
        return Actor(user=api_token.user, membership=api_token.membership)


class SessionActorAuth(APIKeyCookie):
    """The signed-in web session (CSRF-checked on unsafe methods); acts in the chosen role."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # no session: a 401, not a CSRF failure
        return super().__call__(request)  # checks CSRF on unsafe methods, then authenticate()

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if getattr(settings, "OTP_REQUIRED", False) and not _is_verified(user):
            return None
        return actor_for_request(request)


def _is_verified(user: Any) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


bearer_auth = BearerTokenAuth()
session_auth = SessionActorAuth()
# Bearer first: a token request never needs (or is refused for lack of) a CSRF token.
API_AUTH = [bearer_auth, session_auth]
