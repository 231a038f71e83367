"""Value for money: the cost–benefit arithmetic of an IOM cohort (pure Python: no Django here).

Method (evaluation-methods.md §6 and docs/value-for-money.md):

- Prevented proven reoffences per person in the first year, p = −(treated − comparison) from the
  matched estimate (frequency, or the one-year rate × reoffences per reoffender), with its CI.
- Each proven reoffence stands for m crimes (the proven→actual multiplier), each worth the unit
  cost of crime c (Home Office 2018 values, mixed by offence category, × a sensitivity scale),
  uprated from the table's price year to the appraisal year with the GDP deflator:
  c_A = c × D[appraisal year] / D[price year].
- First-year benefit B₁ = p × n × m × c_A. A share s of the effect persists into each following
  year, so year k (k = 0 is the first year) brings B₁ sᵏ.
- Discounting at rate r: year k is worth 1/(1 + r)ᵏ (the first year is not discounted).
  PV(benefits) = B₁ × A with A = Σₖ₌₀^{H−1} sᵏ/(1 + r)ᵏ over the horizon H.
- Costs of the cohort (staff time by agency × months on IOM, interventions, set-up), uprated from
  their price year, are counted in the first year: PV(costs) = C.
- BCR = PV(benefits)/PV(costs); NPV = PV(benefits) − PV(costs).
- Break-even reduction (the IOM efficiency toolkit's idea): the share of the comparison group's
  reoffending the programme must prevent to pay for itself,
  C ÷ (cost per reoffence × baseline reoffences × A), with cost per reoffence = m × c_A and
  baseline reoffences = comparison reoffences per person × n. With s = 0 (or H = 1), A = 1 and
  this is exactly the toolkit's incremental cost ÷ (cost per reoffence × baseline reoffences).
- The projection runs the programme for H years: a new cohort of the same size and cost each year,
  each cohort's effect persisting as above; set-up costs fall in the first year only.
- Uncertainty: the benefit is linear in p, so the 95% CI of the effect maps straight onto the CI
  of PV(benefits), the BCR and the NPV. One-way sensitivity moves each assumption that has a low
  and a high value (and the effect, to its CI limits) with everything else held, and orders the
  results by their swing in NPV (the tornado).

Payment-by-results contract measures (`contract_measures`) are here too: the cohort's binary rate
and frequency against the contract's agreed baseline.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy import stats

from openiom.evaluation.methods.types import Estimate

STATUS_TEXT = {
    "V": "verified against the primary source",
    "V2": "from a secondary source only",
    "U": "unconfirmed local default: review it",
}
STATUSES = tuple(STATUS_TEXT)
RATE_MEASURES = frozenset({"one_year_rate", "rate", "binary"})
FREQUENCY_MEASURES = frozenset({"frequency", "reoffences"})


class AppraisalError(ValueError):
    """Input the appraisal cannot use; `field` names the input and `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assumption:
    """One editable number with where it comes from and how sure we are of it."""

    key: str
    label: str
    value: float
    status: str = "U"
    source: str = ""
    unit: str = ""
    low: float | None = None
    high: float | None = None

    @property
    def unverified(self) -> bool:
        """Anything not verified against a primary source is flagged (V2 and U)."""
        return self.status != "V"

    @property
    def has_range(self) -> bool:
        return self.low is not None and self.high is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "unit": self.unit,
            "status": self.status,
            "status_text": STATUS_TEXT.get(self.status, self.status),
            "source": self.source,
            "unverified": self.unverified,
        }


@dataclass(frozen=True)
class Deflator:
    """A price index by year label (e.g. the GDP deflator, 2024 = 100)."""

    index: Mapping[str, float]
    series: str = "GDP deflator at market prices"
    base: str = ""
    status: str = "U"
    source: str = ""

    def lookup(self, year: str) -> tuple[str, float]:
        """The index for a price year: its exact label, else the calendar year it starts in
        (so a financial year "2015/16" uses "2015")."""
        label = str(year).strip()
        if label in self.index:
            return label, float(self.index[label])
        match = re.match(r"(\d{4})", label)
        if match and match.group(1) in self.index:
            return match.group(1), float(self.index[match.group(1)])
        known = ", ".join(sorted(self.index)) or "none"
        raise AppraisalError(
            "deflator", f"no index value for price year {label!r} (the series has {known})"
        )

    def factor(self, from_year: str, to_year: str) -> float:
        """Multiply a price-year amount by this to express it in to_year prices."""
        _, start = self.lookup(from_year)
        _, end = self.lookup(to_year)
        if start <= 0:
            raise AppraisalError("deflator", f"the index for {from_year!r} must be above 0")
        return end / start


@dataclass(frozen=True)
class Assumptions:
    """The appraisal's assumptions (one version of `AppraisalAssumptions`)."""

    appraisal_year: str
    deflator: Deflator
    discount_rate: Assumption
    horizon_years: Assumption
    proven_to_actual: Assumption
    persistence: Assumption
    reoffences_per_reoffender: Assumption
    unit_cost_scale: Assumption
    programme_cost_scale: Assumption
    currency: str = "GBP"

    NAMES = (
        "discount_rate",
        "horizon_years",
        "proven_to_actual",
        "persistence",
        "reoffences_per_reoffender",
        "unit_cost_scale",
        "programme_cost_scale",
    )

    def items(self) -> list[Assumption]:
        return [getattr(self, name) for name in self.NAMES]

    def with_value(self, key: str, value: float) -> Assumptions:
        return replace(self, **{key: replace(getattr(self, key), value=value)})


@dataclass(frozen=True)
class StaffTime:
    agency: str
    role: str
    hours_per_person_month: float
    hourly_cost: float
    status: str = "U"
    source: str = ""

    @property
    def cost_per_person_month(self) -> float:
        return self.hours_per_person_month * self.hourly_cost


@dataclass(frozen=True)
class Intervention:
    name: str
    cost_per_participant: float
    share_receiving: float  # 0–1 of the cohort
    status: str = "U"
    source: str = ""

    @property
    def cost_per_person(self) -> float:
        return self.cost_per_participant * self.share_receiving


@dataclass(frozen=True)
class SetUpCost:
    name: str
    cost: float
    status: str = "U"
    source: str = ""


@dataclass(frozen=True)
class ProgrammeCosts:
    """The incremental cost of IOM over usual management (one version of `ProgrammeCost`)."""

    price_year: str
    months_per_person: Assumption
    staff: tuple[StaffTime, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    set_up: tuple[SetUpCost, ...] = ()
    currency: str = "GBP"

    @property
    def staff_per_person_month(self) -> float:
        return sum(s.cost_per_person_month for s in self.staff)

    @property
    def interventions_per_person(self) -> float:
        return sum(i.cost_per_person for i in self.interventions)

    def per_person(self, months: float | None = None) -> float:
        """Cost per cohort member at the programme's price year."""
        m = self.months_per_person.value if months is None else months
        return self.staff_per_person_month * m + self.interventions_per_person

    @property
    def set_up_total(self) -> float:
        return sum(s.cost for s in self.set_up)


@dataclass(frozen=True)
class CostLine:
    category: str
    share: float  # of reoffences, before normalising
    unit_cost: float  # per crime, price-year prices
    status: str = "U"
    source: str = ""


@dataclass(frozen=True)
class UnitCosts:
    """Cost per crime for the cohort's offence mix, from a unit-cost table."""

    price_year: str
    lines: tuple[CostLine, ...]
    table: str = ""
    mix_source: str = ""
    mix_status: str = "U"

    @property
    def total_share(self) -> float:
        return sum(line.share for line in self.lines)

    @property
    def cost_per_crime(self) -> float:
        """Σ share × unit cost over the mix (shares normalised to 1), price-year prices."""
        total = self.total_share
        if total <= 0:
            raise AppraisalError("offence_mix", "the offence mix has no positive share")
        return sum(line.share * line.unit_cost for line in self.lines) / total


# --- outputs ------------------------------------------------------------------------------------


@dataclass
class YearRow:
    year: int  # 0 = the first year (undiscounted)
    cost: float
    benefit: float
    discount_factor: float
    pv_cost: float
    pv_benefit: float
    cumulative_npv: float


@dataclass
class TornadoRow:
    key: str
    label: str
    low: float  # the input's low value
    high: float  # the input's high value
    npv_low: float  # NPV with the low value (everything else central)
    npv_high: float
    bcr_low: float | None
    bcr_high: float | None
    swing: float  # |npv_high − npv_low|
    unit: str = ""


@dataclass
class Appraisal:
    """The cost–benefit case for one cohort; `to_dict()` gives JSON-safe plain data."""

    label: str
    currency: str
    appraisal_year: str
    cohort_size: int
    measure: str
    difference: float
    ci_low: float
    ci_high: float
    comparison: float
    converted_from_rate: bool
    prevented_per_person: float
    prevented_per_person_low: float
    prevented_per_person_high: float
    baseline_per_person: float
    baseline_reoffences: float
    prevented_reoffences: float
    prevented_crimes: float
    unit_cost_price_year: str
    unit_cost_uprating: float
    cost_per_crime: float
    cost_per_reoffence: float
    programme_price_year: str
    programme_uprating: float
    cost_per_person: float
    running_cost: float
    set_up_cost: float
    pv_costs: float
    first_year_benefit: float
    annuity_factor: float
    pv_benefits: float
    pv_benefits_low: float
    pv_benefits_high: float
    bcr: float | None
    bcr_low: float | None
    bcr_high: float | None
    npv: float
    npv_low: float
    npv_high: float
    break_even_reduction: float | None
    break_even_prevented_per_person: float | None
    observed_reduction: float | None
    observed_reduction_low: float | None
    observed_reduction_high: float | None
    cohort_years: list[YearRow]
    projection: list[YearRow]
    projection_pv_costs: float
    projection_pv_benefits: float
    projection_npv: float
    projection_bcr: float | None
    tornado: list[TornadoRow]
    cost_lines: list[dict[str, Any]]
    programme_lines: list[dict[str, Any]]
    assumptions: list[dict[str, Any]]
    unverified: list[str]
    caveats: list[str]
    summary: str
    versions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inputs:
    """Everything the NPV depends on, in appraisal-year prices (so sensitivity can vary one)."""

    prevented_per_person: float
    baseline_per_person: float
    n: int
    cost_per_crime: float  # after uprating and unit_cost_scale
    multiplier: float
    persistence: float
    discount_rate: float
    horizon: int
    staff_per_person_month: float  # after uprating and programme_cost_scale
    months: float
    interventions_per_person: float  # after uprating and programme_cost_scale
    set_up: float  # after uprating and programme_cost_scale

    @property
    def cost_per_person(self) -> float:
        return self.staff_per_person_month * self.months + self.interventions_per_person

    @property
    def costs(self) -> float:
        return self.cost_per_person * self.n + self.set_up

    @property
    def first_year_benefit(self) -> float:
        return self.prevented_per_person * self.n * self.multiplier * self.cost_per_crime

    def discount(self, year: int) -> float:
        return 1.0 / (1.0 + self.discount_rate) ** year

    def annuity(self) -> float:
        return sum(self.persistence**k * self.discount(k) for k in range(self.horizon))

    def pv_benefits(self) -> float:
        return self.first_year_benefit * self.annuity()

    def npv(self) -> float:
        return self.pv_benefits() - self.costs

    def bcr(self) -> float | None:
        return _ratio(self.pv_benefits(), self.costs)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def discount_factor(rate: float, year: int) -> float:
    """Present value of 1 in `year` (0 = now): 1/(1 + rate)^year."""
    return 1.0 / (1.0 + rate) ** year


def break_even_reduction(
    *, incremental_cost: float, cost_per_reoffence: float, baseline_reoffences: float
) -> float | None:
    """The IOM efficiency toolkit's break-even: the share of baseline reoffending to prevent."""
    denominator = cost_per_reoffence * baseline_reoffences
    return incremental_cost / denominator if denominator > 0 else None


def _cohort_years(i: _Inputs) -> list[YearRow]:
    rows, cumulative = [], 0.0
    for k in range(i.horizon):
        cost = i.costs if k == 0 else 0.0
        benefit = i.first_year_benefit * i.persistence**k
        df = i.discount(k)
        cumulative += (benefit - cost) * df
        rows.append(YearRow(k, cost, benefit, df, cost * df, benefit * df, cumulative))
    return rows


def _projection(i: _Inputs) -> list[YearRow]:
    """A new cohort each year for the horizon; each cohort's effect persists as assumed."""
    rows, cumulative = [], 0.0
    running = i.cost_per_person * i.n
    for t in range(i.horizon):
        cost = running + (i.set_up if t == 0 else 0.0)
        benefit = i.first_year_benefit * sum(i.persistence**k for k in range(t + 1))
        df = i.discount(t)
        cumulative += (benefit - cost) * df
        rows.append(YearRow(t, cost, benefit, df, cost * df, benefit * df, cumulative))
    return rows


def _effect(
    estimate: Estimate, assumptions: Assumptions
) -> tuple[float, float, float, float, bool]:
    """(prevented per person, its CI low, CI high, baseline per person, converted from a rate)."""
    measure = (estimate.measure or "").strip()
    values = {
        "difference": estimate.difference,
        "ci_low": estimate.ci_low,
        "ci_high": estimate.ci_high,
        "comparison": estimate.comparison,
    }
    for name, value in values.items():
        if value is None or not math.isfinite(float(value)):
            raise AppraisalError(f"estimate.{name}", "must be a finite number")
    if estimate.ci_low > estimate.ci_high:
        raise AppraisalError("estimate.ci_low", "the CI's lower limit is above its upper limit")
    if not estimate.ci_low <= estimate.difference <= estimate.ci_high:
        raise AppraisalError("estimate.difference", "must lie inside its confidence interval")
    if estimate.comparison < 0:
        raise AppraisalError("estimate.comparison", "the comparison group's value cannot be < 0")
    if measure in FREQUENCY_MEASURES:
        k, converted = 1.0, False
    elif measure in RATE_MEASURES:
        if estimate.comparison > 1:
            raise AppraisalError(
                "estimate.comparison", "a one-year rate is a proportion between 0 and 1"
            )
        k, converted = assumptions.reoffences_per_reoffender.value, True
    else:
        raise AppraisalError(
            "estimate.measure",
            f"value for money needs the frequency (reoffences per person) or the one-year rate, "
            f"not {measure!r}",
        )
    return (
        -estimate.difference * k,
        -estimate.ci_high * k,
        -estimate.ci_low * k,
        estimate.comparison * k,
        converted,
    )


def _check_inputs(
    cohort_size: int, programme: ProgrammeCosts, unit_costs: UnitCosts, assumptions: Assumptions
) -> None:
    if isinstance(cohort_size, bool) or not isinstance(cohort_size, int | np.integer):
        raise AppraisalError("cohort_size", "must be a whole number")
    if cohort_size < 1:
        raise AppraisalError("cohort_size", "must be 1 or more")
    a = assumptions
    checks = [
        (a.discount_rate, 0.0, 1.0),
        (a.horizon_years, 1.0, 100.0),
        (a.proven_to_actual, 0.0, 1000.0),
        (a.persistence, 0.0, 1.0),
        (a.reoffences_per_reoffender, 0.0, 1000.0),
        (a.unit_cost_scale, 0.0, 100.0),
        (a.programme_cost_scale, 0.0, 100.0),
        (programme.months_per_person, 0.0, 1200.0),
    ]
    for item, lo, hi in checks:
        for which in ("value", "low", "high"):
            v = getattr(item, which)
            if v is None:
                continue
            if not math.isfinite(v) or not lo <= v <= hi:
                raise AppraisalError(f"{item.key}.{which}", f"must be between {lo:g} and {hi:g}")
    if float(a.horizon_years.value) != int(a.horizon_years.value):
        raise AppraisalError("horizon_years.value", "must be a whole number of years")
    for line in unit_costs.lines:
        if line.unit_cost < 0 or line.share < 0:
            raise AppraisalError(f"unit_costs.{line.category}", "costs and shares must be ≥ 0")
    for s in programme.staff:
        if s.hours_per_person_month < 0 or s.hourly_cost < 0:
            raise AppraisalError(f"staff.{s.agency}", "hours and hourly cost must be ≥ 0")
    for iv in programme.interventions:
        if iv.cost_per_participant < 0 or not 0 <= iv.share_receiving <= 1:
            raise AppraisalError(
                f"interventions.{iv.name}", "cost must be ≥ 0 and the share between 0 and 1"
            )
    for su in programme.set_up:
        if su.cost < 0:
            raise AppraisalError(f"set_up.{su.name}", "cost must be ≥ 0")


def appraise(
    *,
    estimate: Estimate,
    cohort_size: int,
    programme: ProgrammeCosts,
    unit_costs: UnitCosts,
    assumptions: Assumptions,
    versions: Mapping[str, Any] | None = None,
    label: str = "",
) -> Appraisal:
    """The cost–benefit case from a matched estimate.

    `estimate` is the matched difference (treated − comparison) in reoffences per person over
    the one-year follow-up (measure "frequency"), or in the one-year rate (measure
    "one_year_rate", a proportion), with its CI and the comparison group's value. A negative
    difference means fewer reoffences. `cohort_size` is the number of people the programme
    worked with (whose costs are counted). `versions` records which policy versions supplied
    the inputs. Raises `AppraisalError` (field, reason) for inputs it cannot use.
    """
    _check_inputs(cohort_size, programme, unit_costs, assumptions)
    a = assumptions
    p, p_low, p_high, baseline, converted = _effect(estimate, a)
    unit_uprating = a.deflator.factor(unit_costs.price_year, a.appraisal_year)
    programme_uprating = a.deflator.factor(programme.price_year, a.appraisal_year)
    cost_scale = programme_uprating * a.programme_cost_scale.value
    n = int(cohort_size)
    base = _Inputs(
        prevented_per_person=p,
        baseline_per_person=baseline,
        n=n,
        cost_per_crime=unit_costs.cost_per_crime * unit_uprating * a.unit_cost_scale.value,
        multiplier=a.proven_to_actual.value,
        persistence=a.persistence.value,
        discount_rate=a.discount_rate.value,
        horizon=int(a.horizon_years.value),
        staff_per_person_month=programme.staff_per_person_month * cost_scale,
        months=programme.months_per_person.value,
        interventions_per_person=programme.interventions_per_person * cost_scale,
        set_up=programme.set_up_total * cost_scale,
    )
    low = replace(base, prevented_per_person=p_low)
    high = replace(base, prevented_per_person=p_high)
    costs = base.costs
    annuity = base.annuity()
    cost_per_reoffence = base.cost_per_crime * base.multiplier
    baseline_reoffences = baseline * n
    be = break_even_reduction(
        incremental_cost=costs,
        cost_per_reoffence=cost_per_reoffence * annuity,
        baseline_reoffences=baseline_reoffences,
    )
    projection = _projection(base)
    proj_costs = sum(r.pv_cost for r in projection)
    proj_benefits = sum(r.pv_benefit for r in projection)
    tornado = _tornado(base, programme, a, estimate, converted, unit_costs, unit_uprating)

    total_share = unit_costs.total_share
    cost_lines = [
        {
            "category": line.category,
            "share": line.share / total_share if total_share > 0 else 0.0,
            "unit_cost": line.unit_cost,
            "unit_cost_uprated": line.unit_cost * unit_uprating * a.unit_cost_scale.value,
            "status": line.status,
            "source": line.source,
            "unverified": line.status != "V",
            "first_year_benefit": (
                base.first_year_benefit
                * (line.share * line.unit_cost)
                / (unit_costs.cost_per_crime * total_share)
                if unit_costs.cost_per_crime > 0 and total_share > 0
                else 0.0
            ),
        }
        for line in unit_costs.lines
    ]
    programme_lines = _programme_lines(programme, cost_scale, n)
    items = _assumption_items(a, programme, unit_costs, converted)
    unverified = [item["label"] for item in items if item["unverified"]]
    lines_unverified = sum(1 for line in cost_lines if line["unverified"]) + sum(
        1 for line in programme_lines if line["unverified"]
    )
    caveats = _caveats(p_low, p_high, converted, lines_unverified, base, a)
    appraisal = Appraisal(
        label=label or estimate.label,
        currency=a.currency,
        appraisal_year=a.appraisal_year,
        cohort_size=n,
        measure=estimate.measure,
        difference=estimate.difference,
        ci_low=estimate.ci_low,
        ci_high=estimate.ci_high,
        comparison=estimate.comparison,
        converted_from_rate=converted,
        prevented_per_person=p,
        prevented_per_person_low=p_low,
        prevented_per_person_high=p_high,
        baseline_per_person=baseline,
        baseline_reoffences=baseline_reoffences,
        prevented_reoffences=p * n,
        prevented_crimes=p * n * base.multiplier,
        unit_cost_price_year=unit_costs.price_year,
        unit_cost_uprating=unit_uprating,
        cost_per_crime=base.cost_per_crime,
        cost_per_reoffence=cost_per_reoffence,
        programme_price_year=programme.price_year,
        programme_uprating=programme_uprating,
        cost_per_person=base.cost_per_person,
        running_cost=base.cost_per_person * n,
        set_up_cost=base.set_up,
        pv_costs=costs,
        first_year_benefit=base.first_year_benefit,
        annuity_factor=annuity,
        pv_benefits=base.pv_benefits(),
        pv_benefits_low=low.pv_benefits(),
        pv_benefits_high=high.pv_benefits(),
        bcr=base.bcr(),
        bcr_low=low.bcr(),
        bcr_high=high.bcr(),
        npv=base.npv(),
        npv_low=low.npv(),
        npv_high=high.npv(),
        break_even_reduction=be,
        break_even_prevented_per_person=be * baseline if be is not None else None,
        observed_reduction=p / baseline if baseline > 0 else None,
        observed_reduction_low=p_low / baseline if baseline > 0 else None,
        observed_reduction_high=p_high / baseline if baseline > 0 else None,
        cohort_years=_cohort_years(base),
        projection=projection,
        projection_pv_costs=proj_costs,
        projection_pv_benefits=proj_benefits,
        projection_npv=proj_benefits - proj_costs,
        projection_bcr=_ratio(proj_benefits, proj_costs),
        tornado=tornado,
        cost_lines=cost_lines,
        programme_lines=programme_lines,
        assumptions=items,
        unverified=unverified,
        caveats=caveats,
        summary="",
        versions=dict(versions or {}),
    )
    appraisal.summary = summary(appraisal)
    return appraisal


def _programme_lines(programme: ProgrammeCosts, scale: float, n: int) -> list[dict[str, Any]]:
    months = programme.months_per_person.value
    lines: list[dict[str, Any]] = []
    for s in programme.staff:
        per_person = s.cost_per_person_month * months * scale
        lines.append(
            {
                "kind": "staff",
                "name": f"{s.agency}: {s.role}" if s.role else s.agency,
                "detail": (
                    f"{s.hours_per_person_month:g} hour{'' if s.hours_per_person_month == 1 else 's'}"
                    f" per person-month at £{s.hourly_cost:,.2f} an hour for {months:g} months"
                ),
                "per_person": per_person,
                "total": per_person * n,
                "status": s.status,
                "source": s.source,
                "unverified": s.status != "V",
            }
        )
    for iv in programme.interventions:
        per_person = iv.cost_per_person * scale
        lines.append(
            {
                "kind": "intervention",
                "name": iv.name,
                "detail": (
                    f"£{iv.cost_per_participant:,.2f} per participant, "
                    f"{100 * iv.share_receiving:g}% of the cohort"
                ),
                "per_person": per_person,
                "total": per_person * n,
                "status": iv.status,
                "source": iv.source,
                "unverified": iv.status != "V",
            }
        )
    for su in programme.set_up:
        lines.append(
            {
                "kind": "set_up",
                "name": su.name,
                "detail": "one-off, first year",
                "per_person": None,
                "total": su.cost * scale,
                "status": su.status,
                "source": su.source,
                "unverified": su.status != "V",
            }
        )
    return lines


def _assumption_items(
    a: Assumptions, programme: ProgrammeCosts, unit_costs: UnitCosts, converted: bool
) -> list[dict[str, Any]]:
    items = [
        item.to_dict() for item in a.items() if converted or item.key != "reoffences_per_reoffender"
    ]
    items.append(programme.months_per_person.to_dict())
    items.append(
        Assumption(
            key="deflator",
            label=f"Price uprating ({a.deflator.series}, {a.deflator.base})".replace(", )", ")"),
            value=a.deflator.factor(unit_costs.price_year, a.appraisal_year),
            status=a.deflator.status,
            source=(
                f"{a.deflator.source} Unit costs {unit_costs.price_year} → {a.appraisal_year} "
                f"prices; programme costs {programme.price_year} → {a.appraisal_year}."
            ),
            unit="factor",
        ).to_dict()
    )
    items.append(
        Assumption(
            key="offence_mix",
            label="Offence mix of prevented reoffences",
            value=float(len(unit_costs.lines)),
            status=unit_costs.mix_status,
            source=unit_costs.mix_source,
            unit="categories",
        ).to_dict()
    )
    return items


def _caveats(
    p_low: float,
    p_high: float,
    converted: bool,
    lines_unverified: int,
    base: _Inputs,
    a: Assumptions,
) -> list[str]:
    caveats = []
    if p_low <= 0 <= p_high:
        caveats.append(
            "The confidence interval of the effect includes no change in reoffending, so the "
            "benefit may be nil (or negative): the cost–benefit figures are not proof of savings."
        )
    elif p_high < 0:
        caveats.append(
            "The matched estimate shows more reoffending in the cohort than in the comparison "
            "group, so the programme shows no benefit on this measure."
        )
    if converted:
        caveats.append(
            "Reoffences were estimated from the one-year rate × "
            f"{a.reoffences_per_reoffender.value:g} reoffences per reoffender; a frequency "
            "estimate is better evidence."
        )
    if base.multiplier == 1:
        caveats.append(
            "Only proven reoffences are valued: crimes that never led to a sanction are left out, "
            "so the benefit is understated (see the proven-to-actual multiplier's range)."
        )
    if base.persistence == 0:
        caveats.append(
            "No effect is assumed after the measured year; the projection's later years count "
            "only each new year's cohort."
        )
    if lines_unverified:
        caveats.append(
            f"{lines_unverified} unit-cost or programme-cost lines are not verified against a "
            "primary source (flagged [V2] or [U]); review them before relying on the result."
        )
    caveats.append(
        "Unit costs of crime are per crime (Home Office 2018) and include costs to victims and "
        "society, not only cashable savings to the partnership's agencies."
    )
    return caveats


def _money(value: float | None, currency: str = "GBP") -> str:
    if value is None:
        return "–"
    symbol = "£" if currency == "GBP" else f"{currency} "
    sign = "−" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.0f}"


def _per_pound(value: float | None, currency: str = "GBP") -> str:
    if value is None:
        return "–"
    symbol = "£" if currency == "GBP" else f"{currency} "
    value = 0.0 if abs(value) < 0.005 else value
    sign = "−" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.2f}"


def _num(value: float | None, digits: int = 1) -> str:
    """A signed number with a real minus sign and no "−0.0"."""
    if value is None:
        return "–"
    text = f"{abs(value):,.{digits}f}"
    return f"−{text}" if value < 0 and float(text.replace(",", "")) != 0 else text


def summary(ap: Appraisal) -> str:
    """Plain-English headline of the appraisal."""
    cur = ap.currency
    per100 = 100 * ap.prevented_per_person
    lo, hi = 100 * ap.prevented_per_person_low, 100 * ap.prevented_per_person_high
    what = "fewer" if per100 >= 0 else "more"
    text = (
        f"For every 100 people, the matched comparison suggests {_num(abs(per100))} {what} proven "
        f"reoffences in the first year (95% CI {_num(lo)} to {_num(hi)} fewer). Valued at "
        f"{_money(ap.cost_per_reoffence, cur)} per reoffence ({ap.appraisal_year} prices), the "
        f"{ap.cohort_size} people give benefits worth {_money(ap.pv_benefits, cur)} "
        f"(95% CI {_money(ap.pv_benefits_low, cur)} to {_money(ap.pv_benefits_high, cur)}) against "
        f"costs of {_money(ap.pv_costs, cur)}: "
    )
    if ap.bcr is not None:
        text += (
            f"{_per_pound(ap.bcr, cur)} of benefit for every £1 spent (95% CI "
            f"{_per_pound(ap.bcr_low, cur)} to {_per_pound(ap.bcr_high, cur)}), a net present "
            f"value of {_money(ap.npv, cur)}."
        )
    else:
        text += (
            f"no costs are recorded, so there is no ratio; net present value {_money(ap.npv, cur)}."
        )
    if ap.break_even_reduction is not None and ap.observed_reduction is not None:
        text += (
            f" To break even the programme must prevent {100 * ap.break_even_reduction:.1f}% of "
            f"the comparison group's reoffending; the matched estimate is "
            f"{_num(100 * ap.observed_reduction)}% (95% CI "
            f"{_num(100 * (ap.observed_reduction_low or 0))}% to "
            f"{_num(100 * (ap.observed_reduction_high or 0))}%)."
        )
    if ap.unverified:
        text += f" {len(ap.unverified)} assumptions are not verified: see the flags."
    return text


def _tornado(
    base: _Inputs,
    programme: ProgrammeCosts,
    a: Assumptions,
    estimate: Estimate,
    converted: bool,
    unit_costs: UnitCosts,
    unit_uprating: float,
) -> list[TornadoRow]:
    """One-way sensitivity of the NPV, largest swing first."""
    cases: list[tuple[str, str, str, float, float, _Inputs, _Inputs]] = []
    k = a.reoffences_per_reoffender.value if converted else 1.0
    cases.append(
        (
            "effect",
            "Effect on reoffending (95% CI)",
            "reoffences prevented per person",
            -estimate.ci_high * k,
            -estimate.ci_low * k,
            replace(base, prevented_per_person=-estimate.ci_high * k),
            replace(base, prevented_per_person=-estimate.ci_low * k),
        )
    )
    raw_cost = unit_costs.cost_per_crime * unit_uprating
    cost_scale_unit = a.deflator.factor(programme.price_year, a.appraisal_year)

    def programme_scaled(scale: float) -> _Inputs:
        s = cost_scale_unit * scale
        return replace(
            base,
            staff_per_person_month=programme.staff_per_person_month * s,
            interventions_per_person=programme.interventions_per_person * s,
            set_up=programme.set_up_total * s,
        )

    setters = {
        "discount_rate": lambda v: replace(base, discount_rate=v),
        "horizon_years": lambda v: replace(base, horizon=int(v)),
        "proven_to_actual": lambda v: replace(base, multiplier=v),
        "persistence": lambda v: replace(base, persistence=v),
        "unit_cost_scale": lambda v: replace(base, cost_per_crime=raw_cost * v),
        "programme_cost_scale": programme_scaled,
        "months_per_person": lambda v: replace(base, months=v),
        "reoffences_per_reoffender": lambda v: replace(
            base,
            prevented_per_person=-estimate.difference * v,
            baseline_per_person=estimate.comparison * v,
        ),
    }
    for item in [*a.items(), programme.months_per_person]:
        if not item.has_range or item.key not in setters:
            continue
        if item.key == "reoffences_per_reoffender" and not converted:
            continue
        assert item.low is not None and item.high is not None
        cases.append(
            (
                item.key,
                item.label,
                item.unit,
                item.low,
                item.high,
                setters[item.key](item.low),
                setters[item.key](item.high),
            )
        )
    rows = []
    for key, label, unit, lo, hi, at_low, at_high in cases:
        npv_low, npv_high = at_low.npv(), at_high.npv()
        rows.append(
            TornadoRow(
                key=key,
                label=label,
                low=lo,
                high=hi,
                npv_low=npv_low,
                npv_high=npv_high,
                bcr_low=at_low.bcr(),
                bcr_high=at_high.bcr(),
                swing=abs(npv_high - npv_low),
                unit=unit,
            )
        )
    rows.sort(key=lambda r: (-r.swing, r.label))
    return rows


# --- building inputs from stored policy (plain JSON) -------------------------------------------


def _assumption(key: str, label: str, unit: str, raw: Mapping[str, Any]) -> Assumption:
    def num(name: str) -> float | None:
        value = raw.get(name)
        return None if value is None else float(value)

    value = num("value")
    if value is None:
        raise AppraisalError(f"{key}.value", "is missing")
    return Assumption(
        key=key,
        label=label,
        value=value,
        status=str(raw.get("status", "U")),
        source=str(raw.get("source", "")),
        unit=unit,
        low=num("low"),
        high=num("high"),
    )


ASSUMPTION_LABELS: dict[str, tuple[str, str]] = {
    "discount_rate": ("Discount rate", "a year"),
    "horizon_years": ("Appraisal horizon", "years"),
    "proven_to_actual": ("Crimes per proven reoffence (proven→actual multiplier)", "×"),
    "persistence": ("Persistence of the effect after the first year", "share a year"),
    "reoffences_per_reoffender": ("Reoffences per reoffender", "reoffences"),
    "unit_cost_scale": ("Unit costs of crime (scale)", "× table values"),
    "programme_cost_scale": ("Programme costs (scale)", "× costed values"),
    "months_per_person": ("Months on IOM per person", "months"),
}


def assumptions_from_config(config: Mapping[str, Any]) -> Assumptions:
    """Assumptions from a stored `AppraisalAssumptions.config` (see vfm.defaults.ASSUMPTIONS)."""
    deflator = config.get("deflator") or {}
    built = {
        key: _assumption(key, *ASSUMPTION_LABELS[key], config.get(key) or {})
        for key in Assumptions.NAMES
    }
    return Assumptions(
        appraisal_year=str(config.get("appraisal_year", "")),
        deflator=Deflator(
            index={str(k): float(v) for k, v in (deflator.get("index") or {}).items()},
            series=str(deflator.get("series", "GDP deflator")),
            base=str(deflator.get("base", "")),
            status=str(deflator.get("status", "U")),
            source=str(deflator.get("source", "")),
        ),
        currency=str(config.get("currency", "GBP")),
        **built,
    )


def programme_from_config(config: Mapping[str, Any]) -> ProgrammeCosts:
    """Programme costs from a stored `ProgrammeCost.config` (see vfm.defaults.PROGRAMME)."""
    return ProgrammeCosts(
        price_year=str(config.get("price_year", "")),
        currency=str(config.get("currency", "GBP")),
        months_per_person=_assumption(
            "months_per_person",
            *ASSUMPTION_LABELS["months_per_person"],
            config.get("months_per_person") or {},
        ),
        staff=tuple(
            StaffTime(
                agency=str(s.get("agency", "")),
                role=str(s.get("role", "")),
                hours_per_person_month=float(s.get("hours_per_person_month", 0)),
                hourly_cost=float(s.get("hourly_cost", 0)),
                status=str(s.get("status", "U")),
                source=str(s.get("source", "")),
            )
            for s in config.get("staff") or []
        ),
        interventions=tuple(
            Intervention(
                name=str(i.get("name", "")),
                cost_per_participant=float(i.get("cost_per_participant", 0)),
                share_receiving=float(i.get("share_receiving", 0)),
                status=str(i.get("status", "U")),
                source=str(i.get("source", "")),
            )
            for i in config.get("interventions") or []
        ),
        set_up=tuple(
            SetUpCost(
                name=str(s.get("name", "")),
                cost=float(s.get("cost", 0)),
                status=str(s.get("status", "U")),
                source=str(s.get("source", "")),
            )
            for s in config.get("set_up") or []
        ),
    )


def unit_costs_from_table(
    table: Mapping[str, Any],
    mix: Mapping[str, float],
    *,
    label: str = "",
    mix_source: str = "",
    mix_status: str = "U",
) -> UnitCosts:
    """Cost per crime for an offence mix (category → count or share) from a unit-cost table
    (`openiom.scoring` UnitCostTable.config: `categories` rows with cost/status/source, a
    `default` row for categories it does not list, and the `price_year`)."""
    if not mix:
        raise AppraisalError("offence_mix", "give at least one offence category")
    categories = table.get("categories") or {}
    default = table.get("default") or {}
    lines = []
    for category, share in mix.items():
        if share is None or not math.isfinite(float(share)) or float(share) < 0:
            raise AppraisalError(f"offence_mix.{category}", "must be a number ≥ 0")
        row = categories.get(category)
        if row is None:
            if "cost" not in default:
                raise AppraisalError(
                    f"offence_mix.{category}", "the unit-cost table has no row or default for it"
                )
            lines.append(
                CostLine(
                    category=category,
                    share=float(share),
                    unit_cost=float(default["cost"]),
                    status=str(default.get("status", "U")),
                    source=f"Default row (no value for this category): {default.get('source', '')}",
                )
            )
        else:
            lines.append(
                CostLine(
                    category=category,
                    share=float(share),
                    unit_cost=float(row["cost"]),
                    status=str(row.get("status", "U")),
                    source=str(row.get("source", "")),
                )
            )
    return UnitCosts(
        price_year=str(table.get("price_year", "")),
        lines=tuple(lines),
        table=label,
        mix_source=mix_source,
        mix_status=mix_status,
    )


# --- payment by results --------------------------------------------------------------------------

FrequencyBasis = Literal["per_person", "per_reoffender"]


@dataclass(frozen=True)
class ContractTerms:
    """The measures fixed on a results contract (see `ResultsContract`).

    Binary: the share of the cohort with a proven reoffence; frequency: proven reoffences per
    person or per reoffender. Both are compared with the agreed baseline; a measure is met when
    the reduction reaches its target (percentage points for the binary rate, per cent of the
    baseline for frequency) and the cohort is at least the minimum size.
    """

    baseline_binary_rate: float  # proportion 0–1
    baseline_frequency: float
    frequency_basis: FrequencyBasis = "per_reoffender"
    binary_target_points: float = 0.0  # reduction needed, percentage points
    frequency_target_percent: float = 0.0  # reduction needed, % of the baseline
    binary_payment_per_person: float = 0.0  # per person fewer reoffending than the baseline
    frequency_payment_per_reoffence: float = 0.0  # per reoffence fewer than the baseline
    payment_cap: float | None = None
    minimum_cohort_size: int = 1


@dataclass
class ContractResult:
    cohort_size: int
    reoffenders: int
    reoffences: int
    binary_rate: float
    baseline_binary_rate: float
    binary_reduction_points: float  # baseline − observed, percentage points (positive = better)
    binary_p_value: float  # one-sided exact binomial: P(X ≤ reoffenders | baseline rate)
    binary_met: bool
    people_fewer: float  # baseline rate × n − reoffenders
    frequency: float | None
    baseline_frequency: float
    frequency_basis: str
    frequency_reduction_percent: float | None
    frequency_met: bool
    reoffences_fewer: float  # baseline frequency × denominator − reoffences
    binary_payment: float
    frequency_payment: float
    payment: float
    capped: bool
    large_enough: bool
    notes: list[str]
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


def contract_measures(
    *, cohort_size: int, reoffenders: int, reoffences: int, terms: ContractTerms
) -> ContractResult:
    """The payment-by-results result for a cohort's proven reoffending against the baseline."""
    for name, value in (
        ("cohort_size", cohort_size),
        ("reoffenders", reoffenders),
        ("reoffences", reoffences),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise AppraisalError(name, "must be a whole number, 0 or more")
    if cohort_size < 1:
        raise AppraisalError("cohort_size", "must be 1 or more")
    if reoffenders > cohort_size:
        raise AppraisalError("reoffenders", "cannot be more than the cohort size")
    if reoffences < reoffenders:
        raise AppraisalError("reoffences", "every reoffender has at least one reoffence")
    if not 0 <= terms.baseline_binary_rate <= 1:
        raise AppraisalError("baseline_binary_rate", "must be a proportion between 0 and 1")
    if terms.baseline_frequency < 0:
        raise AppraisalError("baseline_frequency", "must be 0 or more")
    if terms.frequency_basis not in ("per_person", "per_reoffender"):
        raise AppraisalError("frequency_basis", "must be per_person or per_reoffender")

    n = int(cohort_size)
    notes: list[str] = []
    rate = reoffenders / n
    reduction_points = 100 * (terms.baseline_binary_rate - rate)
    p_value = float(stats.binom.cdf(reoffenders, n, terms.baseline_binary_rate))
    large = n >= terms.minimum_cohort_size
    if not large:
        notes.append(
            f"The cohort of {n} is smaller than the contract's minimum of "
            f"{terms.minimum_cohort_size}: no measure is met and nothing is payable."
        )
    binary_met = large and reduction_points >= terms.binary_target_points
    people_fewer = terms.baseline_binary_rate * n - reoffenders

    denominator = n if terms.frequency_basis == "per_person" else reoffenders
    if denominator > 0:
        frequency: float | None = reoffences / denominator
        assert frequency is not None
        reduction_pct = (
            100 * (terms.baseline_frequency - frequency) / terms.baseline_frequency
            if terms.baseline_frequency > 0
            else None
        )
    else:
        frequency, reduction_pct = None, None
        notes.append("Nobody reoffended, so there is no frequency per reoffender to measure.")
    frequency_met = (
        large and reduction_pct is not None and reduction_pct >= terms.frequency_target_percent
    )
    reoffences_fewer = terms.baseline_frequency * denominator - reoffences

    binary_payment = max(0.0, people_fewer) * terms.binary_payment_per_person if binary_met else 0.0
    frequency_payment = (
        max(0.0, reoffences_fewer) * terms.frequency_payment_per_reoffence if frequency_met else 0.0
    )
    payment = binary_payment + frequency_payment
    capped = terms.payment_cap is not None and payment > terms.payment_cap
    if capped:
        assert terms.payment_cap is not None
        payment = terms.payment_cap
        notes.append("The payment is limited by the contract's cap.")
    basis = "per person" if terms.frequency_basis == "per_person" else "per reoffender"
    text = (
        f"{reoffenders} of {n} people ({100 * rate:.1f}%) had a proven reoffence against a "
        f"baseline of {100 * terms.baseline_binary_rate:.1f}%: "
        f"{'met' if binary_met else 'not met'} (reduction {reduction_points:.1f} points, target "
        f"{terms.binary_target_points:g}). "
    )
    if frequency is not None:
        text += (
            f"Frequency {frequency:.2f} reoffences {basis} against {terms.baseline_frequency:.2f}: "
            f"{'met' if frequency_met else 'not met'}"
        )
        if reduction_pct is not None:
            text += f" (reduction {reduction_pct:.1f}%, target {terms.frequency_target_percent:g}%)"
        text += ". "
    text += f"Payable: £{payment:,.2f}."
    return ContractResult(
        cohort_size=n,
        reoffenders=int(reoffenders),
        reoffences=int(reoffences),
        binary_rate=rate,
        baseline_binary_rate=terms.baseline_binary_rate,
        binary_reduction_points=reduction_points,
        binary_p_value=p_value,
        binary_met=binary_met,
        people_fewer=people_fewer,
        frequency=frequency,
        baseline_frequency=terms.baseline_frequency,
        frequency_basis=terms.frequency_basis,
        frequency_reduction_percent=reduction_pct,
        frequency_met=frequency_met,
        reoffences_fewer=reoffences_fewer,
        binary_payment=binary_payment,
        frequency_payment=frequency_payment,
        payment=payment,
        capped=capped,
        large_enough=large,
        notes=notes,
        summary=text,
    )


def contract_measures_from_outcomes(
    rows: Iterable[Mapping[str, Any]], terms: ContractTerms
) -> ContractResult:
    """Contract measures from per-person outcomes (the outcome engine's `reoffended` 0/1 and
    `reoffences` count). People whose outcome is not final yet (either value missing) are left
    out, and the note says how many."""
    n = reoffenders = reoffences = pending = 0
    for row in rows:
        flag, count = row.get("reoffended"), row.get("reoffences")
        if flag is None or count is None:
            pending += 1
            continue
        n += 1
        reoffenders += 1 if bool(flag) else 0
        reoffences += int(count)
    if n == 0:
        raise AppraisalError("outcomes", "no one in the cohort has a final outcome yet")
    result = contract_measures(
        cohort_size=n, reoffenders=reoffenders, reoffences=reoffences, terms=terms
    )
    if pending:
        result.notes.append(
            f"{pending} people were left out because their follow-up and waiting period have not "
            "ended."
        )
    return result


def pick_estimate(estimates: Iterable[Estimate]) -> Estimate | None:
    """The estimate an appraisal should use: the frequency (reoffences per person) if there is
    one, else the one-year rate (converted with reoffences per reoffender); None if neither."""
    found = list(estimates)
    for wanted in (FREQUENCY_MEASURES, RATE_MEASURES):
        for estimate in found:
            if estimate.measure in wanted:
                return estimate
    return None


def effect_estimate(
    *,
    difference: float,
    ci_low: float,
    ci_high: float,
    comparison: float,
    measure: str = "frequency",
    label: str = "",
) -> Estimate:
    """An `Estimate` from figures typed in (e.g. a published Justice Data Lab result)."""
    return Estimate(
        measure=measure,
        label=label or ("reoffences per person" if measure in FREQUENCY_MEASURES else measure),
        treated=comparison + difference,
        comparison=comparison,
        difference=difference,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=None,
        significant=not (ci_low <= 0 <= ci_high),
        method="entered",
    )
