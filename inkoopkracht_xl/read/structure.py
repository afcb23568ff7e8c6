"""What a row of a coordinator's sheet is, besides data: a total, a section heading, a note.

Pure functions on cell values, so the table reader's decisions can be read (and tested) in one
place. SPEC §1: nothing is read in a way the coordinator did not mean — a row is data, or it is
one of these and listed as such, or it is a finding at its cell.
"""

from __future__ import annotations

import re

from . import values

# 'Totaal', 'Subtotaal', 'Totaal inwoners', 'Som', 'TOTAAL:', 'Totaal 2024' — the word must end
# there ('Totaalbeheer' is a name). Only the first filled cell of a row counts as its label.
_TOTAL_LABEL = re.compile(r"^(sub)?(totaal|totalen|som|total|subtotal)(?![\w-])", re.IGNORECASE)
_SUBTOTAL_LABEL = re.compile(r"^sub", re.IGNORECASE)

# A formula that adds up the cells above it: SUM(B5:B9), SUBTOTAL(9,B5:B9), SOM(...) in a file
# saved by a Dutch program, with or without $ and the _xlfn. prefix.
_SUM_FORMULA = re.compile(
    r"^\s*=?\s*(?:_xlfn\.)?(SUM|SUBTOTAL|SOM|SUBTOTAAL|AGGREGATE)\s*\(", re.IGNORECASE
)
_RANGE = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)\s*:\s*\$?([A-Z]{1,3})\$?(\d+)", re.IGNORECASE)

# Section headings of the calendar as the jaarplan prints them: '1. Contractmanagement, ...',
# '3 | Onderwerp/verkenningsmogelijkheden', 'Categorie 3', 'Categorie 3: Verkenning', '4) Breed'.
_HEADING = re.compile(
    r"^\s*(?:categorie\s*([1-4])(?!\d)(?:\s*[.:|)\-–]\s*|\s*$|\s+)"
    r"|([1-4])\s*(?:[.:|)](?!\d)|\s[-–]\s)\s*(?=\S)"
    r")",
    re.IGNORECASE,
)

# Text that is a remark, never a value: footnotes, sources, 'NB', a sentence.
_NOTE_START = re.compile(
    r"^\s*(?:\*|\(|†|‡|n\.?\s?b\.?\b|bron\b|bronnen\b|stand\b|let op\b|opmerking|toelichting|"
    r"noot\b|voetnoot|genoemde\b|alle bedragen\b|bedragen\b|peildatum\b|zie\b|legenda\b)",
    re.IGNORECASE,
)
# A legend line below the calendar: 'DE = Delft', 'PN: Pijnacker-Nootdorp', 'LV - Leidschendam'.
_LEGEND = re.compile(r"^\s*[A-Z]{2,3}\*?\s*(?:=|:|–|-)\s*\S")
_NOTE_MIN_WORDS_SENTENCE = 4  # 'Bedragen zijn exclusief BTW.' is a sentence
_NOTE_MIN_WORDS = 9  # no post, code or name runs this long

# A sub-heading among data rows shows itself: numbered, a closing colon, capitals.
_NUMBERED = re.compile(r"^\s*(?:\d{1,2}|[A-Za-z])[.)]\s+\S")


def total_label(text: str) -> bool:
    return bool(_TOTAL_LABEL.match(text))


def subtotal_label(text: str) -> bool:
    return bool(_SUBTOTAL_LABEL.match(text))


def sum_range(formula: str, column: str, row: int) -> tuple[int, int] | None:
    """The rows (1-based, inclusive) that a SUM-like `formula` in `column`{`row`} adds up, when it
    adds up a range of its own column above it; else None ('SUM(12500;300)' is an amount)."""
    if not _SUM_FORMULA.match(formula):
        return None
    for match in _RANGE.finditer(formula):
        first, start, last, end = match.groups()
        if first.upper() == last.upper() == column and int(end) < row:
            return int(start), int(end)
    return None


def heading_category(text: str) -> int | None:
    """The category a section heading gives ('3. Onderwerp/...' -> 3), or None for any other text."""
    match = _HEADING.match(text)
    if not match:
        return None
    return int(match.group(1) or match.group(2))


def note_like(text: str) -> bool:
    """Text no coordinator types as a value: a footnote, a source line, a sentence, a legend."""
    if _NOTE_START.match(text) or _LEGEND.match(text):
        return True
    words = len(text.split())
    return words >= _NOTE_MIN_WORDS or (
        words >= _NOTE_MIN_WORDS_SENTENCE and text.rstrip().endswith((".", "…"))
    )


def marked_heading(text: str, bold: bool) -> bool:
    """A text-only row among data rows is a sub-heading when it looks like one."""
    letters = [c for c in text if c.isalpha()]
    capitals = len(letters) >= 3 and all(c.isupper() for c in letters)
    return bold or capitals or text.rstrip().endswith(":") or bool(_NUMBERED.match(text))


def amount_or_none(value: object):
    """A total or data cell as a Decimal for the total check; None when empty or not a number."""
    if values.is_empty(value):
        return None
    try:
        return values.amount(value)
    except ValueError:
        return None
