from django.db import migrations


def load(apps, schema_editor):
    from openiom.reference import loaders

    loaders.load_agency_types(apps.get_model("reference", "AgencyType"))
    # Resettlement pathways moved to the plans app (plans.Pathway, seeded by its migration).
    loaders.load_offence_codes(apps.get_model("reference", "OffenceCode"))


class Migration(migrations.Migration):
    dependencies = [("reference", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
