"""``ratecard lake ingest``: usage files into the lake, staged by the embedded ingest's SQL
in Spark's tasks and judged by Spark across the whole lake.

Spark reads the files (local paths or any URI the cluster reaches) and hands them to tasks,
each of which stages its share with DuckDB (lake/stage.py, ``mapInArrow``): a file whole
(its binary-file source), or, when it is larger than a file partition, in a line format and
not compressed, in blocks of whole lines (its text source), numbered afterwards from the
lines of the blocks before them (docs/spark.md, "Big files"). The staged records are
written once under the job's staging folder; Spark then decides, over the lake's calls and
quarantine and the files of this run in the order given, which records load, which are
duplicates and which are quarantined (lake/sql/verdicts.sql), and writes the new calls (by
provider and UTC month), the quarantine and one batch per file with read = loaded +
duplicates + quarantined. Nothing is in the lake until the job's commit moves its files into
place, all or nothing (lake/fs.py).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial, reduce
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from ingest.formats import spec_of
from ingest.usage import UsageFormat, detect_format, usage_files
from lake import layout
from lake.fs import LakeFiles, new_run
from lake.stage import RECORDS, listed_path, local_path, stage_batches, stage_blocks
from warehouse.errors import RatecardError
from warehouse.sql import sql_file


@dataclass(frozen=True)
class FileLoad:
    """One file's batch in the lake."""

    batch_id: int
    source: str
    format: str
    records_read: int
    loaded: int
    duplicates: int
    quarantined: int
    problem: str | None


def _remote(uri: str) -> bool:
    """Whether ``uri`` names a file elsewhere than on this machine (s3a:, hdfs:, …)."""
    return "://" in uri and not uri.startswith("file:")


def input_uris(sources: list[str]) -> list[str]:
    """The files to ingest, in order: a local path as ``ratecard ingest usage`` reads it
    (a folder is its usage files), as a file: path Spark reads as that one file; any other
    URI as given."""
    uris: list[str] = []
    for source in sources:
        if _remote(source):
            uris.append(source)
        else:
            # a Hadoop path, not a URI (Spark does not decode a percent-encoded name), its
            # pattern characters escaped so that it names this one file
            found = usage_files(
                [Path(local_path(source) if source.startswith("file:") else source)]
            )
            uris += [f"file:{_exact(str(p.resolve()))}" for p in found]
    return uris


def read_table(spark: SparkSession, files: LakeFiles, name: str, schema: str) -> DataFrame:
    """A lake table, or an empty one of this schema before anything was written to it."""
    folder = layout.table(files.root, name)
    if files.data_files(folder):
        return spark.read.option("basePath", folder).parquet(folder)
    return spark.createDataFrame([], schema)


def _exact(path: str) -> str:
    """A path Spark listed, as a path Spark reads as that one file: its pattern characters
    escaped (a file named ``a[1].jsonl`` is not the pattern ``a1.jsonl``)."""
    return re.sub(r"([\\{}\[\]*?])", r"\\\1", path)


def _unescaped(uri: str) -> str:
    """An input as given to Spark (:func:`input_uris`) as the path Spark lists it by."""
    if _remote(uri):
        return uri
    return re.sub(r"\\(.)", r"\1", listed_path(uri))


def _partition_bytes(spark: SparkSession) -> int:
    """Spark's ``spark.sql.files.maxPartitionBytes``, in bytes."""
    return int(spark._jsparkSession.sessionState().conf().filesMaxPartitionBytes())


def _split_format(
    spark: SparkSession, uri: str, length: int, limit: int, fmt: UsageFormat | None
) -> UsageFormat | None:
    """The format of a file to split across tasks (docs/spark.md, "Big files"), or None to
    hand it whole to one task: a file larger than one of Spark's file partitions
    (``limit``, :func:`_partition_bytes`) in a line format, not compressed. Its format is
    told here, once, from its name and first lines, as ``ratecard ingest usage`` tells it."""
    if length <= limit:
        return None
    name = listed_path(uri)
    if name.lower().endswith(".gz"):
        return None
    if fmt is None:
        if _remote(uri):
            head = [
                r.value
                for r in spark.read.option("lineSep", "\n").text(_exact(uri)).limit(20).collect()
            ]
            with tempfile.TemporaryDirectory(prefix="ratecard-lake-") as tmp:
                copy = Path(tmp) / Path(name).name
                copy.write_text("\n".join(head) + "\n", encoding="utf-8", errors="replace")
                fmt = detect_format(copy)
        else:
            fmt = detect_format(Path(name))
    return fmt if spec_of(fmt).header_lines == 0 else None


def _staged_records(
    spark: SparkSession, uris: list[str], fmt: UsageFormat | None, provider: str | None
) -> tuple[DataFrame, DataFrame]:
    """The files (number, source) and the Spark plan of their staged records: a file in one
    task, or a big line-format file in blocks of lines across tasks."""
    listing = spark.read.format("binaryFile").load(uris)
    listed = listing.select("path", "length").collect()
    order = {_unescaped(uri): n for n, uri in enumerate(uris)}
    found = sorted(
        ((str(r.path), int(r.length)) for r in listed),
        key=lambda f: (order.get(listed_path(f[0]), len(order)), f[0]),
    )
    files = spark.createDataFrame(
        [(n, path, listed_path(path)) for n, (path, _) in enumerate(found)],
        "file BIGINT, path STRING, source STRING",
    )
    limit = _partition_bytes(spark)
    parts: list[DataFrame] = []
    split: dict[str, list[int]] = {}
    for n, (path, length) in enumerate(found):
        split_as = _split_format(spark, path, length, limit, fmt)
        if split_as is not None:
            split.setdefault(split_as.value, []).append(n)
    split_files = {n for numbers in split.values() for n in numbers}
    whole = [(n, path) for n, (path, _) in enumerate(found) if n not in split_files]
    if whole:
        # the listing's own rows, so that a name is never read again as a pattern; the
        # length filter is pushed into the binary-file source, which then never reads the
        # content of a split file. A file read whole beyond that length (a .gz, a CSV) is
        # read by its name, its pattern characters escaped
        content = listing.where(F.col("length") <= limit)
        big = [_exact(path) for n, path in whole if found[n][1] > limit]
        if big:
            content = content.unionByName(spark.read.format("binaryFile").load(big))
        tasks = (
            content.join(files, "path")
            .select("file", "path", "content")
            .repartition(max(1, len(whole)), "file")
        )
        parts.append(
            tasks.mapInArrow(
                partial(stage_batches, fmt=fmt.value if fmt else None, provider=provider),
                from_arrow_schema(RECORDS),
            )
        )
    for fmt_value, numbers in split.items():
        lines = [
            spark.read.option("lineSep", "\n")
            .text(_exact(found[n][0]))
            .select(
                F.lit(n).cast("bigint").alias("file"),
                F.expr("input_file_block_start()").alias("block"),
                F.col("value").cast("binary").alias("value"),
            )
            for n in numbers
        ]
        blocks = reduce(DataFrame.unionByName, lines)
        names = {n: listed_path(found[n][0]) for n in numbers}
        parts.append(
            blocks.mapInArrow(
                partial(stage_blocks, names=names, fmt=fmt_value, provider=provider),
                from_arrow_schema(RECORDS),
            )
        )
    return files.drop("path"), reduce(DataFrame.unionByName, parts)


def _numbered(records: DataFrame) -> DataFrame:
    """The staged records with the line numbers of their files: a block's records are
    numbered from the block's first line, so the lines of the file's earlier blocks are
    added (a whole file is one block, at 0)."""
    blocks = records.where("kind = 'file'").select("file", "block", "lines")
    earlier = Window.partitionBy("file").orderBy("block")
    offsets = blocks.select(
        "file",
        "block",
        (F.sum(F.coalesce("lines", F.lit(0))).over(earlier) - F.coalesce("lines", F.lit(0)))
        .cast("bigint")
        .alias("offset"),
    )
    return (
        records.join(F.broadcast(offsets), ["file", "block"], "left")
        .withColumn(
            "source_line",
            F.when(F.col("kind") == "record", F.col("source_line") + F.col("offset")).otherwise(
                F.col("source_line")
            ),
        )
        .drop("offset")
    )


def ingest(
    spark: SparkSession,
    sources: list[str],
    lake: str,
    *,
    fmt: UsageFormat | None = None,
    provider: str | None = None,
) -> list[FileLoad]:
    """Ingest the files named by ``sources`` into ``lake`` (module docstring)."""
    uris = input_uris(sources)
    if not uris:
        raise RatecardError("no usage files to ingest")
    files = LakeFiles(spark, lake)
    run = new_run()
    staging = files.staging(run)
    started = datetime.now(UTC)
    try:
        numbered, staged = _staged_records(spark, uris, fmt, provider)
        # the tasks' work, done once: the verdicts and the writes below read it several times
        staged.write.parquet(f"{staging}/records")
        records = _numbered(spark.read.parquet(f"{staging}/records"))
        errors = records.where("kind = 'file' AND error IS NOT NULL").select("error").collect()
        if errors:
            raise RatecardError(str(errors[0].error))
        loads = _judge_and_write(spark, files, staging, numbered, records, started)
        moves = [
            move
            for name in ("calls", "quarantine", "batches")
            for move in files.moves(f"{staging}/{name}", layout.table(files.root, name))
        ]
        files.commit(run, moves)
    finally:
        files.delete(staging)
    return loads


def _judge_and_write(
    spark: SparkSession,
    files: LakeFiles,
    staging: str,
    numbered: DataFrame,
    records: DataFrame,
    started: datetime,
) -> list[FileLoad]:
    lake_calls = read_table(spark, files, "calls", layout.CALLS)
    lake_quarantine = read_table(spark, files, "quarantine", layout.QUARANTINE)
    lake_batches = read_table(spark, files, "batches", layout.BATCHES)
    last = lake_batches.agg(F.max("batch_id")).collect()[0][0] or 0
    numbered = numbered.withColumn("batch_id", F.col("file") + F.lit(int(last) + 1))
    numbered.createOrReplaceTempView("files")
    records.createOrReplaceTempView("records")
    lake_calls.createOrReplaceTempView("lake_calls")
    lake_quarantine.createOrReplaceTempView("lake_quarantine")
    spark.sql(sql_file("lake", "verdicts")).write.parquet(f"{staging}/verdicts")
    verdicts = spark.read.parquet(f"{staging}/verdicts")

    loaded = (
        records.where("kind = 'record'")
        .join(
            verdicts.where("outcome = 'load'").select(
                "file", "source_line", "source_item", "batch_id", "source"
            ),
            ["file", "source_line", "source_item"],
        )
        .withColumn("month", F.date_format("ts", "yyyy-MM"))
    )
    calls_columns = [c.split()[0] for c in layout.CALLS.split(", ")]
    (
        loaded.select(*calls_columns)
        .write.partitionBy(*layout.PARTITIONS["calls"])
        .parquet(f"{staging}/calls")
    )
    quarantine_columns = [c.split()[0] for c in layout.QUARANTINE.split(", ")]
    verdicts.where("outcome = 'quarantine'").select(*quarantine_columns).write.parquet(
        f"{staging}/quarantine"
    )
    counts = (
        records.where("kind = 'file'")
        .groupBy("file")
        # a split file's blocks share its format; a problem (a truncated .gz) is only ever
        # a whole file's
        .agg(F.first("format", ignorenulls=True).alias("format"), F.max("problem").alias("problem"))
        .join(numbered, "file")
        .join(
            records.where("kind = 'record'")
            .groupBy("file")
            .agg(F.count("*").alias("records_read")),
            "file",
            "left",
        )
        .join(
            verdicts.groupBy("file").agg(
                F.count(F.when(F.col("outcome") == "load", 1)).alias("loaded"),
                F.count(F.when(F.col("outcome") == "duplicate", 1)).alias("duplicates"),
                F.count(F.when(F.col("outcome") == "quarantine", 1)).alias("quarantined"),
            ),
            "file",
            "left",
        )
        .select(
            "batch_id",
            F.lit("usage").alias("kind"),
            "source",
            "format",
            F.lit(started).alias("started_at"),
            F.current_timestamp().alias("finished_at"),
            *(
                F.coalesce(F.col(c), F.lit(0)).cast("bigint").alias(c)
                for c in ("records_read", "loaded", "duplicates", "quarantined")
            ),
            "problem",
        )
        .orderBy("batch_id")
    )
    rows = counts.collect()
    spark.createDataFrame(rows, layout.BATCHES).coalesce(1).write.parquet(f"{staging}/batches")
    loads = [
        FileLoad(
            int(r.batch_id),
            str(r.source),
            str(r.format),
            int(r.records_read),
            int(r.loaded),
            int(r.duplicates),
            int(r.quarantined),
            r.problem,
        )
        for r in rows
    ]
    for load in loads:
        if load.records_read != load.loaded + load.duplicates + load.quarantined:
            raise RatecardError(f"{load.source}: the counts do not add up: {load}")
    return loads
