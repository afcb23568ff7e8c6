"""Cell parsing as coordinators type: Dutch amounts, dates, codes, categories."""

import math
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import assume, given
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
    st.lists(
        # 'en' typed between two codes with spaces is the Dutch word, not the code EN
        st.from_regex(r"[A-Z]{2}", fullmatch=True).filter(lambda code: code != "EN"),
        min_size=1,
        max_size=12,
        unique=True,
    ),
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


# --- Numbers as spreadsheet programs store them (issue 11, item 7) ---------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (120000.00000000001, "120000"),  # Excel's =0,1*3*400000
        (0.1 * 3 * 400000, "120000"),
        (300.29999999999995, "300.3"),  # Excel's =100,1*3
        (100.1 * 3, "300.3"),
        (0.1 + 0.2, "0.3"),
        (34266.000000000004, "34266"),
        (0.1, "0.1"),
        (3685.55, "3685.55"),
        (-250.0, "-250"),
        (-0.0, "0"),  # no negative zero
        (1e-05, "0.00001"),
        (1.5e16, "15000000000000000"),  # no exponent: usable by quantize
        (1e15, "1000000000000000"),
        (123456789012345.0, "123456789012345"),  # 15 significant digits stay exact
        (1234567890.12345, "1234567890.12345"),
        (0.123456789012345, "0.123456789012345"),
        (999999999999.995, "999999999999.995"),
        (131035, "131035"),  # an int cell
    ],
)
def test_numeric_cells_read_as_excel_shows_them(stored, shown):
    result = values.number_to_decimal(stored)
    assert str(result) == shown
    assert result.as_tuple().exponent <= 0
    assert result.quantize(Decimal("0.01")) == Decimal(shown).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (120000.00000000001, Decimal("120000.00")),
        (300.29999999999995, Decimal("300.30")),
        (4.35 * 100 / 100, Decimal("4.35")),  # 4.3499999999999996
        (34266.000000000004, Decimal("34266.00")),
    ],
)
def test_money_from_a_cached_formula_result(stored, expected):
    assert values.money(stored) == expected


def test_noise_never_hides_a_fraction_of_a_cent():
    # 300.295 is what Excel shows (15 digits), so it is still refused, quoted as shown.
    with pytest.raises(ValueError) as refused:
        values.money(300.29499999999996)
    assert str(refused.value) == (
        "'300.295' heeft meer dan twee decimalen; rond af op hele centen, in een formule met "
        "AFRONDEN, bijvoorbeeld =AFRONDEN(12500/3;2)"
    )
    assert values.text(300.29999999999995) == "300.3"


_AMOUNTS = st.integers(min_value=-(10**13) + 1, max_value=10**13 - 1).map(
    lambda cents: Decimal(cents).scaleb(-2)
)  # at most 13 significant digits, at most two decimals


@given(
    _AMOUNTS,
    st.sampled_from(["*3/3", "*7/7", "*0.1*10", "+ulp", "-ulp", "/3*3", "sum"]),
    st.integers(min_value=0, max_value=100),
)
def test_spreadsheet_arithmetic_reads_back_as_the_amount(amount, how, split):
    assume(amount or how not in ("+ulp", "-ulp"))  # 5e-324 is no noise on an amount of 0
    number = float(amount)
    if how == "*3/3":
        computed = number * 3 / 3
    elif how == "*7/7":
        computed = number * 7 / 7
    elif how == "*0.1*10":
        computed = number * 0.1 * 10
    elif how == "/3*3":
        computed = number / 3 * 3
    elif how == "+ulp":
        computed = math.nextafter(number, math.inf)
    elif how == "-ulp":
        computed = math.nextafter(number, -math.inf)
    else:  # =SUM of two parts of the same sign, each with cents
        part = (amount * split / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        computed = float(part) + float(amount - part)
    assert values.number_to_decimal(computed) == amount
    assert values.money(computed) == amount.quantize(Decimal("0.01"))


@given(
    st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
    st.integers(min_value=-20, max_value=5),
)
def test_typed_numbers_with_15_digits_stay_exact(digits, exponent):
    typed = Decimal(digits).scaleb(exponent)
    assert values.number_to_decimal(float(typed)) == typed


# --- 12,500: three decimals typed as text ---------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "read", "message", "fix"),
    [
        (
            "12,500",
            Decimal("12.50"),
            "'12,500' heeft drie cijfers na de komma; gelezen als € 12,50",
            "Bedoelt u € 12.500,00? Typ dan 12.500 of 12500 (de komma staat voor de centen). "
            "Bedoelt u € 12,50, typ dan 12,50.",
        ),
        (
            "€ 1.234,500",
            Decimal("1234.50"),
            "'€ 1.234,500' heeft drie cijfers na de komma; gelezen als € 1.234,50",
            "Bedoelt u € 1.234.500,00? Typ dan 1.234.500 of 1234500 (de komma staat voor de "
            "centen). Bedoelt u € 1.234,50, typ dan 1.234,50.",
        ),
        (
            "-7,000",
            Decimal("-7.00"),
            "'-7,000' heeft drie cijfers na de komma; gelezen als € -7,00",
            "Bedoelt u € -7.000,00? Typ dan -7.000 of -7000 (de komma staat voor de centen). "
            "Bedoelt u € -7,00, typ dan -7,00.",
        ),
    ],
)
def test_three_zero_padded_decimals_read_with_a_warning(typed, read, message, fix):
    with pytest.raises(values.ReadWithWarning) as warned:
        values.money(typed)
    assert warned.value.value == read
    assert warned.value.message == message
    assert warned.value.fix == fix
    assert str(warned.value) == message


def test_a_warning_is_not_an_error():
    assert not issubclass(values.ReadWithWarning, ValueError)
    warning = values.ReadWithWarning(Decimal("12.50"), "bericht", "oplossing")
    assert (warning.value, warning.message, warning.fix) == (
        Decimal("12.50"),
        "bericht",
        "oplossing",
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (12.5, Decimal("12.50")),  # a numeric cell never takes the warning path
        (12.500000000000002, Decimal("12.50")),
        ("12,50", Decimal("12.50")),
        ("12.500", Decimal("12500.00")),  # a dot and three digits: thousands
        ("12,5000", Decimal("12.50")),  # four decimals cannot be a thousands group
        ("1.234,5", Decimal("1234.50")),
    ],
)
def test_amounts_without_the_three_decimal_warning(typed, expected):
    assert values.money(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "12,345",
            "'12,345' heeft meer dan twee decimalen; bedoelt u € 12.345,00? Typ dan 12.345 of "
            "12345 (de komma staat voor de centen)",
        ),
        ("12,3456", "'12,3456' heeft meer dan twee decimalen"),
        ("611.115", None),  # a dot and three digits is a thousands group: 611115, no error
    ],
)
def test_three_real_decimals_stay_an_error(typed, message):
    if message is None:
        assert values.money(typed) == Decimal("611115.00")
        return
    with pytest.raises(ValueError) as refused:
        values.money(typed)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "106,086",
            "'106,086' heeft drie cijfers na de komma; bedoelt u 106.086? Typ dan 106.086 of "
            "106086 (een punt scheidt de duizendtallen)",
        ),
        (
            "106,000",  # 106 in Dutch notation: a population of 106 is never what was meant
            "'106,000' heeft drie cijfers na de komma; bedoelt u 106.000? Typ dan 106.000 of "
            "106000 (een punt scheidt de duizendtallen)",
        ),
        ("106,5", "'106,5' is geen heel getal"),
    ],
)
def test_whole_numbers_with_three_decimals(typed, message):
    with pytest.raises(ValueError) as refused:
        values.whole_number(typed)
    assert str(refused.value) == message


# --- Dates as typed (issue 11, item 7) ------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15-2-24", date(2024, 2, 15)),
        ("15/2/24", date(2024, 2, 15)),
        ("15.02.24", date(2024, 2, 15)),
        ("1-1-00", date(2000, 1, 1)),
        ("1-apr-2024", date(2024, 4, 1)),
        ("1-apr-24", date(2024, 4, 1)),
        ("01-APR-2024", date(2024, 4, 1)),
        ("1 apr. 2024", date(2024, 4, 1)),
        ("1 april 2024", date(2024, 4, 1)),
        ("1 April 24", date(2024, 4, 1)),
        ("5 mrt 2024", date(2024, 3, 5)),
        ("5-mrt.-2024", date(2024, 3, 5)),
        ("5 maart 2024", date(2024, 3, 5)),
        ("31 mei 2024", date(2024, 5, 31)),
        ("3 okt. 2024", date(2024, 10, 3)),
        ("3 sept. 2024", date(2024, 9, 3)),
        ("3 sep 2024", date(2024, 9, 3)),
        ("29 febr. 2024", date(2024, 2, 29)),
        ("1/jul/2024", date(2024, 7, 1)),
        ("1.aug.2024", date(2024, 8, 1)),
        ("1 dec 24", date(2024, 12, 1)),
    ],
)
def test_dates_with_short_years_and_month_names(typed, expected):
    assert values.a_date(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31-2-24", "'31-2-24' is geen bestaande datum"),
        ("29 febr. 2023", "'29 febr. 2023' is geen bestaande datum"),
        ("32-1-24", "'32-1-24' is geen bestaande datum"),
        ("1-13-24", "'1-13-24' is geen bestaande datum"),
        ("1-foo-2024", "'1-foo-2024' is geen datum"),
        ("1-1-202", "'1-1-202' is geen datum"),
        ("1-1-2", "'1-1-2' is geen datum"),
        ("1 apr", "'1 apr' is geen datum"),
        ("apr 2024", "'apr 2024' is geen datum"),
        ("1 aprill 2024", "'1 aprill 2024' is geen datum"),
        ("15-2-24-1", "'15-2-24-1' is geen datum"),
    ],
)
def test_date_nonsense_is_still_refused(typed, message):
    with pytest.raises(ValueError) as refused:
        values.a_date(typed)
    assert str(refused.value) == message


# --- Codes as people write them (issue 11, item 5) ------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("DE, PN en WE", ("DE", "PN", "WE")),
        ("de, pn en we", ("DE", "PN", "WE")),
        ("DE En WE", ("DE", "WE")),
        ("DE & WE", ("DE", "WE")),
        ("DE&WE", ("DE", "WE")),
        ("RW*", ("RW",)),
        ("RW**, DE\u00b9", ("RW", "DE")),
        ("DE *, WE\u00b2", ("DE", "WE")),
        ("DE EN WE", ("DE", "EN", "WE")),  # in capitals EN may be a code: kept, then reported
        ("DE en", ("DE", "EN")),  # not between two codes: not the word 'en'
        ("DE en, WE", ("DE", "EN", "WE")),  # next to a comma: not the word 'en'
        ("ab,en,aa", ("AB", "EN", "AA")),
        ("en", ("EN",)),
    ],
)
def test_codes_joined_by_en_and_with_footnote_marks(typed, expected):
    assert values.codes(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), [("RW*", "RW"), (" pn\u00b9", "PN")])
def test_one_code_with_a_footnote_mark(typed, expected):
    assert values.code(typed) == expected
