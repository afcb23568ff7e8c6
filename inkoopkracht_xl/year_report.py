"""The rapport: what the register holds as invoiced, per municipality, year and subject (pandas).

The only module that imports pandas (SPEC §5): the CLI imports it inside `rapport`, so every other
command keeps its start-up time. Money is integer cents in the DataFrames (int64 sums are exact)
and Decimal in everything this module hands on (the `report_data` classes, which the workbook
writer takes too); never float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .errors import InputRefused
from .manifest import is_period_folder
from .model import (
    CREDIT_NOTE,
    JOIN_LINE,
    NETWORK_LINE,
    OWN_SHARE,
    PROJECT_LINE,
    SENT,
    Location,
    subject_key,
)
from .money import from_cents
from .register import REGISTER_NAME, Delivery, Register
from .report_data import (
    CORRECTIONS,
    JOINS,
    KINDS,
    NETWORK,
    PROJECTS,
    ZERO,
    Batch,
    Party,
    SubjectRow,
    YearReport,
)

# The Per gemeente column each kind of line falls in (a correction's lines: CORRECTIONS).
_COLUMN_OF_LINE = {NETWORK_LINE: NETWORK, PROJECT_LINE: PROJECTS, JOIN_LINE: JOINS}


@dataclass(frozen=True)
class WrittenReport:
    """Where `rapport` wrote the workbook, and what is in it."""

    path: Path
    report: YearReport


def write_year_report(
    out: Path, *, year: int | None = None, path: Path | None = None, now: datetime | None = None
) -> WrittenReport:
    """Read the register in the output folder `out` (read only) and write the rapport workbook.

    `year` limits it to one year; `path` (an .xlsx file) replaces the default
    `out/rapport-<jaar>.xlsx` (`rapport-<eerste>-<laatste>.xlsx` over several years). Refuses
    (InputRefused), writing nothing, a folder without a register, a file that is no register,
    a register without invoices, a year it has no invoices of, and a target that is no .xlsx.
    """
    from .write.files import refusal_for
    from .write.report_workbook import write_report

    register_path = _register_path(out)
    if path is not None and path.suffix.casefold() != ".xlsx":
        raise InputRefused.single(
            Location(str(path)),
            "het rapport is een Excel-werkmap; deze bestandsnaam eindigt niet op .xlsx",
            "Kies met --bestand een naam die eindigt op .xlsx, of laat --bestand weg voor "
            f"{out / 'rapport-<jaar>.xlsx'}.",
        )
    with Register.open(register_path, read_only=True) as register, register.snapshot():
        deliveries = register.deliveries()
        years = _chosen_years(register_path, deliveries, year)
        data = lines_frame(
            register.report_invoices(years), register.report_lines(years), register_path
        )
    report = build_report(
        register_path, data, deliveries, years, now or datetime.now().replace(microsecond=0)
    )
    target = path if path is not None else out / f"rapport-{_years_label(years)}.xlsx"
    try:
        write_report(target, report)
    except OSError as problem:
        raise refusal_for(problem, target.parent) from None
    return WrittenReport(target, report)


def _register_path(out: Path) -> Path:
    """The register in `out`, or a refusal that says which folder to give instead."""
    register_path = out / REGISTER_NAME
    if register_path.is_file():
        return register_path
    if not out.is_dir():
        raise InputRefused.single(
            Location(str(out)),
            "deze uitvoermap bestaat niet",
            "Geef de uitvoermap op waarin de afrekeningen zijn gemaakt (daar staat "
            f"{REGISTER_NAME}; standaard MAP/uitvoer).",
        )
    if is_period_folder(out):
        raise InputRefused.single(
            Location(str(out)),
            "dit is de map van één periode, niet de uitvoermap met het register",
            f"Geef de map erboven op: inkoopkracht-xl rapport {out.parent}",
        )
    raise InputRefused.single(
        Location(str(out)),
        f"in deze map staat geen register ({REGISTER_NAME}), dus nog geen afrekening om over "
        "te rapporteren; er is niets geschreven",
        "Geef de uitvoermap op waarin de afrekeningen zijn gemaakt (standaard MAP/uitvoer), of "
        "maak eerst een afrekening met 'inkoopkracht-xl afrekening MAP --periode P'.",
    )


def _chosen_years(path: Path, deliveries: Sequence[Delivery], year: int | None) -> list[int]:
    present = sorted({d.year for d in deliveries})
    if not present:
        raise InputRefused.single(
            Location(str(path)),
            "het register bevat nog geen facturen; er is niets om over te rapporteren",
            "Maak eerst een afrekening met 'inkoopkracht-xl afrekening MAP --periode P'.",
        )
    if year is None:
        return present
    if year not in present:
        listed = ", ".join(str(y) for y in present)
        raise InputRefused.single(
            Location(str(path)),
            f"dit register heeft geen facturen van {year}, alleen van {listed}; er is niets "
            "geschreven",
            f"Kies met --jaar een van deze jaren ({listed}), of laat --jaar weg voor alle jaren. "
            f"Staan de afrekeningen van {year} in een andere uitvoermap, geef die dan op.",
        )
    return [year]


def _years_label(years: Sequence[int]) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"


# -- the tables (pandas) -----------------------------------------------------------------------

_INVOICE_COLUMNS = ["invoice", "year", "period", "batch", "code", "invoice_kind", "total"]
_LINE_COLUMNS = ["invoice", "kind", "subject", "cents"]


@dataclass(frozen=True)
class Lines:
    """The register's invoices of the report's years and their lines, as DataFrames."""

    invoices: pd.DataFrame  # _INVOICE_COLUMNS, total in cents
    lines: pd.DataFrame  # _LINE_COLUMNS and the invoice's columns, plus `column` (Per gemeente)


def lines_frame(invoices: Sequence[tuple], lines: Sequence[tuple], register: Path) -> Lines:
    """The register's lines (Register.report_lines) with their invoice's year, period, batch,
    code and kind (Register.report_invoices): cents as int64, and the Per gemeente column each
    line falls in."""
    heads = pd.DataFrame.from_records(invoices, columns=_INVOICE_COLUMNS)
    frame = pd.DataFrame.from_records(lines, columns=_LINE_COLUMNS)
    unknown = sorted(set(frame["kind"]) - set(_COLUMN_OF_LINE))
    if unknown:
        raise InputRefused.single(
            Location(str(register)),
            f"het register bevat regels van een onbekende soort ({', '.join(unknown)}); het is "
            "gemaakt door een nieuwere versie van inkoopkracht-xl",
            "Werk inkoopkracht-xl bij en maak het rapport opnieuw.",
        )
    frame["cents"] = frame["cents"].astype("int64")
    frame = frame.merge(heads.drop(columns="total"), on="invoice", how="inner")
    # A correction batch ('2024-H1-correctie-1') keeps the kinds it corrects (SPEC §2); here
    # all its lines are Correcties, so the columns never count a line twice.
    frame["column"] = frame["kind"].map(_COLUMN_OF_LINE)
    frame.loc[frame["batch"] != frame["period"], "column"] = CORRECTIONS
    return Lines(heads, frame)


def build_report(
    register: Path,
    data: Lines,
    deliveries: Sequence[Delivery],
    years: Sequence[int],
    made_at: datetime,
) -> YearReport:
    """The rapport's tables from the lines of `years` and every invoice in the register (pure)."""
    chosen = [d for d in deliveries if d.year in set(years)]
    names = {d.code: d.name for d in chosen}  # the latest name each code was invoiced under
    frame = data.lines
    own = frame["invoice_kind"] == OWN_SHARE
    columns, subjects = _subjects(frame, own, names)
    return YearReport(
        register=register,
        made_at=made_at,
        years=tuple(years),
        register_years=tuple(sorted({d.year for d in deliveries})),
        invoiced=_parties(frame[~own], frame, names),
        own_shares=_parties(frame[own], None, names),
        subject_columns=columns,
        subjects=subjects,
        invoices=tuple(
            sorted((d for d in chosen if d.kind != OWN_SHARE), key=lambda d: (d.year, d.number))
        ),
        batches=_batches(chosen),
        register_invoiced=sum((d.total for d in chosen if d.kind != OWN_SHARE), ZERO),
        register_own_share=sum((d.total for d in chosen if d.kind == OWN_SHARE), ZERO),
        unbalanced=_unbalanced(data, chosen),
    )


def _parties(
    part: pd.DataFrame, all_lines: pd.DataFrame | None, names: dict[str, str]
) -> tuple[Party, ...]:
    """Per municipality and year the sum of each column (a pivot table of cents, int64: a
    missing combination is 0, never NaN and so never a float); with `all_lines`, also what of
    it was in credit notes. A column the municipality had no line in stays empty (None)."""
    if part.empty:
        return ()
    table = part.pivot_table(
        index="code", columns=["year", "column"], values="cents", aggfunc="sum", fill_value=0
    )
    cells = table.to_dict()  # (year, column) -> code -> cents
    present = set(part[["code", "year", "column"]].drop_duplicates().itertuples(index=False))
    years = {code: sorted(set(y)) for code, y in part.groupby("code")["year"].unique().items()}
    credit: dict[str, dict[int, Decimal]] = {}
    if all_lines is not None:
        notes = all_lines[all_lines["invoice_kind"] == CREDIT_NOTE]
        for (code, year), cents in notes.groupby(["code", "year"])["cents"].sum().items():
            credit.setdefault(code, {})[int(year)] = from_cents(int(cents))
    parties = []
    for code in table.index:
        amounts = {
            int(year): tuple(
                from_cents(int(cells[(year, kind)][code]))
                if (code, year, kind) in present
                else None
                for kind in KINDS
            )
            for year in years[code]
        }
        parties.append(Party(code, names.get(code, code), amounts, credit.get(code, {})))
    return tuple(sorted(parties, key=lambda p: (p.name.casefold(), p.code)))


def _subjects(
    frame: pd.DataFrame, own: pd.Series, names: dict[str, str]
) -> tuple[tuple[tuple[str, str], ...], tuple[SubjectRow, ...]]:
    """Per subject and year who paid what: the invoiced municipalities' columns (by name) and
    one row per subject, the penvoerder's own share apart."""
    with_subject = frame["subject"] != ""
    lines = frame.loc[with_subject, ["year", "subject", "code", "cents"]]
    if lines.empty:
        return (), ()
    # Subjects are matched as the workbooks match them: case- and space-insensitive (keys
    # worked out once per spelling); a row shows the first spelling the register has.
    spellings = lines["subject"].unique()
    keys = dict(zip(spellings, map(subject_key, spellings), strict=True))
    lines = lines.assign(key=lines["subject"].map(keys), own=own[with_subject])
    # One pass over the lines; the rest works on these sums (some 10.000 subject rows).
    sums = lines.groupby(["year", "key", "own", "code"], sort=False)["cents"].sum()
    shown = lines.groupby(["year", "key"], sort=False)["subject"].first().to_dict()
    paid: dict[tuple[int, str], dict[str, Decimal]] = {}
    own_share: dict[tuple[int, str], int] = {}
    totals: dict[tuple[int, str], int] = {}
    for (year, key, is_own, code), cents in sums.items():
        subject = (int(year), key)
        totals[subject] = totals.get(subject, 0) + int(cents)
        if is_own:
            own_share[subject] = own_share.get(subject, 0) + int(cents)
        else:
            paid.setdefault(subject, {})[code] = from_cents(int(cents))
    rows = [
        SubjectRow(
            year,
            shown[(year, key)],
            paid.get((year, key), {}),
            from_cents(own_share[(year, key)]) if (year, key) in own_share else None,
            from_cents(cents),
        )
        for (year, key), cents in totals.items()
    ]
    rows.sort(key=lambda r: (r.year, subject_key(r.subject)))
    codes = {code for row in rows for code in row.paid}
    columns = sorted(((c, names.get(c, c)) for c in codes), key=lambda c: (c[1].casefold(), c[0]))
    return tuple(columns), tuple(rows)


def _unbalanced(data: Lines, chosen: Sequence[Delivery]) -> tuple[str, ...]:
    """Invoices (own share included) whose lines do not add up to the total the register
    recorded for them (an invoice without lines adds up to 0)."""
    sums = data.lines.groupby("invoice")["cents"].sum().to_dict()
    numbers = {(d.batch, d.code): d.number for d in chosen}
    wrong = []
    for invoice, batch, code, total in data.invoices[
        ["invoice", "batch", "code", "total"]
    ].itertuples(index=False):
        if int(sums.get(invoice, 0)) != int(total):
            wrong.append(f"{numbers.get((batch, code)) or OWN_SHARE + ' ' + code} ({batch})")
    return tuple(wrong)


def _batches(chosen: Sequence[Delivery]) -> tuple[Batch, ...]:
    """Per batch: how many invoices, how many sent, what was invoiced and the own share."""
    order: dict[tuple[int, str], list[Delivery]] = {}
    for d in chosen:
        order.setdefault((d.year, d.batch), []).append(d)
    batches = []
    for (year, batch), items in order.items():
        billed = [d for d in items if d.kind != OWN_SHARE]
        batches.append(
            Batch(
                year,
                batch,
                len(billed),
                sum(1 for d in billed if d.state == SENT),
                sum((d.total for d in billed), ZERO),
                sum((d.total for d in items if d.kind == OWN_SHARE), ZERO),
            )
        )
    return tuple(batches)
