"""Several afrekening runs on one output folder at once, as real processes.

One run at a time holds the register; another waits up to LOCK_WAIT_SECONDS and then either
runs after it or is told in Dutch that a settlement is running. Whatever the timing: no
traceback, the register stays whole, no invoice number twice, and the output folder belongs to
the register's latest run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.register import LOCK_WAIT_SECONDS, REGISTER_NAME, SCHEMA_VERSION, Register

from .builders import ROOT, bench_module, jaarplan_folder

BUSY = "er loopt al een afrekening op deze uitvoermap"
BATCH = "2024-H1"
JAARPLAN_NUMBERS = [f"IK-2024-{n:04d}" for n in range(1, 7)]  # six invoices; ZM is penvoerder


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def _command(folder: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "inkoopkracht_xl",
        "afrekening",
        str(folder),
        "--periode",
        BATCH,
        "--uit",
        str(out),
        "--datum",
        "01-07-2024",
    ]


def _start(folder: Path, out: Path, **streams) -> subprocess.Popen:
    streams.setdefault("stdout", subprocess.PIPE)
    streams.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(_command(folder, out), text=True, cwd=ROOT, **streams)


def _finish(process: subprocess.Popen) -> Outcome:
    stdout, stderr = process.communicate(timeout=180)
    return Outcome(process.returncode, stdout or "", stderr or "")


def _together(*pairs: tuple[Path, Path]) -> list[Outcome]:
    """Start one process per (folder, out) back to back, then wait for all of them."""
    processes = [_start(folder, out) for folder, out in pairs]
    return [_finish(p) for p in processes]


def _assert_done_or_told_to_wait(outcome: Outcome) -> None:
    text = outcome.stdout + outcome.stderr
    assert "Traceback" not in text and "interne fout" not in text, text
    assert "database is locked" not in text, text
    if outcome.code == 0:
        assert "controle facturen + eigen aandeel = kosten: OK" in outcome.stdout, text
    else:
        assert outcome.code == 1, text
        assert BUSY in outcome.stderr, text


def _premigrated(out: Path) -> Path:
    """An output folder with an empty, current register, as after any earlier run.

    A brand-new register is another race (two runs creating its schema at once): see
    test_a_run_opening_a_register_that_another_run_is_creating_waits_for_it.
    """
    with Register.open(out / REGISTER_NAME):
        pass
    return out


def _check_register_and_folder(out: Path, runs: int) -> list[str]:
    """The register is whole and agrees with `<out>/2024-H1`; returns the batch's numbers."""
    db = sqlite3.connect(f"file:{out / REGISTER_NAME}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        twice = db.execute(
            "SELECT number, COUNT(*) FROM invoices WHERE number IS NOT NULL "
            "GROUP BY number HAVING COUNT(*) > 1"
        ).fetchall()
        assert twice == []
        reused = db.execute(
            "SELECT year, seq, COUNT(*) FROM numbers GROUP BY year, seq HAVING COUNT(*) > 1"
        ).fetchall()
        assert reused == []
        assert db.execute("SELECT COUNT(*) FROM runs WHERE batch = ?", (BATCH,)).fetchone() == (
            runs,
        )
        (latest,) = db.execute("SELECT MAX(id) FROM runs WHERE batch = ?", (BATCH,)).fetchone()
        numbers = sorted(
            n
            for (n,) in db.execute(
                "SELECT number FROM invoices WHERE batch = ? AND number IS NOT NULL", (BATCH,)
            )
        )
        live = sorted(
            n
            for (n,) in db.execute(
                "SELECT number FROM numbers WHERE batch = ? AND status = 'concept'", (BATCH,)
            )
        )
        assert live == numbers  # every draft number in use, every voided one out of use
    finally:
        db.close()

    folder = out / BATCH
    manifest = json.loads((folder / "afrekening.json").read_text(encoding="utf-8"))
    assert manifest["batch"] == BATCH and manifest["run"] == latest
    assert sorted(manifest["facturen"]) == numbers
    for entry in manifest["facturen"].values():
        invoice = folder / "facturen" / entry["bestand"]
        assert hashlib.sha256(invoice.read_bytes()).hexdigest() == entry["sha256"]
        if entry["concept"] is not None:
            assert (folder / "mail" / entry["concept"]).is_file()
    assert (folder / f"overzicht-{BATCH}.xlsx").is_file()
    leftovers = [p.name for p in out.iterdir() if ".nieuw-" in p.name or ".oud-" in p.name]
    assert leftovers == []  # no staging or backup folder left behind
    return numbers


# -- the jaarplan: runs of about 0,3 s, so a second run usually waits and then runs -------------


def test_two_runs_at_once_on_the_jaarplan_both_settle_or_one_is_told_to_wait(tmp_path):
    folder = jaarplan_folder(tmp_path / "invoer")
    out = _premigrated(tmp_path / "uit")
    outcomes = _together((folder, out), (folder, out))
    for outcome in outcomes:
        _assert_done_or_told_to_wait(outcome)
    done = sum(o.code == 0 for o in outcomes)
    assert done >= 1
    # Same inputs, same draft numbers, however many runs got through.
    assert _check_register_and_folder(out, runs=done) == JAARPLAN_NUMBERS


def test_three_runs_at_once_round_after_round_keep_the_register_whole(tmp_path):
    folder = jaarplan_folder(tmp_path / "invoer")
    out = _premigrated(tmp_path / "uit")
    done = 0
    for _round in range(5):
        outcomes = _together((folder, out), (folder, out), (folder, out))
        for outcome in outcomes:
            _assert_done_or_told_to_wait(outcome)
        assert any(o.code == 0 for o in outcomes)
        done += sum(o.code == 0 for o in outcomes)
        assert _check_register_and_folder(out, runs=done) == JAARPLAN_NUMBERS
    with closing(sqlite3.connect(out / REGISTER_NAME)) as db:
        # Every rerun reused the six draft numbers: none was voided, none skipped.
        assert db.execute("SELECT number, status FROM numbers ORDER BY seq").fetchall() == [
            (n, "concept") for n in JAARPLAN_NUMBERS
        ]


# -- national scale: a run holds the register for several seconds -----------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    """The benchmark's national drop folder: 342 municipalities, 341 invoices, 20.000 cost lines."""
    return bench_module().generate("nationaal", tmp_path_factory.mktemp("nationaal"))


def test_two_national_runs_at_once_one_settles_the_other_is_told_in_dutch(national, tmp_path):
    out = _premigrated(tmp_path / "uit")
    started = time.monotonic()
    outcomes = _together((national, out), (national, out))
    for outcome in outcomes:
        _assert_done_or_told_to_wait(outcome)
    # A national run holds the register far longer than a second run waits for it.
    assert sorted(o.code for o in outcomes) == [0, 1], outcomes
    refused = next(o for o in outcomes if o.code == 1)
    assert refused.stdout == ""
    # Refused by the output folder's lock, before the register is even opened.
    assert f"FOUT  {out}: {BUSY}. Wacht tot die klaar is" in refused.stderr
    numbers = _check_register_and_folder(out, runs=1)
    assert numbers == [f"IK-2024-{n:04d}" for n in range(1, 342)]
    assert time.monotonic() - started < 120


@dataclass(frozen=True)
class LateStart:
    first: Outcome
    second: Outcome
    out: Path


@pytest.fixture(scope="module")
def late_start(national, tmp_path_factory) -> LateStart:
    """A national run, and a jaarplan run on the same output folder started while the first is
    writing its invoices, that is: after it recorded the run and while it holds the register."""
    out = _premigrated(tmp_path_factory.mktemp("laat") / "uit")
    jaarplan = jaarplan_folder(tmp_path_factory.mktemp("jaarplan"))
    first = _start(national, out, stdout=subprocess.DEVNULL)
    progress: list[str] = []
    holding = threading.Event()

    def read_progress() -> None:  # progress lines come after the register recorded the run
        for line in first.stderr:
            progress.append(line)
            if line.startswith("Facturen geschreven"):
                holding.set()
        holding.set()

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    try:
        assert holding.wait(120) and first.poll() is None, "".join(progress)
        second = subprocess.run(_command(jaarplan, out), capture_output=True, text=True, cwd=ROOT)
        first.wait(180)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    reader.join(10)
    return LateStart(
        Outcome(first.returncode, "", "".join(progress)),
        Outcome(second.returncode, second.stdout, second.stderr),
        out,
    )


def test_a_run_started_while_another_holds_the_register_leaves_it_whole(late_start):
    first, second = late_start.first, late_start.second
    assert first.code == 0, first.stderr
    assert "Facturen geschreven: 341 van 341" in first.stderr
    text = second.stdout + second.stderr
    assert "Traceback" not in text and "interne fout" not in text, text
    assert second.code in (0, 1), text
    numbers = _check_register_and_folder(late_start.out, runs=1 + (second.code == 0))
    if second.code == 1:  # refused: the national run's 341 drafts stand
        assert numbers == [f"IK-2024-{n:04d}" for n in range(1, 342)]


def test_a_run_started_while_another_holds_the_register_is_told_in_dutch(late_start):
    second = late_start.second
    if second.code == 1:
        assert BUSY in second.stderr, second.stderr
        assert "database is locked" not in second.stderr


# -- the same two races, in one process and deterministic -------------------------------------


def test_opening_a_register_another_run_is_writing_is_refused_as_busy(tmp_path):
    path = _premigrated(tmp_path) / REGISTER_NAME
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # what a large run holds once its changes spill to disk
    try:
        started = time.monotonic()
        with pytest.raises(InputRefused) as refused:
            with Register.open(path) as register, register.transaction():
                pass
        assert time.monotonic() - started >= LOCK_WAIT_SECONDS * 0.9  # it did wait first
        assert BUSY in str(refused.value), str(refused.value)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_run_opening_a_register_that_another_run_is_creating_waits_for_it(tmp_path):
    path = tmp_path / REGISTER_NAME
    creator = sqlite3.connect(path, isolation_level=None)
    creator.execute("BEGIN IMMEDIATE")  # another run has started creating the schema
    outcome: dict[str, object] = {}

    def open_register() -> None:
        try:
            with Register.open(path) as register:
                outcome["version"] = register.db.execute("PRAGMA user_version").fetchone()[0]
        except InputRefused as refused:
            outcome["refused"] = str(refused)

    opener = threading.Thread(target=open_register)
    opener.start()
    time.sleep(LOCK_WAIT_SECONDS / 4)  # it has read user_version 0 and waits for the lock
    with Register.open(tmp_path / "schema.sqlite") as template:  # the current schema's DDL
        schema = [
            sql
            for (sql,) in template.db.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
            )
        ]
    for statement in schema:
        creator.execute(statement)
    creator.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    creator.execute("COMMIT")
    creator.close()
    opener.join(10)
    # Either it waited and found the schema made, or it was told a run is busy; never broken.
    assert outcome.get("version") == SCHEMA_VERSION or BUSY in str(outcome.get("refused")), outcome
