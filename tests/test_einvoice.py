"""The e-invoice (UBL 2.1, Peppol BIS 3.0 and SI-UBL 2.0) is valid under the official rules.

Invoices come from the real settlement of the plain jaarplan fixture (H1, H2, the whole year,
joins, corrections) or, for the properties, are built directly. Every document goes through the
same offline validator (tests/einvoice_validation.py: UBL XSD, CEN EN 16931, Peppol or NLCIUS),
which is itself proven on OpenPeppol's official examples and on documents broken on purpose.
Seller and buyer identifiers below are example values (OIN 9999…, KvK 9999…): no real ones.
"""

from __future__ import annotations

import base64
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inkoopkracht_xl import einvoice
from inkoopkracht_xl.einvoice import EInvoiceIncomplete, ubl_document
from inkoopkracht_xl.model import Contact, Invoice, InvoiceLine, Sender, Settings
from inkoopkracht_xl.rules import (
    REQUIRED_BUYER,
    REQUIRED_SELLER,
    REQUIRED_SELLER_EXEMPT,
    missing_buyer_fields,
    missing_fields,
    missing_seller_fields,
)
from inkoopkracht_xl.settle import History, Period, SettledCost, Settlement, corrections, settle
from inkoopkracht_xl.validate import load_folder

from .builders import JAARPLAN
from .einvoice_validation import (
    NS,
    PEPPOL_EXAMPLES,
    assert_valid,
    require_rules,
    validate,
    value,
    xpath,
)

D = Decimal
PROFILES = ("peppol", "si-ubl")
H1_DATE = date(2024, 7, 1)
H2_DATE = date(2025, 1, 15)
# Not a real PDF: the rules check the attachment's mime code and file name, not its content.
# About the size of a two-page invoice PDF, so the timing below is honest.
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 160 + b"\n%%EOF\n"

SELLER = Sender(
    name="Inkoopkracht ZHW",
    address="Postbus 15, 2700 AA Zoetermeer",
    iban="NL91 ABNA 0417 1643 00",  # the ISO 13616 example IBAN: valid check digits, no account
    email="inkoopkracht@example.org",
    legal_name="Gemeente Zoetermeer",
    street="Stadhuisplein 1",
    postcode="2711 EC",
    city="Zoetermeer",
    kvk="99990001",  # example
    oin="99999999900000000001",  # example: 20 digits, no issued OIN starts with 999
    vat_number="NL999999999B01",  # example
    contact_person="M. de Jong",
    phone="079 346 89 11",
    bic="ABNANL2A",
)
VAT_NOTE_E = "Vrijgesteld van btw (voorbeeld van een toelichting)"


@pytest.fixture(scope="module")
def inputs():
    # load_folder, not load_valid: the fixture's sender details (an example IBAN) are findings
    # of their own; this module replaces the sender, and needs the calendar and the costs.
    loaded = load_folder(JAARPLAN)
    assert loaded.inputs is not None, [f.text() for f in loaded.errors]
    return loaded.inputs


@pytest.fixture(scope="module")
def rules():
    require_rules()


def seller_settings(base: Settings, *, vat: str = "O", profile: str = "peppol") -> Settings:
    return replace(
        base,
        sender=SELLER,
        vat_category=vat,
        vat_note=VAT_NOTE_E if vat == "E" else "",
        einvoice=profile,
        einvoice_set=True,
    )


def buyer(invoice: Invoice, n: int = 1) -> Contact:
    code = invoice.code
    return Contact(
        code=code,
        name=f"Team Inkoop {invoice.name}",
        emails=(f"crediteuren@{code.lower()}.example.org",),
        street=f"Raadhuisplein {n}",
        postcode=f"26{n:02d} AB",
        city=invoice.name,
        oin=f"999999999000000001{n:02d}",  # example
        buyer_reference=f"UK-{code}-2024",
    )


def numbered(settlement: Settlement | tuple[Invoice, ...], first: int) -> list[Invoice]:
    """The invoices (own share left out) with register-style numbers from `first` on."""
    invoices = settlement.invoices if isinstance(settlement, Settlement) else settlement
    billed = [i for i in invoices if not i.is_own_share]
    return [replace(i, number=f"IK-2024-{first + k:04d}") for k, i in enumerate(billed)]


def history_of(invoices: list[Invoice]) -> History:
    """What the register would hold after these invoices (as Register.history reads it)."""
    network: dict[str, Decimal] = {}
    costs: dict[str, SettledCost] = {}
    resplits = set()
    for invoice in invoices:
        for line in invoice.lines:
            if line.kind == "netwerk":
                network[invoice.code] = network.get(invoice.code, D("0.00")) + line.amount
            elif line.kind == "project":
                costs.setdefault(
                    line.reference.casefold(),
                    SettledCost(
                        line.cost_total,
                        line.cost_date,
                        line.subject,
                        invoice.number or "eigen aandeel",
                        line.participants,
                    ),
                )
            elif line.kind == "toetreding":
                resplits.add((line.reference.casefold(), line.join))
    return History(network, costs, frozenset(resplits))


def h1(inputs) -> tuple[Settlement, list[Invoice]]:
    settlement = settle(inputs, Period(2024, 1), History(), issue_date=H1_DATE)
    return settlement, numbered(settlement, 1)


def with_own_share(settlement: Settlement, numbered_invoices: list[Invoice]) -> list[Invoice]:
    own = [i for i in settlement.invoices if i.is_own_share]
    return numbered_invoices + own


def build(invoice: Invoice, base: Settings, *, vat="O", profile="peppol", n=1, original=None):
    return ubl_document(
        invoice,
        seller_settings(base, vat=vat, profile=profile),
        buyer(invoice, n),
        pdf=PDF,
        pdf_name=f"Factuur {invoice.number}.pdf",
        profile=profile,
        original=original,
    )


def check_totals(document: bytes, invoice: Invoice) -> None:
    """Totals to the cent: the lines add up to every total, and to the invoice's own total."""
    credit = invoice.total < 0
    root = "cn:CreditNote" if credit else "inv:Invoice"
    line = "cac:CreditNoteLine" if credit else "cac:InvoiceLine"
    expected = -invoice.total if credit else invoice.total
    lines = [D(t) for t in xpath(document, f"/{root}/{line}/cbc:LineExtensionAmount/text()")]
    assert len(lines) == len(invoice.lines)
    assert sum(lines, D(0)) == expected
    for total in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount"):
        assert value(document, f"/{root}/cac:LegalMonetaryTotal/cbc:{total}") == f"{expected:.2f}"
    assert value(document, f"/{root}/cac:LegalMonetaryTotal/cbc:PayableAmount") == f"{expected:.2f}"
    assert value(document, f"/{root}/cac:TaxTotal/cbc:TaxAmount") == "0.00"
    assert value(document, f"/{root}/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount") == (
        f"{expected:.2f}"
    )


# -- The validator itself ----------------------------------------------------------------------


def test_every_official_peppol_example_passes_the_validator(rules):
    examples = sorted(PEPPOL_EXAMPLES.glob("*.xml"))
    assert len(examples) >= 9, [p.name for p in examples]  # 9 in release 3.0.19
    for path in examples:
        report = validate(path.read_bytes())
        assert not report.fatal, f"{path.name}:\n{report.text()}"


def test_an_official_example_broken_on_purpose_fails_with_the_rule_id(rules):
    from lxml import etree

    tree = etree.parse(str(PEPPOL_EXAMPLES / "sales-order-example.xml"))
    references = tree.xpath(
        "/inv:Invoice/cbc:BuyerReference | /inv:Invoice/cac:OrderReference", namespaces=NS
    )
    assert len(references) == 2
    for element in references:
        element.getparent().remove(element)
    assert "PEPPOL-EN16931-R003" in validate(etree.tostring(tree)).rules()

    tree = etree.parse(str(PEPPOL_EXAMPLES / "base-example.xml"))
    (payable,) = tree.xpath("//cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS)
    payable.text = str(D(payable.text) + D("0.01"))
    assert "BR-CO-16" in validate(etree.tostring(tree)).rules()


@pytest.mark.parametrize("profile", PROFILES)
def test_our_document_broken_on_purpose_fails_with_the_expected_rule(inputs, rules, profile):
    invoice = h1(inputs)[1][0]  # Delft, € 21.980,04
    document = build(invoice, inputs.budget.settings, profile=profile)
    assert_valid(document)

    no_reference = document.replace(b"<cbc:BuyerReference>UK-DE-2024</cbc:BuyerReference>", b"")
    expected = "PEPPOL-EN16931-R003" if profile == "peppol" else "BR-NL-2"
    assert expected in validate(no_reference).rules()

    # The payable amount no longer what the lines add up to.
    wrong_total = document.replace(
        b'<cbc:PayableAmount currencyID="EUR">21980.04<',
        b'<cbc:PayableAmount currencyID="EUR">21980.05<',
    )
    assert wrong_total != document
    assert "BR-CO-16" in validate(wrong_total).rules()
    # A line's amount changed: the sum of the lines no longer matches the document's totals.
    wrong_line = document.replace(
        b'<cbc:LineExtensionAmount currencyID="EUR">17133.00<',
        b'<cbc:LineExtensionAmount currencyID="EUR">17133.01<',
    )
    assert {"BR-CO-10"} <= validate(wrong_line).rules()
    # An element the UBL schema does not know: the XSD layer refuses it.
    swapped = document.replace(b"<cbc:ProfileID>", b"<cbc:ProfileIDx>", 1).replace(
        b"</cbc:ProfileID>", b"</cbc:ProfileIDx>", 1
    )
    assert "XSD" in validate(swapped).rules()


# -- Our documents -------------------------------------------------------------------------------


def test_h1_invoice_of_delft_exact_values(inputs, rules):
    settlement, invoices = h1(inputs)
    delft = invoices[0]
    assert (delft.code, delft.number) == ("DE", "IK-2024-0001")
    document = build(delft, inputs.budget.settings)
    report = assert_valid(document)
    assert not report.findings, report.text()  # not even a warning

    i = "/inv:Invoice"
    assert value(document, f"{i}/cbc:CustomizationID") == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert value(document, f"{i}/cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert value(document, f"{i}/cbc:ID") == "IK-2024-0001"
    assert value(document, f"{i}/cbc:IssueDate") == "2024-07-01"
    assert value(document, f"{i}/cbc:DueDate") == "2024-07-31"  # 30 days
    assert value(document, f"{i}/cbc:InvoiceTypeCode") == "380"
    assert value(document, f"{i}/cbc:BuyerReference") == "UK-DE-2024"
    assert value(document, f"{i}/cac:InvoicePeriod/cbc:StartDate") == "2024-01-01"
    assert value(document, f"{i}/cac:InvoicePeriod/cbc:EndDate") == "2024-06-30"
    assert value(document, f"{i}/cbc:Note") == (
        "Gemeente Zoetermeer, namens Inkoopkracht ZHW: kostenverdeling eerste halfjaar 2024 "
        "(2024-H1)."
    )
    # The seller: the legal issuer, the cooperation as its trading name, OIN twice (0190).
    seller = f"{i}/cac:AccountingSupplierParty/cac:Party"
    assert value(document, f"{seller}/cbc:EndpointID") == "99999999900000000001"
    assert value(document, f"{seller}/cbc:EndpointID/@schemeID") == "0190"
    assert value(document, f"{seller}/cac:PartyLegalEntity/cbc:RegistrationName") == (
        "Gemeente Zoetermeer"
    )
    assert value(document, f"{seller}/cac:PartyLegalEntity/cbc:CompanyID") == (
        "99999999900000000001"
    )
    assert value(document, f"{seller}/cac:PartyLegalEntity/cbc:CompanyID/@schemeID") == "0190"
    assert value(document, f"{seller}/cac:PartyName/cbc:Name") == "Inkoopkracht ZHW"
    assert value(document, f"{seller}/cac:PartyIdentification/cbc:ID") == "99990001"
    assert value(document, f"{seller}/cac:PartyIdentification/cbc:ID/@schemeID") == "0106"
    assert value(document, f"{seller}/cac:PostalAddress/cbc:StreetName") == "Stadhuisplein 1"
    assert value(document, f"{seller}/cac:PostalAddress/cbc:PostalZone") == "2711 EC"
    assert value(document, f"{seller}/cac:PostalAddress/cac:Country/cbc:IdentificationCode") == (
        "NL"
    )
    assert value(document, f"{seller}/cac:Contact/cbc:Telephone") == "079 346 89 11"
    assert xpath(document, f"{seller}/cac:PartyTaxScheme") == []  # Btw = O: no VAT id (BR-O-02)
    buyer_party = f"{i}/cac:AccountingCustomerParty/cac:Party"
    assert value(document, f"{buyer_party}/cbc:EndpointID") == "99999999900000000101"
    assert value(document, f"{buyer_party}/cbc:EndpointID/@schemeID") == "0190"
    assert value(document, f"{buyer_party}/cac:PartyLegalEntity/cbc:RegistrationName") == (
        "Gemeente Delft"  # the default: no Rechtspersoon in Contacten
    )
    assert value(document, f"{buyer_party}/cac:PartyLegalEntity/cbc:CompanyID/@schemeID") == "0190"
    # Payment: SEPA credit transfer to the IBAN without spaces, the number as the reference.
    assert value(document, f"{i}/cac:PaymentMeans/cbc:PaymentMeansCode") == "58"
    assert value(document, f"{i}/cac:PaymentMeans/cbc:PaymentID") == "IK-2024-0001"
    assert value(document, f"{i}/cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == (
        "NL91ABNA0417164300"
    )
    assert value(
        document,
        f"{i}/cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID",
    ) == ("ABNANL2A")
    assert value(document, f"{i}/cac:PaymentTerms/cbc:Note") == (
        "Betalen binnen 30 dagen, uiterlijk 31-07-2024, op NL91 ABNA 0417 1643 00 t.n.v. "
        "Gemeente Zoetermeer onder vermelding van IK-2024-0001."
    )
    # VAT: category O, tax 0, the statement as the exemption reason.
    category = f"{i}/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    assert value(document, f"{category}/cbc:ID") == "O"
    assert value(document, f"{category}/cbc:TaxExemptionReason") == "Niet onderworpen aan btw"
    assert xpath(document, f"{category}/cbc:Percent") == []
    # 17.133,00 + 2.367,38 + 708,33 + 1.277,40 + 572,14 - 78,21 (MD's join) = 21.980,04
    assert value(document, f"{i}/cac:LegalMonetaryTotal/cbc:PayableAmount") == "21980.04"
    check_totals(document, delft)
    assert len(xpath(document, f"{i}/cac:InvoiceLine")) == 6
    # The join's credit: one unit taken back at a positive price (BR-27: no negative price).
    join = f"{i}/cac:InvoiceLine[6]"
    assert value(document, f"{join}/cbc:InvoicedQuantity") == "-1"
    assert value(document, f"{join}/cbc:InvoicedQuantity/@unitCode") == "C62"
    assert value(document, f"{join}/cbc:LineExtensionAmount") == "-78.21"
    assert value(document, f"{join}/cac:Price/cbc:PriceAmount") == "78.21"
    assert value(document, f"{join}/cac:Item/cbc:Name") == (
        "Verrekening toetreding Midden-Delfland tot Dieptereiniging ICT hardware"
    )
    assert value(document, f"{join}/cac:Item/cbc:Description") == (
        "aandeel was € 1.277,40, wordt € 1.199,19"
    )
    assert value(document, f"{join}/cbc:Note") == (
        "Kenmerk VB-2024-003, onderwerp Dieptereiniging ICT hardware, kostendatum 31-01-2024"
    )
    # The PDF, embedded whole.
    attachment = (
        f"{i}/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject"
    )
    assert base64.b64decode(value(document, attachment)) == PDF
    assert value(document, f"{attachment}/@mimeCode") == "application/pdf"
    assert value(document, f"{attachment}/@filename") == "Factuur IK-2024-0001.pdf"


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("vat", ["O", "E"])
@pytest.mark.parametrize("period", ["2024-H1", "2024-H2", "2024"])
def test_every_invoice_of_a_period_is_valid(inputs, rules, profile, vat, period):
    first, first_invoices = h1(inputs)
    if period == "2024-H1":
        invoices = first_invoices
    elif period == "2024-H2":
        history = history_of(with_own_share(first, first_invoices))
        second = settle(inputs, Period(2024, 2), history, issue_date=H2_DATE)
        invoices = numbered(second, len(first_invoices) + 1)
    else:
        whole = settle(inputs, Period(2024, 0), History(), issue_date=H2_DATE)
        invoices = numbered(whole, 1)
    # ZM is the penvoerder; H2's one new cost line (VB-2024-005) also reaches VS and WS.
    expected = {"2024-H1": "DE PN WE LV MD RW", "2024-H2": "DE PN WE LV VS WS"}
    assert " ".join(i.code for i in invoices) == expected.get(period, "DE PN WE LV MD RW VS WS")
    joins = 0
    for n, invoice in enumerate(invoices, 1):
        document = build(invoice, inputs.budget.settings, vat=vat, profile=profile, n=n)
        report = assert_valid(document)
        assert not report.warnings, report.text()
        check_totals(document, invoice)
        root = "/inv:Invoice"
        assert value(document, f"{root}/cbc:CustomizationID") == einvoice.CUSTOMIZATION_ID[profile]
        assert value(document, f"{root}/cac:AccountingCustomerParty/cac:Party/cbc:EndpointID") == (
            f"999999999000000001{n:02d}"
        )
        assert value(document, f"{root}/cac:PaymentMeans/cbc:PaymentID") == invoice.number
        assert value(document, f"{root}/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == vat
        # SI-UBL discourages a BIC on SEPA payments (BR-NL-31): only Peppol carries it.
        bic = xpath(document, "//cac:FinancialInstitutionBranch/cbc:ID/text()")
        assert bic == (["ABNANL2A"] if profile == "peppol" else [])
        joins += len(xpath(document, f"{root}/cac:InvoiceLine[cbc:InvoicedQuantity = '-1']"))
    if period != "2024-H2":  # MD joins on 1 April: DE, WE and LV are credited on one line each
        assert joins == 3


def test_vat_exempt_carries_the_vat_number_rate_zero_and_the_reason(inputs, rules):
    invoice = h1(inputs)[1][0]
    for profile in PROFILES:
        document = build(invoice, inputs.budget.settings, vat="E", profile=profile)
        assert_valid(document)
        seller = "/inv:Invoice/cac:AccountingSupplierParty/cac:Party"
        assert value(document, f"{seller}/cac:PartyTaxScheme/cbc:CompanyID") == "NL999999999B01"
        assert value(document, f"{seller}/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID") == "VAT"
        category = "/inv:Invoice/cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
        assert value(document, f"{category}/cbc:ID") == "E"
        assert value(document, f"{category}/cbc:Percent") == "0"
        assert value(document, f"{category}/cbc:TaxExemptionReason") == VAT_NOTE_E
        rates = xpath(document, "//cac:ClassifiedTaxCategory/cbc:Percent/text()")
        assert rates == ["0"] * len(invoice.lines)


def test_vat_not_subject_uses_the_toelichting_when_given(inputs, rules):
    invoice = h1(inputs)[1][0]
    base = replace(seller_settings(inputs.budget.settings), vat_note="Geen btw: BCF-regeling")
    document = ubl_document(
        invoice, base, buyer(invoice), pdf=PDF, pdf_name="f.pdf", profile="peppol"
    )
    assert_valid(document)
    assert xpath(document, "//cbc:TaxExemptionReason/text()") == ["Geen btw: BCF-regeling"]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("method", ["verrekenen", "terugbetalen"])
def test_a_negative_h2_total_is_a_credit_note_naming_the_h1_invoice(inputs, rules, profile, method):
    # Realised costs a tenth of the budget: the final network share is far below the voorschot.
    budget = inputs.budget
    posts = tuple(replace(p, realised=(p.budgeted / 10).quantize(D("0.01"))) for p in budget.posts)
    low = replace(inputs, budget=replace(budget, posts=posts))
    first, first_invoices = h1(inputs)  # H1 billed the voorschot on the budget
    history = history_of(with_own_share(first, first_invoices))
    second = settle(low, Period(2024, 2), history, issue_date=H2_DATE)
    invoices = numbered(second, len(first_invoices) + 1)
    credits = [i for i in invoices if i.total < 0]
    assert [i.code for i in credits] == ["DE", "PN", "WE"]
    by_code = {i.code: i for i in first_invoices}
    base = replace(seller_settings(budget.settings, profile=profile), credit_method=method)
    for n, invoice in enumerate(credits, 1):
        original = by_code[invoice.code]
        contact = replace(buyer(invoice, n), iban="NL02 ABNA 0123 4567 89")
        document = ubl_document(
            invoice,
            base,
            contact,
            pdf=PDF,
            pdf_name="creditnota.pdf",
            profile=profile,
            original=(original.number, original.issue_date),
        )
        report = assert_valid(document)
        assert not report.warnings, report.text()
        cn = "/cn:CreditNote"
        assert value(document, f"{cn}/cbc:CreditNoteTypeCode") == "381"
        assert value(
            document, f"{cn}/cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
        ) == (original.number)
        issue = xpath(document, f"{cn}/cac:BillingReference//cbc:IssueDate/text()")
        # SI-UBL discourages the preceding invoice's date (BR-NL-24); Peppol BIS carries it.
        assert issue == (["2024-07-01"] if profile == "peppol" else [])
        check_totals(document, invoice)  # amounts positive: the payable is minus the total
        assert D(value(document, f"{cn}/cac:LegalMonetaryTotal/cbc:PayableAmount")) > 0
        assert xpath(document, f"{cn}/cac:PaymentMeans") == []  # the buyer pays nothing
        terms = value(document, f"{cn}/cac:PaymentTerms/cbc:Note")
        if method == "terugbetalen":
            assert terms == "Wij storten dit bedrag terug op NL02 ABNA 0123 4567 89."
        else:
            assert terms == "Wij verrekenen dit bedrag met uw volgende factuur."
        assert value(document, f"{cn}/cbc:Note").endswith(
            f"Creditnota op factuur {original.number} van 01-07-2024."
        )
    # Delft: final share 26,15 % of € 13.103,50 = € 3.426,56, minus the voorschot € 17.133,00
    # = -13.706,44; plus VB-2024-005 (dated in H2): 106.086 of 535.643 inhabitants of
    # € 6.000,00 = € 1.188,32. Together -12.518,12: a credit note of € 12.518,12.
    delft = credits[0]
    assert [line.amount for line in delft.lines] == [D("-13706.44"), D("1188.32")]
    document = ubl_document(
        delft,
        base,
        buyer(delft),
        pdf=PDF,
        pdf_name="c.pdf",
        profile=profile,
        original=("IK-2024-0001", H1_DATE),
    )
    assert value(document, "/cn:CreditNote/cac:LegalMonetaryTotal/cbc:PayableAmount") == "12518.12"
    lines = "/cn:CreditNote/cac:CreditNoteLine"
    assert xpath(document, f"{lines}/cbc:CreditedQuantity/text()") == ["1", "-1"]
    assert xpath(document, f"{lines}/cbc:LineExtensionAmount/text()") == ["13706.44", "-1188.32"]
    assert xpath(document, f"{lines}/cac:Price/cbc:PriceAmount/text()") == ["13706.44", "1188.32"]


@pytest.mark.parametrize("profile", PROFILES)
def test_corrections_refer_to_the_invoice_they_correct(inputs, rules, profile):
    first, first_invoices = h1(inputs)
    held: dict[tuple[str, str, str, str], tuple[Decimal, str, str]] = {}
    for invoice in with_own_share(first, first_invoices):
        for line in invoice.lines:
            key = (invoice.code, line.kind, line.reference.casefold(), line.join)
            amount, description, number = held.get(
                key, (D("0.00"), line.description, invoice.number)
            )
            held[key] = (amount + line.amount, description, number)
    # After H1 was sent, one cost line turns out lower and another higher.
    changed = {"VB-2024-001": D("11500.00"), "VB-2024-004": D("3875.50")}  # -1.000, +2.000
    costs = tuple(
        replace(c, amount=changed.get(c.reference, c.amount)) for c in inputs.budget.cost_lines
    )
    edited = replace(inputs, budget=replace(inputs.budget, cost_lines=costs))
    fresh = settle(edited, Period(2024, 1), History(), issue_date=H1_DATE)
    fixes = numbered(corrections(fresh, held, issue_date=date(2024, 8, 1), inputs=edited), 7)
    kinds = {i.code: ("creditnota" if i.total < 0 else "factuur") for i in fixes}
    assert "creditnota" in kinds.values() and "factuur" in kinds.values(), kinds
    originals = {i.code: i.number for i in first_invoices}
    for n, invoice in enumerate(fixes, 1):
        assert invoice.refers_to == originals[invoice.code]
        # No `original` given: the reference comes from the invoice itself.
        document = build(invoice, inputs.budget.settings, profile=profile, n=n)
        assert_valid(document)
        check_totals(document, invoice)
        reference = "//cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID/text()"
        assert xpath(document, reference) == [invoice.refers_to]
        root = "CreditNote" if invoice.total < 0 else "Invoice"
        assert xpath(document, "local-name(/*)") == root


@pytest.mark.parametrize("profile", PROFILES)
def test_names_and_addresses_outside_latin_1(inputs, rules, profile):
    invoice = replace(h1(inputs)[1][0], name="Ĳsselstein")
    contact = replace(
        buyer(invoice),
        name="Zoë Łukasiewicz",
        legal_name="Gemeente Ĳsselstein",
        street="Łódźstraat 3 – achteringang",
        city="Ĳsselstein",
        buyer_reference="Zoë/Ĳ-2024 “inkoop”",
    )
    base = seller_settings(inputs.budget.settings, profile=profile)
    base = replace(
        base, sender=replace(base.sender, contact_person="Zoë Ångström", name="Inkoopkracht ZHW ✓")
    )
    document = ubl_document(invoice, base, contact, pdf=PDF, pdf_name="Factuur Ĳsselstein.pdf")
    assert_valid(document)
    party = "/inv:Invoice/cac:AccountingCustomerParty/cac:Party"
    assert (
        value(document, f"{party}/cac:PostalAddress/cbc:StreetName")
        == "Łódźstraat 3 – achteringang"
    )
    assert value(document, f"{party}/cac:PostalAddress/cbc:CityName") == "Ĳsselstein"
    assert value(document, f"{party}/cac:PartyLegalEntity/cbc:RegistrationName") == (
        "Gemeente Ĳsselstein"
    )
    assert value(document, f"{party}/cac:Contact/cbc:Name") == "Zoë Łukasiewicz"
    assert value(document, "/inv:Invoice/cbc:BuyerReference") == "Zoë/Ĳ-2024 “inkoop”"
    assert "Łódźstraat".encode() in document  # UTF-8 as such, not as character references
    assert value(document, "//cbc:EmbeddedDocumentBinaryObject/@filename") == (
        "Factuur Ĳsselstein.pdf"
    )


def test_an_order_number_alone_is_enough(inputs, rules):
    invoice = h1(inputs)[1][0]
    contact = replace(buyer(invoice), buyer_reference="", order_number="4500012345")
    assert missing_buyer_fields(contact) == []
    for profile in PROFILES:
        document = ubl_document(
            invoice,
            seller_settings(inputs.budget.settings),
            contact,
            pdf=PDF,
            pdf_name="f.pdf",
            profile=profile,
        )
        assert_valid(document)
        assert value(document, "/inv:Invoice/cac:OrderReference/cbc:ID") == "4500012345"
        assert xpath(document, "/inv:Invoice/cbc:BuyerReference") == []


def test_the_same_inputs_give_the_same_bytes(inputs):
    settlement, invoices = h1(inputs)
    base = inputs.budget.settings
    first = [build(i, base, n=n) for n, i in enumerate(invoices, 1)]
    # Again, in the opposite order and after other documents: nothing carries over.
    build(invoices[0], base, vat="E", profile="si-ubl")
    second = [build(i, base, n=n) for n, i in reversed(list(enumerate(invoices, 1)))][::-1]
    assert first == second
    assert len(set(first)) == len(first)


# -- Required fields -------------------------------------------------------------------------


def _without(settings: Settings, contact: Contact, field) -> tuple[Settings, Contact]:
    for attribute in field.attributes:
        if field.sheet == "Contacten":
            contact = replace(contact, **{attribute: ""})
        elif attribute == "vat_note":
            settings = replace(settings, vat_note="")
        else:
            settings = replace(settings, sender=replace(settings.sender, **{attribute: ""}))
    return settings, contact


# The rule that rejects a document without each field, per profile (found by validating).
REJECTED_BY = {
    "Instellingen › Rechtspersoon": ("BR-06", "BR-06"),
    "Instellingen › Straat": ("NL-R-002", "BR-NL-3"),
    "Instellingen › Postcode": ("NL-R-002", "BR-NL-3"),
    "Instellingen › Plaats": ("NL-R-002", "BR-NL-3"),
    "Instellingen › OIN": ("PEPPOL-EN16931-R020", "BR-NL-1"),
    "Instellingen › IBAN": ("BR-61", "BR-61"),
    "Instellingen › Btw-nummer": ("BR-E-02", "BR-E-02"),
    "Instellingen › Btw-toelichting": ("BR-E-10", "BR-E-10"),
    "Contacten › Straat": ("NL-R-004", "BR-NL-4"),
    "Contacten › Postcode": ("NL-R-004", "BR-NL-4"),
    "Contacten › Plaats": ("NL-R-004", "BR-NL-4"),
    "Contacten › OIN": ("PEPPOL-EN16931-R010", "BR-NL-10"),
    "Contacten › Uw kenmerk of Inkoopordernummer": ("PEPPOL-EN16931-R003", "BR-NL-2"),
}
ALL_REQUIRED = REQUIRED_SELLER + REQUIRED_SELLER_EXEMPT + REQUIRED_BUYER


def test_every_required_field_has_the_rule_that_demands_it():
    assert sorted(str(f) for f in ALL_REQUIRED) == sorted(REJECTED_BY)


@pytest.mark.parametrize("field", ALL_REQUIRED, ids=str)
def test_a_missing_required_field_is_ours_to_report_before_a_rule_would(inputs, rules, field):
    invoice = h1(inputs)[1][0]
    complete = seller_settings(inputs.budget.settings, vat="E")  # E: its two fields count too
    contact = buyer(invoice)
    assert missing_fields(complete, contact) == []
    settings_, contact_ = _without(complete, contact, field)
    # (a) our list names exactly this field, with the sheet and key the workbook uses ...
    assert [str(f) for f in missing_fields(settings_, contact_)] == [str(field)]
    with pytest.raises(EInvoiceIncomplete) as refused:
        ubl_document(invoice, settings_, contact_, pdf=PDF, pdf_name="f.pdf")
    assert str(field) in str(refused.value) and refused.value.missing == (field,)
    # (b) ... and the official rules would indeed reject the document without it.
    for profile, rule in zip(PROFILES, REJECTED_BY[str(field)], strict=True):
        document = einvoice._build(
            invoice, settings_, contact_, pdf=PDF, pdf_name="f.pdf", profile=profile, original=None
        )
        assert rule in validate(document).rules(), (profile, validate(document).text())


OPTIONAL_SELLER = ("name", "address", "email", "kvk", "contact_person", "phone", "bic")
OPTIONAL_BUYER = ("name", "emails", "cc", "legal_name", "kvk", "order_number", "iban")


def test_every_other_field_is_optional_and_the_rest_are_all_listed(inputs, rules):
    """Sender and Contact fields are either required (above) or optional: without all the
    optional ones at once the document is still valid, in both profiles."""
    required_seller = {a for f in REQUIRED_SELLER + REQUIRED_SELLER_EXEMPT for a in f.attributes}
    required_buyer = {a for f in REQUIRED_BUYER for a in f.attributes}
    assert set(Sender.__dataclass_fields__) == (required_seller - {"vat_note"}) | set(
        OPTIONAL_SELLER
    )
    bookkeeping = {"code", "source", "invalid"}
    assert set(Contact.__dataclass_fields__) - bookkeeping == required_buyer | set(OPTIONAL_BUYER)
    invoice = h1(inputs)[1][0]
    bare_sender = replace(SELLER, **{a: "" for a in OPTIONAL_SELLER})
    bare_contact = replace(
        buyer(invoice), name="", emails=(), cc=(), legal_name="", kvk="", order_number="", iban=""
    )
    for vat in ("O", "E"):
        for profile in PROFILES:
            settings_ = replace(
                seller_settings(inputs.budget.settings, vat=vat), sender=bare_sender
            )
            if vat == "O":
                settings_ = replace(settings_, sender=replace(bare_sender, vat_number=""))
            assert missing_fields(settings_, bare_contact) == []
            document = ubl_document(
                invoice, settings_, bare_contact, pdf=PDF, pdf_name="f.pdf", profile=profile
            )
            assert_valid(document)
            assert xpath(document, "//cac:Contact") == []
            assert xpath(document, "//cac:PartyName") == []


def test_missing_fields_without_a_contacten_row_and_by_vat_category(inputs):
    assert [str(f) for f in missing_buyer_fields(None)] == [str(f) for f in REQUIRED_BUYER]
    exempt = seller_settings(inputs.budget.settings, vat="E")
    exempt = replace(exempt, vat_note="  ", sender=replace(SELLER, vat_number=""))
    assert [str(f) for f in missing_seller_fields(exempt)] == [
        "Instellingen › Btw-nummer",
        "Instellingen › Btw-toelichting",
    ]
    # Btw = O needs neither: the statement defaults to 'Niet onderworpen aan btw'.
    assert missing_seller_fields(replace(exempt, vat_category="O")) == []
    # Nothing filled in: every seller field, in the order of REQUIRED_SELLER.
    assert missing_seller_fields(Settings(year=2024)) == list(REQUIRED_SELLER)


# -- What cannot be an e-invoice -----------------------------------------------------------------


def test_what_cannot_be_an_e_invoice_is_refused(inputs):
    settlement, invoices = h1(inputs)
    base = seller_settings(inputs.budget.settings)
    own = next(i for i in settlement.invoices if i.is_own_share)
    with pytest.raises(ValueError, match="eigen aandeel"):
        ubl_document(own, base, buyer(own), pdf=PDF, pdf_name="f.pdf")
    credit = replace(
        invoices[0], lines=tuple(replace(line, amount=-line.amount) for line in invoices[0].lines)
    )
    with pytest.raises(ValueError, match="verwijst niet naar de factuur"):
        ubl_document(credit, base, buyer(credit), pdf=PDF, pdf_name="f.pdf")
    with pytest.raises(ValueError, match="geen e-factuur voor profiel"):
        ubl_document(
            invoices[0], base, buyer(invoices[0]), pdf=PDF, pdf_name="f.pdf", profile="nee"
        )
    with pytest.raises(ValueError, match="PDF"):
        ubl_document(invoices[0], base, buyer(invoices[0]), pdf=b"", pdf_name="f.pdf")


# -- Properties: any lines, any text ---------------------------------------------------------

cents = st.integers(min_value=-5_000_000, max_value=5_000_000)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
lines_strategy = st.lists(
    st.builds(
        lambda kind, description, basis, amount, reference: InvoiceLine(
            kind, description, basis, D(amount) / 100, reference=reference
        ),
        st.sampled_from(["netwerk", "project", "toetreding"]),
        texts,
        texts,
        cents,
        texts,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines_strategy, profile=st.sampled_from(PROFILES), vat=st.sampled_from(["O", "E"]))
def test_any_lines_and_any_text_give_a_valid_document(rules, lines, profile, vat):
    invoice = Invoice(
        code="DE",
        name="Delft",
        period="2024-H2",
        year=2024,
        lines=tuple(lines),
        number="IK-2024-0042",
        issue_date=H2_DATE,
        due_date=date(2025, 2, 14),
    )
    base = Settings(year=2024, lead="ZM")
    document = ubl_document(
        invoice,
        seller_settings(base, vat=vat, profile=profile),
        buyer(invoice),
        pdf=PDF,
        pdf_name="f.pdf",
        original=("IK-2024-0001", H1_DATE),
    )
    assert_valid(document)
    check_totals(document, invoice)


def test_an_invoice_of_national_size_is_valid(rules):
    """At national scale an invoice has some 200 lines (scripts/bench.py: 70.447 lines over 341
    invoices); 300 lines with both signs, as one document per profile."""
    lines = tuple(
        InvoiceLine(
            "toetreding" if k % 7 == 0 else "project",
            f"Projectkosten onderwerp {k} & co <deel {k % 3}>",
            f"{k} van 1.000 inwoners van € {k * 10},00",
            D(-k if k % 7 == 0 else k * 3) / 100 + D("12.34"),
            reference=f"K-{k:04d}",
            subject=f"Onderwerp {k}",
            cost_date=date(2024, 1 + k % 6, 1 + k % 28),
        )
        for k in range(300)
    )
    invoice = Invoice(
        "DE", "Delft", "2024-H1", 2024, lines, number="IK-2024-0001", issue_date=H1_DATE
    )
    for profile in PROFILES:
        document = build(invoice, Settings(year=2024), profile=profile)
        assert_valid(document)
        check_totals(document, invoice)
        assert value(document, "//cac:InvoiceLine[300]/cac:Item/cbc:Name") == (
            "Projectkosten onderwerp 299 & co <deel 2>"
        )


# -- Cost ------------------------------------------------------------------------------------


def test_building_a_document_is_cheap(inputs):
    """What the product pays per e-invoice (validation is the tests' cost, not the product's).
    Measured about 1 ms a document; the bound leaves room for a busy machine."""
    invoices = h1(inputs)[1]
    base = inputs.budget.settings
    contacts = [buyer(i, n) for n, i in enumerate(invoices, 1)]
    ready = seller_settings(base)
    start = time.perf_counter()
    for _ in range(20):
        for invoice, contact in zip(invoices, contacts, strict=True):
            ubl_document(invoice, ready, contact, pdf=PDF, pdf_name="f.pdf")
    per_document = (time.perf_counter() - start) / (20 * len(invoices))
    assert per_document < 0.02, f"{per_document * 1000:.1f} ms per document"
