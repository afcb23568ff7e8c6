"""One period's invoices from the rules and the register's history (pure: no files, clock or SQL)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from .allocate import AllocationKey, KeyShare, allocation_key
from .model import (
    CREDIT_NOTE,
    INVOICE,
    JOIN_LINE,
    NETWORK_LINE,
    OWN_SHARE,
    PROJECT_LINE,
    Budget,
    CostLine,
    Finding,
    Inputs,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Join,
    Level,
    LineKind,
    Subject,
    subject_key,
)
from .money import apportion, format_euro, format_number, format_percentage, from_cents, to_cents
from .rules import participants_on

ZERO = Decimal("0.00")
# Which line a correction corrects: (code, line kind, kenmerk casefolded, join key).
LineIdentity = tuple[str, LineKind, str, str]


@dataclass(frozen=True, order=True)
class Period:
    """A settlement period: the first half (H1), the second half (H2) or the whole year."""

    year: int
    half: int  # 1, 2, or 0 for the whole year

    @classmethod
    def parse(cls, text: str) -> Period:
        match = re.fullmatch(r"\s*(\d{4})(?:\s*-\s*[Hh]([12]))?\s*", text)
        if not match:
            raise ValueError(
                f"'{text}' is geen periode; gebruik bijvoorbeeld 2024-H1, 2024-H2 of 2024"
            )
        return cls(int(match.group(1)), int(match.group(2) or 0))

    @property
    def label(self) -> str:
        return f"{self.year}-H{self.half}" if self.half else str(self.year)

    @property
    def start(self) -> date:
        return date(self.year, 7, 1) if self.half == 2 else date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    @property
    def settles_the_year(self) -> bool:
        """H2 and the whole year settle the final annual share; H1 invoices the voorschot."""
        return self.half != 1

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class SettledCost:
    """A cost line as the register billed it."""

    amount: Decimal
    day: date
    subject: str
    number: str  # the first invoice that carried it, for messages
    participants: tuple[str, ...] = ()  # whom it was split among when it was billed


@dataclass(frozen=True)
class History:
    """What the register holds for the year from periods that end before the one being settled."""

    network: Mapping[str, Decimal] = field(default_factory=dict)  # code -> network lines billed
    costs: Mapping[str, SettledCost] = field(default_factory=dict)  # kenmerk (casefold) -> billed
    resplits: frozenset[tuple[str, str]] = frozenset()  # (kenmerk casefold, join key) settled
    # code -> the numbered invoices whose network lines were billed, with their dates
    invoiced: Mapping[str, tuple[tuple[str, date], ...]] = field(default_factory=dict)
    # code -> every numbered invoice of the earlier periods, with its date
    issued: Mapping[str, tuple[tuple[str, date], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Settlement:
    """The invoices of one period, with the totals the Afrekening sheet checks against."""

    period: Period
    key: AllocationKey
    network_total: Decimal  # annual network budget the key splits
    network_due: Decimal  # what this period bills of it: the voorschot, or the rest of the year
    invoices: tuple[Invoice, ...]  # the penvoerder's own share included (kind "eigen aandeel")
    cost_lines: tuple[CostLine, ...]  # the project cost lines billed for the first time
    findings: tuple[Finding, ...]
    correction: bool = False  # a batch of corrections to a period already sent
    # A correction batch: the change in project costs the period bills, worked out apart from
    # the correction lines (see `correction_settlement`).
    costs_changed: Decimal = ZERO

    @property
    def costs_billed(self) -> Decimal:
        """Project costs divided now; a join's re-split adds nothing (it moves money)."""
        if self.correction:
            return self.costs_changed
        return sum((c.amount for c in self.cost_lines), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((i.total for i in self.invoices), ZERO)

    @property
    def balanced(self) -> bool:
        """Invoices plus the penvoerder's share equal the period's costs, to the cent."""
        return self.total == self.network_due + self.costs_billed


def annual_total(budget: Budget) -> tuple[Decimal, str]:
    """The year's network costs: realised when every post has a realised amount, else budgeted."""
    posts = budget.posts
    realised = [p.realised for p in posts if p.realised is not None]
    if posts and len(realised) == len(posts):
        return sum(realised, ZERO), "gerealiseerd"
    return sum((p.budgeted for p in posts), ZERO), "begroot"


def join_key(join: Join) -> str:
    return f"{subject_key(join.subject)}|{join.code}|{join.date.isoformat()}"


def settle(inputs: Inputs, period: Period, history: History, *, issue_date: date) -> Settlement:
    """The invoices of `period`: network contribution, new project costs and joins' re-splits."""
    budget = inputs.budget
    total, basis_word = annual_total(budget)
    key = allocation_key(budget, total)
    findings: list[Finding] = []
    lines: dict[str, list[InvoiceLine]] = {}

    for code, line in _network_lines(key, period, history, basis_word):
        lines.setdefault(code, []).append(line)
    new_costs = _new_costs(budget, period, history, findings)
    population = {p.code: p.inhabitants for p in budget.populations}
    for cost in new_costs:
        for code, line in _cost_lines(inputs, cost, population):
            lines.setdefault(code, []).append(line)
    for code, line in _join_lines(inputs, period, history, population):
        lines.setdefault(code, []).append(line)

    names = _names(inputs)
    invoices = tuple(
        _refer_credit(_invoice(inputs, code, period, tuple(code_lines), issue_date, names), history)
        for code, code_lines in _ordered(inputs, lines)
    )
    # Worked out apart from the lines, so the Afrekening check can catch a line gone missing.
    if period.settles_the_year:
        network_due = key.total - sum(history.network.values(), ZERO)
    else:
        network_due = sum((from_cents(to_cents(s.amount) // 2) for s in key.shares), ZERO)
    return Settlement(period, key, total, network_due, invoices, tuple(new_costs), tuple(findings))


def _network_lines(
    key: AllocationKey, period: Period, history: History, basis_word: str
) -> Iterable[tuple[str, InvoiceLine]]:
    total_text = format_euro(key.total)  # running text always shows cents (issue 13)
    for share in key.shares:
        share_text = _share_basis(key, share, total_text)
        if not period.settles_the_year:
            # The voorschot is half the annual share; an odd cent goes to the final settlement.
            advance = from_cents(to_cents(share.amount) // 2)
            yield (
                share.code,
                InvoiceLine(
                    kind=NETWORK_LINE,
                    description=f"Voorschot netwerkbijdrage {key.year} (50 %)",
                    basis=f"50 % van {format_euro(share.amount)} ({share_text})",
                    amount=advance,
                ),
            )
            continue
        billed = history.network.get(share.code, ZERO)
        basis = f"{share_text} = {format_euro(share.amount)}"
        if billed:
            basis += (
                f", min eerder gefactureerd {_earlier(history, share.code)}{format_euro(billed)}"
            )
        yield (
            share.code,
            InvoiceLine(
                kind=NETWORK_LINE,
                description=f"Netwerkbijdrage {key.year}, eindafrekening ({basis_word})",
                basis=basis,
                amount=share.amount - billed,
            ),
        )
    if period.settles_the_year:
        # A municipality billed earlier this year that is no longer a member gets its money back.
        members = {s.code for s in key.shares}
        for code, billed in history.network.items():
            if code not in members and billed:
                yield (
                    code,
                    InvoiceLine(
                        kind=NETWORK_LINE,
                        description=f"Netwerkbijdrage {key.year}: geen deelnemer meer aan het netwerk",
                        basis=f"eerder gefactureerd {format_euro(billed)}, eindafrekening € 0,00",
                        amount=-billed,
                    ),
                )


def _earlier(history: History, code: str) -> str:
    """'IK-2024-0001 van 01-07-2024: ' — the invoices whose network lines are deducted."""
    numbers = history.invoiced.get(code, ())
    if not numbers:
        return ""
    return ", ".join(f"{number} van {issued:%d-%m-%Y}" for number, issued in numbers) + ": "


def _share_basis(key: AllocationKey, share: KeyShare, total_text: str) -> str:
    if key.method == "exact":
        return (
            f"{format_number(share.inhabitants)} van {format_number(key.total_inhabitants)} "
            f"inwoners van {total_text}"
        )
    return f"{format_percentage(share.percentage)} van {total_text}"


def _new_costs(
    budget: Budget, period: Period, history: History, findings: list[Finding]
) -> list[CostLine]:
    """Cost lines dated up to the period's end and not billed before; edits of billed ones reported."""
    new: list[CostLine] = []
    for cost in budget.cost_lines:
        if cost.date > period.end:
            continue
        billed = history.costs.get(cost.reference.casefold())
        if billed is None:
            new.append(cost)
            continue
        if (billed.amount, billed.day, subject_key(billed.subject)) != (
            cost.amount,
            cost.date,
            subject_key(cost.subject),
        ):
            findings.append(
                Finding(
                    Level.WARNING,
                    cost.source.at("amount"),
                    f"kenmerk '{cost.reference}' is al gefactureerd ({billed.number}: "
                    f"{format_euro(billed.amount)} op {billed.day:%d-%m-%Y}) en is sindsdien "
                    f"gewijzigd ({format_euro(cost.amount)} op {cost.date:%d-%m-%Y}); het "
                    "verschil wordt niet opnieuw gefactureerd",
                    "Zet een correctie als nieuwe kostenregel met een eigen kenmerk, of gebruik "
                    "--correctie voor de periode waarin de regel is gefactureerd.",
                )
            )
    return new


def _split(cost: CostLine, codes: Iterable[str], population: Mapping[str, int]) -> dict[str, int]:
    """A cost line's cents over `codes`, by inhabitants or equally (ties by population, code)."""
    codes = list(codes)
    priority = {c: population.get(c, 0) for c in codes}
    weights = priority if cost.split == "inwoners" else dict.fromkeys(codes, 1)
    return apportion(to_cents(cost.amount), weights, priority=priority)


def _split_basis(
    cost: CostLine, code: str, codes: tuple[str, ...], population: Mapping[str, int]
) -> str:
    return _basis_texts(cost, codes, population)[code]


def _basis_texts(
    cost: CostLine, codes: tuple[str, ...], population: Mapping[str, int]
) -> dict[str, str]:
    """How each participant's share of a cost line was computed, in Dutch (once per line)."""
    amount = format_euro(cost.amount)
    if cost.split == "gelijk":
        text = f"gelijk deel (1/{len(codes)}) van {amount}"
        return dict.fromkeys(codes, text)
    tail = f" van {format_number(sum(population.get(c, 0) for c in codes))} inwoners van {amount}"
    return {c: format_number(population.get(c, 0)) + tail for c in codes}


def _cost_lines(
    inputs: Inputs, cost: CostLine, population: Mapping[str, int]
) -> Iterable[tuple[str, InvoiceLine]]:
    subject = _subject(inputs, cost.subject)
    codes = participants_on(subject, cost.date, inputs.budget)
    parts = _split(cost, codes, population)
    bases = _basis_texts(cost, codes, population)
    description = f"Projectkosten {subject.name}"
    if cost.description:
        description += f": {cost.description}"
    for code in codes:
        yield (
            code,
            InvoiceLine(
                kind=PROJECT_LINE,
                description=description,
                basis=bases[code],
                amount=from_cents(parts[code]),
                reference=cost.reference,
                subject=subject.name,
                cost_date=cost.date,
                cost_total=cost.amount,
                participants=codes,
            ),
        )


def _join_lines(
    inputs: Inputs, period: Period, history: History, population: Mapping[str, int]
) -> Iterable[tuple[str, InvoiceLine]]:
    """Re-split every cost line dated before a join, once per (cost line, join).

    A cost line billed in an earlier period is re-split as it was billed: the amount, date and
    participants the register holds. An edit made in the workbook since was never billed, so
    it is not re-split either (`_new_costs` reports it, once, at its cell).
    """
    budget = inputs.budget
    joins = sorted(
        (j for j in budget.joins if j.date <= period.end), key=lambda j: (j.date, j.code)
    )
    names = _names(inputs)
    billed_costs = _costs_as_billed(budget, history)
    for join in joins:
        key = subject_key(join.subject)
        subject = _subject(inputs, join.subject)
        earlier_joins = [
            j
            for j in budget.joins_by_subject.get(key, ())
            if j.date <= period.end and (j.date, j.code) < (join.date, join.code)
        ]
        for cost, billed_to in billed_costs.get(key, ()):
            if cost.date >= join.date:
                continue
            if (cost.reference.casefold(), join_key(join)) in history.resplits:
                continue
            before = list(billed_to or participants_on(subject, cost.date, budget))
            before += [j.code for j in earlier_joins if j.date > cost.date and j.code not in before]
            if join.code in before:
                continue  # it shared this cost from the start
            joiner = names.get(join.code, join.code)
            yield from _resplit(cost, join, subject, before, joiner, population)


def _resplit(
    cost: CostLine,
    join: Join,
    subject: Subject,
    before: list[str],
    joiner: str,
    population: Mapping[str, int],
) -> Iterable[tuple[str, InvoiceLine]]:
    """The lines that re-split `cost`, shared by `before`, now that `join` (named `joiner`)
    shares it too: the joiner's share in the earlier costs and each change for the others."""
    after = [*before, join.code]
    old = _split(cost, before, population)
    new = _split(cost, after, population)
    for code in after:
        delta = new[code] - old.get(code, 0)
        if not delta:
            continue
        if code == join.code:
            description = (
                f"Toetreding per {join.date:%d-%m-%Y} tot {subject.name}: aandeel in eerdere kosten"
            )
            basis = _split_basis(cost, code, tuple(after), population)
        else:
            description = f"Verrekening toetreding {joiner} tot {subject.name}"
            basis = (
                f"aandeel was {format_euro(from_cents(old[code]))}, wordt "
                f"{format_euro(from_cents(new[code]))}"
            )
        yield (
            code,
            InvoiceLine(
                kind=JOIN_LINE,
                description=description,
                basis=basis,
                amount=from_cents(delta),
                reference=cost.reference,
                subject=subject.name,
                cost_date=cost.date,
                cost_total=cost.amount,
                participants=tuple(after),
                join=join_key(join),
            ),
        )


def _costs_as_billed(
    budget: Budget, history: History
) -> dict[str, list[tuple[CostLine, tuple[str, ...]]]]:
    """Per subject key, its cost lines with whom each was split among: a line billed in an
    earlier period as the register holds it (amount, date, subject, participants), any other
    line as the workbook has it (no participants yet: they follow from its date)."""
    grouped: dict[str, list[tuple[CostLine, tuple[str, ...]]]] = {}
    for cost in budget.cost_lines:
        billed = history.costs.get(cost.reference.casefold())
        if billed is None:
            grouped.setdefault(subject_key(cost.subject), []).append((cost, ()))
            continue
        as_billed = replace(cost, subject=billed.subject, date=billed.day, amount=billed.amount)
        grouped.setdefault(subject_key(billed.subject), []).append((as_billed, billed.participants))
    return grouped


def _subject(inputs: Inputs, name: str) -> Subject:
    """The calendar's subject of a cost line or join (the checks refuse a run naming another)."""
    subject = inputs.calendar.subject(name)
    if subject is None:
        raise ValueError(f"onderwerp '{name}' staat niet in de kalender")
    return subject


def _names(inputs: Inputs) -> dict[str, str]:
    names = {p.code: p.name for p in inputs.budget.populations if p.name}
    names.update({m.code: m.name for m in inputs.calendar.municipalities})
    return names


def _ordered(
    inputs: Inputs, lines: Mapping[str, list[InvoiceLine]]
) -> list[tuple[str, list[InvoiceLine]]]:
    """Municipalities in the calendar's order (core first as listed), then others by code."""
    order = [m.code for m in inputs.calendar.municipalities]
    rank = {code: i for i, code in enumerate(order)}
    return sorted(lines.items(), key=lambda item: (rank.get(item[0], len(order)), item[0]))


def _invoice(
    inputs: Inputs,
    code: str,
    period: Period,
    lines: tuple[InvoiceLine, ...],
    issue_date: date,
    names: Mapping[str, str],
) -> Invoice:
    settings = inputs.budget.settings
    total = sum((line.amount for line in lines), ZERO)
    kind: InvoiceKind
    if code == settings.lead:
        kind = OWN_SHARE
    else:
        kind = CREDIT_NOTE if total < 0 else INVOICE
    return Invoice(
        code=code,
        name=names.get(code, code),
        period=period.label,
        year=period.year,
        lines=lines,
        kind=kind,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=settings.payment_days),
    )


def _refer_credit(invoice: Invoice, history: History) -> Invoice:
    """A credit note of a later period corrects what an earlier period billed: it refers to
    the invoice whose network lines it deducts, else the municipality's first invoice of the
    year (the e-invoice's BillingReference)."""
    earlier = history.invoiced.get(invoice.code, ()) or history.issued.get(invoice.code, ())
    if invoice.kind != CREDIT_NOTE or not earlier:
        return invoice
    return replace(invoice, refers_to=earlier[0][0])


def correction_settlement(
    fresh: Settlement, invoices: tuple[Invoice, ...], *, held_total: Decimal, held_network: Decimal
) -> Settlement:
    """A correction batch as a settlement, with a control figure its lines cannot make up.

    What the period should bill now comes from the key and the cost lines (`fresh.network_due`,
    `fresh.costs_billed`, worked out apart from any invoice line); what it billed so far from the
    register's invoice totals (`held_total`, originals and earlier corrections, the penvoerder's
    share included) and, of that, its network lines (`held_network`). The corrections must add
    up to the difference, so a line gone missing or counted twice shows as VERSCHIL.
    """
    return replace(
        fresh,
        network_due=fresh.network_due - held_network,
        invoices=invoices,
        cost_lines=(),
        correction=True,
        costs_changed=fresh.costs_billed - (held_total - held_network),
    )


def corrections(
    fresh: Settlement,
    held: Mapping[LineIdentity, tuple[Decimal, str, str]],
    *,
    issue_date: date,
    inputs: Inputs,
) -> tuple[Invoice, ...]:
    """Correction invoices for a period already sent: what it should hold minus what it holds.

    `held` maps (code, kind, kenmerk, join) to (amount billed, description, invoice number) over
    the period's invoices and earlier corrections. Each difference becomes a line referring to the
    original; the corrections add up to the change in the period's total, to the cent.
    """
    should: dict[LineIdentity, tuple[Decimal, InvoiceLine]] = {}
    for invoice in fresh.invoices:
        for line in invoice.lines:
            identity = (invoice.code, line.kind, line.reference.casefold(), line.join)
            amount, first = should.get(identity, (ZERO, line))
            should[identity] = (amount + line.amount, first)
    per_code: dict[str, list[InvoiceLine]] = {}
    refers: dict[str, str] = {}
    for identity in sorted(set(should) | set(held), key=lambda i: (i[0], i[1], i[2], i[3])):
        code = identity[0]
        new_amount, wanted = should.get(identity, (ZERO, None))
        old_amount, old_description, number = held.get(identity, (ZERO, "", ""))
        delta = new_amount - old_amount
        if not delta:
            continue
        description = wanted.description if wanted is not None else old_description
        per_code.setdefault(code, []).append(
            InvoiceLine(
                kind=identity[1],
                description=f"Correctie: {description}",
                basis=f"was {format_euro(old_amount)}, wordt {format_euro(new_amount)}",
                amount=delta,
                reference=wanted.reference if wanted is not None else identity[2],
                subject=wanted.subject if wanted is not None else "",
                cost_date=wanted.cost_date if wanted is not None else None,
                cost_total=wanted.cost_total if wanted is not None else None,
                participants=wanted.participants if wanted is not None else (),
                join=identity[3],
            )
        )
        if number:
            refers.setdefault(code, number)
    result = []
    names = _names(inputs)
    for code, code_lines in _ordered(inputs, per_code):
        invoice = _invoice(inputs, code, fresh.period, tuple(code_lines), issue_date, names)
        result.append(replace(invoice, refers_to=refers.get(code, "")))
    return tuple(result)
