"""manage.py evaluate_table on CSV and Parquet files, and its one-line errors."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pypdf
import pytest
from django.core.management import CommandError, call_command

from tests.evaluation.test_pipeline import synthetic

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "treatment": "treated",
    "outcome": "reoffended",
    "covariates": "age,priors,sex,ogrs",
    "bootstrap": "100",
}


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic(n=1500, seed=21, missing=5)[0]


@pytest.fixture
def csv_file(frame: pl.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "cohort.csv"
    frame.write_csv(path)
    return path


def _run(*args: str, **options: object) -> str:
    out = io.StringIO()
    call_command("evaluate_table", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_csv_to_json_on_stdout(csv_file: Path, frame: pl.DataFrame) -> None:
    data = json.loads(
        _run(
            str(csv_file),
            **BASE,
            time="days",
            event="event",
            frequency="reoffences",
            harm="harm",
            label="Test cohort",
        )
    )
    assert data["headline"].startswith("Test cohort: ")
    assert [e["measure"] for e in data["estimates"]] == ["one_year_rate", "frequency", "harm"]
    assert data["survival"]["hazard_ratio"] > 0
    nt = int(frame["treated"].sum())
    assert data["attrition"][0] == ["rows in table", nt, frame.height - nt]
    assert data["attrition"][1][0] == "complete covariates"
    assert data["attrition"][1][1] + data["attrition"][1][2] == frame.height - 5
    assert data["spec"]["bootstrap_replicates"] == 100
    assert data["source"] == {
        "file": "cohort.csv",
        "sha256": hashlib.sha256(csv_file.read_bytes()).hexdigest(),
        "rows": frame.height,
        "columns": frame.width,
    }
    assert "weights" not in data["matching"]


def test_parquet_gives_the_same_numbers(
    csv_file: Path, frame: pl.DataFrame, tmp_path: Path
) -> None:
    parquet = tmp_path / "cohort.parquet"
    # Parquet keeps the types; the CSV reader infers them — the estimates must agree.
    pl.read_csv(csv_file).write_parquet(parquet)
    out_json = tmp_path / "result.json"
    message = _run(str(parquet), **BASE, out=str(out_json), seed="5")
    assert message.startswith(f"Wrote JSON to {out_json}")
    from_parquet = json.loads(out_json.read_text())
    from_csv = json.loads(_run(str(csv_file), **BASE, seed="5"))
    for key in ("estimates", "attrition", "balance", "sensitivity", "headline"):
        assert from_parquet[key] == from_csv[key]
    assert from_parquet["spec"]["seed"] == 5 and from_parquet["spec"]["matching"]["seed"] == 5


def test_matching_options_reach_the_spec(csv_file: Path) -> None:
    data = json.loads(
        _run(str(csv_file), **BASE, ratio="2", replace=True, caliper="none", exact="sex")
    )
    matching = data["spec"]["matching"]
    assert matching == {**matching, "ratio": 2, "replace": True, "caliper_sd": None}
    assert matching["exact"] == ["sex"]
    assert data["matching"]["caliper"] is None
    assert data["sensitivity"]["largest_gamma"] is None  # Rosenbaum bounds need 1:1


def test_html_and_pdf_reports(csv_file: Path, tmp_path: Path) -> None:
    headline = json.loads(_run(str(csv_file), **BASE, label="Test cohort"))["headline"]
    html_path = tmp_path / "report.html"
    message = _run(str(csv_file), **BASE, label="Test cohort", format="html", out=str(html_path))
    assert message.startswith(f"Wrote HTML to {html_path}")
    html = html_path.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "cohort.csv" in html
    assert "fewer proven reoffenders per 100 people" in html
    pdf_path = tmp_path / "report.pdf"
    _run(str(csv_file), **BASE, label="Test cohort", format="pdf", out=str(pdf_path))
    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    # The headline's first clause, e.g. "between 9 and 22.7 fewer proven reoffenders per 100".
    first_clause = headline.split(" than ")[0].removeprefix("Test cohort: ")
    assert first_clause in re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ratio": "0"}, "--ratio must be at least 1 (got 0)"),
        ({"ratio": "two"}, "--ratio must be a whole number (got 'two')"),
        ({"caliper": "-1"}, "--caliper must be above 0"),
        ({"caliper": "wide"}, "--caliper must be a number (got 'wide')"),
        ({"bootstrap": "0"}, "--bootstrap must be at least 1"),
        ({"format": "xml"}, "--format must be one of json, html, pdf (got 'xml')"),
        ({"format": "pdf"}, "--format pdf needs --out PATH"),
        ({"time": "days"}, "--time and --event go together"),
        ({"order": "sideways"}, "--order must be one of"),
        ({"covariates": " , "}, "--covariates needs at least one column name"),
        ({"covariates": "age,height"}, "cohort.csv: column 'height': there is no such column"),
    ],
)
def test_bad_options(csv_file: Path, options: dict[str, str], message: str) -> None:
    with pytest.raises(CommandError) as info:
        _run(str(csv_file), **{**BASE, **options})
    assert message in str(info.value)


def test_bad_table_names_row_and_column(frame: pl.DataFrame, tmp_path: Path) -> None:
    values = frame["treated"].to_list()
    values[15] = 2  # the 16th person: row 17 with the header as row 1
    path = tmp_path / "bad.csv"
    frame.with_columns(pl.Series("treated", values)).write_csv(path)
    with pytest.raises(CommandError) as info:
        _run(str(path), **BASE)
    assert str(info.value) == "bad.csv: row 17, column 'treated': must be 0 or 1 (found 2)"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="there is no file"):
        _run(str(tmp_path / "absent.csv"), **BASE)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match=r"empty\.csv: 'empty\.csv' is empty"):
        _run(str(empty), **BASE)
    header_only = tmp_path / "header.csv"
    header_only.write_text("treated,reoffended,age\n")
    with pytest.raises(CommandError, match="has a header but no rows"):
        _run(str(header_only), **BASE)
    fake = tmp_path / "fake.parquet"
    fake.write_text("treated,reoffended\n1,0\n")
    with pytest.raises(CommandError, match="cannot be read as Parquet"):
        _run(str(fake), **BASE)
    sheet = tmp_path / "cohort.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    with pytest.raises(CommandError, match=r"use a \.csv \(UTF-8\) or \.parquet file"):
        _run(str(sheet), **BASE)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("treated,reoffended,age\n1,0,30\n0,1\n")
    with pytest.raises(CommandError) as info:
        _run(str(ragged), **BASE)
    assert "row 3: has 2 cells but the header has 3" in str(info.value)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("treated,sex\n1,é\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not valid UTF-8"):
        _run(str(latin), **BASE)


def test_command_line_prints_one_line_without_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "evaluate_table",
            str(tmp_path / "absent.csv"),
            "--treatment",
            "t",
            "--outcome",
            "y",
            "--covariates",
            "a",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "openiom.settings"},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"CommandError: absent.csv: there is no file {str(tmp_path / 'absent.csv')!r}"]
