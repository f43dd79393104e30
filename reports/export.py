"""Export billed calls (``ratecard export calls``): one row per call with its costs.

Written by DuckDB straight from the warehouse, to a temporary file beside the target that is
renamed into place at the end, so a failed export never leaves half a file behind. Amounts
are exact decimals (DECIMAL(38,15)): plain digits in CSV, the DECIMAL type in Parquet. In
CSV, a text that a spreadsheet would take for a formula starts with ``'``
(reports/spreadsheet.py).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import duckdb

from reports.files import check_target, write_atomically
from reports.period import Period
from reports.spreadsheet import neutral_query
from warehouse.sql import fetch_value, sql_file


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


def export_calls(
    con: duckdb.DuckDBPyConnection, out: Path, fmt: ExportFormat, period: Period | None = None
) -> int:
    """Write the billed calls of ``period`` to ``out``; return how many rows were written."""
    check_target(out)
    period = period or Period()
    query = sql_file("reports", "billed_calls")
    params: dict[str, object] = {"start": period.start, "end": period.end_exclusive}
    if fmt is ExportFormat.CSV:  # text a spreadsheet would run is neutralised; Parquet is typed
        query, params = neutral_query(con, query, params)
    relation = con.sql(query, params=params)

    def write(partial: Path) -> None:
        if fmt is ExportFormat.CSV:
            # ISO 8601 in UTC, which spreadsheets and pandas read without a format string
            relation.write_csv(str(partial), header=True, timestamp_format="%Y-%m-%dT%H:%M:%S.%fZ")
        else:
            relation.write_parquet(str(partial), compression="zstd")

    write_atomically(out, write)
    return int(
        fetch_value(
            con,
            "SELECT count(*) FROM calls WHERE ($start IS NULL OR ts >= $start) "
            "AND ($end IS NULL OR ts < $end)",
            {"start": period.start, "end": period.end_exclusive},
        )
    )
