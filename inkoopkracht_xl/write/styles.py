"""Every cell format, colour and page set-up of the workbooks we write, in one place."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

# Number formats are stored in Excel's neutral (US) notation; Excel and LibreOffice show them in
# the reader's locale, so a Dutch Excel shows € 34.266,00, 26,15 % and 1-1-2023.
MONEY = '"€" #,##0.00;"€" -#,##0.00'
MONEY_WHOLE = '"€" #,##0;"€" -#,##0'
PERCENT = "0.00 %"
WHOLE = "#,##0"
DATE = "dd-mm-yyyy"  # as the jaarplan writes dates: 01-01-2023

# xlsxwriter options for every workbook we write.
WORKBOOK_OPTIONS: dict[str, Any] = {
    # User text starting with = + - @ stays text: never a formula (SPEC §3, formula injection).
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    # Builds the file in memory: faster for small files, and fixed timestamps in the zip.
    "in_memory": True,
}

DEFAULT_ROW_HEIGHT = 15.0  # points: one line of 10-point text, as wrapped_height gives it
ACCENT = "#1F4E79"  # dark blue of the header bands
BAND = "#DDEBF7"  # light blue fill of header rows
TOTAL_FILL = "#F2F2F2"
GOOD = "#C6EFCE"
BAD = "#FFC7CE"
FONT = "Calibri"

_BASE: dict[str, Any] = {"font_name": FONT, "font_size": 10, "valign": "top"}
_DEFINITIONS: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 15, "font_color": ACCENT},
    "subtitle": {"italic": True, "font_color": "#595959", "text_wrap": True},
    "heading": {"bold": True, "font_size": 11, "font_color": ACCENT},
    "header": {"bold": True, "bg_color": BAND, "bottom": 1, "text_wrap": True, "valign": "bottom"},
    "header_right": {
        "bold": True,
        "bg_color": BAND,
        "bottom": 1,
        "text_wrap": True,
        "valign": "bottom",
        "align": "right",
    },
    "header_centre": {
        "bold": True,
        "bg_color": BAND,
        "bottom": 1,
        "text_wrap": True,
        "valign": "bottom",
        "align": "center",
    },
    "header_rotated": {
        "bold": True,
        "bg_color": BAND,
        "bottom": 1,
        "rotation": 90,
        "align": "center",
        "valign": "bottom",
    },
    "group": {"bold": True, "bg_color": ACCENT, "font_color": "#FFFFFF", "align": "center"},
    "band": {"bold": True, "bg_color": BAND, "top": 1},
    "text": {},
    "wrap": {"text_wrap": True},
    "bold": {"bold": True},
    "label": {"bold": True, "text_wrap": True},
    "section": {"bold": True, "bg_color": BAND, "text_wrap": True},
    "code": {"font_name": "Consolas", "font_size": 9},
    "code_indent": {"font_name": "Consolas", "font_size": 9, "indent": 1},
    "header_indent": {"bold": True, "bg_color": BAND, "bottom": 1, "valign": "bottom", "indent": 1},
    "mark": {"align": "center"},
    "unknown": {"align": "center", "bg_color": BAD, "bold": True},
    "money": {"num_format": MONEY},
    "money_whole": {"num_format": MONEY_WHOLE},
    "percent": {"num_format": PERCENT},
    "whole": {"num_format": WHOLE},
    "date": {"num_format": DATE, "align": "left"},
    "total_label": {"bold": True, "bg_color": TOTAL_FILL, "top": 1, "bottom": 6},
    "total_money": {
        "bold": True,
        "bg_color": TOTAL_FILL,
        "top": 1,
        "bottom": 6,
        "num_format": MONEY,
    },
    "total_percent": {
        "bold": True,
        "bg_color": TOTAL_FILL,
        "top": 1,
        "bottom": 6,
        "num_format": PERCENT,
    },
    "total_whole": {
        "bold": True,
        "bg_color": TOTAL_FILL,
        "top": 1,
        "bottom": 6,
        "num_format": WHOLE,
    },
    "total_mark": {"bold": True, "bg_color": TOTAL_FILL, "top": 1, "bottom": 6, "align": "center"},
    # A count on a total row: "1 stuk", "5 stuks" (the Facturen sheet).
    "total_count": {
        "bold": True,
        "bg_color": TOTAL_FILL,
        "top": 1,
        "bottom": 6,
        "num_format": '[=1]0 "stuk";0 "stuks"',
        "align": "left",
    },
    "check": {"bold": True, "align": "center", "border": 1},
    "note": {"italic": True, "font_color": "#595959", "text_wrap": True},
    "warning": {"font_color": "#9C5700", "text_wrap": True},
    "error": {"font_color": "#9C0006", "text_wrap": True, "bold": True},
    "diagonal": {"bold": True, "align": "center", "border": 1, "border_color": "#808080"},
    "count": {"align": "center"},
    # The invoice (Factuur sheet): letterhead, title, addressee and the details block.
    "invoice_title": {"bold": True, "font_size": 20, "font_color": ACCENT},
    "sender_name": {"bold": True, "font_size": 12, "font_color": ACCENT},
    "sender": {"font_color": "#404040"},
    "letterhead_rule": {"bottom": 2, "bottom_color": ACCENT},
    "addressee": {"bold": True, "font_size": 11},
    "detail_label": {"bold": True},
    "detail_value": {"align": "left"},
    "detail_date": {"num_format": DATE, "align": "left"},
    "subject_line": {"bold": True, "text_wrap": True},
    "instruction": {"text_wrap": True, "font_size": 10},
    # Invoice lines: a hairline between lines guides the eye across the wide description.
    "line_text": {"text_wrap": True, "bottom": 7, "bottom_color": "#BFBFBF"},
    "line_code": {"align": "left", "indent": 1, "bottom": 7, "bottom_color": "#BFBFBF"},
    "line_money": {"num_format": MONEY, "bottom": 7, "bottom_color": "#BFBFBF"},
    # Indented or centred cells keep a wrapped neighbour's text from touching them
    # (Excel indents only left-aligned cells, so the indented ones say align left).
    "wrap_indent": {"text_wrap": True, "align": "left", "indent": 1},
    "error_indent": {
        "font_color": "#9C0006",
        "text_wrap": True,
        "bold": True,
        "align": "left",
        "indent": 1,
    },
    "header_wrap_indent": {
        "bold": True,
        "bg_color": BAND,
        "bottom": 1,
        "text_wrap": True,
        "valign": "bottom",
        "align": "left",
        "indent": 1,
    },
    "date_centre": {"num_format": DATE, "align": "center"},
    "centre": {"align": "center"},
    "band_centre": {"bold": True, "bg_color": BAND, "top": 1, "align": "center"},
}


class Styles:
    """The formats of one workbook: `styles.money`, `styles.header`, ...

    Each is created on first use and then reused, so a workbook only carries the formats it
    needs (hundreds of invoice workbooks are written per run; unused formats cost time).
    """

    _EXTRA: dict[str, dict[str, Any]] = {
        "good": {"bg_color": GOOD, "font_color": "#006100"},  # conditional formats: no base
        "bad": {"bg_color": BAD, "font_color": "#9C0006"},
    }

    def __init__(self, workbook: Workbook):
        self._workbook = workbook

    def __getattr__(self, name: str) -> Any:
        if name in _DEFINITIONS:
            fmt = self._workbook.add_format({**_BASE, **_DEFINITIONS[name]})
        elif name in self._EXTRA:
            fmt = self._workbook.add_format(self._EXTRA[name])
        else:
            raise AttributeError(f"no format named {name!r} in styles.py")
        setattr(self, name, fmt)
        return fmt


def number(value: Decimal | int) -> float | int:
    """The one place a Decimal becomes a float: the cell value xlsx stores (a double).

    Amounts up to 15 significant digits survive exactly (Excel shows 15), and every amount we
    write is rounded to cents first, so the cell shows exactly our Decimal.
    """
    if isinstance(value, int):
        return value
    return float(value)


def fraction_of_percentage(percentage: Decimal) -> float:
    """26.15 (our percentage) as the cell value 0.2615 that the PERCENT format shows as 26,15 %."""
    return float(percentage / 100)


def set_widths(sheet: Worksheet, widths: tuple[float, ...]) -> None:
    """Column widths (Excel character units) from column A on."""
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)


def print_setup(
    sheet: Worksheet,
    *,
    landscape: bool = False,
    repeat_rows: tuple[int, int] | None = None,
    fit_width: bool = True,
    title: str = "",
) -> None:
    """A4, fit to the page width, header rows repeated, page numbers in the footer (Dutch)."""
    sheet.set_paper(9)  # A4
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    if fit_width:
        sheet.fit_to_pages(1, 0)
    if repeat_rows is not None:
        sheet.repeat_rows(*repeat_rows)
    # Excel allows 255 characters in a footer; a very long name is shortened, never dropped.
    if len(title) > 150:
        title = title[:149] + "…"
    sheet.set_footer(f"&L&8{_escape_header(title)}&R&8Pagina &P van &N")


# Advance widths of Calibri regular for ' ' to '~', in 1/1000 em (those of Carlito, its
# metric-compatible twin): how many lines a wrapped cell takes is then worked out the way Excel
# and LibreOffice break it, so a row is exactly as tall as its text (issue 13: rows of even
# height, never a blank line below the text). Other characters count as 500 ('€' is 507).
_CALIBRI = (
    226, 326, 401, 498, 507, 715, 682, 221, 303, 303, 498, 498, 250, 306, 252, 386,
    507, 507, 507, 507, 507, 507, 507, 507, 507, 507, 268, 268, 498, 498, 498, 463,
    894, 579, 544, 533, 615, 488, 459, 631, 623, 252, 319, 520, 420, 855, 646, 662,
    517, 673, 543, 459, 487, 642, 567, 890, 519, 487, 468, 307, 386, 307, 498, 498,
    291, 479, 525, 423, 525, 498, 305, 471, 525, 229, 239, 455, 229, 799, 525, 527,
    525, 525, 349, 391, 335, 525, 452, 715, 433, 453, 395, 314, 460, 314, 498,
)  # fmt: skip


class _CharWidths(dict):
    def __missing__(self, char: str) -> int:
        return 500


_WIDTHS = _CharWidths({chr(32 + index): width for index, width in enumerate(_CALIBRI)})
_WIDTHS["\u00a0"] = 226
_WIDTH_OF = _WIDTHS.__getitem__
_WIDEST = max(_CALIBRI)
_FONT_PX = 10 * 96 / 72 / 1000  # pixels per 1/1000 em of 10-point text at 96 dpi
_CELL_PADDING_PX = 7  # Excel leaves about 3 pixels either side of a cell's text


def _room_px(width: float) -> float:
    """The pixels a column of `width` character units leaves for text (Excel's formula for the
    column's pixel width, less the cell's padding)."""
    return int(width * 7 + 0.5) + 5 - _CELL_PADDING_PX


def text_lines(text: str, width: float) -> int:
    """How many lines `text` takes in a wrapping cell `width` character units wide: broken at
    spaces (never at the non-breaking space that keeps '€' with its amount) and line breaks."""
    room = _ROOMS.get(width)
    if room is None:
        room = _ROOMS[width] = _room_px(width) / _FONT_PX
    if len(text) * _WIDEST <= room and "\n" not in text:
        return 1  # the common case, kept cheap: thousands of rows go through here
    key = (text, width)
    known = _LINES.get(key)
    if known is not None:
        return known
    if "\n" not in text and sum(map(_WIDTH_OF, text)) <= room:
        lines = 1
    else:
        lines = _broken_lines(text, room)
    if len(_LINES) >= 30_000:
        _LINES.clear()
    _LINES[key] = lines
    return lines


# Lines per (text, width): the same descriptions and bases recur on many rows and invoices.
_LINES: dict[tuple[str, float], int] = {}
_ROOMS: dict[float, float] = {}  # column width -> room for text, in 1/1000 em


def _broken_lines(text: str, room: float) -> int:
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            size = sum(map(_WIDTH_OF, word))
            if used and used + _WIDTHS[" "] + size <= room:
                used += _WIDTHS[" "] + size
            elif not used and size <= room:
                used = size
            else:
                if used:
                    lines += 1
                # A word longer than the column breaks by characters.
                extra, used = divmod(size, room) if size > room else (0, size)
                lines += int(extra)
    return max(lines, 1)


def wrapped_lines(texts_and_widths: list[tuple[str, float]]) -> int:
    """The lines the tallest of these wrapped cells takes (widths in Excel character units)."""
    return max((text_lines(text, width) for text, width in texts_and_widths), default=1)


def lines_height(lines: int, line_height: float = 13.0) -> float:
    """A row height (points) that shows `lines` lines of wrapped 10-point Calibri text whole."""
    return lines * line_height + 2


def wrapped_height(texts_and_widths: list[tuple[str, float]], line_height: float = 13.0) -> float:
    """A row height (points) that shows wrapped 10-point Calibri text whole, no taller:
    LibreOffice does not grow rows itself. Widths are in Excel character units."""
    return lines_height(wrapped_lines(texts_and_widths), line_height)


def set_wrapped_height(
    sheet: Worksheet, row: int, texts_and_widths: list[tuple[str, float]]
) -> None:
    """Give a row the height its wrapped text needs; a row whose text fits keeps the default."""
    set_lines_height(sheet, row, wrapped_lines(texts_and_widths))


def set_lines_height(sheet: Worksheet, row: int, lines: int) -> None:
    """Give a row the height of `lines` wrapped lines; one line keeps the default height."""
    height = lines_height(lines)
    if height > DEFAULT_ROW_HEIGHT:
        sheet.set_row(row, height)


def write_titles(
    sheet: Worksheet, styles: Styles, title: str, subtitle: str, width: tuple[int, float]
) -> None:
    """Title and a wrapped subtitle over the first `width[0]` columns (`width[1]` characters)."""
    columns, characters = width
    sheet.write_string(0, 0, title, styles.title)
    sheet.set_row(0, 22)
    if columns > 1:
        sheet.merge_range(1, 0, 1, columns - 1, subtitle, styles.subtitle)
    else:
        sheet.write_string(1, 0, subtitle, styles.subtitle)
    sheet.set_row(1, wrapped_height([(subtitle, characters)]))


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")
