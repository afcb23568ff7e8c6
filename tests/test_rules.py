"""The billing rules (rules.py), the checks as named rules (check.RULES), the address rules
(addresses.py) and reading apart from checking (read.folder, validate)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inkoopkracht_xl import check, einvoice, mail, rules
from inkoopkracht_xl.addresses import UnsafeHeader, checked_address, clean_name, recipients
from inkoopkracht_xl.model import (
    Budget,
    Calendar,
    Contact,
    CostLine,
    Join,
    Municipality,
    Population,
    Settings,
    Source,
    Subject,
)
from inkoopkracht_xl.read.folder import read_unchecked
from inkoopkracht_xl.validate import load_folder

from .builders import SHIPPED

TELEFONIE = Subject(1, "Telefonie", "2024", ("ZM", "DE", "PN"))


def _budget(**parts) -> Budget:
    parts.setdefault("populations", ())
    return Budget(Settings(year=2024), (), **parts)


def test_participants_on_leaves_out_a_joiner_until_its_date():
    budget = _budget(joins=(Join("Telefonie", "PN", date(2024, 7, 1)),))
    # PN joins on 1 July: not on 30 June, from 1 July on.
    assert rules.participants_on(TELEFONIE, date(2024, 6, 30), budget) == ("ZM", "DE")
    assert rules.participants_on(TELEFONIE, date(2024, 7, 1), budget) == ("ZM", "DE", "PN")


def test_the_checks_are_named_rules_in_the_order_they_report():
    assert [rule.__name__ for rule in check.RULES] == [
        "unknown_participants",
        "lead_municipality",
        "same_file_names",
        "population_reference_dates",
        "populations_in_calendar",
        "network_payers",
        "core_populations",
        "realised_amounts",
        "cost_lines",
        "joins",
        "duplicate_joins",
        "email_addresses",
        "invoice_facts",
        "contact_codes",
    ]
    # Each says what it checks in its docstring's first line.
    assert all((rule.__doc__ or "").strip().splitlines()[0] for rule in check.RULES)


def _facts(budget: Budget) -> check.Facts:
    municipalities = (Municipality("ZM", "Zoetermeer", True), Municipality("DE", "Delft", True))
    subjects = (Subject(1, "Telefonie", "2024", ("ZM", "DE")),)
    return check.gather_facts(Calendar(municipalities, subjects), budget, "Begroting 2024.xlsx")


def _joins_row(row: int) -> Source:
    return Source("Begroting 2024.xlsx", "Toetredingen", row, (("code", "B"),))


def test_one_rule_runs_on_its_own():
    twice = (
        Join("Telefonie", "DE", date(2024, 3, 1), _joins_row(5)),
        Join("Telefonie", "DE", date(2024, 4, 1), _joins_row(9)),
    )
    findings = list(check.duplicate_joins(_facts(_budget(joins=twice))))
    assert [(f.location.sheet, f.location.cell, f.message) for f in findings] == [
        ("Toetredingen", "B9", "toetreding van DE staat dubbel (ook in rij 5)")
    ]


ZM = Population("ZM", "Zoetermeer", 125_000, date(2023, 1, 1), True)
DE_JOINS = Join("Telefonie", "DE", date(2024, 3, 1))


def _line(day: int) -> CostLine:
    return CostLine(f"K{day}", "Telefonie", "licenties", date(2024, 6, day), Decimal("1000.00"))


def _no_population(budget: Budget) -> list[str]:
    facts = _facts(budget)
    return [f.message for rule in check.RULES for f in rule(facts) if "inwonertal" in f.message]


def test_a_missing_population_is_reported_once_at_the_first_cost_line_needing_it():
    # DE (Delft) has no Inwoners row: two cost lines and its join need one; said once, first.
    both = _budget(populations=(ZM,), cost_lines=(_line(1), _line(2)), joins=(DE_JOINS,))
    assert _no_population(both) == ["deelnemer DE van 'Telefonie' heeft geen inwonertal"]
    unpopulated = _facts(both).unpopulated
    assert list(unpopulated) == ["DE"] and unpopulated["DE"] is both.cost_lines[0]
    # Without cost lines the join says it.
    only_join = _budget(populations=(ZM,), joins=(DE_JOINS,))
    assert _no_population(only_join) == ["DE treedt toe maar heeft geen inwonertal"]


def test_the_billed_leave_out_the_penvoerder():
    settings = Settings(year=2024, lead="ZM")
    budget = Budget(settings, (), (ZM,), cost_lines=(_line(1),))
    # ZM pays the network and leads; DE is billed for the Telefonie line.
    assert _facts(budget).billed == frozenset({"DE"})


BLANKS = "\x00\x01\x08\t\n\x0b\x0c\r\x1f \ufffe\uffff"


@given(st.text(alphabet=st.sampled_from([*BLANKS, "a", "\u00a0", "\x7f", "\x85", "é"])))
def test_filled_is_what_the_einvoice_writes_as_something(text):
    # rules._filled decides "missing" below the e-invoice: the same as einvoice._clean's verdict.
    assert rules._filled(text) == bool(einvoice._clean(text))


def test_filled_on_examples():
    assert [rules._filled(v) for v in ("", None, " \t\r\n", "\x01", "\u00a0", "NL")] == [
        False,
        False,
        False,
        False,
        True,  # a non-breaking space is written (as itself)
        True,
    ]


def test_the_einvoice_uses_the_rules_required_fields():
    assert einvoice.missing_fields is rules.missing_fields
    # Nothing filled in: Rechtspersoon, Straat, Postcode, Plaats, OIN and IBAN, in that order.
    assert [f.name for f in rules.missing_seller_fields(Settings(year=2024))] == [
        "Rechtspersoon",
        "Straat",
        "Postcode",
        "Plaats",
        "OIN",
        "IBAN",
    ]


def test_an_address_is_checked_as_a_header_carries_it():
    assert checked_address("  inkoop@delft.nl ") == "inkoop@delft.nl"
    with pytest.raises(UnsafeHeader, match="geen geldig e-mailadres"):
        checked_address("inkoop@delft.nl\nBcc: iedereen@example.org")
    with pytest.raises(UnsafeHeader, match="regelovergang"):
        clean_name("Delft\r\nBcc: x@example.org")
    contact = Contact("DE", "Delft", ("inkoop@delft.nl",), ("fin@delft.nl",))
    target = recipients(contact)
    assert (target.to, target.cc) == (("inkoop@delft.nl",), ("fin@delft.nl",))
    # mail.py uses the same class: `except UnsafeHeader` catches either import.
    assert mail.UnsafeHeader is UnsafeHeader


def test_reading_finds_no_cross_check_and_validate_adds_them():
    # The shipped jaarplan: 'ME' at Kalender C22 is no municipality of its Gemeenten sheet, a
    # warning only (no costs on that subject); reading alone does not say so.
    assert read_unchecked(SHIPPED).findings == ()
    checked = load_folder(SHIPPED)
    assert [(f.location.sheet, f.location.cell, f.message) for f in checked.findings] == [
        ("Kalender", "C22", "onbekende gemeentecode 'ME' bij 'Leveren Speel- en sporttoestellen'")
    ]
    assert load_folder(SHIPPED, cross_checks=False).findings == ()
