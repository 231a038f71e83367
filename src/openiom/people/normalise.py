"""Name normalisation shared by search, import matching and the simulator."""

from __future__ import annotations

import re
import unicodedata

_NON_ALPHA = re.compile(r"[^A-Z ]+")
_SPACES = re.compile(r"\s+")


def normalise_name(value: str) -> str:
    """Upper-case, strip accents and punctuation: "O'Brien-Smith" -> "OBRIENSMITH"."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii").upper()
    return _SPACES.sub(" ", _NON_ALPHA.sub("", ascii_only)).strip()
