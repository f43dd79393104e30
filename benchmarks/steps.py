"""One measured step per call: ``python -m benchmarks.steps STEP ARGS…``.

Each step runs in a fresh process started by benchmarks/run.py, which reads its peak memory
from the operating system; the step prints one JSON line with what it measured.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from warehouse import connect

ROOT = Path(__file__).resolve().parent.parent


def ingest(db: str, *files: str) -> dict[str, Any]:
    """Step 1: a fresh warehouse, the price sheets, the usage files ingested and billed."""
    from ingest.prices import load_prices
    from ingest.usage import ingest_usage

    con = connect(db)
    load_prices(con, [ROOT / "data" / "price_sheets"])
    staged: dict[str, set[str]] = {}
    looking = 0.0

    def look(con: duckdb.DuckDBPyConnection, batch: int) -> None:
        """How the scratch table stores its text (ADR 0012), read before it goes; not timed."""
        nonlocal looking
        begun = time.perf_counter()
        for column, compression in con.execute(
            "SELECT column_name, compression FROM pragma_storage_info('ingest_scratch.staged') "
            "WHERE segment_type = 'VARCHAR' AND column_name IN ('call_id', 'provider')"
        ).fetchall():
            staged.setdefault(column, set()).add(compression)
        looking += time.perf_counter() - begun

    started = time.perf_counter()
    records = loaded = 0
    for file in files:
        load = ingest_usage(con, Path(file), before_commit=look)
        records += load.records_read
        loaded += load.loaded
    seconds = time.perf_counter() - started - looking
    con.close()
    return {
        "seconds": seconds,
        "records": records,
        "calls": loaded,
        "staged_compression": {column: sorted(kinds) for column, kinds in staged.items()},
    }


def rebill(db: str) -> dict[str, Any]:
    """Step 2: re-price every call after a sheet change."""
    from pricing.engine import rebill as rebill_all

    con = connect(db)
    con.execute("UPDATE price_points SET input_rate = input_rate * 1.1 WHERE provider = 'reapi'")
    started = time.perf_counter()
    result = rebill_all(con)
    seconds = time.perf_counter() - started
    con.close()
    return {"seconds": seconds, "calls": result.calls}


def incremental(db: str, file: str) -> dict[str, Any]:
    """Step 3: one new batch into a warehouse that already holds everything else."""
    from ingest.usage import ingest_usage

    con = connect(db)
    started = time.perf_counter()
    load = ingest_usage(con, Path(file))
    seconds = time.perf_counter() - started
    con.close()
    return {"seconds": seconds, "records": load.records_read, "calls": load.loaded}


def floor_read(db: str, file: str) -> dict[str, Any]:
    """Baseline for step 1: a bare read_ndjson of the same file into a table."""
    import duckdb

    con = duckdb.connect(db)
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM read_ndjson($file, ignore_errors = true)", {"file": file}
    )
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    con.close()
    return {"seconds": seconds, "records": rows}


TOKENS = ("input", "cache_read", "cache_write", "output", "reasoning")
"""The token counts the explicit-columns floor sums, as the calls table names them."""


def floor_columns(db: str, file: str) -> dict[str, Any]:
    """The explicit-columns floor of step 1 (issue 23, benchmarks/floor_columns.sql):
    read_ndjson projecting the typed columns itself, the typed SQL that makes token counts
    and a failed flag of every body shape, into a database file. Its token sums over distinct
    rows (the log's duplicate lines are byte-identical), read after the clock stops, let the
    smoke test check the floor against ingest."""
    from benchmarks.floors import event_shape, floor_sql
    from benchmarks.floors import floor_columns as columns

    con = duckdb.connect(db)
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE floor AS " + floor_sql(),
        {"file": file, "columns": columns(), "event_shape": json.dumps(event_shape())},
    )
    seconds = time.perf_counter() - started
    names = ("calls", "failed", *(f"{n}_tokens" for n in TOKENS))
    row = con.execute(
        """
        SELECT count(*), count(*) FILTER (failed), sum(input_tokens), sum(cache_read_tokens),
               sum(cache_write_tokens), sum(output_tokens), sum(reasoning_tokens)
        FROM (SELECT DISTINCT * FROM floor)
        """
    ).fetchall()[0]
    con.close()
    sums = {name: int(value or 0) for name, value in zip(names, row, strict=True)}
    return {"seconds": seconds, "records": lines(file), "calls": sums["calls"], "sums": sums}


READ_CHUNK = 16 * 1024 * 1024


def lines(file: str) -> int:
    """The file's lines: the records a floor read, as ingest counts them (not timed)."""
    count = 0
    with Path(file).open("rb") as f:
        while chunk := f.read(READ_CHUNK):
            count += chunk.count(b"\n")
    return count


def floor_cat(file: str) -> dict[str, Any]:
    """The page-cache read (``cat file > /dev/null``): the file's bytes read and dropped, the
    cost below which no parse of it can go."""
    buffer = bytearray(READ_CHUNK)
    size = 0
    started = time.perf_counter()
    with Path(file).open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            size += n
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "records": lines(file), "bytes": size}


def floor_write(db: str, source: str) -> dict[str, Any]:
    """The write floor: what writing step 1's result costs by itself, the full calls row (every
    column of the warehouse's calls table) copied from an already-typed source, the calls
    table of a finished warehouse, into a fresh database file, with no parsing, keys or
    billing. No ingest can store
    calls faster than this, so it bounds step 1's calls per second from above."""
    import duckdb

    con = duckdb.connect(db)
    quoted = source.replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS source (READ_ONLY)")
    started = time.perf_counter()
    con.execute("CREATE TABLE calls AS SELECT * FROM source.calls")
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM calls").fetchall()[0][0]
    con.close()
    return {"seconds": seconds, "calls": rows}


def floor_bill(db: str) -> dict[str, Any]:
    """Baseline for step 2: a bare range-join bill of the same calls into a table (base
    prices, no tiers, cache or failure rules)."""
    con = connect(db)
    started = time.perf_counter()
    con.execute(
        """
        CREATE OR REPLACE TABLE floor_bill AS
        SELECT c.call_id,
               (c.input_tokens * p.input_rate + c.output_tokens * p.output_rate)
                   * CASE p.unit_tokens WHEN 1000 THEN 0.001 ELSE 0.000001 END AS cost
        FROM calls AS c
        JOIN price_points AS p
          ON p.provider = c.provider AND p.model = c.model
         AND c.ts >= p.effective_from AND c.ts < p.effective_to
         AND p.above_input_tokens IS NULL
        """
    )
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM floor_bill").fetchall()[0][0]
    con.execute("DROP TABLE floor_bill")
    con.close()
    return {"seconds": seconds, "calls": rows}


def dashboard(db: str) -> dict[str, Any]:
    """Step 4: every dashboard page's queries, cold (no cache), over the default selection."""
    from datetime import timedelta

    from dashboards import queries

    options = queries.options(db)
    assert options.last_day is not None
    first = options.last_day.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    filters = queries.Filters(first, last)
    pages: dict[str, Callable[[], object]] = {
        "overview": lambda: (
            queries.totals(db, filters),
            queries.daily_spend(db, filters, "provider"),
        ),
        "compare": lambda: queries.repricing(db, filters, "minimax-m3"),
        "variants": lambda: (
            queries.spend_by(db, filters, ("provider", "canonical_model", "variant")),
            queries.totals(db, filters),
            queries.repricing(db, filters, "minimax-m2.7", "highspeed", "standard"),
        ),
        "teams": lambda: (queries.spend_by(db, filters, ("team",)), queries.totals(db, filters)),
        "budgets": lambda: queries.budget_statuses(db, str(ROOT / "data" / "budgets.yml")),
        "quality": lambda: (
            queries.unpriced(db, filters),
            queries.quarantine_reasons(db),
            queries.ingests(db),
        ),
    }
    timings = {}
    for page, run in pages.items():
        for function in vars(queries).values():
            if hasattr(function, "cache_clear"):
                function.cache_clear()
        started = time.perf_counter()
        with queries.session():  # as app.py renders a page
            queries.options(db)  # the sidebar's query, which every page load runs
            run()
        timings[page] = time.perf_counter() - started
    return {"seconds": sum(timings.values()), "pages": timings}


def browser(db: str) -> dict[str, Any]:
    """Step 5: the dashboard in Chromium (benchmarks/browser.py), first load and every page's
    click-to-chart, cold and warm, over the warehouse and the shipped budgets."""
    from benchmarks.browser import measure

    return measure(db, str(ROOT / "data" / "budgets.yml"))


def genai_prices(db: str, calls: str) -> dict[str, Any]:
    """Baseline: what many teams do today, a Python loop calling genai-prices' calc_price
    for each call (MiniMax M3's prices in its own data)."""
    from genai_prices import Usage, calc_price

    con = connect(db, read_only=True)
    rows = con.execute(
        "SELECT input_tokens, cache_read_tokens, output_tokens FROM calls LIMIT $n",
        {"n": int(calls)},
    ).fetchall()
    con.close()
    started = time.perf_counter()
    for input_tokens, cached, output in rows:
        calc_price(
            Usage(input_tokens=input_tokens, cache_read_tokens=cached, output_tokens=output),
            "minimax-m3",
            provider_id="minimax",
        )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "calls": len(rows)}


STEPS = {
    f.__name__: f
    for f in (
        ingest,
        rebill,
        incremental,
        floor_read,
        floor_columns,
        floor_cat,
        floor_write,
        floor_bill,
        dashboard,
        browser,
        genai_prices,
    )
}

if __name__ == "__main__":
    result = STEPS[sys.argv[1]](*sys.argv[2:])
    print(json.dumps(result))
