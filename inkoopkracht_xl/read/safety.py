"""Refuses hostile or broken .xlsx files in bounded time and memory, before any library parses them.

The same scan collects what the sheet XML says about meaning beyond the values (hidden rows and
columns, struck-through and bold cells, formulas, an Excel table's totals row), so the reader never
needs a second XML parser."""

from __future__ import annotations

import bisect
import codecs
import io
import os
import posixpath
import re
import struct
import unicodedata
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NoReturn, TypeVar
from xml.parsers import expat

from ..errors import InputRefused
from ..model import Location

MIB = 1024 * 1024
T = TypeVar("T")

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
# Each hidden row, hidden column and struck-through cell becomes one finding as well. A workbook with
# more of them than this needs tidying rather than a list, and the cap bounds the memory they take.
# Rows hidden by a sheet's own filter count too (the filter is only known after the rows), so the cap
# is as high as the filled rows of a whole sheet.
MAX_MARKED = 200_000
# Bold text cells and formula texts are hints for recognising headings and total rows, not guards:
# past these numbers they are no longer recorded, which costs only the hints.
MAX_BOLD_CELLS = 100_000
MAX_FORMULAS = 10_000
MAX_FORMULA_CHARS = 500
# Excel's grid: 16.384 columns (XFD). A <col> range beyond it is cut off there.
MAX_COLUMNS = 16_384
# Decompressing in chunks of this size keeps memory flat whatever a member claims to hold.
CHUNK_SIZE = 1 * MIB
# expat keeps an unfinished token (a tag with its attributes, a comment) in memory until it ends.
# Excel's tokens are at most kilobytes; without this cap one attribute could fill the 200 MiB.
MAX_TOKEN_BYTES = 8 * MIB
# Where to look for an OLE2 stream name: the directory of an encrypted workbook sits near the start or
# the end of the file; scanning a bounded window at both ends keeps the check O(1) in the file size.
OLE_SCAN_BYTES = 4 * MIB
# The whole file is read into memory once (so the bytes checked are the bytes parsed and hashed).
# A workbook that can pass the guards holds at most the 64 MiB of content, a local header per member
# (mirroring the central directory, itself capped at 4 MiB), the central directory, and deflate's
# overhead on incompressible data (5 bytes per 64 KiB): a larger file is refused before it is read.
MAX_FILE_BYTES = MAX_TOTAL_UNCOMPRESSED + 2 * MAX_CENTRAL_DIRECTORY_BYTES + 1 * MIB
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
FILE_TOO_LARGE = (
    "is groter dan {limit} MB; zo groot is een kalender of begroting niet, het bestand is niet "
    "geopend.",
    "Controleer of dit de juiste werkmap is; verwijder afbeeldingen en overbodige werkbladen en "
    "sla opnieuw op.",
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
TOO_MANY_MARKED = (
    "heeft samen meer dan {limit} verborgen rijen, verborgen kolommen en doorgehaalde cellen.",
    "Maak verborgen rijen en kolommen zichtbaar of verwijder ze, haal doorhalingen weg die niet "
    "meer gelden, en sla opnieuw op.",
)


Cell = tuple[int, int]  # (1-based row, 0-based column), as the reader counts


@dataclass(frozen=True)
class WorkbookInfo:
    """What the guards learnt about a workbook while checking it.

    Every per-sheet dict holds only the sheets that have something to say. Rows are 1-based,
    columns 0-based (as the reader counts). Hidden rows and struck or bold cells are listed only
    when they hold a value or a formula, hidden columns only up to the last column that does:
    nothing else is read."""

    sheet_names: tuple[str, ...]  # in workbook order, from xl/workbook.xml
    hidden_sheets: frozenset[str]  # state="hidden" or "veryHidden"
    # sheet name -> refs ("C5") of formula cells without a cached value
    formulas_without_value: dict[str, tuple[str, ...]]
    # rows hidden by hand: hidden="1", but not inside the range of an active filter (the sheet's
    # autoFilter or an Excel table's, with at least one filterColumn), which hides rows by itself
    hidden_rows: dict[str, frozenset[int]] = field(default_factory=dict)
    # columns hidden via <col hidden="1">, up to the last column that holds data
    hidden_columns: dict[str, frozenset[int]] = field(default_factory=dict)
    # cells whose style's font is struck through
    struck_cells: dict[str, frozenset[Cell]] = field(default_factory=dict)
    # text cells whose style's font is bold; a hint, recorded up to MAX_BOLD_CELLS per workbook
    bold_cells: dict[str, frozenset[Cell]] = field(default_factory=dict)
    # every formula cell -> its text without "=" (cut at MAX_FORMULA_CHARS; "" for the followers
    # of a shared formula); a hint, recorded up to MAX_FORMULAS per workbook
    formulas: dict[str, dict[Cell, str]] = field(default_factory=dict)
    # rows that are an Excel table's totals row (totalsRowCount="1": the last row of its range)
    table_totals: dict[str, frozenset[int]] = field(default_factory=dict)
    # cells holding an error value (t="e": '#REF!', '#DEEL/0!'), which the parser gives as empty
    error_cells: dict[str, dict[Cell, str]] = field(default_factory=dict)


def read_xlsx(path: Path, display_name: str) -> bytes:
    """The whole file, read through one open: what the guards check is then what the parser reads
    and what the audit trail hashes, even when Excel saves a new file over the path meanwhile.
    A file larger than any workbook that can pass the guards is refused before it is read."""
    where = Location(display_name)
    try:
        with open(path, "rb") as file:
            if os.fstat(file.fileno()).st_size > MAX_FILE_BYTES:
                raise _refusal(where, FILE_TOO_LARGE, limit=MAX_FILE_BYTES // MIB)
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as error:
        raise _refusal(where, NOT_FOUND) from error
    except OSError as error:
        # On Windows, Excel holds a lock on an open workbook: PermissionError on open or read.
        raise _refusal(where, CANNOT_OPEN) from error
    if len(data) > MAX_FILE_BYTES:  # it grew between the size check and the read
        raise _refusal(where, FILE_TOO_LARGE, limit=MAX_FILE_BYTES // MIB)
    return data


def inspect_xlsx_data(data: bytes, display_name: str) -> WorkbookInfo:
    """Check a workbook's bytes (from `read_xlsx`) before any spreadsheet library reads them;
    raise `InputRefused` naming `display_name` (the file name the user knows) with a Dutch message
    and what to do."""
    return _inspect(io.BytesIO(data), Location(display_name))


def inspect_xlsx(path: Path, display_name: str) -> WorkbookInfo:
    """`read_xlsx` and `inspect_xlsx_data` in one, for a caller that needs only the facts."""
    return inspect_xlsx_data(read_xlsx(path, display_name), display_name)


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
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, base: str
) -> dict[str, tuple[str, str]]:
    """Relationship id -> (part name, kind), resolving targets against `base`, the folder of the
    part the relationships belong to, as the xlsx container says. The kind is the last segment of
    the relationship type, lower case ("worksheet", "styles", "table"), so transitional and strict
    OOXML read alike. Refuses a workbook that links to other workbooks."""
    targets: dict[str, tuple[str, str]] = {}
    where = budget.where

    def start(name: str, attributes: dict[str, str]) -> None:
        if _local(name) != "Relationship":
            return
        kind = attributes.get("Type", "").lower()
        if kind.endswith(EXTERNAL_LINK_TYPE):
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
            part = posixpath.normpath(posixpath.join(base, target))
        targets[attributes.get("Id", "")] = (part.lower(), kind.rpartition("/")[2])

    def handlers(parser: expat.XMLParserType) -> None:
        parser.StartElementHandler = start

    _parse(archive, info, budget, handlers)
    return targets


class _Tally:
    """Counts across the workbook. Uncached formulas and marked rows, columns and cells (each one
    a finding) are refused past their caps; bold cells and formula texts (hints) stop being
    recorded at theirs."""

    def __init__(self, where: Location):
        self.where = where
        self.uncached = 0
        self.marked = 0
        self.bold = 0
        self.formulas = 0

    def add_uncached(self, refs: list[str], ref: str) -> None:
        self.uncached += 1
        if self.uncached > MAX_FORMULAS_WITHOUT_VALUE:
            raise _refusal(
                self.where, TOO_MANY_UNCACHED, limit=_thousands(MAX_FORMULAS_WITHOUT_VALUE)
            )
        refs.append(ref)

    def add_marked(self, count: int) -> None:
        self.marked += count
        if self.marked > MAX_MARKED:
            raise _refusal(self.where, TOO_MANY_MARKED, limit=_thousands(MAX_MARKED))


# Font flags, and the flags of a cell format (through its font).
STRUCK = 1
BOLD = 2
STYLES_PART = "xl/styles.xml"  # where Excel keeps the formats when no relationship says otherwise
_OFF = frozenset({"0", "false", "off"})  # a <b val=...> or <strike val=...> that switches it off
_TRUE = frozenset({"1", "true"})  # hidden="1" as Excel writes it, hidden="true" as XML allows
_TEXT_TYPES = frozenset({"s", "inlineStr", "str"})  # shared string, inline text, text result
# Up to this many marked cell formats, the quick look searches for exactly those; beyond it (a
# workbook polluted with formats) any styled cell sends the sheet to the full scan.
MAX_TRIGGER_FORMATS = 256


class _Styles:
    """Which cell formats (a cell's `s`: an index into cellXfs) have a struck-through or bold
    font, and the quick look's trigger for cells that use one."""

    def __init__(self, flags: bytes = b""):
        self._flags = flags  # per cell format: STRUCK | BOLD
        self.cache: dict[str, int] = {}  # style as written -> flags, for the hot path
        marked = len(flags) - flags.count(0)  # counted, not listed: a file may hold millions
        self.any = marked > 0
        # A cell without `s` has format 0: when that one is marked, every cell is.
        self.every_cell = bool(flags[:1] and flags[0])
        self.trigger: re.Pattern[bytes] | None = None
        if marked > MAX_TRIGGER_FORMATS:
            self.trigger = re.compile(rb"""\ss\s*=""")
        elif marked:
            numbers = "|".join(str(i) for i, flag in enumerate(flags) if flag).encode()
            # Either quote, spaces around "=" and leading zeros, as XML and int() allow.
            self.trigger = re.compile(rb"""s\s*=\s*["']0*(?:""" + numbers + rb""")["']""")

    def flags(self, style: str) -> int:
        found = self.cache.get(style)
        if found is None:
            index = _index(style)
            found = self._flags[index] if 0 <= index < len(self._flags) else 0
            if len(self.cache) < 1024:  # bounded: a sheet can spell formats in endless ways
                self.cache[style] = found
        return found


class _StyleScan:
    """Reads xl/styles.xml: a flag byte per font of <fonts>, a font index per format of <cellXfs>.
    Fonts inside <dxfs> (conditional formats) and formats in <cellStyleXfs> (named styles) are
    not what a cell's `s` refers to. O(1) Python objects however many formats a file holds."""

    def __init__(self) -> None:
        self.font_flags = bytearray()
        self.format_fonts = array("i")  # 4 bytes each; _index stays below 10**9
        self._section = ""
        self._in_font = False

    def handlers(self, parser: expat.XMLParserType) -> None:
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = _local(name)
        if local in ("fonts", "cellXfs"):
            self._section = local
        elif self._section == "fonts":
            if local == "font":
                self.font_flags.append(0)
                self._in_font = True
            elif self._in_font and local in ("b", "strike"):
                if attributes.get("val", "1").lower() not in _OFF:
                    self.font_flags[-1] |= BOLD if local == "b" else STRUCK
        elif self._section == "cellXfs" and local == "xf":
            self.format_fonts.append(_index(attributes.get("fontId", "0")))

    def end(self, name: str) -> None:
        local = _local(name)
        if local == self._section:
            self._section = ""
        elif local == "font":
            self._in_font = False

    def styles(self) -> _Styles:
        fonts = self.font_flags
        if not any(fonts):
            return _Styles()
        return _Styles(bytes(fonts[f] if 0 <= f < len(fonts) else 0 for f in self.format_fonts))


# A formula element and a row element, with or without a namespace prefix ("<f>", "<x:row r=...").
# Text or other elements can match as well ("a :row b"): that only sends the sheet to the full scan.
_FORMULA_TAG = re.compile(rb"[<:]f[\s/>]")
_ROW_TAG = re.compile(rb"[<:]row[\s/>]")
# A hidden row or column (hidden="1" or "true", either quote, spaces around "=").
# A cell holding an error value (t="e"): located like a formula, so the reader can name it.
_ERROR_CELL = re.compile(rb"""\st\s*=\s*["']e["']""")
_HIDDEN_ATTRIBUTE = re.compile(rb"""hidden\s*=\s*["'](?:1|true)["']""")
# A tag split over two chunks is found in the last bytes of the first chunk plus the next.
_TAG_OVERLAP = 4
# The same for the attributes searched for; only the row count needs the exact overlap above.
_ATTRIBUTE_OVERLAP = 64


class _ScanComplete(Exception):
    """The scan has located everything the quick look saw; the rest of the part is known."""


class _FullScanNeeded(Exception):
    """The quick look found something only the full scan can locate, or more row elements than
    the cap allows."""


class _QuickLook:
    """The first look at a worksheet part: where is the last thing to locate, and are there no
    more rows than the cap?

    Nearly every sheet we read has no formulas, hidden rows or columns and far fewer rows than the
    cap, and its only struck-through or bold cells (if any) are the header at the top; such a sheet
    needs no Python call per element (`_SheetScan`) beyond that point, and calling one per element
    was most of the time spent reading a national-scale budget. So `feed` notes where the last
    formula or cell in a marked format ends (`last`, an offset in the part), and raises
    `_FullScanNeeded` when a scan of the whole part is needed anyway: a hidden row or column (the
    filter that may have hidden it comes after the rows), more rows than the cap, every cell
    marked, or things to locate in a second chunk (they are all over the part: stopping early
    would save little, reading on costs time). Either way the scan starts over, and only the part
    read so far was read twice. Each row element matches once (it is longer than the overlap, so
    it never lies wholly in the carried-over bytes); false matches only count too many, or make
    the scan look at more than it needed."""

    def __init__(self, styles: _Styles) -> None:
        self.fed = 0  # bytes seen, all counted against the total already
        self.rows = 0
        self.last = -1  # offset just past the last thing to locate; -1: nothing
        self._tail = b""
        self._patterns = [_FORMULA_TAG, _ERROR_CELL]
        if styles.trigger is not None:
            self._patterns.append(styles.trigger)
        self._every_cell = styles.every_cell

    def feed(self, chunk: bytes) -> None:
        if self._every_cell:
            raise _FullScanNeeded
        offset = self.fed - len(self._tail)  # of data[0] in the part
        self.fed += len(chunk)
        data = self._tail + chunk
        skip = len(self._tail)
        self.rows += len(_ROW_TAG.findall(data, max(0, skip - _TAG_OVERLAP)))
        self._tail = data[-_ATTRIBUTE_OVERLAP:]
        if self.rows > MAX_FILLED_ROWS or _HIDDEN_ATTRIBUTE.search(data):
            raise _FullScanNeeded
        # Only matches reaching past the carried-over bytes are new.
        last = max(_last_end(pattern, data) for pattern in self._patterns)
        if last > skip:
            if self.last >= 0:
                raise _FullScanNeeded
            self.last = offset + last


def _last_end(pattern: re.Pattern[bytes], data: bytes) -> int:
    """Where the last match of `pattern` in `data` ends; -1 without one."""
    end = -1
    for match in pattern.finditer(data):
        end = match.end()
    return end


class _SheetScan:
    """Counts filled rows and locates uncached formulas, formulas, hidden rows and columns, and
    struck-through and bold cells in one worksheet, in O(1) memory apart from what it finds (which
    the caps bound). Cells without an `r` attribute (allowed by the format) get their position
    from the previous cell, as Excel does. The handlers run once per element, so they are kept
    lean: a hostile sheet within the size cap holds some ten million elements."""

    def __init__(self, where: Location, tally: _Tally, styles: _Styles, *, last: int = -1):
        """`last`: the offset in the part after which the quick look, having read all of it, saw
        nothing to locate (its `last`); the scan raises `_ScanComplete` at the first row end
        beyond it. -1: scan it all."""
        self.where = where
        self.tally = tally
        self._last = last
        self._parser: expat.XMLParserType | None = None
        self.filled_rows = 0  # exact only for a whole scan; the quick look bounded it otherwise
        self.formulas_without_value: list[str] = []
        self.formulas: dict[Cell, str] = {}
        self.hidden_rows: list[int] = []
        self.hidden_columns: list[int] = []
        self.struck: list[Cell] = []
        self.bold: list[Cell] = []
        self.errors: dict[Cell, str] = {}
        self._error_text = ""
        self._styles = styles if styles.any else None
        self._style_cache = styles.cache
        self._locals: dict[str, str] = {}
        self._in_data = False
        self._data_seen = False
        self._row = 0
        self._column = 0  # -1: not yet derived from self._ref, which only implied positions need
        self._row_filled = False
        self._row_hidden = False
        self._in_cell = False
        self._ref = ""
        self._last_filled = ""  # ref of the row's last cell holding data
        self._cell_type: str | None = None
        self._style = "0"
        self._has_formula = False
        self._has_value = False
        self._in_value = False
        self._in_formula = False
        self._formula = ""
        # <col hidden="1"> ranges (1-based, inclusive), and the last column holding data (1-based),
        # which is only tracked once a column is hidden: hidden columns beyond it hold nothing.
        self._hidden_ranges: list[tuple[int, int]] = []
        self._width = 0
        # The sheet's own autoFilter: its range, and whether a filterColumn makes it hide rows.
        self._filter_ref = ""
        self._filter_open = True  # it may still come
        self._in_filter = False
        self._filter_active = False

    def handlers(self, parser: expat.XMLParserType) -> None:
        self._parser = parser
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
        local = self._locals.get(name) or self._local(name)
        if not self._in_data:
            self._start_outside_data(local, attributes)
        elif local == "c":
            # The hot path, inline: most elements of a sheet are cells and their values.
            self._in_cell = True
            self._has_formula = self._has_value = self._in_value = False
            self._cell_type = attributes.get("t")
            self._style = attributes.get("s", "0")
            ref = attributes.get("r")
            if ref:
                self._ref = ref
                self._column = -1
            else:
                self._imply_ref()
        elif not self._in_cell:
            if local == "row":
                self._row = _positive_int(attributes.get("r"), self._row + 1)
                self._column = 0
                self._ref = ""
                self._row_filled = False
                self._row_hidden = attributes.get("hidden") in _TRUE
        elif local == "v":
            self._in_value = True
        elif local == "f":
            self._has_formula = self._in_formula = True
            self._formula = ""
        elif local == "is":
            self._has_value = True

    def _start_outside_data(self, local: str, attributes: dict[str, str]) -> None:
        if local == "sheetData":
            self._in_data = self._data_seen = True
        elif local == "col":
            if attributes.get("hidden") in _TRUE:
                self._hide_columns(attributes)
        elif local == "autoFilter":
            if self._filter_open:
                self._filter_open = False
                self._in_filter = True
                self._filter_ref = attributes.get("ref", "")
        elif local == "filterColumn":
            self._filter_active = self._filter_active or self._in_filter
        elif local == "customSheetViews":
            # A custom view's autoFilter is not the sheet's own (which comes before the views).
            self._filter_open = False

    def _hide_columns(self, attributes: dict[str, str]) -> None:
        first = _index(attributes.get("min", ""))
        last = min(_index(attributes.get("max", "")), MAX_COLUMNS)
        if first < 1 or last < first:
            return
        # Excel writes one <col> per run of columns: never more than the grid has.
        if len(self._hidden_ranges) >= MAX_COLUMNS:
            raise _refusal(self.where, DAMAGED)
        self._hidden_ranges.append((first, last))
        if self._data_seen:  # <cols> after the data (Excel writes it before): width unknown
            self._width = MAX_COLUMNS

    def _imply_ref(self) -> None:
        """A cell without `r` sits right of the previous one."""
        if self._column < 0:
            self._column = _column_index(self._ref)
        self._column += 1
        self._ref = f"{_column_letters(self._column)}{self._row}"

    def text(self, data: str) -> None:
        if self._in_value:
            self._has_value = True
            if self._cell_type == "e" and len(self._error_text) < 32:
                self._error_text += data
        elif self._in_formula and len(self._formula) <= MAX_FORMULA_CHARS:
            self._formula += data

    def end(self, name: str) -> None:
        if not self._in_data:
            if self._in_filter and self._local(name) == "autoFilter":
                self._in_filter = False
            return
        local = self._locals.get(name) or self._local(name)
        if local == "c":
            # The hot path, inline (see start).
            self._in_cell = False
            if self._cell_type == "e":
                self._end_error()
            if self._has_formula:
                self._end_formula()
            elif not self._has_value:
                return
            self._row_filled = True
            self._last_filled = self._ref
            if self._styles is not None:
                flags = self._style_cache.get(self._style)
                if flags is None:
                    flags = self._styles.flags(self._style)
                if flags:
                    self._mark(flags)
        elif local == "v":
            # Excel stores a formula whose result is "" as t="str" with an empty <v>: that empty
            # string is the cached value. Without t="str" an empty <v/> is what openpyxl writes
            # for a formula it never calculated.
            self._has_value = self._has_value or self._cell_type == "str"
            self._in_value = False
        elif local == "f":
            self._in_formula = False
        elif local == "row" and not self._in_cell:
            self._end_row()
        elif local == "sheetData":
            self._in_data = False

    def _end_row(self) -> None:
        if self._row_filled:
            self.filled_rows += 1
            if self.filled_rows > MAX_FILLED_ROWS:
                raise _refusal(self.where, TOO_MANY_ROWS, limit=_thousands(MAX_FILLED_ROWS))
            if self._row_hidden:
                self.hidden_rows.append(self._row)  # at most one per filled row: the cap bounds it
            if self._hidden_ranges:
                self._width = max(self._width, _column_index(self._last_filled))
        parser = self._parser
        if self._last >= 0 and parser is not None and parser.CurrentByteIndex >= self._last:
            # Every cell the quick look matched ended before this row did, and the quick look
            # read the whole part through the guards already: nothing is left to do.
            raise _ScanComplete

    def _end_error(self) -> None:
        text, self._error_text = self._error_text.strip(), ""
        if len(self.errors) < MAX_FORMULAS and (position := _position(self._ref)) is not None:
            self.errors[position] = text or "#FOUT"

    def _end_formula(self) -> None:
        if not self._has_value:
            self.tally.add_uncached(self.formulas_without_value, self._ref)
        if self.tally.formulas >= MAX_FORMULAS:
            return
        position = _position(self._ref)
        if position is None:
            return
        text = self._formula[1:] if self._formula.startswith("=") else self._formula
        self.formulas[position] = text[:MAX_FORMULA_CHARS]
        self.tally.formulas += 1

    def _mark(self, flags: int) -> None:
        struck = flags & STRUCK
        bold = flags & BOLD and self._cell_type in _TEXT_TYPES and self.tally.bold < MAX_BOLD_CELLS
        if not (struck or bold):
            return
        position = _position(self._ref)
        if position is None:
            return
        if struck:
            self.tally.add_marked(1)
            self.struck.append(position)
        if bold:
            self.tally.bold += 1
            self.bold.append(position)

    def finish(self) -> None:
        """After the part: leave out the rows the sheet's own filter hides, cut the hidden columns
        at the data, and count both against the cap."""
        if self._filter_active and self.hidden_rows:
            span = _row_span(self._filter_ref)
            if span is not None:
                self.hidden_rows = _not_filtered(self.hidden_rows, [span])
        if self._hidden_ranges and self._width:
            hidden: set[int] = set()
            for first, last in self._hidden_ranges:
                hidden.update(range(first - 1, min(last, self._width)))
                if len(hidden) >= self._width:
                    break
            self.hidden_columns = sorted(hidden)
        self.tally.add_marked(len(self.hidden_rows) + len(self.hidden_columns))


class _TableScan:
    """An Excel table part (xl/tables/tableN.xml): its totals row, and the rows its own filter
    spans when a filterColumn makes that filter hide rows."""

    def __init__(self) -> None:
        self.totals_row: int | None = None
        self.filter: tuple[int, int] | None = None
        self._seen_table = False
        self._filter_seen = False
        self._filter_ref = ""
        self._in_filter = False

    def handlers(self, parser: expat.XMLParserType) -> None:
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = _local(name)
        if local == "table" and not self._seen_table:
            self._seen_table = True
            span = _row_span(attributes.get("ref", ""))
            # totalsRowCount is how many totals rows the range ends with (Excel: 0 or 1);
            # totalsRowShown only says whether one was ever shown.
            if span is not None and _positive_int(attributes.get("totalsRowCount"), 0) >= 1:
                self.totals_row = span[1]
        elif local == "autoFilter" and not self._filter_seen:
            self._filter_seen = self._in_filter = True
            self._filter_ref = attributes.get("ref", "")
        elif local == "filterColumn" and self._in_filter:
            self.filter = _row_span(self._filter_ref)

    def end(self, name: str) -> None:
        if self._in_filter and _local(name) == "autoFilter":
            self._in_filter = False


def _not_filtered(rows: list[int], spans: list[tuple[int, int]]) -> list[int]:
    """`rows` without those a filter over one of `spans` (first, last row) hides: a filter's
    first row is its header, which it never hides."""
    merged: list[list[int]] = []
    for first, last in sorted((first + 1, last) for first, last in spans if first < last):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    starts = [first for first, _ in merged]
    kept = []
    for row in rows:
        at = bisect.bisect_right(starts, row) - 1
        if at < 0 or row > merged[at][1]:
            kept.append(row)
    return kept


def _positive_int(text: str | None, default: int) -> int:
    """A number of at most nine digits (rows and counts); anything else is `default`."""
    index = _index(text)
    return index if index >= 0 else default


def _index(text: str | None) -> int:
    """`text` as a number of at most nine ASCII digits, else -1 (isdigit alone also accepts "²",
    which int() refuses, and a longer number is no position or index a workbook can hold)."""
    if text and len(text) <= 9 and text.isascii() and text.isdigit():
        return int(text)
    return -1


def _column_index(ref: str) -> int:
    """`"AB12"` -> 28; 0 when the reference has no column letters. Only the first characters are
    looked at: a real reference has at most three letters (XFD), and a hostile one of a million
    letters would otherwise make a number of a million digits."""
    index = 0
    for char in ref[:8]:
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


# A cell reference within Excel's grid (XFD1048576), and a range of them or of whole columns.
_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_RANGE_REF = re.compile(
    r"\$?[A-Za-z]{1,3}\$?([0-9]{1,7})(?::\$?[A-Za-z]{1,3}\$?([0-9]{1,7}))?"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}"
)
MAX_ROWS = 1_048_576  # Excel's grid


def _position(ref: str) -> Cell | None:
    """`"C5"` -> (5, 2): 1-based row, 0-based column; None for a reference outside the grid."""
    match = _CELL_REF.fullmatch(ref)
    if match is None:
        return None
    return int(match[2]), _column_index(match[1]) - 1


def _row_span(ref: str) -> tuple[int, int] | None:
    """`"A1:D20"` -> (1, 20); `"A:D"` -> every row; None when `ref` is no range."""
    match = _RANGE_REF.fullmatch(ref.strip())
    if match is None:
        return None
    if match[1] is None:
        return 1, MAX_ROWS
    first, last = int(match[1]), int(match[2] or match[1])
    return min(first, last), max(first, last)


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
    targets = _read_relationships(archive, relationships, budget, posixpath.dirname(WORKBOOK_PART))
    done = {WORKBOOK_PART, WORKBOOK_RELS_PART}  # parts read already
    sheet_by_part = _sheet_parts(sheets, targets, members, done, where)
    # Before the sheets: the formats (which cells are struck through or bold), and each sheet's
    # relationships (which table parts are its tables).
    styles = _read_styles(archive, members, targets, budget, done, sheet_by_part)
    table_sheet = _table_parts(archive, members, budget, done, sheet_by_part)
    scans, tables = _scan_members(
        archive, members, budget, done, sheet_by_part, table_sheet, styles
    )
    totals = _apply_tables(tables, scans)
    return _workbook_info(sheets, scans, totals)


def _sheet_parts(
    sheets: list[_SheetEntry],
    targets: dict[str, tuple[str, str]],
    members: dict[str, zipfile.ZipInfo],
    done: set[str],
    where: Location,
) -> dict[str, str]:
    """Part name -> sheet name; refuses a sheet without its own part."""
    sheet_by_part: dict[str, str] = {}
    for sheet in sheets:
        part = targets.get(sheet.relationship_id, ("", ""))[0]
        if part not in members or part in done:
            raise _refusal(Location(where.file, sheet.name), MISSING_SHEET, sheet=sheet.name)
        if part in sheet_by_part:  # two sheets sharing one part: Excel never writes that
            raise _refusal(where, DAMAGED)
        sheet_by_part[part] = sheet.name
    return sheet_by_part


def _read_styles(
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    targets: dict[str, tuple[str, str]],
    budget: _Budget,
    done: set[str],
    sheet_by_part: dict[str, str],
) -> _Styles:
    """The workbook's cell formats, when it has a styles part of its own (added to `done`)."""
    styles_part = next((part for part, kind in targets.values() if kind == "styles"), STYLES_PART)
    if styles_part not in members or styles_part in done or styles_part in sheet_by_part:
        return _Styles()
    style_scan = _StyleScan()
    _parse(archive, members[styles_part], budget, style_scan.handlers)
    done.add(styles_part)
    return style_scan.styles()


def _table_parts(
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    budget: _Budget,
    done: set[str],
    sheet_by_part: dict[str, str],
) -> dict[str, str]:
    """Table part -> its sheet, from each sheet's relationships (added to `done`)."""
    table_sheet: dict[str, str] = {}
    for part, sheet_name in sheet_by_part.items():
        folder, file_name = posixpath.split(part)
        sheet_rels = posixpath.join(folder, "_rels", f"{file_name}.rels")
        info = members.get(sheet_rels)
        if info is None or sheet_rels in done or sheet_rels in sheet_by_part:
            continue
        done.add(sheet_rels)
        for target, kind in _read_relationships(archive, info, budget, folder).values():
            if kind == "table":
                table_sheet.setdefault(target, sheet_name)
    return table_sheet


def _scan_members(
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    budget: _Budget,
    done: set[str],
    sheet_by_part: dict[str, str],
    table_sheet: dict[str, str],
    styles: _Styles,
) -> tuple[dict[str, _SheetScan], list[tuple[str, _TableScan]]]:
    """Every member not read yet: the sheets scanned, the tables read, the rest checked."""
    tally = _Tally(budget.where)
    scans: dict[str, _SheetScan] = {}
    tables: list[tuple[str, _TableScan]] = []
    # Every member is decompressed once, in archive order: XML parts through the DTD guard, others
    # only counted, so no part that a library later opens escapes the size and CRC checks.
    for key, info in members.items():
        if key in done:
            continue
        if key in sheet_by_part:
            sheet_name = sheet_by_part[key]
            scan = _scan_sheet(archive, info, budget, styles, tally, sheet_name)
            if scan is not None:
                scans[sheet_name] = scan
        elif key in table_sheet:
            table = _TableScan()
            _parse(archive, info, budget, table.handlers)
            tables.append((table_sheet[key], table))
        elif key.endswith((".xml", ".rels")):
            _parse(archive, info, budget)
        else:
            for _ in budget.chunks(archive, info):
                pass
    return scans, tables


def _scan_sheet(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: _Budget,
    styles: _Styles,
    tally: _Tally,
    sheet_name: str,
) -> _SheetScan | None:
    """One sheet: a quick look first, the full scan only where the quick look needs it (None: the
    quick look found nothing to scan)."""
    look = _QuickLook(styles)
    try:
        _parse(archive, info, budget, observe=look.feed)
    except _FullScanNeeded:
        look.last = -1
    else:
        if look.last < 0:
            return None
    scan = _SheetScan(Location(budget.where.file, sheet_name), tally, styles, last=look.last)
    try:
        _parse(archive, info, budget, scan.handlers, counted=look.fed)
    except _ScanComplete:
        pass
    scan.finish()
    return scan


def _apply_tables(
    tables: list[tuple[str, _TableScan]], scans: dict[str, _SheetScan]
) -> dict[str, set[int]]:
    """Sheet -> its tables' totals rows; rows a table's filter hides are no longer hidden rows."""
    totals: dict[str, set[int]] = {}
    table_filters: dict[str, list[tuple[int, int]]] = {}
    for sheet_name, table in tables:
        if table.totals_row is not None:
            totals.setdefault(sheet_name, set()).add(table.totals_row)
        if table.filter is not None:
            table_filters.setdefault(sheet_name, []).append(table.filter)
    for sheet_name, spans in table_filters.items():
        if sheet_name in scans:
            scan = scans[sheet_name]
            scan.hidden_rows = _not_filtered(scan.hidden_rows, spans)
    return totals


def _workbook_info(
    sheets: list[_SheetEntry], scans: dict[str, _SheetScan], totals: dict[str, set[int]]
) -> WorkbookInfo:
    names = tuple(sheet.name for sheet in sheets)

    def per_sheet(found: Callable[[_SheetScan], T]) -> dict[str, T]:
        """`found` for every scanned sheet where it is not empty, in workbook order."""
        facts = ((name, found(scans[name])) for name in names if name in scans)
        return {name: fact for name, fact in facts if fact}

    return WorkbookInfo(
        sheet_names=names,
        hidden_sheets=frozenset(sheet.name for sheet in sheets if sheet.hidden),
        formulas_without_value=per_sheet(lambda scan: tuple(scan.formulas_without_value)),
        hidden_rows=per_sheet(lambda scan: frozenset(scan.hidden_rows)),
        hidden_columns=per_sheet(lambda scan: frozenset(scan.hidden_columns)),
        struck_cells=per_sheet(lambda scan: frozenset(scan.struck)),
        bold_cells=per_sheet(lambda scan: frozenset(scan.bold)),
        formulas=per_sheet(lambda scan: scan.formulas),
        table_totals={name: frozenset(totals[name]) for name in names if name in totals},
        error_cells=per_sheet(lambda scan: scan.errors),
    )
