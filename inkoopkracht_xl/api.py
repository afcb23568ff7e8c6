"""The library: one documented function behind every command, for notebooks and scripts.

Each function takes paths and plain values, returns the model's immutable records, and refuses a
problem with `InputRefused`, whose `findings` say in Dutch where it is and what to do (the text
the command line prints). The modules behind them are imported inside each function, so
`import inkoopkracht_xl` stays light; pandas is imported only by `inkoopkracht_xl.frames`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from .allocate import AllocationKey, ParticipationMatrix
    from .deliver import Batch, Item, Outcome
    from .mail import SmtpSettings
    from .model import Inputs
    from .next_year import YearEnd
    from .previous import Comparison
    from .read.folder import Loaded
    from .register import Register
    from .report import KeyReport
    from .settlement_run import SettlementRun
    from .status import Status
    from .year_report import WrittenReport

# What the functions that need the model accept: a drop folder, or what was read from one.
PathText = Union[str, "os.PathLike[str]"]  # a path as text or a Path
Source = Union[str, "os.PathLike[str]", "Loaded", "Inputs"]

__all__ = [
    "Message",
    "RegisteredInvoice",
    "Run",
    "allocation_key",
    "changes_since_settlement",
    "check_folder",
    "confirm_arrived",
    "delivery_plan",
    "invoices",
    "key_report",
    "messages",
    "open_batch",
    "open_register",
    "participation_matrix",
    "prepare_next_year",
    "read_folder",
    "runs",
    "send_batch",
    "settle_period",
    "settlement_status",
    "watch_folder",
    "write_templates",
    "write_year_report",
]


# -- the drop folder ---------------------------------------------------------------------------


def check_folder(folder: PathText) -> Loaded:
    """Read and cross-check a drop folder, keeping every finding (`controleer`).

    Parameters: `folder`, the drop folder holding the calendar and the budget workbooks.
    Returns: a `Loaded`: `inputs` (the model; None when the folder cannot be used), `findings`
    (every error and warning, each with file › sheet › cell and what to do), `errors`, `sha256`
    (file name -> digest of the bytes read) and `skipped` (rows read as notes, sub-headings,
    totals).
    Raises: `InputRefused` only when `folder` does not exist; errors in the workbooks are
    findings, not exceptions.
    """
    from .validate import load_folder

    return load_folder(Path(folder))


def read_folder(folder: PathText) -> Loaded:
    """Read a drop folder into the validated model, for work that needs correct inputs.

    Parameters: `folder`, the drop folder holding the calendar and the budget workbooks.
    Returns: a `Loaded` (see `check_folder`) whose `inputs` is never None; its `findings` are
    warnings only.
    Raises: `InputRefused` with every error found when the folder is missing or any workbook
    has an error (the findings `controleer` prints).
    """
    from .validate import load_valid

    return load_valid(Path(folder))


def _loaded(source: Source) -> Loaded:
    """`source` as a valid Loaded: a folder is read and a Loaded taken only without errors (else
    refused with them); Inputs are wrapped as they are (a caller who wants to look at a folder
    that has errors passes `check_folder(folder).inputs`)."""
    from .read.folder import Loaded

    if isinstance(source, Loaded):
        if source.inputs is None or source.errors:
            from .errors import InputRefused

            raise InputRefused(source.errors)
        return source
    if isinstance(source, (str, os.PathLike)):
        return read_folder(source)
    return Loaded(source, (), {})


def inputs_of(source: Source) -> Inputs:
    """The model of `source` (for the DataFrames): a drop folder is read, a `Loaded` must have
    no errors (else both are refused with them, InputRefused), `Inputs` are taken as they are."""
    inputs = _loaded(source).inputs
    assert inputs is not None  # _loaded refuses a reading without inputs
    return inputs


def allocation_key(source: Source) -> AllocationKey:
    """The verdeelsleutel: the year's network budget split over the members by population.

    Parameters: `source`, a drop folder (path), or a `Loaded` or `Inputs` read from one.
    Returns: an `AllocationKey`: `year`, `method`, `rounding`, `total` (Decimal) and `shares`,
    one `KeyShare` per member (code, name, inhabitants, percentage and amount as Decimal); the
    amounts sum to `total` exactly.
    Raises: `InputRefused` when the folder has errors, or when the budget's settings make no key
    (an unknown method, no member with inhabitants).
    """
    from .report import key_for

    return key_for(_loaded(source))


def key_report(folder: PathText, *, overview: PathText | None = None) -> KeyReport:
    """The verdeelsleutel as `verdeling` shows it, optionally with its overview workbook.

    Parameters: `folder`, the drop folder; `overview`, an .xlsx path to write the overview
    (Verdeelsleutel, Deelnamematrix, Samenwerking, Verantwoording) to, or None.
    Returns: a `KeyReport`: `key` (the `AllocationKey`), `loaded`, `warnings`, and `as_table()` /
    `as_json()` as the command prints them.
    Raises: `InputRefused` when the folder has errors, the key cannot be made, or the overview
    cannot be written.
    """
    from .report import key_report as build
    from .report import write_key_overview

    report = build(Path(folder))
    if overview is not None:
        write_key_overview(report, Path(overview))
    return report


def participation_matrix(source: Source) -> ParticipationMatrix:
    """The Deelnamematrix: which municipality takes part in which tender of the calendar.

    Parameters: `source`, a drop folder (path) or a `Loaded` or `Inputs` read from one.
    Returns: a `ParticipationMatrix`: `columns` (codes: core, extra, then unknown codes),
    `unknown` (codes missing from the Gemeenten sheet) and `rows` (subject, its codes), grouped
    by category.
    Raises: `InputRefused` when the folder has errors.
    """
    from .allocate import participation_matrix as matrix

    return matrix(inputs_of(source).calendar)


def write_templates(folder: PathText) -> list[Path]:
    """Write the two empty input workbooks with sheets, headers, drop-downs and Uitleg
    (`sjabloon`).

    Parameters: `folder`, where to write them (created when missing).
    Returns: the paths written.
    Raises: `InputRefused` when either workbook already exists there (nothing is overwritten) or
    the folder cannot be made or written.
    """
    from .templates import write_templates as write
    from .write.files import refusal_for

    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        raise refusal_for(problem, target) from None
    return write(target)


def prepare_next_year(folder: PathText, target: PathText, year: int) -> YearEnd:
    """Next year's input workbooks made from this year's, in a new folder (`jaarovergang`).

    Parameters: `folder`, this year's drop folder (never written to); `target`, the new folder
    (must not exist or be empty); `year`, the new budget year (this year + 1).
    Returns: a `YearEnd`: `folder`, `files` (old name, new name), `edits` made, `warnings` and
    `to_fill` (the findings `controleer` gives on the new folder: the cells to fill in).
    Raises: `InputRefused` for a drop folder with errors, a year that does not follow, or a
    target that is not empty or lies inside `folder`.
    """
    from .next_year import next_year as make

    return make(Path(folder), Path(target), year)


def changes_since_settlement(folder: PathText, out: PathText | None = None) -> Comparison:
    """What changed in the drop folder since the last settlement of its year (`wijzigingen`).

    Parameters: `folder`, the drop folder; `out`, the output folder with register.sqlite
    (default `folder/uitvoer`).
    Returns: a `Comparison`: `changes` (each with location, old and new value), `findings` (the
    drop folder's errors, not compared), `headline()`, `lines()` and `as_json()`.
    Raises: `InputRefused` for a folder that is no drop folder, a register of another year or
    cooperation, or a previous input copy that is missing or altered. Writes nothing.
    """
    from .previous import changes_since_last_settlement

    return changes_since_last_settlement(Path(folder), None if out is None else Path(out))


def watch_folder(
    folder: PathText,
    out: PathText | None = None,
    *,
    echo: Callable[[str, str], None] | None = None,
    debug: bool = False,
) -> None:
    """Watch the drop folder and refresh `out/actueel/overzicht.xlsx` after each save
    (`bewaak`), until Ctrl+C. Never invoices, never touches the register.

    Parameters: `folder`, the drop folder; `out`, the output folder (default `folder/uitvoer`);
    `echo(line, level)` receives every line for the coordinator (default: print); `debug` shows
    tracebacks of internal errors.
    Returns: None, after KeyboardInterrupt. For one refresh without watching, use
    `inkoopkracht_xl.watch.Watcher(folder).refresh()`.
    Raises: `InputRefused` when `folder` is not a folder.
    """
    from .watch import Watcher

    target = None if out is None else Path(out)
    if echo is None:
        Watcher(Path(folder), target, debug=debug).run()
    else:
        Watcher(Path(folder), target, echo=echo, debug=debug).run()


# -- settling and sending ------------------------------------------------------------------------


def settle_period(
    folder: PathText,
    period: str,
    *,
    out: PathText | None = None,
    correction: bool = False,
    issue_date: date | None = None,
) -> SettlementRun:
    """Settle one period: the overview, the invoices (PDF, e-invoice, workbook), the mail drafts
    and the register, written atomically into `out/<period>/` (`afrekening`).

    Parameters: `folder`, the drop folder; `period`, '2024-H1', '2024-H2' or '2024'; `out`, the
    output folder holding register.sqlite (default `folder/uitvoer`); `correction`, issue
    correction invoices for a period already sent; `issue_date`, the invoice date (default
    today).
    Returns: a `SettlementRun`: `batch`, `folder`, `settlement` (the key, the lines and the
    balance check), `invoices` (numbered; the penvoerder's own share included), `billed`,
    `findings` (warnings), `run_id`, `changes` since the previous settlement, `as_json()`.
    Raises: `InputRefused` for a drop folder with errors, a period of another year, a period
    already sent (without `correction`), or outputs that cannot be written; then nothing is
    written and the register is unchanged.
    """
    from .settlement_run import run_settlement

    return run_settlement(
        Path(folder),
        period,
        out=None if out is None else Path(out),
        correction=correction,
        issue_date=issue_date,
    )


def open_batch(folder: PathText) -> Batch:
    """The output folder of one settlement, checked against its register (for `verstuur`).

    Parameters: `folder`, `<uit>/<period>` as `afrekening` wrote it.
    Returns: a `Batch` (its name, register, inputs and manifest).
    Raises: `InputRefused` when it is no settlement's folder, or not the register's latest run.
    """
    from .deliver import open_batch as opened

    return opened(Path(folder))


def delivery_plan(batch: Batch, resend: Iterable[str] = ()) -> list[Item]:
    """What `verstuur` would do with each invoice of the batch; sends nothing.

    Parameters: `batch` from `open_batch`; `resend`, numbers of interrupted messages to send
    again after the recipient said they did not arrive.
    Returns: one `Item` per invoice: the invoice, recipients (to, cc), attachments and `state`
    ('te versturen', 'verzonden', 'onzeker', 'geen adres', 'gewijzigd').
    Raises: `InputRefused` when the register cannot be read.
    """
    from .deliver import plan

    return plan(batch, frozenset(resend))


def send_batch(batch: Batch, smtp: SmtpSettings, *, resend: Iterable[str] = ()) -> Outcome:
    """Send every pending invoice of the batch exactly once over SMTP (`verstuur --verzend`).

    Parameters: `batch` from `open_batch`; `smtp`, an `inkoopkracht_xl.mail.SmtpSettings(host,
    port, user, password)`; `resend`, as for `delivery_plan`.
    Returns: an `Outcome`: `sent`, `failed`, `uncertain`, `skipped`, `not_tried`, `stopped`,
    `complete` and `summary(name)`. Each message is recorded in the register.
    Raises: `InputRefused` when another run holds the output folder or the register fails.
    """
    from .deliver import send

    return send(batch, smtp, resend=frozenset(resend))


def confirm_arrived(batch: Batch, numbers: Iterable[str]) -> list[str]:
    """Record that interrupted messages did arrive, as their recipients confirmed
    (`verstuur --aangekomen`).

    Parameters: `batch` from `open_batch`; `numbers`, the invoice numbers.
    Returns: the numbers recorded as sent (never sent again).
    Raises: `InputRefused` for a number without an interrupted message.
    """
    from .deliver import confirm_arrived as confirm

    return confirm(batch, numbers)


# -- the register ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One recorded settlement run."""

    id: int
    created_at: datetime
    version: str  # of inkoopkracht-xl
    batch: str  # '2024-H1', or a correction '2024-H1-correctie-1'
    period: str
    parameters: dict[str, str]
    inputs: dict[str, str]  # file name -> SHA-256 of the bytes read


@dataclass(frozen=True)
class RegisteredInvoice:
    """One invoice as the register holds it, with where its sending stands."""

    id: int
    run_id: int
    batch: str
    period: str
    year: int
    code: str
    name: str
    kind: str  # 'factuur', 'creditnota' or 'eigen aandeel'
    number: str  # '' for the penvoerder's own share
    total: Decimal
    issue_date: date
    due_date: date
    refers_to: str  # the invoice a correction corrects, else ''
    state: str  # 'concept', 'bezig', 'verzonden' or 'mislukt'
    error: str  # why the latest message failed, or how an uncertain one was settled


@dataclass(frozen=True)
class Message:
    """One e-mail handed (or about to be handed) to the mail server for an invoice."""

    id: int
    number: str
    batch: str
    code: str
    message_id: str
    recipients: tuple[str, ...]
    sent_at: datetime
    state: str  # 'bezig' (outcome unknown), 'verzonden' or 'mislukt'
    error: str


@contextmanager
def open_register(out: PathText) -> Iterator[Register]:
    """The register of an output folder, read only (never created, changed or migrated on disk).

    Parameters: `out`, the output folder holding register.sqlite, or the file itself.
    Yields: a `Register`; use it inside the `with` block (`deliveries()`, `invoices(batch)`,
    `run_rows()`, ...).
    Raises: `InputRefused` when there is no register, the file is no register, or it was made
    by a newer version.
    """
    from .register import REGISTER_NAME, Register

    path = Path(out)
    if path.is_dir():
        path = path / REGISTER_NAME
    with Register.open(path, read_only=True) as register:
        yield register


@contextmanager
def _snapshot(out: PathText) -> Iterator[Register]:
    """The register read only, in one read transaction: a consistent picture while a run
    commits."""
    with open_register(out) as register, register.snapshot():
        yield register


def runs(out: PathText) -> list[Run]:
    """Every settlement run recorded in the register, oldest first.

    Parameters: `out`, the output folder holding register.sqlite (or the file).
    Returns: a list of `Run`.
    Raises: `InputRefused` as `open_register`.
    """
    with open_register(out) as register:
        rows = register.run_rows()
    return [
        Run(
            ident,
            datetime.fromisoformat(created),
            version,
            batch,
            period,
            json.loads(parameters),
            json.loads(inputs),
        )
        for ident, created, version, batch, period, parameters, inputs in rows
    ]


def invoices(out: PathText, year: int | None = None) -> list[RegisteredInvoice]:
    """Every invoice the register holds (the penvoerder's own share too), in the order made.

    Parameters: `out`, the output folder holding register.sqlite (or the file); `year`, only
    this year's (an empty list when it has none).
    Returns: a list of `RegisteredInvoice`, totals as Decimal, dates as `date`, with the state of
    its latest message.
    Raises: `InputRefused` as `open_register`.
    """
    from .money import from_cents

    with _snapshot(out) as register:
        rows = register.invoice_rows(year)
        state = {(d.batch, d.code): (d.state, d.error) for d in register.deliveries()}
    return [
        RegisteredInvoice(
            ident,
            run,
            batch,
            period,
            row_year,
            code,
            name,
            kind,
            number,
            from_cents(cents),
            date.fromisoformat(issued),
            date.fromisoformat(due),
            refers,
            *state[batch, code],
        )
        for (
            ident,
            run,
            batch,
            period,
            row_year,
            code,
            name,
            kind,
            number,
            cents,
            issued,
            due,
            refers,
        ) in rows
    ]


def messages(out: PathText) -> list[Message]:
    """Every message recorded by `verstuur`, oldest first (a failed one stays, a resend is new).

    Parameters: `out`, the output folder holding register.sqlite (or the file).
    Returns: a list of `Message`.
    Raises: `InputRefused` as `open_register`.
    """
    with open_register(out) as register:
        rows = register.message_rows()
    return [
        Message(
            ident,
            number,
            batch,
            code,
            message_id,
            tuple(r for r in recipients.split("; ") if r),
            datetime.fromisoformat(sent_at),
            state,
            error,
        )
        for ident, number, batch, code, message_id, recipients, sent_at, state, error in rows
    ]


def settlement_status(out: PathText, year: int | None = None) -> Status:
    """Per year and period: settled or not, sent how far, and the next step (`status`).

    Parameters: `out`, the output folder holding register.sqlite; `year`, only this year.
    Returns: a `Status` (`years`, `next_step`, `lines()`, `as_json()`).
    Raises: `InputRefused` for a folder without a register or a year the register lacks.
    """
    from .status import status_of

    return status_of(Path(out), year)


def write_year_report(
    out: PathText, *, year: int | None = None, path: PathText | None = None
) -> WrittenReport:
    """Write the Excel report over the register's periods and years (`rapport`; uses pandas).

    Parameters: `out`, the output folder holding register.sqlite; `year`, only this year;
    `path`, the .xlsx to write (default `out/rapport-<jaar>.xlsx`).
    Returns: a `WrittenReport` (`path`, and `report` with its totals and `summary()`).
    Raises: `InputRefused` for a folder without a register, a register without invoices, a
    year it lacks, or a target that is no .xlsx.
    """
    from .year_report import write_year_report

    return write_year_report(Path(out), year=year, path=None if path is None else Path(path))
