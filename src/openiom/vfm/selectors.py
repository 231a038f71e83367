"""Value-for-money reads: versions in force, appraisal inputs built from them, offence mixes,
contracts and their cohorts' outcomes (through the evaluation's outcome engine)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.utils import timezone

from openiom.evaluation.methods.types import Estimate, EvaluationResult
from openiom.scoring.models import UnitCostTable
from openiom.vfm import calculations as calc
from openiom.vfm.defaults import ASSUMPTIONS_KEY, PROGRAMME_KEY
from openiom.vfm.models import (
    AppraisalAssumptions,
    ContractMeasurement,
    ProgrammeCost,
    ResultsContract,
)


class VfmUnavailable(LookupError):
    """A policy version the appraisal needs does not exist (for the date asked)."""


def assumptions_in_force(
    *, on: dt.date | None = None, key: str = ASSUMPTIONS_KEY
) -> AppraisalAssumptions | None:
    result: AppraisalAssumptions | None = AppraisalAssumptions.in_force(
        key, on or timezone.localdate()
    )
    return result


def programme_in_force(
    *, on: dt.date | None = None, key: str = PROGRAMME_KEY
) -> ProgrammeCost | None:
    result: ProgrammeCost | None = ProgrammeCost.in_force(key, on or timezone.localdate())
    return result


def versions_of(model: type[AppraisalAssumptions] | type[ProgrammeCost], key: str) -> list[Any]:
    return list(model.objects.filter(key=key).order_by("-version").select_related("created_by"))


def latest_of_each(model: type[AppraisalAssumptions] | type[ProgrammeCost]) -> list[Any]:
    """The newest version of every key."""
    keys = model.objects.values_list("key", flat=True).distinct().order_by("key")
    latest = [model.objects.filter(key=k).order_by("-version").first() for k in keys]
    return [item for item in latest if item is not None]


def unit_cost_table_for(assumptions: AppraisalAssumptions) -> UnitCostTable | None:
    ref = assumptions.config.get("unit_cost_table") or {}
    key, version = ref.get("key"), ref.get("version")
    if not isinstance(key, str) or not isinstance(version, int):
        return None
    return UnitCostTable.objects.filter(key=key, version=version).first()


def offence_mix(
    *, person_ids: Iterable[int], start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, int]:
    """Offences by category (the scoring categories the unit-cost table uses) committed by these
    people between the dates (inclusive); used to weight unit costs by what the cohort does."""
    from openiom.offending.models import Offence

    qs = Offence.objects.filter(person_id__in=list(person_ids))
    if start is not None:
        qs = qs.filter(offence_date__gte=start)
    if end is not None:
        qs = qs.filter(offence_date__lte=end)
    counts: Counter[str] = Counter()
    for category in qs.values_list("offence_code__category", flat=True):
        counts[category or "Other offence"] += 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True)
class AppraisalInputs:
    assumptions: calc.Assumptions
    programme: calc.ProgrammeCosts
    unit_costs: calc.UnitCosts
    versions: dict[str, Any]


def _ref(obj: Any) -> dict[str, Any]:
    return {"id": obj.pk, "key": obj.key, "version": obj.version, "name": obj.name}


def appraisal_inputs(
    *,
    on: dt.date | None = None,
    programme_key: str = PROGRAMME_KEY,
    mix: Mapping[str, float] | None = None,
    mix_source: str = "",
) -> AppraisalInputs:
    """The assumptions, programme costs and unit costs in force on the date, as calculation
    inputs. Without `mix`, the assumptions' illustrative offence mix is used (flagged)."""
    record = assumptions_in_force(on=on)
    if record is None:
        raise VfmUnavailable("No value-for-money assumptions are in force on that date")
    programme = programme_in_force(on=on, key=programme_key)
    if programme is None:
        raise VfmUnavailable(f"No programme costs called {programme_key!r} are in force then")
    table = unit_cost_table_for(record)
    if table is None:
        ref = record.config.get("unit_cost_table") or {}
        raise VfmUnavailable(
            f"The unit-cost table {ref.get('key')} version {ref.get('version')} does not exist"
        )
    assumptions = calc.assumptions_from_config(record.config)
    if mix:
        shares: Mapping[str, float] = mix
        source = mix_source or "The cohort's own recorded offences."
        status = "V"
    else:
        default = record.config.get("offence_mix") or {}
        shares = default.get("shares") or {}
        source = str(default.get("source", ""))
        status = str(default.get("status", "U"))
    unit_costs = calc.unit_costs_from_table(
        table.config,
        shares,
        label=f"{table.name} – version {table.version}",
        mix_source=source,
        mix_status=status,
    )
    return AppraisalInputs(
        assumptions=assumptions,
        programme=calc.programme_from_config(programme.config),
        unit_costs=unit_costs,
        versions={
            "assumptions": _ref(record),
            "programme_costs": _ref(programme),
            "unit_cost_table": _ref(table),
        },
    )


def appraise_with_policy(
    *,
    estimate: Estimate,
    cohort_size: int,
    on: dt.date | None = None,
    programme_key: str = PROGRAMME_KEY,
    mix: Mapping[str, float] | None = None,
    mix_source: str = "",
    label: str = "",
) -> calc.Appraisal:
    """`calculations.appraise` with the policy versions in force on the date (today by default);
    the appraisal records which versions it used."""
    inputs = appraisal_inputs(on=on, programme_key=programme_key, mix=mix, mix_source=mix_source)
    return calc.appraise(
        estimate=estimate,
        cohort_size=cohort_size,
        programme=inputs.programme,
        unit_costs=inputs.unit_costs,
        assumptions=inputs.assumptions,
        versions=inputs.versions,
        label=label,
    )


def appraise_evaluation(
    result: EvaluationResult,
    *,
    on: dt.date | None = None,
    programme_key: str = PROGRAMME_KEY,
    mix: Mapping[str, float] | None = None,
    mix_source: str = "",
) -> calc.Appraisal | None:
    """The appraisal of an evaluation's matched estimate (frequency, else the one-year rate) for
    the matched programme group (`matching.n_treated_matched`: the people the estimate is
    about); None when the evaluation has neither estimate or nobody was matched."""
    estimate = calc.pick_estimate(result.estimates)
    n = int(result.matching.n_treated_matched)
    if estimate is None or n < 1:
        return None
    return appraise_with_policy(
        estimate=estimate,
        cohort_size=n,
        on=on,
        programme_key=programme_key,
        mix=mix,
        mix_source=mix_source,
        label=result.spec.label,
    )


# --- contracts ------------------------------------------------------------------------------------


def contracts() -> list[ResultsContract]:
    """The newest version of every contract."""
    latest = ResultsContract.objects.values("reference").annotate(v=Max("version"))
    wanted = {(row["reference"], row["v"]) for row in latest}
    return [
        c
        for c in ResultsContract.objects.order_by("reference", "-version")
        if (c.reference, c.version) in wanted
    ]


def contract_versions(reference: str) -> list[ResultsContract]:
    return list(ResultsContract.objects.filter(reference=reference).order_by("-version"))


def measurements(contract: ResultsContract) -> list[ContractMeasurement]:
    return list(contract.measurements.select_related("created_by").order_by("-created_at", "-id"))


def contract_index(contract: ResultsContract) -> list[tuple[int, dt.date]]:
    """(person id, index date): each person's first registration on the contract's cohorts
    with a start date inside the contract's cohort period."""
    from openiom.cohort.models import Registration

    qs = Registration.objects.filter(
        start_date__gte=contract.cohort_from, start_date__lte=contract.cohort_to
    )
    if contract.cohort_keys:
        qs = qs.filter(cohort_key__in=list(contract.cohort_keys))
    first: dict[int, dt.date] = {}
    for person_id, start in qs.order_by("start_date", "id").values_list("person_id", "start_date"):
        first.setdefault(person_id, start)
    return sorted(first.items())


def contract_outcomes(contract: ResultsContract, *, as_of: dt.date) -> list[dict[str, Any]]:
    """Per person in the contract's cohort: the outcome engine's `reoffended` and `reoffences`
    under the contract's follow-up and waiting periods (empty while not final)."""
    import polars as pl

    from openiom.evaluation import outcomes

    index_rows = contract_index(contract)
    if not index_rows:
        return []
    index = pl.DataFrame(
        {
            "person_id": [p for p, _ in index_rows],
            "index_date": [d for _, d in index_rows],
        },
        schema={"person_id": pl.Int64, "index_date": pl.Date},
    )
    try:
        offences = outcomes.load_offences([p for p, _ in index_rows], as_of=as_of)
        rules = outcomes.OutcomeRules(
            follow_up_days=contract.follow_up_days, waiting_days=contract.waiting_days
        )
        frame = outcomes.proven_outcomes(offences, index, as_of=as_of, rules=rules)
    except (outcomes.OutcomeError, ValueError) as exc:
        raise calc.AppraisalError("outcomes", str(exc)) from None
    return list(
        frame.select("person_id", "index_date", "reoffended", "reoffences").iter_rows(named=True)
    )
