"""The README's command reference is the commands' own help: cog regenerates it, this test fails
when it drifts (regenerate with `.venv/bin/cog -r README.md`)."""

from __future__ import annotations

import re

import cogapp
from click.testing import CliRunner

from inkoopkracht_xl.cli import main

from .builders import ROOT

README = ROOT / "README.md"


def test_the_readme_reference_is_the_current_help(capsys):
    status = cogapp.Cog().main(["cog", "--check", str(README)])
    out = capsys.readouterr()
    assert status == 0, (
        "De opdrachtreferentie in README.md klopt niet meer met de hulpteksten; "
        f"draai `.venv/bin/cog -r README.md`.\n{out.out}{out.err}"
    )


def test_the_reference_holds_every_commands_help():
    readme = README.read_text(encoding="utf-8")
    for command in sorted(main.commands):
        help_text = CliRunner().invoke(main, [command, "--help"], terminal_width=100).output
        block = f"### `inkoopkracht-xl {command} --help`\n\n```text\n{help_text}```\n"
        assert block in readme, command
    assert "[standaard: 587]" in readme and "[verplicht]" in readme


def test_a_changed_help_text_fails_the_check(tmp_path, capsys):
    readme = tmp_path / "README.md"
    text = README.read_text(encoding="utf-8")
    stale, count = re.subn(r"Toon het versienummer en stop\.", "Toon de versie.", text)
    assert count == 1  # the --version line of `inkoopkracht-xl --help`, inside the cog output
    readme.write_text(stale, encoding="utf-8")
    assert cogapp.Cog().main(["cog", "--check", str(readme)]) != 0
    assert "changed" in capsys.readouterr().out.lower()


def test_debug_is_documented():
    readme = README.read_text(encoding="utf-8")
    assert "**`--debug`**" in readme
    assert "traceback" in readme
