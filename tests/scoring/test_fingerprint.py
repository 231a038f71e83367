"""The input fingerprint: stable across processes and sources, sensitive to every single value."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from openiom.scoring import engine

ROOT = Path(__file__).resolve().parents[2]

# The digest of `sample()`: pinned so that a change of algorithm (or of a library underneath it)
# cannot pass unnoticed. Change it only together with fingerprint.VERSION.
GOLDEN = "a76e582404a5b3f908253f9ffba10d9deb0683f3841969743d9c0ecae75ccc49"


def sample() -> engine.ScoringInputs:
    """Small inputs with every dtype the loaders produce, nulls included (no Django needed)."""
    d = dt.date
    return engine.ScoringInputs(
        people=pl.DataFrame(
            {
                "person_id": [1, 2, 3],
                "date_of_birth": [d(1990, 1, 2), d(1985, 6, 30), d(2001, 12, 31)],
                "sex": ["M", "F", None],
                "hub": ["north", None, "south"],
                "current_status": ["community", "custody", "deceased"],
                "date_of_death": [None, None, d(2024, 5, 1)],
            }
        ),
        offences=pl.DataFrame(
            {
                "person_id": [1, 1, 2, 3],
                "offence_code": pl.Series(
                    ["028/01", "105/01", "028/01", None], dtype=pl.Enum(["028/01", "105/01"])
                ),
                "offence_date": [d(2024, 1, 1), d(2024, 2, 1), d(2023, 3, 3), d(2020, 1, 1)],
                "disposal_date": [d(2024, 3, 1), None, d(2023, 9, 9), d(2020, 6, 1)],
            }
        ),
        arrests=pl.DataFrame(
            {"person_id": [1, 2, 2], "arrest_date": [d(2024, 6, 1), d(2024, 7, 1), d(2024, 7, 1)]}
        ),
        intelligence=pl.DataFrame(
            {
                "person_id": [2],
                "recorded_date": [d(2024, 8, 1)],
                "source_grade": ["1"],
                "intelligence_grade": ["A"],
            }
        ),
        custody=pl.DataFrame(
            {
                "person_id": [3, 2],
                "received_date": [d(2019, 1, 1), d(2024, 1, 1)],
                "sentence_length_days": [365, None],
                "expected_release_date": [d(2019, 7, 1), None],
                "release_date": [d(2019, 7, 1), None],
            }
        ),
        codes=pl.DataFrame(
            {
                "offence_code": ["028/01", "105/01"],
                "group_code": ["028", "105"],
                "category": ["Burglary", "Violence against the person"],
                "ogrs3_weight": [0.3, None],
                "is_neighbourhood_crime": [True, False],
            }
        ),
    )


def _replace(inputs: engine.ScoringInputs, name: str, frame: pl.DataFrame) -> engine.ScoringInputs:
    tables = {n: getattr(inputs, n) for n, _cols in engine.TABLES}
    tables[name] = frame
    return engine.ScoringInputs(**tables)


def _rows(frame: pl.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(map(repr, frame.rows())))


def _other_value(series: pl.Series, row: int) -> Any:
    """A different value of the same dtype for one cell (a value for a null, null for a value)."""
    value = series[row]
    if value is None:
        return series.drop_nulls()[0]
    if len(series.drop_nulls()) < series.len():
        return None
    dtype = series.dtype
    if isinstance(dtype, pl.Enum):
        return next(c for c in dtype.categories if c != value)
    if dtype == pl.Boolean:
        return not value
    if dtype == pl.Date:
        return value + dt.timedelta(days=1)
    if dtype.is_float():
        return value + 0.5
    if dtype.is_integer():
        return value + 1
    return value + "x"


def test_same_inputs_give_the_same_pinned_fingerprint_in_a_fresh_process() -> None:
    here = engine.fingerprint(sample())
    code = (
        "from tests.scoring.test_fingerprint import sample\n"
        "from openiom.scoring import engine\n"
        "print(engine.fingerprint(sample()))\n"
    )
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}", PYTHONHASHSEED="12345")
    fresh = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert fresh == here
    assert here == GOLDEN
    assert len(here) == 64


@pytest.mark.parametrize("name,columns", engine.TABLES)
def test_any_single_changed_value_changes_the_fingerprint(name: str, columns: list[str]) -> None:
    base = sample()
    original = engine.fingerprint(base)
    frame: pl.DataFrame = getattr(base, name)
    seen: dict[str, tuple[str, ...]] = {original: _rows(frame)}
    for column in columns:
        for row in range(frame.height):
            values = frame[column].to_list()
            values[row] = _other_value(frame[column], row)
            changed = frame.with_columns(pl.Series(column, values, dtype=frame[column].dtype))
            digest = engine.fingerprint(_replace(base, name, changed))
            assert digest != original, f"{name}.{column} row {row}"
            # Different row multisets never share a digest (changing either of two equal rows
            # gives the same multiset, and so rightly the same digest).
            assert seen.setdefault(digest, _rows(changed)) == _rows(changed)


def test_row_order_is_ignored_but_duplicates_and_missing_rows_are_not() -> None:
    base = sample()
    original = engine.fingerprint(base)
    for name, _columns in engine.TABLES:
        frame: pl.DataFrame = getattr(base, name)
        assert engine.fingerprint(_replace(base, name, frame.reverse())) == original
        assert (
            engine.fingerprint(_replace(base, name, pl.concat([frame, frame.head(1)]))) != original
        )
        assert engine.fingerprint(_replace(base, name, frame.tail(-1))) != original


def test_equal_values_from_other_sources_and_dtypes_fingerprint_equally() -> None:
    """CSV text ids, Int32 ids and string offence codes are the same values as the loaders'."""
    base = sample()
    original = engine.fingerprint(base)
    people = base.people.with_columns(pl.col("person_id").cast(pl.String))
    offences = base.offences.with_columns(
        pl.col("person_id").cast(pl.Int32), pl.col("offence_code").cast(pl.String)
    )
    custody = base.custody.with_columns(pl.col("sentence_length_days").cast(pl.Int32))
    other = _replace(
        _replace(_replace(base, "people", people), "offences", offences), "custody", custody
    )
    assert engine.fingerprint(other) == original
    # Only canonical decimal text is an integer: "01" is a different id from 1.
    padded = base.people.with_columns(pl.Series("person_id", ["01", "2", "3"]))
    assert engine.fingerprint(_replace(base, "people", padded)) != original


def test_fingerprint_reports_missing_columns() -> None:
    base = sample()
    with pytest.raises(engine.ScoringInputError, match="offences: missing column"):
        engine.fingerprint(_replace(base, "offences", base.offences.drop("disposal_date")))
