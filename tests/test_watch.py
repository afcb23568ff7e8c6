"""`bewaak` as a coordinator meets it: save in Excel, see the overview follow; never an invoice.

Real file events through watchdog's Observer: every wait is a polling loop with a generous timeout,
and "nothing happened" is checked over a quiet period of twice the (short) debounce.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl import watch
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.watch import Watcher, is_input_path

from .builders import BUDGET, CALENDAR, ROOT, jaarplan_folder, set_cells

DEBOUNCE = 0.3
TIMEOUT = 10.0
STAMP = r"\[\d\d:\d\d:\d\d\] "


def _until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _stays(watcher: Watcher, count: int, period: float = 2 * DEBOUNCE) -> bool:
    """True when the watcher's refresh count stays at `count` for the whole quiet period."""
    deadline = time.monotonic() + period
    while time.monotonic() < deadline:
        if watcher.refresh_count != count:
            return False
        time.sleep(0.02)
    return watcher.refresh_count == count


def _save_like_excel(content: bytes, target: Path) -> None:
    """Excel's save: write a temporary file with a random name, swap it in, drop the backup."""
    temporary = target.parent / "3F2A9C1E"  # eight hex digits, no extension
    with temporary.open("wb") as handle:
        half = len(content) // 2
        handle.write(content[:half])
        handle.flush()
        handle.write(content[half:])
    backup = target.parent / "~WRL0001.tmp"
    os.replace(target, backup)
    os.replace(temporary, target)
    backup.unlink()


def _delft_share(overview: Path) -> list:
    # Row 5 of Verdeelsleutel is Delft: 131.035 x 26,15 % = 34.265,65 -> 34.266 (jaarplan's table).
    return [c.value for c in openpyxl.load_workbook(overview)["Verdeelsleutel"][5]]


@pytest.fixture
def watched(tmp_path):
    folder = jaarplan_folder(tmp_path / "invoer")
    lines: list[str] = []
    watcher = Watcher(folder, debounce=DEBOUNCE, echo=lambda line, level: lines.append(line))
    watcher.start()
    try:
        yield folder, watcher, lines
    finally:
        watcher.stop()


def test_an_excel_save_refreshes_the_overview_exactly_once(watched):
    folder, watcher, lines = watched
    assert watcher.overview_path == folder / "uitvoer" / "actueel" / "overzicht.xlsx"
    assert watcher.refresh_count == 0 and not watcher.overview_path.exists()

    _save_like_excel((folder / BUDGET).read_bytes(), folder / BUDGET)

    assert _until(lambda: watcher.refresh_count >= 1)
    assert _stays(watcher, 1), "one save is one refresh"
    assert watcher.last.changed == (BUDGET,)
    assert watcher.last.written == watcher.overview_path
    assert _delft_share(watcher.overview_path) == ["DE", "Delft", 106086, 0.2615, 34266]
    assert re.fullmatch(STAMP + f"Gewijzigd: {re.escape(BUDGET)}", lines[0])
    assert re.fullmatch(
        STAMP + re.escape(f"WAARSCHUWING  {CALENDAR} › Kalender › D19: ") + ".*'ME'.*", lines[1]
    )
    assert re.fullmatch(
        STAMP
        + re.escape(
            f"Goedgekeurd: 0 fouten, 1 waarschuwing. Overzicht bijgewerkt: {watcher.overview_path}"
        ),
        lines[2],
    )
    assert len(lines) == 3


def test_owner_files_temporary_files_and_subfolders_do_not_refresh(watched):
    folder, watcher, lines = watched
    owner = folder / f"~${BUDGET}"
    ignored = [
        owner,
        folder / "~WRL1234.tmp",
        folder / "A1B2C3D4",
        folder / ".verborgen.xlsx",
        folder / "notities.docx",
        folder / "uitvoer" / "elders.xlsx",  # not recursive: outputs below MAP are not inputs
    ]
    (folder / "uitvoer").mkdir()
    for path in ignored:
        path.write_bytes(b"eerste versie")
    for path in ignored:
        with path.open("ab") as handle:
            handle.write(b", gewijzigd")
    for path in ignored[:3]:
        path.unlink()  # Excel removes its owner and temporary files

    assert _stays(watcher, 0, period=3 * DEBOUNCE)
    assert lines == []

    # The watcher was listening all along: a real save right after is seen, and only it.
    _save_like_excel((folder / CALENDAR).read_bytes(), folder / CALENDAR)
    assert _until(lambda: watcher.refresh_count == 1)
    assert watcher.last.changed == (CALENDAR,)


def test_a_broken_budget_is_reported_and_the_previous_overview_stays(watched, tmp_path):
    folder, watcher, lines = watched
    first = watcher.refresh()
    assert first.number == 1 and first.written == watcher.overview_path and first.changed == ()
    before = watcher.overview_path.read_bytes()

    good = (folder / BUDGET).read_bytes()
    broken = tmp_path / "kopie.xlsx"
    shutil.copy2(folder / BUDGET, broken)
    set_cells(broken, "Inwoners", {"C3": "ca. 57.000"})  # Pijnacker-Nootdorp's population
    lines.clear()
    _save_like_excel(broken.read_bytes(), folder / BUDGET)

    assert _until(lambda: watcher.refresh_count == 2)
    refresh = watcher.last
    assert refresh.written is None
    assert [(str(f.location), f.message) for f in refresh.errors] == [
        (f"{BUDGET} › Inwoners › C3", "'ca. 57.000' is geen heel getal")
    ]
    assert any(
        re.match(STAMP + re.escape(f"FOUT  {BUDGET} › Inwoners › C3: 'ca. 57.000'"), line)
        for line in lines
    ), lines
    assert re.fullmatch(
        STAMP
        + re.escape(
            "Afgekeurd: 1 fout, 1 waarschuwing. Het overzicht is niet bijgewerkt; het vorige "
            f"overzicht blijft staan: {watcher.overview_path}. Herstel de fouten en sla het "
            "bestand opnieuw op."
        ),
        lines[-1],
    )
    assert watcher.overview_path.read_bytes() == before
    # Never an invoice, never a register; no temporary file left beside the overview.
    out = folder / "uitvoer"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "actueel",
        "actueel/overzicht.xlsx",
    ]
    assert not [p for p in tmp_path.rglob("*") if p.name in ("facturen", "register.sqlite")]

    # Repaired: the next save brings the overview back up to date.
    _save_like_excel(good, folder / BUDGET)
    assert _until(lambda: watcher.refresh_count == 3)
    assert watcher.last.errors == () and watcher.last.written == watcher.overview_path
    assert _delft_share(watcher.overview_path)[4] == 34266


def test_an_unreadable_file_or_an_internal_error_does_not_stop_the_watcher(watched, monkeypatch):
    folder, watcher, lines = watched
    good = (folder / BUDGET).read_bytes()
    _save_like_excel(good[: len(good) // 2], folder / BUDGET)  # a save cut off halfway
    assert _until(lambda: watcher.refresh_count == 1)
    assert [(str(f.location), f.message) for f in watcher.last.errors] == [
        (BUDGET, "is beschadigd.")
    ]

    def broken_key(loaded):
        raise RuntimeError("sleutel kwijt")

    monkeypatch.setattr(watch, "key_for", broken_key)
    lines.clear()
    _save_like_excel(good, folder / BUDGET)
    assert _until(lambda: watcher.refresh_count == 2)
    assert any(
        re.fullmatch(
            STAMP + "FOUT  interne fout: RuntimeError: sleutel kwijt. Het vorige overzicht "
            "blijft staan; de map wordt verder bewaakt.",
            line,
        )
        for line in lines
    ), lines
    assert re.fullmatch(
        STAMP + "Het overzicht is niet bijgewerkt; er is nog geen overzicht.", lines[-1]
    )

    monkeypatch.undo()
    _save_like_excel(good, folder / BUDGET)
    assert _until(lambda: watcher.refresh_count == 3)
    assert watcher.last.written == watcher.overview_path


def test_run_refreshes_at_start_follows_saves_and_stops_on_ctrl_c(tmp_path):
    folder = jaarplan_folder(tmp_path / "invoer")
    out = tmp_path / "elders"
    lines: list[str] = []
    watcher = Watcher(folder, out, debounce=DEBOUNCE, echo=lambda line, level: lines.append(line))
    threads = threading.active_count()
    deadline = time.monotonic() + TIMEOUT
    calls = 0

    def sleep(_: float) -> None:
        # Stands in for time.sleep in run(): save once, then press Ctrl+C after that refresh.
        nonlocal calls
        calls += 1
        if calls == 1:
            assert watcher.refresh_count == 1 and watcher.running
            _save_like_excel((folder / BUDGET).read_bytes(), folder / BUDGET)
        if watcher.refresh_count >= 2 or time.monotonic() > deadline:
            raise KeyboardInterrupt
        time.sleep(0.02)

    watcher.run(sleep=sleep)

    assert watcher.refresh_count == 2
    assert lines[0] == f"Bewaakt {folder}; druk op Ctrl+C om te stoppen."
    assert lines[-1] == "Gestopt."
    assert not watcher.running and threading.active_count() == threads
    assert _delft_share(out / "actueel" / "overzicht.xlsx")[4] == 34266
    assert not (folder / "uitvoer").exists()


def test_bewaak_refuses_a_missing_folder_in_dutch(tmp_path):
    result = CliRunner().invoke(main, ["bewaak", str(tmp_path / "bestaat-niet")])
    assert result.exit_code == 1
    assert "bestaat-niet: deze map bestaat niet." in result.output
    assert "Bewaakt" not in result.output and "Traceback" not in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX-only")
def test_bewaak_command_stops_cleanly_on_ctrl_c(tmp_path):
    folder = jaarplan_folder(tmp_path / "invoer")
    overview = folder / "uitvoer" / "actueel" / "overzicht.xlsx"
    # A test run started in the background by a shell script ignores Ctrl+C (POSIX shells do
    # that for `cmd &`), and a child inherits an ignored signal: Python then never turns SIGINT
    # into KeyboardInterrupt. Started from a handled SIGINT the child gets the default, as from
    # a terminal.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "inkoopkracht_xl", "bewaak", str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=ROOT,
            env={**os.environ, "PYTHONUTF8": "1"},
        )
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert _until(overview.exists), "the start-up refresh writes the overview"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stderr == ""
    output = stdout.splitlines()
    assert output[0] == f"Bewaakt {folder}; druk op Ctrl+C om te stoppen."
    assert output[-1] == "Gestopt."
    assert _delft_share(overview)[4] == 34266


@pytest.mark.parametrize(
    ("name", "relevant"),
    [
        (BUDGET, True),
        ("Begroting 2024.XLSX", True),
        (f"~${BUDGET}", False),
        ("~WRL1234.tmp", False),
        ("A1B2C3D4", False),
        (".Begroting 2024.xlsx", False),
        ("Begroting 2024.xls", False),
    ],
)
def test_which_paths_are_inputs(tmp_path, name, relevant):
    # Judged by name whether or not the file still exists (a rename's source no longer does).
    assert is_input_path(tmp_path / name) is relevant
    (tmp_path / name).write_bytes(b"x")
    assert is_input_path(tmp_path / name) is relevant


def test_an_overview_open_in_excel_is_reported_and_kept(tmp_path, monkeypatch):
    # On Windows os.replace fails while Excel has the overview open; the watcher says what to do.
    folder = jaarplan_folder(tmp_path / "invoer")
    lines: list[str] = []
    watcher = Watcher(folder, echo=lambda line, level: lines.append(line))

    def locked(report, path):
        raise PermissionError(13, "Toegang geweigerd", str(path))

    monkeypatch.setattr(watch, "write_key_overview", locked)
    refresh = watcher.refresh()

    assert refresh.written is None and refresh.errors == ()
    assert re.fullmatch(
        STAMP
        + re.escape(
            f"FOUT  {watcher.overview_path}: kan het overzicht niet vervangen (Toegang geweigerd); "
            "het is waarschijnlijk geopend in Excel. Sluit het; bij de volgende wijziging wordt "
            "het bijgewerkt."
        ),
        lines[-2],
    )
    assert re.fullmatch(
        STAMP + "Het overzicht is niet bijgewerkt; er is nog geen overzicht.", lines[-1]
    )
