"""A lake task's work: the embedded ingest's own DuckDB staging over its share of the files.

Spark hands each task some usage files as rows of its binary-file source (path, content),
or blocks of a big file's lines from its text source (:func:`stage_blocks`);
the task writes each to a private folder under its own name (the format is told from the
name and first lines, as for ``ratecard ingest usage``), stages it with
:func:`ingest.usage.staged_file` in a throwaway warehouse, and returns every staged record
as Arrow rows (lake/sql/records.sql) plus one ``file`` row with the file's format, the
problem that cut it short, or the error that refused it. Nothing here imports pyspark: the
rows go back through ``mapInArrow`` (lake/ingest.py), which also decides what is loaded.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa

from ingest.usage import CALL_CONTENT, UsageFormat, staged_file
from warehouse.db import connect
from warehouse.errors import RatecardError
from warehouse.sql import sql_file

RECORDS = pa.schema(
    [
        ("kind", pa.string()),
        ("file", pa.int64()),
        ("format", pa.string()),
        ("problem", pa.string()),
        ("error", pa.string()),
        ("source_line", pa.int64()),
        ("source_item", pa.int32()),
        ("reason", pa.string()),
        ("call_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("provider", pa.string()),
        ("model", pa.string()),
        ("status", pa.string()),
        ("http_status", pa.int16()),
        ("error_type", pa.string()),
        ("input_tokens", pa.int64()),
        ("cache_read_tokens", pa.int64()),
        ("cache_write_tokens", pa.int64()),
        ("cache_write_1h_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("reasoning_tokens", pa.int64()),
        ("reported_cost", pa.decimal128(38, 15)),
        ("no_usage_reason", pa.string()),
        ("team", pa.string()),
        ("project", pa.string()),
        ("api_key_id", pa.string()),
        ("tags", pa.string()),
        ("raw", pa.string()),
        ("record_hash", pa.string()),
        ("content_raw", pa.string()),
        ("content_hash", pa.string()),
        ("block", pa.int64()),
        ("lines", pa.int64()),
    ]
)
"""The rows a task returns (lake/sql/records.sql, and one ``file`` row per file or block).
``block`` is where a block of a split file starts (its byte offset; 0 for a whole file), and
``lines``, on a block's ``file`` row, how many lines it holds: a block's records are numbered
from its own first line, and the driver adds the lines of the file's earlier blocks."""


def local_path(uri: str) -> str:
    """A file: URI as the local path the embedded ingest names a source by; any other
    URI as it is."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme in ("", "file") else uri


def listed_path(path: str) -> str:
    """A path as Spark lists it (``file:/tmp/a b%41.jsonl``: not percent-encoded) as the
    local path the embedded ingest names a source by; any other URI as it is."""
    return re.sub(r"^file:(//)?", "", path) if path.startswith("file:") else path


def _file_row(
    file: int,
    fmt: str | None,
    problem: str | None,
    error: str | None,
    block: int = 0,
    lines: int | None = None,
) -> pa.Table:
    row: dict[str, list[object]] = {name: [None] for name in RECORDS.names}
    row.update(
        kind=["file"],
        file=[file],
        format=[fmt],
        problem=[problem],
        error=[error],
        block=[block],
        lines=[lines],
    )
    return pa.Table.from_pydict(row, schema=RECORDS)


def stage_one(
    folder: Path,
    file: int,
    name: str,
    content: bytes,
    fmt: UsageFormat | None,
    provider: str | None,
) -> Iterator[pa.RecordBatch]:
    """The rows of one file (module docstring), staged in ``folder``."""
    path = folder / str(file) / Path(name).name
    path.parent.mkdir()
    path.write_bytes(content)
    yield from _staged_rows(path, file, name, fmt, provider)


def _staged_rows(
    path: Path,
    file: int,
    name: str,
    fmt: UsageFormat | None,
    provider: str | None,
    block: int = 0,
    lines: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of the file (or block of a file) written at ``path``, which is deleted
    afterwards; ``name`` is the file the user named, for messages."""
    con = connect(path.parent / "task.duckdb")
    try:
        with staged_file(con, path, fmt=fmt, provider=provider) as staged:
            query = sql_file("lake", "records").replace("__CALL_CONTENT__", CALL_CONTENT)
            reader = con.sql(query, params={"file": file, "block": block}).to_arrow_reader(65536)
            for batch in reader:
                yield batch.cast(RECORDS)
            yield from _file_row(
                file, staged.format.value, staged.problem, None, block, lines
            ).to_batches()
    except RatecardError as exc:
        # the driver stops the ingest with this before anything is written: the file named
        # by the user's path, not the task's copy
        message = str(exc).replace(str(path), name)
        yield from _file_row(file, None, None, message, block, lines).to_batches()
    finally:
        con.close()
        path.unlink()


def stage_blocks(
    batches: Iterator[pa.RecordBatch],
    names: dict[int, str],
    fmt: str,
    provider: str | None,
) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function for split files: rows (file, block, value), one per line of a
    block of a file, in file order (Spark's text source splits a file at line ends: a
    partition holds one or more blocks, and its batches may cut a block). Each block's lines
    are written back as they were, LF-terminated, and staged like a whole file of the
    driver's format ``fmt``; its records are numbered from the block's first line."""
    rows = (
        (int(file), int(block), bytes(value))
        for batch in batches
        for file, block, value in zip(
            batch.column("file").to_pylist(),
            batch.column("block").to_pylist(),
            batch.column("value").to_pylist(),
            strict=True,
        )
    )
    with tempfile.TemporaryDirectory(prefix="ratecard-lake-") as tmp:
        for (file, block), lines in groupby(rows, key=lambda row: (row[0], row[1])):
            path = Path(tmp) / f"{file}-{block}" / Path(names[file]).name
            path.parent.mkdir()
            count = 0
            with path.open("wb") as out:
                for *_, value in lines:
                    out.write(value)
                    out.write(b"\n")
                    count += 1
            yield from _staged_rows(
                path, file, names[file], UsageFormat(fmt), provider, block, count
            )
            shutil.rmtree(path.parent, ignore_errors=True)


def stage_batches(
    batches: Iterator[pa.RecordBatch], fmt: str | None, provider: str | None
) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function: the files in ``batches`` (file, path, content) staged."""
    with tempfile.TemporaryDirectory(prefix="ratecard-lake-") as tmp:
        for batch in batches:
            for file, path, content in zip(
                batch.column("file").to_pylist(),
                batch.column("path").to_pylist(),
                batch.column("content").to_pylist(),
                strict=True,
            ):
                yield from stage_one(
                    Path(tmp),
                    int(file),
                    listed_path(str(path)),
                    bytes(content),
                    UsageFormat(fmt) if fmt else None,
                    provider,
                )
