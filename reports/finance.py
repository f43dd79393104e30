"""The monthly cost report finance closes the month with (``ratecard report``).

One line per group (any of team, project, provider, model, canonical_model, variant, key)
with calls, failed calls (free, counted), unpriced calls, every token count and every cost
component, for a period of days in a time zone (UTC by default), and the same for the period
before it for the month-over-month view. Amounts are exact here; :func:`presented` rounds
them by the one rule of :mod:`reports.money` (half-up to the currency's minor unit, per line
and per column),
and the rounding residue of each column is a line of its own, so the printed lines always
add up to the printed total.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

# the report's --by (reports.dimensions), as the CLI reads it
from reports.dimensions import DIMENSIONS as DIMENSIONS
from reports.dimensions import parse_by as parse_by
from reports.money import round_column
from reports.period import Period, midnight
from warehouse.errors import RatecardError
from warehouse.sql import sql_file

TOKENS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",  # a part of cache_write_tokens, written for 1 hour
    "output_tokens",
    "reasoning_tokens",
)
COSTS = (
    "input_cost",
    "cache_read_cost",
    "cache_write_cost",
    "cache_write_1h_cost",  # a part of cache_write_cost: not added to the total again
    "output_cost",
    "request_cost",
)
AMOUNTS = (*COSTS, "total_cost")


@dataclass(frozen=True)
class Line:
    """One group's calls, tokens and exact costs (None: no priced call in the group)."""

    group: tuple[str | None, ...]
    calls: int
    failed_calls: int
    unpriced_calls: int
    tokens: dict[str, int]
    costs: dict[str, Decimal | None]

    @property
    def total(self) -> Decimal:
        return self.costs["total_cost"] or Decimal(0)


@dataclass(frozen=True)
class Report:
    by: tuple[str, ...]
    period: Period
    timezone: str
    currency: str
    lines: tuple[Line, ...]
    previous_period: Period
    previous: dict[tuple[str | None, ...], Line] = field(default_factory=dict)
    """The previous period's lines by group, for month-over-month changes."""

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))

    @property
    def previous_total(self) -> Decimal:
        return sum((line.total for line in self.previous.values()), Decimal(0))

    def count(self, name: str) -> int:
        return sum(getattr(line, name) for line in self.lines)

    def tokens(self, name: str) -> int:
        return sum(line.tokens[name] for line in self.lines)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RatecardError(
            f"--timezone: unknown time zone {name!r}; use an IANA name such as UTC or Europe/Paris"
        ) from None


def previous_of(period: Period) -> Period:
    """The calendar month before a whole calendar month; else as many days just before."""
    assert period.start is not None and period.end is not None
    start, end = period.start, period.end
    whole_month = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]
    if whole_month and (start.year, start.month) == (end.year, end.month):
        last = start - timedelta(days=1)
        return Period(last.replace(day=1), last)
    days = (end - start).days + 1
    return Period(start - timedelta(days=days), start - timedelta(days=1))


def _lines(
    con: duckdb.DuckDBPyConnection, by: tuple[str, ...], period: Period, tz: ZoneInfo
) -> tuple[list[Line], set[str]]:
    assert period.start is not None and period.end is not None
    groups = ", ".join(f"c.{DIMENSIONS[name]} AS {name}" for name in by)
    order = ", ".join(str(i + 1) for i in range(len(by)))
    query = sql_file("reports", "finance_lines").replace("__GROUPS__", groups)
    query = query.replace("__ORDER__", order)
    rows = con.execute(
        query,
        {
            "start": midnight(period.start, tz),
            "end": midnight(period.end + timedelta(days=1), tz),
        },
    ).fetchall()
    width = len(by)
    lines: list[Line] = []
    currencies: set[str] = set()
    for row in rows:
        group, values = tuple(row[:width]), row[width:]
        calls, failed, unpriced = (int(v) for v in values[:3])
        amounts = 3 + len(TOKENS)
        tokens = dict(zip(TOKENS, (int(v) for v in values[3:amounts]), strict=True))
        costs = dict(zip(AMOUNTS, values[amounts : amounts + len(AMOUNTS)], strict=True))
        currencies.update(c for c in (values[amounts + len(AMOUNTS)] or "").split(",") if c)
        lines.append(Line(group, calls, failed, unpriced, tokens, costs))
    return lines, currencies


def build_report(
    con: duckdb.DuckDBPyConnection,
    by: tuple[str, ...],
    period: Period,
    timezone: str = "UTC",
) -> Report:
    """The report for ``period`` (whole days in ``timezone``) grouped ``by``, with the
    period before it for comparison."""
    if period.start is None or period.end is None:
        raise RatecardError("a report needs a period: --period YYYY-MM, or --from and --to")
    tz = zone(timezone)
    lines, currencies = _lines(con, by, period, tz)
    before = previous_of(period)
    previous, earlier = _lines(con, by, before, tz)
    if len(currencies) > 1:
        raise RatecardError(
            f"the period holds costs in {', '.join(sorted(currencies))}: report one "
            "currency at a time (filter the price sheets' providers)"
        )
    return Report(
        by=by,
        period=period,
        timezone=timezone,
        currency=(currencies or earlier or {"USD"}).pop(),
        lines=tuple(lines),
        previous_period=before,
        previous={line.group: line for line in previous},
    )


PERCENT = Decimal("0.01")


def share(part: Decimal, whole: Decimal) -> Decimal:
    """``part`` as a percentage of ``whole``, half-up to 0.01 %."""
    if whole == 0:
        return Decimal(0)
    return (part * 100 / whole).quantize(PERCENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Table:
    """A report as printed: header, the group lines, the residue line if any, the total."""

    header: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    residue: tuple[object, ...] | None
    total: tuple[object, ...]


HEADER_TAIL = (
    "calls",
    "failed_calls",
    "unpriced_calls",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "input_cost",
    "cached_input_cost",
    "cache_write_cost",
    "cache_write_1h_cost",
    "output_cost",
    "request_cost",
    "total_cost",
    "share_pct",
)


def presented(report: Report) -> Table:
    """Round the report for printing: each amount half-up to the cent per line; per column,
    the residue that makes the printed lines add up to the printed (rounded exact) total."""
    columns = {
        name: round_column((line.costs[name] for line in report.lines), report.currency)
        for name in AMOUNTS
    }
    grand = report.total
    rows = []
    for index, line in enumerate(report.lines):
        priced = line.costs["total_cost"] is not None
        amounts = [columns[name].lines[index] if priced else None for name in AMOUNTS]
        rows.append(
            (
                *line.group,
                line.calls,
                line.failed_calls,
                line.unpriced_calls,
                *(line.tokens[name] for name in TOKENS),
                *amounts,
                share(line.total, grand) if priced else None,
            )
        )
    blank_groups = [""] * (len(report.by) - 1)
    residue = None
    if any(columns[name].residue for name in AMOUNTS):
        residue = (
            "rounding residue",
            *blank_groups,
            *([None] * (3 + len(TOKENS))),
            *(columns[name].residue for name in AMOUNTS),
            None,
        )
    total = (
        "total",
        *blank_groups,
        report.count("calls"),
        report.count("failed_calls"),
        report.count("unpriced_calls"),
        *(report.tokens(name) for name in TOKENS),
        *(columns[name].total for name in AMOUNTS),
        Decimal("100.00") if grand else Decimal("0.00"),
    )
    return Table((*report.by, *HEADER_TAIL), tuple(rows), residue, total)


@dataclass(frozen=True)
class Mover:
    group: tuple[str | None, ...]
    previous: Decimal
    current: Decimal

    @property
    def change(self) -> Decimal:
        return self.current - self.previous


def movers(report: Report, limit: int = 5) -> list[Mover]:
    """The groups whose spend changed most from the previous period, either way."""
    groups = {line.group for line in report.lines} | set(report.previous)
    now = {line.group: line.total for line in report.lines}
    found = [
        Mover(
            g,
            report.previous[g].total if g in report.previous else Decimal(0),
            now.get(g, Decimal(0)),
        )
        for g in groups
    ]
    found = [m for m in found if m.change != 0]
    found.sort(key=lambda m: (-abs(m.change), tuple(str(v) for v in m.group)))
    return found[:limit]


def daily_spend(
    con: duckdb.DuckDBPyConnection, period: Period, timezone: str = "UTC"
) -> list[tuple[str, Decimal]]:
    """Exact spend per day of ``period`` (days in ``timezone``), days without calls at 0."""
    assert period.start is not None and period.end is not None
    tz = zone(timezone)
    rows = con.execute(
        "SELECT strftime(timezone($tz, c.ts), '%Y-%m-%d') AS day, sum(c.total_cost) "
        "FROM calls_costed AS c WHERE c.billed AND c.ts >= $start AND c.ts < $end GROUP BY 1",
        {
            "tz": timezone,
            "start": midnight(period.start, tz),
            "end": midnight(period.end + timedelta(days=1), tz),
        },
    ).fetchall()
    spend = {day: total or Decimal(0) for day, total in rows}
    days = (period.end - period.start).days + 1
    return [
        (str(day), spend.get(str(day), Decimal(0)))
        for day in (period.start + timedelta(days=n) for n in range(days))
    ]
