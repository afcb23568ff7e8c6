"""Write the coordinators' own 2024 workbooks (calendar and budget) from the Jaarplan 2024.

Run: /work/venv/bin/python scripts/maak_werkboeken_2024.py [--uit MAP]
The result is committed in workbooks/2024/; re-running gives byte-identical files.
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

from inkoopkracht_xl import layout  # noqa: E402
from inkoopkracht_xl.templates import write_input_workbook  # noqa: E402

DEFAULT_FOLDER = ROOT / "workbooks" / "2024"
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
SETTINGS: dict[str, object] = {
    "year": 2024,
    "lead": "ZM",  # an example choice: the jaarplan names no penvoerder
    "method": "procent",
    "rounding": "euro",
    "invoice_prefix": "IK",
    "payment_days": 30,
    "sender_name": "Inkoopkracht ZHW (voorbeeld)",
    "sender_address": "Postbus 15, 2700 AA Zoetermeer (voorbeeld)",
    "sender_iban": "NL00 BANK 0123 4567 89 (voorbeeld)",
    "sender_email": "inkoopkracht@example.org",
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
        layout.INSTELLINGEN.name: [[dutch_keys[key], value] for key, value in SETTINGS.items()],
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
            ]
            for code, name, _role in MUNICIPALITIES
        ],
    }


def write_workbooks(folder: Path) -> list[Path]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uit", type=Path, default=DEFAULT_FOLDER, help="map voor de werkboeken")
    arguments = parser.parse_args(argv)
    for path in write_workbooks(arguments.uit):
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
