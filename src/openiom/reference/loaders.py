"""Load reference data files into the database (used by migrations; idempotent)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
OGRS3_SOURCE = "MoJ hmpps-arns-risk-actuarial-api offence code mapping (MIT)"

# Each OGRS3 offence weight (4 d.p. in the MoJ mapping) belongs to exactly one OGRS3 category.
OGRS3_CATEGORY_BY_WEIGHT: dict[str, str] = {
    "0": "Violence against the person",
    "-0.6348": "Robbery",
    "0.1819": "Public order or harassment",
    "0.0328": "Sexual (not against a child)",
    "-0.6534": "Sexual (against a child)",
    "0.7606": "Soliciting or prostitution",
    "-0.1239": "Burglary (domestic)",
    "0.2406": "Burglary (other)",
    "0.6612": "Theft (non-motor)",
    "0.3519": "Handling stolen goods",
    "0.1599": "Fraud and forgery",
    "0.7334": "Absconding or bail offences",
    "0.3801": "Taking and driving away and related offences",
    "0.4272": "Theft from a vehicle",
    "0.2622": "Other motoring",
    "-0.1214": "Drink driving",
    "0.205": "Criminal damage",
    "-0.7956": "Drug import, export or production",
    "0.0772": "Drug possession or supply",
    "-0.0607": "Other offence",
}
NEEDS_DETAILS = "Needs exact offence details"


def _read(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _bool(value: str) -> bool:
    return value.strip().lower() == "true"


def load_agency_types(model: Any) -> None:
    for row in _read("agency_types.csv"):
        model.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "is_statutory_core": _bool(row["is_statutory_core"]),
                "is_police": _bool(row["is_police"]),
                "source": row["source"],
            },
        )


def offence_code_rows() -> list[dict[str, Any]]:
    groups = {r["group_code"]: r for r in _read("offence_groups.csv")}
    rows = []
    for r in _read("ogrs3-offence-code-mapping.csv"):
        raw = r["OGRS3_WEIGHTING"].strip()
        known = raw not in {"", "999"}
        category = OGRS3_CATEGORY_BY_WEIGHT.get(raw, NEEDS_DETAILS) if known else NEEDS_DETAILS
        group = groups.get(r["OFFENCE_GROUP_CODE"])
        rows.append(
            {
                "code": f"{r['OFFENCE_GROUP_CODE']}/{r['SUB_CODE']}",
                "group_code": r["OFFENCE_GROUP_CODE"],
                "sub_code": r["SUB_CODE"],
                "description": group["description"]
                if group
                else f"{category} (Home Office group {r['OFFENCE_GROUP_CODE']})",
                "category": category,
                "ogrs3_category": category,
                "ogrs3_weight": float(raw) if known else None,
                "is_neighbourhood_crime": bool(group and _bool(group["neighbourhood_crime"])),
                "is_violence_or_sexual": r["OPD_VIOL_SEX"].strip().upper() == "Y",
                "source": OGRS3_SOURCE + (" + Home Office Counting Rules" if group else ""),
            }
        )
    return rows


def load_offence_codes(model: Any) -> None:
    existing = set(model.objects.values_list("code", flat=True))
    new = [model(**row) for row in offence_code_rows() if row["code"] not in existing]
    model.objects.bulk_create(new, batch_size=1000)


def ensure_loaded() -> None:
    """Load any reference table that is empty (e.g. after a test database flush)."""
    from openiom.reference.models import AgencyType, OffenceCode

    if not AgencyType.objects.exists():
        load_agency_types(AgencyType)
    if not OffenceCode.objects.exists():
        load_offence_codes(OffenceCode)
    from openiom.plans.models import Pathway
    from openiom.plans.pathways import load_pathways

    if not Pathway.objects.exists():
        load_pathways(Pathway)
