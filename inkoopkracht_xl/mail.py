"""E-mail: one message per invoice, as an Outlook draft (.eml) and over SMTP (verstuur)."""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from pathlib import Path

from .model import Contact, Invoice, Sender, Settings
from .money import format_euro

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Each attachment's MIME type and what the body calls it, by file suffix; in this order.
ATTACHMENTS = {
    ".pdf": (("application", "pdf"), "de {kind} (PDF)"),
    ".xml": (("application", "xml"), "de e-factuur (UBL) voor uw financiële systeem"),
    ".xlsx": (XLSX_TYPE, "de specificatie (Excel): per kostenpost hoe uw aandeel is berekend"),
}
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


def body(
    invoice: Invoice,
    contact: Contact,
    sender: Sender,
    organisation: str,
    attachments: Sequence[str] = (),
    settings: Settings | None = None,
) -> str:
    """The Dutch text of the message: number, total, due date, which attachment is which, and
    whom to ask. `attachments` are the file names; `settings` (when given) say how a credit
    note's money comes back and what the VAT statement is."""
    from .legal import account_holder, credit_return, vat_statement

    greeting = f"Beste {contact.name}," if contact.name else "Geachte heer, mevrouw,"
    amount = format_euro(abs(invoice.total))
    due = f"{invoice.due_date:%d-%m-%Y}" if invoice.due_date else ""
    credit = invoice.kind == "creditnota"
    kind = "creditnota" if credit else "factuur"
    vat = vat_statement(settings) if settings is not None else ""
    lines = [greeting, ""]
    lines.append(
        f"Hierbij ontvangt u {kind} {invoice.number} van {organisation} over de kostenverdeling "
        f"{invoice.period}."
    )
    if invoice.refers_to:
        what = "corrigeert" if credit else "is een correctie op"
        lines.append(f"Deze {kind} {what} factuur {invoice.refers_to}.")
    lines.append("")
    if credit:
        lines.append(f"Bedrag in uw voordeel: {amount}.")
        if settings is not None:
            lines.append(
                credit_return(invoice, settings, contact, organisation).replace("\u00a0", " ")
            )
        else:
            lines.append("Hoe dit bedrag terugkomt, staat op de creditnota.")
    else:
        lines += [f"Totaalbedrag: {amount}", f"Vervaldatum: {due}"]
        if sender.iban:
            holder = account_holder(settings) if settings is not None else sender.name
            lines.append(
                f"Betalen op: {sender.iban} t.n.v. {holder or organisation}, onder vermelding "
                f"van {invoice.number}."
            )
    lines.append(vat if settings is not None else "Geen btw.")
    named = [name for name in attachments if Path(name).suffix.lower() in ATTACHMENTS]
    if named:
        lines += ["", "In de bijlagen, alleen voor uw gemeente:"]
        for name in named:
            what = ATTACHMENTS[Path(name).suffix.lower()][1].format(kind=kind)
            lines.append(f"- {name}: {what}")
        if any(name.lower().endswith(".pdf") for name in named):
            lines.append(f"De PDF en de e-factuur zijn dezelfde {kind}: boek één van beide.")
    contact_line = "Vragen? Neem contact op met " + (sender.name or organisation)
    if sender.email:
        contact_line += f" via {sender.email}"
    lines += [
        "",
        contact_line + ".",
        "",
        "Met vriendelijke groet,",
        "",
        sender.name or organisation,
    ]
    return "\n".join(lines) + "\n"


def build_message(
    invoice: Invoice,
    contact: Contact,
    sender: Sender,
    attachments: Path | Sequence[Path],
    *,
    organisation: str,
    draft: bool,
    when: datetime,
    message_id: str | None = None,
    settings: Settings | None = None,
    contents: dict[str, bytes] | None = None,
) -> EmailMessage:
    """One message carrying only this municipality's files: the invoice PDF, its e-invoice (XML)
    and its workbook (the specification), in that order; the body says which is which.

    `contents`, when given, collects each attachment's content under a placeholder that the
    message carries instead (see `draft_bytes`)."""
    files = [attachments] if isinstance(attachments, Path) else list(attachments)
    files.sort(
        key=lambda path: (
            list(ATTACHMENTS).index(path.suffix.lower())
            if path.suffix.lower() in ATTACHMENTS
            else len(ATTACHMENTS)
        )
    )
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
    names = [path.name for path in files]
    message.set_content(body(invoice, contact, sender, organisation, names, settings))
    for path in files:
        maintype, subtype = ATTACHMENTS.get(path.suffix.lower(), (XLSX_TYPE, ""))[0]
        content = path.read_bytes()
        if contents is None:
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=path.name)
            continue
        # Random: no name or text in the message can contain it by chance or on purpose.
        placeholder = f"inkoopkracht-xl-bijlage-{secrets.token_hex(16)}"
        message.add_attachment(b"", maintype=maintype, subtype=subtype, filename=path.name)
        message.get_payload()[-1].set_payload(placeholder)
        contents[placeholder] = content
    return message


def draft_bytes(
    invoice: Invoice,
    contact: Contact,
    sender: Sender,
    attachments: Sequence[Path],
    *,
    organisation: str,
    when: datetime,
    settings: Settings | None = None,
) -> bytes:
    """The Outlook draft (.eml) of `build_message`, byte for byte what the email package would
    write, made fast: the attachments are base64-encoded in one call each and put in after the
    message is flattened. (The email package encodes and re-splits the half megabyte of a
    national invoice's PDF, e-invoice and workbook line by line in Python: 8 ms an invoice.)"""
    contents: dict[str, bytes] = {}
    message = build_message(
        invoice,
        contact,
        sender,
        attachments,
        organisation=organisation,
        draft=True,
        when=when,
        settings=settings,
        contents=contents,
    )
    flat = message.as_bytes()
    for placeholder, content in contents.items():
        encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
        flat = flat.replace(placeholder.encode("ascii"), encoded, 1)
    return flat


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
