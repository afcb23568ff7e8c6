"""What changed since the last settlement: the pure comparison, the command, afrekening's list."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl import previous as previous_module
from inkoopkracht_xl.changes import ADDED, CHANGED, REMOVED, RENAMED, Change, compare, shown
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.model import Location
from inkoopkracht_xl.previous import changes_since_last_settlement
from inkoopkracht_xl.validate import load_folder

from .builders import BUDGET, CALENDAR, append_rows, fingerprint, jaarplan_folder, set_cells


def cal(cell: str) -> Location:
    return Location(CALENDAR, "Kalender", cell)


def bud(sheet: str, cell: str) -> Location:
    return Location(BUDGET, sheet, cell)


def inputs_of(folder):
    loaded = load_folder(folder)
    assert not loaded.errors, [f.text() for f in loaded.errors]
    return loaded.inputs


@pytest.fixture
def before(tmp_path):
    return inputs_of(jaarplan_folder(tmp_path / "voor"))


@pytest.fixture
def folder(tmp_path):
    return jaarplan_folder(tmp_path / "na")


# -- the comparison (pure) -----------------------------------------------------------------------


def test_the_same_workbooks_have_no_changes(before, folder):
    assert compare(before, inputs_of(folder)) == ()


def test_money_changes_each_at_its_cell_with_old_and_new(before, folder):
    set_cells(folder / BUDGET, "Projectkosten", {"E3": 4500, "D4": datetime(2024, 2, 29)})
    set_cells(folder / BUDGET, "Projectkosten", {"F6": "gelijk"})
    set_cells(folder / BUDGET, "Projectkosten", {f"{c}5": None for c in "ABCDEF"})  # VB-2024-004
    append_rows(
        folder / BUDGET,
        "Projectkosten",
        [["VB-2024-006", "Software broker", "Extra", datetime(2024, 6, 1), 999.99, "gelijk"]],
    )
    set_cells(folder / BUDGET, "Begroting", {"B3": 5500, "C6": 1800})
    set_cells(folder / BUDGET, "Inwoners", {"C2": 107000, "E6": "ja"})
    set_cells(folder / BUDGET, "Instellingen", {"B3": "WE", "B5": "cent"})
    set_cells(folder / BUDGET, "Toetredingen", {"C2": datetime(2024, 5, 1)})
    append_rows(folder / BUDGET, "Toetredingen", [["Software broker", "LV", datetime(2024, 7, 1)]])

    assert compare(before, inputs_of(folder)) == (
        Change(CHANGED, "Inwoners", "DE (Delft), inwoners", bud("Inwoners", "C2"), 106086, 107000),
        Change(
            CHANGED,
            "Inwoners",
            "CP (Capelle a/d IJssel), netwerk",
            bud("Inwoners", "E6"),
            False,
            True,
        ),
        Change(
            CHANGED,
            "Begroting",
            "post 'Kennis en ontwikkeling netwerkorganisatie', begroot",
            bud("Begroting", "B3"),
            Decimal("5000.00"),
            Decimal("5500.00"),
        ),
        Change(
            CHANGED,
            "Begroting",
            "post 'Onvoorzien', gerealiseerd",
            bud("Begroting", "C6"),
            None,
            Decimal("1800.00"),
        ),
        Change(CHANGED, "Instelling", "Penvoerder", bud("Instellingen", "B3"), "ZM", "WE"),
        Change(CHANGED, "Instelling", "Afronding", bud("Instellingen", "B5"), "euro", "cent"),
        Change(
            CHANGED,
            "Kostenregel",
            "kostenregel VB-2024-002, bedrag",
            bud("Projectkosten", "E3"),
            Decimal("4250.00"),
            Decimal("4500.00"),
        ),
        Change(
            CHANGED,
            "Kostenregel",
            "kostenregel VB-2024-003, datum",
            bud("Projectkosten", "D4"),
            date(2024, 1, 31),
            date(2024, 2, 29),
        ),
        Change(
            CHANGED,
            "Kostenregel",
            "kostenregel VB-2024-005, verdeling",
            bud("Projectkosten", "F6"),
            "inwoners",
            "gelijk",
        ),
        Change(
            ADDED,
            "Kostenregel",
            "kostenregel VB-2024-006",
            bud("Projectkosten", "A7"),
            None,
            "€ 999,99, 01-06-2024, 'Software broker', gelijk",
        ),
        # A removal points at where the line was, in the previous reading.
        Change(
            REMOVED,
            "Kostenregel",
            "kostenregel VB-2024-004",
            bud("Projectkosten", "A5"),
            "€ 1.875,50, 10-05-2024, 'Receptie en beveiligingsdiensten', inwoners",
            None,
            previous=True,
        ),
        Change(
            CHANGED,
            "Toetreding",
            "toetreding MD bij 'Dieptereiniging ICT hardware', datum",
            bud("Toetredingen", "C2"),
            date(2024, 4, 1),
            date(2024, 5, 1),
        ),
        Change(
            ADDED,
            "Toetreding",
            "toetreding LV bij 'Software broker'",
            bud("Toetredingen", "B3"),
            None,
            date(2024, 7, 1),
        ),
    )


def test_changes_read_in_dutch_formats(before, folder):
    set_cells(folder / BUDGET, "Projectkosten", {"E3": 4500, "E2": 1234.56})
    set_cells(folder / BUDGET, "Projectkosten", {f"{c}5": None for c in "ABCDEF"})
    set_cells(folder / BUDGET, "Begroting", {"C6": 1800})
    set_cells(folder / BUDGET, "Inwoners", {"C2": 107000})
    set_cells(folder / BUDGET, "Toetredingen", {"C2": datetime(2024, 5, 1)})
    texts = [c.text() for c in compare(before, inputs_of(folder))]
    assert texts == [
        "DE (Delft), inwoners: 106.086 → 107.000",
        "post 'Onvoorzien', gerealiseerd: (leeg) → € 1.800,00",
        "kostenregel VB-2024-001, bedrag: € 12.500,00 → € 1.234,56",
        "kostenregel VB-2024-002, bedrag: € 4.250,00 → € 4.500,00",
        "kostenregel VB-2024-004 (was: € 1.875,50, 10-05-2024, "
        "'Receptie en beveiligingsdiensten', inwoners)",
        "toetreding MD bij 'Dieptereiniging ICT hardware', datum: 01-04-2024 → 01-05-2024",
    ]
    assert [shown(v) for v in (None, True, (), ("DE", "PN"), date(2024, 1, 1))] == [
        "(leeg)",
        "ja",
        "(geen)",
        "DE, PN",
        "01-01-2024",
    ]


def test_a_rename_is_one_change_when_cost_lines_and_joins_follow_the_subject(before, folder):
    new = "Dieptereiniging ICT-hardware"
    set_cells(folder / CALENDAR, "Kalender", {"B18": new})
    set_cells(folder / BUDGET, "Projectkosten", {"B4": new})
    set_cells(folder / BUDGET, "Toetredingen", {"A2": new})
    # Neither the cost line's nor the join's subject is reported: they moved with the rename.
    assert compare(before, inputs_of(folder)) == (
        Change(
            RENAMED,
            "Onderwerp",
            "naam van het onderwerp",
            cal("B18"),
            "Dieptereiniging ICT hardware",
            new,
            "kostenregel VB-2024-003 en toetreding MD (01-04-2024) staan nu bij het nieuwe "
            "onderwerp",
        ),
    )


def test_a_rename_without_cost_lines_or_joins_is_a_removal_and_an_addition(before, folder):
    set_cells(folder / CALENDAR, "Kalender", {"B20": "Multifunctionele printers"})
    summary = "categorie 2; deelnemers DE, ZM, LS"
    assert compare(before, inputs_of(folder)) == (
        Change(
            ADDED, "Onderwerp", "onderwerp 'Multifunctionele printers'", cal("B20"), None, summary
        ),
        Change(
            REMOVED,
            "Onderwerp",
            "onderwerp 'Multifunctionals'",
            cal("B20"),
            summary,
            None,
            previous=True,
        ),
    )


def test_participants_joined_and_left_categories_and_spelling(before, folder):
    set_cells(
        folder / CALENDAR,
        "Kalender",
        {"D13": "DE, PN, WE, ZM, LV, RW", "A85": 3, "B86": "ZORG", "D6": "RW, LV, ZM, WE, DE"},
    )
    # D6 lists the same municipalities in another order: not a change.
    assert compare(before, inputs_of(folder)) == (
        Change(CHANGED, "Onderwerp", "schrijfwijze onderwerp", cal("B86"), "Zorg", "ZORG"),
        Change(
            CHANGED,
            "Deelnemers",
            "deelnemers 'Software broker'",
            cal("D13"),
            ("DE", "PN", "WE", "ZM", "LV", "MD"),
            ("DE", "PN", "WE", "ZM", "LV", "RW"),
            "erbij: RW; eraf: MD",
        ),
        Change(CHANGED, "Categorie", "categorie 'Telefonie'", cal("A85"), 4, 3),
    )


def test_a_cost_line_moved_to_another_subject(before, folder):
    set_cells(folder / BUDGET, "Projectkosten", {"B6": "Software broker"})
    assert compare(before, inputs_of(folder)) == (
        Change(
            CHANGED,
            "Kostenregel",
            "kostenregel VB-2024-005, onderwerp",
            bud("Projectkosten", "B6"),
            "Verkeersvoorzieningen",
            "Software broker",
        ),
    )


def test_removed_subject_and_population_point_into_the_previous_reading(before, folder):
    set_cells(folder / CALENDAR, "Kalender", {f"{c}21": None for c in "ABCDE"})  # Aankoop bomen
    set_cells(folder / BUDGET, "Inwoners", {f"{c}11": None for c in "ABCDEF"})  # VS
    # VS no longer takes part in anything.
    set_cells(
        folder / CALENDAR,
        "Kalender",
        {"D14": "DE, PN, WE, ZM, LV, WS", "D19": "DE, PN, WE, ZM, LV, ME, RW, WS"},
    )
    changes = compare(before, inputs_of(folder))
    removed = [(c.what, c.location, c.previous) for c in changes if c.kind == REMOVED]
    assert removed == [
        ("onderwerp 'Aankoop bomen'", cal("B21"), True),
        ("VS (Voorschoten)", bud("Inwoners", "A11"), True),
    ]


# -- the command ---------------------------------------------------------------------------------


def settle(folder, period="2024-H1"):
    result = CliRunner().invoke(
        main, ["afrekening", str(folder), "--periode", period, "--datum", "01-07-2024"]
    )
    assert result.exit_code == 0, result.output
    return result


def test_without_an_earlier_settlement_it_says_so_and_writes_nothing(folder):
    untouched = fingerprint(folder)
    result = CliRunner().invoke(main, ["wijzigingen", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Er is nog geen afrekening gemaakt (geen register in {folder / 'uitvoer'}): er is "
        "niets om mee te vergelijken.\n"
    )
    assert fingerprint(folder) == untouched
    assert not (folder / "uitvoer").exists()


def test_after_a_settlement_it_lists_each_change_and_writes_nothing(folder):
    settle(folder)
    set_cells(folder / BUDGET, "Projectkosten", {"E3": 4500})
    set_cells(folder / CALENDAR, "Kalender", {"D13": "DE, PN, WE, ZM, LV, MD, RW"})
    untouched = fingerprint(folder)  # the inputs and the whole output folder with its register
    result = CliRunner().invoke(main, ["wijzigingen", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(
        r"2 wijzigingen sinds de afrekening 2024-H1 van \d\d-\d\d-\d{4} \d\d:\d\d:", lines[0]
    )
    assert lines[1:] == [
        f"  gewijzigd  {CALENDAR} › Kalender › D13: deelnemers 'Software broker': "
        "DE, PN, WE, ZM, LV, MD → DE, PN, WE, ZM, LV, MD, RW (erbij: RW)",
        f"  gewijzigd  {BUDGET} › Projectkosten › E3: kostenregel VB-2024-002, bedrag: "
        "€ 4.250,00 → € 4.500,00",
    ]
    assert fingerprint(folder) == untouched

    document = json.loads(CliRunner().invoke(main, ["wijzigingen", str(folder), "--json"]).output)
    assert document["aantal"] == 2
    assert document["vorige_afrekening"]["batch"] == "2024-H1"
    assert document["vorige_afrekening"]["invoer"] == str(folder / "uitvoer" / "2024-H1" / "invoer")
    assert document["wijzigingen"][1] == {
        "soort": "gewijzigd",
        "onderdeel": "Kostenregel",
        "wat": "kostenregel VB-2024-002, bedrag",
        "waar": f"{BUDGET} › Projectkosten › E3",
        "bestand": BUDGET,
        "werkblad": "Projectkosten",
        "cel": "E3",
        "in_vorige_invoer": False,
        "oud": "4250.00",
        "nieuw": "4500.00",
        "oud_tekst": "€ 4.250,00",
        "nieuw_tekst": "€ 4.500,00",
        "toelichting": None,
        "tekst": "kostenregel VB-2024-002, bedrag: € 4.250,00 → € 4.500,00",
    }
    assert document["wijzigingen"][0]["oud"] == ["DE", "PN", "WE", "ZM", "LV", "MD"]
    assert fingerprint(folder) == untouched


def test_a_removal_names_the_cell_in_the_previous_runs_copy(folder):
    settle(folder)
    set_cells(folder / BUDGET, "Projectkosten", {f"{c}5": None for c in "ABCDEF"})
    result = CliRunner().invoke(main, ["wijzigingen", str(folder)])
    assert result.output.splitlines()[1] == (
        f"  verwijderd 2024-H1/invoer/{BUDGET} › Projectkosten › A5: kostenregel VB-2024-004 "
        "(was: € 1.875,50, 10-05-2024, 'Receptie en beveiligingsdiensten', inwoners)"
    )


def test_unchanged_since_the_settlement(folder):
    settle(folder)
    result = CliRunner().invoke(
        main, ["wijzigingen", str(folder), "--uit", str(folder / "uitvoer")]
    )
    assert result.exit_code == 0
    assert re.fullmatch(
        r"Geen wijzigingen sinds de afrekening 2024-H1 van [\d: -]+\.\n", result.output
    )


def test_afrekening_prints_ten_changes_and_the_overview_lists_them_all(folder):
    settle(folder)
    # Twelve changes: eleven populations and one cost amount.
    set_cells(folder / BUDGET, "Inwoners", {f"C{row}": 60000 + row for row in range(2, 13)})
    set_cells(folder / BUDGET, "Projectkosten", {"E3": 4500})
    result = settle(folder, "2024-H2")
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if "wijzigingen sinds" in line)
    assert lines[start].startswith("12 wijzigingen sinds de afrekening 2024-H1 van ")
    assert lines[start + 1] == (
        f"  gewijzigd  {BUDGET} › Inwoners › C2: DE (Delft), inwoners: 106.086 → 60.002"
    )
    assert lines[start + 11] == ("  en 2 meer: zie het werkblad Wijzigingen van het overzicht")
    assert lines[start + 12].split() == ["Nummer", "Soort", "Gemeente", "Totaal"]
    assert lines[start + 13].lstrip().startswith("IK-2024-")  # then the invoices
    book = openpyxl.load_workbook(folder / "uitvoer" / "2024-H2" / "overzicht-2024-H2.xlsx")
    sheet = book["Wijzigingen"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert rows[0] == ("Onderdeel", "Wijziging", "Wat", "Oud", "Nieuw", "Toelichting", "Waar")
    assert len(rows) == 13
    assert rows[-1] == (
        "Kostenregel",
        "gewijzigd",
        "kostenregel VB-2024-002, bedrag",
        "€ 4.250,00",
        "€ 4.500,00",
        None,
        f"{BUDGET} › Projectkosten › E3",
    )
    assert sheet.freeze_panes == "A5"
    assert sheet.auto_filter.ref == "A4:G16"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.print_title_rows == "$4:$4"
    assert sheet["A4"].font.b and sheet["C5"].alignment.wrap_text
    assert sheet.column_dimensions["C"].width > 40
    assert book.sheetnames.index("Wijzigingen") < book.sheetnames.index("Verantwoording")
    rerun = settle(folder, "2024-H2")  # compared with the run just made: nothing changed
    assert re.search(r"^Geen wijzigingen sinds de afrekening 2024-H2 van ", rerun.output, re.M)


def test_afrekening_without_the_previous_copy_warns_and_settles(folder):
    settle(folder)
    shutil.rmtree(folder / "uitvoer" / "2024-H1" / "invoer")
    result = settle(folder, "2024-H2")
    assert "WAARSCHUWING" in result.output
    assert "wijzigingen niet bepaald: de kopie van de invoer van de afrekening 2024-H1" in (
        result.output
    )
    assert "Afrekening 2024-H2 geschreven" in result.output


# -- bad input: a Dutch message, exit 1, nothing written -----------------------------------------


def refused(arguments, *folders):
    before = [fingerprint(f) for f in folders]
    result = CliRunner().invoke(main, ["wijzigingen", *map(str, arguments)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert [fingerprint(f) for f in folders] == before
    return result.output


def test_an_output_folder_without_a_register_is_refused(folder, tmp_path):
    empty = tmp_path / "leeg"
    empty.mkdir()
    output = refused([folder, "--uit", empty], folder, empty)
    assert f"FOUT  {empty}: in deze map staat geen register (register.sqlite), dus geen " in output
    assert "Geef met --uit de map op waarin de afrekening is gemaakt" in output
    assert list(empty.iterdir()) == []


def test_a_period_folder_is_not_the_output_folder(folder):
    settle(folder)
    period = folder / "uitvoer" / "2024-H1"
    output = refused([folder, "--uit", period], folder)
    assert "dit is de map van één periode, niet de uitvoermap met het register" in output
    assert f"Geef de map erboven op: --uit {folder / 'uitvoer'}" in output


def test_a_folder_that_is_not_a_drop_folder_is_refused(tmp_path):
    empty = tmp_path / "geen-invoer"
    empty.mkdir()
    output = refused([empty], empty)
    assert "geen aanbestedingskalender gevonden" in output
    assert "is geen bruikbare invoermap: wijzigingen vergelijkt een kalender en een begroting" in (
        output
    )


def test_a_register_of_another_year_is_refused(folder):
    settle(folder)
    set_cells(folder / BUDGET, "Instellingen", {"B2": 2025})
    output = refused([folder], folder)
    assert (
        "dit register heeft alleen afrekeningen van 2024; de begroting in de invoermap is van 2025"
        in output
    )
    assert "Geef met --uit de uitvoermap van 2025 op." in output


def test_a_register_of_another_cooperation_is_refused(folder, tmp_path):
    settle(folder)
    other = jaarplan_folder(tmp_path / "andere")
    set_cells(other / CALENDAR, "Gemeenten", {"A2": "GR", "A3": "AS", "A4": "EM", "A5": "HO"})
    output = refused([other, "--uit", folder / "uitvoer"], folder, other)
    assert "dit register is van een andere samenwerking: de afrekening 2024-H1 van " in output
    assert "ging over DE, PN, WE, ZM, deze invoer over AS, EM, GR, HO" in output


def test_a_missing_or_changed_copy_of_the_previous_inputs_is_refused(folder):
    settle(folder)
    set_cells(folder / BUDGET, "Projectkosten", {"E3": 4500})
    copy = folder / "uitvoer" / "2024-H1" / "invoer"
    set_cells(copy / BUDGET, "Projectkosten", {"E2": 1})
    output = refused([folder], folder)
    assert f"{BUDGET} is niet wat die afrekening heeft gelezen (SHA-256 verschilt)" in output
    shutil.rmtree(copy)
    output = refused([folder], folder)
    assert "de kopie van de invoer van de afrekening 2024-H1 van " in output
    assert "Zet de map" in output and "draai de afrekening van 2024-H1 opnieuw" in output


def test_the_second_process_gives_what_reading_inline_gives(folder, monkeypatch):
    settle(folder)
    set_cells(folder / BUDGET, "Projectkosten", {"E3": 4500, "E2": 1})
    forked = changes_since_last_settlement(folder)
    monkeypatch.setattr(previous_module.os, "cpu_count", lambda: 1)
    inline = changes_since_last_settlement(folder)
    assert forked.changes == inline.changes and len(inline.changes) == 2
