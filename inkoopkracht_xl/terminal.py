"""What the terminal shows: one printer for every table a command prints, and its colours.

A table is a list of columns and rows of text (amounts already formatted the Dutch way by
money.py). Amounts are right-aligned: money.py gives every amount the same two decimals, so
their commas line up. A table fits WIDTH columns: when it is wider, the columns marked `shrink`
(names, descriptions) are shortened with '…'; a `Note` under a row (to whom, which files, what
went wrong) is wrapped instead. The lines are plain text, so a library caller or a test gets the
same text as the terminal; only `echo_lines` styles them (the heading bold, FOUT red,
WAARSCHUWING yellow), and click.echo drops the styling when stdout is not a terminal (a pipe, a
file, a test), so colour shows only on a terminal.

Imports nothing of the package: every layer that prints may use it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import click

WIDTH = 100  # every table fits a terminal of 100 columns
GAP = "  "  # between two columns
NOTE_INDENT = 4  # a note starts this far right of its row
_LEVEL_COLOURS = {"FOUT": "red", "WAARSCHUWING": "yellow"}


@dataclass(frozen=True)
class Column:
    """One column: its heading, '<' (text) or '>' (numbers, amounts), a minimum width (keeps
    tables printed one after the other aligned), and whether it may be shortened to fit."""

    heading: str
    align: Literal["<", ">"] = "<"
    width: int = 0
    shrink: bool = False


@dataclass(frozen=True)
class Note:
    """A line under the row before it ('aan: …', 'mislukt: …'), wrapped to the width."""

    label: str
    text: str


@dataclass(frozen=True)
class Rule:
    """A line of dashes as wide as the heading (above a total)."""


RULE = Rule()
Row = Sequence[str] | Note | Rule


class Heading(str):
    """A table's heading line: plain text that `echo_lines` prints bold on a terminal."""

    __slots__ = ()


def table_lines(
    columns: Sequence[Column],
    rows: Iterable[Row],
    *,
    indent: int = 2,
    heading: bool = True,
    width: int = WIDTH,
) -> list[str]:
    """The table as lines of at most `width` characters (a note's long word excepted).

    Trailing spaces are dropped, so a row with empty last cells ends at its last value.
    """
    rows = list(rows)
    cells: list[Sequence[str]] = [row for row in rows if not isinstance(row, Note | Rule)]
    for row in cells:
        if len(row) != len(columns):
            raise ValueError(f"a row of {len(row)} cells in a table of {len(columns)} columns")
    widths = _widths(columns, cells, indent, width)

    def line(values: Sequence[str]) -> str:
        parts = (_fit(v, w, c.align) for v, w, c in zip(values, widths, columns, strict=True))
        return (" " * indent + GAP.join(parts)).rstrip()

    head = line([column.heading for column in columns])
    lines: list[str] = [Heading(head)] if heading else []
    for item in rows:
        if isinstance(item, Rule):
            lines.append(" " * indent + "-" * (len(head) - indent))
        elif isinstance(item, Note):
            lines += note_lines(item, indent + NOTE_INDENT, width)
        else:
            lines.append(line(item))
    return lines


def note_lines(note: Note, indent: int, width: int = WIDTH) -> list[str]:
    """`note` wrapped at `width`, its continuation lines under the text after the label."""
    return textwrap.wrap(
        note.text,
        width,
        initial_indent=" " * indent + note.label,
        subsequent_indent=" " * (indent + len(note.label)),
        break_on_hyphens=False,
    )


def _widths(
    columns: Sequence[Column], cells: Sequence[Sequence[str]], indent: int, width: int
) -> list[int]:
    widths = [
        max([len(column.heading), column.width, *(len(row[i]) for row in cells)])
        for i, column in enumerate(columns)
    ]
    excess = indent + sum(widths) + len(GAP) * (len(widths) - 1) - width
    for i, column in enumerate(columns):
        if excess > 0 and column.shrink:
            cut = min(excess, widths[i] - max(len(column.heading), column.width, 1))
            widths[i] -= cut
            excess -= cut
    return widths


def _fit(value: str, width: int, align: str) -> str:
    if len(value) > width:
        value = value[: width - 1] + "…"
    return f"{value:{align}{width}}"


def styled(line: str, level: str) -> str:
    """`line` with its level word ('FOUT  …', 'WAARSCHUWING  …') in colour; other lines as
    they are. The colour codes reach only a terminal (click.echo strips them elsewhere)."""
    colour = _LEVEL_COLOURS.get(level)
    if not colour:
        return line
    head, _, tail = line.partition("  ")
    return click.style(head, fg=colour, bold=True) + "  " + tail


def echo_lines(lines: Iterable[str], *, err: bool = False) -> None:
    """Print lines as `table_lines` made them: a table's heading bold on a terminal."""
    for line in lines:
        click.echo(click.style(line, bold=True) if isinstance(line, Heading) else line, err=err)


def print_table(columns: Sequence[Column], rows: Iterable[Row], **options: int | bool) -> None:
    """Print a table (see `table_lines` for the options)."""
    echo_lines(table_lines(columns, rows, **options))  # type: ignore[arg-type]
