"""Every openiom table and column carries a comment, so analysts get a self-describing schema."""

from __future__ import annotations

from django.apps import apps
from django.db import models


def _openiom_models() -> list[type[models.Model]]:
    return [
        m for m in apps.get_models(include_auto_created=True) if m.__module__.startswith("openiom.")
    ]


def test_every_openiom_table_has_a_comment() -> None:
    missing = [m._meta.label for m in _openiom_models() if not m._meta.db_table_comment]
    assert missing == []


def test_every_openiom_column_has_a_comment() -> None:
    missing = [
        f"{m._meta.label}.{f.name}"
        for m in _openiom_models()
        for f in m._meta.local_fields
        if not f.primary_key and not f.db_comment
    ]
    assert missing == []


def test_there_are_models_to_check() -> None:
    assert len(_openiom_models()) >= 15
