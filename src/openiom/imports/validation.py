"""Checking every cell of a parsed file, vectorised with polars.

validate() returns the typed table (dates as dates, whole numbers as integers, identifiers
upper-cased, blanks as nulls) and a table of problems: row, column, value, message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from openiom.imports.formats import Column, RecordType
from openiom.imports.parsing import ROW

ISO_SHAPE = r"^\d{4}-\d{1,2}-\d{1,2}$"
UK_SHAPE = r"^\d{1,2}/\d{1,2}/\d{4}$"
SOURCE_SHAPE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
CODE_SHAPE = r"^\d{3}/\d{2}$"
EARLIEST = dt.date(1900, 1, 1)
MAX_INT = 2_147_483_647
PROBLEM_SCHEMA: Any = {ROW: pl.Int64, "column": pl.String, "value": pl.String, "message": pl.String}


@dataclass(frozen=True)
class Lookups:
    offence_codes: dict[str, int]  # "028/01" -> OffenceCode.pk
    hubs: dict[str, int]  # "north" -> Hub.pk
    today: dt.date


def _lit(s: str) -> pl.Expr:
    return pl.lit(s, dtype=pl.String)


def _quoted(col: str) -> pl.Expr:
    return pl.concat_str([_lit("'"), pl.col(col).str.slice(0, 60), _lit("'")])


def _column_checks(c: Column, lk: Lookups) -> tuple[pl.Expr, pl.Expr | None]:
    """(message expression, typed value expression) for one column; message null = fine."""
    v = pl.col(c.name)
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    if c.required:
        checks.append((v.is_null(), _lit("is required but empty")))
    if c.max_length:
        n = v.str.len_chars()
        checks.append(
            (
                n > c.max_length,
                pl.format("is {} characters long; the most allowed is {}", n, pl.lit(c.max_length)),
            )
        )
    typed: pl.Expr | None = v
    if c.kind == "source_system":
        checks.append(
            (
                ~v.str.contains(SOURCE_SHAPE),
                pl.format(
                    "{} is not a system name (letters, digits, '-', '_', '.')", _quoted(c.name)
                ),
            )
        )
    elif c.kind == "date":
        iso = v.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        uk = v.str.strptime(pl.Date, "%d/%m/%Y", strict=False)
        shaped = v.str.contains(ISO_SHAPE) | v.str.contains(UK_SHAPE)
        typed = pl.when(v.str.contains(ISO_SHAPE)).then(iso).otherwise(uk)
        checks.append(
            (
                shaped.not_() & v.is_not_null(),
                pl.format("{} is not a date (use YYYY-MM-DD or DD/MM/YYYY)", _quoted(c.name)),
            )
        )
        checks.append(
            (
                shaped & typed.is_null(),
                pl.format("{} is not a real date", _quoted(c.name)),
            )
        )
        checks.append(
            (
                typed < EARLIEST,
                pl.format("{} is before 1900, which is not plausible", _quoted(c.name)),
            )
        )
        if c.not_future:
            checks.append(
                (
                    typed > lk.today,
                    pl.format(
                        "{} is in the future (today is {})",
                        _quoted(c.name),
                        _lit(lk.today.isoformat()),
                    ),
                )
            )
    elif c.kind == "int":
        digits = v.str.contains(r"^\d{1,10}$")
        typed = pl.when(digits).then(v.cast(pl.Int64, strict=False))
        checks.append(
            (
                v.is_not_null() & ~digits,
                pl.format("{} is not a whole number of 0 or more", _quoted(c.name)),
            )
        )
        checks.append((typed > MAX_INT, pl.format("{} is too large", _quoted(c.name))))
    elif c.kind == "choice":
        allowed = list(c.choices)
        checks.append(
            (
                v.is_not_null() & ~v.is_in(allowed),
                pl.format(
                    "{} is not an allowed value; use one of: {}",
                    _quoted(c.name),
                    _lit(", ".join(allowed)),
                ),
            )
        )
    elif c.kind == "offence_code":
        known = list(lk.offence_codes)
        checks.append(
            (
                v.is_not_null() & ~v.str.contains(CODE_SHAPE),
                pl.format(
                    "{} is not an offence code in the form GGG/SS (e.g. 028/01)", _quoted(c.name)
                ),
            )
        )
        checks.append(
            (
                v.is_not_null() & ~v.is_in(known),
                pl.format("{} is not a known Home Office offence code", _quoted(c.name)),
            )
        )
        typed = v.replace_strict(lk.offence_codes, default=None, return_dtype=pl.Int64)
    elif c.kind == "hub":
        checks.append(
            (
                v.is_not_null() & ~v.is_in(list(lk.hubs)),
                pl.format(
                    "{} is not a known hub code; use one of: {}",
                    _quoted(c.name),
                    _lit(", ".join(sorted(lk.hubs))),
                ),
            )
        )
        typed = v.replace_strict(lk.hubs, default=None, return_dtype=pl.Int64)
    # First failing check wins, so each cell gets one clear message.
    message: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, msg in reversed(checks):
        message = pl.when(cond.fill_null(False)).then(msg).otherwise(message)
    return message, typed


def _clean(frame: pl.DataFrame, rt: RecordType) -> pl.DataFrame:
    exprs = []
    for c in rt.columns:
        e = pl.col(c.name).str.strip_chars()
        e = pl.when(e == "").then(None).otherwise(e)
        if c.upper or c.kind == "offence_code":
            e = e.str.to_uppercase()
        if c.kind in {"choice", "hub"} and c.name not in {
            "intelligence_grade",
            "sex",
            "handling_code",
        }:
            e = e.str.to_lowercase()
        if c.name in {"sex", "intelligence_grade", "handling_code"} or c.name.startswith(
            "ethnicity"
        ):
            e = e.str.to_uppercase()
        exprs.append(e.alias(c.name))
    return frame.with_columns(exprs)


def validate(frame: pl.DataFrame, rt: RecordType, lk: Lookups) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = _clean(frame, rt)
    msgs, typed = [], []
    for c in rt.columns:
        m, t = _column_checks(c, lk)
        msgs.append(m.alias(f"__msg_{c.name}"))
        if t is not None:
            typed.append(t.alias(f"__typed_{c.name}"))
    checked = frame.with_columns(msgs + typed)
    problems = [
        checked.filter(pl.col(f"__msg_{c.name}").is_not_null()).select(
            pl.col(ROW),
            _lit(c.name).alias("column"),
            pl.col(c.name).cast(pl.String).alias("value"),
            pl.col(f"__msg_{c.name}").alias("message"),
        )
        for c in rt.columns
    ]
    typed_frame = checked.select(
        pl.col(ROW),
        *[pl.col(f"__typed_{c.name}").alias(c.name) for c in rt.columns],
    )
    bad_cells = {c.name: pl.col(f"__msg_{c.name}").is_not_null() for c in rt.columns}
    # Dates in the wrong order (only where both dates are themselves valid).
    for order in rt.date_orders:
        both_ok = ~bad_cells[order.earlier] & ~bad_cells[order.later]
        wrong = checked.with_columns(
            __e=pl.col(f"__typed_{order.earlier}"), __l=pl.col(f"__typed_{order.later}")
        ).filter(both_ok & (pl.col("__l") < pl.col("__e")))
        problems.append(
            wrong.select(
                pl.col(ROW),
                _lit(order.later).alias("column"),
                pl.col(order.later).alias("value"),
                pl.format(
                    "{} is before {} {} ({})",
                    _quoted(order.later),
                    _lit(order.earlier),
                    _quoted(order.earlier),
                    _lit(order.reason),
                ).alias("message"),
            )
        )
    # Duplicate ids within the file: the later rows are reported against the first.
    key = ["source_system", rt.id_column]
    dup = (
        frame.filter(pl.col(rt.id_column).is_not_null())
        .with_columns(__first=pl.col(ROW).min().over(key))
        .filter(pl.col(ROW) != pl.col("__first"))
    )
    problems.append(
        dup.select(
            pl.col(ROW),
            _lit(rt.id_column).alias("column"),
            pl.col(rt.id_column).alias("value"),
            pl.format(
                "{} is a duplicate: the same {} and source_system are on row {}",
                _quoted(rt.id_column),
                _lit(rt.id_column),
                pl.col("__first"),
            ).alias("message"),
        )
    )
    if rt.name == "people":
        problems.extend(_people_checks(frame))
    all_problems = pl.concat(
        [p.cast(PROBLEM_SCHEMA) for p in problems] or [pl.DataFrame(schema=PROBLEM_SCHEMA)]
    ).sort(ROW, "column")
    return typed_frame, all_problems


def _people_checks(frame: pl.DataFrame) -> list[pl.DataFrame]:
    out = []
    # One row per person per batch: two rows sharing an identifier would be ambiguous.
    for col in ["pnc_id", "crn", "prison_number"]:
        shared = (
            frame.filter(pl.col(col).is_not_null())
            .with_columns(__first=pl.col(ROW).min().over(col))
            .filter(pl.col(ROW) != pl.col("__first"))
        )
        out.append(
            shared.select(
                pl.col(ROW),
                _lit(col).alias("column"),
                pl.col(col).alias("value"),
                pl.format(
                    "{} is also the {} on row {}; send one row per person",
                    _quoted(col),
                    _lit(col),
                    pl.col("__first"),
                ).alias("message"),
            )
        )
    addr_without_line = frame.filter(
        pl.col("address_line_1").is_null()
        & (pl.col("address_town").is_not_null() | pl.col("address_postcode").is_not_null())
    )
    out.append(
        addr_without_line.select(
            pl.col(ROW),
            _lit("address_line_1").alias("column"),
            _lit("").alias("value"),
            _lit("is required when address_town or address_postcode is given").alias("message"),
        )
    )
    return out
