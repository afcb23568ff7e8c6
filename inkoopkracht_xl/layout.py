"""The input workbooks' sheets and columns: one definition for the reader, the template and the examples."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # the English field name in code
    header: str  # the Dutch header the coordinator sees
    required: bool = True
    explanation: str = ""  # shown on the template's Uitleg sheet
    choices: tuple[str, ...] = ()  # drop-down values in the template
    width: int = 16
    # Other wordings coordinators use for this header (the jaarplan's own, for one).
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetLayout:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    explanation: str = ""
    # Columns of amounts or counts: a total row below them is checked, never read as data.
    totals: tuple[str, ...] = ()
    # The calendar's sections: heading rows ('1. Contractmanagement ...') give the category of
    # the subjects below them (the column whose key is `sections`).
    sections: str = ""

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


KALENDER = SheetLayout(
    "Kalender",
    (
        Column(
            "category",
            "Categorie",
            aliases=("Cat.", "Cat"),
            explanation="1 t/m 4 (of tekst die met dat cijfer begint).",
            choices=("1", "2", "3", "4"),
            width=11,
        ),
        Column(
            "subject",
            "Onderwerp",
            explanation="Naam van de aanbesteding; uniek in de kalender.",
            width=60,
        ),
        Column(
            "inventory_year",
            "Jaar van inventarisatie",
            required=False,
            explanation="Een jaar, bijvoorbeeld 2024 of 2023/2024, of 'Nader te bepalen'.",
            width=22,
        ),
        Column(
            "participants",
            "Deelnemende gemeenten",
            required=False,
            explanation="Codes gescheiden door komma, puntkomma, schuine streep of spatie, "
            "bijvoorbeeld: DE, PN, WE, ZM, LV.",
            width=34,
        ),
        Column(
            "joint_year",
            "Jaar gezamenlijk aanbesteed",
            required=False,
            aliases=("Jaar waarin reeds gezamenlijk is aanbesteed", "Gezamenlijk aanbesteed"),
            explanation="Jaar waarin al eerder gezamenlijk is aanbesteed; leeg als nog niet.",
            width=26,
        ),
    ),
    explanation="De aanbestedingskalender: één rij per onderwerp.",
    sections="category",
)

GEMEENTEN = SheetLayout(
    "Gemeenten",
    (
        Column(
            "code",
            "Code",
            explanation="Afkorting van de gemeente, twee letters (DE, PN, ...).",
            width=8,
        ),
        Column("name", "Gemeente", explanation="Naam van de gemeente.", width=28),
        Column(
            "role",
            "Rol",
            explanation="'kern' voor de vier Inkoopkracht-gemeenten, "
            "'extra' voor gemeenten die per aanbesteding meedoen.",
            choices=("kern", "extra"),
            width=10,
        ),
        Column(
            "cbs_code",
            "CBS-code",
            required=False,
            explanation="Optioneel: de CBS-gemeentecode, bijvoorbeeld GM0503.",
            width=12,
        ),
    ),
    explanation="De afkortingen die in de kalender worden gebruikt.",
)

INSTELLINGEN = SheetLayout(
    "Instellingen",
    (
        Column("key", "Sleutel", explanation="Naam van de instelling (zie hieronder).", width=18),
        Column("value", "Waarde", explanation="De waarde.", width=44),
    ),
    explanation="Instellingen voor het begrotingsjaar.",
)

# The keys of Instellingen: (key, Dutch name, required, explanation, choices)
SETTINGS_KEYS: tuple[tuple[str, str, bool, str, tuple[str, ...]], ...] = (
    ("year", "Jaar", True, "Het begrotingsjaar, bijvoorbeeld 2024.", ()),
    (
        "lead",
        "Penvoerder",
        False,
        "Verplicht. Code van de gemeente die de kosten betaalt en de facturen verstuurt; zij "
        "moet in het blad Inwoners staan met Netwerk = ja. Zij krijgt geen factuur: haar eigen "
        "aandeel staat in het overzicht.",
        (),
    ),
    (
        "method",
        "Verdeelmethode",
        False,
        "'procent' (standaard, zoals het jaarplan: eerst percentages op 2 decimalen) of 'exact'.",
        ("procent", "exact"),
    ),
    (
        "rounding",
        "Afronding",
        False,
        "'euro' (standaard: netwerkbijdragen op hele euro's) of 'cent'.",
        ("euro", "cent"),
    ),
    (
        "invoice_prefix",
        "Factuurprefix",
        False,
        "Begin van het factuurnummer (standaard IK), bijvoorbeeld IK-2024-0001.",
        (),
    ),
    ("payment_days", "Betaaltermijn", False, "Betaaltermijn in dagen (standaard 30).", ()),
    ("sender_name", "Afzender", False, "Naam van de afzender op de factuur.", ()),
    ("sender_address", "Adres", False, "Postadres van de afzender.", ()),
    ("sender_iban", "IBAN", False, "Rekeningnummer waarop betaald wordt.", ()),
    ("sender_email", "E-mail", False, "E-mailadres voor vragen over de factuur.", ()),
)

BEGROTING = SheetLayout(
    "Begroting",
    (
        Column("post", "Post", explanation="Begrotingspost.", width=48),
        Column("budgeted", "Begroot", explanation="Begroot bedrag, exclusief BTW.", width=16),
        Column(
            "realised",
            "Gerealiseerd",
            required=False,
            explanation="Werkelijk bedrag, exclusief BTW. Alleen als elke post een "
            "gerealiseerd bedrag heeft, wordt daarmee afgerekend.",
            width=16,
        ),
    ),
    explanation="De begroting van het netwerk (bedragen exclusief BTW).",
    totals=("budgeted", "realised"),
)

INWONERS = SheetLayout(
    "Inwoners",
    (
        Column("code", "Code", explanation="Code van de gemeente.", width=8),
        Column("name", "Gemeente", explanation="Naam van de gemeente.", width=28),
        Column(
            "inhabitants",
            "Inwoners",
            aliases=("Aantal inwoners", "Aantal"),
            explanation="Aantal inwoners volgens CBS, heel getal.",
            width=12,
        ),
        Column(
            "reference_date",
            "Peildatum",
            explanation="1 januari van het jaar vóór het begrotingsjaar (afspraak uit de "
            "samenwerkingsovereenkomst).",
            width=12,
        ),
        Column(
            "network",
            "Netwerk",
            explanation="'ja' als de gemeente dit jaar meebetaalt aan "
            "de netwerkbegroting, anders 'nee'.",
            choices=("ja", "nee"),
            width=10,
        ),
        Column(
            "source_note",
            "Bron",
            required=False,
            explanation="Waar het aantal vandaan komt, bijvoorbeeld 'CBS 1-1-2023'.",
            width=44,
        ),
    ),
    explanation="Inwonertallen van elke gemeente die ergens aan meedoet.",
    totals=("inhabitants",),
)

PROJECTKOSTEN = SheetLayout(
    "Projectkosten",
    (
        Column(
            "reference",
            "Kenmerk",
            explanation="Uniek kenmerk, bijvoorbeeld het factuurnummer van de leverancier.",
            width=16,
        ),
        Column("subject", "Onderwerp", explanation="Een onderwerp uit de kalender.", width=48),
        Column("description", "Omschrijving", explanation="Waar de kosten voor zijn.", width=40),
        Column("date", "Datum", explanation="Datum van de kosten.", width=12),
        Column("amount", "Bedrag", explanation="Bedrag exclusief BTW.", width=14),
        Column(
            "split",
            "Verdeling",
            required=False,
            explanation="'inwoners' (standaard) of 'gelijk'.",
            choices=("inwoners", "gelijk"),
            width=12,
        ),
    ),
    required=False,
    explanation="Kosten van één aanbesteding, te verdelen over de deelnemers.",
    totals=("amount",),
)

TOETREDINGEN = SheetLayout(
    "Toetredingen",
    (
        Column("subject", "Onderwerp", explanation="Een onderwerp uit de kalender.", width=48),
        Column("code", "Gemeente", explanation="Code van de gemeente die toetreedt.", width=10),
        Column(
            "date",
            "Datum",
            explanation="Datum van toetreding; de gemeente doet vanaf die dag mee.",
            width=12,
        ),
    ),
    required=False,
    explanation="Gemeenten die later bij een aanbesteding zijn aangesloten.",
)

CONTACTEN = SheetLayout(
    "Contacten",
    (
        Column("code", "Code", explanation="Code van de gemeente.", width=8),
        Column("name", "Naam", explanation="Naam van de contactpersoon of afdeling.", width=30),
        Column(
            "emails", "E-mail", explanation="Een of meer adressen, gescheiden door ';'.", width=40
        ),
        Column("cc", "CC", required=False, explanation="Optioneel: adressen in CC.", width=30),
    ),
    required=False,
    explanation="Adressen voor de factuurmails.",
)

CALENDAR_SHEETS = (KALENDER, GEMEENTEN)
BUDGET_SHEETS = (INSTELLINGEN, BEGROTING, INWONERS, PROJECTKOSTEN, TOETREDINGEN, CONTACTEN)

# The sheet that identifies each workbook's role in the drop folder (SPEC §1).
CALENDAR_MARKER = KALENDER.name
BUDGET_MARKER = BEGROTING.name
