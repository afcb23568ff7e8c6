"""The half-year settlement: H1 then H2 on one register, reruns, sent periods and corrections."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main
from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.register import Register
from inkoopkracht_xl.settle import Period
from inkoopkracht_xl.settlement_run import run_settlement

from .builders import SHIPPED, fingerprint
from .scenario import Scenario
from .smtp import send_batch, smtp_server

D = Decimal
H1_DATE = date(2024, 7, 1)
H2_DATE = date(2025, 1, 15)

# Cost lines of the scenario (Kenmerk, Onderwerp, Omschrijving, Datum, Bedrag, Verdeling).
K1 = ("K1", "Software broker", "Jaarbijdrage", date(2024, 2, 1), D("6000.00"), "gelijk")
K2 = (
    "K2",
    "Dieptereiniging ICT hardware",
    "Voorbereiding",
    date(2024, 3, 1),
    D("1000.00"),
    "inwoners",
)
K3 = ("K3", "Multifunctionals", "Marktverkenning", date(2024, 5, 15), D("500.00"), "inwoners")
K4 = ("K4", "Software broker", "Uitbreiding", date(2024, 10, 1), D("1200.00"), "inwoners")
MD_JOINS = ("Dieptereiniging ICT hardware", "MD", date(2024, 9, 1))


def totals(run) -> dict[str, tuple[str, str, Decimal]]:
    return {i.code: (i.number, i.kind, i.total) for i in run.invoices}


def lines(run, code: str) -> list[tuple[str, Decimal]]:
    invoice = next(i for i in run.invoices if i.code == code)
    return [(line.reference or line.kind, line.amount) for line in invoice.lines]


def test_h1_then_h2_on_one_register(tmp_path):
    scenario = Scenario(costs=[K1, K2], joins=[MD_JOINS])
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"

    h1 = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    # Voorschot = half the jaarplan's annual share: 34.266/2, 18.633/2, 37.109/2, 41.027/2.
    # K1 € 6.000 equally over DE PN WE ZM LV MD: € 1.000 each.
    # K2 € 1.000 on 1-3 by inhabitants over DE WE LV (MD joins only on 1-9): 298.973 in all;
    #   quotas in cents DE 35483.47, WE 38427.22, LV 26089.31; floors sum 99999, the last cent to
    #   the largest remainder (DE .47) -> DE 354,84  WE 384,27  LV 260,89.
    assert totals(h1) == {
        "DE": ("IK-2024-0001", "factuur", D("18487.84")),  # 17.133 + 1.000 + 354,84
        "PN": ("IK-2024-0002", "factuur", D("10316.50")),  # 9.316,50 + 1.000
        "WE": ("IK-2024-0003", "factuur", D("19938.77")),  # 18.554,50 + 1.000 + 384,27
        "ZM": ("", "eigen aandeel", D("21513.50")),  # 20.513,50 + 1.000, the penvoerder
        "LV": ("IK-2024-0004", "factuur", D("1260.89")),  # 1.000 + 260,89
        "MD": ("IK-2024-0005", "factuur", D("1000.00")),  # 1.000 (the join is in H2)
    }
    # All of it: 131.035 / 2 = 65.517,50 voorschot + 7.000 costs = 72.517,50.
    assert h1.settlement.total == D("72517.50") and h1.settlement.balanced

    # After H1: K3 arrives late but is dated in H1, K4 is dated in H2, and MD joins on 1-9.
    scenario.costs += [K3, K4]
    scenario.write(folder)
    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)
    # Network: final share minus the voorschot billed in H1 (the register's history).
    # K3 € 500 over DE ZM by inhabitants (233.084): DE 22757.03, ZM 27242.97 cents -> the spare
    #   cent to ZM (.97) -> DE 227,57  ZM 272,43.
    # K4 € 1.200 over all six (503.143): quotas DE 25301.59 PN 13754.82 WE 27400.64
    #   ZM 30289.12 LV 18603.06 MD 4650.77; 3 cents to PN .82, MD .77, WE .64
    #   -> DE 253,01 PN 137,55 WE 274,01 ZM 302,89 LV 186,03 MD 46,51.
    # MD's join re-splits K2 over DE WE LV MD (318.473): DE 33310.83 WE 36074.33 LV 24491.87
    #   MD 6122.97; 3 cents to MD .97, LV .87, DE .83 -> DE 333,11 WE 360,74 LV 244,92 MD 61,23;
    #   so DE -21,73, WE -23,53, LV -15,97 and MD +61,23 (money conserved).
    assert totals(h2) == {
        "DE": ("IK-2024-0006", "factuur", D("17591.85")),  # 17.133 + 227,57 + 253,01 - 21,73
        "PN": ("IK-2024-0007", "factuur", D("9454.05")),  # 9.316,50 + 137,55
        "WE": ("IK-2024-0008", "factuur", D("18804.98")),  # 18.554,50 + 274,01 - 23,53
        "ZM": ("", "eigen aandeel", D("21088.82")),  # 20.513,50 + 272,43 + 302,89
        "LV": ("IK-2024-0009", "factuur", D("170.06")),  # 186,03 - 15,97
        "MD": ("IK-2024-0010", "factuur", D("107.74")),  # 46,51 + 61,23
    }
    assert lines(h2, "MD") == [("K4", D("46.51")), ("K2", D("61.23"))]
    # 65.517,50 rest of the network + 500 + 1.200 = 67.217,50; joins move money, add none.
    assert h2.settlement.total == D("67217.50") and h2.settlement.balanced
    # Over the year every euro is billed once: 131.035 + 6.000 + 1.000 + 500 + 1.200.
    assert h1.settlement.total + h2.settlement.total == D("139735.00")


def test_rerunning_an_unsent_period_gives_identical_numbers_and_values(tmp_path):
    folder = Scenario(costs=[K1, K2]).write(tmp_path / "in")
    out = tmp_path / "uit"
    first = run_settlement(
        folder, "2024-H1", out=out, issue_date=H1_DATE, now=datetime(2024, 7, 1, 9)
    )
    second = run_settlement(
        folder, "2024-H1", out=out, issue_date=H1_DATE, now=datetime(2024, 7, 2, 9)
    )
    assert second.as_json() == first.as_json()
    assert [i.number for i in second.billed] == [f"IK-2024-000{n}" for n in range(1, 6)]
    with Register.open(out / "register.sqlite") as register:
        assert register.db.execute("SELECT COUNT(*) FROM invoices").fetchone() == (6,)
        assert register.db.execute("SELECT COUNT(*) FROM runs").fetchone() == (2,)


def settle_and_send_h1(folder, out):
    """Settle 2024-H1 into `out` and send it over real SMTP (verstuur --verzend): final."""
    run = run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    with smtp_server() as (mailbox, port):
        outcome = send_batch(run.folder, port)
    assert outcome.complete and len(mailbox.received) == len(run.billed)
    return run


def test_a_sent_period_is_final(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    out = tmp_path / "uit"
    settle_and_send_h1(folder, out)
    before = fingerprint(out)
    result = CliRunner().invoke(
        main, ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out)]
    )
    assert result.exit_code == 1
    assert "2024-H1 is al verzonden en daarmee definitief." in result.output
    assert "--correctie" in result.output
    assert fingerprint(out) == before  # nothing written, register untouched


def test_correction_after_a_changed_population_sums_to_the_difference(tmp_path):
    scenario = Scenario(costs=[K1, K2])
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"
    original = settle_and_send_h1(folder, out)

    # CBS corrected Westland's population after H1 was sent (an example correction).
    scenario.populations["WE"] = ("Westland", 115887, True)
    scenario.write(folder)
    fixed = run_settlement(folder, "2024-H1", out=out, correction=True, issue_date=date(2024, 8, 1))
    assert fixed.batch == "2024-H1-correctie-1"
    # New key on 406.643 inhabitants, basis points 2608.84 1418.25 2849.83 3123.08: floors 9998,
    #   +1 to DE (.84) and WE (.83) -> 26,09 % 14,18 % 28,50 % 31,23 %.
    # Amounts of € 131.035: 34187.03 18580.76 37344.975 40922.23 -> floors 131.033, +1 to WE
    #   (.975) and PN (.76) -> 34.187, 18.581, 37.345, 40.922; voorschot 17.093,50 9.290,50
    #   18.672,50 20.461 against 17.133 9.316,50 18.554,50 20.513,50 sent.
    # K2 over DE WE LV MD (no join here; 319.473): 33206.56 36274.43 24415.21 6103.80 cents,
    #   +1 to MD (.80) and DE (.56) -> 332,07 362,74 244,15 61,04 against 333,11 360,74 244,92
    #   61,23 sent (over 318.473).
    changes = {i.code: i.total for i in fixed.invoices}
    assert changes == {
        "DE": D("-40.54"),  # -39,50 voorschot - 1,04 K2
        "PN": D("-26.00"),
        "WE": D("120.00"),  # +118 voorschot + 2,00 K2
        "ZM": D("-52.50"),  # the penvoerder's own share
        "LV": D("-0.77"),
        "MD": D("-0.19"),
    }
    # The network budget and the cost lines did not change: the corrections sum to 0, exactly
    # the difference between what H1 is now and what was sent.
    now = {i.code: i.total for i in run_settlement_preview(folder, tmp_path)}
    was = {i.code: i.total for i in original.invoices}
    assert sum(changes.values()) == sum(now.values()) - sum(was.values()) == 0
    assert {code: now[code] - was[code] for code in now if now[code] != was[code]} == changes
    kinds = {i.code: i.kind for i in fixed.invoices}
    assert kinds["WE"] == "factuur" and kinds["DE"] == "creditnota"
    assert all(
        i.refers_to == next(o.number for o in original.invoices if o.code == i.code)
        for i in fixed.invoices
        if not i.is_own_share
    )


def run_settlement_preview(folder, tmp_path):
    """What H1 would be now, settled on a fresh register (the reference for the corrections)."""
    return run_settlement(folder, "2024-H1", out=tmp_path / "fresh", issue_date=H1_DATE).invoices


def test_correction_without_changes_is_refused(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    out = tmp_path / "uit"
    settle_and_send_h1(folder, out)
    with pytest.raises(InputRefused, match="geen verschillen"):
        run_settlement(folder, "2024-H1", out=out, correction=True)


def test_edited_cost_line_is_reported_never_billed_again(tmp_path):
    scenario = Scenario(costs=[K1])
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"
    run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    scenario.costs = [
        ("K1", "Software broker", "Jaarbijdrage", date(2024, 2, 1), D("6600.00"), "gelijk")
    ]
    scenario.write(folder)
    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)
    assert all(line.reference != "K1" for i in h2.invoices for line in i.lines)
    warning = next(f for f in h2.findings if "K1" in f.message)
    assert "al gefactureerd (IK-2024-0001: € 6.000,00" in warning.message
    assert warning.location.sheet == "Projectkosten" and warning.location.cell == "E2"


def test_period_must_match_the_budget_year(tmp_path):
    folder = Scenario().write(tmp_path / "in")
    result = CliRunner().invoke(main, ["afrekening", str(folder), "--periode", "2025-H1"])
    assert result.exit_code == 1
    assert "de begroting is van 2024, de periode 2025-H1 van 2025" in result.output
    bad = CliRunner().invoke(main, ["afrekening", str(folder), "--periode", "2024-Q3"])
    assert bad.exit_code == 1 and "'2024-Q3' is geen periode" in bad.output


def test_h2_and_whole_year_exclude_each_other(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    out = tmp_path / "uit"
    run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)
    with pytest.raises(InputRefused, match="al 2024-H2 afgerekend"):
        run_settlement(folder, "2024", out=out)


def test_whole_year_at_once_bills_the_annual_share(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    year = run_settlement(folder, "2024", out=tmp_path / "uit", issue_date=H2_DATE)
    network = {i.code: i.lines[0].amount for i in year.invoices if i.lines[0].kind == "netwerk"}
    assert network == {
        "DE": D("34266.00"),
        "PN": D("18633.00"),
        "WE": D("37109.00"),
        "ZM": D("41027.00"),
    }
    assert year.settlement.total == D("137035.00")  # 131.035 + 6.000


def test_realised_amounts_settle_h2(tmp_path):
    scenario = Scenario()
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"
    run_settlement(folder, "2024-H1", out=out, issue_date=H1_DATE)
    # Every post realised: 118.000 + 4.000 + 3.685 + 350 + 0 = 126.035 instead of 131.035.
    scenario.realised = [D("118000"), D("4000"), D("3685"), D("350"), D("0")]
    scenario.write(folder)
    h2 = run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)
    # Key on 126.035: DE 26,15 % = 32958.15 -> euros by largest remainder: DE 32.958,
    # PN 17.922, WE 35.693, ZM 39.462 (sum 126.035); minus the voorschot.
    assert {i.code: i.total for i in h2.invoices} == {
        "DE": D("32958.00") - D("17133.00"),
        "PN": D("17922.00") - D("9316.50"),
        "WE": D("35693.00") - D("18554.50"),
        "ZM": D("39462.00") - D("20513.50"),
    }
    assert h2.invoices[0].lines[0].description.endswith("(gerealiseerd)")


def test_jaarplan_h1_gives_the_voorschotten(tmp_path):
    # The README's first command: the shipped workbooks, laid out as the jaarplan prints them.
    result = CliRunner().invoke(
        main,
        [
            "afrekening",
            str(SHIPPED),
            "--periode",
            "2024-H1",
            "--uit",
            str(tmp_path),
            "--json",
            "--datum",
            "01-07-2024",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    voorschot = {
        f["code"]: f["regels"][0]["bedrag"]
        for f in report["facturen"]
        if f["regels"][0]["omschrijving"].startswith("Voorschot")
    }
    # Half of the jaarplan's shares: 34.266, 18.633, 37.109, 41.027.
    assert voorschot == {"DE": "17133.00", "PN": "9316.50", "WE": "18554.50", "ZM": "20513.50"}
    kinds = {f["code"]: (f["soort"], f["nummer"]) for f in report["facturen"]}
    assert kinds["ZM"] == ("eigen aandeel", None)  # the penvoerder (Instellingen) gets no invoice
    assert kinds["DE"] == ("factuur", "IK-2024-0001")
    overview = openpyxl.load_workbook(
        tmp_path / "2024-H1" / "overzicht-2024-H1.xlsx", data_only=True
    )
    assert overview.sheetnames == [
        "Verdeelsleutel",
        "Deelnamematrix",
        "Samenwerking",
        "Afrekening",
        "Facturen",
        "Wijzigingen",
        "Verantwoording",
    ]
    checks = [
        c.value
        for row in overview["Afrekening"].iter_rows()
        for c in row
        if c.value in ("OK", "VERSCHIL")
    ]
    assert checks == ["OK"]
    numbers = {
        row[0].value: row[1].value
        for row in overview["Afrekening"].iter_rows(min_row=5)
        if row[1].value
    }
    assert numbers["Delft"] == "IK-2024-0001" and numbers["Rijswijk"] == "IK-2024-0006"
    assert "Zoetermeer" not in numbers  # the penvoerder's own share has no number


def test_outputs_are_complete(tmp_path):
    folder = Scenario(costs=[K1, K2]).write(tmp_path / "in")
    inputs_before = fingerprint(folder)
    run = run_settlement(folder, "2024-H1", out=tmp_path / "uit", issue_date=H1_DATE)
    # Per invoice its PDF (the invoice), e-invoice and workbook (the specification).
    names = sorted(p.name for p in (run.folder / "facturen").iterdir())
    assert names == [
        f"Factuur 2024-H1 {name}.{kind}"
        for name in ("Delft", "Leidschendam-Voorburg", "Midden-Delfland")
        + ("Pijnacker-Nootdorp", "Westland")
        for kind in ("pdf", "xlsx", "xml")
    ]
    copies = fingerprint(run.folder / "invoer")
    assert copies == inputs_before  # the inputs exactly as used
    assert fingerprint(folder) == inputs_before  # and untouched
    manifest = json.loads((run.folder / "afrekening.json").read_text(encoding="utf-8"))
    assert (
        manifest["run"] == run.run_id
        and manifest["facturen"]["IK-2024-0001"]["bestand"] == names[1]
    )
    assert Period.parse("2024-h1") == Period(2024, 1)
