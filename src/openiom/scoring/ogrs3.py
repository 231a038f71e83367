"""OGRS3 — Offender Group Reconviction Scale, version 3 (Howard, Francis, Soothill & Humphreys 2009).

Formula and coefficients as implemented in MoJ's open-source actuarial service (see
shared/reference/evaluation-methods.md §4)::

    copas  = ln(S / (10 + age_at_current_conviction - age_at_first_sanction))
    x      = 1.251124464*copas + status + ageGender(age at start of follow-up) + offence
    status = 0.126142106 if S == 1 else 0.463062792
    P(1yr) = logistic(1.402562384 + x);  P(2yr) = logistic(2.121705678 + x)

The age-gender band uses the age at the *start of follow-up* (the scoring date); the copas term
uses the age at the *current conviction* and at the *first sanction*. The published female vector
(age 43, convicted at 37, first sanction at 14, S=6, criminal damage -> 16.98% / 29.57%) fixes
this reading.

`ogrs3()` is the scalar version; `ogrs3_expr()` builds the same computation as polars
expressions for whole populations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

COPAS_COEFFICIENT = 1.251124464
STATUS_FIRST = 0.126142106
STATUS_REPEAT = 0.463062792
INTERCEPT_1YR = 1.402562384
INTERCEPT_2YR = 2.121705678

# (lowest age in band, male weight, female weight). Girls 10-15: sign unconfirmed [U].
AGE_GENDER_BANDS: tuple[tuple[int, float, float], ...] = (
    (10, 0.0, -0.785038489),
    (12, 0.083922902, -0.613852078),
    (14, 0.075775765, -0.669521331),
    (16, -0.061594199, -0.959179629),
    (18, -0.625103618, -0.897480934),
    (21, -1.051515067, -1.028488454),
    (25, -1.166679288, -1.052777806),
    (30, -1.325976554, -1.129127959),
    (35, -1.368045933, -1.421874940),
    (40, -1.499690953, -1.524652221),
    (50, -2.025261458, -2.449837160),
)
MINIMUM_AGE = 10

# Current-offence weights by OGRS3 category (names as in reference.OffenceCode.ogrs3_category).
OFFENCE_WEIGHTS: dict[str, float] = {
    "Violence against the person": 0.0,
    "Robbery": -0.634795912,
    "Public order or harassment": 0.181917975,
    "Sexual (not against a child)": 0.0328,  # one source 0.003276327 [U]
    "Sexual (against a child)": -0.653434071,
    "Soliciting or prostitution": 0.760608858,
    "Burglary (domestic)": -0.12394352,
    "Burglary (other)": 0.240604429,
    "Theft (non-motor)": 0.661244321,
    "Handling stolen goods": 0.351866973,
    "Fraud and forgery": 0.159910192,
    "Absconding or bail offences": 0.733378677,
    "Taking and driving away and related offences": 0.380059431,
    "Theft from a vehicle": 0.427225615,
    "Other motoring": 0.262228428,
    "Drink driving": -0.121439408,
    "Criminal damage": 0.204960477,
    "Drug import, export or production": -0.795556373,
    "Drug possession or supply": 0.077165871,
    "Other offence": -0.060667525,
}
OTHER_OFFENCE_WEIGHT = OFFENCE_WEIGHTS["Other offence"]

# Bands on the 2-year percentage.
BANDS: tuple[tuple[float, str], ...] = (
    (90.0, "Very high"),
    (75.0, "High"),
    (50.0, "Medium"),
    (0.0, "Low"),
)


class OGRS3Error(ValueError):
    """The inputs cannot give an OGRS3 score (and why)."""


@dataclass(frozen=True)
class OGRS3Result:
    one_year: float
    two_year: float
    band: str
    x: float


def age_gender_weight(age: int, sex: str) -> float:
    if age < MINIMUM_AGE:
        raise OGRS3Error(f"OGRS3 is defined from age {MINIMUM_AGE}; age {age} given")
    if sex not in {"M", "F"}:
        raise OGRS3Error(f"OGRS3 needs sex M or F; {sex!r} given")
    weight = 0.0
    for lowest, male, female in AGE_GENDER_BANDS:
        if age >= lowest:
            weight = male if sex == "M" else female
    return weight


def offence_weight(*, ogrs3_weight: float | None = None, category: str | None = None) -> float:
    """The offence code's own weight if it has one, else its category's, else 'other'."""
    if ogrs3_weight is not None and not math.isnan(ogrs3_weight):
        return float(ogrs3_weight)
    if category is not None and category in OFFENCE_WEIGHTS:
        return OFFENCE_WEIGHTS[category]
    return OTHER_OFFENCE_WEIGHT


def band_for(two_year_percent: float) -> str:
    # Bands are on whole percentages: 49.6% is "Medium" only once it rounds to 50.
    pct = math.floor(two_year_percent)
    for lowest, name in BANDS:
        if pct >= lowest:
            return name
    return "Low"


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def ogrs3(
    *,
    sanctions: int,
    age_at_current_conviction: int,
    age_at_first_sanction: int,
    age_at_start: int,
    sex: str,
    offence_weight: float,
) -> OGRS3Result:
    """Scalar OGRS3. `sanctions` counts the current one; ages in whole years."""
    if sanctions < 1:
        raise OGRS3Error("OGRS3 needs at least one sanction (the current one)")
    if age_at_first_sanction > age_at_current_conviction:
        raise OGRS3Error("age at first sanction is after the age at the current conviction")
    if age_at_first_sanction < MINIMUM_AGE:
        raise OGRS3Error(f"age at first sanction {age_at_first_sanction} is under {MINIMUM_AGE}")
    copas = math.log(sanctions / (10 + age_at_current_conviction - age_at_first_sanction))
    status = STATUS_FIRST if sanctions == 1 else STATUS_REPEAT
    x = COPAS_COEFFICIENT * copas + status + age_gender_weight(age_at_start, sex) + offence_weight
    one = _logistic(INTERCEPT_1YR + x)
    two = _logistic(INTERCEPT_2YR + x)
    return OGRS3Result(one_year=one, two_year=two, band=band_for(two * 100.0), x=x)


# --- vectorised (polars) ------------------------------------------------------------------------


def age_gender_expr(age: pl.Expr, sex: pl.Expr) -> pl.Expr:
    """Age-gender weight; null for ages under 10 or sex other than M/F."""
    male: pl.Expr = pl.lit(None, dtype=pl.Float64)
    female: pl.Expr = pl.lit(None, dtype=pl.Float64)
    for lowest, m, f in AGE_GENDER_BANDS:
        male = pl.when(age >= lowest).then(pl.lit(m)).otherwise(male)
        female = pl.when(age >= lowest).then(pl.lit(f)).otherwise(female)
    return (pl.when(sex == "M").then(male).when(sex == "F").then(female).otherwise(None)).cast(
        pl.Float64
    )


def offence_weight_expr(ogrs3_weight: pl.Expr, category: pl.Expr) -> pl.Expr:
    by_category = category.replace_strict(
        OFFENCE_WEIGHTS, default=OTHER_OFFENCE_WEIGHT, return_dtype=pl.Float64
    )
    return pl.coalesce(ogrs3_weight.cast(pl.Float64).fill_nan(None), by_category)


def band_expr(two_year: pl.Expr) -> pl.Expr:
    pct = (two_year * 100.0).floor()
    return (
        pl.when(two_year.is_null())
        .then(None)
        .when(pct >= 90)
        .then(pl.lit("Very high"))
        .when(pct >= 75)
        .then(pl.lit("High"))
        .when(pct >= 50)
        .then(pl.lit("Medium"))
        .otherwise(pl.lit("Low"))
    )


def ogrs3_expr(
    *,
    sanctions: pl.Expr,
    age_at_current_conviction: pl.Expr,
    age_at_first_sanction: pl.Expr,
    age_at_start: pl.Expr,
    sex: pl.Expr,
    offence_weight: pl.Expr,
) -> tuple[pl.Expr, pl.Expr]:
    """(1-year, 2-year) probability expressions; null where OGRS3 is undefined."""
    valid = (
        (sanctions >= 1)
        & (age_at_first_sanction >= MINIMUM_AGE)
        & (age_at_first_sanction <= age_at_current_conviction)
    )
    s = sanctions.cast(pl.Float64)
    copas = (s / (10 + age_at_current_conviction - age_at_first_sanction).cast(pl.Float64)).log()
    status = pl.when(sanctions == 1).then(STATUS_FIRST).otherwise(STATUS_REPEAT)
    x = COPAS_COEFFICIENT * copas + status + age_gender_expr(age_at_start, sex) + offence_weight
    x = pl.when(valid).then(x).otherwise(None)
    one = 1.0 / (1.0 + (-(INTERCEPT_1YR + x)).exp())
    two = 1.0 / (1.0 + (-(INTERCEPT_2YR + x)).exp())
    return one, two


def ogrs3_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ogrs3_1yr, ogrs3_2yr and ogrs3_band to a frame with columns sanctions,
    age_at_current_conviction, age_at_first_sanction, age_at_start, sex, offence_weight."""
    one, two = ogrs3_expr(
        sanctions=pl.col("sanctions"),
        age_at_current_conviction=pl.col("age_at_current_conviction"),
        age_at_first_sanction=pl.col("age_at_first_sanction"),
        age_at_start=pl.col("age_at_start"),
        sex=pl.col("sex"),
        offence_weight=pl.col("offence_weight"),
    )
    return frame.with_columns(one.alias("ogrs3_1yr"), two.alias("ogrs3_2yr")).with_columns(
        band_expr(pl.col("ogrs3_2yr")).alias("ogrs3_band")
    )
