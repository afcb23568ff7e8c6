"""status: per year and period of a register what was settled and sent, and the next step.

Read from the register alone (opened read-only: nothing is created, changed or migrated on
disk). Per year the register holds: its periods, 2024-H1 and 2024-H2, or 2024 when the year was
settled whole (then H1 only when it was settled before). A period without invoices is open
("nog niet afgerekend"). A settled period has its batch and, after it, its corrections
(2024-H1-correctie-1, ...), each with its invoice numbers, its total (what the municipalities
are billed; the penvoerder's own share apart) and per invoice where its sending stands:
verzonden, mislukt (the latest message failed; named with the server's answer), onzeker (a
message 'bezig': handed to the server, outcome unknown) or not yet sent (a draft).

The next step is ONE line, from these rules, first match wins:

1. Batches in order (years, then periods, the batch before its corrections): the first batch
   that is not done decides. Within it an uncertain message comes first, since it blocks a
   re-run and a correction of its period: ask the recipient, then `verstuur BATCH --verzend
   --opnieuw NUMMER` (did not arrive) or `verstuur BATCH --aangekomen NUMMER` (did).
   Else its drafts and failed invoices: `verstuur BATCH --verzend (k van n facturen nog niet
   verzonden[, waarvan f mislukt])`.
2. Everything settled is sent: the first open period, in year order, with no later period of
   its year settled (an open H1 before a settled H2 or whole year is covered by it, and never
   a step): `afrekening MAP --periode P`. MAP is the folder above UIT when UIT is called
   `uitvoer` (the default), else `afrekening MAP --periode P --uit UIT`.
3. Nothing left: "Alles is verstuurd." An empty register: settle a first period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import InputRefused
from .manifest import is_period_folder
from .model import DRAFT, FAILED, SENDING, SENT, Location, MessageState
from .money import format_euro
from .register import REGISTER_NAME, Delivery, Register
from .terminal import Column, Note, Row, table_lines

WIDTH = 100  # the text output fits a terminal of 100 columns
OPEN = "nog niet afgerekend"
ALL_SENT = "Alles is verstuurd."
COMMAND = "inkoopkracht-xl"


@dataclass(frozen=True)
class Unsent:
    """An invoice that has not (certainly) gone out, with the server's answer when it failed."""

    number: str
    name: str
    error: str = ""


@dataclass(frozen=True)
class BatchStatus:
    """One afrekening's invoices (a period's batch or one of its corrections) and their sending."""

    batch: str
    numbers: tuple[str, ...]  # the invoices and credit notes, in the order they were made
    total: Decimal  # what they bill together
    own_share: Decimal  # the penvoerder's own share (no invoice)
    sent: tuple[str, ...]
    failed: tuple[Unsent, ...]  # the latest message failed: verstuur --verzend tries again
    uncertain: tuple[Unsent, ...]  # a message 'bezig': maybe arrived, never sent again by itself
    drafts: tuple[Unsent, ...]  # never sent

    @property
    def count(self) -> int:
        return len(self.numbers)

    @property
    def to_send(self) -> tuple[Unsent, ...]:
        """What `verstuur --verzend` sends: the drafts and the failed ones."""
        return self.failed + self.drafts

    @property
    def done(self) -> bool:
        return len(self.sent) == self.count

    @property
    def state(self) -> str:
        if self.done:
            return "verzonden"
        if not self.sent and not self.uncertain:
            return "niet verzonden"
        return "deels verzonden"

    def as_json(self) -> dict[str, Any]:
        return {
            "staat": self.state,
            "facturen": self.count,
            "verzonden": len(self.sent),
            "te_versturen": [u.number for u in self.to_send],
            "mislukt": [
                {"nummer": u.number, "gemeente": u.name, "fout": u.error} for u in self.failed
            ],
            "onzeker": [{"nummer": u.number, "gemeente": u.name} for u in self.uncertain],
            "totaal": str(self.total),
            "eigen_aandeel": str(self.own_share),
            "nummers": list(self.numbers),
        }


@dataclass(frozen=True)
class PeriodStatus:
    """A period of a year: open, or its batch followed by its corrections."""

    label: str
    batches: tuple[BatchStatus, ...]

    @property
    def settled(self) -> bool:
        return bool(self.batches)

    def as_json(self) -> dict[str, Any]:
        if not self.batches:
            empty = BatchStatus(self.label, (), Decimal("0.00"), Decimal("0.00"), (), (), (), ())
            fields = empty.as_json() | {"staat": OPEN}
        else:
            fields = self.batches[0].as_json()
        return {
            "periode": self.label,
            "afgerekend": self.settled,
            **fields,
            "correcties": [{"batch": b.batch, **b.as_json()} for b in self.batches[1:]],
        }


@dataclass(frozen=True)
class YearStatus:
    year: int
    periods: tuple[PeriodStatus, ...]


@dataclass(frozen=True)
class Status:
    """What `status UIT` shows: per year its periods, and the next step in one line."""

    folder: Path
    years: tuple[YearStatus, ...]
    next_step: str

    def as_json(self) -> dict[str, Any]:
        return {
            "uitvoer": str(self.folder),
            "jaren": [
                {"jaar": y.year, "perioden": [p.as_json() for p in y.periods]} for y in self.years
            ],
            "volgende_stap": self.next_step,
        }

    def lines(self) -> list[str]:
        """The status as terminal lines, none wider than WIDTH except the last (the next step,
        kept on one line so it can be copied)."""
        lines = [f"Afrekeningen in {self.folder}:"]
        if not self.years:
            lines.append("  Er is nog niets afgerekend.")
        for year in self.years:
            rows: list[Row] = []
            for period in year.periods:
                if not period.batches:
                    rows.append((period.label, OPEN, "", "", ""))
                for batch in period.batches:
                    rows += _batch_rows(batch)
            lines += ["", str(year.year), *table_lines(_COLUMNS, rows, width=WIDTH)]
        return [*lines, "", self.next_step]


# Fixed widths keep the tables of several years aligned under each other.
_COLUMNS = (
    Column("Periode", width=19),
    Column("Staat", width=19),
    Column("Facturen", ">"),
    Column("Totaal", ">", width=15),
    Column("Verzonden"),
)


def _batch_rows(batch: BatchStatus) -> list[Row]:
    sent = f"{len(batch.sent)} van {batch.count}"
    rows: list[Row] = [
        (batch.batch, batch.state, str(batch.count), format_euro(batch.total), sent),
        Note("nummers: ", ", ".join(number_ranges(batch.numbers)) or "-"),
    ]
    for failed in batch.failed:
        rows.append(Note("mislukt: ", f"{failed.number} {failed.name}: {failed.error}"))
    for uncertain in batch.uncertain:
        rows.append(
            Note(
                "onzeker: ",
                f"{uncertain.number} {uncertain.name} (het versturen is afgebroken; misschien "
                "is het bericht aangekomen)",
            )
        )
    return rows


def number_ranges(numbers: Iterable[str]) -> list[str]:
    """["IK-2024-0001", "IK-2024-0002", "IK-2024-0003", "IK-2024-0005"] ->
    ["IK-2024-0001 t/m IK-2024-0003", "IK-2024-0005"]: runs of three or more in a row are
    shortened, two in a row stay two."""
    runs: list[list[str]] = []
    previous: tuple[str, int] | None = None
    for number in numbers:
        prefix, _, seq = number.rpartition("-")
        key = (prefix, int(seq)) if seq.isdigit() else None
        if runs and key and previous and key == (previous[0], previous[1] + 1):
            runs[-1].append(number)
        else:
            runs.append([number])
        previous = key
    shown = []
    for run in runs:
        if len(run) >= 3:
            shown.append(f"{run[0]} t/m {run[-1]}")
        else:
            shown += run
    return shown


# -- building -------------------------------------------------------------------------------


def status_of(out: Path, year: int | None = None) -> Status:
    """The status of the output folder `out` (the one holding register.sqlite), for every year
    in its register or only `year`. Reads only; refuses (InputRefused, Dutch) a folder without a
    register, a file that is no register, or a year the register does not hold."""
    register_path = out / REGISTER_NAME
    if not register_path.is_file():
        raise _no_register(out)
    with Register.open(register_path, read_only=True) as register:
        deliveries = register.deliveries()
    years = sorted({d.year for d in deliveries})
    if year is not None:
        if year not in years:
            raise _other_year(register_path, years, year)
        deliveries = [d for d in deliveries if d.year == year]
        years = [year]
    statuses = tuple(_year_status(y, [d for d in deliveries if d.year == y]) for y in years)
    return Status(out, statuses, next_step(statuses, out))


def _year_status(year: int, deliveries: Sequence[Delivery]) -> YearStatus:
    by_period: dict[str, dict[str, list[Delivery]]] = {}
    for delivery in deliveries:
        by_period.setdefault(delivery.period, {}).setdefault(delivery.batch, []).append(delivery)
    periods = []
    for label in _period_labels(year, by_period):
        batches = by_period.get(label, {})
        # The period's own batch first, then its corrections in the order they were made.
        order = sorted(batches, key=lambda batch: batch != label)
        periods.append(PeriodStatus(label, tuple(_batch_status(b, batches[b]) for b in order)))
    return YearStatus(year, tuple(periods))


def _period_labels(year: int, present: Iterable[str]) -> list[str]:
    """H1 and H2, or the whole year (after H1 when that was settled first); any other label the
    register holds for the year, in case, at the end."""
    present = set(present)
    whole = str(year)
    if whole in present:
        labels = [label for label in (f"{year}-H1", whole) if label in present]
    else:
        labels = [f"{year}-H1", f"{year}-H2"]
    return labels + sorted(present - set(labels))


def _batch_status(batch: str, deliveries: Sequence[Delivery]) -> BatchStatus:
    billed = [d for d in deliveries if d.number]
    own = [d for d in deliveries if not d.number]

    def unsent(state: MessageState) -> tuple[Unsent, ...]:
        return tuple(Unsent(d.number, d.name, d.error) for d in billed if d.state == state)

    return BatchStatus(
        batch,
        tuple(d.number for d in billed),
        sum((d.total for d in billed), Decimal("0.00")),
        sum((d.total for d in own), Decimal("0.00")),
        tuple(d.number for d in billed if d.state == SENT),
        unsent(FAILED),
        tuple(Unsent(d.number, d.name) for d in billed if d.state == SENDING),
        unsent(DRAFT),
    )


# -- the next step ----------------------------------------------------------------------------


def next_step(years: Sequence[YearStatus], out: Path) -> str:
    """The one line that says what to do now (rules in the module's docstring)."""
    for year in years:
        for period in year.periods:
            for batch in period.batches:
                step = _batch_step(batch, out)
                if step:
                    return step
    for year in years:
        for index, period in enumerate(year.periods):
            later_settled = any(p.settled for p in year.periods[index + 1 :])
            if not period.settled and not later_settled:
                return f"Volgende stap: {_settle_command(out, period.label)}"
    if not years:
        return f"Volgende stap: {_settle_command(out, 'JJJJ-H1')} (er is nog niets afgerekend)"
    return ALL_SENT


def _batch_step(batch: BatchStatus, out: Path) -> str:
    folder = _shown(out / batch.batch)
    if batch.uncertain:
        first = batch.uncertain[0]
        more = len(batch.uncertain) - 1
        tail = f" (daarna hetzelfde voor de {more} andere onzekere)" if more else ""
        return (
            f"Volgende stap: vraag na of {first.number} ({first.name}) is aangekomen; zo niet: "
            f"{COMMAND} verstuur {folder} --verzend --opnieuw {first.number}, zo ja: "
            f"{COMMAND} verstuur {folder} --aangekomen {first.number}{tail}"
        )
    if batch.to_send:
        failed = f", waarvan {len(batch.failed)} mislukt" if batch.failed else ""
        return (
            f"Volgende stap: {COMMAND} verstuur {folder} --verzend ({len(batch.to_send)} van "
            f"{batch.count} facturen nog niet verzonden{failed})"
        )
    return ""


def _settle_command(out: Path, label: str) -> str:
    if out.name.casefold() == "uitvoer":
        return f"{COMMAND} afrekening {_shown(out.parent)} --periode {label}"
    return f"{COMMAND} afrekening MAP --periode {label} --uit {_shown(out)}"


def _shown(path: Path) -> str:
    """A path as the user can paste it into a command line (quoted when it has a space)."""
    text = str(path)
    return f'"{text}"' if any(c.isspace() for c in text) else text


# -- refusals ---------------------------------------------------------------------------------


def _no_register(out: Path) -> InputRefused:
    if not out.is_dir():
        return InputRefused.single(
            Location(str(out)),
            "deze uitvoermap bestaat niet",
            "Geef de uitvoermap van een afrekening op (standaard MAP/uitvoer).",
        )
    if is_period_folder(out):
        return InputRefused.single(
            Location(str(out)),
            "dit is de map van één periode, niet de uitvoermap met het register",
            f"Geef de map erboven op: {COMMAND} status {_shown(out.parent)}",
        )
    if (out / "uitvoer" / REGISTER_NAME).is_file():
        return InputRefused.single(
            Location(str(out)),
            "dit is een invoermap; het register staat in de uitvoermap",
            f"Geef de uitvoermap op: {COMMAND} status {_shown(out / 'uitvoer')}",
        )
    return InputRefused.single(
        Location(str(out)),
        f"geen register ({REGISTER_NAME}) in deze map",
        "Geef de uitvoermap van een afrekening op (standaard MAP/uitvoer).",
    )


def _other_year(register: Path, years: Sequence[int], year: int) -> InputRefused:
    held = ", ".join(str(y) for y in years)
    return InputRefused.single(
        Location(str(register)),
        f"dit register heeft geen afrekeningen van {year}"
        + (f", alleen van {held}" if held else "; er is nog niets afgerekend"),
        f"Laat --jaar weg of kies een jaar uit het register, of geef de uitvoermap van {year} op.",
    )
