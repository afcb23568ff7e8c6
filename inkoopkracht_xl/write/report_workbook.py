"""The rapport workbook: invoiced per municipality and year, per subject, every invoice, charts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..legal import ORGANISATION
from ..model import OWN_SHARE
from ..report_data import CHART_MUNICIPALITIES, KINDS, ZERO, Party, YearReport
from .files import atomic_file
from .sparse import Workbook as FastWorkbook
from .styles import (
    WORKBOOK_OPTIONS,
    Styles,
    number,
    print_setup,
    set_widths,
    set_wrapped_height,
    write_titles,
)

MUNICIPALITIES = "Per gemeente"
SUBJECTS = "Per onderwerp"
INVOICES = "Facturen"
CHARTS = "Grafieken"
AUDIT = "Verantwoording"

# Per gemeente: per year these columns; the kinds add up to the total, the credit notes are part
# of it (shown after it, so nobody adds them twice).
YEAR_COLUMNS = (*KINDS, "Totaal", "Waarvan creditnota's")
GROUP_ROW, HEADER_ROW = 3, 4  # 0-based: title, subtitle, a blank row, the years, the header
MONEY_WIDTH = 14.5
_STATES = {
    "verzonden": "verzonden",
    "bezig": "onzeker (bezig)",
    "mislukt": "concept (versturen mislukt)",
    "concept": "concept",
}


def write_report(path: Path, report: YearReport) -> Path:
    """Write the rapport to `path` atomically (a temporary file, then moved into place)."""
    with atomic_file(path) as temporary:
        workbook = FastWorkbook(str(temporary), WORKBOOK_OPTIONS)
        workbook.set_properties(
            {
                "title": f"Rapport {_years_text(report.years)} {ORGANISATION}",
                "author": ORGANISATION,
                "comments": f"Gemaakt met inkoopkracht-xl {report.version}",
                "created": report.made_at,
            }
        )
        styles = Styles(workbook)
        totals = _municipality_sheet(workbook, styles, report)
        _subject_sheet(workbook, styles, report)
        _invoice_sheet(workbook, styles, report)
        _chart_sheet(workbook, styles, report)
        _audit_sheet(workbook, styles, report, totals)
        workbook.close()
    return path


def _years_text(years: Sequence[int]) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _ref(sheet: str, row: int, col: int) -> str:
    return f"'{sheet}'!{xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)}"


def _sum(values: Sequence[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), ZERO)


# -- Per gemeente -----------------------------------------------------------------------------


def _municipality_sheet(workbook, styles: Styles, report: YearReport) -> dict[str, str]:
    """One row per invoiced municipality, per year its columns; the totals; then the
    penvoerder's own share apart. Returns the cells Verantwoording checks."""
    sheet = workbook.add_worksheet(MUNICIPALITIES)
    years = report.years
    several = len(years) > 1
    last_col = 1 + len(YEAR_COLUMNS) * len(years) + (1 if several else 0)
    write_titles(
        sheet,
        styles,
        f"Gefactureerd per gemeente en jaar {_years_text(years)}",
        "Uit het register: alle facturen en creditnota's, concept en verzonden. Netwerk, "
        "Projecten en Toetredingen komen uit de gewone afrekeningen, Correcties uit de "
        "correctiefacturen (afrekening --correctie); samen het Totaal. Waarvan creditnota's is "
        "het deel van het Totaal dat in creditnota's staat. Het eigen aandeel van de penvoerder "
        "wordt niet gefactureerd en staat apart onderaan.",
        (min(last_col + 1, 8), 7 + 28 + MONEY_WIDTH * (min(last_col + 1, 8) - 2)),
    )
    _year_headers(sheet, styles, years, several)
    first = HEADER_ROW + 1
    row = first - 1
    for party in report.invoiced:
        row += 1
        _party_row(sheet, styles, row, party, years, several)
    last = max(row, first)
    total_row = last + 1
    sheet.write_string(total_row, 0, "Totaal", styles.total_label)
    sheet.write_string(total_row, 1, "Totaal gefactureerd", styles.total_label)
    _total_row(sheet, styles, total_row, first, last, report.invoiced, years, several)
    cells = {"invoiced": _ref(MUNICIPALITIES, total_row, last_col)}
    own_rows = _own_share_rows(sheet, styles, total_row, report, years, several)
    if own_rows is not None:
        own_first, own_last = own_rows
        cells["own_share"] = (
            f"SUM({_ref(MUNICIPALITIES, own_first, last_col)}:"
            f"{xl_rowcol_to_cell(own_last, last_col, row_abs=True, col_abs=True)})"
        )
    set_widths(sheet, (7, 28) + (MONEY_WIDTH,) * (last_col - 1))
    sheet.freeze_panes(HEADER_ROW + 1, 2)
    sheet.autofilter(HEADER_ROW, 0, last, last_col)
    print_setup(
        sheet,
        landscape=True,
        repeat_rows=(GROUP_ROW, HEADER_ROW),
        title=f"Gefactureerd per gemeente {_years_text(years)}",
    )
    return cells


def _year_headers(sheet: Worksheet, styles: Styles, years: Sequence[int], several: bool) -> None:
    sheet.write_string(GROUP_ROW, 0, "", styles.header)
    sheet.write_string(GROUP_ROW, 1, "", styles.header)
    sheet.write_row(HEADER_ROW, 0, ("Code", "Gemeente"), styles.header)
    for index, year in enumerate(years):
        start = 2 + index * len(YEAR_COLUMNS)
        sheet.merge_range(
            GROUP_ROW, start, GROUP_ROW, start + len(YEAR_COLUMNS) - 1, str(year), styles.group
        )
        labels = [f"Totaal {year}" if c == "Totaal" else c for c in YEAR_COLUMNS]
        sheet.write_row(HEADER_ROW, start, labels, styles.header_right)
    if several:
        col = 2 + len(YEAR_COLUMNS) * len(years)
        sheet.write_string(GROUP_ROW, col, "Alle jaren", styles.group)
        sheet.write_string(HEADER_ROW, col, "Totaal", styles.header_right)
    sheet.set_row(HEADER_ROW, 28)


def _party_row(
    sheet: Worksheet, styles: Styles, row: int, party: Party, years: Sequence[int], several: bool
) -> None:
    """Code, name, per year the kinds, their total (a formula), the credit notes; all years."""
    sheet.write_string(row, 0, party.code, styles.code)
    sheet.write_string(row, 1, party.name, styles.text)
    year_totals = []
    for index, year in enumerate(years):
        start = 2 + index * len(YEAR_COLUMNS)
        amounts = party.amounts.get(year, (None,) * len(KINDS))
        for offset, amount in enumerate(amounts):
            if amount is not None:
                sheet.write_number(row, start + offset, number(amount), styles.money)
        total_col = start + len(KINDS)
        span = f"{xl_rowcol_to_cell(row, start)}:{xl_rowcol_to_cell(row, total_col - 1)}"
        sheet.write_formula(
            row, total_col, f"=SUM({span})", styles.money, number(party.total(year))
        )
        year_totals.append(xl_rowcol_to_cell(row, total_col))
        credit = party.credit_notes.get(year)
        if credit is not None:
            sheet.write_number(row, total_col + 1, number(credit), styles.money)
    if several:
        col = 2 + len(YEAR_COLUMNS) * len(years)
        formula = "=" + "+".join(year_totals)
        sheet.write_formula(row, col, formula, styles.money, number(party.grand_total()))


def _column_values(parties: Sequence[Party], years: Sequence[int], several: bool) -> list[Decimal]:
    """The sum of every money column of Per gemeente over `parties`, left to right."""
    values: list[Decimal] = []
    for year in years:
        for offset in range(len(KINDS)):
            values.append(
                _sum([p.amounts.get(year, (None,) * len(KINDS))[offset] for p in parties])
            )
        values.append(sum((p.total(year) for p in parties), ZERO))
        values.append(_sum([p.credit_notes.get(year) for p in parties]))
    if several:
        values.append(sum((p.grand_total() for p in parties), ZERO))
    return values


def _total_row(
    sheet: Worksheet,
    styles: Styles,
    row: int,
    first: int,
    last: int,
    parties: Sequence[Party],
    years: Sequence[int],
    several: bool,
) -> None:
    for offset, value in enumerate(_column_values(parties, years, several)):
        col = 2 + offset
        span = f"{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)}"
        sheet.write_formula(row, col, f"=SUM({span})", styles.total_money, number(value))


def _own_share_rows(
    sheet: Worksheet,
    styles: Styles,
    total_row: int,
    report: YearReport,
    years: Sequence[int],
    several: bool,
) -> tuple[int, int] | None:
    """The penvoerder's own share under the invoices, and the costs in all (invoices + own
    share). Returns the first and last own-share row, None when there is none."""
    if not report.own_shares:
        return None
    row = total_row + 2
    sheet.write_string(row, 0, "Eigen aandeel penvoerder (niet gefactureerd)", styles.heading)
    first = row + 1
    for party in report.own_shares:
        row += 1
        _party_row(sheet, styles, row, party, years, several)
    last = row
    row += 1
    sheet.write_string(row, 0, "Totaal", styles.total_label)
    sheet.write_string(row, 1, "Kosten: gefactureerd + eigen aandeel", styles.total_label)
    invoiced = _column_values(report.invoiced, years, several)
    own = _column_values(report.own_shares, years, several)
    for offset, (billed, kept) in enumerate(zip(invoiced, own, strict=True)):
        col = 2 + offset
        formula = (
            f"={xl_rowcol_to_cell(total_row, col)}"
            f"+SUM({xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)})"
        )
        sheet.write_formula(row, col, formula, styles.total_money, number(billed + kept))
    return first, last


# -- Per onderwerp ----------------------------------------------------------------------------


def _subject_sheet(workbook, styles: Styles, report: YearReport) -> None:
    """Subject × municipality: who paid what for each subject (projects, joins and their
    corrections), the penvoerder's own share in its own column, the subject's total."""
    sheet = workbook.add_worksheet(SUBJECTS)
    columns = report.subject_columns
    own_col = 2 + len(columns)
    total_col = own_col + 1
    penvoerders = ", ".join(p.code for p in report.own_shares)
    write_titles(
        sheet,
        styles,
        f"Wie betaalde wat per onderwerp {_years_text(report.years)}",
        "Per onderwerp (aanbesteding) en jaar het gefactureerde aan projectkosten en "
        "toetredingen, met hun correcties; de netwerkbijdrage hoort bij geen onderwerp. Een "
        "toetreding verschuift geld tussen gemeenten. Het eigen aandeel van de penvoerder "
        "(niet gefactureerd) staat in een eigen kolom; Totaal is wat het onderwerp kostte.",
        (min(total_col + 1, 8), 6 + 42 + 11.5 * (min(total_col + 1, 8) - 2)),
    )
    sheet.write_string(HEADER_ROW - 1, 0, "Jaar", styles.header)
    sheet.write_string(HEADER_ROW - 1, 1, "Onderwerp", styles.header)
    header = HEADER_ROW - 1
    for index, (_code, name) in enumerate(columns):
        sheet.write_string(header, 2 + index, name, styles.header_rotated)
    own_label = f"Eigen aandeel penvoerder ({penvoerders})" if penvoerders else OWN_SHARE
    sheet.write_string(header, own_col, own_label, styles.header_rotated)
    sheet.write_string(header, total_col, "Totaal", styles.header_right)
    longest = max([len(name) for _code, name in columns] + [len(own_label)])
    sheet.set_row(
        header, min(200, 5 * longest + 14)
    )  # rotated 10-point text, about 5 pt a character
    position = {code: 2 + index for index, (code, _name) in enumerate(columns)}
    first = header + 1
    row = header
    for subject in report.subjects:
        row += 1
        sheet.write_number(row, 0, subject.year, styles.centre)
        sheet.write_string(row, 1, subject.subject, styles.text)
        for code, amount in subject.paid.items():
            sheet.write_number(row, position[code], number(amount), styles.money)
        if subject.own_share is not None:
            sheet.write_number(row, own_col, number(subject.own_share), styles.money)
        span = f"{xl_rowcol_to_cell(row, 2)}:{xl_rowcol_to_cell(row, own_col)}"
        sheet.write_formula(row, total_col, f"=SUM({span})", styles.money, number(subject.total))
    last = max(row, first)
    _subject_totals(sheet, styles, report, last + 1, first, last, position, own_col)
    set_widths(sheet, (6, 42))
    sheet.set_column(2, total_col - 1, 11.5)
    sheet.set_column(total_col, total_col, MONEY_WIDTH)
    sheet.freeze_panes(header + 1, 2)
    sheet.autofilter(header, 0, last, total_col)
    print_setup(
        sheet,
        landscape=True,
        repeat_rows=(header, header),
        fit_width=total_col < 16,
        title=f"Per onderwerp {_years_text(report.years)}",
    )


def _subject_totals(
    sheet: Worksheet,
    styles: Styles,
    report: YearReport,
    row: int,
    first: int,
    last: int,
    position: dict[str, int],
    own_col: int,
) -> None:
    paid: dict[int, Decimal] = {}
    for subject in report.subjects:
        for code, amount in subject.paid.items():
            paid[position[code]] = paid.get(position[code], ZERO) + amount
    paid[own_col] = _sum([s.own_share for s in report.subjects])
    paid[own_col + 1] = sum((s.total for s in report.subjects), ZERO)
    sheet.write_string(row, 0, "Totaal", styles.total_label)
    sheet.write_string(row, 1, "", styles.total_label)
    for col in range(2, own_col + 2):
        span = f"{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)}"
        value = number(paid.get(col, ZERO))
        sheet.write_formula(row, col, f"=SUM({span})", styles.total_money, value)


# -- Facturen ----------------------------------------------------------------------------------

_INVOICE_HEADERS = ("Nummer", "Jaar", "Periode", "Partij", "Code", "Gemeente", "Soort")
_INVOICE_WIDTHS = (14, 6, 9, 20, 7, 28, 11, MONEY_WIDTH, 24)


def _invoice_sheet(workbook, styles: Styles, report: YearReport) -> None:
    """Every invoice and credit note of the report's years: number, batch, municipality, kind,
    total and whether it was sent."""
    sheet = workbook.add_worksheet(INVOICES)
    write_titles(
        sheet,
        styles,
        f"Facturen en creditnota's {_years_text(report.years)}",
        "Elke factuur en creditnota in het register, concept en verzonden. Onzeker: het "
        "versturen is afgebroken terwijl de mailserver het bericht had; vraag de ontvanger of "
        "het is aangekomen (zie verstuur --aangekomen en --opnieuw).",
        (len(_INVOICE_WIDTHS), sum(_INVOICE_WIDTHS)),
    )
    header = HEADER_ROW - 1
    sheet.write_row(header, 0, _INVOICE_HEADERS, styles.header)
    sheet.write_string(header, 7, "Bedrag", styles.header_right)
    sheet.write_string(header, 8, "Status", styles.header)
    row = header
    for invoice in report.invoices:
        row += 1
        sheet.write_string(row, 0, invoice.number, styles.code)
        sheet.write_number(row, 1, invoice.year, styles.centre)
        sheet.write_string(row, 2, invoice.period, styles.text)
        sheet.write_string(row, 3, invoice.batch, styles.text)
        sheet.write_string(row, 4, invoice.code, styles.code)
        sheet.write_string(row, 5, invoice.name, styles.text)
        sheet.write_string(row, 6, invoice.kind, styles.text)
        sheet.write_number(row, 7, number(invoice.total), styles.money)
        sheet.write_string(row, 8, _STATES.get(invoice.state, invoice.state), styles.text)
    first, last = header + 1, max(row, header + 1)
    sheet.write_string(last + 1, 0, "Totaal", styles.total_label)
    for col in range(1, 7):
        sheet.write_string(last + 1, col, "", styles.total_label)
    total = sum((i.total for i in report.invoices), ZERO)
    span = f"{xl_rowcol_to_cell(first, 7)}:{xl_rowcol_to_cell(last, 7)}"
    sheet.write_formula(last + 1, 7, f"=SUM({span})", styles.total_money, number(total))
    sheet.write_string(last + 1, 8, "", styles.total_label)
    set_widths(sheet, _INVOICE_WIDTHS)
    sheet.freeze_panes(header + 1, 1)
    sheet.autofilter(header, 0, last, 8)
    print_setup(
        sheet,
        landscape=True,
        repeat_rows=(header, header),
        title=f"Facturen {_years_text(report.years)}",
    )


# -- Grafieken --------------------------------------------------------------------------------


def _chart_sheet(workbook, styles: Styles, report: YearReport) -> None:
    """Two tables with a chart beside each: what each municipality paid per year (the
    penvoerder's own share included) and the subjects that cost most."""
    sheet = workbook.add_worksheet(CHARTS)
    write_titles(
        sheet,
        styles,
        f"Grafieken {_years_text(report.years)}",
        "Bijdrage = facturen en creditnota's, en voor de penvoerder het eigen aandeel. De "
        "bedragen per soort staan op Per gemeente en Per onderwerp.",
        (2 + len(report.years), 7 + 34 + MONEY_WIDTH * len(report.years)),
    )
    end = _contribution_chart(workbook, sheet, styles, report, HEADER_ROW - 1)
    _subject_chart(workbook, sheet, styles, report, end + 2)
    set_widths(sheet, (7, 34) + (MONEY_WIDTH,) * max(len(report.years), 1))
    print_setup(sheet, landscape=True, title=f"Grafieken {_years_text(report.years)}")
    sheet.fit_to_pages(1, 1)  # both charts on one page


def _contribution_chart(workbook, sheet: Worksheet, styles: Styles, report: YearReport, row: int):
    """The table of contributions per municipality and year and its column chart; returns the
    last row the table or the chart takes."""
    years = report.years
    rows = report.contributions()
    shown = rows[:CHART_MUNICIPALITIES]
    heading = "Bijdrage per gemeente per jaar"
    if len(rows) > len(shown):
        heading += f" (de {len(shown)} grootste van {len(rows)} gemeenten)"
    sheet.write_string(row, 0, heading, styles.heading)
    header = row + 1
    sheet.write_row(header, 0, ("Code", "Gemeente"), styles.header)
    sheet.write_row(header, 2, [str(y) for y in years], styles.header_right)
    for index, (code, name, paid) in enumerate(shown):
        sheet.write_string(header + 1 + index, 0, code, styles.code)
        sheet.write_string(header + 1 + index, 1, name, styles.text)
        for offset, year in enumerate(years):
            amount = paid.get(year)
            if amount is not None:
                sheet.write_number(header + 1 + index, 2 + offset, number(amount), styles.money)
    first, last = header + 1, header + max(len(shown), 1)
    chart = workbook.add_chart({"type": "column"})
    colours = ("#1F4E79", "#9DC3E6", "#548235", "#C55A11", "#7F6000", "#7030A0")
    for offset in range(len(years)):
        chart.add_series(
            {
                "name": [CHARTS, header, 2 + offset],
                "categories": [CHARTS, first, 1, last, 1],
                "values": [CHARTS, first, 2 + offset, last, 2 + offset],
                "fill": {"color": colours[offset % len(colours)]},
                "gap": 80,
            }
        )
    chart.set_title({"name": heading, "name_font": {"size": 11}})
    chart.set_y_axis({"num_format": '"€" #,##0', "major_gridlines": {"visible": True}})
    chart.set_x_axis({"num_font": {"rotation": -45 if len(shown) > 8 else 0}})
    chart.set_legend({"position": "bottom" if len(years) > 1 else "none"})
    height = 360
    chart.set_size(
        {"width": max(560, min(1400, 48 * len(shown) * len(years) + 160)), "height": height}
    )
    chart_col = 3 + len(years)
    sheet.insert_chart(row, chart_col, chart, {"x_offset": 10})
    return max(last, row + math.ceil(height / 20))


def _subject_chart(
    workbook, sheet: Worksheet, styles: Styles, report: YearReport, row: int
) -> None:
    top = report.top_subjects()
    sheet.write_string(row, 0, f"De {len(top)} onderwerpen die het meest kostten", styles.heading)
    header = row + 1
    sheet.merge_range(header, 0, header, 1, "Onderwerp", styles.header)
    sheet.write_string(header, 2, "Kosten", styles.header_right)
    for index, (label, amount) in enumerate(top):
        sheet.merge_range(header + 1 + index, 0, header + 1 + index, 1, label, styles.text)
        sheet.write_number(header + 1 + index, 2, number(amount), styles.money)
    if not top:
        sheet.write_string(header + 1, 0, "Nog geen projectkosten gefactureerd.", styles.note)
        return
    first, last = header + 1, header + len(top)
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "Kosten",
            "categories": [CHARTS, first, 0, last, 0],
            "values": [CHARTS, first, 2, last, 2],
            "fill": {"color": "#1F4E79"},
            "data_labels": {"value": True, "num_format": '"€" #,##0'},
            "gap": 60,
        }
    )
    chart.set_title({"name": "Onderwerpen die het meest kostten", "name_font": {"size": 11}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"num_format": '"€" #,##0', "min": 0})  # bars in proportion
    chart.set_size({"width": 620, "height": max(260, 30 * len(top) + 90)})
    sheet.insert_chart(row, 3 + len(report.years), chart, {"x_offset": 10})


# -- Verantwoording ---------------------------------------------------------------------------

_AUDIT_WIDTHS = (52, 22, 16, 12, MONEY_WIDTH, MONEY_WIDTH)


def _audit_sheet(workbook, styles: Styles, report: YearReport, totals: dict[str, str]) -> None:
    """Where the figures come from, and the check: report = the invoices in the register."""
    sheet = workbook.add_worksheet(AUDIT)
    write_titles(
        sheet,
        styles,
        "Verantwoording",
        f"Gemaakt op {report.made_at:%d-%m-%Y om %H:%M} met inkoopkracht-xl {report.version} "
        "uit het register hieronder; het register is alleen gelezen, niet gewijzigd.",
        (6, sum(_AUDIT_WIDTHS)),
    )
    row = 3
    facts = (
        ("Register", str(report.register)),
        ("Gemaakt op", f"{report.made_at:%d-%m-%Y %H:%M}"),
        ("Programmaversie", report.version),
        ("Jaren in dit rapport", ", ".join(str(y) for y in report.years)),
        ("Jaren in het register", ", ".join(str(y) for y in report.register_years)),
    )
    for label, value in facts:
        sheet.write_string(row, 0, label, styles.label)
        sheet.merge_range(row, 1, row, 5, value, styles.wrap)
        row += 1
    row = _checks(sheet, styles, report, totals, row + 1)
    row = _batch_table(sheet, styles, report, row + 1)
    _notes(sheet, styles, row + 1)
    set_widths(sheet, _AUDIT_WIDTHS)
    print_setup(sheet, title="Verantwoording rapport")


def _checks(sheet: Worksheet, styles: Styles, report: YearReport, totals, row: int) -> int:
    sheet.write_string(row, 0, "Controle: rapport = facturen in het register", styles.heading)
    pairs = [
        (
            "Gefactureerd volgens dit rapport (Per gemeente, Totaal gefactureerd)",
            f"={totals['invoiced']}",
            report.invoiced_total,
            "Facturen en creditnota's in het register (som van hun totalen)",
            report.register_invoiced,
        )
    ]
    if "own_share" in totals:
        pairs.append(
            (
                "Eigen aandeel penvoerder volgens dit rapport (Per gemeente)",
                f"={totals['own_share']}",
                report.own_share_total,
                "Eigen aandeel penvoerder in het register (som van de overzichten)",
                report.register_own_share,
            )
        )
    for label, formula, value, register_label, register_value in pairs:
        row += 1
        sheet.write_string(row, 0, label, styles.wrap)
        sheet.write_formula(row, 1, formula, styles.money, number(value))
        report_cell = xl_rowcol_to_cell(row, 1)
        row += 1
        sheet.write_string(row, 0, register_label, styles.wrap)
        sheet.write_number(row, 1, number(register_value), styles.money)
        register_cell = xl_rowcol_to_cell(row, 1)
        row += 1
        sheet.write_string(row, 0, "Rapport = register", styles.bold)
        condition = f"ROUND({report_cell}-{register_cell},2)=0"
        _check(sheet, styles, row, 1, condition, value == register_value)
    row += 1
    sheet.write_string(
        row, 0, "Facturen waarvan de regels niet optellen tot het totaal", styles.wrap
    )
    sheet.write_number(row, 1, len(report.unbalanced), styles.count)
    if report.unbalanced:
        row += 1
        sheet.merge_range(row, 0, row, 5, ", ".join(report.unbalanced), styles.error)
    return row + 1


def _check(sheet: Worksheet, styles: Styles, row: int, col: int, condition: str, ok: bool) -> None:
    """A check cell: OK or VERSCHIL as a formula, its computed value cached, coloured."""
    sheet.write_formula(
        row, col, f'=IF({condition},"OK","VERSCHIL")', styles.check, "OK" if ok else "VERSCHIL"
    )
    cell = xl_rowcol_to_cell(row, col)
    for text, colour in (("OK", styles.good), ("VERSCHIL", styles.bad)):
        sheet.conditional_format(
            cell, {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": colour}
        )


def _batch_table(sheet: Worksheet, styles: Styles, report: YearReport, row: int) -> int:
    sheet.write_string(row, 0, "Afrekeningen in dit rapport", styles.heading)
    row += 1
    sheet.write_row(row, 0, ("Partij", "Jaar"), styles.header)
    sheet.write_row(
        row,
        2,
        ("Facturen en creditnota's", "Verzonden", "Gefactureerd", "Eigen aandeel"),
        styles.header_right,
    )
    for batch in report.batches:
        row += 1
        sheet.write_string(row, 0, batch.batch, styles.text)
        sheet.write_number(row, 1, batch.year, styles.centre)
        sheet.write_number(row, 2, batch.invoices, styles.whole)
        sheet.write_number(row, 3, batch.sent, styles.whole)
        sheet.write_number(row, 4, number(batch.invoiced), styles.money)
        sheet.write_number(row, 5, number(batch.own_share), styles.money)
    return row + 1


_NOTES = (
    "Het eigen aandeel van de penvoerder wordt niet gefactureerd: de penvoerder betaalt de "
    "kosten en draagt zijn deel zelf. Het staat op Per gemeente apart onder de facturen en telt "
    "niet mee in Totaal gefactureerd; op Per onderwerp staat het in een eigen kolom en telt het "
    "mee in de kosten van het onderwerp.",
    "Correcties: alle regels van correctiefacturen en -creditnota's (afrekening --correctie), "
    "welke soort ze ook corrigeren. Waarvan creditnota's: het deel van het totaal dat in "
    "creditnota's staat (al meegeteld, niet nog eens optellen).",
    "Concept-facturen tellen mee: ze staan in het register en worden vervangen als de periode "
    "opnieuw wordt afgerekend. Maak het rapport daarna opnieuw.",
)


def _notes(sheet: Worksheet, styles: Styles, row: int) -> None:
    sheet.write_string(row, 0, "Toelichting", styles.heading)
    for note in _NOTES:
        row += 1
        sheet.merge_range(row, 0, row, 5, note, styles.note)
        set_wrapped_height(sheet, row, [(note, sum(_AUDIT_WIDTHS))])
