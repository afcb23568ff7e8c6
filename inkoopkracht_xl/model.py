"""The domain model: immutable records read from the drop folder, and the findings about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Final, Literal, TypeVar, get_args

# The kinds and states below are stored in the register (SQLite) and in JSON, and compared as
# text: Literal aliases keep every value the very string it always was, while mypy refuses a
# value outside the alias (a misspelt kind) wherever the core passes or compares one.

# What an invoice is: a charge, a credit note (negative total), or the penvoerder's own share
# (no number, never sent).
InvoiceKind = Literal["factuur", "creditnota", "eigen aandeel"]
INVOICE: Final = "factuur"
CREDIT_NOTE: Final = "creditnota"
OWN_SHARE: Final = "eigen aandeel"
INVOICE_KINDS: Final[tuple[InvoiceKind, ...]] = get_args(InvoiceKind)

# What an invoice line settles: the network contribution, a project cost line, or a join's
# re-split of earlier costs. A correction line keeps the kind of the line it corrects.
LineKind = Literal["netwerk", "project", "toetreding"]
NETWORK_LINE: Final = "netwerk"
PROJECT_LINE: Final = "project"
JOIN_LINE: Final = "toetreding"
LINE_KINDS: Final[tuple[LineKind, ...]] = get_args(LineKind)

# Where the sending of an invoice stands (SPEC §2): never sent ('concept'), handed to the mail
# server with the outcome unknown ('bezig'), delivered ('verzonden'), or failed ('mislukt'; it
# may be sent again). The register's messages table holds the last three.
MessageState = Literal["concept", "bezig", "verzonden", "mislukt"]
DRAFT: Final = "concept"
SENDING: Final = "bezig"
SENT: Final = "verzonden"
FAILED: Final = "mislukt"
MESSAGE_STATES: Final[tuple[MessageState, ...]] = get_args(MessageState)
# An invoice, and so its period, is a draft or final: sent, or possibly sent (a message 'bezig').
InvoiceState = Literal["concept", "verzonden"]

# Category numbers of the calendar and their Dutch names as the jaarplan writes them.
CATEGORIES: dict[int, str] = {
    1: "Contractmanagement, evaluaties/verlengingen (eerder regionaal aanbesteed)",
    2: "Contractmanagement, aflopende contracten (eerder regionaal aanbesteed)",
    3: "Verkenning (nog niet eerder regionaal aanbesteed)",
    4: "Breed uitzoeken",
}


class Level(Enum):
    ERROR = "FOUT"
    WARNING = "WAARSCHUWING"


@dataclass(frozen=True, order=True)
class Location:
    """Where a finding points: file › sheet › cell. Sheet and cell may be empty for whole files."""

    file: str
    sheet: str = ""
    cell: str = ""

    def __str__(self) -> str:
        return " › ".join(part for part in (self.file, self.sheet, self.cell) if part)


@dataclass(frozen=True)
class Finding:
    """One thing the coordinator must know: what is wrong, where, and what to do about it."""

    level: Level
    location: Location
    message: str
    fix: str = ""

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR

    def text(self) -> str:
        """The finding as one Dutch line: `FOUT  file › sheet › cell: message. Fix.`"""
        tail = f" {self.fix}" if self.fix else ""
        message = self.message.rstrip(".")
        end = "" if message.endswith(("?", "!")) else "."
        return f"{self.level.value}  {self.location}: {message}{end}{tail}"


class RowKind(Enum):
    """What a row that is not data was read as (shown per sheet by `controleer`, listed on the
    Verantwoording sheet): never data, never an error."""

    NOTE = "opmerking"
    HEADING = "tussenkop"
    TOTAL = "totaalregel"


@dataclass(frozen=True)
class SkippedRow:
    """A row read as a note, a sub-heading or a (checked) total, with its text as typed."""

    kind: RowKind
    location: Location
    text: str


@dataclass(frozen=True, slots=True)
class Source:
    """The row a record came from, to point back at a cell: `source.at("Bedrag")` -> Location."""

    file: str
    sheet: str
    row: int  # 1-based, as Excel shows it
    columns: tuple[tuple[str, str], ...] = ()  # (field, column letter)

    def at(self, field_name: str = "") -> Location:
        letters = dict(self.columns)
        letter = letters.get(field_name, "")
        cell = f"{letter}{self.row}" if letter else f"rij {self.row}"
        return Location(self.file, self.sheet, cell)


def _no_source() -> Source:
    return Source("", "", 0)


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str
    name: str
    core: bool  # Rol = kern (the four founders); else extra
    cbs_code: str = ""
    source: Source = field(default_factory=_no_source, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Subject:
    """A tender on the calendar (Onderwerp)."""

    category: int
    name: str
    inventory_year: str  # "2024", "2023/2024", "Nader te bepalen" or ""
    participants: tuple[str, ...]
    joint_year: str = ""
    source: Source = field(default_factory=_no_source, compare=False, repr=False)


@dataclass(frozen=True)
class Calendar:
    municipalities: tuple[Municipality, ...]
    subjects: tuple[Subject, ...]

    def municipality(self, code: str) -> Municipality | None:
        return self._municipalities.get(code)

    def subject(self, name: str) -> Subject | None:
        return self._subjects.get(subject_key(name))

    # Indexes built once on first use; the records stay immutable (cached_property writes to
    # the instance dict, not through the frozen __setattr__).
    @cached_property
    def _municipalities(self) -> dict[str, Municipality]:
        found: dict[str, Municipality] = {}
        for municipality in self.municipalities:
            found.setdefault(municipality.code, municipality)
        return found

    def subjects_of(self, code: str) -> tuple[Subject, ...]:
        """The subjects a municipality takes part in, in calendar order."""
        return self._subjects_by_code.get(code, ())

    @cached_property
    def unclaimed(self) -> tuple[Subject, ...]:
        """The subjects no municipality has signed up for yet, in calendar order."""
        return tuple(s for s in self.subjects if not s.participants)

    @cached_property
    def _subjects_by_code(self) -> dict[str, tuple[Subject, ...]]:
        grouped: dict[str, list[Subject]] = {}
        for subject in self.subjects:
            for code in dict.fromkeys(subject.participants):
                grouped.setdefault(code, []).append(subject)
        return {code: tuple(subjects) for code, subjects in grouped.items()}

    @cached_property
    def _subjects(self) -> dict[str, Subject]:
        found: dict[str, Subject] = {}
        for subject in self.subjects:
            found.setdefault(subject_key(subject.name), subject)
        return found


def subject_key(name: str) -> str:
    """How subjects are matched across workbooks: case- and whitespace-insensitive."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Sender:
    """Who issues the invoices: the cooperation's name as the sender, and the penvoerder as the
    legal issuer ('Gemeente Zoetermeer, namens Inkoopkracht ZHW'), with what a finance department
    and an e-invoice need (SPEC §1, Instellingen)."""

    name: str = ""  # Afzender: the cooperation as the sender shows it
    address: str = ""  # Adres: a postal address (Postbus) as printed
    iban: str = ""  # canonical, in groups of four
    email: str = ""
    legal_name: str = ""  # Rechtspersoon: 'Gemeente Zoetermeer'
    street: str = ""  # Straat (with number)
    postcode: str = ""  # '2711 AB'
    city: str = ""  # Plaats
    kvk: str = ""  # 8 digits
    oin: str = ""  # 20 digits: the Peppol id (scheme 0190) and legal identifier
    vat_number: str = ""  # NL123456789B01, only where Btw = E
    contact_person: str = ""
    phone: str = ""
    bic: str = ""


@dataclass(frozen=True)
class Settings:
    year: int
    lead: str = ""  # Penvoerder: the municipality that pays the costs and sends the invoices
    method: str = "procent"  # or "exact"
    rounding: str = "euro"  # or "cent"
    invoice_prefix: str = "IK"
    payment_days: int = 30
    sender: Sender = Sender()
    vat_category: str = "O"  # Btw: 'O' not subject to VAT (default) or 'E' exempt
    vat_note: str = ""  # Btw-toelichting: the statement printed and put in the e-invoice
    einvoice: str = "peppol"  # E-factuur: 'peppol' (default), 'si-ubl' or 'nee'
    einvoice_set: bool = False  # whether E-factuur was filled in (then missing fields are errors)
    credit_method: str = (
        "verrekenen"  # Creditnota: 'verrekenen' or 'terugbetalen' (to Contacten IBAN)
    )
    cells: tuple[tuple[str, Location], ...] = field(default=(), compare=False, repr=False)
    # Keys filled in but unreadable (each an error at its cell): not reported again as missing.
    invalid: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def at(self, key: str) -> Location:
        """Where a setting was read (the Waarde cell), for findings about it."""
        return dict(self.cells).get(key, Location(""))


@dataclass(frozen=True)
class BudgetPost:
    name: str
    budgeted: Decimal
    realised: Decimal | None = None
    source: Source = field(default_factory=_no_source, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Population:
    code: str
    name: str
    inhabitants: int
    reference_date: date
    network: bool  # shares the network budget this year
    source_note: str = ""  # the Bron column
    source: Source = field(default_factory=_no_source, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CostLine:
    """A project cost (Projectkosten): split among the subject's participants on its date."""

    reference: str  # Kenmerk
    subject: str
    description: str
    date: date
    amount: Decimal
    split: str = "inwoners"  # or "gelijk"
    source: Source = field(default_factory=_no_source, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Join:
    """A municipality that joined a tender on a date (Toetredingen)."""

    subject: str
    code: str
    date: date
    source: Source = field(default_factory=_no_source, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Contact:
    """A municipality's row of Contacten: where its invoice goes, and who it is as a buyer."""

    code: str
    name: str
    emails: tuple[str, ...]
    cc: tuple[str, ...] = ()
    source: Source = field(default_factory=_no_source, compare=False, repr=False)
    legal_name: str = ""  # Rechtspersoon; default 'Gemeente <name>' where used
    street: str = ""
    postcode: str = ""
    city: str = ""
    oin: str = ""  # the buyer's Peppol id (scheme 0190)
    kvk: str = ""
    buyer_reference: str = ""  # Uw kenmerk (BT-10)
    order_number: str = ""  # Inkoopordernummer (BT-13)
    iban: str = ""  # where a credit note is paid back, when Creditnota = terugbetalen
    # Fields filled in but unreadable (each an error at its cell): not reported again as missing.
    invalid: tuple[str, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Budget:
    settings: Settings
    posts: tuple[BudgetPost, ...]
    populations: tuple[Population, ...]
    cost_lines: tuple[CostLine, ...] = ()
    joins: tuple[Join, ...] = ()
    contacts: tuple[Contact, ...] = ()

    @property
    def total_budgeted(self) -> Decimal:
        return sum((p.budgeted for p in self.posts), Decimal(0))

    def contact(self, code: str) -> Contact | None:
        """The municipality's row of the Contacten sheet (a code appears once), or None."""
        return self._contacts_by_code.get(code)

    @cached_property
    def _contacts_by_code(self) -> dict[str, Contact]:
        return {contact.code: contact for contact in self.contacts}

    @cached_property
    def joins_by_subject(self) -> dict[str, tuple[Join, ...]]:
        """Joins per subject (subject_key), in sheet order."""
        return _by_subject(self.joins)

    @cached_property
    def costs_by_subject(self) -> dict[str, tuple[CostLine, ...]]:
        """Cost lines per subject (subject_key), in sheet order."""
        return _by_subject(self.cost_lines)


R = TypeVar("R", CostLine, Join)


def _by_subject(records: tuple[R, ...]) -> dict[str, tuple[R, ...]]:
    """Records grouped by their subject's key, each group in the records' order."""
    grouped: dict[str, list[R]] = {}
    for record in records:
        grouped.setdefault(subject_key(record.subject), []).append(record)
    return {key: tuple(group) for key, group in grouped.items()}


@dataclass(frozen=True)
class Inputs:
    """Everything read from one drop folder."""

    folder: Path
    calendar_path: Path
    budget_path: Path
    calendar: Calendar
    budget: Budget


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line of an invoice: what it is for, how it was computed, and the amount (excl. BTW)."""

    kind: LineKind  # a correction keeps the kind it corrects
    description: str  # Dutch, as printed: "Voorschot netwerkbijdrage 2024 (50 %)"
    basis: str  # Dutch, how it was computed: "26,15 % van € 131.035"
    amount: Decimal
    reference: str = ""  # Kenmerk of the cost line, for project and join lines
    subject: str = ""  # the tender, for project and join lines
    cost_date: date | None = None  # date of the cost line
    cost_total: Decimal | None = None  # the whole cost line being split
    participants: tuple[str, ...] = ()  # codes sharing the cost line in this split
    join: str = ""  # the join this line settles: "subject|code|yyyy-mm-dd"


@dataclass(frozen=True)
class Invoice:
    """What one municipality is charged (or credited) for one period.

    The penvoerder gets no invoice: its lines form an own-share statement (kind "eigen aandeel",
    no number). A negative total is a creditnota.
    """

    code: str
    name: str
    period: str  # "2024-H1", "2024-H2" or "2024"
    year: int
    lines: tuple[InvoiceLine, ...]
    kind: InvoiceKind = INVOICE
    number: str = ""  # "IK-2024-0001"; empty for the penvoerder's own share
    issue_date: date | None = None
    due_date: date | None = None
    refers_to: str = ""  # for a correction: the number of the invoice it corrects

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def is_own_share(self) -> bool:
        return self.kind == OWN_SHARE
