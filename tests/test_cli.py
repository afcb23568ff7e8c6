"""The command line as a coordinator meets it: Dutch help, Dutch usage errors, templates that work."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main

from .builders import JAARPLAN, LEGAL_SETTINGS, ROOT, buyer_cells, fingerprint

COMMANDS = (
    "controleer",
    "verdeling",
    "afrekening",
    "verstuur",
    "bewaak",
    "sjabloon",
    "wijzigingen",
    "jaarovergang",
    "status",
    "rapport",
)


def test_help_lists_every_command_in_dutch():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Gebruik: inkoopkracht-xl [OPTIES] OPDRACHT [ARGUMENTEN]...")
    assert "Opdrachten:" in result.output and "Toon deze hulp en stop." in result.output
    listed = [
        line.split()[0]
        for line in result.output.split("Opdrachten:")[1].splitlines()
        if line.strip()
    ]
    assert sorted(listed) == sorted(COMMANDS)


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"`{command} " in readme, command


def test_usage_errors_are_dutch_and_exit_2():
    runner = CliRunner()
    missing = runner.invoke(main, ["controleer"])
    assert missing.exit_code == 2
    assert "Fout in de opdracht: het argument MAP ontbreekt." in missing.output
    typo = runner.invoke(main, ["controleer", "x", "--jsn"])
    assert typo.exit_code == 2
    assert "onbekende optie --jsn; bedoelt u --json." in typo.output
    unknown = runner.invoke(main, ["afreken"])
    assert unknown.exit_code == 2
    assert "onbekende opdracht 'afreken'" in unknown.output


def test_missing_folder_is_refused_in_dutch(tmp_path):
    result = CliRunner().invoke(main, ["controleer", str(tmp_path / "bestaat-niet")])
    assert result.exit_code == 1
    assert "bestaat-niet: deze map bestaat niet." in result.output
    assert "Traceback" not in result.output


def test_module_entry_point_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "inkoopkracht_xl", "controleer", str(JAARPLAN)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Goedgekeurd: 0 fouten, 1 waarschuwing." in result.stdout


def test_filled_template_passes_controleer(tmp_path):
    folder = tmp_path / "nieuw"
    result = CliRunner().invoke(main, ["sjabloon", str(folder)])
    assert result.exit_code == 0, result.output
    calendar = folder / "Aanbestedingskalender (sjabloon).xlsx"
    budget = folder / "Begroting (sjabloon).xlsx"

    book = openpyxl.load_workbook(calendar)
    book["Kalender"].append([1, "Software broker", "2024", "DE, PN, WE, ZM", "2021"])
    for row in (
        ["DE", "Delft", "kern"],
        ["PN", "Pijnacker-Nootdorp", "kern"],
        ["WE", "Westland", "kern"],
        ["ZM", "Zoetermeer", "kern"],
    ):
        book["Gemeenten"].append(row)
    book.save(calendar)

    book = openpyxl.load_workbook(budget)
    settings = book["Instellingen"]
    legal = dict(LEGAL_SETTINGS)  # what the invoice and e-invoice need (issue 13)
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "Jaar":
            row[1].value = 2024
        if row[0].value == "Penvoerder":  # required, a network member (issue 12)
            row[1].value = "ZM"
        if row[0].value in legal:
            row[1].value = legal[row[0].value]
    book["Begroting"].append(["Onvoorzien", 2000])
    for code, name, count in (
        ("DE", "Delft", 106086),
        ("PN", "Pijnacker-Nootdorp", 57672),
        ("WE", "Westland", 114887),
        ("ZM", "Zoetermeer", 126998),
    ):
        book["Inwoners"].append([code, name, count, date(2023, 1, 1), "ja"])
    book["Projectkosten"].append(
        ["F-1", "Software broker", "Advies", date(2024, 3, 1), 500, "gelijk"]
    )
    for number, code in enumerate(("DE", "PN", "WE", "ZM"), start=1):
        street, postcode, city, oin, reference = buyer_cells(code, number)
        book["Contacten"].append(
            # Code, Naam, E-mail, CC, Rechtspersoon, Straat, Postcode, Plaats, OIN, KvK, Uw kenmerk
            [code, "Team Inkoop", f"inkoop@{code.lower()}.example.org", None, None]
            + [street, postcode, city, oin, None, reference]
        )
    book.save(budget)

    result = CliRunner().invoke(main, ["controleer", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Goedgekeurd: 0 fouten, 0 waarschuwingen." in result.output


def test_sjabloon_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["sjabloon", str(tmp_path)]).exit_code == 0
    before = fingerprint(tmp_path)
    again = runner.invoke(main, ["sjabloon", str(tmp_path)])
    assert again.exit_code == 1
    assert "bestaat al. Kies een lege map of verwijder het bestand." in again.output
    assert fingerprint(tmp_path) == before


# --- `controleer MAP | head` (issue 11, item 11) --------------------------------------------

# Runs the command line as `python -m inkoopkracht_xl` does; every echo to stdout after the first
# waits until the reader has closed the pipe (poll reports POLLERR on the write end), so the
# broken pipe happens on every run, not only when the reader happens to be fast.
_AFTER_FIRST_LINE_READER_GONE = """
import runpy, select, sys
import click

original = click.echo
lines = 0

def echo(*args, **kwargs):
    global lines
    if not kwargs.get("err"):
        if lines:
            poll = select.poll()
            poll.register(sys.stdout.fileno(), select.POLLERR)
            if not poll.poll(20000):
                sys.exit(99)  # the reader never closed the pipe
        lines += 1
    return original(*args, **kwargs)

click.echo = echo
sys.argv = ["inkoopkracht_xl", *sys.argv[1:]]
runpy.run_module("inkoopkracht_xl", run_name="__main__")
"""


def _read_one_line_and_close(command):
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    return first, stderr, process.wait(timeout=60)


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-c", _AFTER_FIRST_LINE_READER_GONE, "controleer", "workbooks/2024"],
        [sys.executable, "-m", "inkoopkracht_xl", "controleer", "workbooks/2024"],
    ],
    ids=["always-broken", "as-typed"],
)
def test_output_into_a_closed_pipe_exits_quietly(command):
    first, stderr, code = _read_one_line_and_close(command)
    assert first.strip()  # the command ran and wrote before the pipe closed
    assert "interne fout" not in stderr
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    assert stderr == ""
    if command[1] == "-c":
        assert code == 1  # as Python's documentation does on EPIPE (and click)
    else:
        assert code in (0, 1)  # 0 when all output fitted in the pipe before it closed
