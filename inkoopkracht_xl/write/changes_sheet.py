"""The overview's Wijzigingen sheet: what changed in the inputs since the previous settlement."""

from __future__ import annotations

from ..changes import shown
from .styles import Styles, print_setup, set_widths, set_wrapped_height, write_titles

SHEET = "Wijzigingen"
HEADERS = ("Onderdeel", "Wijziging", "Wat", "Oud", "Nieuw", "Toelichting", "Waar")
WIDTHS = (13, 11, 46, 30, 30, 40, 50)
HEADER_ROW = 3  # 0-based: title, subtitle, a blank row, then the header


def changes_sheet(workbook, styles: Styles, comparison) -> None:
    """One row per change (previous.Comparison), the newest reading's cell in `Waar`; a removal
    points into the previous run's copy of its inputs. Header frozen, filter, A4 landscape."""
    sheet = workbook.add_worksheet(SHEET)
    previous = comparison.previous
    if previous is None:
        subtitle = comparison.nothing_to_compare
    else:
        subtitle = (
            f"Vergeleken met de invoer van {previous.describe()} (de kopie in "
            f"{previous.batch}/invoer). Alleen wat is veranderd staat hier; bij iets wat is "
            "verwijderd staat in Waar waar het in die vorige invoer stond."
        )
    write_titles(sheet, styles, "Wijzigingen sinds de vorige afrekening", subtitle, (7, 230))
    sheet.write_row(HEADER_ROW, 0, HEADERS, styles.header)
    row = HEADER_ROW
    for change in comparison.changes:
        row += 1
        cells = (
            change.area,
            change.kind,
            change.what,
            "" if change.old is None else shown(change.old),
            "" if change.new is None else shown(change.new),
            change.note,
            comparison.where(change),
        )
        for column, text in enumerate(cells):
            style = styles.wrap if column >= 2 else styles.text
            if text:
                sheet.write_string(row, column, text, style)
            else:
                sheet.write_blank(row, column, None, style)
        set_wrapped_height(sheet, row, list(zip(cells, WIDTHS, strict=True)))
    if not comparison.changes and previous is not None:
        row += 1
        sheet.write_string(row, 0, f"Geen wijzigingen sinds {previous.describe()}.", styles.note)
    set_widths(sheet, WIDTHS)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.autofilter(HEADER_ROW, 0, max(row, HEADER_ROW), len(HEADERS) - 1)
    print_setup(
        sheet,
        landscape=True,
        repeat_rows=(HEADER_ROW, HEADER_ROW),
        title="Wijzigingen sinds de vorige afrekening",
    )
