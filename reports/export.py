"""Export billed calls (``ratecard export calls``): one row per call with its costs.

Written by DuckDB straight from the warehouse, to a temporary file beside the target that is
renamed into place at the end, so a failed export never leaves half a file behind. Amounts
are exact decimals (DECIMAL(38,15)): plain digits in CSV, the DECIMAL type in Parquet.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import duckdb

from reports.period import Period
from warehouse.errors import RatecardError
from warehouse.sql import fetch_value, sql_file


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


def export_calls(
    con: duckdb.DuckDBPyConnection, out: Path, fmt: ExportFormat, period: Period | None = None
) -> int:
    """Write the billed calls of ``period`` to ``out``; return how many rows were written."""
    if out.is_dir():
        raise RatecardError(f"--out {out}: is a directory; name a file")
    if not out.parent.exists():
        raise RatecardError(f"--out {out}: the folder {out.parent} does not exist")
    period = period or Period()
    relation = con.sql(
        sql_file("reports", "billed_calls"),
        params={"start": period.start, "end": period.end_exclusive},
    )
    partial = out.with_name(f".{out.name}.partial")
    try:
        if fmt is ExportFormat.CSV:
            # ISO 8601 in UTC, which spreadsheets and pandas read without a format string
            relation.write_csv(str(partial), header=True, timestamp_format="%Y-%m-%dT%H:%M:%S.%fZ")
        else:
            relation.write_parquet(str(partial), compression="zstd")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return int(
        fetch_value(
            con,
            "SELECT count(*) FROM calls WHERE ($start IS NULL OR ts >= $start) "
            "AND ($end IS NULL OR ts < $end)",
            {"start": period.start, "end": period.end_exclusive},
        )
    )
