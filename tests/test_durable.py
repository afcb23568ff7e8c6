"""Durable before committed: the register never names a run whose files might not be on the disk.

A run flushes (fsync) every file it wrote and every folder of its staging folder, renames the
previous output aside and flushes the output folder, and only then commits; after the COMMIT it
puts the new folder in place and flushes again. A failure at any flush before the COMMIT, or at
the COMMIT itself, rolls the register back and puts the previous output back.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

import inkoopkracht_xl.write.files as files
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.manifest import MANIFEST
from inkoopkracht_xl.register import Register

from .builders import fingerprint
from .scenario import Scenario
from .test_settle import K1, K2, K3

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="reads which file a descriptor is from /proc"
)


def afrekening(folder: Path, out: Path):
    return CliRunner().invoke(
        main,
        ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out)]
        + ["--datum", "01-07-2024"],
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[Path, Path]:
    """H1 settled once (five invoices), then K3 added: the next run has a new output to write."""
    root = tmp_path_factory.mktemp("basis")
    scenario = Scenario(costs=[K1, K2])
    folder = scenario.write(root / "in")
    assert afrekening(folder, root / "uit").exit_code == 0
    scenario.costs.append(K3)
    scenario.write(folder)
    return folder, root / "uit"


def fresh_copy(baseline, tmp_path: Path) -> tuple[Path, Path]:
    folder, out = baseline
    shutil.copytree(out, tmp_path / "uit")
    return folder, tmp_path / "uit"


def runs(out: Path) -> list[tuple]:
    with closing(sqlite3.connect(out / "register.sqlite")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT id, batch FROM runs ORDER BY id").fetchall()


class Journal:
    """Records every flush (by path) and the COMMIT, in order."""

    def __init__(self, monkeypatch, fail_at: int | None = None):
        self.events: list[str] = []
        self.fail_at = fail_at
        real_fsync, real_commit = files._fsync, Register._commit

        def fsync(descriptor: int) -> None:
            self.events.append(os.readlink(f"/proc/self/fd/{descriptor}"))
            if len(self.flushes) - 1 == self.fail_at:  # counted from 0
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            real_fsync(descriptor)

        def commit(register: Register) -> None:
            self.events.append("COMMIT")
            real_commit(register)

        monkeypatch.setattr(files, "_fsync", fsync)
        monkeypatch.setattr(Register, "_commit", commit)

    @property
    def flushes(self) -> list[str]:
        return [e for e in self.events if e != "COMMIT"]


def test_every_file_and_folder_is_flushed_before_the_commit(baseline, tmp_path, monkeypatch):
    folder, out = fresh_copy(baseline, tmp_path)
    journal = Journal(monkeypatch)
    assert afrekening(folder, out).exit_code == 0
    before_commit = journal.events[: journal.events.index("COMMIT")]
    after_commit = journal.events[journal.events.index("COMMIT") + 1 :]
    staging = {Path(p).relative_to(out).parts[0] for p in before_commit if p != str(out)}
    assert len(staging) == 1 and staging.pop().startswith(".2024-H1.nieuw-")
    # Every file and folder of what is now the output was flushed, under its staging name,
    # before the COMMIT: 5 workbooks, 5 PDFs, 5 e-invoices, 5 drafts, the overview, 2 input
    # copies, the manifest and 4 folders (the staging folder, facturen, invoer, mail): 28.
    written = {str(p.relative_to(out / "2024-H1")) for p in (out / "2024-H1").rglob("*")} | {"."}
    flushed = {str(Path(*Path(p).relative_to(out).parts[1:]) or ".") for p in before_commit[:-1]}
    assert flushed == written and len(before_commit) == 28 + 1
    # The last flush before the COMMIT is the output folder itself, after the previous output
    # was renamed aside; after the COMMIT, the folder again (the new output put in place).
    assert before_commit[-1] == str(out) and after_commit == [str(out)]
    assert [r[0] for r in runs(out)] == [1, 2]


def test_a_failure_at_each_flush_or_at_the_commit_keeps_the_previous_output_and_register(
    baseline, tmp_path, monkeypatch
):
    count = 29  # flushes before the COMMIT (see the test above)
    for fail_at in range(count):
        with monkeypatch.context() as patch:
            folder, out = fresh_copy(baseline, tmp_path / f"flush-{fail_at}")
            before = fingerprint(out)
            journal = Journal(patch, fail_at=fail_at)
            result = afrekening(folder, out)
            assert result.exit_code == 1, (fail_at, result.output)
            assert result.output.startswith(f"FOUT  {out}: schrijffout (Input/output error)"), (
                result.output
            )
            assert (
                "er is niets weggeschreven; de vorige uitvoer en het register zijn ongewijzigd"
                in result.output
            )
            assert "COMMIT" not in journal.events
            assert fingerprint(out) == before, fail_at
            assert runs(out) == [(1, "2024-H1")]
            leftovers = [p.name for p in out.iterdir() if p.name.startswith(".2024-H1.")]
            assert leftovers == []

    # The COMMIT itself refused (SQLite's authorizer denies it: a real failing COMMIT).
    folder, out = fresh_copy(baseline, tmp_path / "commit")
    before = fingerprint(out)
    real_commit = Register._commit

    def refused_commit(register: Register) -> None:
        register.db.set_authorizer(
            lambda action, arg1, *_: (
                sqlite3.SQLITE_DENY
                if action == sqlite3.SQLITE_TRANSACTION and arg1 == "COMMIT"
                else sqlite3.SQLITE_OK
            )
        )
        real_commit(register)

    monkeypatch.setattr(Register, "_commit", refused_commit)
    result = afrekening(folder, out)
    assert result.exit_code == 1
    assert result.output == (
        f"FOUT  {out / 'register.sqlite'}: het register kan niet worden geschreven (alleen-lezen "
        "of geen schrijfrechten); er is niets vastgelegd. Geef schrijfrechten op "
        f"{out}, of kies met --uit een map waarin u mag schrijven, en draai de opdracht opnieuw.\n"
    )
    assert fingerprint(out) == before
    assert runs(out) == [(1, "2024-H1")]


def test_a_failed_flush_after_the_commit_leaves_a_consistent_new_output(
    baseline, tmp_path, monkeypatch
):
    folder, out = fresh_copy(baseline, tmp_path)
    Journal(monkeypatch, fail_at=29)  # the output folder, after the new one is in place
    result = afrekening(folder, out)
    assert result.exit_code == 0, result.output
    manifest = (out / "2024-H1" / MANIFEST).read_text(encoding="utf-8")
    assert '"run": 2' in manifest and runs(out) == [(1, "2024-H1"), (2, "2024-H1")]
    assert [p.name for p in out.iterdir() if p.name.startswith(".2024-H1.")] == []


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes write from two cores on")
def test_a_failed_flush_in_a_worker_process_fails_the_run(baseline, tmp_path, monkeypatch):
    # Workers wait for their flushes once per chunk of invoices: a draft's flush (the last
    # file of each invoice) failing there must still fail the run and change nothing.
    import inkoopkracht_xl.outputs as outputs

    folder, out = fresh_copy(baseline, tmp_path)
    before = fingerprint(out)
    real_fsync = files._fsync

    def fsync(descriptor: int) -> None:
        if os.readlink(f"/proc/self/fd/{descriptor}").endswith(".eml"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(descriptor)

    monkeypatch.setattr(files, "_fsync", fsync)  # inherited by the forked workers
    monkeypatch.setattr(outputs, "PARALLEL_FROM", 1)
    result = afrekening(folder, out)

    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"FOUT  {out}: schrijffout (Input/output error)")
    assert fingerprint(out) == before
    assert runs(out) == [(1, "2024-H1")]
    assert [p.name for p in out.iterdir() if p.name.startswith(".2024-H1.")] == []
