"""A settlement run's outputs: the overview, and per invoice its PDF, workbook, e-invoice and
e-mail draft, written into the run's staging folder (by a pool of worker processes when there
are many), with the warnings about what some invoices will lack."""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import InputRefused
from .model import CREDIT_NOTE, Contact, Finding, Inputs, Invoice, Level, Location, Settings
from .read.folder import Loaded, sha256_of
from .write.files import sync_file

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from .allocate import AllocationKey
    from .settle import Settlement
    from .settlement_run import SettlementRun
    from .write.overview import Audit

# An invoice's manifest entry: its files' names and SHA-256, its e-mail draft (None: no address).
Entry = dict[str, str | None]
# What the overview is written from: (path, allocation key, audit trail, settlement).
OverviewJob = tuple[Path, "AllocationKey", "Audit", "Settlement"]

PROGRESS_FROM = 25  # show progress on stderr from this many invoice workbooks
# From this many invoices a pool of worker processes writes them; below it, starting the pool
# (about 0,1 s a worker) costs more than it saves.
PARALLEL_FROM = 40
MAX_WORKERS = 4
# Invoices handed to a worker at a time. Small and fixed: the workers finish within one chunk
# (about 0,2 s) of each other whatever the number of invoices; a chunk that grew with the run
# left one core idle for a second at twice national scale. A worker waits for its flushes to
# the disk once per chunk.
CHUNK = 4
# Threads per writer that flush its files to the disk while it makes the next one.
FLUSHERS = 2


def write_outputs(
    staging: Path,
    run: SettlementRun,
    loaded: Loaded,
    now: datetime,
    record: Callable[[], int],
    issued: Mapping[str, date] | None = None,
    listed: object = None,
) -> tuple[int, dict[str, Entry]]:
    """Write every output into `staging`; `record()` (the register) runs while workers write.
    `issued` maps earlier invoice numbers to their dates (what a credit note corrects);
    `listed` is the overview's Facturen sheet (invoices_sheet.InvoiceList).

    Returns the register's run id and the manifest entry of every invoice."""
    from .write.overview import write_overview

    inputs = valid_inputs(loaded)
    _copy_inputs(staging / "invoer", loaded)
    audit = _audit(run, loaded, now, listed)
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
    overview_job = (overview, run.settlement.key, audit, run.settlement)
    with ExitStack() as stack:
        pool = stack.enter_context(_writers(inputs, now, jobs, overview_job))
        if pool is None:
            write_overview(overview, inputs, run.settlement.key, audit, run.settlement)
            flushing = stack.enter_context(Flushing())
            produced: Iterator[tuple[str, Entry]] = (
                produce(job, inputs, now, flushing) for job in jobs
            )
        else:
            # The overview is the longest single job: start it first, beside the invoices. The
            # workers got the jobs when they started, so only their numbers travel.
            pending_overview = pool.submit(_worker_overview)
            chunks = [
                range(start, min(start + CHUNK, len(jobs))) for start in range(0, len(jobs), CHUNK)
            ]
            produced = (entry for done in pool.map(_worker_produce, chunks) for entry in done)
        run_id = record()
        files = _collect(produced, len(jobs))
        if pool is None:
            flushing.wait()  # every file on the disk before the run is reported written
        else:
            pending_overview.result()
    return run_id, files


def valid_inputs(loaded: Loaded) -> Inputs:
    """The inputs of a reading that `validate.load_valid` accepted (it refuses one without)."""
    assert loaded.inputs is not None, "a settlement reads its inputs with load_valid"
    return loaded.inputs


def produced_files(staging: Path, files: dict[str, Entry]) -> list[Path]:
    """The invoice files `write_outputs` wrote into `staging` (and flushed to the disk), from
    the manifest entries it returned."""
    return [
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


def _copy_inputs(copies: Path, loaded: Loaded) -> None:
    """Copy the calendar and the budget the run read into `copies`, refusing when either
    changed on the disk since (its SHA-256 is no longer what was read)."""
    inputs = valid_inputs(loaded)
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


def _audit(run: SettlementRun, loaded: Loaded, now: datetime, listed: object) -> Audit:
    """The overview's audit trail: inputs, parameters, version, findings, changes, invoices."""
    from .write.overview import Audit, input_files, parameters_for

    inputs = valid_inputs(loaded)
    return Audit(
        inputs=input_files(inputs, loaded.sha256),
        parameters=parameters_for(inputs, run.settlement.key, run.batch),
        version=__version__,
        created=now,
        findings=run.findings,
        skipped=loaded.skipped,
        changes=run.changes,
        invoices=listed,
    )


def _collect(produced: Iterator[tuple[str, Entry]], total: int) -> dict[str, Entry]:
    """The manifest entries by invoice number, as the writers finish; progress on stderr for a
    large run."""
    files: dict[str, Entry] = {}
    for count, (number, entry) in enumerate(produced, start=1):
        files[number] = entry
        if total >= PROGRESS_FROM and (count % 50 == 0 or count == total):
            print(f"Facturen geschreven: {count} van {total}", file=sys.stderr)
    return files


@dataclass(frozen=True)
class Job:
    """One invoice to write into the staging folder: its PDF, workbook, e-invoice and e-mail."""

    staging: Path
    batch: str
    invoice: Invoice
    original: tuple[str, date | None] | None = None  # the invoice it corrects, with its date


def produce(job: Job, inputs: Inputs, created: datetime, flushing: Flushing) -> tuple[str, Entry]:
    """Write one invoice: the PDF (the invoice itself), the workbook (its specification), the
    e-invoice (UBL, with the PDF embedded) unless E-factuur = nee or a field it needs is empty,
    and, when there is an address, the Outlook draft (.eml) carrying those files.

    Each file is flushed to the disk on `flushing`'s threads while the next one is made (fsync
    waits for the disk, not the processor); the caller waits for them (`Flushing.wait`) before
    it reports the invoices written.

    Returns the manifest entry: file names with their SHA-256 (verstuur refuses a file changed
    since) and the draft's name.
    """
    from .filenames import invoice_filename
    from .write.document import build_document
    from .write.invoice import write_invoice
    from .write.pdf import write_invoice_pdf

    invoice = job.invoice
    settings = inputs.budget.settings
    contact = inputs.budget.contact(invoice.code)
    path = job.staging / "facturen" / invoice_filename(job.batch, invoice.name)
    issued = {job.original[0]: job.original[1]} if job.original and job.original[1] else {}
    document = build_document(invoice, inputs, issued)
    pdf_path = path.with_suffix(".pdf")
    pdf = write_invoice_pdf(pdf_path, document, created=created)
    flushing.flush(pdf_path)
    write_invoice(path, invoice, inputs, created=created, document=document)
    flushing.flush(path)
    workbook = path.read_bytes()
    known = {pdf_path: pdf, path: workbook}  # for the draft, which would read them again
    entry: Entry = {
        "bestand": path.name,
        "sha256": hashlib.sha256(workbook).hexdigest(),
        "pdf": pdf_path.name,
        "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
    }
    files = [pdf_path]
    xml = _einvoice(invoice, settings, contact, pdf, pdf_path.name, job.original)
    if xml is not None:
        xml_path = path.with_suffix(".xml")
        xml_path.write_bytes(xml)
        known[xml_path] = xml
        flushing.flush(xml_path)
        files.append(xml_path)
        entry.update(xml=xml_path.name, xml_sha256=hashlib.sha256(xml).hexdigest())
    files.append(path)
    draft = _draft(job, contact, settings, files, created, known)
    if draft is not None:
        flushing.flush(job.staging / "mail" / draft)
    entry["concept"] = draft
    return invoice.number, entry


class Flushing:
    """Threads that flush written files to the disk (`flush`) while the caller makes the next;
    `wait` returns when all are on the disk, and raises the first failure (a full or failing
    disk fails the run). Use as a context manager: leaving it stops the threads."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._threads = ThreadPoolExecutor(FLUSHERS, thread_name_prefix="flush")
        self._pending: list[Future[None]] = []

    def flush(self, path: Path) -> None:
        self._pending.append(self._threads.submit(sync_file, path))

    def wait(self) -> None:
        pending, self._pending = self._pending, []
        for flushed in pending:
            flushed.result()

    def __enter__(self) -> Flushing:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._threads.shutdown(wait=True)


def _draft(
    job: Job,
    contact: Contact | None,
    settings: Settings,
    files: list[Path],
    created: datetime,
    known: Mapping[Path, bytes],
) -> str | None:
    """Write the Outlook draft (.eml) carrying `files` (their bytes in `known`) into the
    staging folder's mail folder; its name, or None without a contact (missing_contacts warned
    before writing)."""
    if contact is None:
        return None
    from .filenames import safe_filename
    from .legal import ORGANISATION
    from .mail import draft_bytes

    invoice = job.invoice
    message = draft_bytes(
        invoice,
        contact,
        settings.sender,
        files,
        organisation=ORGANISATION,
        when=created,
        settings=settings,
        known=known,
    )
    draft = safe_filename(f"{invoice.number} {invoice.name}.eml")
    (job.staging / "mail" / draft).write_bytes(message)
    return draft


def _einvoice(
    invoice: Invoice,
    settings: Settings,
    contact: Contact | None,
    pdf: bytes,
    pdf_name: str,
    original: tuple[str, date | None] | None,
) -> bytes | None:
    """The UBL e-invoice, or None: E-factuur = nee, or a field it needs is empty (controleer
    warned; with E-factuur filled in the run was refused before it got here)."""
    from .einvoice import ubl_document
    from .rules import missing_fields

    # Without a contact every buyer field is missing; the test of None is for the type checker.
    if settings.einvoice == "nee" or contact is None or missing_fields(settings, contact):
        return None
    if _uncorrected_credit(invoice, original):
        return None  # a CreditNote must name the invoice it corrects (missing_einvoices says so)
    return ubl_document(invoice, settings, contact, pdf=pdf, pdf_name=pdf_name, original=original)


# -- the worker processes ----------------------------------------------------------------------


@contextmanager
def _writers(
    inputs: Inputs, created: datetime, jobs: list[Job], overview: OverviewJob
) -> Iterator[ProcessPoolExecutor | None]:
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


_WORKER: dict[str, Any] = {}  # what _worker_start got: inputs, created, jobs, overview


def _worker_start(
    inputs: Inputs, created: datetime, jobs: list[Job], overview: OverviewJob
) -> None:
    # The worker's flush threads live as long as it does (the process ends with the pool).
    _WORKER.update(
        inputs=inputs, created=created, jobs=jobs, overview=overview, flushing=Flushing()
    )
    # The worker is ours, so is its garbage collector. The inputs live as long as the worker:
    # frozen, the collector never rescans their hundreds of thousands of objects. The automatic
    # collector is paused; each job collects its own garbage when it is done.
    gc.freeze()
    gc.disable()


def _worker_produce(indices: range) -> list[tuple[str, Entry]]:
    """Write the jobs at `indices`; their files are all on the disk when this returns. One
    wait for the flushes per chunk: the last file's flush overlaps the next invoice."""
    produced = []
    flushing = _WORKER["flushing"]
    for index in indices:
        try:
            produced.append(
                produce(_WORKER["jobs"][index], _WORKER["inputs"], _WORKER["created"], flushing)
            )
        finally:
            _collect_workbook()
    flushing.wait()
    return produced


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


# -- what some invoices will lack --------------------------------------------------------------


def missing_contacts(run_invoices: tuple[Invoice, ...], inputs: Inputs) -> list[Finding]:
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


def missing_einvoices(run_invoices: tuple[Invoice, ...], inputs: Inputs) -> list[Finding]:
    """One warning naming the invoices that get no e-invoice because a field it needs is empty
    (E-factuur not filled in; filled in, controleer refused the run already)."""
    from .rules import missing_fields

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


def _uncorrected_credit(invoice: Invoice, original: tuple[str, date | None] | None) -> bool:
    """A credit note that names no earlier invoice: no e-invoice can be made for it."""
    return invoice.kind == CREDIT_NOTE and not invoice.refers_to and not original
