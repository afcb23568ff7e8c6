"""A real spreadsheet engine (LibreOffice, recalculating on load) agrees with every cached value."""

from __future__ import annotations

from click.testing import CliRunner

from inkoopkracht_xl.cli import main

from .builders import BUDGET, jaarplan_folder, set_cells
from .recalc import formula_cells, recalculated_mismatches, requires_libreoffice


@requires_libreoffice
def test_overview_formulas_recalculate_to_their_cached_values(tmp_path):
    folder = jaarplan_folder(tmp_path / "in")
    # A fifth network member and a total with cents make the checks less trivial.
    set_cells(folder / BUDGET, "Inwoners", {"E8": "ja"})  # LV joins the network (example figure)
    set_cells(folder / BUDGET, "Begroting", {"B6": 2000.55})
    path = tmp_path / "overzicht.xlsx"
    result = CliRunner().invoke(main, ["verdeling", str(folder), "--overzicht", str(path)])
    assert result.exit_code == 0, result.output

    formulas = formula_cells(path)
    # Totals and checks are formulas: 3 totals + 1 budget total + 2 checks on the key sheet.
    assert {"C10", "D10", "E10"} <= set(formulas["Verdeelsleutel"])
    assert len(formulas["Verdeelsleutel"]) == 6
    assert len(formulas["Deelnamematrix"]) == 83 + 12 + 1  # per subject, per column, grand total
    assert recalculated_mismatches(path, tmp_path / "work") == []


@requires_libreoffice
def test_settlement_outputs_recalculate_to_their_cached_values(tmp_path):
    from inkoopkracht_xl.settlement_run import run_settlement

    from .builders import JAARPLAN

    run = run_settlement(JAARPLAN, "2024-H1", out=tmp_path / "uit")
    overview = run.folder / "overzicht-2024-H1.xlsx"
    invoice = next((run.folder / "facturen").glob("*Delft.xlsx"))
    assert len(formula_cells(overview)["Afrekening"]) == 7 + 3  # a subtotal per invoice, 3 checks
    # Facturen: six invoices in rows 5-10, their count and total on row 11.
    assert formula_cells(overview)["Facturen"] == ["B11", "G11"]
    assert recalculated_mismatches(overview, tmp_path / "o") == []
    assert recalculated_mismatches(invoice, tmp_path / "i") == []
