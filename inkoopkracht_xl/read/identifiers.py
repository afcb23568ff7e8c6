"""Dutch business identifiers as typed in Instellingen and Contacten: KvK, OIN, btw-nummer, IBAN.

Each parser returns the identifier in its canonical form (spaces and dots removed, upper case) or
raises ValueError with a Dutch message; the checks are those the e-invoice rules make, so a
mistake is found at its cell, not by a validator halfway through a settlement.
"""

from __future__ import annotations

import re

from . import values

_KVK = re.compile(r"\d{8}", re.ASCII)
_OIN = re.compile(r"\d{20}", re.ASCII)
_VAT = re.compile(r"NL\d{9}B\d{2}", re.ASCII)
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", re.ASCII)
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?", re.ASCII)
_POSTCODE = re.compile(r"(\d{4})\s?([A-Z]{2})", re.ASCII)
# The Dutch IBAN is 18 characters: NL, 2 check digits, 4 bank letters, 10 digits.
_DUTCH_IBAN_LENGTH = 18


def _compact(value: object) -> str:
    return re.sub(r"[\s.\-]", "", values.text(value)).upper()


def kvk(value: object) -> str:
    """A KvK number: 8 digits ('0952 1234' -> '09521234')."""
    number = _compact(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and len(number) < 8:
        number = number.zfill(8)  # Excel dropped the leading zero of a number typed as a number
    if not _KVK.fullmatch(number):
        raise ValueError(f"'{values.text(value)}' is geen KvK-nummer (8 cijfers)")
    return number


def oin(value: object) -> str:
    """An OIN (Organisatie-identificatienummer): 20 digits, typed as text so no digit is lost."""
    number = _compact(value)
    if isinstance(value, float):
        raise ValueError(
            f"'{values.text(value)}' is als getal opgeslagen en verliest zo cijfers; "
            "een OIN heeft 20 cijfers"
        )
    if not _OIN.fullmatch(number):
        raise ValueError(f"'{values.text(value)}' is geen OIN (20 cijfers)")
    return number


def vat_number(value: object) -> str:
    """A Dutch btw-identificatienummer: NL + 9 digits + B + 2 digits ('NL 0012.34.567.B01')."""
    number = _compact(value)
    if not _VAT.fullmatch(number):
        raise ValueError(
            f"'{values.text(value)}' is geen btw-nummer (NL, 9 cijfers, B, 2 cijfers; "
            "bijvoorbeeld NL001234567B01)"
        )
    return number


def iban(value: object) -> str:
    """An IBAN with valid check digits (ISO 13616, mod 97), shown in groups of four."""
    number = _compact(value)
    if not _IBAN.fullmatch(number):
        raise ValueError(f"'{values.text(value)}' is geen IBAN")
    if number.startswith("NL") and len(number) != _DUTCH_IBAN_LENGTH:
        raise ValueError(f"'{values.text(value)}' is geen Nederlandse IBAN (18 tekens)")
    rearranged = number[4:] + number[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    if int(digits) % 97 != 1:
        raise ValueError(
            f"'{values.text(value)}' is geen geldige IBAN: de controlecijfers kloppen niet "
            "(typfout?)"
        )
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def bic(value: object) -> str:
    code = _compact(value)
    if not _BIC.fullmatch(code):
        raise ValueError(f"'{values.text(value)}' is geen BIC (8 of 11 tekens)")
    return code


def postcode(value: object) -> str:
    """A Dutch postcode, '2711 ab' -> '2711 AB'."""
    match = _POSTCODE.fullmatch(values.text(value).upper())
    if not match:
        raise ValueError(f"'{values.text(value)}' is geen postcode (4 cijfers, 2 letters)")
    return f"{match.group(1)} {match.group(2)}"
