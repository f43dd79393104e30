"""Forecast spend to the end of a period from the run rate of the last days.

The rule, kept deliberately simple until budgets need more: the average daily spend over the
``window`` days up to and including ``as_of`` (days without calls count as zero), times the
days left in the period, added to the spend to date. Decimal arithmetic throughout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class Forecast:
    to_date: Decimal
    """Spend from the period's start through ``as_of``."""
    daily_rate: Decimal
    """Average daily spend over the window ending ``as_of``."""
    days_left: int
    """Days after ``as_of`` up to the period's end."""
    at_period_end: Decimal
    """to_date + daily_rate x days_left."""


def forecast(
    daily: Mapping[date, Decimal], start: date, end: date, as_of: date, window: int = 7
) -> Forecast:
    """Spend to date and forecast to ``end`` for the period ``start..end`` (inclusive)."""
    as_of = min(max(as_of, start - timedelta(days=1)), end)
    to_date = sum((v for d, v in daily.items() if start <= d <= as_of), Decimal(0))
    recent = sum(
        (v for d, v in daily.items() if as_of - timedelta(days=window) < d <= as_of), Decimal(0)
    )
    rate = recent / window
    days_left = (end - as_of).days
    return Forecast(to_date, rate, days_left, to_date + rate * days_left)
