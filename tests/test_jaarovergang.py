"""Next year's workbooks from this year's: the coordinator's own, edited, their work kept."""

from __future__ import annotations

import io
import json
import shutil
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.table import Table, TableStyleInfo

from inkoopkracht_xl import next_year as next_year_module
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.next_year import next_year
from inkoopkracht_xl.validate import load_folder
from inkoopkracht_xl.write.cached_values import UNKNOWN, cache_results, with_results

from .builders import BUDGET, CALENDAR, SHIPPED, edit, fingerprint, jaarplan_folder, set_cells
from .recalc import recalculated_mismatches, requires_libreoffice

NEW_CALENDAR = "Aanbestedingskalender 2025.xlsx"
NEW_BUDGET = "Begroting 2025.xlsx"


def run(*arguments):
    return CliRunner().invoke(main, [str(a) for a in arguments])


def errors_of(folder) -> list[str]:
    """The FOUT lines of 'controleer', as the coordinator sees them."""
    result = run("controleer", folder, "--json")
    findings = json.loads(result.output)["bevindingen"]
    return [
        f"{f['werkblad']}!{f['cel']}: {f['melding']}" for f in findings if f["niveau"] == "FOUT"
    ]


def empty_population(*rows: int) -> list[str]:
    return [f"Inwoners!C{row}: is leeg" for row in rows]


# -- the plain jaarplan ------------------------------------------------------------------------


def test_next_year_from_the_plain_jaarplan_leaves_only_the_populations_to_fill(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")
    before = fingerprint(folder)
    result = run("jaarovergang", folder, tmp_path / "2025", "--jaar", 2025)
    assert result.exit_code == 0, result.output
    assert fingerprint(folder) == before  # nothing written into MAP
    assert sorted(p.name for p in (tmp_path / "2025").iterdir()) == [NEW_CALENDAR, NEW_BUDGET]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024", "2025"]  # no leftovers
    lines = result.output.splitlines()
    assert lines[0] == f"Jaarovergang 2024 → 2025: geschreven naar {tmp_path / '2025'}"
    assert f"  {NEW_BUDGET} (uit {BUDGET})" in lines
    assert "    Instellingen › B2: Jaar 2024 → 2025" in lines
    assert "    Projectkosten: 5 kostenregels weggehaald (rij 2-6); kopregel en opmaak blijven" in (
        lines
    )
    assert "    Toetredingen: 1 toetreding weggehaald (rij 2); kopregel en opmaak blijven" in lines
    assert (
        f"  FOUT  {NEW_BUDGET} › Inwoners › C2: is leeg. Vul het CBS-aantal in als heel getal."
        in lines
    )

    # 'controleer NIEUW' names exactly the cells still to fill: the eleven populations.
    assert run("controleer", tmp_path / "2025").exit_code == 1
    assert errors_of(tmp_path / "2025") == empty_population(*range(2, 13))

    # Filled in, next year's inputs are this year's, for the new year.
    set_cells(
        tmp_path / "2025" / NEW_BUDGET, "Inwoners", {f"C{r}": 50_000 + r for r in range(2, 13)}
    )
    new, old = load_folder(tmp_path / "2025"), load_folder(folder)
    assert new.errors == ()
    assert new.inputs.calendar == old.inputs.calendar  # every subject, participant, category
    assert new.inputs.budget.settings.year == 2025
    assert new.inputs.budget.settings.lead == old.inputs.budget.settings.lead == "ZM"
    assert [(p.name, p.budgeted, p.realised) for p in new.inputs.budget.posts] == [
        (p.name, p.budgeted, None) for p in old.inputs.budget.posts
    ]
    assert [
        (p.code, p.reference_date, p.network, p.source_note) for p in new.inputs.budget.populations
    ] == [(p.code, date(2024, 1, 1), p.network, "") for p in old.inputs.budget.populations]
    assert new.inputs.budget.cost_lines == () and new.inputs.budget.joins == ()
    assert new.inputs.budget.contacts == old.inputs.budget.contacts


def test_a_calendar_without_a_year_to_move_is_copied_byte_for_byte(tmp_path):
    folder = jaarplan_folder(tmp_path / "invoer")
    set_cells(folder / CALENDAR, "Kalender", {"A1": "Aanbestedingskalender Inkoopkracht ZHW"})
    (folder / CALENDAR).rename(folder / "Kalender.xlsx")
    (folder / BUDGET).rename(folder / "Begroting.xlsx")
    result = run("jaarovergang", folder, tmp_path / "volgend", "--jaar", 2025)
    assert result.exit_code == 0, result.output
    # A name without the year keeps its name.
    assert sorted(p.name for p in (tmp_path / "volgend").iterdir()) == [
        "Begroting.xlsx",
        "Kalender.xlsx",
    ]
    assert (tmp_path / "volgend" / "Kalender.xlsx").read_bytes() == (
        folder / "Kalender.xlsx"
    ).read_bytes()
    assert "    overgenomen zoals het is" in result.output.splitlines()


# -- the printed jaarplan: titles, totals, notes, formulas ---------------------------------------


def test_the_printed_jaarplan_keeps_its_totals_notes_and_titles(tmp_path):
    folder = tmp_path / "2024"
    shutil.copytree(SHIPPED, folder)
    result = run("jaarovergang", folder, tmp_path / "2025", "--jaar", 2025)
    assert result.exit_code == 0, result.output
    assert errors_of(tmp_path / "2025") == empty_population(4, 5, 6, 7, 12, 13, 14, 15, 16, 17, 18)
    path = tmp_path / "2025" / NEW_BUDGET
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    # Titles, headers and notes move with the year; the peildatum year with it.
    assert values["Begroting"]["A1"].value == "BEGROTING 2025"
    assert values["Begroting"]["B4"].value == "Begroot 2025"
    assert values["Inwoners"]["A1"].value == (
        "Verdeling 2025 op basis van aantal inwoners per 01-01-2024"
    )
    assert values["Inwoners"]["A9"].value == "Stand CBS 01-01-2024"
    assert values["Begroting"]["A11"].value.startswith("Genoemde bedragen zijn exclusief BTW")
    # Total rows stay formulas, with the result cached: the budget's is unchanged, the emptied
    # columns add up to nothing.
    assert formulas["Begroting"]["B10"].value == "=SUM(B5:B9)"
    assert values["Begroting"]["B10"].value == 131035
    assert formulas["Inwoners"]["C8"].value == "=SUM(C4:C7)"
    assert values["Inwoners"]["C8"].value == 0
    assert formulas["Projectkosten"]["E7"].value == "=SUM(E2:E6)"
    assert values["Projectkosten"]["E7"].value == 0
    # A share of an empty population cannot be known before the figures are in: left for Excel.
    assert formulas["Inwoners"]["G4"].value == "=C4/C$8"
    assert values["Inwoners"]["G4"].value is None
    assert formulas.calculation.fullCalcOnLoad is True
    assert values["Inwoners"]["D4"].value == datetime(2024, 1, 1)
    assert values["Inwoners"]["D4"].number_format == "dd-mm-yyyy"
    lines = result.output.splitlines()
    assert "    Begroting › A1: 'BEGROTING 2024' → 'BEGROTING 2025'" in lines
    assert "    Inwoners › A9: 'Stand CBS 01-01-2023' → 'Stand CBS 01-01-2024'" in lines


@requires_libreoffice
def test_every_cached_result_agrees_with_libreoffice(tmp_path):
    folder = tmp_path / "2024"
    shutil.copytree(SHIPPED, folder)
    next_year(folder, tmp_path / "2025", 2025)
    mismatches = recalculated_mismatches(tmp_path / "2025" / NEW_BUDGET, tmp_path / "lo")
    # Only the shares of the (still empty) populations were left for the spreadsheet program.
    assert [m.split(":")[0] for m in mismatches] == [
        "Inwoners!G4",
        "Inwoners!G5",
        "Inwoners!G6",
        "Inwoners!G7",
        "Inwoners!G8",
    ]


# -- the coordinator's own work survives -----------------------------------------------------------


def test_formatting_extra_columns_notes_comments_and_totals_survive(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")

    def decorate(book: openpyxl.Workbook) -> None:
        budget = book["Begroting"]
        budget["A1"].fill = PatternFill("solid", fgColor="FFDDEBF7")
        budget["B1"].font = Font(bold=True, color="FF1F4E79")
        budget["B2"].number_format = '"€" #,##0.00'
        budget.column_dimensions["A"].width = 52
        budget["D1"] = "Toelichting"  # an extra column of the coordinator's
        budget["D2"] = "vast contract tot 2026"
        for row, realised in zip(range(2, 7), (119000, 4800, 3685, 350, 1200), strict=True):
            budget[f"C{row}"] = realised
        budget["A7"], budget["B7"], budget["C7"] = "Totaal", 131035, 129035  # typed totals
        budget["A9"] = "Genoemde bedragen zijn exclusief BTW."
        budget["B2"].comment = Comment("Inclusief sociale lasten", "coördinator")
        costs = book["Projectkosten"]
        costs["G1"] = "Betaald"  # an extra column: emptied with the lines
        costs["G2"] = "ja"
        costs["C7"], costs["E7"] = "Totaal", 28225.5

    edit(folder / BUDGET, decorate)
    assert errors_of(folder) == []

    result = run("jaarovergang", folder, tmp_path / "2025", "--jaar", 2025)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "2025" / NEW_BUDGET)
    budget = book["Begroting"]
    assert budget["A1"].fill.fgColor.rgb == "FFDDEBF7"
    assert budget["B1"].font.b and budget["B1"].font.color.rgb == "FF1F4E79"
    assert budget["B2"].number_format == '"€" #,##0.00'
    assert budget.column_dimensions["A"].width == 52
    assert (budget["D1"].value, budget["D2"].value) == ("Toelichting", "vast contract tot 2026")
    assert [budget[f"C{r}"].value for r in range(2, 7)] == [None] * 5  # Gerealiseerd emptied
    # The typed budget total still adds up (Begroot is unchanged); the realised one went with
    # the figures it added up.
    assert (budget["A7"].value, budget["B7"].value, budget["C7"].value) == ("Totaal", 131035, None)
    assert budget["A9"].value == "Genoemde bedragen zijn exclusief BTW."
    assert budget["B2"].comment.text == "Inclusief sociale lasten"
    costs = book["Projectkosten"]
    assert [c.value for c in costs[1]] == [
        "Kenmerk",
        "Onderwerp",
        "Omschrijving",
        "Datum",
        "Bedrag",
        "Verdeling",
        "Betaald",
    ]
    assert all(c.value is None for row in costs.iter_rows(min_row=2, max_row=6) for c in row)
    assert (
        costs["E2"].number_format
        == openpyxl.load_workbook(folder / BUDGET)["Projectkosten"]["E2"].number_format
    )  # the empty rows keep their formats for next year's lines
    assert (costs["C7"].value, costs["E7"].value) == ("Totaal", None)  # typed: went with the lines
    lists = openpyxl.load_workbook(folder / BUDGET)["Instellingen"].data_validations
    kept = book["Instellingen"].data_validations  # the drop-down lists
    assert [v.sqref for v in kept.dataValidation] == [v.sqref for v in lists.dataValidation]
    assert len(kept.dataValidation) >= 2
    assert errors_of(tmp_path / "2025") == empty_population(*range(2, 13))


# -- bad input: a Dutch message, exit 1, nothing written -----------------------------------------


def refused(*arguments, untouched=()):
    before = [fingerprint(f) for f in untouched]
    result = run("jaarovergang", *arguments)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert [fingerprint(f) for f in untouched] == before
    return result.output


def test_a_target_that_exists_and_is_not_empty_is_refused(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")
    target = tmp_path / "2025"
    target.mkdir()
    (target / "notitie.txt").write_text("van de coördinator", encoding="utf-8")
    output = refused(folder, target, "--jaar", 2025, untouched=(folder, target))
    assert (
        f"FOUT  {target}: deze map bestaat al en is niet leeg; de jaarovergang overschrijft "
        in (output)
    )
    assert "Kies een nieuwe map (die wordt gemaakt)" in output


def test_an_empty_target_folder_is_used(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")
    (tmp_path / "2025").mkdir()
    assert run("jaarovergang", folder, tmp_path / "2025", "--jaar", 2025).exit_code == 0
    assert len(list((tmp_path / "2025").iterdir())) == 2


def test_a_target_inside_the_drop_folder_is_refused(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")
    output = refused(folder, folder / "2025", "--jaar", 2025, untouched=(folder,))
    assert "ligt in de invoermap; het programma schrijft nooit in de invoermap" in output
    assert not (folder / "2025").exists()


def test_a_folder_that_is_not_a_drop_folder_is_refused(tmp_path):
    empty = tmp_path / "leeg"
    empty.mkdir()
    output = refused(empty, tmp_path / "2025", "--jaar", 2025, untouched=(empty,))
    assert "geen aanbestedingskalender gevonden" in output
    assert "is geen bruikbare invoermap met een kalender en een begroting" in output
    assert not (tmp_path / "2025").exists()


def test_a_drop_folder_with_errors_is_refused(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")
    set_cells(folder / BUDGET, "Inwoners", {"C2": "ca. 100.000"})
    output = refused(folder, tmp_path / "2025", "--jaar", 2025, untouched=(folder,))
    assert f"{BUDGET} › Inwoners › C2" in output
    assert "de jaarovergang neemt de werkmappen van deze map over, maar ze hebben fouten" in output
    assert not (tmp_path / "2025").exists()


def test_a_year_that_does_not_follow_is_refused(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")
    output = refused(folder, tmp_path / "x", "--jaar", 2024, untouched=(folder,))
    assert "de begroting in deze map is van 2024; de jaarovergang maakt de werkmappen van een " in (
        output
    )
    assert "--jaar 2025" in output
    assert run("jaarovergang", folder, tmp_path / "x", "--jaar", 1999).exit_code == 2
    assert not (tmp_path / "x").exists()


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path, monkeypatch):
    folder = jaarplan_folder(tmp_path / "2024")

    def full_disk(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(next_year_module, "_sync", full_disk)
    with pytest.raises(InputRefused) as refusal:
        next_year(folder, tmp_path / "2025", 2025)
    assert "de schijf is vol" in refusal.value.findings[0].message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]


def test_refusals_come_from_the_library_too(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")
    with pytest.raises(InputRefused):
        next_year(folder, folder, 2025)


# -- cached results ---------------------------------------------------------------------------------


def test_cached_results_kept_computed_or_left_to_excel(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Blad"
    for row, value in enumerate((10, 20, 30), start=1):
        sheet[f"A{row}"] = value
        sheet[f"B{row}"] = value * 2
    sheet["A4"] = "=SUM(A1:A3)"  # over a changed cell: computed anew
    sheet["B4"] = "=SUM(B1:B3)"  # nothing changed: the old result
    sheet["C4"] = "=A4+B4-5"  # depends on a changed sum: computed from it
    sheet["D4"] = "=A1/A4"  # depends on a change, not a sum: left to Excel
    sheet["E4"] = "=SUBTOTAL(109,Tabel1[Bedrag])"  # an Excel table's column
    sheet["F4"] = 'INDIRECT("A1")'  # text, not a formula
    sheet["G4"] = '=INDIRECT("A1")'  # cannot be known
    sheet["E1"], sheet["E2"], sheet["E3"] = "Bedrag", 5, 7
    table = Table(displayName="Tabel1", ref="E1:E3")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9")
    sheet.add_table(table)
    saved = io.BytesIO()
    book.save(saved)  # as a coordinator's file: the table's columns named
    book = openpyxl.load_workbook(saved)
    sheet = book["Blad"]
    old = {(4, 1): 60, (4, 2): 120, (4, 3): 175, (4, 4): 1 / 6, (4, 5): 12, (4, 7): 10}
    sheet["A2"] = None  # the change
    results = cache_results(book, [("Blad", 2, 1)], lambda s, r, c: old.get((r, c), UNKNOWN))
    assert results == {
        ("Blad", 4, 1): Decimal(40),
        ("Blad", 4, 2): 120,
        ("Blad", 4, 3): Decimal(155),
        ("Blad", 4, 5): 12,
    }
    path = tmp_path / "uit.xlsx"
    data = io.BytesIO()
    book.save(data)
    path.write_bytes(with_results(data.getvalue(), book, results))
    cached = openpyxl.load_workbook(path, data_only=True)["Blad"]
    assert [cached[f"{c}4"].value for c in "ABCDEG"] == [40, 120, 155, None, 12, None]


def test_the_next_year_settles_beside_this_year_in_one_register(tmp_path):
    folder = jaarplan_folder(tmp_path / "2024")
    out = tmp_path / "uitvoer"
    settled = run(
        "afrekening", folder, "--periode", "2024-H1", "--uit", out, "--datum", "01-07-2024"
    )
    assert settled.exit_code == 0, settled.output
    assert run("jaarovergang", folder, tmp_path / "2025", "--jaar", 2025).exit_code == 0
    populations = {f"C{r}": 50_000 + r for r in range(2, 13)}
    set_cells(tmp_path / "2025" / NEW_BUDGET, "Inwoners", populations)
    result = run(
        "afrekening",
        tmp_path / "2025",
        "--periode",
        "2025-H1",
        "--uit",
        out,
        "--datum",
        "01-07-2025",
    )
    assert result.exit_code == 0, result.output
    assert (
        "Dit is de eerste afrekening van 2025 in dit register: er is niets om mee te vergelijken."
        in result.output.splitlines()
    )
    assert "IK-2025-0001" in result.output
