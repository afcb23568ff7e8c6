"""Properties of the settlement over random scenarios: money is conserved, runs are repeatable."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from inkoopkracht_xl.model import (
    Budget,
    BudgetPost,
    Calendar,
    CostLine,
    Inputs,
    Join,
    Municipality,
    Population,
    Settings,
    Subject,
)
from inkoopkracht_xl.register import Register, RunInfo
from inkoopkracht_xl.settle import Period, settle

CODES = ("AA", "BB", "CC", "DD", "EE", "FF", "GG")
YEAR_DAYS = st.integers(min_value=0, max_value=365).map(
    lambda d: date(2024, 1, 1) + timedelta(days=d)
)


@st.composite
def scenarios(draw) -> Inputs:
    codes = draw(st.lists(st.sampled_from(CODES), min_size=2, max_size=len(CODES), unique=True))
    network = draw(st.lists(st.booleans(), min_size=len(codes), max_size=len(codes)))
    network[0] = True  # someone pays the network budget
    populations = tuple(
        Population(code, f"Gemeente {code}", draw(st.integers(1, 900_000)), date(2023, 1, 1), flag)
        for code, flag in zip(codes, network, strict=True)
    )
    subjects = []
    for number in range(draw(st.integers(1, 4))):
        members = draw(
            st.lists(st.sampled_from(codes), min_size=1, max_size=len(codes), unique=True)
        )
        subjects.append(
            Subject(draw(st.integers(1, 4)), f"Onderwerp {number}", "2024", tuple(members))
        )
    joins, seen = [], set()
    for subject in subjects:
        for code in draw(st.lists(st.sampled_from(subject.participants), max_size=2, unique=True)):
            if len(subject.participants) > 1 and (subject.name, code) not in seen:
                seen.add((subject.name, code))
                joins.append(Join(subject.name, code, draw(YEAR_DAYS)))
    costs = tuple(
        CostLine(
            f"K{i}",
            draw(st.sampled_from(subjects)).name,
            "",
            draw(YEAR_DAYS),
            Decimal(draw(st.integers(-50_000, 10_000_000))) / 100,
            draw(st.sampled_from(["inwoners", "gelijk"])),
        )
        for i in range(draw(st.integers(0, 8)))
    )

    # A cost line needs someone to share it on its date: keep only those with participants.
    def has_participants(cost: CostLine) -> bool:
        subject = next(s for s in subjects if s.name == cost.subject)
        late = {j.code for j in joins if j.subject == cost.subject and j.date > cost.date}
        return any(code not in late for code in subject.participants)

    posts = tuple(
        BudgetPost(f"Post {i}", Decimal(draw(st.integers(0, 20_000_000))) / 100)
        for i in range(draw(st.integers(1, 3)))
    )
    lead = draw(st.sampled_from(["", *codes]))
    budget = Budget(
        Settings(
            2024,
            lead=lead,
            method=draw(st.sampled_from(["procent", "exact"])),
            rounding=draw(st.sampled_from(["euro", "cent"])),
        ),
        posts,
        populations,
        tuple(c for c in costs if has_participants(c)),
        tuple(joins),
    )
    calendar = Calendar(
        tuple(
            Municipality(code, f"Gemeente {code}", flag)
            for code, flag in zip(codes, network, strict=True)
        ),
        tuple(subjects),
    )
    return Inputs(Path("."), Path("kalender.xlsx"), Path("begroting.xlsx"), calendar, budget)


def _record(register: Register, inputs: Inputs, period: Period, issue: date):
    with register.transaction():
        settlement = settle(inputs, period, register.history(period), issue_date=issue)
        numbered = register.number_invoices(period.label, 2024, "IK", settlement.invoices)
        register.replace_drafts(
            period.label, period, numbered, RunInfo(datetime(2024, 1, 1), "test", {}, {})
        )
    return settlement


@settings(max_examples=150, deadline=None)
@given(inputs=scenarios())
def test_every_euro_is_billed_once_and_reruns_are_identical(inputs):
    budget = inputs.budget
    annual = sum((p.budgeted for p in budget.posts), Decimal(0))
    with tempfile.TemporaryDirectory() as folder:
        with Register.open(Path(folder) / "register.sqlite") as register:
            h1 = _record(register, inputs, Period(2024, 1), date(2024, 7, 1))
            again = _record(register, inputs, Period(2024, 1), date(2024, 7, 1))
            assert again.invoices == h1.invoices  # a rerun replaces its drafts identically
            h2 = _record(register, inputs, Period(2024, 2), date(2025, 1, 1))
            numbers = [n for (n,) in register.db.execute("SELECT number FROM numbers")]
    assert h1.balanced and h2.balanced
    # Over the year: the whole network budget and every cost line, to the cent, nothing twice.
    assert h1.total + h2.total == annual + sum((c.amount for c in budget.cost_lines), Decimal(0))
    assert len(numbers) == len(set(numbers))
    for settlement in (h1, h2):
        for invoice in settlement.invoices:
            assert (invoice.kind == "eigen aandeel") == (invoice.code == budget.settings.lead)
            if invoice.kind != "eigen aandeel":
                assert (invoice.kind == "creditnota") == (invoice.total < 0)
