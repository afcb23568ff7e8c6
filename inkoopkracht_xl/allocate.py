"""The verdeelsleutel (network budget split by population) and the participation matrices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .model import Budget, Calendar, Population, Subject
from .money import CENT, apportion, format_euro, from_cents, to_cents

METHODS = ("procent", "exact")
ROUNDINGS = ("euro", "cent")
BASIS_POINTS = 10_000  # 100.00 %


@dataclass(frozen=True)
class KeyShare:
    """One member's line in the verdeelsleutel."""

    code: str
    name: str
    inhabitants: int
    percentage: Decimal  # two decimals, e.g. Decimal("26.15")
    amount: Decimal  # quantized to 0.01, also when the key is in whole euros


@dataclass(frozen=True)
class AllocationKey:
    """The network budget of one year split over the members; shares sum to `total` exactly."""

    year: int
    method: str  # "procent" or "exact"
    rounding: str  # the unit actually used: "euro" or "cent"
    total: Decimal
    shares: tuple[KeyShare, ...]
    notes: tuple[str, ...] = ()  # Dutch remarks for the coordinator, e.g. why cents were used

    @property
    def total_inhabitants(self) -> int:
        return sum(share.inhabitants for share in self.shares)

    def share(self, code: str) -> KeyShare | None:
        return next((share for share in self.shares if share.code == code), None)


def allocation_key(budget: Budget, total: Decimal | None = None) -> AllocationKey:
    """The verdeelsleutel of `budget.settings.year` for `total` (default: the budgeted total).

    Members are the populations with Netwerk = ja, in the order of the Inwoners sheet.
    - `procent` (the jaarplan's way): percentages in basis points by largest remainder, summing
      to exactly 100.00 %; then the total split by those basis points.
    - `exact`: the total split by the inhabitants themselves; percentages only shown.
    Both splits use `apportion` with the population as tie-break. The unit is whole euros when
    Afronding = euro and the total is whole euros, otherwise cents (with a note when Afronding
    asked for euros).
    """
    settings = budget.settings
    _check_settings(settings.method, settings.rounding)
    members = _network_members(budget)

    total = budget.total_budgeted if total is None else total
    cents = to_cents(total)
    rounding, units, notes = _split_unit(settings.rounding, total, cents)

    inhabitants = {p.code: p.inhabitants for p in members}
    basis_points = apportion(BASIS_POINTS, inhabitants, priority=inhabitants)
    weights = basis_points if settings.method == "procent" else inhabitants
    amounts = apportion(units, weights, priority=inhabitants)

    shares = tuple(
        KeyShare(
            code=p.code,
            name=p.name,
            inhabitants=p.inhabitants,
            percentage=(Decimal(basis_points[p.code]) / 100).quantize(CENT),
            amount=_units_to_money(amounts[p.code], rounding),
        )
        for p in members
    )
    return AllocationKey(
        year=settings.year,
        method=settings.method,
        rounding=rounding,
        total=from_cents(cents),
        shares=shares,
        notes=notes,
    )


def _check_settings(method: str, rounding: str) -> None:
    """Refuse an unknown Verdeelmethode or Afronding."""
    if method not in METHODS:
        raise ValueError(f"Onbekende verdeelmethode '{method}'; kies 'procent' of 'exact'.")
    if rounding not in ROUNDINGS:
        raise ValueError(f"Onbekende afronding '{rounding}'; kies 'euro' of 'cent'.")


def _network_members(budget: Budget) -> list[Population]:
    """The populations with Netwerk = ja (sheet order); refused when empty, doubled or zero."""
    members = [p for p in budget.populations if p.network]
    if not members:
        raise ValueError(
            f"Geen enkele gemeente heeft Netwerk = ja voor {budget.settings.year}; "
            "zet bij de deelnemers van het netwerk 'ja' in het blad Inwoners."
        )
    codes = [p.code for p in members]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ValueError(
            f"Gemeente {', '.join(duplicates)} staat meer dan eens met Netwerk = ja in het blad "
            "Inwoners; laat één rij per gemeente staan."
        )
    negative = [p.code for p in members if p.inhabitants < 0]
    if negative:
        raise ValueError(
            f"Negatief aantal inwoners bij {', '.join(negative)}; vul het CBS-aantal in."
        )
    if sum(p.inhabitants for p in members) == 0:
        raise ValueError(
            "Het totaal aantal inwoners van de netwerkgemeenten is nul; "
            "vul de CBS-aantallen in het blad Inwoners in."
        )
    return members


def _split_unit(asked: str, total: Decimal, cents: int) -> tuple[str, int, tuple[str, ...]]:
    """The unit actually used ("euro" or "cent"), `total` in that unit, and any note about it.

    Whole euros only when Afronding = euro and the total has no cents; otherwise cents, with a
    note when euros were asked for.
    """
    if asked == "euro" and cents % 100 == 0:
        return "euro", cents // 100, ()
    if asked != "euro":
        return "cent", cents, ()
    note = (
        f"Het te verdelen totaal {format_euro(total)} bevat centen; daarom is op centen "
        "verdeeld in plaats van op hele euro's (Afronding = euro), zodat de bijdragen "
        "precies optellen tot het totaal."
    )
    return "cent", cents, (note,)


def _units_to_money(amount_units: int, rounding: str) -> Decimal:
    """An amount in the split unit as Decimal euros with two decimals."""
    return Decimal(amount_units).quantize(CENT) if rounding == "euro" else from_cents(amount_units)


@dataclass(frozen=True)
class ParticipationMatrix:
    """Subjects × municipalities: who takes part in which tender (the Deelnamematrix)."""

    # Core municipalities (calendar order), then extras, then unknown codes in order of first
    # appearance in the calendar (so they stay visible, never dropped).
    columns: tuple[str, ...]
    unknown: frozenset[str]  # participant codes missing from the Gemeenten sheet
    # Grouped by category 1..4, calendar order within a category.
    rows: tuple[tuple[Subject, frozenset[str]], ...]

    def row_totals(self, subject: Subject) -> int:
        """How many municipalities take part in `subject` (unknown codes included)."""
        for row_subject, codes in self.rows:
            if row_subject == subject:
                return len(codes)
        raise KeyError(f"onderwerp '{subject.name}' staat niet in de deelnamematrix")

    def column_totals(self) -> dict[str, int]:
        """Per column code, in column order: the number of subjects it takes part in."""
        totals = dict.fromkeys(self.columns, 0)
        for _, codes in self.rows:
            for code in codes:
                totals[code] += 1
        return totals


def _known_columns(calendar: Calendar) -> tuple[str, ...]:
    core = [m.code for m in calendar.municipalities if m.core]
    extra = [m.code for m in calendar.municipalities if not m.core]
    return tuple(dict.fromkeys(core + extra))


def participation_matrix(calendar: Calendar) -> ParticipationMatrix:
    """The Deelnamematrix of `calendar`; unknown participant codes get their own columns."""
    known = _known_columns(calendar)
    known_set = set(known)
    unknown = [
        code
        for subject in calendar.subjects
        for code in subject.participants
        if code not in known_set
    ]
    unknown_columns = tuple(dict.fromkeys(unknown))
    # sorted() is stable, so calendar order is kept within a category.
    ordered = sorted(calendar.subjects, key=lambda subject: subject.category)
    return ParticipationMatrix(
        columns=known + unknown_columns,
        unknown=frozenset(unknown_columns),
        rows=tuple((subject, frozenset(subject.participants)) for subject in ordered),
    )


@dataclass(frozen=True)
class Collaboration:
    """Municipality × municipality: in how many subjects both take part (the Samenwerking sheet).

    `codes`: the known codes (core first, then extras, as in the Deelnamematrix); unknown codes
    are left out, they are not municipalities we can name. `shared[i][j]` for j ≥ i: the subjects
    codes[i] and codes[j] share, on the diagonal the subjects of codes[i] itself. The matrix is
    symmetric, so only this upper triangle is kept: lists of ints, no dict of codes² pairs.
    """

    codes: tuple[str, ...]
    shared: list[list[int]]

    def count(self, a: str, b: str) -> int:
        i, j = sorted((self.codes.index(a), self.codes.index(b)))
        return self.shared[i][j]


def collaboration_matrix(calendar: Calendar) -> Collaboration:
    """The Samenwerking counts of `calendar` (see `Collaboration`)."""
    codes = _known_columns(calendar)
    index = {code: position for position, code in enumerate(codes)}
    members = [
        sorted({index[code] for code in subject.participants if code in index})
        for subject in calendar.subjects
    ]
    # Two ways to count, the same result: the one with less work. Tenders of a few participants
    # each: count their pairs (linear in the subjects). Tenders everyone joins: one bit per
    # subject for each municipality and a popcount per pair of them, as pairs would number
    # subjects × codes².
    pairs = sum(len(positions) * (len(positions) - 1) // 2 for positions in members)
    if pairs <= _PAIRS_PER_CELL * len(codes) ** 2:
        return Collaboration(codes, _count_pairs(members, len(codes)))
    return Collaboration(codes, _count_by_masks(members, len(codes)))


# Counting pairs one by one wins while there are at most this many per cell of the matrix.
# Measured (scripts/bench.py's machine): a pair costs 34 ns, a popcount over 5.000 subjects
# 0,6 µs, and there are half as many popcounts as cells: the break-even is about 8.
_PAIRS_PER_CELL = 8


def _count_pairs(members: list[list[int]], size: int) -> list[list[int]]:
    """Upper triangle (and diagonal) of shared subjects, from each subject's sorted positions."""
    shared = [[0] * size for _ in range(size)]
    for positions in members:
        for n, i in enumerate(positions):
            row = shared[i]
            row[i] += 1
            for j in positions[n + 1 :]:
                row[j] += 1
    return shared


def _count_by_masks(members: list[list[int]], size: int) -> list[list[int]]:
    """As `_count_pairs`, in codes² big-int ANDs whatever the number of participants."""
    masks = [0] * size
    for bit, positions in enumerate(members):
        for position in positions:
            masks[position] |= 1 << bit
    shared = [[0] * size for _ in range(size)]
    for i, mask in enumerate(masks):
        row = shared[i]
        row[i] = mask.bit_count()
        for j in range(i + 1, size):
            row[j] = (mask & masks[j]).bit_count()
    return shared
