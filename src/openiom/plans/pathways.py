"""The default pathways of a management plan (reference data with sources; coordinators may add
local ones). Loaded by the plans migration and again after a test database flush
(`openiom.reference.loaders.ensure_loaded`)."""

from __future__ import annotations

from typing import Any

NAP_2004 = (
    "Reducing Re-offending National Action Plan (Home Office, 2004): one of the seven "
    "resettlement pathways."
)
NOMS_2009 = (
    "NOMS (2009), A Distinct Approach: a guide to working with women offenders - the two "
    "additional pathways for women. Not assessed by default: chosen per person."
)

PATHWAYS = [
    ("accommodation", "Accommodation", "Somewhere stable and suitable to live.", NAP_2004, True),
    (
        "education-training-employment",
        "Education, training and employment",
        "Skills, qualifications, work and volunteering.",
        NAP_2004,
        True,
    ),
    ("health", "Health", "Physical and mental health, including access to a GP.", NAP_2004, True),
    ("drugs-alcohol", "Drugs and alcohol", "Drug and alcohol use and treatment.", NAP_2004, True),
    (
        "finance-benefit-debt",
        "Finance, benefit and debt",
        "Income, benefits, a bank account and managing debt.",
        NAP_2004,
        True,
    ),
    (
        "children-families",
        "Children and families",
        "Relationships with family and children, parenting.",
        NAP_2004,
        True,
    ),
    (
        "attitudes-thinking-behaviour",
        "Attitudes, thinking and behaviour",
        "Attitudes to offending, thinking skills and behaviour.",
        NAP_2004,
        True,
    ),
    (
        "women-abuse-rape-domestic-violence",
        "Support for women who have been abused, raped or experienced domestic violence",
        "Specialist support for women who have experienced abuse, rape or domestic violence.",
        NOMS_2009,
        False,
    ),
    (
        "women-prostitution",
        "Support for women who have been involved in prostitution",
        "Specialist support for women who have been involved in prostitution.",
        NOMS_2009,
        False,
    ),
]


def load_pathways(model: Any) -> None:
    """Create or update the default pathways in `model` (the real or a historical model)."""
    for position, (code, name, description, source, default_on) in enumerate(PATHWAYS, 1):
        model.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "source": source,
                "default_on": default_on,
                "position": position * 10,
            },
        )
