"""The invoice as a PDF made by the program itself (issue 13): read back with pdftotext/pdfinfo."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from inkoopkracht_xl.model import InvoiceLine
from inkoopkracht_xl.settlement_run import run_settlement
from inkoopkracht_xl.validate import load_folder
from inkoopkracht_xl.write.document import build_document
from inkoopkracht_xl.write.pdf import invoice_pdf, write_invoice_pdf

from .builders import JAARPLAN, jaarplan_folder
from .test_invoice_workbook import CREATED, JOIN, NETWORK, PN_CREDIT, PN_INVOICE, PROJECT

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="pdftotext/pdfinfo (poppler-utils) are absent",
)

A4_PORTRAIT = "595.28 x 841.89 pts (A4)"
A4_LANDSCAPE = "841.89 x 595.28 pts (A4)"
# The join line of the workbook tests has a minus sign (U+2212) that Windows-1252 lacks; the
# program's own texts never do. Here it is an ASCII hyphen, so the PDF is set in Helvetica.
PLAIN_JOIN = dataclasses.replace(JOIN, basis=JOIN.basis.replace("\u2212", "-"))
INVOICE = dataclasses.replace(PN_INVOICE, lines=(NETWORK, PROJECT, PLAIN_JOIN))


@pytest.fixture(scope="module")
def inputs():
    loaded = load_folder(JAARPLAN)
    assert loaded.inputs is not None
    return loaded.inputs


def pdf_text(path: Path, page: int | None = None, *, layout: bool = False) -> str:
    """The text of a PDF (or one page), '€' and its amount joined by a plain space again."""
    command = ["pdftotext"]
    if page is not None:
        command += ["-f", str(page), "-l", str(page)]
    if layout:
        command.append("-layout")
    text = subprocess.run(
        [*command, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.replace("\u00a0", " ")


def pdf_info(path: Path) -> dict[str, str]:
    output = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in output.splitlines())
    )


def fonts(path: Path) -> list[list[str]]:
    output = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [line.split() for line in output.splitlines()[2:]]


@pytest.fixture(scope="module")
def pn_pdf(inputs, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "Factuur 2024-H1 Pijnacker-Nootdorp.pdf"
    write_invoice_pdf(path, build_document(INVOICE, inputs), created=CREATED)
    return path


def test_page_one_is_the_invoice_then_the_specification_on_a4(pn_pdf):
    info = pdf_info(pn_pdf)
    assert info["Pages"] == "2"
    assert info["Page    1 size"] == A4_PORTRAIT
    assert info["Page    2 size"] == A4_LANDSCAPE  # eight columns, read without turning
    assert info["Title"] == "Factuur IK-2024-0002 Pijnacker-Nootdorp"
    assert info["Author"] == "Inkoopkracht ZHW"
    first = pdf_text(pn_pdf, 1)
    for expected in (
        # The legal issuer and how to reach it.
        "Gemeente Zoetermeer, namens Inkoopkracht ZHW",
        "Voorbeeldstraat 1, 2711 AA Zoetermeer",
        "OIN 00000000000000000001",
        "Contactpersoon: Coördinator Inkoopkracht (voorbeeld)",
        "Telefoon: 079 000 00 00",
        "IBAN: NL91 ABNA 0417 1643 00 · BIC: ABNANL2A",
        "FACTUUR",
        # The buyer as a legal entity, its address and its reference.
        "Gemeente Pijnacker-Nootdorp",
        "1234 AB Pijnacker-Nootdorp",
        "Uw kenmerk",
        "Inkoopkracht 2024 PN",
        # Number and dates as a Dutch reader writes them.
        "IK-2024-0002",
        "01-07-2024",
        "31-07-2024",
        # Each line with its basis and kenmerk, amounts in Dutch with cents.
        "14,22 % van € 131.035,00",
        "€ 9.316,50",
        "VB-2024-001",
        "€ 1.286,99",
        "€ -101,19",
        "Totaal te betalen",
        "€ 10.502,30",
        "Geen btw: de kostenverdeling tussen de deelnemende gemeenten is niet aan btw",
        "pagina 1 van 2",
    ):
        assert expected in first, expected
    assert "exclusief BTW" not in pdf_text(pn_pdf)
    assert "Specificatie" not in first.split("Elke kostenpost")[0]


def test_the_specification_lists_every_cost_line_and_reconciles_with_the_invoice(pn_pdf):
    second = pdf_text(pn_pdf, 2)
    assert "Specificatie projectkosten 2024-H1 bij factuur IK-2024-0002" in second
    for expected in (
        "VB-2024-001",
        "15-02-2024",
        "€ 12.500,00",
        "VB-2024-002",
        "20-03-2024",
        "€ 4.250,00",
        "Totaal specificatie (projectkosten en toetredingen)",
        "€ 1.185,80",
        "pagina 2 van 2",
    ):
        assert expected in second, expected
    # The two totals in one line: 1.185,80 + 9.316,50 = 10.502,30.
    assert (
        "Totaal specificatie € 1.185,80 + netwerkbijdrage € 9.316,50 = totaal factuur "
        "IK-2024-0002 € 10.502,30." in " ".join(second.split())
    )


def test_no_page_is_spent_on_the_calendar(pn_pdf):
    text = pdf_text(pn_pdf)
    assert "Aanbestedingskalender" not in text and "Open onderwerpen" not in text


def test_euro_sign_never_ends_a_line(inputs, tmp_path):
    # Long bases that wrap: the amount always stays with its euro sign.
    lines = tuple(
        dataclasses.replace(
            PROJECT,
            basis=f"{n}.672 van 560.143 inwoners (10,30 %) van € 12.500,00 en € 1.234,56 extra",
            reference=f"VB-{n}",
        )
        for n in range(10, 40)
    )
    path = tmp_path / "f.pdf"
    write_invoice_pdf(
        path, build_document(dataclasses.replace(INVOICE, lines=lines), inputs), created=CREATED
    )
    raw = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "€" in raw
    assert not re.search(r"€\s*$", raw, re.MULTILINE)


def test_helvetica_for_western_names_dejavu_embedded_for_others(inputs, pn_pdf, tmp_path):
    # Helvetica is one of the 14 fonts every PDF reader has (or a metric-compatible twin).
    assert {row[0] for row in fonts(pn_pdf)} == {"Helvetica", "Helvetica-Bold"}
    polish = dataclasses.replace(INVOICE, name="Łódź-Ørsted", code="PN")
    path = tmp_path / "u.pdf"
    write_invoice_pdf(path, build_document(polish, inputs), created=CREATED)
    used = fonts(path)
    assert {row[0].split("+")[-1] for row in used} == {"DejaVuSansBook", "DejaVuSansBold"}
    assert all(row[-5] == "yes" for row in used)  # embedded (a subset)
    assert "Gemeente Łódź-Ørsted" in pdf_text(path, 1)


def test_the_same_invoice_gives_the_same_bytes(inputs):
    document = build_document(INVOICE, inputs)
    assert invoice_pdf(document, created=CREATED) == invoice_pdf(document, created=CREATED)


def test_a_creditnota_has_its_own_labels_and_names_what_it_corrects(inputs, tmp_path):
    path = tmp_path / "c.pdf"
    document = build_document(PN_CREDIT, inputs, {"IK-2024-0002": date(2024, 7, 1)})
    write_invoice_pdf(path, document, created=CREATED)
    text = " ".join(pdf_text(path, 1, layout=True).split())
    for expected in (
        "CREDITNOTA",
        "Creditnotanummer IK-2024-0006",
        "Creditnotadatum 15-08-2024",
        "Deze creditnota corrigeert factuur IK-2024-0002 van 01-07-2024.",
        "Totaal creditnota (in uw voordeel) € -128,70",
        "Het bedrag van € 128,70 wordt verrekend met de volgende factuur van Inkoopkracht ZHW "
        "aan Gemeente Pijnacker-Nootdorp; u hoeft niets te doen.",
    ):
        assert expected in text, expected
    assert "FACTUUR" not in text and "Vervaldatum" not in text and "Wij verzoeken" not in text


def test_a_long_invoice_repeats_its_headers_and_numbers_its_pages(inputs, tmp_path):
    # National scale: hundreds of cost lines on the Specificatie.
    lines = tuple(
        InvoiceLine(
            "project",
            f"Projectkosten Onderwerp {n}: Inhuur aanbestedingsadviseur",
            f"{n}.000 van 400.000 inwoners van € 25.000,00",
            Decimal("62.50"),
            reference=f"K-{n:05d}",
            subject=f"Onderwerp {n}",
            cost_date=date(2024, 3, 1),
            cost_total=Decimal("25000.00"),
            participants=("DE", "PN", "WE", "ZM"),
        )
        for n in range(1, 241)
    )
    invoice = dataclasses.replace(INVOICE, lines=(NETWORK, *lines))
    path = tmp_path / "lang.pdf"
    write_invoice_pdf(path, build_document(invoice, inputs), created=CREATED)
    pages = int(pdf_info(path)["Pages"])
    assert pages >= 8
    text = pdf_text(path)
    for page in range(1, pages + 1):
        assert f"pagina {page} van {pages}" in pdf_text(path, page)
    # Every cost line is traceable by its kenmerk, on the invoice and the specification.
    assert all(text.count(f"K-{n:05d}") == 2 for n in range(1, 241))
    # The header row is on every specification page.
    spec_pages = [p for p in range(1, pages + 1) if "Deelnemers" in pdf_text(path, p)]
    assert len(spec_pages) >= 4
    assert all("Totaalbedrag" in pdf_text(path, p) for p in spec_pages)
    # 9.316,50 + 240 × 62,50 = 24.316,50
    assert "€ 24.316,50" in text


@pytest.fixture(scope="module")
def h1_and_h2(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    folder = jaarplan_folder(root / "in")
    out = root / "uit"
    h1 = run_settlement(folder, "2024-H1", out=out, issue_date=date(2024, 7, 1))
    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=date(2025, 1, 15))
    return h1, h2


def test_afrekening_writes_a_pdf_beside_each_workbook_and_lists_it(h1_and_h2):
    h1, _ = h1_and_h2
    invoices = h1.folder / "facturen"
    workbooks = sorted(p.stem for p in invoices.glob("*.xlsx"))
    assert sorted(p.stem for p in invoices.glob("*.pdf")) == workbooks
    assert len(workbooks) == len(h1.billed) == 6
    manifest = json.loads((h1.folder / "afrekening.json").read_text(encoding="utf-8"))
    delft = manifest["facturen"]["IK-2024-0001"]
    assert delft["pdf"] == "Factuur 2024-H1 Delft.pdf"
    assert len(delft["pdf_sha256"]) == 64
    assert "Gemeente Delft" in pdf_text(invoices / delft["pdf"], 1)


def test_the_h2_final_line_names_the_h1_invoice_it_deducts(h1_and_h2):
    _, h2 = h1_and_h2
    text = " ".join(pdf_text(h2.folder / "facturen" / "Factuur 2024-H2 Delft.pdf", 1).split())
    # 26,15 % of 131.035,00 = 34.266,00, less the voorschot of H1: 17.133,00.
    assert (
        "26,15 % van € 131.035,00 = € 34.266,00, min eerder gefactureerd IK-2024-0001 van "
        "01-07-2024: € 17.133,00" in text
    )


def test_each_mail_carries_only_its_own_pdf_einvoice_and_workbook(h1_and_h2):
    h1, _ = h1_and_h2
    drafts = sorted((h1.folder / "mail").glob("*.eml"))
    assert len(drafts) == 6
    for draft in drafts:
        message = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)
        number, name = draft.stem.split(" ", 1)
        files = [part.get_filename() for part in message.iter_attachments()]
        stem = f"Factuur 2024-H1 {name}"
        expected = [f"{stem}.pdf", f"{stem}.xml", f"{stem}.xlsx"]
        assert files == expected, draft.name
        types = [part.get_content_type() for part in message.iter_attachments()]
        assert types[:2] == ["application/pdf", "application/xml"]
        for part, file in zip(message.iter_attachments(), files, strict=True):
            assert part.get_content() == (h1.folder / "facturen" / file).read_bytes()
        body = message.get_body(("plain",)).get_content()
        assert f"- {stem}.pdf: de factuur (PDF)" in body
        assert f"- {stem}.xml: de e-factuur (UBL) voor uw financiële systeem" in body
        assert f"- {stem}.xlsx: de specificatie (Excel)" in body
        assert "Geen btw:" in body and "exclusief BTW" not in body
        assert number in body


def test_the_afrekening_sheet_prints_readably_on_a4(h1_and_h2):
    import openpyxl

    from inkoopkracht_xl.write.styles import text_lines

    h1, _ = h1_and_h2
    sheet = openpyxl.load_workbook(h1.folder / "overzicht-2024-H1.xlsx")["Afrekening"]
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    widths = [sheet.column_dimensions[c].width for c in "ABCDEFG"]
    # 10-point text fitted to the width of landscape A4 (271,6 mm between the margins) prints
    # at 9 point or more when the columns take at most 160 character units (about 1,85 mm each).
    assert sum(widths) <= 160
    header = next(c.row for c in sheet["D"] if c.value == "Omschrijving")
    # The invoice lines (a total row has its kind in Soort, column C).
    rows = [r for r in range(header + 1, header + 30) if sheet.cell(r, 4).value][:20]
    rows = [r for r in rows if sheet.cell(r, 3).value is None]
    assert len(rows) >= 10
    assert all(sheet.cell(r, 4).alignment.wrap_text for r in rows)
    assert all(sheet.cell(r, 5).alignment.wrap_text for r in rows if sheet.cell(r, 5).value)
    for row in rows:
        description, basis = sheet.cell(row, 4).value or "", sheet.cell(row, 5).value or ""
        assert "€ " not in description + basis  # '€' and its amount never part
        lines = max(text_lines(description, 44), text_lines(basis, 35))
        height = sheet.row_dimensions[row].height
        # As tall as its wrapped text, no taller: one line keeps the default height.
        # (xlsxwriter stores a height in whole pixels: 28 points become 27,75.)
        assert (height or 15) == pytest.approx(15 if lines == 1 else lines * 13 + 2, abs=0.5), row


def test_the_draft_is_the_message_verstuur_sends(h1_and_h2, inputs):
    # The .eml is written fast (base64 put in after flattening); it must be byte for byte the
    # message the email package writes, apart from the random MIME boundary.
    from datetime import datetime

    from inkoopkracht_xl.mail import build_message, draft_bytes

    h1, _ = h1_and_h2
    invoice = next(i for i in h1.billed if i.code == "PN")
    files = [
        h1.folder / "facturen" / f"Factuur 2024-H1 Pijnacker-Nootdorp.{kind}"
        for kind in ("pdf", "xml", "xlsx")
    ]
    contact, settings = inputs.budget.contact("PN"), inputs.budget.settings
    when = datetime(2024, 7, 1, 9, 30)
    message = build_message(
        invoice,
        contact,
        settings.sender,
        files,
        organisation="Inkoopkracht ZHW",
        draft=True,
        when=when,
        message_id="<x@example.org>",
        settings=settings,
    )

    def draft(**known) -> bytes:
        return draft_bytes(
            invoice,
            contact,
            settings.sender,
            files,
            organisation="Inkoopkracht ZHW",
            when=when,
            settings=settings,
            **known,
        )

    fast = draft()

    def same_boundaries(flat: bytes) -> bytes:
        flat = re.sub(rb"Message-ID: <[^>]+>", b"Message-ID: <x@example.org>", flat)
        for n, boundary in enumerate(sorted(set(re.findall(rb'boundary="([^"]+)"', flat)))):
            flat = flat.replace(boundary, b"GRENS%d" % n)
        return flat

    assert same_boundaries(fast) == same_boundaries(message.as_bytes())
    # The files' bytes handed over from memory (as afrekening does) make the same draft.
    from_memory = draft(known={path: path.read_bytes() for path in files})
    assert same_boundaries(from_memory) == same_boundaries(fast)


def test_page_contents_are_compressed_at_the_fastest_zlib_level():
    # write/pdf.py sets fpdf2's compression level through a class attribute; were fpdf2 to stop
    # reading it, the setting would silently do nothing (and a national run be 0,3 s slower).
    import zlib

    from fpdf.syntax import PDFContentStream

    from inkoopkracht_xl.write.pdf import PAGE_COMPRESSION, _pdf_class

    _pdf_class()
    contents = b"BT /F1 9.00 Tf 51.02 541.28 Td (Kenmerk K-0001) Tj ET\n" * 200
    stream = PDFContentStream(contents, compress=True)

    assert PAGE_COMPRESSION == 1
    assert stream.content_stream() == zlib.compress(contents, 1)
    assert stream.content_stream() != zlib.compress(contents)  # level 6 gives other bytes
    assert zlib.decompress(stream.content_stream()) == contents
