"""Reading the drop folder: the jaarplan's workbooks, and the same data as coordinators really type it."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main
from inkoopkracht_xl.model import Level
from inkoopkracht_xl.validate import load_folder

from .builders import BUDGET, CALENDAR, JAARPLAN, edit, fingerprint, jaarplan_folder


def test_jaarplan_calendar_has_the_seeds_subjects_per_category():
    loaded = load_folder(JAARPLAN)
    assert loaded.inputs is not None
    calendar = loaded.inputs.calendar
    # Counted in the seed: category 1 has 13 subjects, 2 has 4, 3 has 28 (2024) + 27 + 9
    # ("Nader te bepalen", two pages) = 64, and 4 has Telefonie and Zorg.
    assert Counter(s.category for s in calendar.subjects) == {1: 13, 2: 4, 3: 64, 4: 2}
    assert len(calendar.municipalities) == 11
    assert [m.code for m in calendar.municipalities if m.core] == ["DE", "PN", "WE", "ZM"]
    speel = calendar.subject("Leveren Speel- en sporttoestellen")
    assert speel.participants == ("DE", "PN", "WE", "ZM", "LV", "ME", "RW", "WS", "VS")
    assert calendar.subject(
        "Aardgas en energie - Externe deskundige (Hellemans)"
    ).inventory_year == ("2023/2024")
    assert calendar.subject("Zonnepanelen").inventory_year == "Nader te bepalen"
    assert calendar.subject("Telefonie").inventory_year == ""


def test_jaarplan_budget_reads_the_jaarplans_figures():
    budget = load_folder(JAARPLAN).inputs.budget
    assert budget.settings.year == 2024
    assert budget.settings.lead == "ZM"
    assert budget.total_budgeted == Decimal("131035")  # 120.000 + 5.000 + 3.685 + 350 + 2.000
    network = {p.code: p.inhabitants for p in budget.populations if p.network}
    assert network == {"DE": 106086, "PN": 57672, "WE": 114887, "ZM": 126998}
    assert sum(network.values()) == 405643
    assert {p.reference_date for p in budget.populations} == {date(2023, 1, 1)}
    assert [c.reference for c in budget.cost_lines] == [f"VB-2024-00{i}" for i in range(1, 6)]
    assert budget.cost_lines[3].amount == Decimal("1875.50")
    assert [(j.subject, j.code, j.date) for j in budget.joins] == [
        ("Dieptereiniging ICT hardware", "MD", date(2024, 4, 1))
    ]


def test_controleer_jaarplan_passes_and_reports_me_at_its_cell():
    result = CliRunner().invoke(main, ["controleer", str(JAARPLAN)])
    assert result.exit_code == 0, result.output
    assert (
        "WAARSCHUWING  Aanbestedingskalender 2024.xlsx › Kalender › D19: onbekende gemeentecode "
        "'ME' bij 'Leveren Speel- en sporttoestellen'"
    ) in result.output
    assert "Goedgekeurd: 0 fouten, 1 waarschuwing." in result.output


def test_controleer_json_lists_the_findings():
    result = CliRunner().invoke(main, ["controleer", str(JAARPLAN), "--json"])
    assert result.exit_code == 0
    import json

    report = json.loads(result.output)
    assert report["fouten"] == 0
    assert report["bevindingen"] == [
        {
            "niveau": "WAARSCHUWING",
            "bestand": CALENDAR,
            "werkblad": "Kalender",
            "cel": "D19",
            "melding": "onbekende gemeentecode 'ME' bij 'Leveren Speel- en sporttoestellen'",
            "oplossing": "Voeg de code toe aan het werkblad Gemeenten of verbeter de code; "
            "zolang er geen kosten aan hangen telt deze gemeente niet mee.",
        }
    ]


def make_messy(folder: Path) -> Path:
    """The jaarplan as coordinators really keep it: same data, typed and pasted the human way.

    - other file names, an Excel owner file of the open budget, a .docx and Thumbs.db beside them;
    - Kalender: the header repeated mid-sheet (pasted page by page from the PDF), categories as
      text, codes in lower case with mixed separators, an empty row, odd header spacing;
    - Begroting/Inwoners/Projectkosten: title rows above the header, amounts and populations as
      Dutch text, dates as text, headers in other case.
    """
    jaarplan_folder(folder)
    calendar = folder / "Aanbestedingskalender 2024 v3 DEFINITIEF.xlsx"
    budget = folder / "begroting inkoopkracht 2024.xlsx"
    (folder / CALENDAR).rename(calendar)
    (folder / BUDGET).rename(budget)

    def messy_calendar(book: openpyxl.Workbook) -> None:
        sheet = book["Kalender"]
        sheet["D3"] = "  deelnemende GEMEENTEN* "
        for row in range(4, sheet.max_row + 1):
            codes = sheet.cell(row, 4).value
            if codes:
                sheet.cell(row, 4).value = codes.lower().replace(", ", " ;", 1).replace(", ", "/ ")
            category = sheet.cell(row, 1).value
            sheet.cell(row, 1).value = f"{category}. zie toelichting"
        header = [c.value for c in sheet[3]]
        sheet.insert_rows(30, 3)  # a blank row, then the header as on the next PDF page
        for column, value in enumerate(header, start=1):
            sheet.cell(32, column).value = value

    def messy_budget(book: openpyxl.Workbook) -> None:
        posts = book["Begroting"]
        for row in range(2, posts.max_row + 1):
            amount = posts.cell(row, 2).value
            posts.cell(row, 2).value = "€ " + f"{int(amount):,}".replace(",", ".")
        posts.insert_rows(1, 2)
        posts["A1"] = "BEGROTING 2024"
        posts["B3"] = "begroot "
        people = book["Inwoners"]
        for row in range(2, people.max_row + 1):
            people.cell(row, 3).value = f"{people.cell(row, 3).value:,}".replace(",", ".")
            people.cell(row, 4).value = "1-1-2023"
            people.cell(row, 1).value = people.cell(row, 1).value.lower() + " "
        people.insert_rows(1, 3)
        people["A1"] = "Verdeling 2024 op basis van aantal inwoners per 01-01-2023"
        costs = book["Projectkosten"]
        for row in range(2, costs.max_row + 1):
            cents = round(costs.cell(row, 5).value * 100)
            costs.cell(row, 5).value = f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
            costs.cell(row, 4).value = costs.cell(row, 4).value.strftime("%d-%m-%Y")

    edit(calendar, messy_calendar)
    edit(budget, messy_budget)
    (folder / f"~${budget.name}").write_bytes(b"\x0bcoordinator" + b" " * 100)
    (folder / "Toelichting afrekening.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (folder / "Thumbs.db").write_bytes(b"\x00" * 64)
    return folder


def test_messy_folder_reads_the_same_as_the_clean_one(tmp_path):
    clean = load_folder(JAARPLAN)
    messy = load_folder(make_messy(tmp_path / "messy"))
    assert messy.inputs is not None, [f.text() for f in messy.findings]
    # Records compare by value, not by where they were read from.
    assert messy.inputs.calendar == clean.inputs.calendar
    assert messy.inputs.budget == clean.inputs.budget

    def gist(loaded):
        return sorted((f.level, f.location.sheet, f.message) for f in loaded.findings)

    open_in_excel = [f for f in messy.findings if "nog geopend in Excel" in f.message]
    assert [f.location.file for f in open_in_excel] == ["begroting inkoopkracht 2024.xlsx"]
    assert [f.level for f in open_in_excel] == [Level.WARNING]
    assert gist(messy) == sorted(gist(clean) + [(Level.WARNING, "", open_in_excel[0].message)])


def test_messy_folder_passes_controleer_untouched(tmp_path):
    folder = make_messy(tmp_path / "messy")
    before = fingerprint(folder)
    result = CliRunner().invoke(main, ["controleer", str(folder)])
    assert result.exit_code == 0, result.output
    # The repeated header shifted the ME row from 19 to 19 (above row 30): same cell as clean.
    assert "Kalender › D19: onbekende gemeentecode 'ME'" in result.output
    assert "Goedgekeurd: 0 fouten, 2 waarschuwingen." in result.output
    assert fingerprint(folder) == before


@pytest.mark.parametrize("name", ["~$Begroting 2024.xlsx", ".Begroting 2024.xlsx", "Begroting.xls"])
def test_ignored_files_do_not_claim_a_role(tmp_path, name):
    folder = jaarplan_folder(tmp_path / "in")
    (folder / name).write_bytes((folder / BUDGET).read_bytes())
    loaded = load_folder(folder)
    assert loaded.errors == ()
    assert loaded.inputs.budget_path.name == BUDGET


def test_an_unreadable_kalender_gives_no_follow_on_errors_about_its_subjects(tmp_path):
    """Two sheets for the calendar role: one error naming both, and not one error per cost line
    or join for naming a subject 'not in the calendar' (it was never read)."""
    folder = jaarplan_folder(tmp_path / "in")

    def second_calendar(book):
        book.copy_worksheet(book["Kalender"]).title = "Aanbestedingskalender 2024"

    edit(folder / CALENDAR, second_calendar)
    loaded = load_folder(folder)
    errors = [f.text() for f in loaded.findings if f.is_error]
    assert errors == [
        f"FOUT  {CALENDAR} › Kalender: twee werkbladen kunnen het werkblad 'Kalender' zijn: "
        "'Kalender' en 'Aanbestedingskalender 2024'. Laat er één staan of geef het andere een "
        "andere naam; het programma kiest niet."
    ]


def test_budget_posts_under_the_header_omschrijving(tmp_path):
    """'Omschrijving' is how many coordinators head their budget posts: read as Post, same posts."""
    folder = jaarplan_folder(tmp_path / "in")
    edit(folder / BUDGET, lambda book: setattr(book["Begroting"]["A1"], "value", "Omschrijving"))
    read, plain = load_folder(folder), load_folder(JAARPLAN)
    assert not [f for f in read.findings if f.is_error]
    assert read.inputs.budget.posts == plain.inputs.budget.posts
    # 120.000 + 5.000 + 3.685 + 350 + 2.000 = 131.035, the jaarplan's total
    assert read.inputs.budget.total_budgeted == Decimal("131035")
