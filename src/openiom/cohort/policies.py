"""Validated views of the policy configs (CohortDefinition, RagPolicy, DeregistrationPolicy).

A config is JSON edited by coordinators, so every value is checked with an error naming the
field and why. Missing keys take the shipped defaults below, so an older version stays readable
when a new option is added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

# Names of the RAG rules (see openiom.cohort.rag for what each one checks).
RED_RULES = ("new_offence", "arrest", "intelligence", "missed_appointments")
GREEN_CONDITIONS = (
    "full_attendance",
    "no_current_intelligence",
    "negative_drug_tests",
    "stable_accommodation",
    "employment",
)


class PolicyConfigError(ValueError):
    """A policy config value is missing or wrong; the message names the field."""


def _mapping(config: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(config, Mapping):
        raise PolicyConfigError(f"{path or 'config'}: must be an object of named settings")
    return config


def _reject_unknown(config: Mapping[str, Any], known: set[str], path: str) -> None:
    unknown = sorted(set(config) - known)
    if unknown:
        where = f"{path}: " if path else ""
        raise PolicyConfigError(
            f"{where}unknown setting(s) {', '.join(unknown)}; expected some of "
            f"{', '.join(sorted(known))}"
        )


def _int(
    config: Mapping[str, Any],
    name: str,
    default: int | None,
    *,
    path: str,
    minimum: int = 0,
    optional: bool = False,
) -> int | None:
    value = config.get(name, default)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        allowed = " or null" if optional else ""
        raise PolicyConfigError(
            f"{path}{name}: must be a whole number of at least {minimum}{allowed}, got {value!r}"
        )
    return value


def _number(
    config: Mapping[str, Any], name: str, default: float | None, *, path: str
) -> float | None:
    value = config.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyConfigError(f"{path}{name}: must be a number or null, got {value!r}")
    return float(value)


def _bool(config: Mapping[str, Any], name: str, default: bool, *, path: str) -> bool:
    value = config.get(name, default)
    if not isinstance(value, bool):
        raise PolicyConfigError(f"{path}{name}: must be true or false, got {value!r}")
    return value


def _text(config: Mapping[str, Any], name: str, default: str, *, path: str) -> str:
    value = config.get(name, default)
    if not isinstance(value, str):
        raise PolicyConfigError(f"{path}{name}: must be text, got {value!r}")
    return value


def _names(
    config: Mapping[str, Any],
    name: str,
    default: tuple[str, ...],
    *,
    path: str,
    allowed: tuple[str, ...] | None = None,
) -> tuple[str, ...]:
    value = config.get(name, list(default))
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise PolicyConfigError(f"{path}{name}: must be a list of names, got {value!r}")
    if allowed is not None:
        bad = [v for v in value if v not in allowed]
        if bad:
            raise PolicyConfigError(
                f"{path}{name}: unknown name(s) {', '.join(bad)}; choose from {', '.join(allowed)}"
            )
    return tuple(value)


# --- Cohort definitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Entry criteria; an empty/null criterion is not applied."""

    offence_categories: tuple[str, ...] = ()
    neighbourhood_crime: bool = False
    offence_lookback_days: int | None = None
    minimum_score: float | None = None
    min_age: int | None = None
    max_age: int | None = None
    hub_codes: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Any, path: str = "eligibility.") -> Eligibility:
        c = _mapping(config, path.rstrip("."))
        _reject_unknown(c, set(cls.__dataclass_fields__), path.rstrip("."))
        min_age = _int(c, "min_age", None, path=path, optional=True)
        max_age = _int(c, "max_age", None, path=path, optional=True)
        if min_age is not None and max_age is not None and min_age > max_age:
            raise PolicyConfigError(
                f"{path}min_age: {min_age} is above max_age {max_age}; no one could be eligible"
            )
        return cls(
            offence_categories=_names(c, "offence_categories", (), path=path),
            neighbourhood_crime=_bool(c, "neighbourhood_crime", False, path=path),
            offence_lookback_days=_int(
                c, "offence_lookback_days", None, path=path, minimum=1, optional=True
            ),
            minimum_score=_number(c, "minimum_score", None, path=path),
            min_age=min_age,
            max_age=max_age,
            hub_codes=_names(c, "hub_codes", (), path=path),
        )


@dataclass(frozen=True)
class CohortRules:
    description: str
    eligibility: Eligibility
    capacity: int | None
    review_period_days: int
    planned_registration_months: int

    FIELDS = frozenset(
        {
            "description",
            "eligibility",
            "capacity",
            "review_period_days",
            "planned_registration_months",
        }
    )

    @classmethod
    def from_config(cls, config: Any) -> CohortRules:
        c = _mapping(config, "")
        _reject_unknown(c, set(cls.FIELDS), "")
        return cls(
            description=_text(c, "description", "", path=""),
            eligibility=Eligibility.from_config(c.get("eligibility", {})),
            capacity=_int(c, "capacity", None, path="", minimum=1, optional=True),
            review_period_days=_int(c, "review_period_days", 28, path="", minimum=1) or 28,
            planned_registration_months=_int(
                c, "planned_registration_months", 12, path="", minimum=1
            )
            or 12,
        )


# --- RAG -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RagRules:
    """Seed 001 by default: red on new offending/intelligence or missed appointments; green on
    full attendance and no current intelligence plus negative drug tests and/or stable
    accommodation and/or employment; amber otherwise."""

    window_days: int = 28
    current_intelligence_days: int = 90
    red_rules: tuple[str, ...] = RED_RULES
    missed_appointments_for_red: int = 1
    green_all_of: tuple[str, ...] = ("full_attendance", "no_current_intelligence")
    green_any_of: tuple[str, ...] = ("negative_drug_tests", "stable_accommodation", "employment")

    @classmethod
    def from_config(cls, config: Any) -> RagRules:
        c = _mapping(config, "")
        _reject_unknown(c, set(cls.__dataclass_fields__), "")
        d = cls()
        rules = cls(
            window_days=_int(c, "window_days", d.window_days, path="", minimum=1) or 1,
            current_intelligence_days=_int(
                c, "current_intelligence_days", d.current_intelligence_days, path="", minimum=1
            )
            or 1,
            red_rules=_names(c, "red_rules", d.red_rules, path="", allowed=RED_RULES),
            missed_appointments_for_red=_int(
                c, "missed_appointments_for_red", d.missed_appointments_for_red, path="", minimum=1
            )
            or 1,
            green_all_of=_names(
                c, "green_all_of", d.green_all_of, path="", allowed=GREEN_CONDITIONS
            ),
            green_any_of=_names(
                c, "green_any_of", d.green_any_of, path="", allowed=GREEN_CONDITIONS
            ),
        )
        if not rules.green_all_of and not rules.green_any_of:
            raise PolicyConfigError(
                "green_all_of/green_any_of: name at least one condition, or green could never "
                "be evidenced"
            )
        return rules

    def as_config(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


# --- De-registration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExitRules:
    """Seed 001 by default: green for three months with an exit plan; 5+ years custody, with the
    case brought back to the referral and review meeting 12 months before release."""

    green_months: int = 3
    green_days: int | None = None  # when set, a number of days replaces green_months
    exit_plan_required: bool = True
    long_sentence_days: int = 1825  # 5 years of 365 days: catches "5 years" however it is coded
    reconsider_months_before_release: int = 12

    @classmethod
    def from_config(cls, config: Any) -> ExitRules:
        c = _mapping(config, "")
        _reject_unknown(c, set(cls.__dataclass_fields__), "")
        d = cls()
        return cls(
            green_months=_int(c, "green_months", d.green_months, path="", minimum=1) or 1,
            green_days=_int(c, "green_days", None, path="", minimum=1, optional=True),
            exit_plan_required=_bool(c, "exit_plan_required", d.exit_plan_required, path=""),
            long_sentence_days=_int(
                c, "long_sentence_days", d.long_sentence_days, path="", minimum=1
            )
            or 1,
            reconsider_months_before_release=_int(
                c,
                "reconsider_months_before_release",
                d.reconsider_months_before_release,
                path="",
            )
            or 0,
        )

    def green_period_text(self) -> str:
        if self.green_days is not None:
            return f"{self.green_days} days"
        return f"{self.green_months} month{'s' if self.green_months != 1 else ''}"


def validate_config(kind: str, config: Any) -> Any:
    """Parse a config of the given policy kind (cohort, rag, deregistration)."""
    parsers = {
        "cohort": CohortRules.from_config,
        "rag": RagRules.from_config,
        "deregistration": ExitRules.from_config,
    }
    if kind not in parsers:
        raise PolicyConfigError(f"Unknown policy kind {kind!r}; expected one of {sorted(parsers)}")
    return parsers[kind](config)
