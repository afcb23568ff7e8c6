"""The one tolerant sheet reader: every choice about how coordinators' sheets are read lives here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..errors import InputRefused
from ..layout import SheetLayout
from ..model import Finding, Level, Location, Source
from . import values
from .safety import WorkbookInfo, inspect_xlsx

# Coordinators put a title and a blank line or two above the header; 15 rows is generous.
HEADER_SEARCH_ROWS = 15

T = TypeVar("T")

# Stands in for a cell whose problem was already reported, so it is not reported twice.
REPORTED = object()


def column_letter(index: int) -> str:
    """0-based column index to Excel letters: 0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def normalise_header(value: object) -> str:
    """Headers match case- and space-insensitively, ignoring a trailing '*' or ':' ('Deelnemende gemeenten*')."""
    return re.sub(r"[\s*:]+$", "", " ".join(values.text(value).split()).casefold())


def normalise_sheet_name(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass
class Workbook:
    """An input workbook, checked by `safety` before calamine parses any of it."""

    path: Path
    info: WorkbookInfo
    _book: object = field(repr=False)
    _rows: dict[str, list[list[object]]] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def open(cls, path: Path) -> Workbook:
        from python_calamine import CalamineWorkbook

        info = inspect_xlsx(path, path.name)
        try:
            book = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises several kinds; every one means "unreadable"
            raise InputRefused.single(
                Location(path.name),
                f"kan niet worden gelezen ({type(exc).__name__})",
                "Open het bestand in Excel, sla het opnieuw op als Excel-werkmap (.xlsx) en probeer opnieuw.",
            ) from None
        return cls(path, info, book)

    def sheet_name(self, wanted: str) -> str | None:
        """The workbook's own spelling of a sheet name, matched case- and space-insensitively."""
        key = normalise_sheet_name(wanted)
        return next((n for n in self.info.sheet_names if normalise_sheet_name(n) == key), None)

    def rows(self, sheet: str) -> list[list[object]]:
        if sheet not in self._rows:
            try:
                data = self._book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except Exception:
                raise InputRefused.single(
                    Location(self.name, sheet),
                    "dit werkblad kan niet worden gelezen",
                    "Open het bestand in Excel, controleer het werkblad en sla opnieuw op.",
                ) from None
            self._rows[sheet] = data
        return self._rows[sheet]

    def merged_ranges(self, sheet: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        try:
            return list(self._book.get_sheet_by_name(sheet).merged_cell_ranges or ())
        except Exception:
            return []


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: raw cell values by field key, and where it came from."""

    values: dict[str, object]
    source: Source

    def __getitem__(self, key: str) -> object:
        return self.values.get(key)


@dataclass(frozen=True)
class Table:
    file: str
    sheet: str
    header_row: int
    rows: tuple[Row, ...]


def _finding(level: Level, location: Location, message: str, fix: str) -> Finding:
    """A finding whose quoted cell text shows its invisible characters (see `values.visible`)."""
    shown = Location(values.visible(location.file), values.visible(location.sheet), location.cell)
    return Finding(level, shown, values.visible(message), fix)


class Reader:
    """Reads tables from one workbook and collects findings instead of stopping at the first."""

    def __init__(self, book: Workbook, findings: list[Finding]):
        self.book = book
        self.findings = findings
        # Sheets that could not be read as a table, and keys (codes) of rows with errors: the
        # cross-checks stay quiet about them instead of repeating one mistake many times.
        self.unreadable_sheets: set[str] = set()
        self.incomplete_keys: set[str] = set()

    def error(self, location: Location, message: str, fix: str = "") -> None:
        self.findings.append(_finding(Level.ERROR, location, message, fix))

    def warn(self, location: Location, message: str, fix: str = "") -> None:
        self.findings.append(_finding(Level.WARNING, location, message, fix))

    def table(self, layout: SheetLayout) -> Table | None:
        """The rows of one sheet by the layout's headers.

        - The sheet name matches case- and space-insensitively; a missing optional sheet is no table.
        - The header row is the first of the top `HEADER_SEARCH_ROWS` rows holding every required
          header; extra columns are ignored, optional ones are read when present.
        - Rows that repeat the header (pasted page by page from the PDF) and rows empty in every
          known column are skipped.
        - A formula cell without a cached value is an error at that cell: we never guess its value.
        """
        sheet = self.book.sheet_name(layout.name)
        if sheet is None:
            self.unreadable_sheets.add(layout.name)
            if layout.required:
                present = ", ".join(self.book.info.sheet_names)
                self.error(
                    Location(self.book.name, layout.name),
                    f"het werkblad '{layout.name}' ontbreekt (wel aanwezig: {present})",
                    f"Voeg een werkblad '{layout.name}' toe, of gebruik 'inkoopkracht-xl sjabloon'.",
                )
            return None
        if sheet in self.book.info.hidden_sheets:
            self.warn(
                Location(self.book.name, sheet),
                "dit werkblad is verborgen en wordt toch gelezen",
                "Maak het zichtbaar als u het wilt controleren.",
            )
        grid = self.book.rows(sheet)
        found = self._header(grid, layout, sheet)
        if found is None:
            self.unreadable_sheets.add(layout.name)
            return None
        header_index, positions = found
        header_keys = {key: normalise_header(grid[header_index][i]) for key, i in positions.items()}
        columns = tuple((key, column_letter(i)) for key, i in positions.items())
        merged_rows = self._merged_data_rows(sheet, header_index, positions)
        reported_merges: set[str] = set()
        blank_formulas = set(self.book.info.formulas_without_value.get(sheet, ()))
        rows: list[Row] = []
        for index in range(header_index + 1, len(grid)):
            line = grid[index]
            cells = {key: (line[i] if i < len(line) else "") for key, i in positions.items()}
            source = Source(self.book.name, sheet, index + 1, columns)
            if blank_formulas:  # rare: most sheets have none, and every row would look
                self._refuse_blank_formulas(cells, positions, blank_formulas, source, index)
            if all(values.is_empty(v) for v in cells.values()):
                continue
            if all(normalise_header(cells[k]) == header_keys[k] for k in positions):
                continue  # the header repeated further down
            if index in merged_rows:
                span = merged_rows[index]
                if span not in reported_merges:  # a range over several rows: one finding
                    reported_merges.add(span)
                    self.error(
                        Location(self.book.name, sheet, span),
                        "bevat samengevoegde cellen; deze rij wordt niet gelezen",
                        "Maak de samenvoeging ongedaan (Start › Samenvoegen en centreren) en vul "
                        "elke cel afzonderlijk in.",
                    )
                continue
            rows.append(Row(cells, source))
        return Table(self.book.name, sheet, header_index + 1, tuple(rows))

    def _refuse_blank_formulas(
        self,
        cells: dict[str, object],
        positions: dict[str, int],
        blank_formulas: set[str],
        source: Source,
        index: int,
    ) -> None:
        """A formula cell without a cached value is an error at that cell, never a guess."""
        for key, i in positions.items():
            if f"{column_letter(i)}{index + 1}" in blank_formulas:
                self.error(
                    source.at(key),
                    "bevat een formule zonder berekende waarde",
                    "Open het bestand in Excel, laat het herberekenen (F9) en sla het op.",
                )
                cells[key] = REPORTED

    def _header(
        self, grid: list[list[object]], layout: SheetLayout, sheet: str
    ) -> tuple[int, dict[str, int]] | None:
        wanted = {normalise_header(c.header): c for c in layout.columns}
        best: tuple[int, int, dict[str, int]] = (-1, 0, {})
        for index, line in enumerate(grid[:HEADER_SEARCH_ROWS]):
            positions: dict[str, int] = {}
            for i, cell in enumerate(line):
                column = wanted.get(normalise_header(cell))
                if column is not None and column.key not in positions:
                    positions[column.key] = i
            if all(c.key in positions for c in layout.columns if c.required):
                ordered = {c.key: positions[c.key] for c in layout.columns if c.key in positions}
                return index, ordered
            if len(positions) > best[1]:
                best = (index, len(positions), positions)
        required = [c.header for c in layout.columns if c.required]
        if best[0] < 0:
            self.error(
                Location(self.book.name, sheet, f"rij 1-{HEADER_SEARCH_ROWS}"),
                f"geen kopregel gevonden; verwacht de kolommen {', '.join(required)}",
                "Zet de kolomkoppen in één rij bovenaan het werkblad.",
            )
            return None
        index, _, positions = best
        missing = [c.header for c in layout.columns if c.required and c.key not in positions]
        present = [values.text(v) for v in grid[index] if not values.is_empty(v)]
        self.error(
            Location(self.book.name, sheet, f"rij {index + 1}"),
            f"kolom {', '.join(repr(m) for m in missing)} ontbreekt "
            f"(gevonden: {', '.join(present)})",
            "Voeg de kolom toe of herstel de kolomkop.",
        )
        return None

    def _merged_data_rows(
        self, sheet: str, header_index: int, positions: dict[str, int]
    ) -> dict[int, str]:
        """Data rows (0-based) that a merge makes unreadable -> the merged range, as 'B3:C3'."""
        used = set(positions.values())
        rows: dict[int, str] = {}
        for (r0, c0), (r1, c1) in self.book.merged_ranges(sheet):
            if r1 <= header_index or not any(c0 <= c <= c1 for c in used):
                continue
            if r0 == r1 and sum(1 for c in used if c0 <= c <= c1) <= 1:
                continue  # merged across unread columns only: harmless
            span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
            for row in range(max(r0, header_index + 1), r1 + 1):
                rows.setdefault(row, span)
        return rows

    def field(
        self,
        row: Row,
        key: str,
        parse: Callable[[object], T],
        *,
        required: bool = True,
        fix: str = "",
    ) -> T | None:
        """Parse one cell; an empty required cell or a parse error becomes a finding at that cell."""
        raw = row[key]
        if raw is REPORTED:
            return None
        if values.is_empty(raw):
            if required:
                self.error(row.source.at(key), "is leeg", fix or "Vul deze cel in.")
            return None
        try:
            return parse(raw)
        except ValueError as exc:
            self.error(row.source.at(key), str(exc), fix)
            return None
