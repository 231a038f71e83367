"""The simulated area's offence mix: real Home Office codes grouped into offence types.

Each type carries the relative frequencies by age group and offender profile, how likely an
offence of that type is to be proven, and how courts tend to sentence it. The numbers are
plausible assumptions chosen so the simulated area reproduces published headline figures (see
docs/simulator.md), not estimates from data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from openiom.reference.loaders import offence_code_rows

# Offender profiles: what kind of offending dominates a person's career.
PROFILES = ("acquisitive", "violent", "general")


@dataclass(frozen=True)
class OffenceType:
    key: str
    label: str
    codes: tuple[str, ...]
    # relative frequency for (youth, adult) in each profile: acquisitive, violent, general
    weight_youth: tuple[float, float, float]
    weight_adult: tuple[float, float, float]
    p_proven: float  # chance an offence of this type ends in a conviction or caution
    minor: bool  # out-of-court disposals are usual for early offences of this type
    custody_logit: float  # adult court: logit of immediate custody for a first offence
    custody_median_days: float  # median custodial sentence length
    acquisitive: bool
    crown_court: bool  # usually dealt with in the Crown Court (longer delays)


TYPES: tuple[OffenceType, ...] = (
    OffenceType(
        "shoplifting",
        "Theft from a shop",
        ("046/00",),
        (30, 8, 14),
        (34, 6, 12),
        0.62,
        True,
        -4.6,
        42,
        True,
        False,
    ),
    OffenceType(
        "burglary_dwelling",
        "Burglary of a dwelling",
        ("028/01", "028/02", "028/03"),
        (5, 1, 2),
        (6, 1, 1.5),
        0.30,
        False,
        -0.9,
        540,
        True,
        True,
    ),
    OffenceType(
        "burglary_other",
        "Burglary of a non-dwelling",
        ("030/01", "030/02"),
        (4, 1, 2),
        (4, 0.5, 1.5),
        0.35,
        False,
        -2.4,
        180,
        True,
        False,
    ),
    OffenceType(
        "theft_other",
        "Theft",
        ("049/00", "049/10", "049/11", "049/12"),
        (7, 3, 5),
        (8, 2, 5),
        0.45,
        True,
        -4.0,
        56,
        True,
        False,
    ),
    OffenceType(
        "theft_from_vehicle",
        "Theft from a motor vehicle",
        ("045/00", "045/10", "045/11"),
        (4, 0.5, 1.5),
        (4, 0.3, 1),
        0.35,
        True,
        -3.0,
        84,
        True,
        False,
    ),
    OffenceType(
        "vehicle_taking",
        "Taking a motor vehicle without consent",
        ("048/00", "048/01"),
        (4, 1, 2),
        (2, 0.5, 1),
        0.45,
        False,
        -2.6,
        120,
        True,
        False,
    ),
    OffenceType(
        "aggravated_vehicle_taking",
        "Aggravated vehicle taking",
        ("037/01", "037/02"),
        (1, 0.3, 0.5),
        (0.6, 0.2, 0.3),
        0.55,
        False,
        -1.2,
        300,
        True,
        True,
    ),
    OffenceType(
        "theft_person",
        "Theft from the person",
        ("039/00",),
        (2, 0.5, 1),
        (2, 0.3, 0.6),
        0.35,
        False,
        -2.2,
        120,
        True,
        False,
    ),
    OffenceType(
        "robbery",
        "Robbery",
        ("034/01", "034/02"),
        (2.5, 1.5, 1),
        (1.5, 1, 0.5),
        0.40,
        False,
        0.0,
        1100,
        True,
        True,
    ),
    OffenceType(
        "handling",
        "Handling stolen goods",
        ("054/00", "054/01"),
        (1, 0.3, 1),
        (3, 0.3, 1.5),
        0.60,
        True,
        -3.2,
        120,
        True,
        False,
    ),
    OffenceType(
        "fraud",
        "Fraud",
        ("053/01", "053/02", "053/04"),
        (0.5, 0.2, 1),
        (3, 0.5, 4),
        0.55,
        True,
        -3.0,
        240,
        True,
        False,
    ),
    OffenceType(
        "abh",
        "Assault occasioning actual bodily harm",
        ("008/01", "008/02", "008/03"),
        (3, 10, 4),
        (2, 14, 5),
        0.50,
        False,
        -1.9,
        240,
        False,
        False,
    ),
    OffenceType(
        "common_assault",
        "Common assault",
        ("105/01", "105/02"),
        (6, 16, 8),
        (4, 18, 9),
        0.55,
        True,
        -4.2,
        70,
        False,
        False,
    ),
    OffenceType(
        "assault_constable",
        "Assault on an emergency worker",
        ("104/01", "104/02"),
        (1, 3, 1.5),
        (1, 4, 2),
        0.85,
        False,
        -3.0,
        84,
        False,
        False,
    ),
    OffenceType(
        "criminal_damage",
        "Criminal damage",
        ("058/01", "058/02", "058/03"),
        (10, 8, 9),
        (5, 6, 7),
        0.40,
        True,
        -4.8,
        56,
        False,
        False,
    ),
    OffenceType(
        "arson",
        "Arson",
        ("056/01", "056/02"),
        (0.6, 0.3, 0.4),
        (0.3, 0.3, 0.3),
        0.35,
        False,
        -1.5,
        540,
        False,
        True,
    ),
    OffenceType(
        "drug_supply",
        "Possession with intent to supply a controlled drug",
        ("092/01", "092/02", "092/03"),
        (1.5, 1, 2),
        (3, 1, 3),
        0.80,
        False,
        -0.8,
        900,
        False,
        True,
    ),
    OffenceType(
        "drug_possession",
        "Possession of a controlled drug",
        ("093/10", "093/11", "093/12"),
        (4, 2, 6),
        (6, 3, 8),
        0.90,
        True,
        -6.0,
        28,
        False,
        False,
    ),
    OffenceType(
        "public_order",
        "Public order offence",
        ("066/01", "066/03", "066/04", "125/01"),
        (6, 8, 7),
        (4, 9, 8),
        0.65,
        True,
        -4.6,
        56,
        False,
        False,
    ),
    OffenceType(
        "harassment",
        "Harassment",
        ("195/01", "195/02"),
        (0.5, 2, 1),
        (1, 4, 2),
        0.50,
        False,
        -2.8,
        120,
        False,
        False,
    ),
    OffenceType(
        "bail",
        "Failing to surrender to bail",
        ("083/01", "083/02"),
        (1, 1, 1.5),
        (3, 2, 3),
        0.95,
        True,
        -3.5,
        28,
        False,
        False,
    ),
    OffenceType(
        "drink_driving",
        "Driving with excess alcohol",
        ("803/01", "803/02"),
        (0, 0, 0.3),
        (1, 1, 4),
        0.95,
        False,
        -5.5,
        70,
        False,
        False,
    ),
    OffenceType(
        "motoring",
        "Driving while disqualified or without insurance",
        ("804/01", "810/01", "814/01"),
        (1, 0.5, 2),
        (3, 2, 7),
        0.90,
        False,
        -3.8,
        84,
        False,
        False,
    ),
)

N_TYPES = len(TYPES)


def codes_table() -> list[str]:
    """Every code the simulator uses, in a fixed order (index = code index)."""
    return [code for t in TYPES for code in t.codes]


@cache
def validated_codes() -> tuple[str, ...]:
    """The codes, checked against the shipped reference data (each must exist with a weight)."""
    weights = {r["code"]: r["ogrs3_weight"] for r in offence_code_rows()}
    bad = [c for c in codes_table() if weights.get(c) is None]
    if bad:
        raise ValueError(
            f"Simulator offence codes missing from the reference table or without an OGRS3 weight: {bad}"
        )
    return tuple(codes_table())


def type_arrays() -> dict[str, np.ndarray]:
    """Per-type parameters as arrays (index = type index)."""
    return {
        "p_proven": np.array([t.p_proven for t in TYPES]),
        "minor": np.array([t.minor for t in TYPES]),
        "custody_logit": np.array([t.custody_logit for t in TYPES]),
        "custody_median": np.array([t.custody_median_days for t in TYPES]),
        "acquisitive": np.array([t.acquisitive for t in TYPES]),
        "crown": np.array([t.crown_court for t in TYPES]),
        "n_codes": np.array([len(t.codes) for t in TYPES]),
        "first_code": np.cumsum([0] + [len(t.codes) for t in TYPES])[:-1],
    }


def cumulative_mix() -> np.ndarray:
    """Cumulative type probabilities, shape (3 profiles x 2 age groups, types); row = profile*2+adult."""
    rows = []
    for p in range(len(PROFILES)):
        for adult in (0, 1):
            w = np.array([(t.weight_adult if adult else t.weight_youth)[p] for t in TYPES], float)
            rows.append(np.cumsum(w / w.sum()))
    table = np.array(rows)
    table[:, -1] = 1.0
    return table
