"""Seed the resettlement pathways (reference data; coordinators may add local ones)."""

from typing import Any

from django.db import migrations

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


def seed(apps: Any, schema_editor: Any) -> None:
    Pathway = apps.get_model("plans", "Pathway")
    for position, (code, name, description, source, default_on) in enumerate(PATHWAYS, 1):
        Pathway.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "source": source,
                "default_on": default_on,
                "position": position * 10,
            },
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("plans", "Pathway").objects.filter(
        code__in=[p[0] for p in PATHWAYS], created_by__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
