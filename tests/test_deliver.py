"""Sending invoices against a real SMTP server on 127.0.0.1 (aiosmtpd), and the .eml drafts."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main
from inkoopkracht_xl.register import Register
from inkoopkracht_xl.settlement_run import run_settlement

from .builders import fingerprint, set_cells
from .scenario import Scenario
from .smtp import smtp_server
from .test_settle import K1, K2

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ADDRESSES = {code: f"inkoop@{code.lower()}.example.org" for code in ("DE", "PN", "WE", "LV", "MD")}


@pytest.fixture
def smtp():
    with smtp_server() as (mailbox, port):
        yield mailbox, port


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
    assert result.stdout.splitlines()[-3:] == [
        "Verzonden: 5, mislukt: 0, onzeker: 0, niet geprobeerd: 0, eerder verzonden: 0, "
        "overgeslagen: 0.",
        "Nu verzonden: IK-2024-0001, IK-2024-0002, IK-2024-0003, IK-2024-0004, IK-2024-0005.",
        "Alle facturen van 2024-H1 zijn verzonden.",
    ]
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
        # Only its own files: the invoice PDF, the e-invoice and the workbook (issue 13).
        own = f"Factuur 2024-H1 {names[code]}"
        assert [(a.get_content_type(), a.get_filename()) for a in attachments] == [
            ("application/pdf", f"{own}.pdf"),
            ("application/xml", f"{own}.xml"),
            (XLSX, f"{own}.xlsx"),
        ]
        for attachment in attachments:
            own_file = batch / "facturen" / attachment.get_filename()
            assert attachment.get_content() == own_file.read_bytes()
        assert message["Subject"] == f"Factuur {numbers[code]} Inkoopkracht ZHW 2024-H1"
        assert "X-Unsent" not in message
        assert numbers[code] in message.get_body(("plain",)).get_content()
    with Register.open(batch.parent / "register.sqlite") as register:
        assert register.periods(2024) == {"2024-H1": "verzonden"}
        assert set(register.delivery("2024-H1").values()) == {"verzonden"}

    # A second --verzend sends nothing.
    again = verstuur(batch, port)
    assert again.exit_code == 0
    assert again.stdout.splitlines() == [
        "Verzonden: 0, mislukt: 0, onzeker: 0, niet geprobeerd: 0, eerder verzonden: 5, "
        "overgeslagen: 0.",
        "Alle facturen van 2024-H1 zijn verzonden.",
    ]
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
    # The closing lines say what went and what did not (not "er is niets weggeschreven").
    assert first.stdout.splitlines()[-4:] == [
        "Verzonden: 4, mislukt: 1, onzeker: 0, niet geprobeerd: 0, eerder verzonden: 0, "
        "overgeslagen: 0.",
        "Nu verzonden: IK-2024-0001, IK-2024-0002, IK-2024-0004, IK-2024-0005.",
        "Niet verzonden: IK-2024-0003 Westland (mislukt).",
        "Draai 'verstuur --verzend' later opnieuw: alleen wat nog niet is verzonden gaat dan weg.",
    ]
    assert "niets weggeschreven" not in first.output
    assert ADDRESSES["WE"] not in mailbox.by_recipient()

    mailbox.refuse = set()
    second = verstuur(batch, port)
    assert second.exit_code == 0, second.output
    assert "Verzonden: 1, mislukt: 0, onzeker: 0, niet geprobeerd: 0, eerder verzonden: 4" in (
        second.output
    )
    received = mailbox.by_recipient()
    assert len(received[ADDRESSES["WE"]]) == 1
    assert all(len(messages) == 1 for messages in received.values())


def test_dry_run_lists_and_sends_nothing(smtp, batch):
    mailbox, _ = smtp
    before = fingerprint(batch.parent)
    result = CliRunner().invoke(main, ["verstuur", str(batch)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Facturen van 2024-H1 (nog niets verstuurd; gebruik --verzend):"
    pn = lines.index(
        "  IK-2024-0002  factuur  Pijnacker-Nootdorp     € 10.316,50  te versturen"
    )
    assert lines[pn + 1 : pn + 3] == [
        "      aan: inkoop@pn.example.org",
        "      bijlagen: Factuur 2024-H1 Pijnacker-Nootdorp.pdf, Factuur 2024-H1 "
        "Pijnacker-Nootdorp.xml,",
    ]
    assert lines[-1] == "5 van 5 te versturen, 0 al verstuurd."
    assert max(len(line) for line in lines) <= 100  # fits a terminal of 100 columns
    assert mailbox.received == []
    assert fingerprint(batch.parent) == before


def test_dry_run_says_what_was_sent_and_shows_cc_as_cc(smtp, tmp_path):
    mailbox, port = smtp
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    set_cells(folder / "Begroting.xlsx", "Contacten", {"D2": "crediteuren@de.example.org"})
    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=date(2024, 7, 1))
    assert verstuur(run.folder, port).exit_code == 0
    result = CliRunner().invoke(main, ["verstuur", str(run.folder)])
    lines = result.output.splitlines()
    assert lines[0] == "Facturen van 2024-H1 (alle al verstuurd):"
    delft = next(i for i, line in enumerate(lines) if line.startswith("  IK-2024-0001"))
    assert lines[delft].endswith("al verstuurd")
    assert lines[delft + 1 : delft + 3] == [
        "      aan: inkoop@de.example.org",
        "      cc:  crediteuren@de.example.org",
    ]
    assert lines[-1] == "0 van 5 te versturen, 5 al verstuurd."


def test_drafts_are_outlook_drafts_with_the_invoice_files(batch):
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
    assert "Totaalbedrag: € 10.316,50" in body
    assert "Vervaldatum: 31-07-2024" in body
    assert "exclusief BTW" not in body  # the VAT statement instead (issue 13)
    assert "Geen btw: de kostenverdeling tussen de deelnemende gemeenten is niet aan btw" in body
    files = [a.get_filename() for a in message.iter_attachments()]
    assert files == [
        f"Factuur 2024-H1 Pijnacker-Nootdorp.{kind}" for kind in ("pdf", "xml", "xlsx")
    ]
    for attachment in message.iter_attachments():
        assert (
            attachment.get_content()
            == (batch / "facturen" / attachment.get_filename()).read_bytes()
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


def test_every_invoice_has_its_pdf_without_libreoffice(tmp_path, monkeypatch):
    # The program makes the PDF itself (fpdf2): no LibreOffice, and no --pdf any more.
    import inkoopkracht_xl.libreoffice as libreoffice

    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    arguments = ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(tmp_path / "uit")]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    invoices = tmp_path / "uit" / "2024-H1" / "facturen"
    pdfs = sorted(p.name for p in invoices.glob("*.pdf"))
    assert pdfs == sorted(p.with_suffix(".pdf").name for p in invoices.glob("*.xlsx"))
    assert len(pdfs) == 5 and all((invoices / p).read_bytes().startswith(b"%PDF") for p in pdfs)
    assert CliRunner().invoke(main, [*arguments, "--pdf"]).exit_code == 2  # the option is gone
