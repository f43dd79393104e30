"""The lake's layout: Hive-partitioned Parquet that Spark and DuckDB both read and write.

``<lake>/calls/provider=…/month=YYYY-MM/``     the normalised calls (one row per call)
``<lake>/quarantine/``                         records not loaded, with the reason
``<lake>/batches/``                            one row per file ingested, with its counts
``<lake>/price_points/``, ``model_aliases/``   the prices bills are made from
``<lake>/bills/provider=…/month=YYYY-MM/``     each call's bill, amounts included
``<lake>/rollups/provider=…/month=YYYY-MM/``   the bills summed per UTC day and attribution
                                               (the warehouse's daily_rollup rows)
``<lake>/hourly_spend/provider=…/month=…/``    the bills summed per UTC hour, for budgets
                                               (the warehouse's hourly_spend rows)
``<lake>/reprice_hours/provider=…/month=…/``   the priced calls' hourly token sums, which
                                               the Compare page prices at other providers

Exact types only: DECIMAL(38, 15) amounts and per-token rates, DECIMAL(18, 9) sheet rates,
BIGINT counts, DECIMAL(38, 0) token sums, timestamps in UTC (microseconds); an open-ended
price ends at :data:`OPEN_END` (Spark has no infinity). A job writes everything under
``<lake>/_staging/<run>/`` first and commits at the end, all or nothing, through a journal
in ``<lake>/_journal/`` (lake/fs.py, ADR 0072), while holding ``<lake>/_lock``.
"""

from __future__ import annotations

from datetime import UTC, datetime

OPEN_END = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
"""The end of a price that has none (DuckDB's 'infinity'), as a timestamp Spark can hold."""

JOURNAL = "_journal"
"""Where a job's commit journal lives while it commits (lake/fs.py, ADR 0072)."""

STAGING = "_staging"
"""Where a job writes its files before its commit."""

LOCK = "_lock"
"""The file a lake command holds while it runs, so that one runs at a time (lake/fs.py)."""

TABLES = (
    "calls",
    "quarantine",
    "batches",
    "price_points",
    "model_aliases",
    "bills",
    "rollups",
    "hourly_spend",
    "reprice_hours",
)

PARTITIONS = {
    "calls": ("provider", "month"),
    "bills": ("provider", "month"),
    "rollups": ("provider", "month"),
    "hourly_spend": ("provider", "month"),
    "reprice_hours": ("provider", "month"),
}
"""The tables partitioned by provider and UTC month (``month``: ``YYYY-MM`` of ts)."""

CALLS = (
    "call_id STRING, ts TIMESTAMP, model STRING, status STRING, http_status SMALLINT, "
    "error_type STRING, input_tokens BIGINT, cache_read_tokens BIGINT, "
    "cache_write_tokens BIGINT, cache_write_1h_tokens BIGINT, output_tokens BIGINT, "
    "reasoning_tokens BIGINT, reported_cost DECIMAL(38,15), no_usage_reason STRING, "
    "team STRING, project STRING, api_key_id STRING, tags STRING, source STRING, "
    "source_line BIGINT, source_item INT, batch_id BIGINT, content_hash STRING, "
    "provider STRING, month STRING"
)
"""calls' columns: the warehouse's, plus content_hash (what makes the call the one it is,
lake/sql/records.sql) and the partition columns last."""

QUARANTINE = (
    "batch_id BIGINT, source STRING, source_line BIGINT, source_item INT, call_id STRING, "
    "reason STRING, raw STRING, record_hash STRING"
)

BATCHES = (
    "batch_id BIGINT, kind STRING, source STRING, format STRING, started_at TIMESTAMP, "
    "finished_at TIMESTAMP, records_read BIGINT, loaded BIGINT, duplicates BIGINT, "
    "quarantined BIGINT, problem STRING"
)


def table(lake: str, name: str) -> str:
    """The folder of one of the lake's tables."""
    return f"{lake.rstrip('/')}/{name}"
