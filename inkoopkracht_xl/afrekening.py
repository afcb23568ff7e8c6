"""The half-year settlement run: read, settle, number, write everything, then swap it into place."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from . import __version__
from .errors import InputRefused
from .locks import exclusive
from .model import Finding, Invoice, Level, Location
from .previous import Comparison, compare_with_register
from .read.folder import Loaded, load_valid, sha256_of
from .register import LOCK_NAME, REGISTER_NAME, Register, RunInfo
from .report import key_for, key_json
from .settle import Period, Settlement, correction_settlement, corrections, settle
from .write.files import refusal_for, sync_file, sync_folder, sync_tree

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
# Threads per writer that flush its files to the disk while it makes the next one.
FLUSHERS = 2


@dataclass(frozen=True)
class SettlementRun:
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
) -> SettlementRun:
    """Settle one period of the drop folder into `<out>/<period>/`, recorded in the register.

    Everything is written to a staging folder first, flushed to the disk, and swapped into place
    only after the register committed the run: a failure (a full disk, a read-only folder, a
    failing COMMIT) or a kill leaves the previous outputs and the register as they were.
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
    try:
        return _settle_into(out, loaded, period, correction, issue_date, now)
    except OSError as problem:
        raise refusal_for(problem, out) from None


def _settle_into(out, loaded, period, correction, issue_date, now) -> SettlementRun:
    """Under the output folder's lock: settle, write, make durable, commit, put in place.

    The order is what makes it safe. Every output file and folder of the staging folder is
    flushed to the disk, the previous output is renamed aside and that rename flushed too, and
    only then does the register commit the run: after a power cut the register never names a
    run whose files are not all there. If anything fails before the commit, or the COMMIT
    itself, the register rolls back and the previous output is put back. A kill is finished
    or undone by the next run (recover_outputs).
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
                recover_outputs(out, register)  # a killed run's leftovers, under the lock
                result, staging, produced, void = _settle_and_write(
                    register, loaded, period, correction, issue_date, now, out
                )
                target = out / result.batch
                sync_tree(staging, done=produced)
                backup = _move_aside(target, staging)
                # The drafts of later periods this run voided go too: their numbers are void,
                # so their workbooks and e-mail drafts must not stay to be sent by hand.
                for label in void:
                    aside = _move_aside(out / label, staging)
                    if aside is not None:
                        voided.append((out / label, aside))
                sync_folder(out)
        except BaseException:
            _undo(staging, [(target, backup), *voided])
            raise
        # Committed: the register holds the new run. Put its folder in place; a kill before
        # this is finished by the next run (recover_outputs rolls it forward).
        _put_in_place(staging, target, backup)
        for _, aside in voided:
            shutil.rmtree(aside, ignore_errors=True)
    return result


def _undo(staging: Path | None, moved: list[tuple[Path | None, Path | None]]) -> None:
    """The run failed before its COMMIT took: remove what it wrote, put the previous outputs
    back where they were. The register has rolled back already."""
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
    for target, backup in moved:
        if backup is not None and target is not None and not target.exists():
            backup.rename(target)
    with contextlib.suppress(OSError):
        if staging is not None:
            sync_folder(staging.parent)


def _settle_and_write(register, loaded, period, correction, issue_date, now, out):
    """Inside the register's transaction: settle, number and write everything into a staging
    folder. Returns (run, staging folder, the files already flushed to the disk, the later
    periods whose drafts were voided)."""
    inputs = loaded.inputs
    settings = inputs.budget.settings
    # controleer's general "no address" warnings give way to missing_contacts' precise ones.
    findings = [f for f in loaded.findings if not _about_missing_contact(f)]
    batch = _check_state(register, period, correction, findings)
    # What changed since the last settlement: against the register before it records this run.
    pending_changes = compare_with_register(register, out, loaded)
    history = register.history(period, including_later=correction)
    fresh = settle(inputs, period, history, issue_date=issue_date)
    findings += fresh.findings
    findings += _unsent_earlier(register, period, out)
    void: list[str] = []
    held = register.holdings(period) if correction else {}
    if correction:
        invoices = corrections(fresh, held, issue_date=issue_date, inputs=inputs)
        if not invoices:
            raise InputRefused.single(
                Location(str(out / period.label)),
                f"er zijn geen verschillen met de verzonden afrekening van {period.label}",
                "Er zijn geen correctiefacturen nodig.",
            )
    else:
        invoices = fresh.invoices
        void = register.void_later_drafts(period)
        for label in void:
            findings.append(
                Finding(
                    Level.WARNING,
                    Location(str(out / label)),
                    f"de concepten van {label} zijn vervallen omdat {period.label} opnieuw is "
                    "gemaakt; hun map is verwijderd",
                    f"Maak {label} daarna opnieuw.",
                )
            )
    numbered = tuple(
        register.number_invoices(batch, period.year, settings.invoice_prefix, invoices)
    )
    if correction:
        settlement = correction_settlement(
            fresh,
            numbered,
            held_total=register.period_total(period),
            held_network=sum(
                (amount for (_, kind, _, _), (amount, *_) in held.items() if kind == "netwerk"),
                Decimal(0),
            ),
        )
    else:
        settlement = replace(fresh, invoices=numbered)
    findings += missing_contacts(numbered, inputs)
    findings += missing_einvoices(numbered, inputs)
    # A credit note or correction names the invoice it corrects with that invoice's date.
    issued = register.issue_dates(period.year)
    info = RunInfo(
        now, __version__, _parameters(period, correction, issue_date, inputs), dict(loaded.sha256)
    )
    changes = _changes(pending_changes, findings)
    draft = SettlementRun(batch, out / batch, settlement, numbered, tuple(findings), 0, changes)
    # The overview's Facturen sheet, read before this run replaces the batch's drafts.
    from .write.invoices_sheet import invoice_list

    listed = invoice_list(
        batch,
        numbered,
        inputs.budget,
        delivery=register.delivery(batch),
        earlier=register.period_deliveries(period) if correction else (),
    )
    staging = Path(tempfile.mkdtemp(prefix=f".{batch}.nieuw-", dir=out))
    # mkdtemp makes the folder private; the output folder gets the permissions of any new one.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    try:
        # The register records the run while the workbooks are being written.
        run_id, files = _write_outputs(
            staging,
            draft,
            loaded,
            now,
            lambda: register.replace_drafts(batch, period, numbered, info),
            issued,
            listed,
        )
        # Last: the manifest marks the staging folder complete (recovery relies on it).
        _write_manifest(staging, batch, period, run_id, files)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    produced = [
        staging / folder / name
        for entry in files.values()
        for folder, name in (
            ("facturen", entry["bestand"]),
            ("facturen", entry.get("pdf")),
            ("facturen", entry.get("xml")),
            ("mail", entry["concept"]),
        )
        if name
    ]
    return replace(draft, run_id=run_id), staging, produced, void


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
        uncertain = register.uncertain(period)
        if uncertain:
            numbers = ", ".join(f"{number} ({name})" for number, name in uncertain)
            first = uncertain[0][0]
            batch_folder = register.path.parent / period.label
            raise InputRefused.single(
                where,
                f"{period.label} is misschien al verzonden: het versturen van {numbers} is "
                "afgebroken en niemand weet of het bericht is aangekomen",
                "Vraag bij de ontvanger na of het is aangekomen. Zo niet: verstuur het met "
                f"'inkoopkracht-xl verstuur {batch_folder} --verzend --opnieuw {first}'; zo ja: "
                f"leg dat vast met 'inkoopkracht-xl verstuur {batch_folder} --aangekomen "
                f"{first}'. Daarna is {period.label} verzonden; gebruik dan --correctie voor "
                "wat sindsdien is veranderd.",
            )
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
    staging: Path,
    run: SettlementRun,
    loaded: Loaded,
    now: datetime,
    record: Callable[[], int],
    issued: Mapping[str, date] | None = None,
    listed: object = None,
) -> tuple[int, dict]:
    """Write every output into `staging`; `record()` (the register) runs while workers write.
    `issued` maps earlier invoice numbers to their dates (what a credit note corrects);
    `listed` is the overview's Facturen sheet (invoices_sheet.InvoiceList).

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
        changes=run.changes,
        invoices=listed,
    )
    (staging / "facturen").mkdir()
    (staging / "mail").mkdir()
    overview = staging / f"overzicht-{run.batch}.xlsx"
    issued = issued or {}
    jobs = [
        Job(
            staging,
            run.batch,
            invoice,
            (invoice.refers_to, issued.get(invoice.refers_to)) if invoice.refers_to else None,
        )
        for invoice in run.billed
    ]
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
    """One invoice to write into the staging folder: its PDF, workbook, e-invoice and e-mail."""

    staging: Path
    batch: str
    invoice: Invoice
    original: tuple[str, date | None] | None = None  # the invoice it corrects, with its date


def produce(job: Job, inputs, created: datetime) -> tuple[str, dict]:
    """Write one invoice: the PDF (the invoice itself), the workbook (its specification), the
    e-invoice (UBL, with the PDF embedded) unless E-factuur = nee or a field it needs is empty,
    and, when there is an address, the Outlook draft (.eml) carrying those files.

    Returns the manifest entry: file names with their SHA-256 (verstuur refuses a file changed
    since) and the draft's name.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .mail import draft_bytes
    from .write.document import build_document
    from .write.invoice import write_invoice
    from .write.names import invoice_filename, safe_filename
    from .write.overview import ORGANISATION
    from .write.pdf import write_invoice_pdf

    invoice = job.invoice
    settings = inputs.budget.settings
    contact = inputs.budget.contact(invoice.code)
    path = job.staging / "facturen" / invoice_filename(job.batch, invoice.name)
    issued = {job.original[0]: job.original[1]} if job.original and job.original[1] else {}
    document = build_document(invoice, inputs, issued)
    pdf_path = path.with_suffix(".pdf")
    # Each file is flushed to the disk on a thread while the next one is made (fsync waits for
    # the disk, not the processor); all are on the disk before this returns.
    with ThreadPoolExecutor(FLUSHERS, thread_name_prefix="flush") as flusher:
        flushed = []
        pdf = write_invoice_pdf(pdf_path, document, created=created)
        flushed.append(flusher.submit(sync_file, pdf_path))
        write_invoice(path, invoice, inputs, created=created, document=document)
        flushed.append(flusher.submit(sync_file, path))
        entry = {
            "bestand": path.name,
            "sha256": sha256_of(path),
            "pdf": pdf_path.name,
            "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
        }
        files = [pdf_path]
        xml = _einvoice(invoice, settings, contact, pdf, pdf_path.name, job.original)
        if xml is not None:
            xml_path = path.with_suffix(".xml")
            xml_path.write_bytes(xml)
            flushed.append(flusher.submit(sync_file, xml_path))
            files.append(xml_path)
            entry.update(xml=xml_path.name, xml_sha256=hashlib.sha256(xml).hexdigest())
        files.append(path)
        draft = None
        if contact is not None:  # without one: a warning before writing (missing_contacts)
            message = draft_bytes(
                invoice,
                contact,
                settings.sender,
                files,
                organisation=ORGANISATION,
                when=created,
                settings=settings,
            )
            draft = safe_filename(f"{invoice.number} {invoice.name}.eml")
            (job.staging / "mail" / draft).write_bytes(message)
            flushed.append(flusher.submit(sync_file, job.staging / "mail" / draft))
        for flush in flushed:
            flush.result()  # a failed flush (a full or failing disk) fails the run
    entry["concept"] = draft
    return invoice.number, entry


def _einvoice(invoice, settings, contact, pdf: bytes, pdf_name: str, original) -> bytes | None:
    """The UBL e-invoice, or None: E-factuur = nee, or a field it needs is empty (controleer
    warned; with E-factuur filled in the run was refused before it got here)."""
    from .einvoice import missing_fields, ubl_document

    if settings.einvoice == "nee" or missing_fields(settings, contact):
        return None
    if _uncorrected_credit(invoice, original):
        return None  # a CreditNote must name the invoice it corrects (missing_einvoices says so)
    return ubl_document(invoice, settings, contact, pdf=pdf, pdf_name=pdf_name, original=original)


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


def missing_einvoices(run_invoices: tuple[Invoice, ...], inputs) -> list[Finding]:
    """One warning naming the invoices that get no e-invoice because a field it needs is empty
    (E-factuur not filled in; filled in, controleer refused the run already)."""
    from .einvoice import missing_fields

    settings = inputs.budget.settings
    if settings.einvoice == "nee":
        return []
    lacking: dict[str, list[str]] = {}
    unreferenced = []
    for invoice in run_invoices:
        if invoice.is_own_share:
            continue
        if _uncorrected_credit(invoice, None):
            unreferenced.append(invoice.number)
        missing = missing_fields(settings, inputs.budget.contact(invoice.code))
        if missing:
            what = ", ".join(dict.fromkeys(str(field) for field in missing))
            lacking.setdefault(what, []).append(invoice.number)
    return [
        Finding(
            Level.WARNING,
            Location(inputs.budget_path.name),
            f"geen e-factuur voor {', '.join(numbers)}: nog niet ingevuld: {what}",
            "Vul die gegevens in (controleer noemt de cellen) en draai de afrekening opnieuw, "
            "of zet E-factuur op 'nee'. De PDF-factuur is wel gemaakt.",
        )
        for what, numbers in lacking.items()
    ] + [
        Finding(
            Level.WARNING,
            Location(inputs.budget_path.name),
            f"geen e-factuur voor creditnota {number}: er is dit jaar nog geen factuur aan die "
            "gemeente waarop zij een correctie is, en een e-creditnota moet er een noemen",
            "Verstuur de PDF; het bedrag wordt terugbetaald of verrekend zoals de creditnota zegt.",
        )
        for number in unreferenced
    ]


def _uncorrected_credit(invoice, original) -> bool:
    """A credit note that names no earlier invoice: no e-invoice can be made for it."""
    return invoice.kind == "creditnota" and not invoice.refers_to and not original


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
    """After the COMMIT: the staging folder becomes the output, the previous one goes.

    Flushing the folder afterwards is a courtesy: should it fail, or the power go, before the
    rename reaches the disk, the next run rolls the committed staging folder forward.
    """
    staging.rename(target)
    with contextlib.suppress(OSError):
        sync_folder(target.parent)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


_LEFTOVER = re.compile(r"\.(?P<batch>.+)\.(?P<kind>nieuw|oud)-[^.]+")


def recover_outputs(out: Path, register: Register) -> None:
    """Bring the output folders back in line with the register after a run was killed.

    Call under the register's lock. Per batch: a complete staging folder (it has its manifest)
    of the register's latest run replaces an older or missing output (roll forward); a missing
    output whose new run never committed gets its set-aside previous version back (roll back),
    unless the register no longer holds that batch (voided); every other leftover is removed.
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
        elif not target.exists() and backups and register.holds(batch):
            # Roll back; a batch the register no longer holds (its drafts were voided by a run
            # that committed) stays gone.
            backups[-1].rename(target)
        for _, path in paths:
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)


def _manifest_run(folder: Path) -> int | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["run"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
