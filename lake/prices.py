"""Price sheets into the lake: checked and merged by the embedded loader, stored as Parquet.

``ratecard lake bill --prices SHEETS`` loads the lake's current price points and aliases
into a throwaway warehouse, lets :func:`ingest.prices.load_prices` check the sheets and
replace their providers' prices there (a sheet replaces its provider's prices, as in the
warehouse), and writes both tables back. An open-ended price ends at layout.OPEN_END in
the lake and at 'infinity' in DuckDB.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
from pyspark.sql import SparkSession

from ingest.prices import load_prices
from lake import layout
from lake.fs import LakeFiles, new_run
from warehouse.db import connect

_TABLES = ("price_points", "model_aliases")


def _read(spark: SparkSession, files: LakeFiles, name: str) -> pa.Table | None:
    folder = layout.table(files.root, name)
    if not files.data_files(folder):
        return None
    return spark.read.parquet(folder).toArrow()


def load_sheets(spark: SparkSession, lake: str, sheets: list[Path]) -> list[str]:
    """Merge ``sheets`` into the lake's prices; the providers whose prices they changed."""
    files = LakeFiles(spark, lake)
    with tempfile.TemporaryDirectory(prefix="ratecard-lake-prices-") as tmp:
        con = connect(Path(tmp) / "prices.duckdb")
        try:
            open_end = {"open_end": layout.OPEN_END}
            for name in _TABLES:
                current = _read(spark, files, name)
                if current is not None:
                    con.register("lake_current", current)
                    fix = (
                        " REPLACE (CASE WHEN effective_to = $open_end THEN 'infinity' "
                        "ELSE effective_to END AS effective_to)"
                        if name == "price_points"
                        else ""
                    )
                    con.execute(
                        f"INSERT INTO {name} BY NAME SELECT *{fix} FROM lake_current",  # noqa: S608
                        open_end if fix else None,
                    )
                    con.unregister("lake_current")
            changed = list(load_prices(con, sheets).changed)
            run = new_run()
            staging = files.staging(run)
            for name in _TABLES:
                fix = (
                    " REPLACE (CASE WHEN isinf(effective_to) THEN $open_end "
                    "ELSE effective_to END AS effective_to)"
                    if name == "price_points"
                    else ""
                )
                table = con.sql(
                    f"SELECT *{fix} FROM {name}",  # noqa: S608
                    params=open_end if fix else None,
                ).to_arrow_table()
                spark.createDataFrame(table).coalesce(1).write.parquet(f"{staging}/{name}")
            # the new tables replace the old ones in one commit (lake/fs.py)
            files.commit(
                run,
                [
                    m
                    for n in _TABLES
                    for m in files.moves(f"{staging}/{n}", layout.table(files.root, n))
                ],
                [f for n in _TABLES for f in files.data_files(layout.table(files.root, n))],
            )
        finally:
            con.close()
    return changed
