"""A worksheet for wide, sparse matrices: the same XML as xlsxwriter's, without scanning every
column of every row.

xlsxwriter writes a sheet's rows by walking every column from the sheet's first to its last for
each row, twice (once for the `spans` attribute, once for the cells). The Deelnamematrix at twice
national scale has 10.000 rows of 688 columns with a dozen cells each: seven million empty steps
per walk, four times as many as at national scale. This subclass visits only the cells a row
holds, in column order, and hands each to xlsxwriter's own row and cell writers, so the XML stays
xlsxwriter's (tests/test_sparse.py compares the bytes with the stock worksheet's).
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

SPAN_ROWS = 16  # xlsxwriter gives each block of 16 rows one `spans` attribute


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
                for column in sorted(cells):
                    self._write_cell(row, column, cells[column])
                self._xml_end_tag("row")
            elif info is not None or row in self.comments:
                self._write_empty_row(row, span, info)

    def _filled_rows(self) -> list[int]:
        """Rows (within the sheet's dimensions) that hold cells or comments, in order."""
        if self.dim_rowmin is None:
            return []
        first, last = self.dim_rowmin, self.dim_rowmax
        rows = {row for row in (*self.table, *self.comments) if first <= row <= last}
        return sorted(rows)
