"""Fixtures for import tests: the example extract and helpers to build hostile variants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from openiom.imports.services import ExtractFile
from openiom.partnership.models import Agency

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def example_files() -> list[ExtractFile]:
    return [ExtractFile.from_path(p) for p in sorted(EXAMPLES.glob("*.csv"))]


def example_text(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def model_counts() -> dict[str, int]:
    """Row counts of every openiom table except the import bookkeeping and the audit trail."""
    skip = {"imports.importbatch", "imports.importrowerror", "audit.auditevent"}
    return {
        m._meta.label_lower: m._default_manager.count()
        for m in apps.get_models()
        if m.__module__.startswith("openiom.") and m._meta.label_lower not in skip
    }


@pytest.fixture
def agency(personas: dict[str, Any]) -> Agency:
    return Agency.objects.get(code="wessex-police")


@pytest.fixture
def coordinator(actor: Any) -> Any:
    return actor("coordinator")
