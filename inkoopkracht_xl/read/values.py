"""Parsing one cell the way coordinators type it: Dutch amounts, dates, codes. Raises ValueError in Dutch."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

# Excel's 1900 date system: serial 1 is 1900-01-01, and Excel counts a non-existent 29 Feb 1900,
# so from serial 61 on the epoch 1899-12-30 is right; earlier serials are no realistic cost dates.
_EXCEL_EPOCH = date(1899, 12, 30)
_MIN_SERIAL, _MAX_SERIAL = 61, 2958465  # 1900-03-01 .. 9999-12-31

# re.ASCII: digits are 0-9 only. Without it \d also matches full-width and Arabic-Indic digits, and
# Decimal() and int() read them too, so "１０６０８６" would pass as a population unseen.
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", re.ASCII)  # 1.234.567 or 3.685,50
_DECIMAL_COMMA = re.compile(r"\d+(?:,\d+)?", re.ASCII)  # 3685,50 or 120000
# 611.11: a dot not followed by exactly 3 digits
_DECIMAL_POINT = re.compile(r"\d+\.(?:\d{1,2}|\d{4,})", re.ASCII)
_CODE_SEPARATORS = re.compile(r"[,;/\s]+")
_CODE = re.compile(r"[A-Z0-9]{1,10}")
_DATE_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", re.ASCII)
_DATE_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_LETTER_AS_DIGIT = re.compile(r"(?<=\d)[OoIl]|[OoIl](?=\d)", re.ASCII)  # 1O6.086, l06086
# Amounts from a million million euros on are typing slips (or an attack on the arithmetic); the
# check comes before any rounding, which would fail on a number of hundreds of digits.
_MONEY_LIMIT = Decimal("1e12")
# Characters that show nothing, or move or break the text around them, in a message.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "jan"),
            ("februari", "feb"),
            ("maart", "mrt"),
            ("april", "apr"),
            ("mei",),
            ("juni", "jun"),
            ("juli", "jul"),
            ("augustus", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "okt"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_DATE_WORDS = re.compile(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})")


def visible(message: str) -> str:
    """`message` with every invisible or text-moving character shown as <U+XXXX>.

    A zero-width space inside a code or a right-to-left override inside a name makes a message
    quote text that looks right but is not (or prints reversed): the coordinator must see it.
    """
    if all(unicodedata.category(char) not in _HIDDEN_CATEGORIES for char in message):
        return message
    return "".join(
        f"<U+{ord(char):04X}>" if unicodedata.category(char) in _HIDDEN_CATEGORIES else char
        for char in message
    )


def invisible_characters(value: str) -> list[str]:
    """The invisible characters in `value`, as U+XXXX, for a message that explains them."""
    return [
        f"U+{ord(char):04X}" for char in value if unicodedata.category(char) in _HIDDEN_CATEGORIES
    ]


def _typing_hint(raw: str) -> str:
    """Why text that looks like a number is not one, as a clause for the message ('' if unknown)."""
    hidden = invisible_characters(raw)
    if hidden:
        return f" (er staat een onzichtbaar teken in: {', '.join(dict.fromkeys(hidden))})"
    if any(unicodedata.category(c) == "Nd" and not "0" <= c <= "9" for c in raw):
        return " (de cijfers zijn geen gewone cijfers 0-9; typ het getal opnieuw)"
    letter = _LETTER_AS_DIGIT.search(raw)
    if letter:
        return f" (de letter '{letter.group()}' staat tussen de cijfers)"
    return ""


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: object) -> str:
    """A cell as text: stripped, inner runs of white space collapsed; 2024.0 becomes '2024'."""
    if isinstance(value, str):  # most cells: first, and without a regular expression
        return " ".join(value.split())
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float) and value.is_integer():
        # 1e300 is an integer too; its 301 digits would only bury the message that quotes it.
        return str(int(value)) if abs(value) < 1e15 else format(value, ".15g")
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.day}-{value.month}-{value.year}"
    return " ".join(str(value).split())


_TRUTH = {True: "WAAR", False: "ONWAAR"}  # as a Dutch Excel shows a logical cell


def number_to_decimal(value: float) -> Decimal:
    """A numeric cell to Decimal, exactly as the workbook stores it.

    xlsx stores numbers as decimal text; the reader hands us the nearest double. repr() gives the
    shortest text that reads back as that double, which is the stored text for every amount with
    up to 15 significant digits, so no binary rounding error enters our money.
    """
    if isinstance(value, bool):
        raise ValueError("is ja/nee, geen getal")
    if isinstance(value, int):
        return Decimal(value)
    if not math.isfinite(value):
        raise ValueError("is geen geldig getal")
    return Decimal(repr(value))


def amount(value: object) -> Decimal:
    """An amount from a number or Dutch text: '€ 120.000', '3.685,50', '611.11', '-250'.

    A dot followed by exactly three digits (in groups) is a thousands separator, any other dot a
    decimal point; a comma is always the decimal separator.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_to_decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{_TRUTH[value]} is een ja/nee-waarde, geen bedrag")
    if isinstance(value, (date, datetime)):
        raise ValueError(f"'{text(value)}' is een datum, geen bedrag")
    if not isinstance(value, str):
        raise ValueError("is geen bedrag")
    raw = value
    cleaned = raw.replace("\u00a0", " ").replace("\u202f", " ").strip()
    cleaned = re.sub(r"(?i)^(€|eur)\s*|\s*(€|eur)$", "", cleaned).strip()
    negative = False
    if cleaned.startswith("(") and cleaned.endswith(")"):
        negative, cleaned = True, cleaned[1:-1].strip()
    if cleaned[:1] in "-−":
        negative, cleaned = True, cleaned[1:].strip()
    cleaned = re.sub(r"(?i)^(€|eur)\s*", "", cleaned).replace(" ", "")
    cleaned = re.sub(r",-+$", "", cleaned)  # "€ 120,-" is how people write whole euros
    if _THOUSANDS.fullmatch(cleaned):
        normal = cleaned.replace(".", "").replace(",", ".")
    elif _DECIMAL_COMMA.fullmatch(cleaned):
        normal = cleaned.replace(",", ".")
    elif _DECIMAL_POINT.fullmatch(cleaned):
        normal = cleaned
    else:
        raise ValueError(f"'{raw}' is geen bedrag{_typing_hint(raw)}")
    try:
        result = Decimal(normal)
    except InvalidOperation as exc:  # pragma: no cover - the patterns above admit only digits
        raise ValueError(f"'{raw}' is geen bedrag") from exc
    return -result if negative else result


def money(value: object) -> Decimal:
    """An amount in euros with at most two decimals (cents), quantized to 0.01."""
    result = amount(value)
    if abs(result) >= _MONEY_LIMIT:
        raise ValueError(
            f"'{text(value)}' is onwaarschijnlijk groot (een bedrag moet onder de "
            "€ 1.000.000.000.000 blijven)"
        )
    if result != result.quantize(Decimal("0.01")):
        raise ValueError(f"'{text(value)}' heeft meer dan twee decimalen")
    return result.quantize(Decimal("0.01"))


def whole_number(value: object) -> int:
    """A whole number such as a population: 106086, 106086.0 or '106.086'."""
    if isinstance(value, bool):
        raise ValueError(f"{_TRUTH[value]} is een ja/nee-waarde, geen getal")
    if isinstance(value, (date, datetime)):
        raise ValueError(f"'{text(value)}' is een datum, geen getal")
    try:
        result = amount(value)
    except ValueError:
        hint = _typing_hint(value) if isinstance(value, str) else ""
        raise ValueError(f"'{text(value)}' is geen heel getal{hint}") from None
    if result != result.to_integral_value():
        raise ValueError(f"'{text(value)}' is geen heel getal")
    return int(result)


def a_date(value: object) -> date:
    """A real date, an Excel serial number, or text: 1-1-2023, 01/01/2023, 2023-01-01, 1 januari 2023."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not _MIN_SERIAL <= value <= _MAX_SERIAL:
            raise ValueError(f"{text(value)} is geen datum")
        return _EXCEL_EPOCH + timedelta(days=int(value))
    if not isinstance(value, str):
        raise ValueError("is geen datum")
    raw = value.strip().lower()
    for pattern, order in ((_DATE_DMY, "dmy"), (_DATE_YMD, "ymd")):
        match = pattern.fullmatch(raw)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            return _real_date(parts["y"], parts["m"], parts["d"], value)
    match = _DATE_WORDS.fullmatch(raw)
    if match and match.group(2) in _MONTHS:
        return _real_date(int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1)), value)
    raise ValueError(f"'{value.strip()}' is geen datum")


def _real_date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"'{raw.strip()}' is geen bestaande datum") from None


def codes(value: object) -> tuple[str, ...]:
    """Municipality codes as typed: 'DE, PN, WE', 'de;pn / we', 'DE PN'. Upper case, no repeats."""
    if is_empty(value):
        return ()
    found: list[str] = []
    for part in _CODE_SEPARATORS.split(text(value).upper()):
        if not part:
            continue
        if not _CODE.fullmatch(part):
            hidden = invisible_characters(part)
            if hidden:
                raise ValueError(
                    f"'{part}' is geen gemeentecode: er staat een onzichtbaar teken in "
                    f"({', '.join(dict.fromkeys(hidden))}); typ de code opnieuw"
                )
            raise ValueError(f"'{part}' is geen gemeentecode")
        if part not in found:
            found.append(part)
    return tuple(found)


def code(value: object) -> str:
    found = codes(value)
    if len(found) != 1:
        raise ValueError(f"'{text(value)}' is niet één gemeentecode")
    return found[0]


def category(value: object) -> int:
    """A category 1-4, as a number or as text that starts with it ('3. Verkenning')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value in (1, 2, 3, 4):
            return int(value)
    match = re.match(r"\s*([1-4])(?!\d)", text(value))
    if match:
        return int(match.group(1))
    raise ValueError(f"'{text(value)}' is geen categorie 1, 2, 3 of 4")


def choice(value: object, options: tuple[str, ...], default: str) -> str:
    """One of a fixed set of words, case-insensitive; empty gives the default."""
    if is_empty(value):
        return default
    word = text(value).lower()
    if word in options:
        return word
    raise ValueError(f"'{text(value)}' is niet een van: {', '.join(options)}")


def yes_no(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = text(value).lower()
    if word in ("ja", "j", "yes", "1", "x"):
        return True
    if word in ("nee", "n", "no", "0", ""):
        return False
    raise ValueError(f"'{text(value)}' is niet 'ja' of 'nee'")
