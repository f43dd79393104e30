"""Spend for a period grouped by any of the rollup's dimensions (``ratecard summary``).

Reads only the daily rollup, so it stays fast at any warehouse size. Amounts are exact; the
command line rounds them for display by the rule in :mod:`reports.money`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

from pricing.engine import stale_calls
from reports.dimensions import DIMENSIONS as ATTRIBUTION
from reports.dimensions import parse_by as parse_dimensions
from reports.period import Period

DIMENSIONS: dict[str, str] = {**ATTRIBUTION, "day": "day", "currency": "currency"}
"""What ``--by`` accepts here, and the rollup column each name reads: the report's
dimensions (:mod:`reports.dimensions`), the day and the currency."""


@dataclass(frozen=True)
class SummaryRow:
    group: tuple[str | None, ...]
    calls: int
    failed_calls: int
    unpriced_calls: int
    input_tokens: int
    cache_read_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost: Decimal | None
    """Exact cost of the priced calls in the group; None if none of them is priced."""
    currency: str | None


@dataclass(frozen=True)
class UnpricedModel:
    provider: str
    model: str
    reason: str
    calls: int


@dataclass(frozen=True)
class Summary:
    by: tuple[str, ...]
    period: Period
    rows: tuple[SummaryRow, ...]
    calls: int
    failed_calls: int
    unpriced_calls: int
    input_tokens: int
    cache_read_tokens: int
    output_tokens: int
    total_cost: Decimal | None
    """The exact sum of every priced call's cost in the period; None when they are in more
    than one currency (amounts in two currencies are never added: see ``totals``)."""
    currency: str | None
    """The one currency of the period's costs; None when there are several (or none)."""
    totals: tuple[tuple[str, Decimal], ...]
    """The exact cost of the period's priced calls in each currency, by currency code."""
    unpriced: tuple[UnpricedModel, ...]
    """Wire ids that found no price, with the reason and their calls in the period."""
    stale_calls: int
    """Calls billed with an older price load than the latest (``bill --rebill`` fixes)."""


def parse_by(text: str) -> tuple[str, ...]:
    """The names of the summary's ``--by``: any of :data:`DIMENSIONS`."""
    return parse_dimensions(text, DIMENSIONS)


_PERIOD = "($start IS NULL OR day >= $start) AND ($end IS NULL OR day < $end)"


def summarize(con: duckdb.DuckDBPyConnection, by: tuple[str, ...], period: Period) -> Summary:
    """Spend, calls and tokens per group for the period, from the daily rollup."""
    params = {"start": period.start, "end": period.end_exclusive}
    currencies = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT currency FROM daily_rollup WHERE {_PERIOD} AND currency IS NOT NULL",  # noqa: S608
            params,
        ).fetchall()
    ]
    if len(currencies) > 1 and "currency" not in by:
        by = (*by, "currency")  # never add up amounts in different currencies
    columns = ", ".join(DIMENSIONS[name] for name in by)  # names from the allowlist only
    rows = con.execute(
        f"""
        SELECT {columns},
               sum(calls), sum(failed_calls), sum(unpriced_calls), sum(input_tokens),
               sum(cache_read_tokens), sum(output_tokens), sum(reasoning_tokens),
               sum(total_cost), any_value(currency)
        FROM daily_rollup
        WHERE {_PERIOD}
        GROUP BY {columns}
        ORDER BY sum(total_cost) DESC NULLS LAST, {columns}
        """,  # noqa: S608
        params,
    ).fetchall()
    n = len(by)
    summary_rows = tuple(
        SummaryRow(
            group=tuple(None if v is None else str(v) for v in row[:n]),
            calls=int(row[n]),
            failed_calls=int(row[n + 1]),
            unpriced_calls=int(row[n + 2]),
            input_tokens=int(row[n + 3]),
            cache_read_tokens=int(row[n + 4]),
            output_tokens=int(row[n + 5]),
            reasoning_tokens=int(row[n + 6]),
            cost=row[n + 7],
            currency=row[n + 8],
        )
        for row in rows
    )
    totals: dict[str, Decimal] = {}
    for summary_row in summary_rows:
        if summary_row.cost is not None and summary_row.currency is not None:
            totals[summary_row.currency] = totals.get(summary_row.currency, Decimal(0)) + (
                summary_row.cost
            )
    unpriced = tuple(
        UnpricedModel(provider, model, reason, int(calls))
        for provider, model, reason, calls in con.execute(
            f"SELECT provider, model, unpriced_reason, sum(unpriced_calls) FROM daily_rollup "  # noqa: S608
            f"WHERE {_PERIOD} AND unpriced_calls > 0 GROUP BY ALL ORDER BY 4 DESC, 1, 2",
            params,
        ).fetchall()
    )
    return Summary(
        by=by,
        period=period,
        rows=summary_rows,
        calls=sum(r.calls for r in summary_rows),
        failed_calls=sum(r.failed_calls for r in summary_rows),
        unpriced_calls=sum(r.unpriced_calls for r in summary_rows),
        input_tokens=sum(r.input_tokens for r in summary_rows),
        cache_read_tokens=sum(r.cache_read_tokens for r in summary_rows),
        output_tokens=sum(r.output_tokens for r in summary_rows),
        total_cost=None if len(totals) > 1 else sum(totals.values(), Decimal(0)),
        currency=currencies[0] if len(currencies) == 1 else None,
        totals=tuple(sorted(totals.items())),
        unpriced=unpriced,
        stale_calls=stale_calls(con),
    )
