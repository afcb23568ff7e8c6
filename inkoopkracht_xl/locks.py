"""An exclusive lock on a file, released by the operating system when the process ends."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import InputRefused
from .model import Location


@contextlib.contextmanager
def exclusive(path: Path, message: str, *, wait: float = 2.0) -> Iterator[None]:
    """Hold `path` exclusively, waiting up to `wait` seconds, else refuse with `message`.

    POSIX record locks (fcntl.lockf) and msvcrt.locking (Windows) die with their process, so a
    run that was killed never leaves a stale lock behind. Not flock: a process forked from the
    run (a worker) would share a flock and keep it after the run was killed.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")  # noqa: SIM115 - held open for the lock's lifetime
    except OSError as problem:  # a read-only or full output folder: nothing started yet
        from .write.files import refusal_for

        raise refusal_for(problem, path.parent) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                _lock(handle)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise InputRefused.single(
                        Location(str(path.parent)),
                        message,
                        "Wacht tot die klaar is en probeer het daarna opnieuw.",
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(handle)
    finally:
        handle.close()


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_UN)
