"""A fast, stable fingerprint of the scoring inputs (stored with every run).

Sorting ten million rows to serialise them canonically costs tens of seconds, so the inputs are
hashed as a *multiset of rows* instead, with nothing but numpy and hashlib (no polars hashing,
whose seeds and algorithms may change between versions and processes):

1. Every value becomes a canonical 64-bit word that depends on the value, not on the dtype or
   the source: integers (and strings that are the canonical decimal text of an integer, as ids
   read from CSV are) as int64; dates as days since 1970-01-01; booleans as 0/1; floats by their
   IEEE bits (-0.0 and every NaN folded); other strings by an 8-byte BLAKE2b of their UTF-8 text
   (computed once per distinct value).
2. Each row folds its words, column by column, through the MurmurHash3 64-bit finaliser:
   h = fmix64(h ^ word). A column with nulls gets one more fold, of "is null". fmix64 and XOR
   are bijections, so two rows that differ in any one value always get different hashes.
3. Per table, two independent sums (mod 2**64) of the row hashes give an order-independent
   digest that still counts duplicate rows; changing one row always changes the first sum.
4. SHA-256 over a version tag and, per table, its name, columns, row count and the two sums.

The result is the same on every run, process and machine for the same values (tested in a fresh
process), whatever the row order. It detects change; it is not a defence against someone
deliberately crafting inputs to collide (the row hash is not cryptographic).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl

VERSION = b"openiom-scoring-fingerprint-2\n"

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_LANE2 = np.uint64(0x9E3779B97F4A7C15)
_CANON_NAN_BITS = np.uint64(0x7FF8_0000_0000_0000)


def _fmix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place (a bijection on uint64)."""
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


def _blake64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _string_words(values: Iterable[str]) -> np.ndarray:
    return np.array([_blake64(v) for v in values], dtype=np.uint64)


def _dictionary_words(values: pl.Series) -> np.ndarray:
    """Words for distinct string values: the canonical decimal text of an integer ("12", not
    "012" or "+12") is that int64, so ids read from CSV text match ids read as integers; any
    other string is an 8-byte BLAKE2b of its UTF-8 text."""
    as_int = values.cast(pl.Int64, strict=False)
    decimal = (as_int.cast(pl.String) == values).fill_null(False).to_numpy()
    words = as_int.fill_null(0).to_numpy().astype(np.int64).view(np.uint64).copy()
    other = np.flatnonzero(~decimal)
    if other.size:
        words[other] = _string_words(values.gather(other).to_list())
    return words


def _categorical_words(s: pl.Series) -> np.ndarray:
    """Words for an Enum or Categorical column: hash each distinct value once, gather by code."""
    if isinstance(s.dtype, pl.Enum):
        dictionary = pl.Series(s.dtype.categories, dtype=pl.String)
        codes = np.arange(dictionary.len(), dtype=np.int64)
    else:
        distinct = s.drop_nulls().unique()
        dictionary = distinct.cast(pl.String)
        codes = distinct.to_physical().to_numpy().astype(np.int64)
    lookup = np.zeros(int(codes.max()) + 1 if codes.size else 1, dtype=np.uint64)
    lookup[codes] = _dictionary_words(dictionary)
    physical = s.to_physical()
    words = lookup[physical.fill_null(0).to_numpy().astype(np.int64)]
    if physical.null_count():
        words[physical.is_null().to_numpy()] = 0
    return words


def column_words(s: pl.Series) -> np.ndarray:
    """Canonical uint64 words for one column's values (a null's word is 0; see table_digest)."""
    dtype = s.dtype
    if dtype == pl.String:
        # Each distinct string is hashed once; the rows gather the words by category code.
        return _categorical_words(s.cast(pl.Categorical))
    if isinstance(dtype, pl.Enum | pl.Categorical):
        return _categorical_words(s)
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        days = s.cast(pl.Date).cast(pl.Int32).fill_null(0)
        return days.to_numpy().astype(np.int64).view(np.uint64)
    if dtype == pl.Boolean:
        return s.cast(pl.UInt64).fill_null(0).to_numpy().astype(np.uint64)
    if dtype.is_float():
        values = s.cast(pl.Float64).fill_null(0.0).to_numpy().astype(np.float64)
        values[values == 0.0] = 0.0  # -0.0 == 0.0: one word for both
        bits = values.view(np.uint64).copy()
        bits[np.isnan(values)] = _CANON_NAN_BITS
        return bits
    if dtype == pl.UInt64:
        return s.fill_null(0).to_numpy().astype(np.uint64)
    if dtype.is_integer():
        return s.cast(pl.Int64).fill_null(0).to_numpy().astype(np.int64).view(np.uint64)
    if dtype == pl.Null:
        return np.zeros(s.len(), dtype=np.uint64)
    # Anything else: by its text (slow, but no loader produces it).
    return column_words(s.cast(pl.String))


def table_digest(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[int, int, int]:
    """(rows, lane-1 sum, lane-2 sum) over the frame's columns, independent of row order."""
    h = np.full(frame.height, _blake64("\x1f".join(columns)), dtype=np.uint64)
    for c in columns:
        series = frame[c]
        h ^= column_words(series)
        _fmix(h)
        if series.null_count():
            # Values may use all 64 bits, so nulls (word 0) are told apart by one more fold.
            h ^= series.is_null().to_numpy().astype(np.uint64)
            _fmix(h)
    lane1 = int(h.sum(dtype=np.uint64))
    h ^= _LANE2
    _fmix(h)
    lane2 = int(h.sum(dtype=np.uint64))
    return frame.height, lane1, lane2


def fingerprint_frames(tables: Sequence[tuple[str, pl.DataFrame, Sequence[str]]]) -> str:
    """SHA-256 hex over the tables' order-independent digests (see the module docstring)."""
    digest = hashlib.sha256(VERSION)
    for name, frame, columns in tables:
        n, lane1, lane2 = table_digest(frame, columns)
        digest.update(f"{name}\x1f{','.join(columns)}\x1f".encode())
        digest.update(struct.pack("<QQQ", n, lane1, lane2))
    return digest.hexdigest()
