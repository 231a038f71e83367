"""Neutralising spreadsheet formulas in CSV we export (CSV/formula injection, OWASP).

A cell that starts with =, +, -, @, tab or carriage return may be run as a formula when the CSV
is opened in a spreadsheet. Imports store text as given; every CSV the project exports passes
its cells through safe_cell() so such text is shown, not executed.
"""

from __future__ import annotations

from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The value as CSV cell text, prefixed with an apostrophe if a spreadsheet would run it."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a number such as -5 is data, not a formula
    text = str(value)
    if text.startswith(_TRIGGERS):
        return "'" + text
    return text


def safe_row(values: list[Any] | tuple[Any, ...]) -> list[str]:
    return [safe_cell(v) for v in values]
