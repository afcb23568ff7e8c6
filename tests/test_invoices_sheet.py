"""The overview's Facturen sheet: one row per invoice, the list a coordinator ticks off before
sending, read back from real settlements (and a real SMTP server for the sent states)."""

from __future__ import annotations

import pickle
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import xlsxwriter
from click.testing import CliRunner

from inkoopkracht_xl import outputs
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.deliver import open_batch, send
from inkoopkracht_xl.mail import SmtpSettings
from inkoopkracht_xl.model import Budget, Contact, Invoice, InvoiceLine, Settings
from inkoopkracht_xl.settlement_run import run_settlement
from inkoopkracht_xl.validate import load_valid
from inkoopkracht_xl.write.invoices_sheet import invoice_list, invoices_sheet
from inkoopkracht_xl.write.styles import DATE, MONEY, WORKBOOK_OPTIONS, Styles

from .builders import BUDGET, CALENDAR, JAARPLAN, edit, jaarplan_folder, set_cells
from .scenario import Scenario
from .smtp import Mailbox, smtp_server
from .test_settle import K1, K2

D = Decimal
H1_DATE = date(2024, 7, 1)
FIRST = 5  # the first invoice's row (Excel's numbering): title, subtitle, blank, header
HEADERS = [
    "Nummer",
    "Soort",
    "Code",
    "Gemeente",
    "Factuurdatum",
    "Vervaldatum",
    "Bedrag",
    "E-mail",
    "Verzonden",
    "Afgevinkt",
]
JULY_1, JULY_31 = datetime(2024, 7, 1), datetime(2024, 7, 31)  # dated 1-7, due 30 days later


def overview(run, *, formulas: bool = False):
    path = run.folder / f"overzicht-{run.batch}.xlsx"
    return openpyxl.load_workbook(path, data_only=not formulas)


def table(sheet, first: int = FIRST) -> list[tuple]:
    """The rows of a block from `first` up to its total row or first empty row."""
    rows = []
    for row in sheet.iter_rows(min_row=first, max_col=10, values_only=True):
        if row[0] in (None, "Totaal"):
            break
        rows.append(row)
    return rows


def afrekening_totals(book) -> dict[str, float]:
    """Number -> total as the Afrekening sheet shows it (each invoice's total row)."""
    return {
        row[1]: row[6]
        for row in book["Afrekening"].iter_rows(min_row=5, values_only=True)
        if row[1] and row[2] in ("factuur", "creditnota")
    }


def afrekening_billed(book) -> float:
    sheet = book["Afrekening"]
    return next(
        row[6] for row in sheet.iter_rows(values_only=True) if row[3] == "Facturen en creditnota's"
    )


def test_h1_lists_each_invoice_once_with_its_dates_amount_and_address(tmp_path):
    folder = Scenario(costs=[K1, K2]).write(tmp_path / "in")
    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=H1_DATE)
    book = overview(run)
    assert book.sheetnames.index("Facturen") == book.sheetnames.index("Afrekening") + 1
    sheet = book["Facturen"]
    assert sheet["A1"].value == "Facturen 2024-H1"
    assert [c.value for c in sheet[4]] == HEADERS
    # H1 (test_settle): the voorschot is half the jaarplan's share (34.266/2 = 17.133 for DE);
    # K1 € 6.000 equally over six: € 1.000 each; K2 € 1.000 over DE WE LV MD by inhabitants
    # (318.473; no join here): 333,11 / 360,74 / 244,92 / 61,23.
    assert table(sheet) == [
        # 17.133 + 1.000 + 333,11
        ("IK-2024-0001", "factuur", "DE", "Delft", JULY_1, JULY_31, 18466.11)
        + ("inkoop@de.example.org", "nee (concept)", None),
        # 9.316,50 + 1.000
        ("IK-2024-0002", "factuur", "PN", "Pijnacker-Nootdorp", JULY_1, JULY_31, 10316.50)
        + ("inkoop@pn.example.org", "nee (concept)", None),
        # 18.554,50 + 1.000 + 360,74
        ("IK-2024-0003", "factuur", "WE", "Westland", JULY_1, JULY_31, 19915.24)
        + ("inkoop@we.example.org", "nee (concept)", None),
        # 1.000 + 244,92
        ("IK-2024-0004", "factuur", "LV", "Leidschendam-Voorburg", JULY_1, JULY_31, 1244.92)
        + ("inkoop@lv.example.org", "nee (concept)", None),
        # 1.000 + 61,23
        ("IK-2024-0005", "factuur", "MD", "Midden-Delfland", JULY_1, JULY_31, 1061.23)
        + ("inkoop@md.example.org", "nee (concept)", None),
    ]
    # Zoetermeer is the penvoerder: no invoice, a note with its own share (20.513,50 + 1.000).
    assert "Zoetermeer" not in [row[3] for row in table(sheet)]
    assert sheet["A12"].value == (
        "De penvoerder, Zoetermeer, krijgt geen factuur: haar eigen aandeel in deze afrekening "
        "is € 21.513,50 (zie het werkblad Afrekening)."
    )
    # Total row: 18.466,11 + 10.316,50 + 19.915,24 + 1.244,92 + 1.061,23 = 51.004,00, which is the
    # period's 72.517,50 less the penvoerder's 21.513,50, and the Afrekening sheet's figure.
    assert sheet["A10"].value == "Totaal"
    assert sheet["B10"].value == 5 and sheet["G10"].value == 51004.00
    assert D(str(sheet["G10"].value)) == sum((i.total for i in run.billed), D(0)) == D("51004.00")
    assert afrekening_billed(book) == 51004.00
    assert afrekening_totals(book) == {row[0]: row[6] for row in table(sheet)}

    formulas = overview(run, formulas=True)["Facturen"]
    assert formulas["B10"].value == "=COUNTA(A5:A9)"
    assert formulas["G10"].value == "=SUM(G5:G9)"
    assert formulas["E5"].number_format == formulas["F9"].number_format == DATE
    assert formulas["G5"].number_format == formulas["G10"].number_format == MONEY
    assert formulas.freeze_panes == "A5"
    assert formulas.auto_filter.ref == "A4:J9"
    assert formulas.page_setup.orientation == "landscape"
    assert formulas.page_setup.paperSize == 9  # A4
    assert formulas.print_title_rows == "$4:$4"


def test_jaarplan_amounts_match_the_afrekening_sheet_and_show_the_cc(tmp_path):
    run = run_settlement(JAARPLAN, "2024-H1", out=tmp_path / "uit", issue_date=H1_DATE)
    book = overview(run)
    rows = table(book["Facturen"])
    assert [row[0] for row in rows] == [i.number for i in run.billed]
    # Every amount is the invoice's total, to the cent, and the Afrekening sheet's.
    assert {row[0]: D(str(row[6])) for row in rows} == {i.number: i.total for i in run.billed}
    assert {row[0]: row[6] for row in rows} == afrekening_totals(book)
    delft = rows[0]
    # Delft: H1 voorschot 34.266 / 2 = 17.133 plus its project costs of the jaarplan fixture.
    assert delft[:4] == ("IK-2024-0001", "factuur", "DE", "Delft")
    assert D(str(delft[6])) == D("21980.04")
    assert any(line.amount == D("17133.00") for line in run.billed[0].lines)
    # The Contacten fixture gives Delft a CC: on its own line, as the e-mail has it.
    assert delft[7] == "inkoop@delft.example.org\ncc: crediteuren@delft.example.org"
    assert rows[1][7] == "inkoop@pijnacker-nootdorp.example.org"
    count, total = next(
        (row[1], row[6])
        for row in book["Facturen"].iter_rows(values_only=True)
        if row[0] == "Totaal"
    )
    # 21.980,04 + 11.622,85 + 23.125,30 + 3.330,67 + 1.363,92 + 1.579,41 = 63.002,19
    assert count == 6 and total == 63002.19 == afrekening_billed(book)


def test_a_municipality_without_address_says_so_in_its_row(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    # Leidschendam-Voorburg's row of Contacten (the fifth municipality: row 6) is removed.
    edit(folder / "Begroting.xlsx", lambda book: book["Contacten"].delete_rows(6))
    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=H1_DATE)
    rows = {row[2]: row for row in table(overview(run)["Facturen"])}
    assert rows["LV"][7] == "geen e-mailadres: zie Contacten"
    assert rows["LV"][8] == "nee (concept)"
    assert rows["MD"][7] == "inkoop@md.example.org"
    assert any("geen e-mailadres voor Leidschendam-Voorburg" in f.message for f in run.findings)


def test_a_name_that_looks_like_a_formula_stays_text(tmp_path):
    folder = jaarplan_folder(tmp_path / "in")
    set_cells(folder / CALENDAR, "Gemeenten", {"B2": "=Delft"}, as_text=True)
    set_cells(folder / BUDGET, "Inwoners", {"B2": "=Delft"}, as_text=True)
    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=H1_DATE)
    sheet = overview(run, formulas=True)["Facturen"]
    assert sheet["D5"].value == "=Delft" and sheet["D5"].data_type == "s"
    assert sheet["A5"].value == "IK-2024-0001"


def test_a_rerun_after_every_message_failed_says_so(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    out = tmp_path / "uit"
    run = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    refused = {f"inkoop@{code}.example.org" for code in ("de", "pn", "we", "lv", "md")}
    with smtp_server(Mailbox(refuse=refused)) as (_, port):
        outcome = send(open_batch(run.folder), SmtpSettings("127.0.0.1", port))
    assert len(outcome.failed) == 5
    # Every message failed: the period is not sent; a re-run keeps the numbers.
    again = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    rows = table(overview(again)["Facturen"])
    assert [row[0] for row in rows] == [f"IK-2024-000{n}" for n in range(1, 6)]
    assert {row[8] for row in rows} == {"nee (concept; eerder mislukt)"}


def test_a_correction_lists_the_earlier_invoices_as_the_register_has_them(tmp_path):
    scenario = Scenario(costs=[K1, K2])
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"
    original = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    # Sent on 2 July: LV's address is refused (mislukt), MD's message is taken and the line
    # drops before the answer (bezig: onzeker); the other three arrive.
    mailbox = Mailbox(refuse={"inkoop@lv.example.org"}, keep_and_drop={"inkoop@md.example.org"})
    with smtp_server(mailbox) as (_, port):
        send(
            open_batch(original.folder),
            SmtpSettings("127.0.0.1", port),
            now=lambda: datetime(2024, 7, 2, 10, 0),
        )
    assert mailbox.numbers() == ["IK-2024-0001", "IK-2024-0002", "IK-2024-0003", "IK-2024-0005"]

    # CBS corrected Westland's population after H1 was sent (test_settle works it out).
    scenario.populations["WE"] = ("Westland", 115887, True)
    scenario.write(folder)
    fixed = run_settlement(folder, "2024-H1", out=out, correction=True, issue_date=date(2024, 8, 1))
    assert fixed.batch == "2024-H1-correctie-1"
    sheet = overview(fixed)["Facturen"]
    august_1, august_31 = datetime(2024, 8, 1), datetime(2024, 8, 31)
    draft = "nee (concept)"
    rows = table(sheet)
    assert [row[:9] for row in rows] == [
        # -39,50 voorschot - 1,04 K2
        ("IK-2024-0006", "creditnota", "DE", "Delft", august_1, august_31, -40.54)
        + ("inkoop@de.example.org", draft),
        ("IK-2024-0007", "creditnota", "PN", "Pijnacker-Nootdorp", august_1, august_31, -26.00)
        + ("inkoop@pn.example.org", draft),
        # +118 voorschot + 2,00 K2
        ("IK-2024-0008", "factuur", "WE", "Westland", august_1, august_31, 120.00)
        + ("inkoop@we.example.org", draft),
        ("IK-2024-0009", "creditnota", "LV", "Leidschendam-Voorburg", august_1, august_31, -0.77)
        + ("inkoop@lv.example.org", draft),
        ("IK-2024-0010", "creditnota", "MD", "Midden-Delfland", august_1, august_31, -0.19)
        + ("inkoop@md.example.org", draft),
    ]
    # -40,54 - 26,00 + 120,00 - 0,77 - 0,19 = 52,50: what Zoetermeer's own share lost.
    total_row = FIRST + len(rows)
    assert sheet.cell(total_row, 7).value == 52.50 == afrekening_billed(overview(fixed))
    notes = [sheet.cell(total_row + 2, 1).value, sheet.cell(total_row + 3, 1).value]
    assert notes[0] == (
        "De penvoerder, Zoetermeer, krijgt geen factuur: haar eigen aandeel in deze afrekening "
        "is € -52,50 (zie het werkblad Afrekening)."
    )
    heading = total_row + 5
    assert sheet.cell(heading, 1).value.startswith("Eerdere facturen van deze periode")
    assert [c.value for c in sheet[heading + 1]] == HEADERS[:9] + ["Afrekening"]
    earlier = table(sheet, heading + 2)
    assert [(row[0], row[2], row[6], row[7], row[8], row[9]) for row in earlier] == [
        ("IK-2024-0001", "DE", 18466.11, "inkoop@de.example.org", "ja, op 02-07-2024", "2024-H1"),
        ("IK-2024-0002", "PN", 10316.50, "inkoop@pn.example.org", "ja, op 02-07-2024", "2024-H1"),
        ("IK-2024-0003", "WE", 19915.24, "inkoop@we.example.org", "ja, op 02-07-2024", "2024-H1"),
        ("IK-2024-0004", "LV", 1244.92, "inkoop@lv.example.org", "mislukt", "2024-H1"),
        ("IK-2024-0005", "MD", 1061.23, "inkoop@md.example.org", "onzeker", "2024-H1"),
    ]
    assert (earlier[0][4], earlier[0][5]) == (JULY_1, JULY_31)


def test_the_sheet_data_survives_the_trip_to_a_worker_process(tmp_path, monkeypatch):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    inputs = load_valid(folder).inputs
    run = run_settlement(folder, "2024-H1", out=tmp_path / "a", issue_date=H1_DATE)
    listing = invoice_list(run.batch, run.invoices, inputs.budget)
    assert pickle.loads(pickle.dumps(listing)) == listing
    assert listing.own_shares == (("Zoetermeer", D("21513.50")),)  # 20.513,50 + 1.000
    # From one invoice on, worker processes write (where there are two cores): same sheet.
    monkeypatch.setattr(outputs, "PARALLEL_FROM", 1)
    pooled = run_settlement(folder, "2024-H1", out=tmp_path / "b", issue_date=H1_DATE)
    assert table(overview(pooled)["Facturen"]) == table(overview(run)["Facturen"])


def test_an_overview_without_settlement_has_no_facturen_sheet(tmp_path):
    # verdeling --overzicht (and bewaak) write the overview without a settlement.
    path = tmp_path / "o.xlsx"
    result = CliRunner().invoke(main, ["verdeling", str(JAARPLAN), "--overzicht", str(path)])
    assert result.exit_code == 0, result.output
    assert "Facturen" not in openpyxl.load_workbook(path).sheetnames


def test_a_correction_of_the_own_share_only_and_an_earlier_draft_never_sent(tmp_path):
    # A correction can change only the penvoerder's own share: no invoice to list, a total of
    # zero, and the earlier invoices still shown; one never sent has no recorded address, so
    # Contacten's is shown (here one that is no address at all).
    budget = Budget(
        Settings(2024),
        (),
        (),
        contacts=(
            Contact("DE", "Team Inkoop Delft", ("inkoop@de.example.org",)),
            Contact("LV", "Team Inkoop LV", ("inkoop at lv",)),
        ),
    )
    own = Invoice(
        "ZM",
        "Zoetermeer",
        "2024-H1",
        2024,
        (InvoiceLine("project", "Correctie", "", D("-3.00")),),
        kind="eigen aandeel",
    )
    earlier = [
        ("2024-H1", "IK-2024-0001", "DE", "Delft", "factuur", D("10.00"))
        + (date(2024, 7, 1), date(2024, 7, 31), "concept", "", ""),
        ("2024-H1", "IK-2024-0002", "LV", "Leidschendam-Voorburg", "factuur", D("20.00"))
        + (date(2024, 7, 1), date(2024, 7, 31), "concept", "", ""),
    ]
    listing = invoice_list("2024-H1-correctie-1", [own], budget, earlier=earlier)
    path = tmp_path / "facturen.xlsx"
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    invoices_sheet(workbook, Styles(workbook), listing)
    workbook.close()

    sheet = openpyxl.load_workbook(path)["Facturen"]
    assert [sheet["A5"].value, sheet["B5"].value, sheet["G5"].value] == ["Totaal", 0, 0]
    assert sheet["A7"].value == "In 2024-H1-correctie-1 zijn geen facturen of creditnota's gemaakt."
    assert sheet["A8"].value == (
        "De penvoerder, Zoetermeer, krijgt geen factuur: haar eigen aandeel in deze afrekening "
        "is € -3,00 (zie het werkblad Afrekening)."
    )
    assert sheet["A11"].value.startswith("Eerdere facturen van deze periode")
    assert [(row[0], row[6], row[7], row[8], row[9]) for row in table(sheet, 13)] == [
        ("IK-2024-0001", 10, "inkoop@de.example.org", "nee (concept)", "2024-H1"),
        ("IK-2024-0002", 20, "ongeldig e-mailadres: zie Contacten", "nee (concept)", "2024-H1"),
    ]
