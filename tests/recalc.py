"""Test helper: LibreOffice recalculates a workbook, and every cached formula result must agree."""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import pytest
from openpyxl.utils.datetime import to_excel

from inkoopkracht_xl import libreoffice

TOLERANCE = 1e-9  # relative and absolute: LibreOffice may sum in another order than Python
_DATE_TYPES = (dt.datetime, dt.date, dt.time, dt.timedelta)

Test = TypeVar("Test", bound=Callable[..., Any])


def requires_libreoffice(test: Test) -> Test:
    """Decorate a test that needs LibreOffice: skipped where it is absent, but failed when
    CI=true, because CI installs LibreOffice and its absence there is a defect, not a reason."""
    if libreoffice.find_soffice() is not None:
        return test
    if os.environ.get("CI", "").lower() == "true":

        @functools.wraps(test)
        def fail(*args: Any, **kwargs: Any) -> None:
            pytest.fail(
                "CI=true but LibreOffice (soffice) was not found; CI must install "
                "libreoffice-calc-nogui (see .ci/run)",
                pytrace=False,
            )

        return fail  # type: ignore[return-value]
    return pytest.mark.skip(reason="LibreOffice (soffice) is not installed")(test)


def formula_cells(path: Path) -> dict[str, list[str]]:
    """Every worksheet's formula cells, e.g. {"Overzicht": ["D12", "E12"], "Toelichting": []}."""
    book = openpyxl.load_workbook(path, data_only=False)
    return {
        sheet.title: [cell.coordinate for cell in _formulas(sheet)] for sheet in book.worksheets
    }


def recalculated_mismatches(path: Path, workdir: Path) -> list[str]:
    """Where the cached result of a formula in `path` differs from LibreOffice's recalculation,
    one line per cell: "Overzicht!D12: formula =SUM(D2:D11), cached 0, LibreOffice 1250.5"."""
    # A subfolder, so converting an .xlsx kept in `workdir` itself cannot overwrite the original.
    recalculated_path = libreoffice.convert(path, Path(workdir) / "recalculated", "xlsx")
    formulas = openpyxl.load_workbook(path, data_only=False)
    cached = openpyxl.load_workbook(path, data_only=True)
    recalculated = openpyxl.load_workbook(recalculated_path, data_only=True)

    mismatches = []
    for sheet in formulas.worksheets:
        if sheet.title not in recalculated.sheetnames:
            mismatches.append(f"{sheet.title}: sheet missing from LibreOffice's copy")
            continue
        for cell in _formulas(sheet):
            where = cell.coordinate
            expected = cached[sheet.title][where].value
            actual = recalculated[sheet.title][where].value
            if not _agree(expected, actual, cached.epoch, recalculated.epoch):
                mismatches.append(
                    f"{sheet.title}!{where}: formula {_formula_text(cell.value)}, "
                    f"cached {expected!r}, LibreOffice {actual!r}"
                )
    return mismatches


def _formulas(sheet: Any) -> list[Any]:
    return [
        cell
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))
    ]


def _formula_text(value: Any) -> str:
    # Array formulas come back from openpyxl as ArrayFormula objects, holding "=..." in .text.
    return getattr(value, "text", value)


def _agree(cached: Any, recalculated: Any, cached_epoch: Any, recalculated_epoch: Any) -> bool:
    if _empty(cached) or _empty(recalculated):
        # No cached result means readers without a calculation engine (previews, calamine,
        # pandas) see an empty cell. That is only harmless when the true result is empty too:
        # xlsxwriter's value="" and LibreOffice's "" both read back as None.
        return _empty(cached) and _empty(recalculated)
    # Dates are serial numbers in the file; which Python type openpyxl returns depends only on
    # the number format, which LibreOffice may rewrite.
    if isinstance(cached, _DATE_TYPES):
        cached = to_excel(cached, cached_epoch)
    if isinstance(recalculated, _DATE_TYPES):
        recalculated = to_excel(recalculated, recalculated_epoch)
    # bool is an int in Python, so TRUE must not pass for 1 or the other way round.
    if isinstance(cached, bool) or isinstance(recalculated, bool):
        return type(cached) is type(recalculated) and cached == recalculated
    if isinstance(cached, int | float) and isinstance(recalculated, int | float):
        return math.isclose(cached, recalculated, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    # Strings, including error values such as "#DIV/0!", must match exactly, as must their type.
    return type(cached) is type(recalculated) and cached == recalculated


def _empty(value: Any) -> bool:
    return value is None or value == ""
