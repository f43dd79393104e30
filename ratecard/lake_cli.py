"""``ratecard lake …``: the same ingest and billing on Apache Spark, over a Parquet lake
(lake/, docs/spark.md). pyspark is an optional extra (``pip install 'ratecard[spark]'``), so
the lake's modules are imported only when one of these commands runs. A RatecardError ends
in ratecard/cli.py's one error mapping, as for every command."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ingest.usage import UsageFormat, conservation
from ratecard import render
from ratecard.render import out
from warehouse.errors import RatecardError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

lake_app = typer.Typer(
    help="Ingest and bill on Apache Spark, over a Hive-partitioned Parquet lake.",
    no_args_is_help=True,
)

LakeOption = Annotated[
    str,
    typer.Option(
        "--lake", envvar="RATECARD_LAKE", help="The lake's folder or URI (file:, s3a:, hdfs:, …)."
    ),
]
MasterOption = Annotated[
    str | None,
    typer.Option(
        help="Spark master (local[*], yarn, spark://…, k8s://…); under spark-submit, its own."
    ),
]


def _checked(lake: str) -> str:
    """The lake's location, refused before Spark starts when it is a local file: a lake is a
    folder (made by the first ingest) or a URI Spark reads."""
    local = lake.startswith("file:") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", lake) is None
    path = Path(re.sub(r"^file:(//)?", "", lake))
    if local and path.exists() and not path.is_dir():
        raise RatecardError(
            f"--lake {lake}: a file, not a lake; point --lake at the lake's folder (the first "
            "`ratecard lake ingest` creates it) or a URI such as s3a://bucket/ratecard"
        )
    return lake


SPARK_MEMORY = "RATECARD_SPARK_MEMORY"
"""The JVM's memory in local mode (lake/spark.py; 2g by default)."""


@contextmanager
def out_of_memory() -> Iterator[None]:
    """Spark's OutOfMemoryError said as what to do: a usage file that is not split (a .gz,
    a CSV) is one task, read whole into the JVM's memory (docs/spark.md, "Big files")."""
    try:
        yield
    except Exception as exc:
        if "java.lang.OutOfMemoryError" not in str(exc):
            raise
        raise RatecardError(
            "Spark ran out of memory (java.lang.OutOfMemoryError): a usage file that is not "
            "split (a .gz, a CSV, one within spark.sql.files.maxPartitionBytes) is one task, "
            f"read whole into memory. Give Spark more ({SPARK_MEMORY}=8g in local mode, "
            "spark.executor.memory on a cluster), lower spark.sql.files.maxPartitionBytes, or "
            "split the file; nothing was written"
        ) from None


PACKAGES = ("ratecard", "warehouse", "pricing", "ingest", "reports", "lake", "dashboards")
"""ratecard's own top-level packages, as the wheel holds them (pyproject.toml)."""


@contextmanager
def workers_import() -> Iterator[None]:
    """A module Spark's Python workers cannot import, said as what to do: ratecard's own
    code (spark-submit ships a ``--py-files`` .whl to the driver's path only, never the
    executors'; a .zip, .egg or .py reaches both) or one of its dependencies (the nodes need
    them installed). Any other failure passes through."""
    try:
        yield
    except Exception as exc:
        found = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", str(exc))
        if isinstance(exc, ImportError) or found is None:
            raise
        module = found.group(1)
        if module.split(".")[0] in PACKAGES:
            raise RatecardError(
                f"Spark's Python workers cannot import {module}, ratecard's own code: install "
                "'ratecard[spark]' on every node, or ship the wheel with spark-submit "
                "--py-files as a .zip (cp dist/ratecard-*.whl ratecard.zip; Spark puts a "
                ".zip, .egg or .py on the executors' path, never a .whl; docs/spark.md, "
                '"On a cluster")'
            ) from None
        raise RatecardError(
            f"Spark's Python workers cannot import {module}, which ratecard needs: install "
            "'ratecard[spark]' on every node (or ship a virtualenv with --archives and point "
            'PYSPARK_PYTHON at it; docs/spark.md, "On a cluster")'
        ) from None


@contextmanager
def _locked(
    spark: SparkSession, lake: str, command: str, *, unlock: bool = False
) -> Iterator[None]:
    """The lake's lock for the command (lake/fs.py); a lock taken over or removed is said."""
    from lake.fs import lake_lock

    with lake_lock(spark, lake, command, unlock=unlock) as done:
        for line in done:
            render.note(line)
        yield


def _session(master: str | None) -> SparkSession:
    try:
        from lake.spark import session
    except ImportError:
        raise RatecardError(
            "the lake needs Apache Spark and Java 17+: pip install 'ratecard[spark]', or in "
            "a checkout of ratecard `.tools/bin/uv sync --inexact --extra spark`"
        ) from None
    render.note("starting Spark …")
    return session(master)


@lake_app.command("ingest")
def lake_ingest(
    paths: Annotated[
        list[str],
        typer.Argument(help="Usage log files or folders (local paths or URIs Spark can read)."),
    ],
    lake: LakeOption,
    master: MasterOption = None,
    fmt: Annotated[UsageFormat | None, typer.Option("--format", help="Skip detection.")] = None,
    provider: Annotated[
        str | None,
        typer.Option(help="As for `ratecard ingest usage`: required for raw-body files."),
    ] = None,
) -> None:
    """Load usage logs into the lake, one batch per file, as `ratecard ingest usage` does:
    Spark's tasks stage the files with the embedded ingest's SQL, and Spark decides the
    duplicates and conflicts across the whole lake. A file that cannot be read stops the
    job before anything is written. Exit status 1 when records were quarantined."""
    lake = _checked(lake)
    for source in paths:  # a local path that is not there: said before Spark starts
        local = (
            source.startswith("file:") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source) is None
        )
        if local and not Path(re.sub(r"^file:(//)?", "", source)).exists():
            raise RatecardError(f"{source}: no such file or folder")
    spark = _session(master)
    from lake.ingest import ingest

    with _locked(spark, lake, "ratecard lake ingest"):
        render.note("staging and judging the files …")
        with out_of_memory(), workers_import():
            loads = ingest(spark, paths, lake, fmt=fmt, provider=provider)
    quarantined = 0
    for load in loads:
        quarantined += load.quarantined
        counts = conservation(load.records_read, load.loaded, load.duplicates, load.quarantined)
        out.print(f"{escape(load.source)} ({load.format}): {counts}", highlight=False)
        if load.problem is not None:
            out.print(
                f"[yellow]{escape(load.problem)}[/yellow]: the records after it were never read"
            )
    if quarantined:
        out.print(
            f"[yellow]{quarantined:,} records quarantined[/yellow]: see the lake's quarantine "
            "folder for line and reason."
        )
        raise typer.Exit(1)


@lake_app.command("bill")
def lake_bill(
    lake: LakeOption,
    master: MasterOption = None,
    prices: Annotated[
        list[Path] | None,
        typer.Option(
            "--prices",
            help="Price sheets (files or folders) to load first; each replaces its "
            "provider's prices in the lake, as `ratecard ingest prices` does.",
        ),
    ] = None,
    rebill: Annotated[
        bool,
        typer.Option(
            "--rebill",
            help="Bill again the (provider, month) partitions a price change touched, and "
            "only those.",
        ),
    ] = False,
) -> None:
    """Bill the lake's calls not billed yet, with the embedded billing SQL run on Spark;
    with --rebill, also the partitions whose prices changed since they were billed."""
    lake = _checked(lake)
    spark = _session(master)
    from lake.bill import bill
    from lake.prices import load_sheets

    with _locked(spark, lake, "ratecard lake bill"):
        if prices:
            changed = load_sheets(spark, lake, prices)
            out.print(
                "prices loaded"
                + (f"; changed for {', '.join(changed)}" if changed else "; nothing changed"),
                highlight=False,
            )
        render.note("billing …")
        with out_of_memory(), workers_import():
            result = bill(spark, lake, rebill=rebill)
    out.print(
        f"{'re-' if rebill else ''}billed {result.calls:,} calls in {result.partitions:,} "
        f"partitions" + render.unpriced(result.unpriced),
        highlight=False,
    )
    if result.stale:
        out.print(
            f"[yellow]{result.stale:,} partitions were billed at other prices[/yellow]: "
            "`ratecard lake bill --rebill` bills them again.",
            highlight=False,
        )


@lake_app.command("recover")
def lake_recover(
    lake: LakeOption,
    master: MasterOption = None,
    unlock: Annotated[
        bool,
        typer.Option(
            "--unlock",
            help="Remove the lock of a lake command that no longer runs, whatever host it "
            "ran on (one killed on this host is taken over without it).",
        ),
    ] = False,
) -> None:
    """Finish or undo the commit a killed lake job left, and delete the staging folders of
    jobs killed before their commit. Every lake command does this first; run it before
    reading the lake with DuckDB or another tool after a job was killed."""
    lake = _checked(lake)
    spark = _session(master)
    from lake.fs import LakeFiles

    with _locked(spark, lake, "ratecard lake recover", unlock=unlock):
        done = LakeFiles(spark, lake).recovered
    for line in done:
        out.print(escape(line), highlight=False)
    if not done:
        out.print("nothing to recover: the lake is as its last commit left it", highlight=False)
