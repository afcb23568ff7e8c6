"""Cross-checks between the calendar and the budget (SPEC §1): each problem a Finding with its cell."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from .layout import SETTINGS_KEYS
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
    subjects_unreadable: bool = False,
) -> list[Finding]:
    """Every cross-check finding. Codes whose Inwoners row had an error, or an unreadable Inwoners
    sheet, were reported already: their missing population is not reported again. Likewise an
    unreadable Kalender sheet: no cost line or join is reported for naming a subject it lacks."""
    if populations_unreadable:
        skip = {m.code for m in calendar.municipalities} | {
            code for s in calendar.subjects for code in s.participants
        }
    else:
        skip = set(unreadable_codes)
    return list(_checks(calendar, budget, budget_file, frozenset(skip), subjects_unreadable))


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
    calendar: Calendar,
    budget: Budget,
    budget_file: str,
    skip: frozenset[str],
    subjects_unreadable: bool = False,
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

    yield from _lead_checks(calendar, budget, budget_file, populations, skip)

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
            if not subjects_unreadable:  # else the Kalender sheet's own error says it all
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
            if not subjects_unreadable:
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

    yield from _invoice_facts(budget, budget_file, billed, names)

    for contact in budget.contacts:
        if known and contact.code not in known and contact.code not in populations:
            yield _warning(
                contact.source.at("code"),
                f"code '{contact.code}' is geen bekende gemeente",
                "Verbeter de code of verwijder de rij.",
            )


# What to do about each of the issuer's facts an invoice lacks, by Instellingen key.
_SELLER_FIXES = {
    "sender_legal_name": "Vul de penvoerder als rechtspersoon in, bijvoorbeeld Gemeente Zoetermeer.",
    "sender_street": "Vul het adres van de penvoerder in: Straat, Postcode en Plaats.",
    "sender_postcode": "Vul het adres van de penvoerder in: Straat, Postcode en Plaats.",
    "sender_city": "Vul het adres van de penvoerder in: Straat, Postcode en Plaats.",
    "sender_iban": "Vul het rekeningnummer (IBAN) in waarop de gemeenten betalen.",
    "sender_oin": "Vul het OIN van de penvoerder in (20 cijfers, als tekst).",
    "sender_vat_number": "Vul het btw-nummer van de penvoerder in (NL, 9 cijfers, B, 2 cijfers), "
    "of zet Btw op O als de fiscalist dat zegt.",
    "vat_note": "Vul bij Btw-toelichting de grond van de vrijstelling in, zoals de fiscalist van "
    "de penvoerder die noemt.",
}


def _invoice_facts(
    budget: Budget, budget_file: str, billed: set[str], names: dict[str, str]
) -> Iterator[Finding]:
    """Which facts an invoice or e-invoice still lacks (SPEC §1): a warning while E-factuur is
    empty (no e-invoice is then made for an invoice that lacks them), an error when it is set
    to peppol or si-ubl. The e-invoice's list is einvoice.py's own (`missing_fields`, what
    `ubl_document` refuses without), so a field is found missing here before any writer runs;
    with E-factuur = nee only what the printed invoice needs is reported (legal.py)."""
    settings = budget.settings
    if not billed:
        return
    if settings.einvoice == "nee":
        yield from _printed_invoice_facts(budget, budget_file, billed, names)
        return
    from .einvoice import missing_buyer_fields, missing_seller_fields

    strict = settings.einvoice_set
    make = _error if strict else _warning
    later = (
        ""
        if strict
        else " Zolang het ontbreekt, wordt er geen e-factuur gemaakt; zet E-factuur op 'nee' als "
        "u geen e-facturen verstuurt."
    )
    keys = {dutch: key for key, dutch, *_ in SETTINGS_KEYS}
    for field in missing_seller_fields(settings):
        key = keys.get(field.name, "")
        if key in settings.invalid:
            continue  # filled in but unreadable: an error at its cell already
        where = settings.at(key)
        yield make(
            where if where.file else Location(budget_file, "Instellingen"),
            f"{field.name} ontbreekt; de e-factuur heeft het nodig: {field.purpose}",
            _SELLER_FIXES.get(key, f"Vul {field.name} in.") + later,
        )
    for code in sorted(billed):
        name = names.get(code, code)
        contact = budget.contact(code)
        if contact is None:
            if strict:  # without E-factuur the missing row is a warning already (no e-mail)
                yield _error(
                    Location(budget_file, "Contacten"),
                    f"geen rij voor {name} ({code}); de e-factuur heeft haar adres, OIN en "
                    "kenmerk nodig",
                    "Voeg een rij toe in het werkblad Contacten, of zet E-factuur op 'nee'.",
                )
            continue
        missing = [
            field
            for field in missing_buyer_fields(contact)
            if not set(field.attributes) & set(contact.invalid)
        ]
        if missing:
            listed = ", ".join(field.name for field in missing)
            yield make(
                contact.source.at(missing[0].attributes[0]),
                f"voor de e-factuur aan {name} ({code}) ontbreekt: {listed}",
                f"Vul in het werkblad Contacten bij {code} in: {listed}.{later}",
            )
    yield from _credit_account(budget, budget_file, billed)


def _printed_invoice_facts(
    budget: Budget, budget_file: str, billed: set[str], names: dict[str, str]
) -> Iterator[Finding]:
    """Without e-invoices: what the printed invoice needs to be booked, as warnings."""
    from .legal import buyer_gaps, unreported_seller_gaps

    settings = budget.settings
    for key, dutch in unreported_seller_gaps(settings):
        where = settings.at(key)
        yield _warning(
            where if where.file else Location(budget_file, "Instellingen"),
            f"{dutch} van de penvoerder ontbreekt; de factuur heeft het nodig",
            _SELLER_FIXES.get(key, "Vul het OIN of het KvK-nummer van de penvoerder in."),
        )
    for code in sorted(billed):
        contact = budget.contact(code)
        if contact is None:
            continue
        gaps = [gap for gap in buyer_gaps(contact) if gap[0] not in contact.invalid]
        if gaps:
            listed = ", ".join(dutch for _, dutch in gaps)
            yield _warning(
                contact.source.at(gaps[0][0]),
                f"voor de factuur aan {names.get(code, code)} ({code}) ontbreekt: {listed}",
                f"Vul in het werkblad Contacten bij {code} in: {listed}.",
            )
    yield from _credit_account(budget, budget_file, billed)


def _credit_account(budget: Budget, budget_file: str, billed: set[str]) -> Iterator[Finding]:
    """Creditnota = terugbetalen: a credit note names the account the money goes to."""
    settings = budget.settings
    if settings.credit_method != "terugbetalen":
        return
    without = sorted(c.code for c in budget.contacts if c.code in billed and not c.iban)
    if without:
        where = settings.at("credit_method")
        yield _warning(
            where if where.file else Location(budget_file, "Instellingen"),
            "Creditnota = terugbetalen, maar bij " + ", ".join(without) + " staat geen IBAN in "
            "Contacten; een creditnota noemt dan geen rekeningnummer",
            "Vul in het werkblad Contacten de IBAN in, of zet Creditnota op verrekenen.",
        )


def _lead_checks(
    calendar: Calendar,
    budget: Budget,
    budget_file: str,
    populations: dict,
    skip: frozenset[str],
) -> Iterator[Finding]:
    """The Penvoerder is required and shares the network budget: it pays the costs and sends
    the invoices, so its own share is a statement in the overview, never an invoice. Without
    one (or with a municipality outside the network) somebody would invoice itself."""
    settings = budget.settings
    lead = settings.lead
    where = settings.at("lead")
    if not where.file:  # no Penvoerder row at all: point at the sheet
        where = Location(budget_file, "Instellingen")
    example = next((p.code for p in budget.populations if p.network), "ZM")
    if not lead:
        yield _error(
            where,
            "de penvoerder is niet ingevuld",
            f"Vul bij Penvoerder de code in van de gemeente die de kosten betaalt en de facturen "
            f"verstuurt, bijvoorbeeld {example}; zij moet in het werkblad Inwoners staan met "
            "Netwerk = ja.",
        )
        return
    if lead in skip:
        return  # its Inwoners row had an error of its own, reported there
    population = populations.get(lead)
    if population is None:
        known = {m.code for m in calendar.municipalities}
        meant = next(
            (m for m in calendar.municipalities if m.name.casefold() == lead.casefold()), None
        )
        if lead in known:
            yield _error(
                where,
                f"penvoerder '{lead}' staat niet in het werkblad Inwoners",
                f"Kies als penvoerder een gemeente met Netwerk = ja in het werkblad Inwoners, "
                f"bijvoorbeeld {example}, of voeg {lead} daar toe.",
            )
        else:
            yield _error(
                where,
                f"penvoerder '{lead}' is geen bekende gemeentecode",
                f"Vul de code {meant.code} in, niet de naam {meant.name}."
                if meant
                else "Vul de code in van de gemeente die de kosten betaalt, bijvoorbeeld "
                f"{example}.",
            )
        return
    if not population.network:
        yield _error(
            where,
            f"penvoerder '{lead}' betaalt niet mee aan de netwerkbegroting (Netwerk = nee in het "
            f"werkblad Inwoners, {population.source.at('network').cell})",
            f"Kies als penvoerder een gemeente met Netwerk = ja, bijvoorbeeld {example}, of zet "
            f"Netwerk op ja bij {lead} als zij dit jaar meebetaalt.",
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
