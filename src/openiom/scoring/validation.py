"""Checking rule-set configs before they are published: every problem, each with its path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATUSES = {"V", "V2", "U"}
FLAGS = {"already_registered", "long_custody", "deceased", "out_of_area"}
STRANDS = {"fixed", "flex", "free"}


class PolicyConfigError(ValueError):
    """A config that cannot be published; `errors` lists 'path: why' for each problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("Invalid configuration: " + "; ".join(errors))
        self.errors = errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.errors.append(f"{path}: must be an object")
            return {}
        return value

    def number(
        self,
        parent: Mapping[str, Any],
        name: str,
        path: str,
        *,
        minimum: float = 0.0,
        integer: bool = False,
        positive: bool = False,
    ) -> float:
        where = f"{path}.{name}"
        if name not in parent:
            self.errors.append(f"{where}: is missing")
            return 0.0
        value = parent[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors.append(f"{where}: must be a number, not {value!r}")
            return 0.0
        if integer and not float(value).is_integer():
            self.errors.append(f"{where}: must be a whole number, not {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            self.errors.append(f"{where}: must be a finite number")
        elif positive and value <= 0:
            self.errors.append(f"{where}: must be greater than 0, not {value!r}")
        elif value < minimum:
            self.errors.append(f"{where}: must be at least {minimum:g}, not {value!r}")
        return float(value)

    def rows(self, table: Any, path: str, value_field: str) -> None:
        for name, row in self.mapping(table, path).items():
            row_path = f"{path}[{name!r}]"
            row = self.mapping(row, row_path)
            if not row:
                continue
            self.number(row, value_field, row_path)
            self.provenance(row, row_path)

    def provenance(self, row: Mapping[str, Any], path: str) -> None:
        if row.get("status") not in STATUSES:
            self.errors.append(f"{path}.status: must be one of V, V2, U")
        if not isinstance(row.get("source"), str) or not row.get("source", "").strip():
            self.errors.append(f"{path}.source: must say where the value comes from")


def _value_table(config: Any, value_field: str) -> list[str]:
    c = _Checker()
    root = c.mapping(config, "config")
    if root:
        default = c.mapping(root.get("default"), "config.default")
        if default:
            c.number(default, value_field, "config.default")
            c.provenance(default, "config.default")
        c.rows(root.get("categories", {}), "config.categories", value_field)
        groups = root.get("groups", {})
        c.rows(groups, "config.groups", value_field)
        for code in c.mapping(groups, "config.groups"):
            if not (len(code) == 3 and code.isdigit()):
                c.errors.append(
                    f"config.groups[{code!r}]: must be a 3-digit Home Office group code"
                )
    return c.errors


def validate_harm_table(config: Any) -> None:
    errors = _value_table(config, "days")
    if errors:
        raise PolicyConfigError(errors)


def validate_cost_table(config: Any) -> None:
    errors = _value_table(config, "cost")
    if isinstance(config, Mapping) and not str(config.get("price_year", "")).strip():
        errors.append("config.price_year: must state the price year of the costs (e.g. 2015/16)")
    if errors:
        raise PolicyConfigError(errors)


def validate_scoring_policy(config: Any) -> None:
    c = _Checker()
    root = c.mapping(config, "config")
    if not root:
        raise PolicyConfigError(c.errors)
    if root.get("strand") not in STRANDS:
        c.errors.append("config.strand: must be fixed, flex or free")
    for table in ("harm_table", "cost_table"):
        ref = c.mapping(root.get(table), f"config.{table}")
        if ref:
            if not isinstance(ref.get("key"), str) or not ref.get("key"):
                c.errors.append(f"config.{table}.key: must name the table")
            c.number(ref, "version", f"config.{table}", minimum=1, integer=True)

    comps = c.mapping(root.get("components"), "config.components")
    p = "config.components"
    if comps:
        rec = c.mapping(comps.get("recency"), f"{p}.recency")
        if rec:
            c.number(rec, "weight", f"{p}.recency")
            c.number(rec, "half_life_days", f"{p}.recency", positive=True)
        freq = c.mapping(comps.get("frequency"), f"{p}.frequency")
        windows = freq.get("windows") if freq else None
        if freq and not isinstance(windows, list):
            c.errors.append(f"{p}.frequency.windows: must be a list of windows")
        months_seen: set[float] = set()
        for i, w in enumerate(windows or []):
            wp = f"{p}.frequency.windows[{i}]"
            w = c.mapping(w, wp)
            if not w:
                continue
            months = c.number(w, "months", wp, integer=True, positive=True)
            if months in months_seen:
                c.errors.append(f"{wp}.months: window of {months:g} months is repeated")
            months_seen.add(months)
            c.number(w, "offence_points", wp)
            c.number(w, "arrest_points", wp)
            c.number(w, "cap", wp)
        for name, fields in {
            "harm": ("window_months", "points_per_day", "cap"),
            "neighbourhood": ("weight", "window_months"),
            "local_priority": ("window_months", "points_per_offence", "cap"),
            "intelligence": ("window_months", "points_per_item", "cap"),
            "cost": ("window_months", "points_per_thousand", "cap"),
            "risk": ("weight",),
        }.items():
            comp = c.mapping(comps.get(name), f"{p}.{name}")
            if not comp:
                continue
            for f in fields:
                c.number(
                    comp,
                    f,
                    f"{p}.{name}",
                    integer=f == "window_months",
                    positive=f == "window_months",
                )
        lp = comps.get("local_priority")
        if isinstance(lp, Mapping) and not (
            isinstance(lp.get("categories"), list)
            and all(isinstance(x, str) for x in lp["categories"])
        ):
            c.errors.append(f"{p}.local_priority.categories: must be a list of offence categories")
        intel = comps.get("intelligence")
        if isinstance(intel, Mapping):
            for table, keys in (("source_weights", "123"), ("intelligence_weights", "ABCDE")):
                weights = c.mapping(intel.get(table), f"{p}.intelligence.{table}")
                for k in keys:
                    if weights:
                        c.number(weights, k, f"{p}.intelligence.{table}")

    flags = c.mapping(root.get("flags"), "config.flags")
    if flags:
        c.number(flags, "long_custody_days", "config.flags", integer=True)
        hubs = flags.get("area_hubs", [])
        if not isinstance(hubs, list) or not all(isinstance(h, str) for h in hubs):
            c.errors.append("config.flags.area_hubs: must be a list of hub codes (empty = all)")
    elig = c.mapping(root.get("eligibility"), "config.eligibility")
    if elig:
        c.number(elig, "min_age", "config.eligibility", integer=True)
        c.number(elig, "min_offences", "config.eligibility", integer=True)
        c.number(elig, "offence_window_months", "config.eligibility", integer=True, positive=True)
        c.number(elig, "min_score", "config.eligibility")
        if not isinstance(elig.get("require_neighbourhood_crime"), bool):
            c.errors.append("config.eligibility.require_neighbourhood_crime: must be true or false")
        excl = elig.get("exclude_flags", [])
        if not isinstance(excl, list) or any(f not in FLAGS for f in excl):
            c.errors.append(
                f"config.eligibility.exclude_flags: must list flags from {sorted(FLAGS)}"
            )
    store = c.mapping(root.get("store"), "config.store")
    if store:
        c.number(store, "max_candidates", "config.store", integer=True, positive=True)
        c.number(store, "min_total", "config.store")
    if c.errors:
        raise PolicyConfigError(c.errors)
