"""Shipped defaults (version 1) for value for money, loaded by migration 0002.

Status tags as in shared/reference/evaluation-methods.md: V (seen in an official or primary source),
V2 (seen only in a secondary source, such as third-party code), U (unconfirmed: a local default the
partnership must review; shown to users with its source).

The unit costs of crime are not repeated here: the appraisal reads the Home Office (Heeks et al.
2018) table that identification scoring already ships (`openiom.scoring.defaults.COST_TABLE`,
key `home-office-costs-2018`), pinned by key and version in the assumptions below.
"""

from __future__ import annotations

import copy
from typing import Any

from openiom.scoring.defaults import COST_KEY

ASSUMPTIONS_KEY = "vfm-assumptions"
ASSUMPTIONS_NAME = "Value-for-money appraisal assumptions"
PROGRAMME_KEY = "iom-programme-costs"
PROGRAMME_NAME = "IOM programme costs"

_DEFLATOR_SOURCE = (
    "HM Treasury, GDP deflators at market prices, and money GDP (December 2025 Quarterly "
    "National Accounts), calendar-year series, 2024 = 100, as bundled in the greenbook R package "
    "(github.com/charlescoverdale/greenbook, inst/extdata/gdp_deflator.csv) [V2]: check against "
    "the latest GOV.UK release before relying on it. A financial-year price year (e.g. 2015/16) "
    "is uprated with the calendar year it starts in [U]."
)

# Calendar-year GDP deflator, 2024 = 100 (see _DEFLATOR_SOURCE).
DEFLATOR_INDEX: dict[str, float] = {
    "2010": 69.1217,
    "2011": 70.834,
    "2012": 71.9294,
    "2013": 73.4795,
    "2014": 74.6524,
    "2015": 75.1536,
    "2016": 76.4554,
    "2017": 77.6367,
    "2018": 79.1606,
    "2019": 81.1085,
    "2020": 85.2137,
    "2021": 85.6358,
    "2022": 90.5005,
    "2023": 96.2507,
    "2024": 100.0,
}

ASSUMPTIONS: dict[str, Any] = {
    "currency": "GBP",
    "appraisal_year": "2024",
    "unit_cost_table": {"key": COST_KEY, "version": 1},
    "deflator": {
        "series": "GDP deflator at market prices (calendar years)",
        "base": "2024 = 100",
        "status": "V2",
        "source": _DEFLATOR_SOURCE,
        "index": DEFLATOR_INDEX,
    },
    "discount_rate": {
        "value": 0.035,
        "low": 0.015,
        "high": 0.05,
        "status": "U",
        "source": (
            "HM Treasury Green Book social time preference rate, 3.5% a year for the first 30 "
            "years [U: confirm against the current Green Book]; the 1.5%–5% range is a local "
            "sensitivity choice [U]."
        ),
    },
    "horizon_years": {
        "value": 10,
        "status": "U",
        "source": (
            "Ten-year appraisal period, as in the Sussex IOM cost-benefit analysis (up to £1.71 "
            "per £1 over 10 years, seed 001) [U: local choice]."
        ),
    },
    "proven_to_actual": {
        "value": 1.0,
        "low": 1.0,
        "high": 3.0,
        "status": "U",
        "source": (
            "Crimes behind each proven reoffence. Proven offences understate actual offending "
            "(evaluation-methods.md §6); no verified ratio is held, so the central value counts "
            "proven offences only (conservative) and the high value of 3 is a local sensitivity "
            "assumption [U]."
        ),
    },
    "persistence": {
        "value": 0.0,
        "low": 0.0,
        "high": 0.5,
        "status": "U",
        "source": (
            "Share of the first year's effect that carries into each following year. The matched "
            "evaluation measures one year only, so the central value assumes no effect after it "
            "(conservative); 0.5 a year is a local sensitivity assumption [U]."
        ),
    },
    "reoffences_per_reoffender": {
        "value": 2.9,
        "low": 2.0,
        "high": 4.3,
        "status": "V",
        "source": (
            "Used only when the estimate is a one-year rate, to turn people into reoffences: about "
            "2.9 reoffences per reoffender (MoJ proven reoffending, 2011–12) [V]; high value 4.3 "
            "per offending PPO (2009 PPO cohort) [V]; low value 2.0 is a local choice [U]."
        ),
    },
    "unit_cost_scale": {
        "value": 1.0,
        "low": 0.8,
        "high": 1.2,
        "status": "U",
        "source": (
            "Multiplier on every unit cost of crime, for sensitivity to the Home Office values "
            "(several are unconfirmed or mapped by category); ±20% is a local choice [U]."
        ),
    },
    "programme_cost_scale": {
        "value": 1.0,
        "low": 0.8,
        "high": 1.2,
        "status": "U",
        "source": (
            "Multiplier on the programme costs, for sensitivity to costing errors (the Green "
            "Book warns that costs are usually underestimated); ±20% is a local choice [U]."
        ),
    },
    "offence_mix": {
        "status": "U",
        "source": (
            "Illustrative mix of the reoffences an IOM cohort commits, used only when the cohort's "
            "own offences are not available (flat-table evaluations); database evaluations use "
            "the cohort's recorded offences instead [U]."
        ),
        "shares": {
            "Theft (non-motor)": 0.35,
            "Violence against the person": 0.20,
            "Burglary (domestic)": 0.10,
            "Criminal damage": 0.10,
            "Public order or harassment": 0.10,
            "Drug possession or supply": 0.10,
            "Robbery": 0.05,
        },
    },
}

ASSUMPTIONS_SOURCE = (
    "Green Book discounting [U], GDP deflator [V2], ten-year horizon [U], proven-to-actual "
    "multiplier [U], persistence [U], reoffences per reoffender [V]; see each assumption's source."
)

_LOCAL = "illustrative local default [U]: replace with the partnership's own figures"

PROGRAMME: dict[str, Any] = {
    "currency": "GBP",
    "price_year": "2024",
    "months_per_person": {
        "value": 12,
        "low": 6,
        "high": 18,
        "status": "U",
        "source": f"Average months each person spends on the IOM cohort; {_LOCAL}.",
    },
    "staff": [
        {
            "agency": "Police",
            "role": "IOM police offender manager",
            "hours_per_person_month": 6.0,
            "hourly_cost": 45.0,
            "status": "U",
            "source": f"Extra police time over usual management; {_LOCAL}.",
        },
        {
            "agency": "Probation",
            "role": "Probation practitioner",
            "hours_per_person_month": 5.0,
            "hourly_cost": 40.0,
            "status": "U",
            "source": f"Extra probation contact over usual supervision; {_LOCAL}.",
        },
        {
            "agency": "Drug and alcohol service",
            "role": "Recovery worker",
            "hours_per_person_month": 2.0,
            "hourly_cost": 35.0,
            "status": "U",
            "source": f"Prioritised assessment and key work; {_LOCAL}.",
        },
        {
            "agency": "Local authority housing",
            "role": "Housing officer",
            "hours_per_person_month": 1.0,
            "hourly_cost": 35.0,
            "status": "U",
            "source": f"Housing advice and tenancy support; {_LOCAL}.",
        },
        {
            "agency": "IOM partnership",
            "role": "Coordinator and analyst share",
            "hours_per_person_month": 1.0,
            "hourly_cost": 40.0,
            "status": "U",
            "source": f"Panel, tracking and evaluation time; {_LOCAL}.",
        },
    ],
    "interventions": [
        {
            "name": "Structured drug treatment",
            "cost_per_participant": 2000.0,
            "share_receiving": 0.4,
            "status": "U",
            "source": f"Extra treatment places bought for the cohort; {_LOCAL}.",
        },
        {
            "name": "Housing support",
            "cost_per_participant": 800.0,
            "share_receiving": 0.3,
            "status": "U",
            "source": f"Supported housing or floating support; {_LOCAL}.",
        },
        {
            "name": "Employment and training",
            "cost_per_participant": 500.0,
            "share_receiving": 0.2,
            "status": "U",
            "source": f"Courses and mentoring; {_LOCAL}.",
        },
    ],
    "set_up": [
        {
            "name": "Partnership set-up (co-location, information-sharing agreement, training)",
            "cost": 20000.0,
            "status": "U",
            "source": f"One-off costs in the first year; {_LOCAL}.",
        }
    ],
}

PROGRAMME_SOURCE = (
    "Illustrative local defaults [U]: every staff, intervention and set-up figure must be replaced "
    "with the partnership's own costing before an appraisal is used."
)


def assumptions_config() -> dict[str, Any]:
    return copy.deepcopy(ASSUMPTIONS)


def programme_config() -> dict[str, Any]:
    return copy.deepcopy(PROGRAMME)
