"""money.py: cents conversion, the one apportion() and its tie rule, Dutch number text."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inkoopkracht_xl.money import (
    CENT,
    apportion,
    format_euro,
    format_number,
    format_percentage,
    from_cents,
    to_cents,
)

JAARPLAN_2024 = {"DE": 106086, "PN": 57672, "WE": 114887, "ZM": 126998}


# --- cents -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (Decimal("131035"), 13103500),
        (Decimal("131035.5"), 13103550),
        (Decimal("3685.50"), 368550),
        (Decimal("1.230"), 123),  # a trailing zero is still two decimals' worth
        (Decimal("-1234.56"), -123456),
        (Decimal("0"), 0),
    ],
)
def test_to_cents(amount, cents):
    assert to_cents(amount) == cents


@pytest.mark.parametrize("amount", [Decimal("0.001"), Decimal("611.115"), Decimal("-0.005")])
def test_to_cents_refuses_more_than_two_decimals(amount):
    with pytest.raises(ValueError, match="meer dan 2 decimalen"):
        to_cents(amount)


def test_to_cents_refuses_float():
    with pytest.raises(TypeError, match="nooit float"):
        to_cents(0.1)


@pytest.mark.parametrize(
    ("cents", "amount"),
    [(13103550, "131035.50"), (5, "0.05"), (-123456, "-1234.56"), (0, "0.00")],
)
def test_from_cents_has_two_decimals(cents, amount):
    result = from_cents(cents)
    assert result == Decimal(amount)
    assert str(result) == amount
    assert result.as_tuple().exponent == CENT.as_tuple().exponent


# --- apportion: the jaarplan -------------------------------------------------------------------


def test_apportion_jaarplan_percentages_in_basis_points():
    # Quotas 10000 × inhabitants / 405643:
    #   DE 2615.26  PN 1421.74  WE 2832.22  ZM 3130.78   floors sum 9998, 2 units left;
    #   largest remainders ZM .78, PN .74 -> 31,31 % and 14,22 %.
    assert apportion(10000, JAARPLAN_2024, JAARPLAN_2024) == {
        "DE": 2615,
        "PN": 1422,
        "WE": 2832,
        "ZM": 3131,
    }


# --- apportion: table-driven rule and tie-break ------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "priority", "expected"),
    [
        pytest.param(
            2,
            {"C": 1, "A": 1, "B": 1},
            None,
            {"C": 0, "A": 1, "B": 1},
            id="equal remainders, no priority: codes A and B first",
        ),
        pytest.param(
            2,
            {"A": 1, "B": 1, "C": 1},
            {"C": 5},
            {"A": 1, "B": 0, "C": 1},
            id="equal remainders: larger priority C first, then code A",
        ),
        pytest.param(
            1,
            {"WE": 1, "DE": 1},
            {"WE": 100, "DE": 100},
            {"WE": 0, "DE": 1},
            id="equal remainders and priority: code DE before WE",
        ),
        pytest.param(
            # Quotas 1.9 and 0.1: remainder .9 beats priority.
            2,
            {"A": 19, "B": 1},
            {"B": 10**6},
            {"A": 2, "B": 0},
            id="a larger remainder beats a larger priority",
        ),
        pytest.param(
            -2,
            {"A": 1, "B": 1, "C": 1},
            None,
            {"A": -1, "B": -1, "C": 0},
            id="negative total is the negated positive split",
        ),
        pytest.param(
            -131035,
            JAARPLAN_2024,
            None,
            {"DE": -34269, "PN": -18630, "WE": -37112, "ZM": -41024},
            id="negative total on the jaarplan populations (see exact test in test_allocate)",
        ),
        pytest.param(
            # Quotas B 2.5, C 2.5: tie, code B first. A has weight 0 and gets 0.
            5,
            {"A": 0, "B": 1, "C": 1},
            None,
            {"A": 0, "B": 3, "C": 2},
            id="zero weight gets nothing",
        ),
        pytest.param(131035, {"DE": 7}, None, {"DE": 131035}, id="single key takes all"),
        pytest.param(-5, {"X": 3}, None, {"X": -5}, id="single key, negative"),
        pytest.param(0, JAARPLAN_2024, None, dict.fromkeys(JAARPLAN_2024, 0), id="total 0"),
        pytest.param(
            # Σw = 2; quotas 7.5 and 2.5: tie, code A first.
            10,
            {"B": Fraction(1, 2), "A": Decimal("1.5")},
            None,
            {"B": 2, "A": 8},
            id="Decimal and Fraction weights, exact",
        ),
        pytest.param(
            # Σw = 1/3 + 1/3 + 1/3 = 1 exactly (a float sum would not be): quotas 33⅓ each.
            100,
            {"A": Fraction(1, 3), "B": Fraction(1, 3), "C": Fraction(1, 3)},
            {"B": 2},
            {"A": 33, "B": 34, "C": 33},
            id="thirds: the extra unit by priority",
        ),
    ],
)
def test_apportion_table(total, weights, priority, expected):
    result = apportion(total, weights, priority)
    assert result == expected
    assert list(result) == list(weights)  # key order of the input
    assert sum(result.values()) == total


def test_apportion_all_zero_weights_refused():
    with pytest.raises(ValueError, match="alle gewichten zijn nul"):
        apportion(100, {"A": 0, "B": 0})


def test_apportion_no_keys_refused():
    with pytest.raises(ValueError, match="alle gewichten zijn nul"):
        apportion(0, {})


def test_apportion_negative_weight_refused():
    with pytest.raises(ValueError, match="gewicht van B is negatief"):
        apportion(100, {"A": 3, "B": -1})


@pytest.mark.parametrize(
    ("total", "weights", "priority"),
    [
        (1.0, {"A": 1}, None),
        (1, {"A": 0.5}, None),
        (1, {"A": 1, "B": 1}, {"A": 1.5}),
        (Decimal("1"), {"A": 1}, None),
    ],
)
def test_apportion_refuses_float_and_non_integer_total(total, weights, priority):
    with pytest.raises(TypeError):
        apportion(total, weights, priority)


# --- apportion: properties ---------------------------------------------------------------------

populations = st.dictionaries(
    keys=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=4),
    values=st.integers(min_value=1, max_value=2_000_000),
    min_size=1,
    max_size=400,
)
totals = st.integers(min_value=-(10**9), max_value=10**9)


@settings(max_examples=200, deadline=None)
@given(weights=populations, total=totals)
def test_apportion_sums_exactly_and_stays_within_one_unit(weights, total):
    result = apportion(total, weights, priority=weights)
    assert sum(result.values()) == total
    whole = sum(weights.values())
    for code, part in result.items():
        quota = Fraction(total * weights[code], whole)
        assert abs(part - quota) < 1  # so the part is the quota's floor or ceiling


@settings(max_examples=200, deadline=None)
@given(data=st.data(), weights=populations, total=totals)
def test_apportion_does_not_depend_on_row_order(data, weights, total):
    shuffled = dict(data.draw(st.permutations(list(weights.items()))))
    original = apportion(total, weights, priority=weights)
    reordered = apportion(total, shuffled, priority=shuffled)
    assert reordered == original  # dict equality ignores key order...
    assert list(reordered) == list(shuffled)  # ...which follows the input


@settings(max_examples=100, deadline=None)
@given(weights=populations, total=st.integers(min_value=0, max_value=10**9))
def test_apportion_credit_mirrors_charge(weights, total):
    charge = apportion(total, weights, weights)
    credit = apportion(-total, weights, weights)
    assert credit == {code: -part for code, part in charge.items()}


# --- Dutch formatting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "decimals", "text"),
    [
        (Decimal("34266"), 2, "€ 34.266,00"),
        (Decimal("131035"), 0, "€ 131.035"),
        (Decimal("-1234.5"), 2, "€ -1.234,50"),
        (Decimal("3685.50"), 2, "€ 3.685,50"),
        (Decimal("0.5"), 2, "€ 0,50"),
        (Decimal("1234567.891"), 2, "€ 1.234.567,89"),
        (Decimal("0.005"), 2, "€ 0,01"),  # display rounds half up
        (Decimal("-0.001"), 2, "€ 0,00"),  # never "-0,00"
        (17133, 2, "€ 17.133,00"),
    ],
)
def test_format_euro(amount, decimals, text):
    assert format_euro(amount, decimals) == text


@pytest.mark.parametrize(
    ("percentage", "text"),
    [
        (Decimal("26.15"), "26,15 %"),
        (Decimal("100.00"), "100,00 %"),
        (Decimal("0.5"), "0,50 %"),
        (Decimal("-3.1"), "-3,10 %"),
    ],
)
def test_format_percentage(percentage, text):
    assert format_percentage(percentage) == text


@pytest.mark.parametrize(
    ("number", "text"),
    [(405643, "405.643"), (57672, "57.672"), (999, "999"), (0, "0"), (-1234567, "-1.234.567")],
)
def test_format_number(number, text):
    assert format_number(number) == text


def test_formatting_refuses_float():
    with pytest.raises(TypeError):
        format_euro(1.5)
    with pytest.raises(TypeError):
        format_number(1.0)
