"""The upsert: one file mixing new, changed (including to and from empty) and unchanged rows."""

from __future__ import annotations

from typing import Any

import pytest

from openiom.imports.services import ExtractFile, import_extract
from openiom.offending.models import Offence
from tests.imports.conftest import example_files, example_text


@pytest.mark.django_db
def test_mixed_new_changed_and_unchanged_rows(coordinator: Any, agency: Any) -> None:
    import_extract(actor=coordinator, files=example_files(), agency=agency)
    stamps = dict(Offence.objects.values_list("source_id", "updated_at"))
    lines = example_text("offences.csv").splitlines()
    header, rows = lines[0], lines[1:]
    # Row 1: a number becomes empty (548 -> null); row 2: an empty number gets a value.
    rows[0] = rows[0].replace(",548,", ",,")
    assert rows[1].count(",,") == 1
    rows[1] = rows[1].replace(",,", ",30,")
    new_row = rows[2].replace(rows[2].split(",")[1], "O9999999")
    text = "\n".join([header, *rows, new_row]) + "\n"
    result = import_extract(
        actor=coordinator, files=[ExtractFile("offences.csv", text.encode())], agency=agency
    )
    assert result.accepted, result.problems
    assert result.batch.counts["offences"] == {
        "created": 1,
        "updated": 2,
        "unchanged": len(rows) - 2,
        "held": 0,
    }
    first, second = rows[0].split(",")[1], rows[1].split(",")[1]
    assert Offence.objects.get(source_id=first).sentence_length_days is None
    assert Offence.objects.get(source_id=second).sentence_length_days == 30
    after = dict(Offence.objects.values_list("source_id", "updated_at"))
    for sid, stamp in stamps.items():
        if sid in {first, second}:
            assert after[sid] > stamp
        else:
            assert after[sid] == stamp  # unchanged rows are not rewritten
    assert Offence.objects.get(source_id="O9999999").recorded_by_agency_id == agency.pk
