"""Next year's input workbooks, made by editing copies of this year's (the jaarovergang).

The coordinator's own workbooks are copied and edited with openpyxl, so their layout,
formatting, extra columns, notes, total rows and drop-down lists carry over; regenerating them
from the template would throw that work away. Which rows are data is what the reader says
(`Reader.table`), so a note or a total row is never emptied as if it were data.

What changes: Instellingen `Jaar`; Gerealiseerd emptied; Inwoners with Peildatum 1-1-(J−1)
and the population figures (and their Bron) empty — never copied or invented; Projectkosten and
Toetredingen without data rows (their headers, formats and total rows stay); a year in a title,
a column header or a note moves with the year (2024 → 2025, and the peildatum year 2023 →
2024). Everything else, the whole calendar included, stays as it is. Totals that are formulas
stay formulas, with their new result cached (see write/cached_values.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .errors import InputRefused
from .layout import (
    BEGROTING,
    BUDGET_SHEETS,
    CALENDAR_SHEETS,
    INSTELLINGEN,
    INWONERS,
    PROJECTKOSTEN,
    TOETREDINGEN,
    SheetLayout,
)
from .model import Finding, Level, Location, RowKind
from .read.headers import normalise_header
from .read.safety import inspect_xlsx_data, read_xlsx
from .read.table import Reader, Table, Workbook, column_letter
from .validate import load_folder

# Parts of a workbook that openpyxl does not carry over (or not reliably): checked after saving.
_PARTS_KEPT_OR_LOST = (
    ("xl/charts/", "grafieken"),
    ("xl/drawings/", "tekeningen, vormen of afbeeldingen"),
    ("xl/media/", "afbeeldingen"),
    ("xl/pivotTables/", "draaitabellen"),
    ("xl/slicers/", "slicers"),
    ("xl/threadedComments/", "opmerkingen met antwoorden"),
    ("xl/comments", "notities bij cellen"),
    ("xl/vbaProject", "macro's"),
)
_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
# Planned for a total cell below emptied data: emptied when it is a typed number, kept when it
# is a formula (decided on the openpyxl cell, which knows which it is).
_TYPED_TOTAL = object()


@dataclass(frozen=True)
class _YearText:
    """Planned for a text whose year moves with the year: what it said."""

    before: str


@dataclass(frozen=True)
class Edit:
    """One thing done to next year's workbook, for the coordinator to read."""

    location: Location  # in the new workbook
    text: str  # Dutch


@dataclass(frozen=True)
class YearEnd:
    """The outcome of a jaarovergang: the new folder, what was done, and what is left to do."""

    folder: Path
    year: int
    previous_year: int
    files: tuple[tuple[str, str], ...]  # (old file name, new file name)
    edits: tuple[Edit, ...]
    warnings: tuple[Finding, ...]  # what did not carry over, texts to check
    to_fill: tuple[Finding, ...]  # what 'controleer NIEUW' says is wrong: the cells to fill


def next_year(folder: Path, target: Path, year: int) -> YearEnd:
    """Write next year's workbooks for `year` from the drop folder `folder` into `target`.

    `target` must not exist or be empty; nothing is ever written into `folder`. The workbooks
    are written into a temporary folder beside `target`, which is renamed to `target` when
    everything is there, so a failure leaves nothing half-written. Refuses (InputRefused) a
    folder that is not a valid drop folder, a year that does not follow its budget year, and a
    `target` that exists and is not empty or lies inside `folder`.
    """
    _check_target(folder, target)
    loaded = load_folder(folder)
    if loaded.inputs is None or loaded.errors:
        raise InputRefused(
            (
                *loaded.errors,
                Finding(
                    Level.ERROR,
                    Location(str(folder)),
                    "de jaarovergang neemt de werkmappen van deze map over, maar ze hebben fouten"
                    if loaded.inputs is not None
                    else "is geen bruikbare invoermap met een kalender en een begroting",
                    f"Herstel eerst de fouten (inkoopkracht-xl controleer {folder}) en draai de "
                    "jaarovergang daarna opnieuw.",
                ),
            )
        )
    inputs = loaded.inputs
    current = inputs.budget.settings.year
    if year <= current:
        raise InputRefused.single(
            inputs.budget.settings.at("year"),
            f"de begroting in deze map is van {current}; de jaarovergang maakt de werkmappen "
            f"van een later jaar, niet van {year}",
            f"Geef het nieuwe jaar op, bijvoorbeeld --jaar {current + 1}.",
        )
    shift = _YearShift(current, year)
    edited: list[_Edited] = []
    for path, sheets in (
        (inputs.calendar_path, CALENDAR_SHEETS),
        (inputs.budget_path, BUDGET_SHEETS),
    ):
        edited.append(
            _edit(path, loaded.sha256[path.name], sheets, shift, path == inputs.budget_path)
        )
    try:
        check = _write(edited, target)
    except OSError as problem:  # a full disk, a read-only folder: nothing was left behind
        raise _write_refusal(problem, target) from None
    return YearEnd(
        folder=target,
        year=year,
        previous_year=current,
        files=tuple((book.old_name, book.new_name) for book in edited),
        edits=tuple(edit for book in edited for edit in book.edits),
        warnings=tuple(warning for book in edited for warning in book.warnings),
        # Located in the new folder's own file names, as 'controleer NIEUW' will say them.
        to_fill=check.errors,
    )


def _write(edited: list[_Edited], target: Path):
    """Write the workbooks into a temporary folder beside `target`, check them as 'controleer'
    would, and rename the folder to `target`; on any failure the temporary folder goes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.nieuw-", dir=target.parent))
    try:
        # mkdtemp makes the folder private; the new folder gets the permissions of any other.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)
        for book in edited:
            destination = staging / book.new_name
            destination.write_bytes(book.data)
            _sync(destination)
        _sync(staging)
        check = load_folder(staging)
        _into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return check


def _write_refusal(problem: OSError, target: Path) -> InputRefused:
    import errno

    if problem.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        message = "de schijf is vol"
        fix = f"Maak ruimte vrij op de schijf van {target.parent} en draai de opdracht opnieuw."
    elif problem.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        message = "in deze map kan niet worden geschreven (alleen-lezen of geen schrijfrechten)"
        fix = "Kies voor NIEUW een map waarin u mag schrijven, of geef schrijfrechten."
    else:
        message = f"schrijffout ({problem.strerror or problem})"
        fix = "Controleer de schijf of de verbinding met de netwerkmap en draai opnieuw."
    return InputRefused.single(Location(str(target)), f"{message}; er is niets weggeschreven", fix)


def _check_target(folder: Path, target: Path) -> None:
    where = Location(str(target))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputRefused.single(
            where,
            "deze map bestaat al en is niet leeg; de jaarovergang overschrijft niets",
            "Kies een nieuwe map (die wordt gemaakt), bijvoorbeeld naast de invoermap, of maak "
            "deze map leeg.",
        )
    mine, theirs = folder.resolve(), target.resolve()
    if theirs == mine or mine in theirs.parents:
        raise InputRefused.single(
            where,
            "ligt in de invoermap; het programma schrijft nooit in de invoermap",
            f"Kies een map naast de invoermap, bijvoorbeeld {folder.resolve().parent / 'nieuw'}.",
        )


def _into_place(staging: Path, target: Path) -> None:
    """The complete staging folder becomes `target` in one rename (an empty `target` goes)."""
    try:
        os.replace(staging, target)  # POSIX: replaces an empty folder in one step
    except OSError:
        if not target.is_dir() or any(target.iterdir()):
            raise
        target.rmdir()  # Windows: no rename over a folder
        staging.rename(target)
    with contextlib.suppress(OSError):
        _sync(target.parent)


def _sync(path: Path) -> None:
    from .write.files import sync_file, sync_folder

    (sync_folder if path.is_dir() else sync_file)(path)


# -- the years in texts ------------------------------------------------------------------------


@dataclass(frozen=True)
class _YearShift:
    """This year's budget year and reference year (Y, Y−1) become next year's (J, J−1)."""

    old: int
    new: int

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"(?<!\d)({self.old}|{self.old - 1})(?!\d)")

    def apply(self, text: str) -> str:
        return self.pattern.sub(lambda m: str(int(m[1]) + self.new - self.old), text)

    def file_name(self, name: str) -> str:
        return re.sub(rf"(?<!\d){self.old}(?!\d)", str(self.new), name)


# -- one workbook ------------------------------------------------------------------------------


@dataclass
class _Edited:
    old_name: str
    new_name: str
    data: bytes
    edits: list[Edit] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


def _edit(path: Path, digest: str, sheets, shift: _YearShift, is_budget: bool) -> _Edited:
    """Read the checked bytes once more, make sure they are the ones `load_folder` read, find
    the data rows with the reader, and edit a copy with openpyxl."""
    from python_calamine import CalamineWorkbook

    data = read_xlsx(path, path.name)
    if hashlib.sha256(data).hexdigest() != digest:
        raise InputRefused.single(
            Location(path.name),
            "is tijdens de jaarovergang gewijzigd",
            "Sla het bestand op, sluit het en draai de jaarovergang opnieuw.",
        )
    info = inspect_xlsx_data(data, path.name)  # the guard, on exactly these bytes
    book = Workbook(path, info, CalamineWorkbook.from_filelike(io.BytesIO(data)), digest)
    reader = Reader(book, [])
    reader.year = shift.old
    tables = {layout.name: reader.table(layout) for layout in sheets}
    new_name = shift.file_name(path.name)
    result = _Edited(path.name, new_name, data)
    plan = _Plan(book, tables, reader, shift, new_name)
    if is_budget:
        plan.budget()
    plan.texts()
    if not plan.cells:
        # Nothing to change (a calendar without a year in its titles): the file as it is.
        result.edits.append(Edit(Location(new_name), "overgenomen zoals het is"))
        return result
    result.data = _apply(data, plan, result)
    result.edits.extend(plan.edits)
    return result


class _Plan:
    """The cell values to set in one workbook (sheet, row, column -> value) and why."""

    def __init__(self, book: Workbook, tables: dict[str, Table | None], reader, shift, name):
        self.book = book
        self.tables = tables
        self.skipped = reader.skipped
        self.shift = shift
        self.name = name
        self.cells: dict[tuple[str, int, int], object] = {}
        self.edits: list[Edit] = []
        self.dates: set[tuple[str, int, int]] = set()  # cells that get a date
        self.header_cells: set[tuple[str, int, int]] = set()

    def where(self, sheet: str, cell: str = "") -> Location:
        return Location(self.name, sheet, cell)

    # -- the budget's data

    def budget(self) -> None:
        year, previous = self.shift.new, self.shift.new - 1
        settings = self.tables.get(INSTELLINGEN.name)
        for row in settings.rows if settings else ():
            if normalise_header(row["key"]) == "jaar":
                sheet, cell = self._cell(row.source, "value")
                self.cells[(sheet, *cell)] = year
                self.edits.append(
                    Edit(self.where(sheet, _ref(cell)), f"Jaar {self.shift.old} → {year}")
                )
        self._empty(BEGROTING, ("realised",), "Gerealiseerd leeggemaakt")
        populations = self.tables.get(INWONERS.name)
        if populations is not None and populations.rows:
            for row in populations.rows:
                if dict(row.source.columns).get("reference_date"):
                    sheet, cell = self._cell(row.source, "reference_date")
                    self.cells[(sheet, *cell)] = datetime(previous, 1, 1)
                    self.dates.add((sheet, *cell))
            rows = _rows(r.source.row for r in populations.rows)
            self.edits.append(
                Edit(
                    self.where(populations.sheet),
                    f"Peildatum 01-01-{previous} in rij {rows}",
                )
            )
            self._empty(
                INWONERS,
                ("inhabitants", "source_note"),
                f"inwonertallen en bron leeggemaakt: vul de CBS-cijfers per 01-01-{previous} in",
            )
        self._clear_rows(PROJECTKOSTEN, "kostenregel", "kostenregels")
        self._clear_rows(TOETREDINGEN, "toetreding", "toetredingen")

    def _cell(self, source, key: str) -> tuple[str, tuple[int, int]]:
        letter = dict(source.columns)[key]
        return source.sheet, (source.row, _column_index(letter))

    def _empty(self, layout: SheetLayout, keys: tuple[str, ...], text: str) -> None:
        """Empty the cells of `keys` in every data row, and a typed number in a total row below
        them (a total that is a formula stays, with its new result)."""
        table = self.tables.get(layout.name)
        if table is None or not table.rows:
            return
        columns = dict(table.rows[0].source.columns)
        letters = [columns[key] for key in keys if key in columns]
        emptied = [
            row.source.row
            for row in table.rows
            for letter in letters
            if self._set(table.sheet, row.source.row, _column_index(letter), None)
        ]
        self._totals(table.sheet, letters)
        if emptied:
            self.edits.append(
                Edit(
                    self.where(table.sheet),
                    f"{text} (kolom {', '.join(letters)}, rij {_rows(emptied)})",
                )
            )

    def _clear_rows(self, layout: SheetLayout, one: str, many: str) -> None:
        """Every data row emptied across the table's columns (header to last header cell): the
        rows, their formats and a total row below them stay for next year's lines."""
        table = self.tables.get(layout.name)
        if table is None or not table.rows:
            return
        header = self.book.rows(table.sheet)[table.header_row - 1]
        filled = [i for i, value in enumerate(header) if not _is_empty(value)]
        for row in table.rows:
            for index in range(min(filled), max(filled) + 1):
                self.cells[(table.sheet, row.source.row, index + 1)] = None
        columns = dict(table.rows[0].source.columns)
        self._totals(table.sheet, [columns[key] for key in layout.totals if key in columns])
        count = len(table.rows)
        self.edits.append(
            Edit(
                self.where(table.sheet),
                f"{count} {one if count == 1 else many} weggehaald (rij "
                f"{_rows(r.source.row for r in table.rows)}); kopregel en opmaak blijven",
            )
        )

    def _set(self, sheet: str, row: int, col: int, value: object) -> bool:
        """Plan a value; False when the cell holds nothing and nothing is to be put in it."""
        if value is None and _is_empty(self._value(sheet, row, column_letter(col - 1))):
            if (row, col - 1) not in self.book.info.formulas.get(sheet, {}):
                return False
        self.cells[(sheet, row, col)] = value
        return True

    def _totals(self, sheet: str, letters: list[str]) -> None:
        """The total rows below emptied columns: a typed total is emptied with them (it would no
        longer add up), a formula stays (its new result is cached when saving)."""
        rows = [
            int(match[2])
            for s in self.skipped
            if s.kind is RowKind.TOTAL and s.location.sheet == sheet
            for match in [_REFERENCE.fullmatch(s.location.cell)]
            if match
        ]
        for row in rows:
            for letter in letters:
                if not _is_empty(self._value(sheet, row, letter)):
                    self.cells[(sheet, row, _column_index(letter))] = _TYPED_TOTAL

    def _value(self, sheet: str, row: int, letter: str) -> object:
        grid = self.book.rows(sheet)
        index = _column_index(letter) - 1
        if row - 1 >= len(grid) or index >= len(grid[row - 1]):
            return None
        return grid[row - 1][index]

    # -- years in titles, headers and notes

    def texts(self) -> None:
        """A year in a title above a table, in its header row or in a note moves with the year;
        a header row that names two years for one column ('Begroot 2023', 'Begroot 2024') is
        left alone and reported."""
        for table in self.tables.values():
            if table is None:
                continue
            grid = self.book.rows(table.sheet)
            rows = list(range(1, table.header_row))  # titles above the header
            header = grid[table.header_row - 1] if table.header_row - 1 < len(grid) else []
            words = [normalise_header(v) for v in header if isinstance(v, str) and v.strip()]
            if len(words) == len(set(words)):
                rows.append(table.header_row)
            elif any(self.shift.pattern.search(v) for v in header if isinstance(v, str)):
                self.edits.append(
                    Edit(
                        self.where(table.sheet, f"rij {table.header_row}"),
                        "kolomkoppen met een jaartal niet aangepast: twee kolommen hebben "
                        "dezelfde kop met een ander jaar; pas ze zelf aan",
                    )
                )
            rows.extend(
                int(match[2])
                for s in self.skipped
                if s.kind is RowKind.NOTE and s.location.sheet == table.sheet
                for match in [_REFERENCE.fullmatch(s.location.cell)]
                if match
            )
            for row in rows:
                line = grid[row - 1] if row - 1 < len(grid) else []
                for index, value in enumerate(line):
                    if isinstance(value, str) and self.shift.pattern.search(value):
                        key = (table.sheet, row, index + 1)
                        self.cells[key] = _YearText(value)
                        if row == table.header_row:
                            self.header_cells.add(key)


def _apply(data: bytes, plan: _Plan, result: _Edited) -> bytes:
    """Make the planned changes in an openpyxl copy of `data` and save it with the formulas'
    cached results."""
    import openpyxl
    from openpyxl.styles.numbers import is_date_format

    from .write.cached_values import UNKNOWN, cache_results, with_results

    book = openpyxl.load_workbook(io.BytesIO(data), rich_text=True)
    tables = {(ws.title, t.ref): t for ws in book.worksheets for t in ws.tables.values()}
    changed = []
    for (sheet, row, col), value in plan.cells.items():
        cell = book[sheet].cell(row, col)
        if isinstance(value, _YearText):
            if (sheet, row, col) in plan.header_cells and _in_table(tables, sheet, row, col):
                continue  # an Excel table's column names must match its header cells
            before = value.before
            _shift_text(cell, plan.shift)
            plan.edits.append(
                Edit(
                    plan.where(sheet, cell.coordinate), f"'{before}' → '{plan.shift.apply(before)}'"
                )
            )
        elif value is _TYPED_TOTAL:
            if cell.data_type == "f":
                continue
            cell.value = None
        else:
            if cell.value == value and cell.data_type != "f":
                continue
            date_format = is_date_format(cell.number_format)
            cell.value = value
            if (sheet, row, col) in plan.dates and not date_format:
                cell.number_format = "DD-MM-YYYY"
        changed.append((sheet, row, col))
    book.calculation.fullCalcOnLoad = True  # Excel and LibreOffice recalculate on opening

    def old_result(sheet: str, row: int, col: int) -> object:
        if f"{column_letter(col - 1)}{row}" in plan.book.info.formulas_without_value.get(sheet, ()):
            return UNKNOWN
        grid = plan.book.rows(sheet)
        if row - 1 >= len(grid) or col - 1 >= len(grid[row - 1]):
            return UNKNOWN
        value = grid[row - 1][col - 1]
        if (row, col - 1) in plan.book.info.error_cells.get(sheet, {}):
            return UNKNOWN
        return value

    output = io.BytesIO()
    book.save(output)
    saved = output.getvalue()
    results = cache_results(book, changed, old_result)
    saved = with_results(saved, book, results)
    result.warnings.extend(_lost_parts(data, saved, result.new_name))
    return saved


def _in_table(tables: dict, sheet: str, row: int, col: int) -> bool:
    from openpyxl.utils.cell import range_boundaries

    for (title, ref), _table in tables.items():
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if title == sheet and min_row <= row <= max_row and min_col <= col <= max_col:
            return True
    return False


def _shift_text(cell, shift: _YearShift) -> None:
    from openpyxl.cell.rich_text import CellRichText, TextBlock

    value = cell.value
    if isinstance(value, CellRichText):
        cell.value = CellRichText(
            *(
                TextBlock(part.font, shift.apply(part.text))
                if isinstance(part, TextBlock)
                else shift.apply(part)
                for part in value
            )
        )
    elif isinstance(value, str):
        cell.value = shift.apply(value)


def _lost_parts(before: bytes, after: bytes, name: str) -> list[Finding]:
    """What the original workbook had and the edited copy does not: a warning each."""

    def parts(data: bytes) -> list[str]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()

    old, new = parts(before), parts(after)
    lost = []
    for prefix, what in _PARTS_KEPT_OR_LOST:
        had = sum(1 for part in old if part.startswith(prefix))
        has = sum(1 for part in new if part.startswith(prefix))
        if has < had:
            lost.append(
                Finding(
                    Level.WARNING,
                    Location(name),
                    f"de {what} uit de werkmap van dit jaar zijn niet (allemaal) meegekomen",
                    "Zet ze zo nodig opnieuw in de nieuwe werkmap; de gegevens en de opmaak van "
                    "de cellen zijn wel overgenomen.",
                )
            )
    return lost


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _column_index(letters: str) -> int:
    """'A' -> 1, 'AB' -> 28."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index


def _ref(cell: tuple[int, int]) -> str:
    row, col = cell
    return f"{column_letter(col - 1)}{row}"


def _rows(rows: Iterable[int]) -> str:
    """[2, 3, 4, 7] -> '2-4, 7'."""
    spans: list[list[int]] = []
    for row in sorted(set(rows)):
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans)
