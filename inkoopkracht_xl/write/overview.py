"""The overview workbook: verdeelsleutel, participation matrices and the audit trail (xlsxwriter)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..allocate import (
    AllocationKey,
    ParticipationMatrix,
    collaboration_matrix,
    participation_matrix,
)
from ..legal import ORGANISATION, nbsp
from ..model import CATEGORIES, Budget, Finding, Inputs, RowKind, SkippedRow
from ..money import format_euro
from ..settle import Settlement
from .files import atomic_file
from .rows import invoice_rows
from .sparse import FastWorksheet
from .sparse import Workbook as FastWorkbook
from .styles import (
    WORKBOOK_OPTIONS,
    Styles,
    fraction_of_percentage,
    number,
    print_setup,
    set_widths,
    set_wrapped_height,
    write_titles,
)

FULL_COLLABORATION = 60  # municipalities up to which Samenwerking shows the whole matrix


@dataclass(frozen=True)
class InputFile:
    name: str
    role: str  # "Aanbestedingskalender" or "Begroting"
    sha256: str
    size: int


@dataclass(frozen=True)
class Audit:
    """What the Verantwoording sheet accounts for: inputs, parameters, version, findings."""

    inputs: tuple[InputFile, ...]
    parameters: tuple[tuple[str, str], ...]
    version: str
    created: datetime
    findings: tuple[Finding, ...]
    # Rows of the inputs read as notes, sub-headings or checked totals: never data.
    skipped: tuple[SkippedRow, ...] = ()
    # What changed since the previous settlement (previous.Comparison): the Wijzigingen sheet.
    changes: object = None
    # This settlement's invoices (invoices_sheet.InvoiceList): the Facturen sheet.
    invoices: object = None


def write_overview(
    path: Path,
    inputs: Inputs,
    key: AllocationKey,
    audit: Audit,
    settlement: Settlement | None = None,
) -> Path:
    """Write the overview workbook to `path` atomically (a temporary file, then moved in place).

    With a settlement it also has the Afrekening sheet: every municipality's lines and total, and
    the check that the invoices plus the penvoerder's own share equal the period's costs; and
    with the audit's invoices the Facturen sheet, the list to tick off before sending.
    """
    with atomic_file(path) as temporary:
        workbook = FastWorkbook(str(temporary), WORKBOOK_OPTIONS)
        workbook.set_properties(
            {
                "title": f"Overzicht {key.year} {ORGANISATION}",
                "author": ORGANISATION,
                "comments": f"Gemaakt met inkoopkracht-xl {audit.version}",
                "created": audit.created,
            }
        )
        styles = Styles(workbook)
        _key_sheet(workbook, styles, inputs, key)
        matrix = participation_matrix(inputs.calendar)
        _matrix_sheet(workbook, styles, inputs, matrix)
        _collaboration_sheet(workbook, styles, inputs, matrix)
        if settlement is not None:
            _settlement_sheet(workbook, styles, inputs, settlement, audit)
            if audit.invoices is not None:
                from .invoices_sheet import invoices_sheet

                invoices_sheet(workbook, styles, audit.invoices)
        if audit.changes is not None:
            from .changes_sheet import changes_sheet

            changes_sheet(workbook, styles, audit.changes)
        _audit_sheet(workbook, styles, audit)
        workbook.close()
    return path


def _key_sheet(workbook, styles: Styles, inputs: Inputs, key: AllocationKey) -> None:
    sheet = workbook.add_worksheet("Verdeelsleutel")
    budget = inputs.budget
    method = (
        "percentages op 2 decimalen, daarna het bedrag"
        if key.method == "procent"
        else "exact naar inwoners, percentages ter informatie"
    )
    unit = "hele euro's" if key.rounding == "euro" else "centen"
    write_titles(
        sheet,
        styles,
        f"Verdeelsleutel netwerkbegroting {key.year}",
        f"{ORGANISATION} · verdeling naar aantal inwoners (CBS) per 1-1-{key.year - 1} · "
        f"methode {key.method}: {method} · afgerond op {unit}",
        (5, 88),
    )
    first = 3
    total_row = _key_shares(sheet, styles, key, first)
    last = total_row - 1
    # The budget the key splits, with its own total, and the check that nothing was lost.
    budget_total_row, realised = _key_budget(sheet, styles, key.year, budget, total_row + 3)
    row = _key_checks(sheet, styles, key, total_row, budget_total_row, realised)
    row = _key_notes(sheet, styles, key, budget, row + 2)
    _key_chart(workbook, sheet, key, first, last, row)

    set_widths(sheet, (7, 40, 12, 12, 17))
    sheet.freeze_panes(first + 1, 0)
    sheet.autofilter(first, 0, last, 4)
    print_setup(sheet, repeat_rows=(first, first), title=f"Verdeelsleutel {key.year}")


def _key_shares(sheet: Worksheet, styles: Styles, key: AllocationKey, first: int) -> int:
    """The header at row `first`, one row per municipality and the totals; returns the totals row."""
    headers = ("Code", "Gemeente", "Inwoners", "Percentage", f"Bijdrage {key.year}")
    sheet.write_row(first, 0, headers[:2], styles.header)
    sheet.write_row(first, 2, headers[2:], styles.header_right)
    row = first + 1
    for share in key.shares:
        sheet.write_string(row, 0, share.code, styles.code)
        sheet.write_string(row, 1, share.name, styles.text)
        sheet.write_number(row, 2, share.inhabitants, styles.whole)
        sheet.write_number(row, 3, fraction_of_percentage(share.percentage), styles.percent)
        sheet.write_number(row, 4, number(share.amount), styles.money)
        row += 1
    last = row - 1
    total_row = row
    sheet.write_string(total_row, 0, "", styles.total_label)
    sheet.write_string(total_row, 1, "Totaal", styles.total_label)
    _sum(sheet, total_row, 2, first + 1, last, key.total_inhabitants, styles.total_whole)
    _sum(sheet, total_row, 3, first + 1, last, 1, styles.total_percent)
    _sum(sheet, total_row, 4, first + 1, last, number(key.total), styles.total_money)
    return total_row


def _key_budget(
    sheet: Worksheet, styles: Styles, year: int, budget: Budget, row: int
) -> tuple[int, bool]:
    """The budget's posts from `row` on; returns its totals row and whether all are realised."""
    sheet.write_string(row, 0, f"Begroting {year} (exclusief BTW)", styles.heading)
    row += 1
    realised = bool(budget.posts) and all(p.realised is not None for p in budget.posts)
    sheet.write_string(row, 0, "", styles.header)
    sheet.write_string(row, 1, "Post", styles.header)
    sheet.write_string(row, 2, "", styles.header)
    sheet.write_string(row, 3, "Begroot", styles.header_right)
    sheet.write_string(row, 4, "Gerealiseerd", styles.header_right)
    posts_first = row + 1
    for post in budget.posts:
        row += 1
        sheet.write_string(row, 1, post.name, styles.text)
        sheet.write_number(row, 3, number(post.budgeted), styles.money)
        if post.realised is not None:
            sheet.write_number(row, 4, number(post.realised), styles.money)
    budget_total_row = row + 1
    for col in range(3):
        sheet.write_string(
            budget_total_row, col, "Totaal begroting" if col == 1 else "", styles.total_label
        )
    _sum(
        sheet,
        budget_total_row,
        3,
        posts_first,
        row,
        number(budget.total_budgeted),
        styles.total_money,
    )
    if realised:
        total_realised = sum(p.realised for p in budget.posts)
        _sum(
            sheet, budget_total_row, 4, posts_first, row, number(total_realised), styles.total_money
        )
    else:
        sheet.write_string(budget_total_row, 4, "", styles.total_label)
    return budget_total_row, realised


def _key_checks(
    sheet: Worksheet,
    styles: Styles,
    key: AllocationKey,
    total_row: int,
    budget_total_row: int,
    realised: bool,
) -> int:
    """The two checks below the budget; returns the row of the last one."""
    row = budget_total_row + 2
    shares_total = xl_rowcol_to_cell(total_row, 4)
    # The key splits the realised total when every post has one, else the budgeted total.
    used_total = xl_rowcol_to_cell(budget_total_row, 4 if realised else 3)
    sheet.write_string(
        row,
        1,
        f"Controle: som van de bijdragen = {'gerealiseerd' if realised else 'begroot'} totaal",
        styles.bold,
    )
    _check(
        sheet,
        styles,
        row,
        4,
        f"ROUND({shares_total}-{used_total},2)=0",
        sum(s.amount for s in key.shares) == key.total,
    )
    row += 1
    sheet.write_string(row, 1, "Controle: som van de percentages = 100,00 %", styles.bold)
    percent_total = xl_rowcol_to_cell(total_row, 3)
    _check(
        sheet,
        styles,
        row,
        4,
        f"ROUND({percent_total}-1,6)=0",
        sum(s.percentage for s in key.shares) == 100,
    )
    return row


def _key_notes(
    sheet: Worksheet, styles: Styles, key: AllocationKey, budget: Budget, row: int
) -> int:
    """The key's notes and the population sources from `row` on; returns the next free row."""
    for note in key.notes:
        sheet.merge_range(row, 0, row, 4, note, styles.note)
        sheet.set_row(row, 30)
        row += 1
    sources = sorted({p.source_note for p in budget.populations if p.network and p.source_note})
    if sources:
        sheet.merge_range(row, 0, row, 4, "Bron inwonertallen: " + "; ".join(sources), styles.note)
        row += 1
    return row


def _key_chart(
    workbook, sheet: Worksheet, key: AllocationKey, first: int, last: int, row: int
) -> None:
    """The pie chart of the contributions, one row below `row`."""
    chart = workbook.add_chart({"type": "pie"})
    chart.add_series(
        {
            "name": f"Bijdrage {key.year}",
            "categories": ["Verdeelsleutel", first + 1, 1, last, 1],
            "values": ["Verdeelsleutel", first + 1, 4, last, 4],
            "data_labels": {
                "percentage": True,
                "category": True,
                "separator": "\n",
                "position": "best_fit",
                "num_format": "0.00 %",
            },
        }
    )
    chart.set_title({"name": f"Verdeling netwerkbegroting {key.year}", "name_font": {"size": 11}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 520, "height": 330})
    sheet.insert_chart(row + 1, 0, chart, {"x_offset": 4, "y_offset": 6})


def _sum(sheet: Worksheet, row: int, col: int, first: int, last: int, value, fmt) -> None:
    """A SUM formula that carries its computed value (xlsxwriter would cache 0 otherwise)."""
    column = xl_col_to_name(col)
    sheet.write_formula(row, col, f"=SUM({column}{first + 1}:{column}{last + 1})", fmt, value)


def _check(sheet: Worksheet, styles: Styles, row: int, col: int, condition: str, ok: bool) -> None:
    """A check cell: OK or VERSCHIL as a formula, its computed value cached, coloured by rule."""
    sheet.write_formula(
        row, col, f'=IF({condition},"OK","VERSCHIL")', styles.check, "OK" if ok else "VERSCHIL"
    )
    cell = xl_rowcol_to_cell(row, col)
    sheet.conditional_format(
        cell, {"type": "cell", "criteria": "==", "value": '"OK"', "format": styles.good}
    )
    sheet.conditional_format(
        cell, {"type": "cell", "criteria": "==", "value": '"VERSCHIL"', "format": styles.bad}
    )


def _matrix_sheet(workbook, styles: Styles, inputs: Inputs, matrix: ParticipationMatrix) -> None:
    calendar = inputs.calendar
    sheet = workbook.add_worksheet("Deelnamematrix")
    names = {m.code: m.name for m in calendar.municipalities}
    core = [c for c in matrix.columns if c in names and calendar.municipality(c).core]
    extra = [c for c in matrix.columns if c in names and not calendar.municipality(c).core]
    unknown = [c for c in matrix.columns if c in matrix.unknown]
    columns = core + extra + unknown
    write_titles(
        sheet,
        styles,
        f"Deelnamematrix aanbestedingskalender {inputs.budget.settings.year}",
        "Welke gemeente doet mee aan welke aanbesteding (x). Onbekende codes staan apart in "
        "rood: ze staan niet in het werkblad Gemeenten van de kalender.",
        (3, 85),
    )
    first_col = 3
    group_row, header_row = 3, 4
    groups = (("Kerngemeenten", core), ("Extra gemeenten", extra), ("Onbekend", unknown))
    total_col = _matrix_header(sheet, styles, groups, names, first_col, header_row)
    last_code_col = total_col - 1
    position = {code: first_col + i for i, code in enumerate(columns)}
    row = _matrix_rows(sheet, styles, matrix, position, header_row, first_col, total_col)
    totals_row = row + 1
    _matrix_totals(sheet, styles, matrix, position, header_row, totals_row, total_col)

    set_widths(sheet, (5, 66, 14))
    sheet.set_column(first_col, max(first_col, last_code_col), 4.6)
    if unknown:  # wide enough for the group label "Onbekend" above a single column
        sheet.set_column(position[unknown[0]], position[unknown[-1]], 9)
    sheet.set_column(total_col, total_col, 7)
    sheet.set_row(header_row, 28)
    sheet.freeze_panes(header_row + 1, first_col)
    sheet.autofilter(header_row, 0, row, total_col)
    print_setup(sheet, landscape=True, repeat_rows=(group_row, header_row), title="Deelnamematrix")
    sheet.print_area(0, 0, totals_row, total_col)


def _matrix_header(
    sheet: Worksheet,
    styles: Styles,
    groups: Sequence[tuple[str, list[str]]],
    names: dict[str, str],
    first_col: int,
    header_row: int,
) -> int:
    """The group labels above the header row and a column per code; returns the Aantal column."""
    group_row = header_row - 1
    sheet.write_row(group_row, 0, ["", "", ""], styles.header)
    sheet.write_row(header_row, 0, ["Cat.", "Onderwerp", "Jaar van inventarisatie"], styles.header)
    col = first_col
    for label, codes in groups:
        if not codes:
            continue
        if len(codes) > 1:
            sheet.merge_range(group_row, col, group_row, col + len(codes) - 1, label, styles.group)
        else:
            sheet.write_string(group_row, col, label, styles.group)
        for code in codes:
            sheet.write_string(header_row, col, code, styles.header_centre)
            if code in names:
                sheet.write_comment(header_row, col, names[code])
            col += 1
    total_col = col
    sheet.write_string(group_row, total_col, "", styles.header)
    sheet.write_string(header_row, total_col, "Aantal", styles.header_centre)
    return total_col


def _matrix_rows(
    sheet: Worksheet,
    styles: Styles,
    matrix: ParticipationMatrix,
    position: dict[str, int],
    header_row: int,
    first_col: int,
    total_col: int,
) -> int:
    """A band per category and a row per subject below `header_row`; returns the last row."""
    last_code_col = total_col - 1
    row = header_row
    category = None
    for subject, codes in matrix.rows:
        if subject.category != category:
            category = subject.category
            row += 1
            sheet.write_string(row, 0, str(category), styles.band)
            sheet.write_string(row, 1, CATEGORIES[category], styles.band)
            for c in range(2, total_col + 1):
                sheet.write_blank(row, c, None, styles.band)
        row += 1
        sheet.write_number(row, 0, subject.category, styles.count)
        sheet.write_string(row, 1, subject.name, styles.text)
        sheet.write_string(row, 2, subject.inventory_year, styles.text)
        for code in codes:
            sheet.write_string(
                row, position[code], "x", styles.unknown if code in matrix.unknown else styles.mark
            )
        if position:
            span = f"{xl_rowcol_to_cell(row, first_col)}:{xl_rowcol_to_cell(row, last_code_col)}"
            sheet.write_formula(row, total_col, f'=COUNTIF({span},"x")', styles.count, len(codes))
        else:
            sheet.write_number(row, total_col, 0, styles.count)
    return row


def _matrix_totals(
    sheet: Worksheet,
    styles: Styles,
    matrix: ParticipationMatrix,
    position: dict[str, int],
    header_row: int,
    totals_row: int,
    total_col: int,
) -> None:
    """The totals row: per code the COUNTIF of its column, and the sum of the Aantal column."""
    row = totals_row - 1
    sheet.write_string(totals_row, 0, "", styles.total_label)
    sheet.write_string(totals_row, 1, "Aantal aanbestedingen per gemeente", styles.total_label)
    sheet.write_string(totals_row, 2, "", styles.total_label)
    column_totals = matrix.column_totals()
    for code, c in position.items():
        span = f"{xl_rowcol_to_cell(header_row + 1, c)}:{xl_rowcol_to_cell(row, c)}"
        sheet.write_formula(
            totals_row, c, f'=COUNTIF({span},"x")', styles.total_mark, column_totals[code]
        )
    total_cell_span = (
        f"{xl_rowcol_to_cell(header_row + 1, total_col)}:{xl_rowcol_to_cell(row, total_col)}"
    )
    sheet.write_formula(
        totals_row,
        total_col,
        f"=SUM({total_cell_span})",
        styles.total_mark,
        sum(len(codes) for _, codes in matrix.rows),
    )


def _collaboration_sheet(
    workbook, styles: Styles, inputs: Inputs, matrix: ParticipationMatrix
) -> None:
    calendar = inputs.calendar
    # Up to FULL_COLLABORATION municipalities the whole symmetric matrix reads best; beyond, each
    # pair once (right of the diagonal): half the cells of a sheet that grows with the square.
    full = len(calendar.municipalities) <= FULL_COLLABORATION
    collaboration = collaboration_matrix(calendar)
    codes = collaboration.codes
    names = {m.code: m.name for m in calendar.municipalities}
    sheet = workbook.add_worksheet("Samenwerking")
    where = "" if full else " Elk paar staat één keer, rechts van de diagonaal."
    write_titles(
        sheet,
        styles,
        "Samenwerking tussen gemeenten",
        "Aantal aanbestedingen dat twee gemeenten samen doen (leeg: geen); op de diagonaal "
        f"het aantal aanbestedingen van de gemeente zelf.{where}",
        (2 + len(codes), 31 + 6.5 * len(codes)),
    )
    header_row = 3
    _collaboration_cells(sheet, styles, codes, collaboration.shared, names, header_row, full)
    last_row = header_row + len(codes)
    if len(codes) > 1:
        _collaboration_heat_map(sheet, len(codes), header_row, full)
    set_widths(sheet, (7, 24))
    sheet.set_column(2, 1 + max(1, len(codes)), 6.5)
    sheet.freeze_panes(header_row + 1, 2)
    _participation_chart(workbook, sheet, styles, matrix, names, last_row + 2)
    print_setup(
        sheet, landscape=len(codes) > 12, repeat_rows=(header_row, header_row), title="Samenwerking"
    )


def _collaboration_cells(
    sheet: Worksheet,
    styles: Styles,
    codes: Sequence[str],
    shared: Sequence[Sequence[int]],
    names: dict[str, str],
    header_row: int,
    full: bool,
) -> None:
    """The header and a row per municipality: shared tenders, its own count on the diagonal."""
    sheet.write_string(header_row, 0, "Code", styles.header)
    sheet.write_string(header_row, 1, "Gemeente", styles.header)
    for i, code in enumerate(codes):
        sheet.write_string(header_row, 2 + i, code, styles.header_centre)
    count_format, diagonal_format = styles.count, styles.diagonal
    for r, a in enumerate(codes):
        row = header_row + 1 + r
        sheet.write_string(row, 0, a, styles.code)
        sheet.write_string(row, 1, names.get(a, ""), styles.text)
        if full:  # left of the diagonal: the mirror of the rows above
            for c in range(r):
                if shared[c][r]:
                    sheet.write_number(row, 2 + c, shared[c][r], count_format)
        sheet.write_number(row, 2 + r, shared[r][r], diagonal_format)
        counts = shared[r]
        for c in range(r + 1, len(codes)):
            if counts[c]:  # an empty cell is no shared tender: a quieter heat-map, a smaller file
                sheet.write_number(row, 2 + c, counts[c], count_format)


def _collaboration_heat_map(sheet: Worksheet, size: int, header_row: int, full: bool) -> None:
    """A colour scale over the shared counts of a `size` by `size` matrix."""
    # The heat-map leaves out the diagonal: a municipality's own count would dominate it.
    ranges = []
    for r in range(size):
        row = header_row + 1 + r
        if r > 0 and full:
            ranges.append(f"{xl_rowcol_to_cell(row, 2)}:{xl_rowcol_to_cell(row, 1 + r)}")
        if r < size - 1:
            ranges.append(f"{xl_rowcol_to_cell(row, 3 + r)}:{xl_rowcol_to_cell(row, 1 + size)}")
    sheet.conditional_format(
        header_row + 1,
        2,
        header_row + size,
        1 + size,
        {
            "type": "3_color_scale",
            "min_color": "#FFFFFF",
            "mid_color": "#BDD7EE",
            "max_color": "#5B9BD5",
            "multi_range": " ".join(ranges),
        },
    )


def _participation_chart(
    workbook,
    sheet: Worksheet,
    styles: Styles,
    matrix: ParticipationMatrix,
    names: dict[str, str],
    chart_row: int,
) -> None:
    """The participations per known municipality from `chart_row` on: a table and its bar chart."""
    known = [c for c in matrix.columns if c not in matrix.unknown]
    if not known:
        return
    totals = matrix.column_totals()
    sheet.write_string(chart_row, 0, "Aantal aanbestedingen per gemeente", styles.heading)
    table_row = chart_row + 1
    sheet.write_row(table_row, 0, ["Code", "Gemeente", "Aantal"], styles.header)
    for i, code in enumerate(known):
        sheet.write_string(table_row + 1 + i, 0, code, styles.code)
        sheet.write_string(table_row + 1 + i, 1, names.get(code, ""), styles.text)
        sheet.write_number(table_row + 1 + i, 2, totals[code], styles.count)
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "Aantal aanbestedingen",
            "categories": ["Samenwerking", table_row + 1, 1, table_row + len(known), 1],
            "values": ["Samenwerking", table_row + 1, 2, table_row + len(known), 2],
            "fill": {"color": "#1F4E79"},
            "data_labels": {"value": True},
            "gap": 60,
        }
    )
    chart.set_title({"name": "Aantal aanbestedingen per gemeente", "name_font": {"size": 11}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    chart.set_size({"width": 560, "height": max(240, 22 * len(known) + 80)})
    sheet.insert_chart(table_row, 4, chart, {"x_offset": 10})


# Afrekening columns (Excel character units): Gemeente, Nummer, Soort, Omschrijving, Grondslag,
# Kenmerk, Bedrag. 150 units fit landscape A4 at 95 % (a unit is about 1,85 mm of 10-point
# Calibri; 271,6 mm between the margins): printed at 9,5 point, description and basis wrapped.
_SETTLEMENT_WIDTHS = (20, 13, 12, 44, 35, 12, 14)


def _settlement_sheet(
    workbook, styles: Styles, inputs: Inputs, settlement: Settlement, audit: Audit
) -> None:
    sheet = workbook.add_worksheet("Afrekening", FastWorksheet)
    settings = inputs.budget.settings
    lead = next((i.name for i in settlement.invoices if i.is_own_share), settings.lead)
    batch = dict(audit.parameters).get("Periode", settlement.period.label)
    write_titles(
        sheet,
        styles,
        f"Afrekening {batch}",
        f"Per gemeente de regels van deze periode, exclusief BTW. De penvoerder ({lead}) krijgt "
        "geen factuur; haar eigen aandeel staat hier wel, zodat de controle onderaan sluit.",
        (7, sum(_SETTLEMENT_WIDTHS)),
    )
    header_row = 3
    headers = ("Gemeente", "Nummer", "Soort", "Omschrijving", "Grondslag", "Kenmerk", "Bedrag")
    sheet.write_row(header_row, 0, headers[:6], styles.header)
    sheet.write_string(header_row, 6, headers[6], styles.header_right)
    first_line = header_row + 1
    last_line = _settlement_lines(sheet, styles, settlement, header_row)
    _settlement_control(sheet, styles, settlement, first_line, last_line)
    set_widths(sheet, _SETTLEMENT_WIDTHS)
    sheet.freeze_panes(header_row + 1, 1)
    sheet.autofilter(header_row, 0, last_line, 6)
    print_setup(
        sheet, landscape=True, repeat_rows=(header_row, header_row), title=f"Afrekening {batch}"
    )


_NO_CELL = (None, None)  # write_cells leaves a cell without value and format out


def _settlement_lines(
    sheet: FastWorksheet, styles: Styles, settlement: Settlement, row: int
) -> int:
    """Every invoice's rows and its total row below `row`; returns the last row written."""
    for invoice in settlement.invoices:
        start = row + 1
        # The rows as the invoice shows them; the kind and number only on the total row, so
        # the check below can SUMIF the totals by kind.
        for line in invoice_rows(invoice):
            row += 1
            description, basis = nbsp(line.description), nbsp(line.basis)
            sheet.write_cells(
                row,
                0,
                [
                    (invoice.name, styles.text),
                    _NO_CELL,
                    _NO_CELL,
                    (description, styles.wrap),
                    (basis, styles.wrap),
                    (line.reference, styles.code) if line.reference else _NO_CELL,
                    (number(line.amount), styles.money),
                ],
            )
            # Wrapped text gets the height it needs; one line keeps the default, so rows are
            # one, two or three lines tall and never squeezed.
            set_wrapped_height(
                sheet,
                row,
                [(description, _SETTLEMENT_WIDTHS[3]), (basis, _SETTLEMENT_WIDTHS[4])],
            )
        row += 1
        label = "Eigen aandeel" if invoice.is_own_share else f"Totaal {invoice.kind}"
        sheet.write_string(row, 0, invoice.name, styles.total_label)
        sheet.write_string(row, 1, invoice.number, styles.total_label)
        sheet.write_string(row, 2, invoice.kind, styles.total_label)
        sheet.write_string(row, 3, label, styles.total_label)
        sheet.write_blank(row, 4, None, styles.total_label)
        sheet.write_blank(row, 5, None, styles.total_label)
        _sum(sheet, row, 6, start, row - 1, number(invoice.total), styles.total_money)
    return row


def _settlement_control(
    sheet: Worksheet, styles: Styles, settlement: Settlement, first_line: int, last_line: int
) -> None:
    """Below the lines: invoices plus the penvoerder's own share against the period's costs."""
    kinds = f"{xl_rowcol_to_cell(first_line, 2)}:{xl_rowcol_to_cell(last_line, 2)}"
    amounts = f"{xl_rowcol_to_cell(first_line, 6)}:{xl_rowcol_to_cell(last_line, 6)}"
    billed = sum((i.total for i in settlement.invoices if not i.is_own_share), Decimal("0.00"))
    own = sum((i.total for i in settlement.invoices if i.is_own_share), Decimal("0.00"))
    row = last_line + 2
    sheet.write_string(row, 3, "Controle", styles.heading)
    summary = [
        (
            "Facturen en creditnota's",
            f'=SUMIF({kinds},"factuur",{amounts})+SUMIF({kinds},"creditnota",{amounts})',
            billed,
        ),
        ("Eigen aandeel penvoerder", f'=SUMIF({kinds},"eigen aandeel",{amounts})', own),
    ]
    cells = {}
    for label, formula, value in summary:
        row += 1
        sheet.write_string(row, 3, label, styles.text)
        sheet.write_formula(row, 6, formula, styles.money, number(value))
        cells[label] = xl_rowcol_to_cell(row, 6)
    row += 1
    sheet.write_string(row, 3, "Netwerkkosten van deze periode", styles.text)
    sheet.write_number(row, 6, number(settlement.network_due), styles.money)
    network_cell = xl_rowcol_to_cell(row, 6)
    row += 1
    sheet.write_string(row, 3, "Projectkosten die nu voor het eerst worden verdeeld", styles.text)
    sheet.write_number(row, 6, number(settlement.costs_billed), styles.money)
    costs_cell = xl_rowcol_to_cell(row, 6)
    row += 1
    sheet.write_string(row, 3, "Facturen + eigen aandeel = kosten van de periode", styles.bold)
    billed_cell, own_cell = cells["Facturen en creditnota's"], cells["Eigen aandeel penvoerder"]
    _check(
        sheet,
        styles,
        row,
        6,
        f"ROUND({billed_cell}+{own_cell}-{network_cell}-{costs_cell},2)=0",
        settlement.balanced,
    )


def _audit_sheet(workbook, styles: Styles, audit: Audit) -> None:
    sheet = workbook.add_worksheet("Verantwoording")
    write_titles(
        sheet,
        styles,
        "Verantwoording",
        f"Gemaakt op {audit.created:%d-%m-%Y om %H:%M} met inkoopkracht-xl {audit.version}. "
        "De SHA-256 bewijst welke invoerbestanden precies zijn gebruikt.",
        (4, 180),
    )
    row = 3
    sheet.write_string(row, 0, "Invoerbestanden", styles.heading)
    row += 1
    sheet.write_row(row, 0, ["Rol", "Bestand"], styles.header)
    sheet.write_string(row, 2, "Grootte (bytes)", styles.header_right)
    sheet.write_string(row, 3, "SHA-256", styles.header_indent)
    for item in audit.inputs:
        row += 1
        sheet.write_string(row, 0, item.role, styles.text)
        sheet.write_string(row, 1, item.name, styles.wrap)
        sheet.write_number(row, 2, item.size, styles.whole)
        sheet.write_string(row, 3, item.sha256, styles.code_indent)
    row += 2
    sheet.write_string(row, 0, "Parameters", styles.heading)
    row += 1
    sheet.write_row(row, 0, ["Parameter", "Waarde"], styles.header)
    for name, value in audit.parameters + (("Programmaversie", audit.version),):
        row += 1
        sheet.write_string(row, 0, name, styles.text)
        sheet.write_string(row, 1, value, styles.wrap)
    row += 2
    sheet.write_string(row, 0, "Bevindingen bij de controle", styles.heading)
    row += 1
    sheet.write_row(row, 0, ["Niveau", "Plaats", "Melding", "Wat te doen"], styles.header)
    if not audit.findings:
        row += 1
        sheet.write_string(row, 0, "Geen fouten of waarschuwingen.", styles.note)
    for finding in audit.findings:
        row += 1
        fmt = styles.error if finding.is_error else styles.warning
        sheet.write_string(row, 0, finding.level.value, fmt)
        sheet.write_string(row, 1, str(finding.location), styles.wrap)
        sheet.write_string(row, 2, finding.message, styles.wrap)
        sheet.write_string(row, 3, finding.fix, styles.wrap)
        set_wrapped_height(
            sheet, row, [(str(finding.location), 44), (finding.message, 44), (finding.fix, 66)]
        )
    row = _skipped_rows(sheet, styles, audit.skipped, row + 2)
    set_widths(sheet, (28, 44, 44, 66))
    print_setup(sheet, landscape=True, title="Verantwoording")


def _skipped_rows(sheet, styles: Styles, skipped: tuple[SkippedRow, ...], row: int) -> int:
    """The rows of the inputs that were not read as data, so the coordinator can check that
    nothing they meant as data was taken for a note, a sub-heading or a total."""
    sheet.write_string(row, 0, "Niet als gegevens gelezen", styles.heading)
    row += 1
    sheet.write_row(row, 0, ["Soort", "Plaats", "Tekst"], styles.header)
    if not skipped:
        row += 1
        sheet.write_string(row, 0, "Geen opmerkingen, tussenkoppen of totaalregels.", styles.note)
    for item in skipped:
        row += 1
        kind = "totaalregel (gecontroleerd)" if item.kind is RowKind.TOTAL else item.kind.value
        sheet.write_string(row, 0, kind, styles.text)
        sheet.write_string(row, 1, str(item.location), styles.wrap)
        sheet.write_string(row, 2, item.text, styles.wrap)
        set_wrapped_height(sheet, row, [(str(item.location), 44), (item.text, 44)])
    return row


def parameters_for(
    inputs: Inputs, key: AllocationKey, period: str | None = None
) -> tuple[tuple[str, str], ...]:
    """The parameters listed on the Verantwoording sheet, in Dutch."""
    settings = inputs.budget.settings
    rows: list[tuple[str, str]] = []
    if period:
        rows.append(("Periode", period))
    rows += [
        ("Begrotingsjaar", str(settings.year)),
        ("Penvoerder", settings.lead or "(niet ingevuld)"),
        ("Verdeelmethode", settings.method),
        (
            "Afronding",
            settings.rounding
            if settings.rounding == key.rounding
            else f"{settings.rounding} (toegepast: {key.rounding})",
        ),
        ("Te verdelen netwerkbegroting", format_euro(key.total)),
        ("Peildatum inwoners", f"1-1-{settings.year - 1}"),
        ("Factuurprefix", settings.invoice_prefix),
        ("Betaaltermijn", f"{settings.payment_days} dagen"),
    ]
    return tuple(rows)


def input_files(inputs: Inputs, sha256: dict[str, str]) -> tuple[InputFile, ...]:
    return tuple(
        InputFile(path.name, role, sha256[path.name], path.stat().st_size)
        for role, path in (
            ("Aanbestedingskalender", inputs.calendar_path),
            ("Begroting", inputs.budget_path),
        )
    )


__all__: Sequence[str] = ("Audit", "InputFile", "write_overview", "parameters_for", "input_files")
