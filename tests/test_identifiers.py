"""Business identifiers as typed in Instellingen and Contacten: canonical form or a Dutch refusal."""

from __future__ import annotations

import pytest

from inkoopkracht_xl.read import identifiers


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0952 1234", "09521234"),
        ("27.12.44.55", "27124455"),
        (9521234.0, "09521234"),  # a number cell lost the leading zero: 7 digits -> 8
        (27124455, "27124455"),
    ],
)
def test_kvk_numbers(typed, expected):
    assert identifiers.kvk(typed) == expected


@pytest.mark.parametrize("typed", ["1234567", "123456789", "KVK12345", ""])
def test_kvk_refused(typed):
    with pytest.raises(ValueError, match="geen KvK-nummer"):
        identifiers.kvk(typed)


def test_oin_as_text_and_refusals():
    assert identifiers.oin("0000 0001 0000 0000 0001") == "00000001000000000001"
    with pytest.raises(ValueError, match="geen OIN"):
        identifiers.oin("1234")
    # A 20-digit number stored as a number cell has lost digits (doubles hold ~15-17).
    with pytest.raises(ValueError, match="als getal opgeslagen"):
        identifiers.oin(1.0000000000000001e19)


def test_vat_number():
    assert identifiers.vat_number("NL 0012.34.567.B01") == "NL001234567B01"
    with pytest.raises(ValueError, match="geen btw-nummer"):
        identifiers.vat_number("NL001234567")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # The documentation example: NL91 ABNA 0417 1643 00 (check digits 91 by mod 97).
        ("NL91ABNA0417164300", "NL91 ABNA 0417 1643 00"),
        ("nl91 abna 0417 1643 00", "NL91 ABNA 0417 1643 00"),
        # A foreign IBAN keeps its own length: GB82 WEST 1234 5698 7654 32 (ISO 13616 example).
        ("GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32"),
    ],
)
def test_iban_canonical(typed, expected):
    assert identifiers.iban(typed) == expected


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("NL92ABNA0417164300", "controlecijfers kloppen niet"),  # one check digit off
        ("NL91ABNA041716430", "geen Nederlandse IBAN"),  # 17 characters
        ("1234", "geen IBAN"),
    ],
)
def test_iban_refused(typed, said):
    with pytest.raises(ValueError, match=said):
        identifiers.iban(typed)


def test_bic_and_postcode():
    assert identifiers.bic("abna nl 2a") == "ABNANL2A"
    assert identifiers.bic("ABNANL2AXXX") == "ABNANL2AXXX"
    with pytest.raises(ValueError, match="geen BIC"):
        identifiers.bic("ABN")
    assert identifiers.postcode("2711ab") == "2711 AB"
    assert identifiers.postcode("2711 AB") == "2711 AB"
    with pytest.raises(ValueError, match="geen postcode"):
        identifiers.postcode("271 AB")
