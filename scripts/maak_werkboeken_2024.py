"""Write the coordinators' own 2024 workbooks (calendar and budget) from the Jaarplan 2024.

Run: .venv/bin/python scripts/maak_werkboeken_2024.py [--indeling gedrukt|plat] [--uit MAP]
Two layouts of the same data, with the same file names:
- `gedrukt` (default): laid out the way the jaarplan prints its tables (title and intro rows,
  section heading rows in the calendar, totals and notes); committed in workbooks/2024/, the
  folder the README's first command reads.
- `plat`: one header row and plain data rows per sheet; committed as the test fixture
  tests/fixtures/jaarplan-2024-plat/.
Re-running gives byte-identical files.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run from a checkout without installing the package: the script lives in ROOT/scripts.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import xlsxwriter  # noqa: E402
from xlsxwriter.utility import xl_rowcol_to_cell  # noqa: E402
from xlsxwriter.workbook import Workbook  # noqa: E402
from xlsxwriter.worksheet import Worksheet  # noqa: E402

from inkoopkracht_xl import layout  # noqa: E402
from inkoopkracht_xl.layout import SheetLayout  # noqa: E402
from inkoopkracht_xl.templates import write_input_workbook  # noqa: E402
from inkoopkracht_xl.write.files import atomic_file  # noqa: E402
from inkoopkracht_xl.write.styles import (  # noqa: E402
    FONT,
    MONEY,
    MONEY_WHOLE,
    TOTAL_FILL,
    WHOLE,
    WORKBOOK_OPTIONS,
    Styles,
    print_setup,
    set_wrapped_height,
    wrapped_height,
)

PRINTED = "gedrukt"  # as the jaarplan prints its tables
PLAIN = "plat"  # one header row, plain data rows
FOLDERS = {
    PRINTED: ROOT / "workbooks" / "2024",
    PLAIN: ROOT / "tests" / "fixtures" / "jaarplan-2024-plat",
}
CALENDAR_FILE = "Aanbestedingskalender 2024.xlsx"
BUDGET_FILE = "Begroting 2024.xlsx"
CALENDAR_TITLE = "Aanbestedingskalender 2024 Inkoopkracht ZHW"
# A fixed creation date keeps the committed files identical across runs.
CREATED = datetime(2024, 1, 1)

# The legend of the jaarplan ("Gebruikte afkortingen"): (code, name, role).
MUNICIPALITIES: tuple[tuple[str, str, str], ...] = (
    ("DE", "Delft", "kern"),
    ("PN", "Pijnacker-Nootdorp", "kern"),
    ("WE", "Westland", "kern"),
    ("ZM", "Zoetermeer", "kern"),
    ("CP", "Capelle a/d IJssel", "extra"),
    ("LS", "Lansingerland", "extra"),
    ("LV", "Leidschendam-Voorburg", "extra"),
    ("MD", "Midden-Delfland", "extra"),
    ("RW", "Rijswijk", "extra"),
    ("VS", "Voorschoten", "extra"),
    ("WS", "Wassenaar", "extra"),
)
NAMES = {code: name for code, name, _role in MUNICIPALITIES}

_ALL7 = "DE, PN, WE, ZM, LV, MD, RW"
_TBD = "Nader te bepalen"

# Bijlage I, Aanbestedingskalender 2024, transcribed as the jaarplan writes it:
# (category, subject, year of inventory, participants, year jointly tendered).
CALENDAR: tuple[tuple[int, str, str, str, str], ...] = (
    # 1. Contractmanagement, evaluaties/verlengingen (eerder regionaal aanbesteed)
    (1, "Aardgas en energie - aanbestedingstraject", "2024", _ALL7, "2018"),
    (1, "Aardgas en energie - Externe deskundige (Hellemans)", "2023/2024", _ALL7, "2018"),
    (1, "Boeken en abonnementen", "2024", "DE, WE, ZM, LV, RW", "2021"),
    (
        1,
        "Drukken en verzenden verkiezingspost (post- en koeriersdiensten perceel 3)",
        "2024",
        "WE, ZM",
        "2022",
    ),
    (1, "Energieloket", "2024", "PN, WE, CP, LV, MD", "2022"),
    (1, "Flextender/ Marktplaats externe inhuur", "2024", "PN, WE, ZM", "2022"),
    (1, "Koeriersdiensten perceel 2 (post- en koeriersdiensten)", "2024", "WE", "2022"),
    (1, "Postdiensten perceel 1 (post- en koeriersdiensten)", "2024", "PN, WE, ZM", "2022"),
    (1, "Receptie en beveiligingsdiensten", "2024", "DE, PN, ZM, RW", "2022"),
    (1, "Software broker", "2024", "DE, PN, WE, ZM, LV, MD", "2021"),
    (1, "Verkeersvoorzieningen", "2024", "DE, PN, WE, ZM, LV, WS, VS", "2022"),
    (1, "Woningaanpassingen perceel 1 (woningaanpassingen)", "2024", "DE, ZM", "2022"),
    (1, "Woningaanpassingen perceel 2 (deuropeners)", "2024", "PN, ZM", "2022"),
    # 2. Contractmanagement, aflopende contracten (eerder regionaal aanbesteed)
    (2, "Deuropeners, elektrische", "2023/2024", "DE, WE", "2020"),
    (2, "Dieptereiniging ICT hardware", "2024", "DE, WE, LV, MD", "2021"),
    # ME is not in the legend; kept exactly as the jaarplan has it (the checker reports it).
    (2, "Leveren Speel- en sporttoestellen", "2024", "DE, PN, WE, ZM, LV, ME, RW, WS, VS", "2020"),
    (2, "Multifunctionals", "2023/2024", "DE, ZM, LS", "2019"),
    # 3. Onderwerp/verkenningsmogelijkheden (nog niet eerder regionaal aanbesteed), page 1
    (3, "Aankoop bomen", "2024", "", ""),
    (3, "Aanschaf elementenverharding/ bestrating", "2024", "", ""),
    (3, "Audio visuele middelen Raads- en Commissiezaal", "2024", "", ""),
    (3, "Basisvoorzieningen Hulp in de huishouding (max 40 uur)", "2024", "", ""),
    (3, "Brandverzekering", "2024", "", ""),
    (3, "BRP", "2024", "", ""),
    (3, "Energieloket (gemeente Zoetermeer)", "2024", "", ""),
    (3, "Gemeentepolis collectieve zorgverzekering", "2024", "", ""),
    (3, "GFT", "2024", "", ""),
    (3, "Glas, Papier en karton", "2024", "", ""),
    (
        3,
        "Graffiti verwijderen, reinigen liften en trappen Mandela, stadhuisplein en Cadenza",
        "2024",
        "",
        "",
    ),
    (3, "Gymmaterialen; levering, keuring en onderhoud gymmaterialen", "2024", "", ""),
    (3, "Hardware", "2024", "", ""),
    (3, "Inspectie civiele kunstwerken", "2024", "", ""),
    (3, "Kinderopvang op sociaal medische indicatie", "2024", "", ""),
    (3, "Leaseauto's", "2024", "", ""),
    (3, "Leegstandbeheer", "2024", "", ""),
    (3, "Onderhoud neerslag en overstortmeetpunten", "2024", "", ""),
    (3, "Overeenkomst voor schoonmaakonderhoud en glasbewassing perceel 5", "2024", "", ""),
    (3, "Peilbuizen", "2024", "", ""),
    (3, "Planmaak software omgevingswet", "2024", "", ""),
    (3, "Raamovereenkomst Drukwerk en reprografische dienstverlening", "2024", "", ""),
    (3, "Raamovereenkomst onderhoud kunstwerken", "2024", "", ""),
    (3, "Tijdelijke verkeersmaatregelen", "2024", "", ""),
    (3, "Uitzendkrachten", "2024", "", ""),
    (3, "(Veiligheid) inspectie van speeltoestellen", "2024", "", ""),
    (3, "Wagenparkverzekering (samen met Afvalinzameling)", "2024", "", ""),
    (3, "WMO Hulp in de huishouding", "2024", "", ""),
    # 3., page 2
    (3, "Aanschaf minicontainers", _TBD, "", ""),
    (3, "Abri (bushokjes)", _TBD, "", ""),
    (3, "Advisering aanleg/onderhoud sportvelden (bureau Bas)", _TBD, "", ""),
    (3, "Aftransport milieuparken", _TBD, "", ""),
    (3, "Asfalt aanschaf en onderhoud", _TBD, "", ""),
    (3, "Beheer WMO hulpmiddelen en trapliften", _TBD, "", ""),
    (3, "BHV opleidingen", _TBD, "", ""),
    (3, "Budgetbeheer", _TBD, "", ""),
    (3, "Calamiteitenbestrijding en incidentenmanagement", _TBD, "", ""),
    (3, "Dooimiddelen", _TBD, "", ""),
    (3, "End User Devices (hardware en telefonie)", _TBD, "", ""),
    (3, "Exploitatie en toezicht van fietsenstallingen", _TBD, "", ""),
    (3, "Incidentmanager, calamiteiten", _TBD, "", ""),
    (3, "Ingenieurs diensten", _TBD, "", ""),
    (3, "Inspectie bomen en ongediertebestrijding bomen", _TBD, "", ""),
    (3, "Integraal onderhoud begraafplaatsen", _TBD, "", ""),
    (3, "Kantoorartikelen", _TBD, "", ""),
    (3, "Laptops", _TBD, "", ""),
    (3, "Maaien bermen en watergangen", _TBD, "", ""),
    (3, "Marktconsultatie Customer Relations Management (CRM)", _TBD, "", ""),
    (3, "Metropolitane fietspaden", _TBD, "", ""),
    (3, "Mobiliteitsdienstverband", _TBD, "", ""),
    (3, "Onderhoud bruggen", _TBD, "", ""),
    (3, "Onderhoud elementenverharding/ bestrating", _TBD, "", ""),
    (
        3,
        "Onderhoud speeltoestellen + operationele inspectie (o.a. herinrichting/vervanging)",
        _TBD,
        "",
        "",
    ),
    (3, "Onkruidbestrijding", _TBD, "", ""),
    (3, "Plaagdierbeheersing", _TBD, "", ""),
    # 3., page 3
    (3, "Print- en kopieerpapier", _TBD, "", ""),
    (3, "Sanitaire voorzieningen", _TBD, "", ""),
    (3, "Snoeien (onderhoud) bomen", _TBD, "", ""),
    (3, "Snoeien en inboeten beplanting", _TBD, "", ""),
    (3, "Vormgeving", _TBD, "", ""),
    (3, "Wegmarkeringen aanschaf", _TBD, "", ""),
    (3, "Wegmarkeringen onderhoud", _TBD, "", ""),
    (3, "Werving & Selectie", _TBD, "", ""),
    (3, "Zonnepanelen", _TBD, "", ""),
    # 4. Breed uitzoeken
    (4, "Telefonie", "", "", ""),
    (4, "Zorg", "", "", ""),
)

# Instellingen, by the layout's English keys; the Dutch key names come from layout.SETTINGS_KEYS.
# Identifiers cannot say "(voorbeeld)" in their cell (they must parse): the Opmerking column beside
# them does (EXAMPLE_NOTES). Never a real OIN or KvK: the OINs are zeros and a sequence number.
SETTINGS: dict[str, object] = {
    "year": 2024,
    "lead": "ZM",  # an example choice: the jaarplan names no penvoerder
    "method": "procent",
    "rounding": "euro",
    "invoice_prefix": "IK",
    "payment_days": 30,
    "sender_name": "Inkoopkracht ZHW",
    "sender_address": "Postbus 15, 2700 AA Zoetermeer (voorbeeld)",
    # The IBAN of the documentation examples (valid check digits), not the penvoerder's.
    "sender_iban": "NL91 ABNA 0417 1643 00",
    "sender_email": "inkoopkracht@example.org",
    "sender_legal_name": "Gemeente Zoetermeer",
    "sender_street": "Voorbeeldstraat 1",
    "sender_postcode": "2711 AA",
    "sender_city": "Zoetermeer",
    "sender_kvk": None,
    "sender_oin": "00000000000000000001",
    "sender_vat_number": None,
    "vat_category": "O",
    "vat_note": None,
    "einvoice": None,
    "sender_contact_person": "Coördinator Inkoopkracht (voorbeeld)",
    "sender_phone": "079 000 00 00",
    "sender_bic": "ABNANL2A",
    "credit_method": "verrekenen",
}
EXAMPLE = "voorbeeld"
EXAMPLE_NOTES: dict[str, str] = {
    "lead": "voorbeeld: het jaarplan noemt geen penvoerder",
    "sender_address": EXAMPLE,
    "sender_iban": "voorbeeld (IBAN uit de documentatie); vervang door die van de penvoerder",
    "sender_legal_name": "voorbeeld: de penvoerder als rechtspersoon",
    "sender_street": EXAMPLE,
    "sender_postcode": EXAMPLE,
    "sender_kvk": "leeg: het OIN identificeert de penvoerder",
    "sender_oin": "voorbeeld, geen echt OIN; vervang door het OIN van de penvoerder",
    "sender_vat_number": "alleen nodig als Btw = E",
    "vat_category": "voorbeeld: de fiscalist van de penvoerder kiest O of E",
    "vat_note": "leeg: de standaardtekst bij Btw",
    "einvoice": "leeg: peppol; ontbrekende gegevens zijn dan waarschuwingen",
    "sender_contact_person": EXAMPLE,
    "sender_phone": EXAMPLE,
    "sender_bic": "voorbeeld (de BIC bij de IBAN hierboven)",
}

# BEGROTING 2024 (amounts excl. BTW); total € 131.035.
BUDGET_POSTS: tuple[tuple[str, Decimal], ...] = (
    ("Personele kosten (vast personeel)", Decimal("120000")),
    ("Kennis en ontwikkeling netwerkorganisatie", Decimal("5000")),
    ("Abonnementen Mett, online platform", Decimal("3685")),
    ("Abonnement VDLC, Uitspraken - aanbestedingen", Decimal("350")),
    ("Onvoorzien", Decimal("2000")),
)

REFERENCE_DATE = date(2023, 1, 1)
# "Verdeling 2024 op basis van aantal inwoners per 01-01-2023" (Stand CBS 01-01-2023).
NETWORK_POPULATION = {"DE": 106086, "PN": 57672, "WE": 114887, "ZM": 126998}
# The jaarplan gives no figures for the extra municipalities: round placeholders.
EXAMPLE_POPULATION = {
    "CP": 67000,
    "LS": 63000,
    "LV": 78000,
    "MD": 19500,
    "RW": 57000,
    "VS": 25500,
    "WS": 26500,
}
NETWORK_SOURCE = "CBS 1-1-2023 (jaarplan 2024)"
EXAMPLE_SOURCE = "voorbeeld — vervang door CBS-cijfer 1-1-2023"

# Example project costs on real subjects whose participants all have known codes.
COST_LINES: tuple[tuple[str, str, str, date, Decimal, str], ...] = (
    (
        "VB-2024-001",
        "Aardgas en energie - Externe deskundige (Hellemans)",
        "Advies externe deskundige energie (voorbeeld)",
        date(2024, 2, 15),
        Decimal("12500.00"),
        "inwoners",
    ),
    (
        "VB-2024-002",
        "Software broker",
        "Jaarbijdrage brokerdienst (voorbeeld)",
        date(2024, 3, 20),
        Decimal("4250.00"),
        "gelijk",
    ),
    (
        "VB-2024-003",
        "Dieptereiniging ICT hardware",
        "Voorbereiding aanbesteding (voorbeeld)",
        date(2024, 1, 31),  # before MD's join on 1 April: re-split when MD joins
        Decimal("3600.00"),
        "inwoners",
    ),
    (
        "VB-2024-004",
        "Receptie en beveiligingsdiensten",
        "Juridisch advies contractverlenging (voorbeeld)",
        date(2024, 5, 10),
        Decimal("1875.50"),
        "inwoners",
    ),
    (
        "VB-2024-005",
        "Verkeersvoorzieningen",
        "Marktconsultatie (voorbeeld)",
        date(2024, 9, 12),  # second half-year
        Decimal("6000.00"),
        "inwoners",
    ),
)

# MD is listed among the participants of this subject in the calendar: it joined later.
JOINS: tuple[tuple[str, str, date], ...] = (
    ("Dieptereiniging ICT hardware", "MD", date(2024, 4, 1)),
)

CC_BY_CODE = {"DE": "crediteuren@delft.example.org"}
# Inkoopordernummer (BT-13): one municipality that asks for one, as an example.
ORDER_NUMBERS = {"DE": "4500000001 (voorbeeld)"}


def email_slug(name: str) -> str:
    """'Capelle a/d IJssel' -> 'capelle-aan-den-ijssel', for the example addresses."""
    name = name.lower().replace("a/d", "aan den")
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")


def calendar_rows() -> dict[str, list[list[object]]]:
    return {
        layout.KALENDER.name: [list(row) for row in CALENDAR],
        layout.GEMEENTEN.name: [[code, name, role, None] for code, name, role in MUNICIPALITIES],
    }


def budget_rows() -> dict[str, list[list[object]]]:
    dutch_keys = {key: dutch for key, dutch, *_rest in layout.SETTINGS_KEYS}
    populations = []
    for code, name, _role in MUNICIPALITIES:
        if code in NETWORK_POPULATION:
            populations.append(
                [code, name, NETWORK_POPULATION[code], REFERENCE_DATE, "ja", NETWORK_SOURCE]
            )
        else:
            populations.append(
                [code, name, EXAMPLE_POPULATION[code], REFERENCE_DATE, "nee", EXAMPLE_SOURCE]
            )
    return {
        layout.INSTELLINGEN.name: [
            [dutch_keys[key], value, EXAMPLE_NOTES.get(key)] for key, value in SETTINGS.items()
        ],
        layout.BEGROTING.name: [[post, amount, None] for post, amount in BUDGET_POSTS],
        layout.INWONERS.name: populations,
        layout.PROJECTKOSTEN.name: [list(line) for line in COST_LINES],
        layout.TOETREDINGEN.name: [list(join) for join in JOINS],
        layout.CONTACTEN.name: [
            [
                code,
                f"Team Inkoop {name} (voorbeeld)",
                f"inkoop@{email_slug(name)}.example.org",
                CC_BY_CODE.get(code),
                None,  # Rechtspersoon: 'Gemeente <naam>'
                f"Voorbeeldstraat {number}",
                "1234 AB",
                name,
                f"{100 + number:020d}",  # an obviously made-up OIN, never a real one
                None,
                f"Inkoopkracht 2024 {code} (voorbeeld)",
                ORDER_NUMBERS.get(code),
                None,
                "voorbeeldgegevens: vervang adres, OIN en kenmerk",
            ]
            for number, (code, name, _role) in enumerate(MUNICIPALITIES, start=1)
        ],
    }


def write_plain_workbooks(folder: Path) -> list[Path]:
    """The plain layout: each sheet one header row (the calendar's below its title), then data."""
    folder.mkdir(parents=True, exist_ok=True)
    calendar = write_input_workbook(
        folder / CALENDAR_FILE,
        layout.CALENDAR_SHEETS,
        calendar_rows(),
        title=CALENDAR_TITLE,
        explanation_sheet=False,
        created=CREATED,
    )
    budget = write_input_workbook(
        folder / BUDGET_FILE,
        layout.BUDGET_SHEETS,
        budget_rows(),
        title=None,
        explanation_sheet=False,
        created=CREATED,
    )
    return [calendar, budget]


# --- the printed layout: the jaarplan's tables as it prints them ------------------------------

CALENDAR_INTRO = (
    "Onderstaande lijst is een dynamische lijst en zal worden aangevuld met onderwerpen die "
    "gedurende het jaar op de website van Inkoopkracht worden aangemeld. Alle mogelijke Europese "
    "en (regionaal mogelijke) meervoudig onderhandse aanbestedingen worden aangemeld via "
    "https://www.inkoopkrachtzhw.nl/inkoopproces/Aanmelden+aanbestedingen/default.aspx. Deze "
    "lijst wordt afgestemd op het betreffende jaar. Onderwerpen waarvan bekend is dat de einddata "
    "van de contracten verder dan een jaar vooruit liggen zijn niet in deze lijst opgenomen."
)
SECTION_HEADINGS = {
    1: "1. Contractmanagement, evaluaties/verlengingen (eerder regionaal aanbesteed)",
    2: "2. Contractmanagement, aflopende contracten (eerder regionaal aanbesteed)",
    3: "3. Onderwerp/verkenningsmogelijkheden (nog niet eerder regionaal aanbesteed)",
    4: "4. Breed uitzoeken",
}
# The header cells the jaarplan prints beside each section heading (columns B, C, D).
_FULL_HEADER = (
    "Jaar van inventarisatie",
    "Deelnemende gemeenten*",
    "Jaar waarin reeds gezamenlijk is aanbesteed",
)
SECTION_HEADERS: dict[int, tuple[str, ...]] = {
    1: _FULL_HEADER,
    2: _FULL_HEADER,
    3: ("Jaar van inventarisatie",),
    4: (),
}
# Section 3 spans three pages of the jaarplan, each opening with the heading again: these are
# the first subjects of its second and third page.
PAGE_STARTS = frozenset({"Aanschaf minicontainers", "Print- en kopieerpapier"})
CALENDAR_FOOTNOTE = "* Gebruikte afkortingen: zie tabblad Gemeenten"
LEGEND_TITLE = "Gebruikte afkortingen"
# Subject, year of inventory, participants, year jointly tendered.
CALENDAR_WIDTHS = (62, 14, 34, 18)

BUDGET_TITLE = "BEGROTING 2024"
BUDGET_INTRO = (
    "Het doel van deze begroting is om een helder overzicht te bieden van uitgaven, evenals onze "
    "investeringen in projecten en initiatieven die onze organisaties vooruit zullen helpen. We "
    "hebben zorgvuldig gekeken naar onze doelstellingen en de benodigde middelen om deze te "
    "bereiken. Dit voorstel omvat informatie over onze financiële plannen, inclusief uitgaven "
    "voor essentiële diensten."
)
BUDGET_HEADER = ("Post", "Begroot 2024", "Gerealiseerd")
BUDGET_NOTE = (
    "Genoemde bedragen zijn exclusief BTW en ondervoorbehoud van eventuele tariefswijzigingen "
    "van de leveranciers."
)
BUDGET_WIDTHS = (52, 16, 16)

POPULATION_TITLE = "Verdeling 2024 op basis van aantal inwoners per 01-01-2023"
POPULATION_HEADER = ("Code", "Gemeente", "Inwoners", "Peildatum", "Netwerk", "Bron", "Percentage")
POPULATION_WIDTHS = (8, 28, 12, 12, 10, 44, 12)
POPULATION_TOTAL = "Totaal inwoners"
POPULATION_NOTE = "Stand CBS 01-01-2023"
OTHERS_HEADING = "Overige deelnemende gemeenten (voorbeeldcijfers, geen CBS-cijfers)"

TOTAL = "Totaal"
_NUMBER_KEYS = frozenset({"amount", "budgeted", "realised", "inhabitants"})
PERCENT = "0.00%"  # stored in Excel's neutral notation; a Dutch Excel shows 26,15%


class PrintedFormats:
    """The project's styles plus the few this layout needs beyond them."""

    def __init__(self, workbook: Workbook):
        self.styles = Styles(workbook)
        base = {"font_name": FONT, "font_size": 10, "valign": "top"}
        total = {**base, "bold": True, "bg_color": TOTAL_FILL, "top": 1, "bottom": 6}
        self.percent = workbook.add_format({**base, "num_format": PERCENT})
        self.total_percent = workbook.add_format({**total, "num_format": PERCENT})
        self.total_money_whole = workbook.add_format({**total, "num_format": MONEY_WHOLE})
        self.total_whole = workbook.add_format({**total, "num_format": WHOLE})
        self.total_money = workbook.add_format({**total, "num_format": MONEY})
        self.total_label = workbook.add_format(total)
        # A one-line note left to run on over the empty cells to its right.
        self.note_line = workbook.add_format({**base, "italic": True, "font_color": "#595959"})

    def __getattr__(self, name: str):
        return getattr(self.styles, name)


def calendar_sections() -> list[tuple[int, list[tuple[str, str, str, str]]]]:
    """CALENDAR as the jaarplan prints it: (category, subjects) per printed section."""
    sections: list[tuple[int, list[tuple[str, str, str, str]]]] = []
    for category, subject, year, participants, joint in CALENDAR:
        if not sections or sections[-1][0] != category or subject in PAGE_STARTS:
            sections.append((category, []))
        sections[-1][1].append((subject, year, participants, joint))
    return sections


def _new_workbook(temporary: Path, title: str | None) -> tuple[Workbook, PrintedFormats]:
    workbook = xlsxwriter.Workbook(str(temporary), WORKBOOK_OPTIONS)
    properties: dict[str, object] = {"created": CREATED}
    if title:
        properties["title"] = title
    workbook.set_properties(properties)
    return workbook, PrintedFormats(workbook)


def _write_cell(
    sheet: Worksheet, row: int, column: int, value: object, formats: PrintedFormats
) -> None:
    """One input value, typed as the plain layout types it; None and '' leave the cell empty."""
    if value is None or value == "":
        return
    if isinstance(value, str):
        sheet.write_string(row, column, value, formats.text)
    elif isinstance(value, Decimal):
        sheet.write_number(row, column, float(value), formats.money)
    elif isinstance(value, date):
        sheet.write_datetime(row, column, value, formats.date)
    elif isinstance(value, int) and not isinstance(value, bool):
        sheet.write_number(row, column, value, formats.text)
    else:
        raise TypeError(f"cannot write {type(value).__name__}: {value!r}")


def _write_table(
    sheet: Worksheet,
    formats: PrintedFormats,
    table: SheetLayout,
    rows: list[list[object]],
    *,
    header_row: int = 0,
    filter_rows: bool = True,
) -> int:
    """A plain table of `table`'s columns at `header_row`; returns the row after the last one."""
    for index, column in enumerate(table.columns):
        sheet.set_column(index, index, column.width)
        right = column.key in _NUMBER_KEYS  # a header above numbers aligns with them
        header_format = formats.header_right if right else formats.header
        sheet.write_string(header_row, index, column.header, header_format)
    for offset, values in enumerate(rows, start=1):
        for index, value in enumerate(values):
            _write_cell(sheet, header_row + offset, index, value, formats)
    last = header_row + len(rows)
    if filter_rows:
        sheet.freeze_panes(header_row + 1, 0)
        sheet.autofilter(header_row, 0, last, len(table.columns) - 1)
    print_setup(sheet, landscape=True, repeat_rows=(header_row, header_row), title=table.name)
    return last + 1


def _keep_text_years(sheet: Worksheet, first_row: int, last_row: int, last_column: int) -> None:
    """Years and codes are text on purpose ("2024", "2023/2024"): no green warning triangles."""
    start = xl_rowcol_to_cell(first_row, 0)
    end = xl_rowcol_to_cell(last_row, last_column)
    sheet.ignore_errors({"number_stored_as_text": f"{start}:{end}"})


def _write_printed_calendar(path: Path) -> Path:
    with atomic_file(path) as temporary:
        workbook, formats = _new_workbook(temporary, CALENDAR_TITLE)
        sheet = workbook.add_worksheet(layout.KALENDER.name)
        for column, width in enumerate(CALENDAR_WIDTHS):
            sheet.set_column(column, column, width)
        last_column = len(CALENDAR_WIDTHS) - 1
        sheet.write_string(0, 0, CALENDAR_TITLE, formats.title)
        sheet.set_row(0, 22)
        sheet.merge_range(1, 0, 1, last_column, CALENDAR_INTRO, formats.wrap)
        sheet.set_row(1, wrapped_height([(CALENDAR_INTRO, sum(CALENDAR_WIDTHS))]))
        row = 3
        for category, subjects in calendar_sections():
            heading = SECTION_HEADINGS[category]
            sheet.write_string(row, 0, heading, formats.header)
            headers = SECTION_HEADERS[category]
            for column, text in enumerate(headers, start=1):
                sheet.write_string(row, column, text, formats.header)
            set_wrapped_height(
                sheet,
                row,
                [(heading, CALENDAR_WIDTHS[0])]
                + [(text, CALENDAR_WIDTHS[i]) for i, text in enumerate(headers, start=1)],
            )
            for subject, year, participants, joint in subjects:
                row += 1
                sheet.write_string(row, 0, subject, formats.wrap)
                for column, value in ((1, year), (2, participants), (3, joint)):
                    if value:
                        sheet.write_string(row, column, value, formats.text)
                set_wrapped_height(sheet, row, [(subject, CALENDAR_WIDTHS[0])])
            row += 2  # a blank row between sections, and before the footnote
        sheet.write_string(row, 0, CALENDAR_FOOTNOTE, formats.note_line)
        _keep_text_years(sheet, 3, row, last_column)
        print_setup(sheet, landscape=True, title=CALENDAR_TITLE)

        legend = workbook.add_worksheet(layout.GEMEENTEN.name)
        legend.write_string(0, 0, LEGEND_TITLE, formats.title)
        rows = [[code, name, role, None] for code, name, role in MUNICIPALITIES]
        _write_table(legend, formats, layout.GEMEENTEN, rows, header_row=2)
        workbook.close()
    return path


def _write_begroting(workbook: Workbook, formats: PrintedFormats) -> None:
    sheet = workbook.add_worksheet(layout.BEGROTING.name)
    for column, width in enumerate(BUDGET_WIDTHS):
        sheet.set_column(column, column, width)
    sheet.write_string(0, 0, BUDGET_TITLE, formats.title)
    sheet.set_row(0, 22)
    sheet.merge_range(1, 0, 1, len(BUDGET_WIDTHS) - 1, BUDGET_INTRO, formats.wrap)
    sheet.set_row(1, wrapped_height([(BUDGET_INTRO, sum(BUDGET_WIDTHS))]))
    header = 3
    sheet.write_string(header, 0, BUDGET_HEADER[0], formats.header)
    for column, text in enumerate(BUDGET_HEADER[1:], start=1):
        sheet.write_string(header, column, text, formats.header_right)
    first = header + 1
    for offset, (post, amount) in enumerate(BUDGET_POSTS):
        sheet.write_string(first + offset, 0, post, formats.text)
        sheet.write_number(first + offset, 1, float(amount), formats.money_whole)
    last = first + len(BUDGET_POSTS) - 1
    total_row = last + 1
    total = sum((amount for _post, amount in BUDGET_POSTS), Decimal(0))
    sheet.write_string(total_row, 0, TOTAL, formats.total_label)
    sheet.write_formula(
        total_row,
        1,
        f"=SUM({xl_rowcol_to_cell(first, 1)}:{xl_rowcol_to_cell(last, 1)})",
        formats.total_money_whole,
        float(total),
    )
    sheet.write_blank(total_row, 2, None, formats.total_label)
    sheet.write_string(total_row + 1, 0, BUDGET_NOTE, formats.note)
    set_wrapped_height(sheet, total_row + 1, [(BUDGET_NOTE, BUDGET_WIDTHS[0])])
    print_setup(sheet, title=BUDGET_TITLE)


def _write_inwoners(workbook: Workbook, formats: PrintedFormats) -> None:
    sheet = workbook.add_worksheet(layout.INWONERS.name)
    for column, width in enumerate(POPULATION_WIDTHS):
        sheet.set_column(column, column, width)
    sheet.write_string(0, 0, POPULATION_TITLE, formats.title)
    sheet.set_row(0, 22)
    header = 2
    # Numbers right, the date centred, as the cells below them.
    header_formats = {2: formats.header_right, 3: formats.header_centre, 6: formats.header_right}
    for column, text in enumerate(POPULATION_HEADER):
        sheet.write_string(header, column, text, header_formats.get(column, formats.header))

    def write_population(row: int, code: str, inhabitants: int, network: str, source: str):
        sheet.write_string(row, 0, code, formats.text)
        sheet.write_string(row, 1, NAMES[code], formats.text)
        sheet.write_number(row, 2, inhabitants, formats.whole)
        sheet.write_datetime(row, 3, REFERENCE_DATE, formats.date_centre)
        sheet.write_string(row, 4, network, formats.text)
        sheet.write_string(row, 5, source, formats.text)

    network = [code for code, _name, _role in MUNICIPALITIES if code in NETWORK_POPULATION]
    first = header + 1
    last = first + len(network) - 1
    total_row = last + 1
    total = sum(NETWORK_POPULATION[code] for code in network)
    total_cell = xl_rowcol_to_cell(total_row, 2, row_abs=True)
    shares = []
    for offset, code in enumerate(network):
        row = first + offset
        write_population(row, code, NETWORK_POPULATION[code], "ja", NETWORK_SOURCE)
        share = NETWORK_POPULATION[code] / total  # what Excel computes: a double division
        shares.append(share)
        sheet.write_formula(
            row, 6, f"={xl_rowcol_to_cell(row, 2)}/{total_cell}", formats.percent, share
        )
    for column in (0, 3, 4, 5):
        sheet.write_blank(total_row, column, None, formats.total_label)
    sheet.write_string(total_row, 1, POPULATION_TOTAL, formats.total_label)
    column_range = f"{xl_rowcol_to_cell(first, 2)}:{xl_rowcol_to_cell(last, 2)}"
    sheet.write_formula(total_row, 2, f"=SUM({column_range})", formats.total_whole, total)
    share_range = f"{xl_rowcol_to_cell(first, 6)}:{xl_rowcol_to_cell(last, 6)}"
    sheet.write_formula(total_row, 6, f"=SUM({share_range})", formats.total_percent, sum(shares))
    sheet.write_string(total_row + 1, 0, POPULATION_NOTE, formats.note_line)

    heading = total_row + 3
    sheet.write_string(heading, 0, OTHERS_HEADING, formats.bold)
    others = [code for code, _name, _role in MUNICIPALITIES if code not in NETWORK_POPULATION]
    for offset, code in enumerate(others, start=1):
        write_population(heading + offset, code, EXAMPLE_POPULATION[code], "nee", EXAMPLE_SOURCE)
    print_setup(sheet, landscape=True, title=POPULATION_TITLE)


def _write_projectkosten(workbook: Workbook, formats: PrintedFormats) -> None:
    table = layout.PROJECTKOSTEN
    sheet = workbook.add_worksheet(table.name)
    total_row = _write_table(sheet, formats, table, [list(line) for line in COST_LINES])
    description = table.columns.index(table.column("description"))
    amount = table.columns.index(table.column("amount"))
    for column in range(len(table.columns)):
        if column not in (description, amount):
            sheet.write_blank(total_row, column, None, formats.total_label)
    sheet.write_string(total_row, description, TOTAL, formats.total_label)
    first, last = 1, total_row - 1
    total = sum((line[4] for line in COST_LINES), Decimal(0))
    sheet.write_formula(
        total_row,
        amount,
        f"=SUM({xl_rowcol_to_cell(first, amount)}:{xl_rowcol_to_cell(last, amount)})",
        formats.total_money,
        float(total),
    )


def _write_printed_budget(path: Path) -> Path:
    rows = budget_rows()
    with atomic_file(path) as temporary:
        workbook, formats = _new_workbook(temporary, None)
        for table in layout.BUDGET_SHEETS:
            if table is layout.BEGROTING:
                _write_begroting(workbook, formats)
            elif table is layout.INWONERS:
                _write_inwoners(workbook, formats)
            elif table is layout.PROJECTKOSTEN:
                _write_projectkosten(workbook, formats)
            else:  # Instellingen, Toetredingen, Contacten: as in the plain layout
                sheet = workbook.add_worksheet(table.name)
                _write_table(sheet, formats, table, rows[table.name])
        workbook.close()
    return path


def write_printed_workbooks(folder: Path) -> list[Path]:
    """The printed layout: the jaarplan's tables with their titles, headings, totals and notes."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _write_printed_calendar(folder / CALENDAR_FILE),
        _write_printed_budget(folder / BUDGET_FILE),
    ]


def write_workbooks(folder: Path, arrangement: str = PRINTED) -> list[Path]:
    """Write both workbooks into `folder` in the `arrangement` (PRINTED or PLAIN)."""
    if arrangement == PRINTED:
        return write_printed_workbooks(folder)
    if arrangement == PLAIN:
        return write_plain_workbooks(folder)
    raise ValueError(f"unknown arrangement: {arrangement!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--indeling",
        choices=(PRINTED, PLAIN),
        default=PRINTED,
        help="gedrukt: zoals het jaarplan de tabellen drukt (workbooks/2024); "
        "plat: één kopregel per blad (tests/fixtures/jaarplan-2024-plat)",
    )
    parser.add_argument(
        "--uit", type=Path, help="map voor de werkboeken (standaard: de map van de indeling)"
    )
    arguments = parser.parse_args(argv)
    folder = arguments.uit or FOLDERS[arguments.indeling]
    for path in write_workbooks(folder, arguments.indeling):
        print(f"geschreven: {path} ({path.stat().st_size} bytes)")
    counts = Counter(category for category, *_rest in CALENDAR)
    for category in sorted(counts):
        print(f"categorie {category}: {counts[category]} onderwerpen")
    print(f"totaal: {len(CALENDAR)} onderwerpen")
    total = sum((amount for _post, amount in BUDGET_POSTS), Decimal(0))
    print(f"begroting: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
