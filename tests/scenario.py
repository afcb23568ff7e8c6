"""A small settlement scenario written as real input workbooks, small enough to check by hand.

Populations are the jaarplan's for the four core municipalities; LV and MD carry the example
figures of workbooks/2024 (not CBS figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from inkoopkracht_xl import layout
from inkoopkracht_xl.templates import write_input_workbook

from .builders import LEGAL_SETTINGS, buyer_cells


def _buyer(code: str, number: int) -> list[object]:
    """Straat, Postcode, Plaats, OIN, KvK (empty) and Uw kenmerk, in Contacten's order."""
    street, postcode, city, oin, reference = buyer_cells(code, number)
    return [street, postcode, city, oin, None, reference]


POPULATIONS = {
    "DE": ("Delft", 106086, True),
    "PN": ("Pijnacker-Nootdorp", 57672, True),
    "WE": ("Westland", 114887, True),
    "ZM": ("Zoetermeer", 126998, True),
    "LV": ("Leidschendam-Voorburg", 78000, False),  # example figure
    "MD": ("Midden-Delfland", 19500, False),  # example figure
}
POSTS = [  # the jaarplan 2024's five posts: € 131.035 in all
    ("Personele kosten (vast personeel)", Decimal("120000")),
    ("Kennis en ontwikkeling netwerkorganisatie", Decimal("5000")),
    ("Abonnementen Mett, online platform", Decimal("3685")),
    ("Abonnement VDLC, Uitspraken - aanbestedingen", Decimal("350")),
    ("Onvoorzien", Decimal("2000")),
]
SUBJECTS = [
    (1, "Software broker", "2024", "DE, PN, WE, ZM, LV, MD", "2021"),
    (2, "Dieptereiniging ICT hardware", "2024", "DE, WE, LV, MD", "2021"),
    (2, "Multifunctionals", "2023/2024", "DE, ZM", "2019"),
]


@dataclass
class Scenario:
    """The drop folder's contents; change a field and `write` again, as a coordinator would."""

    costs: list[tuple[str, str, str, date, Decimal, str]] = field(default_factory=list)
    joins: list[tuple[str, str, date]] = field(default_factory=list)
    populations: dict[str, tuple[str, int, bool]] = field(default_factory=lambda: dict(POPULATIONS))
    realised: list[Decimal | None] = field(default_factory=lambda: [None] * len(POSTS))
    lead: str = "ZM"
    contacts: bool = True

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        write_input_workbook(
            folder / "Aanbestedingskalender.xlsx",
            layout.CALENDAR_SHEETS,
            {
                "Kalender": [list(s) for s in SUBJECTS],
                "Gemeenten": [
                    [code, name, "kern" if network else "extra", None]
                    for code, (name, _, network) in POPULATIONS.items()
                ],
            },
        )
        write_input_workbook(
            folder / "Begroting.xlsx",
            layout.BUDGET_SHEETS,
            {
                "Instellingen": [
                    ["Jaar", 2024],
                    ["Penvoerder", self.lead],
                    ["Afzender", "Inkoopkracht ZHW (voorbeeld)"],
                    ["E-mail", "inkoopkracht@example.org"],
                    # The legal issuer (issue 13): with the buyers' columns below, every
                    # invoice gets its e-invoice.
                    *LEGAL_SETTINGS,
                ],
                "Begroting": [
                    [name, amount, realised]
                    for (name, amount), realised in zip(POSTS, self.realised, strict=True)
                ],
                "Inwoners": [
                    [code, name, people, date(2023, 1, 1), "ja" if network else "nee", "voorbeeld"]
                    for code, (name, people, network) in self.populations.items()
                ],
                "Projectkosten": [list(c) for c in self.costs],
                "Toetredingen": [list(j) for j in self.joins],
                "Contacten": [
                    # Code, Naam, E-mail, CC, Rechtspersoon, then the buyer's address, OIN and
                    # reference (KvK left empty).
                    [code, f"Team Inkoop {name}", f"inkoop@{code.lower()}.example.org", None, None]
                    + _buyer(code, number)
                    for number, (code, (name, _, _)) in enumerate(POPULATIONS.items(), start=1)
                ]
                if self.contacts
                else [],
            },
        )
        return folder
