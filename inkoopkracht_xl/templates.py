"""Input workbooks written from the layout: empty templates (`sjabloon`) and the example workbooks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from . import layout
from .errors import InputRefused
from .layout import SheetLayout
from .model import Location
from .write.files import atomic_file
from .write.styles import WORKBOOK_OPTIONS, Styles

CALENDAR_TEMPLATE_NAME = "Aanbestedingskalender (sjabloon).xlsx"
BUDGET_TEMPLATE_NAME = "Begroting (sjabloon).xlsx"
EXPLANATION_SHEET = "Uitleg"

# Rows below the header that get drop-down validation: room for a year of entries.
VALIDATED_ROWS = 1000

# How a column's values look. Keyed by the layout's column keys, never by the Dutch headers.
_MONEY_KEYS = frozenset({"budgeted", "realised", "amount"})
_DATE_KEYS = frozenset({"reference_date", "date"})
_WHOLE_NUMBER_KEYS = frozenset({"inhabitants"})

# Columns holding one municipality code, checked against Gemeenten when it is in the same workbook.
_CODE_COLUMNS = frozenset(
    {
        (layout.INWONERS.name, "code"),
        (layout.TOETREDINGEN.name, "code"),
        (layout.CONTACTEN.name, "code"),
    }
)
_LEAD_KEY = "lead"  # the Instellingen key whose Waarde is a municipality code
_CENTRED_KEYS = frozenset({"category"})

# Examples in the template's Opmerking column, by setting key. Never a real OIN or KvK: the
# identifiers are obviously made up; the IBAN is the one of the documentation examples.
SETTING_EXAMPLES: dict[str, str] = {
    "year": "bijvoorbeeld 2024",
    "lead": "bijvoorbeeld ZM (de code uit Inwoners)",
    "sender_name": "bijvoorbeeld Inkoopkracht ZHW",
    "sender_address": "bijvoorbeeld Postbus 15, 2700 AA Zoetermeer",
    "sender_iban": "bijvoorbeeld NL91 ABNA 0417 1643 00 (voorbeeld, geen echte rekening)",
    "sender_email": "bijvoorbeeld inkoopkracht@gemeente.example",
    "sender_legal_name": "bijvoorbeeld Gemeente Zoetermeer",
    "sender_street": "bijvoorbeeld Markt 1",
    "sender_postcode": "bijvoorbeeld 2711 AA",
    "sender_city": "bijvoorbeeld Zoetermeer",
    "sender_kvk": "8 cijfers, bijvoorbeeld 00000000 (voorbeeld)",
    "sender_oin": "20 cijfers als tekst, bijvoorbeeld 00000000000000000001 (voorbeeld)",
    "sender_vat_number": "alleen bij Btw = E, bijvoorbeeld NL000000000B01 (voorbeeld)",
    "vat_category": "O of E: vraag het de fiscalist van de penvoerder",
    "vat_note": "leeg: de standaardtekst; bij E de grond van de vrijstelling",
    "einvoice": "peppol, si-ubl of nee",
    "sender_contact_person": "bijvoorbeeld de coördinator van Inkoopkracht",
    "sender_phone": "als tekst, bijvoorbeeld 079 000 00 00 (voorbeeld)",
    "sender_bic": "bijvoorbeeld ABNANL2A",
    "credit_method": "verrekenen of terugbetalen",
}

_EXPLANATION_WIDTH = 95
# Fewer characters than the width fit on a line once words wrap; err towards a taller row.
_EXPLANATION_CHARS_PER_LINE = 85


def write_input_workbook(
    path: Path | str,
    sheets: Sequence[SheetLayout],
    rows: Mapping[str, Sequence[Sequence[object]]],
    *,
    title: str | None = None,
    explanation_sheet: bool = False,
    created: datetime | None = None,
) -> Path:
    """Write an input workbook with one sheet per layout, atomically (temporary file, then replace).

    `rows` maps a sheet name to its data rows, each a sequence of values in the layout's column
    order: `str`, `int`, `Decimal` (amounts), `date`, or `None` for an empty cell. `title`, when
    given, is written above the header of the first sheet (with a blank row below it), the way the
    jaarplan heads its calendar. `created` fixes the document's creation date, so a script that
    regenerates committed workbooks produces identical files.
    """
    path = Path(path)
    names = {sheet.name for sheet in sheets}
    unknown = sorted(set(rows) - names)
    if unknown:
        raise ValueError(f"rows for sheets that are not written: {unknown}")

    with atomic_file(path) as temporary:
        workbook = xlsxwriter.Workbook(str(temporary), WORKBOOK_OPTIONS)
        properties: dict[str, object] = {"created": created or datetime.now()}
        if title:
            properties["title"] = title
        workbook.set_properties(properties)
        formats = Styles(workbook)
        if explanation_sheet:
            _write_explanation(workbook, formats, sheets, title)
        header_rows = {
            sheet.name: (2 if title and index == 0 else 0) for index, sheet in enumerate(sheets)
        }
        codes_source = _codes_source(sheets, header_rows)
        for index, sheet in enumerate(sheets):
            _write_sheet(
                workbook,
                formats,
                sheet,
                rows.get(sheet.name, ()),
                title=title if index == 0 else None,
                header_row=header_rows[sheet.name],
                codes_source=codes_source,
            )
        workbook.close()
    return path


def write_templates(folder: Path) -> list[Path]:
    """Write the two empty input workbooks (headers, drop-downs, Uitleg) into `folder`.

    Refuses, before writing anything, when either file already exists: a template must never
    overwrite a coordinator's filled-in workbook.
    """
    folder = Path(folder)
    calendar = folder / CALENDAR_TEMPLATE_NAME
    budget = folder / BUDGET_TEMPLATE_NAME
    for path in (calendar, budget):
        if path.exists():
            raise InputRefused.single(
                Location(str(path)), "bestaat al.", "Kies een lege map of verwijder het bestand."
            )
    folder.mkdir(parents=True, exist_ok=True)
    # Waarde stays empty: an example typed there would be read as the real value. The Opmerking
    # column beside it shows one, marked as an example (the reader ignores that column).
    settings_rows = [
        (dutch, None, SETTING_EXAMPLES.get(key)) for key, dutch, *_rest in layout.SETTINGS_KEYS
    ]
    write_input_workbook(calendar, layout.CALENDAR_SHEETS, {}, explanation_sheet=True)
    write_input_workbook(
        budget,
        layout.BUDGET_SHEETS,
        {layout.INSTELLINGEN.name: settings_rows},
        explanation_sheet=True,
    )
    return [calendar, budget]


def _codes_source(sheets: Sequence[SheetLayout], header_rows: Mapping[str, int]) -> str | None:
    """The range of Gemeenten codes for a drop-down, or None when Gemeenten is another workbook."""
    gemeenten = layout.GEMEENTEN
    if gemeenten not in sheets:
        return None
    column = gemeenten.columns.index(gemeenten.column("code"))
    first = header_rows[gemeenten.name] + 1
    start = xl_rowcol_to_cell(first, column, row_abs=True, col_abs=True)
    end = xl_rowcol_to_cell(first + VALIDATED_ROWS - 1, column, row_abs=True, col_abs=True)
    return f"={gemeenten.name}!{start}:{end}"


def _write_sheet(
    workbook: Workbook,
    formats: Styles,
    sheet: SheetLayout,
    rows: Sequence[Sequence[object]],
    *,
    title: str | None,
    header_row: int,
    codes_source: str | None,
) -> None:
    worksheet = workbook.add_worksheet(sheet.name)
    columns = sheet.columns
    last_column = len(columns) - 1
    if title:
        worksheet.write_string(0, 0, title, formats.title)

    for index, column in enumerate(columns):
        worksheet.set_column(
            index, index, column.width, getattr(formats, _kind(column.key) or "text")
        )
        worksheet.write_string(header_row, index, column.header, formats.header)
    worksheet.freeze_panes(header_row + 1, 0)
    _print_setup(worksheet, landscape=True)
    worksheet.repeat_rows(0, header_row)

    for offset, values in enumerate(rows, start=1):
        if len(values) > len(columns):
            raise ValueError(f"{sheet.name}: row {offset} has more values than columns")
        for index, value in enumerate(values):
            _write_value(worksheet, header_row + offset, index, value, columns[index].key, formats)

    last_row = header_row + max(len(rows), 1)
    worksheet.autofilter(header_row, 0, last_row, last_column)
    # Years and codes are text on purpose ("2024", "2023/2024"): no green warning triangles.
    worksheet.ignore_errors(
        {
            "number_stored_as_text": (
                f"{xl_rowcol_to_cell(header_row + 1, 0)}:"
                f"{xl_rowcol_to_cell(header_row + VALIDATED_ROWS, last_column)}"
            )
        }
    )

    first, last = header_row + 1, header_row + VALIDATED_ROWS
    for index, column in enumerate(columns):
        if column.choices:
            _list_validation(worksheet, first, index, last, list(column.choices))
        elif codes_source and (sheet.name, column.key) in _CODE_COLUMNS:
            _list_validation(worksheet, first, index, last, codes_source)

    if sheet is layout.INSTELLINGEN:
        _settings_validations(worksheet, rows, header_row, codes_source)


def _print_setup(worksheet: Worksheet, *, landscape: bool) -> None:
    """A4, all columns on one page width, so a printout is readable without editing."""
    worksheet.set_paper(9)
    if landscape:
        worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)


def _kind(key: str) -> str | None:
    if key in _MONEY_KEYS:
        return "money"
    if key in _DATE_KEYS:
        return "date"
    if key in _WHOLE_NUMBER_KEYS:
        return "whole"
    if key in _CENTRED_KEYS:
        return "mark"
    return None


def _write_value(
    worksheet: Worksheet,
    row: int,
    column: int,
    value: object,
    key: str,
    formats: Styles,
) -> None:
    if value is None or value == "":
        return
    if isinstance(value, str):
        worksheet.write_string(row, column, value)
    elif isinstance(value, Decimal):
        # The only place an amount becomes a float: xlsxwriter needs a number, and Excel stores
        # doubles anyway. All arithmetic happens on Decimal before this point.
        worksheet.write_number(row, column, float(value), formats.money)
    elif isinstance(value, datetime | date):
        worksheet.write_datetime(row, column, value, formats.date)
    elif isinstance(value, int) and not isinstance(value, bool):
        kind = _kind(key)
        worksheet.write_number(row, column, value, getattr(formats, kind) if kind else None)
    else:
        raise TypeError(f"cannot write {type(value).__name__} to an input workbook: {value!r}")


def _list_validation(
    worksheet: Worksheet, first: int, column: int, last: int, source: list[str] | str
) -> None:
    # A warning, not a stop: the reader is tolerant ("Ja", "1 contractmanagement") and the
    # checker reports what it cannot use, with the cell.
    worksheet.data_validation(
        first,
        column,
        last,
        column,
        {
            "validate": "list",
            "source": source,
            "error_type": "warning",
            "error_title": "Onbekende waarde",
            "error_message": "Kies een waarde uit de lijst.",
        },
    )


def _settings_validations(
    worksheet: Worksheet,
    rows: Sequence[Sequence[object]],
    header_row: int,
    codes_source: str | None,
) -> None:
    """Drop-downs on the Waarde cells of the Instellingen keys that have a fixed set of values."""
    keys = {
        dutch.casefold(): (key, choices)
        for key, dutch, _req, _expl, choices in layout.SETTINGS_KEYS
    }
    value_column = layout.INSTELLINGEN.columns.index(layout.INSTELLINGEN.column("value"))
    for offset, values in enumerate(rows, start=1):
        name = values[0] if values else None
        if not isinstance(name, str) or name.strip().casefold() not in keys:
            continue
        key, choices = keys[name.strip().casefold()]
        row = header_row + offset
        if choices:
            _list_validation(worksheet, row, value_column, row, list(choices))
        elif key == _LEAD_KEY and codes_source:
            _list_validation(worksheet, row, value_column, row, codes_source)


def _write_explanation(
    workbook: Workbook,
    formats: Styles,
    sheets: Sequence[SheetLayout],
    title: str | None,
) -> None:
    """The Uitleg sheet: what the workbook is for, then every sheet, column and setting."""
    worksheet = workbook.add_worksheet(EXPLANATION_SHEET)
    worksheet.set_column(0, 0, 28)
    worksheet.set_column(1, 1, _EXPLANATION_WIDTH)
    worksheet.hide_gridlines(2)
    _print_setup(worksheet, landscape=False)
    lines = _explanation_lines(sheets)
    worksheet.write_string(0, 0, f"Uitleg: {title}" if title else "Uitleg", formats.title)
    row = 2
    for style, label, text in lines:
        if style == "blank":
            row += 1
            continue
        label_format = formats.section if style == "section" else formats.label
        text_format = formats.section if style == "section" else formats.wrap
        worksheet.write_string(row, 0, label, label_format)
        worksheet.write_string(row, 1, text, text_format)
        # Excel grows wrapped rows on opening, LibreOffice does not: set the height ourselves.
        lines = max(math.ceil(len(text) / _EXPLANATION_CHARS_PER_LINE), 1)
        if lines > 1:
            worksheet.set_row(row, 15 * lines)
        row += 1


def _explanation_lines(sheets: Sequence[SheetLayout]) -> list[tuple[str, str, str]]:
    """(style, label, text) rows of the Uitleg sheet, in plain Dutch."""
    is_calendar = layout.KALENDER in sheets
    if is_calendar:
        purpose = (
            "Dit werkboek is de aanbestedingskalender van Inkoopkracht ZHW: welke aanbestedingen "
            "er dit jaar spelen en welke gemeenten meedoen. Het programma inkoopkracht-xl gebruikt "
            "de kalender om projectkosten over de deelnemende gemeenten te verdelen."
        )
    else:
        purpose = (
            "Dit werkboek is de begroting van Inkoopkracht ZHW: de instellingen van het jaar, de "
            "begrotingsposten, de inwonertallen voor de verdeelsleutel, de projectkosten, "
            "toetredingen en de adressen voor de facturen. Het programma inkoopkracht-xl maakt "
            "hiermee de halfjaarlijkse afrekening."
        )
    lines: list[tuple[str, str, str]] = [
        ("text", "Waarvoor", purpose),
        (
            "text",
            "Hoe",
            "Zet dit werkboek samen met het andere werkboek (aanbestedingskalender of begroting) "
            "in één map en controleer die map met: inkoopkracht-xl controleer MAP. Het programma "
            "herkent de werkboeken aan hun bladen, niet aan de bestandsnaam.",
        ),
        (
            "text",
            "Invullen",
            "Laat de bladnamen en kolomkoppen staan zoals ze zijn. Vul vanaf de rij onder de kop "
            "één regel per gegeven in; lege rijen worden overgeslagen. Bedragen zijn exclusief "
            "BTW en mogen als getal of als tekst (€ 120.000 of 3.685,50). Datums als datum of "
            "als tekst (1-1-2023). Een kolom met een keuzelijst biedt de toegestane waarden aan.",
        ),
        ("blank", "", ""),
    ]
    for sheet in sheets:
        need = "verplicht blad" if sheet.required else "optioneel blad; mag ontbreken"
        lines.append(("section", f"Blad {sheet.name}", f"{sheet.explanation} ({need})"))
        for column in sheet.columns:
            label = column.header if column.required else f"{column.header} (optioneel)"
            lines.append(("text", label, column.explanation))
        if sheet is layout.INSTELLINGEN:
            lines.append(
                (
                    "label",
                    "Sleutels",
                    f"Zet in de kolom {sheet.column('key').header} de naam van de instelling en "
                    f"in de kolom {sheet.column('value').header} de waarde:",
                )
            )
            for _key, dutch, required, explanation, _choices in layout.SETTINGS_KEYS:
                label = f"{dutch} (verplicht)" if required else dutch
                lines.append(("text", label, explanation))
        lines.append(("blank", "", ""))
    return lines
