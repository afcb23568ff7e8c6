"""What one invoice says, as text and numbers: the workbook and the PDF lay out the same document.

Built once per invoice from the invoice, the inputs and the dates of the invoices it refers to;
the writers only decide where each piece goes and how it looks (STYLE §6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..legal import (
    Reference,
    account_holder,
    buyer_address,
    buyer_name,
    cooperation,
    credit_return,
    issuer,
    issuer_address,
    nbsp,
    vat_statement,
)
from ..model import (
    CREDIT_NOTE,
    JOIN_LINE,
    NETWORK_LINE,
    PROJECT_LINE,
    Contact,
    Inputs,
    Invoice,
    InvoiceLine,
    Sender,
    Settings,
)
from ..money import format_euro
from .rows import SEE_SPECIFICATION, InvoiceRow, invoice_rows

# (A correction line keeps the kind it corrects: no kind of its own to list.)
SPECIFIED_KINDS = (PROJECT_LINE, JOIN_LINE)
# What the rows of an invoice that are not on the Specificatie are, by kind, in the sentence that
# reconciles the two totals.
_OTHER_KINDS = {NETWORK_LINE: "netwerkbijdrage"}


@dataclass(frozen=True)
class InvoiceDocument:
    """One invoice or credit note as it is printed: every text final (Dutch, '€' kept with its
    amount), every amount a Decimal."""

    invoice: Invoice
    credit: bool
    kind_word: str  # "Factuur" or "Creditnota"
    issuer: str  # "Gemeente Zoetermeer, namens Inkoopkracht ZHW"
    issuer_lines: tuple[str, ...]  # address, identifiers, contact, bank
    buyer: str  # "Gemeente Delft"
    buyer_lines: tuple[str, ...]  # t.a.v., street, postcode and city
    details: tuple[tuple[str, str | date | None], ...]  # (label, value) beside the addressee
    regarding: tuple[str, ...]  # "Betreft: …", and which invoice(s) it corrects
    rows: tuple[InvoiceRow, ...]
    total_label: str
    vat: str  # "Geen btw: …"
    instruction: str  # how to pay, or how a credit comes back
    notes: tuple[str, ...]
    specified: tuple[InvoiceLine, ...]
    specification_title: str
    specification_intro: str
    specification_total_label: str
    reconciliation: str  # the Specificatie's total and the invoice total in one line
    title: str  # document title: "Factuur IK-2024-0002 Gemeente Delft"
    subject: str  # "Kostenverdeling Inkoopkracht ZHW 2024-H1"
    author: str

    @property
    def total(self) -> Decimal:
        return self.invoice.total

    @property
    def specified_total(self) -> Decimal:
        return sum((line.amount for line in self.specified), Decimal("0.00"))


def specified_lines(invoice: Invoice) -> tuple[InvoiceLine, ...]:
    """The lines the Specificatie lists: project and join lines that name a cost line."""
    return tuple(line for line in invoice.lines if line.kind in SPECIFIED_KINDS and line.reference)


def cost_line_key(line: InvoiceLine) -> tuple[object, ...]:
    """What a cost line shows the same on each participant's invoice, as a key: the writers
    lay those cells out once per process (a cost line is on some seven invoices of a national
    run) and look them up by this."""
    return (
        line.reference,
        line.subject,
        line.description,
        line.cost_date,
        line.cost_total,
        line.participants,
    )


def cost_description(line: InvoiceLine) -> str:
    """What the Specificatie's Omschrijving shows: the line's description without the subject
    its Onderwerp column names already ('Projectkosten X: Juridisch advies' -> 'Juridisch
    advies'), so a row takes one or two lines, not three."""
    prefix = f"Projectkosten {line.subject}"
    if line.subject and line.description.startswith(f"{prefix}: "):
        return line.description[len(prefix) + 2 :]
    if line.subject and line.description == prefix:
        return "Projectkosten"
    return line.description


def build_document(
    invoice: Invoice, inputs: Inputs, issued: Mapping[str, date] | None = None
) -> InvoiceDocument:
    """The printed invoice. `issued` maps earlier invoice numbers to their dates, so a credit
    note and a correction name the invoice they correct with its date."""
    if invoice.is_own_share:
        raise ValueError("de penvoerder krijgt geen factuur; schrijf het eigen aandeel elders")
    settings = inputs.budget.settings
    contact = inputs.budget.contact(invoice.code)
    credit = invoice.kind == CREDIT_NOTE
    kind_word = "Creditnota" if credit else "Factuur"
    name_of = cooperation(settings)
    subject = f"Kostenverdeling {name_of} {invoice.period}"
    if credit:
        instruction = credit_return(invoice, settings, contact, name_of)
    else:
        instruction = _payment_instruction(invoice, inputs)
    specified = specified_lines(invoice)
    return InvoiceDocument(
        invoice=invoice,
        credit=credit,
        kind_word=kind_word,
        issuer=issuer(settings),
        issuer_lines=tuple(nbsp(line) for line in _issuer_lines(settings)),
        buyer=buyer_name(contact, invoice.name),
        buyer_lines=_buyer_lines(contact),
        details=_details(invoice, kind_word, contact),
        regarding=_regarding(invoice, subject, issued),
        rows=_printed_rows(invoice),
        total_label="Totaal creditnota (in uw voordeel)" if credit else "Totaal te betalen",
        vat=vat_statement(settings),
        instruction=nbsp(instruction),
        notes=_notes(specified, kind_word, settings.sender),
        specified=specified,
        specification_title=f"Specificatie projectkosten {invoice.period}",
        specification_intro=(
            f"{kind_word} {invoice.number} aan {buyer_name(contact, invoice.name)}: per "
            "kostenpost het totaalbedrag, de deelnemende gemeenten, de grondslag en het aandeel "
            "van de gemeente. " + vat_statement(settings)
        ),
        specification_total_label="Totaal specificatie (projectkosten en toetredingen)",
        reconciliation=nbsp(reconciliation(invoice, specified, kind_word)),
        title=f"{kind_word} {invoice.number} {invoice.name}",
        subject=subject,
        author=name_of,
    )


def _issuer_lines(settings: Settings) -> tuple[str, ...]:
    """The sender's address, identifiers, contact and bank: one printed line each, empty left out."""
    sender = settings.sender
    identifiers = [
        f"KvK {sender.kvk}" if sender.kvk else "",
        f"OIN {sender.oin}" if sender.oin else "",
        f"Btw-nummer {sender.vat_number}"
        if sender.vat_number and settings.vat_category == "E"
        else "",
    ]
    contact_parts = [
        f"Contactpersoon: {sender.contact_person}" if sender.contact_person else "",
        f"Telefoon: {sender.phone}" if sender.phone else "",
        f"E-mail: {sender.email}" if sender.email else "",
    ]
    bank = [
        f"IBAN: {sender.iban}" if sender.iban else "",
        f"BIC: {sender.bic}" if sender.bic else "",
    ]
    return tuple(
        line
        for line in (
            issuer_address(settings),
            f"Postadres: {sender.address}" if sender.address and sender.street else sender.address,
            _joined(identifiers),
            _joined(contact_parts),
            _joined(bank),
        )
        if line
    )


def _buyer_lines(contact: Contact | None) -> tuple[str, ...]:
    """The addressee's lines below its name: t.a.v. the contact, then the address."""
    buyer_lines: list[str] = []
    if contact is not None and contact.name.strip():
        buyer_lines.append(f"t.a.v. {contact.name.strip()}")
    buyer_lines += buyer_address(contact)
    return tuple(buyer_lines)


def _details(
    invoice: Invoice, kind_word: str, contact: Contact | None
) -> tuple[tuple[str, str | date | None], ...]:
    """The (label, value) pairs beside the addressee: number, dates, period, the buyer's marks."""
    details: list[tuple[str, str | date | None]] = [
        (f"{kind_word}nummer", invoice.number),
        (f"{kind_word}datum", invoice.issue_date),
    ]
    if invoice.kind != CREDIT_NOTE:
        details.append(("Vervaldatum", invoice.due_date))
    details.append(("Periode", invoice.period))
    if contact is not None and contact.buyer_reference:
        details.append(("Uw kenmerk", contact.buyer_reference))
    if contact is not None and contact.order_number:
        details.append(("Inkoopordernummer", contact.order_number))
    return tuple(details)


def _regarding(
    invoice: Invoice, subject: str, issued: Mapping[str, date] | None
) -> tuple[str, ...]:
    """'Betreft: …', and for a credit note or correction the invoice it corrects, with its date."""
    regarding = [f"Betreft: {subject}"]
    if invoice.refers_to:
        reference = Reference(invoice.refers_to, (issued or {}).get(invoice.refers_to))
        regarding.append(
            f"Deze creditnota corrigeert factuur {reference}."
            if invoice.kind == CREDIT_NOTE
            else f"Deze factuur is een correctie op factuur {reference}."
        )
    return tuple(regarding)


def _notes(specified: tuple[InvoiceLine, ...], kind_word: str, sender: Sender) -> tuple[str, ...]:
    """The notes below the total: where the specification is, whom to ask."""
    notes: list[str] = []
    if specified:
        notes.append(
            f"Elke kostenpost van de projectkosten staat met kenmerk en grondslag op de "
            f"specificatie bij deze {kind_word.lower()}."
        )
    if sender.email:
        notes.append(f"Vragen over deze {kind_word.lower()}? Mail naar {sender.email}.")
    return tuple(notes)


def _printed_rows(invoice: Invoice) -> tuple[InvoiceRow, ...]:
    """The invoice's rows as printed, spaces kept with their amounts."""
    # The invoice (PDF and workbook) has its specification after it, as pages or as a sheet.
    return tuple(
        InvoiceRow(
            nbsp(row.description),
            "zie de specificatie" if row.basis == SEE_SPECIFICATION else nbsp(row.basis),
            row.reference,
            row.amount,
        )
        for row in invoice_rows(invoice)
    )


def reconciliation(invoice: Invoice, specified: tuple[InvoiceLine, ...], kind_word: str) -> str:
    """'Totaal specificatie € 4.847,04 + netwerkbijdrage € 17.133,00 = totaal factuur
    IK-2024-0001 € 21.980,04': the Specificatie's total explained against the invoice's."""
    listed = {id(line) for line in specified}
    others: dict[str, Decimal] = {}
    for line in invoice.lines:
        if id(line) not in listed:
            what = _OTHER_KINDS.get(line.kind, "overige regels")
            others[what] = others.get(what, Decimal("0.00")) + line.amount
    spec_total = sum((line.amount for line in specified), Decimal("0.00"))
    terms = [f"Totaal specificatie {format_euro(spec_total)}"]
    terms += [f"{what} {format_euro(amount)}" for what, amount in others.items()]
    return (
        " + ".join(terms)
        + f" = totaal {kind_word.lower()} {invoice.number} {format_euro(invoice.total)}."
    )


def _payment_instruction(invoice: Invoice, inputs: Inputs) -> str:
    settings = inputs.budget.settings
    when = (
        f"vóór {invoice.due_date:%d-%m-%Y}"
        if invoice.due_date
        else f"binnen {settings.payment_days} dagen na de factuurdatum"
    )
    iban = settings.sender.iban.strip()
    account = f" op {iban}" if iban else ""
    return (
        f"Wij verzoeken u het totaalbedrag van {format_euro(invoice.total)} {when} over te maken"
        f"{account} t.n.v. {account_holder(settings)}, onder vermelding van factuurnummer "
        f"{invoice.number}."
    )


def _joined(parts: list[str]) -> str:
    return " · ".join(part for part in parts if part)
