"""CI gate: every module of the reading and settlement core has at least 90 % line coverage.

Reads the JSON report that pytest-cov writes (coverage.json, see pyproject.toml) and exits 1
naming each module below the bar. The whole package's figure is printed by pytest itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

THRESHOLD = 90.0
# The reading and settlement core (issue 7): everything that decides what is read and billed.
CORE = (
    "inkoopkracht_xl/read/",
    "inkoopkracht_xl/check.py",
    "inkoopkracht_xl/money.py",
    "inkoopkracht_xl/allocate.py",
    "inkoopkracht_xl/settle.py",
    "inkoopkracht_xl/register.py",
)


def main(report: Path) -> int:
    files = json.loads(report.read_text(encoding="utf-8"))["files"]
    failing = 0
    print(f"Dekking van de kern (minimaal {THRESHOLD:.0f} % per module):")
    for name, data in sorted(files.items()):
        name = name.replace("\\", "/")
        if not name.startswith(CORE) or data["summary"]["num_statements"] == 0:
            continue
        percent = data["summary"]["percent_covered"]
        verdict = "OK" if percent >= THRESHOLD else "TE LAAG"
        failing += percent < THRESHOLD
        print(f"  {name:<40} {percent:6.1f} %  {verdict}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "coverage.json")))
