"""At national scale the results stay exact: every euro billed once, every split to the cent.

Not a timing test (the benchmark, scripts/bench.py, measures speed): this checks correctness on
the benchmark's own synthetic national drop folder (342 municipalities, 5.000 tenders, 20.000
cost lines, 500 joins).
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from decimal import Decimal

import pytest

from inkoopkracht_xl.read.folder import load_valid
from inkoopkracht_xl.settle import History, Period, settle

from .builders import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return sys.modules["bench"]


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    folder = _bench().generate("nationaal", tmp_path_factory.mktemp("nationaal"))
    return load_valid(folder).inputs


def test_national_scale_conserves_money_to_the_cent(national):
    budget = national.budget
    assert len(national.calendar.municipalities) == 342
    assert len(national.calendar.subjects) == 5000
    assert len(budget.cost_lines) == 20000 and len(budget.joins) == 500

    h1 = settle(national, Period(2024, 1), History(), issue_date=date(2024, 7, 1))
    assert h1.balanced
    # Every cost line dated in H1 is split exactly: its parts add up to it, to the cent.
    in_h1 = [c for c in budget.cost_lines if c.date <= date(2024, 6, 30)]
    parts: dict[str, Decimal] = {}
    for invoice in h1.invoices:
        for line in invoice.lines:
            if line.kind == "project":
                parts[line.reference] = parts.get(line.reference, Decimal(0)) + line.amount
    assert parts == {c.reference: c.amount for c in in_h1}
    # Joins only move money between municipalities: their lines sum to zero.
    joins = sum(
        (line.amount for i in h1.invoices for line in i.lines if line.kind == "toetreding"),
        Decimal(0),
    )
    assert joins == 0

    whole = settle(national, Period(2024, 0), History(), issue_date=date(2025, 1, 15))
    assert whole.balanced
    annual = sum((p.budgeted for p in budget.posts), Decimal(0))
    assert whole.total == annual + sum((c.amount for c in budget.cost_lines), Decimal(0))
