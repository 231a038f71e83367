"""manage.py audit_score end to end on generated CSV and Parquet files, including errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from django.core.management import CommandError, call_command
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]


def generated(n: int = 500, seed: int = 9) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 60, n)
    priors = rng.poisson(3, n)
    lp = -1.2 + 0.3 * priors - 0.02 * (age - 30)
    p = 1 / (1 + np.exp(-lp))
    return pl.DataFrame(
        {
            "risk": np.round(p, 4),
            "reoffended": rng.binomial(1, p),
            "ethnicity": rng.choice(["White", "Black", "Asian"], n, p=[0.6, 0.25, 0.15]),
            "age": age,
            "priors": priors,
        }
    )


def run(*args: str) -> str:
    out = StringIO()
    call_command("audit_score", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_csv_and_parquet_write_all_outputs(tmp_path: Path, suffix: str) -> None:
    df = generated()
    path = tmp_path / f"scores.{suffix}"
    df.write_csv(path) if suffix == "csv" else df.write_parquet(path)
    out_dir = tmp_path / "out"
    text = run(
        str(path),
        "--score=risk",
        "--outcome=reoffended",
        "--group=ethnicity",
        "--threshold=0.5",
        "--predictors=age,priors",
        f"--out={out_dir}",
    )
    assert "AUC" in text and "Error rates at threshold 0.5" in text and "Black" in text
    data = json.loads((out_dir / "audit.json").read_text())
    expected_auc = roc_auc_score(df["reoffended"].to_numpy(), df["risk"].to_numpy())
    assert data["discrimination"]["auc"]["estimate"] == pytest.approx(expected_auc)
    assert data["source"]["format"] == suffix and data["source"]["rows"] == 500
    assert len(data["source"]["sha256"]) == 64
    assert data["calibration"]["is_probability"] is True
    assert {g["group"] for g in data["threshold"]["groups"]} == {"White", "Black", "Asian"}
    assert data["benchmark"]["auc_cross_validated"] is not None
    for name, title in (("calibration.svg", "Calibration"), ("roc.svg", "ROC curve")):
        svg = (out_dir / name).read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and title in svg
    html = (out_dir / "report.html").read_text()
    assert '<img src="roc.svg"' in html and "<table>" in html and "Transparent benchmark" in html


def test_both_formats_give_the_same_audit(tmp_path: Path) -> None:
    df = generated(300)
    df.write_csv(tmp_path / "a.csv")
    df.write_parquet(tmp_path / "a.parquet")
    results = []
    for name in ("a.csv", "a.parquet"):
        run(
            str(tmp_path / name),
            "--score=risk",
            "--outcome=reoffended",
            "--threshold=0.4",
            f"--out={tmp_path / name}.out",
        )
        results.append(json.loads((tmp_path / f"{name}.out" / "audit.json").read_text()))
    for part in ("discrimination", "calibration", "threshold"):
        assert results[0][part] == results[1][part]


def test_not_probability_flag(tmp_path: Path) -> None:
    df = generated(200)
    path = tmp_path / "s.csv"
    df.write_csv(path)
    text = run(
        str(path), "--score=risk", "--outcome=reoffended", "--threshold=0.5", "--no-probability"
    )
    assert "Scores are not treated as probabilities: declared not to be" in text


@pytest.mark.parametrize(
    ("mutate", "args", "message"),
    [
        (lambda d: d, ["--score=nope", "--outcome=oops"], r"Missing column\(s\): nope, oops"),
        (
            lambda d: d.with_columns(pl.col("reoffended").cast(pl.Utf8).replace("1", "Y?")),
            [],
            r"'reoffended' must be binary.*'Y\?' in rows",
        ),
        (
            lambda d: d.with_columns(
                pl.when(pl.int_range(pl.len()) == 6)
                .then(pl.lit("n/a"))
                .otherwise(pl.col("risk").cast(pl.Utf8))
                .alias("risk")
            ),
            [],
            r"must be numeric: row 7 \(line 8 of the file\) has 'n/a'",
        ),
        (lambda d: d.head(0), [], "no rows"),
        (lambda d: d.with_columns(pl.lit(0).alias("reoffended")), [], "AUC is not defined"),
        (
            lambda d: d,
            ["--group=ethnicity", "--groups=White,Mixed"],
            "no rows in column 'ethnicity': Mixed",
        ),
        (lambda d: d, ["--probability", "--score=priors"], r"outside \[0, 1\]"),
    ],
)
def test_errors_are_clear(
    tmp_path: Path, mutate: Callable[[pl.DataFrame], pl.DataFrame], args: list[str], message: str
) -> None:
    path = tmp_path / "bad.csv"
    mutate(generated(50)).write_csv(path)
    base = ["--score=risk", "--outcome=reoffended", "--threshold=0.5"]
    # Later options win in argparse, so test-specific --score/--outcome override the defaults.
    with pytest.raises(CommandError, match=message):
        run(str(path), *base, *args)


def test_unreadable_files(tmp_path: Path) -> None:
    base = ["--score=risk", "--outcome=reoffended", "--threshold=0.5"]
    with pytest.raises(CommandError, match="is not a file"):
        run(str(tmp_path / "missing.csv"), *base)
    (tmp_path / "x.txt").write_text("a,b\n")
    with pytest.raises(CommandError, match=r"expected a \.csv or \.parquet"):
        run(str(tmp_path / "x.txt"), *base)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CommandError, match="empty"):
        run(str(tmp_path / "empty.csv"), *base)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(CommandError, match="could not be read as parquet"):
        run(str(tmp_path / "broken.parquet"), *base)


def test_command_line_shows_message_not_traceback(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    generated(30).write_csv(path)
    proc = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "audit_score",
            str(path),
            "--score=risk",
            "--outcome=missing_col",
            "--threshold=0.5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
    )
    assert proc.returncode == 1
    assert "CommandError: Missing column(s): missing_col" in proc.stderr
    assert "Traceback" not in proc.stderr
