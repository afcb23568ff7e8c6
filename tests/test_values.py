"""Cell parsing as coordinators type: Dutch amounts, dates, codes, categories."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inkoopkracht_xl.read import values

_EPOCH = date(1899, 12, 30)  # Excel serial 0 in the 1900 date system


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("€ 120.000", Decimal("120000")),  # jaarplan: Personele kosten
        ("€ 3.685", Decimal("3685")),  # dot + exactly three digits = thousands
        ("3.685,50", Decimal("3685.50")),
        ("611.11", Decimal("611.11")),  # dot + two digits = decimal point
        ("1.234.567,8", Decimal("1234567.8")),
        ("€120,-", Decimal("120")),
        ("-1.250,00", Decimal("-1250.00")),
        ("(250,00)", Decimal("-250.00")),
        ("EUR 350", Decimal("350")),
        ("\u00a0€\u00a05.000 ", Decimal("5000")),
        (3685.5, Decimal("3685.5")),
        (131035, Decimal("131035")),
        (0.1, Decimal("0.1")),  # the stored text, not 0.1000000000000000055511151231257827
    ],
)
def test_amounts_as_typed(typed, expected):
    assert values.amount(typed) == expected


@pytest.mark.parametrize("typed", ["ca. 57.000", "12345.678", "1,234.56", "€", "", "twaalf", True])
def test_not_an_amount(typed):
    with pytest.raises(ValueError):
        values.amount(typed)


def test_money_refuses_fractions_of_cents():
    with pytest.raises(ValueError, match="meer dan twee decimalen"):
        values.money("3.685,505")
    assert values.money("3.685,5") == Decimal("3685.50")


@given(st.integers(min_value=0, max_value=10**11), st.booleans())
def test_dutch_text_round_trips(cents, with_euro_sign):
    # Format as a coordinator would (thousands dots, decimal comma) and read it back.
    euros, rest = divmod(cents, 100)
    typed = f"{euros:,}".replace(",", ".") + f",{rest:02d}"
    if with_euro_sign:
        typed = "€ " + typed
    assert values.amount(typed) == Decimal(cents) / 100


@given(st.integers(min_value=-(10**11), max_value=10**11))
def test_numeric_cells_with_cents_are_exact(cents):
    # A numeric cell holds the nearest double to e.g. 3685.55; we must get 3685.55 back exactly.
    assert values.money(cents / 100) == Decimal(cents) / 100


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("DE, PN, WE, ZM, LV", ("DE", "PN", "WE", "ZM", "LV")),
        ("de, pn /WE", ("DE", "PN", "WE")),
        (" de;pn  we ", ("DE", "PN", "WE")),
        ("DE,,DE, ZM", ("DE", "ZM")),
        ("", ()),
        (None, ()),
    ],
)
def test_codes_as_typed(typed, expected):
    assert values.codes(typed) == expected


@given(
    st.lists(st.from_regex(r"[A-Z]{2}", fullmatch=True), min_size=1, max_size=12, unique=True),
    st.lists(st.sampled_from([",", ";", "/", " ", ", ", " / ", ";  "]), min_size=12, max_size=12),
    st.booleans(),
)
def test_codes_any_separator_any_case(codes, separators, lower):
    typed = "".join(code + sep for code, sep in zip(codes, separators, strict=False))
    if lower:
        typed = typed.lower()
    assert values.codes(typed) == tuple(codes)


def test_code_with_punctuation_is_refused():
    with pytest.raises(ValueError, match="geen gemeentecode"):
        values.codes("DE, P.N.")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (date(2023, 1, 1), date(2023, 1, 1)),
        (datetime(2024, 3, 15, 10, 30), date(2024, 3, 15)),
        (44927, date(2023, 1, 1)),  # Excel serial: 1899-12-30 + 44927 days
        (45366.5, date(2024, 3, 15)),  # a serial with a time of day
        ("1-1-2023", date(2023, 1, 1)),
        ("01/01/2023", date(2023, 1, 1)),
        ("2023-01-01", date(2023, 1, 1)),
        ("15.3.2024", date(2024, 3, 15)),
        ("1 januari 2023", date(2023, 1, 1)),
        ("12 sept. 2024", date(2024, 9, 12)),
    ],
)
def test_dates_as_typed(typed, expected):
    assert values.a_date(typed) == expected


@pytest.mark.parametrize("typed", ["31-2-2024", "2024", "morgen", 0, 10**8, "13-13-2023"])
def test_not_a_date(typed):
    with pytest.raises(ValueError):
        values.a_date(typed)


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
def test_dates_in_every_spelling(day):
    serial = (day - _EPOCH).days
    spellings = [day, serial, f"{day.day}-{day.month}-{day.year}", day.isoformat()]
    if day.year >= 1000:
        spellings.append(f"{day.day:02d}/{day.month:02d}/{day.year}")
    assert {values.a_date(s) for s in spellings} == {day}
    assert _EPOCH + timedelta(days=serial) == day


@pytest.mark.parametrize(
    ("typed", "expected"),
    [(1, 1), (4.0, 4), ("3", 3), ("3. Verkenning", 3), ("1 contractmanagement", 1)],
)
def test_categories(typed, expected):
    assert values.category(typed) == expected


@pytest.mark.parametrize("typed", [5, "0", "12", "verkenning", ""])
def test_not_a_category(typed):
    with pytest.raises(ValueError, match="categorie"):
        values.category(typed)


def test_whole_numbers():
    assert values.whole_number("106.086") == 106086  # jaarplan: Delft
    assert values.whole_number(57672.0) == 57672
    with pytest.raises(ValueError, match="geen heel getal"):
        values.whole_number("ca. 57.000")
    with pytest.raises(ValueError, match="geen heel getal"):
        values.whole_number(1.5)
