"""Watch the drop folder: after every finished save, check it again and refresh the current overview.

Excel saves a workbook by writing a temporary file (`~WRL1234.tmp`, or eight hex digits without an
extension) and renaming it over the original, with an owner file `~$name.xlsx` beside it while the
workbook is open. One save is therefore a burst of events. The watcher reacts only to events on
possible inputs (the rules of `candidate_files`: `.xlsx`, no owner file, not hidden), including
both ends of a rename, and refreshes once when no such event has arrived for `debounce` seconds.

It never makes invoices and never touches the register: a refresh reads the folder and, when the
inputs have no errors, writes `<out>/actueel/overzicht.xlsx` (atomically); with errors it prints
them and leaves the previous overview as it was.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from .errors import InputRefused
from .model import Finding, Location
from .read.folder import OWNER_PREFIX, candidate_files
from .report import KeyReport, key_for, write_key_overview
from .validate import load_folder

DEFAULT_DEBOUNCE = 1.0  # seconds of quiet after the last event before a refresh
OVERVIEW = Path("actueel") / "overzicht.xlsx"

# Events that may mean new content. Opening and reading a file (as a refresh does) is not one of
# them, or every refresh would set off the next.
_CONTENT_EVENTS = frozenset({"created", "modified", "moved", "deleted", "closed"})

Echo = Callable[[str, str], None]
"""Prints one line; the second argument is the line's level ('FOUT', 'WAARSCHUWING' or '')."""


def _print(line: str, level: str) -> None:
    print(line, flush=True)


@dataclass(frozen=True)
class Refresh:
    """What one refresh found: the findings, and the overview written (None when it was kept)."""

    number: int
    changed: tuple[str, ...]  # names of the input files whose events led to it; () at start
    findings: tuple[Finding, ...]
    written: Path | None

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_error)


def default_out(folder: Path) -> Path:
    return folder / "uitvoer"


def is_input_path(path: Path) -> bool:
    """Whether a change to `path` may change the inputs, by the rules of `candidate_files`.

    A path that no longer exists (deleted, or renamed away) is judged by its name alone: an input
    that disappears changes the folder as much as one that is saved.
    """
    if path.name.startswith((OWNER_PREFIX, ".")) or path.suffix.lower() != ".xlsx":
        return False
    if not path.exists():
        return True
    try:
        return path.name in {p.name for p in candidate_files(path.parent)}
    except OSError:
        return True  # the refresh will report what is wrong with the folder


class Watcher:
    """Watches one drop folder (not its subfolders) and refreshes the overview after each save.

    `start()` starts watching in background threads and `stop()` ends them; `run()` is what the
    command does: start, refresh once, wait for Ctrl+C, stop. `refresh()` may also be called
    directly. `echo` receives every line the coordinator reads.
    """

    def __init__(
        self,
        folder: Path,
        out: Path | None = None,
        *,
        debounce: float = DEFAULT_DEBOUNCE,
        echo: Echo = _print,
        debug: bool = False,
    ):
        self.folder = Path(folder)
        self.out = Path(out) if out is not None else default_out(self.folder)
        self.debounce = debounce
        self._echo = echo
        self._debug = debug
        self._observer: BaseObserver | None = None
        self._debouncer: threading.Thread | None = None
        self._condition = threading.Condition()
        self._due: float | None = None  # when the pending refresh may run; None: nothing pending
        self._changed: set[str] = set()
        self._stopping = False
        self._refresh_lock = threading.Lock()
        self._count = 0
        self.last: Refresh | None = None

    @property
    def overview_path(self) -> Path:
        return self.out / OVERVIEW

    @property
    def refresh_count(self) -> int:
        return self._count

    @property
    def running(self) -> bool:
        return self._observer is not None

    # -- the command ------------------------------------------------------------------------

    def run(self, *, sleep: Callable[[float], None] = time.sleep, interval: float = 0.5) -> None:
        """Watch until Ctrl+C (KeyboardInterrupt), then stop cleanly and say so."""
        self.start()
        self._echo(f"Bewaakt {self.folder}; druk op Ctrl+C om te stoppen.", "")
        try:
            self.refresh()
            while True:
                # A short sleep in the main thread, not a blocking wait: Ctrl+C reaches it at
                # once, on Windows too.
                sleep(interval)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
        self._echo("Gestopt.", "")

    # -- watching ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start watching; refuses (InputRefused) when the folder does not exist."""
        if self.running:
            return
        if not self.folder.is_dir():
            raise InputRefused.single(
                Location(str(self.folder)),
                "deze map bestaat niet",
                "Geef de map op waarin de kalender en de begroting staan.",
            )
        with self._condition:
            self._stopping = False
        self._debouncer = threading.Thread(
            target=self._debounce_loop, name="bewaak-debounce", daemon=True
        )
        self._debouncer.start()
        observer = Observer()
        try:
            observer.schedule(_Handler(self._saw), str(self.folder), recursive=False)
            observer.start()
        except BaseException:
            self.stop()  # e.g. the system's limit of watches reached: leave no thread behind
            raise
        self._observer = observer

    def stop(self) -> None:
        """Stop watching and wait for the threads; a refresh under way is finished first."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join()
        with self._condition:
            self._stopping = True
            self._due = None
            self._condition.notify_all()
        if self._debouncer is not None:
            self._debouncer.join()
            self._debouncer = None

    def _saw(self, paths: Iterable[Path]) -> None:
        """Called by the observer's thread: postpone the refresh to `debounce` after now."""
        names = [p.name for p in paths if is_input_path(p)]
        if not names:
            return
        with self._condition:
            self._changed.update(names)
            self._due = time.monotonic() + self.debounce
            self._condition.notify_all()

    def _debounce_loop(self) -> None:
        while True:
            with self._condition:
                while not self._stopping:
                    if self._due is None:
                        self._condition.wait()
                        continue
                    remaining = self._due - time.monotonic()
                    if remaining <= 0:
                        break
                    self._condition.wait(remaining)
                if self._stopping:
                    return
                self._due = None
                changed = tuple(sorted(self._changed, key=str.casefold))
                self._changed.clear()
            # Events during this refresh set a new due time: one more refresh follows.
            self.refresh(changed)

    # -- one refresh ------------------------------------------------------------------------

    def refresh(self, changed: tuple[str, ...] = ()) -> Refresh:
        """Check the folder and, without errors, rewrite the overview. Never raises for input."""
        with self._refresh_lock:
            stamp = f"[{datetime.now():%H:%M:%S}]"
            if changed:
                self._echo(f"{stamp} Gewijzigd: {', '.join(changed)}", "")
            findings: tuple[Finding, ...] = ()
            written: Path | None = None
            trouble = ""
            try:
                loaded = load_folder(self.folder)
                findings = loaded.findings
                if not loaded.errors and loaded.inputs is not None:
                    report = KeyReport(loaded, key_for(loaded))
                    try:
                        written = write_key_overview(report, self.overview_path)
                    except PermissionError as problem:
                        # Windows will not replace a file that is open in Excel.
                        trouble = (
                            f"FOUT  {self.overview_path}: kan het overzicht niet vervangen "
                            f"({problem.strerror or problem}); het is waarschijnlijk geopend in "
                            "Excel. Sluit het; bij de volgende wijziging wordt het bijgewerkt."
                        )
            except InputRefused as refused:
                findings += refused.findings
            except Exception as problem:
                trouble = (
                    f"FOUT  interne fout: {type(problem).__name__}: {problem}. "
                    "Het vorige overzicht blijft staan; de map wordt verder bewaakt."
                )
                if self._debug:
                    trouble += "\n" + traceback.format_exc().rstrip()
            for finding in findings:
                self._echo(f"{stamp} {finding.text()}", finding.level.value)
            if trouble:
                self._echo(f"{stamp} {trouble}", "FOUT")
            self._echo(f"{stamp} {self._verdict(findings, written)}", "")
            self._count += 1
            self.last = Refresh(self._count, changed, findings, written)
            return self.last

    def _verdict(self, findings: tuple[Finding, ...], written: Path | None) -> str:
        errors = sum(1 for f in findings if f.is_error)
        warnings = len(findings) - errors
        counts = f"{errors} {'fout' if errors == 1 else 'fouten'}, {warnings} " + (
            "waarschuwing" if warnings == 1 else "waarschuwingen"
        )
        if written is not None:
            return f"Goedgekeurd: {counts}. Overzicht bijgewerkt: {written}"
        kept = (
            f"het vorige overzicht blijft staan: {self.overview_path}"
            if self.overview_path.exists()
            else "er is nog geen overzicht"
        )
        if errors:
            return (
                f"Afgekeurd: {counts}. Het overzicht is niet bijgewerkt; {kept}. "
                "Herstel de fouten en sla het bestand opnieuw op."
            )
        return f"Het overzicht is niet bijgewerkt; {kept}."


class _Handler(FileSystemEventHandler):
    """Passes the paths of content events on files (both ends of a rename) to the watcher."""

    def __init__(self, notify: Callable[[Iterable[Path]], None]):
        super().__init__()
        self._notify = notify

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _CONTENT_EVENTS:
            return
        paths = [event.src_path]
        if event.event_type == "moved":
            paths.append(event.dest_path)
        self._notify([Path(os.fsdecode(p)) for p in paths if p])
