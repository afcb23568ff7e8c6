"""Faults of the machine, not of the inputs: a full disk, a read-only output folder, a register
locked by another program or damaged. Each is a Dutch message naming the file and what to do,
exit code 1, and nothing half written: the previous output and the register as they were.

Where the operating system allows it the fault is real: a small tmpfs that fills up, a read-only
bind mount (both need root; as another user the read-only folder is made with chmod), SQLite's
own SQLITE_FULL (max_page_count). An out-of-space error while writing a workbook is also injected
at one step, so the test runs everywhere.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import inkoopkracht_xl.write.overview as overview_module
from inkoopkracht_xl.cli import main

from .builders import fingerprint
from .scenario import Scenario
from .test_settle import K1

EXTRA = [  # 40 more cost lines: a re-run that needs more room than the first run did
    (f"X{n:02d}", "Software broker", "Extra werkzaamheden " * 4, date(2024, 3, 1), Decimal(60), "")
    for n in range(40)
]


def afrekening(folder: Path, out: Path):
    return CliRunner().invoke(
        main,
        ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out)]
        + ["--datum", "01-07-2024"],
    )


def settled(tmp_path: Path, out: Path | None = None) -> tuple[Scenario, Path, Path]:
    """H1 settled once (the previous output), then a changed input for the next run."""
    scenario = Scenario(costs=[K1])
    folder = scenario.write(tmp_path / "in")
    out = out or tmp_path / "uit"
    first = afrekening(folder, out)
    assert first.exit_code == 0, first.output
    scenario.costs += EXTRA
    scenario.write(folder)
    return scenario, folder, out


def assert_untouched(out: Path, before: dict[str, str]) -> None:
    assert fingerprint(out) == before  # the previous output and the register, byte for byte
    assert [p.name for p in out.iterdir() if ".nieuw-" in p.name or ".oud-" in p.name] == []
    with closing(sqlite3.connect(out / "register.sqlite")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)


def test_a_register_that_cannot_grow_is_a_full_disk_in_dutch(tmp_path, monkeypatch):
    _, folder, out = settled(tmp_path)
    before = fingerprint(out)
    real_connect = sqlite3.connect

    def full(*args, **kwargs):
        # SQLite's own "database or disk is full" (SQLITE_FULL) as soon as the file must grow.
        connection = real_connect(*args, **kwargs)
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection

    monkeypatch.setattr(sqlite3, "connect", full)
    result = afrekening(folder, out)
    assert result.exit_code == 1
    assert result.output == (
        f"FOUT  {out / 'register.sqlite'}: de schijf is vol, het register kan niet worden "
        f"bijgewerkt; er is niets vastgelegd. Maak ruimte vrij op de schijf van {out} en draai "
        "de opdracht opnieuw.\n"
    )
    assert_untouched(out, before)


def test_a_disk_full_while_writing_a_workbook_is_refused_in_dutch(tmp_path, monkeypatch):
    _, folder, out = settled(tmp_path)
    before = fingerprint(out)

    def no_space(path, *args, **kwargs):
        path.write_bytes(b"PK\x03\x04 half")  # what a full disk leaves: the start of a file
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(overview_module, "write_overview", no_space)
    result = afrekening(folder, out)
    assert result.exit_code == 1
    assert result.output == (
        f"FOUT  {out}: de schijf is vol (bij het schrijven van overzicht-2024-H1.xlsx); er is "
        "niets weggeschreven; de vorige uitvoer en het register zijn ongewijzigd. Maak ruimte "
        f"vrij op de schijf van {out} en draai de opdracht opnieuw.\n"
    )
    assert_untouched(out, before)


@contextmanager
def mounted_tmpfs(where: Path, size: int) -> Iterator[Path]:
    where.mkdir()
    if os.name == "nt" or os.geteuid() != 0:
        pytest.skip("een kleine schijf (tmpfs) aankoppelen kan alleen als root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"tmpfs aankoppelen lukt hier niet: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_real_full_disk_leaves_the_previous_output_and_register(tmp_path):
    # How much one run takes, in 4 KiB blocks; the small disk holds it and 40 % more, not the
    # staging folder of a second run beside it.
    trial = tmp_path / "proef"
    settled(trial, trial / "uit")
    used = sum(-(-p.stat().st_size // 4096) * 4096 for p in (trial / "uit").rglob("*"))
    with mounted_tmpfs(tmp_path / "klein", used * 14 // 10) as disk:
        _, folder, out = settled(tmp_path, disk / "uit")
        before = fingerprint(out)
        result = afrekening(folder, out)
        assert result.exit_code == 1
        assert "de schijf is vol" in result.output and "Maak ruimte vrij" in result.output
        assert "interne fout" not in result.output and "Traceback" not in result.output
        assert_untouched(out, before)


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` made unwritable for this process: a read-only bind mount as root (root ignores
    file modes), otherwise chmod."""
    if os.name == "nt":
        pytest.skip("alleen-lezen via chmod of mount werkt zo niet op Windows")
    if os.geteuid() == 0:
        steps = [
            ["mount", "--bind", str(folder), str(folder)],
            ["mount", "-o", "remount,ro,bind", str(folder)],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, check=False)
            if done.returncode != 0:
                subprocess.run(["umount", str(folder)], check=False)
                pytest.skip(f"alleen-lezen aankoppelen lukt hier niet: {done.stderr.decode()}")
        try:
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=False)
        return
    paths = [folder, *folder.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for path in paths:
        path.chmod(modes[path] & ~0o222)
    try:
        yield
    finally:
        for path in reversed(paths):
            path.chmod(modes[path])


def test_a_read_only_output_folder_is_refused_for_afrekening_and_verstuur(tmp_path):
    _, folder, out = settled(tmp_path)
    before = fingerprint(out)
    with read_only(out):
        result = afrekening(folder, out)
        assert result.exit_code == 1
        assert result.output.startswith(f"FOUT  {out}: in deze map kan niet worden geschreven")
        assert (
            "er is niets weggeschreven; de vorige uitvoer en het register zijn ongewijzigd. Geef "
            f"schrijfrechten op {out}, of kies met --uit een map waarin u mag schrijven"
        ) in result.output
        sending = CliRunner().invoke(
            main, ["verstuur", str(out / "2024-H1"), "--verzend", "--smtp-host", "127.0.0.1"]
        )
        assert sending.exit_code == 1
        assert sending.output.startswith(f"FOUT  {out}: in deze map kan niet worden geschreven")
        assert "interne fout" not in result.output + sending.output
    assert_untouched(out, before)


def test_a_register_locked_by_another_program_is_refused_in_dutch(tmp_path):
    _, folder, out = settled(tmp_path)
    before = fingerprint(out)
    other = sqlite3.connect(out / "register.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # as a database browser holds it while it writes
    try:
        result = afrekening(folder, out)
        listing = CliRunner().invoke(main, ["verstuur", str(out / "2024-H1")])
    finally:
        other.execute("ROLLBACK")
        other.close()
    expected = (
        f"FOUT  {out / 'register.sqlite'}: het register is in gebruik: er loopt al een "
        "afrekening op deze uitvoermap, of een ander programma heeft het register geopend. Wacht "
        "tot de andere afrekening klaar is, of sluit het programma dat register.sqlite geopend "
        "heeft (bijvoorbeeld DB Browser for SQLite), en probeer het daarna opnieuw.\n"
    )
    assert (result.exit_code, result.output) == (1, expected)
    assert (listing.exit_code, listing.output) == (1, expected)
    assert_untouched(out, before)


def test_a_damaged_register_is_refused_and_not_touched(tmp_path):
    _, folder, out = settled(tmp_path)
    register = out / "register.sqlite"
    register.write_bytes(b"Dit is geen database maar een tekstbestand.\n" * 200)
    before = fingerprint(out)
    result = afrekening(folder, out)
    assert result.exit_code == 1
    assert result.output == (
        f"FOUT  {register}: dit bestand is geen register van inkoopkracht-xl of het is "
        "beschadigd (file is not a database). Zet de reservekopie van register.sqlite terug en "
        "draai de opdracht opnieuw; het programma verandert een beschadigd register niet.\n"
    )
    assert fingerprint(out) == before
    shutil.rmtree(out / "2024-H1")  # and verstuur on a folder without its manifest: Dutch too
    listing = CliRunner().invoke(main, ["verstuur", str(out / "2024-H1")])
    assert listing.exit_code == 1 and "dit is geen uitvoermap van een afrekening" in listing.output


FORKS_THEN_DIES = r"""
import os, signal, sys, time
from pathlib import Path
from inkoopkracht_xl.locks import exclusive
with exclusive(Path(sys.argv[1]), "bezet"):
    if os.fork() == 0:  # a worker the run started, as a process pool does
        time.sleep(60)
        os._exit(0)
    print("vergrendeld", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the run is killed; its worker lives on
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_killed_run_leaves_no_lock_behind_even_in_a_worker_it_forked(tmp_path):
    """A run killed while a process it forked lives on: that process must not keep the output
    folder locked (with flock it did, and every later afrekening was refused as busy)."""
    from inkoopkracht_xl.locks import exclusive

    lock = tmp_path / ".inkoopkracht.lock"
    run = subprocess.Popen(
        [sys.executable, "-c", FORKS_THEN_DIES, str(lock)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert run.stdout.readline() == "vergrendeld\n"
        assert run.wait(timeout=30) == -signal.SIGKILL
        with exclusive(lock, "bezet", wait=0):  # free at once, although the worker lives
            pass
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the worker: the group this test started
