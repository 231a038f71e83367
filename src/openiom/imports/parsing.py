"""Reading an uploaded CSV or XLSX file into a table of text, with clear errors for bad files.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field

import polars as pl

from openiom.imports.formats import RecordType

ROW = "__row"


@dataclass
class Problem:
    row: int | None
    column: str
    value: str
    message: str


@dataclass
class ParsedFile:
    frame: pl.DataFrame | None
    problems: list[Problem] = field(default_factory=list)


def _bad(message: str, *, row: int | None = None, column: str = "", value: str = "") -> ParsedFile:
    return ParsedFile(None, [Problem(row, column, value, message)])


def _check_header(rt: RecordType, header: list[str]) -> list[Problem]:
    names = [h.strip().lower() for h in header]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, n in enumerate(names, start=1):
        if n in seen:
            problems.append(
                Problem(
                    1, n, n, f"column '{n}' appears twice (columns {seen[n]} and {i}); remove one"
                )
            )
        else:
            seen[n] = i
    expected = rt.column_names
    missing = [c for c in expected if c not in seen]
    extra = [n for n in seen if n not in expected]
    if missing:
        problems.append(
            Problem(
                1,
                ", ".join(missing),
                "",
                f"missing column(s): {', '.join(missing)}. {rt.filename} needs exactly: "
                f"{', '.join(expected)}",
            )
        )
    for n in extra:
        shown = n if n else "(blank)"
        problems.append(
            Problem(
                1,
                shown,
                n,
                f"unexpected column '{shown}'; {rt.filename} has only: {', '.join(expected)}",
            )
        )
    return problems


def _decode(data: bytes) -> tuple[str | None, str]:
    """Text of a CSV file, or None and why not. UTF-8 (with or without BOM) only."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, "the file is UTF-16 encoded; save it as 'CSV UTF-8' and try again"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        return None, "the file contains binary data (NUL bytes); it is not a CSV text file"
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        return None, (
            f"the file is not valid UTF-8 (byte 0x{data[e.start]:02x} on line {line}); "
            "it may be in Windows-1252 or Latin-1. Save it as 'CSV UTF-8' and try again"
        )


def read_csv(rt: RecordType, data: bytes) -> ParsedFile:
    text, why = _decode(data)
    if text is None:
        return _bad(why)
    if not text.strip():
        return _bad("the file is empty")
    first_line = text.split("\n", 1)[0]
    try:
        header = next(csv.reader([first_line]))
    except csv.Error as e:
        return _bad(f"the header row cannot be read: {e}", row=1)
    problems = _check_header(rt, header)
    if problems:
        return ParsedFile(None, problems)
    ncols = len(header)
    problems = _ragged_rows(text, ncols)
    if problems:
        return ParsedFile(None, problems)
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            infer_schema=False,
            has_header=True,
            new_columns=[h.strip().lower() for h in header],
            quote_char='"',
        )
    except (pl.exceptions.PolarsError, ValueError) as e:
        return _bad(f"the file cannot be read as CSV: {str(e).splitlines()[0]}")
    frame = frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    return ParsedFile(frame)


def _ragged_rows(text: str, ncols: int, limit: int = 50) -> list[Problem]:
    """Rows with more or fewer cells than the header (polars would pad or fail silently)."""
    problems: list[Problem] = []
    if '"' not in text:
        # Fast path: no quoting, so cells per line = commas + 1; vectorised.
        lines = pl.Series(text.splitlines()[1:], dtype=pl.String)
        counts = lines.str.count_matches(",", literal=True) + 1
        frame = pl.DataFrame({"n": counts, "line": lines}).with_row_index("i", offset=2)
        bad = frame.filter((pl.col("n") != ncols) & (pl.col("line").str.strip_chars() != ""))
        for i, n, _line in bad.head(limit).iter_rows():
            problems.append(_ragged(i, n, ncols))
        return problems
    try:
        reader = csv.reader(io.StringIO(text))
        next(reader)
        for i, row in enumerate(reader, start=2):
            if len(row) != ncols and any(c.strip() for c in row):
                problems.append(_ragged(i, len(row), ncols))
                if len(problems) >= limit:
                    break
    except csv.Error as e:
        problems.append(Problem(None, "", "", f"the file cannot be read as CSV: {e}"))
    return problems


def _ragged(row: int, n: int, ncols: int) -> Problem:
    return Problem(
        row,
        "",
        "",
        f"has {n} cells but the header has {ncols}; check for unquoted commas or missing cells",
    )


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(rt: RecordType, data: bytes) -> ParsedFile:
    """The first worksheet; row 1 is the header."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        return _bad(f"the file is not a readable XLSX workbook ({type(e).__name__})")
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None:
            return _bad("the workbook's first sheet is empty")
        header = [_cell_text(c) or "" for c in header_cells]
        while header and header[-1] == "":
            header.pop()  # spreadsheet apps leave formatted empty cells at the end
        problems = _check_header(rt, header)
        if problems:
            return ParsedFile(None, problems)
        ncols = len(header)
        columns: list[list[str | None]] = [[] for _ in range(ncols)]
        for i, cells in enumerate(rows, start=2):
            values = [_cell_text(c) for c in cells]
            if any(v not in (None, "") for v in values[ncols:]):
                return _bad(
                    f"has a value beyond the last header column ({len(values)} cells)", row=i
                )
            if all(v in (None, "") for v in values):
                values = [None] * ncols
            values += [None] * (ncols - len(values))
            for j in range(ncols):
                columns[j].append(values[j])
    finally:
        workbook.close()
    frame = pl.DataFrame(
        {
            h.strip().lower(): pl.Series(c, dtype=pl.String)
            for h, c in zip(header, columns, strict=True)
        }
    )
    # Drop trailing blank rows spreadsheets keep, but keep numbering of the rest.
    frame = frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    data_cols = [c for c in frame.columns if c != ROW]
    frame = frame.filter(~pl.all_horizontal(pl.col(data_cols).is_null()))
    return ParsedFile(frame)


def read_file(rt: RecordType, name: str, data: bytes) -> ParsedFile:
    if not data:
        return _bad("the file is empty")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return _bad("old Excel (.xls) files are not accepted; save it as .xlsx or CSV UTF-8")
    if data.startswith(b"PK\x03\x04") or name.lower().endswith(".xlsx"):
        return read_xlsx(rt, data)
    parsed = read_csv(rt, data)
    if parsed.frame is not None:
        # Blank lines carry no data; polars reads them as all-null rows.
        data_cols = [c for c in parsed.frame.columns if c != ROW]
        parsed.frame = parsed.frame.filter(~pl.all_horizontal(pl.col(data_cols).is_null()))
    return parsed
