"""Create a partnership area with its hubs, agencies and (for demos and tests) named staff.

Used by `manage.py simulate`, `manage.py seed_demo_users` and the test personas, so the demo,
the tests and the benchmarks share one picture of an area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from openiom.accounts.models import Membership, Role
from openiom.partnership.models import Agency, Hub, Partnership
from openiom.reference.loaders import ensure_loaded
from openiom.reference.models import AgencyType

AREA_NAME = "Wessex IOM Partnership"
FORCE_NAME = "Wessex Police"
HUBS = [
    ("north", "Northgate"),
    ("south", "Southport"),
    ("east", "Eastbridge"),
    ("west", "Westholme"),
]
AGENCIES = [
    ("police", "wessex-police", "Wessex Police"),
    ("probation", "probation-wessex", "Probation Service – Wessex"),
    ("prison", "hmp-wessex", "HMP Wessex"),
    ("yos", "wessex-yos", "Wessex Youth Offending Service"),
    ("local_authority", "wessex-council", "Wessex County Council"),
    ("housing", "harbour-housing", "Harbour Housing Association"),
    ("drug_alcohol", "turning-point-wessex", "Wessex Drug and Alcohol Service"),
    ("health", "wessex-nhs", "Wessex NHS Liaison and Diversion"),
    ("employment", "work-wessex", "Work Wessex"),
    ("vcs", "second-chance-mentoring", "Second Chance Mentoring"),
]


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    agency_code: str
    role: str
    job_title: str


# The demo's and the tests' named staff (password: DEMO_PASSWORD).
PERSONAS = [
    Persona(
        "police.officer",
        "Priya",
        "Shah",
        "wessex-police",
        Role.OFFENDER_MANAGER,
        "IOM police officer",
    ),
    Persona(
        "probation.om",
        "Owen",
        "Marsh",
        "probation-wessex",
        Role.OFFENDER_MANAGER,
        "Probation offender manager",
    ),
    Persona(
        "coordinator",
        "Carol",
        "Adeyemi",
        "probation-wessex",
        Role.COORDINATOR,
        "Senior probation officer, IOM coordinator",
    ),
    Persona(
        "housing.worker",
        "Hannah",
        "Byrne",
        "harbour-housing",
        Role.PARTNER_WORKER,
        "Housing support worker",
    ),
    Persona(
        "drug.worker",
        "Dev",
        "Patel",
        "turning-point-wessex",
        Role.PARTNER_WORKER,
        "Drug service recovery worker",
    ),
    Persona(
        "vcs.mentor",
        "Vince",
        "Okafor",
        "second-chance-mentoring",
        Role.PARTNER_WORKER,
        "Voluntary-sector mentor",
    ),
    Persona("analyst", "Ana", "Lisowska", "wessex-police", Role.ANALYST, "Performance analyst"),
    Persona(
        "dpo",
        "Dara",
        "Quinn",
        "wessex-council",
        Role.DATA_PROTECTION_OFFICER,
        "Data-protection officer",
    ),
    Persona("admin", "Adam", "Reid", "wessex-council", Role.ADMINISTRATOR, "Service administrator"),
]
DEMO_PASSWORD = "openiom-demo-2026"  # noqa: S105  (demo only; demo mode is refused in production)


@transaction.atomic
def ensure_area(name: str = AREA_NAME) -> Partnership:
    """The partnership with its hubs and agencies; creates whatever is missing."""
    ensure_loaded()
    partnership, _ = Partnership.objects.get_or_create(
        name=name, defaults={"police_force": FORCE_NAME}
    )
    for code, hub_name in HUBS:
        Hub.objects.get_or_create(
            code=code, defaults={"partnership": partnership, "name": hub_name}
        )
    types = {t.code: t for t in AgencyType.objects.all()}
    for type_code, code, agency_name in AGENCIES:
        Agency.objects.get_or_create(
            code=code,
            defaults={
                "partnership": partnership,
                "name": agency_name,
                "agency_type": types[type_code],
            },
        )
    return partnership


@transaction.atomic
def ensure_personas(password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """Named staff for demos and tests, each with one membership. Returns users by username."""
    ensure_area()
    user_model = get_user_model()
    users: dict[str, Any] = {}
    for p in PERSONAS:
        user, created = user_model.objects.get_or_create(
            username=p.username,
            defaults={
                "first_name": p.first_name,
                "last_name": p.last_name,
                "email": f"{p.username}@example.org",
            },
        )
        if created:
            user.set_password(password)
            user.save()
        Membership.objects.get_or_create(
            user=user,
            agency=Agency.objects.get(code=p.agency_code),
            role=p.role,
            defaults={"job_title": p.job_title},
        )
        users[p.username] = user
    return users
