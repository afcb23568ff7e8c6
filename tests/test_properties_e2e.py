"""Properties of the whole command over random drop folders written as real xlsx workbooks.

Each example writes a calendar and a budget with `write_input_workbook` (as the templates and
tests/scenario.py do) and runs the real CLI on them. Valid folders carry the harmless quirks
coordinators type (amounts as Dutch text, codes in lower case with odd separators, unicode and
formula-like text in names): they must settle, conserve every cent over H1 + H2 and give the same
result twice. Broken folders carry one to three typical mistakes: they must be refused in Dutch,
at the mistake's cell, never with a traceback and without writing anything.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inkoopkracht_xl import layout
from inkoopkracht_xl.cli import main
from inkoopkracht_xl.templates import write_input_workbook

from .builders import fingerprint

CALENDAR_FILE = "Aanbestedingskalender 2024.xlsx"
BUDGET_FILE = "Begroting 2024.xlsx"
H1 = ["--periode", "2024-H1", "--json", "--datum", "01-07-2024"]
H2 = ["--periode", "2024-H2", "--json", "--datum", "15-01-2025"]
NUMBER = re.compile(r"IK-2024-\d{4}")
CENT = Decimal("0.01")

CODES = ("DE", "PN", "WE", "ZM", "LV", "MD", "RW", "VS", "WS", "LS", "CP")
NAMES = (  # unicode and formula-like names are harmless: they stay text, everywhere
    "Delft",
    "Pijnacker-Nootdorp",
    "'s-Gravenzande",
    "Súdwest-Fryslân",
    "Łódź-Ëindhoven",
    "Gemeente 🚲",
    "=1+1",
    "@Westland",
)
SUBJECTS = (
    "Software broker",
    "Dieptereiniging ICT hardware",
    "Multifunctionals",
    "Café-inventaris ☕",
    "Straatverlichting – LED (perceel 2)",
    "Ærøskøbing groenonderhoud",
    '=HYPERLINK("http://example.org","INJECT")',
    "+31 Telefonie",
    "-Korting energie",
    "@Werkplekken",
    "Leerlingenvervoer",
    "数据 Software",
)
DESCRIPTIONS = (
    "Inhuur adviseur",
    "Juridisch advies",
    "=SOM(A1:A9)",
    "Publicatie – TenderNed ✓",
    "",
)
BROKEN_AMOUNTS = ("ca. 500", "vijfhonderd", "1.250,00 incl. btw", "n.v.t.", "=SOM(E2:E9)", "€ ?")
INJECTED = "INJECT"  # in a formula-like subject name: must never become part of a formula
YEAR_DAYS = st.integers(0, 365).map(lambda d: date(2024, 1, 1) + timedelta(days=d))


def dutch(amount: Decimal) -> str:
    """An amount as a coordinator types it: '€ 1.234,56' (thousands dot, decimal comma)."""
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"€ {sign}{grouped},{cents}"


def messy(codes: list[str], draw) -> str:
    """Participant codes typed by hand: any case, commas, semicolons, slashes or spaces."""
    separator = draw(st.sampled_from([", ", ";", " / ", " ", " ,  "]))
    return separator.join(code.lower() if draw(st.booleans()) else code for code in codes)


@dataclass
class Drop:
    """The rows of both workbooks, plus the money the year must bill."""

    calendar: dict[str, list[list[object]]]
    budget: dict[str, list[list[object]]]
    network_total: Decimal  # what the year settles: Gerealiseerd when every post has one
    cost_amounts: list[Decimal]
    subjects: dict[str, list[str]]  # name -> participants in order (the first never joins)
    codes: list[str]
    expected: list[str] = field(default_factory=list)  # where a mistake must be reported

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        write_input_workbook(folder / CALENDAR_FILE, layout.CALENDAR_SHEETS, self.calendar)
        write_input_workbook(folder / BUDGET_FILE, layout.BUDGET_SHEETS, self.budget)
        return folder


@st.composite
def drops(draw) -> Drop:
    codes = draw(st.lists(st.sampled_from(CODES), min_size=2, max_size=8, unique=True))
    names = {code: draw(st.sampled_from(NAMES)) + f" ({code})" for code in codes}
    network = [draw(st.booleans()) for _ in codes]
    network[draw(st.integers(0, len(codes) - 1))] = True  # someone pays the network budget
    core = {code: draw(st.booleans()) for code in codes}

    subjects: dict[str, list[str]] = {}
    kalender = []
    for name in draw(st.lists(st.sampled_from(SUBJECTS), min_size=1, max_size=5, unique=True)):
        members = draw(
            st.lists(st.sampled_from(codes), min_size=1, max_size=len(codes), unique=True)
        )
        subjects[name] = members
        category = draw(st.sampled_from([1, 2, 3, 4, "3 verkenning"]))
        kalender.append(
            [category, name, "2024", messy(members, draw), draw(st.sampled_from([None, "2021"]))]
        )

    joins, toetredingen = set(), []
    for name, members in subjects.items():
        for code in draw(
            st.lists(st.sampled_from(members[1:] or members), max_size=2, unique=True)
        ):
            if code != members[0] and (name, code) not in joins:
                joins.add((name, code))
                toetredingen.append(
                    [name, code.lower() if draw(st.booleans()) else code, draw(YEAR_DAYS)]
                )

    costs, amounts = [], []
    for number in range(draw(st.integers(0, 8))):
        amount = Decimal(draw(st.integers(-50_000, 5_000_000))) / 100
        amounts.append(amount)
        costs.append(
            [
                f"K2024-{number:03d}",
                draw(st.sampled_from(sorted(subjects))),
                draw(st.sampled_from(DESCRIPTIONS)) or None,
                draw(YEAR_DAYS),
                dutch(amount) if draw(st.booleans()) else amount,
                draw(st.sampled_from([None, "inwoners", "gelijk", "Gelijk"])),
            ]
        )

    budgeted = [
        Decimal(draw(st.integers(0, 20_000_000))) / 100 for _ in range(draw(st.integers(1, 4)))
    ]
    realised_mode = draw(st.sampled_from(["none", "all", "some"]))
    realised: list[Decimal | None] = [
        Decimal(draw(st.integers(0, 20_000_000))) / 100
        if realised_mode == "all" or (realised_mode == "some" and i > 0)
        else None
        for i in range(len(budgeted))
    ]
    network_total = sum(realised if realised_mode == "all" else budgeted, Decimal(0))
    begroting = [
        [f"Post {i + 1}", dutch(b) if draw(st.booleans()) else b, r]
        for i, (b, r) in enumerate(zip(budgeted, realised, strict=True))
    ]

    # The penvoerder is required and shares the network budget (issue 12).
    lead = draw(st.sampled_from([c for c, flag in zip(codes, network, strict=True) if flag]))
    instellingen = [
        ["Jaar", 2024],
        ["Penvoerder", lead.lower() if lead and draw(st.booleans()) else lead],
        ["Verdeelmethode", draw(st.sampled_from(["procent", "exact"]))],
        ["Afronding", draw(st.sampled_from(["euro", "cent"]))],
        ["Afzender", "Inkoopkracht ZHW (voorbeeld)"],
        ["IBAN", "NL91 ABNA 0417 1643 00"],
    ]
    inwoners = [
        [
            code,
            names[code],
            draw(st.integers(1_000, 900_000)),
            date(2023, 1, 1) if draw(st.booleans()) else "1-1-2023",
            draw(st.sampled_from(["ja", "Ja", "JA"])) if flag else "nee",
            "voorbeeld",
        ]
        for code, flag in zip(codes, network, strict=True)
    ]
    contacten = [
        [code, f"Team Inkoop {names[code]}", f"inkoop@{code.lower()}.example.org", None]
        for code in draw(st.lists(st.sampled_from(codes), unique=True))
    ]
    return Drop(
        calendar={
            "Kalender": kalender,
            "Gemeenten": [[c, names[c], "kern" if core[c] else "extra", None] for c in codes],
        },
        budget={
            "Instellingen": instellingen,
            "Begroting": begroting,
            "Inwoners": inwoners,
            "Projectkosten": costs,
            "Toetredingen": toetredingen,
            "Contacten": contacten,
        },
        network_total=network_total,
        cost_amounts=amounts,
        subjects=subjects,
        codes=codes,
    )


# -- typical mistakes: each changes the rows and says where it must be reported -------------------


def _at(file: str, sheet: str, cell: str) -> str:
    return f"{file} › {sheet} › {cell}"


def _text_in_amount(drop: Drop, draw) -> str:
    costs = drop.budget["Projectkosten"]
    text = draw(st.sampled_from(BROKEN_AMOUNTS))
    if costs:
        i = draw(st.integers(0, len(costs) - 1))
        costs[i][4] = text
        return _at(BUDGET_FILE, "Projectkosten", f"E{i + 2}")
    posts = drop.budget["Begroting"]
    i = draw(st.integers(0, len(posts) - 1))
    posts[i][1] = text
    return _at(BUDGET_FILE, "Begroting", f"B{i + 2}")


def _three_decimals(drop: Drop, draw) -> str:
    posts = drop.budget["Begroting"]
    i = draw(st.integers(0, len(posts) - 1))
    posts[i][1] = draw(st.sampled_from([Decimal("1234.567"), "1.234,567", "12,005"]))
    return _at(BUDGET_FILE, "Begroting", f"B{i + 2}")


def _unknown_subject(drop: Drop, draw) -> str:
    costs = drop.budget["Projectkosten"]
    costs.append(
        [
            "K-ONBEKEND",
            "Aanbesteding die niet bestaat",
            None,
            date(2024, 3, 1),
            Decimal("100.00"),
            None,
        ]
    )
    return _at(BUDGET_FILE, "Projectkosten", f"B{len(costs) + 1}")


def _date_in_2023(drop: Drop, draw) -> str:
    costs = drop.budget["Projectkosten"]
    day = draw(st.sampled_from([date(2023, 12, 31), "31-12-2023", date(2023, 6, 1)]))
    if costs:
        i = draw(st.integers(0, len(costs) - 1))
        costs[i][3] = day
        return _at(BUDGET_FILE, "Projectkosten", f"D{i + 2}")
    joins = drop.budget["Toetredingen"]
    if joins:
        i = draw(st.integers(0, len(joins) - 1))
        joins[i][2] = day
        return _at(BUDGET_FILE, "Toetredingen", f"C{i + 2}")
    rows = drop.budget["Inwoners"]  # the peildatum must be 1-1-2023 for 2024
    i = draw(st.integers(0, len(rows) - 1))
    rows[i][3] = date(2024, 1, 1)
    return _at(BUDGET_FILE, "Inwoners", f"D{i + 2}")


def _duplicate_kenmerk(drop: Drop, draw) -> str:
    costs = drop.budget["Projectkosten"]
    if costs:
        copy = list(draw(st.sampled_from(costs)))
        copy[0] = copy[0].lower()  # kenmerken match case-insensitively
        costs.append(copy)
        return _at(BUDGET_FILE, "Projectkosten", f"A{len(costs) + 1}")
    rows = drop.budget["Inwoners"]
    rows.append(list(draw(st.sampled_from(rows))))
    return _at(BUDGET_FILE, "Inwoners", f"A{len(rows) + 1}")


def _empty_required_cell(drop: Drop, draw) -> str:
    choices = [
        ("Inwoners", 2, "C"),
        ("Begroting", 1, "B"),
        ("Gemeenten", 2, "C"),
        ("Kalender", 0, "A"),
    ]
    if drop.budget["Projectkosten"]:
        choices += [("Projectkosten", 4, "E"), ("Projectkosten", 3, "D")]
    sheet, column, letter = draw(st.sampled_from(choices))
    rows = drop.calendar.get(sheet) or drop.budget[sheet]
    i = draw(st.integers(0, len(rows) - 1))
    rows[i][column] = draw(st.sampled_from([None, "", "   "]))
    file = CALENDAR_FILE if sheet in drop.calendar else BUDGET_FILE
    return _at(file, sheet, f"{letter}{i + 2}")


def _bad_population(drop: Drop, draw) -> str:
    rows = drop.budget["Inwoners"]
    i = draw(st.integers(0, len(rows) - 1))
    rows[i][2] = draw(st.sampled_from(["ca. 57.000", Decimal("57000.5"), -12, 0, "57 duizend"]))
    return _at(BUDGET_FILE, "Inwoners", f"C{i + 2}")


def _unknown_code(drop: Drop, draw) -> str:
    where = draw(st.sampled_from(["join", "lead", "money subject"]))
    if where == "join":
        joins = drop.budget["Toetredingen"]
        joins.append([draw(st.sampled_from(sorted(drop.subjects))), "XQ", date(2024, 5, 1)])
        return _at(BUDGET_FILE, "Toetredingen", f"B{len(joins) + 1}")
    if where == "lead":
        drop.budget["Instellingen"][1][1] = "XQ"
        return _at(BUDGET_FILE, "Instellingen", "B3")
    # An unknown participant is an error only where money depends on the subject.
    row = draw(st.integers(0, len(drop.calendar["Kalender"]) - 1))
    subject = drop.calendar["Kalender"][row][1]
    drop.calendar["Kalender"][row][3] += ", XQ"
    drop.budget["Projectkosten"].append(
        ["K-XQ", subject, None, date(2024, 2, 1), Decimal("10.00"), None]
    )
    return _at(CALENDAR_FILE, "Kalender", f"D{row + 2}")


def _join_by_outsider(drop: Drop, draw) -> str:
    joins = drop.budget["Toetredingen"]
    for name, members in sorted(drop.subjects.items()):
        outsiders = [c for c in drop.codes if c not in members]
        if outsiders:
            joins.append([name, draw(st.sampled_from(outsiders)), date(2024, 4, 1)])
            return _at(BUDGET_FILE, "Toetredingen", f"B{len(joins) + 1}")
    return _unknown_code(drop, draw)


def _unicode_in_code(drop: Drop, draw) -> str:
    # An accent, a Cyrillic Р that looks like P, a zero-width space: not a code.
    lookalike = draw(st.sampled_from(["DÉ", "\u0420N", "ZM\u200b", "WË"]))
    if draw(st.booleans()):
        row = draw(st.integers(0, len(drop.calendar["Kalender"]) - 1))
        drop.calendar["Kalender"][row][3] += f", {lookalike}"
        return _at(CALENDAR_FILE, "Kalender", f"D{row + 2}")
    rows = drop.budget["Inwoners"]
    i = draw(st.integers(0, len(rows) - 1))
    rows[i][0] = lookalike
    return _at(BUDGET_FILE, "Inwoners", f"A{i + 2}")


def _no_network(drop: Drop, draw) -> str:
    for row in drop.budget["Inwoners"]:
        row[4] = "nee"
    return f"{BUDGET_FILE} › Inwoners › kolom Netwerk"


MISTAKES = (
    _text_in_amount,
    _three_decimals,
    _unknown_subject,
    _date_in_2023,
    _duplicate_kenmerk,
    _empty_required_cell,
    _bad_population,
    _unknown_code,
    _join_by_outsider,
    _unicode_in_code,
    _no_network,
)


@st.composite
def broken_drops(draw) -> Drop:
    drop = draw(drops())
    for mistake in draw(st.lists(st.sampled_from(MISTAKES), min_size=1, max_size=3)):
        drop.expected.append(mistake(drop, draw))
    return drop


# -- running and reading ----------------------------------------------------------------------


def _afrekening(folder: Path, out: Path, period: list[str]):
    result = CliRunner().invoke(main, ["afrekening", str(folder), *period, "--uit", str(out)])
    # Never a traceback: exit 0 or a refusal (1); no exception but the exit itself.
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and "interne fout" not in result.output, result.output
    return result


def _money(text: str) -> Decimal:
    value = Decimal(text)
    assert value == value.quantize(CENT), text  # money in the JSON is to the cent
    return value


def _check_invoices(document: dict, lead: str | None) -> Decimal:
    """Each invoice's lines add up to its total; numbers and kinds are what they claim."""
    total = Decimal(0)
    for invoice in document["facturen"]:
        amount = _money(invoice["totaal"])
        assert sum((_money(r["bedrag"]) for r in invoice["regels"]), Decimal(0)) == amount
        if invoice["soort"] == "eigen aandeel":
            assert invoice["code"] == lead and invoice["nummer"] is None
        else:
            assert invoice["code"] != lead and NUMBER.fullmatch(invoice["nummer"])
            assert (invoice["soort"] == "creditnota") == (amount < 0), invoice
        total += amount
    return total


def _sheet_values(path: Path, sheets: tuple[str, ...]) -> dict:
    values = {}
    for cached in (False, True):  # the formulas themselves, and the values they carry
        book = openpyxl.load_workbook(path, data_only=cached)
        for name in sheets:
            values[name, cached] = [[c.value for c in row] for row in book[name].iter_rows()]
        book.close()
    return values


def _formulas_with(path: Path, text: str) -> list[str]:
    book = openpyxl.load_workbook(path)
    found = [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f" and text in str(cell.value)
    ]
    book.close()
    return found


def _lead(drop: Drop) -> str | None:
    lead = drop.budget["Instellingen"][1][1]
    return lead.upper() if lead else None


# -- the properties ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drop=drops())
def test_valid_folders_settle_every_cent_once_and_identically(drop):
    with tempfile.TemporaryDirectory() as scratch:
        folder = drop.write(Path(scratch) / "invoer")
        before = fingerprint(folder)
        first, again = Path(scratch) / "uit-1", Path(scratch) / "uit-2"

        h1 = _afrekening(folder, first, H1)
        assert h1.exit_code == 0, h1.output
        h1_json = json.loads(h1.stdout)
        rerun = _afrekening(folder, again, H1)
        assert rerun.exit_code == 0, rerun.output
        # Identical inputs, identical outputs: the same numbers, amounts, lines and warnings.
        assert json.loads(rerun.stdout.replace(str(again), str(first))) == h1_json
        sheets = ("Verdeelsleutel", "Afrekening")
        overview = "2024-H1/overzicht-2024-H1.xlsx"
        assert _sheet_values(first / overview, sheets) == _sheet_values(again / overview, sheets)
        # A rerun on the same register replaces its drafts: same numbers, same values.
        replaced = _afrekening(folder, first, H1)
        assert replaced.exit_code == 0, replaced.output
        assert json.loads(replaced.stdout) == h1_json

        h2 = _afrekening(folder, first, H2)
        assert h2.exit_code == 0, h2.output
        h2_json = json.loads(h2.stdout)

        # Money is conserved to the cent over the year: the whole network budget and every
        # cost line, billed once (the penvoerder's own share included).
        lead = _lead(drop)
        billed = _check_invoices(h1_json, lead) + _check_invoices(h2_json, lead)
        assert billed == drop.network_total + sum(drop.cost_amounts, Decimal(0))
        # Each period's allocation key splits the year's budget exactly (Gerealiseerd when every
        # post has one, in H1 too); in 'procent' the percentages are exactly 100,00.
        for document in (h1_json, h2_json):
            shares = [_money(s["bedrag"]) for s in document["verdeelsleutel"]]
            assert all(share >= 0 for share in shares)
            assert sum(shares, Decimal(0)) == drop.network_total
            if drop.budget["Instellingen"][2][1] == "procent":
                percentages = [Decimal(s["percentage"]) for s in document["verdeelsleutel"]]
                assert sum(percentages, Decimal(0)) == 100

        # Every number once over the year; the output folder lists exactly the billed invoices.
        numbers = [i["nummer"] for d in (h1_json, h2_json) for i in d["facturen"] if i["nummer"]]
        assert len(numbers) == len(set(numbers))
        for document, label in ((h1_json, "2024-H1"), (h2_json, "2024-H2")):
            manifest = json.loads((first / label / "afrekening.json").read_text(encoding="utf-8"))
            assert sorted(manifest["facturen"]) == sorted(
                i["nummer"] for i in document["facturen"] if i["nummer"]
            )
            for entry in manifest["facturen"].values():
                assert (first / label / "facturen" / entry["bestand"]).is_file()

        # A subject named like a formula stays text: no cell computes the injected formula.
        if any(INJECTED in name for name in drop.subjects):
            for path in (first / "2024-H1").rglob("*.xlsx"):
                if path.parent.name != "invoer":
                    assert _formulas_with(path, INJECTED) == [], path
        assert fingerprint(folder) == before  # inputs are never modified


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drop=broken_drops())
def test_broken_folders_are_refused_at_the_mistake_never_with_a_traceback(drop):
    with tempfile.TemporaryDirectory() as scratch:
        folder = drop.write(Path(scratch) / "invoer")
        before = fingerprint(folder)
        out = Path(scratch) / "uit"

        result = _afrekening(folder, out, H1)
        assert result.exit_code == 1, (drop.expected, result.output)
        errors = [line for line in result.output.splitlines() if line.startswith("FOUT  ")]
        assert errors, result.output
        for line in errors:  # every error names its place: file › sheet › cell
            assert " › " in line, line
        if len(drop.expected) == 1:
            # Alone, the mistake is reported at its own cell.
            assert any(f"FOUT  {drop.expected[0]}:" in line for line in errors), (
                drop.expected,
                result.output,
            )
        else:
            # Together, one mistake can hide another (an unreadable row is not checked further).
            assert any(f"FOUT  {where}:" in line for where in drop.expected for line in errors), (
                drop.expected,
                result.output,
            )
        assert result.stdout == ""  # no JSON for a refused run
        assert not (out / "2024-H1").exists()  # nothing written
        assert fingerprint(folder) == before
