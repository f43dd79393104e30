"""Usage ingest: every record is loaded, a duplicate, or quarantined with line and reason;
re-ingesting changes nothing; keys are stored only as fingerprints."""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import TEST_SHEETS, chat, error, ingest_records, write_jsonl
from ingest.prices import load_prices
from ingest.usage import UsageFormat, UsageLoad, detect_format, ingest_usage
from warehouse import RatecardError, connect


def table(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in con.execute(sql).fetchall()]


def ingest_lines(con: duckdb.DuckDBPyConnection, path: Path, lines: list[bytes]) -> UsageLoad:
    """A JSONL file of exactly these bytes, one line each (for bytes that are not UTF-8)."""
    path.write_bytes(b"\n".join(lines) + b"\n")
    return ingest_usage(con, path)


def test_a_file_of_bad_records_loses_nothing(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    good = chat(call_id="good-1")
    records: list[dict[str, object] | str] = [
        good,  # 1 loaded
        "this is not json",  # 2
        '{"ts": "2026-10-01T00:00:00Z", "provider": "reapi", "mod',  # 3 truncated
        "[1, 2, 3]",  # 4 not an object
        {k: v for k, v in chat(call_id="b5").items() if k != "ts"},  # 5 no ts
        # 6 no model in the log or the body (the body's model fills in for the log's)
        {k: v for k, v in chat(call_id="b6").items() if k != "model"}
        | {"response": {"id": "b6", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}},
        chat(call_id="b7", prompt=-5),  # 7 negative
        chat(call_id="b8", prompt=100, cached=101),  # 8 cache > input
        chat(call_id="b9", completion=10, reasoning=11),  # 9 reasoning > output
        chat(call_id="b10") | {"ts": "next tuesday"},  # 10 not a time
        chat(call_id="b11", prompt=12.5),  # type: ignore[arg-type]    # 11 fractional
        chat(call_id="b12") | {"provider": ""},  # 12 no provider
        chat(call_id="b13") | {"response": {"id": "b13"}},  # 13 ok without usage
        chat(call_id="b14") | {"status_code": "two hundred"},  # 14 bad status
        "",  # 15 blank: no record
        good,  # 16 duplicate
        # 17, 18 numbers, but no HTTP status: too big for the column, then for an integer
        chat(call_id="b17") | {"status_code": 32768},
        chat(call_id="b18") | {"status_code": 99999999999},
    ]
    load = ingest_records(priced, tmp_path, records)
    assert (load.records_read, load.loaded, load.duplicates, load.quarantined) == (17, 1, 1, 15)
    assert load.records_read == load.loaded + load.duplicates + load.quarantined
    reasons = {
        line: reason for line, reason in table(priced, "SELECT source_line, reason FROM quarantine")
    }
    assert reasons == {
        2: "not valid JSON (truncated or malformed line)",
        3: "not valid JSON (truncated or malformed line)",
        4: "not a JSON object",
        5: "missing ts",
        6: "missing model",
        7: "input tokens are negative: -5",
        8: "cache tokens (101 read + 0 written) exceed input tokens (100)",
        9: "reasoning tokens (11) exceed output tokens (10)",
        10: "ts is not a time: next tuesday",
        11: "input tokens are not a whole number: 12.5",
        12: "missing provider",
        13: "successful call without token usage: cannot be billed",
        14: "status_code is not an HTTP status: two hundred",
        17: "status_code is not an HTTP status: 32768",
        18: "status_code is not an HTTP status: 99999999999",
    }
    batch = table(
        priced,
        "SELECT records_read, loaded, duplicates, quarantined FROM batches WHERE kind = 'usage'",
    )
    assert batch == [(17, 1, 1, 15)]


def test_reingesting_a_file_changes_nothing(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    records: list[dict[str, object] | str] = [
        chat(call_id="a"),
        chat(call_id="b", prompt=7),
        error(429),
        "garbage",
    ]
    first = ingest_records(priced, tmp_path, records)
    assert (first.loaded, first.duplicates, first.quarantined) == (3, 0, 1)

    def snapshot() -> list[list[tuple[object, ...]]]:
        return [
            table(priced, f"SELECT * EXCLUDE (batch_id) FROM {name} ORDER BY ALL")
            for name in ("calls", "call_costs", "quarantine", "daily_rollup")
        ]

    before = snapshot()
    again = ingest_records(priced, tmp_path, records)
    assert (again.records_read, again.loaded, again.duplicates, again.quarantined) == (4, 0, 4, 0)
    assert snapshot() == before


def test_same_call_id_with_different_content_is_a_conflict(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load = ingest_records(
        priced, tmp_path, [chat(call_id="c1", prompt=10), chat(call_id="c1", prompt=99)]
    )
    assert (load.loaded, load.duplicates, load.quarantined) == (1, 0, 1)
    assert table(priced, "SELECT call_id, source_line, reason FROM quarantine") == [
        (
            "c1",
            2,
            "conflict: call_id c1 appears at line 1 of this file with different "
            "content; fix the record or the id",
        )
    ]
    later = ingest_records(priced, tmp_path, [chat(call_id="c1", prompt=55)], name="later.jsonl")
    assert (later.loaded, later.quarantined) == (0, 1)
    reason = table(priced, f"SELECT reason FROM quarantine WHERE batch_id = {later.batch_id}")[0][0]
    assert f"was already loaded from {tmp_path / 'usage.jsonl'} line 1" in str(reason)
    # billed once, at the first record's tokens: 10 x 0.30 / 1M + 10 x 1.20 / 1M
    assert table(priced, "SELECT count(*), sum(total_cost) FROM call_costs") == [
        (1, Decimal("0.000015"))
    ]


def test_ids_sharing_a_key_are_still_told_apart(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # the duplicate check finds candidates by the 64-bit key of each id and decides on the id
    # itself; with every id given the same key, distinct ids must still all load
    priced.execute("CREATE OR REPLACE MACRO id_key(id) AS CAST(7 AS UBIGINT)")
    first = ingest_records(
        priced,
        tmp_path,
        [
            chat(call_id="k1", prompt=10),
            chat(call_id="k2", prompt=20),
            chat(call_id="k1", prompt=10),  # duplicate of line 1
            chat(call_id="k3", prompt=30),
            chat(call_id="k2", prompt=21),  # conflict with line 2
        ],
    )
    assert (first.loaded, first.duplicates, first.quarantined) == (3, 1, 1)
    assert table(priced, "SELECT call_id, source_line FROM quarantine") == [("k2", 5)]
    later = ingest_records(
        priced,
        tmp_path,
        [chat(call_id="k4", prompt=40), chat(call_id="k3", prompt=30), chat(call_id="k1")],
        name="later.jsonl",
    )
    # k4 is new, k3 the same call again, k1 (the default 100 prompt tokens) differs from line 1
    assert (later.loaded, later.duplicates, later.quarantined) == (1, 1, 1)
    assert table(priced, "SELECT call_id, input_tokens FROM calls ORDER BY call_id") == [
        ("k1", 10),
        ("k2", 20),
        ("k3", 30),
        ("k4", 40),
    ]


def test_api_keys_are_stored_only_as_fingerprints(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    secret = "sk-live-do-not-store-me"
    ingest_records(
        priced,
        tmp_path,
        [chat(call_id="k1", api_key=secret), chat(call_id="k2", api_key=secret, prompt=-1)],
    )
    expected = "key_" + hashlib.sha256(secret.encode()).hexdigest()[:16]
    assert table(priced, "SELECT api_key_id FROM calls") == [(expected,)]
    dump = json.dumps(table(priced, "SELECT * FROM calls"), default=str) + json.dumps(
        table(priced, "SELECT * FROM quarantine"), default=str
    )
    assert secret not in dump
    assert '"api_key": "<redacted>"' in dump.replace('\\"', '"')


def test_unreadable_bytes_are_quarantined_with_their_line(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    lines = [json.dumps(chat(call_id=f"m{i}")).encode() for i in range(1, 7)]
    lines[1] = b'{"ts": "2026-10-01T00:00:00Z", "bad": "\xff\xfe"}'
    lines[4] = b'{"also": "\xc3\x28"}'
    load = ingest_lines(priced, tmp_path / "mixed.jsonl", lines)
    assert (load.records_read, load.loaded, load.quarantined) == (6, 4, 2)
    assert table(priced, "SELECT source_line, reason FROM quarantine ORDER BY 1") == [
        (2, "not valid UTF-8 text"),
        (5, "not valid UTF-8 text"),
    ]
    # the lines after a rejected one keep their true line numbers
    assert table(priced, "SELECT call_id, source_line FROM calls ORDER BY source_line") == [
        ("m1", 1),
        ("m3", 3),
        ("m4", 4),
        ("m6", 6),
    ]


def test_line_numbers_count_blank_lines_several_calls_per_line_and_unreadable_lines(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # lines are numbered after staging, from each row's place (number_lines.sql): a line with
    # two calls, blank lines and a line the reader rejects must not shift the numbers after
    def task(uuid: str) -> dict[str, object]:
        return {
            "taskType": "textInference",
            "taskUUID": uuid,
            "usage": {"promptTokens": 10, "completionTokens": 5, "totalTokens": 15},
        }

    two_results = chat() | {
        "provider": "runware",
        "model": "minimax-m3",
        "response": {"data": [task("t1"), task("t2")]},
    }
    lines = [
        json.dumps(chat(call_id="c1")).encode(),  # 1
        b"",  # 2 blank
        b"   ",  # 3 blank
        json.dumps(two_results).encode(),  # 4: calls t1 and t2 (items 0 and 1)
        b"oops",  # 5
        b'{"bad": "\xff"}',  # 6 not UTF-8: rejected by the reader
        json.dumps(chat(call_id="c7")).encode(),  # 7
        b"\t",  # 8 blank
        b"nope",  # 9
        json.dumps(two_results | {"response": {"data": [task("t3"), task("t4")]}}).encode(),
        json.dumps(chat(call_id="c11")).encode(),  # 11
    ]
    load = ingest_lines(priced, tmp_path / "numbered.jsonl", lines)
    assert (load.records_read, load.loaded, load.quarantined) == (10, 7, 3)
    assert table(priced, "SELECT source_line, reason FROM quarantine ORDER BY 1") == [
        (5, "not valid JSON (truncated or malformed line)"),
        (6, "not valid UTF-8 text"),
        (9, "not valid JSON (truncated or malformed line)"),
    ]
    assert table(
        priced, "SELECT call_id, source_line, source_item FROM calls ORDER BY call_id"
    ) == [
        ("c1", 1, 0),
        ("c11", 11, 0),
        ("c7", 7, 0),
        ("t1", 4, 0),
        ("t2", 4, 1),
        ("t3", 10, 0),
        ("t4", 10, 1),
    ]


def test_consecutive_unreadable_lines_keep_the_numbers_after_them(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # found by the property test: two rejected lines in a row shifted the next record by one
    bad = b'{"x": "\xff"}'
    lines = [json.dumps(chat(call_id="r1")).encode(), bad, bad, bad]
    lines.append(json.dumps(chat(call_id="r5")).encode())
    load = ingest_lines(priced, tmp_path / "run.jsonl", lines)
    assert (load.records_read, load.loaded, load.quarantined) == (5, 2, 3)
    assert table(priced, "SELECT call_id, source_line FROM calls ORDER BY 2") == [
        ("r1", 1),
        ("r5", 5),
    ]
    assert table(priced, "SELECT source_line FROM quarantine ORDER BY 1") == [(2,), (3,), (4,)]


def test_flat_csv_with_optional_columns_left_out(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "call_id,ts,provider,model,status,input_tokens,cache_read_tokens,output_tokens,team\n"
        "f1,2026-10-01T10:00:00Z,reapi,minimax/minimax-m3,ok,12000,2000,900,search\n"
        "f2,2026-10-01T10:00:01Z,reapi,minimax/minimax-m3,failed,0,0,0,search\n"
        "f3,2026-10-01T10:00:02Z,reapi,minimax/minimax-m3,maybe,1,0,1,search\n"
        "f4,2026-10-01T10:00:03Z,reapi,minimax/minimax-m3,ok,1,0\n",
        encoding="utf-8",
    )
    load = ingest_usage(priced, path)
    assert load.format is UsageFormat.FLAT_CSV
    assert (load.records_read, load.loaded, load.quarantined) == (4, 2, 2)
    assert table(priced, "SELECT source_line, reason FROM quarantine ORDER BY 1") == [
        (4, "status must be ok or failed, not maybe"),
        (5, "fewer cells than the header has columns"),
    ]
    # 10,000 x 0.30 / 1M + 2,000 x 0.06 / 1M + 900 x 1.20 / 1M, as in the ReAPI formula
    assert table(
        priced,
        "SELECT call_id, total_cost, team FROM call_costs "
        "JOIN calls USING (batch_id, source_line, source_item) ORDER BY 1",
    ) == [("f1", Decimal("0.0042"), "search"), ("f2", 0, "search")]


def test_csv_with_an_unknown_column_is_refused(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("ts,provider,model,input_tokens,output_tokens,cost_center\n", encoding="utf-8")
    with pytest.raises(RatecardError, match="unknown column 'cost_center'"):
        ingest_usage(priced, path)
    assert table(priced, "SELECT count(*) FROM batches WHERE kind = 'usage'") == [(0,)]


def test_gzip_and_format_detection(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    plain = write_jsonl(tmp_path / "log.jsonl", [chat(call_id="z1"), chat(call_id="z2")])
    packed = tmp_path / "log.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert detect_format(packed) is UsageFormat.GATEWAY_LOG
    flat = write_jsonl(
        tmp_path / "flat.jsonl", ["oops", {"ts": "2026-10-01T00:00:00Z", "input_tokens": 1}]
    )
    assert detect_format(flat) is UsageFormat.FLAT_JSONL
    load = ingest_usage(priced, packed)
    assert (load.records_read, load.loaded) == (2, 2)
    with pytest.raises(RatecardError, match="--format"):
        detect_format(write_jsonl(tmp_path / "odd.jsonl", ['{"x": 1}']))


def test_timestamps_are_stored_in_utc(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest_records(
        priced,
        tmp_path,
        [
            chat(call_id="t1", ts="2026-10-01T14:00:00+02:00"),
            chat(call_id="t2", ts="2026-10-01 12:00:00"),  # no zone: taken as UTC
            chat(call_id="t3", ts="1790856000"),  # Unix seconds
        ],
    )
    rows = table(priced, "SELECT call_id, strftime(ts, '%Y-%m-%dT%H:%M:%S') FROM calls ORDER BY 1")
    assert rows == [
        ("t1", "2026-10-01T12:00:00"),
        ("t2", "2026-10-01T12:00:00"),
        ("t3", "2026-10-01T12:00:00"),
    ]


def test_calls_without_an_id_get_a_stable_one(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    failure = error(500)
    line = json.dumps(failure)
    ingest_records(priced, tmp_path, [failure])
    assert table(priced, "SELECT call_id FROM calls") == [
        ("h:" + hashlib.md5(line.encode()).hexdigest(),)
    ]


def test_control_characters_on_a_line_are_quarantined_not_taken_for_blank(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # found by the property test: a line of one 0x1F byte was read as a blank line
    path = tmp_path / "control.jsonl"
    path.write_bytes(
        b"\x1f\n\n" + json.dumps(chat(call_id="c1")).encode() + b"\n\x1f\x1e\x1d\x1c{}\n"
    )
    load = ingest_usage(priced, path)
    assert (load.records_read, load.loaded, load.quarantined) == (3, 1, 2)
    assert table(priced, "SELECT source_line, reason FROM quarantine ORDER BY 1") == [
        (1, "not valid JSON (truncated or malformed line)"),
        (4, "not valid JSON (raw control characters in the line)"),
    ]


def test_tabs_are_blanks_as_json_says(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # found by the property test: a line of one tab was counted as a record
    path = tmp_path / "tabs.jsonl"
    path.write_bytes(b"\t\n\t" + json.dumps(chat(call_id="t1")).encode() + b"\n \t \n")
    load = ingest_usage(priced, path)
    assert (load.records_read, load.loaded, load.quarantined) == (1, 1, 0)


def test_mixed_line_endings_load_and_a_raw_carriage_return_costs_only_its_line(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # DuckDB's reader refuses a file with a CR anywhere; ingest then reads a repaired copy
    # (ingest/repair.py): CRLF line ends are line ends, a line with a CR inside is quarantined
    path = tmp_path / "cr.jsonl"
    lines = [json.dumps(chat(call_id=f"g{n}")).encode() for n in range(1, 5)]
    lines[2] = lines[2].replace(b'"team"', b'"te\ram"')
    path.write_bytes(lines[0] + b"\r\n" + lines[1] + b"\n" + lines[2] + b"\r\n" + lines[3] + b"\r")
    load = ingest_usage(priced, path)
    assert (load.records_read, load.loaded, load.quarantined, load.problem) == (4, 3, 1, None)
    assert table(priced, "SELECT call_id, source_line FROM calls ORDER BY 2") == [
        ("g1", 1),
        ("g2", 2),
        ("g4", 4),
    ]
    raw = lines[2].decode().replace("sk-test-1", "<redacted>")
    assert table(priced, "SELECT source_line, reason, raw FROM quarantine") == [
        (3, "raw carriage return inside the line (JSON and CSV write it as \\r or in quotes)", raw)
    ]
    # a re-ingest reads the same copy and changes nothing
    again = ingest_usage(priced, path)
    assert (again.records_read, again.loaded, again.duplicates) == (4, 0, 4)


def test_records_are_staged_beside_the_warehouse_and_nothing_is_left_behind(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # ingest stages a file's records in a scratch database beside the warehouse; after a
    # load, a refused file and a failure at commit time, no scratch folder is left, and the
    # connection still loads the next file
    seen: list[list[str]] = []

    def look_beside(con: duckdb.DuckDBPyConnection, batch: int) -> None:
        seen.append(sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ratecard")))

    def fail(con: duckdb.DuckDBPyConnection, batch: int) -> None:
        raise RuntimeError("stop before commit")

    first = write_jsonl(tmp_path / "a.jsonl", [chat(call_id="a1"), chat(call_id="a2")])
    assert ingest_usage(priced, first, before_commit=look_beside).loaded == 2
    assert len(seen) == 1 and len(seen[0]) == 1  # the scratch folder, during the load
    broken = tmp_path / "not-gzip.jsonl.gz"
    broken.write_bytes(json.dumps(chat(call_id="x1")).encode() + b"\n")
    with pytest.raises(RatecardError, match="nothing in it can be read: the compressed data"):
        ingest_usage(priced, broken)
    with pytest.raises(RuntimeError, match="stop before commit"):
        ingest_usage(
            priced, write_jsonl(tmp_path / "b.jsonl", [chat(call_id="b1")]), before_commit=fail
        )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ratecard")]
    again = ingest_usage(priced, write_jsonl(tmp_path / "c.jsonl", [chat(call_id="c1")]))
    assert (again.records_read, again.loaded) == (1, 1)
    assert table(priced, "SELECT call_id FROM calls ORDER BY call_id") == [
        ("a1",),
        ("a2",),
        ("c1",),
    ]
    assert table(
        priced, "SELECT count(*) FROM duckdb_databases() WHERE database_name = 'ingest_scratch'"
    ) == [(0,)]
    # the scratch file is detached without a checkpoint; the global setting is restored, so
    # the warehouse itself still checkpoints when it is closed or detached
    assert table(priced, "SELECT current_setting('checkpoint_on_detach')") == [("DEFAULT",)]


def test_a_file_of_more_than_one_row_group_loads_every_id_exactly_once(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # the scratch table stores call_id in its own way (ingest.usage._staged_table, ADR 0012);
    # past one full row group (122,880 rows), which DuckDB writes out before the checkpoint,
    # every id must still come back as it was, on its own line, and be found again as a
    # duplicate, one in the file included
    records = [chat(call_id=f"chatcmpl-{n:08d}") for n in range(130_000)]
    load = ingest_usage(priced, write_jsonl(tmp_path / "many.jsonl", records))
    assert (load.records_read, load.loaded) == (130_000, 130_000)
    assert table(
        priced,
        "SELECT count(DISTINCT call_id), min(source_line), max(source_line) "
        "FROM calls WHERE call_id = 'chatcmpl-' || lpad((source_line - 1)::VARCHAR, 8, '0')",
    ) == [(130_000, 1, 130_000)]
    again = [records[0], records[129_999], chat(call_id="chatcmpl-new")]
    load = ingest_usage(priced, write_jsonl(tmp_path / "again.jsonl", again))
    assert (load.loaded, load.duplicates, load.quarantined) == (1, 2, 0)


def test_a_warehouse_in_memory_stages_in_the_temporary_folder() -> None:
    con = connect(":memory:")
    load_prices(con, [TEST_SHEETS])
    with tempfile.TemporaryDirectory() as folder:
        path = write_jsonl(Path(folder) / "m.jsonl", [chat(call_id="m1")])
        load = ingest_usage(con, path)
    assert (load.records_read, load.loaded, load.billed) == (1, 1, 1)
    assert table(con, "SELECT call_id FROM calls") == [("m1",)]


@pytest.mark.parametrize(
    "fmt", [UsageFormat.GATEWAY_LOG, UsageFormat.RAW_BODY, UsageFormat.FLAT_JSONL]
)
def test_each_line_is_parsed_once_and_a_malformed_line_in_braces_is_still_caught(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: UsageFormat
) -> None:
    # a line in braces is parsed under TRY (json_line, ingest/sql/macros.sql); one that fails
    # makes DuckDB redo its whole 2,048-line vector row by row, so the good lines around it
    # must still load; an object with blanks around it takes the other path (json_valid
    # first) and loads too
    def record(n: int) -> bytes:
        full = chat(call_id=f"p{n}")
        if fmt is UsageFormat.RAW_BODY:  # a raw body carries its own time
            return json.dumps(full["response"] | {"created": 1790856000}).encode()
        if fmt is UsageFormat.FLAT_JSONL:
            flat = {k: full[k] for k in ("ts", "provider", "model", "team", "project")}
            return json.dumps(
                flat | {"call_id": f"p{n}", "input_tokens": 100, "output_tokens": 10}
            ).encode()
        return json.dumps(full).encode()

    lines = [record(n) for n in range(1, 3001)]
    lines[1499] = b'{"call_id": "broken", "ts": }'  # line 1500: braces, not JSON
    lines[2999] = b"\t" + record(3000) + b" "  # line 3000: blanks around an object
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    load = ingest_usage(priced, path, fmt=fmt, provider="reapi")
    assert (load.records_read, load.loaded, load.quarantined) == (3000, 2999, 1)
    assert table(priced, "SELECT source_line, reason FROM quarantine") == [
        (1500, "not valid JSON (truncated or malformed line)")
    ]
    assert table(priced, "SELECT count(*), min(source_line), max(source_line) FROM calls") == [
        (2999, 1, 3000)
    ]
    assert table(priced, "SELECT call_id FROM calls WHERE source_line = 3000") == [("p3000",)]
