"""The LibreOffice wrapper and the recalculation harness: proof that it can fail as well as pass."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
import xlsxwriter

from inkoopkracht_xl import libreoffice
from inkoopkracht_xl.libreoffice import LibreOfficeError, convert

from . import recalc
from .recalc import formula_cells, recalculated_mismatches, requires_libreoffice

SUM = "=SUM(A1:A3)"
VERDICT = '=IF(A1>0,"OK","VERSCHIL")'

# One workbook, one sheet per scenario, so LibreOffice starts once for all of them.
# Each sheet's expected mismatches sit next to its name.
EXPECTED = {
    # 1 + 2 + 3.5 = 6.5 cached correctly; A1 = 1 > 0, so "OK".
    "Goed": [],
    # xlsxwriter caches 0 without value=; only a real recalculation can say 6.5.
    "Zonder waarde": ["Zonder waarde!A4: formula =SUM(A1:A3), cached 0, LibreOffice 6.5"],
    # A1 = 1 > 0 gives "OK", not the cached "VERSCHIL".
    "Verkeerde tekst": [
        'Verkeerde tekst!B1: formula =IF(A1>0,"OK","VERSCHIL"), '
        "cached 'VERSCHIL', LibreOffice 'OK'"
    ],
    # value="" leaves no cached result, which a reader without a calculation engine shows as empty.
    "Geen waarde": ["Geen waarde!B1: formula =A1*2, cached None, LibreOffice 2"],
    # Booleans, dates, a float sum off in the last bit, an empty text and an error value: all agree.
    "Soorten": [],
}


def write_scenarios(path: Path) -> Path:
    book = xlsxwriter.Workbook(path)
    date_format = book.add_format({"num_format": "dd-mm-yyyy"})

    def numbers(sheet):
        for row, number in enumerate([1, 2, 3.5]):
            sheet.write_number(row, 0, number)

    sheet = book.add_worksheet("Goed")
    numbers(sheet)
    sheet.write_formula("A4", SUM, None, 6.5)
    sheet.write_formula("B1", VERDICT, None, "OK")

    sheet = book.add_worksheet("Zonder waarde")
    numbers(sheet)
    sheet.write_formula("A4", SUM)

    sheet = book.add_worksheet("Verkeerde tekst")
    numbers(sheet)
    sheet.write_formula("B1", VERDICT, None, "VERSCHIL")

    sheet = book.add_worksheet("Geen waarde")
    numbers(sheet)
    sheet.write_formula("B1", "=A1*2", None, "")

    sheet = book.add_worksheet("Soorten")
    numbers(sheet)
    sheet.write_formula("B1", "=A1>0", None, True)
    sheet.write_formula("B2", "=DATE(2024,1,1)", date_format, 45292)  # 1-1-2024 as a serial
    sheet.write_formula("B3", "=0.1+0.2", None, 0.1 + 0.2)  # 0.30000000000000004 in Python
    sheet.write_formula("B4", '=IF(A1>0,"","leeg")', None, "")
    sheet.write_formula("B5", "=A1/0", None, "#DIV/0!")
    book.close()
    return path


@pytest.fixture(scope="module")
def scenario_mismatches(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    workdir = tmp_path_factory.mktemp("recalc")
    return recalculated_mismatches(write_scenarios(workdir / "scenarios.xlsx"), workdir)


@pytest.mark.parametrize("sheet", EXPECTED)
@requires_libreoffice
def test_recalculation_reports_exactly_the_wrong_cached_results(sheet, scenario_mismatches):
    found = [line for line in scenario_mismatches if line.startswith(f"{sheet}!")]
    assert found == EXPECTED[sheet]


def test_formula_cells_lists_each_sheets_formulas(tmp_path):
    cells = formula_cells(write_scenarios(tmp_path / "scenarios.xlsx"))
    assert cells == {
        "Goed": ["B1", "A4"],  # row by row: B1 is in row 1, A4 in row 4
        "Zonder waarde": ["A4"],
        "Verkeerde tekst": ["B1"],
        "Geen waarde": ["B1"],
        "Soorten": ["B1", "B2", "B3", "B4", "B5"],
    }


@requires_libreoffice
def test_pdf_is_made_and_the_temporary_profile_removed(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    source = write_scenarios(tmp_path / "scenarios.xlsx")

    pdf = convert(source, tmp_path / "pdf", "pdf")

    assert pdf == tmp_path / "pdf" / "scenarios.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert list(scratch.iterdir()) == []


@requires_libreoffice
def test_a_source_libreoffice_cannot_load_gives_a_dutch_error(tmp_path):
    with pytest.raises(LibreOfficeError, match="geen xlsx-bestand gemaakt"):
        convert(tmp_path / "bestaat-niet.xlsx", tmp_path / "uit", "xlsx")


@requires_libreoffice
def test_timeout_ends_libreoffice_and_says_so(tmp_path):
    source = write_scenarios(tmp_path / "scenarios.xlsx")
    started = time.monotonic()
    with pytest.raises(LibreOfficeError, match="reageerde niet binnen 0.01 seconden"):
        convert(source, tmp_path, "pdf", timeout=0.01)
    assert time.monotonic() - started < 10


def test_missing_libreoffice_gives_the_dutch_install_message(tmp_path, monkeypatch):
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    with pytest.raises(LibreOfficeError) as raised:
        convert(tmp_path / "overzicht.xlsx", tmp_path, "pdf")
    assert str(raised.value) == (
        "LibreOffice is niet geïnstalleerd; installeer het om PDF's te maken"
    )


def test_converting_onto_the_source_itself_is_refused(tmp_path):
    source = write_scenarios(tmp_path / "scenarios.xlsx")
    with pytest.raises(ValueError, match="would overwrite"):
        convert(source, tmp_path, "xlsx")


def needs_libreoffice():
    """Stands in for a test that needs LibreOffice."""


def test_without_libreoffice_a_test_is_skipped_outside_ci(monkeypatch):
    monkeypatch.setattr(recalc.libreoffice, "find_soffice", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    marked = requires_libreoffice(needs_libreoffice)
    [mark] = marked.pytestmark
    assert (mark.name, mark.kwargs) == (
        "skip",
        {"reason": "LibreOffice (soffice) is not installed"},
    )


def test_without_libreoffice_a_test_fails_in_ci(monkeypatch):
    monkeypatch.setattr(recalc.libreoffice, "find_soffice", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but LibreOffice"):
        requires_libreoffice(needs_libreoffice)()
