"""The one forecast rule: what a period will have cost by its end.

``ratecard budgets check``, the dashboard's Budgets page and its Overview all forecast with
:func:`forecast`, over spend read by :func:`spend_history`, so the same calls judged at the
same instant give the same forecast everywhere. The rule (:data:`RULE` says it in the words
the pages show):

- **spend to date** is the exact spend of the period's priced calls before the instant;
- **each day still to come** is expected to cost the average spend on its weekday over the
  28 full days before today (days without calls count as 0; days before the selection's
  first call are left out, so a new team is not averaged with the empty weeks before it; a
  weekday with no such day takes the average of all of them);
- **the rest of today** is today's expectation times the share of today still to come;
- with **no full day of history** (the first call is today), today's run rate so far (its
  spend divided by the share of today gone) stands for every day.

Days are the calendar days of a time zone (a budget's own, UTC for the Overview). Decimal
arithmetic throughout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb

from reports.period import midnight
from warehouse.sql import fetch_value, sql_file

HISTORY_DAYS = 28

RULE = (
    "Spend so far, plus each day still to come at the average spend of its weekday over "
    "the last 28 full days (days without calls count as 0, days before the first call are "
    "left out), and the rest of today at that average times the share of today still to "
    "come. With no full day of history yet, today's run rate so far."
)


@dataclass(frozen=True)
class Forecast:
    to_date: Decimal
    """Spend in the period before the instant judged at."""
    rest: Decimal
    """What the rest of the period is expected to cost."""
    basis: str
    """What the expectation rests on, in words: the history used, or why there is none."""

    @property
    def at_period_end(self) -> Decimal:
        return self.to_date + self.rest


def forecast(
    daily: Mapping[date, Decimal],
    first: date,
    last: date,
    as_of: datetime,
    zone: ZoneInfo,
    history_from: date | None,
) -> Forecast:
    """Spend to date and forecast for the days ``first..last`` (inclusive, local to
    ``zone``) judged at ``as_of``.

    ``daily`` holds the spend per local day of every call before ``as_of``, at least over
    the period's days and the 28 days before ``as_of``'s day; ``history_from`` is the first
    local day with calls (None: none yet).
    """
    today = as_of.astimezone(zone).date()
    to_date = sum((v for d, v in daily.items() if first <= d <= min(last, today)), Decimal(0))
    if today > last:
        return Forecast(to_date, Decimal(0), "the period is over")
    today_start, tomorrow_start = midnight(today, zone), midnight(today + timedelta(days=1), zone)
    elapsed = Decimal((as_of - today_start) / (tomorrow_start - today_start)).quantize(
        Decimal("0.000001")
    )
    window = [today - timedelta(days=n) for n in range(1, HISTORY_DAYS + 1)]
    window = [d for d in window if history_from is not None and d >= history_from]
    if window:
        by_weekday: dict[int, list[Decimal]] = {}
        for day in window:
            by_weekday.setdefault(day.weekday(), []).append(daily.get(day, Decimal(0)))
        overall = sum((daily.get(d, Decimal(0)) for d in window), Decimal(0)) / len(window)

        def expected(day: date) -> Decimal:
            samples = by_weekday.get(day.weekday())
            return sum(samples, Decimal(0)) / len(samples) if samples else overall

        basis = f"weekday averages over {len(window)} full day{'s' if len(window) > 1 else ''}"
    else:
        rate = daily.get(today, Decimal(0)) / elapsed if elapsed > 0 else Decimal(0)

        def expected(day: date) -> Decimal:
            return rate

        basis = "today's run rate (no full day of history yet)"
    rest = expected(today) * (Decimal(1) - elapsed) if first <= today else Decimal(0)
    day = max(first, today + timedelta(days=1))
    while day <= last:
        rest += expected(day)
        day += timedelta(days=1)
    return Forecast(to_date, rest, basis)


@dataclass(frozen=True)
class Selection:
    """Which calls a forecast is about; each list empty (or None) means all."""

    teams: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    """API key fingerprints (``key_…``)."""
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    """Wire model ids or canonical models."""
    currency: str = "USD"
    """Only the spend in this currency: a forecast is of one currency, never of two summed
    (the calls priced in another are counted apart, ``other_currency``)."""

    def params(self) -> dict[str, object]:
        lists = {
            "teams": self.teams,
            "projects": self.projects,
            "keys": self.keys,
            "providers": self.providers,
            "models": self.models,
        }
        return {name: list(v) or None for name, v in lists.items()} | {"currency": self.currency}


@dataclass(frozen=True)
class SpendHistory:
    """The selection's calls before an instant, from a start, per local day and hour."""

    daily: dict[date, Decimal]
    """Spend per local day; every day with a call is present, at 0 if none was priced."""
    unpriced: dict[date, int]
    """Calls without a price per local day."""
    hourly: dict[tuple[date, datetime], Decimal] = field(default_factory=dict)
    """Spend per (local day, UTC hour it started in): a UTC hour can straddle local
    midnight in a zone a half hour off UTC."""
    first_day: date | None = None
    """The first local day the selection has calls (before the start too)."""
    other_currency: dict[date, int] = field(default_factory=dict)
    """Priced calls per local day in another currency than the selection's: never added."""


def whole_hour_offsets(zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether ``zone`` is a whole number of hours from UTC throughout [start, end] (checked
    at every day's start and at the end: offsets change at most a few times a year)."""
    moment = start
    while moment < end:
        offset = moment.astimezone(zone).utcoffset()
        if offset is None or offset.total_seconds() % 3600:
            return False
        moment += timedelta(hours=12)
    offset = end.astimezone(zone).utcoffset()
    return offset is not None and not offset.total_seconds() % 3600


def history_start(first: date, as_of: datetime, zone: ZoneInfo) -> datetime:
    """Where the spend a forecast needs starts: the period's first day, or the day before
    the 28 days of history (the anomaly check looks one day further back), if earlier."""
    today = as_of.astimezone(zone).date()
    return midnight(min(first, today - timedelta(days=HISTORY_DAYS + 1)), zone)


def spend_history(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    zone: ZoneInfo,
    start: datetime,
    as_of: datetime,
    last_call: datetime | None = None,
) -> SpendHistory:
    """The selection's spend from ``start`` to ``as_of``, per local day of ``zone``.

    ``last_call``, the warehouse's latest call time when the caller knows it: when it is
    before ``as_of``, the hour containing ``as_of`` holds no later call and is read from the
    hourly sums too, instead of from the calls.
    """
    # whole UTC hours from the hourly sums where each lies within one local day
    hours_end = start
    if whole_hour_offsets(zone, start, as_of):
        hours_end = as_of.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        if last_call is not None and last_call < as_of:
            hours_end += timedelta(hours=1)
    daily: dict[date, Decimal] = {}
    unpriced: dict[date, int] = {}
    hourly: dict[tuple[date, datetime], Decimal] = {}
    scope = {**selection.params(), "as_of": as_of}
    other_currency: dict[date, int] = {}
    for day, hour, cost, unpriced_calls, other_calls in con.execute(
        sql_file("reports", "spend_history"),
        {**scope, "tz": zone.key, "history_start": start, "hours_end": hours_end},
    ).fetchall():
        daily[day] = daily.get(day, Decimal(0)) + cost
        unpriced[day] = unpriced.get(day, 0) + int(unpriced_calls)
        other_currency[day] = other_currency.get(day, 0) + int(other_calls)
        hourly[(day, hour)] = cost
    del scope["currency"]  # a call in another currency is still a call: history starts there
    first_hour = fetch_value(con, sql_file("reports", "first_call_hour"), scope)
    # a first call before the start: every day read is after it; else the first day read
    first_day = None
    if first_hour is not None:
        first_day = (
            first_hour.astimezone(zone).date() if first_hour < start else min(daily, default=None)
        )
    return SpendHistory(daily, unpriced, hourly, first_day, other_currency)
