"""E-mail: one message per invoice, as an Outlook draft (.eml) and over SMTP (verstuur)."""

from __future__ import annotations

import ipaddress
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path

from .model import Contact, Invoice, Sender
from .money import format_euro

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# A deliberately plain address check: one @, no spaces or quotes, a dotted domain.
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]")


class UnsafeHeader(ValueError):
    """A name or address from a workbook that would break or inject into an e-mail header."""


def clean_name(text: str) -> str:
    """A display name for a header: no line breaks (header injection), no control characters."""
    if _LINE_BREAKS.search(text):
        raise UnsafeHeader(f"'{text!r}' bevat een regelovergang")
    return "".join(ch for ch in text if ch >= " " and ch != "\x7f").strip()


def checked_address(text: str) -> str:
    address = text.strip()
    if _LINE_BREAKS.search(address) or not _ADDRESS.fullmatch(address):
        raise UnsafeHeader(f"'{address}' is geen geldig e-mailadres")
    return address


@dataclass(frozen=True)
class Recipients:
    to: tuple[str, ...]
    cc: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.to + self.cc


def recipients(contact: Contact) -> Recipients:
    return Recipients(
        tuple(checked_address(a) for a in contact.emails),
        tuple(checked_address(a) for a in contact.cc),
    )


def subject_line(invoice: Invoice, organisation: str) -> str:
    kind = "Creditnota" if invoice.kind == "creditnota" else "Factuur"
    return clean_name(f"{kind} {invoice.number} {organisation} {invoice.period}")


def body(invoice: Invoice, contact: Contact, sender: Sender, organisation: str) -> str:
    """The Dutch text of the message: number, total, due date and whom to ask."""
    greeting = f"Beste {contact.name}," if contact.name else "Geachte heer, mevrouw,"
    amount = format_euro(abs(invoice.total))
    due = f"{invoice.due_date:%d-%m-%Y}" if invoice.due_date else ""
    lines = [greeting, ""]
    if invoice.kind == "creditnota":
        lines += [
            f"Hierbij ontvangt u creditnota {invoice.number} van {organisation} over de "
            f"kostenverdeling {invoice.period}.",
            "",
            f"Bedrag: {amount} (exclusief BTW) in uw voordeel.",
            "Dit bedrag wordt met u verrekend of teruggestort.",
        ]
    else:
        lines += [
            f"Hierbij ontvangt u factuur {invoice.number} van {organisation} over de "
            f"kostenverdeling {invoice.period}.",
            "",
            f"Totaalbedrag: {amount} (exclusief BTW)",
            f"Vervaldatum: {due}",
        ]
        if sender.iban:
            lines.append(
                f"Betalen op: {sender.iban} t.n.v. {sender.name or organisation}, onder "
                f"vermelding van {invoice.number}."
            )
    if invoice.refers_to:
        lines.append(f"Dit is een correctie op factuur {invoice.refers_to}.")
    lines += [
        "",
        "De factuur staat in de bijlage (Excel); op het werkblad Specificatie ziet u per "
        "kostenpost hoe uw aandeel is berekend.",
    ]
    contact_line = "Vragen? Neem contact op met " + (sender.name or organisation)
    if sender.email:
        contact_line += f" via {sender.email}"
    lines += [contact_line + ".", "", "Met vriendelijke groet,", "", sender.name or organisation]
    return "\n".join(lines) + "\n"


def build_message(
    invoice: Invoice,
    contact: Contact,
    sender: Sender,
    attachment: Path,
    *,
    organisation: str,
    draft: bool,
    when: datetime,
    message_id: str | None = None,
) -> EmailMessage:
    """One message with exactly one attachment: this municipality's own invoice workbook."""
    target = recipients(contact)
    if not target.to:
        raise UnsafeHeader(f"geen e-mailadres voor {invoice.name}")
    message = EmailMessage(policy=SMTP_POLICY)
    if sender.email:
        message["From"] = Address(
            clean_name(sender.name or organisation), addr_spec=checked_address(sender.email)
        )
    message["To"] = ", ".join(target.to)
    if target.cc:
        message["Cc"] = ", ".join(target.cc)
    message["Subject"] = subject_line(invoice, organisation)
    message["Date"] = format_datetime(when.astimezone())
    domain = sender.email.rsplit("@", 1)[-1] if sender.email else "inkoopkracht-xl.invalid"
    message["Message-ID"] = message_id or make_msgid(idstring=invoice.number, domain=domain)
    if draft:
        message["X-Unsent"] = "1"  # Outlook opens the .eml as an editable draft
    message.set_content(body(invoice, contact, sender, organisation))
    message.add_attachment(
        attachment.read_bytes(),
        maintype=XLSX_TYPE[0],
        subtype=XLSX_TYPE[1],
        filename=attachment.name,
    )
    return message


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str = ""
    password: str = ""  # from the environment only; never written anywhere

    def __repr__(self) -> str:  # the password never reaches a log or a traceback
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.user!r})"


def connect(settings: SmtpSettings, timeout: float = 30) -> smtplib.SMTP:
    """An SMTP session: STARTTLS with certificate checks, except to a loopback host (tests)."""
    session = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    try:
        session.ehlo()
        if not is_loopback(settings.host):
            if not session.has_extn("starttls"):
                raise smtplib.SMTPException(
                    "de server biedt geen STARTTLS; zonder versleuteling wordt niet verstuurd"
                )
            session.starttls(context=ssl.create_default_context())
            session.ehlo()
        if settings.user:
            session.login(settings.user, settings.password)
    except BaseException:
        session.close()
        raise
    return session
