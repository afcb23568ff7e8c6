"""File names made from user text (municipality names, periods) that are valid on every system."""

from __future__ import annotations

import re
import unicodedata

FALLBACK = "bestand"
# Characters Windows forbids in a name; / and \ are also the separators of a path.
FORBIDDEN = '<>:"/\\|?*'
# Device names Windows reserves in any folder, with or without an extension and in any case;
# Windows 10+ also reserves COM and LPT with the superscript digits ¹ ² ³.
RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"{device}{digit}" for device in ("COM", "LPT") for digit in "123456789¹²³"}
)
# Linux and macOS allow 255 bytes per name; stay below it whatever the characters weigh.
MAX_BYTES = 240
_SHORTEST = len(FALLBACK) + 1

_DASH_RUN = re.compile(r"[ -]*-[ -]*")  # a run of spaces and dashes holding at least one dash
_SPACE_RUN = re.compile(r" {2,}")
_DOT_RUN = re.compile(r"\.{2,}")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")
_TRIM = " .-"


def safe_filename(text: str, max_length: int = 120) -> str:
    """`text` as a file name valid on Windows, macOS and Linux, still readable.

    Forbidden and control characters become "-", runs of spaces and dashes collapse ("a: b" ->
    "a - b"), ".." never survives, leading and trailing dots, spaces and dashes go, a Windows
    device name gets "_" ("CON.xlsx" -> "CON_.xlsx"), and a long name is cut at a word where
    possible, keeping its extension. Letters such as é, ë and ï stay (as one code point, NFC,
    so macOS and Windows see the same name). Never empty: "bestand" when nothing is left.
    """
    if max_length < _SHORTEST:
        raise ValueError(f"max_length must be at least {_SHORTEST}, not {max_length}")
    name = "".join(_clean_character(c) for c in unicodedata.normalize("NFC", text))
    name = _tidy(name)
    name = _shorten(name, max_length)
    name = _unreserve(name, max_length)
    return name or FALLBACK


def invoice_filename(period: str, name: str) -> str:
    """ "2024-H1", "Pijnacker-Nootdorp" -> "Factuur 2024-H1 Pijnacker-Nootdorp.xlsx"."""
    return safe_filename(f"Factuur {period} {name}.xlsx")


def _clean_character(character: str) -> str:
    category = unicodedata.category(character)
    if character in FORBIDDEN or category in ("Cc", "Cs"):
        return "-"  # control characters (CR, LF, tab, DEL) and lone surrogates
    if category == "Cf":
        return ""  # invisible: zero-width spaces, right-to-left overrides that disguise a name
    if category in ("Zs", "Zl", "Zp"):
        return " "  # non-breaking and other spaces, line and paragraph separators
    return character


def _tidy(name: str) -> str:
    name = _SPACE_RUN.sub(" ", name)
    # "Factuur: 2024" -> "Factuur - 2024", "a//b" -> "a-b": a spaced dash where spaces were.
    name = _DASH_RUN.sub(lambda m: " - " if " " in m.group() else "-", name)
    name = _DOT_RUN.sub(".", name)
    return name.strip(_TRIM)


def _split_extension(name: str) -> tuple[str, str]:
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()], match.group()


def _fits(name: str, max_length: int) -> bool:
    return len(name) <= max_length and len(name.encode("utf-8")) <= MAX_BYTES


def _shorten(name: str, max_length: int) -> str:
    if _fits(name, max_length):
        return name
    stem, extension = _split_extension(name)
    if len(extension) * 2 > max_length:
        stem, extension = name, ""
    room = max_length - len(extension)
    cut = stem[:room]
    while len((cut + extension).encode("utf-8")) > MAX_BYTES:
        cut = cut[:-1]
    # Cut at the last space when that keeps most of the name: a whole word reads better.
    space = cut.rfind(" ")
    if space >= len(cut) * 2 // 3:
        cut = cut[:space]
    return _tidy(cut.rstrip(_TRIM) + extension)


def _unreserve(name: str, max_length: int) -> str:
    stem, dot, rest = name.partition(".")
    if stem.rstrip(" ").upper() not in RESERVED:
        return name
    tail = dot + rest
    stem = stem.rstrip(" ")[: max(1, max_length - len(tail) - 1)] + "_"
    return (stem + tail)[:max_length].rstrip(_TRIM)
