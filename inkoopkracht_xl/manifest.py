"""The manifest of a period's output folder: which register run wrote it, and its files.

A settlement run writes it last into its staging folder (so a folder with a manifest is
complete); verstuur checks it against the register; recovery, wijzigingen, status and rapport
read it to tell a period's own folder from the output folder that holds the register.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .register import REGISTER_NAME

MANIFEST = "afrekening.json"  # the file's name is part of the output the user sees: Dutch
_KEYS = ("batch", "periode", "run", "facturen")


def write_manifest(
    folder: Path, batch: str, period_label: str, run_id: int, files: dict[str, Any]
) -> None:
    """Write the manifest of `folder`: the batch, its period, the register's run id and, per
    invoice number, the manifest entry `outputs.produce` returned (file names and SHA-256)."""
    manifest = {"batch": batch, "periode": period_label, "run": run_id, "facturen": files}
    text = json.dumps(manifest, ensure_ascii=False, indent=2)
    (folder / MANIFEST).write_text(text, encoding="utf-8")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of `folder` with its four keys, or None when it is missing, unreadable or
    damaged."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or any(key not in manifest for key in _KEYS):
        return None
    return manifest


def manifest_run(folder: Path) -> int | None:
    """The register run that wrote `folder`, or None when it has no readable manifest."""
    manifest = read_manifest(folder)
    run = None if manifest is None else manifest["run"]
    return run if isinstance(run, int) else None


def is_period_folder(folder: Path) -> bool:
    """`folder` is one period's output folder (its manifest, the register in the folder above):
    what a user gives by mistake where the output folder with the register is asked."""
    return (folder / MANIFEST).is_file() and (folder.parent / REGISTER_NAME).is_file()
