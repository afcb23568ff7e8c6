"""The overview's Facturen sheet: one row per invoice, the coordinator's list to tick off.

Each invoice of this settlement gets a row (number, kind, municipality, dates, amount, the
addresses its e-mail goes to, whether it was sent) and an empty box to tick; a total row sums
the amounts (it equals the Afrekening sheet's invoices and credit notes) and counts the rows.
The penvoerder's own share is no invoice: a note below the table names it with its amount.

A correction batch (`2024-H1-correctie-1`) also lists the period's earlier invoices, in a
separate block below: the table above stays this run's drafts only, so its total still equals
the Afrekening sheet and its filter and tick boxes are about what is to be sent now. The block
has a column Afrekening naming each invoice's batch (an original and earlier corrections may
both be there) and its state as the register had it when this overview was made: "ja" with the
date it was sent, "mislukt", "onzeker" (handed to the server when verstuur was interrupted) or
"nee (concept)". A re-run of a period whose messages all failed says "nee (concept; eerder
mislukt)". The sheet is a snapshot: verstuur does not update it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from xlsxwriter.utility import xl_rowcol_to_cell

from ..addresses import UnsafeHeader, recipients
from ..model import Budget, Invoice
from ..money import format_euro
from .styles import (
    Styles,
    number,
    print_setup,
    set_widths,
    set_wrapped_height,
    write_titles,
)

SHEET = "Facturen"
HEADERS = (
    "Nummer",
    "Soort",
    "Code",
    "Gemeente",
    "Factuurdatum",
    "Vervaldatum",
    "Bedrag",
    "E-mail",
    "Verzonden",
    "Afgevinkt",
)
WIDTHS = (14, 11, 7, 24, 12.5, 12.5, 14, 42, 19, 11)
AMOUNT, EMAIL, SENT, LAST = 6, 7, 8, 9
HEADER_ROW = 3  # 0-based: title, subtitle, a blank row, then the header

NO_ADDRESS = "geen e-mailadres: zie Contacten"
DRAFT = "nee (concept)"
# The register's message states as the coordinator reads them.
STATES = {
    "concept": DRAFT,
    "mislukt": "mislukt",
    "bezig": "onzeker",
    "verzonden": "ja",
}


@dataclass(frozen=True)
class ListedInvoice:
    """One row of the Facturen sheet."""

    number: str
    kind: str  # "factuur" or "creditnota"
    code: str
    name: str
    issue_date: date | None
    due_date: date | None
    total: Decimal
    email: str  # the addresses, or what is wrong with them (Dutch)
    addressed: bool  # False: no usable address, the cell says so
    sent: str  # Dutch: "nee (concept)", "ja, op 12-07-2024", "mislukt", "onzeker"
    batch: str = ""


@dataclass(frozen=True)
class InvoiceList:
    """What the Facturen sheet shows (picklable: it travels to the overview's worker)."""

    batch: str
    invoices: tuple[ListedInvoice, ...]
    own_shares: tuple[tuple[str, Decimal], ...] = ()  # (penvoerder, amount): no invoice
    earlier: tuple[ListedInvoice, ...] = ()  # a correction: the period's earlier invoices

    @property
    def total(self) -> Decimal:
        return sum((i.total for i in self.invoices), Decimal("0.00"))


def invoice_list(
    batch: str,
    invoices: Iterable[Invoice],
    budget: Budget,
    *,
    delivery: Mapping[str, str] | None = None,
    earlier: Iterable[tuple] = (),
) -> InvoiceList:
    """The sheet's rows for this run's numbered `invoices` (the own share becomes a note).

    `budget` gives the Contacten addresses; `delivery` (Register.delivery of this batch) tells
    whether an earlier attempt of a kept number failed; `earlier` are the rows of
    Register.period_deliveries of the period's earlier batches (a correction)."""
    delivery = delivery or {}
    rows, own = [], []
    for invoice in invoices:
        if invoice.is_own_share:
            own.append((invoice.name, invoice.total))
            continue
        email, addressed = addresses(budget, invoice.code)
        sent = DRAFT
        if delivery.get(invoice.number) == "mislukt":
            sent = "nee (concept; eerder mislukt)"
        rows.append(
            ListedInvoice(
                invoice.number,
                invoice.kind,
                invoice.code,
                invoice.name,
                invoice.issue_date,
                invoice.due_date,
                invoice.total,
                email,
                addressed,
                sent,
                batch,
            )
        )
    return InvoiceList(
        batch,
        tuple(rows),
        tuple(own),
        tuple(_earlier(budget, row) for row in earlier if row[0] != batch),
    )


def addresses(budget: Budget, code: str) -> tuple[str, bool]:
    """The municipality's e-mail addresses as the draft has them ('; ' between, the CC on a
    line of its own), or what is wrong; and whether there is an address at all."""
    contact = budget.contact(code)
    if contact is None:
        return NO_ADDRESS, False
    try:
        target = recipients(contact)
    except UnsafeHeader:
        return "ongeldig e-mailadres: zie Contacten", False
    if not target.to:
        return NO_ADDRESS, False
    text = "; ".join(target.to)
    if target.cc:
        text += "\ncc: " + "; ".join(target.cc)
    return text, True


def _earlier(budget: Budget, row: tuple) -> ListedInvoice:
    batch, number, code, name, kind, total, issued, due, state, sent_at, sent_to = row
    sent = STATES.get(state, state)
    if state == "verzonden" and sent_at:
        sent = f"ja, op {datetime.fromisoformat(sent_at):%d-%m-%Y}"
    if sent_to:  # where the message went, as recorded (To and CC together)
        email, addressed = sent_to, True
    else:
        email, addressed = addresses(budget, code)
    return ListedInvoice(
        number, kind, code, name, issued, due, total, email, addressed, sent, batch
    )


def invoices_sheet(workbook, styles: Styles, listing: InvoiceList) -> None:
    """The Facturen sheet: the table, its total and count, the notes, and for a correction the
    earlier invoices. Header frozen, filter, A4 landscape."""
    sheet = workbook.add_worksheet(SHEET)
    write_titles(
        sheet,
        styles,
        f"Facturen {listing.batch}",
        "Per factuur het nummer, de gemeente, de data, het bedrag en het adres van het "
        "e-mailconcept: vink af wat klopt voordat u verstuurt. Verzonden is de stand bij het "
        "maken van dit overzicht; 'inkoopkracht-xl verstuur' toont de actuele stand.",
        (len(HEADERS), sum(WIDTHS)),
    )
    _header(sheet, styles, HEADER_ROW, HEADERS[LAST], styles.header_centre)  # over the boxes
    row = HEADER_ROW
    for invoice in listing.invoices:
        row += 1
        _invoice_row(sheet, styles, row, invoice)
        sheet.write_blank(row, LAST, None, styles.check)
    last = row
    row = _total_row(sheet, styles, row + 1, listing)
    row = _notes(sheet, styles, row + 2, listing)
    if listing.earlier:
        _earlier_block(sheet, styles, row + 2, listing)
    set_widths(sheet, WIDTHS)
    if listing.earlier:  # the last column names their batches: "2024-H1-correctie-1"
        batches = max(len(invoice.batch) for invoice in listing.earlier)
        sheet.set_column(LAST, LAST, max(WIDTHS[LAST], batches + 2))
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.autofilter(HEADER_ROW, 0, max(last, HEADER_ROW), LAST)
    print_setup(
        sheet,
        landscape=True,
        repeat_rows=(HEADER_ROW, HEADER_ROW),
        title=f"Facturen {listing.batch}",
    )


def _header(sheet, styles: Styles, row: int, last: str, last_format) -> None:
    sheet.write_row(row, 0, HEADERS[:AMOUNT], styles.header)
    sheet.write_string(row, AMOUNT, HEADERS[AMOUNT], styles.header_right)
    # Indented: the addresses keep their distance from the right-aligned amounts.
    sheet.write_string(row, EMAIL, HEADERS[EMAIL], styles.header_wrap_indent)
    sheet.write_string(row, SENT, HEADERS[SENT], styles.header)
    sheet.write_string(row, LAST, last, last_format)


def _invoice_row(sheet, styles: Styles, row: int, invoice: ListedInvoice) -> None:
    sheet.write_string(row, 0, invoice.number, styles.code)
    sheet.write_string(row, 1, invoice.kind, styles.text)
    sheet.write_string(row, 2, invoice.code, styles.code)
    sheet.write_string(row, 3, invoice.name, styles.text)
    for column, day in ((4, invoice.issue_date), (5, invoice.due_date)):
        if day is None:
            sheet.write_blank(row, column, None, styles.date)
        else:
            sheet.write_datetime(row, column, datetime(day.year, day.month, day.day), styles.date)
    sheet.write_number(row, AMOUNT, number(invoice.total), styles.money)
    sheet.write_string(
        row, EMAIL, invoice.email, styles.wrap_indent if invoice.addressed else styles.error_indent
    )
    attention = invoice.sent in (STATES["mislukt"], STATES["bezig"])
    sheet.write_string(row, SENT, invoice.sent, styles.warning if attention else styles.wrap)
    set_wrapped_height(sheet, row, [(invoice.email, WIDTHS[EMAIL]), (invoice.sent, WIDTHS[SENT])])


def _total_row(sheet, styles: Styles, row: int, listing: InvoiceList) -> int:
    """Totaal: the count of the numbers and the sum of the amounts, formulas with their values
    cached (an empty table gets the plain zeros: a SUM over no rows would be a wrong range)."""
    count = len(listing.invoices)
    sheet.write_string(row, 0, "Totaal", styles.total_label)
    for column in range(2, LAST + 1):
        if column != AMOUNT:
            sheet.write_blank(row, column, None, styles.total_label)
    if not count:
        sheet.write_number(row, 1, 0, styles.total_count)
        sheet.write_number(row, AMOUNT, 0, styles.total_money)
        return row
    first, last = HEADER_ROW + 1, row - 1
    numbers = f"{xl_rowcol_to_cell(first, 0)}:{xl_rowcol_to_cell(last, 0)}"
    amounts = f"{xl_rowcol_to_cell(first, AMOUNT)}:{xl_rowcol_to_cell(last, AMOUNT)}"
    sheet.write_formula(row, 1, f"=COUNTA({numbers})", styles.total_count, count)
    sheet.write_formula(row, AMOUNT, f"=SUM({amounts})", styles.total_money, number(listing.total))
    return row


def _notes(sheet, styles: Styles, row: int, listing: InvoiceList) -> int:
    """The penvoerder's own share (no invoice) and what the states in Verzonden mean."""
    notes = []
    if not listing.invoices:
        notes.append(f"In {listing.batch} zijn geen facturen of creditnota's gemaakt.")
    for name, amount in listing.own_shares:
        notes.append(
            f"De penvoerder, {name}, krijgt geen factuur: haar eigen aandeel in deze afrekening "
            f"is {format_euro(amount)} (zie het werkblad Afrekening)."
        )
    notes.append(
        "Verzonden: 'nee (concept)' is nog niet verstuurd; 'mislukt': het versturen is mislukt, "
        "verstuur opnieuw; 'onzeker': het versturen is afgebroken, vraag de ontvanger of het "
        "bericht is aangekomen. Zonder e-mailadres is er geen e-mailconcept: vul het werkblad "
        "Contacten aan of verstuur de factuur zelf."
    )
    for text in notes:
        sheet.merge_range(row, 0, row, LAST, text, styles.note)
        set_wrapped_height(sheet, row, [(text, sum(WIDTHS))])
        row += 1
    return row - 1


def _earlier_block(sheet, styles: Styles, row: int, listing: InvoiceList) -> None:
    """The period's earlier invoices, with their batch and state in the register."""
    sheet.write_string(
        row,
        0,
        "Eerdere facturen van deze periode (stand in het register bij het maken van dit overzicht)",
        styles.heading,
    )
    row += 1
    _header(sheet, styles, row, "Afrekening", styles.header)
    for invoice in listing.earlier:
        row += 1
        _invoice_row(sheet, styles, row, invoice)
        sheet.write_string(row, LAST, invoice.batch, styles.text)
