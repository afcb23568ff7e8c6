"""Cross-checks between the calendar and the budget (SPEC §1): each problem a Finding with its cell."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from .model import (
    Budget,
    Calendar,
    CostLine,
    Finding,
    Level,
    Location,
    Source,
    Subject,
    subject_key,
)
from .read.values import invisible_characters, visible
from .write.names import invoice_filename


def cross_check(
    calendar: Calendar,
    budget: Budget,
    budget_file: str,
    *,
    unreadable_codes: frozenset[str] = frozenset(),
    populations_unreadable: bool = False,
) -> list[Finding]:
    """Every cross-check finding. Codes whose Inwoners row had an error, or an unreadable Inwoners
    sheet, were reported already: their missing population is not reported again."""
    if populations_unreadable:
        skip = {m.code for m in calendar.municipalities} | {
            code for s in calendar.subjects for code in s.participants
        }
    else:
        skip = set(unreadable_codes)
    return list(_checks(calendar, budget, budget_file, frozenset(skip)))


def participants_on(subject: Subject, day: date, budget: Budget) -> tuple[str, ...]:
    """Who takes part in a subject on a day: the calendar's participants, less joiners not yet joined."""
    joins = budget.joins_by_subject.get(subject_key(subject.name), ())
    later = {j.code for j in joins if j.date > day}
    return tuple(code for code in subject.participants if code not in later)


def _error(location: Location, message: str, fix: str = "") -> Finding:
    # Messages quote names from the workbooks: show their invisible characters (values.visible).
    return Finding(Level.ERROR, location, visible(message), fix)


def _warning(location: Location, message: str, fix: str = "") -> Finding:
    return Finding(Level.WARNING, location, visible(message), fix)


def _checks(
    calendar: Calendar, budget: Budget, budget_file: str, skip: frozenset[str]
) -> Iterator[Finding]:
    settings = budget.settings
    year = settings.year
    known = {m.code for m in calendar.municipalities}
    populations = {p.code: p for p in budget.populations}
    subjects = {subject_key(s.name): s for s in calendar.subjects}
    money_subjects = {subject_key(c.subject) for c in budget.cost_lines} | {
        subject_key(j.subject) for j in budget.joins
    }

    # Unknown participant codes: visible always, an error only where money depends on them.
    for subject in calendar.subjects:
        for code in subject.participants:
            if code in known:
                continue
            where = subject.source.at("participants")
            if subject_key(subject.name) in money_subjects:
                yield _error(
                    where,
                    f"onbekende gemeentecode '{code}' bij '{subject.name}', waarvoor kosten "
                    "of toetredingen zijn ingevuld",
                    "Voeg de code toe aan het werkblad Gemeenten of verbeter de code.",
                )
            else:
                yield _warning(
                    where,
                    f"onbekende gemeentecode '{code}' bij '{subject.name}'",
                    "Voeg de code toe aan het werkblad Gemeenten of verbeter de code; "
                    "zolang er geen kosten aan hangen telt deze gemeente niet mee.",
                )

    if settings.lead and settings.lead not in known and settings.lead not in populations:
        meant = next(
            (m for m in calendar.municipalities if m.name.casefold() == settings.lead.casefold()),
            None,
        )
        yield _error(
            settings.at("lead"),
            f"penvoerder '{settings.lead}' is geen bekende gemeentecode",
            f"Vul de code {meant.code} in, niet de naam {meant.name}."
            if meant
            else "Vul de code in van de gemeente die de kosten betaalt, bijvoorbeeld ZM.",
        )

    yield from _same_file_names(calendar, budget)

    # Inwoners: the agreement's peildatum, known codes, a network to share the budget.
    if year:
        expected = date(year - 1, 1, 1)
        for population in budget.populations:
            if population.reference_date != expected:
                yield _error(
                    population.source.at("reference_date"),
                    f"peildatum {_d(population.reference_date)} is niet 1 januari van het jaar "
                    f"vóór {year}",
                    f"Gebruik de CBS-cijfers per {_d(expected)} (afspraak samenwerkingsovereenkomst).",
                )
    for population in budget.populations:
        if known and population.code not in known:
            yield _warning(
                population.source.at("code"),
                f"code '{population.code}' staat niet in het werkblad Gemeenten van de kalender",
                "Voeg de gemeente toe aan de kalender of verbeter de code.",
            )
    if budget.populations and not skip and not any(p.network for p in budget.populations):
        yield _error(
            Location(budget_file, "Inwoners", "kolom Netwerk"),
            "geen enkele gemeente heeft Netwerk = ja, dus niemand betaalt de netwerkbegroting",
            "Zet 'ja' bij de gemeenten die dit jaar meebetalen.",
        )
    for municipality in calendar.municipalities:
        if (
            municipality.core
            and municipality.code not in populations
            and municipality.code not in skip
        ):
            yield _error(
                municipality.source.at("code"),
                f"kerngemeente {municipality.code} heeft geen rij in het werkblad Inwoners",
                "Voeg het CBS-inwonertal toe aan het werkblad Inwoners.",
            )
    partial = [p for p in budget.posts if p.realised is not None]
    if partial and len(partial) < len(budget.posts):
        yield _warning(
            partial[0].source.at("realised"),
            "niet elke post heeft een gerealiseerd bedrag, dus wordt met de begrote bedragen "
            "afgerekend",
            "Vul bij elke post het gerealiseerde bedrag in om op werkelijke kosten af te rekenen.",
        )

    # Project costs: a real subject, in the year, every participant with a population.
    reported = set(skip)  # a missing population is reported once, at the first line needing it
    for line in budget.cost_lines:
        subject = subjects.get(subject_key(line.subject))
        if subject is None:
            yield _unknown_subject(line.source.at("subject"), line.subject)
            continue
        if year and line.date.year != year:
            yield _error(
                line.source.at("date"),
                f"datum {_d(line.date)} valt niet in begrotingsjaar {year}",
                "Boek de kosten in de begroting van het jaar van de datum, of verbeter de datum.",
            )
        yield from _participants_known(line, subject, budget, populations, known, reported)

    for join in budget.joins:
        subject = subjects.get(subject_key(join.subject))
        if subject is None:
            yield _unknown_subject(join.source.at("subject"), join.subject)
            continue
        if join.code not in subject.participants:
            yield _error(
                join.source.at("code"),
                f"{join.code} staat in de kalender niet bij de deelnemers van '{subject.name}'",
                "Voeg de code toe bij 'Deelnemende gemeenten' in de kalender, of verbeter de code.",
            )
        elif join.code not in populations and join.code not in reported:
            yield _error(
                join.source.at("code"),
                f"{join.code} treedt toe maar heeft geen inwonertal",
                "Voeg de gemeente toe aan het werkblad Inwoners.",
            )
        if year and join.date.year != year:
            yield _error(
                join.source.at("date"),
                f"datum {_d(join.date)} valt niet in begrotingsjaar {year}",
                "Verbeter de datum van toetreding.",
            )
    seen: dict[tuple[str, str], int] = {}
    for join in budget.joins:
        pair = (subject_key(join.subject), join.code)
        if pair in seen:
            yield _error(
                join.source.at("code"),
                f"toetreding van {join.code} staat dubbel (ook in rij {seen[pair]})",
                "Laat één rij per gemeente en onderwerp staan.",
            )
        seen.setdefault(pair, join.source.row)

    # Who will get an invoice needs an address, or no e-mail draft can be made for it.
    billed = {p.code for p in budget.populations if p.network}
    for line in budget.cost_lines:
        subject = subjects.get(subject_key(line.subject))
        if subject is not None:
            billed.update(
                code for code in subject.participants if code in known or code in populations
            )
    billed.discard(settings.lead)
    addressed = {c.code for c in budget.contacts}
    names = {m.code: m.name for m in calendar.municipalities}
    for code in sorted(billed - addressed):
        yield _warning(
            Location(budget_file, "Contacten"),
            f"geen e-mailadres voor {names.get(code, code)} ({code}); voor de factuur wordt geen "
            "e-mailconcept gemaakt",
            "Voeg een rij toe in het werkblad Contacten met de code en het e-mailadres.",
        )

    for contact in budget.contacts:
        if known and contact.code not in known and contact.code not in populations:
            yield _warning(
                contact.source.at("code"),
                f"code '{contact.code}' is geen bekende gemeente",
                "Verbeter de code of verwijder de rij.",
            )


def _participants_known(
    line: CostLine,
    subject: Subject,
    budget: Budget,
    populations: dict,
    known: set[str],
    reported: set[str],
) -> Iterator[Finding]:
    participants = participants_on(subject, line.date, budget)
    if not participants and subject.participants:
        # Every participant joins later: nobody could be charged for this line on its date.
        joins = budget.joins_by_subject.get(subject_key(subject.name), ())
        later = ", ".join(f"{j.code} per {_d(j.date)}" for j in joins if j.date > line.date)
        yield _error(
            line.source.at("date"),
            f"'{subject.name}' heeft op {_d(line.date)} nog geen deelnemende gemeenten "
            f"(toetreding: {later})",
            "Verbeter de datum van de kosten of van de toetreding in het werkblad Toetredingen.",
        )
        return
    if not participants:
        yield _error(
            line.source.at("subject"),
            f"'{subject.name}' heeft op {_d(line.date)} geen deelnemende gemeenten",
            "Vul de deelnemende gemeenten in de kalender in.",
        )
        return
    for code in participants:
        if code in known and code not in populations and code not in reported:
            reported.add(code)
            yield _error(
                line.source.at("subject"),
                f"deelnemer {code} van '{subject.name}' heeft geen inwonertal",
                "Voeg de gemeente toe aan het werkblad Inwoners.",
            )


def _unknown_subject(location: Location, name: str) -> Finding:
    hidden = invisible_characters(name)
    if hidden:
        # A zero-width space or a right-to-left override makes the name look like another.
        return _error(
            location,
            f"onderwerp '{name}' staat niet in de aanbestedingskalender; de naam bevat een "
            f"onzichtbaar teken ({', '.join(dict.fromkeys(hidden))})",
            "Typ de naam opnieuw of kopieer hem uit de kalender (kolom Onderwerp).",
        )
    return _error(
        location,
        f"onderwerp '{name}' staat niet in de aanbestedingskalender",
        "Gebruik precies de naam uit de kalender (kolom Onderwerp).",
    )


# The longest batch name an invoice file can carry ("2024-H2-correctie-12"): names that collide
# with it collide with every shorter one too (file names are cut at the same length).
_LONGEST_BATCH = "0000-H0-correctie-00"


def _same_file_names(calendar: Calendar, budget: Budget) -> Iterator[Finding]:
    """Two municipalities whose invoices would get one file name: the second would overwrite the
    first. Compared as Windows and macOS do, without regard to case ("Delft" and "DELFT")."""
    named: dict[str, tuple[str, Source]] = {}
    for population in budget.populations:
        if population.name:
            named[population.code] = (population.name, population.source)
    for municipality in calendar.municipalities:  # the calendar's name is the one invoiced
        named[municipality.code] = (municipality.name, municipality.source)
    seen: dict[str, tuple[str, str, Source]] = {}
    for code, (name, source) in named.items():
        file_name = invoice_filename(_LONGEST_BATCH, name).casefold()
        first = seen.setdefault(file_name, (code, name, source))
        if first[0] != code:
            other = first[2].at("name")
            yield _error(
                source.at("name"),
                f"de factuur van {code} ('{name}') krijgt dezelfde bestandsnaam als die van "
                f"{first[0]} ('{first[1]}', {other.sheet} › {other.cell}); de ene zou de andere "
                "overschrijven",
                "Geef elke gemeente een eigen naam.",
            )


def _d(day: date) -> str:
    return f"{day.day}-{day.month}-{day.year}"
