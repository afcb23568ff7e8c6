"""The verdeelsleutel in the terminal, in JSON and in the overview workbook, read back by meaning."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from inkoopkracht_xl.allocate import participation_matrix
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.model import Calendar, Municipality, Subject
from inkoopkracht_xl.write import overview as overview_module
from inkoopkracht_xl.write.styles import MONEY, PERCENT, WORKBOOK_OPTIONS, Styles

from .builders import BUDGET, CALENDAR, JAARPLAN, SHIPPED, jaarplan_folder, set_cells

# The jaarplan 2024's table (Kostenverdeling op basis van CBS-cijfers), our golden test.
GOLDEN = [
    ("DE", "Delft", 106086, "26.15", "34266.00"),
    ("PN", "Pijnacker-Nootdorp", 57672, "14.22", "18633.00"),
    ("WE", "Westland", 114887, "28.32", "37109.00"),
    ("ZM", "Zoetermeer", 126998, "31.31", "41027.00"),
]


def test_verdeling_prints_the_jaarplan_table():
    # The README's `verdeling workbooks/2024`: the shipped workbooks, laid out as printed.
    result = CliRunner().invoke(main, ["verdeling", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "DE    Delft                106.086     26,15 %    € 34.266,00" in lines
    assert "PN    Pijnacker-Nootdorp    57.672     14,22 %    € 18.633,00" in lines
    assert "WE    Westland             114.887     28,32 %    € 37.109,00" in lines
    assert "ZM    Zoetermeer           126.998     31,31 %    € 41.027,00" in lines
    assert "      Totaal               405.643    100,00 %   € 131.035,00" in lines


def test_verdeling_json_has_decimal_strings():
    result = CliRunner().invoke(main, ["verdeling", str(JAARPLAN), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["jaar"] == 2024
    assert report["totaal"] == "131035.00"
    assert [
        (s["code"], s["gemeente"], s["inwoners"], s["percentage"], s["bedrag"])
        for s in report["verdeelsleutel"]
    ] == GOLDEN
    assert report["waarschuwingen"][0].startswith("WAARSCHUWING  Aanbestedingskalender 2024.xlsx")


def test_verdeling_refuses_inputs_with_errors(tmp_path):
    folder = jaarplan_folder(tmp_path / "in")
    set_cells(folder / BUDGET, "Inwoners", {"C2": "ca. 106.000"})
    result = CliRunner().invoke(
        main, ["verdeling", str(folder), "--overzicht", str(tmp_path / "o.xlsx")]
    )
    assert result.exit_code == 1
    assert "Inwoners › C2: 'ca. 106.000' is geen heel getal." in result.output
    assert not (tmp_path / "o.xlsx").exists()


@pytest.fixture(scope="module")
def overview(tmp_path_factory):
    path = tmp_path_factory.mktemp("uit") / "overzicht.xlsx"
    result = CliRunner().invoke(main, ["verdeling", str(JAARPLAN), "--overzicht", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_overview_has_the_sheets_in_order(overview):
    book = openpyxl.load_workbook(overview)
    assert book.sheetnames == ["Verdeelsleutel", "Deelnamematrix", "Samenwerking", "Verantwoording"]


def test_overview_key_sheet_holds_the_golden_table(overview):
    sheet = openpyxl.load_workbook(overview)["Verdeelsleutel"]
    values = openpyxl.load_workbook(overview, data_only=True)["Verdeelsleutel"]
    assert [c.value for c in sheet[4]] == [
        "Code",
        "Gemeente",
        "Inwoners",
        "Percentage",
        "Bijdrage 2024",
    ]
    rows = [[c.value for c in sheet[r]] for r in range(5, 9)]
    # Percentages are stored as fractions (0.2615) and shown as 26,15 % by the format.
    assert rows == [
        [code, name, people, float(pct) / 100, float(amount)]
        for code, name, people, pct, amount in GOLDEN
    ]
    assert sheet["D5"].number_format == PERCENT and sheet["E5"].number_format == MONEY
    # The totals are formulas that carry their computed value.
    assert sheet["C9"].value == "=SUM(C5:C8)" and values["C9"].value == 405643
    assert sheet["D9"].value == "=SUM(D5:D8)" and values["D9"].value == 1
    assert sheet["E9"].value == "=SUM(E5:E8)" and values["E9"].value == 131035
    checks = [
        values[f"E{r}"].value
        for r in range(1, sheet.max_row + 1)
        if sheet[f"E{r}"].value and str(sheet[f"E{r}"].value).startswith("=IF(")
    ]
    assert checks == ["OK", "OK"]
    assert sheet.freeze_panes == "A5"


def test_overview_matrix_shows_me_as_unknown(overview):
    sheet = openpyxl.load_workbook(overview)["Deelnamematrix"]
    values = openpyxl.load_workbook(overview, data_only=True)["Deelnamematrix"]
    header = [c.value for c in sheet[5]]
    assert header[:3] == ["Cat.", "Onderwerp", "Jaar van inventarisatie"]
    assert header[3:] == [
        "DE",
        "PN",
        "WE",
        "ZM",
        "CP",
        "LS",
        "LV",
        "MD",
        "RW",
        "VS",
        "WS",
        "ME",
        "Aantal",
    ]
    groups = [c.value for c in sheet[4]]
    assert (
        groups[3] == "Kerngemeenten" and groups[7] == "Extra gemeenten" and groups[14] == "Onbekend"
    )
    rows = {sheet.cell(r, 2).value: r for r in range(6, sheet.max_row + 1)}
    speel = rows["Leveren Speel- en sporttoestellen"]
    marks = {header[c - 1] for c in range(4, 16) if sheet.cell(speel, c).value == "x"}
    assert marks == {"DE", "PN", "WE", "ZM", "LV", "ME", "RW", "WS", "VS"}
    assert sheet.cell(speel, 16).value.startswith("=COUNTIF(") and values.cell(speel, 16).value == 9
    totals = rows["Aantal aanbestedingen per gemeente"]
    # Counted in the seed: DE takes part in 11 subjects, WE and ZM in 13, ME in 1.
    assert values.cell(totals, 4).value == 11
    assert values.cell(totals, 6).value == 13 and values.cell(totals, 7).value == 13
    assert values.cell(totals, 15).value == 1
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    # Fit to one page wide (1 is the default and not written), as many pages tall as needed.
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$4:$5"


def test_overview_collaboration_counts(overview):
    sheet = openpyxl.load_workbook(overview)["Samenwerking"]
    codes = [c.value for c in sheet[4]][2:13]
    assert codes == ["DE", "PN", "WE", "ZM", "CP", "LS", "LV", "MD", "RW", "VS", "WS"]
    cell = {
        (sheet.cell(5 + i, 1).value, codes[j]): sheet.cell(5 + i, 3 + j).value
        for i in range(11)
        for j in range(11)
    }
    assert cell["DE", "DE"] == 11
    assert cell["DE", "WE"] == cell["WE", "DE"] == 8  # counted in the seed's calendar
    assert cell["CP", "LS"] is None  # no shared tender: left empty


def test_collaboration_beyond_60_municipalities_shows_each_pair_once(tmp_path):
    # 62 municipalities: the sheet keeps the diagonal and what lies right of it. Subjects by
    # hand: G01+G02 twice, G01+G61 once, G02 alone once.
    municipalities = tuple(Municipality(f"G{i:02d}", f"Gemeente {i}", i < 4) for i in range(62))
    subjects = (
        Subject(1, "Een", "", ("G01", "G02")),
        Subject(1, "Twee", "", ("G02", "G01")),
        Subject(1, "Drie", "", ("G61", "G01")),
        Subject(1, "Vier", "", ("G02",)),
    )
    calendar = Calendar(municipalities, subjects)
    path = tmp_path / "samenwerking.xlsx"
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    overview_module._collaboration_sheet(
        workbook,
        Styles(workbook),
        SimpleNamespace(calendar=calendar),
        participation_matrix(calendar),
    )
    workbook.close()

    sheet = openpyxl.load_workbook(path)["Samenwerking"]
    assert "Elk paar staat één keer, rechts van de diagonaal." in sheet["A2"].value
    # Row 5 is G00, so G01 is row 6 and G02 row 7; column C is G00, so G01 is D, G02 E, G61 BL.
    assert (sheet["D6"].value, sheet["E6"].value, sheet["BL6"].value) == (3, 2, 1)
    assert (sheet["D7"].value, sheet["E7"].value) == (None, 3)  # left of the diagonal: empty
    assert sheet["D66"].value is None and sheet["BL66"].value == 1  # G61: only its diagonal


def test_overview_audit_lists_inputs_with_their_sha256(overview):
    sheet = openpyxl.load_workbook(overview)["Verantwoording"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    for name in (CALENDAR, BUDGET):
        digest = hashlib.sha256((JAARPLAN / name).read_bytes()).hexdigest()
        assert any(row[1] == name and row[3] == digest for row in cells)
    assert ["Verdeelmethode", "procent", None, None] in cells
    assert any(row[0] == "WAARSCHUWING" and "ME" in row[2] for row in cells)


def test_user_text_is_never_a_formula(tmp_path):
    folder = jaarplan_folder(tmp_path / "in")
    # Text in the input that looks like a formula (typed with a leading apostrophe in Excel).
    set_cells(
        folder / CALENDAR,
        "Kalender",
        {"B4": '=HYPERLINK("http://example.org","klik")'},
        as_text=True,
    )
    set_cells(folder / BUDGET, "Inwoners", {"B2": "@Delft"}, as_text=True)
    path = tmp_path / "o.xlsx"
    result = CliRunner().invoke(main, ["verdeling", str(folder), "--overzicht", str(path)])
    assert result.exit_code == 0, result.output
    matrix = openpyxl.load_workbook(path)["Deelnamematrix"]
    cell = next(c for c in matrix["B"] if c.value and "HYPERLINK" in str(c.value))
    assert cell.data_type == "s"
    key = openpyxl.load_workbook(path)["Verdeelsleutel"]
    assert key["B5"].value == "@Delft" and key["B5"].data_type == "s"
