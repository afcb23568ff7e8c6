"""Reads the budget workbook: Instellingen, Begroting, Inwoners, Projectkosten, Toetredingen, Contacten."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from ..addresses import UnsafeHeader, checked_address
from ..layout import (
    BEGROTING,
    CONTACTEN,
    INSTELLINGEN,
    INWONERS,
    PROJECTKOSTEN,
    SETTINGS_KEYS,
    TOETREDINGEN,
)
from ..model import (
    Budget,
    BudgetPost,
    Contact,
    CostLine,
    Join,
    Location,
    Population,
    Sender,
    Settings,
)
from . import identifiers, values
from .municipalities import Directory
from .table import Reader, Row, normalise_header

_PREFIX = re.compile(r"[A-Za-z0-9]{1,10}")
# The largest Dutch municipality has under a million inhabitants, the country under 18 million;
# more than this is a typing slip (a CBS code or a date pasted in) that would skew every share.
MAX_INHABITANTS = 100_000_000


def read_budget(reader: Reader) -> Budget:
    """The budget workbook. Inwoners is read first: its names, with the calendar's Gemeenten,
    let a coordinator name a municipality instead of typing its code (Penvoerder, Toetredingen)."""
    populations = _populations(reader)
    reader.directory = Directory(
        (*reader.directory.names.items(), *((p.code, p.name) for p in populations)),
        source="Gemeenten en Inwoners",
    )
    settings = _settings(reader)
    reader.year = settings.year or None
    return Budget(
        settings=settings,
        posts=_posts(reader),
        populations=populations,
        cost_lines=_cost_lines(reader),
        joins=_joins(reader),
        contacts=_contacts(reader),
    )


def _year(value: object) -> int:
    year = values.whole_number(value)
    if not 2000 <= year <= 2100:
        raise ValueError(f"{year} is geen begrotingsjaar")
    return year


def _prefix(value: object) -> str:
    prefix = values.text(value)
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(
            f"'{prefix}' is geen geldige factuurprefix (alleen letters en cijfers, max. 10)"
        )
    return prefix.upper()


def _days(value: object) -> int:
    days = values.whole_number(value)
    if not 0 <= days <= 365:
        raise ValueError(f"{days} dagen is geen redelijke betaaltermijn")
    return days


def _address(value: object) -> str:
    """One e-mail address, checked as the e-mail will carry it (a message header): an address
    it would refuse must be found here, at its cell, and not halfway through a settlement."""
    address = values.text(value)
    try:
        return checked_address(address)
    except UnsafeHeader:
        raise ValueError(f"'{address}' is geen geldig e-mailadres") from None


_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]*[0-9]", re.ASCII)


def _phone(value: object) -> str:
    """A telephone number as typed, as text: a number stored as a number lost its leading 0."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(
            f"{values.text(value)} is als getal opgeslagen en mist zo de 0 vooraan; typ het "
            "telefoonnummer als tekst, bijvoorbeeld 079 123 45 67"
        )
    phone = values.text(value)
    if not _PHONE.fullmatch(phone) or sum(char.isdigit() for char in phone) < 6:
        raise ValueError(f"'{phone}' is geen telefoonnummer")
    return phone


def _vat_category(value: object) -> str:
    return values.choice(value, ("o", "e"), "o").upper()


_SETTING_PARSERS: dict[str, Callable[[object], object]] = {
    "year": _year,
    "method": lambda v: values.choice(v, ("procent", "exact"), "procent"),
    "rounding": lambda v: values.choice(v, ("euro", "cent"), "euro"),
    "invoice_prefix": _prefix,
    "payment_days": _days,
    "sender_email": _address,
    "sender_iban": identifiers.iban,
    "sender_postcode": identifiers.postcode,
    "sender_kvk": identifiers.kvk,
    "sender_oin": identifiers.oin,
    "sender_vat_number": identifiers.vat_number,
    "sender_bic": identifiers.bic,
    "sender_phone": _phone,
    "vat_category": _vat_category,
    "einvoice": lambda v: values.choice(v, ("peppol", "si-ubl", "nee"), "peppol"),
    "credit_method": lambda v: values.choice(v, ("verrekenen", "terugbetalen"), "verrekenen"),
}


@dataclass
class _SettingRows:
    """What the Instellingen rows hold, by settings key."""

    parsed: dict[str, object] = field(default_factory=dict)  # the readable values
    cells: dict[str, Location] = field(default_factory=dict)  # each key's value cell
    rows: dict[str, int] = field(default_factory=dict)
    empty: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)  # filled in but unreadable: an error there


def _settings(reader: Reader) -> Settings:
    table = reader.table(INSTELLINGEN)
    found = _SettingRows()
    for row in table.rows if table else ():
        _setting_row(reader, row, found)
    if table is not None and "year" not in found.cells:
        reader.error(
            Location(reader.book.name, INSTELLINGEN.name),
            "de instelling 'Jaar' ontbreekt",
            "Voeg een rij 'Jaar' toe met het begrotingsjaar.",
        )
    elif "year" in found.empty:
        reader.error(
            found.cells["year"], "'Jaar' is leeg", "Vul het begrotingsjaar in, bijvoorbeeld 2024."
        )
    return _settings_from(found)


_SETTING_NAMES = {normalise_header(dutch): key for key, dutch, *_ in SETTINGS_KEYS}
_EXPLANATIONS = {key: explanation for key, _, _, explanation, _ in SETTINGS_KEYS}


def _setting_row(reader: Reader, row: Row, found: _SettingRows) -> None:
    """One Instellingen row into `found`; an unknown or repeated key is reported and skipped."""
    key = _SETTING_NAMES.get(normalise_header(row["key"]))
    if key is None:
        reader.warn(
            row.source.at("key"),
            f"onbekende instelling '{values.text(row['key'])}' wordt genegeerd",
            "Gebruik een van: " + ", ".join(dutch for _, dutch, *_ in SETTINGS_KEYS) + ".",
        )
        return
    if key in found.cells:
        dutch = values.text(row["key"])
        reader.error(
            row.source.at("key"),
            f"de instelling '{dutch}' staat dubbel (ook in rij {found.rows[key]})",
            "Laat er één staan: het programma kiest niet zelf welke geldt.",
        )
        return
    found.rows[key] = row.source.row
    found.cells[key] = row.source.at("value")
    if values.is_empty(row["value"]):
        found.empty.add(key)
        return
    parse = reader.directory.resolve_one if key == "lead" else _SETTING_PARSERS.get(key)
    value = reader.field(row, "value", parse or values.text, fix=_EXPLANATIONS[key])
    if value is not None:
        found.parsed[key] = value
    else:
        found.invalid.add(key)


def _settings_from(found: _SettingRows) -> Settings:
    """The Settings of what was read, with each setting's default where it was not."""
    parsed = found.parsed

    def text(key: str, default: str = "") -> str:
        return str(parsed.get(key, default))

    return Settings(
        year=int(parsed.get("year", 0)),
        lead=text("lead"),
        method=text("method", "procent"),
        rounding=text("rounding", "euro"),
        invoice_prefix=text("invoice_prefix", "IK"),
        payment_days=int(parsed.get("payment_days", 30)),
        sender=Sender(
            name=text("sender_name"),
            address=text("sender_address"),
            iban=text("sender_iban"),
            email=text("sender_email"),
            legal_name=text("sender_legal_name"),
            street=text("sender_street"),
            postcode=text("sender_postcode"),
            city=text("sender_city"),
            kvk=text("sender_kvk"),
            oin=text("sender_oin"),
            vat_number=text("sender_vat_number"),
            contact_person=text("sender_contact_person"),
            phone=text("sender_phone"),
            bic=text("sender_bic"),
        ),
        vat_category=text("vat_category", "O"),
        vat_note=text("vat_note"),
        einvoice=text("einvoice", "peppol"),
        # Filled in (even if unreadable): then a missing e-invoice field is an error, not a
        # warning (SPEC §1). An empty cell counts as not filled in.
        einvoice_set="einvoice" in found.cells and "einvoice" not in found.empty,
        credit_method=text("credit_method", "verrekenen"),
        cells=tuple(found.cells.items()),
        invalid=frozenset(found.invalid),
    )


def _non_negative_money(value: object) -> Decimal:
    result = values.money(value)
    if result < 0:
        raise ValueError(f"{values.text(value)} is negatief")
    return result


def _posts(reader: Reader) -> tuple[BudgetPost, ...]:
    table = reader.table(BEGROTING)
    posts: list[BudgetPost] = []
    for row in table.rows if table else ():
        name = reader.field(row, "post", values.text, fix="Vul de naam van de post in.")
        budgeted = reader.field(
            row,
            "budgeted",
            _non_negative_money,
            fix="Vul het begrote bedrag in, bijvoorbeeld 5.000,00.",
        )
        realised = reader.field(
            row,
            "realised",
            _non_negative_money,
            required=False,
            fix="Vul het gerealiseerde bedrag in, bijvoorbeeld 4.250,00 (0 als er niets is "
            "uitgegeven), of laat de cel leeg zolang het nog niet bekend is.",
        )
        if name is not None and budgeted is not None:
            posts.append(BudgetPost(name, budgeted, realised, row.source))
    if table is not None and not table.rows:
        # Without posts the network budget is € 0: every voorschot would silently be nothing.
        reader.error(
            Location(table.file, table.sheet),
            "de begroting heeft geen posten",
            "Vul onder de kopregel de posten in met hun begrote bedrag (kolommen Post en Begroot).",
        )
    return tuple(posts)


def _positive_count(value: object) -> int:
    count = values.whole_number(value)
    if count <= 0:
        raise ValueError(f"{count} is geen positief aantal inwoners")
    if count > MAX_INHABITANTS:
        shown = f"{count:,}".replace(",", ".") if count < 10**15 else values.text(value)
        raise ValueError(f"{shown} inwoners is onwaarschijnlijk veel (meer dan 100 miljoen)")
    return count


def _populations(reader: Reader) -> tuple[Population, ...]:
    table = reader.table(INWONERS)
    found: dict[str, Population] = {}
    for row in table.rows if table else ():
        code = reader.field(row, "code", values.code)
        name = reader.field(row, "name", values.text, required=False) or ""
        count = reader.field(
            row, "inhabitants", _positive_count, fix="Vul het CBS-aantal in als heel getal."
        )
        when = reader.field(
            row, "reference_date", values.a_date, fix="Vul een datum in, bijvoorbeeld 1-1-2023."
        )
        network = reader.field(row, "network", values.yes_no, fix="Vul 'ja' of 'nee' in.")
        if None in (code, count, when, network):
            if code is not None:
                reader.incomplete_keys.add(code)
            continue
        if code in found:
            reader.error(
                row.source.at("code"),
                f"code {code} staat dubbel (ook in rij {found[code].source.row})",
                "Laat elke gemeente één keer voorkomen.",
            )
            continue
        found[code] = Population(
            code, name, count, when, network, values.text(row["source_note"]), row.source
        )
    return tuple(found.values())


def _cost_lines(reader: Reader) -> tuple[CostLine, ...]:
    table = reader.table(PROJECTKOSTEN)
    found: dict[str, CostLine] = {}
    for row in table.rows if table else ():
        reference = reader.field(
            row, "reference", values.text, fix="Geef elke kostenregel een uniek kenmerk."
        )
        subject = reader.field(
            row, "subject", values.text, fix="Vul een onderwerp uit de kalender in."
        )
        description = reader.field(row, "description", values.text, required=False) or ""
        when = reader.field(
            row, "date", values.a_date, fix="Vul een datum in, bijvoorbeeld 15-3-2024."
        )
        amount = reader.field(
            row, "amount", values.money, fix="Vul een bedrag in, bijvoorbeeld 1.250,00."
        )
        split = reader.field(
            row,
            "split",
            lambda v: values.choice(v, ("inwoners", "gelijk"), "inwoners"),
            required=False,
            fix="Vul 'inwoners' of 'gelijk' in.",
        )
        if None in (reference, subject, when, amount):
            continue
        key = reference.casefold()
        if key in found:
            reader.error(
                row.source.at("reference"),
                f"kenmerk '{reference}' staat dubbel (ook in rij {found[key].source.row})",
                "Geef elke kostenregel een uniek kenmerk.",
            )
            continue
        found[key] = CostLine(
            reference, subject, description, when, amount, split or "inwoners", row.source
        )
    return tuple(found.values())


def _joins(reader: Reader) -> tuple[Join, ...]:
    table = reader.table(TOETREDINGEN)
    joins: list[Join] = []
    for row in table.rows if table else ():
        subject = reader.field(row, "subject", values.text)
        code = reader.field(row, "code", reader.directory.resolve_one)
        when = reader.field(row, "date", values.a_date, fix="Vul de datum van toetreding in.")
        if None not in (subject, code, when):
            joins.append(Join(subject, code, when, row.source))
    return tuple(joins)


def _emails(value: object) -> tuple[str, ...]:
    parts = (part.strip() for part in re.split(r"[;,]", values.text(value)))
    return tuple(_address(part) for part in parts if part)


def _contacts(reader: Reader) -> tuple[Contact, ...]:
    table = reader.table(CONTACTEN)
    found: dict[str, Contact] = {}
    for row in table.rows if table else ():
        code = reader.field(row, "code", values.code)
        name = reader.field(row, "name", values.text, required=False) or ""
        emails = reader.field(
            row, "emails", _emails, fix="Vul een of meer adressen in, gescheiden door ';'."
        )
        cc = reader.field(row, "cc", _emails, required=False) or ()
        buyer = {
            key: reader.field(row, key, parse, required=False, fix=fix) or ""
            for key, parse, fix in _BUYER_FIELDS
        }
        invalid = tuple(k for k in buyer if not buyer[k] and not values.is_empty(row[k]))
        if code is None or emails is None:
            continue
        if code in found:
            reader.error(
                row.source.at("code"),
                f"code {code} staat dubbel (ook in rij {found[code].source.row})",
                "Zet alle adressen van een gemeente in één rij, gescheiden door ';'.",
            )
            continue
        found[code] = Contact(code, name, emails, cc, row.source, **buyer, invalid=invalid)
    return tuple(found.values())


# The buyer's columns of Contacten: (field, parser, what to do when it does not parse).
_BUYER_FIELDS: tuple[tuple[str, Callable[[object], str], str], ...] = (
    ("legal_name", values.text, ""),
    ("street", values.text, ""),
    ("postcode", identifiers.postcode, "Vul de postcode in als 1234 AB."),
    ("city", values.text, ""),
    ("oin", identifiers.oin, "Vul het OIN van de gemeente in (20 cijfers, als tekst)."),
    ("kvk", identifiers.kvk, "Vul het KvK-nummer in (8 cijfers)."),
    ("buyer_reference", values.text, ""),
    ("order_number", values.text, ""),
    ("iban", identifiers.iban, "Vul de IBAN in zoals op een bankafschrift (NL91 ABNA ...)."),
)
