"""Worksheets that write the same XML as xlsxwriter's, faster: only the cells a row holds, and
the common cells and rows written in one step; and a Workbook that makes them, zips at zlib's
fastest level and lets its cells go when closed.

xlsxwriter writes a sheet's rows by walking every column from the sheet's first to its last for
each row, twice (once for the `spans` attribute, once for the cells). The Deelnamematrix at twice
national scale has 10.000 rows of 688 columns with a dozen cells each: seven million empty steps
per walk, four times as many as at national scale. `SparseWorksheet` visits only the cells a row
holds, in column order.

Each cell then goes through xlsxwriter's general cell writer: a list of attributes, each
escaped, the cell's type found by its class name. A settlement writes some 900.000 cells (341
invoice workbooks of about 2.600 cells each); `FastWorksheet` writes a formatted number, date,
text or blank cell (nearly all of them) as one string of the same XML, and hands every other
cell (a formula, a cell without its own format, ...) to xlsxwriter's writer; likewise a row's
tag. `FastWorksheet.write_cells` stores a row of cells in one call. tests/test_sparse.py compares
the bytes with the stock worksheet's for every kind of cell and row.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import xlsxwriter
from xlsxwriter import workbook as xlsxwriter_workbook
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellDatetimeTuple,
    CellNumberTuple,
    CellRichStringTuple,
    CellStringTuple,
    Worksheet,
)

SPAN_ROWS = 16  # xlsxwriter gives each block of 16 rows one `spans` attribute

_COLUMNS: list[str] = []  # column letters by index, filled as far as a sheet needs


class SparseWorksheet(Worksheet):
    """Use as `workbook.add_worksheet(name, SparseWorksheet)` for a wide matrix sheet."""

    def _calculate_spans(self) -> None:
        """Per block of 16 rows, the first and last column holding a cell or a comment."""
        blocks: dict[int, tuple[int, int]] = {}
        for row in self._filled_rows():
            columns = [*self.table.get(row, ()), *self.comments.get(row, ())]
            if not columns:
                continue
            block = row // SPAN_ROWS
            first, last = min(columns), max(columns)
            if block in blocks:
                first, last = min(first, blocks[block][0]), max(last, blocks[block][1])
            blocks[block] = (first, last)
        self.row_spans = {
            block: f"{first + 1}:{last + 1}" for block, (first, last) in blocks.items()
        }

    def _write_rows(self) -> None:
        self._calculate_spans()
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = self.table.get(row)
            info = self.row_info.get(row)
            span = self.row_spans.get(row // SPAN_ROWS)
            if cells:
                self._write_row(row, span, info)
                self._write_cells(row, cells)
                self._xml_end_tag("row")
            elif info is not None or row in self.comments:
                self._write_empty_row(row, span, info)

    def _write_cells(self, row: int, cells: dict[int, Any]) -> None:
        for column in sorted(cells):
            self._write_cell(row, column, cells[column])

    def _filled_rows(self) -> list[int]:
        """Rows (within the sheet's dimensions) that hold cells or comments, in order."""
        if self.dim_rowmin is None:
            return []
        first, last = self.dim_rowmin, self.dim_rowmax
        rows = {row for row in (*self.table, *self.comments) if first <= row <= last}
        return sorted(rows)


# A cell for FastWorksheet.write_cells: its value and its format.
Cell = tuple["str | float | date | None", "Format | None"]


class FastWorksheet(SparseWorksheet):
    """A SparseWorksheet that writes its common cells in one step (see the module docstring).
    `Workbook` makes every sheet one."""

    def write_cells(self, row: int, first: int, cells: Sequence[Cell]) -> None:
        """Write `cells` into `row` from column `first` on, as xlsxwriter's write_string,
        write_number, write_datetime and write_blank would: a text as a shared string (an
        empty text as a blank), an int or float as a number, a date as a date, None as a blank
        (which, as in xlsxwriter, is only written with a format). One call per row, not one
        per cell: the invoice workbooks' specification rows are a national run's hot loop."""
        last = first + len(cells) - 1
        inline = self.constant_memory  # strings inline: written row by row, left to xlsxwriter
        if (
            not cells
            or inline
            or self._check_dimensions(row, first)
            or self._check_dimensions(row, last)
        ):
            self._write_each(row, first, cells)
            return
        table = self.table[row]
        strings = self.str_table
        longest = self.xls_strmax // 2  # longer ones may need xlsxwriter's truncation
        for column, (value, cell_format) in enumerate(cells, start=first):
            if value is None or value == "":
                if cell_format is not None:
                    table[column] = CellBlankTuple(cell_format)
            elif isinstance(value, str) and len(value) <= longest:
                index = strings._get_shared_string_index(value)
                table[column] = CellStringTuple(index, cell_format)
            elif isinstance(value, (int, float)) and math.isfinite(value):
                table[column] = CellNumberTuple(value, cell_format)
            elif isinstance(value, date):
                excel = self._convert_date_time(value)
                table[column] = CellDatetimeTuple(excel, cell_format or self.default_date_format)
            else:
                self._write_each(row, column, [(value, cell_format)])

    def _write_each(self, row: int, first: int, cells: Sequence[Cell]) -> None:
        """`write_cells` through xlsxwriter's public writers, a cell at a time."""
        for column, (value, cell_format) in enumerate(cells, start=first):
            if value is None or value == "":
                self.write_blank(row, column, None, cell_format)
            elif isinstance(value, str):
                self.write_string(row, column, value, cell_format)
            elif isinstance(value, date):
                self.write_datetime(row, column, value, cell_format)
            else:
                self.write_number(row, column, value, cell_format)

    def _write_row(
        self, row: int, spans: str | None, row_info: Any = None, empty_row: bool = False
    ) -> None:
        """The <row> tag as xlsxwriter writes it, in one step for a row without a format of
        its own, not hidden and outside an outline (every row we write)."""
        if self.excel_version == 2010 or (
            row_info is not None
            and (row_info.row_format or row_info.hidden or row_info.level or row_info.collapsed)
        ):
            super()._write_row(row, spans, row_info, empty_row)
            return
        height = row_info.height if row_info is not None else None
        if height is None:
            height = self.default_row_height
        tag = f'<row r="{row + 1}"'
        if spans:
            tag += f' spans="{spans}"'
        if height != self.original_row_height or height != self.default_row_height:
            tag += f' ht="{height * 0.75:.16g}" customHeight="1"'
        self.fh.write(f"{tag}/>" if empty_row else f"{tag}>")

    def _write_cells(self, row: int, cells: dict[int, Any]) -> None:
        if self.constant_memory:  # strings inline: xlsxwriter's own writer
            super()._write_cells(row, cells)
            return
        number = row + 1
        columns = _columns(max(cells))
        parts: list[str] = []
        for column in sorted(cells):
            cell = cells[column]
            cell_format = cell.format
            kind = _FAST.get(type(cell))
            if cell_format is None or kind is None:
                self.fh.write("".join(parts))
                parts.clear()
                self._write_cell(row, column, cell)
                continue
            # Set on every format by the time the sheets are written.
            style = cell_format.xf_index
            if style is None:
                style = cell_format._get_xf_index()
            if kind is _TEXT:  # the shared string's index (not constant_memory)
                parts.append(
                    f'<c r="{columns[column]}{number}" s="{style}" t="s"><v>{cell.string}</v></c>'
                )
            elif kind is _BLANK:
                parts.append(f'<c r="{columns[column]}{number}" s="{style}"/>')
            else:
                parts.append(
                    f'<c r="{columns[column]}{number}" s="{style}"><v>{cell.number:.16G}</v></c>'
                )
        self.fh.write("".join(parts))


_TEXT, _BLANK, _NUMBER = "text", "blank", "number"
# The cells FastWorksheet writes itself, by their xlsxwriter type.
_FAST = {
    CellStringTuple: _TEXT,
    CellRichStringTuple: _TEXT,
    CellBlankTuple: _BLANK,
    CellNumberTuple: _NUMBER,
    CellDatetimeTuple: _NUMBER,
}


def _columns(last: int) -> list[str]:
    """Column letters up to index `last`, made once per process."""
    while len(_COLUMNS) <= last:
        _COLUMNS.append(xl_col_to_name(len(_COLUMNS)))
    return _COLUMNS


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's Workbook whose worksheets are FastWorksheets, zipped at zlib's fastest
    level, and whose cells are let go when it is closed."""

    worksheet_class = FastWorksheet

    def close(self) -> None:
        with _fastest_zip():
            super().close()
        # Written, the cells are garbage. The sheets and the workbook point at each other, so
        # left in place the cells wait for the cycle collector, which traces every one of them
        # (some 4.000 objects per invoice workbook); dropped here, reference counting frees
        # them at once. The worker processes collect after each invoice: 1,5 -> 0,6 ms.
        for sheet in self.worksheets():
            sheet.table.clear()
            sheet.row_info.clear()


ZIP_COMPRESSION = 1  # zlib level of a workbook's parts (see _fastest_zip)


class _FastestZipInfo(zipfile.ZipInfo):
    """A zip member compressed at ZIP_COMPRESSION."""

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compresslevel = ZIP_COMPRESSION


@contextmanager
def _fastest_zip() -> Iterator[None]:
    """While a workbook is zipped, the ZipInfo xlsxwriter makes for each part is one that
    compresses at zlib's fastest level.

    xlsxwriter zips at zlib's default level (6) and has no option for another; the level
    travels on the ZipInfo it makes per part (zipfile reads it there). At the fastest level a
    national invoice workbook is 20 % larger (30 -> 37 kB) and a settlement 0,2-0,5 s faster:
    zlib had been 8 % of its processor time, with the PDFs. Only for the length of one close,
    in the one thread that writes workbooks; tests/test_sparse.py checks the level reaches the
    file."""
    stock = xlsxwriter_workbook.ZipInfo
    xlsxwriter_workbook.ZipInfo = _FastestZipInfo
    try:
        yield
    finally:
        xlsxwriter_workbook.ZipInfo = stock
