"""The rapport's data: what the rapport workbook shows, as values (Decimal money).

`year_report` builds a `YearReport` from the register (with pandas) and `write.report_workbook`
writes it; both import these classes and constants from here, so the writer never imports the
command that calls it. No pandas here: importing this module keeps every command's start-up time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from . import __version__
from .model import SENT
from .money import format_euro
from .register import Delivery

# The columns of Per gemeente: every line falls in exactly one, so they add up to the total.
NETWORK, PROJECTS, JOINS, CORRECTIONS = "Netwerk", "Projecten", "Toetredingen", "Correcties"
KINDS = (NETWORK, PROJECTS, JOINS, CORRECTIONS)
ZERO = Decimal("0.00")
CHART_MUNICIPALITIES = 25  # more bars than this and the chart shows the largest contributors
TOP_SUBJECTS = 10


@dataclass(frozen=True)
class Party:
    """One municipality's row of Per gemeente: per year the amounts in KINDS order (None where
    it has no line of that kind), and how much of the year's total is in credit notes."""

    code: str
    name: str
    amounts: dict[int, tuple[Decimal | None, ...]]
    credit_notes: dict[int, Decimal] = field(default_factory=dict)

    def total(self, year: int) -> Decimal:
        return sum((a for a in self.amounts.get(year, ()) if a is not None), ZERO)

    def grand_total(self) -> Decimal:
        return sum((self.total(year) for year in self.amounts), ZERO)


@dataclass(frozen=True)
class SubjectRow:
    """One subject of one year: what each municipality was invoiced for it (projects, joins and
    their corrections, code -> amount), and the penvoerder's own share of it."""

    year: int
    subject: str
    paid: dict[str, Decimal]
    own_share: Decimal | None
    total: Decimal


@dataclass(frozen=True)
class Batch:
    """A batch of the register (a period or one of its corrections) as the rapport counts it."""

    year: int
    batch: str
    invoices: int  # invoices and credit notes, the own share not counted
    sent: int
    invoiced: Decimal
    own_share: Decimal


@dataclass(frozen=True)
class YearReport:
    """Everything the rapport workbook shows, as values (Decimal money); no pandas inside."""

    register: Path
    made_at: datetime
    years: tuple[int, ...]  # in the report
    register_years: tuple[int, ...]  # in the register
    invoiced: tuple[Party, ...]  # municipalities that got invoices or credit notes, by name
    own_shares: tuple[Party, ...]  # the penvoerder(s), their own share per year
    subject_columns: tuple[tuple[str, str], ...]  # (code, name) of Per onderwerp, by name
    subjects: tuple[SubjectRow, ...]
    invoices: tuple[Delivery, ...]  # numbered invoices and credit notes, by year and number
    batches: tuple[Batch, ...]
    # The control figures, from the invoice totals in the register (not from its lines).
    register_invoiced: Decimal
    register_own_share: Decimal
    # Invoices whose lines do not add up to their recorded total: "<number> (<batch>)".
    unbalanced: tuple[str, ...]
    version: str = __version__

    @property
    def invoiced_total(self) -> Decimal:
        return sum((p.grand_total() for p in self.invoiced), ZERO)

    @property
    def own_share_total(self) -> Decimal:
        return sum((p.grand_total() for p in self.own_shares), ZERO)

    @property
    def balanced(self) -> bool:
        """The report's totals are the register's invoices, to the cent, and each invoice's
        lines add up to its total."""
        return (
            self.invoiced_total == self.register_invoiced
            and self.own_share_total == self.register_own_share
            and not self.unbalanced
        )

    def contributions(self) -> list[tuple[str, str, dict[int, Decimal]]]:
        """(code, name, year -> invoiced + own share) per municipality, largest first: what
        each paid, the penvoerder included."""
        paid: dict[str, dict[int, Decimal]] = {}
        names: dict[str, str] = {}
        for party in (*self.invoiced, *self.own_shares):
            names.setdefault(party.code, party.name)
            years = paid.setdefault(party.code, {})
            for year in party.amounts:
                years[year] = years.get(year, ZERO) + party.total(year)
        rows = [(code, names[code], years) for code, years in paid.items()]
        return sorted(rows, key=lambda r: (-sum(r[2].values()), r[1].casefold(), r[0]))

    def top_subjects(self, limit: int = TOP_SUBJECTS) -> list[tuple[str, Decimal]]:
        """The `limit` subjects (of a year) that cost most, largest first; the year is named
        when the report covers more than one."""
        rows = sorted(
            (s for s in self.subjects if s.total > 0),
            key=lambda s: (-s.total, s.subject.casefold(), s.year),
        )[:limit]
        several = len(self.years) > 1
        return [(f"{s.subject} ({s.year})" if several else s.subject, s.total) for s in rows]

    def summary(self) -> list[str]:
        """What `rapport` prints under the path: years, totals, the check (Dutch)."""
        count = len(self.invoices)
        sent = sum(1 for i in self.invoices if i.state == SENT)
        check = "OK" if self.balanced else "VERSCHIL"
        what = "factuur of creditnota" if count == 1 else "facturen en creditnota's"
        lines = [
            f"Jaren: {', '.join(str(y) for y in self.years)}.",
            f"Gefactureerd: {format_euro(self.invoiced_total)} in {count} {what} "
            f"({sent} verzonden, {count - sent} niet).",
            f"Eigen aandeel penvoerder (niet gefactureerd): {format_euro(self.own_share_total)}.",
            f"Controle rapport = facturen in het register: {check}.",
        ]
        if self.unbalanced:
            lines.append(
                "De regels van deze facturen tellen niet op tot hun totaal: "
                + ", ".join(self.unbalanced)
            )
        return lines
