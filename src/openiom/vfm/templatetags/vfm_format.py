"""Number formats for the value-for-money pages (and the evaluation report's VfM section)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _float(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def money(value: Any, digits: int = 0) -> str:
    """£1,234 (or −£1,234); – when empty."""
    number = _float(value)
    if number is None:
        return "–"
    text = f"{abs(number):,.{int(digits)}f}"
    negative = number < 0 and float(text.replace(",", "")) != 0
    return f"{'−' if negative else ''}£{text}"


@register.filter
def per_pound(value: Any) -> str:
    """£1.71 (benefit per £1 spent); – when there is no ratio."""
    return money(value, 2)


@register.filter
def percent(value: Any, digits: int = 1) -> str:
    """A proportion as a percentage: 0.123 → 12.3%."""
    number = _float(value)
    if number is None:
        return "–"
    text = f"{abs(100 * number):.{int(digits)}f}"
    negative = number < 0 and float(text) != 0
    return f"{'−' if negative else ''}{text}%"


@register.filter
def number(value: Any, digits: int = 2) -> str:
    """A number with thousands separators and a real minus sign; – when empty."""
    num = _float(value)
    if num is None:
        return "–"
    text = f"{abs(num):,.{int(digits)}f}"
    negative = num < 0 and float(text.replace(",", "")) != 0
    return f"{'−' if negative else ''}{text}"


@register.filter
def value(num: Any) -> str:
    """A policy value as entered (no trailing zeros)."""
    n = _float(num)
    if n is None:
        return "–"
    return f"{n + 0.0:,.6g}".replace("-", "−") if n != 0 else "0"


@register.filter
def per100(value: Any) -> str:
    """Per person → per 100 people, one decimal place."""
    n = _float(value)
    return number(100 * n, 1) if n is not None else "–"
