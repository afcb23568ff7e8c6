"""What changed between two readings of a drop folder, as the new invoices see it (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, TypeVar, Union

from .model import (
    BudgetPost,
    CostLine,
    Inputs,
    Join,
    Location,
    Population,
    Settings,
    Source,
    Subject,
    subject_key,
)
from .money import format_euro, format_number

# A value before or after a change: money (Decimal), a count (int), a date, a yes/no, a list of
# codes, a text; None for an empty cell or a record that is not there.
Value = Union[Decimal, int, date, bool, tuple[str, ...], str, None]  # noqa: UP007

# The kinds of change, as the coordinator reads them.
ADDED, REMOVED, CHANGED, RENAMED = "nieuw", "verwijderd", "gewijzigd", "hernoemd"

# The parts of the inputs, in the order the list shows them (the order of SPEC §4).
AREAS = (
    "Onderwerp",
    "Deelnemers",
    "Categorie",
    "Inwoners",
    "Begroting",
    "Instelling",
    "Kostenregel",
    "Toetreding",
)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference that matters for the invoices: what, where, and old → new.

    `location` is where the thing is now (file › sheet › cell); for a removal it is where it
    was, in the previous inputs (`previous` is then True). `old` and `new` are values (money as
    Decimal); `text()` shows them the Dutch way.
    """

    kind: str  # ADDED, REMOVED, CHANGED or RENAMED
    area: str  # one of AREAS
    what: str  # Dutch: "kostenregel VB-2024-002, bedrag"
    location: Location
    old: Value = None
    new: Value = None
    note: str = ""  # why a rename is one, who joined or left
    previous: bool = False  # the location is in the previous inputs

    def text(self) -> str:
        """One Dutch line: "kostenregel VB-2024-002, bedrag: € 4.250,00 → € 4.500,00"."""
        if self.kind == ADDED:
            body = f"{self.what}: {shown(self.new)}" if self.new is not None else self.what
        elif self.kind == REMOVED:
            body = f"{self.what} (was: {shown(self.old)})" if self.old is not None else self.what
        else:
            body = f"{self.what}: {shown(self.old)} → {shown(self.new)}"
        return f"{body} ({self.note})" if self.note else body


def shown(value: Value) -> str:
    """A value as the coordinator reads it: € 1.234,56, 106.086, 01-04-2024, ja, DE, PN."""
    if value is None:
        return "(leeg)"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, Decimal):
        return format_euro(value)
    if isinstance(value, int):
        return format_number(value)
    if isinstance(value, date):
        return f"{value:%d-%m-%Y}"
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(geen)"
    return value


def as_json(value: Value) -> object:
    """A value for a JSON document: money as a decimal string, a date as yyyy-mm-dd."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def compare(old: Inputs, new: Inputs) -> tuple[Change, ...]:
    """Every difference between two readings of a drop folder that the invoices rest on.

    Subjects are matched by name (case- and space-insensitive), municipalities by code, budget
    posts by name, cost lines by Kenmerk, joins by subject and municipality. A subject that
    disappeared while another appeared is a rename only when the coordinator's own records say
    so: a cost line (same Kenmerk) or a join (same municipality and date) that was on the old
    subject is now on the new one. Otherwise it is a removal and an addition. Unchanged things
    are not listed.
    """
    renames = _renames(old, new)
    changes = [
        *_subjects(old.calendar.subjects, new.calendar.subjects, renames),
        *_populations(old.budget.populations, new.budget.populations),
        *_posts(old.budget.posts, new.budget.posts),
        *_settings(old.budget.settings, new.budget.settings, new.budget_path.name),
        *_cost_lines(old.budget.cost_lines, new.budget.cost_lines, renames),
        *_joins(old.budget.joins, new.budget.joins, renames),
    ]
    order = {area: index for index, area in enumerate(AREAS)}
    # Stable: within an area the changes keep the order of the sheets.
    return tuple(sorted(changes, key=lambda c: order[c.area]))


# -- subjects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rename:
    old: Subject
    new: Subject
    evidence: str  # Dutch: which records moved from the old name to the new one


def _renames(old: Inputs, new: Inputs) -> dict[str, _Rename]:
    """Old subject key -> its rename, where cost lines or joins moved from it to a new subject."""
    old_subjects = {subject_key(s.name): s for s in old.calendar.subjects}
    new_subjects = {subject_key(s.name): s for s in new.calendar.subjects}
    removed = old_subjects.keys() - new_subjects.keys()
    added = new_subjects.keys() - old_subjects.keys()
    if not removed or not added:
        return {}
    # (old key, new key) -> (Kenmerken of cost lines, joins) that moved from one to the other.
    moved: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    new_costs = {line.reference.casefold(): line for line in new.budget.cost_lines}
    for line in old.budget.cost_lines:
        before = subject_key(line.subject)
        now = new_costs.get(line.reference.casefold())
        if before in removed and now is not None and subject_key(now.subject) in added:
            evidence = moved.setdefault((before, subject_key(now.subject)), ([], []))
            evidence[0].append(now.reference)
    new_joins: dict[tuple[str, date], list[str]] = {}
    for join in new.budget.joins:
        new_joins.setdefault((join.code, join.date), []).append(subject_key(join.subject))
    for join in old.budget.joins:
        before = subject_key(join.subject)
        if before not in removed:
            continue
        for after in new_joins.get((join.code, join.date), ()):
            if after in added:
                evidence = moved.setdefault((before, after), ([], []))
                evidence[1].append(f"{join.code} ({join.date:%d-%m-%Y})")
    # Most evidence first; each subject takes part in one rename at most.
    renames: dict[str, _Rename] = {}
    taken: set[str] = set()
    old_order = {key: i for i, key in enumerate(old_subjects)}
    new_order = {key: i for i, key in enumerate(new_subjects)}
    for (before, after), (costs, joins) in sorted(
        moved.items(),
        key=lambda item: (
            -len(item[1][0]) - len(item[1][1]),
            old_order[item[0][0]],
            new_order[item[0][1]],
        ),
    ):
        if before in renames or after in taken:
            continue
        taken.add(after)
        records = [
            f"{noun if len(items) == 1 else plural} {_listed(items)}"
            for items, noun, plural in (
                (costs, "kostenregel", "kostenregels"),
                (joins, "toetreding", "toetredingen"),
            )
            if items
        ]
        verb = "staat" if len(costs) + len(joins) == 1 else "staan"
        renames[before] = _Rename(
            old_subjects[before],
            new_subjects[after],
            f"{' en '.join(records)} {verb} nu bij het nieuwe onderwerp",
        )
    return renames


def _listed(items: list[str], limit: int = 3) -> str:
    """'a, b en c'; beyond `limit`: 'a, b, c en 4 andere'."""
    if len(items) > limit:
        return f"{', '.join(items[:limit])} en {len(items) - limit} andere"
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} en {items[-1]}"


def _summary(subject: Subject) -> str:
    participants = ", ".join(subject.participants) or "geen"
    return f"categorie {subject.category}; deelnemers {participants}"


def _subjects(
    old_subjects: tuple[Subject, ...],
    new_subjects: tuple[Subject, ...],
    renames: dict[str, _Rename],
) -> Iterator[Change]:
    before = {subject_key(s.name): s for s in old_subjects}
    renamed_to = {subject_key(r.new.name): r for r in renames.values()}
    for subject in new_subjects:
        key = subject_key(subject.name)
        rename = renamed_to.get(key)
        previous = rename.old if rename else before.get(key)
        where = subject.source.at("subject")
        if previous is None:  # then no rename either: a rename always has its old subject
            yield Change(
                ADDED, "Onderwerp", f"onderwerp '{subject.name}'", where, None, _summary(subject)
            )
            continue
        if rename is not None:
            yield Change(
                RENAMED,
                "Onderwerp",
                "naam van het onderwerp",
                where,
                rename.old.name,
                subject.name,
                rename.evidence,
            )
        elif previous.name != subject.name:
            # Only case or spacing differs: the same subject, but the name on the invoices changes.
            yield Change(
                CHANGED, "Onderwerp", "schrijfwijze onderwerp", where, previous.name, subject.name
            )
        yield from _participants(previous, subject)
        if previous.category != subject.category:
            yield Change(
                CHANGED,
                "Categorie",
                f"categorie '{subject.name}'",
                subject.source.at("category"),
                previous.category,
                subject.category,
            )
    now = {subject_key(s.name) for s in new_subjects}
    for key, subject in before.items():
        if key not in now and key not in renames:
            yield Change(
                REMOVED,
                "Onderwerp",
                f"onderwerp '{subject.name}'",
                subject.source.at("subject"),
                _summary(subject),
                None,
                previous=True,
            )


def _participants(old: Subject, new: Subject) -> Iterator[Change]:
    if set(old.participants) == set(new.participants):
        return
    joined = [code for code in new.participants if code not in old.participants]
    left = [code for code in old.participants if code not in new.participants]
    note = "; ".join(
        part
        for part in (
            f"erbij: {', '.join(joined)}" if joined else "",
            f"eraf: {', '.join(left)}" if left else "",
        )
        if part
    )
    yield Change(
        CHANGED,
        "Deelnemers",
        f"deelnemers '{new.name}'",
        new.source.at("participants"),
        old.participants,
        new.participants,
        note,
    )


# -- budget ------------------------------------------------------------------------------------

R = TypeVar("R")


def _matched(
    old: Iterable[R], new: Iterable[R], key: Callable[[R], str]
) -> tuple[list[tuple[R | None, R]], list[R]]:
    """(old or None, new) for every new record in order, and the old ones no longer there."""
    before = {key(record): record for record in old}
    pairs = [(before.pop(key(record), None), record) for record in new]
    return pairs, list(before.values())


class _Sourced(Protocol):
    """A record read from a row, that can point at the cell of each of its fields."""

    @property
    def source(self) -> Source: ...


def _field_changes(
    area: str,
    label: str,
    old: object,
    new: _Sourced,
    fields: tuple[tuple[str, str], ...],
) -> Iterator[Change]:
    """A change per field that differs: (attribute, Dutch name), located at that field's cell."""
    for attribute, dutch in fields:
        before, after = getattr(old, attribute), getattr(new, attribute)
        if before != after:
            yield Change(
                CHANGED, area, f"{label}, {dutch}", new.source.at(attribute), before, after
            )


def _populations(old: tuple[Population, ...], new: tuple[Population, ...]) -> Iterator[Change]:
    pairs, removed = _matched(old, new, lambda p: p.code)
    fields = (("inhabitants", "inwoners"), ("network", "netwerk"), ("reference_date", "peildatum"))
    for before, after in pairs:
        label = f"{after.code} ({after.name})" if after.name else after.code
        if before is None:
            yield Change(
                ADDED,
                "Inwoners",
                label,
                after.source.at("code"),
                None,
                f"{format_number(after.inhabitants)} inwoners per {after.reference_date:%d-%m-%Y}; "
                f"netwerk {shown(after.network)}",
            )
            continue
        yield from _field_changes("Inwoners", label, before, after, fields)
    for before in removed:
        yield Change(
            REMOVED,
            "Inwoners",
            f"{before.code} ({before.name})" if before.name else before.code,
            before.source.at("code"),
            f"{format_number(before.inhabitants)} inwoners; netwerk {shown(before.network)}",
            previous=True,
        )


def _posts(old: tuple[BudgetPost, ...], new: tuple[BudgetPost, ...]) -> Iterator[Change]:
    pairs, removed = _matched(old, new, lambda p: subject_key(p.name))
    fields = (("budgeted", "begroot"), ("realised", "gerealiseerd"))
    for before, after in pairs:
        label = f"post '{after.name}'"
        if before is None:
            yield Change(ADDED, "Begroting", label, after.source.at("post"), None, after.budgeted)
            continue
        yield from _field_changes("Begroting", label, before, after, fields)
    for before in removed:
        yield Change(
            REMOVED,
            "Begroting",
            f"post '{before.name}'",
            before.source.at("post"),
            before.budgeted,
            previous=True,
        )


# The settings money depends on: (attribute, Dutch key as typed in Instellingen).
MONEY_SETTINGS = (
    ("year", "Jaar"),
    ("lead", "Penvoerder"),
    ("method", "Verdeelmethode"),
    ("rounding", "Afronding"),
)


def _settings(old: Settings, new: Settings, budget_file: str) -> Iterator[Change]:
    for attribute, dutch in MONEY_SETTINGS:
        before, after = getattr(old, attribute), getattr(new, attribute)
        if before == after:
            continue
        where, previous = new.at(attribute), False
        if not where.file and old.at(attribute).file:
            where, previous = old.at(attribute), True  # the row was removed: where it was
        if not where.file:
            where = Location(budget_file, "Instellingen")
        if attribute == "year":
            before, after = str(before), str(after)  # a year, not a count: 2024, never 2.024
        yield Change(
            CHANGED, "Instelling", dutch, where, before or None, after or None, previous=previous
        )


# -- cost lines and joins ------------------------------------------------------------------------


def _cost_summary(line: CostLine) -> str:
    return f"{format_euro(line.amount)}, {line.date:%d-%m-%Y}, '{line.subject}', {line.split}"


def _cost_lines(
    old: tuple[CostLine, ...], new: tuple[CostLine, ...], renames: dict[str, _Rename]
) -> Iterator[Change]:
    pairs, removed = _matched(old, new, lambda c: c.reference.casefold())
    for before, after in pairs:
        label = f"kostenregel {after.reference}"
        if before is None:
            yield Change(
                ADDED,
                "Kostenregel",
                label,
                after.source.at("reference"),
                None,
                _cost_summary(after),
            )
            continue
        yield from _field_changes(
            "Kostenregel",
            label,
            before,
            after,
            (("amount", "bedrag"), ("date", "datum"), ("split", "verdeling")),
        )
        if _moved(before.subject, after.subject, renames):
            yield Change(
                CHANGED,
                "Kostenregel",
                f"{label}, onderwerp",
                after.source.at("subject"),
                before.subject,
                after.subject,
            )
    for before in removed:
        yield Change(
            REMOVED,
            "Kostenregel",
            f"kostenregel {before.reference}",
            before.source.at("reference"),
            _cost_summary(before),
            previous=True,
        )


def _moved(before: str, after: str, renames: dict[str, _Rename]) -> bool:
    """Whether a record's subject changed other than by the rename of that subject."""
    old_key, new_key = subject_key(before), subject_key(after)
    rename = renames.get(old_key)
    if rename is not None:
        old_key = subject_key(rename.new.name)
    return old_key != new_key


def _joins(
    old: tuple[Join, ...], new: tuple[Join, ...], renames: dict[str, _Rename]
) -> Iterator[Change]:
    def key(join: Join) -> str:
        subject = subject_key(join.subject)
        rename = renames.get(subject)
        return f"{subject_key(rename.new.name) if rename else subject}|{join.code}"

    # In the old reading, a renamed subject's joins are keyed by its new name (see `key`); in
    # the new reading there is nothing to rename.
    pairs, removed = _matched(old, new, key)
    for before, after in pairs:
        label = f"toetreding {after.code} bij '{after.subject}'"
        if before is None:
            yield Change(ADDED, "Toetreding", label, after.source.at("code"), None, after.date)
        elif before.date != after.date:
            yield Change(
                CHANGED,
                "Toetreding",
                f"{label}, datum",
                after.source.at("date"),
                before.date,
                after.date,
            )
    for before in removed:
        yield Change(
            REMOVED,
            "Toetreding",
            f"toetreding {before.code} bij '{before.subject}'",
            before.source.at("code"),
            before.date,
            previous=True,
        )
