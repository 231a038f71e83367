"""Writing audit events. Call record() inside the same transaction as the write it describes."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from openiom.audit import chain, registry
from openiom.audit.models import AuditEvent
from openiom.core import request_context

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """Field values of a model instance, for before/after columns."""
    names = fields or [f.attname for f in instance._meta.concrete_fields]
    return {name: _jsonable(getattr(instance, name)) for name in names}


def record(
    event_type: str,
    *,
    actor: Actor | None,
    obj: models.Model | None = None,
    person_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    """Append one audit event. `context` feeds the event type's summary formatter.

    The event joins the hash chain (openiom.audit.chain) under the chain lock, which is held
    until the caller's transaction ends, so concurrent writers still form one sequence.
    """
    kind = registry.get(event_type)
    ctx = request_context.current()
    user = actor.user if actor is not None else None
    membership = actor.membership if actor is not None else None
    event = AuditEvent(
        event_type=kind.code,
        category=kind.category,
        actor=user if user is not None and user.pk else None,
        actor_username=(user.get_username() if user is not None else username)[:150],
        actor_agency=membership.agency if membership is not None else None,
        actor_role=membership.role if membership is not None else "",
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        person_id=person_id,
        summary=kind.format(context or {}),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        details=_jsonable(dict(details or {})),
        request_id=ctx.request_id,
        ip_address=ctx.ip_address,
    )
    # No savepoint of its own: the event stands or falls with the caller's transaction.
    with transaction.atomic(savepoint=False):
        link = chain.next_link()
        event.id = link.id
        event.sequence = link.sequence
        event.prev_hash = link.prev_hash
        event.occurred_at = timezone.now()
        event.chain_hash = chain.link_hash(
            link.prev_hash, {name: getattr(event, name) for name in chain.HASHED_FIELDS}
        )
        event.save()
    return event
