"""The one table printer (inkoopkracht_xl/terminal.py): aligned amounts, 100 columns, colour only
on a terminal."""

from __future__ import annotations

from decimal import Decimal

import click
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.money import format_euro
from inkoopkracht_xl.terminal import (
    RULE,
    Column,
    Heading,
    Note,
    echo_lines,
    print_table,
    styled,
    table_lines,
)

KEY = (
    Column("Code"),
    Column("Gemeente"),
    Column("Bijdrage", ">"),
)


def test_amounts_are_right_aligned_so_their_commas_line_up():
    rows = [
        ("DE", "Delft", format_euro(Decimal("34266"))),
        ("PN", "Pijnacker-Nootdorp", format_euro(Decimal("-1234.5"))),
        RULE,
        ("", "Totaal", format_euro(Decimal("131035"))),
    ]
    # Widths: Code 4 (heading), Gemeente 18 (Pijnacker-Nootdorp), Bijdrage 12 (€ 131.035,00);
    # two spaces between columns, two before the first.
    assert table_lines(KEY, rows) == [
        "  Code  Gemeente                Bijdrage",
        "  DE    Delft                € 34.266,00",
        "  PN    Pijnacker-Nootdorp   € -1.234,50",
        "  " + "-" * 38,  # 4 + 2 + 18 + 2 + 12: as wide as the heading
        "        Totaal              € 131.035,00",
    ]
    commas = {line.index(",") for line in table_lines(KEY, rows)[1:] if "," in line}
    assert commas == {37}  # 2 + 38 characters, the comma third from the end


def test_the_heading_is_marked_and_bold_only_on_a_terminal():
    lines = table_lines(KEY, [("DE", "Delft", "€ 1,00")], indent=0)
    assert isinstance(lines[0], Heading) and not isinstance(lines[1], Heading)

    @click.command()
    def show() -> None:
        echo_lines(lines)
        click.echo(styled("FOUT  iets", "FOUT"))

    terminal = CliRunner().invoke(show, color=True).output
    assert terminal.splitlines()[0] == "\x1b[1mCode  Gemeente  Bijdrage\x1b[0m"
    assert terminal.splitlines()[2] == "\x1b[31m\x1b[1mFOUT\x1b[0m  iets"
    piped = CliRunner().invoke(show).output
    assert piped.splitlines() == [
        "Code  Gemeente  Bijdrage",
        "DE    Delft       € 1,00",
        "FOUT  iets",
    ]


def test_a_long_name_is_shortened_to_fit_100_columns():
    name = "Gemeenschappelijke Regeling " * 5  # 140 characters
    columns = (Column("Nummer"), Column("Gemeente", shrink=True), Column("Totaal", ">"))
    lines = table_lines(columns, [("IK-2024-0001", name.strip(), "€ 1.234.567,89")])
    assert max(len(line) for line in lines) == 100
    # 2 + 12 (number) + 2 + name + 2 + 14 (amount) = 100: the name keeps 68 characters.
    assert lines[1] == "  IK-2024-0001  " + name[:67] + "…  € 1.234.567,89"


def test_notes_wrap_under_their_row():
    columns = (Column("Nummer"), Column("Staat"))
    text = "inkoop@delft.example.org, " * 6
    lines = table_lines(columns, [("IK-2024-0001", "te versturen"), Note("aan: ", text.strip())])
    assert lines[2] == "      aan: " + ", ".join(["inkoop@delft.example.org"] * 3) + ","
    assert lines[3].startswith(" " * 11 + "inkoop@delft.example.org")
    assert all(len(line) <= 100 for line in lines)


def test_minimum_widths_keep_tables_aligned_and_empty_cells_leave_no_spaces():
    columns = (Column("Periode", width=10), Column("Staat"), Column("Totaal", ">"))
    assert table_lines(columns, [("2024-H2", "open", "")]) == [
        "  Periode     Staat  Totaal",
        "  2024-H2     open",
    ]


def test_a_row_of_the_wrong_length_is_a_programming_error():
    with pytest.raises(ValueError, match="a row of 2 cells in a table of 3 columns"):
        table_lines(KEY, [("DE", "Delft")])


def test_print_table_prints_the_lines():
    @click.command()
    def show() -> None:
        print_table(KEY, [("ZM", "Zoetermeer", "€ 41.027,00")], indent=0)

    assert CliRunner().invoke(show).output == (
        "Code  Gemeente       Bijdrage\nZM    Zoetermeer  € 41.027,00\n"
    )
