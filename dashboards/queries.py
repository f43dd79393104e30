"""Every query the dashboard runs, in one place, without Streamlit.

Each function opens the warehouse read-only, runs a bounded query (the daily rollup for
spend, per-call SQL only where repricing needs it) and returns a pandas DataFrame whose
amounts are exact ``Decimal`` values. Results are cached per (warehouse file, its
modification time, arguments), so a new ingest is seen on the next page load; treat the
returned frames as read-only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from ingest.usage import NO_USAGE
from pricing.reprice import CallScope, Repriced, reprice
from reports import compare
from reports.budgets import BudgetStatus, Instant, check_budget, judged_at, load_budgets
from reports.compare import Comparison
from reports.forecast import Forecast, Selection, forecast, history_start, spend_history
from warehouse import RatecardError, connect

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Filters:
    """The selection every page shares: UTC days start..end inclusive, and attribution
    lists where empty means all."""

    start: date | None = None
    end: date | None = None
    providers: tuple[str, ...] = field(default=())
    teams: tuple[str, ...] = field(default=())
    projects: tuple[str, ...] = field(default=())

    def params(self) -> dict[str, object]:
        """Parameters for the rollup filter (:data:`ROLLUP_FILTER`): the scope's, with the
        time range as the rollup's UTC days."""
        return {
            **self.scope().params(),
            "start": self.start,
            "end": None if self.end is None else self.end + timedelta(days=1),
        }

    def scope(self) -> CallScope:
        """The same selection over calls, for per-call queries."""
        return CallScope(
            start=None if self.start is None else datetime.combine(self.start, time(), UTC),
            end=None
            if self.end is None
            else datetime.combine(self.end + timedelta(days=1), time(), UTC),
            providers=self.providers,
            teams=self.teams,
            projects=self.projects,
        )


ROLLUP_FILTER = """
    ($start IS NULL OR day >= $start) AND ($end IS NULL OR day < $end)
    AND in_selection(
        providers := $providers, teams := $teams, projects := $projects,
        provider := provider, team := team, project := project)
"""


# The connection of the page being rendered, opened on its first query and shared by the
# rest, since a page runs several queries. It is closed when the page is done, so that
# ingests are never locked out between renders (ADR 0035).
_session: ContextVar[dict[str, duckdb.DuckDBPyConnection] | None] = ContextVar(
    "_session", default=None
)
_on_busy: ContextVar[Callable[[str], object] | None] = ContextVar("_on_busy", default=None)


@contextmanager
def session(on_busy: Callable[[str], object] | None = None) -> Iterator[None]:
    """Share one read-only connection per warehouse among the queries run inside.

    While a writer (an ingest) holds the warehouse, opening it retries for up to
    RATECARD_LOCK_TIMEOUT seconds, telling ``on_busy`` whom it is waiting for."""
    token = _session.set({})
    busy = _on_busy.set(on_busy)
    try:
        yield
    finally:
        for con in (_session.get() or {}).values():
            con.close()
        _on_busy.reset(busy)
        _session.reset(token)


def _open(db: str) -> duckdb.DuckDBPyConnection:
    return connect(db, read_only=True, on_wait=_on_busy.get())


@contextmanager
def _read(db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    shared = _session.get()
    if shared is not None:
        if db not in shared:
            shared[db] = _open(db)
        yield shared[db]
        return
    con = _open(db)
    try:
        yield con
    finally:
        con.close()


def _version(db: str) -> tuple[str, int]:
    path = Path(db).resolve()
    return str(path), path.stat().st_mtime_ns if path.exists() else 0


def cached(function: Callable[P, R]) -> Callable[P, R]:
    """Cache a query by its arguments and the warehouse file's modification time."""
    inner = functools.lru_cache(maxsize=256)(
        lambda version, *args, **kwargs: function(*args, **kwargs)
    )

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        db = args[0]
        assert isinstance(db, str)
        return inner(_version(db), *args, **kwargs)  # type: ignore[arg-type]

    wrapper.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
    return wrapper


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    relation = con.execute(sql, params)
    columns = [d[0] for d in relation.description]
    return pd.DataFrame(relation.fetchall(), columns=columns)


@dataclass(frozen=True)
class Options:
    """What the filters can offer: the data's day range and the attribution values."""

    first_day: date | None
    last_day: date | None
    providers: tuple[str, ...]
    teams: tuple[str, ...]
    projects: tuple[str, ...]
    canonical_models: tuple[str, ...]

    def bounds(self) -> tuple[date, date]:
        """The days the period picker offers: from the 1st of the first call's month to the
        end of the month after the latest call's (a forecast may look that far ahead)."""
        assert self.first_day is not None and self.last_day is not None
        return self.first_day.replace(day=1), _month_end(_month_end(self.last_day) + ONE_DAY)

    def default_period(self) -> tuple[date, date]:
        """The calendar month of the latest call, whatever day the data starts or ends on:
        the Overview then forecasts to the month's end, as a monthly budget does."""
        assert self.last_day is not None
        return self.last_day.replace(day=1), _month_end(self.last_day)

    def period(self, stored: object, previous_default: object) -> tuple[date, ...]:
        """The period to show: the one in the session (a person's pick, or one or two days
        while picking) when it still fits the data, else the default. A session value that
        was only the default of an earlier load follows the data to its new default."""
        low, high = self.bounds()
        days = tuple(stored) if isinstance(stored, tuple | list) else ()
        fits = (
            1 <= len(days) <= 2
            and all(isinstance(d, date) and low <= d <= high for d in days)
            and days == tuple(sorted(days))
        )
        if not fits or days == previous_default:
            return self.default_period()
        return days


ONE_DAY = timedelta(days=1)


def _month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - ONE_DAY


@cached
def options(db: str) -> Options:
    with _read(db) as con:
        first, last = con.execute("SELECT min(day), max(day) FROM daily_rollup").fetchall()[0]

        def values(column: str) -> tuple[str, ...]:
            rows = con.execute(
                f"SELECT DISTINCT {column} FROM daily_rollup "  # noqa: S608 - fixed names
                f"WHERE {column} IS NOT NULL ORDER BY 1"
            ).fetchall()
            return tuple(str(r[0]) for r in rows)

        return Options(
            first,
            last,
            values("provider"),
            values("team"),
            values("project"),
            values("canonical_model"),
        )


@cached
def totals(db: str, filters: Filters) -> dict[str, Any]:
    """Calls and tokens for the selection, in every currency (counts add up across them);
    its money is per currency (:func:`spend_by_currency`)."""
    with _read(db) as con:
        frame = _frame(
            con,
            f"""
            SELECT coalesce(sum(calls), 0) AS calls,
                   coalesce(sum(failed_calls), 0) AS failed_calls,
                   coalesce(sum(unpriced_calls), 0) AS unpriced_calls,
                   coalesce(sum(unpriced_calls)
                            FILTER (WHERE starts_with(unpriced_reason, $no_usage)), 0)
                       AS no_usage_calls,
                   coalesce(sum(input_tokens), 0) AS input_tokens,
                   coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
                   coalesce(sum(output_tokens), 0) AS output_tokens,
                   coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens,
                   min(day) AS first_day, max(day) AS last_day
            FROM daily_rollup WHERE {ROLLUP_FILTER}
            """,  # noqa: S608
            filters.params() | {"no_usage": NO_USAGE},
        )
    return dict(frame.iloc[0])


@dataclass(frozen=True)
class CurrencySpend:
    """The selection's exact spend and cache savings in one currency."""

    currency: str
    cost: Decimal
    cache_savings: Decimal


@cached
def spend_by_currency(db: str, filters: Filters) -> tuple[CurrencySpend, ...]:
    """The selection's spend in each currency it was billed in, by code; USD at 0 when no
    call is priced. Two currencies are never added: every page totals each on its own."""
    with _read(db) as con:
        rows = con.execute(
            f"""
            SELECT currency, coalesce(sum(total_cost), 0), coalesce(sum(cache_savings), 0)
            FROM daily_rollup WHERE {ROLLUP_FILTER} AND currency IS NOT NULL
            GROUP BY currency ORDER BY currency
            """,  # noqa: S608
            filters.params(),
        ).fetchall()
    found = tuple(CurrencySpend(str(code), cost, saved) for code, cost, saved in rows)
    return found or (CurrencySpend("USD", Decimal(0), Decimal(0)),)


def currencies(db: str, filters: Filters) -> tuple[str, ...]:
    """The currencies of the selection's spend, by code (USD when nothing is priced)."""
    return tuple(each.currency for each in spend_by_currency(db, filters))


@cached
def daily_spend(db: str, filters: Filters, by: str) -> pd.DataFrame:
    """Spend and calls per UTC day, provider (``by='provider'``) or variant, and currency
    (NULL for unpriced calls)."""
    column = {"provider": "provider", "variant": "coalesce(variant, '(unpriced)')"}[by]
    with _read(db) as con:
        return _frame(
            con,
            f"""
            SELECT day, {column} AS series, currency, sum(calls) AS calls,
                   coalesce(sum(total_cost), 0) AS cost
            FROM daily_rollup WHERE {ROLLUP_FILTER}
            GROUP BY ALL ORDER BY day, series
            """,  # noqa: S608
            filters.params(),
        )


@cached
def spend_by(db: str, filters: Filters, dimensions: tuple[str, ...]) -> pd.DataFrame:
    """Spend, calls, failures and tokens grouped by rollup columns (from an allowlist) and
    by the currency of the spend: a group billed in two currencies has a row for each, and
    its unpriced calls a row without a currency (a group with priced calls in one currency
    counts them on its row)."""
    allowed = {"provider", "model", "canonical_model", "variant", "team", "project", "api_key_id"}
    if not dimensions or not set(dimensions) <= allowed:
        raise ValueError(f"unknown dimensions {dimensions}")
    columns = ", ".join(dimensions)
    with _read(db) as con:
        return _frame(
            con,
            f"""
            WITH scoped AS (
                -- a group's unpriced calls join its line when its priced calls are in one
                -- currency, as in the finance report (reports/sql/finance_lines.sql)
                SELECT *, coalesce(
                    currency,
                    CASE WHEN min(currency) OVER g = max(currency) OVER g
                         THEN min(currency) OVER g END
                ) AS line_currency
                FROM daily_rollup WHERE {ROLLUP_FILTER}
                WINDOW g AS (PARTITION BY {columns})
            )
            SELECT {columns}, line_currency AS currency, sum(calls) AS calls,
                   sum(failed_calls) AS failed_calls,
                   sum(unpriced_calls) AS unpriced_calls, sum(input_tokens) AS input_tokens,
                   sum(cache_read_tokens) AS cache_read_tokens,
                   sum(output_tokens) AS output_tokens, coalesce(sum(total_cost), 0) AS cost
            FROM scoped
            GROUP BY ALL ORDER BY cost DESC, {columns}, currency
            """,  # noqa: S608
            filters.params(),
        )


@cached
def repricing(
    db: str,
    filters: Filters,
    canonical: str,
    variant: str = "standard",
    target_variant: str | None = None,
    cache_share: Decimal | None = None,
) -> list[Repriced]:
    """The selection's calls of one canonical model repriced at every provider selling it:
    one row per (provider the calls went to, provider they are priced at)."""
    with _read(db) as con:
        return reprice(
            con,
            canonical,
            variant,
            filters.scope(),
            target_variant=target_variant,
            cache_share=cache_share,
        )


@cached
def comparisons(
    db: str, filters: Filters, canonical: str, cache_share: Decimal | None = None
) -> list[Comparison]:
    """The selection's calls of one canonical model compared at every provider, variant by
    variant with the what-if at standard: what ``ratecard compare`` prints."""
    with _read(db) as con:
        return compare.comparisons(con, canonical, filters.scope(), cache_share=cache_share)


@cached
def calls_without_usage(db: str, filters: Filters, canonical: str) -> int:
    """The selection's successful calls of one canonical model without token usage."""
    with _read(db) as con:
        return compare.calls_without_usage(con, canonical, filters.scope())


@cached
def quarantine_reasons(db: str) -> pd.DataFrame:
    """Quarantined records by reason, with one example each (source, line, raw)."""
    with _read(db) as con:
        return _frame(
            con,
            """
            SELECT
                -- a reason names its values; group on the words before them
                trim(regexp_replace(reason, '(: .*|\\(.*)$', '')) AS reason,
                count(*) AS records,
                arg_min(reason, source_line) AS example_reason,
                arg_min(source, source_line) AS example_source,
                min(source_line) AS example_line,
                arg_min(left(raw, 300), source_line) AS example_raw
            FROM quarantine
            GROUP BY 1 ORDER BY records DESC, reason
            """,
            {},
        )


@cached
def ingests(db: str) -> pd.DataFrame:
    """The latest ingest of each source, with its conservation counts."""
    with _read(db) as con:
        return _frame(
            con,
            """
            SELECT source, kind, format, finished_at AS last_ingest, records_read, loaded,
                   duplicates, quarantined,
                   (SELECT count(*) FROM batches AS all_runs
                    WHERE all_runs.source = b.source) AS runs
            FROM batches AS b
            QUALIFY row_number() OVER (PARTITION BY source ORDER BY batch_id DESC) = 1
            ORDER BY last_ingest DESC
            """,
            {},
        )


@cached
def unpriced(db: str, filters: Filters) -> pd.DataFrame:
    """Calls without a price in the selection, by provider, model and reason; ``no_usage``
    marks the successful calls whose log carries no token usage."""
    with _read(db) as con:
        return _frame(
            con,
            f"""
            SELECT provider, model, unpriced_reason AS reason,
                   sum(unpriced_calls) AS calls,
                   starts_with(unpriced_reason, $no_usage) AS no_usage
            FROM daily_rollup WHERE {ROLLUP_FILTER} AND unpriced_calls > 0
            GROUP BY ALL ORDER BY calls DESC, provider, model
            """,  # noqa: S608
            filters.params() | {"no_usage": NO_USAGE},
        )


@cached
def latest_call(db: str) -> datetime | None:
    """The time of the warehouse's latest call (None when it has none)."""
    with _read(db) as con:
        latest: datetime | None = con.execute("SELECT max(ts) FROM calls").fetchall()[0][0]
        return latest


def instant(db: str) -> Instant:
    """The instant the pages judge budgets and forecasts at: the one ``ratecard budgets
    check`` uses by default (:func:`reports.budgets.judged_at`)."""
    return judged_at(latest_call(db), datetime.now(UTC))


@cached
def period_forecast(db: str, filters: Filters, at: datetime, currency: str) -> Forecast:
    """The selection's forecast of its spend in ``currency`` to the end of its period (UTC
    days), judged at ``at``, by the rule budgets use (:mod:`reports.forecast`): one forecast
    per currency, never one of two currencies added."""
    assert filters.start is not None and filters.end is not None
    selection = Selection(
        teams=filters.teams,
        projects=filters.projects,
        providers=filters.providers,
        currency=currency,
    )
    with _read(db) as con:
        history = spend_history(
            con,
            selection,
            UTC_ZONE,
            history_start(filters.start, at, UTC_ZONE),
            at,
            latest_call(db),
        )
    return forecast(history.daily, filters.start, filters.end, at, UTC_ZONE, history.first_day)


UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class BudgetView:
    """The budgets file's budgets, checked at one instant."""

    instant: Instant | None
    statuses: tuple[BudgetStatus, ...]
    error: str | None = None


def budget_statuses(db: str, budgets_file: str) -> BudgetView:
    """Every budget of ``budgets_file`` checked at :func:`instant`, as ``ratecard budgets
    check`` does without ``--as-of``. Cached until the warehouse or the budgets file
    changes."""
    at = instant(db) if latest_call(db) is not None else None
    return _budget_statuses(db, budgets_file, _version(budgets_file), at)


@cached
def _budget_statuses(
    db: str, budgets_file: str, file_version: tuple[str, int], at: Instant | None
) -> BudgetView:
    # file_version is not read: it is in the signature so that it is part of the cache key
    try:
        budgets = load_budgets(Path(budgets_file))
    except RatecardError as exc:
        return BudgetView(at, (), str(exc))
    if at is None:
        return BudgetView(None, ())
    last_call = latest_call(db)
    with _read(db) as con:
        return BudgetView(
            at,
            tuple(check_budget(con, b, at.at, last_call=last_call) for b in budgets.budgets),
        )
