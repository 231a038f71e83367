"""manage.py issue_token USERNAME --name NAME [--days N] [--agency CODE]: print a new API token once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from openiom.accounts.actor import Actor, active_memberships
from openiom.accounts.services import issue_token


class Command(BaseCommand):
    help = (
        "Issue an API bearer token for a user, acting in one of their agency roles. "
        "The token is printed once; only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="Whose token it is.")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--days", type=int, default=None, help="Expire after this many days (default: never)."
        )
        parser.add_argument(
            "--agency",
            default=None,
            help="Agency code of the role to act in, if the user has several.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(username=options["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"No user called {options['username']!r}.") from None
        memberships = active_memberships(user)
        if options["agency"]:
            memberships = [m for m in memberships if m.agency.code == options["agency"]]
        if not memberships:
            where = f" at {options['agency']}" if options["agency"] else ""
            raise CommandError(f"{user.get_username()} has no active agency role{where}.")
        if len(memberships) > 1:
            codes = ", ".join(m.agency.code for m in memberships)
            raise CommandError(
                f"{user.get_username()} has several roles; choose --agency ({codes})."
            )
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        # The operator issues the token on the user's behalf; the audit trail names the user.
        actor = Actor(user=user, membership=memberships[0])
        try:
            token, plaintext = issue_token(
                actor=actor, name=options["name"], membership=memberships[0], expires_at=expires_at
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        expiry = (
            f"expires {token.expires_at:%Y-%m-%d %H:%M %Z}" if token.expires_at else "no expiry"
        )
        self.stdout.write(
            f"Token '{token.name}' for {user.get_username()} as {memberships[0]} ({expiry}).\n"
            "Copy it now; it will not be shown again:\n"
        )
        self.stdout.write(plaintext)
