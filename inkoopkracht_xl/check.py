"""Cross-checks between the calendar and the budget (SPEC §1): each problem a Finding with its cell.

Each check is one named rule in `RULES`, run in that order (the order of the findings): a rule
takes the `Facts` of one drop folder and yields its findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from .filenames import invoice_filename
from .layout import SETTINGS_KEYS
from .legal import buyer_gaps, unreported_seller_gaps
from .model import (
    Budget,
    Calendar,
    CostLine,
    Finding,
    Level,
    Location,
    Population,
    Settings,
    Source,
    Subject,
    subject_key,
)
from .read.values import invisible_characters, visible
from .rules import missing_buyer_fields, missing_seller_fields, participants_on


@dataclass(frozen=True)
class Facts:
    """One drop folder as the rules see it: the two workbooks and what is derived from them once."""

    calendar: Calendar
    budget: Budget
    budget_file: str
    skip: frozenset[str]  # codes whose missing population was reported already
    subjects_unreadable: bool  # the Kalender sheet's own error says it all
    known: frozenset[str]  # the codes of the calendar's Gemeenten sheet
    populations: Mapping[str, Population]  # Inwoners by code
    subjects: Mapping[str, Subject]  # the calendar's subjects by subject_key
    names: Mapping[str, str]  # the calendar's name of each code
    # Each code a cost line needs a population for and lacks one, with the first such line.
    unpopulated: Mapping[str, CostLine]
    billed: frozenset[str]  # who will get an invoice (never the Penvoerder)

    @property
    def settings(self) -> Settings:
        return self.budget.settings

    @property
    def year(self) -> int:
        return self.budget.settings.year


Rule = Callable[[Facts], Iterator[Finding]]


def cross_check(
    calendar: Calendar,
    budget: Budget,
    budget_file: str,
    *,
    unreadable_codes: frozenset[str] = frozenset(),
    populations_unreadable: bool = False,
    subjects_unreadable: bool = False,
) -> list[Finding]:
    """Every cross-check finding, rule by rule (`RULES`). Codes whose Inwoners row had an error,
    or an unreadable Inwoners sheet, were reported already: their missing population is not
    reported again. Likewise an unreadable Kalender sheet: no cost line or join is reported for
    naming a subject it lacks."""
    if populations_unreadable:
        skip = {m.code for m in calendar.municipalities} | {
            code for s in calendar.subjects for code in s.participants
        }
    else:
        skip = set(unreadable_codes)
    facts = gather_facts(calendar, budget, budget_file, frozenset(skip), subjects_unreadable)
    return [finding for rule in RULES for finding in rule(facts)]


def gather_facts(
    calendar: Calendar,
    budget: Budget,
    budget_file: str,
    skip: frozenset[str] = frozenset(),
    subjects_unreadable: bool = False,
) -> Facts:
    """The Facts the rules share, each worked out once."""
    known = frozenset(m.code for m in calendar.municipalities)
    populations = {p.code: p for p in budget.populations}
    subjects = {subject_key(s.name): s for s in calendar.subjects}
    return Facts(
        calendar,
        budget,
        budget_file,
        skip,
        subjects_unreadable,
        known,
        populations,
        subjects,
        {m.code: m.name for m in calendar.municipalities},
        _unpopulated(budget, subjects, populations, known, skip),
        _billed(budget, subjects, populations, known),
    )


def _unpopulated(
    budget: Budget,
    subjects: Mapping[str, Subject],
    populations: Mapping[str, Population],
    known: frozenset[str],
    skip: frozenset[str],
) -> dict[str, CostLine]:
    """Known codes without an Inwoners row that a cost line charges, each with its first line:
    a missing population is reported once, at the first line needing it."""
    first: dict[str, CostLine] = {}
    for line in budget.cost_lines:
        subject = subjects.get(subject_key(line.subject))
        if subject is None:
            continue
        for code in participants_on(subject, line.date, budget):
            if code in known and code not in populations and code not in skip:
                first.setdefault(code, line)
    return first


def _billed(
    budget: Budget,
    subjects: Mapping[str, Subject],
    populations: Mapping[str, Population],
    known: frozenset[str],
) -> frozenset[str]:
    """Who will get an invoice: the network's payers and every project's participants (known
    or with a population), less the Penvoerder, who pays the costs itself."""
    billed = {p.code for p in budget.populations if p.network}
    for line in budget.cost_lines:
        subject = subjects.get(subject_key(line.subject))
        if subject is not None:
            billed.update(
                code for code in subject.participants if code in known or code in populations
            )
    billed.discard(budget.settings.lead)
    return frozenset(billed)


def _error(location: Location, message: str, fix: str = "") -> Finding:
    # Messages quote names from the workbooks: show their invisible characters (values.visible).
    return Finding(Level.ERROR, location, visible(message), fix)


def _warning(location: Location, message: str, fix: str = "") -> Finding:
    return Finding(Level.WARNING, location, visible(message), fix)


# -- the rules, in the order they run ------------------------------------------------------------


def unknown_participants(facts: Facts) -> Iterator[Finding]:
    """A participant code the Gemeenten sheet lacks: an error where money depends on it."""
    budget = facts.budget
    money_subjects = {subject_key(c.subject) for c in budget.cost_lines} | {
        subject_key(j.subject) for j in budget.joins
    }
    for subject in facts.calendar.subjects:
        for code in subject.participants:
            if code in facts.known:
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


def lead_municipality(facts: Facts) -> Iterator[Finding]:
    """The Penvoerder is filled in, a known code, in Inwoners and in the network.

    It pays the costs and sends the invoices, so its own share is a statement in the overview,
    never an invoice. Without one (or with a municipality outside the network) somebody would
    invoice itself."""
    settings = facts.settings
    lead = settings.lead
    where = settings.at("lead")
    if not where.file:  # no Penvoerder row at all: point at the sheet
        where = Location(facts.budget_file, "Instellingen")
    example = next((p.code for p in facts.budget.populations if p.network), "ZM")
    if not lead:
        yield _error(
            where,
            "de penvoerder is niet ingevuld",
            f"Vul bij Penvoerder de code in van de gemeente die de kosten betaalt en de facturen "
            f"verstuurt, bijvoorbeeld {example}; zij moet in het werkblad Inwoners staan met "
            "Netwerk = ja.",
        )
        return
    if lead in facts.skip:
        return  # its Inwoners row had an error of its own, reported there
    population = facts.populations.get(lead)
    if population is None:
        yield _lead_without_population(facts, lead, where, example)
        return
    if not population.network:
        yield _error(
            where,
            f"penvoerder '{lead}' betaalt niet mee aan de netwerkbegroting (Netwerk = nee in het "
            f"werkblad Inwoners, {population.source.at('network').cell})",
            f"Kies als penvoerder een gemeente met Netwerk = ja, bijvoorbeeld {example}, of zet "
            f"Netwerk op ja bij {lead} als zij dit jaar meebetaalt.",
        )


def _lead_without_population(facts: Facts, lead: str, where: Location, example: str) -> Finding:
    """A Penvoerder not in Inwoners: a known code missing there, or a name typed as its code."""
    if lead in facts.known:
        return _error(
            where,
            f"penvoerder '{lead}' staat niet in het werkblad Inwoners",
            f"Kies als penvoerder een gemeente met Netwerk = ja in het werkblad Inwoners, "
            f"bijvoorbeeld {example}, of voeg {lead} daar toe.",
        )
    municipalities = facts.calendar.municipalities
    meant = next((m for m in municipalities if m.name.casefold() == lead.casefold()), None)
    return _error(
        where,
        f"penvoerder '{lead}' is geen bekende gemeentecode",
        f"Vul de code {meant.code} in, niet de naam {meant.name}."
        if meant
        else f"Vul de code in van de gemeente die de kosten betaalt, bijvoorbeeld {example}.",
    )


# The longest batch name an invoice file can carry ("2024-H2-correctie-12"): names that collide
# with it collide with every shorter one too (file names are cut at the same length).
_LONGEST_BATCH = "0000-H0-correctie-00"


def same_file_names(facts: Facts) -> Iterator[Finding]:
    """Two municipalities whose invoices would get one file name: the second would overwrite the
    first. Compared as Windows and macOS do, without regard to case ("Delft" and "DELFT")."""
    named: dict[str, tuple[str, Source]] = {}
    for population in facts.budget.populations:
        if population.name:
            named[population.code] = (population.name, population.source)
    for municipality in facts.calendar.municipalities:  # the calendar's name is the one invoiced
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


def population_reference_dates(facts: Facts) -> Iterator[Finding]:
    """Every Inwoners row counts on 1 January of the year before (the agreement's peildatum)."""
    year = facts.year
    if not year:
        return
    expected = date(year - 1, 1, 1)
    for population in facts.budget.populations:
        if population.reference_date != expected:
            yield _error(
                population.source.at("reference_date"),
                f"peildatum {_d(population.reference_date)} is niet 1 januari van het jaar "
                f"vóór {year}",
                f"Gebruik de CBS-cijfers per {_d(expected)} (afspraak samenwerkingsovereenkomst).",
            )


def populations_in_calendar(facts: Facts) -> Iterator[Finding]:
    """Every Inwoners code is a municipality of the calendar's Gemeenten sheet."""
    for population in facts.budget.populations:
        if facts.known and population.code not in facts.known:
            yield _warning(
                population.source.at("code"),
                f"code '{population.code}' staat niet in het werkblad Gemeenten van de kalender",
                "Voeg de gemeente toe aan de kalender of verbeter de code.",
            )


def network_payers(facts: Facts) -> Iterator[Finding]:
    """Someone has Netwerk = ja, or nobody pays the network budget."""
    populations = facts.budget.populations
    if populations and not facts.skip and not any(p.network for p in populations):
        yield _error(
            Location(facts.budget_file, "Inwoners", "kolom Netwerk"),
            "geen enkele gemeente heeft Netwerk = ja, dus niemand betaalt de netwerkbegroting",
            "Zet 'ja' bij de gemeenten die dit jaar meebetalen.",
        )


def core_populations(facts: Facts) -> Iterator[Finding]:
    """Every core municipality (kerngemeente) has an Inwoners row."""
    for municipality in facts.calendar.municipalities:
        if (
            municipality.core
            and municipality.code not in facts.populations
            and municipality.code not in facts.skip
        ):
            yield _error(
                municipality.source.at("code"),
                f"kerngemeente {municipality.code} heeft geen rij in het werkblad Inwoners",
                "Voeg het CBS-inwonertal toe aan het werkblad Inwoners.",
            )


def realised_amounts(facts: Facts) -> Iterator[Finding]:
    """A realised amount on every post or on none: partly filled in settles on the budgeted ones."""
    posts = facts.budget.posts
    partial = [p for p in posts if p.realised is not None]
    if partial and len(partial) < len(posts):
        yield _warning(
            partial[0].source.at("realised"),
            "niet elke post heeft een gerealiseerd bedrag, dus wordt met de begrote bedragen "
            "afgerekend",
            "Vul bij elke post het gerealiseerde bedrag in om op werkelijke kosten af te rekenen.",
        )


def cost_lines(facts: Facts) -> Iterator[Finding]:
    """Each project cost names a calendar subject, falls in the year, and has participants on its
    date, each with a population."""
    year = facts.year
    for line in facts.budget.cost_lines:
        subject = facts.subjects.get(subject_key(line.subject))
        if subject is None:
            if not facts.subjects_unreadable:  # else the Kalender sheet's own error says it all
                yield _unknown_subject(line.source.at("subject"), line.subject)
            continue
        if year and line.date.year != year:
            yield _error(
                line.source.at("date"),
                f"datum {_d(line.date)} valt niet in begrotingsjaar {year}",
                "Boek de kosten in de begroting van het jaar van de datum, of verbeter de datum.",
            )
        yield from _participants_known(facts, line, subject)


def _participants_known(facts: Facts, line: CostLine, subject: Subject) -> Iterator[Finding]:
    budget = facts.budget
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
    for code in dict.fromkeys(participants):  # a code listed twice is reported once
        if facts.unpopulated.get(code) is line:
            yield _error(
                line.source.at("subject"),
                f"deelnemer {code} van '{subject.name}' heeft geen inwonertal",
                "Voeg de gemeente toe aan het werkblad Inwoners.",
            )


def joins(facts: Facts) -> Iterator[Finding]:
    """Each join names a calendar subject it participates in, has a population, and falls in the
    year."""
    for join in facts.budget.joins:
        subject = facts.subjects.get(subject_key(join.subject))
        if subject is None:
            if not facts.subjects_unreadable:
                yield _unknown_subject(join.source.at("subject"), join.subject)
            continue
        if join.code not in subject.participants:
            yield _error(
                join.source.at("code"),
                f"{join.code} staat in de kalender niet bij de deelnemers van '{subject.name}'",
                "Voeg de code toe bij 'Deelnemende gemeenten' in de kalender, of verbeter de code.",
            )
        elif (
            join.code not in facts.populations
            and join.code not in facts.skip
            and join.code not in facts.unpopulated  # reported at its cost line already
        ):
            yield _error(
                join.source.at("code"),
                f"{join.code} treedt toe maar heeft geen inwonertal",
                "Voeg de gemeente toe aan het werkblad Inwoners.",
            )
        if facts.year and join.date.year != facts.year:
            yield _error(
                join.source.at("date"),
                f"datum {_d(join.date)} valt niet in begrotingsjaar {facts.year}",
                "Verbeter de datum van toetreding.",
            )


def duplicate_joins(facts: Facts) -> Iterator[Finding]:
    """One join per municipality and subject."""
    seen: dict[tuple[str, str], int] = {}
    for join in facts.budget.joins:
        pair = (subject_key(join.subject), join.code)
        if pair in seen:
            yield _error(
                join.source.at("code"),
                f"toetreding van {join.code} staat dubbel (ook in rij {seen[pair]})",
                "Laat één rij per gemeente en onderwerp staan.",
            )
        seen.setdefault(pair, join.source.row)


def email_addresses(facts: Facts) -> Iterator[Finding]:
    """Who will get an invoice has a Contacten row, or no e-mail draft can be made for it."""
    addressed = {c.code for c in facts.budget.contacts}
    for code in sorted(facts.billed - addressed):
        yield _warning(
            Location(facts.budget_file, "Contacten"),
            f"geen e-mailadres voor {facts.names.get(code, code)} ({code}); voor de factuur wordt "
            "geen e-mailconcept gemaakt",
            "Voeg een rij toe in het werkblad Contacten met de code en het e-mailadres.",
        )


def invoice_facts(facts: Facts) -> Iterator[Finding]:
    """Which facts an invoice or e-invoice still lacks (SPEC §1): a warning while E-factuur is
    empty (no e-invoice is then made for an invoice that lacks them), an error when it is set
    to peppol or si-ubl. The e-invoice's list is the one `ubl_document` refuses without
    (rules.missing_fields), so a field is found missing here before any writer runs; with
    E-factuur = nee only what the printed invoice needs is reported (legal.py)."""
    if not facts.billed:
        return
    if facts.settings.einvoice == "nee":
        yield from _printed_invoice_facts(facts)
    else:
        yield from _seller_einvoice_facts(facts)
        yield from _buyer_einvoice_facts(facts)
    yield from _credit_account(facts)


def contact_codes(facts: Facts) -> Iterator[Finding]:
    """Every Contacten code is a known municipality."""
    for contact in facts.budget.contacts:
        if (
            facts.known
            and contact.code not in facts.known
            and contact.code not in facts.populations
        ):
            yield _warning(
                contact.source.at("code"),
                f"code '{contact.code}' is geen bekende gemeente",
                "Verbeter de code of verwijder de rij.",
            )


RULES: tuple[Rule, ...] = (
    unknown_participants,
    lead_municipality,
    same_file_names,
    population_reference_dates,
    populations_in_calendar,
    network_payers,
    core_populations,
    realised_amounts,
    cost_lines,
    joins,
    duplicate_joins,
    email_addresses,
    invoice_facts,
    contact_codes,
)


# -- the invoice facts' parts -------------------------------------------------------------------

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


def _strictness(settings: Settings) -> tuple[Callable[..., Finding], str]:
    """An error with E-factuur set, else a warning that says no e-invoice is made meanwhile."""
    if settings.einvoice_set:
        return _error, ""
    return _warning, (
        " Zolang het ontbreekt, wordt er geen e-factuur gemaakt; zet E-factuur op 'nee' als "
        "u geen e-facturen verstuurt."
    )


def _settings_cell(facts: Facts, key: str) -> Location:
    """The cell of an Instellingen key, or the sheet when the key has no row."""
    where = facts.settings.at(key)
    return where if where.file else Location(facts.budget_file, "Instellingen")


def _seller_einvoice_facts(facts: Facts) -> Iterator[Finding]:
    """The issuer's Instellingen fields the e-invoice needs and lacks."""
    settings = facts.settings
    make, later = _strictness(settings)
    keys = {dutch: key for key, dutch, *_ in SETTINGS_KEYS}
    for field in missing_seller_fields(settings):
        key = keys.get(field.name, "")
        if key in settings.invalid:
            continue  # filled in but unreadable: an error at its cell already
        yield make(
            _settings_cell(facts, key),
            f"{field.name} ontbreekt; de e-factuur heeft het nodig: {field.purpose}",
            _SELLER_FIXES.get(key, f"Vul {field.name} in.") + later,
        )


def _buyer_einvoice_facts(facts: Facts) -> Iterator[Finding]:
    """Each billed municipality's Contacten fields the e-invoice needs and lacks."""
    settings = facts.settings
    make, later = _strictness(settings)
    for code in sorted(facts.billed):
        name = facts.names.get(code, code)
        contact = facts.budget.contact(code)
        if contact is None:
            if settings.einvoice_set:  # else the missing row is a warning already (no e-mail)
                yield _error(
                    Location(facts.budget_file, "Contacten"),
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


def _printed_invoice_facts(facts: Facts) -> Iterator[Finding]:
    """Without e-invoices: what the printed invoice needs to be booked, as warnings."""
    for key, dutch in unreported_seller_gaps(facts.settings):
        yield _warning(
            _settings_cell(facts, key),
            f"{dutch} van de penvoerder ontbreekt; de factuur heeft het nodig",
            _SELLER_FIXES.get(key, "Vul het OIN of het KvK-nummer van de penvoerder in."),
        )
    for code in sorted(facts.billed):
        contact = facts.budget.contact(code)
        if contact is None:
            continue
        gaps = [gap for gap in buyer_gaps(contact) if gap[0] not in contact.invalid]
        if gaps:
            listed = ", ".join(dutch for _, dutch in gaps)
            yield _warning(
                contact.source.at(gaps[0][0]),
                f"voor de factuur aan {facts.names.get(code, code)} ({code}) ontbreekt: {listed}",
                f"Vul in het werkblad Contacten bij {code} in: {listed}.",
            )


def _credit_account(facts: Facts) -> Iterator[Finding]:
    """Creditnota = terugbetalen: a credit note names the account the money goes to."""
    settings = facts.settings
    if settings.credit_method != "terugbetalen":
        return
    contacts = facts.budget.contacts
    without = sorted(c.code for c in contacts if c.code in facts.billed and not c.iban)
    if without:
        yield _warning(
            _settings_cell(facts, "credit_method"),
            "Creditnota = terugbetalen, maar bij " + ", ".join(without) + " staat geen IBAN in "
            "Contacten; een creditnota noemt dan geen rekeningnummer",
            "Vul in het werkblad Contacten de IBAN in, of zet Creditnota op verrekenen.",
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


def _d(day: date) -> str:
    return f"{day.day}-{day.month}-{day.year}"
