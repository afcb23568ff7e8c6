"""click's own words in Dutch: every command's help, every usage error, every refused value."""

from __future__ import annotations

import re
from datetime import date

import click
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import DATE, FILE, FOLDER, YEAR, Whole, _DutchGroup, main, option

from .builders import JAARPLAN, ROOT, fingerprint
from .test_cli import COMMANDS

# click's English as it shows in help: type names, section headings, help extras.
ENGLISH = re.compile(
    r"Usage|Options|Commands|Arguments|TEXT|INTEGER|DIRECTORY|FILE\b|PATH\b|RANGE|DATETIME"
    r"|default|required|env var|Show this|Show the version|%d|<=x<="
)


def run(*arguments: str):
    return CliRunner().invoke(main, [str(a) for a in arguments], terminal_width=100)


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_is_dutch_and_fits_100_columns(command):
    result = run(*([command] if command else []), "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Gebruik: inkoopkracht-xl {command}".replace("  ", " "))
    assert "Opties:" in result.output
    assert "  -h, --help" in result.output and "Toon deze hulp en stop." in result.output
    assert not ENGLISH.search(result.output), ENGLISH.search(result.output)
    assert max(len(line) for line in result.output.splitlines()) <= 100


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("afrekening", "--periode PERIODE"),
        ("afrekening", "[verplicht]"),
        ("afrekening", "--datum DATUM"),
        ("afrekening", "--uit MAP"),
        ("verdeling", "--overzicht BESTAND"),
        ("verstuur", "--smtp-host SERVER"),
        ("verstuur", "--smtp-port POORT"),
        ("verstuur", "--smtp-user NAAM"),
        ("verstuur", "[standaard: 587]"),
        ("jaarovergang", "--jaar JAAR"),
        ("status", "--jaar JAAR"),
        ("rapport", "--bestand BESTAND"),
    ],
)
def test_help_shows_dutch_metavars_and_extras(command, shown):
    assert shown in run(command, "--help").output


# (arguments, the whole Dutch message): exit 2, one line on stderr, nothing written.
USAGE_ERRORS = [
    (["controleer"], "het argument MAP ontbreekt. Zie 'inkoopkracht-xl controleer --help'."),
    (
        ["verstuur"],
        "het argument UITVOER/PERIODE ontbreekt. Zie 'inkoopkracht-xl verstuur --help'.",
    ),
    (
        ["afrekening", "{tmp}"],
        "de optie --periode ontbreekt. Zie 'inkoopkracht-xl afrekening --help'.",
    ),
    (
        ["controleer", "{tmp}", "--jsn"],
        "onbekende optie --jsn; bedoelt u --json. Zie 'inkoopkracht-xl controleer --help'.",
    ),
    (
        ["controleer", "{tmp}", "--zzz"],
        "onbekende optie --zzz. Zie 'inkoopkracht-xl controleer --help'.",
    ),
    (["--jsn"], "onbekende optie --jsn. Zie 'inkoopkracht-xl --help'."),
    (
        ["afreken"],
        "onbekende opdracht 'afreken'; bedoelt u 'afrekening'. Zie 'inkoopkracht-xl --help'.",
    ),
    (["xyz"], "onbekende opdracht 'xyz'. Zie 'inkoopkracht-xl --help'."),
    (["--debug"], "de opdracht ontbreekt. Zie 'inkoopkracht-xl --help'."),
    (
        ["controleer", "{tmp}", "b", "c"],
        "onverwacht extra argument: b c. Zie 'inkoopkracht-xl controleer --help'.",
    ),
    (["afrekening", "{tmp}", "--periode"], "de optie --periode heeft een waarde nodig."),
    (["controleer", "{tmp}", "--json=ja"], "de optie --json heeft geen waarde."),
    (
        ["afrekening", "{tmp}", "--periode", "2024-H1", "--datum", "31-02-2024"],
        "--datum: ongeldige datum '31-02-2024': gebruik dd-mm-jjjj, bijvoorbeeld 01-07-2024. "
        "Zie 'inkoopkracht-xl afrekening --help'.",
    ),
    (
        ["verstuur", "{tmp}", "--smtp-port", "abc"],
        "--smtp-port: 'abc' is geen heel getal. Zie 'inkoopkracht-xl verstuur --help'.",
    ),
    (
        ["verstuur", "{tmp}", "--smtp-port", "70000"],
        "--smtp-port: 70000 ligt niet tussen 1 en 65535. Zie 'inkoopkracht-xl verstuur --help'.",
    ),
    (
        ["status", "{tmp}", "--jaar", "1999"],
        "--jaar: 1999 ligt niet tussen 2000 en 2100. Zie 'inkoopkracht-xl status --help'.",
    ),
    (
        ["jaarovergang", "{tmp}", "{tmp}/nieuw", "--jaar", "volgend"],
        "--jaar: 'volgend' is geen heel getal. Zie 'inkoopkracht-xl jaarovergang --help'.",
    ),
    (
        ["controleer", "{tmp}/los.txt"],
        "MAP: '{tmp}/los.txt' is een bestand; geef een map op. "
        "Zie 'inkoopkracht-xl controleer --help'.",
    ),
    (
        ["verdeling", str(JAARPLAN), "--overzicht", "{tmp}"],
        "--overzicht: '{tmp}' is een map; geef een bestand op. "
        "Zie 'inkoopkracht-xl verdeling --help'.",
    ),
]


@pytest.mark.parametrize(("arguments", "message"), USAGE_ERRORS, ids=lambda v: str(v)[:40])
def test_usage_errors_are_dutch(tmp_path, arguments, message):
    (tmp_path / "los.txt").write_text("geen map", encoding="utf-8")
    before = fingerprint(tmp_path)
    result = run(*(a.replace("{tmp}", str(tmp_path)) for a in arguments))
    assert result.exit_code == 2
    assert result.output == f"Fout in de opdracht: {message.replace('{tmp}', str(tmp_path))}\n"
    assert fingerprint(tmp_path) == before


def test_the_program_name_alone_shows_the_help():
    result = run()
    assert result.exit_code == 2  # as click: no command is a usage error, answered with help
    assert result.output.startswith("Gebruik: inkoopkracht-xl [OPTIES] OPDRACHT [ARGUMENTEN]...")
    assert "Fout in de opdracht" not in result.output


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("01-07-2024", date(2024, 7, 1)),
        ("2024-07-01", date(2024, 7, 1)),
        ("29-2-2024", date(2024, 2, 29)),
    ],
)
def test_a_date_is_read_in_both_forms(typed, meant):
    assert DATE.convert(typed, None, None) == meant


@pytest.mark.parametrize("typed", ["31-02-2024", "1 juli 2024", "07/01/2024", ""])
def test_a_wrong_date_is_refused_with_an_example(typed):
    with pytest.raises(click.BadParameter) as refused:
        DATE.convert(typed, None, None)
    assert refused.value.message == (
        f"ongeldige datum '{typed}': gebruik dd-mm-jjjj, bijvoorbeeld 01-07-2024"
    )


def test_whole_numbers_and_their_bounds():
    assert YEAR.convert("2025", None, None) == 2025
    assert YEAR.convert(" 2000 ", None, None) == 2000  # the bounds themselves are allowed
    assert YEAR.convert(2100, None, None) == 2100
    assert Whole().convert("-3", None, None) == -3  # without bounds any whole number
    with pytest.raises(click.BadParameter, match=r"^'2024,5' is geen heel getal$"):
        YEAR.convert("2024,5", None, None)
    with pytest.raises(click.BadParameter, match=r"^2101 ligt niet tussen 2000 en 2100$"):
        YEAR.convert("2101", None, None)


def test_folders_and_files_are_paths_and_may_not_exist_yet(tmp_path):
    assert FOLDER.convert(str(tmp_path / "nieuw"), None, None) == tmp_path / "nieuw"
    assert FILE.convert(str(tmp_path / "o.xlsx"), None, None) == tmp_path / "o.xlsx"
    assert FOLDER.convert(str(ROOT), None, None) == ROOT


# An option of click's own types (a future one, say a fixed list) still answers in Dutch.
@click.group("proef", cls=_DutchGroup)
def _spare() -> None:
    pass


@_spare.command("kies")
@option("--soort", type=click.Choice(["factuur", "creditnota"]))
@option("--methode", type=click.Choice(["procent"]))
@option("--aantal", type=click.INT)
@option("--maand", type=click.IntRange(1, 12))
def _kies(soort: str | None, methode: str | None, aantal: int | None, maand: int | None) -> None:
    pass


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--soort", "nota"], "--soort: 'nota' is geen van 'factuur', 'creditnota'"),
        (["--methode", "exact"], "--methode: 'exact' is niet 'procent'"),
        (["--aantal", "veel"], "--aantal: 'veel' is geen getal"),
        (["--maand", "13"], "--maand: 13 ligt niet tussen 1 en 12"),
    ],
)
def test_click_own_types_are_refused_in_dutch(arguments, message):
    result = CliRunner().invoke(_spare, ["kies", *arguments])
    assert result.exit_code == 2
    assert result.output == f"Fout in de opdracht: {message}. Zie 'proef kies --help'.\n"


def test_help_of_click_own_types_is_dutch():
    result = CliRunner().invoke(_spare, ["kies", "--help"])
    assert "--aantal GETAL" in result.output
    assert "--maand GETAL" in result.output
    assert "[1 t/m 12]" in result.output  # click's range extra, 1<=x<=12
    assert not ENGLISH.search(result.output), ENGLISH.search(result.output)
