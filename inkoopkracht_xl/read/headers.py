"""Header and sheet-name wording as coordinators type it: one place decides what matches what."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from . import values

# A header may carry the year, a parenthetical or a footnote mark: "Begroot 2024",
# "Begroot (excl. BTW)", "Deelnemende gemeenten*", "Verdeling (inwoners/gelijk)".
_TRAILING_MARKS = re.compile(r"[\s*:¹²³]+$")
_TRAILING_PARENTHETICAL = re.compile(r"(?<=\S)\s*\([^()]*\)$")
_TRAILING_YEAR = re.compile(r"(?<=\S)\s+(?:19|20)\d\d(?:\s*[/-]\s*(?:19|20)?\d\d)?$")
# "Bedrag excl. BTW" as "Bedrag (excl. BTW)"; "incl. btw" too, which the reader then refuses by name.
_TRAILING_VAT = re.compile(r"(?<=\S)\s+(?:excl|incl|exclusief|inclusief)\.?\s*b\.?t\.?w\.?$")

# Sheet names: "Begroting 2024", "Aanbestedingskalender 2024", and the copies Excel makes.
_SHEET_COPY = re.compile(r"\s*\(\d+\)$")
_SHEET_ALIASES = {"aanbestedingskalender": "kalender"}

# Similar enough to a known header to say so (difflib ratio on the normalised words).
RESEMBLANCE = 0.72
_SIGNIFICANT_WORD = 5  # letters: a shared word this long also counts as resembling


def normalise_header(value: object) -> str:
    """A header cell as matched: case- and space-insensitive, without a trailing year,
    parenthetical, footnote mark or colon ('Deelnemende gemeenten 2024*' -> 'deelnemende gemeenten')."""
    previous = None
    header = " ".join(values.text(value).split()).casefold()
    while header != previous:
        previous = header
        header = _TRAILING_MARKS.sub("", header)
        header = _TRAILING_PARENTHETICAL.sub("", header)
        header = _TRAILING_YEAR.sub("", header)
        header = _TRAILING_VAT.sub("", header)
    return header


def sheet_base_name(name: str) -> str:
    """A sheet name as matched: 'Begroting 2024' and 'begroting' -> 'begroting';
    'Aanbestedingskalender 2024' -> 'kalender'. A copy ('Kalender (2)') keeps its mark."""
    base = normalise_header(_SHEET_COPY.sub("", name))
    base = _SHEET_ALIASES.get(base, base)
    copy = _SHEET_COPY.search(name)
    return base + (copy.group().strip() if copy else "")


def is_sheet_copy(name: str) -> bool:
    return _SHEET_COPY.search(name) is not None


def copy_of(name: str) -> str:
    """The base name a copy sheet was made from ('Kalender (2)' -> 'kalender')."""
    return sheet_base_name(_SHEET_COPY.sub("", name))


def resembles(typed: str, known: str) -> bool:
    """Whether a header that matched nothing looks like the known header `known` (both normalised):
    'deelnemers' ~ 'deelnemende gemeenten', 'begrote bedrag' ~ 'begroot'."""
    if not typed or not known:
        return False
    if SequenceMatcher(None, typed, known).ratio() >= RESEMBLANCE:
        return True
    typed_words = set(re.findall(r"\w+", typed))
    known_words = set(re.findall(r"\w+", known))
    if any(len(w) >= _SIGNIFICANT_WORD for w in typed_words & known_words):
        return True
    # A shared stem: 'deelnemers' and 'deelnemende', 'begrote' and 'begroot'.
    return any(
        len(a) >= _SIGNIFICANT_WORD
        and len(b) >= _SIGNIFICANT_WORD
        and a[:_SIGNIFICANT_WORD] == b[:_SIGNIFICANT_WORD]
        for a in typed_words
        for b in known_words
    )
