"""At national scale the results stay exact: every euro billed once, every split to the cent.

Not a timing test (the benchmark, scripts/bench.py, measures speed): this checks correctness on
the benchmark's own synthetic national drop folder (342 municipalities, 5.000 tenders, 20.000
cost lines, 500 joins).
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal

import pytest

from inkoopkracht_xl.settle import History, Period, settle
from inkoopkracht_xl.validate import load_valid

from .builders import bench_module


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    folder = bench_module().generate("nationaal", tmp_path_factory.mktemp("nationaal"))
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the benchmark reads /proc")
def test_benchmark_memory_counts_the_worker_processes(tmp_path):
    # A parent of a few MB starts a child that holds 200 MB (bytes written, so resident). The
    # sampled figure covers the process tree: it must find the child, and adds the parent's
    # own few MB to the child's 200.
    child = "b = b'x' * 200_000_000; import time; time.sleep(1.0)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    sample = bench_module().measure([sys.executable, "-c", parent], cwd=tmp_path, timeout=60)

    assert sample.returncode == 0
    assert sample.tree_bytes > 205_000_000


def test_benchmark_refuses_a_run_whose_money_check_did_not_close(tmp_path):
    # A run that exits 0 but does not print the closing check is no measurement of a correct
    # settlement: the series fails and keeps no sample.
    bench = bench_module()
    series = bench.Series("nationaal")
    unbalanced = "print('controle facturen + eigen aandeel = kosten: VERSCHIL.')"
    bench.record(series, [sys.executable, "-c", unbalanced], tmp_path, 60, expect=bench.BALANCED)
    assert series.samples == []
    assert series.failure == f"'{bench.BALANCED}' ontbreekt in de uitvoer"

    balanced = series.__class__("nationaal")
    bench.record(
        balanced,
        [sys.executable, "-c", f"print({bench.BALANCED!r})"],
        tmp_path,
        60,
        expect=bench.BALANCED,
    )
    assert len(balanced.samples) == 1 and balanced.failure == ""


def _series(bench, label: str, seconds: float):
    sample = bench.Sample(seconds=seconds, tree_bytes=1, single_bytes=1, returncode=0, output="")
    return bench.Series(label, [sample])


@pytest.mark.parametrize(
    ("floor_label", "status"),
    [
        ("import pandas, xlsxwriter, click", "TE LANGZAAM"),
        ("import xlsxwriter, click, python_calamine", "n.v.t.: vloer zonder pandas"),
    ],
)
def test_benchmark_judges_the_start_up_only_against_the_pandas_floor(capsys, floor_label, status):
    # jaarplan 0,30 s against a floor of 0,10 s: 3,00, over the 1,25 allowed. That verdict is
    # only meaningful when the floor imported pandas, as issue 6 states it.
    bench = bench_module()
    results = {
        "vloer": _series(bench, "vloer", 0.10),
        "jaarplan": _series(bench, "jaarplan", 0.30),
        "--help": _series(bench, "--help", 0.05),
    }
    bench.print_targets(results, floor_label)

    (line,) = [x for x in capsys.readouterr().out.splitlines() if "jaarplan ÷ vloer" in x]
    assert "3,00" in line and status in line
