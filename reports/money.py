"""How amounts are presented: the one rounding rule every report uses.

Costs are stored per call at full precision (DECIMAL(38,15)). A report rounds only what it
prints, to the currency's minor unit (cents for USD) with ROUND_HALF_UP, the commercial rule
finance tools use. Rounding each line separately can leave the printed lines a cent or two
off the rounded total; that difference is the rounding residue, and a report prints it on a
line of its own so that the printed lines always add up to the printed total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to the cent, half away from zero (0.005 -> 0.01)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RoundedColumn:
    """A column of exact amounts as a report prints them."""

    lines: tuple[Decimal, ...]
    """Each line rounded to the cent."""
    residue: Decimal
    """What the rounded lines lack to reach the rounded total (often 0)."""
    total: Decimal
    """The exact total, rounded to the cent: sum(lines) + residue."""
    exact_total: Decimal


def round_column(amounts: Iterable[Decimal | None]) -> RoundedColumn:
    """Round a column of exact amounts for printing (None, an unpriced group, counts as 0)."""
    exact = [a if a is not None else Decimal(0) for a in amounts]
    lines = tuple(round_cents(a) for a in exact)
    exact_total = sum(exact, Decimal(0))
    total = round_cents(exact_total)
    return RoundedColumn(lines, total - sum(lines, Decimal(0)), total, exact_total)


def plain(amount: Decimal) -> str:
    """A decimal as plain digits, never in exponent notation (Decimal('0E-15') -> '0')."""
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def printed_difference(minuend: Decimal, subtrahend: Decimal) -> Decimal:
    """``minuend - subtrahend`` as printed beside the two amounts: the difference of their
    rounded values, so that the three printed numbers add up (121.85 - 60.92 = 60.93, where
    the exact difference, 60.9243, would round to 60.92). Exact outputs keep the exact one."""
    return round_cents(minuend) - round_cents(subtrahend)
