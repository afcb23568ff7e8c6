"""The README's library examples run as written: the docs cannot drift from the code.

Every ```python block under "## Als Python-bibliotheek" is executed from the repository root,
in order and in one namespace (a later block uses what an earlier one made), and what it prints
is compared with the ```text block that follows it (trailing spaces aside: pandas pads the
index header line). A python block with no text block after it must print nothing.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Als Python-bibliotheek"
# A fenced block: its language and its body.
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def library_section(readme: str) -> str:
    """The README's text from SECTION up to the next second-level heading."""
    start = readme.index(f"\n{SECTION}\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else len(readme)]


def examples(section: str) -> list[tuple[str, str | None]]:
    """(python code, the text block right after it or None), in README order."""
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in _BLOCK.finditer(section)]
    found = []
    for i, (language, body, _, end) in enumerate(blocks):
        if language != "python":
            continue
        after = blocks[i + 1] if i + 1 < len(blocks) else None
        shown = None
        if after is not None and after[0] == "text" and not section[end : after[2]].strip():
            shown = after[1]
        found.append((body, shown))
    return found


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").splitlines()]


def test_the_library_section_has_examples_with_their_output():
    found = examples(library_section((ROOT / "README.md").read_text(encoding="utf-8")))
    assert len(found) >= 2
    assert all(shown is not None for _, shown in found[:1])
    # The worked example the issue asks for: the jaarplan's key and the matrix's shape.
    code, shown = found[0]
    assert "key_frame" in code and "participation_frame" in code
    assert "DE                 Delft    106086      26.15  34266.00" in shown


def test_the_readme_examples_print_what_the_readme_shows(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    found = examples(library_section((ROOT / "README.md").read_text(encoding="utf-8")))
    for number, (code, shown) in enumerate(found, start=1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"README.md {SECTION} voorbeeld {number}", "exec"), namespace)
        expected = _lines(shown) if shown is not None else []
        assert _lines(printed.getvalue()) == expected, f"voorbeeld {number}"


def test_a_changed_output_is_caught():
    section = f"\n{SECTION}\n\n```python\nprint(1 + 1)\n```\n\n```text\n3\n```\n\n## Verder\n"
    ((code, shown),) = examples(library_section(section))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {})
    assert _lines(printed.getvalue()) != _lines(shown)


@pytest.mark.parametrize("between", ["Uitvoer:\n\n", ""])
def test_only_a_text_block_right_after_the_code_is_its_output(between):
    section = f"\n{SECTION}\n\n```python\nx = 1\n```\n\n{between}```text\n1\n```\n"
    ((_, shown),) = examples(library_section(section))
    assert shown == (None if between else "1\n")
