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
# A leading group of 0 is no thousands group: '0.125' is not 125 but a decimal (refused as such).
_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?", re.ASCII)  # 1.234.567 or 3.685,50
_DECIMAL_COMMA = re.compile(r"\d+(?:,\d+)?", re.ASCII)  # 3685,50 or 120000
# 611.11: a dot not followed by exactly 3 digits; 0.125: a dot after a lone 0
_DECIMAL_POINT = re.compile(r"0\.\d+|\d+\.(?:\d{1,2}|\d{4,})", re.ASCII)
# 1,234.50 or 120,000.00: English notation, refused with the Dutch spelling as the fix.
_ENGLISH = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+\.\d{1,2}", re.ASCII)
# The currency before or after the amount: '€ 12.500', '12.500 EUR', '12500 euro'.
_CURRENCY = r"(?:€|euro|eur)"
# '15-2-2024 14:30', '2024-02-15 00:00:00' (a date pasted from a system export): the time goes.
_TIME = re.compile(r"(?:\s+|(?<=\d)t)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*uur)?$", re.ASCII)
_CODE_SEPARATORS = re.compile(r"[,;/&\s]+")
_CODE = re.compile(r"[A-Z0-9]{1,10}")
# The Dutch word between two codes: 'DE, PN en WE'. Only typed in lower case or capitalised: in
# capitals 'EN' is read as a code (and reported if unknown), never dropped unseen.
_AND_BETWEEN = re.compile(r"(?<=[^\s,;/&])\s+(?:en|En)\s+(?=[^\s,;/&])")
# A footnote mark after a code or name, as the jaarplan prints 'RW*'.
_FOOTNOTE = re.compile(r"(?:\*|[\u00b9\u00b2\u00b3\u2070\u2074-\u2079])+$")
# 15-2-2024, 15/2/24, 15.2.24: a two-digit year is 2000 + yy.
_DATE_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})", re.ASCII)
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
            ("februari", "feb", "febr"),
            ("maart", "mrt", "mar"),  # 'mar', 'may', 'oct': as an English-language export writes
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "jun"),
            ("juli", "jul"),
            ("augustus", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "okt", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
# 1 april 2024, 1 apr. 2024, 1-apr-2024, 01-APR-24 (lowered before matching)
_DATE_WORDS = re.compile(
    r"(\d{1,2})(?:\s*[-/.]\s*|\s+)([a-z]+)\.?(?:\s*[-/.]\s*|\s+)(\d{4}|\d{2})", re.ASCII
)
_CENT = Decimal("0.01")
# Text amounts with exactly three digits after the decimal comma: '12,500', '1.234,500'.
_THREE_DECIMALS = re.compile(r"[\d.]+,\d{3}", re.ASCII)


class ReadWithWarning(Exception):
    """A cell that was read, with a caveat the coordinator must see.

    Not a ValueError: the value is usable. The caller takes `value` and reports `message` with
    `fix` as a WAARSCHUWING at the cell.
    """

    def __init__(self, value: object, message: str, fix: str):
        super().__init__(value, message, fix)
        self.value = value
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message


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
    if isinstance(value, float) and math.isfinite(value):
        return format(number_to_decimal(value), "f")  # as Excel shows it: 300.3, not 300.29999…
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.day}-{value.month}-{value.year}"
    return " ".join(str(value).split())


_TRUTH = {True: "WAAR", False: "ONWAAR"}  # as a Dutch Excel shows a logical cell


def number_to_decimal(value: float) -> Decimal:
    """A numeric cell to Decimal, as the spreadsheet program shows it: 15 significant digits.

    xlsx stores numbers as decimal text; the reader hands us the nearest double. A typed amount
    has at most 15 significant digits, and every such decimal survives the trip through a double
    and back to 15 digits exactly. A cached formula result carries binary noise instead
    (=0,1*3*400000 is stored as 120000.00000000001, =100,1*3 as 300.29999999999995); Excel
    shows 15 significant digits, 120000 and 300.3, and so do we. The result has no positive
    exponent (1.5e16 becomes 15000000000000000) and no negative zero.
    """
    if isinstance(value, bool):
        raise ValueError("is ja/nee, geen getal")
    if isinstance(value, int):
        return Decimal(value)
    if not math.isfinite(value):
        raise ValueError("is geen geldig getal")
    shown = Decimal(format(value, ".15g"))
    if not shown:
        return Decimal(0)
    exponent = shown.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return Decimal(int(shown))
    return shown


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
    return _text_amount(value)[0]


def _text_amount(raw: str) -> tuple[Decimal, str]:
    """Dutch text to an amount, and the digits as typed without sign or euro sign ('12,500')."""
    cleaned = raw.replace("\u00a0", " ").replace("\u202f", " ").strip()
    cleaned = re.sub(rf"(?i)^{_CURRENCY}\s*|\s*{_CURRENCY}$", "", cleaned).strip()
    negative = False
    if cleaned.startswith("(") and cleaned.endswith(")"):
        negative, cleaned = True, cleaned[1:-1].strip()
    if cleaned.startswith("-/-"):  # the Dutch bookkeeper's minus: '-/- 250,00'
        negative, cleaned = True, cleaned[3:].strip()
    elif cleaned[:1] in "-−":
        negative, cleaned = True, cleaned[1:].strip()
    cleaned = re.sub(rf"(?i)^{_CURRENCY}\s*", "", cleaned).replace(" ", "")
    # "€ 120,-" is how people write whole euros; Word and Outlook turn the dash into – or —.
    cleaned = re.sub(r",[-–—]+$", "", cleaned)
    if _THOUSANDS.fullmatch(cleaned):
        normal = cleaned.replace(".", "").replace(",", ".")
    elif _DECIMAL_COMMA.fullmatch(cleaned):
        normal = cleaned.replace(",", ".")
    elif _DECIMAL_POINT.fullmatch(cleaned):
        normal = cleaned
    elif _ENGLISH.fullmatch(cleaned):
        dutch = cleaned.translate(str.maketrans(",.", ".,"))
        raise ValueError(
            f"'{raw}' is geen bedrag in Nederlandse schrijfwijze (een komma scheidt de centen); "
            f"bedoelt u {dutch}? Typ dan {dutch} of {dutch.replace('.', '')}"
        )
    else:
        raise ValueError(f"'{raw}' is geen bedrag{_typing_hint(raw)}")
    try:
        result = Decimal(normal)
    except InvalidOperation as exc:  # pragma: no cover - the patterns above admit only digits
        raise ValueError(f"'{raw}' is geen bedrag") from exc
    return (-result if negative else result), ("-" if negative else "") + cleaned


def _as_thousands(typed: str) -> str | None:
    """'12,500' read with the comma as a thousands separator, Dutch style: '12.500' (else None)."""
    digits = typed.lstrip("-")
    if not _THREE_DECIMALS.fullmatch(digits):
        return None
    return typed.replace(",", ".")


def _euro(value: Decimal) -> str:
    """€ 12.500,00 (Dutch: thousands dot, decimal comma)."""
    plain = f"{abs(value):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"€ {'-' if value < 0 else ''}{plain}"


def money(value: object) -> Decimal:
    """An amount in euros with at most two decimals (cents), quantized to 0.01.

    Text with three zero-padded decimals ('12,500') is read as cents (12,50), but raised as
    ReadWithWarning: in English notation it is twelve thousand five hundred.
    """
    if isinstance(value, str):
        result, typed = _text_amount(value)
    else:
        result, typed = amount(value), ""
    if abs(result) >= _MONEY_LIMIT:
        raise ValueError(
            f"'{text(value)}' is onwaarschijnlijk groot (een bedrag moet onder de "
            "€ 1.000.000.000.000 blijven)"
        )
    cents = result.quantize(_CENT)
    thousands = _as_thousands(typed)
    if result != cents:
        hint = ""
        if not isinstance(value, str):
            # A number with fractions of a cent is mostly a formula's result ('=12500/3').
            hint = (
                "; rond af op hele centen, in een formule met AFRONDEN, bijvoorbeeld "
                "=AFRONDEN(12500/3;2)"
            )
        if thousands is not None:
            hint = (
                f"; bedoelt u {_euro(Decimal(thousands.replace('.', '')))}? Typ dan {thousands} "
                "of " + thousands.replace(".", "") + " (de komma staat voor de centen)"
            )
        raise ValueError(f"'{text(value)}' heeft meer dan twee decimalen{hint}")
    if thousands is not None:
        meant = Decimal(thousands.replace(".", ""))
        raise ReadWithWarning(
            cents,
            f"'{text(value)}' heeft drie cijfers na de komma; gelezen als {_euro(cents)}",
            f"Bedoelt u {_euro(meant)}? Typ dan {thousands} of {thousands.replace('.', '')} (de "
            f"komma staat voor de centen). Bedoelt u {_euro(cents)}, typ dan "
            f"{_euro(cents)[2:]}.",
        )
    return cents


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
    thousands = _as_thousands(_text_amount(value)[1]) if isinstance(value, str) else None
    if thousands is not None:  # '106,000' is 106 in Dutch notation, but surely meant 106.000
        raise ValueError(
            f"'{text(value)}' heeft drie cijfers na de komma; bedoelt u {thousands}? Typ dan "
            f"{thousands} of {thousands.replace('.', '')} (een punt scheidt de duizendtallen)"
        )
    if result != result.to_integral_value():
        raise ValueError(f"'{text(value)}' is geen heel getal")
    return int(result)


def a_date(value: object) -> date:
    """A real date, an Excel serial number, or text.

    Text: 1-1-2023, 01/01/2023, 15.2.24 (a two-digit year is 20yy), 2023-01-01, 1 januari 2023,
    1 apr. 2024, 1-apr-24, 01-APR-2024 (Dutch month names and abbreviations: mrt, mei, okt, sept.).
    """
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
    raw = _TIME.sub("", value.strip().lower())
    for pattern, order in ((_DATE_DMY, "dmy"), (_DATE_YMD, "ymd")):
        match = pattern.fullmatch(raw)
        if match:
            parts = dict(zip(order, match.groups(), strict=True))
            return _real_date(_full_year(parts["y"]), int(parts["m"]), int(parts["d"]), value)
    match = _DATE_WORDS.fullmatch(raw)
    if match and match.group(2) in _MONTHS:
        day, month = int(match.group(1)), _MONTHS[match.group(2)]
        return _real_date(_full_year(match.group(3)), month, day, value)
    raise ValueError(f"'{value.strip()}' is geen datum")


def _full_year(digits: str) -> int:
    """'2024' -> 2024, '24' -> 2024 (two digits: this century)."""
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _real_date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"'{raw.strip()}' is geen bestaande datum") from None


def without_footnote(part: str) -> str:
    """'RW*' -> 'RW', 'RW**' -> 'RW', 'RW¹' -> 'RW': a footnote mark after a code or name."""
    return _FOOTNOTE.sub("", part)


def _code_parts(value: object) -> list[str]:
    """The parts of a list of codes as typed, without separators, footnote marks or ' en '."""
    typed = _AND_BETWEEN.sub(",", text(value))
    return [
        stripped for part in _CODE_SEPARATORS.split(typed) if (stripped := without_footnote(part))
    ]


def codes(value: object) -> tuple[str, ...]:
    """Municipality codes as typed: 'DE, PN, WE', 'de;pn / we', 'DE PN', 'DE, PN en WE', 'RW*'.

    Upper case, no repeats; separators , ; / & white space and the word 'en'.
    """
    if is_empty(value):
        return ()
    found: list[str] = []
    for part in (part.upper() for part in _code_parts(value)):
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
    """A category 1-4, as a number or as text that starts with it ('3. Verkenning', 'Categorie 3')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value in (1, 2, 3, 4):
            return int(value)
    match = re.match(r"\s*(?:categorie\s*)?([1-4])(?!\d)", text(value), re.IGNORECASE)
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
