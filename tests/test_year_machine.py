"""A stateful property test of a whole year (Hypothesis RuleBasedStateMachine).

Random sequences of what happens in a year: settle H1, H2 or the whole year (with or without
--correctie), send a batch to a real SMTP server that accepts, refuses, or hangs up mid-DATA
(keeping the message or not), ask a recipient about an interrupted message, edit the inputs (cost
lines added, edited, dated in a period already settled; populations; joins), and kill an
afrekening or a verstuur with SIGKILL at a random step. A small model kept here says what must
be refused and what each send must do; after every step the invariants hold:

- every invoice number is unique, numbered without gaps, tied to one (batch, municipality) for
  good, and a voided number never comes back;
- no invoice is delivered twice, and a delivered invoice never changes;
- all invoices (sent and draft, the penvoerder's own share included) add up, to the cent, to the
  network budget (half of it while only H1 is settled) plus every cost line as billed;
- the register and the output folder belong together: one folder per batch the register holds,
  its manifest naming the register's latest run and the hash of every invoice file.

200 examples by default (a few minutes on two cores); INKOOPKRACHT_JAAR_VOORBEELDEN=2000 for more.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import closing
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from inkoopkracht_xl.deliver import confirm_arrived, open_batch, send
from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.locks import exclusive
from inkoopkracht_xl.mail import SmtpSettings
from inkoopkracht_xl.manifest import MANIFEST
from inkoopkracht_xl.read.folder import sha256_of
from inkoopkracht_xl.recovery import recover_outputs
from inkoopkracht_xl.register import LOCK_NAME, Register
from inkoopkracht_xl.settlement_run import run_settlement

from .scenario import POPULATIONS, SUBJECTS, Scenario
from .smtp import Mailbox, smtp_server
from .test_crash import KILLER, STEPS

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")

EXAMPLES = int(os.environ.get("INKOOPKRACHT_JAAR_VOORBEELDEN", "200"))
# tmpfs where there is one: the model checks logic and SIGKILL (which loses no written data),
# so the disk's flush time is only waiting here (tests/test_durable.py covers the flushes).
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None

PERIODS = ("2024-H1", "2024-H2", "2024")
END = {"2024-H1": date(2024, 6, 30), "2024-H2": date(2024, 12, 31), "2024": date(2024, 12, 31)}
ISSUED = {"2024-H1": date(2024, 7, 1), "2024-H2": date(2025, 1, 15), "2024": date(2025, 1, 15)}
NETWORK_CENTS = 13_103_500  # the jaarplan's € 131.035; shares in whole euros, halves exact
ADDRESSES = {code: f"inkoop@{code.lower()}.example.org" for code in POPULATIONS}
SUBJECT_NAMES = [s[1] for s in SUBJECTS]
# Joins that the calendar allows (the code is listed among the subject's participants).
JOINS = [
    ("Dieptereiniging ICT hardware", "MD"),
    ("Dieptereiniging ICT hardware", "LV"),
    ("Software broker", "LV"),
    ("Software broker", "MD"),
]
DAYS = st.integers(0, 365).map(lambda d: date(2024, 1, 1) + timedelta(days=d))
VERSTUUR_STEPS = [
    ("inkoopkracht_xl.register", "Register.begin_message", "after", 1),
    ("inkoopkracht_xl.register", "Register.begin_message", "after", 3),
    ("inkoopkracht_xl.deliver", "transmit", "after", 2),
    ("inkoopkracht_xl.register", "Register.finish_message", "before", 1),
]


def alive_in_group(group: int) -> list[int]:
    """The live (not zombie) processes of a process group, from /proc (Linux); [] elsewhere."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def period_of(batch: str) -> str:
    return batch.split("-correctie-")[0]


class Year(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="jaar-", dir=SCRATCH))
        self.scenario = Scenario()
        self.folder = self.scenario.write(self.root / "in")
        self.out = self.root / "uit"
        self._server = smtp_server(Mailbox())
        self.mailbox, self.port = self._server.__enter__()
        self.next_kenmerk = 1
        self.amounts: dict[str, set[Decimal]] = {}  # kenmerk -> every amount it ever had
        self.settled: set[str] = set()  # periods the register holds invoices of
        self.uncertain: dict[str, str] = {}  # number -> batch: a message 'bezig'
        self.seen: dict[str, tuple[str, str]] = {}  # number -> (batch, code), for good
        self.voided: set[str] = set()
        self.delivered: dict[str, int] = {}  # number -> total in cents when delivered
        self.killed = False

    def teardown(self) -> None:
        self._server.__exit__(None, None, None)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- the model ---------------------------------------------------------------------------

    def numbers_of(self, period: str) -> set[str]:
        return {n for n, (batch, _) in self.seen.items() if period_of(batch) == period}

    def sent(self, period: str) -> bool:
        """SPEC §2: a message 'verzonden' or 'bezig' makes the period sent (final)."""
        numbers = self.numbers_of(period)
        delivered = set(self.mailbox.numbers())
        return bool(numbers & (delivered | set(self.uncertain)))

    def expected_refusal(self, period: str, correction: bool) -> str | None:
        states = {p: self.sent(p) for p in self.settled}
        rival = {"2024-H2": "2024", "2024": "2024-H2"}.get(period)
        if rival in states:
            return f"voor 2024 is al {rival} afgerekend"
        later = [p for p, sent in states.items() if sent and END[p] > END[period]]
        if later and not correction:
            return f"dus {period} kan niet meer veranderen"
        if correction:
            return None if states.get(period) else "--correctie is voor een verzonden periode"
        if states.get(period):
            if self.numbers_of(period) & set(self.uncertain):
                return f"{period} is misschien al verzonden"
            return f"{period} is al verzonden en daarmee definitief"
        return None

    def batches(self) -> list[str]:
        if not self.out.is_dir():
            return []
        return sorted(p.name for p in self.out.iterdir() if p.is_dir() and p.name[0] != ".")

    def write_inputs(self) -> None:
        self.scenario.write(self.folder)

    # -- inputs change -----------------------------------------------------------------------

    @rule(
        change=st.sampled_from(
            ["kostenregel", "kostenregel", "wijziging", "inwoners", "toetreding"]
        ),
        data=st.data(),
    )
    def edit_inputs(self, change, data):
        """The coordinator edits the workbooks: a cost line added (dated anywhere in the year,
        also in a period already settled), a cost line's amount changed (also one already
        billed), a population, a join."""
        cents = st.integers(1, 3_000_000)
        if change == "wijziging" and self.scenario.costs:
            index = data.draw(st.integers(0, len(self.scenario.costs) - 1))
            kenmerk, subject, what, day, _, split = self.scenario.costs[index]
            amount = Decimal(data.draw(cents)) / 100
            self.amounts[kenmerk].add(amount)
            self.scenario.costs[index] = (kenmerk, subject, what, day, amount, split)
        elif change == "inwoners":
            code = data.draw(st.sampled_from(sorted(POPULATIONS)))
            name, _, network = self.scenario.populations[code]
            people = data.draw(st.integers(5_000, 200_000))
            self.scenario.populations[code] = (name, people, network)
        elif change == "toetreding" and len(self.scenario.joins) < len(JOINS):
            taken = {(s, c) for s, c, _ in self.scenario.joins}
            subject, code = data.draw(st.sampled_from([j for j in JOINS if j not in taken]))
            self.scenario.joins.append((subject, code, data.draw(DAYS)))
        else:
            kenmerk = f"R{self.next_kenmerk}"
            self.next_kenmerk += 1
            amount = Decimal(data.draw(cents)) / 100
            self.amounts[kenmerk] = {amount}
            subject = data.draw(st.sampled_from(SUBJECT_NAMES))
            split = data.draw(st.sampled_from(["inwoners", "gelijk"]))
            self.scenario.costs.append((kenmerk, subject, "Kosten", data.draw(DAYS), amount, split))
        event(f"invoer: {change}")
        self.write_inputs()

    # -- settling ----------------------------------------------------------------------------

    @rule(period=st.sampled_from(PERIODS), correction=st.booleans())
    def settle(self, period, correction):
        expected = self.expected_refusal(period, correction)
        before = self.snapshot()
        try:
            run = run_settlement(
                self.folder, period, out=self.out, correction=correction, issue_date=ISSUED[period]
            )
        except InputRefused as refused:
            text = str(refused)
            if expected is None:
                assert correction and "er zijn geen verschillen" in text, text
            else:
                assert expected in text, (expected, text)
            after = self.snapshot()
            if not before:  # the very first run: an empty register may be all there is
                after.pop("register.sqlite", None)
            assert after == before  # a refusal writes nothing
            event(f"afrekening geweigerd: {expected or 'geen verschillen'}")
            return
        event(f"afrekening {'--correctie ' if correction else ''}gemaakt")
        assert expected is None, (expected, run.batch)
        assert run.settlement.balanced, run.batch
        self.settled.add(period)
        if not correction:  # later drafts built on this period's drafts are voided
            self.settled -= {p for p in PERIODS if END[p] > END[period] and not self.sent(p)}

    @precondition(lambda self: any(self.sent(p) for p in self.settled))
    @rule(data=st.data())
    def correct(self, data):
        """--correctie on a period already sent."""
        self.settle(
            data.draw(st.sampled_from(sorted(p for p in self.settled if self.sent(p)))), True
        )

    # -- sending -----------------------------------------------------------------------------

    @precondition(lambda self: self.batches())
    @rule(data=st.data())
    def send(self, data):
        batch = data.draw(st.sampled_from(self.batches()))
        modes = {
            code: data.draw(
                st.sampled_from(["ok", "ok", "weigert", "hangt op", "houdt en hangt op"])
            )
            for code in ADDRESSES
        }
        self.mailbox.refuse = {ADDRESSES[c] for c, m in modes.items() if m == "weigert"}
        self.mailbox.drop = {ADDRESSES[c] for c, m in modes.items() if m == "hangt op"}
        self.mailbox.keep_and_drop = {
            ADDRESSES[c] for c, m in modes.items() if m == "houdt en hangt op"
        }
        delivered = set(self.mailbox.numbers())
        with closing(self.read()) as db:
            invoices = db.execute(
                "SELECT number, code FROM invoices WHERE batch = ? AND number IS NOT NULL "
                "ORDER BY id",
                (batch,),
            ).fetchall()
        pending = [(n, c) for n, c in invoices if n not in delivered and n not in self.uncertain]
        outcome = send(open_batch(self.out / batch), SmtpSettings("127.0.0.1", self.port))
        got = {
            "verzonden": [i.invoice.number for i in outcome.sent],
            "mislukt": [i.invoice.number for i, _ in outcome.failed],
            "onzeker": [i.invoice.number for i, _ in outcome.uncertain],
        }
        want = {
            "verzonden": [n for n, c in pending if modes[c] == "ok"],
            "mislukt": [n for n, c in pending if modes[c] == "weigert"],
            "onzeker": [n for n, c in pending if modes[c] in ("hangt op", "houdt en hangt op")],
        }
        assert got == want and not outcome.stopped and not outcome.not_tried, (got, want)
        for state, numbers in got.items():
            if numbers:
                event(f"verstuur: {state}")
        self.uncertain |= dict.fromkeys(want["onzeker"], batch)
        self.mailbox.refuse, self.mailbox.drop, self.mailbox.keep_and_drop = set(), set(), set()

    @precondition(lambda self: self.uncertain)
    @rule(data=st.data())
    def ask_the_recipient(self, data):
        """The coordinator asks whether an interrupted message arrived, and records the answer."""
        number = data.draw(st.sampled_from(sorted(self.uncertain)))
        batch = open_batch(self.out / self.uncertain.pop(number))
        event("navraag bij de ontvanger")
        if number in self.mailbox.numbers():
            assert confirm_arrived(batch, [number]) == [number]
        else:
            outcome = send(batch, SmtpSettings("127.0.0.1", self.port), resend=frozenset([number]))
            assert number in [i.invoice.number for i in outcome.sent], outcome

    # -- a kill at a random step ---------------------------------------------------------------

    @precondition(lambda self: not self.killed)
    @rule(data=st.data())
    def kill_afrekening(self, data):
        step = data.draw(st.sampled_from(STEPS))
        period = data.draw(st.sampled_from(PERIODS))
        command = ["afrekening", str(self.folder), "--periode", period, "--uit", str(self.out)]
        self.kill(step, [*command, "--datum", f"{ISSUED[period]:%d-%m-%Y}"])

    @precondition(lambda self: not self.killed and self.batches())
    @rule(data=st.data())
    def kill_verstuur(self, data):
        step = data.draw(st.sampled_from(VERSTUUR_STEPS))
        batch = data.draw(st.sampled_from(self.batches()))
        command = ["verstuur", str(self.out / batch), "--verzend", "--smtp-host", "127.0.0.1"]
        self.kill(step, [*command, "--smtp-port", str(self.port)])

    def kill(self, step: tuple, command: list[str]) -> None:
        """Run the command in its own process, which kills itself (SIGKILL) at `step`."""
        self.killed = True  # one per example: each costs a new process
        env = {k: v for k, v in os.environ.items() if not k.startswith("INKOOPKRACHT_SMTP")}
        with tempfile.TemporaryFile("w+") as stderr:
            # Its own session: a process it forked (and that outlived it) is found by group.
            process = subprocess.Popen(
                [sys.executable, "-c", KILLER, *map(str, step), *command],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                text=True,
                env=env,
                start_new_session=True,
            )
            code = process.wait(timeout=120)
            stderr.seek(0)
            errors = stderr.read()
        orphans = alive_in_group(process.pid)
        if orphans:
            # A child of the killed run lives on: it must not hold the output folder's lock,
            # or no afrekening could run again until someone found and ended it.
            event("kind-proces overleefde de kill")
            try:
                with exclusive(
                    self.out / LOCK_NAME, "vergrendeld door een achtergebleven proces", wait=0
                ):
                    pass
            finally:
                os.killpg(process.pid, signal.SIGKILL)  # the group this test started
        # Killed at the step, or the step never came (the run refused or finished first).
        assert code in (-signal.SIGKILL, 0, 1), errors
        assert "Traceback" not in errors and "interne fout" not in errors, errors
        event(f"{command[0]} {'gedood' if code < 0 else 'niet gedood'}")
        if self.out.is_dir() and (self.out / "register.sqlite").exists():
            # What the next afrekening does first, under the lock.
            with Register.open(self.out / "register.sqlite") as register:
                with register.transaction():
                    recover_outputs(self.out, register)
                self.settled = set(register.periods(2024))
                bezig = register.db.execute(
                    "SELECT m.number, i.batch FROM messages m JOIN invoices i "
                    "ON i.number = m.number WHERE m.status = 'bezig'"
                ).fetchall()
            self.uncertain |= dict(bezig)

    # -- the invariants ------------------------------------------------------------------------

    def read(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.out / 'register.sqlite'}?mode=ro", uri=True)

    def snapshot(self) -> dict[str, bytes]:
        if not self.out.is_dir():
            return {}
        return {
            str(p.relative_to(self.out)): p.read_bytes()
            for p in sorted(self.out.rglob("*"))
            if p.is_file() and p.name != ".inkoopkracht.lock"
        }

    @invariant()
    def numbers_are_unique_and_never_reused(self):
        if not (self.out / "register.sqlite").exists():
            return
        with closing(self.read()) as db:
            numbers = db.execute("SELECT number, seq, status FROM numbers ORDER BY seq").fetchall()
            invoices = db.execute(
                "SELECT number, batch, code FROM invoices WHERE number IS NOT NULL"
            ).fetchall()
        assert [seq for _, seq, _ in numbers] == list(range(1, len(numbers) + 1))
        voided = {n for n, _, status in numbers if status == "vervallen"}
        assert voided >= self.voided  # voided stays voided
        self.voided = voided
        assert not voided & {n for n, _, _ in invoices}
        assert len({n for n, _, _ in invoices}) == len(invoices)
        for number, batch, code in invoices:
            assert self.seen.setdefault(number, (batch, code)) == (batch, code), number

    @invariant()
    def nothing_is_delivered_twice_or_changed_after(self):
        counts = Counter(self.mailbox.numbers())
        assert all(count == 1 for count in counts.values()), counts
        if not counts:
            return
        with closing(self.read()) as db:
            totals = dict(
                db.execute(
                    "SELECT number, total_cents FROM invoices WHERE number IS NOT NULL"
                ).fetchall()
            )
        for number in counts:
            assert number in totals, f"{number} was delivered and then replaced"
            assert self.delivered.setdefault(number, totals[number]) == totals[number], number

    @invariant()
    def every_cent_is_billed_once(self):
        if not (self.out / "register.sqlite").exists():
            return
        with closing(self.read()) as db:
            periods = {p for (p,) in db.execute("SELECT DISTINCT period FROM invoices")}
            (total,) = db.execute("SELECT COALESCE(SUM(total_cents), 0) FROM invoices").fetchone()
            lines = db.execute(
                "SELECT l.reference, l.cost_total_cents FROM lines l JOIN invoices i "
                "ON i.id = l.invoice_id WHERE l.kind = 'project' AND l.cost_total_cents "
                "IS NOT NULL ORDER BY i.id, l.position"
            ).fetchall()
        billed = dict(lines)  # the latest as billed (a correction re-bills an edit)
        if periods & {"2024-H2", "2024"}:
            network = NETWORK_CENTS
        else:
            network = NETWORK_CENTS // 2 if "2024-H1" in periods else 0
        assert total == network + sum(billed.values()), (total, network, billed)
        for kenmerk, cents in billed.items():  # only amounts the workbook ever had
            assert Decimal(cents) / 100 in self.amounts[kenmerk], (kenmerk, cents)

    @invariant()
    def register_and_output_folder_belong_together(self):
        if not (self.out / "register.sqlite").exists():
            return
        with closing(self.read()) as db:
            batches = {b for (b,) in db.execute("SELECT DISTINCT batch FROM invoices")}
            latest = dict(db.execute("SELECT batch, MAX(id) FROM runs GROUP BY batch"))
            numbered = db.execute(
                "SELECT batch, number FROM invoices WHERE number IS NOT NULL"
            ).fetchall()
        assert set(self.batches()) == batches
        assert [p.name for p in self.out.iterdir() if p.name.startswith(".2024")] == []
        for batch in batches:
            manifest = json.loads((self.out / batch / MANIFEST).read_text(encoding="utf-8"))
            assert manifest["run"] == latest[batch], batch
            assert sorted(manifest["facturen"]) == sorted(n for b, n in numbered if b == batch)
            for entry in manifest["facturen"].values():
                invoice = self.out / batch / "facturen" / entry["bestand"]
                assert sha256_of(invoice) == entry["sha256"], invoice


Year.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_a_year_of_settling_sending_editing_and_killing = Year.TestCase
