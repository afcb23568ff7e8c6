"""What an invoice must say to be booked: who issues it, who receives it, the VAT statement, how a
credit comes back, and which of those facts the inputs still lack (SPEC §1 and §3).

One place for the workbook, the PDF, the mail, the e-invoice and `controleer`: a field the
e-invoice needs is listed here once, so `controleer` finds it missing before any writer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .model import Contact, Invoice, Settings
from .money import format_euro

# The cooperation: the sender as the invoices show it, never a legal entity of its own.
ORGANISATION = "Inkoopkracht ZHW"

# The statements printed when Btw-toelichting is empty, per Btw category. Which category applies
# is the penvoerder's tax adviser's call (README, "Btw").
VAT_REASONS = {
    "O": "de kostenverdeling tussen de deelnemende gemeenten is niet aan btw onderworpen",
    "E": "vrijgesteld van btw",
}
VAT_PREFIX = "Geen btw: "


def cooperation(settings: Settings) -> str:
    """The cooperation's name: Afzender, else Inkoopkracht ZHW."""
    return settings.sender.name.strip() or ORGANISATION


def issuer(settings: Settings) -> str:
    """The legal issuer as printed: 'Gemeente Zoetermeer, namens Inkoopkracht ZHW'; without a
    Rechtspersoon only the cooperation (controleer warns that it is missing)."""
    legal = settings.sender.legal_name.strip()
    return f"{legal}, namens {cooperation(settings)}" if legal else cooperation(settings)


def account_holder(settings: Settings) -> str:
    """In whose name the IBAN is: the penvoerder's when known (it receives the money)."""
    return settings.sender.legal_name.strip() or cooperation(settings)


def issuer_address(settings: Settings) -> str:
    """'Markt 1, 2711 AB Zoetermeer', from Straat, Postcode and Plaats (empty parts left out)."""
    sender = settings.sender
    place = " ".join(part for part in (sender.postcode, sender.city) if part)
    return ", ".join(part for part in (sender.street, place) if part)


def buyer_name(contact: Contact | None, name: str) -> str:
    """The buyer's legal name: Rechtspersoon in Contacten, else 'Gemeente <name>'."""
    if contact is not None and contact.legal_name.strip():
        return contact.legal_name.strip()
    return f"Gemeente {name}"


def buyer_address(contact: Contact | None) -> tuple[str, ...]:
    """The buyer's address lines as printed: street, then postcode and city."""
    if contact is None:
        return ()
    place = " ".join(part for part in (contact.postcode, contact.city) if part)
    return tuple(part for part in (contact.street, place) if part)


def vat_reason(settings: Settings) -> str:
    """Why there is no VAT, in Dutch (the e-invoice's exemption reason text, BT-120)."""
    note = settings.vat_note.strip()
    if note.casefold().startswith(VAT_PREFIX.casefold()):
        note = note[len(VAT_PREFIX) :].strip()
    return note or VAT_REASONS.get(settings.vat_category, VAT_REASONS["O"])


def vat_statement(settings: Settings) -> str:
    """The statement every invoice prints: 'Geen btw: …' (never only 'exclusief BTW')."""
    return f"{VAT_PREFIX}{vat_reason(settings)}".rstrip(".") + "."


@dataclass(frozen=True)
class Reference:
    """An earlier invoice this one corrects or deducts, as printed: number and date."""

    number: str
    issued: date | None = None

    def __str__(self) -> str:
        return f"{self.number} van {self.issued:%d-%m-%Y}" if self.issued else self.number


def credit_return(
    invoice: Invoice, settings: Settings, contact: Contact | None, cooperation_name: str = ""
) -> str:
    """How the money of a credit note comes back, per Creditnota (one way, never 'or')."""
    amount = nbsp(format_euro(abs(invoice.total)))
    buyer = buyer_name(contact, invoice.name)
    if settings.credit_method == "terugbetalen":
        iban = contact.iban if contact is not None else ""
        account = f"op {iban} t.n.v. {buyer}" if iban else f"op de rekening van {buyer}"
        return (
            f"Het bedrag van {amount} wordt binnen {settings.payment_days} dagen teruggestort "
            f"{account}."
        )
    who = cooperation_name or cooperation(settings)
    return (
        f"Het bedrag van {amount} wordt verrekend met de volgende factuur van {who} aan "
        f"{buyer}; u hoeft niets te doen."
    )


def nbsp(text: str) -> str:
    """Keep '€' with its amount on paper: the space after it becomes a non-breaking one."""
    return text.replace("€ ", "€\u00a0")


# -- what the printed invoice still lacks ---------------------------------------------------------
# The e-invoice's own list is rules.missing_fields (what it refuses without); this is what a
# printed invoice needs to be booked when no e-invoice is made (E-factuur = nee).

# (Instellingen key, Dutch name): the issuer's facts every invoice prints.
SELLER_FIELDS: tuple[tuple[str, str], ...] = (
    ("sender_legal_name", "Rechtspersoon"),
    ("sender_street", "Straat"),
    ("sender_postcode", "Postcode"),
    ("sender_city", "Plaats"),
    ("sender_iban", "IBAN"),
)
# (Contacten field, Dutch name): the buyer's address.
BUYER_FIELDS: tuple[tuple[str, str], ...] = (
    ("street", "Straat"),
    ("postcode", "Postcode"),
    ("city", "Plaats"),
)


def seller_gaps(settings: Settings) -> list[tuple[str, str]]:
    """The issuer's facts that are empty: (Instellingen key, Dutch name), in sheet order."""
    sender = settings.sender
    values = {
        "sender_legal_name": sender.legal_name,
        "sender_street": sender.street,
        "sender_postcode": sender.postcode,
        "sender_city": sender.city,
        "sender_iban": sender.iban,
    }
    gaps = [(key, dutch) for key, dutch in SELLER_FIELDS if not values[key].strip()]
    if not sender.oin and not sender.kvk:
        gaps.append(("sender_oin", "OIN of KvK"))
    if settings.vat_category == "E" and not sender.vat_number:
        gaps.append(("sender_vat_number", "Btw-nummer (Btw = E)"))
    return gaps


def unreported_seller_gaps(settings: Settings) -> list[tuple[str, str]]:
    """`seller_gaps` less those filled in but unreadable: those are errors at their cell."""
    invalid = settings.invalid
    if "sender_kvk" in invalid:
        invalid = invalid | {"sender_oin"}
    return [(key, dutch) for key, dutch in seller_gaps(settings) if key not in invalid]


def buyer_gaps(contact: Contact) -> list[tuple[str, str]]:
    """The buyer's address fields that are empty: (Contacten field, Dutch name); the legal
    name has a default ('Gemeente <naam>')."""
    return [(key, dutch) for key, dutch in BUYER_FIELDS if not getattr(contact, key).strip()]
