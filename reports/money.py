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

from babel.numbers import get_currency_precision, list_currencies

CENT = Decimal("0.01")


@cache
def minor_digits(currency: str | None) -> int:
    """How many decimals ``currency`` is written with: 2 for USD, 0 for JPY, 3 for KWD (2
    when the currency is not known, as for groups without a price)."""
    return 2 if currency is None else int(get_currency_precision(currency))


def minor_unit(currency: str | None) -> Decimal:
    """The smallest amount ``currency`` is written in: 0.01 for USD, 1 for JPY, 0.001 for
    KWD (a cent when the currency is not known)."""
    return Decimal(1).scaleb(-minor_digits(currency))


WIDEST_MINOR_DIGITS = max(minor_digits(code) for code in list_currencies())
"""The most decimals any ISO 4217 currency is written with (4, for CLF and UYW): a column
typed with this scale holds every currency's rounded amounts exactly."""


def round_money(amount: Decimal, currency: str | None) -> Decimal:
    """``amount`` rounded to ``currency``'s minor unit, half away from zero."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def money_text(amount: Decimal, currency: str | None) -> str:
    """``amount`` rounded and written with its currency's decimals: ``1,234.50``, ``1,235``."""
    return f"{round_money(amount, currency):,}"


def amounts_text(amounts: Iterable[tuple[str | None, Decimal]]) -> str:
    """Amounts in several currencies side by side, each rounded to its own minor unit and
    never added: ``0.60 USD, 31 JPY``."""
    return ", ".join(
        f"{money_text(amount, code)} {code or ''}".rstrip() for code, amount in amounts
    )


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


def round_column(amounts: Iterable[Decimal | None], currency: str | None) -> RoundedColumn:
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


def printed_difference(minuend: Decimal, subtrahend: Decimal, currency: str | None) -> Decimal:
    """``minuend - subtrahend`` (both in ``currency``) as printed beside the two amounts: the
    difference of their rounded values, so that the three printed numbers add up (121.85 -
    60.92 = 60.93, where the exact difference, 60.9243, would round to 60.92). Exact outputs
    keep the exact one."""
    return round_money(minuend, currency) - round_money(subtrahend, currency)
