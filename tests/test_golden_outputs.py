"""What a user sees stays what it was: the README's first command, against a stored copy.

Refactoring must not change a cent or a word of the outputs. The README's first command
(`afrekening workbooks/2024 --periode 2024-H1`) is run on a copy of the shipped workbooks with a
fixed invoice date, and its JSON (`--json`) and the values of every workbook it writes (overview
and invoices, sheet by sheet, cell by cell) are compared with `tests/fixtures/golden/`. Only what
must differ between two runs is normalised: the moment of the run and the program's version on
the Verantwoording sheet.

When an output changes on purpose, regenerate the stored copy and review its diff like code:
    .venv/bin/python -m tests.test_golden_outputs
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from datetime import date, datetime
from pathlib import Path

from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from inkoopkracht_xl import __version__
from inkoopkracht_xl.cli import main

from .builders import SHIPPED

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
ISSUED = "01-07-2024"
_MOMENT = re.compile(r"Gemaakt op \d\d-\d\d-\d{4} om \d\d:\d\d")


def _settle(tmp: Path) -> tuple[dict, dict]:
    folder = tmp / "2024"
    shutil.copytree(SHIPPED, folder, ignore=shutil.ignore_patterns("uitvoer"))
    result = CliRunner().invoke(
        main, ["afrekening", str(folder), "--periode", "2024-H1", "--datum", ISSUED, "--json"]
    )
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    workbooks = {
        path.relative_to(folder / "uitvoer" / "2024-H1").as_posix(): _values(path)
        for path in sorted((folder / "uitvoer" / "2024-H1").rglob("*.xlsx"))
    }
    return output, workbooks


def _values(path: Path) -> dict[str, list[list[str]]]:
    """Every sheet's cells as text (type and value): what Excel shows before formatting."""
    book = CalamineWorkbook.from_path(str(path))
    sheets = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        sheets[name] = [[_shown(name, value) for value in row] for row in rows]
    return sheets


def _shown(sheet: str, value: object) -> str:
    if isinstance(value, datetime) and sheet == "Verantwoording":
        return "datetime:<moment van de run>"
    if sheet == "Verantwoording" and isinstance(value, str):
        value = value.replace(__version__, "<versie>")
        value = _MOMENT.sub("Gemaakt op <datum> om <tijd>", value)
    if isinstance(value, (datetime, date)):
        return f"{type(value).__name__}:{value.isoformat()}"
    return f"{type(value).__name__}:{value}"


def test_json_of_the_readme_command_is_unchanged(tmp_path: Path) -> None:
    output, _ = _settle(tmp_path)
    stored = json.loads((GOLDEN / "afrekening-2024-H1.json").read_text(encoding="utf-8"))
    # The jaarplan's cost split, checked here by hand as well: Delft pays 26,15 % of € 131.035,
    # € 34.266 a year, half of it in H1.
    assert output["verdeelsleutel"][0]["bedrag"] == "34266.00"
    assert output["facturen"][0]["regels"][0]["bedrag"] == "17133.00"
    assert output == stored


def test_every_workbook_value_is_unchanged(tmp_path: Path) -> None:
    _, workbooks = _settle(tmp_path)
    stored = json.loads((GOLDEN / "workbooks-2024-H1.json").read_text(encoding="utf-8"))
    assert sorted(workbooks) == sorted(stored)
    for name, sheets in stored.items():
        assert list(workbooks[name]) == list(sheets), name
        for sheet, rows in sheets.items():
            assert workbooks[name][sheet] == rows, f"{name} › {sheet}"


def regenerate() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        output, workbooks = _settle(Path(scratch))
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, data in (("afrekening-2024-H1.json", output), ("workbooks-2024-H1.json", workbooks)):
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n"
        (GOLDEN / name).write_text(text, encoding="utf-8")
    print(f"Opgeslagen in {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
