"""Cached results for the formulas of a workbook that openpyxl saved (it writes none).

Our reader never trusts a formula without a cached result (SPEC §1), and neither should Excel's
first view. So, after next year's workbooks were edited: a formula none of whose inputs changed
keeps the result it had; a sum (SUM, SUBTOTAL 9/109, or cells added and subtracted) over
changed cells gets its new result, computed here; any other formula that depends on a changed
cell is left without one, for Excel or LibreOffice to calculate when the workbook is opened
(the workbook asks for a full calculation on load).
"""

from __future__ import annotations

import bisect
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.utils.datetime import to_excel

from ..read import values

MAX_ROW, MAX_COLUMN = 1_048_576, 16_384  # Excel's grid
# Functions whose result does not follow from the cells they name.
_DYNAMIC = {"INDIRECT", "OFFSET", "NOW", "TODAY", "RAND", "RANDBETWEEN", "CELL", "INFO"}
_SUMS = {"SUM", "SUBTOTAL"}

Key = tuple[str, int, int]  # (sheet title, 1-based row, 1-based column)
UNKNOWN = object()  # a value that is not known: the formula stays without a cached result


@dataclass(frozen=True, slots=True)
class _Range:
    sheet: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int

    def holds(self, key: Key) -> bool:
        sheet, row, col = key
        return (
            sheet == self.sheet
            and self.min_row <= row <= self.max_row
            and self.min_col <= col <= self.max_col
        )


def cache_results(
    workbook: Workbook,
    changed: Iterable[Key],
    old_result: Callable[[str, int, int], object],
) -> dict[Key, object]:
    """The cached result each formula of `workbook` can be given: the old one (`old_result`,
    UNKNOWN when there was none) where none of its inputs is in `changed` or depends on one; a
    sum over changed cells computed anew; formulas missing from the result stay uncached."""
    formulas = {
        (sheet.title, row, col): cell.value
        for sheet in workbook.worksheets
        # _cells: every cell that exists; iter_rows would create the empty ones it passes.
        for (row, col), cell in sheet._cells.items()
        if cell.data_type == "f" and isinstance(cell.value, str)
    }
    if not formulas:
        return {}
    ranges = {key: _references(text, key, workbook) for key, text in formulas.items()}
    touched = _Cells(changed)
    affected = {
        key for key, refs in ranges.items() if refs is None or any(touched.meets(r) for r in refs)
    }
    # What depends on an affected formula is affected too.
    while True:
        spreading = _Cells(affected)
        more = {
            key
            for key, refs in ranges.items()
            if key not in affected and any(spreading.meets(r) for r in refs)
        }
        if not more:
            break
        affected |= more
    results: dict[Key, object] = {}
    for key in formulas.keys() - affected:
        value = old_result(*key)
        if value is not UNKNOWN:
            results[key] = value
    pending = set(affected)
    while pending:
        done = set()
        for key in sorted(pending):
            value = _sum(formulas[key], key, workbook, formulas, results)
            if value is not None:
                results[key] = value
                done.add(key)
        if not done:
            break
        pending -= done
    return results


def with_results(data: bytes, workbook: Workbook, results: dict[Key, object]) -> bytes:
    """The xlsx `data` (as openpyxl saved `workbook`) with `results` as the formulas' cached
    values. Only the <v/> openpyxl left empty is filled in; everything else stays byte for byte."""
    parts: dict[str, dict[str, tuple[str, str]]] = {}
    for (sheet, row, col), value in results.items():
        shown = _xml_value(value)
        if shown is not None:
            part = workbook[sheet].path.lstrip("/")  # set by openpyxl when it saved
            parts.setdefault(part, {})[f"{get_column_letter(col)}{row}"] = shown
    if not parts:
        return data
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename in parts:
                content = _fill(content, parts[item.filename])
            target.writestr(item, content)
    return output.getvalue()


# A formula cell as openpyxl writes it: <c r="C8" s="24"><f>SUM(C4:C7)</f><v></v></c>.
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)><f>([^<]*)</f><v(?:\s*/>|></v>)</c>'
)
_TYPE = re.compile(rb'\st="[^"]*"')


def _fill(xml: bytes, cells: dict[str, tuple[str, str]]) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        found = cells.get(match[1].decode("ascii"))
        if found is None:
            return match[0]
        kind, text = found
        attributes = _TYPE.sub(b"", match[2]) + (f' t="{kind}"'.encode() if kind else b"")
        return (
            b'<c r="'
            + match[1]
            + b'"'
            + attributes
            + b"><f>"
            + match[3]
            + b"</f><v>"
            + escape(text).encode("utf-8")
            + b"</v></c>"
        )

    return _FORMULA_CELL.sub(replace, xml)


def _xml_value(value: object) -> tuple[str, str] | None:
    """(cell type, text of <v>) for a cached result; None for what cannot be one."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, Decimal):
        return "", format(value.normalize(), "f")
    if isinstance(value, int):
        return "", str(value)
    if isinstance(value, float):
        return "", str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date, time)):
        return "", repr(float(to_excel(value)))
    if isinstance(value, str):
        return "str", value
    return None


class _Cells:
    """A set of cells, asked whether a range meets it: per sheet and column, the sorted rows."""

    def __init__(self, cells: Iterable[Key]):
        columns: dict[tuple[str, int], list[int]] = {}
        for sheet, row, col in cells:
            columns.setdefault((sheet, col), []).append(row)
        self._rows = {key: sorted(rows) for key, rows in columns.items()}
        self._columns: dict[str, list[int]] = {}
        for sheet, col in self._rows:
            self._columns.setdefault(sheet, []).append(col)

    def meets(self, area: _Range) -> bool:
        for col in self._columns.get(area.sheet, ()):
            if area.min_col <= col <= area.max_col:
                rows = self._rows[(area.sheet, col)]
                at = bisect.bisect_left(rows, area.min_row)
                if at < len(rows) and rows[at] <= area.max_row:
                    return True
        return False


def _tokens(formula: str) -> list[Token] | None:
    try:
        return [t for t in Tokenizer(formula).items if t.type != Token.WSPACE]
    except Exception:  # a formula openpyxl cannot take apart: no result for it
        return None


def _references(formula: str, home: Key, workbook: Workbook) -> list[_Range] | None:
    """Every range the formula reads; None when that cannot be known (a name, another workbook,
    INDIRECT or OFFSET)."""
    tokens = _tokens(formula)
    if tokens is None:
        return None
    found = []
    for token in tokens:
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            if token.value.rstrip("(").upper().removeprefix("_XLFN.") in _DYNAMIC:
                return None
        elif token.type == Token.OPERAND and token.subtype == Token.RANGE:
            area = _range(token.value, home, workbook)
            if area is None:
                return None
            found.append(area)
    return found


def _range(text: str, home: Key, workbook: Workbook) -> _Range | None:
    sheet, _, reference = text.rpartition("!")
    if sheet:
        if sheet.startswith("'") and sheet.endswith("'"):
            sheet = sheet[1:-1].replace("''", "'")
        if sheet.startswith("[") or sheet not in workbook.sheetnames:
            return None
    else:
        sheet = home[0]
    try:
        min_col, min_row, max_col, max_row = range_boundaries(reference.replace("$", ""))
    except (ValueError, TypeError):
        return _table_column(reference, home, workbook, sheet)
    return _Range(sheet, min_row or 1, min_col or 1, max_row or MAX_ROW, max_col or MAX_COLUMN)


_STRUCTURED = re.compile(r"([A-Za-z_\\][\w.]*)?\[(?:\[#Data\],\s*)?\[?([^\[\]#]+)\]?\]")


def _table_column(reference: str, home: Key, workbook: Workbook, sheet: str) -> _Range | None:
    """An Excel table's column ('Tabel1[Bedrag]', '[Bedrag]' inside the table): its data rows."""
    match = _STRUCTURED.fullmatch(reference)
    if match is None:
        return None
    name, column = match[1], match[2].strip()
    for candidate in workbook.worksheets:
        for table in candidate.tables.values():
            min_col, min_row, max_col, max_row = range_boundaries(table.ref)
            if name is None:
                inside = candidate.title == home[0] and min_row <= home[1] <= max_row
                if not inside or not min_col <= home[2] <= max_col:
                    continue
            elif table.name.casefold() != name.casefold():
                continue
            names = [c.name.casefold() for c in table.tableColumns]
            if column.casefold() not in names:
                return None
            col = min_col + names.index(column.casefold())
            first = min_row + (1 if table.headerRowCount is None else table.headerRowCount)
            last = max_row - (table.totalsRowCount or 0)
            return _Range(candidate.title, first, col, last, col)
    return None


def _sum(
    formula: str,
    home: Key,
    workbook: Workbook,
    formulas: dict[Key, str],
    results: dict[Key, object],
) -> Decimal | None:
    """The result of a sum formula from the workbook's values now; None for any other formula,
    or when a cell it adds is not a number we know."""
    tokens = _tokens(formula)
    if not tokens:
        return None
    evaluator = _SumEvaluator(home, workbook, formulas, results)
    head = tokens[0]
    if head.type == Token.FUNC and head.subtype == Token.OPEN:
        return evaluator.function(tokens)
    return evaluator.additions(tokens)


class _SumEvaluator:
    """Sums one formula at `home`: =SUM(...) and its kin, or cells added and subtracted."""

    def __init__(
        self,
        home: Key,
        workbook: Workbook,
        formulas: dict[Key, str],
        results: dict[Key, object],
    ):
        self.home = home
        self.workbook = workbook
        self.formulas = formulas
        self.results = results

    def function(self, tokens: list[Token]) -> Decimal | None:
        """=SUM(A1:A5,B2), =SUBTOTAL(9,...) and the other plain sums of _SUMS."""
        function = tokens[0].value.rstrip("(").upper()
        close = tokens[-1]
        if function not in _SUMS or close.type != Token.FUNC or close.subtype != Token.CLOSE:
            return None
        inner = tokens[1:-1]
        arguments = inner[::2]
        separators = inner[1::2]
        if not arguments or any(t.type != Token.SEP or t.subtype != Token.ARG for t in separators):
            return None  # something else between the arguments: not a plain sum
        if function == "SUBTOTAL":
            if not arguments or arguments[0].subtype != Token.NUMBER:
                return None
            if arguments[0].value not in ("9", "109"):
                return None
            arguments = arguments[1:]
        total = Decimal(0)
        for token in arguments:
            part = self.operand(token, in_range=True)
            if part is None:
                return None
            total += part
        return total

    def additions(self, tokens: list[Token]) -> Decimal | None:
        """Cells and numbers added and subtracted: =B5+B6-B7."""
        total, sign = Decimal(0), 1
        expect_operand = True
        for token in tokens:
            if expect_operand:
                part = self.operand(token, in_range=False)
                if part is None:
                    return None
                total += sign * part
            elif token.type == Token.OP_IN and token.value in "+-":
                sign = 1 if token.value == "+" else -1
            else:
                return None
            expect_operand = not expect_operand
        return None if expect_operand else total

    def operand(self, token: Token, *, in_range: bool) -> Decimal | None:
        """A number, or cells: a whole range inside SUM, a single cell in =B5+B6-B7."""
        if token.type != Token.OPERAND:
            return None
        if token.subtype == Token.NUMBER:
            return _number(token.value)
        if token.subtype != Token.RANGE:
            return None
        area = _range(token.value, self.home, self.workbook)
        if area is None:
            return None
        if not in_range and (area.min_row != area.max_row or area.min_col != area.max_col):
            return None
        return self.cells(area, in_range=in_range)

    def cells(self, area: _Range, *, in_range: bool) -> Decimal | None:
        """The sum of the cells of `area`; None when one of them is not a number we know."""
        sheet = self.workbook[area.sheet]
        formulas, results = self.formulas, self.results
        total = Decimal(0)
        rows = range(area.min_row, min(area.max_row, sheet.max_row) + 1)
        for row in rows:
            for col in range(area.min_col, min(area.max_col, sheet.max_column) + 1):
                key = (area.sheet, row, col)
                if key in formulas:
                    value = results.get(key)
                    if value is None:
                        return None
                else:
                    cell = sheet._cells.get((row, col))
                    value = None if cell is None else cell.value
                if value is None or (in_range and isinstance(value, str)):
                    continue  # SUM passes over empty cells and text in a range
                number = None if isinstance(value, str) else _number(value)
                if number is None:
                    return None
                total += number
        return total


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        try:
            return values.number_to_decimal(value)  # as the reader takes it: Excel's 15 digits
        except ValueError:  # inf, nan
            return None
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None
