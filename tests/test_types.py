"""The type checker in the test run: mypy over the package, strict on the core (pyproject's
[tool.mypy]), and the Literal types of kinds and states it checks against what the code does."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest

from inkoopkracht_xl.model import (
    CREDIT_NOTE,
    DRAFT,
    FAILED,
    INVOICE,
    INVOICE_KINDS,
    JOIN_LINE,
    LINE_KINDS,
    MESSAGE_STATES,
    NETWORK_LINE,
    OWN_SHARE,
    PROJECT_LINE,
    SENDING,
    SENT,
    Budget,
    BudgetPost,
    Calendar,
    CostLine,
    Inputs,
    InvoiceState,
    Join,
    Municipality,
    Population,
    Settings,
    Subject,
)
from inkoopkracht_xl.register import MIGRATIONS, Register, RunInfo
from inkoopkracht_xl.settle import History, Period, settle

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "inkoopkracht_xl"
D = Decimal


def mypy(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m mypy` with the project's configuration, from the project's root."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def test_mypy_passes_on_the_whole_package_as_configured():
    started = time.perf_counter()
    result = mypy()
    seconds = time.perf_counter() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Every module of the package is checked (pyproject's `files`), not only the core.
    modules = len(list(PACKAGE.rglob("*.py")))
    assert f"Success: no issues found in {modules} source files" in output, output
    # Measured: 1.3 to 3.2 s from a cold cache on the development machine (2 shared cores).
    assert seconds < 60, f"mypy took {seconds:.1f} s"


def test_mypy_refuses_a_misspelt_kind_or_state(tmp_path):
    snippet = tmp_path / "misspelt_kinds.py"
    snippet.write_text(
        textwrap.dedent(
            """\
            # mypy: strict-equality
            from decimal import Decimal

            from inkoopkracht_xl.model import Invoice, InvoiceLine
            from inkoopkracht_xl.register import Delivery

            line = InvoiceLine(kind="netwerken", description="", basis="", amount=Decimal(1))
            invoice = Invoice("DE", "Delft", "2024", 2024, (), kind="credit")
            delivery = Delivery(
                2024, "2024", "2024", "DE", "Delft", "factuur", "", Decimal(0), "verstuurd", ""
            )
            fine = InvoiceLine(kind="toetreding", description="", basis="", amount=Decimal(1))
            compared = fine.kind == "netwerkk"
            """
        ),
        encoding="utf-8",
    )
    result = mypy(str(snippet))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    flagged = {
        int(number): text
        for number, text in re.findall(r"misspelt_kinds\.py:(\d+): error: (.*)", output)
    }
    # Lines 7, 8, 10 and 13 hold a value outside its Literal type; 'factuur' (10) and
    # 'toetreding' (12) are in theirs, so line 12 passes and line 10 is flagged for 'verstuurd'.
    assert sorted(flagged) == [7, 8, 10, 13], output
    assert "'netwerken'" in flagged[7]
    assert "'credit'" in flagged[8]
    assert "'verstuurd'" in flagged[10]
    assert "Non-overlapping equality check" in flagged[13]


def _check_values(table: str) -> set[str]:
    """The values the register's schema allows in `table`'s status column (its CHECK)."""
    for migration in MIGRATIONS:
        for statement in migration:
            if re.match(rf"CREATE TABLE {table}\b", statement):
                found = re.search(r"CHECK \(status IN \(([^)]*)\)\)", statement)
                assert found, statement
                return set(re.findall(r"'([^']*)'", found.group(1)))
    raise AssertionError(f"no CREATE TABLE {table}")


def test_the_register_schema_allows_exactly_the_typed_states():
    # A stored message is 'bezig', 'verzonden' or 'mislukt'; 'concept' is an invoice without one.
    assert _check_values("messages_by_number") == set(MESSAGE_STATES) - {DRAFT}
    assert _check_values("invoices") == set(get_args(InvoiceState)) == {DRAFT, SENT}
    assert (DRAFT, SENDING, SENT, FAILED) == MESSAGE_STATES
    assert (INVOICE, CREDIT_NOTE, OWN_SHARE) == INVOICE_KINDS
    assert (NETWORK_LINE, PROJECT_LINE, JOIN_LINE) == LINE_KINDS


def _three_members() -> Inputs:
    """ZM (penvoerder, 200 inhabitants), DE and WE (100 each) share a network budget of
    € 1.000; one cost line K1 of € 300 on 1-2 split equally; WE joins its subject on 1-9."""
    subject = "Software broker"
    calendar = Calendar(
        municipalities=(
            Municipality("ZM", "Zoetermeer", True),
            Municipality("DE", "Delft", True),
            Municipality("WE", "Westland", True),
        ),
        subjects=(Subject(1, subject, "2024", ("ZM", "DE", "WE")),),
    )
    peildatum = date(2024, 1, 1)
    budget = Budget(
        settings=Settings(year=2024, lead="ZM"),
        posts=(BudgetPost("Netwerk", D("1000.00")),),
        populations=(
            Population("ZM", "Zoetermeer", 200, peildatum, True),
            Population("DE", "Delft", 100, peildatum, True),
            Population("WE", "Westland", 100, peildatum, True),
        ),
        cost_lines=(
            CostLine("K1", subject, "Jaarbijdrage", date(2024, 2, 1), D("300.00"), "gelijk"),
        ),
        joins=(Join(subject, "WE", date(2024, 9, 1)),),
    )
    return Inputs(Path("in"), Path("kalender.xlsx"), Path("begroting.xlsx"), calendar, budget)


def test_a_settlement_makes_every_kind_of_invoice_and_line():
    # H2, with € 400 network contribution billed to DE in H1 (and nothing else yet).
    history = History(network={"DE": D("400.00")})
    settlement = settle(_three_members(), Period(2024, 2), history, issue_date=date(2025, 1, 15))
    found = {
        invoice.code: (
            invoice.kind,
            invoice.total,
            [(line.kind, line.amount) for line in invoice.lines],
        )
        for invoice in settlement.invoices
    }
    # Key: 200/400 = 50,00 %, 100/400 = 25,00 % each: ZM € 500, DE € 250, WE € 250.
    # K1 € 300 on 1-2 equally over ZM and DE (WE joins 1-9): € 150 each.
    # WE's join re-splits K1 over three: € 100 each, so ZM and DE -€ 50, WE +€ 100.
    assert found == {
        # 500 + 150 - 50 = 600, the penvoerder's own share
        "ZM": (
            OWN_SHARE,
            D("600.00"),
            [(NETWORK_LINE, D("500.00")), (PROJECT_LINE, D("150.00")), (JOIN_LINE, D("-50.00"))],
        ),
        # (250 - 400) + 150 - 50 = -50: a credit note
        "DE": (
            CREDIT_NOTE,
            D("-50.00"),
            [(NETWORK_LINE, D("-150.00")), (PROJECT_LINE, D("150.00")), (JOIN_LINE, D("-50.00"))],
        ),
        # 250 + 100 = 350
        "WE": (INVOICE, D("350.00"), [(NETWORK_LINE, D("250.00")), (JOIN_LINE, D("100.00"))]),
    }
    # Every kind the types allow occurs, and no other.
    assert {kind for kind, _, _ in found.values()} == set(INVOICE_KINDS)
    assert {kind for *_, lines in found.values() for kind, _ in lines} == set(LINE_KINDS)
    # 600 - 50 + 350 = 900 = network due (1.000 - 400) + K1 (300)
    assert settlement.balanced


# What the types made explicit: a record the checks would have refused reaches the core only by
# a library caller's mistake, and then stops with what is wrong, not an AttributeError on None.


def test_settling_a_cost_line_of_a_subject_not_on_the_calendar_names_it():
    inputs = _three_members()
    stray = replace(inputs.budget.cost_lines[0], subject="Schoonmaak")
    inputs = replace(inputs, budget=replace(inputs.budget, cost_lines=(stray,), joins=()))
    with pytest.raises(ValueError, match="onderwerp 'Schoonmaak' staat niet in de kalender"):
        settle(inputs, Period(2024, 1), History(), issue_date=date(2024, 7, 1))


def test_recording_an_invoice_without_dates_is_refused_and_nothing_is_written(tmp_path):
    settlement = settle(_three_members(), Period(2024, 1), History(), issue_date=date(2024, 7, 1))
    undated = [replace(invoice, issue_date=None) for invoice in settlement.invoices]
    run = RunInfo(datetime(2024, 7, 1, 9, 0), "test", {}, {})
    with Register.open(tmp_path / "register.sqlite") as register:
        with pytest.raises(ValueError, match="heeft geen factuur- of vervaldatum"):
            with register.transaction():
                register.replace_drafts("2024-H1", Period(2024, 1), undated, run)
        (invoices,) = register.db.execute("SELECT COUNT(*) FROM invoices").fetchone()
        (runs,) = register.db.execute("SELECT COUNT(*) FROM runs").fetchone()
    assert (invoices, runs) == (0, 0)
