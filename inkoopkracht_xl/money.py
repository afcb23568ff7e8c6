"""Money as Decimal or integer units, the ONE apportion() every split uses, and Dutch number text."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from math import lcm
from typing import cast

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    """`Decimal("131035.50")` -> 13103550. Refuses floats and amounts with more than 2 decimals."""
    _refuse_float(amount)
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ValueError(f"bedrag {amount} is geen eindig getal")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"bedrag {amount} heeft meer dan 2 decimalen")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    """13103550 -> `Decimal("131035.50")`, always with exactly two decimals."""
    if not isinstance(cents, int) or isinstance(cents, bool):
        raise TypeError(f"centen moeten een geheel getal zijn, niet {cents!r}")
    return (Decimal(cents) / 100).quantize(CENT)


def apportion(
    total: int,
    weights: Mapping[str, int | Decimal | Fraction],
    priority: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Split `total` integer units (cents, euros, basis points) over `weights` by largest remainder.

    The rule (Hamilton's method), computed exactly with integers:
    1. each key's quota is `total × weight / Σ weights`;
    2. each key gets the floor of its quota;
    3. the units still missing go one each to the keys with the largest remainder
       (quota − floor). Ties between equal remainders go to the larger `priority`
       (the population; a key missing from `priority` counts as 0), then to the code
       that sorts first (alphabetical, ascending).

    So the parts add up to `total` exactly, each part is within one unit of its quota
    (it is the floor or the floor + 1), a key with weight 0 gets 0, and the result does not
    depend on the order of `weights`; the returned dict keeps that order for its keys.

    A negative total (a credit) is split as the negation of the positive split:
    `apportion(-t, w) == {k: -v for k, v in apportion(t, w).items()}`, so credits and the
    charges they undo round identically.

    Raises ValueError for a negative weight or when all weights are zero (nothing to split by),
    TypeError for a float total, weight or priority (money is never float).
    """
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError(f"het totaal moet een geheel aantal eenheden zijn, niet {total!r}")
    if total < 0:
        return {code: -part for code, part in apportion(-total, weights, priority).items()}

    numerators = _numerators(weights)
    denominator = sum(numerators.values())
    if denominator == 0:
        raise ValueError("alle gewichten zijn nul; er is niets om naar te verdelen")

    parts: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for code, numerator in numerators.items():
        parts[code], remainders[code] = divmod(total * numerator, denominator)
    missing = total - sum(parts.values())

    rank = _checked_priority(priority)
    # Sort by remainder (largest first), then priority (largest first), then code (ascending).
    order = sorted(numerators, key=lambda code: (-remainders[code], -rank.get(code, 0), code))
    for code in order[:missing]:
        parts[code] += 1
    return parts


def _numerators(weights: Mapping[str, int | Decimal | Fraction]) -> dict[str, int]:
    """The weights as non-negative integers in the same proportion (and the same key order)."""
    numerators: dict[str, int]
    if all(type(weight) is int for weight in weights.values()):
        # The common case (populations, equal shares): already exact. (cast: checked just above.)
        numerators = cast(dict[str, int], dict(weights))
    else:
        exact = {code: _fraction(code, weight) for code, weight in weights.items()}
        # Scale every weight to an integer so quotas and remainders are exact integer arithmetic.
        scale = lcm(*(w.denominator for w in exact.values())) if exact else 1
        numerators = {code: int(w * scale) for code, w in exact.items()}
    for code, numerator in numerators.items():
        if numerator < 0:
            raise ValueError(f"gewicht van {code} is negatief ({weights[code]})")
    return numerators


def _checked_priority(priority: Mapping[str, int] | None) -> Mapping[str, int]:
    """`priority`, or an empty mapping; refuses a float priority (TypeError)."""
    rank = priority or {}
    for code, value in rank.items():
        if isinstance(value, float):
            raise TypeError(f"prioriteit van {code} is een float ({value!r})")
    return rank


def _fraction(code: str, weight: int | Decimal | Fraction) -> Fraction:
    if isinstance(weight, bool) or not isinstance(weight, int | Decimal | Fraction):
        raise TypeError(f"gewicht van {code} moet int, Decimal of Fraction zijn, niet {weight!r}")
    if isinstance(weight, Decimal) and not weight.is_finite():
        raise ValueError(f"gewicht van {code} is geen eindig getal ({weight})")
    return Fraction(weight)


def format_euro(amount: Decimal | int, decimals: int = 2) -> str:
    """`Decimal("34266")` -> "€ 34.266,00"; `Decimal("-1234.5")` -> "€ -1.234,50".

    Display only: the amount is rounded half up to `decimals` places (0 gives whole euros,
    "€ 131.035", as the jaarplan writes them).
    """
    return f"€ {_dutch(amount, decimals)}"


def format_percentage(percentage: Decimal | int) -> str:
    """`Decimal("26.15")` -> "26,15 %" (the value is already in percent, two decimals shown)."""
    return f"{_dutch(percentage, 2)} %"


def format_number(number: int) -> str:
    """405643 -> "405.643" (Dutch thousands separator)."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"format_number verwacht een geheel getal, niet {number!r}")
    return f"{number:,}".replace(",", ".")  # exact for whole numbers: no rounding to do


def _dutch(value: Decimal | int, decimals: int) -> str:
    _refuse_float(value)
    if decimals < 0:
        raise ValueError("aantal decimalen kan niet negatief zijn")
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0,00"
    text = f"{rounded:,.{decimals}f}"  # "-1,234.50"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _refuse_float(value: object) -> None:
    if isinstance(value, float):
        raise TypeError(f"geldbedragen zijn nooit float: {value!r}; gebruik Decimal")
