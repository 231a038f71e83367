"""Sign-in, sign-out and failed sign-in go into the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from openiom.audit.services import record


def _actor_for(user: Any) -> Any:
    from openiom.accounts.actor import actor_for_user

    return actor_for_user(user) if user is not None else None


@receiver(user_logged_in)
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(
        "auth.signed_in",
        actor=_actor_for(user),
        obj=user,
        context={"username": user.get_username()},
    )


@receiver(user_logged_out)
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    record(
        "auth.signed_out",
        actor=_actor_for(user),
        obj=user,
        context={"username": user.get_username()},
    )


@receiver(user_login_failed)
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    record(
        "auth.sign_in_failed",
        actor=None,
        username=username,
        context={"username": username},
        details={"username": username},
    )


def _connect_lockout() -> None:
    from axes.signals import user_locked_out

    def _locked_out(
        sender: Any, request: Any = None, username: str | None = None, **kwargs: Any
    ) -> None:
        name = str(username or "")[:150]
        record(
            "auth.locked_out",
            actor=None,
            username=name,
            context={"username": name},
            details={"username": name, "ip_address": kwargs.get("ip_address")},
        )

    user_locked_out.connect(_locked_out, dispatch_uid="openiom_audit_locked_out", weak=False)


_connect_lockout()
