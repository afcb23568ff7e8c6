"""Issue 11, item 10: layout never changes meaning.

Starting from small valid plain workbooks (a few posts, populations and subjects), inserting what
coordinators add around their data — notes below a table, correct total rows (a label with the
right sum, or a SUM/SUBTOTAL formula with its cached value), sub-totals, bold sub-headings in the
Begroting, section heading rows in the calendar (with the subjects' own category cells emptied or
not, the header repeated or not), and blank rows anywhere — never changes the model, never gives a
finding, and every inserted row is listed once as not data. Inserting one wrong total always gives
exactly one FOUT, at that total's cell, naming both figures.

Workbooks are written by xlsxwriter (cached formula values) in a temporary folder per example.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inkoopkracht_xl.validate import load_folder

from .builders import BUYER_HEADER, LEGAL_SETTINGS, buyer_cells
from .layouts import Cell, Layout, Sheet, bold, formula, model_of, said

CODES = ("DE", "PN", "WE", "ZM")
NAMES = {"DE": "Delft", "PN": "Pijnacker-Nootdorp", "WE": "Westland", "ZM": "Zoetermeer"}
POST_NAMES = (
    "Personele kosten (vast personeel)",
    "Kennis en ontwikkeling netwerkorganisatie",
    "Abonnementen Mett, online platform",
    "Abonnement VDLC, Uitspraken - aanbestedingen",
    "Onvoorzien",
    "Totaalbeheer software",  # begins like 'Totaal' but is a post
    "Reiskosten",
)
SUBJECT_NAMES = (
    "Energieloket",
    "Software broker",
    "Verkeersvoorzieningen",
    "Multifunctionals",
    "Aankoop bomen",
    "Brandverzekering",
    "Leaseauto's",
    "Telefonie",
    "Zorg",
    "Dieptereiniging ICT hardware",
)
HEADING_STYLES = (
    {
        1: "1. Contractmanagement, evaluaties/verlengingen (eerder regionaal aanbesteed)",
        2: "2. Contractmanagement, aflopende contracten (eerder regionaal aanbesteed)",
        3: "3. Onderwerp/verkenningsmogelijkheden (nog niet eerder regionaal aanbesteed)",
        4: "4. Breed uitzoeken",
    },
    {n: f"Categorie {n}" for n in range(1, 5)},
    {n: f"{n} | Onderwerp/verkenningsmogelijkheden" for n in range(1, 5)},
)
NOTES = (
    "Genoemde bedragen zijn exclusief BTW en ondervoorbehoud van eventuele tariefswijzigingen.",
    "Stand CBS 01-01-2023",
    "Bron: jaarplan 2024 Inkoopkracht ZHW",
    "* Bedragen exclusief BTW",
    "NB: voorlopige cijfers",
)
CALENDAR_NOTES = (
    "* Gebruikte afkortingen: zie tabblad Gemeenten",
    "DE = Delft",
    "NB: onderwerpen zonder deelnemers zijn nog niet aangemeld.",
)
SUBHEADINGS = ("Personeel", "Overige kosten", "Abonnementen", "Netwerk")
TOTAL_LABELS = ("Totaal", "totaal", "TOTAAL:", "Som", "Totaal 2024")
CALENDAR_HEADER = [
    "Categorie",
    "Onderwerp",
    "Jaar van inventarisatie",
    "Deelnemende gemeenten",
    "Jaar gezamenlijk aanbesteed",
]
BEGROTING_HEADER = ["Post", "Begroot", "Gerealiseerd"]
INWONERS_HEADER = ["Code", "Gemeente", "Inwoners", "Peildatum", "Netwerk"]
KOSTEN_HEADER = ["Kenmerk", "Onderwerp", "Omschrijving", "Datum", "Bedrag", "Verdeling"]


# --- the plain data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plain:
    posts: tuple[tuple[str, Decimal], ...]
    inhabitants: tuple[int, ...]  # per CODES
    subjects: tuple[tuple[int, str, str], ...]  # (category, name, participants), by category
    costs: tuple[tuple[str, str, date, Decimal], ...]  # (kenmerk, subject, date, amount)


def cents(low: int, high: int):
    return st.integers(low, high).map(lambda c: Decimal(c) / 100)


@st.composite
def plains(draw) -> Plain:
    names = draw(st.lists(st.sampled_from(POST_NAMES), min_size=2, max_size=5, unique=True))
    posts = tuple((n, draw(cents(1, 20_000_000))) for n in names)
    inhabitants = tuple(draw(st.integers(1_000, 300_000)) for _ in CODES)
    chosen = draw(st.lists(st.sampled_from(SUBJECT_NAMES), min_size=2, max_size=7, unique=True))
    subjects = []
    for name in chosen:
        category = draw(st.integers(1, 4))
        members = draw(st.lists(st.sampled_from(CODES), max_size=4, unique=True))
        subjects.append((category, name, ", ".join(c for c in CODES if c in members)))
    subjects.sort(key=lambda s: s[0])  # blocks per category, as the jaarplan orders them
    with_members = [s[1] for s in subjects if s[2]]
    costs = []
    if with_members:
        for i in range(draw(st.integers(0, 3))):
            subject = draw(st.sampled_from(with_members))
            day = draw(st.dates(date(2024, 1, 1), date(2024, 12, 31)))
            costs.append((f"VB-{i + 1:03d}", subject, day, draw(cents(1, 5_000_000))))
    return Plain(tuple(posts), inhabitants, tuple(subjects), tuple(costs))


def number(amount: Decimal) -> float | int:
    """How a spreadsheet stores the amount: a whole number, or the nearest double."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


# --- what is inserted ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    label: str | None  # None: a SUM formula without a label
    label_column: int = 0
    as_formula: bool = False  # SUM(...) or SUBTOTAL(9, ...) with its cached value
    function: str = "SUM"
    wrong_by: Decimal = Decimal(0)  # not 0: a wrong total


@dataclass(frozen=True)
class Table:
    """How one amount sheet is decorated."""

    top_blanks: int = 0
    blanks_after: frozenset[int] = frozenset()  # data row indexes followed by a blank row
    subheadings: tuple[tuple[int, str], ...] = ()  # (before data row index, text), bold
    subtotal_after: int | None = None  # Begroting: a Subtotaal after this post, and one at the end
    total: Total | None = None
    note: str = ""
    note_blanks: int = 0


@dataclass(frozen=True)
class CalendarDecoration:
    headings: dict[int, str] | None = None
    heading_in_subject_column: bool = False
    heading_bold: bool = False
    heading_merged: bool = False
    clear_categories: bool = False
    repeat_header: str = ""  # "", "full", "partial"
    blanks_after: frozenset[int] = frozenset()
    note: str = ""
    note_blanks: int = 0


@dataclass
class Decorations:
    begroting: Table = field(default_factory=Table)
    inwoners: Table = field(default_factory=Table)
    kosten: Table = field(default_factory=Table)
    calendar: CalendarDecoration = field(default_factory=CalendarDecoration)


def totals(label_columns: int, labels: tuple[str, ...] = TOTAL_LABELS):
    labelled = st.builds(
        Total,
        label=st.sampled_from(labels),
        label_column=st.integers(0, label_columns - 1),
        as_formula=st.booleans(),
        function=st.sampled_from(("SUM", "SUBTOTAL")),
    )
    unlabelled = st.builds(
        Total,
        label=st.none(),
        as_formula=st.just(True),
        function=st.sampled_from(("SUM", "SUBTOTAL")),
    )
    return st.one_of(st.none(), labelled, unlabelled)


def tables(rows: int, label_columns: int, labels=TOTAL_LABELS, *, subheadings: bool = False):
    return st.builds(
        Table,
        top_blanks=st.integers(0, 2),
        blanks_after=st.frozensets(st.integers(0, max(rows - 1, 0)), max_size=2),
        subheadings=(
            st.lists(
                st.tuples(st.integers(0, max(rows - 1, 0)), st.sampled_from(SUBHEADINGS)),
                max_size=2,
                unique_by=lambda s: s[0],
            ).map(tuple)
            if subheadings and rows
            else st.just(())
        ),
        subtotal_after=(
            st.one_of(st.none(), st.integers(0, rows - 2))
            if subheadings and rows > 1
            else st.none()
        ),
        total=totals(label_columns, labels) if rows else st.none(),
        note=st.one_of(st.just(""), st.sampled_from(NOTES)),
        note_blanks=st.integers(0, 2),
    )


@st.composite
def decorated(draw) -> tuple[Plain, Decorations]:
    plain = draw(plains())
    calendar = draw(
        st.builds(
            CalendarDecoration,
            headings=st.one_of(st.none(), st.sampled_from(HEADING_STYLES)),
            heading_in_subject_column=st.booleans(),
            heading_bold=st.booleans(),
            heading_merged=st.booleans(),
            clear_categories=st.booleans(),
            repeat_header=st.sampled_from(("", "full", "partial")),
            blanks_after=st.frozensets(st.integers(0, len(plain.subjects) - 1), max_size=2),
            note=st.one_of(st.just(""), st.sampled_from(CALENDAR_NOTES)),
            note_blanks=st.integers(0, 2),
        )
    )
    decorations = Decorations(
        begroting=draw(tables(len(plain.posts), 1, subheadings=True)),
        inwoners=draw(tables(len(CODES), 2, (*TOTAL_LABELS, "Totaal inwoners"))),
        kosten=draw(tables(len(plain.costs), 4)),
        calendar=calendar,
    )
    return plain, decorations


# --- writing ------------------------------------------------------------------------------------


@dataclass
class Written:
    layout: Layout
    inserted: int = 0  # rows that must be listed as not data
    total_rows: int = 0  # of which total rows (sub-totals included)
    totals: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, cell, message)


def letter(column: int) -> str:
    return chr(65 + column)


def euro(amount: Decimal) -> str:
    whole, fraction = f"{amount:.2f}".split(".")
    return f"€ {int(whole):,}".replace(",", ".") + f",{fraction}"


def count(amount: Decimal) -> str:
    return f"{int(amount):,}".replace(",", ".")


def amount_table(
    name: str,
    header: list[object],
    data: list[list[object]],
    amounts: list[Decimal],
    amount_column: int,
    table: Table,
    written: Written,
    shown=euro,
) -> Sheet:
    """One amount sheet: data rows with the table's blank rows, sub-headings, (sub)totals, note."""
    rows: list[list[object]] = [[] for _ in range(table.top_blanks)] + [header]
    column = letter(amount_column)
    headings = dict(table.subheadings)
    data_rows: list[int] = []  # 1-based rows of the data, for SUM ranges and messages
    group_start = 0  # index into data_rows where the current sub-total group starts

    def total_row(label: str | None, label_column: int, value: Decimal, cells: str, wrong: Decimal):
        line: list[object] = [None] * max(amount_column + 1, label_column + 1)
        if label is not None:
            line[label_column] = label
        cached = value + wrong
        line[amount_column] = formula(cells, number(cached)) if cells else number(cached)
        rows.append(line)
        written.inserted += 1
        written.total_rows += 1
        return len(rows), cached

    for i, line in enumerate(data):
        if i in headings:
            rows.append([bold(headings[i])])
            written.inserted += 1
        rows.append(line)
        data_rows.append(len(rows))
        if i in table.blanks_after:
            rows.append([])
        if table.subtotal_after == i or (table.subtotal_after is not None and i == len(data) - 1):
            group = data_rows[group_start:]
            part = sum(amounts[group_start : i + 1], Decimal(0))
            cells = f"=SUBTOTAL(9,{column}{group[0]}:{column}{group[-1]})"
            total_row("Subtotaal", 0, part, cells, Decimal(0))
            group_start = len(data_rows)
    if table.total is not None and data:
        t = table.total
        value = sum(amounts, Decimal(0))
        cells = ""
        if t.as_formula or t.label is None:
            if t.function == "SUBTOTAL" or table.subtotal_after is not None:
                cells = f"=SUBTOTAL(9,{column}{data_rows[0]}:{column}{len(rows)})"
            else:
                cells = f"=SUM({column}{data_rows[0]}:{column}{len(rows)})"
        row, cached = total_row(t.label, t.label_column, value, cells, t.wrong_by)
        if t.wrong_by:
            covered = f"rij {data_rows[0]}-{data_rows[-1]}"
            written.totals.append(
                (
                    name,
                    f"{column}{row}",
                    f"het totaal is {shown(cached)}, maar de regels erboven ({covered}) tellen op "
                    f"tot {shown(value)}",
                )
            )
    if table.note:
        rows.extend([] for _ in range(table.note_blanks))
        rows.append([table.note])
        written.inserted += 1
    return Sheet(name, rows)


def calendar_sheet(plain: Plain, deco: CalendarDecoration, written: Written) -> Sheet:
    rows: list[list[object]] = [list(CALENDAR_HEADER)]
    merges: list[str] = []
    current = None
    for i, (category, name, members) in enumerate(plain.subjects):
        if deco.headings and category != current:
            text = deco.headings[category]
            cell: object = bold(text) if deco.heading_bold else text
            first = 1 if deco.heading_in_subject_column else 0
            rows.append([None] * first + [cell])
            written.inserted += 1
            if deco.heading_merged:
                merges.append(f"{letter(first)}{len(rows)}:E{len(rows)}")
            if deco.repeat_header == "full":
                rows.append(list(CALENDAR_HEADER))
            elif deco.repeat_header == "partial":
                rows.append([None, "Onderwerp", "Jaar van inventarisatie"])
        current = category
        own = None if deco.headings and deco.clear_categories else category
        rows.append([own, name, "2024", members or None])
        if i in deco.blanks_after:
            rows.append([])
    if deco.note:
        rows.extend([] for _ in range(deco.note_blanks))
        rows.append([deco.note])
        written.inserted += 1
    return Sheet("Kalender", rows, merges)


def write(plain: Plain, decorations: Decorations, folder: Path) -> Written:
    written = Written(Layout([], [], engine="xlsxwriter"))
    calendar = [
        calendar_sheet(plain, decorations.calendar, written),
        Sheet(
            "Gemeenten",
            [["Code", "Gemeente", "Rol"], *([c, NAMES[c], "kern"] for c in CODES)],
        ),
    ]
    settings = Sheet(
        "Instellingen",
        [["Sleutel", "Waarde"], ["Jaar", 2024], ["Penvoerder", "ZM"], *LEGAL_SETTINGS],
    )
    begroting = amount_table(
        "Begroting",
        list(BEGROTING_HEADER),
        [[n, number(a)] for n, a in plain.posts],
        [a for _, a in plain.posts],
        1,
        decorations.begroting,
        written,
    )
    inwoners = amount_table(
        "Inwoners",
        list(INWONERS_HEADER),
        [
            [c, NAMES[c], n, datetime(2023, 1, 1), "ja"]
            for c, n in zip(CODES, plain.inhabitants, strict=True)
        ],
        [Decimal(n) for n in plain.inhabitants],
        2,
        decorations.inwoners,
        written,
        shown=count,
    )
    contacts = Sheet(
        "Contacten",
        [
            ["Code", "Naam", "E-mail", *BUYER_HEADER],
            *(
                [c, f"Inkoop {NAMES[c]}", f"{c.lower()}@example.org", *buyer_cells(c, i)]
                for i, c in enumerate(CODES, start=1)
            ),
        ],
    )
    sheets = [settings, begroting, inwoners, contacts]
    if plain.costs:
        sheets.append(
            amount_table(
                "Projectkosten",
                list(KOSTEN_HEADER),
                [
                    [k, s, "kosten", datetime(d.year, d.month, d.day), number(a), "inwoners"]
                    for k, s, d, a in plain.costs
                ],
                [a for *_, a in plain.costs],
                4,
                decorations.kosten,
                written,
            )
        )
    written.layout.calendar, written.layout.budget = calendar, sheets
    written.layout.write(folder)
    return written


def read(plain: Plain, decorations: Decorations, folder: Path):
    written = write(plain, decorations, folder)
    return written, load_folder(folder)


# --- the properties -----------------------------------------------------------------------------

FAST = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(example=decorated())
def test_notes_totals_headings_and_blank_rows_never_change_the_model(example):
    plain, decorations = example
    with tempfile.TemporaryDirectory(prefix="layout-") as tmp:
        _, bare = read(plain, Decorations(), Path(tmp) / "plain")
        written, loaded = read(plain, decorations, Path(tmp) / "decorated")
    assert [said(f) for f in bare.findings] == []  # the plain workbooks are valid
    assert [said(f) for f in loaded.findings] == []
    assert model_of(loaded) == model_of(bare)
    assert bare.skipped == ()
    skipped = [(s.kind.value, str(s.location), s.text) for s in loaded.skipped]
    assert len(skipped) == written.inserted, skipped
    assert sum(1 for s in skipped if s[0] == "totaalregel") == written.total_rows, skipped


WRONG_SHEETS = ("Begroting", "Inwoners", "Projectkosten")


@st.composite
def with_a_wrong_total(draw) -> tuple[Plain, Decorations, str]:
    plain, decorations = draw(decorated())
    sheets = [s for s in WRONG_SHEETS if s != "Projectkosten" or plain.costs]
    sheet = draw(st.sampled_from(sheets))
    attribute = {"Begroting": "begroting", "Inwoners": "inwoners", "Projectkosten": "kosten"}[sheet]
    table: Table = getattr(decorations, attribute)
    if sheet == "Inwoners":
        wrong = Decimal(draw(st.integers(1, 50_000)))
    else:
        wrong = Decimal(draw(st.integers(1, 5_000_000))) / 100
    amounts = {
        "Begroting": [a for _, a in plain.posts],
        "Inwoners": [Decimal(n) for n in plain.inhabitants],
        "Projectkosten": [a for *_, a in plain.costs],
    }[sheet]
    if draw(st.booleans()) and sum(amounts) - wrong > 0:  # lower, but still a positive total
        wrong = -wrong
    labels = (*TOTAL_LABELS, "Totaal inwoners") if sheet == "Inwoners" else TOTAL_LABELS
    total = Total(
        label=draw(st.one_of(st.none(), st.sampled_from(labels))),
        label_column=0,
        as_formula=draw(st.booleans()),
        function=draw(st.sampled_from(("SUM", "SUBTOTAL"))),
        wrong_by=wrong,
    )
    # The wrong total is the only total of its sheet (a sub-total would be checked on its own).
    table = Table(
        top_blanks=table.top_blanks,
        blanks_after=table.blanks_after,
        subheadings=table.subheadings,
        total=total,
        note=table.note,
        note_blanks=table.note_blanks,
    )
    setattr(decorations, attribute, table)
    # The calendar stays plain: its decorations are the other property's, and a total is only
    # checked in the budget.
    decorations.calendar = CalendarDecoration()
    return plain, decorations, sheet


@FAST
@given(example=with_a_wrong_total())
def test_a_wrong_total_is_always_a_fout_at_its_cell(example):
    plain, decorations, sheet = example
    with tempfile.TemporaryDirectory(prefix="layout-") as tmp:
        written, loaded = read(plain, decorations, Path(tmp) / "in")
    [(wrong_sheet, cell, message)] = written.totals
    assert wrong_sheet == sheet
    assert [said(f) for f in loaded.findings] == [
        f"FOUT  Begroting 2024.xlsx › {sheet} › {cell}: {message}"
    ]
    assert model_of(loaded) is not None
    totals = sum(1 for s in loaded.skipped if s.kind.value == "totaalregel")
    assert totals == written.total_rows  # the wrong total is not data either


def test_the_writer_puts_a_wrong_total_where_the_message_says():
    """The oracle itself: one post of € 100, a Totaal of € 90 in row 3 (header in row 1)."""
    plain = Plain(
        posts=(("Reiskosten", Decimal(100)),),
        inhabitants=(1000, 2000, 3000, 4000),
        subjects=((1, "Energieloket", "DE"),),
        costs=(),
    )
    decorations = Decorations(begroting=Table(total=Total("Totaal", wrong_by=Decimal(-10))))
    with tempfile.TemporaryDirectory(prefix="layout-") as tmp:
        written = write(plain, decorations, Path(tmp))
        assert written.totals == [
            (
                "Begroting",
                "B3",
                "het totaal is € 90,00, maar de regels erboven (rij 2-2) tellen op tot € 100,00",
            )
        ]
        rows = written.layout.sheet("Begroting").rows
        assert rows[2] == ["Totaal", 90]
        assert isinstance(rows[1][0], str) and not isinstance(rows[2][1], Cell)
