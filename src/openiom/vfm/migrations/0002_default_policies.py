"""Ship version 1 of the value-for-money assumptions and the (illustrative) programme costs.

The unit costs of crime are not seeded here: scoring's migration 0002 ships the Home Office 2018
table (home-office-costs-2018, version 1) that the assumptions pin.
"""

import datetime as dt

from django.db import migrations

EFFECTIVE = dt.date(2020, 1, 1)


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    from openiom.vfm import defaults

    assumptions = apps.get_model("vfm", "AppraisalAssumptions")
    programme = apps.get_model("vfm", "ProgrammeCost")
    assumptions.objects.get_or_create(
        key=defaults.ASSUMPTIONS_KEY,
        version=1,
        defaults={
            "name": defaults.ASSUMPTIONS_NAME,
            "effective_from": EFFECTIVE,
            "source": defaults.ASSUMPTIONS_SOURCE,
            "change_note": "Shipped default.",
            "config": defaults.assumptions_config(),
        },
    )
    programme.objects.get_or_create(
        key=defaults.PROGRAMME_KEY,
        version=1,
        defaults={
            "name": defaults.PROGRAMME_NAME,
            "effective_from": EFFECTIVE,
            "source": defaults.PROGRAMME_SOURCE,
            "change_note": "Shipped default (illustrative: replace with local costs).",
            "config": defaults.programme_config(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("vfm", "0001_initial"), ("scoring", "0002_default_policies")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
