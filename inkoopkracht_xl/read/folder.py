"""The drop folder: which workbook is the calendar and which the budget, read into one Inputs.

Reading only: the checks across the workbooks run above it (validate.load_folder)."""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputRefused
from ..layout import BUDGET_MARKER, CALENDAR_MARKER, INWONERS, KALENDER
from ..model import Finding, Inputs, Level, Location, SkippedRow
from .budget import read_budget
from .calendar import read_calendar
from .table import Reader, Workbook

OWNER_PREFIX = "~$"  # Excel's lock file beside a workbook that is open


@dataclass(frozen=True)
class Unreadable:
    """What reading found unreadable and reported already, so the cross-checks stay silent on it."""

    codes: frozenset[str] = frozenset()  # Inwoners rows with an error of their own
    populations: bool = False  # the Inwoners sheet as a whole
    subjects: bool = False  # the Kalender sheet as a whole


@dataclass(frozen=True)
class Loaded:
    """The outcome of reading a drop folder: the inputs (None when unusable) and every finding."""

    inputs: Inputs | None
    findings: tuple[Finding, ...]
    sha256: dict[str, str]  # file name -> hex digest, for the audit trail
    # Rows read as notes, sub-headings and totals (never data), for controleer and the audit.
    skipped: tuple[SkippedRow, ...] = ()
    unreadable: Unreadable = Unreadable()

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_error)


def candidate_files(folder: Path) -> list[Path]:
    """The workbooks that may be inputs: .xlsx, not an Excel owner file, not hidden."""
    return sorted(
        (p for p in folder.iterdir() if _is_candidate(p)), key=lambda p: p.name.casefold()
    )


def _is_candidate(path: Path) -> bool:
    name = path.name
    if name.startswith((OWNER_PREFIX, ".")) or path.suffix.lower() != ".xlsx":
        return False
    try:
        info = path.stat()
    except OSError:
        return True  # let opening it report the problem with the file named
    hidden = getattr(info, "st_file_attributes", 0) & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0)
    return stat.S_ISREG(info.st_mode) and not hidden


def read_unchecked(folder: Path) -> Loaded:
    """Read a drop folder, without the checks across its workbooks (validate.load_folder adds
    them). Refuses (InputRefused) only when there is no folder."""
    if not folder.is_dir():
        raise InputRefused.single(
            Location(str(folder)),
            "deze map bestaat niet",
            "Geef de map op waarin de kalender en de begroting staan.",
        )
    findings: list[Finding] = []
    books: list[Workbook] = []
    for path in candidate_files(folder):
        try:
            books.append(Workbook.open(path))
        except InputRefused as refused:
            findings.extend(refused.findings)
        if (folder / f"{OWNER_PREFIX}{path.name}").exists():
            findings.append(
                Finding(
                    Level.WARNING,
                    Location(path.name),
                    "is nog geopend in Excel; wijzigingen die niet zijn opgeslagen tellen niet mee",
                    "Sla het bestand op en sluit Excel voordat u afrekent.",
                )
            )
    # A file that could not be opened was probably the missing one: do not say "not found" too.
    unopened = any(f.is_error for f in findings)
    calendar_book = _one_for_role(
        books, CALENDAR_MARKER, "aanbestedingskalender", folder, findings, unopened
    )
    budget_book = _one_for_role(books, BUDGET_MARKER, "begroting", folder, findings, unopened)
    for book in books:
        if book is not calendar_book and book is not budget_book:
            findings.append(
                Finding(
                    Level.WARNING,
                    Location(book.name),
                    f"wordt genegeerd: geen werkblad '{CALENDAR_MARKER}' of '{BUDGET_MARKER}'",
                    "Haal het bestand uit de map als het er niet hoort.",
                )
            )
    # The digest of the bytes that were checked and parsed, not of whatever the path holds now.
    sha256 = {book.name: book.sha256 for book in books}
    if calendar_book is None or budget_book is None or any(f.is_error for f in findings):
        return Loaded(None, tuple(findings), sha256)
    calendar_reader = Reader(calendar_book, findings)
    calendar = read_calendar(calendar_reader)
    budget_reader = Reader(budget_book, findings)
    budget_reader.directory = calendar_reader.directory
    budget = read_budget(budget_reader)
    skipped = (*calendar_reader.skipped, *budget_reader.skipped)
    unreadable = Unreadable(
        frozenset(budget_reader.incomplete_keys),
        populations=INWONERS.name in budget_reader.unreadable_sheets,
        subjects=KALENDER.name in calendar_reader.unreadable_sheets,
    )
    inputs = Inputs(folder, calendar_book.path, budget_book.path, calendar, budget)
    return Loaded(inputs, tuple(findings), sha256, skipped, unreadable)


def _one_for_role(
    books: list[Workbook],
    marker: str,
    role: str,
    folder: Path,
    findings: list[Finding],
    unopened: bool,
) -> Workbook | None:
    claiming = [b for b in books if b.sheet_name(marker) is not None]
    if len(claiming) == 1:
        return claiming[0]
    if not claiming and unopened:
        return None
    if not claiming:
        findings.append(
            Finding(
                Level.ERROR,
                Location(folder.name or str(folder)),
                f"geen {role} gevonden: geen Excel-werkmap (.xlsx) met een werkblad '{marker}'",
                f"Zet de {role} als .xlsx in deze map (de bestandsnaam maakt niet uit).",
            )
        )
        return None
    names = " en ".join(f"'{b.name}'" for b in claiming)
    findings.append(
        Finding(
            Level.ERROR,
            Location(folder.name or str(folder)),
            f"twee werkmappen hebben een werkblad '{marker}': {names}",
            f"Laat alleen de juiste {role} in de map staan; het programma kiest niet zelf.",
        )
    )
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
