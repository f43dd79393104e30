"""The monthly cost report finance closes the month with (``ratecard report``).

One line per group (any of team, project, provider, model, canonical_model, variant, key)
with calls, failed calls (free, counted), unpriced calls, every token count and every cost
component, for a period of days in a time zone (UTC by default), and the same for the period
before it for the month-over-month view. Amounts are exact here; :func:`presented` rounds
them by the one rule of :mod:`reports.money` (half-up to the currency's minor unit, per line
and per column), and the rounding residue of each column (the shares' too) is a line of
its own, so the printed lines always add up to the printed total.

Amounts in two currencies are never added. Each line is one group in one currency (a group
with calls billed in USD and in JPY has two), and the report is a block per currency: its
lines, its residue, its total, each line's share of that total, its own comparison with the
previous period and its own movers. With several currencies an ``all calls`` line counts
every call and adds no amount.
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
    """One group's calls, tokens and exact costs in one currency (None: no priced call)."""

    group: tuple[str | None, ...]
    currency: str | None
    """The currency of the line's costs. None for a group without a priced call, and for
    the unpriced calls of a group whose priced calls are in several currencies: a call
    without a price has no currency (finance_lines.sql)."""
    calls: int
    failed_calls: int
    unpriced_calls: int
    tokens: dict[str, int]
    costs: dict[str, Decimal | None]

    @property
    def total(self) -> Decimal:
        return self.costs["total_cost"] or Decimal(0)

    @property
    def key(self) -> tuple[tuple[str | None, ...], str | None]:
        return self.group, self.currency


@dataclass(frozen=True)
class Report:
    by: tuple[str, ...]
    period: Period
    timezone: str
    currencies: tuple[str, ...]
    """Every currency with costs in the period or the one before, by code (USD when there
    are none): each is totalled on its own, and two are never added."""
    lines: tuple[Line, ...]
    previous_period: Period
    previous: dict[tuple[tuple[str | None, ...], str | None], Line] = field(default_factory=dict)
    """The previous period's lines by (group, currency), for month-over-month changes."""

    def total(self, currency: str) -> Decimal:
        """The exact spend in ``currency``."""
        return sum((line.total for line in self.lines if line.currency == currency), Decimal(0))

    def previous_total(self, currency: str) -> Decimal:
        return sum(
            (line.total for line in self.previous.values() if line.currency == currency),
            Decimal(0),
        )

    def totals(self) -> tuple[tuple[str, Decimal], ...]:
        """The exact spend in each currency, by code."""
        return tuple((code, self.total(code)) for code in self.currencies)

    def blocks(self) -> tuple[tuple[str | None, tuple[Line, ...]], ...]:
        """The lines by currency, each currency's block totalled on its own. With one
        currency, the lines without one (only unpriced calls) are in its block, as their
        calls are in its total; with several they form a last block of their own."""
        if len(self.currencies) == 1:
            return ((self.currencies[0], self.lines),)
        blocks: list[tuple[str | None, tuple[Line, ...]]] = [
            (code, tuple(line for line in self.lines if line.currency == code))
            for code in self.currencies
        ]
        unpriced = tuple(line for line in self.lines if line.currency is None)
        return (*blocks, (None, unpriced)) if unpriced else tuple(blocks)

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
) -> list[Line]:
    assert period.start is not None and period.end is not None
    names = {
        "__GROUPS__": ", ".join(f'c.{DIMENSIONS[name]} AS "{name}"' for name in by),
        "__PARTITION__": ", ".join(f"c.{DIMENSIONS[name]}" for name in by),
        "__NAMES__": ", ".join(f'"{name}"' for name in by),
        "__ORDER__": ", ".join(str(i + 1) for i in range(len(by))),
    }
    query = sql_file("reports", "finance_lines")
    for mark, text in names.items():  # names from the fixed list DIMENSIONS only
        query = query.replace(mark, text)
    rows = con.execute(
        query,
        {
            "start": midnight(period.start, tz),
            "end": midnight(period.end + timedelta(days=1), tz),
        },
    ).fetchall()
    width = len(by)
    lines: list[Line] = []
    for row in rows:
        group, currency, values = tuple(row[:width]), row[width], row[width + 1 :]
        calls, failed, unpriced = (int(v) for v in values[:3])
        amounts = 3 + len(TOKENS)
        tokens = dict(zip(TOKENS, (int(v) for v in values[3:amounts]), strict=True))
        costs = dict(zip(AMOUNTS, values[amounts : amounts + len(AMOUNTS)], strict=True))
        lines.append(Line(group, currency, calls, failed, unpriced, tokens, costs))
    return lines


def build_report(
    con: duckdb.DuckDBPyConnection,
    by: tuple[str, ...],
    period: Period,
    timezone: str = "UTC",
) -> Report:
    """The report for ``period`` (whole days in ``timezone``) grouped ``by`` and by currency,
    with the period before it for comparison."""
    if period.start is None or period.end is None:
        raise RatecardError("a report needs a period: --period YYYY-MM, or --from and --to")
    tz = zone(timezone)
    lines = _lines(con, by, period, tz)
    before = previous_of(period)
    previous = _lines(con, by, before, tz)
    currencies = {line.currency for line in (*lines, *previous) if line.currency is not None}
    return Report(
        by=by,
        period=period,
        timezone=timezone,
        currencies=tuple(sorted(currencies)) or ("USD",),
        lines=tuple(lines),
        previous_period=before,
        previous={line.key: line for line in previous},
    )


PERCENT = Decimal("0.01")


def share(part: Decimal, whole: Decimal) -> Decimal:
    """``part`` as a percentage of ``whole``, half-up to 0.01 %."""
    if whole == 0:
        return Decimal(0)
    return (part * 100 / whole).quantize(PERCENT, rounding=ROUND_HALF_UP)


Row = tuple[object, ...]


@dataclass(frozen=True)
class Block:
    """One currency's lines as printed, with its residue line if any and its total."""

    currency: str | None
    """None: the lines of only unpriced calls, beside two or more currencies (no total)."""
    rows: tuple[Row, ...]
    residue: Row | None
    total: Row | None


@dataclass(frozen=True)
class Table:
    """A report as printed: the header, then per currency the group lines, the residue line
    if any and the total; with several currencies, an ``all calls`` line last that counts
    every call and adds no amounts."""

    header: tuple[str, ...]
    blocks: tuple[Block, ...]
    all_calls: Row | None = None

    def lines(self) -> list[tuple[str, Row]]:
        """Every printed line with its kind: ``group``, ``rounding residue``, ``total`` or
        ``all calls``, in print order."""
        found: list[tuple[str, Row]] = []
        for block in self.blocks:
            found.extend(("group", row) for row in block.rows)
            if block.residue is not None:
                found.append(("rounding residue", block.residue))
            if block.total is not None:
                found.append(("total", block.total))
        if self.all_calls is not None:
            found.append(("all calls", self.all_calls))
        return found

    def block(self, currency: str | None) -> Block:
        return next(b for b in self.blocks if b.currency == currency)


HEADER_TAIL = (
    "currency",
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
COUNTS = 3 + len(TOKENS)
"""The count columns after the currency: calls, failed and unpriced calls, the tokens."""


def presented(report: Report) -> Table:
    """Round the report for printing, each currency on its own: every amount half-up to its
    currency's minor unit per line; per column, the residue that makes the printed lines
    add up to the printed (rounded exact) total; each line's share of its currency's total."""
    blanks = [""] * (len(report.by) - 1)
    blocks = []
    for currency, lines in report.blocks():
        blocks.append(_block(report, currency, lines, blanks))
    all_calls = None
    if len(blocks) > 1:
        all_calls = (
            "all calls",
            *blanks,
            None,
            *_counts(report.lines),
            *[None] * (len(AMOUNTS) + 1),
        )
    return Table((*report.by, *HEADER_TAIL), tuple(blocks), all_calls)


def _counts(lines: tuple[Line, ...]) -> tuple[int, ...]:
    return (
        sum(line.calls for line in lines),
        sum(line.failed_calls for line in lines),
        sum(line.unpriced_calls for line in lines),
        *(sum(line.tokens[name] for line in lines) for name in TOKENS),
    )


def _block(
    report: Report, currency: str | None, lines: tuple[Line, ...], blanks: list[str]
) -> Block:
    columns = {
        name: round_column((line.costs[name] for line in lines), currency) for name in AMOUNTS
    }
    grand = columns["total_cost"].exact_total
    rows = []
    for index, line in enumerate(lines):
        priced = line.costs["total_cost"] is not None
        rows.append(
            (
                *line.group,
                line.currency,
                line.calls,
                line.failed_calls,
                line.unpriced_calls,
                *(line.tokens[name] for name in TOKENS),
                *(columns[name].lines[index] if priced else None for name in AMOUNTS),
                share(line.total, grand) if priced else None,
            )
        )
    if currency is None:  # unpriced calls beside several currencies: nothing to total
        return Block(None, tuple(rows), None, None)
    # the shares are rounded too: their residue makes them add up to the total's 100.00
    whole = Decimal("100.00") if grand else Decimal("0.00")
    share_residue = whole - sum((r[-1] for r in rows if isinstance(r[-1], Decimal)), Decimal(0))
    residue = None
    if share_residue or any(columns[name].residue for name in AMOUNTS):
        residue = (
            "rounding residue",
            *blanks,
            currency,
            *([None] * COUNTS),
            *(columns[name].residue for name in AMOUNTS),
            share_residue,
        )
    total = (
        "total",
        *blanks,
        currency,
        *_counts(lines),
        *(columns[name].total for name in AMOUNTS),
        whole,
    )
    return Block(currency, tuple(rows), residue, total)


@dataclass(frozen=True)
class Mover:
    group: tuple[str | None, ...]
    currency: str
    previous: Decimal
    current: Decimal

    @property
    def change(self) -> Decimal:
        return self.current - self.previous


def movers(report: Report, limit: int = 5) -> list[Mover]:
    """In each currency, the ``limit`` groups whose spend changed most from the previous
    period, either way (a change in yen is never ranked against one in dollars)."""
    now = {line.key: line.total for line in report.lines if line.currency is not None}
    before = {key: line.total for key, line in report.previous.items() if key[1] is not None}
    found: list[Mover] = []
    for currency in report.currencies:
        keys = {key for key in (*now, *before) if key[1] == currency}
        mine = [
            Mover(
                group,
                currency,
                before.get((group, code), Decimal(0)),
                now.get((group, code), Decimal(0)),
            )
            for group, code in keys
        ]
        mine = [m for m in mine if m.change != 0]
        mine.sort(key=lambda m: (-abs(m.change), tuple(str(v) for v in m.group)))
        found.extend(mine[:limit])
    return found


def daily_spend(
    con: duckdb.DuckDBPyConnection, period: Period, timezone: str = "UTC"
) -> dict[str, list[tuple[str, Decimal]]]:
    """Per currency with spend in ``period``, its exact spend per day (days in
    ``timezone``), days without calls at 0."""
    assert period.start is not None and period.end is not None
    tz = zone(timezone)
    rows = con.execute(
        "SELECT c.currency, strftime(timezone($tz, c.ts), '%Y-%m-%d') AS day, "
        "sum(c.total_cost) FROM calls_costed AS c "
        "WHERE c.billed AND c.priced AND c.ts >= $start AND c.ts < $end GROUP BY 1, 2",
        {
            "tz": timezone,
            "start": midnight(period.start, tz),
            "end": midnight(period.end + timedelta(days=1), tz),
        },
    ).fetchall()
    spend: dict[str, dict[str, Decimal]] = {}
    for currency, day, total in rows:
        spend.setdefault(str(currency), {})[str(day)] = total or Decimal(0)
    days = [
        str(period.start + timedelta(days=n)) for n in range((period.end - period.start).days + 1)
    ]
    return {
        currency: [(day, spend[currency].get(day, Decimal(0))) for day in days]
        for currency in sorted(spend)
    }
