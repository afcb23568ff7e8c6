"""The command line: click commands only; each parses options, calls one function, reports in Dutch."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from . import __version__

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

_LEVEL_COLOURS = {"FOUT": "red", "WAARSCHUWING": "yellow"}


def _report_refusals(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn our InputRefused into Dutch findings and exit 1; anything else: one line, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import InputRefused

        try:
            return command(*args, **kwargs)
        except InputRefused as refused:
            for finding in refused.findings:
                click.echo(_styled(finding.text(), finding.level.value), err=True)
            sys.exit(EXIT_REFUSED)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(
                f"FOUT  interne fout: {type(exc).__name__}: {exc}. Er is niets weggeschreven. "
                "Draai opnieuw met --debug en stuur de uitvoer naar de beheerder.",
                err=True,
            )
            sys.exit(EXIT_REFUSED)

    return wrapper


def _styled(line: str, level: str) -> str:
    colour = _LEVEL_COLOURS.get(level)
    if not colour:
        return line
    head, _, tail = line.partition("  ")
    return click.style(head, fg=colour, bold=True) + "  " + tail


folder_argument = click.argument(
    "map", type=click.Path(path_type=Path, file_okay=False), metavar="MAP"
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="inkoopkracht-xl", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Toon bij een interne fout de volledige foutmelding.")
def main(debug: bool) -> None:
    """Kostenverdeling en halfjaarafrekening voor Inkoopkracht ZHW.

    Zet de aanbestedingskalender en de begroting (Excel) in één map en geef die map op.
    """


@main.command()
@folder_argument
@click.option("--json", "as_json", is_flag=True, help="Geef de bevindingen als JSON.")
@_report_refusals
def controleer(map: Path, as_json: bool) -> None:
    """Controleer de invoermap en meld elke fout en waarschuwing met bestand › werkblad › cel."""
    from .read.folder import load_folder

    loaded = load_folder(map)
    findings = loaded.findings
    errors = sum(1 for f in findings if f.is_error)
    warnings = len(findings) - errors
    if as_json:
        click.echo(
            json.dumps(_findings_json(findings, errors, warnings), ensure_ascii=False, indent=2)
        )
    else:
        _print_findings(findings)
        click.echo(_verdict(errors, warnings, loaded.inputs))
    sys.exit(EXIT_REFUSED if errors else EXIT_OK)


def _print_findings(findings: Iterable) -> None:
    by_file: dict[str, list] = {}
    for finding in findings:
        by_file.setdefault(finding.location.file, []).append(finding)
    for file, group in by_file.items():
        click.echo(click.style(file or "(map)", bold=True))
        for finding in sorted(group, key=lambda f: (not f.is_error,)):
            click.echo("  " + _styled(finding.text(), finding.level.value))
        click.echo()


def _verdict(errors: int, warnings: int, inputs: Any) -> str:
    counts = f"{errors} {'fout' if errors == 1 else 'fouten'}, {warnings} " + (
        "waarschuwing" if warnings == 1 else "waarschuwingen"
    )
    if errors:
        return click.style(f"Afgekeurd: {counts}.", fg="red", bold=True) + (
            " Herstel de fouten en controleer opnieuw."
        )
    summary = ""
    if inputs is not None:
        summary = (
            f" Kalender: {inputs.calendar_path.name} ({len(inputs.calendar.subjects)} onderwerpen);"
            f" begroting: {inputs.budget_path.name} (jaar {inputs.budget.settings.year})."
        )
    return click.style(f"Goedgekeurd: {counts}.", fg="green", bold=True) + summary


def _findings_json(findings: Iterable, errors: int, warnings: int) -> dict:
    return {
        "fouten": errors,
        "waarschuwingen": warnings,
        "bevindingen": [
            {
                "niveau": f.level.value,
                "bestand": f.location.file,
                "werkblad": f.location.sheet,
                "cel": f.location.cell,
                "melding": f.message,
                "oplossing": f.fix,
            }
            for f in findings
        ],
    }


@main.command()
@folder_argument
@_report_refusals
def sjabloon(map: Path) -> None:
    """Schrijf lege invoerwerkmappen met de juiste werkbladen, kolommen en uitleg."""
    from .templates import write_templates

    map.mkdir(parents=True, exist_ok=True)
    for path in write_templates(map):
        click.echo(f"Geschreven: {path}")


def _not_yet(name: str) -> Callable[..., None]:
    def command(**_: Any) -> None:
        click.echo(
            f"De opdracht '{name}' is in deze versie nog niet beschikbaar. "
            "Gebruik 'controleer' om de invoer te laten nakijken.",
            err=True,
        )
        sys.exit(EXIT_REFUSED)

    return command


main.command(
    "verdeling", help="Toon de verdeelsleutel van de netwerkbegroting (nog niet beschikbaar)."
)(folder_argument(_not_yet("verdeling")))
main.command(
    "afrekening", help="Maak de afrekening en facturen van een periode (nog niet beschikbaar)."
)(folder_argument(click.option("--periode")(_not_yet("afrekening"))))
main.command("verstuur", help="Verstuur de facturen van een periode (nog niet beschikbaar).")(
    click.argument("uitvoer", type=click.Path(path_type=Path))(_not_yet("verstuur"))
)
main.command(
    "bewaak",
    help="Houd de invoermap in de gaten en controleer na elke wijziging (nog niet beschikbaar).",
)(folder_argument(_not_yet("bewaak")))


def run() -> None:
    """Entry point that never lets an encoding problem in the console crash a report."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    main()
