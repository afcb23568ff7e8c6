"""E-mail: one message per invoice, as an Outlook draft (.eml) and over SMTP (verstuur)."""

from __future__ import annotations

import binascii
import ipaddress
import secrets
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

from .addresses import UnsafeHeader, checked_address, clean_name, recipients
from .model import CREDIT_NOTE, Contact, Invoice, Sender, Settings
from .money import format_euro


class _Headers(HeaderRegistry):
    """The email package's header registry, making each header's class once per process.

    The stock registry makes a new class for every header of every message (`type(...)` in
    its __getitem__): some fifty per invoice draft, each a few microseconds to make and
    garbage for the collector afterwards. The class made is the same every time."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made


SMTP_POLICY = SMTP.clone(header_factory=_Headers())

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Each attachment's MIME type and what the body calls it, by file suffix; in this order.
ATTACHMENTS = {
    ".pdf": (("application", "pdf"), "de {kind} (PDF)"),
    ".xml": (("application", "xml"), "de e-factuur (UBL) voor uw financiële systeem"),
    ".xlsx": (XLSX_TYPE, "de specificatie (Excel): per kostenpost hoe uw aandeel is berekend"),
}


def subject_line(invoice: Invoice, organisation: str) -> str:
    kind = "Creditnota" if invoice.kind == CREDIT_NOTE else "Factuur"
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
    from .legal import vat_statement

    greeting = f"Beste {contact.name}," if contact.name else "Geachte heer, mevrouw,"
    credit = invoice.kind == CREDIT_NOTE
    kind = "creditnota" if credit else "factuur"
    lines = [greeting, ""]
    lines.append(
        f"Hierbij ontvangt u {kind} {invoice.number} van {organisation} over de kostenverdeling "
        f"{invoice.period}."
    )
    if invoice.refers_to:
        what = "corrigeert" if credit else "is een correctie op"
        lines.append(f"Deze {kind} {what} factuur {invoice.refers_to}.")
    lines.append("")
    lines += _amount_lines(invoice, contact, sender, organisation, settings)
    lines.append(vat_statement(settings) if settings is not None else "Geen btw.")
    lines += _attachment_lines(attachments, kind)
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


def _amount_lines(
    invoice: Invoice,
    contact: Contact,
    sender: Sender,
    organisation: str,
    settings: Settings | None,
) -> list[str]:
    """The amount and how it is paid: to whom (an invoice), or how it comes back (a credit note)."""
    from .legal import account_holder, credit_return

    amount = format_euro(abs(invoice.total))
    if invoice.kind == CREDIT_NOTE:
        if settings is None:
            back = "Hoe dit bedrag terugkomt, staat op de creditnota."
        else:
            back = credit_return(invoice, settings, contact, organisation).replace("\u00a0", " ")
        return [f"Bedrag in uw voordeel: {amount}.", back]
    due = f"{invoice.due_date:%d-%m-%Y}" if invoice.due_date else ""
    lines = [f"Totaalbedrag: {amount}", f"Vervaldatum: {due}"]
    if sender.iban:
        holder = account_holder(settings) if settings is not None else sender.name
        lines.append(
            f"Betalen op: {sender.iban} t.n.v. {holder or organisation}, onder vermelding "
            f"van {invoice.number}."
        )
    return lines


def _attachment_lines(attachments: Sequence[str], kind: str) -> list[str]:
    """Which attachment is which, for the municipality's finance department."""
    named = [name for name in attachments if Path(name).suffix.lower() in ATTACHMENTS]
    if not named:
        return []
    lines = ["", "In de bijlagen, alleen voor uw gemeente:"]
    for name in named:
        what = ATTACHMENTS[Path(name).suffix.lower()][1].format(kind=kind)
        lines.append(f"- {name}: {what}")
    if any(name.lower().endswith(".pdf") for name in named):
        lines.append(f"De PDF en de e-factuur zijn dezelfde {kind}: boek één van beide.")
    return lines


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
    known: Mapping[Path, bytes] | None = None,
) -> EmailMessage:
    """One message carrying only this municipality's files: the invoice PDF, its e-invoice (XML)
    and its workbook (the specification), in that order; the body says which is which.

    `contents`, when given, collects each attachment's content under a placeholder that the
    message carries instead (see `draft_bytes`). `known` holds attachments' bytes already in
    memory, by path (files just written); the others are read from the disk."""
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
        content = known[path] if known and path in known else path.read_bytes()
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
    known: Mapping[Path, bytes] | None = None,
) -> bytes:
    """The Outlook draft (.eml) of `build_message`, byte for byte what the email package would
    write, made fast: the attachments are base64-encoded in one call each and put in after the
    message is flattened. (The email package encodes and re-splits the half megabyte of a
    national invoice's PDF, e-invoice and workbook line by line in Python: 8 ms an invoice.)
    `known`: as for build_message."""
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
        known=known,
    )
    flat = message.as_bytes()
    for placeholder, content in contents.items():
        flat = flat.replace(placeholder.encode("ascii"), _base64_lines(content), 1)
    return flat


def _base64_lines(content: bytes) -> bytes:
    """`content` in base64 as the email package writes an attachment: lines of 76 characters,
    each ended by CRLF (base64.encodebytes, but encoded in one call instead of per line)."""
    encoded = binascii.b2a_base64(content, newline=False)
    lines = [encoded[start : start + 76] for start in range(0, len(encoded), 76)]
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


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
