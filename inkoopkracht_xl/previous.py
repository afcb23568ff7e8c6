"""The inputs of the last settlement in the register, read back from its copy, to compare with now."""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Generic, TypeVar, cast

from .changes import Change, as_json, compare, shown
from .errors import InputRefused
from .manifest import is_period_folder, manifest_run
from .model import Finding, Inputs, Level, Location
from .read.folder import Loaded
from .register import REGISTER_NAME, Register
from .settle import Period
from .validate import load_folder

T = TypeVar("T")
# A settled run as the register lists it: (run id, created at, batch, period, file -> SHA-256).
_Run = tuple[int, str, str, str, dict[str, str]]

COPY_FOLDER = "invoer"  # <uit>/<batch>/invoer: the input workbooks exactly as a run used them


@dataclass(frozen=True)
class PreviousRun:
    """The settlement the comparison starts from: the register's latest run of the year."""

    run_id: int
    batch: str
    created: datetime
    inputs: Path  # <uit>/<batch>/invoer

    def describe(self) -> str:
        return f"de afrekening {self.batch} van {self.created:%d-%m-%Y %H:%M}"


@dataclass(frozen=True)
class Comparison:
    """What changed in a drop folder since the last settlement, or why there is nothing to
    compare with (`previous` is None: no settlement of the year yet)."""

    previous: PreviousRun | None
    changes: tuple[Change, ...] = ()
    nothing_to_compare: str = ""  # Dutch, when previous is None
    findings: tuple[Finding, ...] = ()  # of the drop folder as it is now

    def where(self, change: Change) -> str:
        """file › sheet › cell; for a removal in the previous run's copy: '2024-H1/invoer/…'."""
        if change.previous and self.previous is not None:
            return f"{self.previous.batch}/{COPY_FOLDER}/{change.location}"
        return str(change.location)

    def headline(self) -> str:
        """One Dutch line above the list (or instead of it)."""
        if self.previous is None:
            return self.nothing_to_compare
        since = f"sinds {self.previous.describe()}"
        if not self.changes:
            return f"Geen wijzigingen {since}."
        count = len(self.changes)
        return f"{count} {'wijziging' if count == 1 else 'wijzigingen'} {since}:"

    def lines(self, limit: int | None = None) -> list[str]:
        """The changes as lines for the terminal; beyond `limit` one line says how many more."""
        shown_changes = self.changes if limit is None else self.changes[:limit]
        lines = [f"  {c.kind:<10} {self.where(c)}: {c.text()}" for c in shown_changes]
        rest = len(self.changes) - len(shown_changes)
        if rest:
            lines.append(f"  en {rest} meer: zie het werkblad Wijzigingen van het overzicht")
        return lines

    def as_json(self) -> dict[str, Any]:
        previous = self.previous
        return {
            "vorige_afrekening": None
            if previous is None
            else {
                "batch": previous.batch,
                "run": previous.run_id,
                "gemaakt": previous.created.isoformat(timespec="seconds"),
                "invoer": str(previous.inputs),
            },
            "melding": self.headline(),
            "aantal": len(self.changes),
            "wijzigingen": [
                {
                    "soort": c.kind,
                    "onderdeel": c.area,
                    "wat": c.what,
                    "waar": self.where(c),
                    "bestand": c.location.file,
                    "werkblad": c.location.sheet,
                    "cel": c.location.cell,
                    "in_vorige_invoer": c.previous,
                    "oud": as_json(c.old),
                    "nieuw": as_json(c.new),
                    "oud_tekst": None if c.old is None else shown(c.old),
                    "nieuw_tekst": None if c.new is None else shown(c.new),
                    "toelichting": c.note or None,
                    "tekst": c.text(),
                }
                for c in self.changes
            ],
            "fouten_in_invoer": sum(1 for f in self.findings if f.is_error),
        }


def changes_since_last_settlement(folder: Path, out: Path | None = None) -> Comparison:
    """What changed in the drop folder since the inputs of the last settlement of its year.

    `out` is the output folder holding register.sqlite (default `<folder>/uitvoer`). Reads only:
    the register is opened read-only and nothing is written anywhere. Without a register in the
    default folder there is nothing to compare with; a folder given explicitly must hold one.
    Refuses (InputRefused) a folder that is not a drop folder, a register of another year or
    cooperation, and a settlement whose input copy is missing or not the one it used.

    Both folders are read by `load_folder`; the previous run's copy in a second process beside
    the drop folder (where the platform can fork), which halves the time at national scale.
    """
    register_path = (out or folder / "uitvoer") / REGISTER_NAME
    if out is not None and not register_path.is_file():
        raise _no_register(out)
    runs: list[_Run] = []
    if register_path.is_file():
        with Register.open(register_path, read_only=True) as register:
            runs = _readable(register.settled_runs())
    # Start reading the latest settlement's copy before today's folder: nearly always the one
    # wanted (same year). Not when it is byte for byte today's: then nothing changed.
    pending = None
    if runs:
        latest = _previous_run(runs[0], register_path.parent)
        if not _same_bytes(latest.inputs, runs[0][4], _digests(folder)):
            pending = _in_background(_read_copy, latest.inputs)
    loaded = load_folder(folder)
    inputs = _usable(loaded, folder)
    year = inputs.budget.settings.year
    if not runs:
        where = register_path.parent
        return Comparison(
            None,
            nothing_to_compare=f"Er is nog geen afrekening gemaakt (geen register in {where}): "
            "er is niets om mee te vergelijken."
            if not register_path.is_file()
            else f"Er is nog geen afrekening in het register in {where}: er is niets om mee te "
            "vergelijken.",
            findings=loaded.findings,
        )
    this_year = [run for run in runs if _year_of(run[3]) == year]
    run = this_year[0] if this_year else None
    if run is not runs[0]:
        pending = None  # the wrong year's copy: its worker is stopped
    if run is None:
        # Every run's label is readable (_readable), so each has its year.
        raise _other_year(register_path, sorted({Period.parse(r[3]).year for r in runs}), year)
    previous = _previous_run(run, register_path.parent)
    if _same_bytes(previous.inputs, run[4], loaded.sha256):
        return Comparison(previous, (), findings=loaded.findings)
    reading = pending() if pending is not None else _read_copy(previous.inputs)
    old = _checked_copy(previous, run[4], reading, register_path.parent)
    _same_cooperation(old, inputs, register_path, previous)
    return Comparison(previous, compare(old, inputs), findings=loaded.findings)


def compare_with_register(
    register: Register, out: Path, loaded: Loaded
) -> Callable[[], Comparison]:
    """Start comparing the inputs read (`loaded`) with the inputs of the register's latest
    settlement of their year; the returned function waits for the outcome (a Comparison, or
    InputRefused).

    Call before the register records a new run (afrekening does, inside its transaction). The
    previous copy is read and compared in a second process where the platform can fork, beside
    the caller's own work; only the list of changes comes back.
    """
    inputs = loaded.inputs
    assert inputs is not None  # afrekening reads with load_valid, which refuses no inputs
    year = inputs.budget.settings.year
    runs = _readable(register.settled_runs())
    this_year = [run for run in runs if _year_of(run[3]) == year]
    if not this_year:
        # A register holds the years one after another: the first settlement of a year has
        # nothing to compare with (its inputs are next year's workbooks, see jaarovergang).
        first = Comparison(
            None,
            nothing_to_compare=f"Dit is de eerste afrekening van {year} in dit register: er is "
            "niets om mee te vergelijken.",
        )
        return lambda: first
    previous = _previous_run(this_year[0], out)
    hashes = this_year[0][4]
    if _same_bytes(previous.inputs, hashes, loaded.sha256):
        unchanged = Comparison(previous, ())  # a re-run on the same inputs
        return lambda: unchanged
    return _in_background(_compare_with_copy, previous, hashes, register.path, inputs)


def _compare_with_copy(
    previous: PreviousRun, hashes: dict[str, str], register: Path, inputs: Inputs
) -> Comparison:
    old = _checked_copy(previous, hashes, _read_copy(previous.inputs), register.parent)
    _same_cooperation(old, inputs, register, previous)
    return Comparison(previous, compare(old, inputs))


def _usable(loaded: Loaded, folder: Path) -> Inputs:
    """The inputs of a drop folder read for a comparison, refused when there are none."""
    if loaded.inputs is not None:
        return loaded.inputs
    raise InputRefused(
        (
            *loaded.errors,
            Finding(
                Level.ERROR,
                Location(str(folder)),
                "is geen bruikbare invoermap: wijzigingen vergelijkt een kalender en een "
                "begroting met die van de laatste afrekening",
                "Herstel de fouten hierboven, of geef de map op waarin de kalender en de "
                "begroting staan.",
            ),
        )
    )


def _readable(runs: list[_Run]) -> list[_Run]:
    """The runs whose period label this version can read (anything else is no settlement of ours)."""
    return [run for run in runs if _year_of(run[3]) is not None]


def _previous_run(run: _Run, out: Path) -> PreviousRun:
    run_id, created, batch, _period, _hashes = run
    return PreviousRun(run_id, batch, _when(created), out / batch / COPY_FOLDER)


# -- reading the previous run's copy -----------------------------------------------------------


@dataclass(frozen=True)
class _CopyReading:
    """What reading a copy gave, picklable (it may come from the second process): the inputs
    (None when unusable), the errors, the SHA-256 of what was read, the manifest's run id."""

    inputs: Inputs | None
    errors: tuple[Finding, ...]
    sha256: dict[str, str]
    manifest_run: int | None
    present: bool = True


def _digests(folder: Path) -> dict[str, str]:
    """SHA-256 of the drop folder's workbooks, to see early whether they are unchanged (a few
    ms; what counts in the end is what load_folder read)."""
    from .read.folder import candidate_files, sha256_of

    try:
        return {path.name: sha256_of(path) for path in candidate_files(folder)}
    except OSError:
        return {}  # load_folder reports the folder's problems


def _same_bytes(copy: Path, hashes: dict[str, str], today: dict[str, str]) -> bool:
    """Whether both workbooks the run used (the two in its copy, by the SHA-256 the register
    recorded) are byte for byte among today's (`today`: name -> SHA-256). The same bytes read
    by the same reader give the same inputs: nothing changed, and nothing needs reading."""
    copied = [path.name for path in copy.glob("*.xlsx")] if copy.is_dir() else []
    recorded = {hashes.get(name) for name in copied}
    return len(copied) == 2 and None not in recorded and recorded <= set(today.values())


def _read_copy(folder: Path) -> _CopyReading:
    """Read a run's copy of its inputs with `load_folder`, as the drop folder is read."""
    if not folder.is_dir():
        return _CopyReading(None, (), {}, None, present=False)
    # Its findings are not shown (they were when it was settled): the cross-checks are skipped.
    old = load_folder(folder, cross_checks=False)
    return _CopyReading(old.inputs, old.errors, old.sha256, manifest_run(folder.parent))


def _in_background(function: Callable[..., T], *arguments: object) -> Callable[[], T]:
    """Run `function(*arguments)` in a forked process beside the caller; calling the returned
    object waits for its result (or raises what it raised). Inline where the platform has no
    safe fork (only Linux is used) or there is one core: then calling it computes it."""
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        return lambda: _unwrap(_wrapped(function, *arguments))
    return _Background(function, arguments)


class _Background(Generic[T]):
    """One job in a forked worker: not a pool process, it does this job, writes the pickled
    outcome to a pipe and exits. It holds none of the caller's files (its standard streams go to
    the null device, every other inherited descriptor is closed), so a caller that is killed
    leaves no lock held and no output pipe open: the worker then finds the pipe closed and ends.
    A caller that stops waiting (an error) stops the worker when this object goes."""

    _job: tuple[Callable[..., T], tuple[object, ...]]  # to do here when the worker failed
    _pipe: IO[bytes]  # the worker's pickled outcome
    _stop: Callable[[], object]  # closes the pipe, ends and reaps the worker

    def __init__(self, function: Callable[..., T], arguments: tuple[object, ...]) -> None:
        if sys.platform == "win32":  # pragma: no cover - _in_background forks on Linux only
            raise NotImplementedError("no fork on Windows")
        self._job = (function, arguments)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                gc.disable()  # ours, for one reading: nothing for the collector to free
                null = os.open(os.devnull, os.O_RDWR)
                for standard in (0, 1, 2):
                    os.dup2(null, standard)
                os.closerange(3, write_end)
                os.closerange(write_end + 1, _max_descriptors())
                outcome = pickle.dumps(_wrapped(function, *arguments), pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(outcome)
            finally:
                os._exit(0)  # never the caller's clean-up: its files, its atexit handlers
        os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb")
        self._stop = weakref.finalize(self, _stop, self._pipe, pid)

    def __call__(self) -> T:
        try:
            outcome = self._pipe.read()
        finally:
            self._stop()
        if not outcome:  # the worker failed unexpectedly: do it here, where it shows
            function, arguments = self._job
            return _unwrap(_wrapped(function, *arguments))
        unpickled: tuple[T | None, tuple[Finding, ...]] = pickle.loads(outcome)
        return _unwrap(unpickled)


def _stop(pipe: IO[bytes], pid: int) -> None:
    """Close the pipe and end the worker (done already, or no longer wanted), and reap it."""
    if sys.platform == "win32":  # pragma: no cover - a _Background's: Linux only
        raise NotImplementedError("no fork on Windows")
    pipe.close()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _max_descriptors() -> int:
    if sys.platform == "win32":  # pragma: no cover - in a _Background worker: Linux only
        raise NotImplementedError("no fork on Windows")
    try:
        return min(os.sysconf("SC_OPEN_MAX"), 1 << 16)
    except (ValueError, OSError):
        return 1024


def _wrapped(
    function: Callable[..., T], *arguments: object
) -> tuple[T | None, tuple[Finding, ...]]:
    # InputRefused does not survive pickling (its findings would be lost): carry them apart.
    try:
        return function(*arguments), ()
    except InputRefused as refused:
        return None, refused.findings


def _unwrap(outcome: tuple[T | None, tuple[Finding, ...]]) -> T:
    value, refused = outcome
    if refused:
        raise InputRefused(refused)
    return cast(T, value)  # not refused: the value is the function's own (None only if it is)


def _checked_copy(
    previous: PreviousRun, hashes: dict[str, str], reading: _CopyReading, out: Path
) -> Inputs:
    """The previous run's inputs, refused when its copy is missing, unreadable or is not the
    copy the register recorded."""
    folder = previous.inputs
    restore = (
        f"Zet de map {out / previous.batch} terug (bijvoorbeeld uit een reservekopie), of draai "
        f"de afrekening van {previous.batch} opnieuw; daarna wordt vergeleken met die afrekening."
    )
    if not reading.present:
        raise InputRefused.single(
            Location(str(folder)),
            f"de kopie van de invoer van {previous.describe()} ontbreekt, dus er is niets om mee "
            "te vergelijken",
            restore,
        )
    wrong = sorted(name for name, digest in reading.sha256.items() if hashes.get(name) != digest)
    inputs = reading.inputs
    if reading.manifest_run != previous.run_id or wrong or inputs is None:
        detail = (
            f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'zijn'} niet wat die afrekening "
            "heeft gelezen (SHA-256 verschilt)"
            if wrong
            else "de map hoort bij een andere run"
            if reading.manifest_run != previous.run_id
            else "de kopie kan niet worden gelezen"
        )
        raise InputRefused(
            (
                *(reading.errors if inputs is None else ()),
                Finding(
                    Level.ERROR,
                    Location(str(folder)),
                    f"dit is niet de invoer van {previous.describe()}: {detail}",
                    restore,
                ),
            )
        )
    return inputs


def _same_cooperation(old: Inputs, new: Inputs, register: Path, previous: PreviousRun) -> None:
    """A register of another cooperation: none of the core municipalities (Rol = kern; else the
    network members) of the previous settlement is one of today's."""

    def members(inputs: Inputs) -> set[str]:
        core = {m.code for m in inputs.calendar.municipalities if m.core}
        return core or {p.code for p in inputs.budget.populations if p.network}

    before, now = members(old), members(new)
    if before and now and not before & now:
        raise InputRefused.single(
            Location(str(register)),
            f"dit register is van een andere samenwerking: {previous.describe()} ging over "
            f"{', '.join(sorted(before))}, deze invoer over {', '.join(sorted(now))}",
            "Geef met --uit de uitvoermap van deze samenwerking op (standaard MAP/uitvoer).",
        )


def _no_register(out: Path) -> InputRefused:
    if not out.is_dir():
        return InputRefused.single(
            Location(str(out)),
            "deze uitvoermap bestaat niet",
            "Geef met --uit de map op waarin de afrekening is gemaakt (daar staat "
            "register.sqlite), of laat --uit weg voor MAP/uitvoer.",
        )
    if is_period_folder(out):
        return InputRefused.single(
            Location(str(out)),
            "dit is de map van één periode, niet de uitvoermap met het register",
            f"Geef de map erboven op: --uit {out.parent}",
        )
    return InputRefused.single(
        Location(str(out)),
        f"in deze map staat geen register ({REGISTER_NAME}), dus geen eerdere afrekening",
        "Geef met --uit de map op waarin de afrekening is gemaakt (daar staat "
        "register.sqlite), of laat --uit weg voor MAP/uitvoer.",
    )


def _other_year(path: Path, years: list[int], year: int) -> InputRefused:
    listed = ", ".join(str(y) for y in years)
    return InputRefused.single(
        Location(str(path)),
        f"dit register heeft alleen afrekeningen van {listed}; de begroting in de invoermap is "
        f"van {year}",
        f"Geef met --uit de uitvoermap van {year} op. Is er voor {year} nog niet afgerekend, dan "
        "is er nog niets om mee te vergelijken.",
    )


def _year_of(label: str) -> int | None:
    try:
        return Period.parse(label).year
    except ValueError:
        return None


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.min
