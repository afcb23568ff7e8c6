"""Refuses hostile or broken .xlsx files in bounded time and memory, before any library parses them."""

from __future__ import annotations

import codecs
import posixpath
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NoReturn
from xml.parsers import expat

from ..errors import InputRefused
from ..model import Location

MIB = 1024 * 1024

# A workbook holds a few dozen parts; even one with hundreds of sheets and images stays far below
# this. zipfile builds an object per member, so the count must be bounded before it does.
MAX_MEMBERS = 10_000
# zipfile parses the whole central directory when it opens a file; capping its size bounds that work
# even when the end record lies about the member count. 10,000 members with ~400-byte names fit.
MAX_CENTRAL_DIRECTORY_BYTES = 4 * MIB
# The coordinators' workbooks expand to well under 10 MiB, a national-scale budget (20.000 cost
# lines) to about 15 MiB; 64 MiB leaves room for twice that. It also bounds the time: the densest
# XML within it (tiny elements only) takes under 4 s through the parser, ordinary XML far less.
MAX_TOTAL_UNCOMPRESSED = 64 * MIB
# Spreadsheet XML compresses about 10-50 times; a part over 1 MiB that compresses more than 200 times
# is a zip bomb (the 1.5 GB bomb from STYLE.md compresses 1000 times). Small parts are exempt because
# a tiny, highly repetitive part cannot hurt anyone.
MAX_RATIO = 200
RATIO_MIN_SIZE = 1 * MIB
# The calendar and budget have hundreds of rows; 200,000 filled rows means a sheet was pasted or
# formatted down to the bottom by accident, and reading it would only produce noise and delay.
MAX_FILLED_ROWS = 200_000
# Each uncached formula becomes one finding; past this number the whole workbook needs recalculating,
# and listing more would only cost memory (the list is the one thing that grows with the sheet).
MAX_FORMULAS_WITHOUT_VALUE = 10_000
# Decompressing in chunks of this size keeps memory flat whatever a member claims to hold.
CHUNK_SIZE = 1 * MIB
# expat keeps an unfinished token (a tag with its attributes, a comment) in memory until it ends.
# Excel's tokens are at most kilobytes; without this cap one attribute could fill the 200 MiB.
MAX_TOKEN_BYTES = 8 * MIB
# Where to look for an OLE2 stream name: the directory of an encrypted workbook sits near the start or
# the end of the file; scanning a bounded window at both ends keeps the check O(1) in the file size.
OLE_SCAN_BYTES = 4 * MIB
# Enough to tell text from binary without reading a large file.
SNIFF_BYTES = 4096

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTION_INFO_NAME = "EncryptionInfo".encode("utf-16-le")
# OPC (the xlsx container) allows only these; others, such as bzip2 and lzma, are decompressed by
# zipfile without an output limit, so a small chunk could expand without bound.
ALLOWED_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

WORKBOOK_PART = "xl/workbook.xml"
WORKBOOK_RELS_PART = "xl/_rels/workbook.xml.rels"
# A formula that refers to another workbook ("[Begroting 2023.xlsx]Inwoners!C2") is stored with a
# cached copy of that file's value in an externalLink part. The copy may be stale or made up, and
# cannot be checked against a file we do not have; Excel writes these parts under this folder.
EXTERNAL_LINK_FOLDER = "xl/externallinks/"
EXTERNAL_LINK_TYPE = "/externallink"  # the end of the relationship type, lower case


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


# Every Dutch text this module shows: (message, what to do).
_FIX_RESAVE = "Open het bestand in Excel en sla het op als Excel-werkmap (.xlsx)."
_FIX_NEW_COPY = (
    "Open het bestand in Excel en sla het opnieuw op, of vraag de afzender om een nieuw exemplaar."
)
_FIX_SUSPICIOUS = (
    "Gebruik dit bestand niet; vraag de afzender de werkmap opnieuw op te slaan in Excel "
    "en opnieuw te sturen."
)
CANNOT_OPEN = (
    "kan niet worden geopend (mogelijk nog geopend in Excel of een ander programma).",
    "Sluit het bestand en probeer opnieuw.",
)
NOT_FOUND = ("bestaat niet (meer).", "Controleer of het bestand nog in de map staat.")
EMPTY = ("is leeg (0 bytes).", _FIX_NEW_COPY)
PASSWORD = (
    "is beveiligd met een wachtwoord.",
    "Verwijder de beveiliging in Excel: Bestand › Info › Werkmap beveiligen, en sla opnieuw op.",
)
OLD_XLS = ("is opgeslagen in het oude Excel-formaat (.xls).", _FIX_RESAVE)
TEXT = ("is geen Excel-werkmap maar tekst (CSV?).", _FIX_RESAVE)
NOT_XLSX = ("is geen Excel-werkmap (.xlsx) of is beschadigd.", _FIX_RESAVE)
DAMAGED = ("is beschadigd.", _FIX_NEW_COPY)
NO_WORKBOOK = ("is een zip-bestand maar geen Excel-werkmap (.xlsx).", _FIX_RESAVE)
MISSING_SHEET = ("is beschadigd: het werkblad '{sheet}' ontbreekt.", _FIX_NEW_COPY)
TOO_MANY_MEMBERS = (
    "bestaat uit meer dan {limit} onderdelen (mogelijk een zip-bom) en is niet geopend.",
    _FIX_SUSPICIOUS,
)
TOO_LARGE = (
    "wordt na uitpakken groter dan {limit} MB (mogelijk een zip-bom) en is niet geopend.",
    _FIX_SUSPICIOUS,
)
TOO_COMPRESSED = (
    "bevat een onderdeel dat onwaarschijnlijk sterk is ingepakt (mogelijk een zip-bom) "
    "en is niet geopend.",
    _FIX_SUSPICIOUS,
)
DTD = ("bevat een DTD/entiteiten (mogelijk kwaadaardig) en is niet geopend.", _FIX_SUSPICIOUS)
TOO_MANY_ROWS = (
    "heeft meer dan {limit} gevulde rijen.",
    "Verwijder lege of overbodige rijen (ook rijen met alleen formules) en sla opnieuw op.",
)
EXTERNAL_LINKS = (
    "bevat koppelingen naar andere bestanden; de waarden uit die bestanden zijn niet te "
    "controleren en de werkmap is niet gelezen.",
    "Verbreek de koppelingen in Excel (Gegevens › Koppelingen bewerken › Koppeling verbreken) "
    "en sla opnieuw op.",
)
TOO_MANY_UNCACHED = (
    "bevat meer dan {limit} formules zonder berekende waarde.",
    "Open de werkmap in Excel, laat hem herberekenen (F9) en sla hem op.",
)


@dataclass(frozen=True)
class WorkbookInfo:
    """What the guards learnt about a workbook while checking it."""

    sheet_names: tuple[str, ...]  # in workbook order, from xl/workbook.xml
    hidden_sheets: frozenset[str]  # state="hidden" or "veryHidden"
    # sheet name -> refs ("C5") of formula cells without a cached value; only sheets that have any
    formulas_without_value: dict[str, tuple[str, ...]]


def inspect_xlsx(path: Path, display_name: str) -> WorkbookInfo:
    """Check `path` before any spreadsheet library reads it; raise `InputRefused` naming
    `display_name` (the file name the user knows) with a Dutch message and what to do."""
    where = Location(display_name)
    try:
        with open(path, "rb") as file:
            return _inspect(file, where)
    except FileNotFoundError as error:
        raise _refusal(where, NOT_FOUND) from error
    except OSError as error:
        # On Windows, Excel holds a lock on an open workbook: PermissionError on open or read.
        raise _refusal(where, CANNOT_OPEN) from error


def _refusal(where: Location, text: tuple[str, str], **values: object) -> InputRefused:
    message, fix = text
    return InputRefused.single(where, message.format(**values), fix)


def _inspect(file: BinaryIO, where: Location) -> WorkbookInfo:
    head = file.read(SNIFF_BYTES)
    if not head:
        raise _refusal(where, EMPTY)
    if head.startswith(OLE_MAGIC):
        raise _refusal(where, PASSWORD if _is_encrypted_ole(file) else OLD_XLS)
    # Excel always starts a workbook with a local file header; refusing anything else also refuses
    # polyglots (a zip appended to other data), which zipfile would otherwise open.
    if not head.startswith(b"PK"):
        raise _refusal(where, TEXT if _looks_like_text(head) else NOT_XLSX)
    _check_end_record(file, where)
    with _zip_errors(where):
        archive = zipfile.ZipFile(file)
    with archive:
        members = _check_directory(archive, where)
        return _read_parts(archive, members, where)


def _is_encrypted_ole(file: BinaryIO) -> bool:
    """An encrypted xlsx is an OLE2 file with an `EncryptionInfo` stream; an old .xls has none."""
    file.seek(0)
    head = file.read(OLE_SCAN_BYTES)
    if ENCRYPTION_INFO_NAME in head:
        return True
    size = file.seek(0, 2)
    if size <= len(head):
        return False
    # Overlap the head window so a name split across the boundary is still found.
    file.seek(max(len(head) - len(ENCRYPTION_INFO_NAME), size - OLE_SCAN_BYTES))
    return ENCRYPTION_INFO_NAME in file.read(OLE_SCAN_BYTES)


def _looks_like_text(head: bytes) -> bool:
    """CSV and other text saved as .xlsx: decodes as UTF-8, UTF-16 (with BOM) or Windows-1252 and has
    no control characters besides tabs and line ends."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        # Incremental, so a character cut off at the end of the sample is not an error.
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        try:
            text = head.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return bool(text.strip()) and not any(
        unicodedata.category(char) == "Cc" and char not in "\t\r\n" for char in text
    )


def _check_end_record(file: BinaryIO, where: Location) -> None:
    """Bound the central directory before zipfile parses it, as zipfile does: from the end record
    (and its zip64 twin). Damage found here is left for zipfile to report."""
    size = file.seek(0, 2)
    end_size, locator_size, end64_size = 22, 20, 56
    window = min(size, end_size + 0xFFFF + locator_size + end64_size)
    file.seek(size - window)
    tail = file.read(window)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < end_size:
        return
    _, _, _, _, entries, directory_size, _, _ = struct.unpack("<4s4H2LH", tail[at : at + end_size])
    locator_at = at - locator_size
    end64_at = locator_at - end64_size
    if end64_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        record = tail[end64_at:locator_at]
        if record[:4] == b"PK\x06\x06":
            _, _, _, _, _, _, _, entries, directory_size, _ = struct.unpack("<4sQ2H2L4Q", record)
    if entries > MAX_MEMBERS or directory_size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise _refusal(where, TOO_MANY_MEMBERS, limit=_thousands(MAX_MEMBERS))


def _check_directory(archive: zipfile.ZipFile, where: Location) -> dict[str, zipfile.ZipInfo]:
    """Refuse from the declared sizes, before decompressing anything; return members by lower-case
    name (part names in the xlsx container are case-insensitive)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refusal(where, TOO_MANY_MEMBERS, limit=_thousands(MAX_MEMBERS))
    if sum(info.file_size for info in infos) > MAX_TOTAL_UNCOMPRESSED:
        raise _refusal(where, TOO_LARGE, limit=MAX_TOTAL_UNCOMPRESSED // MIB)
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if _too_compressed(info.file_size, info.compress_size):
            raise _refusal(where, TOO_COMPRESSED)
        # Encrypted members, foreign compression and duplicate names (which libraries resolve
        # differently) never occur in a workbook Excel wrote.
        encrypted = info.flag_bits & 0x1
        key = info.filename.lower()
        if encrypted or info.compress_type not in ALLOWED_COMPRESSION or key in members:
            raise _refusal(where, DAMAGED)
        members[key] = info
    return members


def _too_compressed(uncompressed: int, compressed: int) -> bool:
    return uncompressed > RATIO_MIN_SIZE and uncompressed > MAX_RATIO * max(compressed, 1)


class _Budget:
    """Real decompressed bytes across the whole file: the directory may lie, the stream cannot."""

    def __init__(self, where: Location):
        self.where = where
        self.total = 0

    def chunks(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, counted: int = 0
    ) -> Iterator[bytes]:
        """The member's bytes in chunks. A second pass over a member passes the bytes the first
        one `counted` already: only what lies beyond them adds to the total."""
        member_total = 0
        with _zip_errors(self.where), archive.open(info) as member:
            while chunk := member.read(CHUNK_SIZE):
                before, member_total = member_total, member_total + len(chunk)
                self.total += max(0, member_total - max(before, counted))
                if self.total > MAX_TOTAL_UNCOMPRESSED:
                    raise _refusal(self.where, TOO_LARGE, limit=MAX_TOTAL_UNCOMPRESSED // MIB)
                if _too_compressed(member_total, info.compress_size):
                    raise _refusal(self.where, TOO_COMPRESSED)
                yield chunk


# What zipfile raises for a damaged archive: a bad CRC or local header (BadZipFile), a corrupt or
# truncated deflate stream (zlib.error, EOFError), offsets pointing outside the file (ValueError,
# OSError), features Excel never uses (NotImplementedError, RuntimeError for encryption).
_ZIP_DAMAGE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    struct.error,
    OSError,
)


@contextmanager
def _zip_errors(where: Location) -> Iterator[None]:
    try:
        yield
    except PermissionError as error:
        # A region locked by another program (Excel on Windows) fails only when read.
        raise _refusal(where, CANNOT_OPEN) from error
    except _ZIP_DAMAGE as error:
        raise _refusal(where, DAMAGED) from error


def _parse(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: _Budget,
    handlers: Callable[[expat.XMLParserType], None] | None = None,
    *,
    observe: Callable[[bytes], None] | None = None,
    counted: int = 0,
) -> None:
    """Stream one XML part through expat, refusing any DTD: entity expansion (billion laughs) and
    external entities (file:///etc/passwd) both need one, and Excel never writes one.
    `observe` sees every chunk first; `counted`: see `_Budget.chunks`."""
    where = budget.where
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def refuse_dtd(*_: object) -> NoReturn:
        raise _refusal(where, DTD)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.UnparsedEntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    if handlers is not None:
        handlers(parser)
    fed = 0
    try:
        for chunk in budget.chunks(archive, info, counted=counted):
            if observe is not None:
                observe(chunk)
            parser.Parse(chunk, False)
            fed += len(chunk)
            # After Parse, CurrentByteIndex is where the last complete token ended.
            if fed - max(parser.CurrentByteIndex, 0) > MAX_TOKEN_BYTES:
                raise _refusal(where, DAMAGED)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise _refusal(where, DAMAGED) from error


def _local(name: str) -> str:
    """`namespace local` (expat's namespace_separator) -> `local`, so any prefix or namespace
    (transitional or strict OOXML) is accepted."""
    return name.rpartition(" ")[2]


@dataclass(frozen=True)
class _SheetEntry:
    name: str
    hidden: bool
    relationship_id: str


def _read_workbook(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget
) -> list[_SheetEntry]:
    sheets: list[_SheetEntry] = []
    seen: set[str] = set()
    where = budget.where

    def start(name: str, attributes: dict[str, str]) -> None:
        if _local(name) != "sheet":
            return
        relationship_id = next(
            (value for key, value in attributes.items() if " " in key and _local(key) == "id"), ""
        )
        sheet_name = attributes.get("name", "")
        # Excel compares sheet names case-insensitively; and every sheet is its own part, so a
        # list longer than the member cap is not a workbook (and would only cost memory).
        key = sheet_name.casefold()
        if not sheet_name or key in seen or len(sheets) >= MAX_MEMBERS:
            raise _refusal(where, DAMAGED)
        seen.add(key)
        hidden = attributes.get("state", "visible") in ("hidden", "veryHidden")
        sheets.append(_SheetEntry(sheet_name, hidden, relationship_id))

    def handlers(parser: expat.XMLParserType) -> None:
        parser.StartElementHandler = start

    _parse(archive, info, budget, handlers)
    return sheets


def _read_relationships(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget
) -> dict[str, str]:
    """Relationship id -> part name, resolving targets against xl/ as the xlsx container says.
    Refuses a workbook that links to other workbooks."""
    targets: dict[str, str] = {}
    where = budget.where

    def start(name: str, attributes: dict[str, str]) -> None:
        if _local(name) != "Relationship":
            return
        if attributes.get("Type", "").lower().endswith(EXTERNAL_LINK_TYPE):
            raise _refusal(where, EXTERNAL_LINKS)
        if attributes.get("TargetMode") == "External":
            return
        # Each relationship points to a part, so there cannot be more than there are members.
        if len(targets) >= MAX_MEMBERS:
            raise _refusal(where, DAMAGED)
        target = attributes.get("Target", "")
        if target.startswith("/"):
            part = target.lstrip("/")
        else:
            part = posixpath.normpath(posixpath.join(posixpath.dirname(WORKBOOK_PART), target))
        targets[attributes.get("Id", "")] = part.lower()

    def handlers(parser: expat.XMLParserType) -> None:
        parser.StartElementHandler = start

    _parse(archive, info, budget, handlers)
    return targets


class _Uncached:
    """Formula cells without a cached value across the workbook, refused past the cap."""

    def __init__(self, where: Location):
        self.where = where
        self.count = 0

    def add(self, refs: list[str], ref: str) -> None:
        self.count += 1
        if self.count > MAX_FORMULAS_WITHOUT_VALUE:
            raise _refusal(
                self.where, TOO_MANY_UNCACHED, limit=_thousands(MAX_FORMULAS_WITHOUT_VALUE)
            )
        refs.append(ref)


# A formula element and a row element, with or without a namespace prefix ("<f>", "<x:row r=...").
# Text or other elements can match as well ("a :row b"): that only sends the sheet to the full scan.
_FORMULA_TAG = re.compile(rb"[<:]f[\s/>]")
_ROW_TAG = re.compile(rb"[<:]row[\s/>]")
# A tag split over two chunks is found in the last bytes of the first chunk plus the next.
_TAG_OVERLAP = 4


class _FullScanNeeded(Exception):
    """The quick look found a formula or more row elements than the cap allows."""


class _QuickLook:
    """The first look at a worksheet part: no formulas, and no more rows than the cap?

    Nearly every sheet we read has no formulas and far fewer rows than the cap; such a sheet
    needs no Python call per element (`_SheetScan`), which was most of the time spent reading a
    national-scale budget. As soon as either shows, `feed` raises `_FullScanNeeded`: the full
    scan starts over, and only the part read so far was read twice. Each row element matches
    once (it is longer than the overlap, so it never lies wholly in the carried-over bytes);
    false matches only count too many."""

    def __init__(self) -> None:
        self.fed = 0  # bytes seen, all counted against the total already
        self.rows = 0
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        self.fed += len(chunk)
        data = self._tail + chunk
        self._tail = data[-_TAG_OVERLAP:]
        self.rows += len(_ROW_TAG.findall(data))
        if self.rows > MAX_FILLED_ROWS or _FORMULA_TAG.search(data):
            raise _FullScanNeeded


class _SheetScan:
    """Counts filled rows and finds uncached formulas in one worksheet, in O(1) memory apart from
    the formulas found. Cells without an `r` attribute (allowed by the format) get their position
    from the previous cell, as Excel does. The handlers run once per element, so they are kept
    lean: a hostile sheet within the size cap holds some ten million elements."""

    def __init__(self, where: Location, uncached: _Uncached):
        self.where = where
        self.uncached = uncached
        self.filled_rows = 0
        self.formulas_without_value: list[str] = []
        self._locals: dict[str, str] = {}
        self._in_data = False
        self._row = 0
        self._column = 0  # -1: not yet derived from self._ref, which only implied positions need
        self._row_filled = False
        self._in_cell = False
        self._ref = ""
        self._text_type = False
        self._has_formula = False
        self._has_value = False
        self._in_value = False

    def handlers(self, parser: expat.XMLParserType) -> None:
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text

    def _local(self, name: str) -> str:
        local = self._locals.get(name)
        if local is None:
            local = _local(name)
            # Bounded, so a sheet of ever new element names cannot grow it.
            if len(self._locals) < 64:
                self._locals[name] = local
        return local

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = self._local(name)
        if not self._in_data:
            self._in_data = local == "sheetData"
        elif local == "c":
            self._start_cell(attributes)
        elif not self._in_cell:
            if local == "row":
                self._row = _positive_int(attributes.get("r"), self._row + 1)
                self._column = 0
                self._ref = ""
                self._row_filled = False
        elif local == "f":
            self._has_formula = True
        elif local == "v":
            self._in_value = True
        elif local == "is":
            self._has_value = True

    def _start_cell(self, attributes: dict[str, str]) -> None:
        self._in_cell = True
        self._has_formula = self._has_value = self._in_value = False
        self._text_type = attributes.get("t") == "str"
        ref = attributes.get("r")
        if ref:
            self._ref = ref
            self._column = -1
            return
        if self._column < 0:
            self._column = _column_index(self._ref)
        self._column += 1
        self._ref = f"{_column_letters(self._column)}{self._row}"

    def text(self, data: str) -> None:
        if self._in_value:
            self._has_value = True

    def end(self, name: str) -> None:
        if not self._in_data:
            return
        local = self._local(name)
        if local == "c":
            self._end_cell()
        elif local == "v":
            # Excel stores a formula whose result is "" as t="str" with an empty <v>: that empty
            # string is the cached value. Without t="str" an empty <v/> is what openpyxl writes
            # for a formula it never calculated.
            self._has_value = self._has_value or self._text_type
            self._in_value = False
        elif local == "row" and not self._in_cell:
            if self._row_filled:
                self.filled_rows += 1
                if self.filled_rows > MAX_FILLED_ROWS:
                    raise _refusal(self.where, TOO_MANY_ROWS, limit=_thousands(MAX_FILLED_ROWS))
        elif local == "sheetData":
            self._in_data = False

    def _end_cell(self) -> None:
        self._in_cell = False
        if self._has_formula and not self._has_value:
            self.uncached.add(self.formulas_without_value, self._ref)
        if self._has_formula or self._has_value:
            self._row_filled = True


def _positive_int(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() else default


def _column_index(ref: str) -> int:
    """`"AB12"` -> 28; 0 when the reference has no column letters."""
    index = 0
    for char in ref:
        if not ("A" <= char <= "Z" or "a" <= char <= "z"):
            break
        index = index * 26 + (ord(char.upper()) - ord("A") + 1)
    return index


def _column_letters(index: int) -> str:
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _read_parts(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], where: Location
) -> WorkbookInfo:
    workbook = members.get(WORKBOOK_PART)
    if workbook is None:
        raise _refusal(where, NO_WORKBOOK)
    relationships = members.get(WORKBOOK_RELS_PART)
    if relationships is None:
        raise _refusal(where, DAMAGED)
    # A link part without its relationship is not a link Excel follows, but nothing a
    # coordinator's workbook holds either: refused too, from the directory alone.
    if any(key.startswith(EXTERNAL_LINK_FOLDER) for key in members):
        raise _refusal(where, EXTERNAL_LINKS)
    budget = _Budget(where)
    sheets = _read_workbook(archive, workbook, budget)
    targets = _read_relationships(archive, relationships, budget)

    sheet_by_part: dict[str, str] = {}
    for sheet in sheets:
        part = targets.get(sheet.relationship_id)
        if part is None or part not in members or part in (WORKBOOK_PART, WORKBOOK_RELS_PART):
            raise _refusal(Location(where.file, sheet.name), MISSING_SHEET, sheet=sheet.name)
        if part in sheet_by_part:  # two sheets sharing one part: Excel never writes that
            raise _refusal(where, DAMAGED)
        sheet_by_part[part] = sheet.name

    uncached = _Uncached(where)
    scans: dict[str, _SheetScan] = {}
    # Every member is decompressed once, in archive order: XML parts through the DTD guard, others
    # only counted, so no part that a library later opens escapes the size and CRC checks.
    for key, info in members.items():
        if key in (WORKBOOK_PART, WORKBOOK_RELS_PART):
            continue
        if key in sheet_by_part:
            sheet_name = sheet_by_part[key]
            look = _QuickLook()
            try:
                _parse(archive, info, budget, observe=look.feed)
            except _FullScanNeeded:
                scan = _SheetScan(Location(where.file, sheet_name), uncached)
                _parse(archive, info, budget, scan.handlers, counted=look.fed)
                scans[sheet_name] = scan
        elif key.endswith((".xml", ".rels")):
            _parse(archive, info, budget)
        else:
            for _ in budget.chunks(archive, info):
                pass

    names = tuple(sheet.name for sheet in sheets)
    return WorkbookInfo(
        sheet_names=names,
        hidden_sheets=frozenset(sheet.name for sheet in sheets if sheet.hidden),
        formulas_without_value={
            name: tuple(scans[name].formulas_without_value)
            for name in names
            if name in scans and scans[name].formulas_without_value
        },
    )
