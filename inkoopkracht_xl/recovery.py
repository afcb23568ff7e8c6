"""Swapping a run's staging folder into place, undoing a failed run, and recovering from a kill.

A settlement run writes everything into a staging folder beside the output (`.<batch>.nieuw-*`),
sets the previous output aside (`.<batch>.oud-*`) before the register commits, and renames the
staging folder into place after. These functions are those steps, and `recover_outputs` brings
the folders back in line with the register when a run was killed between them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from .errors import InputRefused
from .manifest import manifest_run
from .model import Location
from .register import Register
from .write.files import sync_folder

_LEFTOVER = re.compile(r"\.(?P<batch>.+)\.(?P<kind>nieuw|oud)-[^.]+")


def new_staging(out: Path, batch: str) -> Path:
    """A new, empty staging folder for `batch` in `out`, with the permissions of any new folder
    (mkdtemp makes it private)."""
    staging = Path(tempfile.mkdtemp(prefix=f".{batch}.nieuw-", dir=out))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    return staging


def move_aside(target: Path, staging: Path) -> Path | None:
    """Rename the previous output out of the way, before the register commits the new run.

    A file still open in Excel (Windows) makes this fail: the run is then refused and rolled
    back, and nothing has changed.
    """
    if not target.exists():
        return None
    backup = target.with_name(f".{target.name}.oud-{staging.name.rsplit('-', 1)[-1]}")
    try:
        target.rename(backup)
    except OSError:
        raise InputRefused.single(
            Location(str(target)),
            "de vorige uitvoer kan niet worden vervangen (een bestand is nog geopend?)",
            "Sluit de overzichten en facturen in Excel en draai de afrekening opnieuw.",
        ) from None
    return backup


def put_in_place(staging: Path, target: Path, backup: Path | None) -> None:
    """After the COMMIT: the staging folder becomes the output, the previous one goes.

    Flushing the folder afterwards is a courtesy: should it fail, or the power go, before the
    rename reaches the disk, the next run rolls the committed staging folder forward.
    """
    staging.rename(target)
    with contextlib.suppress(OSError):
        sync_folder(target.parent)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def undo(staging: Path | None, moved: list[tuple[Path | None, Path | None]]) -> None:
    """The run failed before its COMMIT took: remove what it wrote, put the previous outputs
    (`moved`: pairs of where an output was and where it was set aside) back where they were.
    The register has rolled back already."""
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
    for target, backup in moved:
        if backup is not None and target is not None and not target.exists():
            backup.rename(target)
    with contextlib.suppress(OSError):
        if staging is not None:
            sync_folder(staging.parent)


def recover_outputs(out: Path, register: Register) -> None:
    """Bring the output folders back in line with the register after a run was killed.

    Call under the register's lock. Per batch: a complete staging folder (it has its manifest)
    of the register's latest run replaces an older or missing output (roll forward); a missing
    output whose new run never committed gets its set-aside previous version back (roll back),
    unless the register no longer holds that batch (voided); every other leftover is removed.
    """
    if not out.is_dir():
        return
    leftovers: dict[str, list[tuple[str, Path]]] = {}
    for path in out.iterdir():
        match = _LEFTOVER.fullmatch(path.name)
        if match and path.is_dir():
            leftovers.setdefault(match["batch"], []).append((match["kind"], path))
    for batch, paths in leftovers.items():
        _recover_batch(out / batch, paths, register)


def _recover_batch(target: Path, paths: list[tuple[str, Path]], register: Register) -> None:
    """Roll one batch forward or back (see recover_outputs), then remove its leftovers."""
    batch = target.name
    latest = register.latest_run(batch)
    complete = [p for kind, p in paths if kind == "nieuw" and manifest_run(p) == latest]
    backups = sorted((p for kind, p in paths if kind == "oud"), key=lambda p: p.stat().st_mtime)
    if latest is not None and complete and manifest_run(target) != latest:
        if target.exists():
            shutil.rmtree(target)
        complete[0].rename(target)
    elif not target.exists() and backups and register.holds(batch):
        # Roll back; a batch the register no longer holds (its drafts were voided by a run
        # that committed) stays gone.
        backups[-1].rename(target)
    for _, path in paths:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
