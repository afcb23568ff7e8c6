"""Sending invoices against a real SMTP server on 127.0.0.1 (aiosmtpd), and the .eml drafts."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from inkoopkracht_xl.afrekening import run_settlement
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.register import Register

from .builders import fingerprint
from .recalc import requires_libreoffice
from .scenario import Scenario
from .test_settle import K1, K2

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ADDRESSES = {code: f"inkoop@{code.lower()}.example.org" for code in ("DE", "PN", "WE", "LV", "MD")}


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses the addresses it is told to."""

    refuse: set[str] = field(default_factory=set)
    received: list[tuple[str, list[str], email.message.EmailMessage]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, list[email.message.EmailMessage]]:
        result: dict[str, list] = {}
        for _, rcpt, message in self.received:
            for address in rcpt:
                result.setdefault(address, []).append(message)
        return result


def _free_port() -> int:
    # aiosmtpd 1.4.6's Controller(port=0) fails its own start-up check: pick a free port first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def batch(tmp_path) -> Path:
    folder = Scenario(costs=[K1, K2]).write(tmp_path / "in")
    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=date(2024, 7, 1))
    return run.folder


def verstuur(batch: Path, port: int, *extra: str):
    return CliRunner().invoke(
        main,
        [
            "verstuur",
            str(batch),
            "--verzend",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(port),
            *extra,
        ],
        env={"INKOOPKRACHT_SMTP_PASSWORD": ""},
    )


def test_every_municipality_gets_exactly_its_own_invoice_once(smtp, batch):
    mailbox, port = smtp
    result = verstuur(batch, port)
    assert result.exit_code == 0, result.output
    assert "Verzonden: 5, mislukt: 0" in result.output
    received = mailbox.by_recipient()
    assert sorted(received) == sorted(ADDRESSES.values())  # the penvoerder ZM gets none
    numbers = {
        "DE": "IK-2024-0001",
        "PN": "IK-2024-0002",
        "WE": "IK-2024-0003",
        "LV": "IK-2024-0004",
        "MD": "IK-2024-0005",
    }
    names = {
        "DE": "Delft",
        "PN": "Pijnacker-Nootdorp",
        "WE": "Westland",
        "LV": "Leidschendam-Voorburg",
        "MD": "Midden-Delfland",
    }
    for code, address in ADDRESSES.items():
        (message,) = received[address]
        attachments = list(message.iter_attachments())
        assert [(a.get_content_type(), a.get_filename()) for a in attachments] == [
            (XLSX, f"Factuur 2024-H1 {names[code]}.xlsx")
        ]
        own_file = batch / "facturen" / f"Factuur 2024-H1 {names[code]}.xlsx"
        assert attachments[0].get_content() == own_file.read_bytes()
        assert message["Subject"] == f"Factuur {numbers[code]} Inkoopkracht ZHW 2024-H1"
        assert "X-Unsent" not in message
        assert numbers[code] in message.get_body(("plain",)).get_content()
    with Register.open(batch.parent / "register.sqlite") as register:
        assert register.periods(2024) == {"2024-H1": "verzonden"}
        assert set(register.delivery("2024-H1").values()) == {"verzonden"}

    # A second --verzend sends nothing.
    again = verstuur(batch, port)
    assert again.exit_code == 0
    assert "Verzonden: 0, mislukt: 0, eerder verzonden: 5" in again.output
    assert len(mailbox.received) == 5

    # And the sent period is final for afrekening.
    folder = batch.parent.parent / "in"
    refused = CliRunner().invoke(
        main, ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(batch.parent)]
    )
    assert refused.exit_code == 1
    assert "2024-H1 is al verzonden en daarmee definitief" in refused.output


def test_a_refused_recipient_stays_pending_and_is_sent_next_time(smtp, batch):
    mailbox, port = smtp
    mailbox.refuse = {ADDRESSES["WE"]}
    first = verstuur(batch, port)
    assert first.exit_code == 1
    assert "FOUT  IK-2024-0003 Westland: geweigerd door de server" in first.output
    assert "Verzonden: 4, mislukt: 1" in first.output
    assert ADDRESSES["WE"] not in mailbox.by_recipient()

    mailbox.refuse = set()
    second = verstuur(batch, port)
    assert second.exit_code == 0, second.output
    assert "Verzonden: 1, mislukt: 0, eerder verzonden: 4" in second.output
    received = mailbox.by_recipient()
    assert len(received[ADDRESSES["WE"]]) == 1
    assert all(len(messages) == 1 for messages in received.values())


def test_dry_run_lists_and_sends_nothing(smtp, batch):
    mailbox, _ = smtp
    before = fingerprint(batch.parent)
    result = CliRunner().invoke(main, ["verstuur", str(batch)])
    assert result.exit_code == 0
    assert "IK-2024-0002  Pijnacker-Nootdorp" in result.output
    assert (
        "aan inkoop@pn.example.org  bijlage Factuur 2024-H1 Pijnacker-Nootdorp.xlsx  [te versturen]"
        in result.output
    )
    assert "5 van 5 te versturen." in result.output
    assert mailbox.received == []
    assert fingerprint(batch.parent) == before


def test_drafts_are_outlook_drafts_with_one_xlsx(batch):
    drafts = sorted((batch / "mail").glob("*.eml"))
    assert [d.name for d in drafts] == [
        "IK-2024-0001 Delft.eml",
        "IK-2024-0002 Pijnacker-Nootdorp.eml",
        "IK-2024-0003 Westland.eml",
        "IK-2024-0004 Leidschendam-Voorburg.eml",
        "IK-2024-0005 Midden-Delfland.eml",
    ]
    message = email.message_from_bytes(drafts[1].read_bytes(), policy=email.policy.default)
    assert message["X-Unsent"] == "1"
    assert message["To"] == "inkoop@pn.example.org"
    assert message["Subject"] == "Factuur IK-2024-0002 Inkoopkracht ZHW 2024-H1"
    body = message.get_body(("plain",)).get_content()
    # PN in H1: voorschot 9.316,50 + K1 1.000 = 10.316,50, due 30 days after 1-7-2024.
    assert "Totaalbedrag: € 10.316,50 (exclusief BTW)" in body
    assert "Vervaldatum: 31-07-2024" in body
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == XLSX
    assert (
        attachment.get_content()
        == (batch / "facturen" / "Factuur 2024-H1 Pijnacker-Nootdorp.xlsx").read_bytes()
    )


def test_header_injection_in_a_contact_is_refused_and_nothing_sent(smtp, tmp_path):
    import openpyxl

    mailbox, port = smtp
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    book = openpyxl.load_workbook(folder / "Begroting.xlsx")
    sheet = book["Contacten"]
    sheet["B2"] = "Team Inkoop Delft\r\nBcc: slachtoffer@example.com"  # a name with CR/LF
    sheet["C3"] = "inkoop@pn.example.org\r\nBcc: slachtoffer@example.com"  # an address with CR/LF
    book.save(folder / "Begroting.xlsx")
    check = CliRunner().invoke(main, ["controleer", str(folder)])
    assert check.exit_code == 1
    assert "Contacten › C3:" in check.output and "geen geldig e-mailadres" in check.output
    # The name's line break is folded into a space when read, so it can never reach a header.
    refused = CliRunner().invoke(
        main, ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(tmp_path / "uit")]
    )
    assert refused.exit_code == 1
    assert mailbox.received == []


def test_a_changed_invoice_file_is_not_sent(smtp, batch):
    mailbox, port = smtp
    invoice = batch / "facturen" / "Factuur 2024-H1 Delft.xlsx"
    invoice.write_bytes(invoice.read_bytes() + b"\0")
    result = verstuur(batch, port)
    assert result.exit_code == 1
    assert "IK-2024-0001 Delft: gewijzigd" in result.output
    assert ADDRESSES["DE"] not in mailbox.by_recipient()
    assert len(mailbox.received) == 4


def test_a_message_interrupted_mid_send_is_never_sent_twice_silently(smtp, batch):
    mailbox, port = smtp
    with Register.open(batch.parent / "register.sqlite") as register, register.transaction():
        register.begin_message(
            "IK-2024-0001",
            "<x@example.org>",
            ["inkoop@de.example.org"],
            datetime(2024, 7, 2),
        )
    result = verstuur(batch, port)
    assert result.exit_code == 1
    assert "IK-2024-0001 Delft: onzeker" in result.output
    assert ADDRESSES["DE"] not in mailbox.by_recipient()
    forced = verstuur(batch, port, "--opnieuw", "IK-2024-0001")
    assert forced.exit_code == 0, forced.output
    assert len(mailbox.by_recipient()[ADDRESSES["DE"]]) == 1


def test_the_message_builder_refuses_line_breaks_itself(batch):
    from inkoopkracht_xl.mail import UnsafeHeader, build_message
    from inkoopkracht_xl.model import Contact, Sender

    with Register.open(batch.parent / "register.sqlite") as register:
        invoice = register.invoices("2024-H1")[0]
    attachment = batch / "facturen" / "Factuur 2024-H1 Delft.xlsx"
    sender = Sender("Inkoopkracht ZHW", "", "", "inkoopkracht@example.org")

    def build(contact: Contact):
        return build_message(
            invoice,
            contact,
            sender,
            attachment,
            organisation="Inkoopkracht ZHW",
            draft=True,
            when=datetime(2024, 7, 1),
        )

    for contact in (
        Contact("DE", "Delft", ("inkoop@de.example.org\r\nBcc: x@example.com",)),
        Contact(
            "DE", "Delft", ("inkoop@de.example.org",), ("cc@de.example.org\nBcc: x@example.com",)
        ),
    ):
        with pytest.raises(UnsafeHeader, match="geen geldig e-mailadres"):
            build(contact)
    message = build(Contact("DE", "Team\r\nBcc: x@example.com", ("inkoop@de.example.org",)))
    assert "Bcc" not in message  # a contact's name goes into the body only, never a header


def test_missing_contact_is_a_warning_and_gets_no_draft(tmp_path):
    folder = Scenario(costs=[K1], contacts=False).write(tmp_path / "in")
    check = CliRunner().invoke(main, ["controleer", str(folder)])
    assert check.exit_code == 0
    assert (
        "WAARSCHUWING  Begroting.xlsx › Contacten: geen e-mailadres voor Delft (DE)" in check.output
    )
    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=date(2024, 7, 1))
    assert list((run.folder / "mail").iterdir()) == []
    assert any(
        "er is geen e-mailconcept gemaakt voor IK-2024-0001" in f.message for f in run.findings
    )


def _afrekening_with_pdf(tmp_path: Path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    arguments = ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(tmp_path / "uit")]
    return CliRunner().invoke(main, [*arguments, "--pdf"])


@requires_libreoffice
def test_pdf_flag_adds_a_pdf_per_invoice(tmp_path):
    result = _afrekening_with_pdf(tmp_path)
    assert result.exit_code == 0, result.output
    invoices = tmp_path / "uit" / "2024-H1" / "facturen"
    pdfs = sorted(p.name for p in invoices.glob("*.pdf"))
    assert pdfs == sorted(p.with_suffix(".pdf").name for p in invoices.glob("*.xlsx"))
    assert len(pdfs) == 5 and all((invoices / p).read_bytes().startswith(b"%PDF") for p in pdfs)


def test_pdf_flag_without_libreoffice_is_a_clear_refusal(tmp_path, monkeypatch):
    import inkoopkracht_xl.libreoffice as libreoffice

    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    result = _afrekening_with_pdf(tmp_path)
    assert result.exit_code == 1
    assert "LibreOffice is niet geïnstalleerd" in result.output
    assert "Installeer LibreOffice" in result.output
    assert not (tmp_path / "uit" / "2024-H1").exists()  # nothing half-written
