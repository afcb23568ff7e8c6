"""Writing files safely: atomically (a temporary file moved into place) and durably (fsync)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import InputRefused
from ..model import Location


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces `target` in one step.

    A failure or a kill leaves the previous `target` as it was (os.replace is atomic on the same
    volume, on Windows too); the temporary file is removed on failure.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent
    )
    os.close(handle)
    temporary = Path(name)
    # mkstemp makes the file private; give the result the permissions of any new file.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


# -- durability: what the register records must be on the disk first -------------------------


def _fsync(descriptor: int) -> None:
    """The one place that asks the operating system to flush (tests inject failures here)."""
    os.fsync(descriptor)


def sync_file(path: Path) -> None:
    """Flush a written file to the disk, so that after a power cut it is there and whole."""
    # Windows flushes only a handle that may write; POSIX any.
    flags = os.O_RDWR | getattr(os, "O_BINARY", 0) if os.name == "nt" else os.O_RDONLY
    descriptor = os.open(path, flags)
    try:
        _fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_folder(path: Path) -> None:
    """Flush a folder's entries (files created or renamed in it) to the disk.

    POSIX needs this for a new or renamed name to survive a power cut. Windows cannot open a
    folder this way; NTFS journals its entries itself.
    """
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        return
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_tree(root: Path, *, done: Iterable[Path] = ()) -> None:
    """Flush every file below `root` (except those in `done`, flushed already) and then every
    folder, deepest first, `root` last: the whole tree is on the disk when this returns."""
    skip = {Path(p) for p in done}
    for folder, _folders, files in os.walk(root, topdown=False):
        base = Path(folder)
        for name in sorted(files):
            if base / name not in skip:
                sync_file(base / name)
        sync_folder(base)


def refusal_for(problem: OSError, folder: Path) -> InputRefused:
    """A Dutch refusal for a file system error while writing into `folder`: a full disk, a
    read-only or protected folder, or a write error, naming the file and what to do. The caller
    guarantees the rest: nothing half written, the previous output and the register unchanged."""
    where = Location(str(folder))
    # The file being written may sit in a staging folder the user never sees: name only it.
    during = f" (bij het schrijven van {Path(problem.filename).name})" if problem.filename else ""
    unchanged = "er is niets weggeschreven; de vorige uitvoer en het register zijn ongewijzigd"
    if problem.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return InputRefused.single(
            where,
            f"de schijf is vol{during}; {unchanged}",
            f"Maak ruimte vrij op de schijf van {folder} en draai de opdracht opnieuw.",
        )
    if problem.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return InputRefused.single(
            where,
            f"in deze map kan niet worden geschreven (alleen-lezen of geen schrijfrechten)"
            f"{during}; {unchanged}",
            f"Geef schrijfrechten op {folder}, of kies met --uit een map waarin u mag "
            "schrijven, en draai de opdracht opnieuw.",
        )
    return InputRefused.single(
        where,
        f"schrijffout ({problem.strerror or problem}){during}; {unchanged}",
        "Controleer de schijf of de verbinding met de netwerkmap en draai de opdracht opnieuw.",
    )
