"""The register: an SQLite ledger of runs, invoice numbers, invoices, lines and sent messages."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from .errors import InputRefused
from .model import Invoice, InvoiceLine, Location
from .money import from_cents, to_cents
from .settle import History, Period, SettledCost

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
)
SCHEMA_VERSION = len(MIGRATIONS)

# How long a run waits for another run on the same output folder before refusing.
LOCK_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class RunInfo:
    created_at: datetime
    version: str
    parameters: dict[str, str]
    inputs: dict[str, str]  # file name -> SHA-256


class Register:
    """One connection to the ledger. Use `Register.open(path)`; write inside `transaction()`."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self.db = connection

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Register]:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(path, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
            connection.execute("PRAGMA foreign_keys = ON")
            register = cls(path, connection)
            register._migrate()
        except sqlite3.OperationalError as problem:
            if _busy(problem):
                raise _in_use(path) from None
            raise _unusable(path, problem) from None
        except sqlite3.DatabaseError as problem:
            raise _unusable(path, problem) from None
        try:
            yield register
        finally:
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """An exclusive write transaction: a second run on the same register waits, then refuses."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as problem:
            if _busy(problem):
                raise _in_use(self.path) from None
            raise _unusable(self.path, problem) from None
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputRefused.single(
                Location(str(self.path)),
                f"dit register is gemaakt door een nieuwere versie van het programma (schema {version})",
                "Werk inkoopkracht-xl bij naar de nieuwste versie.",
            )
        if version == SCHEMA_VERSION:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process may have migrated meanwhile.
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------------

    def periods(self, year: int) -> dict[str, str]:
        """Period label -> 'verzonden' when any invoice of it was sent, else 'concept'."""
        rows = self.db.execute(
            "SELECT period, MAX(status = 'verzonden') FROM invoices WHERE year = ? GROUP BY period",
            (year,),
        )
        return {period: ("verzonden" if sent else "concept") for period, sent in rows}

    def batches(self, period: Period) -> list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT batch FROM invoices WHERE period = ? ORDER BY batch", (period.label,)
        )
        return [batch for (batch,) in rows]

    def history(self, period: Period) -> History:
        """What was billed this year in periods that end before `period` ends (drafts count)."""
        earlier = [
            label for label in self.periods(period.year) if Period.parse(label).end < period.end
        ]
        network: dict[str, Decimal] = {}
        costs: dict[str, SettledCost] = {}
        resplits: set[tuple[str, str]] = set()
        if earlier:
            marks = ",".join("?" * len(earlier))
            rows = self.db.execute(
                f"""SELECT i.code, i.number, l.kind, l.reference, l.join_key, l.amount_cents,
                           l.cost_date, l.cost_total_cents, l.subject
                    FROM lines l JOIN invoices i ON i.id = l.invoice_id
                    WHERE i.year = ? AND i.period IN ({marks})
                    ORDER BY i.id, l.position""",
                (period.year, *earlier),
            )
            for code, number, kind, reference, join, cents, day, total, subject in rows:
                if kind == "netwerk":
                    network[code] = network.get(code, Decimal("0.00")) + from_cents(cents)
                elif kind == "project" and reference.casefold() not in costs:
                    costs[reference.casefold()] = SettledCost(
                        from_cents(total),
                        date.fromisoformat(day),
                        subject,
                        number or "eigen aandeel",
                    )
                elif kind == "toetreding":
                    resplits.add((reference.casefold(), join))
        return History(network, costs, frozenset(resplits))

    def holdings(self, period: Period) -> dict[tuple[str, str, str, str], tuple[Decimal, str, str]]:
        """For corrections: (code, kind, kenmerk, join) -> (amount, description, first number)."""
        held: dict[tuple[str, str, str, str], tuple[Decimal, str, str]] = {}
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

    def latest_run(self, batch: str) -> int | None:
        row = self.db.execute("SELECT MAX(id) FROM runs WHERE batch = ?", (batch,)).fetchone()
        return row[0]

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
        run_id = cursor.lastrowid
        self.db.execute("DELETE FROM invoices WHERE batch = ? AND status = 'concept'", (batch,))
        # A cost line's participants recur on each of their invoices: encode each list once.
        participants = {
            codes: json.dumps(codes)
            for codes in {line.participants for invoice in invoices for line in invoice.lines}
        }
        for invoice in invoices:
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
                    invoice.issue_date.isoformat(),
                    invoice.due_date.isoformat(),
                    invoice.refers_to,
                ),
            )
            invoice_id = cursor.lastrowid
            self.db.executemany(
                """INSERT INTO lines (invoice_id, position, kind, description, basis, reference,
                       subject, join_key, amount_cents, cost_date, cost_total_cents, participants)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
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
                ],
            )
        return run_id

    def void_later_drafts(self, period: Period) -> list[str]:
        """Drafts of later periods of the year were built on this period's drafts: void them."""
        later = [
            label
            for label, status in self.periods(period.year).items()
            if Period.parse(label).end > period.end and status == "concept"
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

    def delivery(self, batch: str) -> dict[str, str]:
        """Invoice number -> the state of its latest message: 'bezig', 'verzonden' or 'mislukt'."""
        rows = self.db.execute(
            """SELECT i.number, m.status FROM messages m JOIN invoices i ON i.id = m.invoice_id
               WHERE i.batch = ? ORDER BY m.id""",
            (batch,),
        )
        return dict(rows.fetchall())

    def begin_message(
        self, number: str, message_id: str, recipients: Sequence[str], when: datetime
    ) -> int:
        """Record a message about to be sent (committed before the server sees it)."""
        (invoice_id,) = self.db.execute(
            "SELECT id FROM invoices WHERE number = ?", (number,)
        ).fetchone()
        cursor = self.db.execute(
            """INSERT INTO messages (invoice_id, message_id, recipients, sent_at, status)
               VALUES (?, ?, ?, ?, 'bezig')""",
            (invoice_id, message_id, "; ".join(recipients), when.isoformat(timespec="seconds")),
        )
        return cursor.lastrowid

    def finish_message(self, message: int, error: str = "") -> None:
        """Settle a message: delivered (its invoice, and so its period, become final) or failed."""
        if error:
            self.db.execute(
                "UPDATE messages SET status = 'mislukt', error = ? WHERE id = ?", (error, message)
            )
            return
        self.db.execute("UPDATE messages SET status = 'verzonden' WHERE id = ?", (message,))
        (invoice_id,) = self.db.execute(
            "SELECT invoice_id FROM messages WHERE id = ?", (message,)
        ).fetchone()
        self.db.execute("UPDATE invoices SET status = 'verzonden' WHERE id = ?", (invoice_id,))
        self.db.execute(
            """UPDATE numbers SET status = 'verzonden'
               WHERE number = (SELECT number FROM invoices WHERE id = ?)""",
            (invoice_id,),
        )

    def mark_batch_sent(self, batch: str, when: datetime) -> None:
        """Mark a whole batch as sent (own-share statements included): the period becomes final."""
        self.db.execute("UPDATE invoices SET status = 'verzonden' WHERE batch = ?", (batch,))
        self.db.execute(
            "UPDATE numbers SET status = 'verzonden' WHERE batch = ? AND status = 'concept'",
            (batch,),
        )


def _busy(problem: Exception) -> bool:
    return "locked" in str(problem) or "busy" in str(problem)


def _in_use(path: Path) -> InputRefused:
    return InputRefused.single(
        Location(str(path)),
        "er loopt al een afrekening op deze uitvoermap (het register is in gebruik)",
        "Wacht tot die klaar is en probeer het daarna opnieuw.",
    )


def _unusable(path: Path, problem: Exception) -> InputRefused:
    return InputRefused.single(
        Location(str(path)),
        f"het register kan niet worden gebruikt ({problem})",
        "Zet een reservekopie van register.sqlite terug, of neem contact op met de beheerder.",
    )
