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
        Column(
            "note",
            "Opmerking",
            required=False,
            explanation="Vrij veld, bijvoorbeeld 'voorbeeld' bij een waarde die nog vervangen "
            "moet worden; het programma leest het niet.",
            width=40,
        ),
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
    (
        "sender_iban",
        "IBAN",
        False,
        "Rekeningnummer waarop betaald wordt (IBAN; de controlecijfers worden gecontroleerd).",
        (),
    ),
    ("sender_email", "E-mail", False, "E-mailadres voor vragen over de factuur.", ()),
    # The legal issuer (SPEC §1): a finance department books an invoice only with these, and the
    # e-invoice needs them (controleer says which are missing).
    (
        "sender_legal_name",
        "Rechtspersoon",
        False,
        "De rechtspersoon die factureert: de penvoerder, bijvoorbeeld 'Gemeente Zoetermeer'. "
        "Op de factuur staat dan 'Gemeente Zoetermeer, namens Inkoopkracht ZHW'.",
        (),
    ),
    ("sender_street", "Straat", False, "Bezoekadres van de rechtspersoon: straat en nummer.", ()),
    ("sender_postcode", "Postcode", False, "Postcode van dat adres, bijvoorbeeld 2711 AB.", ()),
    ("sender_city", "Plaats", False, "Plaats van dat adres.", ()),
    ("sender_kvk", "KvK", False, "KvK-nummer van de rechtspersoon (8 cijfers).", ()),
    (
        "sender_oin",
        "OIN",
        False,
        "Organisatie-identificatienummer (20 cijfers, als tekst): de identificatie in de "
        "e-factuur (Peppol, schema 0190).",
        (),
    ),
    (
        "sender_vat_number",
        "Btw-nummer",
        False,
        "Btw-identificatienummer (NL, 9 cijfers, B, 2 cijfers); nodig als Btw = E.",
        (),
    ),
    (
        "vat_category",
        "Btw",
        False,
        "'O' (standaard): niet onderworpen aan btw; 'E': vrijgesteld van btw. Welke geldt, "
        "bepaalt de fiscalist van de penvoerder.",
        ("O", "E"),
    ),
    (
        "vat_note",
        "Btw-toelichting",
        False,
        "De btw-verklaring op de factuur en in de e-factuur; leeg: een standaardtekst bij Btw.",
        (),
    ),
    (
        "einvoice",
        "E-factuur",
        False,
        "'peppol' (standaard: Peppol BIS Billing 3.0), 'si-ubl' (SI-UBL 2.0) of 'nee'. Ingevuld "
        "is elk ontbrekend gegeven voor de e-factuur een fout; leeg een waarschuwing.",
        ("peppol", "si-ubl", "nee"),
    ),
    (
        "sender_contact_person",
        "Contactpersoon",
        False,
        "Wie vragen over de factuur beantwoordt.",
        (),
    ),
    ("sender_phone", "Telefoon", False, "Telefoonnummer voor vragen (als tekst).", ()),
    ("sender_bic", "BIC", False, "BIC van de bank (8 of 11 tekens); optioneel.", ()),
    (
        "credit_method",
        "Creditnota",
        False,
        "Hoe het bedrag van een creditnota terugkomt: 'verrekenen' (standaard: met de volgende "
        "factuur) of 'terugbetalen' (naar de IBAN van de gemeente in Contacten).",
        ("verrekenen", "terugbetalen"),
    ),
)

BEGROTING = SheetLayout(
    "Begroting",
    (
        Column(
            "post",
            "Post",
            aliases=("Omschrijving", "Begrotingspost", "Kostenpost"),
            explanation="Begrotingspost.",
            width=48,
        ),
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
        # The buyer as a finance department and the e-invoice need it (all optional here;
        # controleer says what an invoice or e-invoice still lacks).
        Column(
            "legal_name",
            "Rechtspersoon",
            required=False,
            explanation="De rechtspersoon die de factuur krijgt; leeg: 'Gemeente <naam>'.",
            width=26,
        ),
        Column("street", "Straat", required=False, explanation="Straat en nummer.", width=26),
        Column(
            "postcode", "Postcode", required=False, explanation="Bijvoorbeeld 2611 HB.", width=10
        ),
        Column("city", "Plaats", required=False, explanation="Plaats.", width=16),
        Column(
            "oin",
            "OIN",
            required=False,
            explanation="OIN van de gemeente (20 cijfers, als tekst): haar Peppol-adres voor de "
            "e-factuur.",
            width=24,
        ),
        Column("kvk", "KvK", required=False, explanation="KvK-nummer (8 cijfers).", width=11),
        Column(
            "buyer_reference",
            "Uw kenmerk",
            required=False,
            explanation="Het kenmerk dat de gemeente op haar facturen wil zien (BT-10); zonder "
            "dit kenmerk of een inkoopordernummer weigeren veel gemeenten een e-factuur.",
            width=18,
        ),
        Column(
            "order_number",
            "Inkoopordernummer",
            required=False,
            aliases=("Ordernummer",),
            explanation="Het inkoopordernummer van de gemeente (BT-13), als zij dat gebruikt.",
            width=18,
        ),
        Column(
            "iban",
            "IBAN",
            required=False,
            explanation="Rekening van de gemeente waarop een creditnota wordt terugbetaald "
            "(Creditnota = terugbetalen).",
            width=24,
        ),
        Column(
            "note",
            "Opmerking",
            required=False,
            explanation="Vrij veld; het programma leest het niet.",
            width=30,
        ),
    ),
    required=False,
    explanation="Adressen voor de factuurmails en de gegevens van de gemeente als afnemer.",
)

CALENDAR_SHEETS = (KALENDER, GEMEENTEN)
BUDGET_SHEETS = (INSTELLINGEN, BEGROTING, INWONERS, PROJECTKOSTEN, TOETREDINGEN, CONTACTEN)

# The sheet that identifies each workbook's role in the drop folder (SPEC §1).
CALENDAR_MARKER = KALENDER.name
BUDGET_MARKER = BEGROTING.name
