"""Number formats for the scrutiny pages, matching the module's sentences."""

from __future__ import annotations

from typing import Any

from django import template

from openiom.scrutiny.stats import fmt_pct, fmt_ratio

register = template.Library()


@register.filter
def pct(value: Any) -> str:
    """0.253 -> 25.3%; None -> a dash."""
    return "–" if value is None else fmt_pct(float(value))


@register.filter
def ratio(value: Any) -> str:
    """An RRI or its bound, as in the sentences (2.0, 0.45)."""
    return "–" if value is None else fmt_ratio(float(value))
