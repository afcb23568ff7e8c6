"""The register's schema: migrating registers written by the previous version (schema 2).

The fixtures in tests/fixtures/registers/ were written by the code before issue 12 (see their
README). Migration 3 moves each message onto its invoice number and puts the message states and
the rules for numbers and sent invoices into the schema; a copy of each fixture is migrated
here and then used through the commands.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from click.testing import CliRunner

from inkoopkracht_xl.cli import main
from inkoopkracht_xl.register import SCHEMA_VERSION, Register

from .builders import ROOT, fingerprint
from .scenario import Scenario
from .smtp import smtp_server
from .test_settle import K1, K2

REGISTERS = ROOT / "tests" / "fixtures" / "registers"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # SHA-256 of b""
ALL_REFUSED = REGISTERS / "schema2-h1-alles-geweigerd.sqlite"
H1_SENT_H2_DRAFT = REGISTERS / "schema2-h1-verzonden-h2-concept.sqlite"


def _in_place(fixture: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of an old register as `<uit>/register.sqlite`, and the scenario's drop folder."""
    out = tmp_path / "uit"
    out.mkdir()
    shutil.copyfile(fixture, out / "register.sqlite")
    return Scenario(costs=[K1, K2]).write(tmp_path / "in"), out


def _version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def _afrekening(folder: Path, out: Path, period: str, *extra: str):
    return CliRunner().invoke(
        main,
        ["afrekening", str(folder), "--periode", period, "--uit", str(out), *extra],
    )


def test_the_fixtures_are_schema_2():
    assert SCHEMA_VERSION == 3
    assert _version(ALL_REFUSED) == _version(H1_SENT_H2_DRAFT) == 2


def test_a_wedged_period_of_an_old_register_is_migrated_rerun_and_sent(tmp_path):
    folder, out = _in_place(ALL_REFUSED, tmp_path)
    register_path = out / "register.sqlite"
    with Register.open(register_path) as register:
        db = register.db
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        # The five refused messages, now by invoice number, with the server's words kept.
        rows = db.execute("SELECT id, number, status, error FROM messages ORDER BY id").fetchall()
        assert [(i, n, s) for i, n, s, _ in rows] == [
            (k, f"IK-2024-000{k}", "mislukt") for k in range(1, 6)
        ]
        assert rows[0][3] == (
            "geweigerd door de server (inkoop@de.example.org: 550 5.1.1 mailbox unavailable)"
        )
        assert register.periods(2024) == {"2024-H1": "concept"}

    # The re-run that used to end in 'interne fout: IntegrityError' now replaces the drafts.
    rerun = _afrekening(folder, out, "2024-H1", "--datum", "01-07-2024")
    assert rerun.exit_code == 0, rerun.output
    with Register.open(register_path) as register:
        assert [i.number for i in register.invoices("2024-H1") if i.number] == [
            f"IK-2024-000{k}" for k in range(1, 6)
        ]
        assert register.db.execute("SELECT COUNT(*) FROM runs").fetchone() == (2,)

    with smtp_server() as (mailbox, port):
        sent = CliRunner().invoke(
            main,
            ["verstuur", str(out / "2024-H1"), "--verzend", "--smtp-host", "127.0.0.1"]
            + ["--smtp-port", str(port)],
        )
    assert sent.exit_code == 0, sent.output
    assert sorted(mailbox.numbers()) == [f"IK-2024-000{k}" for k in range(1, 6)]
    assert len(mailbox.received) == 5


def test_an_old_register_with_a_sent_period_keeps_its_states(tmp_path):
    folder, out = _in_place(H1_SENT_H2_DRAFT, tmp_path)
    register_path = out / "register.sqlite"
    with Register.open(register_path) as register:
        assert register.periods(2024) == {"2024-H1": "verzonden", "2024-H2": "concept"}
        assert register.delivery("2024-H1") == {
            "IK-2024-0001": "bezig",
            "IK-2024-0002": "verzonden",
            "IK-2024-0003": "mislukt",
            "IK-2024-0004": "verzonden",
            "IK-2024-0005": "verzonden",
        }
    before = fingerprint(out)
    # 2024-H1 holds an interrupted message: a re-run is refused, saying how to resolve it.
    h1 = _afrekening(folder, out, "2024-H1")
    assert h1.exit_code == 1
    assert "het versturen van IK-2024-0001 (Delft) is afgebroken" in h1.output
    assert fingerprint(out) == before | {".inkoopkracht.lock": EMPTY}  # and the lock file
    # 2024-H2 is a draft: re-run, same numbers, and a warning naming what H1 never sent
    # (IK-2024-0003 failed; IK-2024-0001 may have arrived, so it is not named).
    h2 = _afrekening(folder, out, "2024-H2", "--datum", "15-01-2025")
    assert h2.exit_code == 0, h2.output
    assert (
        f"WAARSCHUWING  {out / '2024-H1'}: 2024-H2 trekt de facturen van 2024-H1 af als "
        "gefactureerd, maar IK-2024-0003 is nog niet verzonden. Verstuur ze met "
        f"'inkoopkracht-xl verstuur {out / '2024-H1'} --verzend'" in h2.output
    )
    with Register.open(register_path) as register:
        assert [i.number for i in register.invoices("2024-H2") if i.number] == [
            "IK-2024-0006",
            "IK-2024-0007",
            "IK-2024-0008",
        ]
        # The schema's rules hold for the migrated rows too: a sent invoice stays.
        try:
            register.db.execute("DELETE FROM invoices WHERE number = 'IK-2024-0002'")
        except sqlite3.IntegrityError as refused:
            assert "een verzonden factuur wordt niet vervangen" in str(refused)
        else:
            raise AssertionError("a sent invoice was deleted")


def test_a_register_from_a_newer_version_is_refused_and_left_alone(tmp_path):
    folder = Scenario(costs=[K1]).write(tmp_path / "in")
    out = tmp_path / "uit"
    assert _afrekening(folder, out, "2024-H1").exit_code == 0
    register_path = out / "register.sqlite"
    with closing(sqlite3.connect(register_path)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.commit()
    before = fingerprint(out)
    expected = (
        f"FOUT  {register_path}: dit register is gemaakt door een nieuwere versie van "
        f"inkoopkracht-xl (schema {SCHEMA_VERSION + 1}, deze versie 0.1.0 kent schema "
        f"{SCHEMA_VERSION}); er is niets gewijzigd. Werk inkoopkracht-xl bij naar de versie "
        "waarmee het register is gemaakt of een nieuwere, en draai de opdracht opnieuw."
    )
    settle = _afrekening(folder, out, "2024-H1")
    assert settle.exit_code == 1
    assert settle.output.strip() == expected
    listing = CliRunner().invoke(main, ["verstuur", str(out / "2024-H1")])
    assert listing.exit_code == 1
    assert listing.output.strip() == expected
    assert fingerprint(out) == before
