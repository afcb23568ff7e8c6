"""verstuur: list or send one batch's invoices, each exactly once, each with only its own file."""

from __future__ import annotations

import contextlib
import re
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from .addresses import UnsafeHeader, recipients
from .errors import InputRefused
from .locks import exclusive
from .mail import SmtpSettings, build_message, connect
from .manifest import MANIFEST, is_period_folder, read_manifest
from .model import SENDING, SENT, Inputs, Invoice, Location, Sender
from .read.folder import sha256_of
from .register import LOCK_NAME, REGISTER_NAME, Register
from .validate import load_folder


@dataclass(frozen=True)
class Item:
    """One invoice of the batch and what verstuur will do with it."""

    invoice: Invoice
    attachment: Path
    to: tuple[str, ...]
    cc: tuple[str, ...]
    state: str  # "te versturen", "verzonden", "onzeker", "geen adres", "gewijzigd"
    problem: str = ""
    # What the message carries: the invoice PDF, the e-invoice, the workbook (issue 13).
    attachments: tuple[Path, ...] = ()

    @property
    def pending(self) -> bool:
        return self.state == "te versturen"


@dataclass(frozen=True)
class Outcome:
    """What one `verstuur --verzend` did with each invoice of the batch."""

    sent: tuple[Item, ...]
    failed: tuple[tuple[Item, str], ...]  # certainly not delivered: may be sent again
    skipped: tuple[Item, ...]  # not tried: sent before, no address, changed, uncertain
    # Handed to the server, then the connection broke: maybe delivered ('bezig' in the register).
    uncertain: tuple[tuple[Item, str], ...] = ()
    not_tried: tuple[Item, ...] = ()  # the run stopped before it got to these
    stopped: str = ""  # why the run stopped early (Dutch), else ""

    @property
    def unsent(self) -> list[tuple[Item, str]]:
        """Every invoice of the batch that has not (certainly) gone out, with why not."""
        return [
            *((item, "mislukt") for item, _ in self.failed),
            *((item, "onzeker") for item, _ in self.uncertain),
            *((item, "niet geprobeerd") for item in self.not_tried),
            *((item, item.state) for item in self.skipped if item.state != "verzonden"),
        ]

    @property
    def complete(self) -> bool:
        """Every invoice of the batch is sent (now or before)."""
        return not self.unsent and not self.stopped

    def summary(self, batch: str) -> list[str]:
        """The closing lines of verstuur, in Dutch: what was sent and what not, and what next."""
        before = sum(1 for i in self.skipped if i.state == "verzonden")
        lines = [
            f"Verzonden: {len(self.sent)}, mislukt: {len(self.failed)}, onzeker: "
            f"{len(self.uncertain)}, niet geprobeerd: {len(self.not_tried)}, eerder verzonden: "
            f"{before}, overgeslagen: {len(self.skipped) - before}."
        ]
        if self.sent:
            lines.append("Nu verzonden: " + ", ".join(i.invoice.number for i in self.sent) + ".")
        unsent = self.unsent
        if not unsent and not self.stopped:
            lines.append(f"Alle facturen van {batch} zijn verzonden.")
            return lines
        if self.stopped:
            lines.append("De verzending is gestopt voordat alles weg was.")
        if unsent:
            lines.append(
                "Niet verzonden: "
                + ", ".join(f"{i.invoice.number} {i.invoice.name} ({why})" for i, why in unsent)
                + "."
            )
        if any(why in ("mislukt", "niet geprobeerd", "te versturen") for _, why in unsent):
            lines.append(
                "Draai 'verstuur --verzend' later opnieuw: alleen wat nog niet is verzonden gaat "
                "dan weg."
            )
        if any(why == "onzeker" for _, why in unsent):
            lines.append(
                "Onzeker: vraag bij de ontvanger na of het bericht is aangekomen. Zo niet: "
                "'verstuur --verzend --opnieuw NUMMER'; zo ja: 'verstuur --aangekomen NUMMER'."
            )
        return lines


@dataclass(frozen=True)
class Batch:
    folder: Path
    name: str
    register_path: Path
    inputs: Inputs
    manifest: dict[str, Any]  # afrekening.json as read_manifest gives it

    @property
    def organisation(self) -> str:
        from .legal import ORGANISATION

        return ORGANISATION


def open_batch(folder: Path) -> Batch:
    """The output folder of one afrekening run, checked against the register it belongs to."""
    if not is_period_folder(folder):
        raise InputRefused.single(
            Location(str(folder)),
            f"dit is geen uitvoermap van een afrekening ({MANIFEST} of {REGISTER_NAME} ontbreekt)",
            "Geef de map van de periode op, bijvoorbeeld MAP/uitvoer/2024-H1.",
        )
    manifest = read_manifest(folder)
    if manifest is None:
        raise InputRefused.single(
            Location(str(folder / MANIFEST)),
            f"{MANIFEST} is onleesbaar of beschadigd",
            "Draai de afrekening van deze periode opnieuw en verstuur daarna.",
        )
    register_path = folder.parent / REGISTER_NAME
    with Register.open(register_path) as register:
        latest = register.latest_run(manifest["batch"])
    if latest != manifest["run"]:
        raise InputRefused.single(
            Location(str(folder)),
            "deze uitvoer hoort niet bij de laatste afrekening in het register",
            f"Draai 'afrekening --periode {manifest['periode']}' opnieuw en verstuur daarna.",
        )
    loaded = load_folder(folder / "invoer")
    if loaded.inputs is None:
        raise InputRefused(loaded.errors)
    return Batch(folder, manifest["batch"], register_path, loaded.inputs, manifest)


def plan(batch: Batch, resend: frozenset[str] = frozenset()) -> list[Item]:
    """Every invoice of the batch with what will happen to it; nothing is sent here."""
    with Register.open(batch.register_path) as register:
        invoices = [i for i in register.invoices(batch.name) if not i.is_own_share]
        delivery = register.delivery(batch.name)
    items: list[Item] = []
    for invoice in invoices:
        entry = batch.manifest["facturen"].get(invoice.number, {})
        attachment = batch.folder / "facturen" / entry.get("bestand", "")
        files = _files(batch.folder / "facturen", entry)
        contact = batch.inputs.budget.contact(invoice.code)
        state, problem = "te versturen", ""
        to: tuple[str, ...] = ()
        cc: tuple[str, ...] = ()
        try:
            if contact is None:
                raise UnsafeHeader(f"geen adres voor {invoice.name} in het werkblad Contacten")
            target = recipients(contact)
            to, cc = target.to, target.cc
        except UnsafeHeader as unsafe:
            state, problem = "geen adres", str(unsafe)
        previous = delivery.get(invoice.number)
        if previous == SENT:
            state, problem = "verzonden", ""
        elif previous == SENDING and invoice.number not in resend:
            state = "onzeker"
            problem = (
                "het versturen is eerder afgebroken; misschien is het bericht aangekomen. "
                f"Vraag het na bij de ontvanger: niet aangekomen, gebruik dan --verzend --opnieuw "
                f"{invoice.number}; wel aangekomen, gebruik dan --aangekomen {invoice.number}"
            )
        elif state == "te versturen" and any(
            not path.is_file() or sha256_of(path) != digest for path, digest in files
        ):
            state = "gewijzigd"
            problem = "de factuur is na de afrekening gewijzigd of verwijderd; draai de afrekening opnieuw"
        attachments = tuple(path for path, _ in files)
        items.append(Item(invoice, attachment, to, cc, state, problem, attachments))
    return items


def _files(folder: Path, entry: dict[str, Any]) -> list[tuple[Path, str | None]]:
    """The files of one invoice as the manifest lists them, each with its SHA-256: the PDF and
    the e-invoice (when made) before the workbook, in the order the message carries them."""
    return [
        (folder / entry[name], entry.get(digest))
        for name, digest in (("pdf", "pdf_sha256"), ("xml", "xml_sha256"), ("bestand", "sha256"))
        if entry.get(name) or name == "bestand"
    ]


def send(
    batch: Batch,
    settings: SmtpSettings,
    *,
    now: Callable[[], datetime] = datetime.now,
    resend: frozenset[str] = frozenset(),
    session_factory: Callable[[SmtpSettings], smtplib.SMTP] = connect,
) -> Outcome:
    """Send every pending invoice; one failing recipient does not stop the others.

    Each message is written to the register as 'bezig' before the server sees it and settled
    after: 'verzonden' once the server took it, 'mislukt' when it certainly did not (refused, or
    the connection broke before the message went over). When the connection breaks after the
    message went over, nobody knows: it stays 'bezig' and is never sent again by itself. So a
    crash or a broken line can never make verstuur send an invoice twice.

    A run that stops early (the server unreachable again, Ctrl+C, the register unwritable)
    still returns what it did, with `stopped` saying why.
    """
    sender = batch.inputs.budget.settings.sender
    if not sender.email:
        raise InputRefused.single(
            Location(batch.inputs.budget_path.name, "Instellingen"),
            "er is geen afzenderadres ingevuld (instelling 'E-mail')",
            "Vul bij Instellingen › E-mail het adres in waarvan de facturen worden verstuurd.",
        )
    with exclusive(
        batch.folder.parent / LOCK_NAME,
        "er loopt al een afrekening of verzending op deze uitvoermap",
    ):
        items = plan(batch, resend)
        pending = [
            i for i in items if i.pending or (i.state == "onzeker" and i.invoice.number in resend)
        ]
        skipped = tuple(i for i in items if i not in pending)
        if not pending:
            return Outcome((), (), skipped)
        try:
            session = session_factory(settings)
        except (OSError, smtplib.SMTPException) as problem:
            raise InputRefused.single(
                Location(f"{settings.host}:{settings.port}"),
                f"geen verbinding met de mailserver ({problem})",
                "Controleer de SMTP-instellingen en de netwerkverbinding; er is niets verstuurd.",
            ) from None
        progress = _Progress(list(pending), session, lambda: _reconnect(session_factory, settings))
        stopped = _send_queue(batch, progress, sender, now, resend)
        if progress.current is not None:  # recorded 'bezig', outcome unknown
            progress.uncertain.append(
                (progress.current, "de verzending is afgebroken terwijl dit bericht wegging")
            )
    return Outcome(
        tuple(progress.sent),
        tuple(progress.failed),
        skipped,
        tuple(progress.uncertain),
        tuple(progress.queue),
        stopped,
    )


@dataclass
class _Progress:
    """What a send did so far. `current` is the message recorded 'bezig' and not yet settled;
    `session` is the connection to the mail server, renewed by `reconnect()`."""

    queue: list[Item]
    session: smtplib.SMTP
    reconnect: Callable[[], smtplib.SMTP]
    sent: list[Item] = field(default_factory=list)
    failed: list[tuple[Item, str]] = field(default_factory=list)
    uncertain: list[tuple[Item, str]] = field(default_factory=list)
    current: Item | None = None


def _send_queue(
    batch: Batch,
    progress: _Progress,
    sender: Sender,
    now: Callable[[], datetime],
    resend: frozenset[str],
) -> str:
    """Send the queue in order, then close the connection. Returns why it stopped before the
    queue was empty (the server unreachable again, Ctrl+C, the register unwritable), or ''."""
    try:
        with Register.open(batch.register_path) as register:
            while progress.queue:
                _send_next(register, batch, progress, sender, now().astimezone(), resend)
    except InputRefused as refused:
        return "; ".join(f.text() for f in refused.findings)
    except OSError as problem:  # an attachment that can no longer be read, say
        where = Location(str(problem.filename or batch.folder))
        return f"FOUT  {where}: het versturen is gestopt ({problem.strerror or problem})"
    except KeyboardInterrupt:
        return "afgebroken met Ctrl+C"
    finally:
        try:
            progress.session.quit()
        except (smtplib.SMTPException, OSError):
            progress.session.close()
    return ""


def _send_next(
    register: Register,
    batch: Batch,
    progress: _Progress,
    sender: Sender,
    when: datetime,
    resend: frozenset[str],
) -> None:
    """Send the first message of the queue: recorded 'bezig' before the server sees it, then
    settled as 'verzonden' or 'mislukt', or left 'bezig' when nobody knows (see send)."""
    item = progress.queue[0]
    message, message_id = _message(batch, item, sender, when)
    with register.transaction():
        if item.invoice.number in resend:
            # The coordinator asked: the interrupted message did not arrive.
            register.settle_uncertain(item.invoice.number, arrived=False)
        record = register.begin_message(item.invoice.number, message_id, item.to + item.cc, when)
    progress.current = progress.queue.pop(0)
    try:
        refused = transmit(progress.session, message, sender.email, item.to + item.cc)
    except NotDelivered as problem:
        with register.transaction():
            register.finish_message(record, problem.text)
        progress.current = None
        progress.failed.append((item, problem.text))
        if problem.disconnected:
            progress.session = progress.reconnect()
        return
    except MaybeDelivered as problem:
        progress.current = None
        progress.uncertain.append((item, problem.text))
        progress.session = progress.reconnect()
        return
    with register.transaction():
        register.finish_message(record)
    progress.current = None
    note = "niet afgeleverd bij: " + ", ".join(sorted(refused)) if refused else ""
    progress.sent.append(replace(item, state="verzonden", problem=note))


def _message(batch: Batch, item: Item, sender: Sender, when: datetime) -> tuple[EmailMessage, str]:
    """The message for one invoice and its Message-ID (recorded before it is sent)."""
    contact = batch.inputs.budget.contact(item.invoice.code)
    # Only an item plan() made 'te versturen' is sent, and that needs a Contacten row.
    assert contact is not None, f"{item.invoice.number} has no contact to send to"
    domain = sender.email.rsplit("@", 1)[-1]
    message_id = make_msgid(idstring=item.invoice.number, domain=domain)
    message = build_message(
        item.invoice,
        contact,
        sender,
        item.attachments or item.attachment,
        organisation=batch.organisation,
        draft=False,
        when=when,
        message_id=message_id,
        settings=batch.inputs.budget.settings,
    )
    return message, message_id


def confirm_arrived(batch: Batch, numbers: Iterable[str]) -> list[str]:
    """Record that interrupted ('bezig') messages did arrive, as the recipient confirmed: their
    invoices are sent and will not be sent again. Returns the numbers settled."""
    with (
        exclusive(
            batch.folder.parent / LOCK_NAME,
            "er loopt al een afrekening of verzending op deze uitvoermap",
        ),
        Register.open(batch.register_path) as register,
    ):
        ours = {i.number for i in register.invoices(batch.name)}
        with register.transaction():
            for number in numbers:
                if number not in ours or not register.settle_uncertain(number, arrived=True):
                    raise InputRefused.single(
                        Location(str(batch.folder)),
                        f"{number} heeft geen afgebroken verzending in {batch.name}",
                        "Gebruik --aangekomen alleen voor een factuur die 'onzeker' is; "
                        "'verstuur' zonder --verzend toont welke dat zijn.",
                    )
    return list(numbers)


class NotDelivered(Exception):
    """The server did not take the message (refused, or the line broke before it went over)."""

    def __init__(self, text: str, *, disconnected: bool = False):
        super().__init__(text)
        self.text = text
        self.disconnected = disconnected


class MaybeDelivered(Exception):
    """The line broke after the message went over: the server may have taken it."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def transmit(
    session: smtplib.SMTP, message: EmailMessage, sender: str, to: Sequence[str]
) -> dict[str, tuple[int, bytes]]:
    """Hand one message to the server, knowing at every failure whether it can have arrived.

    smtplib's send_message takes the same steps, but one exception there covers both a line
    broken before the server had anything (not delivered: send again later) and one broken
    after the whole message went over (maybe delivered: ask the recipient). Here the first
    raises NotDelivered and the second MaybeDelivered. Returns the recipients the server refused
    while it accepted the others.
    """
    try:
        session.ehlo_or_helo_if_needed()
        code, reply = session.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for address in to:
            code, reply = session.rcpt(address)
            if code not in (250, 251):
                refused[address] = (code, reply)
        if len(refused) == len(to):
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = session.docmd("DATA")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
    except (smtplib.SMTPException, OSError) as problem:
        # smtplib's errors are OSErrors too: only a lost line (or a socket error) needs a new
        # connection, a refusal keeps the session usable.
        disconnected = isinstance(problem, smtplib.SMTPServerDisconnected) or not isinstance(
            problem, smtplib.SMTPException
        )
        if not disconnected:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                session.rset()  # ready for the next message
        raise NotDelivered(_describe(problem), disconnected=disconnected) from None
    # As smtplib's send_message: the message flattened with CRLF line ends, then dot-stuffed.
    flat = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    content = _DOT_AT_LINE_START.sub(b"..", flat)
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    try:
        session.send(content + b".\r\n")
    except (smtplib.SMTPException, OSError) as problem:
        # The closing dot never went out: the server cannot have taken the message.
        raise NotDelivered(_describe(problem), disconnected=True) from None
    # From here on the server has the whole message; only its answer tells what it did.
    try:
        code, reply = session.getreply()
    except (smtplib.SMTPException, OSError) as problem:
        raise MaybeDelivered(
            "de verbinding is verbroken nadat het bericht was overgedragen, voordat de server "
            f"antwoordde ({problem})"
        ) from None
    if code != 250:  # the server answered, and said no: certainly not delivered
        with contextlib.suppress(smtplib.SMTPException, OSError):
            session.rset()
        raise NotDelivered(_describe(smtplib.SMTPDataError(code, reply)))
    return refused


_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")  # SMTP's dot-stuffing (RFC 5321 §4.5.2)


def _reconnect(
    session_factory: Callable[[SmtpSettings], smtplib.SMTP], settings: SmtpSettings
) -> smtplib.SMTP:
    try:
        return session_factory(settings)
    except (OSError, smtplib.SMTPException) as problem:
        raise InputRefused.single(
            Location(f"{settings.host}:{settings.port}"),
            f"de verbinding met de mailserver is verbroken en komt niet terug ({problem})",
            "Draai verstuur --verzend later opnieuw: alleen wat nog niet is verzonden gaat dan "
            "weg.",
        ) from None


def _describe(problem: Exception) -> str:
    if isinstance(problem, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{address}: {code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            for address, (code, reply) in problem.recipients.items()
        ]
        return "geweigerd door de server (" + "; ".join(parts) + ")"
    if isinstance(problem, smtplib.SMTPResponseException):
        message = problem.smtp_error
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        return f"fout van de server ({problem.smtp_code} {text})"
    if isinstance(problem, smtplib.SMTPServerDisconnected):
        return f"de verbinding met de server is verbroken ({problem})"
    return f"{type(problem).__name__}: {problem}"
