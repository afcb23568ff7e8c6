"""The register: an SQLite ledger of runs, invoice numbers, invoices, lines and sent messages."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InputRefused
from .model import (
    DRAFT,
    FAILED,
    JOIN_LINE,
    NETWORK_LINE,
    OWN_SHARE,
    PROJECT_LINE,
    SENDING,
    SENT,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    LineKind,
    Location,
    MessageState,
)
from .money import from_cents, to_cents
from .settle import History, LineIdentity, Period, SettledCost

REGISTER_NAME = "register.sqlite"
LOCK_NAME = ".inkoopkracht.lock"  # beside the register: one afrekening or verstuur at a time

# Versioned schema: migration N brings a register from user_version N-1 to N. Never edit a
# migration that has shipped; add the next one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            version TEXT NOT NULL,
            batch TEXT NOT NULL,
            period TEXT NOT NULL,
            parameters TEXT NOT NULL,
            inputs TEXT NOT NULL)""",
        """CREATE TABLE numbers (
            number TEXT PRIMARY KEY,
            year INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            batch TEXT NOT NULL,
            code TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('concept', 'verzonden', 'vervallen')),
            UNIQUE (year, seq))""",
        """CREATE TABLE invoices (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            batch TEXT NOT NULL,
            period TEXT NOT NULL,
            year INTEGER NOT NULL,
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            number TEXT UNIQUE REFERENCES numbers(number),
            total_cents INTEGER NOT NULL,
            issue_date TEXT NOT NULL,
            due_date TEXT NOT NULL,
            refers_to TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('concept', 'verzonden')),
            UNIQUE (batch, code))""",
        """CREATE TABLE lines (
            id INTEGER PRIMARY KEY,
            invoice_id INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            description TEXT NOT NULL,
            basis TEXT NOT NULL,
            reference TEXT NOT NULL,
            subject TEXT NOT NULL,
            join_key TEXT NOT NULL,
            amount_cents INTEGER NOT NULL,
            cost_date TEXT,
            cost_total_cents INTEGER,
            participants TEXT NOT NULL)""",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            invoice_id INTEGER NOT NULL REFERENCES invoices(id),
            message_id TEXT NOT NULL,
            recipients TEXT NOT NULL,
            sent_at TEXT NOT NULL)""",
        "CREATE INDEX lines_by_invoice ON lines(invoice_id)",
        "CREATE INDEX invoices_by_year ON invoices(year, period)",
    ),
    # 2: a message is recorded before it is handed to the server ('bezig') and settled after
    # ('verzonden' or 'mislukt'), so a crash in between never leads to sending it twice.
    (
        "ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT 'verzonden'",
        "ALTER TABLE messages ADD COLUMN error TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX messages_by_invoice ON messages(invoice_id)",
    ),
    # 3: the message states of SPEC §2 as rules of the schema, not of the code alone. A message
    # belongs to an invoice number (numbers are never deleted), so replacing the drafts of a
    # period whose messages all failed keeps their history instead of tripping over it.
    (
        """CREATE TABLE messages_by_number (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL REFERENCES numbers(number),
            message_id TEXT NOT NULL,
            recipients TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('bezig', 'verzonden', 'mislukt')),
            error TEXT NOT NULL DEFAULT '')""",
        """INSERT INTO messages_by_number (id, number, message_id, recipients, sent_at, status,
                                          error)
           SELECT m.id, i.number, m.message_id, m.recipients, m.sent_at, m.status, m.error
           FROM messages m JOIN invoices i ON i.id = m.invoice_id
           WHERE i.number IS NOT NULL""",
        "DROP TABLE messages",
        "ALTER TABLE messages_by_number RENAME TO messages",
        "CREATE INDEX messages_by_number ON messages(number)",
        # concept -> bezig -> verzonden | mislukt: a message is recorded as 'bezig' before the
        # server sees it and settled once; a settled message never changes again.
        """CREATE TRIGGER message_starts_bezig BEFORE INSERT ON messages
           WHEN NEW.status <> 'bezig'
           BEGIN SELECT RAISE(ABORT, 'een bericht begint als bezig'); END""",
        """CREATE TRIGGER message_settles_once BEFORE UPDATE ON messages
           WHEN OLD.status <> 'bezig' OR NEW.number <> OLD.number
           BEGIN SELECT RAISE(ABORT, 'een afgehandeld bericht verandert niet meer'); END""",
        # Exactly once: no new message while one for the same number may have arrived, and
        # none for a voided number.
        """CREATE TRIGGER message_once_per_invoice BEFORE INSERT ON messages
           WHEN EXISTS (SELECT 1 FROM messages
                        WHERE number = NEW.number AND status IN ('bezig', 'verzonden'))
             OR (SELECT status FROM numbers WHERE number = NEW.number) = 'vervallen'
           BEGIN SELECT RAISE(ABORT, 'deze factuur is al (misschien) verstuurd of vervallen');
           END""",
        # A sent invoice is final: never replaced, never changed (only marked sent).
        """CREATE TRIGGER sent_invoice_stays BEFORE DELETE ON invoices
           WHEN OLD.status = 'verzonden'
             OR EXISTS (SELECT 1 FROM messages
                        WHERE number = OLD.number AND status IN ('bezig', 'verzonden'))
           BEGIN SELECT RAISE(ABORT, 'een verzonden factuur wordt niet vervangen'); END""",
        """CREATE TRIGGER sent_invoice_unchanged BEFORE UPDATE ON invoices
           WHEN OLD.status = 'verzonden'
           BEGIN SELECT RAISE(ABORT, 'een verzonden factuur verandert niet meer'); END""",
        # Numbers: never deleted, never reused; concept -> verzonden | vervallen, both final.
        """CREATE TRIGGER numbers_stay BEFORE DELETE ON numbers
           BEGIN SELECT RAISE(ABORT, 'een factuurnummer wordt nooit verwijderd'); END""",
        """CREATE TRIGGER number_states BEFORE UPDATE ON numbers
           WHEN OLD.status <> 'concept' OR NEW.number <> OLD.number OR NEW.seq <> OLD.seq
             OR (NEW.status = 'vervallen' AND EXISTS (
                   SELECT 1 FROM messages
                   WHERE number = OLD.number AND status IN ('bezig', 'verzonden')))
           BEGIN SELECT RAISE(ABORT, 'dit factuurnummer kan niet meer veranderen'); END""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
# A period is sent (final) when any of its invoices was sent or may have been: a message
# 'verzonden' or 'bezig' (handed to the server, outcome unknown). SQL over invoices `i`.
_SENT = """(i.status = 'verzonden' OR EXISTS (
    SELECT 1 FROM messages m WHERE m.number = i.number AND m.status IN ('bezig', 'verzonden')))"""

# How long a run waits for another run on the same output folder before refusing.
LOCK_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class RunInfo:
    created_at: datetime
    version: str
    parameters: dict[str, str]
    inputs: dict[str, str]  # file name -> SHA-256


@dataclass(frozen=True)
class Delivery:
    """One recorded invoice and where its sending stands (`Register.deliveries`)."""

    year: int
    period: str
    batch: str
    code: str
    name: str
    kind: InvoiceKind
    number: str  # "" for the penvoerder's own share
    total: Decimal
    # 'verzonden', 'bezig' (handed to the server, outcome unknown), 'mislukt' (latest message
    # failed) or 'concept' (never sent)
    state: MessageState
    error: str  # why the latest message failed, or how an uncertain one was settled


class Register:
    """One connection to the ledger. Use `Register.open(path)`; write inside `transaction()`."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self.db = connection

    @classmethod
    @contextmanager
    def open(cls, path: Path, *, read_only: bool = False) -> Iterator[Register]:
        """The register at `path`, created or brought to the current schema first.

        `read_only`: for commands that only look (status). The file is never created, changed
        or migrated; a missing one or a file that is no register is refused (see
        `_open_read_only`).

        Every SQLite error while it is open, here or in the caller's block, reaches the caller
        as a Dutch refusal naming the file and what to do (see `refusal`).
        """
        if read_only:
            with cls._open_read_only(path) as register:
                yield register
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
        except (sqlite3.Error, OSError) as problem:
            raise refusal(path, problem) from None
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            register = cls(path, connection)
            register._migrate()
            yield register
        except sqlite3.Error as problem:
            raise refusal(path, problem) from None
        finally:
            connection.close()

    @classmethod
    @contextmanager
    def _open_read_only(cls, path: Path) -> Iterator[Register]:
        """The register at `path` for reading only, through SQLite's `mode=ro`.

        Missing: refused (nothing is created). Not a register (no tables of ours, random
        bytes): refused. Of an older schema: copied into memory and migrated there, so an old
        register can be read as it is without writing to it; of a newer one: refused as
        `_migrate` refuses it.
        """
        if not path.is_file():
            raise InputRefused.single(
                Location(str(path)),
                "hier staat geen register (register.sqlite)",
                "Geef de uitvoermap van een afrekening op (standaard MAP/uitvoer).",
            )
        try:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=LOCK_WAIT_SECONDS,
                isolation_level=None,
            )
        except sqlite3.Error as problem:
            raise refusal(path, problem) from None
        copy: sqlite3.Connection | None = None
        try:
            tables = {
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
            if not {"runs", "numbers", "invoices", "lines"} <= tables:
                raise InputRefused.single(
                    Location(str(path)),
                    "dit bestand is geen register van inkoopkracht-xl",
                    "Geef de uitvoermap van een afrekening op (standaard MAP/uitvoer), de map "
                    "waarin afrekening register.sqlite heeft gemaakt.",
                )
            register = cls(path, connection)
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            if version != SCHEMA_VERSION:
                copy = sqlite3.connect(":memory:", isolation_level=None)
                connection.backup(copy)
                register = cls(path, copy)
                register._migrate()
            yield register
        except sqlite3.Error as problem:
            raise refusal(path, problem) from None
        finally:
            if copy is not None:
                copy.close()
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """An exclusive write transaction: a second run on the same register waits, then refuses.

        Committed when the block ends; rolled back when it raises or when the COMMIT itself
        fails (a full disk, a lost lock), so the register is never left half-written.
        """
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as problem:
            raise refusal(self.path, problem) from None
        try:
            yield
            self._commit()
        except BaseException as problem:
            self._rollback()
            if isinstance(problem, sqlite3.Error):
                raise refusal(self.path, problem) from None
            raise

    def _commit(self) -> None:
        self.db.execute("COMMIT")

    def _rollback(self) -> None:
        if not self.db.in_transaction:
            return  # SQLite already rolled back (a failed COMMIT may do so itself)
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # closing the connection rolls back what is left

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputRefused.single(
                Location(str(self.path)),
                f"dit register is gemaakt door een nieuwere versie van inkoopkracht-xl (schema "
                f"{version}, deze versie {__version__} kent schema {SCHEMA_VERSION}); er is niets "
                "gewijzigd",
                "Werk inkoopkracht-xl bij naar de versie waarmee het register is gemaakt of een "
                "nieuwere, en draai de opdracht opnieuw.",
            )
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            # Read again under the write lock: another process may have migrated meanwhile.
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number + 1}")
            broken = self.db.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise sqlite3.IntegrityError(
                    f"{len(broken)} verwijzing(en) naar ontbrekende rijen, bijvoorbeeld in de "
                    f"tabel {broken[0][0]}"
                )

    # -- reading -------------------------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: what is read inside it is of one moment, even while an
        afrekening or verstuur commits to the same register."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    def deliveries(self) -> list[Delivery]:
        """Every invoice the register holds (the penvoerder's own share too), oldest first, with
        where its sending stands. One statement: a consistent picture while verstuur runs."""
        rows = self.db.execute(
            f"""SELECT i.year, i.period, i.batch, i.code, i.name, i.kind, COALESCE(i.number, ''),
                       i.total_cents, {_SENT}, COALESCE(m.status, ''), COALESCE(m.error, '')
                FROM invoices i
                LEFT JOIN messages m
                  ON m.id = (SELECT MAX(id) FROM messages WHERE number = i.number)
                ORDER BY i.year, i.id"""
        )
        return [
            Delivery(
                year,
                period,
                batch,
                code,
                name,
                kind,
                number,
                from_cents(cents),
                SENT if sent and message != SENDING else (message or DRAFT),
                error,
            )
            for year, period, batch, code, name, kind, number, cents, sent, message, error in rows
        ]

    def periods(self, year: int) -> dict[str, InvoiceState]:
        """Period label -> 'verzonden' when any invoice of it was sent or may have been (a
        message 'bezig'), else 'concept' (SPEC §2: then its drafts can still be replaced)."""
        rows = self.db.execute(
            f"SELECT i.period, MAX({_SENT}) FROM invoices i WHERE i.year = ? GROUP BY i.period",
            (year,),
        )
        return {period: (SENT if sent else DRAFT) for period, sent in rows}

    def uncertain(self, period: Period) -> list[tuple[str, str]]:
        """(number, municipality) of the period's invoices whose message is 'bezig': handed to
        the server when verstuur was interrupted, so nobody knows whether it arrived."""
        rows = self.db.execute(
            """SELECT i.number, i.name FROM invoices i
               WHERE i.period = ? AND EXISTS (
                   SELECT 1 FROM messages m WHERE m.number = i.number AND m.status = 'bezig')
               ORDER BY i.number""",
            (period.label,),
        )
        return rows.fetchall()

    def unsent_before(self, period: Period) -> dict[str, list[str]]:
        """Earlier period label -> the numbers of its invoices that were never sent (drafts,
        or every message failed): `period` deducts them as billed all the same."""
        earlier = [
            label for label in self.periods(period.year) if Period.parse(label).end < period.end
        ]
        unsent: dict[str, list[str]] = {}
        for label in earlier:
            rows = self.db.execute(
                f"""SELECT i.number FROM invoices i
                    WHERE i.period = ? AND i.number IS NOT NULL AND NOT {_SENT}
                    ORDER BY i.number""",
                (label,),
            )
            numbers = [number for (number,) in rows]
            if numbers:
                unsent[label] = numbers
        return unsent

    def period_total(self, period: Period) -> Decimal:
        """What the register holds as invoiced for a period over all its batches (originals
        and corrections, the penvoerder's own share included), from the invoice totals."""
        (cents,) = self.db.execute(
            "SELECT COALESCE(SUM(total_cents), 0) FROM invoices WHERE period = ?",
            (period.label,),
        ).fetchone()
        return from_cents(cents)

    def batches(self, period: Period) -> list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT batch FROM invoices WHERE period = ? ORDER BY batch", (period.label,)
        )
        return [batch for (batch,) in rows]

    def period_deliveries(
        self, period: Period
    ) -> list[tuple[str, str, str, str, InvoiceKind, Decimal, date, date, MessageState, str, str]]:
        """Every numbered invoice of the period over all its batches, in the order they were
        made, with its latest message (the overview's Facturen sheet of a correction): (batch,
        number, code, name, kind, total, issue date, due date, state, sent at, recipients).
        State is that message's ('bezig', 'verzonden', 'mislukt'), else 'verzonden' or
        'concept' as the invoice is; sent at is the ISO time the message was handed to the
        server, recipients as recorded ('; '), both '' without a message."""
        rows = self.db.execute(
            """SELECT i.batch, i.number, i.code, i.name, i.kind, i.total_cents, i.issue_date,
                      i.due_date, COALESCE(m.status, i.status), COALESCE(m.sent_at, ''),
                      COALESCE(m.recipients, '')
               FROM invoices i LEFT JOIN messages m
                 ON m.id = (SELECT MAX(id) FROM messages WHERE number = i.number)
               WHERE i.period = ? AND i.number IS NOT NULL
               ORDER BY i.id""",
            (period.label,),
        )
        return [
            (batch, number, code, name, kind, from_cents(cents), date.fromisoformat(issued))
            + (date.fromisoformat(due), state, sent_at, recipients)
            for batch, number, code, name, kind, cents, issued, due, state, sent_at, recipients in rows
        ]

    def history(self, period: Period, *, including_later: bool = False) -> History:
        """What was billed this year in periods that end before `period` ends (drafts count).

        `including_later` (a correction): cost lines and joins' re-splits billed by later periods
        count as billed too. A cost line dated in this period but added late is billed by H2;
        correcting this period must not bill it a second time. The network lines stay those of
        earlier periods. (A re-run voids the later drafts, so it looks only at earlier ones.)
        """
        labels = self.periods(period.year)
        earlier = [label for label in labels if Period.parse(label).end < period.end]
        later = [label for label in labels if Period.parse(label).end > period.end]
        considered = earlier + (later if including_later else [])
        collected = _HistoryCollector(frozenset(earlier))
        for row in self._billed_lines(period.year, considered):
            collected.add(row)
        return collected.history()

    def _billed_lines(self, year: int, labels: Sequence[str]) -> Iterable[tuple[Any, ...]]:
        """The lines of the invoices of `year` billed in the periods `labels`, in invoice order."""
        if not labels:
            return ()
        marks = ",".join("?" * len(labels))
        return self.db.execute(
            f"""SELECT i.code, i.number, l.kind, l.reference, l.join_key, l.amount_cents,
                       l.cost_date, l.cost_total_cents, l.subject, l.participants,
                       i.issue_date, i.period
                FROM lines l JOIN invoices i ON i.id = l.invoice_id
                WHERE i.year = ? AND i.period IN ({marks})
                ORDER BY i.id, l.position""",
            (year, *labels),
        )

    def holdings(self, period: Period) -> dict[LineIdentity, tuple[Decimal, str, str]]:
        """For corrections: (code, kind, kenmerk, join) -> (amount, description, first number)."""
        held: dict[LineIdentity, tuple[Decimal, str, str]] = {}
        rows = self.db.execute(
            """SELECT i.code, l.kind, l.reference, l.join_key, l.amount_cents, l.description,
                      COALESCE(i.number, '')
               FROM lines l JOIN invoices i ON i.id = l.invoice_id
               WHERE i.period = ? ORDER BY i.id, l.position""",
            (period.label,),
        )
        for code, kind, reference, join, cents, description, number in rows:
            identity = (code, kind, reference.casefold(), join)
            amount, first_description, first_number = held.get(
                identity, (Decimal("0.00"), description, number)
            )
            held[identity] = (amount + from_cents(cents), first_description, first_number or number)
        return held

    def invoices(self, batch: str) -> list[Invoice]:
        """The invoices of one batch (a period, or one of its corrections) as they were recorded."""
        result = []
        for row in self.db.execute(
            """SELECT id, code, name, period, year, kind, COALESCE(number, ''), issue_date,
                      due_date, refers_to FROM invoices WHERE batch = ? ORDER BY id""",
            (batch,),
        ).fetchall():
            invoice_id, code, name, period, year, kind, number, issued, due, refers = row
            lines = tuple(
                InvoiceLine(
                    kind=k,
                    description=d,
                    basis=b,
                    amount=from_cents(a),
                    reference=r,
                    subject=s,
                    cost_date=date.fromisoformat(cd) if cd else None,
                    cost_total=from_cents(ct) if ct is not None else None,
                    participants=tuple(json.loads(p)),
                    join=j,
                )
                for k, d, b, r, s, j, a, cd, ct, p in self.db.execute(
                    """SELECT kind, description, basis, reference, subject, join_key, amount_cents,
                              cost_date, cost_total_cents, participants
                       FROM lines WHERE invoice_id = ? ORDER BY position""",
                    (invoice_id,),
                )
            )
            result.append(
                Invoice(
                    code,
                    name,
                    period,
                    year,
                    lines,
                    kind,
                    number,
                    date.fromisoformat(issued),
                    date.fromisoformat(due),
                    refers,
                )
            )
        return result

    def issue_dates(self, year: int) -> dict[str, date]:
        """Every numbered invoice of the year with its date: a credit note names the invoice it
        corrects with its date."""
        rows = self.db.execute(
            "SELECT number, issue_date FROM invoices WHERE year = ? AND number IS NOT NULL",
            (year,),
        )
        return {number: date.fromisoformat(issued) for number, issued in rows}

    def report_invoices(
        self, years: Sequence[int]
    ) -> list[tuple[int, int, str, str, str, InvoiceKind, int]]:
        """The invoices of `years`, the penvoerder's own share included, for the rapport:
        (id, year, period, batch, code, kind, total in cents)."""
        marks = ",".join("?" * len(years))
        return self.db.execute(
            f"""SELECT id, year, period, batch, code, kind, total_cents FROM invoices
                WHERE year IN ({marks}) ORDER BY id""",
            tuple(years),
        ).fetchall()

    def report_lines(self, years: Sequence[int]) -> list[tuple[int, LineKind, str, int]]:
        """Every line of the invoices of `years` (own share included) for the rapport: (invoice
        id, kind, subject, amount in cents). Only these four: at national scale a year has
        some 150.000 lines, and each column more costs time (see report_invoices)."""
        marks = ",".join("?" * len(years))
        return self.db.execute(
            f"""SELECT invoice_id, kind, subject, amount_cents FROM lines
                WHERE invoice_id IN (SELECT id FROM invoices WHERE year IN ({marks}))""",
            tuple(years),
        ).fetchall()

    def holds(self, batch: str) -> bool:
        """Whether the register has invoices of this batch (voided drafts are gone)."""
        row = self.db.execute("SELECT 1 FROM invoices WHERE batch = ? LIMIT 1", (batch,))
        return row.fetchone() is not None

    def latest_run(self, batch: str) -> int | None:
        row = self.db.execute("SELECT MAX(id) FROM runs WHERE batch = ?", (batch,)).fetchone()
        latest: int | None = row[0]
        return latest

    def run_rows(self) -> list[tuple[int, str, str, str, str, str, str]]:
        """Every recorded run, oldest first, as stored (the library's `runs`): (id, created at
        ISO, version, batch, period, parameters JSON, inputs JSON: file name -> SHA-256)."""
        return self.db.execute(
            """SELECT id, created_at, version, batch, period, parameters, inputs FROM runs
               ORDER BY id"""
        ).fetchall()

    def invoice_rows(
        self, year: int | None = None
    ) -> list[tuple[int, int, str, str, int, str, str, str, str, int, str, str, str]]:
        """Every invoice (own share included) of `year`, or of every year, in the order made (the
        library's `invoices`; `deliveries` has the sending state): (id, run id, batch, period,
        year, code, name, kind, number or '', total cents, issue date, due date, refers to)."""
        return self.db.execute(
            """SELECT id, run_id, batch, period, year, code, name, kind, COALESCE(number, ''),
                      total_cents, issue_date, due_date, refers_to FROM invoices
               WHERE ? IS NULL OR year = ? ORDER BY id""",
            (year, year),
        ).fetchall()

    def message_rows(self) -> list[tuple[int, str, str, str, str, str, str, str, str]]:
        """Every message handed (or about to be handed) to the mail server, oldest first (the
        library's `messages`): (id, number, batch, code, message id, recipients '; ', sent at
        ISO, status 'bezig' | 'verzonden' | 'mislukt', error)."""
        return self.db.execute(
            """SELECT m.id, m.number, n.batch, n.code, m.message_id, m.recipients, m.sent_at,
                      m.status, m.error
               FROM messages m JOIN numbers n ON n.number = m.number ORDER BY m.id"""
        ).fetchall()

    # -- writing (inside transaction()) ---------------------------------------------------------

    def number_invoices(
        self, batch: str, year: int, prefix: str, invoices: Sequence[Invoice]
    ) -> list[Invoice]:
        """Give each invoice its number: the one its (batch, municipality) had as a draft before,
        else the next of the year. Draft numbers no longer needed are voided, never reused."""
        from dataclasses import replace

        previous = dict(
            self.db.execute(
                "SELECT code, number FROM numbers WHERE batch = ? AND status = 'concept'", (batch,)
            ).fetchall()
        )
        (last,) = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM numbers WHERE year = ?", (year,)
        ).fetchone()
        numbered = []
        for invoice in invoices:
            if invoice.is_own_share:
                numbered.append(invoice)
                continue
            number = previous.pop(invoice.code, None)
            if number is None:
                last += 1
                number = f"{prefix}-{year}-{last:04d}"
                self.db.execute(
                    "INSERT INTO numbers (number, year, seq, batch, code, status) VALUES (?, ?, ?, ?, ?, 'concept')",
                    (number, year, last, batch, invoice.code),
                )
            numbered.append(replace(invoice, number=number))
        for number in previous.values():
            self.db.execute("UPDATE numbers SET status = 'vervallen' WHERE number = ?", (number,))
        return numbered

    def replace_drafts(
        self, batch: str, period: Period, invoices: Sequence[Invoice], run: RunInfo
    ) -> int:
        """Replace the batch's drafts with `invoices` (numbered) and record the run; returns its id."""
        run_id = self._record_run(batch, period, run)
        # The batch is not sent (afrekening checked): every invoice of it is a draft. The schema
        # refuses to delete one that was sent or may have been.
        self.db.execute("DELETE FROM invoices WHERE batch = ?", (batch,))
        # A cost line's participants recur on each of their invoices: encode each list once.
        participants = {
            codes: json.dumps(codes)
            for codes in {line.participants for invoice in invoices for line in invoice.lines}
        }
        for invoice in invoices:
            invoice_id = self._insert_draft(run_id, batch, invoice)
            self.db.executemany(
                """INSERT INTO lines (invoice_id, position, kind, description, basis, reference,
                       subject, join_key, amount_cents, cost_date, cost_total_cents, participants)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                _line_rows(invoice_id, invoice, participants),
            )
        return run_id

    def _record_run(self, batch: str, period: Period, run: RunInfo) -> int:
        """Record a run of `batch` for `period`; returns its id."""
        cursor = self.db.execute(
            "INSERT INTO runs (created_at, version, batch, period, parameters, inputs) VALUES (?, ?, ?, ?, ?, ?)",
            (
                run.created_at.isoformat(timespec="seconds"),
                run.version,
                batch,
                period.label,
                json.dumps(run.parameters, ensure_ascii=False, sort_keys=True),
                json.dumps(run.inputs, sort_keys=True),
            ),
        )
        return _row_id(cursor)

    def _insert_draft(self, run_id: int, batch: str, invoice: Invoice) -> int:
        """Store `invoice` (without its lines) as a draft of run `run_id`; returns its id."""
        issued, due = _dates(invoice)
        cursor = self.db.execute(
            """INSERT INTO invoices (run_id, batch, period, year, code, name, kind, number,
                   total_cents, issue_date, due_date, refers_to, status)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'concept')""",
            (
                run_id,
                batch,
                invoice.period,
                invoice.year,
                invoice.code,
                invoice.name,
                invoice.kind,
                invoice.number or None,
                to_cents(invoice.total),
                issued,
                due,
                invoice.refers_to,
            ),
        )
        return _row_id(cursor)

    def void_later_drafts(self, period: Period) -> list[str]:
        """Drafts of later periods of the year were built on this period's drafts: void them."""
        later = [
            label
            for label, status in self.periods(period.year).items()
            if Period.parse(label).end > period.end and status == DRAFT
        ]
        for label in later:
            self.db.execute(
                """UPDATE numbers SET status = 'vervallen'
                   WHERE number IN (SELECT number FROM invoices WHERE period = ? AND status = 'concept')""",
                (label,),
            )
            self.db.execute(
                "DELETE FROM invoices WHERE period = ? AND status = 'concept'", (label,)
            )
        return later

    def delivery(self, batch: str) -> dict[str, MessageState]:
        """Invoice number -> the state of its latest message: 'bezig', 'verzonden' or 'mislukt'
        (an invoice without one is still 'concept')."""
        rows = self.db.execute(
            """SELECT m.number, m.status FROM messages m
               WHERE m.number IN (SELECT number FROM invoices WHERE batch = ?)
               ORDER BY m.id""",
            (batch,),
        )
        return dict(rows.fetchall())

    def begin_message(
        self, number: str, message_id: str, recipients: Sequence[str], when: datetime
    ) -> int:
        """Record a message as 'bezig' (committed before the server sees it). The schema refuses
        a second message while one for the same invoice is 'bezig' or 'verzonden'."""
        cursor = self.db.execute(
            """INSERT INTO messages (number, message_id, recipients, sent_at, status)
               VALUES (?, ?, ?, ?, 'bezig')""",
            (number, message_id, "; ".join(recipients), when.isoformat(timespec="seconds")),
        )
        return _row_id(cursor)

    def finish_message(self, message: int, error: str = "") -> None:
        """Settle a message: delivered (its invoice, and so its period, become final) or failed."""
        if error:
            self.db.execute(
                "UPDATE messages SET status = 'mislukt', error = ? WHERE id = ?", (error, message)
            )
            return
        self.db.execute("UPDATE messages SET status = 'verzonden' WHERE id = ?", (message,))
        (number,) = self.db.execute(
            "SELECT number FROM messages WHERE id = ?", (message,)
        ).fetchone()
        self._mark_sent(number)

    def settle_uncertain(self, number: str, *, arrived: bool) -> bool:
        """Settle an interrupted ('bezig') message after asking the recipient: it arrived (the
        invoice is sent) or it did not (failed; it may be sent again). False when there is none."""
        note = "volgens navraag " + ("aangekomen" if arrived else "niet aangekomen")
        cursor = self.db.execute(
            """UPDATE messages SET status = ?, error = ?
               WHERE number = ? AND status = 'bezig'""",
            (SENT if arrived else FAILED, note, number),
        )
        if cursor.rowcount and arrived:
            self._mark_sent(number)
        return bool(cursor.rowcount)

    def _mark_sent(self, number: str) -> None:
        self.db.execute("UPDATE invoices SET status = 'verzonden' WHERE number = ?", (number,))
        self.db.execute(
            "UPDATE numbers SET status = 'verzonden' WHERE number = ? AND status = 'concept'",
            (number,),
        )

    def settled_runs(self) -> list[tuple[int, str, str, str, dict[str, str]]]:
        """(run id, created at, batch, period, inputs: file name -> SHA-256) of the run behind
        each batch the register still holds (its output folder `<uit>/<batch>` is that run's),
        newest first. A batch whose drafts were voided is gone, and so is its folder."""
        rows = self.db.execute(
            """SELECT r.id, r.created_at, r.batch, r.period, r.inputs FROM runs r
               WHERE r.id = (SELECT MAX(id) FROM runs WHERE batch = r.batch)
                 AND EXISTS (SELECT 1 FROM invoices i WHERE i.batch = r.batch)
               ORDER BY r.id DESC"""
        )
        return [
            (run_id, created, batch, period, json.loads(inputs))
            for run_id, created, batch, period, inputs in rows
        ]


def _line_rows(
    invoice_id: int, invoice: Invoice, participants: Mapping[tuple[str, ...], str]
) -> list[tuple[object, ...]]:
    """The rows of the lines table for `invoice`'s lines (`participants`: each list as JSON)."""
    return [
        (
            invoice_id,
            position,
            line.kind,
            line.description,
            line.basis,
            line.reference,
            line.subject,
            line.join,
            to_cents(line.amount),
            line.cost_date.isoformat() if line.cost_date else None,
            to_cents(line.cost_total) if line.cost_total is not None else None,
            participants[line.participants],
        )
        for position, line in enumerate(invoice.lines)
    ]


@dataclass
class _HistoryCollector:
    """A period's History, gathered line by line from the register (see `Register.history`)."""

    earlier: frozenset[str]  # the periods that end before the one being settled
    network: dict[str, Decimal] = field(default_factory=dict)
    costs: dict[str, SettledCost] = field(default_factory=dict)
    resplits: set[tuple[str, str]] = field(default_factory=set)
    billed_by: dict[str, dict[str, date]] = field(default_factory=dict)
    issued_to: dict[str, dict[str, date]] = field(default_factory=dict)

    def add(self, row: tuple[Any, ...]) -> None:
        """Count one billed line (a row of `Register._billed_lines`)."""
        (
            code,
            number,
            kind,
            reference,
            join,
            cents,
            day,
            total,
            subject,
            shared,
            issued,
            billed_in,
        ) = row
        if number and billed_in in self.earlier:  # what a credit note can correct
            self.issued_to.setdefault(code, {})[number] = date.fromisoformat(issued)
        if kind == NETWORK_LINE and billed_in not in self.earlier:
            return  # a later period's network lines are not this period's history
        if kind == NETWORK_LINE:
            self.network[code] = self.network.get(code, Decimal("0.00")) + from_cents(cents)
            if number:  # the invoices H2 deducts, named on its final line
                self.billed_by.setdefault(code, {})[number] = date.fromisoformat(issued)
        elif kind == PROJECT_LINE and reference.casefold() not in self.costs:
            self.costs[reference.casefold()] = SettledCost(
                from_cents(total),
                date.fromisoformat(day),
                subject,
                number or OWN_SHARE,
                tuple(json.loads(shared)),
            )
        elif kind == JOIN_LINE:
            self.resplits.add((reference.casefold(), join))

    def history(self) -> History:
        """What was gathered, as the History `Register.history` returns."""
        invoiced = {code: tuple(numbers.items()) for code, numbers in self.billed_by.items()}
        issued_before = {code: tuple(numbers.items()) for code, numbers in self.issued_to.items()}
        return History(self.network, self.costs, frozenset(self.resplits), invoiced, issued_before)


def _row_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just added (the sqlite3 module types it as optional; after
    an INSERT it is always set)."""
    row_id = cursor.lastrowid
    assert row_id is not None
    return row_id


def _dates(invoice: Invoice) -> tuple[str, str]:
    """An invoice's issue and due date as stored (ISO); every settled invoice has both."""
    if invoice.issue_date is None or invoice.due_date is None:
        raise ValueError(
            f"factuur {invoice.number or invoice.code} heeft geen factuur- of vervaldatum"
        )
    return invoice.issue_date.isoformat(), invoice.due_date.isoformat()


# SQLite's primary result codes (sqlite_errorname, extended names start with them) and what
# each means for the coordinator.
_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_FULL = ("SQLITE_FULL",)
_READ_ONLY = ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")
_CANNOT_OPEN = ("SQLITE_CANTOPEN",)
_DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
_IO = ("SQLITE_IOERR",)


def refusal(path: Path, problem: Exception) -> InputRefused:
    """A Dutch refusal for an SQLite (or file system) error on the register at `path`: what went
    wrong and what to do, naming the file. Whatever the error, the transaction was rolled back."""
    import errno

    name = getattr(problem, "sqlite_errorname", "") or ""
    number = getattr(problem, "errno", None)
    folder = path.parent
    where = Location(str(path))
    if name.startswith(_BUSY) or (not name and _busy(problem)):
        return _in_use(path)
    if name.startswith(_FULL) or number in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return InputRefused.single(
            where,
            "de schijf is vol, het register kan niet worden bijgewerkt; er is niets vastgelegd",
            f"Maak ruimte vrij op de schijf van {folder} en draai de opdracht opnieuw.",
        )
    if name.startswith(_READ_ONLY) or number in (errno.EACCES, errno.EPERM, errno.EROFS):
        return InputRefused.single(
            where,
            "het register kan niet worden geschreven (alleen-lezen of geen schrijfrechten); er "
            "is niets vastgelegd",
            f"Geef schrijfrechten op {folder}, of kies met --uit een map waarin u mag "
            "schrijven, en draai de opdracht opnieuw.",
        )
    if name.startswith(_CANNOT_OPEN):
        return InputRefused.single(
            where,
            "het register kan niet worden geopend of aangemaakt (bestaat de map, mag u erin "
            "schrijven?)",
            f"Controleer dat {folder} bestaat en dat u er mag schrijven, en draai de opdracht "
            "opnieuw.",
        )
    if name.startswith(_DAMAGED):
        return InputRefused.single(
            where,
            f"dit bestand is geen register van inkoopkracht-xl of het is beschadigd ({problem})",
            "Zet de reservekopie van register.sqlite terug en draai de opdracht opnieuw; het "
            "programma verandert een beschadigd register niet.",
        )
    if name.startswith(_IO):
        return InputRefused.single(
            where,
            f"lees- of schrijffout in het register ({problem}); er is niets vastgelegd",
            "Controleer de schijf of de verbinding met de netwerkmap en draai de opdracht opnieuw.",
        )
    if isinstance(problem, sqlite3.IntegrityError):
        return InputRefused.single(
            where,
            f"het register weigert deze wijziging omdat ze zijn regels zou breken ({problem}); "
            "er is niets vastgelegd",
            "Dit hoort niet te gebeuren: bewaar register.sqlite en stuur deze melding naar de "
            "beheerder.",
        )
    return _unusable(path, problem)


def _busy(problem: Exception) -> bool:
    return "locked" in str(problem) or "busy" in str(problem)


def _in_use(path: Path) -> InputRefused:
    return InputRefused.single(
        Location(str(path)),
        "het register is in gebruik: er loopt al een afrekening op deze uitvoermap, of een ander "
        "programma heeft het register geopend",
        "Wacht tot de andere afrekening klaar is, of sluit het programma dat register.sqlite "
        "geopend heeft (bijvoorbeeld DB Browser for SQLite), en probeer het daarna opnieuw.",
    )


def _unusable(path: Path, problem: Exception) -> InputRefused:
    return InputRefused.single(
        Location(str(path)),
        f"het register kan niet worden gebruikt ({problem}); er is niets vastgelegd",
        "Zet een reservekopie van register.sqlite terug, of neem contact op met de beheerder.",
    )
