"""The billing engine: prices calls by the SQL in ``pricing/sql`` and keeps the daily rollup.

``bill_batches`` prices the calls of a range of usage batches and appends their rollup rows;
it runs inside the caller's transaction (ingest bills each batch in the transaction that
loads it). ``rebill`` re-prices every call against the current sheets in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from warehouse.sql import fetch_one, fetch_value, sql_file


@dataclass(frozen=True)
class BillResult:
    calls: int
    unpriced: int


def latest_price_load(con: duckdb.DuckDBPyConnection) -> int | None:
    """The batch id of the most recent price-sheet load, or None before any."""
    batch = fetch_value(con, "SELECT max(batch_id) FROM batches WHERE kind = 'prices'")
    return None if batch is None else int(batch)


# price_rates rows that start or end within an hour or have a tier threshold inside an
# input-size band (price_on_the_grid, warehouse/schema.sql)
_PRICES_OFF_THE_GRID = """
SELECT count(*) FROM price_rates
WHERE NOT price_on_the_grid(effective_from, effective_to, tier_lo, tier_hi)
"""


def bill_batches(
    con: duckdb.DuckDBPyConnection, first: int, last: int, *, sum_each_call: bool = False
) -> BillResult:
    """Price the calls of usage batches first..last and append their daily rollup rows.

    The batches must not have been billed yet (their call_bills rows would double up).
    ``sum_each_call`` builds the hourly sums from the calls even when the prices would let
    them come from ``call_hours`` (both give the same sums; the tests compare them).
    """
    span = {"first_batch": first, "last_batch": last}
    # the bills and the hourly sums are two passes with one formula (costed.sql): per call
    # for call_bills (the point that prices each call; the views compute its amounts on
    # read), per hour and price point for the sums, which is cheaper than joining millions
    # of calls back to their costs; the daily rollup, the budgets' hours and the repricing
    # hours are sums of the hourly sums. When every price covers whole hours and whole
    # input-size bands, the hours are priced from the calls' token sums that ingest keeps
    # (call_hours; grid_units.sql); otherwise the calls are grouped by the point that
    # prices each (hour_units.sql)
    points = sql_file("pricing", "points")
    con.execute(
        f"INSERT INTO bill_points BY NAME WITH {points},\n{sql_file('pricing', 'bill_points')}"
    )
    on_the_grid = not sum_each_call and fetch_value(con, _PRICES_OFF_THE_GRID) == 0
    hours = "grid_units" if on_the_grid else "hour_units"
    scope, costed = f"{points},\n{sql_file('pricing', 'scope')}", sql_file("pricing", "costed")
    per_call = f"WITH {scope},\n{sql_file('pricing', 'call_units')},\n{costed}\n"
    per_hour = f"WITH {scope},\n{sql_file('pricing', hours)},\n{costed}\n"
    con.execute(f"INSERT INTO call_bills BY NAME {per_call}{sql_file('pricing', 'bill')}", span)
    rollups = (
        ("INSERT INTO daily_rollup BY NAME", sql_file("pricing", "rollup_days")),
        ("INSERT INTO hourly_spend", sql_file("pricing", "rollup_hours")),
        ("INSERT INTO reprice_hours BY NAME", sql_file("pricing", "rollup_reprice")),
    )
    hourly = f"{per_hour}{sql_file('pricing', 'rollup')}"
    if on_the_grid:
        # the units are call_hours' rows: pricing them again in each rollup costs less than
        # writing them into a temporary table and reading it back three times (ADR 0059)
        billed = f"WITH {scope},\n{sql_file('pricing', hours)},\n{costed},\nbilled_hours AS (\n"
        for into, rollup in rollups:
            con.execute(f"{into} {billed}{sql_file('pricing', 'rollup')}\n)\n{rollup}", span)
    else:
        # the units group every call: grouped once, into a temporary table the rollups read
        con.execute(f"CREATE OR REPLACE TEMP TABLE billed_hours AS {hourly}", span)
        for into, rollup in rollups:
            con.execute(f"{into} {rollup}")
        con.execute("DROP TABLE billed_hours")
    con.execute(
        "UPDATE batches SET billed_with_prices = $prices "
        "WHERE kind = 'usage' AND batch_id BETWEEN $first_batch AND $last_batch",
        {**span, "prices": latest_price_load(con)},
    )
    calls, unpriced = fetch_one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE point_id IS NULL) FROM call_bills "
        "WHERE batch_id BETWEEN $first_batch AND $last_batch",
        span,
    )
    return BillResult(calls=int(calls), unpriced=int(unpriced))


def bill_unbilled(con: duckdb.DuckDBPyConnection) -> BillResult:
    """Bill every usage batch that has not been billed (ingested with billing off)."""
    batches = [
        int(r[0])
        for r in con.execute(
            "SELECT batch_id FROM batches WHERE kind = 'usage' AND billed_with_prices IS NULL "
            "AND batch_id NOT IN (SELECT DISTINCT batch_id FROM call_bills) ORDER BY batch_id"
        ).fetchall()
    ]
    calls = unpriced = 0
    con.execute("BEGIN TRANSACTION")
    try:
        for batch in batches:
            result = bill_batches(con, batch, batch)
            calls, unpriced = calls + result.calls, unpriced + result.unpriced
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return BillResult(calls, unpriced)


def rebill(con: duckdb.DuckDBPyConnection, *, sum_each_call: bool = False) -> BillResult:
    """Re-price every call against the price points now in the warehouse, atomically.

    ``sum_each_call`` as for ``bill_batches``.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM call_bills")
        con.execute("DELETE FROM bill_points")  # numbered afresh: no bill names them now
        con.execute("DELETE FROM daily_rollup")
        con.execute("DELETE FROM hourly_spend")
        con.execute("DELETE FROM reprice_hours")
        first, last = fetch_one(
            con,
            "SELECT coalesce(min(batch_id), 0), coalesce(max(batch_id), -1) FROM batches "
            "WHERE kind = 'usage'",
        )
        result = bill_batches(con, int(first), int(last), sum_each_call=sum_each_call)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return result


def stale_by_provider(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Per provider, the calls billed before the load that last changed its prices (fixed by
    ``rebill``); a load that gave a provider the same prices does not count."""
    return {str(p): int(n) for p, n in con.execute(sql_file("pricing", "stale_calls")).fetchall()}


def stale_calls(con: duckdb.DuckDBPyConnection) -> int:
    """Calls billed before their prices changed (``stale_by_provider``, summed)."""
    return sum(stale_by_provider(con).values())
