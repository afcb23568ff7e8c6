"""Hostile input: files built to exhaust or fool the reader, and text built to become something else.

Every hostile file sits in a real drop folder and goes through `controleer` in its own process, so
the whole path is measured: refused within 5 s and 300 MB (the interpreter included), in Dutch,
naming the file, with the folder untouched. Hostile text (file names, formulas) goes through a real
`afrekening`, and every file it writes is opened and checked.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import textwrap
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from inkoopkracht_xl.cli import main

from .builders import BUDGET, CALENDAR, fingerprint, jaarplan_folder, set_cells
from .test_corpus import add_external_link, million_row_sheet, rewrite_zip, sheet_part
from .test_safety import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    MIB,
    PARAMETER_ENTITY,
    SHEET_HEAD,
    bomb_workbook,
    deflate_repeated,
    many_members,
    raw_member,
    workbook_parts,
    write_raw_zip,
)

REPO = Path(__file__).resolve().parents[1]
SECONDS = 5
PEAK_MIB = 300

# --- measuring: the command in a process of its own ---------------------------------------------

# Runs the command as its child and reports the child's wall time and peak memory (RSS), so
# nothing the test process did before (other tests' children included) counts.
MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time

    start = time.perf_counter()
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({
        "seconds": seconds,
        "peak_mib": peak / (1024 * 1024 if sys.platform == "darwin" else 1024),
        "exit": done.returncode,
        "output": done.stdout + done.stderr,
    }))
    """
)


def measured(*arguments: str) -> dict:
    """Run `inkoopkracht-xl ARGUMENTS` in a fresh interpreter: exit code, output, seconds, peak MiB."""
    pytest.importorskip("resource")  # POSIX only; Windows has no getrusage
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "inkoopkracht_xl", *arguments]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    # Shown with pytest -s: the numbers behind the limits.
    case = (
        Path(arguments[1]).name if arguments[0] == "controleer" else Path(arguments[1]).parent.name
    )
    print(f"\n{arguments[0]} {case}: {result['seconds']:.2f} s, {result['peak_mib']:.0f} MiB")
    return result


def within_limits(result: dict) -> None:
    assert result["seconds"] < SECONDS, result["seconds"]
    assert result["peak_mib"] < PEAK_MIB, result["peak_mib"]
    assert "Traceback" not in result["output"]


# --- hostile files, through controleer ----------------------------------------------------------


def _bomb_of_one_large_member(path: Path) -> None:
    bomb_workbook(path)  # 1.5 GB of whitespace in one sheet, about 1.5 MB on disk


def _bomb_whose_directory_lies(path: Path) -> None:
    bomb_workbook(path, declared_size=MIB - 1)  # claims under 1 MiB: below every cap


def _bomb_of_many_members(path: Path) -> None:
    """10,001 parts: zipfile would build an object for each before anything else could object."""
    write_raw_zip(path, many_members(10_001))


def _bomb_of_high_ratio(path: Path) -> None:
    """One sheet of 60 MiB (under the 64 MiB cap) that deflates about a thousandfold."""
    chunk, count = b" " * MIB, 60
    blocks = deflate_repeated(SHEET_HEAD, chunk, count)
    crc = zlib.crc32(SHEET_HEAD)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    parts = workbook_parts({"Begroting": b""})
    del parts["xl/worksheets/sheet1.xml"]
    members = [raw_member(name, data) for name, data in parts.items()]
    members.append(("xl/worksheets/sheet1.xml", blocks, len(SHEET_HEAD) + MIB * count, crc))
    write_raw_zip(path, members)


def _bomb_of_many_small_members(path: Path) -> None:
    """5,000 parts of just under 1 MiB each: every one too small for the ratio check, 5 GB in all."""
    chunk = b" " * (MIB - len(SHEET_HEAD) - 1)
    blocks = deflate_repeated(SHEET_HEAD, chunk, 1)
    size, crc = len(SHEET_HEAD) + len(chunk), zlib.crc32(SHEET_HEAD + chunk)
    parts = workbook_parts({"Begroting": SHEET_HEAD + b"</sheetData></worksheet>"})
    members = [raw_member(name, data) for name, data in parts.items()]
    members += [(f"xl/media/image{i}.xml", blocks, size, crc) for i in range(5_000)]
    write_raw_zip(path, members)


def _swapped(part: str, data: bytes) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        rewrite_zip(path, {part: data})

    return change


def _sheet_swapped(sheet: str, data: bytes) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        rewrite_zip(path, {sheet_part(path, sheet): data})

    return change


def _million_rows(path: Path) -> None:
    rewrite_zip(path, {sheet_part(path, "Toetredingen"): million_row_sheet})


ZIP_BOMB = "(mogelijk een zip-bom) en is niet geopend"
DTD = "bevat een DTD/entiteiten (mogelijk kwaadaardig) en is niet geopend"

# (name, what is done to the budget workbook, what the refusal says)
HOSTILE_FILES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "zip_bomb_one_large_member",
        _bomb_of_one_large_member,
        f"wordt na uitpakken groter dan 64 MB {ZIP_BOMB}",
    ),
    ("zip_bomb_directory_lies", _bomb_whose_directory_lies, "is beschadigd"),
    (
        "zip_bomb_many_members",
        _bomb_of_many_members,
        f"bestaat uit meer dan 10.000 onderdelen {ZIP_BOMB}",
    ),
    (
        "zip_bomb_high_ratio",
        _bomb_of_high_ratio,
        f"bevat een onderdeel dat onwaarschijnlijk sterk is ingepakt {ZIP_BOMB}",
    ),
    (
        "zip_bomb_many_small_members",
        _bomb_of_many_small_members,
        f"wordt na uitpakken groter dan 64 MB {ZIP_BOMB}",
    ),
    ("billion_laughs", _swapped("xl/sharedStrings.xml", BILLION_LAUGHS), DTD),
    ("external_entity", _sheet_swapped("Inwoners", EXTERNAL_ENTITY), DTD),
    ("parameter_entity", _swapped("xl/styles.xml", PARAMETER_ENTITY), DTD),
    (
        "external_link",
        add_external_link,
        "bevat koppelingen naar andere bestanden; de waarden uit die bestanden zijn niet te "
        "controleren en de werkmap is niet gelezen. Verbreek de koppelingen in Excel (Gegevens › "
        "Koppelingen bewerken › Koppeling verbreken) en sla opnieuw op.",
    ),
    ("million_rows", _million_rows, "heeft meer dan 200.000 gevulde rijen"),
]


@pytest.mark.parametrize(
    ("name", "make", "said"), HOSTILE_FILES, ids=[case[0] for case in HOSTILE_FILES]
)
def test_hostile_file_is_refused_fast_in_little_memory(tmp_path, name, make, said):
    folder = jaarplan_folder(tmp_path / name)
    make(folder / BUDGET)
    before = fingerprint(folder)

    result = measured("controleer", str(folder))

    assert result["exit"] == 1, result["output"]
    errors = [line.strip() for line in result["output"].splitlines() if "FOUT" in line]
    assert any(f"FOUT  {BUDGET}" in line and said in line for line in errors), result["output"]
    assert "root:" not in result["output"]  # nothing of /etc/passwd leaks into a message
    within_limits(result)
    assert fingerprint(folder) == before


@pytest.mark.parametrize("keep", ["relationship", "part"])
def test_half_an_external_link_is_refused_too(tmp_path, keep):
    # Only the relationship (its part gone), or only the part (nothing points at it): neither is
    # something a coordinator's workbook holds, and neither may slip through.
    folder = jaarplan_folder(tmp_path / "in")
    add_external_link(folder / BUDGET)
    path = folder / BUDGET
    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    if keep == "relationship":
        del parts["xl/externalLinks/externalLink1.xml"]
        del parts["xl/externalLinks/_rels/externalLink1.xml.rels"]
    else:
        rels = parts["xl/_rels/workbook.xml.rels"].decode()
        start = rels.index('<Relationship Id="rIdLink1"')
        end = rels.index("/>", start) + 2
        parts["xl/_rels/workbook.xml.rels"] = (rels[:start] + rels[end:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)

    result = CliRunner().invoke(main, ["controleer", str(folder)])

    assert result.exit_code == 1
    assert f"FOUT  {BUDGET}: bevat koppelingen naar andere bestanden" in result.output


# --- names that try to leave the output folder ---------------------------------------------------

# Windows refuses these in any file name, and these device names with any extension.
WINDOWS_FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in "123456789"
}

HOSTILE_NAMES = {  # Gemeenten › Gemeente, by row; ZM (row 5) is invoiced because CP leads
    "B2": "../../etc/passwd",
    "B3": "CON",
    "B4": "NUL.xlsx",
    "B5": "..",
    "B8": "a:b?c*",
    "B9": "Midden-Delfland " + "x" * 284,  # 300 characters
    "B10": "Rijswijk\nmet regelovergang",
}


def _valid_on_windows(name: str) -> bool:
    device = name.split(".")[0].rstrip(" ").upper()
    return (
        device not in WINDOWS_DEVICES
        and not (WINDOWS_FORBIDDEN & set(name))
        and not name.endswith((" ", "."))
        and len(name.encode("utf-8")) <= 255
    )


def test_names_cannot_leave_the_output_folder_or_break_windows(tmp_path):
    folder = jaarplan_folder(tmp_path / "in")
    set_cells(folder / CALENDAR, "Gemeenten", HOSTILE_NAMES)
    # CP leads (a penvoerder shares the network budget) and has no costs in H1, so all four
    # hostile core names are invoiced.
    set_cells(folder / BUDGET, "Instellingen", {"B3": "CP"})
    set_cells(folder / BUDGET, "Inwoners", {"E6": "ja"})
    before = fingerprint(folder)
    out = tmp_path / "uit"

    result = measured("afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out))

    assert result["exit"] == 0, result["output"]
    within_limits(result)
    batch = (out / "2024-H1").resolve()
    written = [p for p in out.rglob("*") if p.is_file()]
    for path in written:
        resolved = path.resolve()
        assert resolved.is_relative_to(batch) or resolved.parent == out.resolve(), path
        assert all(_valid_on_windows(part) for part in path.relative_to(out).parts), path
    # Beside the period folders only the register and the lock that lets one run at a time.
    assert {p.name for p in written if p.parent == out} == {"register.sqlite", ".inkoopkracht.lock"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "uit"]  # nothing beside them
    assert not (tmp_path / "etc").exists()
    assert fingerprint(folder) == before

    # Nothing lost: seven invoices (DE, PN, WE, ZM, LV, MD, RW), seven workbooks, seven drafts,
    # each workbook addressed to its municipality by the name as typed (the line break folded).
    manifest = json.loads((batch / "afrekening.json").read_text(encoding="utf-8"))
    files = [entry["bestand"] for entry in manifest["facturen"].values()]
    assert len(files) == len(set(files)) == 7
    # Each invoice's workbook, PDF and e-invoice (issue 13), all named safely.
    every = [e[key] for e in manifest["facturen"].values() for key in ("bestand", "pdf", "xml")]
    assert sorted(every) == sorted(p.name for p in (batch / "facturen").iterdir())
    assert len(list((batch / "mail").glob("*.eml"))) == 7
    addressees = set()
    for file in files:
        sheet = openpyxl.load_workbook(batch / "facturen" / file)["Factuur"]
        addressees |= {
            c.value[len("Gemeente ") :]
            for row in sheet.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.startswith("Gemeente ")
        }
    expected = {name.replace("\n", " ") for name in HOSTILE_NAMES.values()}
    assert expected <= addressees


def test_two_names_that_become_one_file_name_are_refused(tmp_path):
    # "a:b?c*" and "a/b?c*" both become "Factuur 2024-H1 a-b-c-.xlsx": the second invoice would
    # overwrite the first, and verstuur would send one municipality the other's invoice.
    folder = jaarplan_folder(tmp_path / "in")
    set_cells(folder / CALENDAR, "Gemeenten", {"B2": "a:b?c*", "B3": "a/b?c*"})
    out = tmp_path / "uit"

    result = CliRunner().invoke(
        main, ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out)]
    )

    assert result.exit_code == 1
    assert (
        f"FOUT  {CALENDAR} › Gemeenten › B3: de factuur van PN ('a/b?c*') krijgt dezelfde "
        "bestandsnaam als die van DE ('a:b?c*', Gemeenten › B2)" in result.output
    )
    assert not out.exists()


# --- formula injection through every text field that reaches an output -------------------------

PAYLOADS = ['=HYPERLINK("http://evil.example","klik")', "+1+1", "-2+3", "@SUM(1,1)"]
# The formulas we write ourselves: totals, counts and checks, each with its value cached.
# =COUNTA( counts the invoices on the overview's Facturen sheet (write/invoices_sheet.py).
OUR_FORMULAS = ("=SUM(", "=COUNTIF(", "=IF(", "=SUMIF(", "=ROUND(", "=COUNTA(")
SENDER_ADDRESS = "-2+3@evil.example"  # a valid address that starts like a formula


def _kalender_rows(column: str) -> dict[str, str]:
    return {f"{column}{row}": payload for row, payload in zip(range(4, 8), PAYLOADS, strict=True)}


def _costs_for(subjects: list[str]) -> dict[str, object]:
    """Four H1 cost lines, one per subject (rows 2-5 of Projectkosten)."""
    cells: dict[str, object] = {}
    for row, subject in zip(range(2, 6), subjects, strict=True):
        cells |= {f"A{row}": f"VB-{row}", f"B{row}": subject, f"C{row}": f"Kosten {row}"}
        cells |= {f"E{row}": 1000 + row, f"F{row}": "inwoners"}
    return cells


# The subjects of Kalender rows 4-7 (participants: DE PN WE ZM LV MD RW / idem / DE WE ZM LV RW /
# WE ZM), which the cost lines below are booked on.
SUBJECTS = [
    "Aardgas en energie - aanbestedingstraject",
    "Aardgas en energie - Externe deskundige (Hellemans)",
    "Boeken en abonnementen",
    "Drukken en verzenden verkiezingspost (post- en koeriersdiensten perceel 3)",
]
INVOICED_ROWS = ("2", "3", "4", "8")  # DE, PN, WE, LV in Gemeenten, Inwoners and Contacten


def _inject(field: str, folder: Path) -> list[str]:
    """Put the payloads into one field, as text cells; return the texts to look for."""
    calendar, budget = folder / CALENDAR, folder / BUDGET
    by_row = dict(zip(INVOICED_ROWS, PAYLOADS, strict=True))
    if field == "onderwerp":
        set_cells(calendar, "Kalender", _kalender_rows("B"), as_text=True)
        set_cells(budget, "Projectkosten", _costs_for(PAYLOADS), as_text=True)
    elif field in ("omschrijving", "kenmerk"):
        cells = _costs_for(SUBJECTS)
        column = "C" if field == "omschrijving" else "A"
        cells |= {f"{column}{row}": p for row, p in zip(range(2, 6), PAYLOADS, strict=True)}
        set_cells(budget, "Projectkosten", cells, as_text=True)
    elif field == "gemeente":
        set_cells(calendar, "Gemeenten", {f"B{r}": p for r, p in by_row.items()}, as_text=True)
        set_cells(budget, "Inwoners", {f"B{r}": p for r, p in by_row.items()}, as_text=True)
    elif field == "contactnaam":
        set_cells(budget, "Contacten", {f"B{r}": p for r, p in by_row.items()}, as_text=True)
    elif field == "post":
        posts = {f"A{row}": p for row, p in zip(range(2, 6), PAYLOADS, strict=True)}
        set_cells(budget, "Begroting", posts, as_text=True)
    elif field == "bron":
        sources = {f"F{row}": p for row, p in zip(range(2, 6), PAYLOADS, strict=True)}
        set_cells(budget, "Inwoners", sources, as_text=True)
    elif field == "afzender":
        # Afzender, Adres, Rechtspersoon (the IBAN must be a valid IBAN now), E-mail.
        sender = {"B8": PAYLOADS[0], "B9": PAYLOADS[3], "B12": PAYLOADS[1], "B11": SENDER_ADDRESS}
        set_cells(budget, "Instellingen", sender, as_text=True)
        return [*sender.values()]
    elif field == "inventarisatiejaar":
        set_cells(calendar, "Kalender", _kalender_rows("C"), as_text=True)
    elif field == "jaar_aanbesteed":
        set_cells(calendar, "Kalender", _kalender_rows("E"), as_text=True)
    else:  # pragma: no cover - a typo in FIELDS
        raise AssertionError(field)
    return PAYLOADS


FIELDS = [
    "onderwerp",
    "omschrijving",
    "kenmerk",
    "gemeente",
    "contactnaam",
    "post",
    "bron",
    "afzender",
    "inventarisatiejaar",
    "jaar_aanbesteed",
]


def _workbook_cells(path: Path):
    book = openpyxl.load_workbook(path)  # formulas as their text, not their cached values
    assert not book._external_links  # noqa: SLF001 - openpyxl keeps them only here
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield sheet.title, cell


@pytest.mark.parametrize("field", FIELDS)
def test_formula_text_stays_text_in_every_output(tmp_path, field):
    folder = jaarplan_folder(tmp_path / "in")
    injected = _inject(field, folder)
    out = tmp_path / "uit"

    result = measured("afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out))

    assert result["exit"] == 0, result["output"]
    within_limits(result)
    batch = out / "2024-H1"
    workbooks = [batch / "overzicht-2024-H1.xlsx", *sorted((batch / "facturen").glob("*.xlsx"))]
    assert len(workbooks) == 7  # the overview and six invoices (ZM leads)
    found: set[str] = set()
    formulas = 0
    for path in workbooks:
        for sheet, cell in _workbook_cells(path):
            where = f"{path.name} › {sheet} › {cell.coordinate}"
            assert cell.hyperlink is None, where
            if cell.data_type == "f":
                formulas += 1
                assert isinstance(cell.value, str) and cell.value.startswith(OUR_FORMULAS), where
                assert not any(text in cell.value for text in injected), where
            elif isinstance(cell.value, str):
                found |= {text for text in injected if text in cell.value}
                if any(cell.value == text for text in injected):
                    assert cell.data_type == "s", where
    assert formulas > 0  # the totals and checks are there, so the check above saw formulas
    assert found == set(injected)  # every injected text reached an output, as text

    drafts = sorted((batch / "mail").glob("*.eml"))
    assert len(drafts) == 6
    in_bodies: set[str] = set()
    in_file_names: set[str] = set()
    for draft in drafts:
        message = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)
        for header, value in message.items():
            if header == "From" and field == "afzender":
                (sender,) = message["From"].addresses  # one address, parsed back whole
                assert (sender.display_name, sender.addr_spec) == (PAYLOADS[0], SENDER_ADDRESS)
                continue
            assert not any(text in str(value) for text in injected), (draft.name, header)
        for attachment in message.iter_attachments():  # the PDF, e-invoice and workbook
            assert (batch / "facturen" / attachment.get_filename()).is_file()
            in_file_names |= {text for text in injected if text in attachment.get_filename()}
        body = message.get_body(preferencelist=("plain",)).get_content()
        in_bodies |= {text for text in injected if text in body}
    # The body quotes the contact's name ("Beste ..."), the sender's name, the legal issuer
    # the money goes to ("t.n.v. ...") and the address.
    # The body lists the attachments by file name, which carries the municipality's name.
    expected_in_bodies = {
        "contactnaam": set(PAYLOADS),
        "afzender": {PAYLOADS[0], PAYLOADS[1], SENDER_ADDRESS},
        "gemeente": in_file_names,
    }.get(field, set())
    assert in_bodies == expected_in_bodies


def test_no_invisible_characters_reach_a_file_name(tmp_path):
    # A right-to-left override in a name would make "Factuur ... xslx.exe" look like ".xlsx".
    folder = jaarplan_folder(tmp_path / "in")
    set_cells(folder / CALENDAR, "Gemeenten", {"B2": "Delft\u202exslx.exe"})
    out = tmp_path / "uit"

    result = CliRunner().invoke(
        main, ["afrekening", str(folder), "--periode", "2024-H1", "--uit", str(out)]
    )

    assert result.exit_code == 0, result.output
    names = [p.name for p in out.rglob("*")]
    assert "Factuur 2024-H1 Delftxslx.exe.xlsx" in names
    assert not any(unicodedata.category(c) == "Cf" for name in names for c in name)
