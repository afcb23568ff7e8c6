"""E-mail addresses and names as a message header carries them (pure, no mail library).

Below both readers and writers: the budget's reader checks an address at its cell with the rule
the e-mail uses (`checked_address`), the Facturen sheet shows whom a draft goes to, and mail.py
builds the message; none needs smtplib to know whether an address is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Contact

# A deliberately plain address check: one @, no spaces or quotes, a dotted domain.
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]")


class UnsafeHeader(ValueError):
    """A name or address from a workbook that would break or inject into an e-mail header."""


def clean_name(text: str) -> str:
    """A display name for a header: no line breaks (header injection), no control characters."""
    if _LINE_BREAKS.search(text):
        raise UnsafeHeader(f"'{text!r}' bevat een regelovergang")
    return "".join(ch for ch in text if ch >= " " and ch != "\x7f").strip()


def checked_address(text: str) -> str:
    """One address as a header can carry it, stripped; UnsafeHeader if it is not one."""
    address = text.strip()
    if _LINE_BREAKS.search(address) or not _ADDRESS.fullmatch(address):
        raise UnsafeHeader(f"'{address}' is geen geldig e-mailadres")
    return address


@dataclass(frozen=True)
class Recipients:
    """Where one municipality's invoice goes: To and CC, each address checked."""

    to: tuple[str, ...]
    cc: tuple[str, ...]


def recipients(contact: Contact) -> Recipients:
    """The checked To and CC addresses of a Contacten row; UnsafeHeader for a bad one."""
    return Recipients(
        tuple(checked_address(a) for a in contact.emails),
        tuple(checked_address(a) for a in contact.cc),
    )
