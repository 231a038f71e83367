"""Ship version 1 of the crime-harm table, the unit-cost table and the three strand policies."""

import datetime as dt

from django.db import migrations

EFFECTIVE = dt.date(2020, 1, 1)


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    from openiom.scoring import defaults

    harm_model = apps.get_model("scoring", "CrimeHarmTable")
    cost_model = apps.get_model("scoring", "UnitCostTable")
    policy_model = apps.get_model("scoring", "ScoringPolicy")
    harm_model.objects.get_or_create(
        key=defaults.HARM_KEY,
        version=1,
        defaults={
            "name": "Crime harm days per offence (Cambridge Crime Harm Index method)",
            "effective_from": EFFECTIVE,
            "source": (
                "Cambridge Crime Harm Index method [V]; example weights robbery 365, possession "
                "of weapons 273.75, public order 7.5, shoplifting 1 [V2]; all other rows are "
                "local estimates [U] (see each row's source and status)."
            ),
            "change_note": "Shipped default.",
            "config": defaults.HARM_TABLE,
        },
    )
    cost_model.objects.get_or_create(
        key=defaults.COST_KEY,
        version=1,
        defaults={
            "name": "Unit costs of crime (Home Office 2018, 2015/16 prices)",
            "effective_from": EFFECTIVE,
            "source": (
                "Home Office, The economic and social costs of crime (Heeks et al. 2018), 2015/16 "
                "prices; values seen in secondary sources [V2] or unconfirmed [U] per row."
            ),
            "change_note": "Shipped default.",
            "config": defaults.COST_TABLE,
        },
    )
    names = {
        "fixed": "Fixed cohort scoring",
        "flex": "Flex cohort scoring",
        "free": "Free cohort scoring",
    }
    for strand, key in defaults.POLICY_KEYS.items():
        policy_model.objects.get_or_create(
            key=key,
            version=1,
            defaults={
                "name": names[strand],
                "strand": strand,
                "effective_from": EFFECTIVE,
                "source": defaults.POLICY_SOURCES[strand],
                "change_note": "Shipped default.",
                "config": defaults.policy_config(strand),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
