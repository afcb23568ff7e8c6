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


def wrapped_height(texts_and_widths: list[tuple[str, float]], line_height: float = 13.0) -> float:
    """A row height (points) that shows wrapped text whole; LibreOffice does not grow rows itself.

    Width is in Excel character units; about 1.1 characters of 10-point Calibri fit in one unit.
    """
    lines = 1
    for text, width in texts_and_widths:
        per_line = max(1, int(width * 1.1))
        if len(text) <= per_line and "\n" not in text:
            continue  # the common case, kept cheap: thousands of rows go through here
        needed = sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
        lines = max(lines, needed)
    return lines * line_height + 2


def set_wrapped_height(
    sheet: Worksheet, row: int, texts_and_widths: list[tuple[str, float]]
) -> None:
    """Give a row the height its wrapped text needs; a row whose text fits keeps the default."""
    height = wrapped_height(texts_and_widths)
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
