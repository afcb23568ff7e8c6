"""The one tolerant sheet reader: every choice about how coordinators' sheets are read lives here."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from ..errors import InputRefused
from ..layout import Column, SheetLayout
from ..model import Finding, Level, Location, RowKind, SkippedRow, Source
from ..money import format_euro, format_number
from . import headers, structure, values
from .headers import copy_of, is_sheet_copy, normalise_header, sheet_base_name
from .municipalities import Directory
from .safety import WorkbookInfo, inspect_xlsx_data, read_xlsx

# Coordinators put a title and a blank line or two above the header; 15 rows is generous.
HEADER_SEARCH_ROWS = 15

T = TypeVar("T")

# Stands in for a cell whose problem was already reported, so it is not reported twice.
REPORTED = object()


# 'Bedrag (incl. BTW)', 'Begroot inclusief btw': amounts the settlement would read as excl. VAT.
_INCLUDING_VAT = re.compile(r"\b(?:incl\.?|inclusief)\s*(?:de\s+)?b\.?t\.?w\b", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_PER_YEAR = ("budgeted", "realised")  # a year in these headers must be the budget's year


def _other_year(header: str, year: int | None) -> str | None:
    """The year a header names when that is not `year` ('Gerealiseerd 2023' in 2024), else None;
    'Begroot 2023/2024' names the budget's year too."""
    named = _YEAR.findall(header)
    if not year or not named or str(year) in named:
        return None
    return named[0]


def _without_vat(candidates: list[int], line: list[object]) -> int | None:
    """The one column of `candidates` whose header does not say 'incl. BTW', else None."""
    excluding = [i for i in candidates if not _INCLUDING_VAT.search(values.text(line[i]))]
    return excluding[0] if len(excluding) == 1 else None


def column_letter(index: int) -> str:
    """0-based column index to Excel letters: 0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def normalise_sheet_name(name: str) -> str:
    """See `headers.sheet_base_name`: 'Begroting 2024' is the Begroting."""
    return sheet_base_name(name)


@dataclass
class Workbook:
    """An input workbook, checked by `safety` before calamine parses any of it.

    The file is read once: the guards, calamine and the SHA-256 all see the same bytes, even when
    Excel saves a new version over the path meanwhile (it writes a new file and renames it)."""

    path: Path
    info: WorkbookInfo
    _book: object = field(repr=False)
    sha256: str  # hex digest of exactly the bytes checked and parsed, for the audit trail
    _rows: dict[str, list[list[object]]] = field(default_factory=dict, repr=False)
    _merged: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = field(
        default_factory=dict, repr=False
    )

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def open(cls, path: Path) -> Workbook:
        from python_calamine import CalamineWorkbook

        data = read_xlsx(path, path.name)
        info = inspect_xlsx_data(data, path.name)
        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception as exc:  # calamine raises several kinds; every one means "unreadable"
            raise InputRefused.single(
                Location(path.name),
                f"kan niet worden gelezen ({type(exc).__name__})",
                "Open het bestand in Excel, sla het opnieuw op als Excel-werkmap (.xlsx) en probeer opnieuw.",
            ) from None
        return cls(path, info, book, hashlib.sha256(data).hexdigest())

    def sheet_name(self, wanted: str) -> str | None:
        """The workbook's own spelling of a sheet name, matched case- and space-insensitively."""
        key = normalise_sheet_name(wanted)
        return next((n for n in self.info.sheet_names if normalise_sheet_name(n) == key), None)

    def rows(self, sheet: str) -> list[list[object]]:
        if sheet not in self._rows:
            try:
                data = self._book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except Exception:
                raise self._unreadable(sheet) from None
            self._rows[sheet] = data
        return self._rows[sheet]

    def merged_ranges(self, sheet: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """((first row, first column), (last row, last column)), 0-based, of every merged range.
        Only a sheet calamine cannot read is refused (as by `rows`); anything else is a bug that
        must surface, never a merged-cell guard that switches itself off."""
        if sheet in self._merged:  # asked per sheet and per text-only row: load the sheet once
            return self._merged[sheet]
        from python_calamine import CalamineError

        try:
            ranges = self._book.get_sheet_by_name(sheet).merged_cell_ranges
        except (CalamineError, OSError):  # OSError: calamine's I/O error inside the archive
            raise self._unreadable(sheet) from None
        self._merged[sheet] = list(ranges or ())
        return self._merged[sheet]

    def _unreadable(self, sheet: str) -> InputRefused:
        return InputRefused.single(
            Location(self.name, sheet),
            "dit werkblad kan niet worden gelezen",
            "Open het bestand in Excel, controleer het werkblad en sla opnieuw op.",
        )


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
        # Rows read as notes, sub-headings or totals: never data, listed for the coordinator.
        self.skipped: list[SkippedRow] = []
        # The budget year, once read: of two columns 'Begroot 2023' and 'Begroot 2024' it picks.
        self.year: int | None = None
        # The municipalities known so far (Gemeenten, then Inwoners): names typed for codes.
        self.directory = Directory()

    def error(self, location: Location, message: str, fix: str = "") -> None:
        self.findings.append(_finding(Level.ERROR, location, message, fix))

    def warn(self, location: Location, message: str, fix: str = "") -> None:
        self.findings.append(_finding(Level.WARNING, location, message, fix))

    def table(self, layout: SheetLayout) -> Table | None:
        """The data rows of one sheet, read the way the coordinator meant them.

        - The sheet name matches case- and space-insensitively and without a year
          ('Begroting 2024'); 'Aanbestedingskalender' is the Kalender. A copy ('Kalender (2)')
          beside the original is a warning; two sheets for one role an error.
        - The header row is the first of the top `HEADER_SEARCH_ROWS` rows holding every required
          header (wordings in `headers.normalise_header`, aliases in the layout). In the calendar a
          section heading may stand in the subject column of the header row, as in the jaarplan.
        - Rows that repeat the header (fully or partly) and empty rows are skipped; total rows are
          checked against the rows they cover; notes and sub-headings are listed, never data
          (see `_SheetReading`).
        - A formula cell without a cached value is an error at that cell: we never guess its value.
        """
        sheet = self._sheet(layout)
        if sheet is None:
            self.unreadable_sheets.add(layout.name)
            return None
        if sheet in self.book.info.hidden_sheets:
            self.warn(
                Location(self.book.name, sheet),
                "dit werkblad is verborgen en wordt toch gelezen",
                "Maak het zichtbaar als u het wilt controleren.",
            )
        grid = self.book.rows(sheet)
        header = self._header(grid, layout, sheet)
        if header is None:
            self.unreadable_sheets.add(layout.name)
            return None
        return _SheetReading(self, layout, sheet, grid, header).read()

    def _sheet(self, layout: SheetLayout) -> str | None:
        """The sheet read for `layout`, or None (with an error when the sheet is required)."""
        names = self.book.info.sheet_names
        base = sheet_base_name(layout.name)
        matching = [n for n in names if sheet_base_name(n) == base]
        copies = [n for n in names if is_sheet_copy(n) and copy_of(n) == base]
        where = Location(self.book.name, layout.name)
        if len(matching) > 1:
            both = " en ".join(f"'{n}'" for n in matching)
            self.error(
                where,
                f"twee werkbladen kunnen het werkblad '{layout.name}' zijn: {both}",
                "Laat er één staan of geef het andere een andere naam; het programma kiest niet.",
            )
            return None
        if not matching:
            if layout.required:
                present = ", ".join(names)
                self.error(
                    where,
                    f"het werkblad '{layout.name}' ontbreekt (wel aanwezig: {present})",
                    f"Voeg een werkblad '{layout.name}' toe, of gebruik 'inkoopkracht-xl sjabloon'.",
                )
            return None
        if copies:
            listed = ", ".join(f"'{n}'" for n in copies)
            self.warn(
                Location(self.book.name, matching[0]),
                f"er is ook een kopie van dit werkblad ({listed}); gelezen wordt '{matching[0]}'",
                "Verwijder de kopie als die niet meer nodig is, of zet de gegevens in het "
                f"werkblad '{matching[0]}'.",
            )
        return matching[0]

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

    def _header(self, grid: list[list[object]], layout: SheetLayout, sheet: str) -> _Header | None:
        wanted: dict[str, Column] = {}
        for column in layout.columns:
            for wording in (column.header, *column.aliases):
                wanted.setdefault(normalise_header(wording), column)
        required = [c for c in layout.columns if c.required and c.key != layout.sections]
        best: tuple[int, int, dict[str, list[int]]] = (-1, 0, {})
        for index, line in enumerate(grid[:HEADER_SEARCH_ROWS]):
            found: dict[str, list[int]] = {}
            heading: tuple[int, int] | None = None  # (column, category)
            for i, cell in enumerate(line):
                column = wanted.get(normalise_header(cell))
                if column is not None:
                    found.setdefault(column.key, []).append(i)
                elif layout.sections and heading is None and isinstance(cell, str):
                    category = structure.heading_category(cell)
                    if category is not None:
                        heading = (i, category)
            if heading is not None and "subject" not in found and found:
                # The jaarplan's own header: '1. Contractmanagement ...' heads the subject column.
                found["subject"] = [heading[0]]
            if all(c.key in found for c in required):
                positions = self._one_column_each(found, grid[index], layout, sheet, index)
                if positions is None:
                    return None
                self._resembling_headers(grid[index], positions, wanted, layout, sheet, index)
                heading_column = heading[0] if heading is not None else -1
                words = {
                    i: normalise_header(cell)
                    for i, cell in enumerate(grid[index])
                    if i != heading_column and not values.is_empty(cell)
                }
                return _Header(index, positions, words, heading[1] if heading else None)
            if len(found) > best[1]:
                best = (index, len(found), found)
        if best[0] < 0:
            names = ", ".join(c.header for c in required)
            self.error(
                Location(self.book.name, sheet, f"rij 1-{HEADER_SEARCH_ROWS}"),
                f"geen kopregel gevonden; verwacht de kolommen {names}",
                "Zet de kolomkoppen in één rij bovenaan het werkblad.",
            )
            return None
        index, _, found = best
        missing = [c.header for c in required if c.key not in found]
        present = [values.text(v) for v in grid[index] if not values.is_empty(v)]
        self.error(
            Location(self.book.name, sheet, f"rij {index + 1}"),
            f"kolom {', '.join(repr(m) for m in missing)} ontbreekt (gevonden: {', '.join(present)})",
            "Voeg de kolom toe of herstel de kolomkop.",
        )
        return None

    def _one_column_each(
        self,
        found: dict[str, list[int]],
        line: list[object],
        layout: SheetLayout,
        sheet: str,
        index: int,
    ) -> dict[str, int] | None:
        """One column per field. Two headers for one field: the one naming the budget year when
        exactly one does ('Begroot 2023', 'Begroot 2024'), else an error naming both."""
        hidden = _fact(self.book.info, "hidden_columns", sheet, frozenset())
        positions: dict[str, int] = {}
        refused = False
        for column in layout.columns:
            candidates = found.get(column.key, [])
            if len(candidates) == 1:
                positions[column.key] = candidates[0]
            elif candidates:
                chosen, which = self._by_year(candidates, line), f"de kolom van {self.year}"
                if chosen is None:  # 'Bedrag excl. BTW' next to 'Bedrag incl. BTW'
                    chosen, which = _without_vat(candidates, line), "de kolom exclusief btw"
                cells = [f"{column_letter(i)}{index + 1}" for i in candidates]
                shown = " en ".join(
                    f"{cell} ('{values.text(line[i])}'" + (", verborgen)" if i in hidden else ")")
                    for cell, i in zip(cells, candidates, strict=True)
                )
                if chosen is None or any(i in hidden for i in candidates):
                    self.error(
                        Location(self.book.name, sheet, cells[0]),
                        f"twee kolommen met de kop '{column.header}': {shown}",
                        "Laat één kolom staan, of geef de andere een kop die niet op "
                        f"'{column.header}' lijkt; het programma kiest niet zelf.",
                    )
                    refused = True
                    continue
                positions[column.key] = chosen
                self.warn(
                    Location(self.book.name, sheet, f"{column_letter(chosen)}{index + 1}"),
                    f"twee kolommen met de kop '{column.header}' ({shown}); gelezen wordt {which}",
                    "Klopt dat niet, geef de kolommen dan duidelijk verschillende koppen.",
                )
        if refused or not self._headers_mean_what_is_read(positions, line, layout, sheet, index):
            return None
        return {c.key: positions[c.key] for c in layout.columns if c.key in positions}

    def _headers_mean_what_is_read(
        self,
        positions: dict[str, int],
        line: list[object],
        layout: SheetLayout,
        sheet: str,
        index: int,
    ) -> bool:
        """An amount header that says the amounts are not what is read is an error at the header,
        never a silent misread: 'Bedrag (incl. BTW)' (amounts are read excluding VAT), or
        'Gerealiseerd 2023' in the budget of 2024 (last year's figures as this year's)."""
        meant = True
        for key in layout.totals:
            if key not in positions:
                continue
            typed = values.text(line[positions[key]])
            where = Location(self.book.name, sheet, f"{column_letter(positions[key])}{index + 1}")
            header = layout.column(key).header
            if _INCLUDING_VAT.search(typed):
                self.error(
                    where,
                    f"de kolomkop '{typed}' zegt dat de bedragen inclusief btw zijn, maar het "
                    "programma rekent met bedragen exclusief btw",
                    f"Vul de bedragen exclusief btw in en noem de kolom '{header}' of "
                    f"'{header} (excl. BTW)'.",
                )
                meant = False
            other = _other_year(typed, self.year) if key in _PER_YEAR else None
            if other is not None:
                self.error(
                    where,
                    f"de kolomkop '{typed}' noemt het jaar {other}, maar de begroting is van "
                    f"{self.year}",
                    f"Vul de bedragen van {self.year} in en noem de kolom '{header} {self.year}' "
                    f"of '{header}'.",
                )
                meant = False
        return meant

    def _by_year(self, candidates: list[int], line: list[object]) -> int | None:
        if not self.year:
            return None
        with_year = [i for i in candidates if str(self.year) in values.text(line[i])]
        return with_year[0] if len(with_year) == 1 else None

    def _resembling_headers(
        self,
        line: list[object],
        positions: dict[str, int],
        wanted: dict[str, Column],
        layout: SheetLayout,
        sheet: str,
        index: int,
    ) -> None:
        """A header that looks like a column we read but is not one: never a silently empty column."""
        used = set(positions.values())
        absent = [
            (normalise_header(wording), column)
            for column in layout.columns
            if column.key not in positions
            for wording in (column.header, *column.aliases)
        ]
        for i, cell in enumerate(line):
            typed = normalise_header(cell)
            if i in used or not typed or typed in wanted:
                continue
            meant = next((c for known, c in absent if headers.resembles(typed, known)), None)
            if meant is not None:
                self.warn(
                    Location(self.book.name, sheet, f"{column_letter(i)}{index + 1}"),
                    f"de kolom '{values.text(cell)}' wordt niet gelezen; bedoelt u "
                    f"'{meant.header}'?",
                    f"Noem de kolom '{meant.header}' als hij dat is; anders kunt u deze "
                    "waarschuwing negeren.",
                )

    def _merged_data_rows(
        self, sheet: str, header_index: int, positions: dict[str, int], section_column: int | None
    ) -> tuple[dict[int, str], dict[int, object]]:
        """Data rows (0-based) that a merge makes unreadable -> the merged range, as 'B3:C3'; and
        the rows a merged section (category) cell spans -> its value, which applies to each."""
        used = set(positions.values())
        rows: dict[int, str] = {}
        spans: dict[int, tuple[int, int]] = {}
        for (r0, c0), (r1, c1) in self.book.merged_ranges(sheet):
            if r1 <= header_index or not any(c0 <= c <= c1 for c in used):
                continue
            if r0 == r1 and sum(1 for c in used if c0 <= c <= c1) <= 1:
                continue  # merged across unread columns only: harmless
            if c0 == c1 == section_column:
                for row in range(max(r0, header_index + 1), r1 + 1):
                    spans[row] = (r0, c0)
                continue
            span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
            for row in range(max(r0, header_index + 1), r1 + 1):
                rows.setdefault(row, span)
        grid = self.book.rows(sheet)
        filled = {
            row: grid[r0][c0] if c0 < len(grid[r0]) else None for row, (r0, c0) in spans.items()
        }
        return rows, filled

    def field(
        self,
        row: Row,
        key: str,
        parse: Callable[[object], T],
        *,
        required: bool = True,
        fix: str = "",
    ) -> T | None:
        """Parse one cell; an empty required cell or a parse error becomes a finding at that cell;
        a value read with a doubt (`values.ReadWithWarning`) is used and the doubt reported."""
        raw = row[key]
        if raw is REPORTED:
            return None
        if values.is_empty(raw):
            if required:
                self.error(row.source.at(key), "is leeg", fix or "Vul deze cel in.")
            return None
        try:
            return parse(raw)
        except values.ReadWithWarning as doubt:
            self.warn(row.source.at(key), doubt.message, doubt.fix)
            return doubt.value
        except ValueError as exc:
            self.error(row.source.at(key), str(exc), fix)
            return None


def _fact(info: WorkbookInfo, name: str, sheet: str, default):
    """One sheet's formatting fact from the safety scan (see `WorkbookInfo`)."""
    return getattr(info, name, {}).get(sheet, default)


@dataclass(frozen=True)
class _Header:
    index: int  # 0-based row of the header
    positions: dict[str, int]  # field key -> 0-based column
    words: dict[int, str]  # column -> its normalised header text, to spot the header repeated
    heading: int | None = None  # the category of a section heading in the header row itself


_BLANK, _DATA, _TOTAL, _TEXT, _OTHER = range(5)


class _SheetReading:
    """One pass over one sheet's rows below the header, then the decisions that need the whole
    sheet (which text-only rows are notes, what each total covers).

    A row is, in this order:
    - blank (no cell filled anywhere);
    - the header repeated, fully or partly (every filled cell a header of its column), which in
      the calendar may carry a section heading;
    - a total (in sheets with amount or count columns): its first filled cell 'Totaal',
      'Subtotaal', 'Som', ...; an Excel table's totals row; or a SUM/SUBTOTAL over its column
      above. It is checked against the rows it covers, and never data;
    - in the calendar: a section heading ('3. Onderwerp/...', 'Categorie 3'), which gives the
      category of the subjects below it; or a note ('* Gebruikte afkortingen ...', 'DE = Delft');
    - in sheets with amounts: a row with one text cell is decided after the pass (`_decide`);
    - in other sheets: a row with one text cell that reads as a remark is a note;
    - else data. A hidden or struck-through data row is read and warned about.
    """

    def __init__(
        self,
        reader: Reader,
        layout: SheetLayout,
        sheet: str,
        grid: list[list[object]],
        header: _Header,
    ):
        self.reader = reader
        self.layout = layout
        self.sheet = sheet
        self.grid = grid
        self.header = header
        self.file = reader.book.name
        info = reader.book.info
        self.hidden_rows = _fact(info, "hidden_rows", sheet, frozenset())
        self.struck_rows = {row for row, _ in _fact(info, "struck_cells", sheet, frozenset())}
        self.bold = _fact(info, "bold_cells", sheet, frozenset())
        self.formulas = _fact(info, "formulas", sheet, {})
        self.table_totals = _fact(info, "table_totals", sheet, frozenset())
        # Cells showing an error value ('#REF!'), which the parser gives as empty: by 0-based row.
        self.errors: dict[int, dict[int, str]] = {}
        for (row, column), shown in _fact(info, "error_cells", sheet, {}).items():
            self.errors.setdefault(row - 1, {})[column] = shown
        self.blank_formulas = set(info.formulas_without_value.get(sheet, ()))
        positions = header.positions
        self.columns = tuple((key, column_letter(i)) for key, i in positions.items())
        # Per column, every wording of its header: a header repeated under a section heading may
        # use other words than the top one ('Deelnemende gemeenten*' under 'Deelnemers 2024').
        self.header_words: dict[int, set[str]] = {i: {w} for i, w in header.words.items()}
        for key, i in positions.items():
            column = layout.column(key)
            self.header_words.setdefault(i, set()).update(
                normalise_header(wording) for wording in (column.header, *column.aliases)
            )
        self.section_column = positions.get(layout.sections) if layout.sections else None
        self.merged, self.merged_sections = reader._merged_data_rows(
            sheet, header.index, positions, self.section_column
        )
        self.kinds: dict[int, int] = {}
        self.rows: dict[int, Row] = {}
        self.totals: list[int] = []
        self.texts: list[int] = []
        self.text_rows: dict[int, Row] = {}  # the text-only rows, should one be data after all
        self.skipped: list[tuple[int, SkippedRow]] = []  # (0-based row, what it was read as)
        self.category = header.heading  # from the last section heading
        self.carried: object = None  # a category typed on the first subject of a block

    def read(self) -> Table:
        reported_merges: set[str] = set()
        if self.header.heading is not None:  # the jaarplan's '1. Contractmanagement ...' header
            column = self.header.positions["subject"]
            self._skip(
                RowKind.HEADING, self.header.index, (column, self.grid[self.header.index][column])
            )
        self.grid = self._padded(self.grid)
        for index in range(self.header.index + 1, len(self.grid)):
            kind = self._classify(index, reported_merges)
            self.kinds[index] = kind
            if kind == _BLANK:
                self.carried = None
        self._decide_texts()
        self._check_totals()
        self.reader.skipped.extend(row for _, row in sorted(self.skipped, key=lambda s: s[0]))
        rows = tuple(self.rows[i] for i in sorted(self.rows))
        return Table(self.file, self.sheet, self.header.index + 1, rows)

    def _padded(self, grid: list[list[object]]) -> list[list[object]]:
        """The grid, with empty lines down to the last formula without a cached value: the grid
        ends at the last value, so a row below the data holding nothing but such a formula
        ('=SUM(E2:E6)' written by a script) would otherwise go unseen, not reported at its cell.
        """
        rows = (int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for ref in self.blank_formulas)
        last = max(rows, default=0)
        return grid + [[] for _ in range(len(grid), last)] if last > len(grid) else grid

    def _classify(self, index: int, reported_merges: set[str]) -> int:
        line = self.grid[index]
        filled = [(i, v) for i, v in enumerate(line) if not values.is_empty(v)]
        errors = self.errors.get(index)
        if errors:  # an error value is something typed there, not an empty cell
            filled = sorted({**dict(filled), **errors}.items())
        if self.blank_formulas:  # a formula without a value is something typed there too
            filled = self._with_blank_formulas(index, filled)
        if not filled:
            return _BLANK
        positions = self.header.positions
        cells = {key: (line[i] if i < len(line) else "") for key, i in positions.items()}
        source = Source(self.file, self.sheet, index + 1, self.columns)
        if self.blank_formulas:  # rare: most sheets have none, and every row would look
            self.reader._refuse_blank_formulas(cells, positions, self.blank_formulas, source, index)
            if all(value is REPORTED for _, value in filled):
                return _OTHER  # nothing but unknown values: the error at each cell says it all
        if errors and not (self.layout.totals and self._is_total(index, filled)):
            self._refuse_error_values(index, cells, errors, source)
        if self._repeated_header(index, filled):
            return _OTHER
        if self._unit_row(index, filled):
            self._skip(RowKind.NOTE, index, filled[0])
            return _OTHER
        if self.layout.totals and self._is_total(index, filled):
            self.totals.append(index)
            return _TOTAL
        if self.layout.sections:
            if self._section_heading(index, cells):
                return _OTHER
            if self._calendar_note(index, filled):
                return _OTHER
        elif len(filled) == 1 and isinstance(filled[0][1], str):
            if self.layout.totals:
                self.texts.append(index)
                self.text_rows[index] = Row(cells, source)
                return _TEXT
            if structure.note_like(values.text(filled[0][1])):
                self._skip(RowKind.NOTE, index, filled[0])
                return _OTHER
        if all(values.is_empty(v) for v in cells.values()):
            return _OTHER  # filled only in columns we do not read
        if index in self.merged:
            span = self.merged[index]
            if span not in reported_merges:  # a range over several rows: one finding
                reported_merges.add(span)
                self.reader.error(
                    Location(self.file, self.sheet, span),
                    "bevat samengevoegde cellen; deze rij wordt niet gelezen",
                    "Maak de samenvoeging ongedaan (Start › Samenvoegen en centreren) en vul "
                    "elke cel afzonderlijk in.",
                )
            return _OTHER
        if self.layout.sections:
            self._fill_category(index, cells)
        self._warn_formatting(index)
        self.rows[index] = Row(cells, source)
        return _DATA

    def _with_blank_formulas(
        self, index: int, filled: list[tuple[int, object]]
    ) -> list[tuple[int, object]]:
        """`filled` plus the read columns holding a formula without a cached value, as REPORTED:
        the row is then neither blank nor a row with one text cell (a post 'without an amount').
        """
        found = {
            i: REPORTED
            for i in self.header.positions.values()
            if f"{column_letter(i)}{index + 1}" in self.blank_formulas
        }
        return sorted({**dict(filled), **found}.items()) if found else filled

    def _refuse_error_values(
        self, index: int, cells: dict[str, object], errors: dict[int, str], source: Source
    ) -> None:
        """A cell showing '#REF!' or '#DEEL/0!' is an error at that cell: its value is unknown."""
        for key, column in self.header.positions.items():
            if column in errors:
                self.reader.error(
                    source.at(key),
                    f"toont de foutwaarde '{errors[column]}' in plaats van een waarde",
                    "Herstel de formule of typ de waarde in Excel, en sla het bestand op.",
                )
                cells[key] = REPORTED

    def _skip(self, kind: RowKind, index: int, cell: tuple[int, object]) -> None:
        location = Location(self.file, self.sheet, f"{column_letter(cell[0])}{index + 1}")
        self.skipped.append((index, SkippedRow(kind, location, values.text(cell[1]))))

    def _repeated_header(self, index: int, filled: list[tuple[int, object]]) -> bool:
        """Every filled cell is its column's header (or, in the calendar, a section heading in
        the subject or category column, as the jaarplan repeats them per page)."""
        heading = None
        headers = 0
        for i, value in filled:
            word = normalise_header(value)
            if word in self.header_words.get(i, ()):
                headers += 1
                continue
            if self.layout.sections and isinstance(value, str) and self._heading_column(i):
                category = structure.heading_category(value)
                if category is not None and heading is None:
                    heading = category
                    continue
            return False
        if headers == 0:
            return False
        if heading is not None:
            self.category, self.carried = heading, None
            column, text = next(
                (i, v) for i, v in filled if normalise_header(v) not in self.header_words.get(i, ())
            )
            self._skip(RowKind.HEADING, index, (column, text))
        return True

    def _unit_row(self, index: int, filled: list[tuple[int, object]]) -> bool:
        """Right under the header, a row of words in brackets only: the units or hints of the
        columns above ('(dd-mm-jjjj)', '(excl. BTW)', '(€)'), a second header line, never data.
        A bracketed amount ('(1.875,50)', a negative) keeps the row data."""
        if index != self.header.index + 1:
            return False
        for _, value in filled:
            shown = values.text(value) if isinstance(value, str) else ""
            if not (shown.startswith("(") and shown.endswith(")")):
                return False
            try:
                values.amount(shown)
            except ValueError:
                continue
            return False
        return True

    def _heading_column(self, column: int) -> bool:
        return column in (self.section_column, self.header.positions.get("subject"))

    def _section_heading(self, index: int, cells: dict[str, object]) -> bool:
        """A calendar row that only names a section: '1. Contractmanagement, ...' in the subject
        or category column (merged across the row or not), 'Categorie 3', '3 | Onderwerp/...'."""
        others = [k for k in cells if k not in ("subject", self.layout.sections)]
        if any(not values.is_empty(cells[k]) for k in others):
            return False
        subject = cells.get("subject")
        section = cells.get(self.layout.sections)
        category = None
        text = ""
        if isinstance(subject, str) and values.is_empty(section):
            category, text = structure.heading_category(subject), values.text(subject)
        elif not values.is_empty(section) and values.is_empty(subject):
            text = values.text(section)
            try:
                category = structure.heading_category(text) or values.category(section)
            except ValueError:
                return False
        if category is None:
            return False
        self.category, self.carried = category, None
        column = self.header.positions["subject" if text == values.text(subject) else "category"]
        self._skip(RowKind.HEADING, index, (column, text))
        return True

    def _calendar_note(self, index: int, filled: list[tuple[int, object]]) -> bool:
        if len(filled) != 1 or not isinstance(filled[0][1], str):
            return False
        if not structure.note_like(values.text(filled[0][1])):
            return False
        self._skip(RowKind.NOTE, index, filled[0])
        return True

    def _fill_category(self, index: int, cells: dict[str, object]) -> None:
        """The category of a subject row: its own cell; else a merged category cell over it; else
        the category typed on the first subject of its block; else its section's heading."""
        key = self.layout.sections
        own = cells.get(key)
        if values.is_empty(own):
            if index in self.merged_sections:
                cells[key] = self.merged_sections[index]
            elif self.carried is not None:
                cells[key] = self.carried
            elif self.category is not None:
                cells[key] = self.category
            return
        if own is not REPORTED:
            self.carried = own

    def _warn_formatting(self, index: int) -> None:
        row = index + 1
        for rows, how in ((self.hidden_rows, "verborgen"), (self.struck_rows, "doorgehaald")):
            if row in rows:
                self.reader.warn(
                    Location(self.file, self.sheet, f"rij {row}"),
                    f"deze rij is {how}, maar telt mee",
                    "Verwijder de regel als hij niet meer geldt; anders kunt u deze "
                    "waarschuwing negeren.",
                )

    def _is_total(self, index: int, filled: list[tuple[int, object]]) -> bool:
        first = filled[0][1]
        if isinstance(first, str) and structure.total_label(values.text(first)):
            return True
        if index + 1 in self.table_totals:
            return True
        return any(self._sum_range(index, key) is not None for key in self.layout.totals)

    def _sum_range(self, index: int, key: str) -> tuple[int, int] | None:
        column = self.header.positions.get(key)
        if column is None:
            return None
        formula = self.formulas.get((index + 1, column))
        if not formula:
            return None
        return structure.sum_range(formula, column_letter(column), index + 1)

    def _decide_texts(self) -> None:
        """A row with one text cell in a sheet with amounts: a note, a sub-heading, or — when it
        could as well be a row whose amount was forgotten — an error saying both readings."""
        data = sorted(self.rows)
        for index in self.texts:
            column, value = next(
                (i, v) for i, v in enumerate(self.grid[index]) if not values.is_empty(v)
            )
            text = values.text(value)
            above = self._neighbour(index, -1)
            below = self._neighbour(index, +1)
            later_data = bool(data) and data[-1] > index
            heading_like = structure.marked_heading(
                text, (index + 1, column) in self.bold
            ) or self._merged_across(index)
            first = index - 1 == self.header.index  # right under the header
            among_data = (above == _DATA or first) and (below in (_DATA, _TOTAL) or not later_data)
            if first and not later_data and not heading_like and not structure.note_like(text):
                # The table's only row, right under the header: a post whose amount is missing
                # (the amount cell says so), never a note.
                self._warn_formatting(index)
                self.rows[index] = self.text_rows[index]
                continue
            if structure.note_like(text):
                self._skip(RowKind.NOTE, index, (column, value))
            elif not self._value_of_column(column, value):
                kind = RowKind.HEADING if later_data else RowKind.NOTE
                self._skip(kind, index, (column, value))
            elif among_data:
                if heading_like:
                    self._skip(RowKind.HEADING, index, (column, value))
                else:
                    self._ambiguous(index, column, text)
            else:
                kind = RowKind.HEADING if later_data else RowKind.NOTE
                self._skip(kind, index, (column, value))

    def _neighbour(self, index: int, step: int) -> int:
        """The kind of the next row up or down that is not itself a text-only row."""
        index += step
        while self.kinds.get(index) == _TEXT:
            index += step
        return self.kinds.get(index, _BLANK)

    def _merged_across(self, index: int) -> bool:
        merged = self.reader.book.merged_ranges(self.sheet)
        return any(r0 <= index <= r1 and c1 > c0 for (r0, c0), (r1, c1) in merged)

    def _value_of_column(self, column: int, value: object) -> bool:
        """Whether text in this column could be one of its values (a post name in Post, a code
        in Code); text in an amount column or a column we do not read cannot."""
        key = next((k for k, i in self.header.positions.items() if i == column), None)
        if key is None or key in self.layout.totals:
            return False
        if key == "code":
            try:
                values.code(value)
            except ValueError:
                return False
        return True

    def _ambiguous(self, index: int, column: int, text: str) -> None:
        """At the empty amount (or count) cell: the one to fill if the row is data."""
        key = self.layout.totals[0]
        amounts = f"'{self.layout.column(key).header}'"
        column = self.header.positions.get(key, column)
        self.reader.error(
            Location(self.file, self.sheet, f"{column_letter(column)}{index + 1}"),
            f"'{text}' staat bij de gegevens maar zonder {amounts}: is dit een regel waarvan "
            "het bedrag of aantal ontbreekt, of een opmerking of tussenkop?",
            "Vul het ontbrekende bedrag of aantal in als het een regel is; is het een tussenkop, "
            "maak hem dan vet of laat hem eindigen op ':'; een opmerking hoort onder de tabel.",
        )

    def _check_totals(self) -> None:
        """Each total equals the data rows it covers: its SUM's range, else the rows since the
        previous total (a Subtotaal) or since the previous Totaal (a Totaal)."""
        data = sorted(self.rows)
        previous_any = previous_grand = self.header.index
        for index in self.totals:
            line = self.grid[index]
            first = next(v for v in line if not values.is_empty(v))
            sub = isinstance(first, str) and structure.subtotal_label(values.text(first))
            since = previous_any if sub else previous_grand
            for key in self.layout.totals:
                self._check_total(index, key, [i for i in data if since < i < index])
            previous_any = index
            if not sub:
                previous_grand = index
            label_column = next(i for i, v in enumerate(line) if not values.is_empty(v))
            self._skip(RowKind.TOTAL, index, (label_column, first))

    def _check_total(self, index: int, key: str, covered: list[int]) -> None:
        column = self.header.positions.get(key)
        if column is None:
            return
        line = self.grid[index]
        raw = line[column] if column < len(line) else None
        cell = f"{column_letter(column)}{index + 1}"
        where = Location(self.file, self.sheet, cell)
        shown = self.errors.get(index, {}).get(column)
        if shown is not None:
            self.reader.error(
                where,
                f"de totaalregel toont de foutwaarde '{shown}'; het totaal kan niet worden "
                "gecontroleerd",
                "Herstel de formule van het totaal in Excel en sla het bestand op.",
            )
            return
        if values.is_empty(raw):
            return
        total = structure.amount_or_none(raw)
        if total is None:
            self.reader.error(
                where,
                f"de totaalregel bevat '{values.text(raw)}', geen getal",
                "Vul het totaal als getal in, of maak de cel leeg.",
            )
            return
        summed = self._sum_range(index, key)
        if summed is not None:
            covered = [i for i in self.rows if summed[0] <= i + 1 <= summed[1]]
        parts = []
        for i in covered:
            part_raw = self.grid[i][column] if column < len(self.grid[i]) else None
            part = structure.amount_or_none(part_raw)
            if part is None and not values.is_empty(part_raw):
                return  # that cell has its own error; a sum without it would mislead
            parts.append(part or Decimal(0))
        counted = sum(parts, Decimal(0))
        if counted != total:
            rows = f"rij {covered[0] + 1}-{covered[-1] + 1}" if covered else "geen regels"
            self.reader.error(
                where,
                f"het totaal is {_shown(total, key)}, maar de regels erboven ({rows}) tellen op "
                f"tot {_shown(counted, key)}",
                "Controleer de bedragen en het totaal. Een totaalregel telt nooit mee als "
                "gegeven; is het een gewone regel, laat de omschrijving dan niet met "
                "'Totaal' beginnen.",
            )


def _shown(amount: Decimal, key: str) -> str:
    if key == "inhabitants" and amount == amount.to_integral_value():
        return format_number(int(amount))
    return format_euro(amount)
