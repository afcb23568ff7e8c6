"""Crash safety: afrekening killed with SIGKILL anywhere leaves outputs and register consistent.

Two ways of killing: at every named step of a run (the process kills itself there, so each step
is hit for certain), and at many moments in time from outside. After each kill the register
passes SQLite's integrity check, every visible output folder is complete and belongs to a run
in the register, the next run's recovery brings folder and register in line, and a rerun
completes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from inkoopkracht_xl.manifest import MANIFEST
from inkoopkracht_xl.read.folder import sha256_of
from inkoopkracht_xl.recovery import recover_outputs
from inkoopkracht_xl.register import Register

from .builders import fingerprint
from .scenario import Scenario
from .test_settle import K1, K2

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")

# Runs the CLI, but first makes the process kill itself (SIGKILL: no cleanup, no finally)
# right before or after one named step.
KILLER = r"""
import os, signal, sys, importlib
module_name, attribute, moment, nth = sys.argv[1:5]
owner = importlib.import_module(module_name)
holder, name = (getattr(owner, attribute.split(".")[0]), attribute.split(".")[1]) if "." in attribute else (owner, attribute)
original = getattr(holder, name)
calls = {"n": 0}
def wrapper(*args, **kwargs):
    calls["n"] += 1
    if moment == "before" and calls["n"] == int(nth):
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(*args, **kwargs)
    if moment == "after" and calls["n"] == int(nth):
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(holder, name, wrapper)
from inkoopkracht_xl.cli import main
sys.argv = ["inkoopkracht-xl", *sys.argv[5:]]
main()
"""

STEPS = [
    ("inkoopkracht_xl.settlement_run", "load_valid", "after", 1),
    ("inkoopkracht_xl.register", "Register.number_invoices", "after", 1),
    ("inkoopkracht_xl.register", "Register.replace_drafts", "after", 1),
    ("inkoopkracht_xl.outputs", "produce", "after", 1),
    ("inkoopkracht_xl.outputs", "produce", "after", 4),
    ("inkoopkracht_xl.write.overview", "write_overview", "after", 1),
    ("inkoopkracht_xl.settlement_run", "write_manifest", "before", 1),
    ("inkoopkracht_xl.settlement_run", "write_manifest", "after", 1),
    ("inkoopkracht_xl.recovery", "move_aside", "after", 1),
    ("inkoopkracht_xl.recovery", "put_in_place", "before", 1),
    ("inkoopkracht_xl.recovery", "put_in_place", "after", 1),
]
K5 = ("K5", "Multifunctionals", "Extra", date(2024, 4, 2), Decimal("250.00"), "inwoners")


def _command(folder: Path, out: Path) -> list[str]:
    return [
        "afrekening",
        str(folder),
        "--periode",
        "2024-H1",
        "--uit",
        str(out),
        "--datum",
        "01-07-2024",
    ]


def _baseline(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A settled H1, then inputs changed so the next run has something new to write."""
    scenario = Scenario(costs=[K1, K2])
    folder = scenario.write(tmp_path / "in")
    out = tmp_path / "uit"
    done = subprocess.run(
        [sys.executable, "-m", "inkoopkracht_xl", *_command(folder, out)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    before = fingerprint(out / "2024-H1")
    scenario.costs.append(K5)
    scenario.write(folder)
    return folder, out, before


def _latest_run(out: Path) -> int:
    with sqlite3.connect(out / "register.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT MAX(id) FROM runs WHERE batch = '2024-H1'").fetchone()[0]


def _assert_visible_outputs_are_whole(out: Path, latest: int) -> None:
    """Whatever a kill left in view is complete and belongs to a run the register knows."""
    target = out / "2024-H1"
    if not target.exists():
        return  # set aside mid-swap: recovery puts one back (checked after recovery)
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["run"] <= latest
    for entry in manifest["facturen"].values():
        assert sha256_of(target / "facturen" / entry["bestand"]) == entry["sha256"]


def _recover_and_check(out: Path, before: dict[str, str], baseline_run: int) -> None:
    latest = _latest_run(out)
    _assert_visible_outputs_are_whole(out, latest)
    with Register.open(out / "register.sqlite") as register, register.transaction():
        recover_outputs(out, register)
    manifest = json.loads((out / "2024-H1" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["run"] == latest  # folder and register agree again
    if latest == baseline_run:
        assert fingerprint(out / "2024-H1") == before  # the previous outputs, intact
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".") and p.is_dir()]
    assert leftovers == []  # no staging or set-aside folders left


@pytest.mark.parametrize(
    ("module", "attribute", "moment", "nth"), STEPS, ids=[f"{s[1]}-{s[2]}-{s[3]}" for s in STEPS]
)
def test_killed_at_each_step(tmp_path, module, attribute, moment, nth):
    folder, out, before = _baseline(tmp_path)
    baseline_run = _latest_run(out)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, module, attribute, moment, str(nth), *_command(folder, out)],
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    _recover_and_check(out, before, baseline_run)
    rerun = subprocess.run(
        [sys.executable, "-m", "inkoopkracht_xl", *_command(folder, out)],
        capture_output=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    manifest = json.loads((out / "2024-H1" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["run"] == _latest_run(out) > baseline_run
    # Same unsent period, same numbers: the drafts were replaced, no number was used twice.
    assert sorted(manifest["facturen"]) == [f"IK-2024-000{n}" for n in range(1, 6)]


def test_killed_at_many_moments(tmp_path):
    folder, out, before = _baseline(tmp_path)
    baseline_run = _latest_run(out)
    command = [sys.executable, "-m", "inkoopkracht_xl", *_command(folder, out)]
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)  # how long a whole run takes here
    duration = time.perf_counter() - started
    baseline_run = _latest_run(out)
    before = fingerprint(out / "2024-H1")
    for step in range(16):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration * (0.3 + 0.7 * step / 15))
        process.send_signal(signal.SIGKILL)
        process.wait()
        _recover_and_check(out, before, baseline_run)
        baseline_run = _latest_run(out)
        before = fingerprint(out / "2024-H1")
    final = subprocess.run(command, capture_output=True, check=False)
    assert final.returncode == 0, final.stderr
