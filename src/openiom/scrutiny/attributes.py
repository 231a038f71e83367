"""Person attributes used in disproportionality checks: sex, ethnicity groupings and age bands.

Codes match `openiom.people.models` (police IC codes, ONS 2021 self-defined groups, sex M/F/U)
but are repeated here as plain data so that the maths never imports Django.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

NOT_STATED = "Not stated"
NOT_KNOWN = "Not known"

SEX_LABELS: dict[str, str] = {"M": "Male", "F": "Female", "U": NOT_KNOWN}

BROAD_ETHNIC_GROUPS: tuple[str, ...] = ("White", "Mixed", "Asian", "Black", "Other", NOT_STATED)

# Officer-defined (IC) codes to the broad groups. IC5 (Chinese, Japanese or other South East
# Asian) sits under Asian as Chinese does in the ONS 2021 classification; IC6 (Arab or North
# African) under Other as Arab does. IC codes have no Mixed category.
IC_LABELS: dict[str, str] = {
    "IC1": "IC1 White – North European",
    "IC2": "IC2 White – South European",
    "IC3": "IC3 Black",
    "IC4": "IC4 Asian",
    "IC5": "IC5 Chinese, Japanese or other South East Asian",
    "IC6": "IC6 Arab or North African",
    "IC9": "IC9 Not known",
}
IC_BROAD: dict[str, str] = {
    "IC1": "White",
    "IC2": "White",
    "IC3": "Black",
    "IC4": "Asian",
    "IC5": "Asian",
    "IC6": "Other",
    "IC9": NOT_STATED,
}

ONS_LABELS: dict[str, str] = {
    "W1": "White: English, Welsh, Scottish, Northern Irish or British",
    "W2": "White: Irish",
    "W3": "White: Gypsy or Irish Traveller",
    "W4": "White: Roma",
    "W9": "White: Any other White background",
    "M1": "Mixed: White and Black Caribbean",
    "M2": "Mixed: White and Black African",
    "M3": "Mixed: White and Asian",
    "M9": "Mixed: Any other Mixed or multiple ethnic background",
    "A1": "Asian: Indian",
    "A2": "Asian: Pakistani",
    "A3": "Asian: Bangladeshi",
    "A4": "Asian: Chinese",
    "A9": "Asian: Any other Asian background",
    "B1": "Black: Caribbean",
    "B2": "Black: African",
    "B9": "Black: Any other Black, Black British or Caribbean background",
    "O2": "Other: Arab",
    "O9": "Other: Any other ethnic group",
    "NS": NOT_STATED,
}
ONS_BROAD: dict[str, str] = {
    code: (NOT_STATED if code == "NS" else label.split(":")[0])
    for code, label in ONS_LABELS.items()
}


@dataclass(frozen=True)
class AgeBands:
    """Age bands from lower bounds: (18, 21, 25, 30, 40, 50) gives Under 18, 18–20, 21–24,
    25–29, 30–39, 40–49 and 50+. Age is whole years on the as-of date."""

    lower_bounds: tuple[int, ...] = (18, 21, 25, 30, 40, 50)

    def __post_init__(self) -> None:
        b = self.lower_bounds
        if not b:
            raise ValueError("Age bands need at least one lower bound")
        if any(x < 0 for x in b) or any(x >= y for x, y in itertools.pairwise(b)):
            raise ValueError(f"Age band lower bounds must be increasing and not negative: {b}")

    @property
    def labels(self) -> list[str]:
        b = self.lower_bounds
        out = [f"Under {b[0]}"] if b[0] > 0 else []
        for lo, hi in itertools.pairwise(b):
            out.append(f"{lo}" if hi - lo == 1 else f"{lo}–{hi - 1}")
        out.append(f"{b[-1]}+")
        return out

    def label_for(self, age: int) -> str:
        b = self.lower_bounds
        if age < b[0]:
            return f"Under {b[0]}"
        idx = sum(1 for x in b if age >= x) - 1 + (1 if b[0] > 0 else 0)
        return self.labels[idx]

    @classmethod
    def parse(cls, text: str) -> AgeBands:
        """'18,21,25,30,40,50' -> AgeBands((18, 21, 25, 30, 40, 50))."""
        try:
            bounds = tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError as exc:
            raise ValueError(
                f"Age bands must be whole numbers separated by commas: {text!r}"
            ) from exc
        return cls(bounds)


def age_expr(dob_column: str, as_of: dt.date) -> pl.Expr:
    """Whole years between date of birth and `as_of` (birthday not yet reached: one fewer).

    A 29 February birthday is reached on 1 March in common years, as in English law.
    """
    dob = pl.col(dob_column)
    not_yet = (dob.dt.month() > as_of.month) | (
        (dob.dt.month() == as_of.month) & (dob.dt.day() > as_of.day)
    )
    return (pl.lit(as_of.year) - dob.dt.year()).cast(pl.Int32) - not_yet.cast(pl.Int32)


def ordered_categories(kind: str, *, broad: bool, bands: AgeBands | None = None) -> Sequence[str]:
    """Canonical display order for a dimension's categories."""
    if kind == "sex":
        return list(SEX_LABELS.values())
    if kind in {"ethnicity_officer_defined", "ethnicity_self_defined"} and broad:
        return list(BROAD_ETHNIC_GROUPS)
    if kind == "ethnicity_officer_defined":
        return list(IC_LABELS.values())
    if kind == "ethnicity_self_defined":
        return list(ONS_LABELS.values())
    if kind == "age_band":
        return [*(bands or AgeBands()).labels, NOT_KNOWN]
    raise ValueError(f"Unknown dimension {kind!r}")
