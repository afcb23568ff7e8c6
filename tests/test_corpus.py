"""The bad-input corpus: every case refused by `afrekening` with its place, nothing written, no input touched.

The 30 cases of test_defects (run there through `controleer`) and the cases added here for issue 7:
empty workbooks, merged cells, hidden sheets, uncached formulas, a sheet of a million rows, unicode
that looks like something it is not, numbers far too large, wrong cell types, dates outside the
year, links to other workbooks. Each case is a function that breaks a fresh copy of the jaarplan's
workbooks, the place the program names, and what it says there.
"""

from __future__ import annotations

import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main

from .builders import BUDGET, CALENDAR, edit, fingerprint, jaarplan_folder
from .test_defects import CORPUS as DEFECTS
from .test_defects import _cells, _rows

Defect = Callable[[Path], None]
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# --- building broken workbooks -----------------------------------------------------------------


def _change(file: str, change: Callable[[openpyxl.Workbook], None]) -> Defect:
    return lambda folder: edit(folder / file, change)


def _both(*defects: Defect) -> Defect:
    def apply(folder: Path) -> None:
        for defect in defects:
            defect(folder)

    return apply


def _empty_budget_workbook(folder: Path) -> None:
    """Only the sheet names, not one cell: as if someone started from a blank workbook."""
    book = openpyxl.Workbook()
    book.active.title = "Instellingen"
    for name in ("Begroting", "Inwoners", "Projectkosten", "Toetredingen", "Contacten"):
        book.create_sheet(name)
    book.save(folder / BUDGET)


def _hidden_calendar_sheet(book: openpyxl.Workbook) -> None:
    book.create_sheet("Kalender").sheet_state = "hidden"


def sheet_part(path: Path, sheet: str) -> str:
    """The zip member holding `sheet` (our own test file, so a regular expression will do)."""
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{sheet}" sheetId="\d+" r:id="(\w+)"', workbook).group(1)
    target = re.search(rf'Id="{rid}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
    return "xl/" + target.lstrip("/").removeprefix("xl/")


def rewrite_zip(path: Path, parts: dict[str, bytes | Callable[[], Iterator[bytes]]]) -> None:
    """Replace or add members of a workbook; a callable streams its content (kept out of memory)."""
    temporary = path.with_name(path.name + ".tmp")
    with (
        zipfile.ZipFile(path) as old,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new,
    ):
        for info in old.infolist():
            if info.filename not in parts:
                new.writestr(info, old.read(info))
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if callable(data):
                with new.open(info, "w") as member:
                    for chunk in data():
                        member.write(chunk)
            else:
                new.writestr(info, data)
    temporary.replace(path)


MILLION = 1_000_000


def million_row_sheet() -> Iterator[bytes]:
    """A Toetredingen sheet with its header and a million tiny rows: about 46 MB of XML that
    deflates about tenfold (every row differs), so it passes the zip-bomb ratio and size caps and
    only the row cap can stop it."""
    yield (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        b'.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
        b"Onderwerp</t></is></c></row>"
    )
    for first in range(2, MILLION + 2, 50_000):
        rows = range(first, min(first + 50_000, MILLION + 2))
        yield "".join(f'<row r="{r}"><c r="C{r}"><v>1</v></c></row>' for r in rows).encode()
    yield b"</sheetData></worksheet>"


def _sheet_of_a_million_rows(folder: Path) -> None:
    path = folder / BUDGET
    rewrite_zip(path, {sheet_part(path, "Toetredingen"): million_row_sheet})


def add_external_link(path: Path, sheet: str = "Inwoners", cell: str = "C2") -> None:
    """Make `cell` a formula on another workbook, as Excel saves it: the formula with its cached
    value, an externalLink part holding that workbook's (claimed) value, and their relationships."""
    part = sheet_part(path, sheet)
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
        types = archive.read("[Content_Types].xml").decode()
        data = archive.read(part).decode()
    workbook = workbook.replace(
        "</sheets>",
        '</sheets><externalReferences><externalReference r:id="rIdLink1"/></externalReferences>',
    )
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdLink1" Type="{RELATIONSHIPS_NS}/externalLink" '
        'Target="externalLinks/externalLink1.xml"/></Relationships>',
    )
    types = types.replace(
        "</Types>",
        '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>',
    )
    # The linked file "says" Delft has a million inhabitants; nobody can check that here.
    data, count = re.subn(
        rf'<c r="{cell}"( s="\d+")?><v>[^<]*</v></c>',
        rf'<c r="{cell}"\1><f>[1]{sheet}!{cell}</f><v>1000000</v></c>',
        data,
    )
    assert count == 1
    link = (
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{RELATIONSHIPS_NS}"><externalBook r:id="rId1"><sheetNames>'
        f'<sheetName val="{sheet}"/></sheetNames><sheetDataSet><sheetData sheetId="0">'
        f'<row r="2"><cell r="{cell}"><v>1000000</v></cell></row></sheetData></sheetDataSet>'
        "</externalBook></externalLink>"
    )
    link_rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIPS_NS}/externalLinkPath" '
        'Target="file:///C:/Geheim/Begroting%202023.xlsx" TargetMode="External"/></Relationships>'
    )
    rewrite_zip(
        path,
        {
            "xl/workbook.xml": workbook.encode(),
            "xl/_rels/workbook.xml.rels": rels.encode(),
            "[Content_Types].xml": types.encode(),
            part: data.encode(),
            "xl/externalLinks/externalLink1.xml": link.encode(),
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels.encode(),
        },
    )


def _external_link(folder: Path) -> None:
    add_external_link(folder / BUDGET)


def _budget_is_a_folder(folder: Path) -> None:
    (folder / BUDGET).unlink()
    (folder / BUDGET).mkdir()


def _empty_file(folder: Path) -> None:
    (folder / BUDGET).write_bytes(b"")


def _header_below_row_15(book: openpyxl.Workbook) -> None:
    book["Kalender"].insert_rows(1, 14)  # the header moves from row 3 to row 17


def _no_posts(book: openpyxl.Workbook) -> None:
    book["Begroting"].delete_rows(2, 5)


def _merge(book: openpyxl.Workbook) -> None:
    book["Inwoners"].merge_cells("B3:C3")


def _drop_capelle(book: openpyxl.Workbook) -> None:
    book["Inwoners"].delete_rows(6)  # CP, a participant of Energieloket


KOERIERS = "Koeriersdiensten perceel 2 (post- en koeriersdiensten)"  # only participant: WE

# (name, defect, where it is reported, what is said); all new for issue 7.
NEW: list[tuple[str, Defect, str, str]] = [
    # empty workbooks and sheets
    (
        "empty_budget_workbook",
        _empty_budget_workbook,
        f"{BUDGET} › Begroting › rij 1-15",
        "geen kopregel gevonden; verwacht de kolommen Post, Begroot",
    ),
    (
        "budget_without_posts",
        _change(BUDGET, _no_posts),
        f"FOUT  {BUDGET} › Begroting:",
        "de begroting heeft geen posten",
    ),
    ("empty_file", _empty_file, f"FOUT  {BUDGET}:", "is leeg (0 bytes)"),
    ("budget_is_a_folder", _budget_is_a_folder, "FOUT  in:", "geen begroting gevonden"),
    (
        "header_below_row_15",
        _change(CALENDAR, _header_below_row_15),
        f"{CALENDAR} › Kalender › rij 1-15",
        "geen kopregel gevonden",
    ),
    (
        "missing_column_rol",
        _cells(CALENDAR, "Gemeenten", {"C1": "Soort"}),
        f"{CALENDAR} › Gemeenten › rij 1",
        "kolom 'Rol' ontbreekt",
    ),
    # layout: merged cells, hidden sheets, formulas, size
    (
        "merged_cells_in_data_row",
        _change(BUDGET, _merge),
        f"{BUDGET} › Inwoners › B3:C3",
        "bevat samengevoegde cellen; deze rij wordt niet gelezen",
    ),
    (
        "hidden_calendar_sheet_in_budget",
        _change(BUDGET, _hidden_calendar_sheet),
        "FOUT  in:",
        "twee werkmappen hebben een werkblad 'Kalender': 'Aanbestedingskalender 2024.xlsx' en "
        "'Begroting 2024.xlsx'",
    ),
    (
        "formula_without_value_in_inwoners",
        _cells(BUDGET, "Inwoners", {"C4": "=100000+14887"}),
        f"{BUDGET} › Inwoners › C4",
        "bevat een formule zonder berekende waarde",
    ),
    (
        "sheet_of_a_million_rows",
        _sheet_of_a_million_rows,
        f"FOUT  {BUDGET} › Toetredingen:",
        "heeft meer dan 200.000 gevulde rijen",
    ),
    (
        "external_link",
        _external_link,
        f"FOUT  {BUDGET}:",
        "bevat koppelingen naar andere bestanden",
    ),
    # unicode that looks like something else
    (
        "zero_width_space_in_code",
        _cells(BUDGET, "Inwoners", {"A2": "D\u200be"}),
        f"{BUDGET} › Inwoners › A2",
        "'D<U+200B>E' is geen gemeentecode: er staat een onzichtbaar teken in (U+200B)",
    ),
    (
        "right_to_left_override_in_subject",
        _cells(BUDGET, "Projectkosten", {"B3": "\u202eSoftware broker"}),
        f"{BUDGET} › Projectkosten › B3",
        "onderwerp '<U+202E>Software broker' staat niet in de aanbestedingskalender; de naam "
        "bevat een onzichtbaar teken (U+202E)",
    ),
    (
        "letter_o_in_population",
        _cells(BUDGET, "Inwoners", {"C2": "1O6.086"}),
        f"{BUDGET} › Inwoners › C2",
        "'1O6.086' is geen heel getal (de letter 'O' staat tussen de cijfers)",
    ),
    (
        "full_width_digits_in_population",
        _cells(BUDGET, "Inwoners", {"C2": "１０６０８６"}),
        f"{BUDGET} › Inwoners › C2",
        "'１０６０８６' is geen heel getal (de cijfers zijn geen gewone cijfers 0-9",
    ),
    (
        "participant_code_with_punctuation",
        _cells(CALENDAR, "Kalender", {"D4": "DE, P.N."}),
        f"{CALENDAR} › Kalender › D4",
        "'P.N.' is geen bekende gemeente; gebruik een code of naam uit Gemeenten",
    ),
    # numbers far too large
    (
        "amount_of_10_to_the_15",
        _cells(BUDGET, "Projectkosten", {"E2": 10**15}),
        f"{BUDGET} › Projectkosten › E2",
        "'1e+15' is onwaarschijnlijk groot (een bedrag moet onder de € 1.000.000.000.000 blijven)",
    ),
    (
        "amount_of_10_to_the_300",  # used to stop with an internal error (decimal overflow)
        _cells(BUDGET, "Projectkosten", {"E2": 1e300}),
        f"{BUDGET} › Projectkosten › E2",
        "'1e+300' is onwaarschijnlijk groot",
    ),
    (
        "amount_of_40_digits_as_text",  # likewise
        _cells(BUDGET, "Projectkosten", {"E2": "€ 1" + ".000" * 13 + ",00"}),
        f"{BUDGET} › Projectkosten › E2",
        "is onwaarschijnlijk groot",
    ),
    (
        "population_of_2_billion",
        _cells(BUDGET, "Inwoners", {"C2": 2_000_000_000}),
        f"{BUDGET} › Inwoners › C2",
        "2.000.000.000 inwoners is onwaarschijnlijk veel (meer dan 100 miljoen)",
    ),
    (
        "year_9999",
        _cells(BUDGET, "Instellingen", {"B2": 9999}),
        f"{BUDGET} › Instellingen › B2",
        "9999 is geen begrotingsjaar",
    ),
    (
        "payment_term_of_1000_days",
        _cells(BUDGET, "Instellingen", {"B7": 1000}),
        f"{BUDGET} › Instellingen › B7",
        "1000 dagen is geen redelijke betaaltermijn",
    ),
    # wrong types
    (
        "true_as_amount",
        _cells(BUDGET, "Projectkosten", {"E2": True}),
        f"{BUDGET} › Projectkosten › E2",
        "WAAR is een ja/nee-waarde, geen bedrag",
    ),
    (
        "date_as_population",
        _cells(BUDGET, "Inwoners", {"C2": datetime(2023, 1, 1)}),
        f"{BUDGET} › Inwoners › C2",
        "'1-1-2023' is een datum, geen getal",
    ),
    (
        "text_as_date",
        _cells(BUDGET, "Projectkosten", {"D2": "volgende week"}),
        f"{BUDGET} › Projectkosten › D2",
        "'volgende week' is geen datum",
    ),
    (
        "negative_budget_post",
        _cells(BUDGET, "Begroting", {"B2": -5}),
        f"{BUDGET} › Begroting › B2",
        "-5 is negatief",
    ),
    (
        "bad_role",
        _cells(CALENDAR, "Gemeenten", {"C6": "lid"}),
        f"{CALENDAR} › Gemeenten › C6",
        "'lid' is niet een van: kern, extra",
    ),
    (
        "bad_split",
        _cells(BUDGET, "Projectkosten", {"F2": "naar rato"}),
        f"{BUDGET} › Projectkosten › F2",
        "'naar rato' is niet een van: inwoners, gelijk",
    ),
    (
        "bad_invoice_prefix",
        _cells(BUDGET, "Instellingen", {"B6": "IK-2024"}),
        f"{BUDGET} › Instellingen › B6",
        "'IK-2024' is geen geldige factuurprefix",
    ),
    (
        # A name is read as its code (issue 11, item 5); a name nobody knows is refused.
        "lead_is_an_unknown_name",
        _cells(BUDGET, "Instellingen", {"B3": "Rotterdam"}),
        f"{BUDGET} › Instellingen › B3",
        "'Rotterdam' is geen bekende gemeente",
    ),
    (
        "sender_address_invalid",  # used to stop with an internal error while writing the e-mail
        _cells(BUDGET, "Instellingen", {"B11": "inkoop at zhw"}),
        f"{BUDGET} › Instellingen › B11",
        "'inkoop at zhw' is geen geldig e-mailadres",
    ),
    (
        "contact_address_not_ascii",  # likewise: the reader now checks as the mail module does
        _cells(BUDGET, "Contacten", {"C2": "inkoop@délft.example.org"}),
        f"{BUDGET} › Contacten › C2",
        "'inkoop@délft.example.org' is geen geldig e-mailadres",
    ),
    # duplicates
    (
        "setting_twice",
        _rows(BUDGET, "Instellingen", [["Jaar", 2025]]),
        f"{BUDGET} › Instellingen › A26",  # below the fixture's 24 settings
        "de instelling 'Jaar' staat dubbel (ook in rij 2)",
    ),
    (
        "duplicate_municipality_code",
        _rows(CALENDAR, "Gemeenten", [["DE", "Delft-Noord", "kern"]]),
        f"{CALENDAR} › Gemeenten › A13",
        "code DE staat dubbel (ook in rij 2)",
    ),
    (
        "duplicate_join",
        _rows(BUDGET, "Toetredingen", [["Dieptereiniging ICT hardware", "MD", date(2024, 5, 1)]]),
        f"{BUDGET} › Toetredingen › B3",
        "toetreding van MD staat dubbel (ook in rij 2)",
    ),
    (
        "two_municipalities_one_invoice_file",  # the second invoice would overwrite the first
        _cells(CALENDAR, "Gemeenten", {"B3": "DELFT"}),
        f"{CALENDAR} › Gemeenten › B3",
        "de factuur van PN ('DELFT') krijgt dezelfde bestandsnaam als die van DE ('Delft', "
        "Gemeenten › B2)",
    ),
    # unknown references
    (
        "join_of_unknown_subject",
        _cells(BUDGET, "Toetredingen", {"A2": "Glasvezel"}),
        f"{BUDGET} › Toetredingen › A2",
        "onderwerp 'Glasvezel' staat niet in de aanbestedingskalender",
    ),
    (
        "participant_without_population",
        _both(
            _change(BUDGET, _drop_capelle),
            _rows(BUDGET, "Projectkosten", [["VB-9", "Energieloket", "", date(2024, 3, 1), 900]]),
        ),
        f"{BUDGET} › Projectkosten › B7",
        "deelnemer CP van 'Energieloket' heeft geen inwonertal",
    ),
    # dates outside the year, or before anyone takes part
    (
        "join_dated_2023",
        _cells(BUDGET, "Toetredingen", {"C2": datetime(2023, 12, 1)}),
        f"{BUDGET} › Toetredingen › C2",
        "datum 1-12-2023 valt niet in begrotingsjaar 2024",
    ),
    (
        "cost_dated_2025",
        _cells(BUDGET, "Projectkosten", {"D3": datetime(2025, 1, 2)}),
        f"{BUDGET} › Projectkosten › D3",
        "datum 2-1-2025 valt niet in begrotingsjaar 2024",
    ),
    (
        "only_participant_joins_later",
        _both(
            _rows(BUDGET, "Toetredingen", [[KOERIERS, "WE", datetime(2024, 5, 1)]]),
            _rows(BUDGET, "Projectkosten", [["VB-9", KOERIERS, "", datetime(2024, 2, 1), 100]]),
        ),
        f"{BUDGET} › Projectkosten › D7",
        f"'{KOERIERS}' heeft op 1-2-2024 nog geen deelnemende gemeenten (toetreding: WE per "
        "1-5-2024)",
    ),
    (
        "lead_empty",  # issue 12: passed controleer, and the penvoerder invoiced itself
        _cells(BUDGET, "Instellingen", {"B3": None}),
        f"{BUDGET} › Instellingen › B3",
        "de penvoerder is niet ingevuld. Vul bij Penvoerder de code in van de gemeente die de "
        "kosten betaalt en de facturen verstuurt, bijvoorbeeld DE",
    ),
    (
        "lead_outside_network",
        _cells(BUDGET, "Instellingen", {"B3": "CP"}),
        f"{BUDGET} › Instellingen › B3",
        "penvoerder 'CP' betaalt niet mee aan de netwerkbegroting (Netwerk = nee in het werkblad "
        "Inwoners, E6)",
    ),
]

CORPUS = DEFECTS + NEW

# Every rule of SPEC §1-§2 that an input can break, and the cases that break it.
RULES: dict[str, list[str]] = {
    "one calendar, one budget, recognised by sheets": [
        "no_calendar",
        "two_budgets",
        "hidden_calendar_sheet_in_budget",
        "budget_is_a_folder",
    ],
    "unreadable files": [
        "truncated_zip",
        "csv_renamed",
        "xls_renamed",
        "password",
        "empty_file",
        "entity_expansion",
        "sheet_of_a_million_rows",
        "external_link",
    ],
    "formula cells need a cached value": [
        "formula_without_value",
        "formula_without_value_in_inwoners",
    ],
    "header row in the first 15 rows, required sheets and columns": [
        "missing_column",
        "missing_sheet",
        "missing_column_rol",
        "header_below_row_15",
        "empty_budget_workbook",
    ],
    "merged cells are not read": ["merged_cells_in_data_row"],
    "Kalender: category 1-4, unique non-empty subject, participant codes": [
        "bad_category",
        "duplicate_subject",
        "empty_subject",
        "participant_code_with_punctuation",
    ],
    "Gemeenten: unique code, kern or extra": ["duplicate_municipality_code", "bad_role"],
    "a code money depends on is known": ["unknown_code_with_money"],
    "Instellingen: Jaar, Penvoerder, choices, prefix, term, sender, no duplicates": [
        "missing_year",
        "year_9999",
        "unknown_lead",
        "lead_is_an_unknown_name",
        "bad_method",
        "bad_invoice_prefix",
        "payment_term_of_1000_days",
        "sender_address_invalid",
        "setting_twice",
        "lead_empty",
        "lead_outside_network",
    ],
    "Begroting: posts with non-negative amounts": ["budget_without_posts", "negative_budget_post"],
    "Inwoners: positive whole numbers, peildatum, network, unique codes": [
        "population_text",
        "population_negative",
        "population_of_2_billion",
        "letter_o_in_population",
        "full_width_digits_in_population",
        "date_as_population",
        "zero_width_space_in_code",
        "wrong_peildatum",
        "no_network",
        "network_yes_no",
        "duplicate_population",
    ],
    "Projectkosten: unique Kenmerk, known subject, real date in the year, amount in cents": [
        "duplicate_kenmerk",
        "unknown_subject",
        "right_to_left_override_in_subject",
        "impossible_date",
        "text_as_date",
        "date_other_year",
        "cost_dated_2025",
        "fraction_of_cent",
        "true_as_amount",
        "amount_of_10_to_the_15",
        "amount_of_10_to_the_300",
        "amount_of_40_digits_as_text",
        "bad_split",
    ],
    "every project participant has a population, on the line's date": [
        "participant_without_population",
        "only_participant_joins_later",
    ],
    "Toetredingen: a participant of a known subject, in the year, once": [
        "join_not_participant",
        "join_of_unknown_subject",
        "join_dated_2023",
        "duplicate_join",
    ],
    "Contacten: valid addresses": ["bad_email", "contact_address_not_ascii"],
    "each invoice its own file": ["two_municipalities_one_invoice_file"],
}

# Characters that would hide or reorder text on the coordinator's screen.
_HIDDEN = ("Cf", "Co", "Cs")


def _refused(output: str, where: str, said: str) -> None:
    errors = [line.strip() for line in output.splitlines() if line.strip().startswith("FOUT")]
    assert any(where in line and said in line for line in errors), output
    assert "Traceback" not in output
    assert "interne fout" not in output
    assert not any(unicodedata.category(c) in _HIDDEN for c in output), ascii(output)


def test_corpus_covers_every_rule_and_is_large_enough():
    names = [name for name, *_ in CORPUS]
    assert len(names) == len(set(names))
    assert len(DEFECTS) == 30 and len(NEW) >= 40 and len(CORPUS) >= 70
    covered = {name for cases in RULES.values() for name in cases}
    assert covered == set(names)  # each case serves a rule, and each rule has its cases


@pytest.mark.parametrize(("name", "defect", "where", "said"), NEW, ids=[c[0] for c in NEW])
def test_new_case_is_found_by_controleer(tmp_path, name, defect, where, said):
    folder = jaarplan_folder(tmp_path / "in")
    defect(folder)
    before = fingerprint(folder)

    result = CliRunner().invoke(main, ["controleer", str(folder)])

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # our own exit 1, not a crash
    _refused(result.output, where, said)
    assert fingerprint(folder) == before


@pytest.mark.parametrize(("name", "defect", "where", "said"), CORPUS, ids=[c[0] for c in CORPUS])
def test_afrekening_refuses_and_writes_nothing(tmp_path, name, defect, where, said):
    folder = jaarplan_folder(tmp_path / "in")
    defect(folder)
    before = fingerprint(folder)
    out = tmp_path / "uit"

    start = time.perf_counter()
    result = CliRunner().invoke(
        main, ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out)]
    )
    seconds = time.perf_counter() - start

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    _refused(result.output, where, said)
    assert "geschreven" not in result.output
    assert not out.exists()  # no output, no register, not even an empty folder
    assert fingerprint(folder) == before  # inputs byte-identical, nothing written beside them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
    assert seconds < 5, f"{name}: {seconds:.1f} s"
