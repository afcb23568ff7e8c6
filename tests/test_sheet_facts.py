"""What the safety scan learns about a sheet beyond its values (issue 11 items 6, 8 and 11): hidden
rows and columns, struck-through and bold cells, formulas, Excel tables' totals rows; and that each
input is read once, so the bytes checked are the bytes parsed and hashed."""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine
import xlsxwriter
from openpyxl.styles import Font
from openpyxl.worksheet.table import Table

from inkoopkracht_xl import libreoffice
from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.model import Location
from inkoopkracht_xl.read import safety, table
from inkoopkracht_xl.read.safety import WorkbookInfo, inspect_xlsx
from inkoopkracht_xl.read.table import Workbook
from inkoopkracht_xl.validate import load_folder

from .builders import jaarplan_folder
from .recalc import requires_libreoffice
from .test_safety import (
    MAIN_NS,
    REL_NS,
    SHOWN,
    refused,
    replace_member,
    workbook_parts,
    write_zip,
)

MIB = 1024 * 1024
STYLES_TYPE = REL_NS + "/styles"

# Every fact of WorkbookInfo beyond names, hidden sheets and uncached formulas.
FACTS = ("hidden_rows", "hidden_columns", "struck_cells", "bold_cells", "formulas", "table_totals")


def facts(info: WorkbookInfo) -> dict[str, dict]:
    """The facts that are not empty, so a test states all there are, not only those it expects."""
    return {name: getattr(info, name) for name in FACTS if getattr(info, name)}


def save(book: openpyxl.Workbook, path: Path) -> Path:
    book.save(path)
    return path


def filled(sheet, rows: int, columns: int = 3) -> None:
    """Rows 1..`rows` of text in column A and numbers in the next columns."""
    for row in range(1, rows + 1):
        sheet.cell(row, 1, f"regel {row}")
        for column in range(2, columns + 1):
            sheet.cell(row, column, row * 100 + column)


def hand_written(path: Path, sheets: str | dict[str, str], styles: str | None = None) -> Path:
    """Sheets from raw XML (the rows of sheetData, or a whole part starting with "<worksheet"); a
    single one is named "K". An optional styles part, at a name only its relationship gives, comes
    after the sheets in the archive, as openpyxl and xlsxwriter write it."""
    if isinstance(sheets, str):
        sheets = {"K": sheets}
    parts = workbook_parts(
        {
            name: (
                xml
                if xml.startswith("<worksheet")
                else f'<worksheet xmlns="{MAIN_NS}"><sheetData>{xml}</sheetData></worksheet>'
            ).encode()
            for name, xml in sheets.items()
        }
    )
    if styles is not None:
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            f'<Relationship Id="rId99" Type="{STYLES_TYPE}" Target="opmaak.xml"/>'
            "</Relationships>".encode(),
        )
        parts["xl/opmaak.xml"] = f'<styleSheet xmlns="{MAIN_NS}">{styles}</styleSheet>'.encode()
    return write_zip(path, parts)


# --- hidden rows and columns -------------------------------------------------------------------


def test_rows_and_columns_hidden_by_hand_are_found(tmp_path):
    book = openpyxl.Workbook()
    budget = book.active
    budget.title = "Begroting"
    filled(budget, 6)
    for row in (3, 5, 8):  # row 8 is empty: nothing in it is read, so nothing to report
        budget.row_dimensions[row].hidden = True
    budget.column_dimensions["C"].hidden = True
    budget.column_dimensions["K"].hidden = True  # beyond the data: holds nothing
    filled(book.create_sheet("Inwoners"), 3)

    info = inspect_xlsx(save(book, tmp_path / "begroting.xlsx"), SHOWN)

    assert facts(info) == {
        "hidden_rows": {"Begroting": frozenset({3, 5})},
        "hidden_columns": {"Begroting": frozenset({2})},
    }


def test_rows_hidden_by_an_active_filter_are_not_hidden_by_hand(tmp_path):
    book = openpyxl.Workbook()
    calendar = book.active
    calendar.title = "Kalender"
    filled(calendar, 9)
    calendar.auto_filter.ref = "A1:C7"
    calendar.auto_filter.add_filter_column(0, ["regel 2", "regel 5"])
    # 3, 4, 6, 7: hidden by the filter; 1: the filter's header, which it never hides; 9: below it
    for row in (1, 3, 4, 6, 7, 9):
        calendar.row_dimensions[row].hidden = True
    # A filter without a filterColumn hides nothing: a hidden row in its range was hidden by hand.
    municipalities = book.create_sheet("Gemeenten")
    filled(municipalities, 4)
    municipalities.auto_filter.ref = "A1:C4"
    municipalities.row_dimensions[3].hidden = True

    info = inspect_xlsx(save(book, tmp_path / "kalender.xlsx"), SHOWN)

    assert facts(info) == {
        "hidden_rows": {"Kalender": frozenset({1, 9}), "Gemeenten": frozenset({3})},
    }


def test_rows_hidden_by_a_tables_own_filter_are_not_hidden_by_hand(tmp_path):
    path = tmp_path / "begroting.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Begroting")
    sheet.add_table(
        "A1:B5",
        {
            "columns": [{"header": "Post"}, {"header": "Bedrag"}],
            "data": [["a", 100], ["b", 200], ["c", 300], ["d", 400]],
        },
    )
    sheet.write_row(7, 0, ["los", 5])
    for index in (2, 4, 7):  # rows 3 and 5 inside the table, row 8 outside it
        sheet.set_row(index, None, None, {"hidden": True})
    book.close()
    with zipfile.ZipFile(path) as archive:
        table_part = archive.read("xl/tables/table1.xml").decode()
    assert '<autoFilter ref="A1:B5"/>' in table_part
    active = table_part.replace(
        '<autoFilter ref="A1:B5"/>',
        '<autoFilter ref="A1:B5"><filterColumn colId="0"><filters><filter val="b"/>'
        '<filter val="d"/></filters></filterColumn></autoFilter>',
    )

    inactive = inspect_xlsx(path, SHOWN)
    filtered = inspect_xlsx(replace_member(path, "xl/tables/table1.xml", active.encode()), SHOWN)

    assert inactive.hidden_rows == {"Begroting": frozenset({3, 5, 8})}
    assert filtered.hidden_rows == {"Begroting": frozenset({8})}


def test_hidden_columns_stop_at_the_data_and_wide_ranges_are_cut_at_the_grid(tmp_path):
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><cols>'
        '<col min="2" max="2" hidden="1"/><col min="4" max="16384" hidden="true"/>'
        '<col min="3" max="3" hidden="0"/></cols><sheetData>'
        '<row r="1"><c r="A1"><v>1</v></c><c r="F1"><v>2</v></c></row>'
        '<row r="2"><c r="G2" s="0"/></row>'  # formatting only: not data
        "</sheetData></worksheet>"
    )

    info = inspect_xlsx(hand_written(tmp_path / "k.xlsx", sheet), SHOWN)

    # B, then D up to F (the last column holding data): 0-based 1, 3, 4, 5
    assert facts(info) == {"hidden_columns": {"K": frozenset({1, 3, 4, 5})}}


# --- struck-through and bold cells -------------------------------------------------------------


def test_struck_and_bold_cells_are_found_through_their_fonts(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Begroting"
    sheet.append(["Post", "Bedrag", "Toelichting"])
    sheet.append(["Netwerk", 1000, "gewoon"])
    sheet.append(["Oud", 50, "vervallen"])
    sheet["A1"].font = Font(bold=True)
    sheet["B1"].font = Font(bold=True, strike=True)
    sheet["B2"].font = Font(bold=True)  # a bold number is no heading
    sheet["A3"].font = Font(strike=True)
    sheet["B3"].font = Font(strike=True)
    sheet["C2"].font = Font(bold=False, strike=False)  # written as <b val="0"/><strike val="0"/>
    sheet["D4"].font = Font(strike=True, bold=True)  # formatting only: nothing to read

    info = inspect_xlsx(save(book, tmp_path / "begroting.xlsx"), SHOWN)

    assert facts(info) == {
        "struck_cells": {"Begroting": frozenset({(1, 1), (3, 0), (3, 1)})},
        "bold_cells": {"Begroting": frozenset({(1, 0), (1, 1)})},
    }


STYLES = (
    '<fonts count="6"><font><sz val="11"/></font><font><b val="0"/></font>'
    '<font><strike val="false"/></font><font><b/></font><font><strike val="1"/></font>'
    '<font><b val="true"/><strike/></font></fonts>'
    # A conditional format's font and a named style are not what a cell's s points to.
    '<cellStyleXfs count="1"><xf fontId="4"/></cellStyleXfs>'
    '<cellXfs count="8"><xf fontId="0"/><xf fontId="1"/><xf fontId="2"/><xf fontId="3"/>'
    '<xf fontId="4"/><xf fontId="5"/><xf fontId="99"/><xf/></cellXfs>'
    '<dxfs count="1"><dxf><font><strike/><b/></font></dxf></dxfs>'
)


def test_formats_resolve_through_cell_xfs_to_fonts_only(tmp_path):
    cells = "".join(
        f'<c r="{column}1" s="{style}" t="inlineStr"><is><t>tekst</t></is></c>'
        for column, style in zip("ABCDEFGH", range(8), strict=True)
    )
    sheet = f'<row r="1">{cells}</row><row r="2"><c r="A2" s="5"><v>1</v></c></row>'

    info = inspect_xlsx(hand_written(tmp_path / "k.xlsx", sheet, STYLES), SHOWN)

    assert facts(info) == {
        "struck_cells": {"K": frozenset({(1, 4), (1, 5), (2, 0)})},
        "bold_cells": {"K": frozenset({(1, 3), (1, 5)})},  # A2 is a number
    }


def test_a_struck_default_format_marks_every_filled_cell(tmp_path):
    styles = '<fonts><font><strike/></font></fonts><cellXfs><xf fontId="0"/></cellXfs>'
    sheet = (
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1" t="inlineStr"><is><t>x</t></is></c></row>'
        '<row r="2"><c r="C2"/></row>'
    )

    info = inspect_xlsx(hand_written(tmp_path / "k.xlsx", sheet, styles), SHOWN)

    assert facts(info) == {"struck_cells": {"K": frozenset({(1, 0), (1, 1)})}}


def test_a_workbook_polluted_with_formats_still_finds_them(tmp_path, monkeypatch):
    """Past MAX_TRIGGER_FORMATS marked formats the quick look looks for any styled cell."""
    monkeypatch.setattr(safety, "MAX_TRIGGER_FORMATS", 2)
    styles = (
        "<fonts><font/><font><b/></font></fonts><cellXfs>"
        + '<xf fontId="0"/>'
        + '<xf fontId="1"/>' * 3
        + '<xf fontId="0"/>'
        + "</cellXfs>"
    )
    sheets = {
        "Vet": '<row r="1"><c r="A1" s="3" t="inlineStr"><is><t>kop</t></is></c></row>',
        "Gewoon": '<row r="1"><c r="A1" s="4" t="inlineStr"><is><t>tekst</t></is></c></row>',
    }

    info = inspect_xlsx(hand_written(tmp_path / "k.xlsx", sheets, styles), SHOWN)

    assert facts(info) == {"bold_cells": {"Vet": frozenset({(1, 0)})}}


def record_scans(monkeypatch) -> list[safety._SheetScan]:
    """Every per-element scan made from now on (the quick look makes none)."""
    scans: list[safety._SheetScan] = []

    class Recorded(safety._SheetScan):
        def __init__(self, *args, **kwargs):
            scans.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(safety, "_SheetScan", Recorded)
    return scans


def test_without_struck_or_bold_fonts_no_cell_is_looked_at(tmp_path, monkeypatch):
    """The quick look: a sheet without formulas, hidden rows or columns and marked formats never
    reaches the per-element scan, however its cells are styled."""
    book = openpyxl.Workbook()
    sheet = book.active
    filled(sheet, 50)
    sheet["A1"].font = Font(italic=True, size=14)
    sheet["B2"].font = Font(bold=False)
    sheet.row_dimensions[4].hidden = False
    path = save(book, tmp_path / "k.xlsx")
    scans = record_scans(monkeypatch)

    info = inspect_xlsx(path, SHOWN)
    assert (facts(info), scans) == ({}, [])

    sheet["C3"].font = Font(bold=True)  # a number in bold: a marked format, so a scan
    info = inspect_xlsx(save(book, tmp_path / "k.xlsx"), SHOWN)
    assert facts(info) == {}
    assert [scan.filled_rows for scan in scans] == [3]  # it stopped after row 3


def header_and_rows(path: Path, rows: int, struck: int | None = None) -> Path:
    """A bold header over `rows` plain rows; optionally one struck-through cell in row `struck`."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Kosten"
    sheet.append(["Onderwerp", "Bedrag"])
    for row in range(2, rows + 2):
        sheet.append([f"onderwerp {row}", row])
    sheet["A1"].font = sheet["B1"].font = Font(bold=True)
    if struck is not None:
        sheet.cell(struck, 2).font = Font(strike=True)
    return save(book, path)


def test_the_scan_stops_after_the_last_thing_the_quick_look_saw(tmp_path, monkeypatch):
    """A bold header on top of a long sheet, as nearly every real sheet has: the per-element scan
    reads the header row only, as the quick look read the rest through the guards already."""
    scans = record_scans(monkeypatch)

    header_only = inspect_xlsx(header_and_rows(tmp_path / "kop.xlsx", 2000), SHOWN)
    struck_below = inspect_xlsx(header_and_rows(tmp_path / "onder.xlsx", 2000, 1500), SHOWN)

    assert facts(header_only) == {"bold_cells": {"Kosten": frozenset({(1, 0), (1, 1)})}}
    assert facts(struck_below) == {
        "bold_cells": {"Kosten": frozenset({(1, 0), (1, 1)})},
        "struck_cells": {"Kosten": frozenset({(1500, 1)})},
    }
    assert [scan.filled_rows for scan in scans] == [1, 1500]


def test_things_to_locate_in_two_chunks_make_a_whole_scan(tmp_path, monkeypatch):
    path = header_and_rows(tmp_path / "k.xlsx", 2000, 1500)
    monkeypatch.setattr(safety, "CHUNK_SIZE", 16 * 1024)  # the header and row 1500 apart
    scans = record_scans(monkeypatch)

    info = inspect_xlsx(path, SHOWN)

    assert facts(info) == {
        "bold_cells": {"Kosten": frozenset({(1, 0), (1, 1)})},
        "struck_cells": {"Kosten": frozenset({(1500, 1)})},
    }
    assert [scan.filled_rows for scan in scans] == [2001]


def test_a_partial_scan_still_refuses_more_rows_than_the_cap(tmp_path, monkeypatch):
    path = header_and_rows(tmp_path / "k.xlsx", 20)
    monkeypatch.setattr(safety, "MAX_FILLED_ROWS", 21)
    assert facts(inspect_xlsx(path, SHOWN)) == {
        "bold_cells": {"Kosten": frozenset({(1, 0), (1, 1)})}
    }
    monkeypatch.setattr(safety, "MAX_FILLED_ROWS", 20)
    assert refused(path).message == "heeft meer dan 20 gevulde rijen."


@pytest.mark.parametrize("chunk", [3, 7, 64, 1024])
def test_facts_split_over_chunks_are_still_found(tmp_path, monkeypatch, chunk):
    """Each sheet has one thing to find, so the quick look must see that one across chunks."""
    styles = (
        "<fonts><font/><font><strike/></font><font><b/></font></fonts>"
        '<cellXfs><xf fontId="0"/><xf fontId="0"/><xf fontId="0"/><xf fontId="1"/>'
        '<xf fontId="2"/></cellXfs>'
    )
    padding = "".join(f'<row r="{n}"><c r="A{n}" s="1"><v>{n}</v></c></row>' for n in range(1, 9))
    sheets = {
        "Verborgen": f'{padding}<row r="9" hidden="1"><c r="A9"><v>9</v></c></row>',
        "Kolom": f'<worksheet xmlns="{MAIN_NS}"><cols><col min="1" max="1" hidden = "true"/>'
        f"</cols><sheetData>{padding}</sheetData></worksheet>",
        "Doorgehaald": f'{padding}<row r="10"><c r="B10" s="3"><v>1</v></c></row>',
        # either quote, spaces and a leading zero: what XML and int() allow
        "Vet": f'{padding}<row r="10"><c r="C10" s = \'04\' t="inlineStr">'
        "<is><t>kop</t></is></c></row>",
    }
    path = hand_written(tmp_path / "k.xlsx", sheets, styles)
    monkeypatch.setattr(safety, "CHUNK_SIZE", chunk)

    info = inspect_xlsx(path, SHOWN)

    assert facts(info) == {
        "hidden_rows": {"Verborgen": frozenset({9})},
        "hidden_columns": {"Kolom": frozenset({0})},
        "struck_cells": {"Doorgehaald": frozenset({(10, 1)})},
        "bold_cells": {"Vet": frozenset({(10, 2)})},
    }


# --- formulas and tables -----------------------------------------------------------------------


def test_every_formula_is_recorded_with_its_text(tmp_path):
    path = tmp_path / "begroting.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Begroting")
    sheet.write_column(1, 1, [100, 200, 300])
    sheet.write_formula("B5", "=SUM(B2:B4)", None, 600)
    sheet.write_formula("C2", "=B2*2", None, 200)
    long_formula = "=" + "+".join(["1"] * 300)  # 599 characters after the "="
    sheet.write_formula("D1", long_formula, None, 300)
    book.add_worksheet("Leeg").write("A1", "geen formules")
    book.close()

    info = inspect_xlsx(path, SHOWN)

    assert info.formulas_without_value == {}  # xlsxwriter wrote the cached values
    assert facts(info) == {
        "formulas": {
            "Begroting": {
                (5, 1): "SUM(B2:B4)",
                (2, 2): "B2*2",
                (1, 3): long_formula[1:501],
            }
        }
    }
    assert len(info.formulas["Begroting"][(1, 3)]) == safety.MAX_FORMULA_CHARS


def test_shared_formulas_and_implied_positions(tmp_path):
    sheet = (
        '<row r="2"><c><v>1</v></c><c><f>A2*2</f></c><c t="str"><f>IF(A2,"","")</f><v></v></c>'
        "</row>"
        '<row><c r="D3"><f t="shared" ref="D3:E3" si="0">A3</f><v>5</v></c>'
        '<c><f t="shared" si="0"/><v>6</v></c></row>'
    )

    info = inspect_xlsx(hand_written(tmp_path / "k.xlsx", sheet), SHOWN)

    assert info.formulas_without_value == {"K": ("B2",)}
    assert facts(info) == {
        "formulas": {"K": {(2, 1): "A2*2", (2, 2): 'IF(A2,"","")', (3, 3): "A3", (3, 4): ""}}
    }


def test_excel_tables_totals_rows(tmp_path):
    path = tmp_path / "begroting.xlsx"
    book = xlsxwriter.Workbook(path)
    budget = book.add_worksheet("Begroting")
    budget.add_table(
        "B2:D6",
        {
            "total_row": True,
            "columns": [
                {"header": "Post", "total_string": "Totaal"},
                {"header": "Code"},
                {"header": "Bedrag", "total_function": "sum", "total_value": 600},
            ],
            "data": [["a", "x", 100], ["b", "y", 200], ["c", "z", 300]],
        },
    )
    budget.add_table("F2:G4", {"data": [[1, 2], [3, 4]]})  # no totals row
    population = book.add_worksheet("Inwoners")
    population.add_table(
        "A1:B4",
        {
            "total_row": True,
            "columns": [{"header": "Code"}, {"header": "Inwoners", "total_function": "sum"}],
            "data": [["DE", 100], ["PN", 50]],
        },
    )
    book.close()

    info = inspect_xlsx(path, SHOWN)

    assert info.table_totals == {"Begroting": frozenset({6}), "Inwoners": frozenset({4})}
    assert info.formulas == {
        "Begroting": {(6, 3): "SUBTOTAL(109,[Bedrag])"},
        "Inwoners": {(4, 1): "SUBTOTAL(109,[Inwoners])"},
    }


def test_openpyxl_table_with_totals_row_count(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Projectkosten"
    sheet.append(["Onderwerp", "Bedrag"])
    sheet.append(["Schoonmaak", 10])
    sheet.append(["Totaal", 10])
    sheet.add_table(Table(displayName="Kosten", ref="A1:B3", totalsRowCount=1))
    other = book.create_sheet("Zonder")
    other.append(["Onderwerp", "Bedrag"])
    other.append(["Energie", 5])
    other.add_table(Table(displayName="Zonder", ref="A1:B2", totalsRowShown=False))

    info = inspect_xlsx(save(book, tmp_path / "kosten.xlsx"), SHOWN)

    assert info.table_totals == {"Projectkosten": frozenset({3})}


# --- caps --------------------------------------------------------------------------------------


def marked_workbook(path: Path) -> Path:
    """Two hidden rows, a hidden column and two struck cells: five marks."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "K"
    filled(sheet, 4)
    sheet.row_dimensions[2].hidden = sheet.row_dimensions[3].hidden = True
    sheet.column_dimensions["B"].hidden = True
    sheet["A1"].font = sheet["C4"].font = Font(strike=True)
    return save(book, path)


def test_more_marks_than_the_cap_are_refused(tmp_path, monkeypatch):
    path = marked_workbook(tmp_path / "k.xlsx")
    monkeypatch.setattr(safety, "MAX_MARKED", 5)
    info = inspect_xlsx(path, SHOWN)
    assert facts(info) == {
        "hidden_rows": {"K": frozenset({2, 3})},
        "hidden_columns": {"K": frozenset({1})},
        "struck_cells": {"K": frozenset({(1, 0), (4, 2)})},
    }

    monkeypatch.setattr(safety, "MAX_MARKED", 4)
    finding = refused(path)
    assert finding.message == (
        "heeft samen meer dan 4 verborgen rijen, verborgen kolommen en doorgehaalde cellen."
    )
    assert finding.fix == (
        "Maak verborgen rijen en kolommen zichtbaar of verwijder ze, haal doorhalingen weg die "
        "niet meer gelden, en sla opnieuw op."
    )


def test_bold_cells_and_formulas_stop_being_recorded_at_their_caps(tmp_path, monkeypatch):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "K"
    for row in range(1, 5):
        sheet.cell(row, 1, f"kop {row}").font = Font(bold=True)
        sheet.cell(row, 2, f"=ROW()*{row}")
    path = save(book, tmp_path / "k.xlsx")
    monkeypatch.setattr(safety, "MAX_BOLD_CELLS", 3)
    monkeypatch.setattr(safety, "MAX_FORMULAS", 2)

    info = inspect_xlsx(path, SHOWN)

    assert info.bold_cells == {"K": frozenset({(1, 0), (2, 0), (3, 0)})}
    assert info.formulas == {"K": {(1, 1): "ROW()*1", (2, 1): "ROW()*2"}}
    # The hints stop; the guard does not: every uncached formula is still listed.
    assert info.formulas_without_value == {"K": ("B1", "B2", "B3", "B4")}


def test_the_caps_are_the_agreed_ones():
    assert safety.MAX_MARKED == 200_000
    assert safety.MAX_BOLD_CELLS == 100_000
    assert safety.MAX_FORMULAS == 10_000
    assert safety.MAX_FORMULA_CHARS == 500
    # 64 MiB of content + local headers and central directory (4 MiB each) + 1 MiB slack
    assert safety.MAX_FILE_BYTES == 73 * MIB


# --- hostile sheet XML that used to crash or hang the scan -------------------------------------


def test_a_million_letter_reference_takes_no_time(tmp_path):
    sheet = f'<row r="1"><c r="{"A" * 1_000_000}1"><v>1</v></c><c><f>1</f></c></row>'
    path = hand_written(tmp_path / "k.xlsx", sheet)

    start = time.perf_counter()
    info = inspect_xlsx(path, SHOWN)

    assert time.perf_counter() - start < 5  # quadratic before: minutes
    assert len(info.formulas_without_value["K"]) == 1


@pytest.mark.parametrize("row", ["²", "9" * 5000])
def test_row_numbers_int_refuses_are_taken_as_implied(tmp_path, row):
    sheet = f'<row r="{row}"><c><f>1</f></c></row><row><c><v>2</v></c><c><f>1</f></c></row>'

    info = inspect_xlsx(hand_written(tmp_path / "k.xlsx", sheet), SHOWN)

    assert info.formulas_without_value == {"K": ("A1", "B2")}


# --- read once (item 8) ------------------------------------------------------------------------


def count_opens(monkeypatch, paths: list[Path]) -> dict[str, int]:
    """How often each of `paths` is opened through Python from now on (open, io.open, and so
    Path.open and Path.read_bytes), by file name. calamine opening a path itself (from_path) is
    Rust and not counted: the test below that replaces the file catches that."""
    counts = {path.name: 0 for path in paths}
    names = {path.resolve(): path.name for path in paths}
    real_open = builtins.open

    def counting(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file).resolve() in names:
            counts[names[Path(file).resolve()]] += 1
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(io, "open", counting)
    return counts


def two_workbooks(folder: Path) -> tuple[Path, Path]:
    """An original workbook, and the version Excel saves over it while we read."""
    first = openpyxl.Workbook()
    first.active.title = "Begroting"
    first.active.append(["Post", "Bedrag"])
    first.active.append(["Netwerk", 1000])
    original = save(first, folder / "Begroting 2024.xlsx")
    second = openpyxl.Workbook()
    second.active.title = "Anders"
    second.active.append(["Post", "Bedrag"])
    second.active.append(["Netwerk", 9999])
    return original, save(second, folder / "nieuw.xlsx")


def test_workbook_is_read_through_one_open(tmp_path, monkeypatch):
    original, _ = two_workbooks(tmp_path)
    expected = hashlib.sha256(original.read_bytes()).hexdigest()
    opened = count_opens(monkeypatch, [original])

    book = Workbook.open(original)

    assert opened == {original.name: 1}
    assert book.sha256 == expected


def test_the_bytes_checked_are_the_bytes_parsed_and_hashed(tmp_path, monkeypatch):
    """Excel saves by writing a new file and renaming it over the old one: when that happens
    between the guard and the parser, the parser and the hash still see what the guard saw."""
    original, newer = two_workbooks(tmp_path)
    original_hash = hashlib.sha256(original.read_bytes()).hexdigest()
    inspect = table.inspect_xlsx_data

    def inspect_then_excel_saves(data: bytes, name: str) -> WorkbookInfo:
        info = inspect(data, name)
        os.replace(newer, original)
        return info

    monkeypatch.setattr(table, "inspect_xlsx_data", inspect_then_excel_saves)
    book = Workbook.open(original)

    assert hashlib.sha256(original.read_bytes()).hexdigest() != original_hash  # it was replaced
    assert book.sha256 == original_hash
    assert book.info.sheet_names == ("Begroting",)
    assert book.rows("Begroting") == [["Post", "Bedrag"], ["Netwerk", 1000.0]]


def test_the_folder_reads_and_hashes_each_workbook_once(tmp_path, monkeypatch):
    folder = jaarplan_folder(tmp_path / "invoer")
    paths = sorted(folder.glob("*.xlsx"))
    expected = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}
    opened = count_opens(monkeypatch, paths)

    loaded = load_folder(folder)

    assert loaded.errors == ()
    assert opened == {path.name: 1 for path in paths}  # before: the guard and sha256_of
    assert loaded.sha256 == expected


def test_a_file_larger_than_any_workbook_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "groot.xlsx"
    with open(path, "wb") as file:
        file.truncate(safety.MAX_FILE_BYTES + 1)  # sparse: nothing written to disk
    reads: list[tuple] = []
    real_open = builtins.open

    class Watched:
        """The opened file, noting every read."""

        def __init__(self, *args):
            self.file = real_open(*args)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.file.close()

        def fileno(self):
            return self.file.fileno()

        def read(self, *args):
            reads.append(args)
            return self.file.read(*args)

    monkeypatch.setattr(safety, "open", Watched, raising=False)

    finding = refused(path)

    assert reads == []
    assert finding.message == (
        "is groter dan 73 MB; zo groot is een kalender of begroting niet, het bestand is niet "
        "geopend."
    )
    with pytest.raises(InputRefused) as caught:
        Workbook.open(path)
    assert caught.value.findings[0].message == finding.message


def test_a_missing_workbook_is_named(tmp_path):
    with pytest.raises(InputRefused) as caught:
        Workbook.open(tmp_path / "Begroting 2024.xlsx")
    (finding,) = caught.value.findings
    assert (finding.location, finding.message) == (
        Location("Begroting 2024.xlsx"),
        "bestaat niet (meer).",
    )


# --- merged cells (item 11) --------------------------------------------------------------------


def merged_workbook(path: Path) -> Path:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Kalender")
    sheet.merge_range("A2:D2", "1. Contractmanagement")
    sheet.write_row(2, 0, [1, "Schoonmaak"])
    book.close()
    return path


def test_merged_ranges_are_read(tmp_path):
    book = Workbook.open(merged_workbook(tmp_path / "kalender.xlsx"))
    assert book.merged_ranges("Kalender") == [((1, 0), (1, 3))]


class _Sheet:
    """A calamine sheet as an older python-calamine (0.3.2) has it: no merged_cell_ranges."""


def test_the_merged_cell_guard_never_switches_itself_off(tmp_path):
    book = Workbook.open(merged_workbook(tmp_path / "kalender.xlsx"))
    book._book = type("Old", (), {"get_sheet_by_name": lambda self, name: _Sheet()})()

    with pytest.raises(AttributeError):
        book.merged_ranges("Kalender")


def test_a_sheet_calamine_cannot_read_is_refused_for_merged_cells_too(tmp_path):
    book = Workbook.open(merged_workbook(tmp_path / "kalender.xlsx"))

    def broken(self, name):
        raise python_calamine.XmlError("bad xml")

    book._book = type("Broken", (), {"get_sheet_by_name": broken})()

    with pytest.raises(InputRefused) as caught:
        book.merged_ranges("Kalender")
    (finding,) = caught.value.findings
    assert (finding.location, finding.message, finding.fix) == (
        Location("kalender.xlsx", "Kalender"),
        "dit werkblad kan niet worden gelezen",
        "Open het bestand in Excel, controleer het werkblad en sla opnieuw op.",
    )


# --- a real spreadsheet program ----------------------------------------------------------------


@requires_libreoffice
def test_facts_of_a_workbook_saved_by_libreoffice(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Begroting"
    sheet.append(["Post", "Code", "Bedrag"])
    for row in range(2, 8):
        sheet.append([f"post {row}", "DE" if row % 2 else "PN", row * 100])
    sheet["C8"] = "=SUM(C2:C7)"
    sheet["A10"] = "los"
    sheet["A1"].font = sheet["B1"].font = sheet["C1"].font = Font(bold=True)
    sheet["A4"].font = Font(strike=True)
    sheet.auto_filter.ref = "A1:C7"
    sheet.auto_filter.add_filter_column(1, ["PN"])
    for row in (3, 5, 7):  # rows with "DE": hidden by the filter
        sheet.row_dimensions[row].hidden = True
    sheet.row_dimensions[10].hidden = True  # below the filter: by hand
    sheet.column_dimensions["B"].hidden = True
    source = save(book, tmp_path / "bron.xlsx")

    saved = libreoffice.convert(source, tmp_path / "libreoffice", "xlsx")
    info = inspect_xlsx(saved, SHOWN)

    assert info.formulas_without_value == {}  # LibreOffice calculated and cached it
    assert facts(info) == {
        "hidden_rows": {"Begroting": frozenset({10})},
        "hidden_columns": {"Begroting": frozenset({1})},
        "struck_cells": {"Begroting": frozenset({(4, 0)})},
        "bold_cells": {"Begroting": frozenset({(1, 0), (1, 1), (1, 2)})},
        "formulas": {"Begroting": {(8, 2): "SUM(C2:C7)"}},
    }
