"""Reporting periods: a month, or an inclusive range of UTC days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from warehouse.errors import RatecardError


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` starts in ``zone``, in UTC (so that differences between such
    instants count real hours across a daylight-saving change)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """The UTC days ``start`` .. ``end`` inclusive; either side may be open (None)."""

    start: date | None = None
    end: date | None = None

    @property
    def end_exclusive(self) -> date | None:
        return None if self.end is None else self.end + timedelta(days=1)

    def label(self) -> str:
        if self.start is None and self.end is None:
            return "all time"
        return f"{self.start or '…'} to {self.end or '…'}"


def parse_period(
    month: str | None = None, start: str | None = None, end: str | None = None
) -> Period:
    """A period from ``--period YYYY-MM`` or ``--from/--to YYYY-MM-DD`` (inclusive)."""
    if month is not None:
        if start is not None or end is not None:
            raise RatecardError("give either --period or --from/--to, not both")
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise RatecardError(f"--period: expected YYYY-MM, got {month!r}")
        year, mon = int(month[:4]), int(month[5:])
        if not 1 <= mon <= 12:
            raise RatecardError(f"--period: no month {mon} in {month!r}")
        first = date(year, mon, 1)
        following = date(year + mon // 12, mon % 12 + 1, 1)
        return Period(first, following - timedelta(days=1))
    period = Period(_day("--from", start), _day("--to", end))
    if period.start and period.end and period.end < period.start:
        raise RatecardError(f"--to {period.end} is before --from {period.start}")
    return period


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RatecardError(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None
