"""The defect corpus: every mistake a coordinator can make is refused with its place and the fix."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main

from .builders import BUDGET, CALENDAR, append_rows, edit, fingerprint, jaarplan_folder, set_cells


def _truncate(folder: Path) -> None:
    data = (folder / CALENDAR).read_bytes()
    (folder / CALENDAR).write_bytes(data[: len(data) // 2])


def _csv_as_xlsx(folder: Path) -> None:
    (folder / CALENDAR).write_text("Categorie;Onderwerp\n1;Energieloket\n", encoding="utf-8")


def _ole(stream_names: bytes) -> bytes:
    # The 8-byte OLE2 signature, then padding with the directory entry names as UTF-16.
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + stream_names + b"\x00" * 512


def _xls_as_xlsx(folder: Path) -> None:
    (folder / CALENDAR).write_bytes(_ole("Workbook".encode("utf-16-le")))


def _password_protected(folder: Path) -> None:
    names = (
        "EncryptionInfo".encode("utf-16-le") + b"\x00\x00" + "EncryptedPackage".encode("utf-16-le")
    )
    (folder / BUDGET).write_bytes(_ole(names))


def _second_budget(folder: Path) -> None:
    (folder / "Begroting 2024 (kopie).xlsx").write_bytes((folder / BUDGET).read_bytes())


def _no_calendar(folder: Path) -> None:
    (folder / CALENDAR).unlink()


def _entity_expansion(folder: Path) -> None:
    source = folder / BUDGET
    target = folder / "tmp.xlsx"
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                data = data.replace(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', b"")
                data = (
                    bomb.encode() + data.split(b"?>", 1)[-1]
                    if b"?>" in data
                    else bomb.encode() + data
                )
            new.writestr(item, data)
    target.replace(source)


def _formula_without_value(folder: Path) -> None:
    # openpyxl writes formulas without a cached value, as a workbook saved by a script would be.
    set_cells(folder / BUDGET, "Begroting", {"B3": "=2500*2"})


def _cells(
    file: str, sheet: str, cells: dict[str, object], *, as_text: bool = False
) -> Callable[[Path], None]:
    return lambda folder: set_cells(folder / file, sheet, cells, as_text=as_text)


def _rows(file: str, sheet: str, rows: list[list[object]]) -> Callable[[Path], None]:
    return lambda folder: append_rows(folder / file, sheet, rows)


def _drop_sheet(file: str, sheet: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        edit(folder / file, lambda book: book.remove(book[sheet]))

    return change


# (name, defect, where it is reported, what is said)
CORPUS: list[tuple[str, Callable[[Path], None], str, str]] = [
    ("no_calendar", _no_calendar, "FOUT  in:", "geen aanbestedingskalender gevonden"),
    (
        "two_budgets",
        _second_budget,
        "FOUT  in:",
        "'Begroting 2024 (kopie).xlsx' en 'Begroting 2024.xlsx'",
    ),
    ("truncated_zip", _truncate, f"FOUT  {CALENDAR}:", "beschadigd"),
    ("csv_renamed", _csv_as_xlsx, f"FOUT  {CALENDAR}:", "tekst"),
    ("xls_renamed", _xls_as_xlsx, f"FOUT  {CALENDAR}:", ".xls"),
    ("password", _password_protected, f"FOUT  {BUDGET}:", "wachtwoord"),
    ("entity_expansion", _entity_expansion, f"FOUT  {BUDGET}:", "DTD"),
    (
        "formula_without_value",
        _formula_without_value,
        f"{BUDGET} › Begroting › B3",
        "formule zonder berekende waarde",
    ),
    (
        "population_text",
        _cells(BUDGET, "Inwoners", {"C3": "ca. 57.000"}),
        f"{BUDGET} › Inwoners › C3",
        "'ca. 57.000' is geen heel getal",
    ),
    (
        "population_negative",
        _cells(BUDGET, "Inwoners", {"C2": -5}),
        f"{BUDGET} › Inwoners › C2",
        "geen positief aantal inwoners",
    ),
    (
        "wrong_peildatum",
        _cells(BUDGET, "Inwoners", {"D2": date(2024, 1, 1)}),
        f"{BUDGET} › Inwoners › D2",
        "peildatum 1-1-2024 is niet 1 januari",
    ),
    (
        "no_network",
        _cells(BUDGET, "Inwoners", {"E2": "nee", "E3": "nee", "E4": "nee", "E5": "nee"}),
        f"{BUDGET} › Inwoners",
        "geen enkele gemeente heeft Netwerk = ja",
    ),
    (
        "network_yes_no",
        _cells(BUDGET, "Inwoners", {"E3": "misschien"}),
        f"{BUDGET} › Inwoners › E3",
        "niet 'ja' of 'nee'",
    ),
    (
        "duplicate_population",
        _rows(BUDGET, "Inwoners", [["DE", "Delft", 106086, date(2023, 1, 1), "ja"]]),
        f"{BUDGET} › Inwoners › A13",
        "code DE staat dubbel",
    ),
    (
        "missing_column",
        _cells(BUDGET, "Inwoners", {"C1": "Bewoners"}),
        f"{BUDGET} › Inwoners › rij 1",
        "kolom 'Inwoners' ontbreekt",
    ),
    (
        "missing_sheet",
        _drop_sheet(BUDGET, "Inwoners"),
        f"{BUDGET} › Inwoners",
        "het werkblad 'Inwoners' ontbreekt",
    ),
    (
        "duplicate_subject",
        _rows(CALENDAR, "Kalender", [[1, "Energieloket", "2024", "PN, WE"]]),
        f"{CALENDAR} › Kalender › B87",
        "onderwerp 'Energieloket' staat dubbel",
    ),
    (
        "bad_category",
        _cells(CALENDAR, "Kalender", {"A4": 7}),
        f"{CALENDAR} › Kalender › A4",
        "geen categorie 1, 2, 3 of 4",
    ),
    (
        "empty_subject",
        _cells(CALENDAR, "Kalender", {"B5": None}),
        f"{CALENDAR} › Kalender › B5",
        "is leeg",
    ),
    (
        "duplicate_kenmerk",
        _cells(BUDGET, "Projectkosten", {"A3": "VB-2024-001"}),
        f"{BUDGET} › Projectkosten › A3",
        "kenmerk 'VB-2024-001' staat dubbel",
    ),
    (
        "unknown_subject",
        _cells(BUDGET, "Projectkosten", {"B2": "Aardgas"}),
        f"{BUDGET} › Projectkosten › B2",
        "onderwerp 'Aardgas' staat niet in de aanbestedingskalender",
    ),
    (
        "impossible_date",
        _cells(BUDGET, "Projectkosten", {"D2": "31-2-2024"}),
        f"{BUDGET} › Projectkosten › D2",
        "'31-2-2024' is geen bestaande datum",
    ),
    (
        "date_other_year",
        _cells(BUDGET, "Projectkosten", {"D2": date(2023, 12, 31)}),
        f"{BUDGET} › Projectkosten › D2",
        "valt niet in begrotingsjaar 2024",
    ),
    (
        "fraction_of_cent",
        _cells(BUDGET, "Projectkosten", {"E2": "12.500,005"}),
        f"{BUDGET} › Projectkosten › E2",
        "meer dan twee decimalen",
    ),
    (
        "unknown_code_with_money",
        _rows(
            BUDGET,
            "Projectkosten",
            [["VB-9", "Leveren Speel- en sporttoestellen", "", date(2024, 3, 1), 100]],
        ),
        f"{CALENDAR} › Kalender › D19",
        "onbekende gemeentecode 'ME'",
    ),
    (
        "join_not_participant",
        _cells(BUDGET, "Toetredingen", {"B2": "PN"}),
        f"{BUDGET} › Toetredingen › B2",
        "PN staat in de kalender niet bij de deelnemers",
    ),
    (
        "missing_year",
        _cells(BUDGET, "Instellingen", {"B2": None}),
        f"{BUDGET} › Instellingen › B2",
        "'Jaar' is leeg",
    ),
    (
        "unknown_lead",
        _cells(BUDGET, "Instellingen", {"B3": "XX"}),
        f"{BUDGET} › Instellingen › B3",
        "penvoerder 'XX' is geen bekende gemeentecode",
    ),
    (
        "bad_method",
        _cells(BUDGET, "Instellingen", {"B4": "naar rato"}),
        f"{BUDGET} › Instellingen › B4",
        "'naar rato' is niet een van: procent, exact",
    ),
    (
        "bad_email",
        _cells(BUDGET, "Contacten", {"C3": "inkoop at pijnacker"}),
        f"{BUDGET} › Contacten › C3",
        "geen geldig e-mailadres",
    ),
]


@pytest.mark.parametrize(("name", "defect", "where", "said"), CORPUS, ids=[c[0] for c in CORPUS])
def test_defect_is_refused_with_its_place(tmp_path, name, defect, where, said):
    folder = jaarplan_folder(tmp_path / "in")
    defect(folder)
    before = fingerprint(folder)
    result = CliRunner().invoke(main, ["controleer", str(folder)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # our own exit 1, not a crash
    errors = [
        line.strip() for line in result.output.splitlines() if line.strip().startswith("FOUT")
    ]
    assert any(where in line and said in line for line in errors), result.output
    assert "Afgekeurd:" in result.output
    assert fingerprint(folder) == before  # inputs byte-identical, nothing written beside them


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 15
