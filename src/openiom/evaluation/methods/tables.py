"""Reading the flat table (CSV or Parquet) for `manage.py evaluate_table`, and its errors.

One row per person: a treatment flag, outcomes and covariates in named columns. Errors say
where and why: `TableError(reason, row=..., column=...)`. Row numbers count as a spreadsheet
does — the header is row 1, so the first person is row 2 — the same convention as the imports
app, so an analyst can go straight to the cell.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

CSV_SUFFIXES = {".csv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
FIRST_DATA_ROW = 2  # the header is row 1
# Written by R's write.csv and others for missing values, besides empty cells.
NULL_VALUES = ["NA", "N/A", "NULL", "null", ""]


class TableError(Exception):
    """Bad input table: `row` (spreadsheet numbering, or None), `column` (or None), `reason`."""

    def __init__(self, reason: str, *, row: int | None = None, column: str | None = None):
        self.reason = reason
        self.row = row
        self.column = column
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


def spreadsheet_row(position: int) -> int:
    """Row number (header = 1) of the person at 0-based `position` in the frame."""
    return position + FIRST_DATA_ROW


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a CSV (UTF-8, header row, comma-separated) or Parquet file into a polars frame.

    CSV types are inferred from the whole file, so a column that is numeric except for one
    cell is read as text and the pipeline then names that cell. Empty cells and NA/NULL are
    missing values.
    """
    p = Path(path)
    if not p.exists():
        raise TableError(f"there is no file {str(p)!r}")
    if not p.is_file():
        raise TableError(f"{str(p)!r} is not a file")
    suffix = p.suffix.lower()
    if suffix in PARQUET_SUFFIXES or (suffix not in CSV_SUFFIXES and _looks_like_parquet(p)):
        frame = _read_parquet(p)
    elif suffix in CSV_SUFFIXES:
        frame = _read_csv(p)
    else:
        raise TableError(
            f"{p.name!r} is not a format this can read: use a .csv (UTF-8) or .parquet file"
        )
    if frame.width == 0:
        raise TableError(f"{p.name!r} has no columns")
    if frame.height == 0:
        raise TableError(f"{p.name!r} has a header but no rows of data")
    return frame


def _looks_like_parquet(p: Path) -> bool:
    with p.open("rb") as f:
        return f.read(4) == b"PAR1"


def _read_parquet(p: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(p)
    except (pl.exceptions.PolarsError, OSError, ValueError) as e:
        raise TableError(f"{p.name!r} cannot be read as Parquet: {_first_line(e)}") from None


def _read_csv(p: Path) -> pl.DataFrame:
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise TableError(
            f"{p.name!r} is not valid UTF-8 (byte 0x{data[e.start]:02x}); "
            "save it as 'CSV UTF-8' and try again",
            row=line,
        ) from None
    if not text.strip():
        raise TableError(f"{p.name!r} is empty")
    names = _check_shape(text)
    try:
        return pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            new_columns=names,
            infer_schema_length=None,
            null_values=NULL_VALUES,
            try_parse_dates=False,
        )
    except pl.exceptions.NoDataError:
        raise TableError(f"{p.name!r} is empty") from None
    except (pl.exceptions.PolarsError, OSError, ValueError) as e:
        raise TableError(f"{p.name!r} cannot be read as CSV: {_first_line(e)}") from None


def _check_shape(text: str) -> list[str]:
    """Header names present and unique, and every row as long as the header.

    polars would silently pad a short row with missing values (which the pipeline would then
    drop as incomplete), so ragged rows are found here and reported by row.
    """
    try:
        header = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")]))
    except csv.Error as e:
        raise TableError(f"the header cannot be read: {e}", row=1) from None
    names = [h.strip() for h in header]
    for i, name in enumerate(names, start=1):
        if not name:
            raise TableError(f"header cell {i} is blank; every column needs a name", row=1)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise TableError("this column name appears twice in the header", row=1, column=name)
        seen.add(name)
    ncols = len(names)
    if '"' not in text:
        # No quoting: cells per line = commas + 1, counted for all lines at once.
        lines = pl.Series(text.splitlines()[1:], dtype=pl.String)
        counts = lines.str.count_matches(",", literal=True) + 1
        frame = pl.DataFrame({"n": counts, "line": lines}).with_row_index("row", offset=2)
        bad = frame.filter((pl.col("n") != ncols) & (pl.col("line").str.strip_chars() != ""))
        if bad.height:
            row, n, _ = bad.row(0)
            raise TableError(_ragged(n, ncols), row=int(row))
        return names
    reader = csv.reader(io.StringIO(text))
    try:
        next(reader)
        for cells in reader:
            if len(cells) != ncols and any(c.strip() for c in cells):
                raise TableError(_ragged(len(cells), ncols), row=reader.line_num)
    except csv.Error as e:
        raise TableError(f"the file cannot be read as CSV: {e}", row=reader.line_num) from None
    return names


def _ragged(n: int, ncols: int) -> str:
    return f"has {n} cells but the header has {ncols}; check for unquoted commas or missing cells"


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
