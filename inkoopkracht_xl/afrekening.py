"""The half-year settlement run: read, settle, number, write everything, then swap it into place."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from . import __version__
from .errors import InputRefused
from .locks import exclusive
from .model import Finding, Invoice, Level, Location
from .read.folder import Loaded, load_valid, sha256_of
from .register import LOCK_NAME, REGISTER_NAME, Register, RunInfo
from .report import key_for, key_json
from .settle import Period, Settlement, corrections, settle

MANIFEST = "afrekening.json"  # which register run an output folder belongs to (verstuur checks it)
PROGRESS_FROM = 25  # show progress on stderr from this many invoice workbooks
# From this many invoices a pool of worker processes writes them; below it, starting the pool
# (about 0,1 s a worker) costs more than it saves.
PARALLEL_FROM = 40
MAX_WORKERS = 4
# Invoices handed to a worker at a time. Small and fixed: the workers finish within one chunk
# (about 0,1 s) of each other whatever the number of invoices; a chunk that grew with the run
# left one core idle for a second at twice national scale.
CHUNK = 4


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


def run_settlement(folder: Path, period_text: str, **options) -> SettlementRun:
    """Settle one period of the drop folder into `<out>/<period>/`, recorded in the register.

    The run builds hundreds of thousands of objects that live until its end and form no
    cycles; the garbage collector would only rescan them, over and over (seconds at national
    scale), so it pauses for the run, and what the run froze is handed back to it afterwards (a
    test session or a long-lived caller runs many settlements in one process).
    Options: see `_run_settlement`.
    """
    gc.disable()
    try:
        return _run_settlement(folder, period_text, **options)
    finally:
        gc.unfreeze()
        gc.enable()


def _run_settlement(
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
    # Frozen, the inputs are never rescanned, here or in the worker processes forked from here.
    gc.freeze()
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
    # One run at a time per output folder, from opening the register until its folder is in
    # place: a second run waits briefly, then is told (verstuur takes the same lock).
    with (
        exclusive(out / LOCK_NAME, "er loopt al een afrekening op deze uitvoermap"),
        Register.open(out / REGISTER_NAME) as register,
    ):
        with register.transaction():
            recover_outputs(out, register)  # a killed run's leftovers, under the lock
            result, staging, backup = _settle_and_write(
                register, loaded, period, correction, issue_date, now, out, pdf
            )
        # Committed: the register holds the new run. Two renames put its folder in place; a
        # kill in between is finished by the next run (recover_outputs rolls it forward).
        _put_in_place(staging, out / result.batch, backup)
    return result


def _settle_and_write(register, loaded, period, correction, issue_date, now, out, pdf):
    """Inside the register's transaction: settle, number, write everything into a staging
    folder, and move the previous output aside. Returns (run, staging, backup)."""
    inputs = loaded.inputs
    settings = inputs.budget.settings
    # controleer's general "no address" warnings give way to missing_contacts' precise ones.
    findings = [f for f in loaded.findings if not _about_missing_contact(f)]
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
    if correction:
        settlement = _correction_settlement(fresh, numbered)
    else:
        settlement = replace(fresh, invoices=numbered)
    findings += missing_contacts(numbered, inputs)
    info = RunInfo(
        now, __version__, _parameters(period, correction, issue_date, inputs), dict(loaded.sha256)
    )
    draft = SettlementRun(batch, out / batch, settlement, numbered, tuple(findings), 0)
    staging = Path(tempfile.mkdtemp(prefix=f".{batch}.nieuw-", dir=out))
    try:
        # The register records the run while the workbooks are being written.
        run_id, files = _write_outputs(
            staging,
            draft,
            loaded,
            now,
            lambda: register.replace_drafts(batch, period, numbered, info),
        )
        if pdf:
            _write_pdfs(staging)
        # Last: the manifest marks the staging folder complete (recovery relies on it).
        _write_manifest(staging, batch, period, run_id, files)
        backup = _move_aside(out / batch, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return replace(draft, run_id=run_id), staging, backup


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


def _write_outputs(
    staging: Path, run: SettlementRun, loaded: Loaded, now: datetime, record: Callable[[], int]
) -> tuple[int, dict]:
    """Write every output into `staging`; `record()` (the register) runs while workers write.

    Returns the register's run id and the manifest entry of every invoice."""
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
    audit = Audit(
        inputs=input_files(inputs, loaded.sha256),
        parameters=parameters_for(inputs, run.settlement.key, run.batch),
        version=__version__,
        created=now,
        findings=run.findings,
        skipped=loaded.skipped,
    )
    (staging / "facturen").mkdir()
    (staging / "mail").mkdir()
    overview = staging / f"overzicht-{run.batch}.xlsx"
    jobs = [Job(staging, run.batch, invoice) for invoice in run.billed]
    with _writers(inputs, now, jobs, (overview, run.settlement.key, audit, run.settlement)) as pool:
        if pool is None:
            write_overview(overview, inputs, run.settlement.key, audit, run.settlement)
            produced = (produce(job, inputs, now) for job in jobs)
        else:
            # The overview is the longest single job: start it first, beside the invoices. The
            # workers got the jobs when they started, so only their numbers travel.
            pending_overview = pool.submit(_worker_overview)
            produced = pool.map(_worker_produce, range(len(jobs)), chunksize=CHUNK)
        run_id = record()
        files = {}
        for count, (number, entry) in enumerate(produced, start=1):
            files[number] = entry
            if len(run.billed) >= PROGRESS_FROM and (count % 50 == 0 or count == len(run.billed)):
                print(f"Facturen geschreven: {count} van {len(run.billed)}", file=sys.stderr)
        if pool is not None:
            pending_overview.result()
    return run_id, files


@dataclass(frozen=True)
class Job:
    """One invoice to write into the staging folder: its workbook and its e-mail draft."""

    staging: Path
    batch: str
    invoice: Invoice


def produce(job: Job, inputs, created: datetime) -> tuple[str, dict]:
    """Write one invoice workbook and, when there is an address, its Outlook draft (.eml).

    Returns the manifest entry: file name, SHA-256 (verstuur refuses a file changed since) and
    the draft's name.
    """
    from .mail import build_message
    from .write.invoice import write_invoice
    from .write.names import invoice_filename, safe_filename
    from .write.overview import ORGANISATION

    invoice = job.invoice
    path = job.staging / "facturen" / invoice_filename(job.batch, invoice.name)
    write_invoice(path, invoice, inputs, created=created)
    draft = None
    contact = inputs.budget.contact(invoice.code)
    if contact is not None:  # without one: a warning before writing (see missing_contacts)
        message = build_message(
            invoice,
            contact,
            inputs.budget.settings.sender,
            path,
            organisation=ORGANISATION,
            draft=True,
            when=created,
        )
        draft = safe_filename(f"{invoice.number} {invoice.name}.eml")
        (job.staging / "mail" / draft).write_bytes(message.as_bytes())
    return invoice.number, {"bestand": path.name, "sha256": sha256_of(path), "concept": draft}


@contextmanager
def _writers(inputs, created: datetime, jobs: list[Job], overview: tuple):
    """A pool of worker processes (one per core) when there are many invoices, else None.

    Writing workbooks is the slow part of a large run; below PARALLEL_FROM invoices starting
    the workers costs more than it saves. The workers get the inputs, the jobs and the
    overview's data once, at their start (inherited, not copied, where processes fork).
    """
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(
        workers, initializer=_worker_start, initargs=(inputs, created, jobs, overview)
    ) as pool:
        yield pool


_WORKER: dict = {}


def _worker_start(inputs, created: datetime, jobs: list[Job], overview: tuple) -> None:
    _WORKER.update(inputs=inputs, created=created, jobs=jobs, overview=overview)
    # The inputs live as long as the worker: frozen, the garbage collector never rescans their
    # hundreds of thousands of objects. The automatic collector stays paused (as the run left
    # it when this worker was forked); each job collects its own garbage when it is done.
    gc.freeze()
    gc.disable()


def _worker_produce(index: int) -> tuple[str, dict]:
    try:
        return produce(_WORKER["jobs"][index], _WORKER["inputs"], _WORKER["created"])
    finally:
        _collect_workbook()


def _worker_overview() -> Path:
    from .write.overview import write_overview

    path, key, audit, settlement = _WORKER["overview"]
    try:
        return write_overview(path, _WORKER["inputs"], key, audit, settlement)
    finally:
        _collect_workbook()


def _collect_workbook() -> None:
    """Free a written workbook's reference cycles (xlsxwriter's objects point at each other:
    some 4.000 objects per invoice). Right after a job the youngest generation holds little
    else, so this costs about 1 ms; the automatic collector, running every so many
    allocations, rescanned several workbooks' worth each time: 3 ms per invoice."""
    gc.collect(0)


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


def _about_missing_contact(finding: Finding) -> bool:
    return finding.location.sheet == "Contacten" and finding.message.startswith(
        "geen e-mailadres voor"
    )


def missing_contacts(run_invoices: tuple[Invoice, ...], inputs) -> list[Finding]:
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


def _write_manifest(staging: Path, batch: str, period, run_id: int, files: dict) -> None:
    manifest = {"batch": batch, "periode": period.label, "run": run_id, "facturen": files}
    text = json.dumps(manifest, ensure_ascii=False, indent=2)
    (staging / MANIFEST).write_text(text, encoding="utf-8")


def _move_aside(target: Path, staging: Path) -> Path | None:
    """Rename the previous output out of the way, before the register commits the new run.

    A file still open in Excel (Windows) makes this fail: the run is then refused and rolled
    back, and nothing has changed.
    """
    if not target.exists():
        return None
    backup = target.with_name(f".{target.name}.oud-{staging.name.rsplit('-', 1)[-1]}")
    try:
        target.rename(backup)
    except OSError:
        raise InputRefused.single(
            Location(str(target)),
            "de vorige uitvoer kan niet worden vervangen (een bestand is nog geopend?)",
            "Sluit de overzichten en facturen in Excel en draai de afrekening opnieuw.",
        ) from None
    return backup


def _put_in_place(staging: Path, target: Path, backup: Path | None) -> None:
    staging.rename(target)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


_LEFTOVER = re.compile(r"\.(?P<batch>.+)\.(?P<kind>nieuw|oud)-[^.]+")


def recover_outputs(out: Path, register: Register) -> None:
    """Bring the output folders back in line with the register after a run was killed.

    Call under the register's lock. Per batch: a complete staging folder (it has its manifest)
    of the register's latest run replaces an older or missing output (roll forward); a missing
    output whose new run never committed gets its set-aside previous version back (roll back);
    every other leftover is removed.
    """
    if not out.is_dir():
        return
    leftovers: dict[str, list[tuple[str, Path]]] = {}
    for path in out.iterdir():
        match = _LEFTOVER.fullmatch(path.name)
        if match and path.is_dir():
            leftovers.setdefault(match["batch"], []).append((match["kind"], path))
    for batch, paths in leftovers.items():
        target = out / batch
        latest = register.latest_run(batch)
        complete = [p for kind, p in paths if kind == "nieuw" and _manifest_run(p) == latest]
        backups = sorted((p for kind, p in paths if kind == "oud"), key=lambda p: p.stat().st_mtime)
        if latest is not None and complete and _manifest_run(target) != latest:
            if target.exists():
                shutil.rmtree(target)
            complete[0].rename(target)
        elif not target.exists() and backups:
            backups[-1].rename(target)
        for _, path in paths:
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)


def _manifest_run(folder: Path) -> int | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["run"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
