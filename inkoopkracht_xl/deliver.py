"""verstuur: list or send one batch's invoices, each exactly once, each with only its own file."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from pathlib import Path

from .afrekening import MANIFEST
from .errors import InputRefused
from .locks import exclusive
from .mail import SmtpSettings, UnsafeHeader, build_message, connect, recipients
from .model import Inputs, Invoice, Location
from .read.folder import load_folder, sha256_of
from .register import LOCK_NAME, REGISTER_NAME, Register


@dataclass(frozen=True)
class Item:
    """One invoice of the batch and what verstuur will do with it."""

    invoice: Invoice
    attachment: Path
    to: tuple[str, ...]
    cc: tuple[str, ...]
    state: str  # "te versturen", "verzonden", "onzeker", "geen adres", "gewijzigd"
    problem: str = ""

    @property
    def pending(self) -> bool:
        return self.state == "te versturen"


@dataclass(frozen=True)
class Outcome:
    sent: tuple[Item, ...]
    failed: tuple[tuple[Item, str], ...]
    skipped: tuple[Item, ...]


@dataclass(frozen=True)
class Batch:
    folder: Path
    name: str
    register_path: Path
    inputs: Inputs
    manifest: dict

    @property
    def organisation(self) -> str:
        from .write.overview import ORGANISATION

        return ORGANISATION


def open_batch(folder: Path) -> Batch:
    """The output folder of one afrekening run, checked against the register it belongs to."""
    manifest_path = folder / MANIFEST
    register_path = folder.parent / REGISTER_NAME
    if not manifest_path.is_file() or not register_path.is_file():
        raise InputRefused.single(
            Location(str(folder)),
            "dit is geen uitvoermap van een afrekening (afrekening.json of register.sqlite ontbreekt)",
            "Geef de map van de periode op, bijvoorbeeld MAP/uitvoer/2024-H1.",
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
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
    items = []
    for invoice in invoices:
        entry = batch.manifest["facturen"].get(invoice.number, {})
        attachment = batch.folder / "facturen" / entry.get("bestand", "")
        contact = batch.inputs.budget.contact(invoice.code)
        state, problem, to, cc = "te versturen", "", (), ()
        try:
            if contact is None:
                raise UnsafeHeader(f"geen adres voor {invoice.name} in het werkblad Contacten")
            target = recipients(contact)
            to, cc = target.to, target.cc
        except UnsafeHeader as unsafe:
            state, problem = "geen adres", str(unsafe)
        previous = delivery.get(invoice.number)
        if previous == "verzonden":
            state, problem = "verzonden", ""
        elif previous == "bezig" and invoice.number not in resend:
            state = "onzeker"
            problem = (
                "het versturen is eerder afgebroken; misschien is het bericht aangekomen. "
                f"Vraag het na en gebruik zo nodig --opnieuw {invoice.number}"
            )
        elif state == "te versturen" and (
            not attachment.is_file() or sha256_of(attachment) != entry.get("sha256")
        ):
            state = "gewijzigd"
            problem = "de factuur is na de afrekening gewijzigd of verwijderd; draai de afrekening opnieuw"
        items.append(Item(invoice, attachment, to, cc, state, problem))
    return items


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
    after, so a crash can never make verstuur send an invoice twice.
    """
    sender = batch.inputs.budget.settings.sender
    if not sender.email:
        raise InputRefused.single(
            Location(batch.inputs.budget_path.name, "Instellingen"),
            "er is geen afzenderadres ingevuld (instelling 'E-mail')",
            "Vul bij Instellingen › E-mail het adres in waarvan de facturen worden verstuurd.",
        )
    sent, failed, skipped = [], [], []
    with exclusive(
        batch.folder.parent / LOCK_NAME,
        "er loopt al een afrekening of verzending op deze uitvoermap",
    ):
        items = plan(batch, resend)
        pending = [
            i for i in items if i.pending or (i.state == "onzeker" and i.invoice.number in resend)
        ]
        skipped = [i for i in items if i not in pending]
        if not pending:
            return Outcome((), (), tuple(skipped))
        try:
            session = session_factory(settings)
        except (OSError, smtplib.SMTPException) as problem:
            raise InputRefused.single(
                Location(f"{settings.host}:{settings.port}"),
                f"geen verbinding met de mailserver ({problem})",
                "Controleer de SMTP-instellingen en de netwerkverbinding; er is niets verstuurd.",
            ) from None
        with Register.open(batch.register_path) as register:
            try:
                for item in pending:
                    when = now().astimezone()
                    domain = sender.email.rsplit("@", 1)[-1]
                    message_id = make_msgid(idstring=item.invoice.number, domain=domain)
                    message = build_message(
                        item.invoice,
                        batch.inputs.budget.contact(item.invoice.code),
                        sender,
                        item.attachment,
                        organisation=batch.organisation,
                        draft=False,
                        when=when,
                        message_id=message_id,
                    )
                    with register.transaction():
                        record = register.begin_message(
                            item.invoice.number, message_id, item.to + item.cc, when
                        )
                    try:
                        refused = session.send_message(
                            message, from_addr=sender.email, to_addrs=list(item.to + item.cc)
                        )
                    except (smtplib.SMTPException, OSError) as problem:
                        error = _describe(problem)
                        with register.transaction():
                            register.finish_message(record, error)
                        failed.append((item, error))
                        if isinstance(problem, smtplib.SMTPServerDisconnected) or not isinstance(
                            problem, smtplib.SMTPException
                        ):
                            session = _reconnect(session_factory, settings)
                        continue
                    with register.transaction():
                        register.finish_message(record)
                    sent.append(
                        item
                        if not refused
                        else Item(
                            item.invoice,
                            item.attachment,
                            item.to,
                            item.cc,
                            "verzonden",
                            "niet afgeleverd bij: " + ", ".join(sorted(refused)),
                        )
                    )
            finally:
                try:
                    session.quit()
                except (smtplib.SMTPException, OSError):
                    session.close()
    return Outcome(tuple(sent), tuple(failed), tuple(skipped))


def _reconnect(session_factory, settings: SmtpSettings) -> smtplib.SMTP:
    try:
        return session_factory(settings)
    except (OSError, smtplib.SMTPException) as problem:
        raise InputRefused.single(
            Location(f"{settings.host}:{settings.port}"),
            f"de verbinding met de mailserver is verbroken ({problem})",
            "Wat al verstuurd is staat in het register; draai verstuur --verzend later opnieuw "
            "voor de rest.",
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
    return f"{type(problem).__name__}: {problem}"
