"""The rows an invoice shows: its lines, with a tender's many cost lines summed into one row."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..model import NETWORK_LINE, PROJECT_LINE, Invoice, InvoiceLine

# The basis of a row that sums a tender's lines: each line is on the Specificatie sheet.
SEE_SPECIFICATION = "zie werkblad Specificatie"


@dataclass(frozen=True)
class InvoiceRow:
    """One row of the Factuur sheet: a line, or the sum of one tender's lines of one kind."""

    description: str
    basis: str
    reference: str
    amount: Decimal


def invoice_rows(invoice: Invoice) -> list[InvoiceRow]:
    """The Factuur's rows: one per line, except that a tender with several project (or join)
    lines gets one row with their sum; every line itself is on the Specificatie sheet."""
    groups: dict[tuple[str, str], list[InvoiceLine]] = {}
    order: list[tuple[str, str] | InvoiceLine] = []
    for line in invoice.lines:
        if line.kind == NETWORK_LINE or not line.subject:
            order.append(line)
            continue
        key = (line.kind, line.subject)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(line)
    rows = []
    for item in order:
        lines = [item] if isinstance(item, InvoiceLine) else groups[item]
        if len(lines) == 1:
            line = lines[0]
            rows.append(InvoiceRow(line.description, line.basis, line.reference, line.amount))
            continue
        kind, subject = item
        what = "Projectkosten" if kind == PROJECT_LINE else "Verrekening toetredingen"
        rows.append(
            InvoiceRow(
                f"{what} {subject} ({len(lines)} kostenposten)",
                SEE_SPECIFICATION,
                "",
                sum((line.amount for line in lines), Decimal("0.00")),
            )
        )
    return rows
