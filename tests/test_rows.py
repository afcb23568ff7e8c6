"""The rows an invoice shows: a tender's many cost lines become one row, nothing is lost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from inkoopkracht_xl.model import Invoice, InvoiceLine
from inkoopkracht_xl.write.rows import InvoiceRow, invoice_rows

D = Decimal


def _project(reference: str, subject: str, amount: str) -> InvoiceLine:
    return InvoiceLine(
        "project",
        f"Projectkosten {subject}",
        "1.000 van 3.000 inwoners",
        D(amount),
        reference,
        subject,
        date(2024, 3, 1),
        D("900.00"),
        ("DE", "PN"),
    )


def test_several_lines_of_one_tender_become_one_row_with_their_sum():
    invoice = Invoice(
        "DE",
        "Delft",
        "2024-H1",
        2024,
        (
            InvoiceLine(
                "netwerk",
                "Voorschot netwerkbijdrage 2024 (50 %)",
                "50 % van € 34.266,00",
                D("17133.00"),
            ),
            _project("K1", "Software broker", "300.00"),
            _project("K2", "Multifunctionals", "125.50"),
            _project("K3", "Software broker", "49.99"),
            InvoiceLine(
                "toetreding",
                "Verrekening toetreding Midden-Delfland tot Software broker",
                "aandeel was € 300,00, wordt € 250,00",
                D("-50.00"),
                "K1",
                "Software broker",
            ),
        ),
    )
    rows = invoice_rows(invoice)
    assert rows == [
        InvoiceRow(
            "Voorschot netwerkbijdrage 2024 (50 %)", "50 % van € 34.266,00", "", D("17133.00")
        ),
        # K1 + K3 = 300,00 + 49,99 = 349,99, in the place of the first of them.
        InvoiceRow(
            "Projectkosten Software broker (2 kostenposten)",
            "zie werkblad Specificatie",
            "",
            D("349.99"),
        ),
        InvoiceRow("Projectkosten Multifunctionals", "1.000 van 3.000 inwoners", "K2", D("125.50")),
        InvoiceRow(
            "Verrekening toetreding Midden-Delfland tot Software broker",
            "aandeel was € 300,00, wordt € 250,00",
            "K1",
            D("-50.00"),
        ),
    ]
    assert sum(row.amount for row in rows) == invoice.total == D("17558.49")
