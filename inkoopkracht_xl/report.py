"""The verdeelsleutel as the `verdeling` command shows it: a terminal table, JSON, the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import __version__
from .allocate import AllocationKey, allocation_key
from .errors import InputRefused
from .layout import INWONERS
from .model import Finding, Location
from .money import format_euro, format_number, format_percentage
from .read.folder import Loaded
from .terminal import RULE, Column, table_lines
from .validate import load_valid


@dataclass(frozen=True)
class KeyReport:
    loaded: Loaded
    key: AllocationKey

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return self.loaded.findings

    def as_table(self) -> str:
        """The key as a readable table with Dutch number formats, like the jaarplan's."""
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """`as_table` as lines (terminal.echo_lines prints the table's heading bold)."""
        key = self.key
        columns = (
            Column("Code"),
            Column("Gemeente"),
            Column("Inwoners", ">"),
            Column("Percentage", ">"),
            Column(f"Bijdrage {key.year}", ">"),
        )
        shares = [
            (
                s.code,
                s.name,
                format_number(s.inhabitants),
                format_percentage(s.percentage),
                format_euro(s.amount),
            )
            for s in key.shares
        ]
        total = (
            "",
            "Totaal",
            format_number(key.total_inhabitants),
            format_percentage(sum(s.percentage for s in key.shares)),
            format_euro(key.total),
        )
        table = table_lines(columns, [RULE, *shares, RULE, total], indent=0)
        method = "procent" if key.method == "procent" else "exact"
        unit = "hele euro's" if key.rounding == "euro" else "centen"
        head = (
            f"Verdeelsleutel netwerkbegroting {key.year}: {format_euro(key.total)} naar inwoners "
            f"(CBS per 1-1-{key.year - 1}), methode {method}, afgerond op {unit}."
        )
        body = [head, "", *table]
        body += [f"NB: {note}" for note in key.notes]
        return body

    def as_json(self) -> dict:
        key = self.key
        return {
            "periode": None,
            "jaar": key.year,
            "methode": key.method,
            "afronding": key.rounding,
            "totaal": str(key.total),
            "verdeelsleutel": key_json(key),
            "waarschuwingen": [f.text() for f in self.warnings] + list(key.notes),
        }


def key_json(key: AllocationKey) -> list[dict]:
    """The key as SPEC §4's JSON: money and percentages as decimal strings."""
    return [
        {
            "code": s.code,
            "gemeente": s.name,
            "inwoners": s.inhabitants,
            "percentage": str(s.percentage),
            "bedrag": str(s.amount),
        }
        for s in key.shares
    ]


def key_report(folder: Path) -> KeyReport:
    loaded = load_valid(folder)
    return KeyReport(loaded, key_for(loaded))


def key_for(loaded: Loaded) -> AllocationKey:
    """The budgeted year's key; a rule the inputs cannot meet becomes a Dutch refusal."""
    inputs = loaded.inputs
    try:
        return allocation_key(inputs.budget)
    except ValueError as problem:
        raise InputRefused.single(
            Location(inputs.budget_path.name, INWONERS.name), str(problem)
        ) from None


def write_key_overview(report: KeyReport, path: Path) -> Path:
    from .write.overview import Audit, input_files, parameters_for, write_overview

    inputs = report.loaded.inputs
    audit = Audit(
        inputs=input_files(inputs, report.loaded.sha256),
        parameters=parameters_for(inputs, report.key),
        version=__version__,
        created=datetime.now().replace(microsecond=0),
        findings=report.loaded.findings,
        skipped=report.loaded.skipped,
    )
    return write_overview(path, inputs, report.key, audit)
