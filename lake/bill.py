"""``ratecard lake bill``: every call of the lake billed by the embedded billing SQL,
transpiled to Spark SQL, with the lake's price points.

The per-call query is pricing/sql's scope, call_units and costed with lake/sql/bills.sql at
the end, the warehouse's price_rates view and bill macros expanded into it
(lake/transpile.py): one definition of each rule on both engines. Amounts are DECIMAL(38,
15) and exact: the session refuses to run with precision loss allowed (lake/spark.py, ADR
0070). Bills are partitioned by provider and UTC month like the calls, each row with the
key of the prices that could bill its partition (lake/sql/price_keys.sql): without
``rebill`` only calls without a bill are billed (a new day of logs adds files to its
partitions); with it, every partition whose key changed since it was billed, and only
those, is billed again and replaced.

With the bills, each billed partition gets the rollups the embedded engine keeps (daily
rollup, hourly spend, repricing hours: :func:`rollup_sql`), from the same calls priced per
UTC hour by pricing/sql's hour_units and rollup queries, transpiled; a rebilled partition's
rollups are replaced with its bills, and new calls add their rows beside the old ones
(partial sums per batch, as in the warehouse). Token sums are DECIMAL(38, 0) (DuckDB's
HUGEINT), amounts DECIMAL(38, 15), counts BIGINT.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote

import duckdb
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sqlglot import exp

from lake import layout
from lake.fs import LakeFiles, new_run
from lake.ingest import read_table
from lake.transpile import spark_tree, to_spark, view_sql
from warehouse.db import migrate
from warehouse.sql import sql_file


@dataclass(frozen=True)
class LakeBill:
    calls: int
    unpriced: int
    partitions: int
    """How many (provider, month) partitions were written."""
    stale: int
    """Partitions whose bills are from other prices (left for ``--rebill``)."""


@cache
def warehouse_schema(name: str) -> pa.Schema:
    """The Arrow schema of one of the warehouse's tables, from its migrations."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        migrate(con)
        return con.sql(f"SELECT * FROM {name} LIMIT 0").to_arrow_table().schema  # noqa: S608
    finally:
        con.close()


def _table(spark: SparkSession, files: LakeFiles, name: str) -> DataFrame:
    folder = layout.table(files.root, name)
    if files.data_files(folder):
        return spark.read.parquet(folder)
    return spark.createDataFrame(warehouse_schema(name).empty_table())


_NO_KNOWN_POINTS = "SELECT CAST(NULL AS INTEGER) AS point_id, point FROM rate_points WHERE false"
"""points.sql's known_points in the lake: none. The lake's bills carry their price point's
fields and amounts, not a number in a bill_points table, so no rate has a point_id."""


def _transpiled(query: str) -> str:
    """The billing query (pricing/sql's fragments and ``query``) as Spark SQL, the lake's
    calls without bill_points numbers (``_NO_KNOWN_POINTS``)."""
    tree = spark_tree(query)
    for cte in tree.find_all(exp.CTE):
        if cte.alias == "known_points":
            cte.set("this", spark_tree(_NO_KNOWN_POINTS))
    return tree.sql(dialect="spark", comments=False)


def _fragments(*names: str) -> str:
    return "WITH " + ",\n".join(sql_file("pricing", name) for name in names) + "\n"


@cache
def billing_sql() -> str:
    """The per-call billing query as Spark SQL (module docstring)."""
    return _transpiled(
        _fragments("points", "scope", "call_units", "costed") + sql_file("lake", "bills")
    )


@cache
def rollup_sql() -> dict[str, str]:
    """The rollup queries as Spark SQL: ``billed_hours``, the calls priced per UTC hour,
    attribution and price point (pricing/sql's hour_units and rollup, as the embedded
    engine bills the hours), and the rollup tables' rows summed from it (rollup_days.sql
    for ``rollups``, rollup_hours.sql for ``hourly_spend``, rollup_reprice.sql for
    ``reprice_hours``, which the Compare page prices at other providers), each with its
    partition."""
    hours = _transpiled(
        _fragments("points", "scope", "hour_units", "costed") + sql_file("pricing", "rollup")
    )
    days = to_spark(sql_file("pricing", "rollup_days"))
    spend = to_spark(sql_file("pricing", "rollup_hours"))
    repricing = to_spark(sql_file("pricing", "rollup_reprice"))
    return {
        "billed_hours": hours,
        "rollups": f"SELECT *, date_format(day, 'yyyy-MM') AS month FROM ({days})",  # noqa: S608
        "hourly_spend": f"SELECT *, date_format(hour, 'yyyy-MM') AS month FROM ({spend})",  # noqa: S608
        "reprice_hours": f"SELECT *, date_format(hour, 'yyyy-MM') AS month FROM ({repricing})",  # noqa: S608
    }


def _views(spark: SparkSession, files: LakeFiles) -> DataFrame:
    """Register the tables the billing SQL reads; the lake's calls."""
    calls = read_table(spark, files, "calls", layout.CALLS)
    calls.createOrReplaceTempView("calls")
    for name in ("price_points", "model_aliases", "bill_points"):
        _table(spark, files, name).createOrReplaceTempView(name)
    spark.sql(to_spark(view_sql("price_rates"))).createOrReplaceTempView("price_rates")
    return calls


def bill(spark: SparkSession, lake: str, *, rebill: bool = False) -> LakeBill:
    """Bill the lake's calls (module docstring)."""
    files = LakeFiles(spark, lake)
    calls = _views(spark, files)
    keys = spark.sql(sql_file("lake", "price_keys"))
    bills_folder = layout.table(files.root, "bills")
    has_bills = bool(files.data_files(bills_folder))
    bills = spark.read.parquet(bills_folder) if has_bills else None
    partition = ["provider", "month"]
    stale_parts = (
        bills.select(*partition, "prices_key")
        .distinct()
        .join(keys, partition)
        .where(bills["prices_key"] != keys["prices_key"])
        .select(*partition)
        .distinct()
        if bills is not None
        else spark.createDataFrame([], "provider STRING, month STRING")
    )
    if rebill:
        scope = calls.join(stale_parts, partition, "left_semi")
        if bills is not None:  # and every call not billed yet, as without --rebill
            unbilled = calls.join(
                bills.select(*partition, "batch_id").distinct(),
                [*partition, "batch_id"],
                "left_anti",
            )
            scope = scope.unionByName(unbilled).distinct()
        if bills is None:
            scope = calls
    elif bills is not None:
        scope = calls.join(
            bills.select(*partition, "batch_id").distinct(), [*partition, "batch_id"], "left_anti"
        )
    else:
        scope = calls
    scope.createOrReplaceTempView("calls")
    run_name = new_run()
    staging = files.staging(run_name)
    run = f"{staging}/bills"
    span = {"first_batch": 0, "last_batch": 2**62}
    billed = spark.sql(billing_sql(), args=span).join(keys, partition)
    billed.write.partitionBy(*partition).parquet(run)
    stale = 0 if rebill else stale_parts.count()
    if not files.data_files(run):  # nothing to bill: Spark wrote no file
        files.delete(staging)
        return LakeBill(0, 0, 0, stale)
    queries = rollup_sql()
    hours = spark.sql(queries["billed_hours"], args=span).cache()
    hours.createOrReplaceTempView("billed_hours")
    for name in ROLLUPS:
        spark.sql(queries[name]).write.partitionBy(*partition).parquet(f"{staging}/{name}")
    hours.unpersist()
    written = spark.read.parquet(run)
    counts = written.agg(
        F.count("*").alias("calls"),
        F.count(F.when(~F.col("priced"), 1)).alias("unpriced"),
        F.countDistinct(*partition).alias("partitions"),
    ).collect()[0]
    old: list[str] = []
    if rebill and bills is not None:
        # the rebilled partitions are replaced whole, bills and rollups; a partition that
        # only got new calls keeps what it had and gets the new calls' rows beside. The old
        # files go only once the new ones are committed (lake/fs.py).
        replaced = {(str(r.provider), str(r.month)) for r in stale_parts.collect()}
        for folder in _partition_folders(files, run):
            values = tuple(unquote(p.split("=", 1)[1]) for p in folder.split("/"))
            if len(values) == 2 and (values[0], values[1]) in replaced:
                for name in _WRITTEN:
                    old += files.data_files(f"{layout.table(files.root, name)}/{folder}")
    moves = [
        move
        for name in _WRITTEN
        for move in files.moves(f"{staging}/{name}", layout.table(files.root, name))
    ]
    files.commit(run_name, moves, old)
    return LakeBill(int(counts.calls), int(counts.unpriced), int(counts.partitions), stale)


ROLLUPS = ("rollups", "hourly_spend", "reprice_hours")
"""The lake's rollup tables, written with the bills of their partitions (rollup_sql)."""

_WRITTEN = ("bills", *ROLLUPS)
"""What a bill run writes, in the order its files are moved into place."""


def _partition_folders(files: LakeFiles, folder: str) -> set[str]:
    """The ``provider=…/month=…`` folders under ``folder`` that hold data files."""
    root = files.qualified(folder)
    return {
        "/".join(name[len(root) :].lstrip("/").split("/")[:-1]) for name in files.data_files(folder)
    }
