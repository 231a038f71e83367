"""The simulator's files are a valid extract: importing them reproduces the simulated area, and
importing them again into the area the simulator loaded directly changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from openiom.imports.services import ExtractFile, import_extract
from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.partnership.models import Agency
from openiom.people.models import CustodyEpisode, Person, SupervisionPeriod

AS_OF = "2025-12-31"


def _files(directory: Path) -> list[ExtractFile]:
    return [ExtractFile.from_path(p) for p in sorted(directory.glob("*.csv"))]


def _counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Person, Offence, Arrest, CustodyEpisode, SupervisionPeriod, IntelligenceItem)
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simulated_files_import_cleanly_and_idempotently(
    tmp_path: Path, personas: dict[str, Any], actor: Any, settings: Any
) -> None:
    settings.OPENIOM_VAR_DIR = str(tmp_path)
    out = tmp_path / "extract"
    call_command("simulate", people=400, seed=5, as_of=AS_OF, out=str(out), no_db=True, verbosity=0)
    police = Agency.objects.get(code="wessex-police")

    first = import_extract(actor=actor("coordinator"), files=_files(out), agency=police)
    assert first.batch.status == "completed", first.problems[:5]
    counts = _counts()
    assert counts["Person"] == 400
    assert (
        counts["Offence"] > 400 and counts["CustodyEpisode"] > 0 and counts["SupervisionPeriod"] > 0
    )

    again = import_extract(actor=actor("coordinator"), files=_files(out), agency=police)
    assert again.batch.status == "completed"
    assert _counts() == counts
    for record_type, n in again.batch.counts.items():
        assert n.get("created", 0) == 0 and n.get("updated", 0) == 0, (record_type, n)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_importing_the_files_of_an_area_already_simulated_changes_nothing(
    tmp_path: Path, personas: dict[str, Any], actor: Any
) -> None:
    out = tmp_path / "extract"
    call_command(
        "simulate", people=300, seed=9, as_of=AS_OF, out=str(out), no_scheme=True, verbosity=0
    )
    counts = _counts()
    police = Agency.objects.get(code="wessex-police")

    result = import_extract(actor=actor("coordinator"), files=_files(out), agency=police)

    assert result.batch.status == "completed", result.problems[:5]
    assert _counts() == counts
    for record_type, n in result.batch.counts.items():
        assert n.get("created", 0) == 0 and n.get("updated", 0) == 0, (record_type, n)
