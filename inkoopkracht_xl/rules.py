"""Billing rules shared by the checks, the settlement and the e-invoice (pure).

Who takes part in a subject on a day (`participants_on`), and which fields of Instellingen and
Contacten an e-invoice cannot do without (`missing_fields`): `controleer` reports them at the
cell, `ubl_document` refuses a document without them (`EInvoiceIncomplete`), so a missing field
is our located message, never a validator's error. Kept here, below both, so the checks need
not import the settlement or the e-invoice writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .model import Budget, Contact, Settings, Subject, subject_key


def participants_on(subject: Subject, day: date, budget: Budget) -> tuple[str, ...]:
    """Who takes part in a subject on a day: the calendar's participants, less joiners not yet joined."""
    joins = budget.joins_by_subject.get(subject_key(subject.name), ())
    later = {j.code for j in joins if j.date > day}
    return tuple(code for code in subject.participants if code not in later)


INSTELLINGEN = "Instellingen"
CONTACTEN = "Contacten"


@dataclass(frozen=True)
class RequiredField:
    """A field of Instellingen or Contacten the e-invoice needs, named as the workbook names it."""

    sheet: str  # "Instellingen" or "Contacten"
    name: str  # the key (Instellingen) or column (Contacten): "OIN", "Straat"
    attributes: tuple[str, ...]  # Sender or Contact attributes; any one of them filled suffices
    purpose: str  # Dutch: what it becomes in the e-invoice, for the message

    def __str__(self) -> str:
        return f"{self.sheet} › {self.name}"


def _field(sheet: str, name: str, attributes: str, purpose: str) -> RequiredField:
    return RequiredField(sheet, name, tuple(attributes.split()), purpose)


# The seller's fields every e-invoice needs (Sender attributes), with the rule that demands each.
REQUIRED_SELLER: tuple[RequiredField, ...] = (
    _field(INSTELLINGEN, "Rechtspersoon", "legal_name", "juridische naam van de verkoper (BR-06)"),
    _field(INSTELLINGEN, "Straat", "street", "adres van de verkoper (NL-R-002, BR-NL-3)"),
    _field(INSTELLINGEN, "Postcode", "postcode", "adres van de verkoper (NL-R-002, BR-NL-3)"),
    _field(INSTELLINGEN, "Plaats", "city", "adres van de verkoper (NL-R-002, BR-NL-3)"),
    _field(
        INSTELLINGEN,
        "OIN",
        "oin",
        "elektronisch adres en identificatie van de verkoper (PEPPOL-EN16931-R020, BR-NL-1)",
    ),
    _field(INSTELLINGEN, "IBAN", "iban", "rekening voor de SEPA-overboeking (BR-61)"),
)
# Only where Btw = E (exempt): the seller's VAT number and the exemption's statement.
REQUIRED_SELLER_EXEMPT: tuple[RequiredField, ...] = (
    _field(
        INSTELLINGEN, "Btw-nummer", "vat_number", "btw-nummer van de verkoper bij Btw = E (BR-E-02)"
    ),
    _field(
        INSTELLINGEN,
        "Btw-toelichting",
        "vat_note",
        "reden van de btw-vrijstelling bij Btw = E (BR-E-10)",
    ),
)
# The buyer's fields (Contact attributes). Rechtspersoon is not here: it defaults to
# 'Gemeente <naam>'.
REQUIRED_BUYER: tuple[RequiredField, ...] = (
    _field(CONTACTEN, "Straat", "street", "adres van de koper (NL-R-004, BR-NL-4)"),
    _field(CONTACTEN, "Postcode", "postcode", "adres van de koper (NL-R-004, BR-NL-4)"),
    _field(CONTACTEN, "Plaats", "city", "adres van de koper (NL-R-004, BR-NL-4)"),
    _field(
        CONTACTEN,
        "OIN",
        "oin",
        "elektronisch adres en identificatie van de koper (PEPPOL-EN16931-R010, BR-NL-10)",
    ),
    _field(
        CONTACTEN,
        "Uw kenmerk of Inkoopordernummer",
        "buyer_reference order_number",
        "referentie van de koper (PEPPOL-EN16931-R003, BR-NL-2)",
    ),
)

# What the e-invoice writes as nothing: characters XML cannot carry, tabs, line breaks, spaces.
_BLANK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff \t\r\n]")


def _filled(value: object) -> bool:
    """Whether the e-invoice would write something for this value (einvoice._clean not empty)."""
    return bool(value) and bool(_BLANK.sub("", str(value)))


def missing_seller_fields(settings: Settings) -> list[RequiredField]:
    """The Instellingen fields an e-invoice needs that are empty, in the order listed above."""
    required = REQUIRED_SELLER + (REQUIRED_SELLER_EXEMPT if settings.vat_category == "E" else ())
    # Btw-toelichting lives on Settings, the others on its Sender.
    owner = {
        a: settings if a == "vat_note" else settings.sender for f in required for a in f.attributes
    }
    return [f for f in required if not any(_filled(getattr(owner[a], a)) for a in f.attributes)]


def missing_buyer_fields(contact: Contact | None) -> list[RequiredField]:
    """The Contacten fields an e-invoice needs that are empty (all of them without a row)."""
    if contact is None:
        return list(REQUIRED_BUYER)
    return [
        f for f in REQUIRED_BUYER if not any(_filled(getattr(contact, a)) for a in f.attributes)
    ]


def missing_fields(settings: Settings, contact: Contact | None) -> list[RequiredField]:
    """Every field an e-invoice for this buyer still lacks: the seller's, then the buyer's."""
    return missing_seller_fields(settings) + missing_buyer_fields(contact)
