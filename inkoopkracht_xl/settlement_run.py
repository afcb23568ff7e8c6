"""The half-year settlement run: read, settle, number, write everything, then swap it into place.

The outputs themselves are written by `outputs`; setting the previous outputs aside, putting the
new ones in place and recovering from a killed run is `recovery`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import __version__, recovery
from .errors import InputRefused
from .locks import exclusive
from .manifest import write_manifest
from .model import NETWORK_LINE, SENT, Finding, Inputs, Invoice, InvoiceState, Level, Location
from .outputs import (
    Entry,
    missing_contacts,
    missing_einvoices,
    produced_files,
    valid_inputs,
    write_outputs,
)
from .previous import Comparison, compare_with_register
from .read.folder import Loaded
from .register import LOCK_NAME, REGISTER_NAME, Register, RunInfo
from .report import key_for, key_json
from .settle import LineIdentity, Period, Settlement, correction_settlement, corrections, settle
from .validate import load_valid
from .write.files import refusal_for, sync_folder, sync_tree

# What a correction's period held (sent) before, as Register.holdings gives it.
Held = Mapping[LineIdentity, tuple[Decimal, str, str]]


@dataclass(frozen=True)
class SettlementRun:
    """What one settlement run made and recorded: its batch (the period, or a correction of
    it), the output folder, the settlement, the numbered invoices, the warnings, the register's
    run id and the changes since the previous settlement."""

    batch: str
    folder: Path  # <uit>/<batch>
    settlement: Settlement
    invoices: tuple[Invoice, ...]  # numbered; the penvoerder's own share included
    findings: tuple[Finding, ...]
    run_id: int
    changes: Comparison | None = None  # since the previous settlement (wijzigingen)

    @property
    def billed(self) -> tuple[Invoice, ...]:
        return tuple(i for i in self.invoices if not i.is_own_share)

    def as_json(self) -> dict[str, Any]:
        key = self.settlement.key
        return {
            "periode": self.settlement.period.label,
            "jaar": key.year,
            "batch": self.batch,
            "verdeelsleutel": key_json(key),
            "facturen": [
                {
                    "code": i.code,
                    "gemeente": i.name,
                    "nummer": i.number or None,
                    "soort": i.kind,
                    "totaal": str(i.total),
                    "regels": [
                        {
                            "omschrijving": line.description,
                            "grondslag": line.basis,
                            "bedrag": str(line.amount),
                            "kenmerk": line.reference or None,
                        }
                        for line in i.lines
                    ],
                }
                for i in self.invoices
            ],
            "waarschuwingen": [f.text() for f in self.findings],
        }


def run_settlement(
    folder: Path,
    period_text: str,
    *,
    out: Path | None = None,
    correction: bool = False,
    issue_date: date | None = None,
    now: datetime | None = None,
) -> SettlementRun:
    """Settle one period of the drop folder into `<out>/<period>/`, recorded in the register.

    `period_text` is a period as the user types it (2024-H1, 2024-H2, 2024); `out` defaults to
    `<folder>/uitvoer`; `correction` makes correction invoices for a period already sent;
    `issue_date` (default: today) dates the invoices; `now` (default: now) stamps the run.
    Raises InputRefused (Dutch findings) when the inputs or the register's state do not allow
    the run, or the output folder cannot be written; nothing has changed then.

    Everything is written to a staging folder first, flushed to the disk, and swapped into place
    only after the register committed the run: a failure (a full disk, a read-only folder, a
    failing COMMIT) or a kill leaves the previous outputs and the register as they were.

    The interpreter's garbage collector is left alone (the command line pauses it around the
    call, see cli.py); the worker processes that write the invoices tune their own.
    """
    try:
        period = Period.parse(period_text)
    except ValueError as problem:
        raise InputRefused.single(Location("--periode"), str(problem)) from None
    now = now or datetime.now().replace(microsecond=0)
    issue_date = issue_date or now.date()
    loaded = load_valid(folder)
    settings = valid_inputs(loaded).budget.settings
    if settings.year != period.year:
        raise InputRefused.single(
            settings.at("year"),
            f"de begroting is van {settings.year}, de periode {period.label} van {period.year}",
            f"Kies een periode in {settings.year} of zet de begroting van {period.year} in de map.",
        )
    key_for(loaded)  # refuses in Dutch when the key cannot be made
    out = out or folder / "uitvoer"
    try:
        return _settle_into(out, loaded, period, correction, issue_date, now)
    except OSError as problem:
        raise refusal_for(problem, out) from None


def _settle_into(
    out: Path,
    loaded: Loaded,
    period: Period,
    correction: bool,
    issue_date: date,
    now: datetime,
) -> SettlementRun:
    """Under the output folder's lock: settle, write, make durable, commit, put in place.

    The order is what makes it safe. Every output file and folder of the staging folder is
    flushed to the disk, the previous output is renamed aside and that rename flushed too, and
    only then does the register commit the run: after a power cut the register never names a
    run whose files are not all there. If anything fails before the commit, or the COMMIT
    itself, the register rolls back and the previous output is put back. A kill is finished
    or undone by the next run (recovery.recover_outputs).
    """
    # One run at a time per output folder, from opening the register until its folder is in
    # place: a second run waits briefly, then is told (verstuur takes the same lock).
    with (
        exclusive(out / LOCK_NAME, "er loopt al een afrekening op deze uitvoermap"),
        Register.open(out / REGISTER_NAME) as register,
    ):
        staging = backup = target = None
        voided: list[tuple[Path, Path]] = []  # (output of voided drafts, where it was moved)
        try:
            with register.transaction():
                recovery.recover_outputs(out, register)  # a killed run's leftovers, under the lock
                result, staging, produced, void = _settle_and_write(
                    register, loaded, period, correction, issue_date, now, out
                )
                target = out / result.batch
                sync_tree(staging, done=produced)
                backup = recovery.move_aside(target, staging)
                # The drafts of later periods this run voided go too: their numbers are void,
                # so their workbooks and e-mail drafts must not stay to be sent by hand.
                for label in void:
                    aside = recovery.move_aside(out / label, staging)
                    if aside is not None:
                        voided.append((out / label, aside))
                sync_folder(out)
        except BaseException:
            recovery.undo(staging, [(target, backup), *voided])
            raise
        # Committed: the register holds the new run. Put its folder in place; a kill before
        # this is finished by the next run (recover_outputs rolls it forward).
        recovery.put_in_place(staging, target, backup)
        for _, aside in voided:
            shutil.rmtree(aside, ignore_errors=True)
    return result


def _settle_and_write(
    register: Register,
    loaded: Loaded,
    period: Period,
    correction: bool,
    issue_date: date,
    now: datetime,
    out: Path,
) -> tuple[SettlementRun, Path, list[Path], list[str]]:
    """Inside the register's transaction: settle, number and write everything into a staging
    folder. Returns (run, staging folder, the files already flushed to the disk, the later
    periods whose drafts were voided)."""
    inputs = valid_inputs(loaded)
    # controleer's general "no address" warnings give way to missing_contacts' precise ones.
    findings = [f for f in loaded.findings if not _about_missing_contact(f)]
    batch = _check_state(register, period, correction)
    # What changed since the last settlement: against the register before it records this run.
    pending_changes = compare_with_register(register, out, loaded)
    history = register.history(period, including_later=correction)
    fresh = settle(inputs, period, history, issue_date=issue_date)
    findings += fresh.findings
    findings += _unsent_earlier(register, period, out)
    held: Held = register.holdings(period) if correction else {}
    invoices, void = _invoices(register, fresh, held, inputs, correction, issue_date, out)
    findings += _voided(void, period, out)
    numbered = tuple(
        register.number_invoices(
            batch, period.year, inputs.budget.settings.invoice_prefix, invoices
        )
    )
    settlement = _settlement(register, fresh, numbered, held, correction)
    findings += missing_contacts(numbered, inputs)
    findings += missing_einvoices(numbered, inputs)
    info = RunInfo(
        now, __version__, _parameters(period, correction, issue_date, inputs), dict(loaded.sha256)
    )
    changes = _changes(pending_changes, findings)
    draft = SettlementRun(batch, out / batch, settlement, numbered, tuple(findings), 0, changes)
    staging, run_id, files = _write_staging(
        register,
        draft,
        loaded,
        now,
        correction,
        lambda: register.replace_drafts(batch, period, numbered, info),
    )
    return replace(draft, run_id=run_id), staging, produced_files(staging, files), void


def _invoices(
    register: Register,
    fresh: Settlement,
    held: Held,
    inputs: Inputs,
    correction: bool,
    issue_date: date,
    out: Path,
) -> tuple[tuple[Invoice, ...], list[str]]:
    """The invoices this run numbers, and the later periods whose drafts it voids: for a
    correction the differences with what was sent (refused when there are none), else the
    fresh settlement's invoices, voiding the drafts of later periods."""
    period = fresh.period
    if not correction:
        return fresh.invoices, register.void_later_drafts(period)
    invoices = corrections(fresh, held, issue_date=issue_date, inputs=inputs)
    if not invoices:
        raise InputRefused.single(
            Location(str(out / period.label)),
            f"er zijn geen verschillen met de verzonden afrekening van {period.label}",
            "Er zijn geen correctiefacturen nodig.",
        )
    return invoices, []


def _voided(void: list[str], period: Period, out: Path) -> list[Finding]:
    """A warning for each later period whose drafts this run voided (their folder goes)."""
    return [
        Finding(
            Level.WARNING,
            Location(str(out / label)),
            f"de concepten van {label} zijn vervallen omdat {period.label} opnieuw is "
            "gemaakt; hun map is verwijderd",
            f"Maak {label} daarna opnieuw.",
        )
        for label in void
    ]


def _settlement(
    register: Register,
    fresh: Settlement,
    numbered: tuple[Invoice, ...],
    held: Held,
    correction: bool,
) -> Settlement:
    """The run's settlement with its numbered invoices; for a correction, the totals of what
    was held (sent) before set against the fresh settlement."""
    if not correction:
        return replace(fresh, invoices=numbered)
    return correction_settlement(
        fresh,
        numbered,
        held_total=register.period_total(fresh.period),
        held_network=sum(
            (amount for (_, kind, _, _), (amount, *_) in held.items() if kind == NETWORK_LINE),
            Decimal(0),
        ),
    )


def _write_staging(
    register: Register,
    draft: SettlementRun,
    loaded: Loaded,
    now: datetime,
    correction: bool,
    record: Callable[[], int],
) -> tuple[Path, int, dict[str, Entry]]:
    """Write the run's outputs into a new staging folder, its manifest last (recovery relies
    on it: a staging folder with a manifest is complete). `record()` records the run in the
    register while the workbooks are being written. Returns (staging, run id, manifest
    entries); on any failure the staging folder is removed."""
    from .write.invoices_sheet import invoice_list

    batch, period = draft.batch, draft.settlement.period
    # A credit note or correction names the invoice it corrects with that invoice's date.
    issued = register.issue_dates(period.year)
    # The overview's Facturen sheet, read before this run replaces the batch's drafts.
    listed = invoice_list(
        batch,
        draft.invoices,
        valid_inputs(loaded).budget,
        delivery=register.delivery(batch),
        earlier=register.period_deliveries(period) if correction else (),
    )
    staging = recovery.new_staging(draft.folder.parent, batch)
    try:
        run_id, files = write_outputs(staging, draft, loaded, now, record, issued, listed)
        # Last: the manifest marks the staging folder complete (recovery relies on it).
        write_manifest(staging, batch, period.label, run_id, files)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging, run_id, files


def _changes(pending: Callable[[], Comparison], findings: list[Finding]) -> Comparison | None:
    """The changes since the previous settlement; when they cannot be known (its input copy is
    gone, say) a warning says why, and the settlement goes on."""
    try:
        return pending()
    except InputRefused as refused:
        findings.extend(
            replace(f, level=Level.WARNING, message=f"wijzigingen niet bepaald: {f.message}")
            for f in refused.findings
        )
        return None


def _unsent_earlier(register: Register, period: Period, out: Path) -> list[Finding]:
    """H2 and a whole-year run deduct what earlier periods invoiced, sent or not: say so when
    some of it never went out, naming the numbers."""
    findings = []
    for label, numbers in register.unsent_before(period).items():
        listed = ", ".join(numbers)
        verb = "is" if len(numbers) == 1 else "zijn"
        findings.append(
            Finding(
                Level.WARNING,
                Location(str(out / label)),
                f"{period.label} trekt de facturen van {label} af als gefactureerd, maar "
                f"{listed} {verb} nog niet verzonden",
                f"Verstuur ze met 'inkoopkracht-xl verstuur {out / label} --verzend', of ga na "
                "dat ze op een andere manier zijn verstuurd.",
            )
        )
    return findings


# -- what the register's state allows -----------------------------------------------------------


def _check_state(register: Register, period: Period, correction: bool) -> str:
    """Which batch this run writes, after refusing what the register's state does not allow."""
    states = register.periods(period.year)
    where = Location(str(register.path))
    _refuse_overlap(states, period, correction, where)
    state = states.get(period.label)
    if correction:
        if state != SENT:
            raise InputRefused.single(
                where,
                f"--correctie is voor een verzonden periode; {period.label} is nog niet verzonden",
                f"Draai de afrekening van {period.label} zonder --correctie; de concepten worden vervangen.",
            )
        count = sum(1 for b in register.batches(period) if b != period.label)
        return f"{period.label}-correctie-{count + 1}"
    if state == SENT:
        raise _already_sent(register, period, where)
    return period.label


def _refuse_overlap(
    states: Mapping[str, InvoiceState], period: Period, correction: bool, where: Location
) -> None:
    """Refuse a half year when the whole year was settled (or the other way round), and a
    period that is not a correction when a later period was sent already."""
    rival = {2: str(period.year), 0: f"{period.year}-H2"}.get(period.half)
    if rival and rival in states:
        raise InputRefused.single(
            where,
            f"voor {period.year} is al {rival} afgerekend; {period.label} zou dezelfde maanden "
            "nog eens afrekenen",
            f"Gebruik {rival}, of --correctie op {rival}.",
        )
    later_sent = [
        label
        for label, state in states.items()
        if state == SENT and Period.parse(label).end > period.end
    ]
    if later_sent and not correction:
        raise InputRefused.single(
            where,
            f"{', '.join(later_sent)} is al verzonden, dus {period.label} kan niet meer veranderen",
            f"Gebruik --correctie op {period.label} om de verschillen te factureren.",
        )


def _already_sent(register: Register, period: Period, where: Location) -> InputRefused:
    """The refusal for settling a sent period again: use --correctie, or first settle the
    question of a message whose sending was broken off."""
    uncertain = register.uncertain(period)
    if uncertain:
        numbers = ", ".join(f"{number} ({name})" for number, name in uncertain)
        first = uncertain[0][0]
        batch_folder = register.path.parent / period.label
        return InputRefused.single(
            where,
            f"{period.label} is misschien al verzonden: het versturen van {numbers} is "
            "afgebroken en niemand weet of het bericht is aangekomen",
            "Vraag bij de ontvanger na of het is aangekomen. Zo niet: verstuur het met "
            f"'inkoopkracht-xl verstuur {batch_folder} --verzend --opnieuw {first}'; zo ja: "
            f"leg dat vast met 'inkoopkracht-xl verstuur {batch_folder} --aangekomen "
            f"{first}'. Daarna is {period.label} verzonden; gebruik dan --correctie voor "
            "wat sindsdien is veranderd.",
        )
    return InputRefused.single(
        where,
        f"{period.label} is al verzonden en daarmee definitief",
        f"Gebruik 'afrekening --periode {period.label} --correctie' om correctiefacturen te "
        "maken voor wat sindsdien is veranderd.",
    )


def _parameters(
    period: Period, correction: bool, issue_date: date, inputs: Inputs
) -> dict[str, str]:
    settings = inputs.budget.settings
    return {
        "periode": period.label,
        "correctie": "ja" if correction else "nee",
        "factuurdatum": issue_date.isoformat(),
        "penvoerder": settings.lead,
        "verdeelmethode": settings.method,
        "afronding": settings.rounding,
        "factuurprefix": settings.invoice_prefix,
        "betaaltermijn": str(settings.payment_days),
    }


def _about_missing_contact(finding: Finding) -> bool:
    return finding.location.sheet == "Contacten" and finding.message.startswith(
        "geen e-mailadres voor"
    )
