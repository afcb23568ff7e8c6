"""The half-year settlement run: read, settle, number, write everything, then swap it into place."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from . import __version__
from .errors import InputRefused
from .model import Finding, Invoice, Level, Location
from .read.folder import Loaded, load_valid, sha256_of
from .register import REGISTER_NAME, Register, RunInfo
from .report import key_for
from .settle import Period, Settlement, corrections, settle

MANIFEST = "afrekening.json"  # which register run an output folder belongs to (verstuur checks it)
PROGRESS_FROM = 25  # show progress on stderr from this many invoice workbooks


@dataclass(frozen=True)
class SettlementRun:
    batch: str
    folder: Path  # <uit>/<batch>
    settlement: Settlement
    invoices: tuple[Invoice, ...]  # numbered; the penvoerder's own share included
    findings: tuple[Finding, ...]
    run_id: int

    @property
    def billed(self) -> tuple[Invoice, ...]:
        return tuple(i for i in self.invoices if not i.is_own_share)

    def as_json(self) -> dict:
        key = self.settlement.key
        return {
            "periode": self.settlement.period.label,
            "jaar": key.year,
            "batch": self.batch,
            "verdeelsleutel": [
                {
                    "code": s.code,
                    "gemeente": s.name,
                    "inwoners": s.inhabitants,
                    "percentage": str(s.percentage),
                    "bedrag": str(s.amount),
                }
                for s in key.shares
            ],
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
    pdf: bool = False,
) -> SettlementRun:
    """Settle one period of the drop folder into `<out>/<period>/`, recorded in the register.

    Everything is written to a temporary folder first and swapped into place only after the
    register accepted it, inside one register transaction: a failure or a kill leaves the previous
    outputs and the register as they were.
    """
    try:
        period = Period.parse(period_text)
    except ValueError as problem:
        raise InputRefused.single(Location("--periode"), str(problem)) from None
    now = now or datetime.now().replace(microsecond=0)
    issue_date = issue_date or now.date()
    loaded = load_valid(folder)
    inputs = loaded.inputs
    settings = inputs.budget.settings
    if settings.year != period.year:
        raise InputRefused.single(
            settings.at("year"),
            f"de begroting is van {settings.year}, de periode {period.label} van {period.year}",
            f"Kies een periode in {settings.year} of zet de begroting van {period.year} in de map.",
        )
    key_for(loaded)  # refuses in Dutch when the key cannot be made
    out = out or folder / "uitvoer"
    with Register.open(out / REGISTER_NAME) as register, register.transaction():
        _clean_leftovers(out)  # only under the lock: another run's staging folder is not a leftover
        findings = list(loaded.findings)
        batch = _check_state(register, period, correction, findings)
        history = register.history(period)
        fresh = settle(inputs, period, history, issue_date=issue_date)
        findings += fresh.findings
        if correction:
            invoices = corrections(
                fresh, register.holdings(period), issue_date=issue_date, inputs=inputs
            )
            if not invoices:
                raise InputRefused.single(
                    Location(str(out / period.label)),
                    f"er zijn geen verschillen met de verzonden afrekening van {period.label}",
                    "Er zijn geen correctiefacturen nodig.",
                )
        else:
            invoices = fresh.invoices
            for label in register.void_later_drafts(period):
                findings.append(
                    Finding(
                        Level.WARNING,
                        Location(str(out / label)),
                        f"de concepten van {label} zijn vervallen omdat {period.label} opnieuw is gemaakt",
                        f"Maak {label} daarna opnieuw.",
                    )
                )
        numbered = tuple(
            register.number_invoices(batch, period.year, settings.invoice_prefix, invoices)
        )
        run_id = register.replace_drafts(
            batch,
            period,
            numbered,
            RunInfo(
                now,
                __version__,
                _parameters(period, correction, issue_date, inputs),
                dict(loaded.sha256),
            ),
        )
        if correction:
            settlement = _correction_settlement(fresh, numbered)
        else:
            settlement = replace(fresh, invoices=numbered)
        findings += missing_contacts(numbered, inputs, out / batch)
        result = SettlementRun(batch, out / batch, settlement, numbered, tuple(findings), run_id)
        staging = Path(tempfile.mkdtemp(prefix=f".{batch}.nieuw-", dir=out))
        try:
            _write_outputs(staging, result, loaded, now)
            if pdf:
                _write_pdfs(staging)
            _swap_into_place(staging, out / batch)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return result


def _correction_settlement(fresh: Settlement, numbered: tuple[Invoice, ...]) -> Settlement:
    """A correction batch as a settlement: what it bills is the differences themselves."""
    network = sum(
        (line.amount for i in numbered for line in i.lines if line.kind == "netwerk"), Decimal(0)
    )
    return replace(fresh, network_due=network, invoices=numbered, cost_lines=(), correction=True)


def _check_state(
    register: Register, period: Period, correction: bool, findings: list[Finding]
) -> str:
    """Which batch this run writes, after refusing what the register's state does not allow."""
    states = register.periods(period.year)
    where = Location(str(register.path))
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
        if state == "verzonden" and Period.parse(label).end > period.end
    ]
    if later_sent and not correction:
        raise InputRefused.single(
            where,
            f"{', '.join(later_sent)} is al verzonden, dus {period.label} kan niet meer veranderen",
            f"Gebruik --correctie op {period.label} om de verschillen te factureren.",
        )
    state = states.get(period.label)
    if correction:
        if state != "verzonden":
            raise InputRefused.single(
                where,
                f"--correctie is voor een verzonden periode; {period.label} is nog niet verzonden",
                f"Draai de afrekening van {period.label} zonder --correctie; de concepten worden vervangen.",
            )
        count = sum(1 for b in register.batches(period) if b != period.label)
        return f"{period.label}-correctie-{count + 1}"
    if state == "verzonden":
        raise InputRefused.single(
            where,
            f"{period.label} is al verzonden en daarmee definitief",
            f"Gebruik 'afrekening --periode {period.label} --correctie' om correctiefacturen te "
            "maken voor wat sindsdien is veranderd.",
        )
    return period.label


def _parameters(period: Period, correction: bool, issue_date: date, inputs) -> dict[str, str]:
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


def _write_outputs(staging: Path, run: SettlementRun, loaded: Loaded, now: datetime) -> None:
    from .write.invoice import write_invoice
    from .write.names import invoice_filename
    from .write.overview import Audit, input_files, parameters_for, write_overview

    inputs = loaded.inputs
    copies = staging / "invoer"
    copies.mkdir()
    for path in (inputs.calendar_path, inputs.budget_path):
        target = copies / path.name
        shutil.copyfile(path, target)
        if sha256_of(target) != loaded.sha256[path.name]:
            raise InputRefused.single(
                Location(path.name),
                "is tijdens de afrekening gewijzigd",
                "Sla het bestand op, sluit het en draai de afrekening opnieuw.",
            )
    period = run.settlement.period
    audit = Audit(
        inputs=input_files(inputs, loaded.sha256),
        parameters=parameters_for(inputs, run.settlement.key, run.batch),
        version=__version__,
        created=now,
        findings=run.findings,
    )
    write_overview(
        staging / f"overzicht-{run.batch}.xlsx", inputs, run.settlement.key, audit, run.settlement
    )
    invoices_folder = staging / "facturen"
    invoices_folder.mkdir()
    billed = run.billed
    for count, invoice in enumerate(billed, start=1):
        write_invoice(
            invoices_folder / invoice_filename(run.batch, invoice.name),
            invoice,
            inputs,
            created=now,
        )
        if len(billed) >= PROGRESS_FROM and (count % 25 == 0 or count == len(billed)):
            print(f"Facturen geschreven: {count} van {len(billed)}", file=sys.stderr)
    drafts = _write_drafts(staging, run, inputs, now)
    manifest = {
        "batch": run.batch,
        "periode": period.label,
        "run": run.run_id,
        "facturen": {
            i.number: {
                "bestand": invoice_filename(run.batch, i.name),
                "sha256": sha256_of(invoices_folder / invoice_filename(run.batch, i.name)),
                "concept": drafts.get(i.number),
            }
            for i in billed
        },
    }
    (staging / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )


def _write_pdfs(staging: Path) -> None:
    """The invoices as PDF beside the workbooks (LibreOffice); refused in Dutch without it."""
    from .libreoffice import LibreOfficeError, convert_all

    invoices = sorted((staging / "facturen").glob("*.xlsx"))
    if not invoices:
        return
    try:
        convert_all(invoices, staging / "facturen", "pdf", timeout=120)
    except LibreOfficeError as problem:
        raise InputRefused.single(
            Location("--pdf"),
            str(problem),
            "Installeer LibreOffice (libreoffice.org) of laat --pdf weg: de Excel-facturen "
            "zijn dan gewoon te gebruiken.",
        ) from None


def _write_drafts(staging: Path, run: SettlementRun, inputs, now: datetime) -> dict[str, str]:
    """One Outlook draft (.eml) per invoice whose municipality has an address in Contacten."""
    from .mail import build_message
    from .write.names import invoice_filename, safe_filename
    from .write.overview import ORGANISATION

    contacts = {c.code: c for c in inputs.budget.contacts}
    folder = staging / "mail"
    folder.mkdir()
    written = {}
    for invoice in run.billed:
        contact = contacts.get(invoice.code)
        if contact is None:
            continue  # reported as a warning before writing (see missing_contacts)
        attachment = staging / "facturen" / invoice_filename(run.batch, invoice.name)
        message = build_message(
            invoice,
            contact,
            inputs.budget.settings.sender,
            attachment,
            organisation=ORGANISATION,
            draft=True,
            when=now,
        )
        name = safe_filename(f"{invoice.number} {invoice.name}.eml")
        (folder / name).write_bytes(message.as_bytes())
        written[invoice.number] = name
    return written


def missing_contacts(
    run_invoices: tuple[Invoice, ...], inputs, batch_folder: Path
) -> list[Finding]:
    """A warning for each invoiced municipality without an e-mail address: no draft for it."""
    known = {c.code for c in inputs.budget.contacts}
    return [
        Finding(
            Level.WARNING,
            Location(inputs.budget_path.name, "Contacten"),
            f"geen e-mailadres voor {invoice.name} ({invoice.code}); er is geen e-mailconcept "
            f"gemaakt voor {invoice.number}",
            "Voeg de gemeente toe aan het werkblad Contacten en draai de afrekening opnieuw, of "
            "verstuur deze factuur zelf.",
        )
        for invoice in run_invoices
        if not invoice.is_own_share and invoice.code not in known
    ]


def _swap_into_place(staging: Path, target: Path) -> None:
    """Replace `target` by `staging` with two renames; on failure the old folder is put back."""
    backup = None
    if target.exists():
        backup = target.with_name(f".{target.name}.oud-{staging.name.rsplit('-', 1)[-1]}")
        try:
            target.rename(backup)
        except OSError:
            raise InputRefused.single(
                Location(str(target)),
                "de vorige uitvoer kan niet worden vervangen (een bestand is nog geopend?)",
                "Sluit de overzichten en facturen in Excel en draai de afrekening opnieuw.",
            ) from None
    try:
        staging.rename(target)
    except OSError:
        if backup is not None:
            backup.rename(target)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def _clean_leftovers(out: Path) -> None:
    """Remove staging and backup folders a killed run may have left behind."""
    if not out.is_dir():
        return
    for path in out.iterdir():
        if (
            path.is_dir()
            and path.name.startswith(".")
            and (".nieuw-" in path.name or ".oud-" in path.name)
        ):
            shutil.rmtree(path, ignore_errors=True)
