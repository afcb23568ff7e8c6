"""Input workbooks written from the layout: the templates and the committed 2024 workbooks.

The 2024 checks read the plain layout (tests/fixtures/jaarplan-2024-plat); the printed layout in
workbooks/2024 holds the same data (tests/test_printed_layout.py).
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from inkoopkracht_xl import layout
from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.layout import SheetLayout
from inkoopkracht_xl.templates import (
    BUDGET_TEMPLATE_NAME,
    CALENDAR_TEMPLATE_NAME,
    EXPLANATION_SHEET,
    write_input_workbook,
    write_templates,
)

ROOT = Path(__file__).resolve().parent.parent
WORKBOOKS_2024 = ROOT / "tests" / "fixtures" / "jaarplan-2024-plat"
CALENDAR_2024 = WORKBOOKS_2024 / "Aanbestedingskalender 2024.xlsx"
BUDGET_2024 = WORKBOOKS_2024 / "Begroting 2024.xlsx"
SCRIPT = ROOT / "scripts" / "maak_werkboeken_2024.py"


def headers(sheet: SheetLayout) -> list[str]:
    return [column.header for column in sheet.columns]


def header_row(worksheet, sheet: SheetLayout) -> int:
    """The 1-based row holding the layout's headers, searched in the first 15 rows like the reader."""
    wanted = headers(sheet)
    for row in range(1, 16):
        values = [worksheet.cell(row, col).value for col in range(1, len(wanted) + 1)]
        if values == wanted:
            return row
    raise AssertionError(f"{worksheet.title}: no header row {wanted}")


def records(path: Path, sheet: SheetLayout) -> list[dict[str, object]]:
    """The data rows of one sheet as {column key: value}."""
    worksheet = openpyxl.load_workbook(path)[sheet.name]
    first = header_row(worksheet, sheet) + 1
    keys = [column.key for column in sheet.columns]
    rows = worksheet.iter_rows(min_row=first, max_col=len(keys), values_only=True)
    return [dict(zip(keys, row, strict=True)) for row in rows if any(v is not None for v in row)]


def validations(worksheet) -> dict[str, str]:
    """Each data validation's cell range -> its list source."""
    return {str(dv.sqref): dv.formula1 for dv in worksheet.data_validations.dataValidation}


def load_script():
    spec = importlib.util.spec_from_file_location("maak_werkboeken_2024", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- templates -------------------------------------------------------------------------------


@pytest.fixture
def templates(tmp_path: Path) -> dict[str, openpyxl.Workbook]:
    calendar, budget = write_templates(tmp_path)
    assert (calendar.name, budget.name) == (CALENDAR_TEMPLATE_NAME, BUDGET_TEMPLATE_NAME)
    return {"calendar": openpyxl.load_workbook(calendar), "budget": openpyxl.load_workbook(budget)}


@pytest.mark.parametrize(
    ("role", "sheets"), [("calendar", layout.CALENDAR_SHEETS), ("budget", layout.BUDGET_SHEETS)]
)
def test_template_has_uitleg_then_the_layout_sheets_with_headers_only(templates, role, sheets):
    workbook = templates[role]
    assert workbook.sheetnames == [EXPLANATION_SHEET] + [sheet.name for sheet in sheets]
    for sheet in sheets:
        worksheet = workbook[sheet.name]
        assert [c.value for c in worksheet[1]] == headers(sheet)
        assert worksheet.freeze_panes == "A2"
        assert worksheet.auto_filter.ref.startswith("A1:")
        if sheet is not layout.INSTELLINGEN:
            assert worksheet.max_row == 1, f"{sheet.name} should hold headers only"


def test_budget_template_lists_every_settings_key_with_empty_value(templates):
    worksheet = templates["budget"][layout.INSTELLINGEN.name]
    rows = list(worksheet.iter_rows(min_row=2, values_only=True))
    assert [key for key, _value, _note in rows] == [dutch for _k, dutch, *_ in layout.SETTINGS_KEYS]
    assert all(value is None for _key, value, _note in rows)
    # Examples only in the Opmerking column, marked as such, never as a value to be read.
    notes = {key: note for key, _value, note in rows}
    assert notes["IBAN"] == "bijvoorbeeld NL91 ABNA 0417 1643 00 (voorbeeld, geen echte rekening)"
    assert notes["OIN"] == "20 cijfers als tekst, bijvoorbeeld 00000000000000000001 (voorbeeld)"


def test_template_drop_downs_follow_the_layout_choices(templates):
    calendar, budget = templates["calendar"], templates["budget"]
    # Categorie is column A, Rol column C, Netwerk column E, Verdeling column F; 1,000 rows.
    assert validations(calendar[layout.KALENDER.name]) == {"A2:A1001": '"1,2,3,4"'}
    assert validations(calendar[layout.GEMEENTEN.name]) == {"C2:C1001": '"kern,extra"'}
    assert validations(budget[layout.INWONERS.name]) == {"E2:E1001": '"ja,nee"'}
    assert validations(budget[layout.PROJECTKOSTEN.name]) == {"F2:F1001": '"inwoners,gelijk"'}
    # Verdeelmethode and Afronding are the 3rd and 4th keys: rows 4 and 5; Btw, E-factuur and
    # Creditnota the 18th, 20th and 24th (issue 13).
    assert validations(budget[layout.INSTELLINGEN.name]) == {
        "B4": '"procent,exact"',
        "B5": '"euro,cent"',
        "B19": '"O,E"',
        "B21": '"peppol,si-ubl,nee"',
        "B25": '"verrekenen,terugbetalen"',
    }
    # Gemeenten lives in the other workbook: no code drop-downs that would point nowhere.
    assert validations(budget[layout.CONTACTEN.name]) == {}
    assert validations(budget[layout.TOETREDINGEN.name]) == {}


def test_code_drop_downs_point_at_gemeenten_when_in_the_same_workbook(tmp_path):
    path = write_input_workbook(
        tmp_path / "alles.xlsx",
        (layout.GEMEENTEN, layout.INSTELLINGEN, layout.INWONERS, layout.TOETREDINGEN),
        {layout.INSTELLINGEN.name: [["Penvoerder", "ZM"]]},
        title=None,
        explanation_sheet=False,
    )
    workbook = openpyxl.load_workbook(path)
    codes = "Gemeenten!$A$2:$A$1001"
    assert validations(workbook[layout.INWONERS.name])["A2:A1001"] == codes
    assert validations(workbook[layout.TOETREDINGEN.name]) == {"B2:B1001": codes}
    assert validations(workbook[layout.INSTELLINGEN.name]) == {"B2": codes}


def test_uitleg_explains_every_sheet_column_and_setting(templates):
    for role, sheets in (("calendar", layout.CALENDAR_SHEETS), ("budget", layout.BUDGET_SHEETS)):
        worksheet = templates[role][EXPLANATION_SHEET]
        texts = [v for row in worksheet.iter_rows(values_only=True) for v in row if v]
        for sheet in sheets:
            assert f"Blad {sheet.name}" in texts
            for column in sheet.columns:
                assert column.explanation in texts
        assert worksheet.column_dimensions["B"].width > 80
        assert worksheet["B4"].alignment.wrap_text
    budget_texts = [v for row in templates["budget"][EXPLANATION_SHEET].values for v in row if v]
    for _key, _dutch, _required, explanation, _choices in layout.SETTINGS_KEYS:
        assert explanation in budget_texts


def test_templates_refuse_to_overwrite_and_write_nothing(tmp_path):
    existing = tmp_path / BUDGET_TEMPLATE_NAME
    existing.write_bytes(b"ingevuld werkboek")
    with pytest.raises(InputRefused) as refused:
        write_templates(tmp_path)
    assert str(refused.value) == (
        f"FOUT  {existing}: bestaat al. Kies een lege map of verwijder het bestand."
    )
    assert existing.read_bytes() == b"ingevuld werkboek"
    # Refused before writing: the calendar template was not written either, no temporary files.
    assert sorted(p.name for p in tmp_path.iterdir()) == [BUDGET_TEMPLATE_NAME]


def test_templates_refuse_a_second_run(tmp_path):
    first = [p.read_bytes() for p in write_templates(tmp_path)]
    with pytest.raises(InputRefused):
        write_templates(tmp_path)
    assert [p.read_bytes() for p in sorted(tmp_path.iterdir())] == first


# --- write_input_workbook ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=SUM(A1:A3)", "+31 15 260 2222", "-korting", "@gemeente"])
def test_user_text_starting_with_formula_characters_stays_text(tmp_path, text):
    path = write_input_workbook(
        tmp_path / "kalender.xlsx",
        [layout.KALENDER],
        {layout.KALENDER.name: [[3, text, "2024", "DE", None]]},
        title=None,
        explanation_sheet=False,
    )
    cell = openpyxl.load_workbook(path)[layout.KALENDER.name]["B2"]
    assert cell.data_type == "s"
    assert cell.value == text


def test_values_are_written_as_numbers_and_dates_with_dutch_formats(tmp_path):
    path = write_input_workbook(
        tmp_path / "begroting.xlsx",
        [layout.BEGROTING, layout.INWONERS],
        {
            layout.BEGROTING.name: [["Onvoorzien", Decimal("3685.50"), None]],
            layout.INWONERS.name: [["DE", "Delft", 106086, date(2023, 1, 1), "ja", None]],
        },
        title="Begroting",
        explanation_sheet=False,
    )
    workbook = openpyxl.load_workbook(path)
    # The title goes above the first sheet's header, then a blank row.
    begroting = workbook[layout.BEGROTING.name]
    assert begroting["A1"].value == "Begroting"
    assert header_row(begroting, layout.BEGROTING) == 3
    assert begroting.freeze_panes == "A4"
    amount = begroting["B4"]
    assert (amount.value, amount.data_type) == (3685.5, "n")
    assert amount.number_format == '"€" #,##0.00;"€" -#,##0.00'
    inwoners = workbook[layout.INWONERS.name]
    assert header_row(inwoners, layout.INWONERS) == 1
    assert (inwoners["C2"].value, inwoners["C2"].number_format) == (106086, "#,##0")
    assert inwoners["D2"].value == datetime(2023, 1, 1)
    assert inwoners["D2"].number_format == "dd-mm-yyyy"
    assert inwoners["F2"].value is None


def test_same_rows_and_creation_date_give_identical_files(tmp_path):
    rows = {layout.BEGROTING.name: [["Onvoorzien", Decimal("2000"), None]]}
    paths = [
        write_input_workbook(
            tmp_path / name,
            [layout.BEGROTING],
            rows,
            title=None,
            explanation_sheet=True,
            created=datetime(2024, 1, 1),
        )
        for name in ("a.xlsx", "b.xlsx")
    ]
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_rows_for_a_sheet_that_is_not_written_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Begroting"):
        write_input_workbook(
            tmp_path / "x.xlsx",
            [layout.KALENDER],
            {layout.BEGROTING.name: []},
            title=None,
            explanation_sheet=False,
        )
    assert list(tmp_path.iterdir()) == []


# --- the committed 2024 workbooks (plain layout) -------------------------------------------


def test_calendar_2024_has_the_jaarplan_title_and_every_subject_per_category():
    worksheet = openpyxl.load_workbook(CALENDAR_2024)[layout.KALENDER.name]
    assert worksheet["A1"].value == "Aanbestedingskalender 2024 Inkoopkracht ZHW"
    subjects = records(CALENDAR_2024, layout.KALENDER)
    # Counted by hand in the jaarplan's Bijlage I:
    #   1 contractmanagement, evaluaties/verlengingen: 13 (Aardgas … Woningaanpassingen perceel 2)
    #   2 aflopende contracten: 4 (Deuropeners, Dieptereiniging, Speel- en sporttoestellen,
    #     Multifunctionals)
    #   3 verkenning: 28 with year 2024 (page 1) + 27 + 9 "Nader te bepalen" (pages 2, 3) = 64
    #   4 breed uitzoeken: 2 (Telefonie, Zorg)
    # 13 + 4 + 64 + 2 = 83 subjects.
    assert Counter(row["category"] for row in subjects) == {1: 13, 2: 4, 3: 64, 4: 2}
    names = [row["subject"] for row in subjects]
    assert len(set(names)) == len(names) == 83
    assert all(isinstance(name, str) and "  " not in name for name in names)
    assert {row["inventory_year"] for row in subjects} == {
        "2024",
        "2023/2024",
        "Nader te bepalen",
        None,
    }


def test_calendar_2024_keeps_the_seed_text_and_the_unknown_code_me():
    by_subject = {row["subject"]: row for row in records(CALENDAR_2024, layout.KALENDER)}
    play = by_subject["Leveren Speel- en sporttoestellen"]
    assert play["participants"] == "DE, PN, WE, ZM, LV, ME, RW, WS, VS"
    assert "ME" in play["participants"].split(", ")
    post = by_subject["Drukken en verzenden verkiezingspost (post- en koeriersdiensten perceel 3)"]
    assert (post["inventory_year"], post["participants"], post["joint_year"]) == (
        "2024",
        "WE, ZM",
        "2022",
    )
    assert by_subject["Aardgas en energie - Externe deskundige (Hellemans)"]["inventory_year"] == (
        "2023/2024"
    )
    assert by_subject["Zorg"]["inventory_year"] is None


def test_calendar_2024_gemeenten_is_the_jaarplan_legend_without_invented_cbs_codes():
    legend = records(CALENDAR_2024, layout.GEMEENTEN)
    assert [(r["code"], r["role"]) for r in legend] == [
        ("DE", "kern"), ("PN", "kern"), ("WE", "kern"), ("ZM", "kern"),
        ("CP", "extra"), ("LS", "extra"), ("LV", "extra"), ("MD", "extra"),
        ("RW", "extra"), ("VS", "extra"), ("WS", "extra"),
    ]  # fmt: skip
    assert all(r["cbs_code"] is None for r in legend)


def test_budget_2024_total_is_the_jaarplan_total():
    posts = records(BUDGET_2024, layout.BEGROTING)
    # 120.000 + 5.000 + 3.685 + 350 + 2.000 = 131.035
    total = sum((Decimal(str(p["budgeted"])) for p in posts), Decimal(0))
    assert total == Decimal("131035")
    assert len(posts) == 5
    assert all(p["realised"] is None for p in posts)


def test_budget_2024_populations_of_the_network_are_the_cbs_figures():
    populations = {r["code"]: r for r in records(BUDGET_2024, layout.INWONERS)}
    network = {code: r["inhabitants"] for code, r in populations.items() if r["network"] == "ja"}
    assert network == {"DE": 106086, "PN": 57672, "WE": 114887, "ZM": 126998}
    # 106.086 + 57.672 + 114.887 + 126.998 = 405.643 ("Totaal inwoners" in the jaarplan)
    assert sum(network.values()) == 405643
    assert {r["reference_date"] for r in populations.values()} == {datetime(2023, 1, 1)}
    assert len(populations) == 11


def test_budget_2024_examples_name_calendar_subjects_and_a_listed_joiner():
    subjects = {
        row["subject"]: row["participants"] for row in records(CALENDAR_2024, layout.KALENDER)
    }
    known = {row["code"] for row in records(CALENDAR_2024, layout.GEMEENTEN)}
    for line in records(BUDGET_2024, layout.PROJECTKOSTEN):
        assert "(voorbeeld)" in line["description"]
        assert set(subjects[line["subject"]].split(", ")) <= known
    (join,) = records(BUDGET_2024, layout.TOETREDINGEN)
    assert join["code"] in subjects[join["subject"]].split(", ")
    settings = {r["key"]: r["value"] for r in records(BUDGET_2024, layout.INSTELLINGEN)}
    assert settings["Jaar"] == 2024 and settings["Penvoerder"] == "ZM"


def test_committed_2024_workbooks_are_what_the_script_writes(tmp_path):
    script = load_script()
    written = script.write_workbooks(tmp_path, script.PLAIN)
    for path in written:
        committed = openpyxl.load_workbook(WORKBOOKS_2024 / path.name)
        fresh = openpyxl.load_workbook(path)
        assert committed.sheetnames == fresh.sheetnames
        for name in fresh.sheetnames:
            assert list(committed[name].values) == list(fresh[name].values), (
                f"{path.name} › {name} differs: run scripts/maak_werkboeken_2024.py --indeling plat"
            )
