"""Checking a person against a cohort's entry criteria ("clear, gate-kept entry criteria", seed 002).

Each criterion is met, not met or unknown (e.g. no score supplied); the panel sees all of them and
must give a reason to adopt someone who does not meet one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openiom.cohort.models import CohortDefinition
    from openiom.people.models import Person


class Met(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CriterionResult:
    criterion: str
    met: Met
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"criterion": self.criterion, "met": str(self.met), "reason": self.reason}


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    return (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )


def check_eligibility(
    person: Person,
    cohort: CohortDefinition,
    *,
    on: dt.date,
    score: float | None = None,
    score_source: str = "",
) -> list[CriterionResult]:
    """Each criterion the cohort applies; criteria left empty in the definition are skipped.

    `score_source` says where the score came from (e.g. the scoring run), for the panel."""
    from openiom.offending.models import Offence

    rules = cohort.rules.eligibility
    results: list[CriterionResult] = []
    age = age_on(person.date_of_birth, on)
    if rules.min_age is not None:
        ok = age >= rules.min_age
        results.append(
            CriterionResult(
                "min_age",
                Met.MET if ok else Met.NOT_MET,
                f"Aged {age}; the cohort takes people aged {rules.min_age} or over",
            )
        )
    if rules.max_age is not None:
        ok = age <= rules.max_age
        results.append(
            CriterionResult(
                "max_age",
                Met.MET if ok else Met.NOT_MET,
                f"Aged {age}; the cohort takes people aged {rules.max_age} or under",
            )
        )
    if rules.hub_codes:
        code = person.hub.code
        results.append(
            CriterionResult(
                "hub",
                Met.MET if code in rules.hub_codes else Met.NOT_MET,
                f"Hub {person.hub.name}; the cohort covers {', '.join(rules.hub_codes)}",
            )
        )
    if rules.offence_categories or rules.neighbourhood_crime:
        offences = Offence.objects.filter(person=person, offence_date__lte=on)
        window = ""
        if rules.offence_lookback_days:
            offences = offences.filter(
                offence_date__gt=on - dt.timedelta(days=rules.offence_lookback_days)
            )
            window = f" in the last {rules.offence_lookback_days} days"
        if rules.neighbourhood_crime:
            n = offences.filter(offence_code__is_neighbourhood_crime=True).count()
            results.append(
                CriterionResult(
                    "neighbourhood_crime",
                    Met.MET if n else Met.NOT_MET,
                    f"{n} neighbourhood crime offence(s){window} (burglary, robbery, theft from "
                    "the person, vehicle crime)",
                )
            )
        if rules.offence_categories:
            n = offences.filter(offence_code__category__in=rules.offence_categories).count()
            results.append(
                CriterionResult(
                    "offence_categories",
                    Met.MET if n else Met.NOT_MET,
                    f"{n} offence(s){window} in {', '.join(rules.offence_categories)}",
                )
            )
    if rules.minimum_score is not None:
        if score is None:
            results.append(
                CriterionResult(
                    "minimum_score",
                    Met.UNKNOWN,
                    f"No score for this person (not among the latest scoring run's stored "
                    f"candidates); the cohort needs at least {rules.minimum_score:g}",
                )
            )
        else:
            results.append(
                CriterionResult(
                    "minimum_score",
                    Met.MET if score >= rules.minimum_score else Met.NOT_MET,
                    f"Score {score:g}"
                    + (f" ({score_source})" if score_source else "")
                    + f"; the cohort needs at least {rules.minimum_score:g}",
                )
            )
    return results
