"""A drop folder read and checked: what every command that reads its inputs calls.

Reading (read.folder) finds what is wrong inside one workbook; the checks (check.py) what is
wrong across them. Here, above both, they are put together, so reading never imports the checks.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .check import cross_check
from .errors import InputRefused
from .read.folder import Loaded, read_unchecked


def load_folder(folder: Path, *, cross_checks: bool = True) -> Loaded:
    """Read and cross-check a drop folder. Refuses (InputRefused) only when there is no folder.

    `cross_checks` False skips the checks across the workbooks (check.py), for a reading whose
    findings nobody reads: a previous settlement's copy of its inputs, to compare with."""
    loaded = read_unchecked(folder)
    inputs = loaded.inputs
    if not cross_checks or inputs is None:
        return loaded
    unreadable = loaded.unreadable
    found = cross_check(
        inputs.calendar,
        inputs.budget,
        inputs.budget_path.name,
        unreadable_codes=unreadable.codes,
        populations_unreadable=unreadable.populations,
        subjects_unreadable=unreadable.subjects,
    )
    return replace(loaded, findings=(*loaded.findings, *found))


def load_valid(folder: Path) -> Loaded:
    """Read a drop folder for work that needs correct inputs: any error refuses (with all errors)."""
    loaded = load_folder(folder)
    if loaded.errors or loaded.inputs is None:
        raise InputRefused(loaded.errors)
    return loaded
