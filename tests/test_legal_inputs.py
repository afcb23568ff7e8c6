"""The legal issuer and the buyer in the inputs (issue 13): read, checked at their cells, and what
an invoice or e-invoice still lacks said by controleer before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkoopkracht_xl.errors import InputRefused
from inkoopkracht_xl.settlement_run import run_settlement
from inkoopkracht_xl.validate import load_folder

from .builders import BUDGET, fingerprint, jaarplan_folder, set_cells

# The plain fixture's Instellingen: the Waarde of each key (rows as scripts/maak_werkboeken_2024.py
# writes them, below the header) ...
IBAN, STRAAT, KVK, OIN, BTW_NUMMER, BTW, E_FACTUUR, TELEFOON = (
    "B10",
    "B13",
    "B16",
    "B17",
    "B18",
    "B19",
    "B21",
    "B23",
)
# ... and the Contacten columns of Pijnacker-Nootdorp (row 3): Straat, OIN, Uw kenmerk, IBAN.
PN_STRAAT, PN_OIN, PN_KENMERK, PN_IBAN = "F3", "I3", "K3", "M3"


def findings_of(folder: Path) -> list[str]:
    return [f.text() for f in load_folder(folder).findings]


@pytest.fixture
def folder(tmp_path):
    return jaarplan_folder(tmp_path / "in")


def test_the_jaarplan_workbooks_carry_the_issuer_and_every_buyer(folder):
    loaded = load_folder(folder)
    assert [f.text() for f in loaded.errors] == []
    budget = loaded.inputs.budget
    sender = budget.settings.sender
    assert (sender.legal_name, sender.street, sender.postcode, sender.city) == (
        "Gemeente Zoetermeer",
        "Voorbeeldstraat 1",
        "2711 AA",
        "Zoetermeer",
    )
    # Made-up identifiers that parse: never a real OIN; the documentation IBAN, grouped by four.
    assert sender.oin == "00000000000000000001"
    assert sender.iban == "NL91 ABNA 0417 1643 00"
    assert (sender.bic, sender.phone) == ("ABNANL2A", "079 000 00 00")
    assert budget.settings.vat_category == "O"
    assert (budget.settings.einvoice, budget.settings.einvoice_set) == ("peppol", False)
    assert budget.settings.credit_method == "verrekenen"
    pn = budget.contact("PN")
    assert (pn.street, pn.postcode, pn.city, pn.oin) == (
        "Voorbeeldstraat 2",
        "1234 AB",
        "Pijnacker-Nootdorp",
        "00000000000000000102",
    )
    assert pn.buyer_reference == "Inkoopkracht 2024 PN (voorbeeld)"
    assert budget.contact("DE").order_number == "4500000001 (voorbeeld)"
    # Nothing is missing: no finding about the invoice's facts.
    assert not [f for f in loaded.findings if "ontbreekt" in f.message]


@pytest.mark.parametrize(
    ("cell", "value", "said"),
    [
        (IBAN, "NL91 ABNA 0417 1643 01", "de controlecijfers kloppen niet"),
        (IBAN, "NL00 BANK 0123 4567 89 (voorbeeld)", "is geen IBAN"),
        (KVK, "1234567", "is geen KvK-nummer (8 cijfers)"),
        (OIN, "0000000000000000001", "is geen OIN (20 cijfers)"),
        (OIN, 1.0e19, "is als getal opgeslagen en verliest zo cijfers"),
        (BTW_NUMMER, "NL12345678B01", "is geen btw-nummer"),
        (BTW, "H", "is niet een van: o, e"),
        (E_FACTUUR, "ubl", "is niet een van: peppol, si-ubl, nee"),
        (TELEFOON, 790000000, "mist zo de 0 vooraan"),
    ],
)
def test_a_malformed_identifier_is_an_error_at_its_cell(folder, cell, value, said):
    set_cells(folder / BUDGET, "Instellingen", {cell: value})
    errors = [f for f in findings_of(folder) if f.startswith("FOUT")]
    located = [f for f in errors if f"Instellingen › {cell}:" in f]
    assert located and said in located[0], errors
    # Once: not also reported as missing.
    assert len(located) == 1, located


def test_a_buyer_identifier_is_checked_at_its_cell(folder):
    set_cells(folder / BUDGET, "Contacten", {PN_OIN: "123", PN_IBAN: "NL91 ABNA 0417 1643 01"})
    errors = [f for f in findings_of(folder) if f.startswith("FOUT")]
    assert any(f"Contacten › {PN_OIN}: '123' is geen OIN (20 cijfers)" in f for f in errors)
    assert any(f"Contacten › {PN_IBAN}:" in f and "controlecijfers" in f for f in errors)
    assert not any("ontbreekt: OIN" in f for f in errors)  # said once, at the cell


def test_a_missing_field_is_a_warning_while_e_factuur_is_empty(folder):
    set_cells(folder / BUDGET, "Instellingen", {STRAAT: None})
    set_cells(folder / BUDGET, "Contacten", {PN_OIN: None, PN_KENMERK: None})
    said = findings_of(folder)
    assert (
        f"WAARSCHUWING  {BUDGET} › Instellingen › {STRAAT}: Straat ontbreekt; de e-factuur heeft "
        "het nodig: adres van de verkoper (NL-R-002, BR-NL-3). Vul het adres van de penvoerder "
        "in: Straat, Postcode en Plaats. Zolang het ontbreekt, wordt er geen e-factuur gemaakt; "
        "zet E-factuur op 'nee' als u geen e-facturen verstuurt."
    ) in said
    pn = [f for f in said if "Pijnacker-Nootdorp (PN)" in f]
    assert pn == [
        f"WAARSCHUWING  {BUDGET} › Contacten › {PN_OIN}: voor de e-factuur aan "
        "Pijnacker-Nootdorp (PN) ontbreekt: OIN, Uw kenmerk of Inkoopordernummer. Vul in het "
        "werkblad Contacten bij PN in: OIN, Uw kenmerk of Inkoopordernummer. Zolang het "
        "ontbreekt, wordt er geen e-factuur gemaakt; zet E-factuur op 'nee' als u geen "
        "e-facturen verstuurt."
    ]
    assert not [f for f in said if f.startswith("FOUT")]


def test_a_missing_field_is_an_error_once_e_factuur_is_set(folder):
    set_cells(folder / BUDGET, "Instellingen", {E_FACTUUR: "peppol", STRAAT: None})
    set_cells(folder / BUDGET, "Contacten", {PN_KENMERK: None})
    errors = [f for f in findings_of(folder) if f.startswith("FOUT")]
    assert errors == [
        f"FOUT  {BUDGET} › Instellingen › {STRAAT}: Straat ontbreekt; de e-factuur heeft het "
        "nodig: adres van de verkoper (NL-R-002, BR-NL-3). Vul het adres van de penvoerder in: "
        "Straat, Postcode en Plaats.",
        f"FOUT  {BUDGET} › Contacten › {PN_KENMERK}: voor de e-factuur aan Pijnacker-Nootdorp "
        "(PN) ontbreekt: Uw kenmerk of Inkoopordernummer. Vul in het werkblad Contacten bij PN "
        "in: Uw kenmerk of Inkoopordernummer.",
    ]


def test_e_factuur_nee_asks_only_what_the_printed_invoice_needs(folder):
    set_cells(folder / BUDGET, "Instellingen", {E_FACTUUR: "nee"})
    set_cells(folder / BUDGET, "Contacten", {PN_OIN: None, PN_KENMERK: None, PN_STRAAT: None})
    said = [f for f in findings_of(folder) if "(PN)" in f]
    assert said == [
        f"WAARSCHUWING  {BUDGET} › Contacten › {PN_STRAAT}: voor de factuur aan "
        "Pijnacker-Nootdorp (PN) ontbreekt: Straat. Vul in het werkblad Contacten bij PN in: "
        "Straat."
    ]


def test_exempt_vat_needs_the_vat_number_and_its_ground(folder):
    set_cells(folder / BUDGET, "Instellingen", {BTW: "E", E_FACTUUR: "si-ubl"})
    errors = [f for f in findings_of(folder) if f.startswith("FOUT")]
    assert [f.split(": ", 1)[0] for f in errors] == [
        f"FOUT  {BUDGET} › Instellingen › {BTW_NUMMER}",
        f"FOUT  {BUDGET} › Instellingen › B20",  # Btw-toelichting
    ]
    assert "Btw-nummer ontbreekt" in errors[0] and "Btw-toelichting ontbreekt" in errors[1]


def test_afrekening_refuses_a_buyer_without_reference_and_writes_nothing(folder, tmp_path):
    set_cells(folder / BUDGET, "Instellingen", {E_FACTUUR: "peppol"})
    set_cells(folder / BUDGET, "Contacten", {PN_KENMERK: None})
    before = fingerprint(folder)
    out = tmp_path / "uit"
    with pytest.raises(InputRefused) as refused:
        run_settlement(folder, "2024-H1", out=out)
    assert any(
        f.location.cell == PN_KENMERK and "Uw kenmerk of Inkoopordernummer" in f.message
        for f in refused.value.findings
    )
    assert not out.exists() or not any(out.rglob("*.pdf"))
    assert fingerprint(folder) == before  # inputs untouched


def test_terugbetalen_warns_about_a_buyer_without_iban(folder):
    set_cells(folder / BUDGET, "Instellingen", {"B25": "terugbetalen"})
    warned = [f for f in findings_of(folder) if "Creditnota = terugbetalen" in f]
    assert len(warned) == 1
    assert "DE, LV, MD, PN, RW, VS, WE, WS staat geen IBAN" in warned[0]
