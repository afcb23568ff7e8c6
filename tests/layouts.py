"""Builders for the corpus of real layouts (issue 11): drop folders written from row lists.

Every layout starts from the plain jaarplan data (tests/fixtures/jaarplan-2024-plat), so the model
it must read to is known: `reference()` is that folder read once. A layout is a list of `Sheet`s
per workbook, each a list of rows; a cell is a value or a `Cell` (bold, struck through, or a
formula with its cached result). `Layout.write` saves both workbooks with openpyxl (formulas then
have no cached value) or xlsxwriter (cached values, Excel tables with a totals row); chosen per
layout, see `Layout.engine`. `round_trip` saves folders again through LibreOffice (one start for
all of them), so cached values and XML come from a real spreadsheet program.
"""

from __future__ import annotations

import copy
import functools
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.styles import Font
from openpyxl.utils import column_index_from_string, range_boundaries

from inkoopkracht_xl import libreoffice
from inkoopkracht_xl.model import (
    BudgetPost,
    Calendar,
    Contact,
    CostLine,
    Finding,
    Join,
    Municipality,
    Population,
    Settings,
    Subject,
)
from inkoopkracht_xl.read.folder import Loaded
from inkoopkracht_xl.validate import load_folder

from .builders import BUDGET, CALENDAR, JAARPLAN

# --- cells, sheets, layouts --------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A cell with formatting, or a formula whose cached result is `value` (None: no cache)."""

    value: object = None
    bold: bool = False
    strike: bool = False
    formula: str = ""  # '=SUM(B2:B6)'


def bold(value: object) -> Cell:
    return Cell(value, bold=True)


def struck(value: object) -> Cell:
    return Cell(value, strike=True)


def formula(text: str, cached: object = None, *, bold: bool = False) -> Cell:
    return Cell(cached, bold=bold, formula=text)


def value_of(item: object) -> object:
    return item.value if isinstance(item, Cell) else item


@dataclass(frozen=True)
class ExcelTable:
    """An Excel table (ListObject) over `ref`, header row included; with `total_row` its last row
    is the totals row. `columns` are xlsxwriter's column options (header, total_function,
    total_value, total_string). Written by xlsxwriter only."""

    ref: str
    columns: tuple[dict, ...]
    total_row: bool = True
    name: str = "Tabel1"


@dataclass
class Sheet:
    name: str
    rows: list[list[object]]
    merges: list[str] = field(default_factory=list)  # 'A4:E4'
    hidden_rows: list[int] = field(default_factory=list)  # 1-based, hidden by hand
    hidden_columns: list[str] = field(default_factory=list)  # letters
    table: ExcelTable | None = None
    # What the builder placed that is not data, as the reader must list it in `Loaded.skipped`:
    # (kind, cell, text), e.g. ("tussenkop", "A4", "1. Contractmanagement, ...").
    skipped: list[tuple[str, str, str]] = field(default_factory=list)

    def row_of(self, text: str) -> int:
        """The 1-based row holding a cell with exactly this value."""
        return next(
            i
            for i, row in enumerate(self.rows, start=1)
            if any(value_of(item) == text for item in row)
        )


ENGINES = ("openpyxl", "xlsxwriter")


@dataclass
class Layout:
    """A drop folder: the calendar workbook's sheets and the budget workbook's sheets."""

    calendar: list[Sheet]
    budget: list[Sheet]
    # '' chooses: xlsxwriter when a formula has a cached value or a sheet has an Excel table (what
    # openpyxl cannot write), else openpyxl.
    engine: str = ""
    calendar_file: str = CALENDAR
    budget_file: str = BUDGET

    def sheet(self, name: str) -> Sheet:
        return next(s for s in (*self.calendar, *self.budget) if s.name == name)

    def replace(self, sheet: Sheet, old: str | None = None) -> Layout:
        """This layout with the sheet named `old` (default: `sheet.name`) replaced by `sheet`."""
        old = old or sheet.name
        for sheets in (self.calendar, self.budget):
            for i, existing in enumerate(sheets):
                if existing.name == old:
                    sheets[i] = sheet
                    return self
        raise KeyError(old)

    def chosen_engine(self) -> str:
        if self.engine:
            return self.engine
        for sheet in (*self.calendar, *self.budget):
            if sheet.table is not None:
                return "xlsxwriter"
            for row in sheet.rows:
                for item in row:
                    if isinstance(item, Cell) and item.formula and item.value is not None:
                        return "xlsxwriter"
        return "openpyxl"

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        write = _write_xlsxwriter if self.chosen_engine() == "xlsxwriter" else _write_openpyxl
        write(folder / self.calendar_file, self.calendar)
        write(folder / self.budget_file, self.budget)
        return folder


def write_workbook(path: Path, sheets: Sequence[Sheet], engine: str = "openpyxl") -> Path:
    (_write_xlsxwriter if engine == "xlsxwriter" else _write_openpyxl)(path, sheets)
    return path


def _cells(sheet: Sheet) -> Iterable[tuple[int, int, Cell]]:
    """(0-based row, 0-based column, cell) of every cell that holds something."""
    for r, row in enumerate(sheet.rows):
        for c, item in enumerate(row):
            cell = item if isinstance(item, Cell) else Cell(item)
            if cell.formula or cell.value not in (None, ""):
                yield r, c, cell


def _merge_bounds(ref: str) -> tuple[int, int, int, int]:
    """'B4:E4' -> 0-based (first row, first column, last row, last column)."""
    c0, r0, c1, r1 = range_boundaries(ref)
    return r0 - 1, c0 - 1, r1 - 1, c1 - 1


def _write_openpyxl(path: Path, sheets: Sequence[Sheet]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet in sheets:
        if sheet.table is not None:
            raise ValueError("an Excel table needs the xlsxwriter engine")
        ws = book.create_sheet(sheet.name)
        for r, c, cell in _cells(sheet):
            target = ws.cell(r + 1, c + 1, cell.formula or cell.value)
            if isinstance(cell.value, str) and not cell.formula:
                target.data_type = "s"  # text stays text, even '=...'
            if isinstance(cell.value, (date, datetime)):
                target.number_format = "d-m-yyyy"
            if cell.bold or cell.strike:
                target.font = Font(bold=cell.bold, strike=cell.strike)
        for ref in sheet.merges:
            ws.merge_cells(ref)
        for row in sheet.hidden_rows:
            ws.row_dimensions[row].hidden = True
        for letter in sheet.hidden_columns:
            ws.column_dimensions[letter].hidden = True
    book.save(path)


def _write_xlsxwriter(path: Path, sheets: Sequence[Sheet]) -> None:
    book = xlsxwriter.Workbook(str(path))
    formats: dict[tuple[bool, bool, bool], object] = {}

    def style(cell: Cell):
        key = (cell.bold, cell.strike, isinstance(cell.value, (date, datetime)))
        if key == (False, False, False):
            return None
        if key not in formats:
            options: dict[str, object] = {}
            if cell.bold:
                options["bold"] = True
            if cell.strike:
                options["font_strikeout"] = True
            if key[2]:
                options["num_format"] = "d-m-yyyy"
            formats[key] = book.add_format(options)
        return formats[key]

    for sheet in sheets:
        ws = book.add_worksheet(sheet.name)
        merged = {}
        covered = set()
        for ref in sheet.merges:
            r0, c0, r1, c1 = _merge_bounds(ref)
            merged[(r0, c0)] = (r0, c0, r1, c1)
            covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
        table_cells = set()
        if sheet.table is not None:
            r0, c0, r1, c1 = _merge_bounds(sheet.table.ref)
            # add_table writes the header row and the totals row itself
            table_cells = {(r0, c) for c in range(c0, c1 + 1)}
            if sheet.table.total_row:
                table_cells |= {(r1, c) for c in range(c0, c1 + 1)}
            ws.add_table(
                r0,
                c0,
                r1,
                c1,
                {
                    "name": sheet.table.name,
                    "columns": [dict(c) for c in sheet.table.columns],
                    "total_row": sheet.table.total_row,
                    "autofilter": False,
                },
            )
        filled = {(r, c): cell for r, c, cell in _cells(sheet)}
        for (r0, c0), (_, _, r1, c1) in merged.items():
            cell = filled.get((r0, c0), Cell(""))
            ws.merge_range(r0, c0, r1, c1, value_of(cell) or "", style(cell))
        for (r, c), cell in filled.items():
            if (r, c) in covered or (r, c) in table_cells:
                continue
            fmt = style(cell)
            value = cell.value
            if cell.formula:
                ws.write_formula(r, c, cell.formula, fmt, 0 if value is None else value)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value, fmt)
            elif isinstance(value, (date, datetime)):
                ws.write_datetime(r, c, value, fmt)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value, fmt)
            else:
                ws.write_string(r, c, str(value), fmt)
        for row in sheet.hidden_rows:
            ws.set_row(row - 1, None, None, {"hidden": True})
        for letter in sheet.hidden_columns:
            index = column_index_from_string(letter) - 1
            ws.set_column(index, index, None, None, {"hidden": True})
    book.close()


# --- the plain jaarplan data -------------------------------------------------------------------


@functools.cache
def _plain_rows() -> dict[str, tuple[tuple[object, ...], ...]]:
    rows: dict[str, tuple[tuple[object, ...], ...]] = {}
    for file in (CALENDAR, BUDGET):
        book = openpyxl.load_workbook(JAARPLAN / file)
        for ws in book.worksheets:
            rows[ws.title] = tuple(tuple(r) for r in ws.iter_rows(values_only=True))
    return rows


CALENDAR_SHEETS = ("Kalender", "Gemeenten")
BUDGET_SHEETS = (
    "Instellingen",
    "Begroting",
    "Inwoners",
    "Projectkosten",
    "Toetredingen",
    "Contacten",
)


def plain_rows(sheet: str) -> list[list[object]]:
    """A fresh copy of the plain fixture's rows of `sheet`, trailing empty cells dropped."""
    rows = []
    for row in _plain_rows()[sheet]:
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        rows.append(cells)
    return copy.deepcopy(rows)


def plain() -> Layout:
    """The plain jaarplan folder as a layout (the same cells as the fixture)."""
    return Layout(
        [Sheet(name, plain_rows(name)) for name in CALENDAR_SHEETS],
        [Sheet(name, plain_rows(name)) for name in BUDGET_SHEETS],
    )


def data_rows(sheet: str) -> list[list[object]]:
    """The plain fixture's data rows of `sheet`, below its header."""
    rows = plain_rows(sheet)
    header = HEADER_ROWS[sheet]
    return rows[header:]


# 1-based header row of each plain sheet: the calendar has a title and a blank row above it.
HEADER_ROWS = {name: 1 for name in (*CALENDAR_SHEETS, *BUDGET_SHEETS)} | {"Kalender": 3}


def header(sheet: str) -> list[object]:
    return plain_rows(sheet)[HEADER_ROWS[sheet] - 1]


# Begroting: five posts adding up to € 131.035, no realised amounts.
POSTS = [row[:2] for row in data_rows("Begroting")]
POST_TOTAL = 131035
NETWORK_TOTAL = 405643  # DE + PN + WE + ZM
ALL_INHABITANTS = 742143  # all eleven rows of Inwoners
COST_TOTAL = 28225.5

HEADINGS = {
    1: "1. Contractmanagement, evaluaties/verlengingen (eerder regionaal aanbesteed)",
    2: "2. Contractmanagement, aflopende contracten (eerder regionaal aanbesteed)",
    3: "3. Onderwerp/verkenningsmogelijkheden (nog niet eerder regionaal aanbesteed)",
    4: "4. Breed uitzoeken",
}
PIPE_HEADINGS = {
    1: "1 | Contractmanagement, evaluaties/verlengingen",
    2: "2 | Contractmanagement, aflopende contracten",
    3: "3 | Onderwerp/verkenningsmogelijkheden",
    4: "4 | Breed uitzoeken",
}
WORD_HEADINGS = {n: f"Categorie {n}" for n in range(1, 5)}


def subjects() -> list[list[object]]:
    """The calendar's subject rows: [category, subject, inventory year, participants, joint year]."""
    return [(row + [None] * 5)[:5] for row in data_rows("Kalender")]


def blocks() -> dict[int, list[list[object]]]:
    """The subject rows per category, in calendar order."""
    found: dict[int, list[list[object]]] = {}
    for row in subjects():
        found.setdefault(row[0], []).append(row)
    return found


CALENDAR_HEADER = [
    "Categorie",
    "Onderwerp",
    "Jaar van inventarisatie",
    "Deelnemende gemeenten",
    "Jaar gezamenlijk aanbesteed",
]
JAARPLAN_HEADER = [
    "Jaar van inventarisatie",
    "Deelnemende gemeenten*",
    "Jaar waarin reeds gezamenlijk is aanbesteed",
]


def sectioned_calendar(
    *,
    headings: dict[int, str] | None = HEADINGS,  # None: no heading rows
    heading_column: str = "category",  # or "subject"
    heading_bold: bool = False,
    heading_merged: bool = False,
    keep_categories: bool = False,  # the subjects' own Categorie cells stay filled
    first_only: bool = False,  # the category typed on the first subject of each block only
    repeat_header: str = "",  # "", "full", "partial" or "jaarplan": the header under each heading
    blank_before: bool = False,
    title: bool = True,
    footnote: str = "",
    category_header: str = "Categorie",
    drop_first_heading: bool = False,
    merged_categories: bool = False,  # each block's category in one cell merged down the block
) -> Sheet:
    """The calendar with a Categorie column and a section heading row above each block."""
    rows: list[list[object]] = []
    merges: list[str] = []
    skipped: list[tuple[str, str, str]] = []
    if title:
        rows += [[bold("Aanbestedingskalender 2024 Inkoopkracht ZHW")], []]
    rows.append([category_header, *CALENDAR_HEADER[1:]])
    for category, block in blocks().items():
        if blank_before and len(rows) > 3:
            rows.append([])
        if headings and not (drop_first_heading and category == 1):
            text = headings[category]
            cell = bold(text) if heading_bold else text
            line = [cell, None] if heading_column == "category" else [None, cell]
            rows.append(line)
            first = "A" if heading_column == "category" else "B"
            skipped.append(("tussenkop", f"{first}{len(rows)}", text))
            if heading_merged:
                merges.append(f"{first}{len(rows)}:E{len(rows)}")
            if repeat_header == "full":
                rows.append(list(CALENDAR_HEADER))
            elif repeat_header == "partial":
                rows.append([None, "Onderwerp", "Jaar van inventarisatie"])
            elif repeat_header == "jaarplan":  # the same columns in the jaarplan's own words
                rows.append(["Categorie", "Onderwerp", *JAARPLAN_HEADER])
        if merged_categories and len(block) > 1:
            merges.append(f"A{len(rows) + 1}:A{len(rows) + len(block)}")
        for i, row in enumerate(block):
            row = list(row)
            first = (first_only or merged_categories) and i == 0
            if not keep_categories and not first:
                row[0] = None
            rows.append(row)
    if footnote:
        rows += [[], [footnote]]
        skipped.append(("opmerking", f"A{len(rows)}", footnote))
    return Sheet("Kalender", rows, merges, skipped=skipped)


def jaarplan_calendar(
    *,
    heading_bold: bool = True,
    partial_repeats: bool = True,
    footnote: str = "* Gebruikte afkortingen: zie tabblad Gemeenten",
    title: bool = True,
) -> Sheet:
    """The calendar as the jaarplan prints it: no Categorie column; each section's heading stands
    in the first column of its own header row (the first one has no 'Onderwerp' header at all);
    categories 3 and 4 repeat only part of the header."""
    rows: list[list[object]] = []
    merges: list[str] = []
    skipped: list[tuple[str, str, str]] = []
    if title:
        rows += [
            [bold("Aanbestedingskalender 2024 Inkoopkracht ZHW")],
            [
                "Onderstaande lijst is een dynamische lijst en zal worden aangevuld met onderwerpen "
                "die gedurende het jaar op de website van Inkoopkracht worden aangemeld."
            ],
            [],
        ]
        merges.append("A2:D2")
    mark = bold if heading_bold else (lambda v: v)
    for category, block in blocks().items():
        if rows and rows[-1]:
            rows.append([])
        if category <= 2 or not partial_repeats:
            rows.append([mark(HEADINGS[category]), *(mark(h) for h in JAARPLAN_HEADER)])
        elif category == 3:
            rows.append([mark(HEADINGS[category]), mark(JAARPLAN_HEADER[0])])
        else:
            rows.append([mark(HEADINGS[category])])
        skipped.append(("tussenkop", f"A{len(rows)}", HEADINGS[category]))
        for row in block:
            cells = list(row[1:])
            while cells and cells[-1] is None:
                cells.pop()
            rows.append(cells)
    if footnote:
        rows += [[], [footnote]]
        skipped.append(("opmerking", f"A{len(rows)}", footnote))
    return Sheet("Kalender", rows, merges, skipped=skipped)


# --- reading and comparing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """What a drop folder reads to, compared by value (`source` fields are not compared)."""

    municipalities: tuple[Municipality, ...]
    subjects: tuple[Subject, ...]
    settings: Settings
    posts: tuple[BudgetPost, ...]
    populations: tuple[Population, ...]
    cost_lines: tuple[CostLine, ...]
    joins: tuple[Join, ...]
    contacts: tuple[Contact, ...]


def model_of(loaded: Loaded) -> Model | None:
    if loaded.inputs is None:
        return None
    calendar: Calendar = loaded.inputs.calendar
    budget = loaded.inputs.budget
    return Model(
        calendar.municipalities,
        calendar.subjects,
        budget.settings,
        budget.posts,
        budget.populations,
        budget.cost_lines,
        budget.joins,
        budget.contacts,
    )


@functools.cache
def reference() -> Model:
    """The plain jaarplan folder's model: what every equivalent layout must read to."""
    found = model_of(load_folder(JAARPLAN))
    assert found is not None
    return found


def said(finding: Finding) -> str:
    """A finding as the coordinator reads it, without the fix: 'FOUT  file › sheet › cell: …'."""
    return f"{finding.level.value}  {finding.location}: {finding.message}"


# --- LibreOffice -------------------------------------------------------------------------------


def round_trip(folders: dict[str, Path], work: Path) -> dict[str, Path]:
    """Every workbook of each folder opened and saved again by LibreOffice, with one start of
    LibreOffice for all of them (every formula recalculated on load, see `libreoffice`). Returns
    name -> a new folder holding the saved workbooks under their original file names."""
    staged = work / "staged"
    staged.mkdir(parents=True)
    sources: list[tuple[str, str, Path]] = []
    for name, folder in folders.items():
        for i, path in enumerate(sorted(folder.glob("*.xlsx"))):
            source = staged / f"{name}--{i}.xlsx"
            shutil.copy2(path, source)
            sources.append((name, path.name, source))
    converted = libreoffice.convert_all([s for _, _, s in sources], work / "saved", "xlsx")
    result: dict[str, Path] = {}
    for (name, original, _), saved in zip(sources, converted, strict=True):
        target = work / "folders" / name
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(saved, target / original)
        result[name] = target
    return result
