"""SparseWorksheet and FastWorksheet write byte for byte the sheet XML xlsxwriter's own Worksheet
writes."""

from __future__ import annotations

import random
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from inkoopkracht_xl.write.sparse import FastWorksheet, SparseWorksheet, Workbook
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


@pytest.mark.parametrize("worksheet_class", [SparseWorksheet, FastWorksheet])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sparse_worksheet_writes_the_stock_xml(tmp_path, seed, worksheet_class):
    stock = _matrix_sheet_xml(tmp_path / "stock.xlsx", Worksheet, seed)
    sparse = _matrix_sheet_xml(tmp_path / "sparse.xlsx", worksheet_class, seed)

    assert b'spans="' in stock and b'customHeight="1"' in stock  # the sheet has both to compare
    assert sparse == stock


@pytest.mark.parametrize("worksheet_class", [SparseWorksheet, FastWorksheet])
def test_sparse_worksheet_writes_an_empty_sheet(tmp_path, worksheet_class):
    xml = {}
    for name, sheet_class in (("stock", Worksheet), ("sparse", worksheet_class)):
        workbook = xlsxwriter.Workbook(str(tmp_path / f"{name}.xlsx"), WORKBOOK_OPTIONS)
        workbook.add_worksheet("Leeg", sheet_class)
        workbook.close()
        with zipfile.ZipFile(tmp_path / f"{name}.xlsx") as archive:
            xml[name] = archive.read("xl/worksheets/sheet1.xml")

    assert b"<sheetData/>" in xml["stock"]
    assert xml["sparse"] == xml["stock"]


def _every_kind_of_cell(path: Path, worksheet_class: type[Worksheet]) -> bytes:
    """A sheet with each kind of cell xlsxwriter writes, formatted and not, under row and
    column formats, as sheet1.xml."""
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    money = workbook.add_format({"num_format": "€ #,##0.00"})
    day = workbook.add_format({"num_format": "dd-mm-yyyy"})
    bold = workbook.add_format({"bold": True})
    shaded = workbook.add_format({"bg_color": "#DDEBF7"})
    sheet = workbook.add_worksheet("Alles", worksheet_class)
    sheet.set_column(6, 6, 12, shaded)  # a column format for cells without their own
    sheet.set_row(3, 24, bold)  # a row format for cells without their own
    sheet.set_row(2, 15)  # Excel's default height: no ht attribute
    sheet.set_row(4, None, None, {"hidden": True})
    sheet.set_row(5, 18, None, {"level": 1})
    sheet.set_row(12, 40)  # a tall row without cells
    sheet.set_row(13, None, None, {"hidden": True})  # a hidden row without cells
    for row in range(6):
        sheet.write_string(row, 0, f'Regel {row} & <zo> "citaat"', bold)
        sheet.write_string(row, 1, "zonder opmaak")
        sheet.write_number(row, 2, Decimal("1234.56") * row, money)
        sheet.write_number(row, 3, 0.1 + row / 3)
        sheet.write_datetime(row, 4, date(2024, 7, row + 1), day)
        sheet.write_datetime(row, 5, datetime(2024, 7, 1, 12, row), day)
        sheet.write_blank(row, 6, None, shaded)
        sheet.write_blank(row, 7, None)
        sheet.write_formula(row, 8, f"=SUM(C{row + 1}:D{row + 1})", money, 1234.56 * row)
        sheet.write_formula(row, 9, '=IF(1,"ja","nee")', bold, "ja")
        sheet.write_boolean(row, 10, row % 2 == 0, bold)
        sheet.write_rich_string(row, 11, "vet ", bold, "en gewoon", shaded)
        sheet.write_string(row, 12, "", bold)
        sheet.write_number(row, 27, -row, money)  # column AB: two letters
    sheet.write_string(2, 6, "tekst in de kolom met opmaak")
    sheet.write_array_formula(7, 2, 7, 2, "{=SUM(C1:C6)}", money, 18518.4)
    sheet.write_url(8, 0, "https://example.org/", string="een link")
    sheet.write_number(9, 16383, 1, money)  # the last column, XFD
    workbook.close()
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_fast_worksheet_writes_every_kind_of_cell_as_the_stock_worksheet(tmp_path):
    stock = _every_kind_of_cell(tmp_path / "stock.xlsx", Worksheet)
    fast = _every_kind_of_cell(tmp_path / "fast.xlsx", FastWorksheet)

    # The sheet has what the fast path writes and what it leaves to xlsxwriter.
    assert b't="s"><v>' in stock and b"<f>SUM(C1:D1)</f>" in stock and b'r="XFD10"' in stock
    assert b't="b"' in stock and b't="str"' in stock
    assert b'<row r="13" spans="1:16384" ht="39.75" customHeight="1"/>' in stock
    assert b'<row r="3" spans="1:16384">' in stock  # the default height: no ht
    assert b'hidden="1"' in stock and b'outlineLevel="1"' in stock
    assert fast == stock


def test_the_workbook_makes_fast_worksheets(tmp_path):
    workbook = Workbook(str(tmp_path / "boek.xlsx"), WORKBOOK_OPTIONS)
    sheet = workbook.add_worksheet("Blad")
    workbook.close()

    assert type(sheet) is FastWorksheet


def test_the_workbook_lets_its_cells_go_when_closed(tmp_path):
    path = tmp_path / "boek.xlsx"
    workbook = Workbook(str(path), WORKBOOK_OPTIONS)
    sheet = workbook.add_worksheet("Blad")
    sheet.write_string(0, 0, "Delft")
    sheet.set_row(0, 30)
    workbook.close()

    assert not sheet.table and not sheet.row_info  # freed by reference counting, not the GC
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b'<row r="1" spans="1:1" ht="30" customHeight="1"><c r="A1" t="s"><v>0</v></c>' in xml


def test_the_workbook_is_zipped_at_the_fastest_level(tmp_path):
    # xlsxwriter has no option for the level: sparse.Workbook hands it a ZipInfo that carries
    # one. Each part's stored size is zlib's at level 1, not at its default 6.
    import zlib

    import xlsxwriter.workbook

    path = tmp_path / "boek.xlsx"
    workbook = Workbook(str(path), WORKBOOK_OPTIONS)
    sheet = workbook.add_worksheet("Blad")
    for row in range(400):
        sheet.write_string(row, 0, f"Kostenpost {row}: projectkosten Aardgas en energie")
        sheet.write_number(row, 1, row * 12.5)
    workbook.close()

    def deflated(data: bytes, level: int) -> int:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        return len(compressor.compress(data) + compressor.flush())

    with zipfile.ZipFile(path) as archive:
        sizes = {i.filename: (i.compress_size, archive.read(i)) for i in archive.infolist()}
    sheet_xml = sizes["xl/worksheets/sheet1.xml"]
    assert sheet_xml[0] == deflated(sheet_xml[1], 1) != deflated(sheet_xml[1], 6)
    assert all(size == deflated(data, 1) for size, data in sizes.values())
    assert xlsxwriter.workbook.ZipInfo is zipfile.ZipInfo  # put back after the close
