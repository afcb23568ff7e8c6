"""Reads the calendar workbook: sheets Kalender and Gemeenten."""

from __future__ import annotations

from ..layout import GEMEENTEN, KALENDER
from ..model import Calendar, Municipality, Subject, subject_key
from . import values
from .municipalities import Directory
from .table import Reader, Row


def read_calendar(reader: Reader) -> Calendar:
    municipalities = _municipalities(reader)
    reader.directory = Directory(((m.code, m.name) for m in municipalities), source="Gemeenten")
    return Calendar(municipalities, _subjects(reader))


def _municipalities(reader: Reader) -> tuple[Municipality, ...]:
    table = reader.table(GEMEENTEN)
    if table is None:
        return ()
    found: dict[str, Municipality] = {}
    for row in table.rows:
        code = reader.field(row, "code", values.code)
        name = reader.field(row, "name", values.text)
        role = reader.field(
            row,
            "role",
            lambda v: values.choice(v, ("kern", "extra"), ""),
            fix="Vul 'kern' of 'extra' in.",
        )
        cbs = values.text(row["cbs_code"]).upper()
        if code is None or name is None or role is None:
            continue
        if code in found:
            first = found[code].source
            reader.error(
                row.source.at("code"),
                f"code {code} staat dubbel (ook in rij {first.row})",
                "Laat elke code één keer voorkomen.",
            )
            continue
        found[code] = Municipality(code, name, role == "kern", cbs, row.source)
    return tuple(found.values())


def _subjects(reader: Reader) -> tuple[Subject, ...]:
    table = reader.table(KALENDER)
    if table is None:
        return ()
    found: dict[str, Subject] = {}
    for row in table.rows:
        name = reader.field(row, "subject", values.text, fix="Vul het onderwerp in.")
        category = _category(reader, row, name)
        participants = reader.field(
            row,
            "participants",
            reader.directory.resolve,
            required=False,
            fix="Gebruik codes of namen uit Gemeenten, gescheiden door komma's: DE, PN, WE.",
        )
        if name is None or category is None:
            continue
        key = subject_key(name)
        if key in found:
            reader.error(
                row.source.at("subject"),
                f"onderwerp '{name}' staat dubbel (ook in rij {found[key].source.row})",
                "Geef elk onderwerp een unieke naam, bijvoorbeeld met het perceel erbij.",
            )
            continue
        found[key] = Subject(
            category=category,
            name=name,
            inventory_year=values.text(row["inventory_year"]),
            participants=participants or (),
            joint_year=values.text(row["joint_year"]),
            source=row.source,
        )
    return tuple(found.values())


def _category(reader: Reader, row: Row, name: str | None) -> int | None:
    """The subject's category: its own cell, or what a section heading, a merged cell or the first
    subject of its block gave it (the table reader fills those in); else an error at the cell."""
    if values.is_empty(row["category"]) and name is not None:
        has_column = any(key == "category" for key, _ in row.source.columns)
        reader.error(
            row.source.at("category" if has_column else "subject"),
            f"het onderwerp '{name}' heeft geen categorie",
            "Vul de categorie in (1, 2, 3 of 4), of zet een kopregel boven het blok, "
            "bijvoorbeeld '3. Verkenning'.",
        )
        return None
    return reader.field(row, "category", values.category, fix="Vul categorie 1, 2, 3 of 4 in.")
