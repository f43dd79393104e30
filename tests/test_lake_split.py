"""A big line-format file is split across Spark's tasks (lake/ingest.py, docs/spark.md "Big
files"): Spark's text source hands each task a block of whole lines, the task stages it with
the embedded ingest's SQL, and the driver numbers each block's records from the lines of the
blocks before it. The lake of a split file must equal the embedded warehouse of the same
file, line numbers and reasons included.

The partition size is set to 4 KB here so that a file of a few hundred lines splits into
many blocks, with the bad lines, a duplicate and a conflict in blocks other than their
first records'. The blocks counted are those the tasks staged (the ``file`` rows of the
staged records, lake/stage.py), not Spark's partitions of a separate read of the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import chat, write_jsonl
from conftest import embedded_warehouse as _warehouse

pyspark = pytest.importorskip("pyspark")

from lake import ingest as lake_ingest  # noqa: E402
from lake.ingest import ingest  # noqa: E402
from lake.stage import stage_blocks  # noqa: E402

pytestmark = pytest.mark.spark

CALL_COLUMNS = (
    "source, source_line, source_item, call_id, ts, provider, model, status, http_status, "
    "input_tokens, cache_read_tokens, output_tokens, team, project, api_key_id"
)
QUARANTINE_COLUMNS = "source, source_line, source_item, call_id, reason, raw, record_hash"
COUNTS = "source, format, records_read, loaded, duplicates, quarantined"


@pytest.fixture
def small_partitions(spark: Any) -> Iterator[None]:
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "4096")
    yield
    spark.conf.set("spark.sql.files.maxPartitionBytes", before)


def _big_log(path: Path) -> Path:
    """300 lines of one gateway log, with the hard cases spread over it."""
    lines: list[dict[str, Any] | str] = []
    for n in range(300):
        day = f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"
        lines.append(chat(call_id=f"c{n}", ts=day, prompt=100 + n, completion=n % 50))
    lines[40] = ""  # a blank line
    lines[77] = '{"ts": "2026-11-02T00:00:00Z", "provider": "reapi"'  # cut short
    lines[150] = chat(call_id="c3", ts="2026-11-04T03:00:00Z", prompt=103, completion=3)  # dup
    lines[151] = chat(call_id="c5", ts="2026-11-06T05:00:00Z", prompt=1)  # a conflict with line 6
    lines[220] = "not json at all"
    data = write_jsonl(path, lines).read_bytes().split(b"\n")
    data[100] = data[100].replace(b'"team": "search"', b'"team": "sea\rrch"')  # raw CR inside
    data[180] = data[180] + b"\r"  # a CRLF line end
    data[250] = b'{"ts": "\xff\xfe not utf-8"}'
    path.write_bytes(b"\n".join(data))  # and no line break after the last line
    return path


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(query).fetchall(), key=repr)


def test_a_split_file_loads_as_the_warehouse_loads_it(
    spark: Any, small_partitions: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # names Spark would read as patterns or URIs: brackets, braces, a space, a percent
    log = _big_log(tmp_path / "big [1]{a,b} %41.jsonl")
    small = write_jsonl(tmp_path / "small[2]*.jsonl", [chat(call_id="s1", prompt=5)])
    # the blocks the tasks staged: the file rows of the staged records, as the ingest reads
    # them back from its staging folder (one per block of a split file, with its start and
    # its count of lines; one per whole file)
    staged: list[tuple[int, int, int | None]] = []
    numbered = lake_ingest._numbered

    def spy(records: Any) -> Any:
        rows = records.where("kind = 'file'").select("file", "block", "lines").collect()
        staged.extend((r.file, r.block, r.lines) for r in rows)
        return numbered(records)

    monkeypatch.setattr(lake_ingest, "_numbered", spy)
    lake = tmp_path / "lake"
    load, other = ingest(spark, [str(log), str(small)], str(lake))
    assert (other.source, other.loaded) == (str(small.resolve()), 1)
    # by hand: 102,928 bytes in blocks of 4,096 bytes are 26 blocks, 25 whole and one of
    # 528 bytes, each staged once, starting at a multiple of 4,096; the small file is one
    # task, read whole (no count of lines)
    data = log.read_bytes()
    assert len(data) == 102_928 == 25 * 4096 + 528
    blocks = sorted((block, lines) for file, block, lines in staged if file == 0)
    assert [block for block, _ in blocks] == [n * 4096 for n in range(26)]
    assert [(file, block, lines) for file, block, lines in staged if file != 0] == [(1, 0, None)]
    # each block staged the lines that start in it (no line starts at a block's first byte
    # but the first, so the line crossing a block's end is its block's), 300 in all
    starts = [0] + [n + 1 for n, byte in enumerate(data[:-1]) if byte == ord("\n")]
    assert len(starts) == 300
    assert not [start for start in starts if start and start % 4096 == 0]
    assert blocks == [
        (n * 4096, sum(1 for start in starts if start // 4096 == n)) for n in range(26)
    ]
    con = _warehouse(tmp_path, [log, small])
    for name in ("calls", "quarantine", "batches"):
        con.execute(
            f"CREATE VIEW lake_{name} AS SELECT * FROM read_parquet("
            f"'{lake}/{name}/**/*.parquet', hive_partitioning = true, union_by_name = true)"
        )
    calls = _rows(con, f"SELECT {CALL_COLUMNS} FROM calls")
    assert _rows(con, f"SELECT {CALL_COLUMNS} FROM lake_calls") == calls
    quarantine = _rows(con, f"SELECT {QUARANTINE_COLUMNS} FROM quarantine")
    assert _rows(con, f"SELECT {QUARANTINE_COLUMNS} FROM lake_quarantine") == quarantine
    assert _rows(con, f"SELECT {COUNTS} FROM lake_batches") == _rows(
        con, f"SELECT {COUNTS} FROM batches WHERE kind = 'usage'"
    )
    # by hand: 300 lines, one blank: 299 records; c3 again is a duplicate; the conflict, the
    # cut line, the CR inside a line, the line that is not JSON and the one that is not
    # UTF-8 are quarantined, each at its own line
    assert (load.records_read, load.loaded, load.duplicates, load.quarantined) == (299, 293, 1, 5)
    reasons = dict(con.execute("SELECT source_line, reason FROM lake_quarantine").fetchall())
    assert sorted(reasons) == [78, 101, 152, 221, 251]
    assert reasons[101].startswith("raw carriage return inside the line")
    assert reasons[152].startswith("conflict: call_id c5 appears at line 6 of this file")
    line_of = dict(con.execute("SELECT call_id, source_line FROM lake_calls").fetchall())
    assert (line_of["c0"], line_of["c181"], line_of["c299"]) == (1, 182, 300)


def test_a_block_is_staged_from_its_own_lines(tmp_path: Path) -> None:
    # the task's side alone: two blocks of one file in one partition, cut across batches
    import pyarrow as pa

    lines: list[dict[str, Any] | str] = [
        chat(call_id="a", prompt=1),
        chat(call_id="b", prompt=2),
        "oops",
        chat(call_id="c", prompt=3),
    ]
    text = write_jsonl(tmp_path / "f.jsonl", lines).read_bytes().splitlines()
    rows = [(7, 0, text[0]), (7, 0, text[1]), (7, 500, text[2]), (7, 500, text[3])]
    batches = [
        pa.RecordBatch.from_pylist(
            [{"file": f, "block": b, "value": v} for f, b, v in part],
            schema=pa.schema([("file", pa.int64()), ("block", pa.int64()), ("value", pa.binary())]),
        )
        for part in (rows[:1], rows[1:3], rows[3:])
    ]
    out = pa.Table.from_batches(
        list(stage_blocks(iter(batches), {7: "f.jsonl"}, "gateway-log", None))
    ).to_pylist()
    files = [(r["block"], r["lines"], r["format"]) for r in out if r["kind"] == "file"]
    assert files == [(0, 2, "gateway-log"), (500, 2, "gateway-log")]
    records = [
        (r["block"], r["source_line"], r["call_id"] if r["reason"] is None else "bad")
        for r in out
        if r["kind"] == "record"
    ]
    assert records == [(0, 1, "a"), (0, 2, "b"), (500, 1, "bad"), (500, 2, "c")]
