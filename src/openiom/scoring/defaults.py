"""Shipped default rule sets (version 1 of each key), loaded by migration 0002.

Status tags as in shared/reference/evaluation-methods.md: V (primary source), V2 (secondary source
only), U (unconfirmed: a local default to review, shown to users with its source).
"""

from __future__ import annotations

import copy
from typing import Any

HARM_KEY = "crime-harm-index"
COST_KEY = "home-office-costs-2018"
POLICY_KEYS = {
    "fixed": "fixed-cohort-scoring",
    "flex": "flex-cohort-scoring",
    "free": "free-cohort-scoring",
}

_CCHI = "Cambridge Crime Harm Index (Sherman, Neyroud & Neyroud 2016) method"
_LOCAL = "local default [U]: guideline starting point for a first offender, estimated"

HARM_TABLE: dict[str, Any] = {
    "unit": "days",
    "method": (
        "Days of imprisonment at the sentencing-guideline starting point for a first-time "
        "offender; fine-only offences = days of work at minimum wage to pay the fine."
    ),
    "default": {"days": 7.5, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
    "categories": {
        "Violence against the person": {
            "days": 182.5,
            "status": "U",
            "source": f"{_CCHI}; {_LOCAL} (ABH)",
        },
        "Robbery": {
            "days": 365.0,
            "status": "V2",
            "source": f"{_CCHI}; example weight (secondary source)",
        },
        "Public order or harassment": {
            "days": 7.5,
            "status": "V2",
            "source": f"{_CCHI}; example weight (secondary source)",
        },
        "Sexual (not against a child)": {
            "days": 730.0,
            "status": "U",
            "source": f"{_CCHI}; {_LOCAL}",
        },
        "Sexual (against a child)": {"days": 1095.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Soliciting or prostitution": {
            "days": 2.0,
            "status": "U",
            "source": f"{_CCHI}; {_LOCAL} (fine)",
        },
        "Burglary (domestic)": {"days": 365.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Burglary (other)": {"days": 60.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Theft (non-motor)": {"days": 7.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Handling stolen goods": {"days": 14.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Fraud and forgery": {"days": 28.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Absconding or bail offences": {
            "days": 14.0,
            "status": "U",
            "source": f"{_CCHI}; {_LOCAL}",
        },
        "Taking and driving away and related offences": {
            "days": 28.0,
            "status": "U",
            "source": f"{_CCHI}; {_LOCAL}",
        },
        "Theft from a vehicle": {"days": 14.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Other motoring": {"days": 2.0, "status": "U", "source": f"{_CCHI}; {_LOCAL} (fine)"},
        "Drink driving": {"days": 5.0, "status": "U", "source": f"{_CCHI}; {_LOCAL} (fine)"},
        "Criminal damage": {"days": 7.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Drug import, export or production": {
            "days": 1095.0,
            "status": "U",
            "source": f"{_CCHI}; {_LOCAL}",
        },
        "Drug possession or supply": {"days": 90.0, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Other offence": {"days": 7.5, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
        "Needs exact offence details": {"days": 7.5, "status": "U", "source": f"{_CCHI}; {_LOCAL}"},
    },
    # Home Office offence groups that differ from their category.
    "groups": {
        "001": {
            "days": 5475.0,
            "status": "U",
            "source": f"{_CCHI}; {_LOCAL} (murder, 15-year minimum term)",
        },
        "034": {"days": 365.0, "status": "V2", "source": f"{_CCHI}; robbery example weight"},
        "046": {"days": 1.0, "status": "V2", "source": f"{_CCHI}; shoplifting example weight"},
        "010": {
            "days": 273.75,
            "status": "V2",
            "source": f"{_CCHI}; possession of weapons example weight (group mapping U)",
        },
        "105": {"days": 10.0, "status": "U", "source": f"{_CCHI}; {_LOCAL} (common assault)"},
    },
}

_HO = (
    "Home Office, The economic and social costs of crime, 2nd edition (Heeks et al. 2018), Table 1"
)

COST_TABLE: dict[str, Any] = {
    "currency": "GBP",
    "price_year": "2015/16",
    "basis": "per crime (not per proven offence)",
    "default": {
        "cost": 1350.0,
        "status": "U",
        "source": f"{_HO}; local default [U] (other criminal damage value)",
    },
    "categories": {
        "Violence against the person": {
            "cost": 14050.0,
            "status": "V2",
            "source": f"{_HO}: violence with injury",
        },
        "Robbery": {"cost": 11320.0, "status": "V2", "source": f"{_HO}: robbery (individual)"},
        "Sexual (not against a child)": {
            "cost": 6520.0,
            "status": "V2",
            "source": f"{_HO}: other sexual offences",
        },
        "Sexual (against a child)": {
            "cost": 6520.0,
            "status": "U",
            "source": f"{_HO}: other sexual offences (mapping U)",
        },
        "Burglary (domestic)": {
            "cost": 5930.0,
            "status": "U",
            "source": f"{_HO}: domestic burglary (read Table 1)",
        },
        "Burglary (other)": {
            "cost": 5930.0,
            "status": "U",
            "source": f"{_HO}: commercial burglary not confirmed; domestic value used",
        },
        "Theft from a vehicle": {
            "cost": 870.0,
            "status": "V2",
            "source": f"{_HO}: theft from vehicle",
        },
        "Taking and driving away and related offences": {
            "cost": 10290.0,
            "status": "V2",
            "source": f"{_HO}: theft of vehicle",
        },
        "Criminal damage": {
            "cost": 1350.0,
            "status": "V2",
            "source": f"{_HO}: other criminal damage",
        },
        "Theft (non-motor)": {
            "cost": 1380.0,
            "status": "U",
            "source": f"{_HO}: theft from the person value used (read Table 1)",
        },
        "Public order or harassment": {
            "cost": 5930.0,
            "status": "U",
            "source": f"{_HO}: violence without injury (mapping U)",
        },
    },
    "groups": {
        "001": {"cost": 3200000.0, "status": "V2", "source": f"{_HO}: homicide (~GBP 3.2m)"},
        "019": {"cost": 39360.0, "status": "V2", "source": f"{_HO}: rape"},
        "056": {"cost": 8420.0, "status": "V2", "source": f"{_HO}: arson"},
        "105": {"cost": 5930.0, "status": "U", "source": f"{_HO}: violence without injury"},
        "039": {"cost": 1380.0, "status": "U", "source": f"{_HO}: theft from the person"},
    },
}

_COMMON: dict[str, Any] = {
    "harm_table": {"key": HARM_KEY, "version": 1},
    "cost_table": {"key": COST_KEY, "version": 1},
    "components": {
        "recency": {"weight": 20.0, "half_life_days": 90, "include_arrests": True},
        "frequency": {
            "windows": [
                {"months": 12, "offence_points": 3.0, "arrest_points": 1.0, "cap": 45.0},
                {"months": 36, "offence_points": 1.0, "arrest_points": 0.25, "cap": 20.0},
            ]
        },
        "harm": {"window_months": 36, "points_per_day": 0.05, "cap": 25.0},
        "risk": {"weight": 20.0},
        "neighbourhood": {"weight": 0.0, "window_months": 36},
        "local_priority": {
            "categories": [],
            "window_months": 12,
            "points_per_offence": 0.0,
            "cap": 0.0,
        },
        "intelligence": {
            "window_months": 6,
            "points_per_item": 2.0,
            "cap": 12.0,
            "source_weights": {"1": 1.0, "2": 0.6, "3": 0.2},
            "intelligence_weights": {"A": 1.0, "B": 0.8, "C": 0.5, "D": 0.2, "E": 0.0},
        },
        "cost": {"window_months": 36, "points_per_thousand": 0.25, "cap": 10.0},
    },
    "flags": {"long_custody_days": 365, "area_hubs": []},
    "eligibility": {
        "min_age": 18,
        "min_offences": 1,
        "offence_window_months": 36,
        "require_neighbourhood_crime": False,
        "min_score": 0.0,
        "exclude_flags": ["already_registered", "long_custody", "deceased", "out_of_area"],
    },
    "store": {"max_candidates": 5000, "min_total": 0.0},
}


def policy_config(strand: str) -> dict[str, Any]:
    config = copy.deepcopy(_COMMON)
    config["strand"] = strand
    if strand == "fixed":
        config["components"]["neighbourhood"]["weight"] = 20.0
        config["eligibility"]["require_neighbourhood_crime"] = True
    elif strand == "flex":
        config["components"]["local_priority"] = {
            "categories": ["Violence against the person", "Drug possession or supply", "Robbery"],
            "window_months": 12,
            "points_per_offence": 5.0,
            "cap": 20.0,
        }
    return config


POLICY_SOURCES = {
    "fixed": (
        "Fixed cohort scoring weights: local default [U], modelled on the 2020 IOM strategy's "
        "neighbourhood-crime focus (burglary, robbery, theft from the person, vehicle crime); "
        "recency/frequency/gravity/risk/intelligence/cost components as in the IOM identification "
        "practice described in shared/reference/iom-domain.md §3 [V]; OGRS3 per Howard et al. "
        "2009 [V]."
    ),
    "flex": (
        "Flex cohort scoring weights: local default [U], modelled on the 2020 IOM strategy's Flex "
        "strand (local priority offending chosen by the partnership); local priority categories "
        "are an example to be set by the partnership [U]."
    ),
    "free": (
        "Free cohort scoring weights: local default [U], modelled on the 2020 IOM strategy's Free "
        "strand (local discretion); no neighbourhood or local-priority component."
    ),
}
