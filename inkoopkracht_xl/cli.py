"""The command line: click commands only; each parses options, calls one function, reports in Dutch."""

from __future__ import annotations

import functools
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from . import __version__

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

_LEVEL_COLOURS = {"FOUT": "red", "WAARSCHUWING": "yellow"}
SHORT_LIST = 10  # changes afrekening prints; the rest are on the overview's Wijzigingen sheet

_HEADINGS = {"Options": "Opties", "Commands": "Opdrachten", "Arguments": "Argumenten"}
# click's own usage errors, in Dutch; anything not listed is shown as click words it.
_USAGE_ERRORS = (
    (r"Missing argument '(.+)'\.", r"het argument \1 ontbreekt"),
    (r"Missing option '(.+)'\.", r"de optie \1 ontbreekt"),
    (
        r"No such option:? '?([^'\s]+?)'?\. Did you mean '?([^'\s]+?)'?\?",
        r"onbekende optie \1; bedoelt u \2",
    ),
    (r"No such option:? '?([^'\s]+?)'?\.?", r"onbekende optie \1"),
    (
        r"No such command '(.+?)'\. Did you mean '(.+?)'\?",
        r"onbekende opdracht '\1'; bedoelt u '\2'",
    ),
    (r"No such command '(.+)'\.", r"onbekende opdracht '\1'"),
    (r"Got unexpected extra arguments? \((.+)\)", r"onverwacht extra argument: \1"),
    (r"Option '(.+)' requires an argument\.", r"de optie \1 heeft een waarde nodig"),
    (r"Invalid value for (.+?): (.+)", r"ongeldige waarde voor \1: \2"),
)


class _DutchFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="Gebruik: ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(_HEADINGS.get(heading, heading))


class _DutchContext(click.Context):
    formatter_class = _DutchFormatter


class _DutchHelp:
    context_class = _DutchContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[OPTIES]")
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = "Toon deze hulp en stop."
        return option


class _DutchCommand(_DutchHelp, click.Command):
    pass


class _DutchGroup(_DutchHelp, click.Group):
    """A click group whose help, usage errors and interruptions speak Dutch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", "OPDRACHT [ARGUMENTEN]...")
        super().__init__(*args, **kwargs)

    command_class = _DutchCommand

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        standalone = extra.pop("standalone_mode", True)
        try:
            result = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as error:
            hint = ""
            if error.ctx is not None:
                hint = f" Zie '{error.ctx.command_path} --help'."
            click.echo(
                f"Fout in de opdracht: {_dutch_usage(error.format_message())}.{hint}", err=True
            )
            result = EXIT_USAGE
        except click.Abort:
            click.echo("Afgebroken; er is niets weggeschreven.", err=True)
            result = EXIT_REFUSED
        if not standalone:
            return result
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def _dutch_usage(message: str) -> str:
    import re

    for pattern, dutch in _USAGE_ERRORS:
        match = re.fullmatch(pattern, message.strip())
        if match:
            return match.expand(dutch).rstrip(".")
    return message.rstrip(".")


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
        except (
            click.exceptions.Exit,
            click.ClickException,
            SystemExit,
            KeyboardInterrupt,
            BrokenPipeError,  # the reader stopped (`| head`): not an internal error; see run()
        ):
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


@click.group(
    "inkoopkracht-xl", cls=_DutchGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(
    __version__,
    prog_name="inkoopkracht-xl",
    message="%(prog)s %(version)s",
    help="Toon het versienummer en stop.",
)
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
            json.dumps(
                _findings_json(findings, errors, warnings, loaded.skipped),
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        _print_findings(findings)
        _print_skipped(loaded.skipped)
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


# By RowKind value (the model is not imported at start-up: --help stays fast).
_SKIPPED_WORDS = {
    "opmerking": ("opmerking", "opmerkingen"),
    "tussenkop": ("tussenkop", "tussenkoppen"),
    "totaalregel": ("totaalregel (gecontroleerd)", "totaalregels (gecontroleerd)"),
}


def _print_skipped(skipped: Iterable) -> None:
    """Per sheet, how many rows were read as notes, sub-headings and totals: never data."""
    counts: dict[tuple[str, str], Counter] = {}
    for row in skipped:
        counts.setdefault((row.location.file, row.location.sheet), Counter())[row.kind.value] += 1
    if not counts:
        return
    click.echo("Niet als gegevens gelezen (zie ook het werkblad Verantwoording):")
    for (file, sheet), kinds in counts.items():
        parts = [
            f"{kinds[kind]} {_SKIPPED_WORDS[kind][kinds[kind] != 1]}"
            for kind in _SKIPPED_WORDS
            if kinds[kind]
        ]
        click.echo(f"  {file} › {sheet}: {', '.join(parts)}")
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


def _findings_json(findings: Iterable, errors: int, warnings: int, skipped: Iterable = ()) -> dict:
    return {
        "niet_als_gegevens_gelezen": [
            {
                "soort": row.kind.value,
                "bestand": row.location.file,
                "werkblad": row.location.sheet,
                "cel": row.location.cell,
                "tekst": row.text,
            }
            for row in skipped
        ],
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


@main.command()
@folder_argument
@click.option("--json", "as_json", is_flag=True, help="Geef de verdeelsleutel als JSON.")
@click.option(
    "--overzicht",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Schrijf ook het overzicht (Excel) met verdeelsleutel en deelnamematrix naar dit bestand.",
)
@_report_refusals
def verdeling(map: Path, as_json: bool, overzicht: Path | None) -> None:
    """Toon de verdeelsleutel van de netwerkbegroting (inwoners, percentage, bijdrage)."""
    from .report import key_report, write_key_overview

    report = key_report(map)
    if overzicht is not None:
        write_key_overview(report, overzicht)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo(report.as_table())
    for warning in report.warnings:
        click.echo("  " + _styled(warning.text(), warning.level.value), err=True)
    if overzicht is not None:
        click.echo(f"Overzicht geschreven: {overzicht}")


@main.command()
@folder_argument
@click.option("--periode", required=True, help="De periode: 2024-H1, 2024-H2 of 2024 (heel jaar).")
@click.option(
    "--uit",
    type=click.Path(path_type=Path, file_okay=False),
    help="Map voor de uitvoer en het register (standaard: MAP/uitvoer).",
)
@click.option(
    "--correctie",
    is_flag=True,
    help="Maak correctiefacturen voor een periode die al verzonden is.",
)
@click.option(
    "--datum",
    type=click.DateTime(formats=["%d-%m-%Y", "%Y-%m-%d"]),
    help="Factuurdatum (dd-mm-jjjj); standaard vandaag.",
)
@click.option("--json", "as_json", is_flag=True, help="Geef de afrekening als JSON.")
@_report_refusals
def afrekening(
    map: Path,
    periode: str,
    uit: Path | None,
    correctie: bool,
    datum: Any,
    as_json: bool,
) -> None:
    """Maak de afrekening van een periode: overzicht, facturen (PDF, e-factuur en Excel) en
    register."""
    from .afrekening import run_settlement
    from .money import format_euro

    run = run_settlement(
        map,
        periode,
        out=uit,
        correction=correctie,
        issue_date=datum.date() if datum else None,
    )
    if as_json:
        click.echo(json.dumps(run.as_json(), ensure_ascii=False, indent=2))
        return
    for finding in run.findings:
        click.echo(_styled(finding.text(), finding.level.value), err=True)
    click.echo(f"Afrekening {run.batch} geschreven naar {run.folder}")
    if run.changes is not None:
        click.echo(run.changes.headline())
        for line in run.changes.lines(limit=SHORT_LIST):
            click.echo(line)
    width = max((len(i.name) for i in run.invoices), default=10)
    for invoice in run.invoices:
        number = invoice.number or "-"
        click.echo(
            f"  {number:<13} {invoice.kind:<13} {invoice.name:<{width}}  "
            f"{format_euro(invoice.total):>15}"
        )
    check = "OK" if run.settlement.balanced else "VERSCHIL"
    click.echo(
        f"{len(run.billed)} facturen en creditnota's; controle facturen + eigen aandeel = "
        f"kosten: {check}. Bekijk de facturen voordat u ze verstuurt."
    )


@main.command()
@click.argument(
    "uitvoer", type=click.Path(path_type=Path, file_okay=False), metavar="UITVOER/PERIODE"
)
@click.option(
    "--verzend", is_flag=True, help="Verstuur echt; zonder deze optie alleen een overzicht."
)
@click.option(
    "--smtp-host", envvar="INKOOPKRACHT_SMTP_HOST", help="Mailserver (of INKOOPKRACHT_SMTP_HOST)."
)
@click.option(
    "--smtp-port",
    envvar="INKOOPKRACHT_SMTP_PORT",
    type=int,
    default=587,
    show_default=True,
    help="Poort van de mailserver (of INKOOPKRACHT_SMTP_PORT).",
)
@click.option(
    "--smtp-user",
    envvar="INKOOPKRACHT_SMTP_USER",
    default="",
    help="Gebruikersnaam (of INKOOPKRACHT_SMTP_USER).",
)
@click.option(
    "--opnieuw",
    multiple=True,
    metavar="NUMMER",
    help="Verstuur een factuur waarvan het versturen eerder is afgebroken toch (opnieuw), "
    "nadat de ontvanger heeft gezegd dat het bericht niet is aangekomen.",
)
@click.option(
    "--aangekomen",
    multiple=True,
    metavar="NUMMER",
    help="Leg vast dat een bericht waarvan het versturen is afgebroken toch is aangekomen "
    "(nagevraagd bij de ontvanger); het wordt niet opnieuw verstuurd.",
)
@_report_refusals
def verstuur(
    uitvoer: Path,
    verzend: bool,
    smtp_host: str | None,
    smtp_port: int,
    smtp_user: str,
    opnieuw: tuple[str, ...],
    aangekomen: tuple[str, ...],
) -> None:
    """Toon wat verstuurd wordt, of verstuur met --verzend elke factuur precies één keer.

    Het wachtwoord komt alleen uit INKOOPKRACHT_SMTP_PASSWORD (of wordt gevraagd) en wordt
    nergens opgeslagen.
    """
    import os

    from .deliver import confirm_arrived, open_batch, plan, send
    from .mail import SmtpSettings

    batch = open_batch(uitvoer)
    resend = frozenset(opnieuw)
    if aangekomen:
        for number in confirm_arrived(batch, aangekomen):
            click.echo(f"{number} is vastgelegd als aangekomen; het wordt niet opnieuw verstuurd.")
    if not verzend:
        for line in dry_run_lines(batch.name, plan(batch, resend)):
            click.echo(line)
        return
    if not smtp_host:
        raise click.UsageError("geef --smtp-host op of zet INKOOPKRACHT_SMTP_HOST")
    password = os.environ.get("INKOOPKRACHT_SMTP_PASSWORD", "")
    if smtp_user and not password:
        password = click.prompt("Wachtwoord voor de mailserver", hide_input=True, err=True)
    outcome = send(batch, SmtpSettings(smtp_host, smtp_port, smtp_user, password), resend=resend)
    for item in outcome.sent:
        extra = f" ({item.problem})" if item.problem else ""
        click.echo(
            f"  verzonden   {item.invoice.number}  {item.invoice.name}  aan {', '.join(item.to + item.cc)}{extra}"
        )
    for item, error in outcome.failed:
        click.echo(
            _styled(f"FOUT  {item.invoice.number} {item.invoice.name}: {error}.", "FOUT"), err=True
        )
    for item, error in outcome.uncertain:
        click.echo(
            _styled(
                f"WAARSCHUWING  {item.invoice.number} {item.invoice.name}: onzeker; {error}.",
                "WAARSCHUWING",
            ),
            err=True,
        )
    for item in outcome.skipped:
        if item.state != "verzonden":
            click.echo(
                _styled(
                    f"WAARSCHUWING  {item.invoice.number} {item.invoice.name}: {item.state}; {item.problem}.",
                    "WAARSCHUWING",
                ),
                err=True,
            )
    if outcome.stopped:
        click.echo(_styled(outcome.stopped, "FOUT"), err=True)
    for line in outcome.summary(batch.name):
        click.echo(line)
    if not outcome.complete:
        sys.exit(EXIT_REFUSED)


# verstuur's list fits a terminal of 100 columns (issue 13).
DRY_RUN_WIDTH = 100
_STATES = {"verzonden": "al verstuurd"}


def dry_run_lines(batch: str, items: list) -> list[str]:
    """What `verstuur` without --verzend prints: per invoice its kind, total and state, then
    to whom (CC apart), which files, and any problem; no line wider than DRY_RUN_WIDTH."""
    import textwrap

    from .money import format_euro

    sent = sum(1 for item in items if item.state == "verzonden")
    pending = sum(1 for item in items if item.pending)
    if not sent:
        state = "nog niets verstuurd; gebruik --verzend"
    elif sent == len(items):
        state = "alle al verstuurd"
    else:
        state = f"{sent} al verstuurd; gebruik --verzend voor de rest"
    lines = [f"Facturen van {batch} ({state}):"]

    def wrapped(label: str, text: str) -> list[str]:
        return textwrap.wrap(
            text,
            DRY_RUN_WIDTH,
            initial_indent=f"      {label}",
            subsequent_indent=" " * (6 + len(label)),
            break_on_hyphens=False,
        )

    for item in items:
        invoice = item.invoice
        kind = "creditnota" if invoice.kind == "creditnota" else "factuur"
        name = invoice.name if len(invoice.name) <= 32 else invoice.name[:31] + "…"
        shown = _STATES.get(item.state, item.state)
        lines.append(
            f"  {invoice.number:<13} {kind:<10} {name:<32} {format_euro(invoice.total):>15}  "
            f"{shown}"
        )
        lines += wrapped("aan: ", ", ".join(item.to) or "-")
        if item.cc:
            lines += wrapped("cc:  ", ", ".join(item.cc))
        files = [path.name for path in (item.attachments or (item.attachment,))]
        lines += wrapped("bijlagen: ", ", ".join(files))
        if item.problem:
            lines += wrapped("", item.problem)
    lines.append(f"{pending} van {len(items)} te versturen, {sent} al verstuurd.")
    return lines


@main.command()
@folder_argument
@click.option(
    "--uit",
    type=click.Path(path_type=Path, file_okay=False),
    help="Map voor het actuele overzicht, UIT/actueel/overzicht.xlsx (standaard: MAP/uitvoer).",
)
@_report_refusals
def bewaak(map: Path, uit: Path | None) -> None:
    """Houd de invoermap in de gaten en werk na elke opgeslagen wijziging het overzicht bij.

    Na elke opgeslagen wijziging wordt de map opnieuw gecontroleerd en UIT/actueel/overzicht.xlsx
    bijgewerkt; bij fouten blijft het vorige overzicht staan. Maakt nooit facturen en raakt het
    register niet aan. Stop met Ctrl+C.
    """
    from .watch import Watcher

    debug = bool(click.get_current_context().find_root().params.get("debug"))
    Watcher(map, uit, echo=lambda line, level: click.echo(_styled(line, level)), debug=debug).run()


@main.command()
@folder_argument
@click.option(
    "--uit",
    type=click.Path(path_type=Path, file_okay=False),
    help="Uitvoermap met het register van de afrekeningen (standaard: MAP/uitvoer).",
)
@click.option("--json", "as_json", is_flag=True, help="Geef de wijzigingen als JSON.")
@_report_refusals
def wijzigingen(map: Path, uit: Path | None, as_json: bool) -> None:
    """Toon wat er in de invoermap is veranderd sinds de laatste afrekening.

    Vergelijkt de kalender en de begroting met de kopie van de invoer van de laatste afrekening
    van hetzelfde jaar in het register: onderwerpen, deelnemers, categorieën, inwoners,
    begrotingsposten, instellingen, kostenregels en toetredingen, elk met bestand › werkblad ›
    cel en oud → nieuw. Schrijft niets.
    """
    import gc

    from .previous import changes_since_last_settlement

    gc.disable()  # a short run over two readings of the folder: nothing for the collector
    comparison = changes_since_last_settlement(map, uit)
    if as_json:
        click.echo(json.dumps(comparison.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo(comparison.headline())
    for line in comparison.lines():
        click.echo(line)
    errors = sum(1 for f in comparison.findings if f.is_error)
    if errors:
        click.echo(
            _styled(
                f"WAARSCHUWING  de invoermap heeft {errors} "
                f"{'fout' if errors == 1 else 'fouten'}; wat daar staat is niet vergeleken. "
                f"Zie 'inkoopkracht-xl controleer {map}'.",
                "WAARSCHUWING",
            ),
            err=True,
        )


@main.command()
@folder_argument
@click.argument("nieuw", type=click.Path(path_type=Path), metavar="NIEUW")
@click.option(
    "--jaar",
    required=True,
    type=click.IntRange(2000, 2100),
    help="Het nieuwe begrotingsjaar, bijvoorbeeld 2025.",
)
@_report_refusals
def jaarovergang(map: Path, nieuw: Path, jaar: int) -> None:
    """Maak de werkmappen van volgend jaar uit die van dit jaar, in een nieuwe map.

    Kopieert de kalender en de begroting met hun opmaak, extra kolommen, opmerkingen en
    totaalregels. In de kopie: Jaar wordt het nieuwe jaar, Gerealiseerd leeg, de peildatum
    1-1 van het jaar ervoor en de inwonertallen leeg (vul de CBS-cijfers in), geen
    projectkosten en toetredingen. NIEUW mag niet bestaan of moet leeg zijn; in MAP wordt
    niets geschreven.
    """
    from .next_year import next_year

    done = next_year(map, nieuw, jaar)
    click.echo(f"Jaarovergang {done.previous_year} → {done.year}: geschreven naar {done.folder}")
    for old, new in done.files:
        click.echo(f"  {new}" + (f" (uit {old})" if old != new else ""))
        for edit in done.edits:
            if edit.location.file == new:
                where = " › ".join(p for p in (edit.location.sheet, edit.location.cell) if p)
                click.echo(f"    {where + ': ' if where else ''}{edit.text}")
    for warning in done.warnings:
        click.echo(_styled(warning.text(), warning.level.value), err=True)
    if done.to_fill:
        click.echo(
            f"Nog in te vullen of te herstellen ({len(done.to_fill)}), zoals 'controleer' ze noemt:"
        )
        for finding in done.to_fill:
            click.echo("  " + _styled(finding.text(), finding.level.value))
    click.echo(
        f"Vul de inwonertallen van het CBS per 1-1-{done.year - 1} in, werk de begroting bij en "
        f"controleer daarna met 'inkoopkracht-xl controleer {done.folder}'."
    )


@main.command()
@click.argument("uit", type=click.Path(path_type=Path, file_okay=False), metavar="UIT")
@click.option(
    "--jaar",
    type=click.IntRange(2000, 2100),
    help="Toon alleen dit jaar (standaard: elk jaar in het register).",
)
@click.option("--json", "as_json", is_flag=True, help="Geef de stand als JSON.")
@_report_refusals
def status(uit: Path, jaar: int | None, as_json: bool) -> None:
    """Toon per periode wat is afgerekend en verstuurd, en wat de volgende stap is.

    UIT is de uitvoermap met register.sqlite (standaard MAP/uitvoer). Per jaar in het
    register en per periode: afgerekend of niet, de factuurnummers, het totaal, hoeveel
    facturen er zijn verzonden, welke zijn mislukt of onzeker, en de correcties. Leest alleen
    het register; schrijft niets.
    """
    from .status import status_of

    found = status_of(uit, jaar)
    if as_json:
        click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
        return
    for line in found.lines():
        click.echo(line)


@main.command()
@click.argument("uit", type=click.Path(path_type=Path, file_okay=False), metavar="UIT")
@click.option(
    "--jaar",
    type=click.IntRange(2000, 2100),
    metavar="JAAR",
    help="Alleen dit jaar (standaard: elk jaar in het register).",
)
@click.option(
    "--bestand",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="BESTAND",
    help="Schrijf het rapport naar dit .xlsx-bestand (standaard UIT/rapport-<jaar>.xlsx, over "
    "meer jaren UIT/rapport-<eerste>-<laatste>.xlsx).",
)
@_report_refusals
def rapport(uit: Path, jaar: int | None, bestand: Path | None) -> None:
    """Maak een Excel-rapport uit het register over alle periodes en jaren.

    UIT is de uitvoermap met register.sqlite (standaard MAP/uitvoer). Per gemeente en jaar wat
    er is gefactureerd (netwerk, projecten, toetredingen, correcties, creditnota's), per
    onderwerp wie wat betaalde, elke factuur met haar status, grafieken, en de controle dat het
    rapport precies de facturen in het register telt. Leest het register alleen.
    """
    from .year_report import write_year_report

    done = write_year_report(uit, year=jaar, path=bestand)
    click.echo(f"Rapport geschreven: {done.path}")
    for line in done.report.summary():
        click.echo(line)


def run() -> None:
    """Entry point that never lets an encoding problem in the console crash a report.

    When the reader of our output goes away (`controleer MAP | head`), stop quietly, as Python's
    documentation advises (signal module, "Note on SIGPIPE"): send what is left of stdout to
    devnull, so the flush at exit does not fail again, and exit with code 1, as Python itself does
    on EPIPE (click does the same for a broken pipe inside a command).
    """
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    try:
        try:
            main()
        finally:
            sys.stdout.flush()  # a broken pipe shows here, inside this try, not at exit
    except BrokenPipeError:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_REFUSED)
