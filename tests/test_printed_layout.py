"""The shipped 2024 workbooks laid out as the jaarplan prints its tables, against the plain layout.

workbooks/2024 (what the README's commands read) has the jaarplan's titles, intro paragraphs,
section heading rows with their partial headers, total rows and notes; the plain fixture
tests/fixtures/jaarplan-2024-plat holds the same data with one header row per sheet. Both are
written by scripts/maak_werkboeken_2024.py (`--indeling gedrukt` / `--indeling plat`).

Checked here: both folders are exactly what the script writes; the printed workbooks really have
the jaarplan's layout (cell by cell); and both layouts read to the same settlement and
verdeelsleutel. In that comparison the only difference allowed is where a warning points: cell
references (`Kalender › D19` in the plain layout is `Kalender › C22` in the printed one) and row
numbers (`rij 12`) in `waarschuwingen` are replaced by a placeholder before comparing. The
warning's text, and everything else in the JSON, must be identical.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main

from .builders import BUDGET, CALENDAR, JAARPLAN, ROOT, SHIPPED
from .recalc import recalculated_mismatches, requires_libreoffice

SCRIPT = ROOT / "scripts" / "maak_werkboeken_2024.py"
NAMES = [CALENDAR, BUDGET]


def _load_script():
    spec = importlib.util.spec_from_file_location("maak_werkboeken_2024_printed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _load_script()


def sha256(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.glob("*.xlsx"))
    }


# --- both folders are what the script writes --------------------------------------------------


@pytest.mark.parametrize(
    ("arrangement", "committed"),
    [("plat", JAARPLAN), ("gedrukt", SHIPPED), (None, SHIPPED)],
    ids=["plat", "gedrukt", "standaard"],
)
def test_committed_folder_is_byte_identical_to_what_the_script_writes(
    tmp_path, arrangement, committed
):
    folder = tmp_path / "uit"
    choice = ["--indeling", arrangement] if arrangement else []  # the default: gedrukt
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *choice, "--uit", str(folder)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = sha256(folder)
    assert sorted(written) == NAMES  # the same file names in both folders
    assert written == sha256(committed), (
        f"{committed} differs: run scripts/maak_werkboeken_2024.py --indeling {arrangement}"
    )


def test_each_arrangement_has_its_default_folder():
    assert script.FOLDERS == {"gedrukt": SHIPPED, "plat": JAARPLAN}


# --- the printed calendar ---------------------------------------------------------------------

HEADINGS = {
    1: "1. Contractmanagement, evaluaties/verlengingen (eerder regionaal aanbesteed)",
    2: "2. Contractmanagement, aflopende contracten (eerder regionaal aanbesteed)",
    3: "3. Onderwerp/verkenningsmogelijkheden (nog niet eerder regionaal aanbesteed)",
    4: "4. Breed uitzoeken",
}
FULL_HEADER = (
    "Jaar van inventarisatie",
    "Deelnemende gemeenten*",
    "Jaar waarin reeds gezamenlijk is aanbesteed",
)
# 1-based row -> (category, the row's cells A:D) of every section heading row.
HEADING_ROWS = {
    4: (1, (HEADINGS[1], *FULL_HEADER)),
    19: (2, (HEADINGS[2], *FULL_HEADER)),
    25: (3, (HEADINGS[3], "Jaar van inventarisatie", None, None)),  # the jaarplan's page 1
    55: (3, (HEADINGS[3], "Jaar van inventarisatie", None, None)),  # page 2
    84: (3, (HEADINGS[3], "Jaar van inventarisatie", None, None)),  # page 3
    95: (4, (HEADINGS[4], None, None, None)),
}
BLANK_ROWS = (3, 18, 24, 54, 83, 94, 98)
FOOTNOTE_ROW = 99


def row_values(sheet, row: int, columns: int) -> tuple[object, ...]:
    return tuple(sheet.cell(row, column).value for column in range(1, columns + 1))


@pytest.fixture(scope="module")
def calendar():
    return openpyxl.load_workbook(SHIPPED / CALENDAR)


def test_printed_calendar_has_the_title_intro_and_footnote(calendar):
    sheet = calendar["Kalender"]
    assert calendar.sheetnames == ["Kalender", "Gemeenten"]
    assert sheet["A1"].value == "Aanbestedingskalender 2024 Inkoopkracht ZHW"
    assert sheet["A1"].font.b
    intro = sheet["A2"].value
    assert intro.startswith(
        "Onderstaande lijst is een dynamische lijst en zal worden aangevuld met onderwerpen"
    )
    assert intro.endswith("zijn niet in deze lijst opgenomen.")
    assert sheet["A2"].alignment.wrap_text
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A2:D2"]
    for row in BLANK_ROWS:
        assert row_values(sheet, row, 4) == (None,) * 4, f"row {row} is not blank"
    assert sheet.cell(FOOTNOTE_ROW, 1).value == "* Gebruikte afkortingen: zie tabblad Gemeenten"
    assert row_values(sheet, FOOTNOTE_ROW, 4)[1:] == (None,) * 3
    assert sheet.max_row == FOOTNOTE_ROW and sheet.max_column == 4


def test_printed_calendar_has_a_bold_heading_row_per_printed_section(calendar):
    sheet = calendar["Kalender"]
    for row, (_category, cells) in HEADING_ROWS.items():
        assert row_values(sheet, row, 4) == cells, f"row {row}"
        for column, value in enumerate(cells, start=1):
            if value is not None:
                assert sheet.cell(row, column).font.b, f"row {row} column {column} not bold"


def test_printed_calendar_has_no_categorie_column_anywhere(calendar):
    for sheet in calendar.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.value.strip().casefold() != "categorie", cell.coordinate


def test_printed_calendar_subjects_are_the_jaarplans_by_section(calendar):
    """Walk the sheet as a reader of the printout would: a heading gives the category."""
    sheet = calendar["Kalender"]
    subjects = []
    category = None
    for row in range(min(HEADING_ROWS), FOOTNOTE_ROW):
        if row in HEADING_ROWS:
            category = HEADING_ROWS[row][0]
            continue
        cells = row_values(sheet, row, 4)
        if cells == (None,) * 4:
            assert row in BLANK_ROWS, f"unexpected blank row {row}"
            continue
        subjects.append((category, *(value or "" for value in cells)))
    assert subjects == list(script.CALENDAR)
    assert len(subjects) == 83
    # The unknown code ME stays where the jaarplan has it.
    assert sheet["A22"].value == "Leveren Speel- en sporttoestellen"
    assert sheet["C22"].value == "DE, PN, WE, ZM, LV, ME, RW, WS, VS"


def test_printed_legend_is_the_plain_one_below_a_title(calendar):
    sheet = calendar["Gemeenten"]
    plain = openpyxl.load_workbook(JAARPLAN / CALENDAR)["Gemeenten"]
    assert sheet["A1"].value == "Gebruikte afkortingen"
    assert row_values(sheet, 2, 4) == (None,) * 4
    assert list(sheet.iter_rows(min_row=3, values_only=True)) == list(plain.values)


# --- the printed budget -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def budget():
    return openpyxl.load_workbook(SHIPPED / BUDGET)


@pytest.fixture(scope="module")
def budget_cached():
    return openpyxl.load_workbook(SHIPPED / BUDGET, data_only=True)


def test_printed_budget_has_the_sheets_of_the_plain_one(budget):
    assert budget.sheetnames == openpyxl.load_workbook(JAARPLAN / BUDGET).sheetnames


@pytest.mark.parametrize("name", ["Instellingen", "Toetredingen", "Contacten"])
def test_printed_budget_plain_sheets_are_as_in_the_plain_layout(budget, name):
    plain = openpyxl.load_workbook(JAARPLAN / BUDGET)[name]
    assert list(budget[name].values) == list(plain.values)


def test_printed_begroting_has_title_intro_total_and_btw_note(budget, budget_cached):
    sheet, cached = budget["Begroting"], budget_cached["Begroting"]
    assert sheet["A1"].value == "BEGROTING 2024"
    assert sheet["A2"].value.startswith("Het doel van deze begroting is om een helder overzicht")
    assert sheet["A2"].alignment.wrap_text
    assert row_values(sheet, 3, 3) == (None,) * 3
    assert row_values(sheet, 4, 3) == ("Post", "Begroot 2024", "Gerealiseerd")
    posts = [row_values(sheet, row, 3) for row in range(5, 10)]
    assert posts == [(post, int(amount), None) for post, amount in script.BUDGET_POSTS]
    assert sheet["B5"].number_format == '"€" #,##0;"€" -#,##0'
    assert (sheet["A10"].value, sheet["B10"].value) == ("Totaal", "=SUM(B5:B9)")
    assert cached["B10"].value == 131035
    assert sheet["A10"].font.b
    assert sheet["A11"].value == (
        "Genoemde bedragen zijn exclusief BTW en ondervoorbehoud van eventuele "
        "tariefswijzigingen van de leveranciers."
    )
    assert row_values(sheet, 11, 3)[1:] == (None, None)
    assert sheet.max_row == 11


def test_printed_inwoners_has_total_percentages_cbs_note_and_the_others(budget, budget_cached):
    sheet, cached = budget["Inwoners"], budget_cached["Inwoners"]
    assert sheet["A1"].value == "Verdeling 2024 op basis van aantal inwoners per 01-01-2023"
    assert row_values(sheet, 2, 7) == (None,) * 7
    assert row_values(sheet, 3, 7) == (
        "Code", "Gemeente", "Inwoners", "Peildatum", "Netwerk", "Bron", "Percentage",
    )  # fmt: skip
    network = {"DE": 106086, "PN": 57672, "WE": 114887, "ZM": 126998}
    for row, (code, inhabitants) in enumerate(network.items(), start=4):
        assert row_values(sheet, row, 6) == (
            code,
            script.NAMES[code],
            inhabitants,
            datetime(2023, 1, 1),
            "ja",
            "CBS 1-1-2023 (jaarplan 2024)",
        )
        assert sheet.cell(row, 7).value == f"=C{row}/C$8"
        assert sheet.cell(row, 7).number_format == "0.00%"
        assert cached.cell(row, 7).value == inhabitants / 405643
    assert [round(cached.cell(row, 7).value * 100, 2) for row in range(4, 8)] == [
        26.15, 14.22, 28.32, 31.31,
    ]  # fmt: skip
    assert row_values(sheet, 8, 7) == (
        None, "Totaal inwoners", "=SUM(C4:C7)", None, None, None, "=SUM(G4:G7)",
    )  # fmt: skip
    assert cached["C8"].value == 405643
    assert f"{cached['G8'].value:.4f}" == "1.0000"  # 100,00 %
    assert sheet["A9"].value == "Stand CBS 01-01-2023"
    assert row_values(sheet, 9, 7)[1:] == (None,) * 6
    assert row_values(sheet, 10, 7) == (None,) * 7
    assert sheet["A11"].value == (
        "Overige deelnemende gemeenten (voorbeeldcijfers, geen CBS-cijfers)"
    )
    assert sheet["A11"].font.b
    others = [row_values(sheet, row, 7) for row in range(12, 19)]
    assert others == [
        (code, script.NAMES[code], count, datetime(2023, 1, 1), "nee", script.EXAMPLE_SOURCE, None)
        for code, count in script.EXAMPLE_POPULATION.items()
    ]
    assert sheet.max_row == 18


def test_printed_projectkosten_has_a_total_row(budget, budget_cached):
    sheet, cached = budget["Projectkosten"], budget_cached["Projectkosten"]
    plain = list(openpyxl.load_workbook(JAARPLAN / BUDGET)["Projectkosten"].values)
    assert list(sheet.iter_rows(max_row=6, values_only=True)) == plain
    assert row_values(sheet, 7, 6) == (None, None, "Totaal", None, "=SUM(E2:E6)", None)
    assert cached["E7"].value == 28225.5  # 12.500 + 4.250 + 3.600 + 1.875,50 + 6.000
    assert sheet.max_row == 7


def test_every_formula_in_the_printed_workbooks_has_a_cached_value():
    for name in NAMES:
        formulas = openpyxl.load_workbook(SHIPPED / name)
        cached = openpyxl.load_workbook(SHIPPED / name, data_only=True)
        for sheet in formulas.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        where = f"{name} › {sheet.title} › {cell.coordinate}"
                        assert cell.data_type == "f", where
                        assert cached[sheet.title][cell.coordinate].value is not None, where


@requires_libreoffice
def test_printed_budget_formulas_recalculate_to_their_cached_values(tmp_path):
    assert recalculated_mismatches(SHIPPED / BUDGET, tmp_path) == []


# --- both layouts read to the same results ----------------------------------------------------

_CELL = re.compile(r"(›\s*)\$?[A-Z]{1,3}\$?[0-9]+(?::\$?[A-Z]{1,3}\$?[0-9]+)?")
_ROW = re.compile(r"\brij [0-9]+(?:-[0-9]+)?")


_LAYOUT_FOLDER = re.compile(r"[/\\](?:gedrukt|plat)[/\\]")


def normalised(report: dict) -> dict:
    """The JSON report with cell references and row numbers in `waarschuwingen` replaced, and the
    name of the test's copy folder ('gedrukt' or 'plat') where a warning quotes an output path."""
    report = dict(report)
    report["waarschuwingen"] = [
        _LAYOUT_FOLDER.sub("/<map>/", _ROW.sub("rij <rij>", _CELL.sub(r"\1<cel>", text)))
        for text in report["waarschuwingen"]
    ]
    return report


def run_json(*arguments: str) -> dict:
    result = CliRunner().invoke(main, list(arguments))
    assert result.exit_code == 0, f"inkoopkracht-xl {' '.join(arguments)}:\n{result.output}"
    return json.loads(result.stdout)


@pytest.fixture
def folders(tmp_path) -> dict[str, Path]:
    """Copies of both layouts: the command writes nothing into the committed folders."""
    copies = {}
    for arrangement, source in (("plat", JAARPLAN), ("gedrukt", SHIPPED)):
        copies[arrangement] = tmp_path / arrangement / "invoer"
        shutil.copytree(source, copies[arrangement])
    return copies


def settle(folder: Path, period: str, date: str) -> dict:
    out = folder.parent / "uit"
    return run_json(
        "afrekening", str(folder), "--periode", period, "--json", "--uit", str(out), "--datum", date
    )


def test_both_layouts_give_the_same_h1_settlement(folders):
    plain = settle(folders["plat"], "2024-H1", "01-07-2024")
    printed = settle(folders["gedrukt"], "2024-H1", "01-07-2024")
    assert plain["waarschuwingen"], "the plain layout warns about ME: the comparison covers it"
    assert normalised(printed) == normalised(plain)


def test_both_layouts_give_the_same_h2_settlement_after_h1(folders):
    reports = {}
    for arrangement, folder in folders.items():
        settle(folder, "2024-H1", "01-07-2024")
        reports[arrangement] = settle(folder, "2024-H2", "15-01-2025")
    assert normalised(reports["gedrukt"]) == normalised(reports["plat"])


def test_both_layouts_give_the_same_verdeelsleutel(folders):
    plain = run_json("verdeling", str(folders["plat"]), "--json")
    printed = run_json("verdeling", str(folders["gedrukt"]), "--json")
    assert normalised(printed) == normalised(plain)
