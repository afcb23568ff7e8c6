"""Named builders for test drop folders: the jaarplan's workbooks, copied and then changed by hand."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent


def bench_module():
    """scripts/bench.py as a module, loaded once (its dataclasses need it registered by name)."""
    name = "inkoopkracht_bench"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "bench.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# The jaarplan's workbooks in the plain layout (one header row, plain data rows): tests edit its
# cells by position. scripts/maak_werkboeken_2024.py --indeling plat writes it.
JAARPLAN = ROOT / "tests" / "fixtures" / "jaarplan-2024-plat"
# The same data as the jaarplan prints it (titles, section headings, totals, notes): the shipped
# workbooks the README's commands read. --indeling gedrukt writes it.
SHIPPED = ROOT / "workbooks" / "2024"
CALENDAR = "Aanbestedingskalender 2024.xlsx"
BUDGET = "Begroting 2024.xlsx"


def jaarplan_folder(target: Path) -> Path:
    """A fresh copy of the plain-layout jaarplan workbooks (JAARPLAN) in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for path in JAARPLAN.glob("*.xlsx"):
        shutil.copy2(path, target / path.name)
    return target


def edit(path: Path, change: Callable[[openpyxl.Workbook], None]) -> None:
    """Change a workbook with openpyxl and save it in place (inputs for a test, never outputs)."""
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)


def set_cells(
    path: Path, sheet: str, cells: Mapping[str, object], *, as_text: bool = False
) -> None:
    """Set cells; `as_text` stores strings as text even when they look like formulas ('=...')."""

    def change(book: openpyxl.Workbook) -> None:
        for ref, value in cells.items():
            book[sheet][ref] = value
            if as_text and isinstance(value, str):
                book[sheet][ref].data_type = "s"

    edit(path, change)


def append_rows(path: Path, sheet: str, rows: list[list[object]]) -> None:
    def change(book: openpyxl.Workbook) -> None:
        for row in rows:
            book[sheet].append(row)

    edit(path, change)


def fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below a folder, to prove inputs are untouched."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# What an invoice and its e-invoice need beyond the minimal settings (issue 13), for test folders
# built from scratch: the penvoerder as legal issuer (Instellingen rows) and each buyer's address,
# OIN and reference (Contacten columns). Made up: the OINs are zeros and a sequence number, the
# IBAN is the documentation example with valid check digits.
LEGAL_SETTINGS: list[list[object]] = [
    ["Rechtspersoon", "Gemeente Zoetermeer"],
    ["Straat", "Voorbeeldstraat 1"],
    ["Postcode", "2711 AA"],
    ["Plaats", "Zoetermeer"],
    ["OIN", "00000000000000000001"],
    ["IBAN", "NL91 ABNA 0417 1643 00"],
]
BUYER_HEADER: list[str] = ["Straat", "Postcode", "Plaats", "OIN", "Uw kenmerk"]


def buyer_cells(code: str, number: int) -> list[object]:
    """One municipality's values for BUYER_HEADER: an address, an OIN that is obviously made
    up (never a real one) and a reference."""
    return [f"Voorbeeldstraat {number}", "1234 AB", f"Plaats {code}", f"{100 + number:020d}", code]
