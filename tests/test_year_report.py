"""`rapport UIT [--jaar J]` (issue 14): the register over two years as an Excel report, its totals
equal to the register's invoices to the cent, charts, the --jaar filter and the refusals.

The register (tests/scenario.py, a copy of the jaarplan's key): 2024 with cost lines K1
(Software broker, € 6.000 equally over DE PN WE ZM LV MD: € 1.000 each) and K3 (Multifunctionals,
€ 500 by population over DE 106.086 and ZM 126.998: DE 227,57, ZM 272,43). H1 settled and sent;
then Westland's population corrected (115.887) and H1 corrected; then H2 settled (a draft).
2025 made by `jaarovergang` with the jaarplan's populations again and one cost line of € 600
equally over the six (€ 100 each), settled as a whole year.

Network budget € 131.035. Key of the jaarplan: DE 34.266, PN 18.633, WE 37.109, ZM 41.027, so H1
(half) DE 17.133, PN 9.316,50, WE 18.554,50, ZM 20.513,50. With WE 115.887 (test_settle):
DE 34.187, PN 18.581, WE 37.345, ZM 40.922; the H1 correction DE -39,50, PN -26,00, WE +118,00,
ZM -52,50; H2 then bills the rest: DE 17.093,50, PN 9.290,50, WE 18.672,50, ZM 20.461.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main
from inkoopkracht_xl.next_year import next_year
from inkoopkracht_xl.register import Register
from inkoopkracht_xl.settlement_run import run_settlement

from .builders import JAARPLAN, append_rows, bench_module, set_cells
from .recalc import formula_cells, recalculated_mismatches, requires_libreoffice
from .scenario import POPULATIONS, Scenario
from .test_settle import H2_DATE, K1, K3, settle_and_send_h1

D = Decimal
# Per gemeente, per municipality: (Netwerk, Projecten, Toetredingen, Correcties, Totaal,
# Waarvan creditnota's) of 2024 and of 2025; None is an empty cell.
EXPECTED_2024 = {
    # 17.133 + 17.093,50; K1 1.000 + K3 227,57; the correction's credit note -39,50
    "DE": (D("34226.50"), D("1227.57"), None, D("-39.50"), D("35414.57"), D("-39.50")),
    "PN": (D("18607.00"), D("1000.00"), None, D("-26.00"), D("19581.00"), D("-26.00")),
    "WE": (D("37227.00"), D("1000.00"), None, D("118.00"), D("38345.00"), None),
    "LV": (None, D("1000.00"), None, None, D("1000.00"), None),
    "MD": (None, D("1000.00"), None, None, D("1000.00"), None),
}
EXPECTED_2025 = {  # the jaarplan's key and € 100 each
    "DE": (D("34266.00"), D("100.00"), None, None, D("34366.00"), None),
    "PN": (D("18633.00"), D("100.00"), None, None, D("18733.00"), None),
    "WE": (D("37109.00"), D("100.00"), None, None, D("37209.00"), None),
    "LV": (None, D("100.00"), None, None, D("100.00"), None),
    "MD": (None, D("100.00"), None, None, D("100.00"), None),
}
# 35.414,57 + 19.581 + 38.345 + 1.000 + 1.000
INVOICED_2024 = D("95340.57")
# 34.366 + 18.733 + 37.209 + 100 + 100
INVOICED_2025 = D("90508.00")
# ZM: 20.513,50 + 20.461 network, 1.000 + 272,43 projects, -52,50 correction = 42.194,43
# (95.340,57 + 42.194,43 = 137.535 = 131.035 + 6.000 + 500); 2025: 41.027 + 100 = 41.127.
OWN_2024, OWN_2025 = D("42194.43"), D("41127.00")


@pytest.fixture(scope="module")
def register(tmp_path_factory) -> Path:
    """The output folder holding the register of 2024 and 2025 described above."""
    root = tmp_path_factory.mktemp("rapport")
    scenario = Scenario(costs=[K1, K3])
    folder = scenario.write(root / "2024")
    out = root / "uit"
    settle_and_send_h1(folder, out)
    scenario.populations["WE"] = ("Westland", 115887, True)
    scenario.write(folder)
    run_settlement(folder, "2024-H1", out=out, correction=True, issue_date=date(2024, 8, 1))
    run_settlement(folder, "2024-H2", out=out, issue_date=H2_DATE)

    following = root / "2025"
    next_year(folder, following, 2025)
    budget = next(p for p in following.glob("*.xlsx") if "Begroting" in p.name)
    people = {f"C{row}": n for row, (_, n, _) in enumerate(POPULATIONS.values(), start=2)}
    set_cells(budget, "Inwoners", people)
    append_rows(
        budget,
        "Projectkosten",
        [["K1-2025", "Software broker", "Jaarbijdrage", date(2025, 2, 1), 600, "gelijk"]],
    )
    run_settlement(following, "2025", out=out, issue_date=date(2026, 1, 15))
    return out


def rapport(*arguments) -> object:
    return CliRunner().invoke(main, ["rapport", *map(str, arguments)])


def money(value) -> Decimal | None:
    """A cell's number as money: at 15 significant digits (what Excel shows), to the cent."""
    if value is None:
        return None
    return D(f"{value:.15g}").quantize(D("0.01"))


def sql_cents(out: Path, query: str, *parameters) -> dict:
    """Plain SQL on the register, independent of the report's pandas tables."""
    with closing(sqlite3.connect(out / "register.sqlite")) as db:
        return {key: D(cents) / 100 for key, cents in db.execute(query, parameters)}


def sheet_rows(book, name: str, header_row: int) -> tuple[list, list[list]]:
    rows = [list(r) for r in book[name].iter_rows(min_row=header_row, values_only=True)]
    return rows[0], rows[1:]


def municipality_table(book, years: list[int]) -> dict[str, dict[int, tuple]]:
    """Per gemeente as {code: {year: (six cells as money)}} for the invoiced rows and ZM."""
    _, rows = sheet_rows(book, "Per gemeente", 5)
    table: dict[str, dict[int, tuple]] = {}
    for row in rows:
        if not row[0] or len(row[0]) != 2:  # codes; skips the totals and headings
            continue
        table[row[0]] = {
            year: tuple(money(v) for v in row[2 + 6 * i : 8 + 6 * i])
            for i, year in enumerate(years)
        }
    return table


def test_per_gemeente_is_what_the_register_invoiced_to_the_cent(register, tmp_path):
    target = tmp_path / "rapport.xlsx"
    result = rapport(register, "--bestand", target)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Rapport geschreven: {target}",
        "Jaren: 2024, 2025.",
        # 95.340,57 + 90.508; 5 H1 invoices + 3 corrections + 3 H2 + 5 of 2025; H1 was sent
        "Gefactureerd: € 185.848,57 in 16 facturen en creditnota's (5 verzonden, 11 niet).",
        "Eigen aandeel penvoerder (niet gefactureerd): € 83.321,43.",  # 42.194,43 + 41.127
        "Controle rapport = facturen in het register: OK.",
    ]
    book = openpyxl.load_workbook(target, data_only=True)
    assert book.sheetnames == [
        "Per gemeente",
        "Per onderwerp",
        "Facturen",
        "Grafieken",
        "Verantwoording",
    ]
    header, _ = sheet_rows(book, "Per gemeente", 5)
    assert header == [
        "Code",
        "Gemeente",
        *("Netwerk", "Projecten", "Toetredingen", "Correcties", "Totaal 2024"),
        "Waarvan creditnota's",
        *("Netwerk", "Projecten", "Toetredingen", "Correcties", "Totaal 2025"),
        "Waarvan creditnota's",
        "Totaal",
    ]
    table = municipality_table(book, [2024, 2025])
    for code, expected in EXPECTED_2024.items():
        assert table[code][2024] == expected, code
    for code, expected in EXPECTED_2025.items():
        assert table[code][2025] == expected, code
    assert table["ZM"][2024] == (D("40974.50"), D("1272.43"), None, D("-52.50"), OWN_2024, None)
    assert table["ZM"][2025] == (D("41027.00"), D("100.00"), None, None, OWN_2025, None)

    # Independently: per municipality and year the sum of its invoice totals in the register.
    invoiced = sql_cents(
        register,
        """SELECT code || ' ' || year, SUM(total_cents) FROM invoices
           WHERE kind <> 'eigen aandeel' GROUP BY code, year""",
    )
    assert len(invoiced) == 10
    for key, total in invoiced.items():
        code, year = key.split()
        assert table[code][int(year)][4] == total, key
    _, rows = sheet_rows(book, "Per gemeente", 5)
    total_row = next(r for r in rows if r[1] == "Totaal gefactureerd")
    assert (
        money(total_row[6])
        == INVOICED_2024
        == sum(v for k, v in invoiced.items() if k.endswith("2024"))
    )
    assert money(total_row[12]) == INVOICED_2025
    assert money(total_row[14]) == INVOICED_2024 + INVOICED_2025
    costs = next(r for r in rows if r[1] == "Kosten: gefactureerd + eigen aandeel")
    # 2024: 131.035 + 6.000 + 500; 2025: 131.035 + 600
    assert (money(costs[6]), money(costs[12])) == (D("137535.00"), D("131635.00"))


def test_totals_are_formulas_with_their_values_cached(register, tmp_path):
    target = tmp_path / "rapport.xlsx"
    assert rapport(register, "--bestand", target).exit_code == 0
    sheet = openpyxl.load_workbook(target)["Per gemeente"]
    delft = next(r for r in sheet.iter_rows(min_row=6) if r[0].value == "DE")
    assert delft[6].value == f"=SUM(C{delft[0].row}:F{delft[0].row})"
    assert delft[14].value == f"=G{delft[0].row}+M{delft[0].row}"
    assert sheet.freeze_panes == "C6"
    assert sheet["C6"].number_format == '"€" #,##0.00;"€" -#,##0.00'


def test_per_onderwerp_says_who_paid_what(register, tmp_path):
    target = tmp_path / "rapport.xlsx"
    assert rapport(register, "--bestand", target).exit_code == 0
    book = openpyxl.load_workbook(target, data_only=True)
    header, rows = sheet_rows(book, "Per onderwerp", 4)
    # Invoiced municipalities by name; the penvoerder (ZM) in its own-share column.
    assert header == [
        "Jaar",
        "Onderwerp",
        "Delft",
        "Leidschendam-Voorburg",
        "Midden-Delfland",
        "Pijnacker-Nootdorp",
        "Westland",
        "Eigen aandeel penvoerder (ZM)",
        "Totaal",
    ]
    shown = {(r[0], r[1]): [money(v) for v in r[2:]] for r in rows}
    thousand, hundred = D("1000.00"), D("100.00")
    assert shown == {
        (2024, "Multifunctionals"): [D("227.57"), None, None, None, None, D("272.43"), D("500.00")],
        (2024, "Software broker"): [thousand] * 6 + [D("6000.00")],
        (2025, "Software broker"): [hundred] * 6 + [D("600.00")],
        # the totals row: Delft 1.000 + 227,57 + 100; ZM 1.000 + 272,43 + 100
        ("Totaal", ""): [D("1327.57"), D("1100.00"), D("1100.00"), D("1100.00"), D("1100.00")]
        + [D("1372.43"), D("7100.00")],
    }
    # Independently: every project and join line with its subject, own share included.
    lines = sql_cents(
        register,
        "SELECT 'all', SUM(amount_cents) FROM lines WHERE kind IN ('project', 'toetreding')",
    )
    assert shown[("Totaal", "")][-1] == lines["all"]


def test_facturen_lists_every_invoice_with_its_state(register, tmp_path):
    target = tmp_path / "rapport.xlsx"
    assert rapport(register, "--bestand", target).exit_code == 0
    book = openpyxl.load_workbook(target, data_only=True)
    header, rows = sheet_rows(book, "Facturen", 4)
    assert header == [
        "Nummer",
        "Jaar",
        "Periode",
        "Partij",
        "Code",
        "Gemeente",
        "Soort",
        "Bedrag",
        "Status",
    ]
    *invoices, total = rows
    numbers = sql_cents(
        register,
        "SELECT number, total_cents FROM invoices WHERE number IS NOT NULL ORDER BY number",
    )
    assert {r[0]: money(r[7]) for r in invoices} == numbers
    assert [r[0] for r in invoices] == list(numbers)  # by year and number
    assert total[0] == "Totaal" and money(total[7]) == INVOICED_2024 + INVOICED_2025
    states = {r[0]: (r[3], r[6], r[8]) for r in invoices}
    assert states["IK-2024-0001"] == ("2024-H1", "factuur", "verzonden")
    assert states["IK-2024-0006"] == ("2024-H1-correctie-1", "creditnota", "concept")  # DE
    assert states["IK-2025-0001"] == ("2025", "factuur", "concept")
    assert sum(1 for r in invoices if r[8] == "verzonden") == 5


def test_charts_show_contributions_per_year_and_the_top_subjects(register, tmp_path):
    target = tmp_path / "rapport.xlsx"
    assert rapport(register, "--bestand", target).exit_code == 0
    book = openpyxl.load_workbook(target, data_only=True)
    sheet = book["Grafieken"]
    table = [[c.value for c in r] for r in sheet.iter_rows(min_row=6, max_row=11, max_col=4)]
    # Each municipality's invoices + the penvoerder's own share, largest first (all years):
    # ZM 42.194,43 + 41.127, WE 38.345 + 37.209, DE 35.414,57 + 34.366, PN 19.581 + 18.733,
    # then LV and MD (1.000 + 100 each) by name.
    assert [(r[0], money(r[2]), money(r[3])) for r in table] == [
        ("ZM", OWN_2024, OWN_2025),
        ("WE", D("38345.00"), D("37209.00")),
        ("DE", D("35414.57"), D("34366.00")),
        ("PN", D("19581.00"), D("18733.00")),
        ("LV", D("1000.00"), D("100.00")),
        ("MD", D("1000.00"), D("100.00")),
    ]
    columns, bars = sheet._charts
    assert columns.tagname == "barChart" and columns.barDir == "col"
    assert [s.tx.strRef.f for s in columns.series] == ["Grafieken!$C$5", "Grafieken!$D$5"]
    assert [s.cat.strRef.f for s in columns.series] == ["Grafieken!$B$6:$B$11"] * 2
    assert [s.val.numRef.f for s in columns.series] == [
        "Grafieken!$C$6:$C$11",
        "Grafieken!$D$6:$D$11",
    ]
    assert bars.barDir == "bar"
    (series,) = bars.series
    values = series.val.numRef.f
    start, end = (int(part.rsplit("$", 1)[1]) for part in values.split("!")[1].split(":"))
    assert values == f"Grafieken!$C${start}:$C${end}" and end - start == 2
    assert series.cat.strRef.f == f"Grafieken!$A${start}:$A${end}"
    top = [
        (sheet.cell(row, 1).value, money(sheet.cell(row, 3).value)) for row in range(start, end + 1)
    ]
    assert top == [
        ("Software broker (2024)", D("6000.00")),
        ("Software broker (2025)", D("600.00")),
        ("Multifunctionals (2024)", D("500.00")),
    ]


def test_verantwoording_checks_the_report_against_the_register(register, tmp_path):
    target = tmp_path / "rapport.xlsx"
    assert rapport(register, "--bestand", target).exit_code == 0
    values = openpyxl.load_workbook(target, data_only=True)["Verantwoording"]
    cells = {r[0]: r[1] for r in values.iter_rows(min_row=4, max_col=2, values_only=True) if r[0]}
    assert cells["Register"] == str(register / "register.sqlite")
    assert cells["Jaren in dit rapport"] == "2024, 2025"
    assert money(cells["Gefactureerd volgens dit rapport (Per gemeente, Totaal gefactureerd)"]) == (
        INVOICED_2024 + INVOICED_2025
    )
    checks = [r[1] for r in values.iter_rows(values_only=True) if r[0] == "Rapport = register"]
    assert checks == ["OK", "OK"]
    formulas = openpyxl.load_workbook(target)["Verantwoording"]
    row = next(r for r in formulas.iter_rows() if r[0].value == "Rapport = register")
    assert row[1].value.startswith("=IF(ROUND(B") and row[1].value.endswith(',"OK","VERSCHIL")')


def test_a_wrong_line_in_the_register_makes_the_check_say_verschil(register, tmp_path):
    out = tmp_path / "uit"
    out.mkdir()
    shutil.copy2(register / "register.sqlite", out / "register.sqlite")
    # Plant one cent more on the network line of Delft's H2 invoice (IK-2024-0009: H1 0001-0005,
    # the correction 0006-0008); its invoice total stays as recorded.
    with closing(sqlite3.connect(out / "register.sqlite")) as db, db:
        db.execute(
            """UPDATE lines SET amount_cents = amount_cents + 1 WHERE id = (
                   SELECT l.id FROM lines l JOIN invoices i ON i.id = l.invoice_id
                   WHERE i.batch = '2024-H2' AND i.code = 'DE' AND l.kind = 'netwerk')"""
        )
    result = rapport(out)
    assert result.exit_code == 0, result.output
    assert "Controle rapport = facturen in het register: VERSCHIL." in result.output
    assert "tellen niet op tot hun totaal: IK-2024-0009 (2024-H2)" in result.output
    book = openpyxl.load_workbook(out / "rapport-2024-2025.xlsx", data_only=True)
    checks = [r[1] for r in book["Verantwoording"].iter_rows(values_only=True) if r[0]]
    assert "VERSCHIL" in checks
    delft = municipality_table(book, [2024, 2025])["DE"][2024]
    assert delft[0] == D("34226.51")  # the report counts the lines: one cent too many


def test_jaar_limits_the_report_to_one_year(register):
    before = register_fingerprint(register)
    result = rapport(register, "--jaar", 2025)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"Rapport geschreven: {register / 'rapport-2025.xlsx'}"
    book = openpyxl.load_workbook(register / "rapport-2025.xlsx", data_only=True)
    header, rows = sheet_rows(book, "Per gemeente", 5)
    assert header[2:] == [
        *("Netwerk", "Projecten", "Toetredingen", "Correcties", "Totaal 2025"),
        "Waarvan creditnota's",
    ]
    table = municipality_table(book, [2025])
    assert {code: table[code][2025] for code in EXPECTED_2025} == EXPECTED_2025
    total_row = next(r for r in rows if r[1] == "Totaal gefactureerd")
    assert money(total_row[6]) == INVOICED_2025
    facts = {
        r[0]: r[1] for r in book["Verantwoording"].iter_rows(max_col=2, values_only=True) if r[0]
    }
    assert (facts["Jaren in dit rapport"], facts["Jaren in het register"]) == ("2025", "2024, 2025")
    assert {r[1] for r in sheet_rows(book, "Facturen", 4)[1][:-1]} == {2025}
    # Reading never writes: the register is byte for byte the same, no journal left beside it.
    assert register_fingerprint(register) == before


def register_fingerprint(out: Path) -> tuple[str, list[str]]:
    digest = hashlib.sha256((out / "register.sqlite").read_bytes()).hexdigest()
    return digest, sorted(p.name for p in out.iterdir() if p.name.startswith("register"))


def refused(arguments: list, expected: str, untouched: Path) -> None:
    """Exit 1 with the Dutch message, no traceback, and nothing written in `untouched`."""
    before = sorted(p.name for p in untouched.rglob("*")) if untouched.exists() else None
    result = rapport(*arguments)
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    after = sorted(p.name for p in untouched.rglob("*")) if untouched.exists() else None
    assert after == before


def test_a_year_not_in_the_register_is_refused_naming_the_years_there(register):
    refused(
        [register, "--jaar", 2023],
        "dit register heeft geen facturen van 2023, alleen van 2024, 2025; er is niets "
        "geschreven. Kies met --jaar een van deze jaren (2024, 2025), of laat --jaar weg",
        register,
    )


def test_a_folder_without_a_register_is_refused_and_nothing_is_created(tmp_path):
    empty = tmp_path / "uitvoer"
    empty.mkdir()
    refused([empty], "in deze map staat geen register (register.sqlite)", empty)
    assert list(empty.iterdir()) == []
    missing = tmp_path / "bestaat-niet"
    refused([missing], "bestaat-niet: deze uitvoermap bestaat niet", tmp_path)
    assert not missing.exists()


def test_a_period_folder_is_refused_with_the_folder_to_give(register):
    refused(
        [register / "2024-H1"],
        f"dit is de map van één periode, niet de uitvoermap met het register. Geef de map "
        f"erboven op: inkoopkracht-xl rapport {register}",
        register,
    )


def test_a_file_that_is_no_register_is_refused(tmp_path):
    out = tmp_path / "uit"
    out.mkdir()
    (out / "register.sqlite").write_bytes(b"geen database" * 100)
    refused([out], "register.sqlite", out)
    assert (out / "register.sqlite").read_bytes() == b"geen database" * 100


def test_a_target_that_is_no_workbook_is_refused(register, tmp_path):
    refused(
        [register, "--bestand", tmp_path / "rapport.pdf"],
        "het rapport is een Excel-werkmap; deze bestandsnaam eindigt niet op .xlsx",
        tmp_path,
    )


def test_pandas_is_imported_only_by_rapport(register, tmp_path):
    """Every other command keeps its start-up time (SPEC §5): run in a fresh interpreter."""
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "import inkoopkracht_xl.cli as cli\n"
        "after_import = 'pandas' in sys.modules\n"
        "result = CliRunner().invoke(cli.main, sys.argv[1:])\n"
        "print(result.exit_code, after_import, 'pandas' in sys.modules)\n"
    )

    def run(*arguments) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, *map(str, arguments)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
        )
        return done.stdout.strip()

    assert run("controleer", JAARPLAN) == "0 False False"
    assert run("status", register) == "0 False False"
    # The probe can tell: rapport does import it.
    assert run("rapport", register, "--bestand", tmp_path / "r.xlsx") == "0 False True"


@pytest.mark.parametrize(("seconds", "verdict"), [(6.5, "OK"), (10.5, "TE LANGZAAM")])
def test_the_benchmark_judges_rapport_against_ten_seconds(capsys, seconds, verdict):
    bench = bench_module()
    sample = bench.Sample(seconds=seconds, tree_bytes=1, single_bytes=1, returncode=0, output="")
    results = {
        "vloer": bench.Series("vloer", [sample]),
        "--help": bench.Series("--help", [sample]),
        "rapport": bench.Series("rapport", [sample]),
    }
    bench.print_targets(results, bench.FLOOR_IMPORTS)
    (line,) = [x for x in capsys.readouterr().out.splitlines() if "rapport nationaal" in x]
    assert f"{bench.nl(seconds, 2)} s" in line and "< 10 s" in line
    assert line.endswith(verdict)


@requires_libreoffice
def test_every_cached_total_agrees_with_libreoffice(register, tmp_path):
    target = tmp_path / "rapport.xlsx"
    assert rapport(register, "--bestand", target).exit_code == 0
    formulas = formula_cells(target)
    # Row totals and totals rows on Per gemeente, Per onderwerp and Facturen; on Verantwoording
    # the two report figures (read from Per gemeente) and their two checks.
    assert len(formulas["Per gemeente"]) > 40 and len(formulas["Verantwoording"]) == 4
    assert recalculated_mismatches(target, tmp_path / "lo") == []


def test_a_register_without_invoices_is_refused(tmp_path):
    out = tmp_path / "uit"
    with Register.open(out / "register.sqlite"):
        pass  # the schema, no settlement yet
    refused([out], "het register bevat nog geen facturen; er is niets om over te rapporteren", out)
