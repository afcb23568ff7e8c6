"""SparseWorksheet writes byte for byte the sheet XML xlsxwriter's own Worksheet writes."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from inkoopkracht_xl.write.sparse import SparseWorksheet
from inkoopkracht_xl.write.styles import WORKBOOK_OPTIONS


def _matrix_sheet_xml(path: Path, worksheet_class: type[Worksheet], seed: int) -> bytes:
    """A wide sparse sheet with every kind of row xlsxwriter distinguishes, as sheet1.xml."""
    rng = random.Random(seed)
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    mark = workbook.add_format({"align": "center"})
    sheet = workbook.add_worksheet("Matrix", worksheet_class)
    sheet.merge_range(0, 3, 0, 9, "Kerngemeenten", mark)
    for column in range(3, 700):
        sheet.write_string(1, column, f"G{column:03d}")
    sheet.write_comment(1, 5, "Gemeente 5")
    sheet.write_comment(1, 650, "Gemeente 650")
    for row in range(2, 300):
        kind = rng.random()
        if kind < 0.1:
            sheet.set_row(row, 20)  # formatted, no cells
        elif kind < 0.15:
            sheet.write_comment(row, rng.randrange(700), "alleen een opmerking")
        elif kind < 0.2:
            continue  # an empty row: no XML at all
        else:
            sheet.write_string(row, 1, f"Onderwerp {row}")
            for column in rng.sample(range(3, 700), rng.randint(0, 12)):
                sheet.write_string(row, column, "x", mark)
            if rng.random() < 0.3:
                sheet.set_row(row, 30)
            if rng.random() < 0.1:
                sheet.write_comment(row, rng.randrange(700), "opmerking")
            sheet.write_formula(row, 700, f'=COUNTIF(D{row + 1}:ZX{row + 1},"x")', None, 0)
    workbook.close()
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sparse_worksheet_writes_the_stock_xml(tmp_path, seed):
    stock = _matrix_sheet_xml(tmp_path / "stock.xlsx", Worksheet, seed)
    sparse = _matrix_sheet_xml(tmp_path / "sparse.xlsx", SparseWorksheet, seed)

    assert b'spans="' in stock and b'customHeight="1"' in stock  # the sheet has both to compare
    assert sparse == stock


def test_sparse_worksheet_writes_an_empty_sheet(tmp_path):
    xml = {}
    for name, worksheet_class in (("stock", Worksheet), ("sparse", SparseWorksheet)):
        workbook = xlsxwriter.Workbook(str(tmp_path / f"{name}.xlsx"), WORKBOOK_OPTIONS)
        workbook.add_worksheet("Leeg", worksheet_class)
        workbook.close()
        with zipfile.ZipFile(tmp_path / f"{name}.xlsx") as archive:
            xml[name] = archive.read("xl/worksheets/sheet1.xml")

    assert b"<sheetData/>" in xml["stock"]
    assert xml["sparse"] == xml["stock"]
