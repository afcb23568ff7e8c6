"""Money through a real year (issue 12): what was billed is what is re-split, checks that can
fail, unsent invoices named, and a penvoerder that is a network member.

Populations (tests/scenario.py): DE 106.086, PN 57.672, WE 114.887, ZM 126.998 (network, ZM the
penvoerder), LV 78.000 and MD 19.500 (not in the network). Network budget € 131.035: annual
shares DE 34.266, PN 18.633, WE 37.109, ZM 41.027, so each half DE 17.133, PN 9.316,50,
WE 18.554,50, ZM 20.513,50 (65.517,50).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import openpyxl
from click.testing import CliRunner

import inkoopkracht_xl.settlement_run as settlement_run_module
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.model import InvoiceLine
from inkoopkracht_xl.register import Register
from inkoopkracht_xl.settlement_run import run_settlement
from inkoopkracht_xl.templates import write_templates

from .builders import BUDGET, jaarplan_folder, set_cells
from .scenario import Scenario
from .smtp import Mailbox, send_batch, smtp_server
from .test_settle import H1_DATE, H2_DATE, K1, K2, K3, settle_and_send_h1

D = Decimal
# A cost line of the tender DE WE LV MD take part in; MD joins on 1 September.
K9 = ("K9", "Dieptereiniging ICT hardware", "Reiniging", date(2024, 3, 1), D("12500.00"), "")
MD_JOINS = ("Dieptereiniging ICT hardware", "MD", date(2024, 9, 1))


def totals(run) -> dict[str, tuple[str, str, Decimal]]:
    return {i.code: (i.number, i.kind, i.total) for i in run.invoices}


def test_a_join_re_splits_what_was_billed_not_the_edited_amount(tmp_path):
    scenario = Scenario(costs=[K9], joins=[MD_JOINS])
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"

    # H1: K9 € 12.500 over DE WE LV (MD joins later), 298.973 inhabitants; in cents:
    #   DE 1.250.000 × 106.086 / 298.973 = 443.543,40
    #   WE 1.250.000 × 114.887 / 298.973 = 480.340,20
    #   LV 1.250.000 ×  78.000 / 298.973 = 326.116,41
    #   floors 1.249.999, the spare cent to LV (.41) -> DE 4.435,43  WE 4.803,40  LV 3.261,17.
    h1 = settle_and_send_h1(folder, out)
    assert totals(h1) == {
        "DE": ("IK-2024-0001", "factuur", D("21568.43")),  # 17.133 + 4.435,43
        "PN": ("IK-2024-0002", "factuur", D("9316.50")),
        "WE": ("IK-2024-0003", "factuur", D("23357.90")),  # 18.554,50 + 4.803,40
        "ZM": ("", "eigen aandeel", D("20513.50")),
        "LV": ("IK-2024-0004", "factuur", D("3261.17")),
    }

    # After H1 was sent, K9 is edited to € 25.000 in the workbook (the supplier's second
    # invoice typed over the first). That difference was never billed.
    scenario.costs = [replace_amount(K9, D("25000.00"))]
    scenario.write(folder)
    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)

    # MD's join re-splits the € 12.500 billed over DE WE LV MD, 318.473 inhabitants; in cents:
    #   DE 1.250.000 × 106.086 / 318.473 = 416.385,38
    #   WE 1.250.000 × 114.887 / 318.473 = 450.929,12
    #   LV 1.250.000 ×  78.000 / 318.473 = 306.148,40
    #   MD 1.250.000 ×  19.500 / 318.473 =  76.537,10
    #   floors 1.249.999, the spare cent to LV (.40) -> DE 4.163,85  WE 4.509,29  LV 3.061,49
    #   MD 765,37. Moves: DE 4.163,85 - 4.435,43 = -271,58; WE 4.509,29 - 4.803,40 = -294,11;
    #   LV 3.061,49 - 3.261,17 = -199,68; MD +765,37 (271,58 + 294,11 + 199,68 = 765,37).
    #   (Re-splitting the edited € 25.000 would have said "aandeel was € 8.870,87" to Delft.)
    assert totals(h2) == {
        "DE": ("IK-2024-0005", "factuur", D("16861.42")),  # 17.133 - 271,58
        "PN": ("IK-2024-0006", "factuur", D("9316.50")),
        "WE": ("IK-2024-0007", "factuur", D("18260.39")),  # 18.554,50 - 294,11
        "ZM": ("", "eigen aandeel", D("20513.50")),
        "LV": ("IK-2024-0008", "creditnota", D("-199.68")),
        "MD": ("IK-2024-0009", "factuur", D("765.37")),
    }
    joins = {
        i.code: (line.basis, line.amount, line.cost_total)
        for i in h2.invoices
        for line in i.lines
        if line.kind == "toetreding"
    }
    assert joins == {
        "DE": ("aandeel was € 4.435,43, wordt € 4.163,85", D("-271.58"), D("12500.00")),
        "WE": ("aandeel was € 4.803,40, wordt € 4.509,29", D("-294.11"), D("12500.00")),
        "LV": ("aandeel was € 3.261,17, wordt € 3.061,49", D("-199.68"), D("12500.00")),
        "MD": ("19.500 van 318.473 inwoners van € 12.500,00", D("765.37"), D("12500.00")),
    }
    # The edit is reported once, at its cell, and nothing of it is billed.
    about_k9 = [f for f in h2.findings if "K9" in f.message]
    assert len(about_k9) == 1
    assert (about_k9[0].location.sheet, about_k9[0].location.cell) == ("Projectkosten", "E2")
    assert about_k9[0].message == (
        "kenmerk 'K9' is al gefactureerd (IK-2024-0001: € 12.500,00 op 01-03-2024) en is "
        "sindsdien gewijzigd (€ 25.000,00 op 01-03-2024); het verschil wordt niet opnieuw "
        "gefactureerd"
    )
    # H2 bills the rest of the network (65.517,50) and no new costs: the join moves money.
    assert h2.settlement.total == D("65517.50") and h2.settlement.balanced
    # The year: the budget and K9 as billed, 131.035 + 12.500, to the cent.
    assert h1.settlement.total + h2.settlement.total == D("143535.00")


def replace_amount(cost: tuple, amount: Decimal) -> tuple:
    return (*cost[:4], amount, *cost[5:])


def test_the_correction_check_compares_against_an_independent_figure(tmp_path, monkeypatch):
    scenario = Scenario(costs=[K1, K2])
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"
    settle_and_send_h1(folder, out)
    # Westland's population corrected after H1 was sent (as in test_settle): the corrections
    # move money between municipalities and add up to 0.
    scenario.populations["WE"] = ("Westland", 115887, True)
    scenario.write(folder)
    arguments = ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out)]
    good = run_settlement(folder, "2024-H1", out=tmp_path / "proef", issue_date=H1_DATE)
    assert good.settlement.total == D("72517.50")  # what H1 should bill now: 65.517,50 + 7.000
    fine = CliRunner().invoke(main, [*arguments, "--correctie"])
    assert fine.exit_code == 0, fine.output
    assert "controle facturen + eigen aandeel = kosten: OK" in fine.output

    # Plant a wrong line: one cent too much on the first correction. The check is against
    # what H1 should bill (key and cost lines: 72.517,50) minus what the register holds as
    # invoiced for it (invoice totals, originals and the first correction: 72.517,50), so 0;
    # the corrections now add up to € 0,01.
    real = settlement_run_module.corrections

    def one_cent_more(*args, **kwargs):
        fixed = list(real(*args, **kwargs))
        first = fixed[0]
        extra = InvoiceLine(kind="netwerk", description="Geplant", basis="", amount=D("0.01"))
        fixed[0] = replace(first, lines=(*first.lines, extra))
        return tuple(fixed)

    monkeypatch.setattr(settlement_run_module, "corrections", one_cent_more)
    scenario.populations["WE"] = ("Westland", 116887, True)  # another change, another batch
    scenario.write(folder)
    planted = CliRunner().invoke(main, [*arguments, "--correctie"])
    assert planted.exit_code == 0, planted.output
    assert "controle facturen + eigen aandeel = kosten: VERSCHIL" in planted.output
    overview = openpyxl.load_workbook(
        out / "2024-H1-correctie-2" / "overzicht-2024-H1-correctie-2.xlsx", data_only=True
    )
    checks = [c.value for row in overview["Afrekening"].iter_rows() for c in row]
    assert "VERSCHIL" in checks and "OK" not in checks


def test_h2_names_the_earlier_invoices_it_deducts_that_were_never_sent(tmp_path):
    folder = Scenario(costs=[K1, K2]).write(tmp_path / "in")
    out = tmp_path / "uit"
    h1 = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)

    def warning(run) -> list[str]:
        return [f.message for f in run.findings if "nog niet verzonden" in f.message]

    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)
    assert warning(h2) == [
        "2024-H2 trekt de facturen van 2024-H1 af als gefactureerd, maar IK-2024-0001, "
        "IK-2024-0002, IK-2024-0003, IK-2024-0004, IK-2024-0005 zijn nog niet verzonden"
    ]
    assert next(f for f in h2.findings if "nog niet verzonden" in f.message).fix == (
        f"Verstuur ze met 'inkoopkracht-xl verstuur {out / '2024-H1'} --verzend', of ga na dat "
        "ze op een andere manier zijn verstuurd."
    )
    # Westland's address refuses: the others go. H2 (still a draft) now names only IK-2024-0003.
    with smtp_server(Mailbox(refuse={"inkoop@we.example.org"})) as (_, port):
        send_batch(h1.folder, port)
    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)
    assert warning(h2) == [
        "2024-H2 trekt de facturen van 2024-H1 af als gefactureerd, maar IK-2024-0003 is nog "
        "niet verzonden"
    ]
    with smtp_server() as (_, port):
        assert send_batch(h1.folder, port).complete
    assert warning(run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)) == []
    # A whole-year run after an unsent H1 says so too.
    other = tmp_path / "ander"
    run_settlement(folder, "2024-H1", out=other, issue_date=H1_DATE)
    year = run_settlement(folder, "2024", out=other, issue_date=H2_DATE)
    assert warning(year) == [
        "2024 trekt de facturen van 2024-H1 af als gefactureerd, maar IK-2024-0001, "
        "IK-2024-0002, IK-2024-0003, IK-2024-0004, IK-2024-0005 zijn nog niet verzonden"
    ]


def test_the_penvoerder_is_required_and_a_network_member(tmp_path):
    cases = {
        "leeg": (
            {"B3": None},
            "FOUT  Begroting 2024.xlsx › Instellingen › B3: de penvoerder is niet ingevuld. Vul "
            "bij Penvoerder de code in van de gemeente die de kosten betaalt en de facturen "
            "verstuurt, bijvoorbeeld DE; zij moet in het werkblad Inwoners staan met Netwerk = "
            "ja.",
        ),
        "geen netwerk": (
            {"B3": "LV"},
            "FOUT  Begroting 2024.xlsx › Instellingen › B3: penvoerder 'LV' betaalt niet mee aan "
            "de netwerkbegroting (Netwerk = nee in het werkblad Inwoners, E8). Kies als "
            "penvoerder een gemeente met Netwerk = ja, bijvoorbeeld DE, of zet Netwerk op ja bij "
            "LV als zij dit jaar meebetaalt.",
        ),
        "onbekend": (
            {"B3": "XQ"},
            "FOUT  Begroting 2024.xlsx › Instellingen › B3: penvoerder 'XQ' is geen bekende "
            "gemeentecode. Vul de code in van de gemeente die de kosten betaalt, bijvoorbeeld DE.",
        ),
    }
    for name, (cells, expected) in cases.items():
        folder = jaarplan_folder(tmp_path / name)
        set_cells(folder / BUDGET, "Instellingen", cells)
        check = CliRunner().invoke(main, ["controleer", str(folder)])
        assert check.exit_code == 1, (name, check.output)
        assert expected in check.output, (name, check.output)
        settle = CliRunner().invoke(
            main, ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(tmp_path / "u")]
        )
        assert settle.exit_code == 1 and expected in settle.output
        assert not (tmp_path / "u").exists()  # Zoetermeer never invoices itself

    # The whole Penvoerder row deleted: the error points at the sheet.
    folder = jaarplan_folder(tmp_path / "zonder rij")
    set_cells(folder / BUDGET, "Instellingen", {"A3": None, "B3": None})
    check = CliRunner().invoke(main, ["controleer", str(folder)])
    assert check.exit_code == 1
    assert "FOUT  Begroting 2024.xlsx › Instellingen: de penvoerder is niet ingevuld" in (
        check.output
    )
    # And a network member as penvoerder is accepted: Westland instead of Zoetermeer.
    folder = jaarplan_folder(tmp_path / "westland")
    set_cells(folder / BUDGET, "Instellingen", {"B3": "WE"})
    assert CliRunner().invoke(main, ["controleer", str(folder)]).exit_code == 0


def test_the_template_says_the_penvoerder_is_required(tmp_path):
    write_templates(tmp_path)
    budget = next(p for p in tmp_path.glob("*.xlsx") if "Instellingen" in _sheets(p))
    uitleg = openpyxl.load_workbook(budget)["Uitleg"]
    rows = {r[0]: r[1] for r in uitleg.iter_rows(values_only=True) if r[0]}
    assert rows["Penvoerder"] == (
        "Verplicht. Code van de gemeente die de kosten betaalt en de facturen verstuurt; zij "
        "moet in het blad Inwoners staan met Netwerk = ja. Zij krijgt geen factuur: haar eigen "
        "aandeel staat in het overzicht."
    )


def _sheets(path) -> list[str]:
    return openpyxl.load_workbook(path, read_only=True).sheetnames


def test_run_settlement_never_bills_the_penvoerder(tmp_path):
    """The penvoerder's share is an own-share statement: never a number, never an e-mail."""
    folder = Scenario(costs=[K1, K2]).write(tmp_path / "in")
    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=date(2024, 7, 1))
    own = [i for i in run.invoices if i.is_own_share]
    # ZM: voorschot 20.513,50 + K1 € 1.000 (€ 6.000 equally over six).
    assert [(i.code, i.number, i.total) for i in own] == [("ZM", "", D("21513.50"))]
    assert "ZM" not in {i.code for i in run.billed}


def test_rerunning_h1_voids_the_h2_drafts_and_removes_their_folder(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    out = tmp_path / "uit"
    run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)
    voided = [i.number for i in h2.billed]
    assert voided == ["IK-2024-0006", "IK-2024-0007", "IK-2024-0008"]  # DE PN WE; ZM leads
    again = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    assert [f.message for f in again.findings if "vervallen" in f.message] == [
        "de concepten van 2024-H2 zijn vervallen omdat 2024-H1 opnieuw is gemaakt; hun map is "
        "verwijderd"
    ]
    # No workbook or e-mail draft with a void number is left to be sent by hand.
    assert sorted(p.name for p in out.iterdir()) == [
        ".inkoopkracht.lock",
        "2024-H1",
        "register.sqlite",
    ]
    with Register.open(out / "register.sqlite") as register:
        states = dict(register.db.execute("SELECT number, status FROM numbers").fetchall())
    assert [states[n] for n in voided] == ["vervallen"] * 3


def test_a_correction_does_not_bill_again_what_a_later_period_billed(tmp_path):
    """Found by tests/test_year_machine.py: a cost line dated in H1 but added after H1 was
    sent is billed by H2; a correction of H1 billed it a second time (and likewise re-split a
    late join that H2 had re-split already)."""
    # H1 splits K2 (1-3) over DE WE LV: MD joins on 1-9. Sent.
    scenario = Scenario(costs=[K1, K2], joins=[MD_JOINS])
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"
    settle_and_send_h1(folder, out)
    # Then, both in H1 and both typed in after H1 was sent: K3 arrives, and MD's join date is
    # corrected to 1-5.
    scenario.costs.append(K3)
    scenario.joins = [("Dieptereiniging ICT hardware", "MD", date(2024, 5, 1))]
    scenario.write(folder)
    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)
    late = {
        (i.code, line.kind, line.reference): line.amount
        for i in h2.invoices
        for line in i.lines
        if line.reference
    }
    # K3 € 500 over DE and ZM (233.084): DE 227,57, ZM 272,43. K2 € 1.000 re-split with MD:
    # DE 333,11 WE 360,74 LV 244,92 MD 61,23 against 354,84 384,27 260,89 billed in H1.
    assert late == {
        ("DE", "project", "K3"): D("227.57"),
        ("ZM", "project", "K3"): D("272.43"),
        ("DE", "toetreding", "K2"): D("-21.73"),
        ("WE", "toetreding", "K2"): D("-23.53"),
        ("LV", "toetreding", "K2"): D("-15.97"),
        ("MD", "toetreding", "K2"): D("61.23"),
    }
    # H1 itself did not change: nothing to correct (not K3 or MD's share a second time).
    try:
        run_settlement(folder, "2024-H1", out=out, correction=True, issue_date=H2_DATE)
    except InputRefused as refused:
        assert "er zijn geen verschillen met de verzonden afrekening van 2024-H1" in str(refused)
    else:
        raise AssertionError("H1 corrected with what H2 billed already")
