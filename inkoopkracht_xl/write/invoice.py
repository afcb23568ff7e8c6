"""One municipality's invoice workbook: Factuur, Specificatie and Kalender sheets (xlsxwriter)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..legal import nbsp
from ..model import CATEGORIES, Inputs, Invoice, InvoiceLine, Subject
from .document import (
    InvoiceDocument,
    build_document,
    cost_description,
    cost_line_key,
    specified_lines,
)
from .files import atomic_file
from .sparse import Cell, FastWorksheet
from .sparse import Workbook as FastWorkbook
from .styles import (
    WORKBOOK_OPTIONS,
    Styles,
    number,
    print_setup,
    set_lines_height,
    set_wrapped_height,
    text_lines,
    wrapped_height,
    wrapped_lines,
    write_titles,
)

__all__ = ["open_subjects_of", "specified_lines", "write_invoice"]

OPEN_CATEGORIES = (3, 4)

# Factuur columns: Omschrijving | Grondslag | Kenmerk | Bedrag (Excel character units).
_INVOICE_WIDTHS = (50, 32, 14, 15)
_INVOICE_SPAN = sum(_INVOICE_WIDTHS)


def write_invoice(
    path: Path,
    invoice: Invoice,
    inputs: Inputs,
    *,
    created: datetime,
    issued: Mapping[str, date] | None = None,
    document: InvoiceDocument | None = None,
) -> Path:
    """Write `invoice` as a workbook to `path` atomically; returns `path`.

    Sheets: Factuur (the invoice as the PDF shows it), Specificatie (each project and join line
    with its key, and how its total makes the invoice's) and Kalender (the subjects the
    municipality takes part in, and the open ones). `issued` maps earlier invoice numbers to
    their dates (a credit note names the invoice it corrects); `document`, when the caller built
    it already (for the PDF too), is used as is.
    """
    if invoice.is_own_share:
        raise ValueError("de penvoerder krijgt geen factuur; schrijf het eigen aandeel elders")
    document = document or build_document(invoice, inputs, issued)
    with atomic_file(path) as temporary:
        workbook = FastWorkbook(str(temporary), WORKBOOK_OPTIONS)
        workbook.set_properties(
            {
                "title": document.title,
                "subject": document.subject,
                "author": document.author,
                "company": document.author,
                "created": created,
            }
        )
        styles = Styles(workbook)
        _invoice_sheet(workbook, styles, document)
        _specification_sheet(workbook, styles, document)
        _calendar_sheet(workbook, styles, invoice, inputs)
        workbook.close()
    return path


def _write_date(sheet: Worksheet, row: int, col: int, day: date | None, fmt) -> None:
    if day is None:
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_datetime(row, col, datetime(day.year, day.month, day.day), fmt)


def _write_text(sheet: Worksheet, row: int, col: int, text: str, fmt) -> None:
    """User text, always as text (never a formula); an empty text leaves a blank cell."""
    if text:
        sheet.write_string(row, col, text, fmt)
    else:
        sheet.write_blank(row, col, None, fmt)


def _write_money(sheet: Worksheet, row: int, col: int, amount, fmt) -> None:
    if amount is None:
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_number(row, col, number(amount), fmt)


def _sum(sheet: Worksheet, row: int, col: int, first: int, last: int, value, fmt) -> None:
    """A SUM formula that carries its computed value (xlsxwriter would cache 0 otherwise)."""
    span = f"{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)}"
    sheet.write_formula(row, col, f"=SUM({span})", fmt, value)


def _paragraph(sheet: Worksheet, row: int, last_col: int, text: str, fmt) -> None:
    """A sentence over the page width, wrapped, its row as tall as its lines."""
    sheet.merge_range(row, 0, row, last_col, text, fmt)
    sheet.set_row(row, wrapped_height([(text, _INVOICE_SPAN)]))


def _invoice_sheet(workbook: Workbook, styles: Styles, document: InvoiceDocument) -> None:
    sheet = workbook.add_worksheet("Factuur", FastWorksheet)
    sheet.hide_gridlines(2)
    last_col = len(_INVOICE_WIDTHS) - 1
    invoice = document.invoice
    row = _letterhead(sheet, styles, document, last_col)
    row += 2
    sheet.write_string(row, 0, document.kind_word.upper(), styles.invoice_title)
    sheet.set_row(row, 28)
    row = _addressee_and_details(sheet, styles, document, row + 2)
    for text in document.regarding:
        _paragraph(sheet, row, last_col, text, styles.subject_line)
        row += 1
    total_row = _invoice_lines(sheet, styles, document, row + 1)

    row = total_row + 2
    _paragraph(sheet, row, last_col, document.vat, styles.text)
    row += 2
    _paragraph(sheet, row, last_col, document.instruction, styles.instruction)
    row += 1
    for text in document.notes:
        row += 1
        _paragraph(sheet, row, last_col, text, styles.note)

    for col, width in enumerate(_INVOICE_WIDTHS):
        sheet.set_column(col, col, width)
    print_setup(sheet, title=f"{document.kind_word} {invoice.number} · {document.buyer}")
    sheet.print_area(0, 0, row, last_col)


def _letterhead(sheet: Worksheet, styles: Styles, document: InvoiceDocument, last_col: int) -> int:
    """The legal issuer, its address, identifiers, contact and bank, and a rule under them;
    returns the rule's row."""
    row = 0
    sheet.write_string(row, 0, document.issuer, styles.sender_name)
    sheet.set_row(row, 17)
    for text in document.issuer_lines:
        row += 1
        sheet.write_string(row, 0, text, styles.sender)
    row += 1
    for col in range(last_col + 1):
        sheet.write_blank(row, col, None, styles.letterhead_rule)
    sheet.set_row(row, 6)
    return row


def _addressee_and_details(
    sheet: Worksheet, styles: Styles, document: InvoiceDocument, row: int
) -> int:
    """The addressee on the left, the invoice's particulars on the right, side by side from
    `row` on; returns the row after them and one blank row."""
    addressee = [(document.buyer, styles.addressee)]
    addressee += [(line, styles.text) for line in document.buyer_lines]
    details = document.details
    for offset in range(max(len(addressee), len(details))):
        if offset < len(addressee):
            text, fmt = addressee[offset]
            sheet.write_string(row + offset, 0, text, fmt)
        if offset < len(details):
            label, value = details[offset]
            sheet.write_string(row + offset, 2, label, styles.detail_label)
            if isinstance(value, str):
                sheet.write_string(row + offset, 3, value, styles.detail_value)
            else:
                _write_date(sheet, row + offset, 3, value, styles.detail_date)
    return row + max(len(addressee), len(details)) + 1


def _invoice_lines(
    sheet: FastWorksheet, styles: Styles, document: InvoiceDocument, header_row: int
) -> int:
    """The lines, with how each amount was computed, and their total; returns the total's row."""
    row = header_row
    sheet.write_row(header_row, 0, ["Omschrijving", "Grondslag"], styles.header)
    sheet.write_string(header_row, 2, "Kenmerk", styles.header_wrap_indent)
    sheet.write_string(header_row, 3, "Bedrag", styles.header_right)
    for line in document.rows:
        row += 1
        sheet.write_cells(
            row,
            0,
            [
                (line.description, styles.line_text),
                (line.basis, styles.line_text),
                (line.reference, styles.line_code),
                (number(line.amount), styles.line_money),
            ],
        )
        set_wrapped_height(
            sheet, row, [(line.description, _INVOICE_WIDTHS[0]), (line.basis, _INVOICE_WIDTHS[1])]
        )
    total_row = row + 1
    sheet.write_string(total_row, 0, document.total_label, styles.total_label)
    sheet.write_blank(total_row, 1, None, styles.total_label)
    sheet.write_blank(total_row, 2, None, styles.total_label)
    if document.invoice.lines:
        _sum(
            sheet,
            total_row,
            3,
            header_row + 1,
            total_row - 1,
            number(document.invoice.total),
            styles.total_money,
        )
    else:
        sheet.write_number(total_row, 3, 0, styles.total_money)
    return total_row


# Specificatie columns: (header, width, header style). Amounts are right-aligned, so the text
# column after an amount is indented and dates are centred: neighbours never touch.
_SPECIFICATION_COLUMNS = (
    ("Kenmerk", 13, "header"),
    ("Onderwerp", 32, "header"),
    ("Omschrijving", 30, "header"),
    ("Datum", 12, "header_centre"),
    ("Totaalbedrag", 14, "header_right"),
    ("Deelnemers", 21, "header_wrap_indent"),
    ("Grondslag", 28, "header"),
    ("Aandeel", 13, "header_right"),
)


def _specification_sheet(workbook: Workbook, styles: Styles, document: InvoiceDocument) -> None:
    sheet = workbook.add_worksheet("Specificatie", FastWorksheet)
    invoice = document.invoice
    columns = len(_SPECIFICATION_COLUMNS)
    span = sum(width for _, width, _ in _SPECIFICATION_COLUMNS)
    write_titles(
        sheet, styles, document.specification_title, document.specification_intro, (columns, span)
    )
    for col, (_, width, _) in enumerate(_SPECIFICATION_COLUMNS):
        sheet.set_column(col, col, width)
    title = f"Specificatie {invoice.number} · {document.buyer}"
    header_row = 3
    if not document.specified:
        sheet.write_string(header_row, 0, "Geen projectkosten in deze periode.", styles.text)
        print_setup(sheet, landscape=True, title=title)
        return

    for col, (header, _, style) in enumerate(_SPECIFICATION_COLUMNS):
        sheet.write_string(header_row, col, header, getattr(styles, style))
    last = _specification_rows(sheet, styles, document.specified, header_row)
    total_row = last + 1
    sheet.write_string(total_row, 0, document.specification_total_label, styles.total_label)
    for col in range(1, columns - 1):
        sheet.write_blank(total_row, col, None, styles.total_label)
    _sum(
        sheet,
        total_row,
        columns - 1,
        header_row + 1,
        last,
        number(document.specified_total),
        styles.total_money,
    )
    # How this total makes the invoice's: in one line, under it.
    reconcile_row = total_row + 2
    sheet.merge_range(
        reconcile_row, 0, reconcile_row, columns - 1, document.reconciliation, styles.note
    )
    sheet.set_row(reconcile_row, wrapped_height([(document.reconciliation, span)]))
    sheet.freeze_panes(header_row + 1, 0)
    sheet.autofilter(header_row, 0, last, columns - 1)
    print_setup(sheet, landscape=True, repeat_rows=(header_row, header_row), title=title)
    sheet.print_area(0, 0, reconcile_row, columns - 1)


def _specification_rows(
    sheet: FastWorksheet, styles: Styles, lines: tuple[InvoiceLine, ...], header_row: int
) -> int:
    """A row per specified line below `header_row`; returns the last row. The hot loop of a
    national run: one call per sheet, nothing added per cell."""
    row = header_row
    for line in lines:
        row += 1
        reference, subject, description, day, total, participants, needed = _cost_line(line)
        basis = nbsp(line.basis)
        sheet.write_cells(
            row,
            0,
            [
                (reference, styles.text),
                (subject, styles.wrap),
                (description, styles.wrap),
                (day, styles.date_centre),
                (total, styles.money),
                (participants, styles.wrap_indent),
                (basis, styles.wrap),
                (number(line.amount), styles.money),
            ],
        )
        set_lines_height(sheet, row, max(needed, text_lines(basis, 28)))
    return row


# What a row shows of the cost line itself, the same on each participant's invoice: its cells'
# values and the lines the tallest takes, by document.cost_line_key.
CostLineCells = tuple[str, str, str, "date | None", "float | int | None", str, int]
_COST_LINES: dict[tuple, CostLineCells] = {}
_COST_LINE_LIMIT = 30_000


def _cost_line(line: InvoiceLine) -> CostLineCells:
    key = cost_line_key(line)
    cells = _COST_LINES.get(key)
    if cells is None:
        if len(_COST_LINES) >= _COST_LINE_LIMIT:
            _COST_LINES.clear()
        participants = ", ".join(line.participants)
        description = nbsp(cost_description(line))
        needed = wrapped_lines(
            [(line.reference, 13), (line.subject, 32), (description, 30), (participants, 19)]
        )
        total = None if line.cost_total is None else number(line.cost_total)
        cells = _COST_LINES[key] = (
            line.reference,
            line.subject,
            description,
            line.cost_date,
            total,
            participants,
            needed,
        )
    return cells


# Kalender columns: (header, width, header style); years are centred, clear of wrapped text.
_CALENDAR_COLUMNS = (
    ("Categorie", 10, "header_centre"),
    ("Onderwerp", 54, "header"),
    ("Jaar van inventarisatie", 13, "header_centre"),
    ("Deelnemende gemeenten", 24, "header"),
    ("Jaar gezamenlijk aanbesteed", 13, "header_centre"),
)


def _calendar_sheet(workbook: Workbook, styles: Styles, invoice: Invoice, inputs: Inputs) -> None:
    sheet = workbook.add_worksheet("Kalender", FastWorksheet)
    calendar = inputs.calendar
    year = inputs.budget.settings.year
    columns = len(_CALENDAR_COLUMNS)
    span = sum(width for _, width, _ in _CALENDAR_COLUMNS)
    mine = list(calendar.subjects_of(invoice.code))
    write_titles(
        sheet,
        styles,
        f"Aanbestedingskalender {year}: Gemeente {invoice.name}",
        f"De onderwerpen waaraan Gemeente {invoice.name} deelneemt, per categorie; daaronder "
        "de open onderwerpen van categorie 3 en 4 om samen te verkennen.",
        (columns, span),
    )
    for col, (_, width, _) in enumerate(_CALENDAR_COLUMNS):
        sheet.set_column(col, col, width)

    header_row = 3
    for col, (header, _, style) in enumerate(_CALENDAR_COLUMNS):
        sheet.write_string(header_row, col, header, getattr(styles, style))
    sheet.set_row(header_row, 28)
    row = header_row
    if mine:
        row = _subject_rows(sheet, styles, row, mine, full=True)
    else:
        row += 1
        sheet.write_string(
            row,
            0,
            f"Gemeente {invoice.name} neemt aan geen onderwerp van de kalender deel.",
            styles.text,
        )
    row = _open_subjects(sheet, styles, open_subjects_of(calendar), row + 2)

    # Years are text on purpose ("2023/2024", "Nader te bepalen"): no green "number as text" marks.
    sheet.ignore_errors({"number_stored_as_text": f"A1:{xl_rowcol_to_cell(row, columns - 1)}"})
    sheet.freeze_panes(header_row + 1, 0)
    # No repeated header rows in print: below the first table the open subjects have their own.
    print_setup(sheet, title=f"Kalender {year} · Gemeente {invoice.name}")
    sheet.print_area(0, 0, row, columns - 1)


def _open_subjects(
    sheet: FastWorksheet, styles: Styles, open_subjects: list[Subject], row: int
) -> int:
    """From `row` on: the heading, a note and the open subjects' table; returns its last row."""
    columns = len(_CALENDAR_COLUMNS)
    span = sum(width for _, width, _ in _CALENDAR_COLUMNS)
    sheet.write_string(
        row, 0, "Open onderwerpen om samen te verkennen (categorie 3 en 4)", styles.heading
    )
    row += 1
    note = (
        "Onderwerpen waarvoor zich nog geen gemeente heeft aangemeld. "
        "Interesse? Meld het bij de coördinator van Inkoopkracht."
    )
    sheet.merge_range(row, 0, row, columns - 1, note, styles.note)
    sheet.set_row(row, wrapped_height([(note, span)]))
    row += 1
    open_header = row
    for col, (header, _, style) in enumerate(_CALENDAR_COLUMNS[:3]):
        sheet.write_string(open_header, col, header, getattr(styles, style))
    sheet.set_row(open_header, 28)
    if open_subjects:
        row = _subject_rows(sheet, styles, row, open_subjects, full=False)
    else:
        row += 1
        sheet.write_string(row, 0, "Geen open onderwerpen.", styles.text)
    return row


def open_subjects_of(calendar) -> list[Subject]:
    """The open subjects of categories 3 and 4: those no municipality has signed up for yet.

    As in the jaarplan, where every verkenning and breed-uitzoeken subject is still open. A
    subject others have signed up for is underway; it shows in the overview's Deelnamematrix.
    """
    return [s for s in calendar.unclaimed if s.category in OPEN_CATEGORIES]


def _subject_rows(
    sheet: FastWorksheet, styles: Styles, row: int, subjects: list[Subject], *, full: bool
) -> int:
    """Subjects grouped by category under a band with the category's name; returns the last row."""
    last_col = len(_CALENDAR_COLUMNS) - 1 if full else 2
    category = None
    for subject in sorted(subjects, key=lambda s: s.category):
        if subject.category != category:
            category = subject.category
            row += 1
            sheet.write_number(row, 0, category, styles.band_centre)
            name = CATEGORIES.get(category, "")
            # Merged over the row: the longest category name is wider than the Onderwerp column.
            sheet.merge_range(row, 1, row, last_col, name, styles.band)
        row += 1
        cells: list[Cell] = [
            (subject.category, styles.count),
            (subject.name, styles.wrap),
            (subject.inventory_year, styles.centre),
        ]
        texts = [(subject.name, _CALENDAR_COLUMNS[1][1])]
        if full:
            participants = ", ".join(subject.participants)
            cells += [(participants, styles.wrap), (subject.joint_year, styles.centre)]
            texts.append((participants, _CALENDAR_COLUMNS[3][1]))
        sheet.write_cells(row, 0, cells)
        set_wrapped_height(sheet, row, texts)
    return row
