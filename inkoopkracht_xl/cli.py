"""The command line: click commands only; each parses options, calls one function, reports in Dutch.

click in Dutch, decided here: click asks Python's `gettext.gettext` for its words, which reads
the process-wide default text domain in the language of the environment variables (LANGUAGE,
LC_ALL, LANG). Translating through it would mean shipping a compiled .mo file, setting the
language of the whole process (on Windows usually unset) and changing the text domain every
other library in the process shares, and it would still leave click's type names (TEXT,
INTEGER) and its sentence order. So the Dutch comes from click's public extension points, each
in one place below:
- values: our own parameter types (`Whole`, `DATE`, `FOLDER`, `FILE`, `PATH`): their metavar
  (GETAL, JAAR, DATUM, MAP, BESTAND) and their refusals are our words, whatever click's version;
- help: `_DutchFormatter` (Gebruik:, Opties:, Opdrachten:) and `_DutchOption` (metavars of
  plain text options, `[standaard: 587]`, `[verplicht]`), used through `option` for every option;
- usage errors of click's parser, which have no hook: `_USAGE_ERRORS` rewrites the message of a
  click.UsageError (missing argument, unknown option or command with "bedoelt u", extra
  argument, ...), and `_VALUE_ERRORS` what click's own types (Choice, INT, IntRange) say, for
  an option that uses one of them; tests/test_cli_dutch.py asserts each message, so a click
  release that words them differently fails a test instead of leaking English.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import click

from . import __version__
from .terminal import Column, echo_lines, print_table, styled

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

SHORT_LIST = 10  # changes afrekening prints; the rest are on the overview's Wijzigingen sheet
HELP_WIDTH = 100  # help text fills a terminal up to 100 columns

_HEADINGS = {
    "Options": "Opties",
    "Commands": "Opdrachten",
    "Arguments": "Argumenten",
    "Positional arguments": "Argumenten",
}
# click's own usage errors, in Dutch; anything not listed is shown as click words it.
_USAGE_ERRORS = (
    (r"Missing argument '(.+)'\.", r"het argument \1 ontbreekt"),
    (r"Missing option '(.+)'\.", r"de optie \1 ontbreekt"),
    (r"Missing command\.", r"de opdracht ontbreekt"),
    (
        r"No such option:? '?([^'\s]+?)'?\. Did you mean '?([^'\s]+?)'?\?",
        r"onbekende optie \1; bedoelt u \2",
    ),
    (
        r"No such option:? '?([^'\s]+?)'?\. \(Possible options: (.+)\)",
        r"onbekende optie \1; bedoelt u een van \2",
    ),
    (r"No such option:? '?([^'\s]+?)'?\.?", r"onbekende optie \1"),
    (
        r"No such command '(.+?)'\. Did you mean '(.+?)'\?",
        r"onbekende opdracht '\1'; bedoelt u '\2'",
    ),
    (r"No such command '(.+)'\.", r"onbekende opdracht '\1'"),
    (r"Got unexpected extra arguments? \((.+)\)", r"onverwacht extra argument: \1"),
    (r"Option '(.+)' requires an argument\.", r"de optie \1 heeft een waarde nodig"),
    (r"Option '(.+)' requires \d+ arguments\.", r"de optie \1 heeft meer waarden nodig"),
    (r"Option '(.+)' does not take a value\.", r"de optie \1 heeft geen waarde"),
    # A refused value: our parameter types word it in Dutch; see _VALUE_ERRORS for click's.
    (r"Invalid value for '?(.+?)'?: (.+)", r"\1: \2"),
    (r"Invalid value: (.+)", r"\1"),
)
# What click's own parameter types say about a value (an option that uses one of them instead of
# ours, such as click.Choice for a fixed list).
_VALUE_ERRORS = (
    (r"(.+) is not a valid (?:integer|float)\.?", r"\1 is geen getal"),
    (r"(.+) is not in the range (\S+)<=x<=(\S+)\.", r"\1 ligt niet tussen \2 en \3"),
    (r"(.+) is not in the range (.+)\.", r"\1 ligt niet in het bereik \2"),
    (r"(.+) is not one of (.+)\.", r"\1 is geen van \2"),
    (r"(.+) is not ('[^']*')\.", r"\1 is niet \2"),
)
# What `[default: …]`, `[required]` and `[env var: …]` under an option's help become.
_HELP_EXTRAS = (
    (r"default: (.+)", r"standaard: \1"),
    (r"required", r"verplicht"),
    (r"env var: (.+)", r"omgevingsvariabele: \1"),
    (r"(\S+)<=x<=(\S+)", r"\1 t/m \2"),
)
# The metavar of an option of one of click's own types (ours name their own).
_METAVARS = {
    "text": "TEKST",
    "integer": "GETAL",
    "integer range": "GETAL",
    "float": "GETAL",
    "float range": "GETAL",
    "boolean": "JA/NEE",
}


class Whole(click.ParamType):
    """A whole number, optionally between two bounds; refused in Dutch."""

    name = "getal"

    def __init__(self, low: int | None = None, high: int | None = None, metavar: str = "GETAL"):
        self.low, self.high, self.metavar = low, high, metavar

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"'{value}' is geen heel getal", param, ctx)
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            self.fail(f"{number} ligt niet tussen {self.low} en {self.high}", param, ctx)
        return number


class _Date(click.ParamType):
    """A date as dd-mm-jjjj (or jjjj-mm-dd, as a spreadsheet exports it), to a `date`."""

    name = "datum"
    metavar = "DATUM"
    formats = ("%d-%m-%Y", "%Y-%m-%d")

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        for layout in self.formats:
            try:
                return datetime.strptime(str(value).strip(), layout).date()
            except ValueError:
                continue
        self.fail(
            f"ongeldige datum '{value}': gebruik dd-mm-jjjj, bijvoorbeeld 01-07-2024", param, ctx
        )


class _Location(click.ParamType):
    """A path to a folder (MAP), a file (BESTAND) or either (PAD); refuses, in Dutch, one that
    exists as the other kind. Whether it must exist is the command's to say (in Dutch too)."""

    def __init__(self, kind: Literal["map", "bestand", "pad"]):
        self.name = self.kind = kind
        self.metavar = kind.upper()

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = value if isinstance(value, Path) else Path(value)
        if self.kind == "map" and path.is_file():
            self.fail(f"'{value}' is een bestand; geef een map op", param, ctx)
        if self.kind == "bestand" and path.is_dir():
            self.fail(f"'{value}' is een map; geef een bestand op", param, ctx)
        return path


DATE = _Date()
FOLDER, FILE, PATH = _Location("map"), _Location("bestand"), _Location("pad")
YEAR = Whole(2000, 2100, metavar="JAAR")


class _DutchFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="Gebruik: ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(_HEADINGS.get(heading, heading))


class _DutchContext(click.Context):
    formatter_class = _DutchFormatter


class _DutchOption(click.Option):
    """An option whose metavar and help extras ([standaard: 587], [verplicht]) are Dutch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.metavar is None and not self.is_flag and not self.count:
            self.metavar = getattr(self.type, "metavar", None) or _METAVARS.get(self.type.name)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        spec, text = record
        match = re.fullmatch(r"(.*?)(\s*)\[([^\[\]]+)\]", text, flags=re.DOTALL)
        if not match:
            return spec, text
        items = [_translated(item, _HELP_EXTRAS) for item in match[3].split("; ")]
        return spec, f"{match[1]}{match[2]}[{'; '.join(items)}]"


option = functools.partial(click.option, cls=_DutchOption)


def _translated(text: str, table: Iterable[tuple[str, str]]) -> str:
    for pattern, dutch in table:
        match = re.fullmatch(pattern, text.strip(), flags=re.DOTALL)
        if match:
            return match.expand(dutch)
    return text


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
            result = _usage_error(error)
        except click.Abort:
            click.echo("Afgebroken; er is niets weggeschreven.", err=True)
            result = EXIT_REFUSED
        if not standalone:
            return result
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def _usage_error(error: click.UsageError) -> int:
    """Say what is wrong with the command line, in Dutch; exit code 2. The program's name alone
    (click: no arguments is a request for help) shows the help, as click does."""
    no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
    if isinstance(error, no_args):
        click.echo(error.format_message(), err=True)
        return EXIT_USAGE
    hint = ""
    if error.ctx is not None:
        hint = f" Zie '{error.ctx.command_path} --help'."
    click.echo(f"Fout in de opdracht: {_dutch_usage(error.format_message())}.{hint}", err=True)
    return EXIT_USAGE


def _dutch_usage(message: str) -> str:
    invalid = re.fullmatch(r"Invalid value for (.+?): (.+)", message.strip(), flags=re.DOTALL)
    if invalid:
        message = f"Invalid value for {invalid[1]}: {_translated(invalid[2], _VALUE_ERRORS)}"
    return _translated(message, _USAGE_ERRORS).rstrip(".")


def _report_refusals(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn our InputRefused into Dutch findings and exit 1; anything else: one line, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .errors import InputRefused

        try:
            return command(*args, **kwargs)
        except InputRefused as refused:
            for finding in refused.findings:
                click.echo(styled(finding.text(), finding.level.value), err=True)
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


def _collector_paused(command: Callable[..., Any]) -> Callable[..., Any]:
    """Pause the garbage collector while the command runs, then leave it as it was.

    A settlement builds hundreds of thousands of objects that live until its end and form no
    cycles; the collector would only rescan them, over and over (seconds at national scale).
    Pausing it is the command line's choice: the library's functions leave the interpreter's
    collector alone (a notebook or a test session runs many settlements in one process)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import gc

        enabled = gc.isenabled()
        gc.disable()
        try:
            return command(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


folder_argument = click.argument("map", type=FOLDER, metavar="MAP")


@click.group(
    "inkoopkracht-xl",
    cls=_DutchGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": HELP_WIDTH},
)
@click.version_option(
    __version__,
    prog_name="inkoopkracht-xl",
    message="%(prog)s %(version)s",
    help="Toon het versienummer en stop.",
)
@option("--debug", is_flag=True, help="Toon bij een interne fout de volledige foutmelding.")
def main(debug: bool) -> None:
    """Kostenverdeling en halfjaarafrekening voor Inkoopkracht ZHW.

    Zet de aanbestedingskalender en de begroting (Excel) in één map en geef die map op.
    """


@main.command()
@folder_argument
@option("--json", "as_json", is_flag=True, help="Geef de bevindingen als JSON.")
@_report_refusals
def controleer(map: Path, as_json: bool) -> None:
    """Controleer de invoermap en meld elke fout en waarschuwing met bestand › werkblad › cel."""
    from .api import check_folder

    loaded = check_folder(map)
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
            click.echo("  " + styled(finding.text(), finding.level.value))
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
    from .api import write_templates

    for path in write_templates(map):
        click.echo(f"Geschreven: {path}")


@main.command()
@folder_argument
@option("--json", "as_json", is_flag=True, help="Geef de verdeelsleutel als JSON.")
@option(
    "--overzicht",
    type=FILE,
    help="Schrijf ook het overzicht (Excel) met verdeelsleutel en deelnamematrix naar dit bestand.",
)
@_report_refusals
def verdeling(map: Path, as_json: bool, overzicht: Path | None) -> None:
    """Toon de verdeelsleutel van de netwerkbegroting (inwoners, percentage, bijdrage)."""
    from .api import key_report

    report = key_report(map, overview=overzicht)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    echo_lines(report.lines())
    for warning in report.warnings:
        click.echo("  " + styled(warning.text(), warning.level.value), err=True)
    if overzicht is not None:
        click.echo(f"Overzicht geschreven: {overzicht}")


@main.command()
@folder_argument
@option(
    "--periode",
    required=True,
    metavar="PERIODE",
    help="De periode: 2024-H1, 2024-H2 of 2024 (heel jaar).",
)
@option(
    "--uit",
    type=FOLDER,
    help="Map voor de uitvoer en het register (standaard: MAP/uitvoer).",
)
@option(
    "--correctie",
    is_flag=True,
    help="Maak correctiefacturen voor een periode die al verzonden is.",
)
@option(
    "--datum",
    type=DATE,
    help="Factuurdatum (dd-mm-jjjj); standaard vandaag.",
)
@option("--json", "as_json", is_flag=True, help="Geef de afrekening als JSON.")
@_report_refusals
@_collector_paused
def afrekening(
    map: Path,
    periode: str,
    uit: Path | None,
    correctie: bool,
    datum: date | None,
    as_json: bool,
) -> None:
    """Maak de afrekening van een periode: overzicht, facturen (PDF, e-factuur en Excel) en
    register."""
    from .api import settle_period
    from .money import format_euro

    run = settle_period(
        map,
        periode,
        out=uit,
        correction=correctie,
        issue_date=datum,
    )
    if as_json:
        click.echo(json.dumps(run.as_json(), ensure_ascii=False, indent=2))
        return
    for finding in run.findings:
        click.echo(styled(finding.text(), finding.level.value), err=True)
    click.echo(f"Afrekening {run.batch} geschreven naar {run.folder}")
    if run.changes is not None:
        click.echo(run.changes.headline())
        for line in run.changes.lines(limit=SHORT_LIST):
            click.echo(line)
    print_table(
        (Column("Nummer"), Column("Soort"), Column("Gemeente", shrink=True), Column("Totaal", ">")),
        [(i.number or "-", i.kind, i.name, format_euro(i.total)) for i in run.invoices],
    )
    check = "OK" if run.settlement.balanced else "VERSCHIL"
    click.echo(
        f"{len(run.billed)} facturen en creditnota's; controle facturen + eigen aandeel = "
        f"kosten: {check}. Bekijk de facturen voordat u ze verstuurt."
    )


@main.command()
@click.argument("uitvoer", type=FOLDER, metavar="UITVOER/PERIODE")
@option("--verzend", is_flag=True, help="Verstuur echt; zonder deze optie alleen een overzicht.")
@option(
    "--smtp-host",
    envvar="INKOOPKRACHT_SMTP_HOST",
    metavar="SERVER",
    help="Mailserver (of INKOOPKRACHT_SMTP_HOST).",
)
@option(
    "--smtp-port",
    envvar="INKOOPKRACHT_SMTP_PORT",
    type=Whole(1, 65535, metavar="POORT"),
    default=587,
    show_default=True,
    help="Poort van de mailserver (of INKOOPKRACHT_SMTP_PORT).",
)
@option(
    "--smtp-user",
    envvar="INKOOPKRACHT_SMTP_USER",
    metavar="NAAM",
    default="",
    help="Gebruikersnaam (of INKOOPKRACHT_SMTP_USER).",
)
@option(
    "--opnieuw",
    multiple=True,
    metavar="NUMMER",
    help="Verstuur een factuur waarvan het versturen eerder is afgebroken toch (opnieuw), "
    "nadat de ontvanger heeft gezegd dat het bericht niet is aangekomen.",
)
@option(
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

    from .api import confirm_arrived, delivery_plan, open_batch, send_batch
    from .mail import SmtpSettings

    batch = open_batch(uitvoer)
    resend = frozenset(opnieuw)
    if aangekomen:
        for number in confirm_arrived(batch, aangekomen):
            click.echo(f"{number} is vastgelegd als aangekomen; het wordt niet opnieuw verstuurd.")
    if not verzend:
        echo_lines(dry_run_lines(batch.name, delivery_plan(batch, resend)))
        return
    if not smtp_host:
        raise click.UsageError("geef --smtp-host op of zet INKOOPKRACHT_SMTP_HOST")
    password = os.environ.get("INKOOPKRACHT_SMTP_PASSWORD", "")
    if smtp_user and not password:
        password = click.prompt("Wachtwoord voor de mailserver", hide_input=True, err=True)
    smtp = SmtpSettings(smtp_host, smtp_port, smtp_user, password)
    outcome = send_batch(batch, smtp, resend=resend)
    _print_outcome(outcome)
    for line in outcome.summary(batch.name):
        click.echo(line)
    if not outcome.complete:
        sys.exit(EXIT_REFUSED)


def _print_outcome(outcome: Any) -> None:
    """Per invoice what `verstuur --verzend` did: sent (stdout), failed or uncertain (stderr)."""
    for item in outcome.sent:
        extra = f" ({item.problem})" if item.problem else ""
        click.echo(
            f"  verzonden   {item.invoice.number}  {item.invoice.name}  aan {', '.join(item.to + item.cc)}{extra}"
        )
    for item, error in outcome.failed:
        click.echo(
            styled(f"FOUT  {item.invoice.number} {item.invoice.name}: {error}.", "FOUT"), err=True
        )
    for item, error in outcome.uncertain:
        click.echo(
            styled(
                f"WAARSCHUWING  {item.invoice.number} {item.invoice.name}: onzeker; {error}.",
                "WAARSCHUWING",
            ),
            err=True,
        )
    for item in outcome.skipped:
        if item.state != "verzonden":
            click.echo(
                styled(
                    f"WAARSCHUWING  {item.invoice.number} {item.invoice.name}: {item.state}; {item.problem}.",
                    "WAARSCHUWING",
                ),
                err=True,
            )
    if outcome.stopped:
        click.echo(styled(outcome.stopped, "FOUT"), err=True)


_STATES = {"verzonden": "al verstuurd"}


def dry_run_lines(batch: str, items: list) -> list[str]:
    """What `verstuur` without --verzend prints: per invoice its kind, total and state, then
    to whom (CC apart), which files, and any problem; no line wider than terminal.WIDTH."""
    from .money import format_euro
    from .terminal import Column, Note, table_lines

    sent = sum(1 for item in items if item.state == "verzonden")
    pending = sum(1 for item in items if item.pending)
    if not sent:
        state = "nog niets verstuurd; gebruik --verzend"
    elif sent == len(items):
        state = "alle al verstuurd"
    else:
        state = f"{sent} al verstuurd; gebruik --verzend voor de rest"
    rows: list = []
    for item in items:
        invoice = item.invoice
        kind = "creditnota" if invoice.kind == "creditnota" else "factuur"
        shown = _STATES.get(item.state, item.state)
        rows.append((invoice.number, kind, invoice.name, format_euro(invoice.total), shown))
        rows.append(Note("aan: ", ", ".join(item.to) or "-"))
        if item.cc:
            rows.append(Note("cc:  ", ", ".join(item.cc)))
        files = [path.name for path in (item.attachments or (item.attachment,))]
        rows.append(Note("bijlagen: ", ", ".join(files)))
        if item.problem:
            rows.append(Note("", item.problem))
    columns = (
        Column("Nummer"),
        Column("Soort"),
        Column("Gemeente", shrink=True),
        Column("Totaal", ">"),
        Column("Staat"),
    )
    return [
        f"Facturen van {batch} ({state}):",
        *table_lines(columns, rows),
        f"{pending} van {len(items)} te versturen, {sent} al verstuurd.",
    ]


@main.command()
@folder_argument
@option(
    "--uit",
    type=FOLDER,
    help="Map voor het actuele overzicht, UIT/actueel/overzicht.xlsx (standaard: MAP/uitvoer).",
)
@_report_refusals
def bewaak(map: Path, uit: Path | None) -> None:
    """Houd de invoermap in de gaten en werk na elke opgeslagen wijziging het overzicht bij.

    Na elke opgeslagen wijziging wordt de map opnieuw gecontroleerd en UIT/actueel/overzicht.xlsx
    bijgewerkt; bij fouten blijft het vorige overzicht staan. Maakt nooit facturen en raakt het
    register niet aan. Stop met Ctrl+C.
    """
    from .api import watch_folder

    debug = bool(click.get_current_context().find_root().params.get("debug"))
    watch_folder(map, uit, echo=lambda line, level: click.echo(styled(line, level)), debug=debug)


@main.command()
@folder_argument
@option(
    "--uit",
    type=FOLDER,
    help="Uitvoermap met het register van de afrekeningen (standaard: MAP/uitvoer).",
)
@option("--json", "as_json", is_flag=True, help="Geef de wijzigingen als JSON.")
@_report_refusals
@_collector_paused  # a short run over two readings of the folder: nothing for the collector
def wijzigingen(map: Path, uit: Path | None, as_json: bool) -> None:
    """Toon wat er in de invoermap is veranderd sinds de laatste afrekening.

    Vergelijkt de kalender en de begroting met de kopie van de invoer van de laatste afrekening
    van hetzelfde jaar in het register: onderwerpen, deelnemers, categorieën, inwoners,
    begrotingsposten, instellingen, kostenregels en toetredingen, elk met bestand › werkblad ›
    cel en oud → nieuw. Schrijft niets.
    """
    from .api import changes_since_settlement

    comparison = changes_since_settlement(map, uit)
    if as_json:
        click.echo(json.dumps(comparison.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo(comparison.headline())
    for line in comparison.lines():
        click.echo(line)
    errors = sum(1 for f in comparison.findings if f.is_error)
    if errors:
        click.echo(
            styled(
                f"WAARSCHUWING  de invoermap heeft {errors} "
                f"{'fout' if errors == 1 else 'fouten'}; wat daar staat is niet vergeleken. "
                f"Zie 'inkoopkracht-xl controleer {map}'.",
                "WAARSCHUWING",
            ),
            err=True,
        )


@main.command()
@folder_argument
@click.argument("nieuw", type=PATH, metavar="NIEUW")
@option(
    "--jaar",
    required=True,
    type=YEAR,
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
    from .api import prepare_next_year

    done = prepare_next_year(map, nieuw, jaar)
    click.echo(f"Jaarovergang {done.previous_year} → {done.year}: geschreven naar {done.folder}")
    for old, new in done.files:
        click.echo(f"  {new}" + (f" (uit {old})" if old != new else ""))
        for edit in done.edits:
            if edit.location.file == new:
                where = " › ".join(p for p in (edit.location.sheet, edit.location.cell) if p)
                click.echo(f"    {where + ': ' if where else ''}{edit.text}")
    for warning in done.warnings:
        click.echo(styled(warning.text(), warning.level.value), err=True)
    if done.to_fill:
        click.echo(
            f"Nog in te vullen of te herstellen ({len(done.to_fill)}), zoals 'controleer' ze noemt:"
        )
        for finding in done.to_fill:
            click.echo("  " + styled(finding.text(), finding.level.value))
    click.echo(
        f"Vul de inwonertallen van het CBS per 1-1-{done.year - 1} in, werk de begroting bij en "
        f"controleer daarna met 'inkoopkracht-xl controleer {done.folder}'."
    )


@main.command()
@click.argument("uit", type=FOLDER, metavar="UIT")
@option(
    "--jaar",
    type=YEAR,
    help="Toon alleen dit jaar (standaard: elk jaar in het register).",
)
@option("--json", "as_json", is_flag=True, help="Geef de stand als JSON.")
@_report_refusals
def status(uit: Path, jaar: int | None, as_json: bool) -> None:
    """Toon per periode wat is afgerekend en verstuurd, en wat de volgende stap is.

    UIT is de uitvoermap met register.sqlite (standaard MAP/uitvoer). Per jaar in het
    register en per periode: afgerekend of niet, de factuurnummers, het totaal, hoeveel
    facturen er zijn verzonden, welke zijn mislukt of onzeker, en de correcties. Leest alleen
    het register; schrijft niets.
    """
    from .api import settlement_status

    found = settlement_status(uit, jaar)
    if as_json:
        click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
        return
    echo_lines(found.lines())


@main.command()
@click.argument("uit", type=FOLDER, metavar="UIT")
@option(
    "--jaar",
    type=YEAR,
    metavar="JAAR",
    help="Alleen dit jaar (standaard: elk jaar in het register).",
)
@option(
    "--bestand",
    type=FILE,
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
    from .api import write_year_report

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
