"""FinOps FOCUS 1.2 cost-and-usage export (``ratecard report --format focus``).

The dataset is built in SQL (``reports/sql/focus.sql``; the columns and their meaning are
documented there) and written as CSV, or as Parquet when the file name ends in
``.parquet``, through a temporary file renamed at the end. It passes the FinOps
Foundation's validator (``focus-validator`` 2.2, FOCUS 1.2, with the applicability criteria
in :data:`APPLICABILITY`): ``tests/test_focus.py`` runs it in the suite.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import duckdb

from reports.files import write_atomically
from reports.period import Period
from reports.spreadsheet import neutral_query
from warehouse.errors import RatecardError
from warehouse.sql import fetch_value, sql_file

APPLICABILITY = (
    "USAGE_MEASUREMENT_SUPPORTED",
    "PUBLIC_PRICE_LIST_SUPPORTED",
    "UNIT_PRICING_SUPPORTED",
    "TAGGING_SUPPORTED",
    "ACCOUNT_NAMING_SUPPORTED",
)
"""What ratecard's data supports, in the validator's terms: usage is measured (tokens,
requests), unit list prices come from price sheets, rows carry team and project tags, and
billing accounts are named (one per provider)."""

FOCUS_REFUSES_BY = (
    "--by does not apply to --format focus: FOCUS rows are per charge (UTC day, provider, "
    "model, price and pricing dimension, tagged with team and project); group them in your "
    "FinOps tool by ProviderName, x_Model, ServiceName (the canonical model), x_ModelVariant "
    "or Tags, or drop --format focus for a grouped report"
)
"""Why ``report --format focus`` refuses ``--by``: the FOCUS spec fixes a row's granularity
(one charge), and a FinOps tool groups the rows itself, so a regrouped dataset would only be
a coarser one with the same totals. Every report dimension but ``key`` is a column (or tag)
of each row."""


def export_focus(con: duckdb.DuckDBPyConnection, out: Path, period: Period) -> int:
    """Write the FOCUS rows of ``period`` (UTC days) to ``out``; return how many."""
    if period.start is None or period.end is None:
        raise RatecardError("a FOCUS export needs a period: --period YYYY-MM, or --from and --to")
    params = {
        "start": datetime.combine(period.start, time(0), tzinfo=UTC),
        "end": datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=UTC),
    }
    parquet = out.suffix.lower() == ".parquet"
    options = (
        "FORMAT parquet, COMPRESSION zstd"
        if parquet
        else "FORMAT csv, HEADER, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%SZ'"
    )
    written = 0

    query, query_params = sql_file("reports", "focus"), dict[str, object](params)
    if not parquet:  # a CSV may be opened in a spreadsheet: no text may run as a formula
        query, query_params = neutral_query(con, query, query_params)

    def write(path: Path) -> None:
        nonlocal written
        # COPY answers with the number of rows it wrote: the dataset is computed once
        written = int(
            fetch_value(
                con, f"COPY ({query}) TO $path ({options})", {**query_params, "path": str(path)}
            )
        )

    write_atomically(out, write)
    return written
