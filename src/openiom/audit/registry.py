"""Registered audit event types: the log accepts only these, each with its own formatter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Formatter = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class EventType:
    code: str
    category: str
    description: str
    formatter: Formatter

    def format(self, context: Mapping[str, Any]) -> str:
        try:
            return self.formatter(context)[:500]
        except (KeyError, TypeError, ValueError):
            return self.description


_REGISTRY: dict[str, EventType] = {}


class UnknownEventType(LookupError):
    pass


def register(
    code: str, category: str, description: str, formatter: Formatter | None = None
) -> EventType:
    if code in _REGISTRY:
        raise ValueError(f"Audit event type {code!r} is already registered")
    event_type = EventType(code, category, description, formatter or (lambda _c: description))
    _REGISTRY[code] = event_type
    return event_type


def get(code: str) -> EventType:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise UnknownEventType(f"Audit event type {code!r} is not registered") from None


def all_types() -> list[EventType]:
    return sorted(_REGISTRY.values(), key=lambda e: e.code)
