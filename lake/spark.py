"""The Spark session the lake's commands run in, set up so that every amount stays exact.

Spark's decimal arithmetic silently rounds a product whose exact type would need more than
38 digits: BIGINT x DECIMAL(38, 15) is DECIMAL(59, 15) exactly, which Spark by default cuts
to DECIMAL(38, 6), and the sum of five DECIMAL(38, 15) amounts to DECIMAL(38, 11). With
``spark.sql.decimalOperations.allowPrecisionLoss`` off, the result keeps the scale the
operands give (15 for a count times a per-token rate) and is exact whenever the value fits 38
digits, which every amount ratecard computes does (ADR 0070); with ANSI mode on, a value
that would not fit stops the job instead of becoming NULL. Both are runtime settings, so
they are set on the session the command gets, whether it made it (``--master``) or
spark-submit did, and :func:`exact` checks them before any bill is computed.

Sessions run in UTC (hours, days and months are UTC, as in the warehouse) and write
timestamps to Parquet as microseconds since the epoch in UTC, the type DuckDB reads as
TIMESTAMPTZ.
"""

from __future__ import annotations

import os
import sys
import warnings
from importlib import resources

from warehouse.errors import RatecardError

# pyspark warns at import that it does not support pandas 3 fully; the lake uses no pandas
# API of pyspark (it exchanges Arrow batches), so the warning says nothing to its users
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")

from pyspark.sql import SparkSession  # noqa: E402

EXACT = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # dates before 1582 (the open start of a price change, 0001-01-01) as written, in the
    # proleptic calendar DuckDB uses too
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
}
"""The runtime settings every lake command runs with (module docstring)."""


def _log_config() -> str:
    return str(resources.files("lake").joinpath("log4j2.properties"))


def session(master: str | None = None, *, app: str = "ratecard") -> SparkSession:
    """The Spark session to run on: the one spark-submit made (its master and settings), or a
    new one on ``master`` (``local[*]`` when neither is given). A local session runs its
    Python workers in this interpreter, shows only Spark's errors, and has no web UI."""
    active = SparkSession.getActiveSession()
    if active is None and master is None and "SPARK_HOME" not in os.environ:
        master = os.environ.get("RATECARD_SPARK_MASTER", "local[*]")
    builder = SparkSession.builder.appName(app)
    if master is not None and active is None:
        builder = builder.master(master)
        if master.startswith("local"):
            # the tasks' Python is this one (its duckdb and ratecard), not python3 on PATH
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            cores = os.cpu_count() or 2
            builder = (
                builder.config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", str(2 * cores))
                .config("spark.pyspark.python", sys.executable)
                .config("spark.pyspark.driver.python", sys.executable)
                .config("spark.driver.memory", os.environ.get("RATECARD_SPARK_MEMORY", "2g"))
                .config(
                    "spark.driver.extraJavaOptions",
                    f"-Dlog4j2.configurationFile=file:{_log_config()}",
                )
            )
    for key, value in EXACT.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: no Java, or a master it cannot reach
        raise RatecardError(
            f"cannot start Spark ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
            "it needs Java 17 or later (JAVA_HOME or java on PATH) and a reachable --master"
        ) from None
    exact(spark)
    return spark


def exact(spark: SparkSession) -> None:
    """Set the settings that keep amounts exact on ``spark`` and check they hold."""
    for key, value in EXACT.items():
        spark.conf.set(key, value)
    wrong = {k: spark.conf.get(k) for k, v in EXACT.items() if spark.conf.get(k) != v}
    if wrong:
        raise RatecardError(
            f"the Spark session refuses the settings exact billing needs: {wrong}; "
            "set them in the cluster's configuration"
        )
