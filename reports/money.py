"""How amounts are presented: the one rounding rule every report uses.

Costs are stored per call at full precision (DECIMAL(38,15)). A report rounds only what it
prints, to the currency's minor unit with ROUND_HALF_UP, the commercial rule finance tools
use: cents for USD and EUR, whole yen for JPY, fils (three places) for KWD. The minor units
are CLDR's, as babel ships them (the number of digits a currency is written with; where
ISO 4217 lists a minor unit that is no longer used, as for HUF, CLDR has 0). Rounding each
line separately can leave the printed lines a unit or two off the rounded total; that
difference is the rounding residue, and a report prints it on a line of its own so that the
printed lines always add up to the printed total. Amounts in two currencies are never added.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import get_currency_precision

CENT = Decimal("0.01")


@cache
def minor_unit(currency: str | None) -> Decimal:
    """The smallest amount ``currency`` is written in: 0.01 for USD, 1 for JPY, 0.001 for
    KWD (a cent when the currency is not known, as for groups without a price)."""
    digits = 2 if currency is None else get_currency_precision(currency)
    return Decimal(1).scaleb(-digits)


def round_money(amount: Decimal, currency: str | None) -> Decimal:
    """``amount`` rounded to ``currency``'s minor unit, half away from zero."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def round_cents(amount: Decimal) -> Decimal:
    """``amount`` rounded to the cent, half away from zero (0.005 -> 0.01): USD's rule."""
    return round_money(amount, "USD")


def money_text(amount: Decimal, currency: str | None) -> str:
    """``amount`` rounded and written with its currency's decimals: ``1,234.50``, ``1,235``."""
    return f"{round_money(amount, currency):,}"


@dataclass(frozen=True)
class RoundedColumn:
    """A column of exact amounts in one currency as a report prints them."""

    lines: tuple[Decimal, ...]
    """Each line rounded to the currency's minor unit."""
    residue: Decimal
    """What the rounded lines lack to reach the rounded total (often 0)."""
    total: Decimal
    """The exact total, rounded: sum(lines) + residue."""
    exact_total: Decimal


def round_column(amounts: Iterable[Decimal | None], currency: str | None = "USD") -> RoundedColumn:
    """Round a column of exact amounts in ``currency`` for printing (None, an unpriced group,
    counts as 0)."""
    exact = [a if a is not None else Decimal(0) for a in amounts]
    lines = tuple(round_money(a, currency) for a in exact)
    exact_total = sum(exact, Decimal(0))
    total = round_money(exact_total, currency)
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
