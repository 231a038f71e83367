"""Checks on value-for-money policy before it is published: every problem, each with its place.

Messages start with the path of the value at fault ("config.discount_rate.value: ..."), so pages
can put each under its own input and the API can return it per field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from openiom.vfm.calculations import Assumptions

STATUSES = ("V", "V2", "U")

# (key, lowest, highest, whole number)
ASSUMPTION_LIMITS: dict[str, tuple[float, float, bool]] = {
    "discount_rate": (0.0, 0.2, False),
    "horizon_years": (1, 100, True),
    "proven_to_actual": (0.01, 100.0, False),
    "persistence": (0.0, 1.0, False),
    "reoffences_per_reoffender": (0.01, 100.0, False),
    "unit_cost_scale": (0.01, 10.0, False),
    "programme_cost_scale": (0.01, 10.0, False),
}
MONTHS_LIMITS = (0.0, 120.0, False)


class VfmConfigError(ValueError):
    """Policy that cannot be published; `errors` lists every problem with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(path, "must be an object with named values")
            return None
        return value

    def text(
        self, parent: Mapping[str, Any], name: str, path: str, *, required: bool = True
    ) -> str:
        value = parent.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(f"{path}.{name}", "must not be empty")
            return ""
        if not isinstance(value, str):
            self.add(f"{path}.{name}", "must be text")
            return ""
        return value

    def number(
        self,
        parent: Mapping[str, Any],
        name: str,
        path: str,
        *,
        low: float | None = None,
        high: float | None = None,
        integer: bool = False,
        required: bool = True,
    ) -> float | None:
        value = parent.get(name)
        where = f"{path}.{name}"
        if value is None:
            if required:
                self.add(where, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(where, "must be a number")
            return None
        number = float(value)
        if not math.isfinite(number):
            self.add(where, "must be a finite number")
            return None
        if integer and number != int(number):
            self.add(where, "must be a whole number")
            return None
        if low is not None and high is not None and not low <= number <= high:
            self.add(where, f"must be between {low:g} and {high:g}")
            return None
        if low is not None and number < low:
            self.add(where, f"must be {low:g} or more")
            return None
        return number

    def status(self, parent: Mapping[str, Any], path: str) -> None:
        if parent.get("status") not in STATUSES:
            self.add(f"{path}.status", "must be V, V2 or U")

    def assumption(
        self, parent: Mapping[str, Any], key: str, limits: tuple[float, float, bool], path: str
    ) -> None:
        item = self.mapping(parent.get(key), f"{path}.{key}")
        if item is None:
            return
        where = f"{path}.{key}"
        low_limit, high_limit, integer = limits
        value = self.number(item, "value", where, low=low_limit, high=high_limit, integer=integer)
        bounds = {}
        for name in ("low", "high"):
            bounds[name] = self.number(
                item, name, where, low=low_limit, high=high_limit, integer=integer, required=False
            )
        if ("low" in item) != ("high" in item):
            self.add(where, "give both a low and a high value for sensitivity, or neither")
        lo, hi = bounds["low"], bounds["high"]
        if value is not None and lo is not None and lo > value:
            self.add(f"{where}.low", "must not be above the central value")
        if value is not None and hi is not None and hi < value:
            self.add(f"{where}.high", "must not be below the central value")
        self.status(item, where)
        self.text(item, "source", where)


def validate_assumptions(config: Any) -> None:
    """Raise VfmConfigError listing every problem in an AppraisalAssumptions config."""
    c = _Checker()
    root = c.mapping(config, "config")
    if root is None:
        raise VfmConfigError(c.errors)
    c.text(root, "currency", "config")
    year = c.text(root, "appraisal_year", "config")
    ref = c.mapping(root.get("unit_cost_table"), "config.unit_cost_table")
    if ref is not None:
        c.text(ref, "key", "config.unit_cost_table")
        c.number(ref, "version", "config.unit_cost_table", low=1, integer=True)
    deflator = c.mapping(root.get("deflator"), "config.deflator")
    index: Mapping[str, Any] | None = None
    if deflator is not None:
        c.text(deflator, "series", "config.deflator")
        c.text(deflator, "base", "config.deflator", required=False)
        c.status(deflator, "config.deflator")
        c.text(deflator, "source", "config.deflator")
        index = c.mapping(deflator.get("index"), "config.deflator.index")
        if index is not None:
            if not index:
                c.add("config.deflator.index", "give at least one year's index value")
            for label in index:
                c.number(index, label, "config.deflator.index", low=0.001)
    for key, limits in ASSUMPTION_LIMITS.items():
        c.assumption(root, key, limits, "config")
    mix = c.mapping(root.get("offence_mix"), "config.offence_mix")
    if mix is not None:
        c.status(mix, "config.offence_mix")
        c.text(mix, "source", "config.offence_mix")
        shares = c.mapping(mix.get("shares"), "config.offence_mix.shares")
        if shares is not None:
            values = [c.number(shares, k, "config.offence_mix.shares", low=0) for k in shares]
            if not any(v for v in values if v):
                c.add("config.offence_mix.shares", "give at least one category a share above 0")
    if year and index and not c.errors:
        from openiom.vfm.calculations import AppraisalError, Deflator

        try:
            Deflator(index={str(k): float(v) for k, v in index.items()}).lookup(year)
        except AppraisalError as exc:
            c.add("config.appraisal_year", exc.reason)
    if c.errors:
        raise VfmConfigError(c.errors)


def validate_programme(config: Any, *, assumptions: Assumptions | None = None) -> None:
    """Raise VfmConfigError listing every problem in a ProgrammeCost config. With `assumptions`,
    the price year must be one the deflator can uprate."""
    c = _Checker()
    root = c.mapping(config, "config")
    if root is None:
        raise VfmConfigError(c.errors)
    c.text(root, "currency", "config")
    year = c.text(root, "price_year", "config")
    c.assumption(root, "months_per_person", MONTHS_LIMITS, "config")
    sections: dict[str, list[tuple[str, str, float, float | None]]] = {
        "staff": [
            ("hours_per_person_month", "number", 0.0, 744.0),
            ("hourly_cost", "number", 0.0, None),
        ],
        "interventions": [
            ("cost_per_participant", "number", 0.0, None),
            ("share_receiving", "number", 0.0, 1.0),
        ],
        "set_up": [("cost", "number", 0.0, None)],
    }
    names = {"staff": "agency", "interventions": "name", "set_up": "name"}
    for section, fields in sections.items():
        rows = root.get(section, [])
        if not isinstance(rows, list):
            c.add(f"config.{section}", "must be a list")
            continue
        for i, row in enumerate(rows):
            path = f"config.{section}[{i}]"
            item = c.mapping(row, path)
            if item is None:
                continue
            c.text(item, names[section], path)
            if section == "staff":
                c.text(item, "role", path, required=False)
            for name, _kind, low, high in fields:
                c.number(item, name, path, low=low, high=high)
            c.status(item, path)
            c.text(item, "source", path)
    if not any(isinstance(root.get(s), list) and root.get(s) for s in sections):
        c.add("config.staff", "give at least one staff, intervention or set-up cost")
    if year and assumptions is not None:
        from openiom.vfm.calculations import AppraisalError

        try:
            assumptions.deflator.lookup(year)
        except AppraisalError as exc:
            c.add("config.price_year", exc.reason)
    if c.errors:
        raise VfmConfigError(c.errors)
