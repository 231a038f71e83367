"""Seed the resettlement pathways (reference data; coordinators may add local ones)."""

from typing import Any

from django.db import migrations

from openiom.plans.pathways import PATHWAYS, load_pathways


def seed(apps: Any, schema_editor: Any) -> None:
    load_pathways(apps.get_model("plans", "Pathway"))


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("plans", "Pathway").objects.filter(
        code__in=[p[0] for p in PATHWAYS], created_by__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
