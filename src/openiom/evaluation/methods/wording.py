"""Plain-English results "per 100 people", in the style of the Justice Data Lab (JDL).

The JDL reports a difference with its 95% confidence interval as a count per 100 people ("between
2 and 8 fewer proven reoffenders per 100 people"), and words a non-significant result carefully:
it is *inconclusive*, more people would need to take part, and it does not mean the programme
fails to affect reoffending (evaluation-methods.md §2). These functions are pure so the same words
appear in the JSON, the web page and the PDF.

Units: rates are proportions (0–1) and counts are per person; everything is multiplied by 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from openiom.evaluation.methods.types import Estimate

INCONCLUSIVE = (
    "More people would need to take part before a conclusive result could be given; "
    "this does not mean the programme fails to affect reoffending."
)

# What one unit of each measure counts, per 100 people.
_NOUNS = {
    "one_year_rate": "proven reoffenders",
    "frequency": "proven reoffences",
    "harm": "crime-harm days",
}


def noun(estimate: Estimate) -> str:
    return _NOUNS.get(estimate.measure, f"units of {estimate.label}")


def fmt(value: float) -> str:
    """A per-100 figure: whole numbers from 100 up, else one decimal place ("12", "4.5")."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    text = f"{value:.1f}"
    text = text.removesuffix(".0")
    return "0" if text == "-0" else text


def fmt_p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "p not available"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def interval_phrase(estimate: Estimate) -> str:
    """ "between 4.2 and 17.9 fewer proven reoffenders per 100 people" (or more / fewer-to-more)."""
    low, high = estimate.ci_low * 100, estimate.ci_high * 100
    unit = f"{noun(estimate)} per 100 people"
    if high < 0:
        return f"between {fmt(-high)} and {fmt(-low)} fewer {unit}"
    if low > 0:
        return f"between {fmt(low)} and {fmt(high)} more {unit}"
    return f"between {fmt(-low)} fewer and {fmt(high)} more {unit}"


def _levels(estimate: Estimate) -> str:
    t, c = fmt(estimate.treated * 100), fmt(estimate.comparison * 100)
    if estimate.measure == "one_year_rate":
        return (
            f"{t} in every 100 people in the programme group had a proven reoffence within one "
            f"year, compared with {c} in every 100 in the matched comparison group"
        )
    return (
        f"the programme group had {t} {noun(estimate)} per 100 people, compared with {c} per 100 "
        f"in the matched comparison group"
    )


def _estimable(estimate: Estimate) -> bool:
    return all(
        math.isfinite(v)
        for v in (estimate.treated, estimate.comparison, estimate.ci_low, estimate.ci_high)
    )


def per_100_sentence(estimate: Estimate, *, confidence: float = 0.95) -> str:
    """The full JDL-style paragraph for one outcome."""
    name = estimate.label[:1].upper() + estimate.label[1:]
    level = f"{round(confidence * 100):d}%"
    if not _estimable(estimate):
        return (
            f"{name}: the difference could not be estimated because too few people were "
            f"matched. {INCONCLUSIVE}"
        )
    lead = f"{name}: {_levels(estimate)}."
    ci = f"({level} confidence interval; {fmt_p(estimate.p_value)})"
    if estimate.significant and estimate.ci_high < 0:
        return (
            f"{lead} This is a statistically significant reduction: {interval_phrase(estimate)} "
            f"{ci}."
        )
    if estimate.significant and estimate.ci_low > 0:
        return (
            f"{lead} This is a statistically significant increase: {interval_phrase(estimate)} "
            f"{ci}."
        )
    return (
        f"{lead} The result is inconclusive: the difference could be anywhere "
        f"{interval_phrase(estimate)} {ci}, so the analysis cannot say whether the programme "
        f"changes this outcome. {INCONCLUSIVE}"
    )


def _clause(estimate: Estimate) -> str:
    if not _estimable(estimate):
        return "could not be estimated"
    if estimate.significant:
        return f"{interval_phrase(estimate)} (statistically significant)"
    return f"inconclusive ({interval_phrase(estimate)})"


def headline(estimates: list[Estimate], label: str) -> str:
    """The per-100 summary: the one-year rate first, then the other outcomes in a clause each."""
    if not estimates:
        return f"{label}: no outcomes were estimated." if label else "No outcomes were estimated."
    main = next((e for e in estimates if e.measure == "one_year_rate"), estimates[0])
    who = label or "The programme group"
    parts: list[str] = []
    if not _estimable(main):
        parts.append(f"{who}: the {main.label} could not be estimated.")
    elif main.significant:
        parts.append(
            f"{who}: {interval_phrase(main)} than a matched comparison group "
            f"({main.label}; statistically significant)."
        )
    else:
        parts.append(
            f"{who}: the {main.label} result is inconclusive — {interval_phrase(main)} "
            f"compared with a matched comparison group."
        )
    others = [e for e in estimates if e is not main]
    if others:
        parts.append(" ".join(f"{e.label[:1].upper()}{e.label[1:]}: {_clause(e)}." for e in others))
    if any(not e.significant for e in estimates):
        parts.append(_inconclusive(estimates))
    if len(estimates) > 1 and any(e.significant for e in estimates):
        parts.append(
            "Several outcomes were tested, so a single significant result among them should be "
            "read with care (see the note on multiple comparisons)."
        )
    return " ".join(parts)


def _inconclusive(estimates: list[Estimate]) -> str:
    if all(not e.significant for e in estimates):
        return INCONCLUSIVE
    return "For the inconclusive outcomes: " + INCONCLUSIVE[:1].lower() + INCONCLUSIVE[1:]


def multiple_outcomes_note(
    estimates: Sequence[Estimate],
    *,
    others: Sequence[tuple[str, float | None]] = (),
    alpha: float = 0.05,
) -> str:
    """A note on multiple comparisons when more than one outcome was tested ("" otherwise).

    `others` adds tests that are not `Estimate`s, e.g. ("time to first reoffence (Cox)", p).
    The note names which results survive a Bonferroni threshold (alpha / number of tests) —
    shown as a check, not a replacement for the main result.
    """
    tests: list[tuple[str, float | None]] = [(e.label, e.p_value) for e in estimates]
    tests.extend(others)
    n = len(tests)
    if n < 2:
        return ""
    threshold = alpha / n
    significant = [name for name, p in tests if p is not None and p < alpha]
    surviving = [name for name, p in tests if p is not None and p < threshold]
    note = (
        f"{n} outcomes were tested. Each extra test adds a chance that one of them looks "
        f"significant by luck alone, so results should be read together rather than picked out."
    )
    if not significant:
        return note
    if surviving:
        kept = ", ".join(surviving)
        return (
            f"{note} With a stricter threshold for {n} tests (Bonferroni, p < {threshold:.3g}), "
            f"these remain significant: {kept}."
        )
    return (
        f"{note} With a stricter threshold for {n} tests (Bonferroni, p < {threshold:.3g}), "
        f"none of the results remains significant."
    )
