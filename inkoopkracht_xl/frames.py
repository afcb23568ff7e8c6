"""Every table of the model, the key, a settlement and the register as a pandas DataFrame.

The only library module that imports pandas at import time (`import inkoopkracht_xl` and the
commands that need no DataFrame never load it). The conventions, the same in every frame:
- money is `decimal.Decimal` (object columns), exact to the cent, never float; a sum of a money
  column (`frame["bedrag"].sum()`) is a Decimal too;
- dates are `datetime.date` (object columns); the register's moments (a run, a message) are
  pandas timestamps (datetime64);
- a municipality's code (or a cost line's kenmerk, a run's number) is the index where each row
  has its own; other frames keep pandas' default index;
- column names are the Dutch words of the workbooks and the JSON output, in lower case with
  underscores (`gemeente`, `inwoners`, `bedrag`), so `frame.bedrag` works.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from .api import PathText, Source, inputs_of, invoices, messages, runs

if TYPE_CHECKING:
    from .allocate import AllocationKey
    from .model import Invoice, InvoiceLine

__all__ = [
    "calendar_frame",
    "cost_lines_frame",
    "invoice_lines_frame",
    "joins_frame",
    "key_frame",
    "municipalities_frame",
    "participation_frame",
    "populations_frame",
    "posts_frame",
    "register_invoices_frame",
    "register_messages_frame",
    "runs_frame",
]


def _frame(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], index: str | None
) -> pd.DataFrame:
    """A DataFrame of `rows` with exactly `columns` (also when empty). pandas keeps Decimals,
    dates and tuples as they are (object columns); text becomes its string dtype, whole numbers
    int64, times of the register datetime64."""
    frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    return frame.set_index(index) if index is not None else frame


# -- the drop folder ---------------------------------------------------------------------------


def municipalities_frame(source: Source) -> pd.DataFrame:
    """The calendar's Gemeenten sheet: index `code`; `gemeente`, `rol` ('kern' or 'extra'),
    `cbs_code`. `source`: a drop folder (path), or a `Loaded` or `Inputs` read from one."""
    rows = [
        {
            "code": m.code,
            "gemeente": m.name,
            "rol": "kern" if m.core else "extra",
            "cbs_code": m.cbs_code,
        }
        for m in inputs_of(source).calendar.municipalities
    ]
    return _frame(rows, ("code", "gemeente", "rol", "cbs_code"), "code")


def calendar_frame(source: Source) -> pd.DataFrame:
    """The calendar's subjects (Kalender), in calendar order: `categorie` (1-4), `onderwerp`,
    `jaar_van_inventarisatie` (text: '2024', '2023/2024', 'Nader te bepalen'),
    `deelnemende_gemeenten` (a tuple of codes), `jaar_gezamenlijk_aanbesteed` (text)."""
    rows = [
        {
            "categorie": s.category,
            "onderwerp": s.name,
            "jaar_van_inventarisatie": s.inventory_year,
            "deelnemende_gemeenten": tuple(s.participants),
            "jaar_gezamenlijk_aanbesteed": s.joint_year,
        }
        for s in inputs_of(source).calendar.subjects
    ]
    columns = (
        "categorie",
        "onderwerp",
        "jaar_van_inventarisatie",
        "deelnemende_gemeenten",
        "jaar_gezamenlijk_aanbesteed",
    )
    return _frame(rows, columns, None)


def participation_frame(source: Source) -> pd.DataFrame:
    """The Deelnamematrix: one row per subject (index `categorie`, `onderwerp`; grouped by
    category, calendar order within), one bool column per code (core, extra, then codes missing
    from the Gemeenten sheet, as the overview shows them): True where it takes part."""
    from .allocate import participation_matrix

    matrix = participation_matrix(inputs_of(source).calendar)
    index = pd.MultiIndex.from_tuples(
        [(subject.category, subject.name) for subject, _ in matrix.rows],
        names=["categorie", "onderwerp"],
    )
    marks = [[code in codes for code in matrix.columns] for _, codes in matrix.rows]
    return pd.DataFrame(marks, index=index, columns=list(matrix.columns), dtype=bool)


def populations_frame(source: Source) -> pd.DataFrame:
    """The budget's Inwoners sheet: index `code`; `gemeente`, `inwoners` (int), `peildatum`
    (date), `netwerk` (bool: shares the network budget), `bron`."""
    rows = [
        {
            "code": p.code,
            "gemeente": p.name,
            "inwoners": p.inhabitants,
            "peildatum": p.reference_date,
            "netwerk": p.network,
            "bron": p.source_note,
        }
        for p in inputs_of(source).budget.populations
    ]
    columns = ("code", "gemeente", "inwoners", "peildatum", "netwerk", "bron")
    return _frame(rows, columns, "code")


def posts_frame(source: Source) -> pd.DataFrame:
    """The budget's posts (Begroting): `post`, `begroot` and `gerealiseerd` (Decimal; None
    where nothing is realised yet)."""
    rows = [
        {"post": p.name, "begroot": p.budgeted, "gerealiseerd": p.realised}
        for p in inputs_of(source).budget.posts
    ]
    return _frame(rows, ("post", "begroot", "gerealiseerd"), None)


def cost_lines_frame(source: Source) -> pd.DataFrame:
    """The project costs (Projectkosten), in sheet order: index `kenmerk`; `onderwerp`,
    `omschrijving`, `datum` (date), `bedrag` (Decimal), `verdeling` ('inwoners' or 'gelijk')."""
    rows = [
        {
            "kenmerk": c.reference,
            "onderwerp": c.subject,
            "omschrijving": c.description,
            "datum": c.date,
            "bedrag": c.amount,
            "verdeling": c.split,
        }
        for c in inputs_of(source).budget.cost_lines
    ]
    columns = ("kenmerk", "onderwerp", "omschrijving", "datum", "bedrag", "verdeling")
    return _frame(rows, columns, "kenmerk")


def joins_frame(source: Source) -> pd.DataFrame:
    """The joins (Toetredingen), in sheet order: `onderwerp`, `code` (who joins), `datum` (date:
    takes part from that day)."""
    rows = [
        {"onderwerp": j.subject, "code": j.code, "datum": j.date}
        for j in inputs_of(source).budget.joins
    ]
    return _frame(rows, ("onderwerp", "code", "datum"), None)


# -- the key and a settlement ---------------------------------------------------------------------


def key_frame(key: AllocationKey | Source) -> pd.DataFrame:
    """The verdeelsleutel: index `code`; `gemeente`, `inwoners` (int), `percentage` and `bedrag`
    (Decimal; the amounts sum to the budget exactly). `key`: an `AllocationKey`, or a drop
    folder (path), `Loaded` or `Inputs` to make it from (refused as `allocation_key` refuses)."""
    from .allocate import AllocationKey
    from .api import allocation_key

    if not isinstance(key, AllocationKey):
        key = allocation_key(key)
    rows = [
        {
            "code": s.code,
            "gemeente": s.name,
            "inwoners": s.inhabitants,
            "percentage": s.percentage,
            "bedrag": s.amount,
        }
        for s in key.shares
    ]
    return _frame(rows, ("code", "gemeente", "inwoners", "percentage", "bedrag"), "code")


_LINE_COLUMNS = (
    "periode",
    "code",
    "gemeente",
    "nummer",
    "soort",
    "regel",
    "regelsoort",
    "omschrijving",
    "grondslag",
    "bedrag",
    "kenmerk",
    "onderwerp",
    "kostendatum",
    "kostenbedrag",
    "deelnemers",
    "toetreding",
)


def invoice_lines_frame(invoices_or_run: Any) -> pd.DataFrame:
    """Every line of a settlement's invoices, one row per line in invoice order.

    `invoices_or_run`: a `SettlementRun` (from `settle_period`), a `Settlement`, or invoices
    (`model.Invoice`, e.g. `Register.invoices(batch)`). Columns: `periode`, `code`, `gemeente`,
    `nummer` ('' for the penvoerder's own share), `soort` (of the invoice: 'factuur',
    'creditnota', 'eigen aandeel'), `regel` (1, 2, ... within the invoice), `regelsoort`
    ('netwerk', 'project', 'toetreding'), `omschrijving`, `grondslag`, `bedrag` (Decimal),
    `kenmerk`, `onderwerp`, `kostendatum` (date or None), `kostenbedrag` (the whole cost line,
    Decimal or None), `deelnemers` (tuple of codes), `toetreding`.
    """
    rows = [
        _line_row(invoice, position, line)
        for invoice in _invoices_of(invoices_or_run)
        for position, line in enumerate(invoice.lines, start=1)
    ]
    return _frame(rows, _LINE_COLUMNS, None)


def _invoices_of(source: Any) -> Iterable[Invoice]:
    """The invoices of a SettlementRun or Settlement, or the invoices given."""
    found: Iterable[Invoice] = getattr(source, "invoices", source)
    return found


def _line_row(invoice: Invoice, position: int, line: InvoiceLine) -> dict[str, Any]:
    return {
        "periode": invoice.period,
        "code": invoice.code,
        "gemeente": invoice.name,
        "nummer": invoice.number,
        "soort": invoice.kind,
        "regel": position,
        "regelsoort": line.kind,
        "omschrijving": line.description,
        "grondslag": line.basis,
        "bedrag": line.amount,
        "kenmerk": line.reference,
        "onderwerp": line.subject,
        "kostendatum": line.cost_date,
        "kostenbedrag": line.cost_total,
        "deelnemers": tuple(line.participants),
        "toetreding": line.join,
    }


# -- the register --------------------------------------------------------------------------------


def runs_frame(out: PathText) -> pd.DataFrame:
    """The register's settlement runs: index `run`; `aangemaakt` (datetime64), `versie`,
    `batch`, `periode`, `parameters` and `invoer` (dicts: file name -> SHA-256). `out`: the
    output folder holding register.sqlite (or the file)."""
    rows = [
        {
            "run": r.id,
            "aangemaakt": r.created_at,
            "versie": r.version,
            "batch": r.batch,
            "periode": r.period,
            "parameters": r.parameters,
            "invoer": r.inputs,
        }
        for r in runs(out)
    ]
    columns = ("run", "aangemaakt", "versie", "batch", "periode", "parameters", "invoer")
    return _frame(rows, columns, "run")


def register_invoices_frame(out: PathText, year: int | None = None) -> pd.DataFrame:
    """The register's invoices (the penvoerder's own share too), in the order made: `batch`,
    `periode`, `jaar`, `code`, `gemeente`, `soort`, `nummer` ('' for the own share), `totaal`
    (Decimal), `factuurdatum`, `vervaldatum` (dates), `corrigeert`, `status` ('concept', 'bezig',
    'verzonden', 'mislukt'), `fout`, `run`. `year`: only that year's."""
    rows = [
        {
            "batch": i.batch,
            "periode": i.period,
            "jaar": i.year,
            "code": i.code,
            "gemeente": i.name,
            "soort": i.kind,
            "nummer": i.number,
            "totaal": i.total,
            "factuurdatum": i.issue_date,
            "vervaldatum": i.due_date,
            "corrigeert": i.refers_to,
            "status": i.state,
            "fout": i.error,
            "run": i.run_id,
        }
        for i in invoices(out, year)
    ]
    return _frame(rows, _INVOICE_COLUMNS, None)


_INVOICE_COLUMNS = (
    "batch",
    "periode",
    "jaar",
    "code",
    "gemeente",
    "soort",
    "nummer",
    "totaal",
    "factuurdatum",
    "vervaldatum",
    "corrigeert",
    "status",
    "fout",
    "run",
)


def register_messages_frame(out: PathText) -> pd.DataFrame:
    """The register's messages, oldest first: index `bericht` (its number in the register);
    `nummer` (the invoice), `batch`, `code`, `message_id`, `ontvangers` (tuple), `verzonden_op`
    (datetime64), `status` ('bezig', 'verzonden', 'mislukt'), `fout`."""
    rows = [
        {
            "bericht": m.id,
            "nummer": m.number,
            "batch": m.batch,
            "code": m.code,
            "message_id": m.message_id,
            "ontvangers": m.recipients,
            "verzonden_op": m.sent_at,
            "status": m.state,
            "fout": m.error,
        }
        for m in messages(out)
    ]
    columns = (
        "bericht",
        "nummer",
        "batch",
        "code",
        "message_id",
        "ontvangers",
        "verzonden_op",
        "status",
        "fout",
    )
    return _frame(rows, columns, "bericht")
