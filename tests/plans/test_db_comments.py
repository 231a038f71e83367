"""Every plans table and column carries a comment (as tests/core checks for all apps)."""

from __future__ import annotations

from django.apps import apps


def test_every_plans_table_and_column_has_a_comment() -> None:
    models = list(apps.get_app_config("plans").get_models(include_auto_created=True))
    assert len(models) >= 7
    assert [m._meta.label for m in models if not m._meta.db_table_comment] == []
    missing = [
        f"{m._meta.label}.{f.name}"
        for m in models
        for f in m._meta.local_fields
        if not f.primary_key and not f.db_comment
    ]
    assert missing == []
