"""The invoice as a PDF made by the program itself (fpdf2): page 1 the invoice, then the
specification; A4, Dutch formats, every line with its basis and kenmerk.

The font is Helvetica, one of the 14 standard PDF fonts: every PDF reader shows it, or a
metric-compatible substitute (Arial, Liberation Sans, Nimbus Sans), with the same widths, so the
lines break where this module broke them; nothing is embedded and a national run stays fast.
Helvetica covers Windows-1252 (Dutch, the rest of western Europe, '€'); an invoice with any other
character ('Łódź', 'Ελλάδα') is set in DejaVu Sans instead, embedded (a subset), shipped with the
program under `inkoopkracht_xl/fonts/` with its licence.

The pages are laid out here, not by fpdf2's cells: text is wrapped with Helvetica's character
widths and written as PDF operators, which fpdf2 puts on the page through `FPDF._out`, its one
entry point for page content (private, hence `fpdf2<3` in pyproject.toml; the PDF tests read
every page back). A national invoice has some 3.000 strings on 20 pages: `FPDF.text` costs
about 5 µs a string, an operator a tenth of that. fpdf2 keeps what it does well: the document,
the fonts and their resources, compression, and the embedded DejaVu Sans (its text goes
through `FPDF.text`). A cost line is on each participant's invoice: its cells are laid out once
per process and put on every page that shows it by a translation (`cm`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

from ..legal import nbsp
from ..money import to_cents
from .document import InvoiceDocument, cost_description, cost_line_key
from .files import atomic_file

PT = 25.4 / 72  # one point in millimetres
BODY = 9.0  # points: every text a reader needs is at least this size
SMALL = 8.0  # the footer
LEADING = 1.22  # line height as a multiple of the font size
PAD = 1.0  # mm above and below the text of a table row

# Colours as in the workbooks (write/styles.py).
ACCENT = (0x1F, 0x4E, 0x79)
BAND = (0xDD, 0xEB, 0xF7)
TOTAL_FILL = (0xF2, 0xF2, 0xF2)
RULE = (0xBF, 0xBF, 0xBF)
GREY = (0x59, 0x59, 0x59)
BLACK = (0, 0, 0)

PORTRAIT = (210.0, 297.0)
LANDSCAPE = (297.0, 210.0)
MARGIN = 18.0  # left and right on the invoice pages
SPEC_MARGIN = 15.0
TOP = 16.0
BOTTOM = 18.0  # room for the footer

# Invoice table (portrait, 174 mm): Omschrijving | Grondslag | Kenmerk | Bedrag.
INVOICE_COLUMNS = (("Omschrijving", 70.0), ("Grondslag", 52.0), ("Kenmerk", 27.0), ("Bedrag", 25.0))
# Specification table (landscape, 267 mm).
SPEC_COLUMNS = (
    ("Kenmerk", 26.0),
    ("Onderwerp", 42.0),
    ("Omschrijving", 40.0),
    ("Datum", 21.0),
    ("Totaalbedrag", 26.0),
    ("Deelnemers", 44.0),
    ("Grondslag", 46.0),
    ("Aandeel", 22.0),
)
_RIGHT = frozenset({"Bedrag", "Totaalbedrag", "Aandeel"})
_CENTRE = frozenset({"Datum"})
GAP = 2.5  # mm between a column's text and the next column
INSET = 1.2  # mm between a column's left edge and its left-aligned text

PAGE_COMPRESSION = 1  # zlib level of the page contents (see _pdf_class)

_FONTS = files("inkoopkracht_xl") / "fonts"
UNICODE_FAMILY = "DejaVuSans"


# Per process, for the Helvetica invoices: character widths, each text's PDF literal and each
# cell's lines. A national run's worker writes some 170 invoices whose cost lines recur (a cost
# line is on every participant's invoice); each cache holds at most _CACHE_LIMIT entries.
_CORE_WIDTHS: dict[bool, _Widths] = {}
_LITERALS: dict[str, str] = {}
_LINES: dict[tuple[str, float, bool], tuple[str, ...]] = {}
_ROWS: dict[tuple, tuple[str, int]] = {}  # a cost line's cells: (operators, lines)
_CACHE_LIMIT = 30_000


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


class _NeedsUnicode(Exception):
    """A text Helvetica (Windows-1252) cannot show: lay the document out again in DejaVu Sans."""


def write_invoice_pdf(path: Path, document: InvoiceDocument, *, created: datetime) -> bytes:
    """Write the invoice PDF to `path` atomically; returns its bytes (the e-invoice embeds them)."""
    data = invoice_pdf(document, created=created)
    with atomic_file(path) as temporary:
        temporary.write_bytes(data)
    return data


def invoice_pdf(document: InvoiceDocument, *, created: datetime) -> bytes:
    """The invoice as PDF bytes; the same document and time give the same bytes."""
    try:
        return _Layout(document, created, unicode=False).render()
    except _NeedsUnicode:
        return _Layout(document, created, unicode=True).render()


@dataclass(frozen=True)
class _Cell:
    lines: tuple[str, ...]
    align: str = "L"  # L, R or C
    bold: bool = False


class _Widths(dict):
    """Character widths of one font style in 1/1000 of the font size, filled on first use."""

    def __init__(self, width_of: Callable[[str], float]):
        super().__init__()
        self._width_of = width_of

    def __missing__(self, char: str) -> float:
        width = self[char] = self._width_of(char)
        return width


class _Layout:
    def __init__(self, document: InvoiceDocument, created: datetime, *, unicode: bool):
        self.document = document
        self.unicode = unicode
        pdf = _pdf_class()(unit="mm", format="A4")
        pdf.footer_left = f"{document.kind_word} {document.invoice.number} · {document.buyer}"
        pdf.set_auto_page_break(False)  # pages are broken here, with the table header repeated
        pdf.set_compression(True)
        pdf.set_creation_date(created.astimezone() if created.tzinfo else created)
        pdf.set_title(document.title)
        pdf.set_subject(document.subject)
        pdf.set_author(document.author)
        pdf.set_creator("inkoopkracht-xl")
        pdf.set_lang("nl-NL")
        if unicode:
            pdf.add_font(UNICODE_FAMILY, "", str(_FONTS / "DejaVuSans.ttf"))
            pdf.add_font(UNICODE_FAMILY, "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
            self.family = UNICODE_FAMILY
        else:
            pdf.core_fonts_encoding = "windows-1252"
            self.family = "helvetica"
            # The footers are written by `_footers` once the page count is known: no '{nb}'
            # for fpdf2 to look for in every page when the file is made.
            pdf.footer_written = True
            pdf.alias_nb_pages(None)
        pdf.footer_family = self.family
        self.pdf = pdf
        self._widths: dict[bool, _Widths] = {}
        # Operators drawn but not yet handed to fpdf2, and the state they leave.
        self._ops: list[str] = []
        self._font_ids: dict[bool, int] = {}
        self._pen: tuple[tuple[int, int, int], float] | None = None
        self._colour: tuple[int, int, int] | None = None
        self.page_size = PORTRAIT
        self.left = MARGIN
        self.y = TOP
        self._pages: list[tuple[tuple[float, float], float]] = []  # (size, margin) per page
        # Draws the header of the table being written again on each page it runs onto.
        self._table_header: Callable[[], None] | None = None

    # -- fonts and text -------------------------------------------------------------------------

    def _metrics(self, bold: bool) -> _Widths:
        widths = self._widths.get(bold)
        if widths is None and not self.unicode:
            # Helvetica's widths never change: shared by every invoice this process writes.
            widths = self._widths[bold] = _CORE_WIDTHS.get(bold)
        if widths is None:
            self.pdf.set_font(self.family, "B" if bold else "", BODY)
            font = self.pdf.current_font
            if self.unicode:
                table = font.cw

                def width_of(char: str) -> float:
                    return table[ord(char)] if ord(char) < len(table) else 0

            else:
                table = font.cw

                def width_of(char: str) -> float:
                    try:
                        return table[char.encode("cp1252").decode("latin-1")]
                    except (UnicodeEncodeError, KeyError):
                        raise _NeedsUnicode(char) from None

            widths = self._widths[bold] = _Widths(width_of)
            if not self.unicode:
                _CORE_WIDTHS[bold] = widths
        return widths

    def width(self, text: str, size: float = BODY, bold: bool = False) -> float:
        """The width of `text` in millimetres."""
        widths = self._metrics(bold)
        return sum(map(widths.__getitem__, text)) * size * PT / 1000

    def wrap(self, text: str, width: float, size: float = BODY, bold: bool = False) -> list[str]:
        """`text` broken into lines no wider than `width` mm: at spaces (never at the
        non-breaking space that keeps '€' with its amount), a word longer than a line by
        characters."""
        if not text:
            return [""]
        widths = self._metrics(bold)
        scale = size * PT / 1000
        room = width / scale  # in 1/1000 em
        if sum(map(widths.__getitem__, text)) <= room:
            return [text]
        space = widths[" "]
        lines: list[str] = []
        current: list[str] = []
        used = 0.0
        for word in text.split(" "):
            size_of = sum(map(widths.__getitem__, word))
            if current and used + space + size_of <= room:
                current.append(word)
                used += space + size_of
                continue
            if current:
                lines.append(" ".join(current))
            while size_of > room and len(word) > 1:
                cut, taken = 0, 0.0
                while cut < len(word) - 1 and taken + widths[word[cut]] <= room:
                    taken += widths[word[cut]]
                    cut += 1
                cut = max(cut, 1)
                lines.append(word[:cut])
                word = word[cut:]
                size_of = sum(map(widths.__getitem__, word))
            current, used = [word], size_of
        lines.append(" ".join(current))
        return lines

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        *,
        size: float = BODY,
        bold: bool = False,
        colour: tuple[int, int, int] = BLACK,
    ) -> None:
        """`text` with its baseline at (`x`, `baseline`) mm from the page's top left."""
        if not text:
            return
        if self.unicode:  # DejaVu Sans: fpdf2 maps the characters to the embedded subset
            self._flush()
            self.pdf.set_font(self.family, "B" if bold else "", size)
            self.pdf.set_text_color(*colour)
            self.pdf.set_fill_color(*colour)  # equal colours: no extra q/Q per text
            self.pdf.text(x, baseline, text)
            return
        escaped = self._literal(text)
        if self._colour != colour:
            self._ops.append(_rgb(colour, "rg"))
            self._colour = colour
        k = self.pdf.k
        self._ops.append(
            f"BT /F{self._font_ids[bold]} {size:.2f} Tf {x * k:.2f} "
            f"{(self.page_size[1] - baseline) * k:.2f} Td ({escaped}) Tj ET"
        )

    @staticmethod
    def _literal(text: str) -> str:
        """`text` as a PDF string literal's contents in Windows-1252 (Helvetica's encoding)."""
        escaped = _LITERALS.get(text)
        if escaped is None:
            try:
                encoded = text.encode("cp1252").decode("latin-1")
            except UnicodeEncodeError:
                raise _NeedsUnicode(text) from None
            escaped = (
                encoded.replace("\\", "\\\\")
                .replace("(", "\\(")
                .replace(")", "\\)")
                .replace("\r", "")
            )
            _remember(_LITERALS, text, escaped)
        return escaped

    def fill(self, x: float, y: float, w: float, h: float, colour: tuple[int, int, int]) -> None:
        k = self.pdf.k
        if self._colour != colour:
            self._ops.append(_rgb(colour, "rg"))
            self._colour = colour
        self._ops.append(
            f"{x * k:.2f} {(self.page_size[1] - y) * k:.2f} {w * k:.2f} {-h * k:.2f} re f"
        )

    def rule(self, x1: float, y: float, x2: float, colour=RULE, width: float = 0.2) -> None:
        k = self.pdf.k
        if self._pen != (colour, width):
            self._ops.append(f"{_rgb(colour, 'RG')} {width * k:.2f} w")
            self._pen = (colour, width)
        level = (self.page_size[1] - y) * k
        self._ops.append(f"{x1 * k:.2f} {level:.2f} m {x2 * k:.2f} {level:.2f} l S")

    def _flush(self) -> None:
        """Hand the operators drawn so far to the page, in their own graphics state (q ... Q):
        fpdf2's idea of the colours and line width stays true for what it draws itself."""
        if self._ops:
            self.pdf._out("q\n" + "\n".join(self._ops) + "\nQ")  # see the module docstring
            self._ops.clear()
            self._colour = self._pen = None

    @staticmethod
    def line_height(size: float = BODY) -> float:
        return size * LEADING * PT

    def paragraph(
        self, text: str, width: float, *, size: float = BODY, bold: bool = False, colour=BLACK
    ) -> None:
        """Wrapped text at the left margin from the current position, moving down."""
        step = self.line_height(size)
        for line in self.wrap(text, width, size, bold):
            self.ensure(step)
            self.text(
                self.left, self.y + size * PT * 0.8, line, size=size, bold=bold, colour=colour
            )
            self.y += step

    # -- pages ----------------------------------------------------------------------------------

    @property
    def content_width(self) -> float:
        return self.page_size[0] - 2 * self.left

    @property
    def bottom(self) -> float:
        return self.page_size[1] - BOTTOM

    def new_page(self, landscape: bool) -> None:
        self.page_size = LANDSCAPE if landscape else PORTRAIT
        self.left = SPEC_MARGIN if landscape else MARGIN
        self._flush()
        self.pdf.set_margins(self.left, TOP, self.left)
        self.pdf.add_page(orientation="L" if landscape else "P")
        self._pages.append((self.page_size, self.left))
        self._colour = self._pen = None
        self.y = TOP
        if not self.unicode:
            # Each font is put on the page once through fpdf2 (an empty text), so the page lists
            # it among its resources; the text itself is written as operators (see `text`).
            for bold in (False, True):
                self.pdf.set_font(self.family, "B" if bold else "", BODY)
                self.pdf.text(0, 0, "")
                self._font_ids[bold] = self.pdf.current_font.i

    def ensure(self, height: float) -> None:
        """A new page (of the same orientation, with the table header again) if `height` mm
        does not fit on this one."""
        if self.y + height > self.bottom:
            self.new_page(self.page_size == LANDSCAPE)
            if self._table_header is not None:
                self._table_header()

    # -- the document ---------------------------------------------------------------------------

    def render(self) -> bytes:
        self.new_page(landscape=False)
        self._letterhead()
        self._addressee_and_details()
        self._lines()
        self._closing()
        if self.document.specified:
            self._specification()
        self._flush()
        if not self.unicode:
            self._footers()
        return bytes(self.pdf.output())

    def _footers(self) -> None:
        """Every page's footer, as `_pdf_class`'s footer draws it: a rule, the invoice, and
        'pagina N van M' at the right, written into each page once M is known."""
        pdf = self.pdf
        total = len(self._pages)
        for number, (size, left) in enumerate(self._pages, start=1):
            pdf.page = number
            self.page_size, self.left = size, left
            baseline = size[1] - BOTTOM + 8
            right = size[0] - left
            self.rule(left, baseline - 4, right)
            self.text(left, baseline, pdf.footer_left, size=SMALL, colour=GREY)
            shown = f"pagina {number} van {total}"
            x = right - pdf.c_margin - self.width(shown, SMALL)
            self.text(x, baseline, shown, size=SMALL, colour=GREY)
            self._flush()
        pdf.page = total

    def _letterhead(self) -> None:
        document = self.document
        self.paragraph(document.issuer, self.content_width, size=13, bold=True, colour=ACCENT)
        self.y += 0.5
        for line in document.issuer_lines:
            self.paragraph(line, self.content_width, colour=GREY)
        self.y += 1.5
        self.rule(self.left, self.y, self.left + self.content_width, ACCENT, 0.5)
        self.y += 7
        self.text(
            self.left,
            self.y + 18 * PT * 0.8,
            document.kind_word.upper(),
            size=18,
            bold=True,
            colour=ACCENT,
        )
        self.y += self.line_height(18) + 4

    def _addressee_and_details(self) -> None:
        document = self.document
        step = self.line_height()
        top = self.y
        # Left: the buyer as a legal entity, its address.
        y = top
        for index, line in enumerate((document.buyer, *document.buyer_lines)):
            for part in self.wrap(line, 90):
                self.text(self.left, y + BODY * PT * 0.8, part, bold=index == 0)
                y += step
        # Right: number, dates, period, the buyer's references.
        label_x = self.left + 98
        value_right = self.left + self.content_width
        y_right = top
        for label, value in document.details:
            shown = value if isinstance(value, str) else _dutch_date(value)
            self.text(label_x, y_right + BODY * PT * 0.8, label, bold=True)
            for part in self.wrap(shown, value_right - label_x - 32):
                x = value_right - self.width(part)
                self.text(x, y_right + BODY * PT * 0.8, part)
                y_right += step
        self.y = max(y, y_right) + 5
        for line in document.regarding:
            self.paragraph(line, self.content_width, bold=line.startswith("Betreft"))
        self.y += 3

    def _lines(self) -> None:
        document = self.document
        columns = INVOICE_COLUMNS

        def header() -> None:
            self._header_row(columns)

        self._table_header = header
        header()
        for row in document.rows:
            self._row(
                columns,
                [
                    self._cell(row.description, columns[0][1]),
                    self._cell(row.basis, columns[1][1], cached=False),
                    self._cell(row.reference, columns[2][1]),
                    self._cell(_euro(row.amount), columns[3][1], "R", cached=False),
                ],
            )
        self._table_header = None
        # The total, the VAT statement and how to pay stay together on one page.
        self.ensure(self._total_height() + self._closing_height())
        self._total_row(columns, document.total_label, document.total)

    def _closing_height(self) -> float:
        document = self.document
        width = self.content_width
        lines = len(self.wrap(document.vat, width, bold=True))
        lines += len(self.wrap(document.instruction, width))
        lines += sum(len(self.wrap(note, width)) for note in document.notes)
        return lines * self.line_height() + 4 + 2.5 + 1.5 * len(document.notes)

    def _total_height(self) -> float:
        return self.line_height() + 2 * PAD + 1

    def _closing(self) -> None:
        document = self.document
        self.y += 4
        self.paragraph(document.vat, self.content_width, bold=True)
        self.y += 2.5
        self.paragraph(document.instruction, self.content_width)
        for note in document.notes:
            self.y += 1.5
            self.paragraph(note, self.content_width, colour=GREY)

    def _specification(self) -> None:
        document = self.document
        self.new_page(landscape=True)
        self.paragraph(
            f"{document.specification_title} bij {document.kind_word.lower()} "
            f"{document.invoice.number}",
            self.content_width,
            size=13,
            bold=True,
            colour=ACCENT,
        )
        self.y += 1
        self.paragraph(document.specification_intro, self.content_width, colour=GREY)
        self.y += 3
        columns = SPEC_COLUMNS

        def header() -> None:
            self._header_row(columns)

        self._table_header = header
        header()
        for line in document.specified:
            self._specification_row(columns, line)
        self._table_header = None
        self._total_row(columns, document.specification_total_label, document.specified_total)
        self.y += 3
        self.paragraph(document.reconciliation, self.content_width, bold=True)

    # -- tables ---------------------------------------------------------------------------------

    def _cell(
        self, text: str, width: float, align: str = "L", bold: bool = False, cached: bool = True
    ) -> _Cell:
        """A cell's text in lines; `cached=False` for a text of this invoice only (its basis,
        its amounts), which would only crowd the cache."""
        room = width - GAP - (INSET if align == "L" else 0)
        if self.unicode or not cached:
            return _Cell(tuple(self.wrap(text, room, BODY, bold)), align, bold)
        # The same subjects, bases and participants recur on many invoices of one run.
        key = (text, room, bold)
        lines = _LINES.get(key)
        if lines is None:
            lines = tuple(self.wrap(text, room, BODY, bold))
            _remember(_LINES, key, lines)
        return _Cell(lines, align, bold)

    def _cost_cells(self, columns: Sequence[tuple[str, float]], line) -> list[_Cell]:
        """The cells of a specification row that describe the cost line itself: the same on
        every participant's invoice."""
        widths = [width for _, width in columns]
        return [
            self._cell(line.reference, widths[0]),
            self._cell(line.subject, widths[1]),
            self._cell(nbsp(cost_description(line)), widths[2]),
            self._cell(_dutch_date(line.cost_date), widths[3], "C"),
            self._cell(_euro(line.cost_total), widths[4], "R"),
            self._cell(", ".join(line.participants), widths[5]),
        ]

    def _specification_row(self, columns: Sequence[tuple[str, float]], line) -> None:
        """One cost line: what it is, and this municipality's basis and share.

        A cost line is on every participant's invoice, so the operators of its own six cells
        are made once per process, relative to the row's top, and put in place with a
        translation ('cm'); only the basis and the share are drawn per invoice, straight to
        operators (some 70.000 rows in a national run)."""
        basis, share = nbsp(line.basis), _euro(line.amount)
        basis_width, share_width = columns[6][1], columns[7][1]
        if self.unicode:
            own = [self._cell(basis, basis_width), self._cell(share, share_width, "R")]
            self._row(columns, [*self._cost_cells(columns, line), *own])
            return
        operators, cost_lines = self._cost_line_operators(columns, line)
        # As `_cell` lays them out, without its cache: these texts are this invoice's own.
        basis_lines = self.wrap(basis, basis_width - GAP - INSET)
        share_lines = self.wrap(share, share_width - GAP)
        step = self.line_height()
        height = max(cost_lines, len(basis_lines), len(share_lines)) * step + 2 * PAD
        self.ensure(height)
        k = self.pdf.k
        ops = self._ops
        ops.append(f"q 1 0 0 1 0 {(self.page_size[1] - self.y) * k:.2f} cm\n{operators}\nQ")
        x = self.left + sum(width for _, width in columns[:6])
        first_baseline = self.y + PAD + BODY * PT * 0.8
        baseline = first_baseline
        for text in basis_lines:
            self.text(x + INSET, baseline, text)
            baseline += step
        right = x + basis_width + share_width - GAP
        baseline = first_baseline
        for text in share_lines:
            self.text(right - self.width(text), baseline, text)
            baseline += step
        self.y += height
        self.rule(self.left, self.y, self.left + self.content_width)

    def _cost_line_operators(self, columns: Sequence[tuple[str, float]], line) -> tuple[str, int]:
        """The operators of a cost line's own six cells relative to its row's top, and the
        lines the tallest takes: made once per process (cached in _ROWS)."""
        key = (*cost_line_key(line), self.left, self._font_ids[False])
        shared = _ROWS.get(key)
        if shared is None:
            cells = self._cost_cells(columns, line)
            shared = (self._relative_ops(columns[:6], cells), max(len(c.lines) for c in cells))
            _remember(_ROWS, key, shared)
        return shared

    def _relative_ops(self, columns: Sequence[tuple[str, float]], cells: list[_Cell]) -> str:
        """The operators of `cells` (left to right from the margin), with y relative to the top
        of their row, in black and the regular font."""
        k = self.pdf.k
        step = self.line_height()
        ops = ["0 0 0 rg"]
        x = self.left
        for (_, width), cell in zip(columns, cells, strict=True):
            baseline = PAD + BODY * PT * 0.8
            for text in cell.lines:
                if text:
                    left = self._aligned(x, width, text, cell)
                    literal = self._literal(text)
                    ops.append(
                        f"BT /F{self._font_ids[cell.bold]} {BODY:.2f} Tf {left * k:.2f} "
                        f"{-baseline * k:.2f} Td ({literal}) Tj ET"
                    )
                baseline += step
            x += width
        return "\n".join(ops)

    def _aligned(self, x: float, width: float, text: str, cell: _Cell) -> float:
        if cell.align == "R":
            return x + width - GAP - self.width(text, bold=cell.bold)
        if cell.align == "C":
            return x + (width - self.width(text, bold=cell.bold)) / 2
        return x + INSET

    def _cell_text(self, x: float, width: float, cell: _Cell) -> None:
        baseline = self.y + PAD + BODY * PT * 0.8
        for text in cell.lines:
            self.text(self._aligned(x, width, text, cell), baseline, text, bold=cell.bold)
            baseline += self.line_height()

    def _header_row(self, columns: Sequence[tuple[str, float]]) -> None:
        height = self.line_height() + 2 * PAD
        self.fill(self.left, self.y, self.content_width, height, BAND)
        x = self.left
        baseline = self.y + PAD + BODY * PT * 0.8
        for name, width in columns:
            if name in _RIGHT:
                self.text(x + width - GAP - self.width(name, bold=True), baseline, name, bold=True)
            elif name in _CENTRE:
                self.text(x + (width - self.width(name, bold=True)) / 2, baseline, name, bold=True)
            else:
                self.text(x + INSET, baseline, name, bold=True)
            x += width
        self.y += height
        self.rule(self.left, self.y, self.left + self.content_width, ACCENT, 0.3)

    def _row(self, columns: Sequence[tuple[str, float]], cells: list[_Cell]) -> None:
        step = self.line_height()
        height = max(len(cell.lines) for cell in cells) * step + 2 * PAD
        self.ensure(height)
        x = self.left
        for (_, width), cell in zip(columns, cells, strict=True):
            self._cell_text(x, width, cell)
            x += width
        self.y += height
        self.rule(self.left, self.y, self.left + self.content_width)

    def _total_row(self, columns: Sequence[tuple[str, float]], label: str, amount: Decimal) -> None:
        height = self._total_height()
        self.ensure(height)
        self.fill(self.left, self.y, self.content_width, height, TOTAL_FILL)
        baseline = self.y + PAD + 0.5 + BODY * PT * 0.8
        self.text(self.left + INSET, baseline, label, bold=True)
        shown = _euro(amount)
        right = self.left + self.content_width - GAP
        self.text(right - self.width(shown, bold=True), baseline, shown, bold=True)
        self.y += height
        self.rule(self.left, self.y, self.left + self.content_width, BLACK, 0.4)


_PDF_CLASS = None


def _pdf_class():
    """FPDF with our footer: fpdf2 calls `footer` as each page is finished, with that page's
    size, and replaces '{nb}' by the page count when the file is written. Made on first use:
    fpdf2 is imported only when a PDF is made."""
    global _PDF_CLASS
    if _PDF_CLASS is None:
        from fpdf import FPDF
        from fpdf.syntax import PDFContentStream

        # The page contents compressed at zlib's fastest level. fpdf2 takes the level from this
        # class attribute (its source: "Passed to zlib.compress() - In range 0-9"), the same for
        # every PDF it makes: ours are the only ones in this process. A national invoice's 20
        # pages: 10 % larger (43 -> 48 kB), and the settlement 0,3-0,6 s faster (at level 6
        # zlib took 8 % of the run's processor time). tests/test_invoice_pdf.py checks fpdf2
        # still reads it.
        PDFContentStream._COMPRESSION_LEVEL = PAGE_COMPRESSION

        class InvoicePdf(FPDF):
            footer_left = ""
            footer_family = "helvetica"
            footer_written = False  # by _Layout._footers (core fonts), not here

            def footer(self) -> None:
                if self.footer_written:
                    return
                baseline = self.h - BOTTOM + 8
                self.set_draw_color(*RULE)
                self.set_line_width(0.2)
                self.line(self.l_margin, baseline - 4, self.w - self.r_margin, baseline - 4)
                self.set_font(self.footer_family, "", SMALL)
                self.set_text_color(*GREY)
                self.set_fill_color(*GREY)
                self.text(self.l_margin, baseline, self.footer_left)
                self.set_xy(self.l_margin, baseline - SMALL * PT * 0.8)
                self.cell(
                    self.w - self.l_margin - self.r_margin,
                    SMALL * PT,
                    f"pagina {self.page_no()} van {{nb}}",
                    align="R",
                )

        _PDF_CLASS = InvoicePdf
    return _PDF_CLASS


def _rgb(colour: tuple[int, int, int], operator: str) -> str:
    red, green, blue = colour
    return f"{red / 255:.3f} {green / 255:.3f} {blue / 255:.3f} {operator}"


def _euro(amount: Decimal | None) -> str:
    """'€ 1.234,56' with a non-breaking space, as money.format_euro writes it (from whole cents:
    thousands of amounts per invoice at national scale)."""
    if amount is None:
        return ""
    cents = to_cents(amount)
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"€\u00a0{sign}{euros:,}".replace(",", ".") + f",{rest:02d}"


def _dutch_date(day: date | None) -> str:
    return f"{day:%d-%m-%Y}" if day else ""
