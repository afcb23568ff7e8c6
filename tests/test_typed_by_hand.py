"""Amounts and dates typed the way coordinators type them, found by typing them into the plain
jaarplan folder one variation at a time: each was a silent misread, an unreasonable refusal or a
misleading message before its fix.

Cell tests first (read/values.py), then whole folders (the plain jaarplan with one cell retyped),
which must read to the plain folder's model with the changed value, or to one finding at the cell.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from inkoopkracht_xl.read import values
from inkoopkracht_xl.validate import load_folder

from .builders import BUDGET, CALENDAR
from .layouts import Model, formula, model_of, plain, reference, said

ME_WARNING = (
    f"WAARSCHUWING  {CALENDAR} › Kalender › D19: onbekende gemeentecode 'ME' bij "
    "'Leveren Speel- en sporttoestellen'"
)
AMOUNT, DATE = 4, 3  # 0-based columns of Bedrag and Datum in Projectkosten


# --- cells --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # Whole euros with the dash Word and Outlook make of '-' (was: 'is geen bedrag').
        ("€ 12.500,–", Decimal("12500.00")),
        ("12.500,—", Decimal("12500.00")),
        # The currency as a word (was: 'is geen bedrag').
        ("12500 euro", Decimal("12500.00")),
        ("Euro 1.875,50", Decimal("1875.50")),
        # The bookkeeper's minus (was: 'is geen bedrag').
        ("-/- 1.875,50", Decimal("-1875.50")),
        ("€ -/- 250", Decimal("-250.00")),
        # A lone 0 before the dot is no thousands group: 0.50 is fifty cents.
        ("0.50", Decimal("0.50")),
        ("0.500", Decimal("0.50")),  # 0,500 = 0,50: the same amount, no cent lost
    ],
)
def test_money_as_typed_by_hand(typed, expected):
    assert values.money(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        # Was read as € 125,00: '0.125' is an eighth of a euro in English notation, never 125.
        ("0.125", "'0.125' heeft meer dan twee decimalen"),
        ("€ 0.125", "'€ 0.125' heeft meer dan twee decimalen"),
        # Was read as € 125,00 too.
        ("0.125,00", "'0.125,00' is geen bedrag"),
        ("012.500", "'012.500' is geen bedrag"),
    ],
)
def test_a_leading_zero_is_no_thousands_group(typed, message):
    with pytest.raises(ValueError) as refused:
        values.money(typed)
    assert str(refused.value) == message


def test_zero_point_three_digits_is_no_population():
    # Was read as 86 inhabitants.
    with pytest.raises(ValueError, match=r"^'0\.086' is geen heel getal$"):
        values.whole_number("0.086")


@pytest.mark.parametrize(
    ("typed", "dutch"),
    [("1,875.50", "1.875,50"), ("120,000.00", "120.000,00"), ("1,234,567.8", "1.234.567,8")],
)
def test_english_notation_is_refused_with_the_dutch_spelling(typed, dutch):
    with pytest.raises(ValueError) as refused:
        values.money(typed)
    assert str(refused.value) == (
        f"'{typed}' is geen bedrag in Nederlandse schrijfwijze (een komma scheidt de centen); "
        f"bedoelt u {dutch}? Typ dan {dutch} of {dutch.replace('.', '')}"
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15-2-2024 14:30", (2024, 2, 15)),  # pasted from a system export
        ("2024-02-15 00:00:00", (2024, 2, 15)),  # a datetime as Python or a CSV writes it
        ("2024-02-15T09:30:00", (2024, 2, 15)),
        ("1 juli 2024 10:00 uur", (2024, 7, 1)),
        ("15/02/2024 9:05", (2024, 2, 15)),
    ],
)
def test_text_dates_with_a_time(typed, expected):
    assert values.a_date(typed).timetuple()[:3] == expected


@pytest.mark.parametrize("typed", ["14:30", "15-2-2024 14:30 x", "15-2-2024 25:00:00:00"])
def test_a_time_alone_or_with_more_text_is_no_date(typed):
    with pytest.raises(ValueError, match="is geen datum"):
        values.a_date(typed)


# --- whole folders ------------------------------------------------------------------------------


def _read(tmp_path: Path, sheet: str, row: int, column: int, value: object):
    """The plain folder with one cell of `sheet` retyped (1-based row, 0-based column)."""
    layout = plain()
    line = layout.sheet(sheet).rows[row - 1]
    line.extend([None] * (column + 1 - len(line)))
    line[column] = value
    loaded = load_folder(layout.write(tmp_path / "in"))
    return loaded, sorted(said(f) for f in loaded.findings)


def _cost_amount(model: Model, reference_: str, amount: str) -> Model:
    lines = tuple(
        replace(line, amount=Decimal(amount)) if line.reference == reference_ else line
        for line in model.cost_lines
    )
    return replace(model, cost_lines=lines)


@pytest.mark.parametrize(
    ("row", "typed"),
    [
        (2, "€ 12.500,–"),  # VB-2024-001, 12500 in the plain folder
        (2, "12500 euro"),
        (5, "1.875,50 EUR"),  # VB-2024-004, 1875.5 in the plain folder
        (5, "Euro 1.875,50"),
    ],
)
def test_cost_amounts_typed_by_hand_read_as_the_plain_folder(tmp_path, row, typed):
    loaded, findings = _read(tmp_path, "Projectkosten", row, AMOUNT, typed)
    assert findings == [ME_WARNING]
    assert model_of(loaded) == reference()


def test_a_credit_with_the_bookkeepers_minus(tmp_path):
    loaded, findings = _read(tmp_path, "Projectkosten", 5, AMOUNT, "-/- 1.875,50")
    assert findings == [ME_WARNING]
    # VB-2024-004 becomes a credit of 1875,50 (the plain folder: +1875,50).
    assert model_of(loaded) == _cost_amount(reference(), "VB-2024-004", "-1875.50")


def test_zero_point_three_digits_in_a_cost_is_a_finding_not_125_euros(tmp_path):
    loaded, findings = _read(tmp_path, "Projectkosten", 5, AMOUNT, "0.125")
    assert findings == sorted(
        [
            ME_WARNING,
            f"FOUT  {BUDGET} › Projectkosten › E5: '0.125' heeft meer dan twee decimalen",
        ]
    )
    assert len(loaded.errors) == 1  # refused: nothing is settled with a guessed amount
    read = {line.reference: line.amount for line in loaded.inputs.budget.cost_lines}
    assert "VB-2024-004" not in read and read["VB-2024-001"] == Decimal("12500")


def test_english_budget_amount_is_a_finding_with_the_dutch_spelling(tmp_path):
    loaded, findings = _read(tmp_path, "Begroting", 2, 1, "120,000.00")
    assert findings == sorted(
        [
            ME_WARNING,
            f"FOUT  {BUDGET} › Begroting › B2: '120,000.00' is geen bedrag in Nederlandse "
            "schrijfwijze (een komma scheidt de centen); bedoelt u 120.000,00? Typ dan "
            "120.000,00 of 120000,00",
        ]
    )
    assert len(loaded.errors) == 1


def test_a_cost_date_with_a_time_reads_as_the_plain_folder(tmp_path):
    # VB-2024-001 is dated 15-2-2024 in the plain folder.
    loaded, findings = _read(tmp_path, "Projectkosten", 2, DATE, "15-2-2024 14:30")
    assert findings == [ME_WARNING]
    assert model_of(loaded) == reference()


UNCACHED = "bevat een formule zonder berekende waarde"


def test_a_post_with_an_uncached_formula_is_one_finding(tmp_path):
    # Was two findings at B2: the formula, and 'Personele kosten ... staat bij de gegevens maar
    # zonder Begroot' (the row looked like a text-only row), which sent the coordinator astray.
    loaded, findings = _read(tmp_path, "Begroting", 2, 1, formula("=100000+20000"))
    assert findings == sorted([ME_WARNING, f"FOUT  {BUDGET} › Begroting › B2: {UNCACHED}"])
    assert len(loaded.errors) == 1


def test_a_row_holding_only_an_uncached_formula_is_a_finding(tmp_path):
    # A sum under the amounts without a label, written by a script (no cached value): was not
    # seen at all (the grid ends at the last value), against the rule that such a cell is an
    # error; its first fix crashed on the total check.
    layout = plain()
    layout.sheet("Projectkosten").rows.append([None, None, None, None, formula("=SUM(E2:E6)")])
    loaded = load_folder(layout.write(tmp_path / "in"))
    findings = sorted(said(f) for f in loaded.findings)
    assert findings == sorted([ME_WARNING, f"FOUT  {BUDGET} › Projectkosten › E7: {UNCACHED}"])
    assert len(loaded.errors) == 1


# --- a second header line -----------------------------------------------------------------------


def _with_row_under_header(tmp_path: Path, line: list[object]):
    layout = plain()
    layout.sheet("Projectkosten").rows.insert(1, line)
    loaded = load_folder(layout.write(tmp_path / "in"))
    skipped = sorted((s.kind.value, str(s.location), s.text) for s in loaded.skipped)
    return loaded, sorted(said(f) for f in loaded.findings), skipped


def test_units_under_the_header_are_a_note(tmp_path):
    # Was four errors ('A2: is leeg', "'(dd-mm-jjjj)' is geen datum", ...) for a sheet that
    # reads fine to anyone: the units of the columns, typed on a second header line.
    loaded, findings, skipped = _with_row_under_header(
        tmp_path, [None, None, None, "(dd-mm-jjjj)", "(excl. BTW)", "(inwoners/gelijk)"]
    )
    assert findings == [ME_WARNING]
    assert skipped == [("opmerking", f"{BUDGET} › Projectkosten › D2", "(dd-mm-jjjj)")]
    assert model_of(loaded) == reference()  # the five cost lines, 28.225,50 in all


def test_a_bracketed_amount_under_the_header_is_no_unit(tmp_path):
    # '(1.875,50)' is a negative amount: the row stays data, and its empty cells are findings.
    loaded, findings, skipped = _with_row_under_header(
        tmp_path, [None, None, None, "(dd-mm-jjjj)", "(1.875,50)", None]
    )
    assert skipped == []
    assert f"FOUT  {BUDGET} › Projectkosten › A2: is leeg" in findings
    assert f"FOUT  {BUDGET} › Projectkosten › D2: '(dd-mm-jjjj)' is geen datum" in findings


def test_a_dash_as_realised_amount_says_what_to_type(tmp_path):
    # '-' could mean nothing spent (0) or not known yet (empty): refused, and the fix says both.
    loaded, _ = _read(tmp_path, "Begroting", 2, 2, "-")
    (error,) = loaded.errors
    assert said(error) == f"FOUT  {BUDGET} › Begroting › C2: '-' is geen bedrag"
    assert error.fix == (
        "Vul het gerealiseerde bedrag in, bijvoorbeeld 4.250,00 (0 als er niets is uitgegeven), "
        "of laat de cel leeg zolang het nog niet bekend is."
    )


# --- what an amount header says -----------------------------------------------------------------


def _with_header(tmp_path: Path, sheet: str, column: int, text: str):
    return _read(tmp_path, sheet, 1, column, text)


@pytest.mark.parametrize(
    ("sheet", "cell", "typed", "header"),
    [
        # Was read silently as amounts excluding VAT: every invoice 21 % too high.
        ("Projectkosten", "E1", "Bedrag (incl. btw)", "Bedrag"),
        ("Projectkosten", "E1", "Bedrag incl. BTW", "Bedrag"),
        ("Begroting", "B1", "Begroot inclusief BTW", "Begroot"),
    ],
)
def test_a_header_saying_including_vat_is_a_finding(tmp_path, sheet, cell, typed, header):
    loaded, findings = _with_header(tmp_path, sheet, ord(cell[0]) - 65, typed)
    assert findings == sorted(
        [
            ME_WARNING,
            f"FOUT  {BUDGET} › {sheet} › {cell}: de kolomkop '{typed}' zegt dat de bedragen "
            "inclusief btw zijn, maar het programma rekent met bedragen exclusief btw",
        ]
    )
    (error,) = loaded.errors
    assert error.fix == (
        f"Vul de bedragen exclusief btw in en noem de kolom '{header}' of '{header} (excl. BTW)'."
    )


@pytest.mark.parametrize(
    "typed", ["Bedrag excl. BTW", "Bedrag exclusief btw", "Bedrag (excl. BTW)"]
)
def test_a_header_saying_excluding_vat_reads_as_the_plain_folder(tmp_path, typed):
    # 'Bedrag excl. BTW' without brackets was refused: "kolom 'Bedrag' ontbreekt".
    loaded, findings = _with_header(tmp_path, "Projectkosten", AMOUNT, typed)
    assert findings == [ME_WARNING]
    assert model_of(loaded) == reference()  # 12.500 + 4.250 + 3.600 + 1.875,50 + 6.000


def test_amounts_excluding_and_including_vat_side_by_side(tmp_path):
    # The excluding column is read, with a warning saying so (was: "kolom 'Bedrag' ontbreekt").
    layout = plain()
    rows = layout.sheet("Projectkosten").rows
    rows[0][AMOUNT] = "Bedrag incl. BTW"
    rows[0].append("Bedrag excl. BTW")
    for row in rows[1:]:
        row.append(row[AMOUNT])  # the plain amounts, excluding VAT, in G
        row[AMOUNT] = f"{Decimal(str(row[AMOUNT])) * Decimal('1.21'):.2f}"  # 12500 -> 15125.00
    loaded = load_folder(layout.write(tmp_path / "in"))
    assert sorted(said(f) for f in loaded.findings) == sorted(
        [
            ME_WARNING,
            f"WAARSCHUWING  {BUDGET} › Projectkosten › G1: twee kolommen met de kop 'Bedrag' "
            "(E1 ('Bedrag incl. BTW') en G1 ('Bedrag excl. BTW')); gelezen wordt de kolom "
            "exclusief btw",
        ]
    )
    assert model_of(loaded) == reference()


@pytest.mark.parametrize(
    ("column", "cell", "typed", "header"),
    [(1, "B1", "Begroot 2023", "Begroot"), (2, "C1", "Gerealiseerd 2023", "Gerealiseerd")],
)
def test_a_budget_header_naming_another_year_is_a_finding(tmp_path, column, cell, typed, header):
    # Was read silently as the figures of 2024 (the budget's Jaar): last year's realisation
    # settled as this year's.
    loaded, findings = _with_header(tmp_path, "Begroting", column, typed)
    assert findings == sorted(
        [
            ME_WARNING,
            f"FOUT  {BUDGET} › Begroting › {cell}: de kolomkop '{typed}' noemt het jaar 2023, "
            "maar de begroting is van 2024",
        ]
    )
    (error,) = loaded.errors
    assert error.fix == (
        f"Vul de bedragen van 2024 in en noem de kolom '{header} 2024' of '{header}'."
    )


@pytest.mark.parametrize("typed", ["Begroot 2024", "Begroot 2023/2024", "Begroot (2024)"])
def test_a_budget_header_naming_its_own_year_reads_as_the_plain_folder(tmp_path, typed):
    loaded, findings = _with_header(tmp_path, "Begroting", 1, typed)
    assert findings == [ME_WARNING]
    assert model_of(loaded) == reference()  # posts 120.000 + 5.000 + 3.685 + 350 + 2.000
