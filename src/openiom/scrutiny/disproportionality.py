"""Disproportionality of a selection: who was selected compared with who was eligible.

Given the selected group (a scoring run's top-N candidates, or the registered cohort) and the
eligible population, for each person attribute (sex, ethnicity, age band) we give:

- composition: counts and percentages of selected and of eligible people in each category;
- the **relative rate index** (RRI): the selection rate in a category divided by the selection
  rate in a reference category, with a 95% CI by the log method;
- the ratio of a category's share of the selected to its share of the eligible;
- a plain-English sentence, with zero counts and small numbers handled and flagged.

Pure polars/numpy: no Django. See docs/scrutiny.md for formulas and interpretation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from openiom.scrutiny.attributes import (
    IC_BROAD,
    IC_LABELS,
    NOT_KNOWN,
    NOT_STATED,
    ONS_BROAD,
    ONS_LABELS,
    SEX_LABELS,
    AgeBands,
    age_expr,
    ordered_categories,
)
from openiom.scrutiny.stats import Z95, clean_float, fmt_pct, fmt_ratio

Dimension = Literal["sex", "ethnicity_officer_defined", "ethnicity_self_defined", "age_band"]
ALL_DIMENSIONS: tuple[Dimension, ...] = (
    "sex",
    "ethnicity_officer_defined",
    "ethnicity_self_defined",
    "age_band",
)
DIMENSION_TITLES: dict[str, str] = {
    "sex": "Sex",
    "ethnicity_officer_defined": "Ethnicity (officer-defined)",
    "ethnicity_self_defined": "Ethnicity (self-defined)",
    "age_band": "Age band",
}
# The column each dimension is computed from.
SOURCE_COLUMNS: dict[str, str] = {
    "sex": "sex",
    "ethnicity_officer_defined": "ethnicity_officer_defined",
    "ethnicity_self_defined": "ethnicity_self_defined",
    "age_band": "date_of_birth",
}


class DisproportionalityError(ValueError):
    """Input that cannot be analysed; the message says what and where."""


@dataclass(frozen=True)
class DisproportionalityConfig:
    as_of: dt.date
    age_bands: AgeBands = field(default_factory=AgeBands)
    broad_ethnicity: bool = True
    # Categories with fewer selected or eligible people than this are "too few to interpret".
    min_count: int = 5
    # "haldane": add 0.5 to each cell of a 2×2 table with a zero cell (flagged);
    # "none": report such comparisons as not estimable.
    zero_correction: Literal["haldane", "none"] = "haldane"
    # Reference category per dimension (label such as "White", or a code such as "IC1" or "M").
    # Defaults: White (or IC1 / W1 when not collapsed), Male, the largest age band.
    references: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "age_bands": list(self.age_bands.lower_bounds),
            "broad_ethnicity": self.broad_ethnicity,
            "min_count": self.min_count,
            "zero_correction": self.zero_correction,
            "references": dict(self.references),
        }


@dataclass(frozen=True)
class RateRatio:
    """Relative rate index (a/n1)/(c/n2) with a 95% CI by the log method."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    # "estimated", "corrected" (Haldane–Anscombe 0.5 added to every cell) or "not_estimable"
    status: str
    reason: str = ""


def relative_rate_index(
    a: int, n1: int, c: int, n2: int, *, zero_correction: Literal["haldane", "none"] = "haldane"
) -> RateRatio:
    """RRI of a group (a selected of n1 eligible) against a reference (c of n2).

    RRI = (a/n1) / (c/n2);  SE(ln RRI) = sqrt(1/a − 1/n1 + 1/c − 1/n2);
    95% CI = exp(ln RRI ± 1.96 · SE).
    If any cell of the 2×2 table (a, n1−a, c, n2−c) is zero, the Haldane–Anscombe correction adds
    0.5 to every cell (so n gains 1) and the result is flagged "corrected"; with no one selected in
    either group, or no one eligible, there is nothing to compare and it is "not estimable".
    """
    if not (0 <= a <= n1 and 0 <= c <= n2):
        raise DisproportionalityError(
            f"Selected counts must not exceed eligible counts (got {a}/{n1} and {c}/{n2})"
        )
    if n1 == 0:
        return RateRatio(None, None, None, "not_estimable", "no eligible people in this group")
    if n2 == 0:
        return RateRatio(None, None, None, "not_estimable", "no eligible people in the reference")
    if a == 0 and c == 0:
        return RateRatio(None, None, None, "not_estimable", "no one selected in either group")
    status = "estimated"
    fa, fn1, fc, fn2 = float(a), float(n1), float(c), float(n2)
    if 0 in (a, n1 - a, c, n2 - c):
        if zero_correction == "none":
            return RateRatio(None, None, None, "not_estimable", "a zero count")
        fa, fn1, fc, fn2 = a + 0.5, n1 + 1.0, c + 0.5, n2 + 1.0
        status = "corrected"
    rri = (fa / fn1) / (fc / fn2)
    se = math.sqrt(max(1 / fa - 1 / fn1 + 1 / fc - 1 / fn2, 0.0))
    log_rri = math.log(rri)
    return RateRatio(rri, math.exp(log_rri - Z95 * se), math.exp(log_rri + Z95 * se), status)


@dataclass(frozen=True)
class CategoryResult:
    category: str
    selected: int
    eligible: int
    share_of_selected: float | None  # a / all selected
    share_of_eligible: float | None  # n1 / all eligible
    selection_rate: float | None  # a / n1
    share_ratio: float | None  # share_of_selected / share_of_eligible
    is_reference: bool
    rri: float | None
    rri_ci_low: float | None
    rri_ci_high: float | None
    rri_status: str  # reference / estimated / corrected / not_estimable
    too_few: bool
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "selected": self.selected,
            "eligible": self.eligible,
            "share_of_selected": clean_float(self.share_of_selected),
            "share_of_eligible": clean_float(self.share_of_eligible),
            "selection_rate": clean_float(self.selection_rate),
            "share_ratio": clean_float(self.share_ratio),
            "is_reference": self.is_reference,
            "rri": clean_float(self.rri),
            "rri_ci_low": clean_float(self.rri_ci_low),
            "rri_ci_high": clean_float(self.rri_ci_high),
            "rri_status": self.rri_status,
            "too_few": self.too_few,
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class DimensionResult:
    dimension: str
    title: str
    reference: str
    categories: list[CategoryResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "title": self.title,
            "reference": self.reference,
            "categories": [c.to_dict() for c in self.categories],
        }

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame([c.to_dict() for c in self.categories])


@dataclass(frozen=True)
class DisproportionalityReport:
    selected_total: int
    eligible_total: int
    config: DisproportionalityConfig
    dimensions: list[DimensionResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "selected_total": self.selected_total,
            "eligible_total": self.eligible_total,
            "overall_selection_rate": clean_float(
                self.selected_total / self.eligible_total if self.eligible_total else None
            ),
            "config": self.config.to_dict(),
            "dimensions": [d.to_dict() for d in self.dimensions],
        }

    def dimension(self, name: str) -> DimensionResult:
        for d in self.dimensions:
            if d.dimension == name:
                return d
        raise KeyError(name)


# --- categorising people -------------------------------------------------------------------


def _code_map(dimension: str, broad: bool) -> dict[str, str]:
    if dimension == "sex":
        return SEX_LABELS
    if dimension == "ethnicity_officer_defined":
        return IC_BROAD if broad else IC_LABELS
    if dimension == "ethnicity_self_defined":
        return ONS_BROAD if broad else ONS_LABELS
    raise DisproportionalityError(f"Unknown dimension {dimension!r}")


def _missing_label(dimension: str) -> str:
    return NOT_KNOWN if dimension in {"sex", "age_band"} else NOT_STATED


def _categorise(
    frame: pl.DataFrame, dimension: str, config: DisproportionalityConfig, which: str
) -> pl.Series:
    column = SOURCE_COLUMNS[dimension]
    if dimension == "age_band":
        dob = frame.get_column(column)
        if dob.dtype != pl.Date:
            try:
                dob = dob.cast(pl.Utf8).str.to_date("%Y-%m-%d", strict=True)
            except pl.exceptions.PolarsError as exc:
                raise DisproportionalityError(
                    f"{which}: '{column}' must hold dates as YYYY-MM-DD ({exc.__class__.__name__})"
                ) from exc
        ages = pl.DataFrame({"dob": dob}).select(age_expr("dob", config.as_of)).to_series()
        negative = [i + 1 for i, age in enumerate(ages.to_list()) if age is not None and age < 0]
        if negative:
            raise DisproportionalityError(
                f"{which}: date of birth after the as-of date {config.as_of.isoformat()} in "
                f"row(s) {', '.join(map(str, negative[:5]))}"
            )
        return pl.Series(
            [
                NOT_KNOWN if age is None else config.age_bands.label_for(int(age))
                for age in ages.to_list()
            ],
            dtype=pl.Utf8,
        )
    mapping = _code_map(dimension, config.broad_ethnicity)
    values = frame.get_column(column).cast(pl.Utf8).str.strip_chars()
    missing = _missing_label(dimension)
    bad: dict[str, int] = {}
    out: list[str] = []
    for row, value in enumerate(values.to_list(), start=1):
        if value is None or value == "":
            out.append(missing)
        elif value.upper() in mapping:
            out.append(mapping[value.upper()])
        else:
            bad.setdefault(value, row)
            out.append(missing)
    if bad:
        examples = ", ".join(f"{v!r} (row {r})" for v, r in list(bad.items())[:5])
        raise DisproportionalityError(
            f"{which}: unknown {DIMENSION_TITLES[dimension].lower()} code(s) in '{column}': "
            f"{examples}; expected one of {', '.join(sorted(mapping))}"
        )
    return pl.Series(out, dtype=pl.Utf8)


def _reference_for(
    dimension: str,
    categories: Sequence[str],
    eligible: Mapping[str, int],
    config: DisproportionalityConfig,
) -> str:
    wanted = config.references.get(dimension)
    if wanted is not None:
        if wanted in categories:
            return str(wanted)
        mapping = _code_map(dimension, config.broad_ethnicity) if dimension != "age_band" else {}
        if wanted.upper() in mapping:
            return mapping[wanted.upper()]
        raise DisproportionalityError(
            f"Reference {wanted!r} is not a category of {DIMENSION_TITLES[dimension].lower()}; "
            f"choose one of: {', '.join(categories)}"
        )
    if dimension == "sex":
        return "Male"
    if dimension == "ethnicity_officer_defined":
        return "White" if config.broad_ethnicity else IC_LABELS["IC1"]
    if dimension == "ethnicity_self_defined":
        return "White" if config.broad_ethnicity else ONS_LABELS["W1"]
    # Age: the largest band among the eligible (first in order on a tie), never "Not known".
    known = [c for c in categories if c != NOT_KNOWN]
    return max(known, key=lambda c: (eligible.get(c, 0), -known.index(c)))


def _people(dimension: str, category: str, broad: bool) -> str:
    """How a category reads in a sentence (lower case; capitalised where it starts one)."""
    if category in {NOT_KNOWN, NOT_STATED}:
        noun = {"sex": "sex", "age_band": "age"}.get(dimension, "ethnicity")
        verb = "not stated" if category == NOT_STATED else "not known"
        return f"people whose {noun} was {verb}"
    if dimension == "sex":
        return f"{category.lower()} people"
    if dimension == "age_band":
        if category.startswith("Under"):
            return f"people aged under {category.split()[1]}"
        if category.endswith("+"):
            return f"people aged {category[:-1]} and over"
        return f"people aged {category}"
    if broad:
        return "people of other ethnic groups" if category == "Other" else f"{category} people"
    return f"people recorded as “{category}”"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(
    dimension: str,
    category: str,
    reference: str,
    a: int,
    n1: int,
    c: int,
    n2: int,
    rr: RateRatio | None,
    too_few: bool,
    config: DisproportionalityConfig,
) -> str:
    who = _people(dimension, category, config.broad_ethnicity)
    ref_who = _people(dimension, reference, config.broad_ethnicity)
    if rr is None:  # the reference itself
        rate = f" ({fmt_pct(a / n1)})" if n1 else ""
        return f"{_cap(who)} are the reference group: {a} of {n1} eligible were selected{rate}."
    if n1 == 0:
        return f"No eligible {who} — no rate can be given."
    if too_few:
        small = []
        if min(a, n1) < config.min_count:
            small.append(f"{a} of {n1} eligible {who} were selected")
        if min(c, n2) < config.min_count:
            small.append(f"{c} of {n2} eligible {ref_who} (the reference) were selected")
        return f"Too few to interpret (fewer than {config.min_count}): " + "; ".join(small) + "."
    if rr.status == "not_estimable":
        return f"{_cap(who)} and {ref_who} cannot be compared: {rr.reason}."
    assert rr.estimate is not None and rr.ci_low is not None and rr.ci_high is not None
    text = (
        f"{_cap(who)} were selected at {fmt_ratio(rr.estimate)} times the rate of {ref_who} "
        f"(95% CI {fmt_ratio(rr.ci_low)} to {fmt_ratio(rr.ci_high)})."
    )
    if rr.status == "corrected":
        text += " A count was zero, so 0.5 was added to each count (Haldane–Anscombe correction)."
    if rr.ci_low <= 1 <= rr.ci_high:
        text += " The interval includes 1, so the difference could be due to chance."
    return text


# --- main entry point ------------------------------------------------------------------------


def _check_inputs(
    selected: pl.DataFrame, eligible: pl.DataFrame, columns: Sequence[str], id_column: str | None
) -> None:
    for which, frame in (("Selected group", selected), ("Eligible population", eligible)):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DisproportionalityError(
                f"{which} is missing column(s): {', '.join(missing)} "
                f"(it has: {', '.join(frame.columns) or 'none'})"
            )
    if eligible.height == 0:
        raise DisproportionalityError("The eligible population is empty")
    if id_column and id_column in selected.columns and id_column in eligible.columns:
        dupes = eligible.get_column(id_column).is_duplicated()
        if dupes.any():
            ex = eligible.filter(dupes).get_column(id_column).unique().head(5).to_list()
            raise DisproportionalityError(
                f"Eligible population lists the same '{id_column}' more than once: {ex}"
            )
        if selected.get_column(id_column).is_duplicated().any():
            raise DisproportionalityError(f"Selected group lists the same '{id_column}' twice")
        outside = selected.filter(
            ~pl.col(id_column).is_in(eligible.get_column(id_column).implode())
        )
        if outside.height:
            ex = outside.get_column(id_column).head(5).to_list()
            raise DisproportionalityError(
                f"{outside.height} selected people are not in the eligible population, e.g. "
                f"{id_column} {ex}"
            )
    if selected.height > eligible.height:
        raise DisproportionalityError(
            f"More people selected ({selected.height}) than eligible ({eligible.height})"
        )


def disproportionality(
    *,
    selected: pl.DataFrame,
    eligible: pl.DataFrame,
    config: DisproportionalityConfig,
    dimensions: Sequence[str] = ALL_DIMENSIONS,
    id_column: str | None = "person_id",
) -> DisproportionalityReport:
    """Composition and relative rate indices of `selected` against `eligible`.

    Both frames hold one row per person with the columns the dimensions need: `sex` (M/F/U),
    `ethnicity_officer_defined` (IC codes), `ethnicity_self_defined` (ONS codes),
    `date_of_birth` (dates). The selected must be a subset of the eligible; if both frames have
    `id_column` this is checked person by person, otherwise category by category.
    """
    unknown = [d for d in dimensions if d not in SOURCE_COLUMNS]
    if unknown:
        raise DisproportionalityError(
            f"Unknown dimension(s): {', '.join(unknown)}; choose from {', '.join(ALL_DIMENSIONS)}"
        )
    if config.min_count < 0:
        raise DisproportionalityError("The small-number threshold cannot be negative")
    _check_inputs(selected, eligible, [SOURCE_COLUMNS[d] for d in dimensions], id_column)
    total_sel, total_elig = selected.height, eligible.height
    results: list[DimensionResult] = []
    for dimension in dimensions:
        sel_cats = _categorise(selected, dimension, config, "Selected group")
        elig_cats = _categorise(eligible, dimension, config, "Eligible population")
        sel_counts = dict(sel_cats.value_counts().iter_rows())
        elig_counts = dict(elig_cats.value_counts().iter_rows())
        order = ordered_categories(dimension, broad=config.broad_ethnicity, bands=config.age_bands)
        reference = _reference_for(dimension, order, elig_counts, config)
        # Broad groups and age bands are always listed, so that an absent group is visible
        # (IC codes have no Mixed group); otherwise categories present, plus the reference.
        always = dimension == "age_band" or (
            config.broad_ethnicity and dimension.startswith("ethnicity")
        )
        shown = [
            cat
            for cat in order
            if cat in sel_counts
            or cat in elig_counts
            or cat == reference
            or (
                always
                and cat not in {NOT_KNOWN, NOT_STATED}
                and not (dimension == "ethnicity_officer_defined" and cat == "Mixed")
            )
        ]
        c, n2 = sel_counts.get(reference, 0), elig_counts.get(reference, 0)
        rows: list[CategoryResult] = []
        for category in shown:
            a, n1 = sel_counts.get(category, 0), elig_counts.get(category, 0)
            if a > n1:
                raise DisproportionalityError(
                    f"{DIMENSION_TITLES[dimension]} '{category}': {a} selected but only {n1} "
                    "eligible — the selected group must be part of the eligible population"
                )
            is_ref = category == reference
            rr = (
                None
                if is_ref
                else relative_rate_index(a, n1, c, n2, zero_correction=config.zero_correction)
            )
            too_few = min(a, n1) < config.min_count or (
                not is_ref and min(c, n2) < config.min_count
            )
            share_sel = a / total_sel if total_sel else None
            share_elig = n1 / total_elig
            rows.append(
                CategoryResult(
                    category=category,
                    selected=a,
                    eligible=n1,
                    share_of_selected=share_sel,
                    share_of_eligible=share_elig,
                    selection_rate=a / n1 if n1 else None,
                    share_ratio=(share_sel / share_elig) if share_sel is not None and n1 else None,
                    is_reference=is_ref,
                    rri=1.0 if is_ref and n2 else (rr.estimate if rr else None),
                    rri_ci_low=rr.ci_low if rr else None,
                    rri_ci_high=rr.ci_high if rr else None,
                    rri_status="reference" if is_ref else (rr.status if rr else ""),
                    too_few=too_few,
                    sentence=_sentence(
                        dimension, category, reference, a, n1, c, n2, rr, too_few, config
                    ),
                )
            )
        results.append(DimensionResult(dimension, DIMENSION_TITLES[dimension], reference, rows))
    return DisproportionalityReport(total_sel, total_elig, config, results)
