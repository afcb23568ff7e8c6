"""One municipality's invoice workbook (Factuur, Specificatie, Kalender), read back by meaning."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inkoopkracht_xl import libreoffice
from inkoopkracht_xl.filenames import invoice_filename, safe_filename
from inkoopkracht_xl.model import CATEGORIES, Invoice, InvoiceLine, Sender
from inkoopkracht_xl.validate import load_folder
from inkoopkracht_xl.write.invoice import write_invoice
from inkoopkracht_xl.write.styles import DATE, MONEY

from .builders import CALENDAR, JAARPLAN, edit, jaarplan_folder
from .recalc import formula_cells, recalculated_mismatches, requires_libreoffice

CREATED = datetime(2024, 7, 1, 9, 30)
# The seven participants of "Aardgas en energie - Externe deskundige (Hellemans)" and, after
# Rijswijk's (made-up) join, of "Software broker".
SEVEN = ("DE", "PN", "WE", "ZM", "LV", "MD", "RW")

NETWORK = InvoiceLine(
    "netwerk",
    "Voorschot netwerkbijdrage 2024 (50 % van € 18.633,00)",
    "14,22 % van € 131.035,00",
    Decimal("9316.50"),  # 18.633,00 / 2
)
PROJECT = InvoiceLine(
    "project",
    "Aardgas en energie - Externe deskundige (Hellemans): Advies externe deskundige energie",
    "57.672 van 560.143 inwoners (10,30 %) van € 12.500,00",
    # 12.500,00 × 57.672 / 560.143 = 1.286,992… -> 1.286,99
    Decimal("1286.99"),
    reference="VB-2024-001",
    subject="Aardgas en energie - Externe deskundige (Hellemans)",
    cost_date=date(2024, 2, 15),
    cost_total=Decimal("12500.00"),
    participants=SEVEN,
)
JOIN = InvoiceLine(
    "toetreding",
    "Verrekening toetreding Rijswijk per 01-04-2024: Software broker",
    "gelijk over 7 in plaats van 6 gemeenten: € 607,14 − € 708,33",
    # 4.250,00 / 7 = 607,142… -> 607,14 and 4.250,00 / 6 = 708,333… -> 708,33 (the odd cents
    # go to the larger ZM and WE); 607,14 − 708,33 = −101,19
    Decimal("-101.19"),
    reference="VB-2024-002",
    subject="Software broker",
    cost_date=date(2024, 3, 20),
    cost_total=Decimal("4250.00"),
    participants=SEVEN,
    join="Software broker|RW|2024-04-01",
)
PN_INVOICE = Invoice(
    code="PN",
    name="Pijnacker-Nootdorp",
    period="2024-H1",
    year=2024,
    lines=(NETWORK, PROJECT, JOIN),
    number="IK-2024-0002",
    issue_date=date(2024, 7, 1),
    due_date=date(2024, 7, 31),
)
PN_TOTAL = Decimal("10502.30")  # 9.316,50 + 1.286,99 − 101,19
SPECIFIED_TOTAL = Decimal("1185.80")  # 1.286,99 − 101,19

CORRECTION = InvoiceLine(
    "correctie",
    "Correctie VB-2024-001: bedrag gewijzigd van € 12.500,00 in € 11.250,00",
    "57.672 van 560.143 inwoners: € 1.158,29 − € 1.286,99",
    # 11.250,00 × 57.672 / 560.143 = 1.158,293… -> 1.158,29; 1.158,29 − 1.286,99 = −128,70
    Decimal("-128.70"),
    reference="VB-2024-001",
    subject="Aardgas en energie - Externe deskundige (Hellemans)",
    cost_date=date(2024, 2, 15),
    cost_total=Decimal("11250.00"),
    participants=SEVEN,
)
PN_CREDIT = Invoice(
    code="PN",
    name="Pijnacker-Nootdorp",
    period="2024-H1",
    year=2024,
    lines=(CORRECTION,),
    kind="creditnota",
    number="IK-2024-0006",
    issue_date=date(2024, 8, 15),
    due_date=date(2024, 9, 14),
    refers_to="IK-2024-0002",
)

# '€' and its amount are joined by a non-breaking space on paper (issue 13): never split.
NBSP = "\u00a0"
INSTRUCTION = (
    f"Wij verzoeken u het totaalbedrag van €{NBSP}10.502,30 vóór 31-07-2024 over te maken op "
    "NL91 ABNA 0417 1643 00 t.n.v. Gemeente Zoetermeer, onder vermelding van factuurnummer "
    "IK-2024-0002."
)
VAT = "Geen btw: de kostenverdeling tussen de deelnemende gemeenten is niet aan btw onderworpen."


def shown(text: str) -> str:
    """A text as the invoice shows it: '€' kept with its amount."""
    return text.replace("€ ", f"€{NBSP}")


@pytest.fixture(scope="module")
def inputs():
    loaded = load_folder(JAARPLAN)
    assert loaded.inputs is not None, [f.text() for f in loaded.errors]
    return loaded.inputs


@pytest.fixture(scope="module")
def pn_path(inputs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("facturen")
    return write_invoice(
        folder / invoice_filename("2024-H1", "Pijnacker-Nootdorp"),
        PN_INVOICE,
        inputs,
        created=CREATED,
    )


@pytest.fixture(scope="module")
def credit_path(inputs, tmp_path_factory):
    path = tmp_path_factory.mktemp("credit") / "credit.xlsx"
    # The register gives the date of the invoice a credit note corrects.
    return write_invoice(
        path, PN_CREDIT, inputs, created=CREATED, issued={"IK-2024-0002": date(2024, 7, 1)}
    )


def texts(sheet) -> list[str]:
    """Every string in a sheet, row by row."""
    return [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]


def row_of(sheet, text: str) -> int:
    """The (1-based) row whose first cell holds `text`."""
    rows = [c.row for c in sheet["A"] if c.value == text]
    assert rows, f"{text!r} not in column A of {sheet.title}"
    return rows[0]


def values(sheet, row: int, columns: int) -> list:
    return [sheet.cell(row, col).value for col in range(1, columns + 1)]


def right_of(sheet, label: str):
    """The cell right of the cell holding `label` (the invoice's details block)."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == label:
                return sheet.cell(cell.row, cell.column + 1)
    raise AssertionError(f"{label!r} not on {sheet.title}")


# --- file names -------------------------------------------------------------------------------


def test_invoice_filename_names_period_and_municipality():
    assert invoice_filename("2024-H1", "Pijnacker-Nootdorp") == (
        "Factuur 2024-H1 Pijnacker-Nootdorp.xlsx"
    )
    assert invoice_filename("2024", "Capelle a/d IJssel") == "Factuur 2024 Capelle a-d IJssel.xlsx"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café Zoë naïef", "Café Zoë naïef"),  # Dutch letters stay
        ("Cafe\u0301", "Café"),  # one code point (NFC), as Windows and macOS both show it
        ("Factuur: 2024", "Factuur - 2024"),
        ('a<b>c"d|e?f*g', "a-b-c-d-e-f-g"),
        ("regel\r\nnieuw\tkolom", "regel-nieuw-kolom"),
        ("a  --  b", "a - b"),
        ("../../etc/passwd", "etc-passwd"),
        ("..\\..\\Windows\\system32", "Windows-system32"),
        ("  .verborgen.  ", "verborgen"),
        ("naam...xlsx", "naam.xlsx"),
        ("CON", "CON_"),
        ("con.xlsx", "con_.xlsx"),
        ("Lpt9.tar.gz", "Lpt9_.tar.gz"),
        ("NUL .txt", "NUL_.txt"),
        ("CONSOLE.xlsx", "CONSOLE.xlsx"),  # only the device name itself is reserved
        ("", "bestand"),
        ("...", "bestand"),
        ("/", "bestand"),
        ("\u202egpj.exe", "gpj.exe"),  # a right-to-left override cannot disguise the extension
    ],
)
def test_safe_filename_cases(text, expected):
    assert safe_filename(text) == expected


def test_safe_filename_shortens_at_a_word_and_keeps_the_extension():
    name = "Factuur 2024-H1 " + "Gemeente met een heel lange naam " * 6 + ".xlsx"
    result = safe_filename(name, max_length=60)
    # 60 − len(".xlsx") = 55 characters: "…lange naam Gemeen", cut back to the last whole word.
    assert result == "Factuur 2024-H1 Gemeente met een heel lange naam.xlsx"


def test_safe_filename_refuses_a_maximum_below_the_fallback():
    with pytest.raises(ValueError):
        safe_filename("x", max_length=3)


RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(1, 10)}
NASTY = st.text(
    alphabet=st.sampled_from(list('<>:"/\\|?*. -_\r\n\t\x00\x7fCONLPT1aé\u00a0\u200b')),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(), NASTY), max_length=st.integers(min_value=8, max_value=200))
def test_safe_filename_is_always_a_valid_name(text, max_length):
    name = safe_filename(text, max_length)
    assert name
    assert len(name) <= max_length
    assert len(name.encode("utf-8")) <= 255  # Linux and macOS count bytes
    assert not any(c in '<>:"/\\|?*' or ord(c) < 32 or ord(c) == 127 for c in name)
    assert ".." not in name
    assert name[0] not in ". " and name[-1] not in ". "
    assert name.split(".")[0].rstrip(" ").upper() not in RESERVED
    assert safe_filename(name, max_length) == name  # stable: cleaning twice changes nothing


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=300))
def test_safe_filename_can_be_created_as_a_file(text, tmp_path_factory):
    folder = tmp_path_factory.mktemp("namen", numbered=True)
    path = folder / safe_filename(text)
    path.write_bytes(b"")
    assert path.parent == folder  # no separator or traversal left the folder
    assert [p.name for p in folder.iterdir()] == [path.name]


# --- the Factuur sheet ------------------------------------------------------------------------


def test_invoice_workbook_has_three_sheets_in_order(pn_path):
    assert pn_path.name == "Factuur 2024-H1 Pijnacker-Nootdorp.xlsx"
    book = openpyxl.load_workbook(pn_path)
    assert book.sheetnames == ["Factuur", "Specificatie", "Kalender"]
    # No temporary file is left beside it.
    assert [p.name for p in pn_path.parent.iterdir()] == [pn_path.name]


def test_invoice_properties(pn_path):
    properties = openpyxl.load_workbook(pn_path).properties
    assert properties.title == "Factuur IK-2024-0002 Pijnacker-Nootdorp"
    assert properties.creator == "Inkoopkracht ZHW"
    assert properties.created == CREATED


def test_invoice_head_names_the_legal_issuer_the_buyer_and_details(pn_path):
    sheet = openpyxl.load_workbook(pn_path)["Factuur"]
    # The penvoerder is the legal issuer, on behalf of the cooperation (issue 13).
    assert values(sheet, 1, 1) == ["Gemeente Zoetermeer, namens Inkoopkracht ZHW"]
    assert [sheet.cell(r, 1).value for r in range(2, 7)] == [
        "Voorbeeldstraat 1, 2711 AA Zoetermeer",
        "Postadres: Postbus 15, 2700 AA Zoetermeer (voorbeeld)",
        "OIN 00000000000000000001",
        "Contactpersoon: Coördinator Inkoopkracht (voorbeeld) · Telefoon: 079 000 00 00 · "
        "E-mail: inkoopkracht@example.org",
        "IBAN: NL91 ABNA 0417 1643 00 · BIC: ABNANL2A",
    ]
    strings = texts(sheet)
    assert "FACTUUR" in strings
    assert "CREDITNOTA" not in strings
    # The buyer as a legal entity, with its address and its own reference.
    addressee = row_of(sheet, "Gemeente Pijnacker-Nootdorp")
    assert [sheet.cell(addressee + i, 1).value for i in (1, 2, 3)] == [
        "t.a.v. Team Inkoop Pijnacker-Nootdorp (voorbeeld)",
        "Voorbeeldstraat 2",
        "1234 AB Pijnacker-Nootdorp",
    ]
    assert right_of(sheet, "Factuurnummer").value == "IK-2024-0002"
    for label, day in (
        ("Factuurdatum", datetime(2024, 7, 1)),
        ("Vervaldatum", datetime(2024, 7, 31)),
    ):
        cell = right_of(sheet, label)
        assert cell.value == day  # a real date, not text
        assert cell.number_format == DATE
    assert right_of(sheet, "Periode").value == "2024-H1"
    assert right_of(sheet, "Uw kenmerk").value == "Inkoopkracht 2024 PN (voorbeeld)"
    assert "Inkoopordernummer" not in strings  # PN gave none; Delft did (below)
    assert "Betreft: Kostenverdeling Inkoopkracht ZHW 2024-H1" in strings
    assert not any("corrigeert" in s or "correctie op" in s for s in strings)


def test_invoice_names_the_order_number_the_buyer_asks_for(inputs, tmp_path):
    delft = dataclasses.replace(PN_INVOICE, code="DE", name="Delft")
    sheet = openpyxl.load_workbook(
        write_invoice(tmp_path / "de.xlsx", delft, inputs, created=CREATED)
    )["Factuur"]
    assert right_of(sheet, "Uw kenmerk").value == "Inkoopkracht 2024 DE (voorbeeld)"
    assert right_of(sheet, "Inkoopordernummer").value == "4500000001 (voorbeeld)"


def test_invoice_lines_and_total_formula(pn_path):
    sheet = openpyxl.load_workbook(pn_path)["Factuur"]
    cached = openpyxl.load_workbook(pn_path, data_only=True)["Factuur"]
    header = row_of(sheet, "Omschrijving")
    assert values(sheet, header, 4) == ["Omschrijving", "Grondslag", "Kenmerk", "Bedrag"]
    lines = [values(sheet, header + i, 4) for i in (1, 2, 3)]
    assert lines == [
        [shown(NETWORK.description), f"14,22 % van €{NBSP}131.035,00", None, 9316.50],
        [PROJECT.description, shown(PROJECT.basis), "VB-2024-001", 1286.99],
        [JOIN.description, shown(JOIN.basis), "VB-2024-002", -101.19],
    ]
    assert all(sheet.cell(header + i, 4).number_format == MONEY for i in (1, 2, 3))
    total = header + 4
    assert sheet.cell(total, 1).value == "Totaal te betalen"
    formula = sheet.cell(total, 4)
    assert formula.value == f"=SUM(D{header + 1}:D{header + 3})"
    assert formula.number_format == MONEY
    # The cached result is the Decimal total, not xlsxwriter's default 0.
    assert Decimal(str(cached.cell(total, 4).value)) == PN_TOTAL == PN_INVOICE.total


def test_invoice_states_why_there_is_no_vat_and_how_to_pay(pn_path):
    strings = texts(openpyxl.load_workbook(pn_path)["Factuur"])
    # The VAT statement, never only "exclusief BTW" (issue 13).
    assert VAT in strings
    assert not any("exclusief BTW" in s for s in strings)
    assert INSTRUCTION in strings
    assert "Vragen over deze factuur? Mail naar inkoopkracht@example.org." in strings


def test_exempt_vat_prints_the_statement_and_the_vat_number(inputs, tmp_path):
    settings = dataclasses.replace(
        inputs.budget.settings,
        vat_category="E",
        vat_note="vrijgesteld op grond van de toelichting van de fiscalist",
        sender=dataclasses.replace(inputs.budget.settings.sender, vat_number="NL000000000B01"),
    )
    exempt = dataclasses.replace(
        inputs, budget=dataclasses.replace(inputs.budget, settings=settings)
    )
    path = write_invoice(tmp_path / "e.xlsx", PN_INVOICE, exempt, created=CREATED)
    strings = texts(openpyxl.load_workbook(path)["Factuur"])
    assert "Geen btw: vrijgesteld op grond van de toelichting van de fiscalist." in strings
    assert "OIN 00000000000000000001 · Btw-nummer NL000000000B01" in strings


def test_invoice_page_setup(pn_path):
    book = openpyxl.load_workbook(pn_path)
    factuur = book["Factuur"]
    assert factuur.page_setup.paperSize == 9  # A4
    assert factuur.page_setup.orientation == "portrait"
    assert factuur.sheet_properties.pageSetUpPr.fitToPage
    # One page wide, as many pages tall as needed (1 wide is the default, so may be left out).
    assert (factuur.page_setup.fitToWidth or 1, factuur.page_setup.fitToHeight) == (1, 0)
    assert factuur.sheet_view.showGridLines is False
    assert "Pagina &P van &N" in factuur.oddFooter.right.text
    assert [book[name].page_setup.paperSize for name in book.sheetnames] == [9, 9, 9]
    assert book["Specificatie"].page_setup.orientation == "landscape"
    assert book["Kalender"].page_setup.orientation == "portrait"
    # Long descriptions wrap, with a row tall enough for two lines (LibreOffice does not grow it).
    header = row_of(factuur, "Omschrijving")
    assert factuur.cell(header + 2, 1).alignment.wrap_text
    assert factuur.row_dimensions[header + 2].height >= 27  # 2 × 13 + 2 points, in whole pixels


def test_creditnota_has_its_own_labels_names_what_it_corrects_and_how_money_returns(credit_path):
    sheet = openpyxl.load_workbook(credit_path)["Factuur"]
    cached = openpyxl.load_workbook(credit_path, data_only=True)["Factuur"]
    strings = texts(sheet)
    assert "CREDITNOTA" in strings
    assert "FACTUUR" not in strings
    assert "Deze creditnota corrigeert factuur IK-2024-0002 van 01-07-2024." in strings
    assert right_of(sheet, "Creditnotanummer").value == "IK-2024-0006"
    assert right_of(sheet, "Creditnotadatum").value == datetime(2024, 8, 15)
    assert not any(s.startswith(("Factuurnummer", "Factuurdatum", "Vervaldatum")) for s in strings)
    total = row_of(sheet, "Totaal creditnota (in uw voordeel)")
    assert sheet.cell(total, 4).value.startswith("=SUM(")
    assert Decimal(str(cached.cell(total, 4).value)) == Decimal("-128.70") == PN_CREDIT.total
    # Creditnota = verrekenen (the workbook's setting): one way, never "verrekend of ...".
    assert (
        f"Het bedrag van €{NBSP}128,70 wordt verrekend met de volgende factuur van Inkoopkracht "
        "ZHW aan Gemeente Pijnacker-Nootdorp; u hoeft niets te doen." in strings
    )
    assert not any(s.startswith("Wij verzoeken u") for s in strings)


def test_creditnota_paid_back_names_the_account_from_contacten(inputs, tmp_path):
    settings = dataclasses.replace(inputs.budget.settings, credit_method="terugbetalen")
    contacts = tuple(
        dataclasses.replace(c, iban="NL91 ABNA 0417 1643 00") if c.code == "PN" else c
        for c in inputs.budget.contacts
    )
    paid_back = dataclasses.replace(
        inputs, budget=dataclasses.replace(inputs.budget, settings=settings, contacts=contacts)
    )
    path = write_invoice(tmp_path / "c.xlsx", PN_CREDIT, paid_back, created=CREATED)
    assert (
        f"Het bedrag van €{NBSP}128,70 wordt binnen 30 dagen teruggestort op NL91 ABNA 0417 1643 "
        "00 t.n.v. Gemeente Pijnacker-Nootdorp." in texts(openpyxl.load_workbook(path)["Factuur"])
    )


def test_sender_fields_left_empty_leave_their_lines_out(inputs, tmp_path):
    budget = inputs.budget
    bare = dataclasses.replace(
        inputs,
        budget=dataclasses.replace(
            budget, settings=dataclasses.replace(budget.settings, sender=Sender()), contacts=()
        ),
    )
    path = write_invoice(tmp_path / "f.xlsx", PN_INVOICE, bare, created=CREATED)
    book = openpyxl.load_workbook(path)
    sheet = book["Factuur"]
    strings = texts(sheet)
    assert sheet["A1"].value == "Inkoopkracht ZHW"  # who sends it is never blank
    assert not any(
        s.startswith(("IBAN", "E-mail", "t.a.v.", "Vragen over", "OIN")) for s in strings
    )
    assert (
        f"Wij verzoeken u het totaalbedrag van €{NBSP}10.502,30 vóór 31-07-2024 over te maken "
        "t.n.v. Inkoopkracht ZHW, onder vermelding van factuurnummer IK-2024-0002."
    ) in strings
    assert book.properties.creator == "Inkoopkracht ZHW"


def test_the_penvoerder_gets_no_invoice(inputs, tmp_path):
    own = dataclasses.replace(PN_INVOICE, code="ZM", name="Zoetermeer", kind="eigen aandeel")
    with pytest.raises(ValueError):
        write_invoice(tmp_path / "zm.xlsx", own, inputs, created=CREATED)
    assert list(tmp_path.iterdir()) == []


# --- Specificatie -----------------------------------------------------------------------------


def test_specification_lists_every_project_and_join_line(pn_path):
    sheet = openpyxl.load_workbook(pn_path)["Specificatie"]
    cached = openpyxl.load_workbook(pn_path, data_only=True)["Specificatie"]
    assert sheet["A1"].value == "Specificatie projectkosten 2024-H1"
    assert values(sheet, 4, 8) == [
        "Kenmerk",
        "Onderwerp",
        "Omschrijving",
        "Datum",
        "Totaalbedrag",
        "Deelnemers",
        "Grondslag",
        "Aandeel",
    ]
    participants = "DE, PN, WE, ZM, LV, MD, RW"
    assert values(sheet, 5, 8) == [
        "VB-2024-001",
        "Aardgas en energie - Externe deskundige (Hellemans)",
        PROJECT.description,
        datetime(2024, 2, 15),
        12500,
        participants,
        shown(PROJECT.basis),
        1286.99,
    ]
    assert values(sheet, 6, 8) == [
        "VB-2024-002",
        "Software broker",
        JOIN.description,
        datetime(2024, 3, 20),
        4250,
        participants,
        shown(JOIN.basis),
        -101.19,
    ]
    assert sheet["D5"].number_format == DATE
    assert sheet["E5"].number_format == MONEY and sheet["H5"].number_format == MONEY
    # The network line is not a cost line: it is on the Factuur only. The total is labelled,
    # and one line under it shows how it makes the invoice's total (issue 13).
    assert sheet["A7"].value == "Totaal specificatie (projectkosten en toetredingen)"
    assert sheet["H7"].value == "=SUM(H5:H6)"
    assert Decimal(str(cached["H7"].value)) == SPECIFIED_TOTAL
    # 1.185,80 + 9.316,50 = 10.502,30
    assert sheet["A9"].value == (
        f"Totaal specificatie €{NBSP}1.185,80 + netwerkbijdrage €{NBSP}9.316,50 = totaal factuur "
        f"IK-2024-0002 €{NBSP}10.502,30."
    )
    assert sheet.freeze_panes == "A5"
    assert sheet.auto_filter.ref == "A4:H6"


def test_specification_without_project_costs_says_so(inputs, tmp_path):
    network_only = dataclasses.replace(PN_INVOICE, lines=(NETWORK,))
    path = write_invoice(tmp_path / "f.xlsx", network_only, inputs, created=CREATED)
    book = openpyxl.load_workbook(path)
    assert texts(book["Specificatie"])[-1] == "Geen projectkosten in deze periode."
    assert book["Specificatie"].auto_filter.ref is None
    assert formula_cells(path) == {"Factuur": ["D21"], "Specificatie": [], "Kalender": []}
    factuur = texts(book["Factuur"])
    assert not any("werkblad Specificatie" in s for s in factuur)


# --- Kalender ---------------------------------------------------------------------------------


def kalender_sections(sheet):
    """(own rows, open rows) of the Kalender sheet: data rows as value lists, bands left out."""
    open_heading = row_of(sheet, "Open onderwerpen om samen te verkennen (categorie 3 en 4)")
    own, opened = [], []
    for row in range(5, sheet.max_row + 1):
        cells = values(sheet, row, 5)
        if not isinstance(cells[0], int) or sheet.cell(row, 1).fill.fgColor.rgb == "FFDDEBF7":
            continue  # a band (category name) or a heading
        (own if row < open_heading else opened).append(cells)
    return own, opened


def test_kalender_lists_the_subjects_of_the_municipality(pn_path, inputs):
    sheet = openpyxl.load_workbook(pn_path)["Kalender"]
    assert sheet["A1"].value == "Aanbestedingskalender 2024: Gemeente Pijnacker-Nootdorp"
    assert values(sheet, 4, 5) == [
        "Categorie",
        "Onderwerp",
        "Jaar van inventarisatie",
        "Deelnemende gemeenten",
        "Jaar gezamenlijk aanbesteed",
    ]
    own, _ = kalender_sections(sheet)
    expected = [
        [s.category, s.name, s.inventory_year, ", ".join(s.participants), s.joint_year or None]
        for s in inputs.calendar.subjects
        if "PN" in s.participants
    ]
    # The jaarplan 2024: PN takes part in 9 subjects of category 1 and 1 of category 2.
    assert len(expected) == 10
    assert own == expected
    assert own[0] == [
        1,
        "Aardgas en energie - aanbestedingstraject",
        "2024",
        "DE, PN, WE, ZM, LV, MD, RW",
        "2018",
    ]
    assert own[-1][:2] == [2, "Leveren Speel- en sporttoestellen"]
    # Each category starts with a band holding its name.
    strings = texts(sheet)
    assert CATEGORIES[1] in strings and CATEGORIES[2] in strings
    assert sheet.freeze_panes == "A5"


def test_kalender_lists_the_open_subjects_of_categories_3_and_4(pn_path, inputs):
    sheet = openpyxl.load_workbook(pn_path)["Kalender"]
    _, opened = kalender_sections(sheet)
    expected = [
        [s.category, s.name, s.inventory_year or None, None, None]
        for s in inputs.calendar.subjects
        if s.category in (3, 4) and not s.participants
    ]
    # The jaarplan 2024 has 64 subjects in category 3 and 2 in category 4, all still open.
    assert len(expected) == 66
    assert opened == expected
    assert opened[-2:] == [[4, "Telefonie", None, None, None], [4, "Zorg", None, None, None]]
    assert CATEGORIES[3] in texts(sheet) and CATEGORIES[4] in texts(sheet)


def test_user_text_that_looks_like_a_formula_stays_text(tmp_path):
    folder = jaarplan_folder(tmp_path / "in")
    injected = '=HYPERLINK("http://example.org","klik")'

    def change(book):
        kalender = book["Kalender"]
        for row in kalender.iter_rows(min_row=4):
            if row[1].value == "Energieloket":  # PN takes part
                row[1].value = injected
                row[1].data_type = "s"
            if row[1].value == "Aankoop bomen":  # open, category 3
                row[1].value = "+31 Aankoop bomen"

    edit(folder / CALENDAR, change)
    loaded = load_folder(folder)
    assert loaded.inputs is not None, [f.text() for f in loaded.errors]
    invoice = dataclasses.replace(
        PN_INVOICE,
        name="=Pijnacker-Nootdorp",
        lines=(dataclasses.replace(PROJECT, description="-1+1 omschrijving", subject="@SUM(A1)"),),
    )
    path = write_invoice(tmp_path / "f.xlsx", invoice, loaded.inputs, created=CREATED)
    book = openpyxl.load_workbook(path)
    found = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    found.setdefault(cell.value, set()).add(cell.data_type)
    formulas = {v for v in found if v.startswith("=SUM(")}  # the totals we write ourselves
    assert {v: t for v, t in found.items() if v not in formulas} == {
        injected: {"s"},
        "+31 Aankoop bomen": {"s"},
        "-1+1 omschrijving": {"s"},
        "@SUM(A1)": {"s"},
    }
    assert "Gemeente =Pijnacker-Nootdorp" in texts(book["Factuur"])


# --- a real spreadsheet engine and a real print ---------------------------------------------


@requires_libreoffice
def test_invoice_formulas_recalculate_to_their_cached_values(pn_path, credit_path, tmp_path):
    assert formula_cells(pn_path) == {"Factuur": ["D23"], "Specificatie": ["H7"], "Kalender": []}
    assert recalculated_mismatches(pn_path, tmp_path / "pn") == []
    assert recalculated_mismatches(credit_path, tmp_path / "credit") == []


@requires_libreoffice
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) is absent")
def test_invoice_workbook_prints_its_factuur_on_one_page_in_dutch(pn_path, tmp_path):
    # The workbook stays readable on paper too (the PDF invoice is made without LibreOffice,
    # see test_invoice_pdf.py); here LibreOffice prints the workbook as a coordinator would.
    pdf = libreoffice.convert(pn_path, tmp_path, "pdf")
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace(NBSP, " ")
    # The whole invoice fits its first page, amounts as a Dutch reader expects them.
    for expected in (
        "FACTUUR",
        "IK-2024-0002",
        "31-07-2024",
        "€ 9.316,50",
        "€ -101,19",
        "€ 10.502,30",
        "Geen btw: de kostenverdeling",
        "NL91 ABNA 0417 1643 00",
        "Pagina 1 van",
    ):
        assert expected in first, expected
    assert "Specificatie projectkosten" not in first
