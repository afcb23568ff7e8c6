"""`status UIT`: per year and period what was settled and sent, and the next step (issue 14).

Real settlements of the jaarplan's workbooks (tests/fixtures/jaarplan-2024-plat) sent to a real
SMTP server on 127.0.0.1 (tests/smtp.py), read back with `status`. The jaarplan's 2024-H1 has six
invoices (the penvoerder Zoetermeer gets none), as `afrekening` prints them:

    IK-2024-0001 Delft                 21.980,04
    IK-2024-0002 Pijnacker-Nootdorp    11.622,85
    IK-2024-0003 Westland              23.125,30
    IK-2024-0004 Leidschendam-Voorburg  3.330,67
    IK-2024-0005 Midden-Delfland        1.363,92
    IK-2024-0006 Rijswijk               1.579,41
                                       ---------
                                       63.002,19   + Zoetermeer's own share 24.740,81

Check by hand: 63.002,19 + 24.740,81 = 87.743,00 = half the network budget (131.035 / 2 =
65.517,50) plus the cost lines dated in H1 (12.500 + 4.250 + 3.600 + 1.875,50 = 22.225,50).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main
from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.register import SCHEMA_VERSION, Register
from inkoopkracht_xl.settlement_run import run_settlement
from inkoopkracht_xl.status import (
    ALL_SENT,
    BatchStatus,
    PeriodStatus,
    YearStatus,
    next_step,
    number_ranges,
    status_of,
)

from .builders import BUDGET, ROOT, append_rows, bench_module, fingerprint, jaarplan_folder
from .smtp import Mailbox, send_batch, smtp_server

H1_DATE = date(2024, 7, 1)
H1_NUMBERS = [f"IK-2024-000{k}" for k in range(1, 7)]
WESTLAND = "inkoop@westland.example.org"
REFUSED_WESTLAND = (
    "geweigerd door de server (inkoop@westland.example.org: 550 5.1.1 mailbox unavailable)"
)
OLD_REGISTER = ROOT / "tests" / "fixtures" / "registers" / "schema2-h1-verzonden-h2-concept.sqlite"


@pytest.fixture
def settled(tmp_path) -> tuple[Path, Path]:
    """The jaarplan's drop folder with 2024-H1 settled into MAP/uitvoer, nothing sent."""
    folder = jaarplan_folder(tmp_path / "invoer")
    run = run_settlement(folder, "2024-H1", issue_date=H1_DATE)
    assert [i.number for i in run.billed] == H1_NUMBERS
    return folder, folder / "uitvoer"


def status(*arguments: str):
    return CliRunner().invoke(main, ["status", *arguments])


def test_after_h1_is_settled_nothing_is_sent_h2_is_open_and_verstuur_is_next(settled):
    folder, out = settled
    before = fingerprint(out)
    result = status(str(out))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Afrekeningen in {out}:",
        "",
        "2024",
        "  Periode              Staat                Facturen           Totaal  Verzonden",
        "  2024-H1              niet verzonden              6      € 63.002,19  0 van 6",
        "      nummers: IK-2024-0001 t/m IK-2024-0006",
        "  2024-H2              nog niet afgerekend",
        "",
        f"Volgende stap: inkoopkracht-xl verstuur {out / '2024-H1'} --verzend (6 van 6 facturen "
        "nog niet verzonden)",
    ]
    # Reading only: the register and every file beside it are as they were, no journal left.
    assert fingerprint(out) == before

    document = json.loads(status(str(out), "--json").output)
    assert document == {
        "uitvoer": str(out),
        "jaren": [
            {
                "jaar": 2024,
                "perioden": [
                    {
                        "periode": "2024-H1",
                        "afgerekend": True,
                        "staat": "niet verzonden",
                        "facturen": 6,
                        "verzonden": 0,
                        "te_versturen": H1_NUMBERS,
                        "mislukt": [],
                        "onzeker": [],
                        "totaal": "63002.19",  # the six invoices of the module docstring
                        "eigen_aandeel": "24740.81",  # Zoetermeer's, no invoice
                        "nummers": H1_NUMBERS,
                        "correcties": [],
                    },
                    {
                        "periode": "2024-H2",
                        "afgerekend": False,
                        "staat": "nog niet afgerekend",
                        "facturen": 0,
                        "verzonden": 0,
                        "te_versturen": [],
                        "mislukt": [],
                        "onzeker": [],
                        "totaal": "0.00",
                        "eigen_aandeel": "0.00",
                        "nummers": [],
                        "correcties": [],
                    },
                ],
            }
        ],
        "volgende_stap": f"Volgende stap: inkoopkracht-xl verstuur {out / '2024-H1'} --verzend "
        "(6 van 6 facturen nog niet verzonden)",
    }


def test_once_everything_is_sent_the_next_step_is_h2_and_then_nothing(settled):
    folder, out = settled
    with smtp_server() as (mailbox, port):
        assert send_batch(out / "2024-H1", port).complete
        assert len(mailbox.received) == 6
        found = status_of(out)
        (h1, h2) = found.years[0].periods
        assert (h1.batches[0].state, len(h1.batches[0].sent), h1.batches[0].count) == (
            "verzonden",
            6,
            6,
        )
        assert not h2.settled
        assert found.next_step == (
            f"Volgende stap: inkoopkracht-xl afrekening {folder} --periode 2024-H2"
        )
        lines = status(str(out)).output.splitlines()
        assert (
            "  2024-H1              verzonden                   6      € 63.002,19  6 van 6"
            in lines
        )

        # H2 settled and sent: nothing is left to do.
        h2_run = run_settlement(folder, "2024-H2", issue_date=date(2025, 1, 15))
        assert send_batch(out / "2024-H2", port).complete
    found = status_of(out)
    h2 = found.years[0].periods[1]
    assert h2.batches[0].numbers == tuple(i.number for i in h2_run.billed)
    assert h2.batches[0].total == sum(i.total for i in h2_run.billed)
    assert found.next_step == ALL_SENT
    assert status(str(out)).output.splitlines()[-1] == "Alles is verstuurd."


def test_a_refused_recipient_is_named_with_the_servers_answer(settled):
    _, out = settled
    with smtp_server(Mailbox(refuse={WESTLAND})) as (_, port):
        assert not send_batch(out / "2024-H1", port).complete
    result = status(str(out))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[4:7] == [
        "  2024-H1              deels verzonden             6      € 63.002,19  5 van 6",
        "      nummers: IK-2024-0001 t/m IK-2024-0006",
        "      mislukt: IK-2024-0003 Westland: geweigerd door de server "
        "(inkoop@westland.example.org: 550",
    ]
    assert lines[7] == "               5.1.1 mailbox unavailable)"  # wrapped at 100 columns
    assert lines[-1] == (
        f"Volgende stap: inkoopkracht-xl verstuur {out / '2024-H1'} --verzend (1 van 6 facturen "
        "nog niet verzonden, waarvan 1 mislukt)"
    )
    assert all(len(line) <= 100 for line in lines[:-1])
    period = json.loads(status(str(out), "--json").output)["jaren"][0]["perioden"][0]
    assert period["verzonden"] == 5
    assert period["mislukt"] == [
        {"nummer": "IK-2024-0003", "gemeente": "Westland", "fout": REFUSED_WESTLAND}
    ]
    assert period["te_versturen"] == ["IK-2024-0003"]


def test_an_interrupted_message_is_onzeker_until_the_coordinator_settles_it(settled):
    folder, out = settled
    batch = out / "2024-H1"
    # The server keeps Westland's message, then hangs up before its "250": maybe arrived.
    with smtp_server(Mailbox(keep_and_drop={WESTLAND})) as (mailbox, port):
        outcome = send_batch(batch, port)
    assert [item.invoice.number for item, _ in outcome.uncertain] == ["IK-2024-0003"]
    result = status(str(out))
    lines = result.output.splitlines()
    assert lines[4] == (
        "  2024-H1              deels verzonden             6      € 63.002,19  5 van 6"
    )
    assert lines[6] == (
        "      onzeker: IK-2024-0003 Westland (het versturen is afgebroken; misschien is het "
        "bericht"
    )
    assert lines[7] == "               aangekomen)"
    assert lines[-1] == (
        "Volgende stap: vraag na of IK-2024-0003 (Westland) is aangekomen; zo niet: "
        f"inkoopkracht-xl verstuur {batch} --verzend --opnieuw IK-2024-0003, zo ja: "
        f"inkoopkracht-xl verstuur {batch} --aangekomen IK-2024-0003"
    )
    period = json.loads(status(str(out), "--json").output)["jaren"][0]["perioden"][0]
    assert period["onzeker"] == [{"nummer": "IK-2024-0003", "gemeente": "Westland"}]
    assert (period["verzonden"], period["te_versturen"]) == (5, [])

    # Asked: it arrived. Then H1 is sent and H2 is next.
    done = CliRunner().invoke(main, ["verstuur", str(batch), "--aangekomen", "IK-2024-0003"])
    assert done.exit_code == 0, done.output
    assert status_of(out).next_step == (
        f"Volgende stap: inkoopkracht-xl afrekening {folder} --periode 2024-H2"
    )


def test_a_correction_is_listed_under_its_period_and_sent_next(settled):
    folder, out = settled
    with smtp_server() as (_, port):
        assert send_batch(out / "2024-H1", port).complete
    # A cost line dated in H1 arrives after H1 was sent: € 600 for Software broker, equally.
    append_rows(
        folder / BUDGET,
        "Projectkosten",
        [["VB-2024-006", "Software broker", "Extra overleg", date(2024, 4, 2), 600, "gelijk"]],
    )
    fixed = run_settlement(folder, "2024-H1", correction=True, issue_date=date(2024, 8, 1))
    assert fixed.batch == "2024-H1-correctie-1"
    numbers = [i.number for i in fixed.billed]
    assert numbers[0] == "IK-2024-0007"  # numbering goes on after H1's six
    found = status_of(out)
    (h1, _) = found.years[0].periods
    assert [b.batch for b in h1.batches] == ["2024-H1", "2024-H1-correctie-1"]
    correction = h1.batches[1]
    assert correction.numbers == tuple(numbers)
    # The € 600 split among the participants; ZM's part is its own share, not invoiced.
    assert correction.total + correction.own_share == Decimal("600.00")
    assert found.next_step == (
        f"Volgende stap: inkoopkracht-xl verstuur {out / '2024-H1-correctie-1'} --verzend "
        f"({len(numbers)} van {len(numbers)} facturen nog niet verzonden)"
    )
    lines = status(str(out)).output.splitlines()
    assert lines[6].startswith("  2024-H1-correctie-1  niet verzonden")
    assert lines[6].endswith(f"0 van {len(numbers)}")
    period = json.loads(status(str(out), "--json").output)["jaren"][0]["perioden"][0]
    assert period["verzonden"] == 6
    assert [c["batch"] for c in period["correcties"]] == ["2024-H1-correctie-1"]
    assert period["correcties"][0]["nummers"] == numbers
    assert Decimal(period["correcties"][0]["totaal"]) == correction.total


def test_a_year_settled_whole_shows_the_year_not_its_halves(tmp_path):
    folder = jaarplan_folder(tmp_path / "invoer")
    run = run_settlement(folder, "2024", issue_date=date(2025, 1, 15))
    found = status_of(folder / "uitvoer")
    (year,) = found.years
    assert [p.label for p in year.periods] == ["2024"]
    assert year.periods[0].batches[0].numbers == tuple(i.number for i in run.billed)
    assert found.next_step.startswith(
        f"Volgende stap: inkoopkracht-xl verstuur {folder / 'uitvoer' / '2024'} --verzend ("
    )


def test_an_old_register_is_read_as_it_is_never_migrated_on_disk(tmp_path):
    """The schema-2 fixture: H1 with IK-2024-0001 'bezig', -0003 failed, the rest sent; H2
    drafts IK-2024-0006 to -0008 (tests/fixtures/registers/README.md)."""
    out = tmp_path / "uit"
    out.mkdir()
    register = out / "register.sqlite"
    shutil.copy2(OLD_REGISTER, register)
    digest = hashlib.sha256(register.read_bytes()).hexdigest()
    found = status_of(out)
    h1, h2 = found.years[0].periods
    batch = h1.batches[0]
    assert batch.sent == ("IK-2024-0002", "IK-2024-0004", "IK-2024-0005")
    assert [(u.number, u.name) for u in batch.uncertain] == [("IK-2024-0001", "Delft")]
    assert [(u.number, u.name) for u in batch.failed] == [("IK-2024-0003", "Westland")]
    assert batch.failed[0].error.startswith("geweigerd door de server (inkoop@we.example.org")
    assert h2.batches[0].numbers == ("IK-2024-0006", "IK-2024-0007", "IK-2024-0008")
    assert found.next_step.startswith(
        "Volgende stap: vraag na of IK-2024-0001 (Delft) is aangekomen"
    )
    assert hashlib.sha256(register.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in out.iterdir()) == ["register.sqlite"]
    with sqlite3.connect(register) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,) != (SCHEMA_VERSION,)


def test_a_folder_without_a_register_is_refused_and_nothing_is_created(tmp_path):
    empty = tmp_path / "leeg"
    empty.mkdir()
    result = status(str(empty))
    assert result.exit_code == 1
    assert result.output == (
        f"FOUT  {empty}: geen register (register.sqlite) in deze map. Geef de uitvoermap van "
        "een afrekening op (standaard MAP/uitvoer).\n"
    )
    assert list(empty.iterdir()) == []
    missing = status(str(tmp_path / "bestaat-niet"))
    assert missing.exit_code == 1
    assert "bestaat-niet: deze uitvoermap bestaat niet." in missing.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leeg"]
    # The library refuses the same way, and opening read-only never creates the file either.
    with pytest.raises(InputRefused, match="hier staat geen register"):
        with Register.open(empty / "register.sqlite", read_only=True):
            pass
    assert list(empty.iterdir()) == []


def test_the_drop_folder_or_a_period_folder_given_instead_says_which_folder(settled):
    folder, out = settled
    period = status(str(out / "2024-H1"))
    assert period.exit_code == 1
    assert period.output == (
        f"FOUT  {out / '2024-H1'}: dit is de map van één periode, niet de uitvoermap met het "
        f"register. Geef de map erboven op: inkoopkracht-xl status {out}\n"
    )
    drop = status(str(folder))
    assert drop.exit_code == 1
    assert drop.output == (
        f"FOUT  {folder}: dit is een invoermap; het register staat in de uitvoermap. Geef de "
        f"uitvoermap op: inkoopkracht-xl status {out}\n"
    )


def test_a_file_that_is_no_register_is_refused_and_left_alone(tmp_path):
    out = tmp_path / "uit"
    out.mkdir()
    garbage = out / "register.sqlite"
    garbage.write_bytes(bytes(range(256)) * 16)  # not SQLite at all
    result = status(str(out))
    assert result.exit_code == 1
    assert f"FOUT  {garbage}: dit bestand is geen register van inkoopkracht-xl of het is " in (
        result.output
    )
    assert "Traceback" not in result.output
    assert garbage.read_bytes() == bytes(range(256)) * 16
    assert sorted(p.name for p in out.iterdir()) == ["register.sqlite"]

    # A real SQLite database, but not ours.
    garbage.unlink()
    with sqlite3.connect(garbage) as db:
        db.execute("CREATE TABLE adressen (naam TEXT)")
    other = status(str(out))
    assert other.exit_code == 1
    assert f"FOUT  {garbage}: dit bestand is geen register van inkoopkracht-xl. " in other.output


def test_a_year_the_register_does_not_hold_is_refused_naming_the_years_it_does(settled):
    _, out = settled
    result = status(str(out), "--jaar", "2025")
    assert result.exit_code == 1
    assert (
        f"FOUT  {out / 'register.sqlite'}: dit register heeft geen afrekeningen van 2025, alleen "
        "van 2024." in result.output
    )
    only = json.loads(status(str(out), "--jaar", "2024", "--json").output)
    assert [y["jaar"] for y in only["jaren"]] == [2024]


# -- the rules, on values ---------------------------------------------------------------------


def _batch(name: str, numbers: int, sent: int) -> BatchStatus:
    all_numbers = tuple(f"IK-2024-{k:04d}" for k in range(1, numbers + 1))
    return BatchStatus(
        name,
        all_numbers,
        Decimal("100.00") * numbers,
        Decimal("0.00"),
        all_numbers[:sent],
        (),
        (),
        tuple(),
    )


def test_an_open_h1_before_a_settled_h2_is_no_next_step():
    year = YearStatus(
        2024, (PeriodStatus("2024-H1", ()), PeriodStatus("2024-H2", (_batch("2024-H2", 3, 3),)))
    )
    assert next_step([year], Path("uitvoer")) == ALL_SENT
    # An earlier year's open H2 is: its final settlement is still to come.
    earlier = YearStatus(
        2023, (PeriodStatus("2023-H1", (_batch("2023-H1", 2, 2),)), PeriodStatus("2023-H2", ()))
    )
    assert next_step([earlier, year], Path("/data/2024/uitvoer")) == (
        "Volgende stap: inkoopkracht-xl afrekening /data/2024 --periode 2023-H2"
    )
    # An output folder not called 'uitvoer' (afrekening --uit): MAP cannot be known.
    assert next_step([earlier], Path("/data/Mijn uitvoer")) == (
        'Volgende stap: inkoopkracht-xl afrekening MAP --periode 2023-H2 --uit "/data/Mijn uitvoer"'
    )
    assert next_step([], Path("uitvoer")) == (
        "Volgende stap: inkoopkracht-xl afrekening . --periode JJJJ-H1 (er is nog niets afgerekend)"
    )


def test_number_ranges_shorten_three_or_more_in_a_row():
    assert number_ranges(["IK-2024-0001", "IK-2024-0002", "IK-2024-0003", "IK-2024-0005"]) == [
        "IK-2024-0001 t/m IK-2024-0003",
        "IK-2024-0005",
    ]
    assert number_ranges(["IK-2024-0007", "IK-2024-0008"]) == ["IK-2024-0007", "IK-2024-0008"]
    # Another prefix or year never joins a run.
    assert number_ranges(["IK-2024-0009", "XY-2024-0010", "IK-2025-0011"]) == [
        "IK-2024-0009",
        "XY-2024-0010",
        "IK-2025-0011",
    ]
    assert number_ranges([]) == []


def test_an_empty_register_says_nothing_is_settled_yet(tmp_path):
    out = tmp_path / "uitvoer"
    with Register.open(out / "register.sqlite"):
        pass  # as a first afrekening that was refused leaves it: the schema, no invoices
    result = status(str(out))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Afrekeningen in {out}:",
        "  Er is nog niets afgerekend.",
        "",
        f"Volgende stap: inkoopkracht-xl afrekening {tmp_path} --periode JJJJ-H1 (er is nog "
        "niets afgerekend)",
    ]
    year = status(str(out), "--jaar", "2024")
    assert year.exit_code == 1
    assert "dit register heeft geen afrekeningen van 2024; er is nog niets afgerekend." in (
        year.output
    )


@pytest.mark.parametrize(("seconds", "verdict"), [(0.10, "OK"), (2.50, "TE LANGZAAM")])
def test_the_benchmark_reports_status_against_its_two_seconds(capsys, seconds, verdict):
    bench = bench_module()

    def series(label: str, value: float):
        sample = bench.Sample(seconds=value, tree_bytes=1, single_bytes=1, returncode=0, output="")
        return bench.Series(label, [sample])

    results = {
        "vloer": series("vloer", 0.10),
        "status": series("status", seconds),
        "--help": series("--help", 0.05),
    }
    bench.print_targets(results, bench.FLOOR_IMPORTS)
    (line,) = [x for x in capsys.readouterr().out.splitlines() if "status nationaal" in x]
    shown = f"{seconds:.2f}".replace(".", ",")  # Dutch decimals, as the benchmark prints them
    assert line.split() == [
        "status",
        "nationaal",
        "(register",
        "na",
        "afrekening)",
        shown,
        "s",
        "doel",
        "<",
        "2",
        "s",
        *verdict.split(),
    ]
