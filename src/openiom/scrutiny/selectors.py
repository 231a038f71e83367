"""The selected and eligible populations for disproportionality checks, read from the database.

Two comparisons:

- **A scoring run**: the selected group is the top N *eligible* candidates (by rank) and the
  eligible population is every candidate the run stored as eligible under its policy. A run
  stores at most `store.max_candidates` people; if that cut off eligible people, the page says so.
- **The registered cohort**: the selected group is everyone on an IOM cohort on the date
  (`cohort.selectors.registered_person_ids`). Scoring runs exclude people already registered from
  their eligible list, so a run cannot be the population here. Instead the eligible population
  is everyone alive on the date who meets the age and hub rules of at least one cohort
  definition in force (18 or over in any hub if none is in force), plus the registered people
  themselves (so that the registered are always part of the population; how many fall outside
  the rules is reported).

The maths is `openiom.scrutiny.disproportionality`; reading is audited as a consultation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
from django.db.models import Q

from openiom.audit.services import record
from openiom.people.models import CurrentStatus, Person
from openiom.scoring.models import CandidateScore, ScoringRun
from openiom.scoring.permissions import ScoringAction, require_scoring
from openiom.scrutiny.disproportionality import (
    DisproportionalityConfig,
    DisproportionalityReport,
    disproportionality,
)

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

PERSON_COLUMNS = [
    "person_id",
    "sex",
    "ethnicity_officer_defined",
    "ethnicity_self_defined",
    "date_of_birth",
]
SCHEMA = {
    "person_id": pl.Int64,
    "sex": pl.Utf8,
    "ethnicity_officer_defined": pl.Utf8,
    "ethnicity_self_defined": pl.Utf8,
    "date_of_birth": pl.Date,
}
DEFAULT_TOP_N = 50
DEFAULT_MIN_AGE = 18


@dataclass
class Populations:
    selected: pl.DataFrame
    eligible: pl.DataFrame
    as_of: dt.date
    selected_label: str
    eligible_label: str
    notes: list[str] = field(default_factory=list)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    clean = [
        {
            "person_id": r["id"],
            "sex": r["sex"] or None,
            "ethnicity_officer_defined": r["ethnicity_officer_defined"] or None,
            "ethnicity_self_defined": r["ethnicity_self_defined"] or None,
            "date_of_birth": r["date_of_birth"],
        }
        for r in rows
    ]
    return pl.DataFrame(clean, schema=SCHEMA)


_VALUES = ("id", "sex", "ethnicity_officer_defined", "ethnicity_self_defined", "date_of_birth")


def run_populations(*, run: ScoringRun, top_n: int = DEFAULT_TOP_N) -> Populations:
    """Top `top_n` eligible candidates of the run against all its stored eligible candidates."""
    ranked = list(
        CandidateScore.objects.filter(run=run, eligible=True)
        .order_by("rank")
        .values_list("person_id", flat=True)
    )
    people = {p["id"]: p for p in Person.objects.filter(pk__in=ranked).values(*_VALUES)}
    eligible_rows = [people[pid] for pid in ranked if pid in people]
    chosen = eligible_rows[:top_n]
    notes = []
    if run.eligible_count > len(ranked):
        notes.append(
            f"The run found {run.eligible_count} eligible people but stored only the top "
            f"{run.candidates_stored} candidates, {len(ranked)} of them eligible; the comparison "
            "uses the stored ones."
        )
    if top_n > len(ranked):
        notes.append(
            f"Only {len(ranked)} people were eligible, fewer than the {top_n} asked for, so "
            "everyone eligible counts as selected."
        )
    return Populations(
        selected=_frame(chosen),
        eligible=_frame(eligible_rows),
        as_of=run.as_of,
        selected_label=f"the top {len(chosen)} eligible candidates",
        eligible_label=f"the {len(eligible_rows)} eligible candidates of scoring run {run.pk}",
        notes=notes,
    )


def _age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def cohort_rules(as_of: dt.date) -> list[tuple[int | None, int | None, tuple[str, ...]]]:
    """(min age, max age, hub codes) of each cohort definition in force on the date."""
    from openiom.cohort.selectors import cohorts_in_force

    rules = []
    for cohort in cohorts_in_force(on=as_of):
        e = cohort.rules.eligibility
        rules.append((e.min_age, e.max_age, tuple(e.hub_codes)))
    return rules or [(DEFAULT_MIN_AGE, None, ())]


def cohort_populations(*, as_of: dt.date) -> Populations:
    """Everyone registered on the date against the people meeting any cohort's age/hub rules."""
    from openiom.cohort.selectors import registered_person_ids

    registered = registered_person_ids(as_of=as_of)
    rules = cohort_rules(as_of)
    alive = Person.objects.filter(date_of_birth__lte=as_of).exclude(
        Q(date_of_death__isnull=False, date_of_death__lte=as_of)
        | Q(date_of_death__isnull=True, current_status=CurrentStatus.DECEASED)
    )
    eligible: list[dict[str, Any]] = []
    outside = 0
    for p in alive.values(*_VALUES, "hub__code").order_by("pk"):
        age = _age_on(p["date_of_birth"], as_of)
        meets = any(
            (lo is None or age >= lo)
            and (hi is None or age <= hi)
            and (not hubs or p["hub__code"] in hubs)
            for lo, hi, hubs in rules
        )
        if meets or p["id"] in registered:
            eligible.append(p)
            outside += int(not meets)
    selected = [p for p in eligible if p["id"] in registered]
    notes = []
    if outside:
        notes.append(
            f"{outside} registered {'person does' if outside == 1 else 'people do'} not meet "
            "any cohort's age and hub rules on the date; they are counted in the population "
            "so that every registered person is compared."
        )
    missing = len(registered) - len(selected)
    if missing:
        notes.append(f"{missing} registered people have no date of birth on or before the date.")
    described = "; ".join(
        " ".join(
            part
            for part in (
                f"aged {lo} or over" if lo is not None else "",
                f"aged {hi} or under" if hi is not None else "",
                f"in {', '.join(hubs)}" if hubs else "in any hub",
            )
            if part
        )
        for lo, hi, hubs in rules
    )
    return Populations(
        selected=_frame(selected),
        eligible=_frame(eligible),
        as_of=as_of,
        selected_label=f"the {len(selected)} people registered on an IOM cohort",
        eligible_label=(
            f"the {len(eligible)} people alive on the date who meet a cohort's age and hub "
            f"rules ({described})"
        ),
        notes=notes,
    )


def _consulted(actor: Actor, what: str, obj: Any, details: dict[str, Any]) -> None:
    record(
        "scrutiny.disproportionality_consulted",
        actor=actor,
        obj=obj,
        context={"what": what},
        details=details,
    )


def run_disproportionality(
    *, actor: Actor, run: ScoringRun, top_n: int = DEFAULT_TOP_N
) -> tuple[DisproportionalityReport, Populations]:
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    pops = run_populations(run=run, top_n=top_n)
    report = disproportionality(
        selected=pops.selected,
        eligible=pops.eligible,
        config=DisproportionalityConfig(as_of=pops.as_of),
    )
    _consulted(
        actor,
        f"scoring run {run.pk} (top {top_n})",
        run,
        {"run_id": run.pk, "top_n": top_n, "selected": report.selected_total},
    )
    return report, pops


def cohort_disproportionality(
    *, actor: Actor, as_of: dt.date
) -> tuple[DisproportionalityReport, Populations]:
    require_scoring(actor, ScoringAction.VIEW_SCORES)
    pops = cohort_populations(as_of=as_of)
    report = disproportionality(
        selected=pops.selected,
        eligible=pops.eligible,
        config=DisproportionalityConfig(as_of=as_of),
    )
    _consulted(
        actor,
        f"the registered cohort on {as_of:%-d %B %Y}",
        None,
        {"as_of": as_of.isoformat(), "selected": report.selected_total},
    )
    return report, pops
