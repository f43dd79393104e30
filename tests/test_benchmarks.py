"""The benchmark in smoke mode, so that it never rots: every step runs on 20,000 calls (step 3
on 1% more, 200), step 1 and its floors also at 2,000 and 4,000 for the size curve, and the
results file comes out whole. The floors are checked for what they read and wrote, never
for how long they took. The full ten-million run (`make bench`) stays out of CI and out of
`make quick`."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from benchmarks.run import increment, main

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One smoke run for the module's tests: its folder, with RESULTS.md and out/."""
    folder = tmp_path_factory.mktemp("bench")
    argv = ["--calls", "20000", "--runs", "1", "--out", str(folder / "out")]
    assert main([*argv, "--results", str(folder / "RESULTS.md"), "--sizes", "2000,4000"]) == 0
    return folder


def test_benchmark_smoke_run(smoke: Path) -> None:
    results = smoke / "RESULTS.md"
    text = results.read_text(encoding="utf-8")
    assert "20,000 calls, median of 1 run(s)" in text
    for row in (
        "1. ingest + bill",
        "floor: bare read_ndjson",
        "floor: read_ndjson with explicit columns and the typed extraction of every shape",
        "floor: page-cache read of the gateway log (cat > /dev/null)",
        "floor: the full calls row written",
        "2. rebill every call",
        "floor: bare range-join bill",
        "3. ingest + bill 200 more calls",
        "4. dashboard queries",
        "genai-prices calc_price loop",
    ):
        assert row in text
    assert increment(10_000_000) == 100_000  # the full run's batch is unchanged
    assert text.count("| yes |") + text.count("| **no** |") == 10  # every target judged
    assert "| Step 1 at most 1.5x the explicit-columns read_ndjson floor" in text
    # the size curve: its two sizes, and the main run's as its last point
    curve = text[text.index("Size curve") :].split("\n\n")[1].splitlines()
    assert [row.split(" | ")[0] for row in curve[2:]] == ["| 2,000", "| 4,000", "| 20,000"]
    # step 2 against its floor at each size, and the target judged over them (none is 1M)
    rebills = text[text.index("Rebill against its floor") :].split("\n\n")[1].splitlines()
    assert [row.split(" | ")[0] for row in rebills[2:]] == ["| 2,000", "| 4,000", "| 20,000"]
    row = next(line for line in text.splitlines() if "Step 2 at most 1x" in line)
    assert "2,000 calls" in row and "4,000 calls" in row and "20,000 calls" in row
    assert "Dashboard in Chromium" not in text  # measured only with --browser
    # the scratch table's storage (ADR 0012), judged by the benchmark rather than by a test
    assert (
        "| Staged call ids stored uncompressed, the other text compressed (ADR 0012) | yes |"
        in text
    )
    assert "call_id: Uncompressed" in text


def test_the_floors_read_and_write_what_ingest_does(smoke: Path) -> None:
    """The same smoke run's floors against ratecard's own ingest of the same file: the
    explicit-columns floor finds the calls, failures and token sums that ingest billed (over
    distinct lines: the generator logs some calls twice, which ingest counts as duplicates),
    the page-cache read reads every byte and line, the write floor writes every call."""
    out = smoke / "out"
    measures = json.loads((out / "measurements.json").read_text(encoding="utf-8"))["measures"]
    (gateway,) = out.glob("data-20000-*/gateway.jsonl")
    with duckdb.connect(str(out / "work" / "base.duckdb"), read_only=True) as con:
        row = con.execute(
            """
            SELECT count(*), count(*) FILTER (status = 'failed'), sum(input_tokens),
                   sum(cache_read_tokens), sum(cache_write_tokens), sum(output_tokens),
                   sum(reasoning_tokens)
            FROM calls WHERE source = $source
            """,
            {"source": str(gateway)},
        ).fetchall()[0]
        all_calls = con.execute("SELECT count(*) FROM calls").fetchall()[0][0]
    names = ("calls", "failed", "input_tokens", "cache_read_tokens", "cache_write_tokens")
    billed = dict(zip((*names, "output_tokens", "reasoning_tokens"), row, strict=True))
    assert billed["calls"] > 15_000 and billed["failed"] > 0 and billed["reasoning_tokens"] > 0
    (columns,) = measures["floor_columns"]["runs"]
    assert columns["sums"] == billed
    lines = len(gateway.read_bytes().splitlines())
    (cat,) = measures["floor_cat"]["runs"]
    assert (cat["records"], cat["bytes"]) == (lines, gateway.stat().st_size)
    assert columns["records"] == lines
    (write,) = measures["floor_write"]["runs"]
    assert write["calls"] == all_calls


def test_the_explicit_columns_floor_reads_every_shape_by_hand(tmp_path: Path) -> None:
    """The shapes the generator never writes (Anthropic cache reads and writes, a Responses
    error), counted by hand: Anthropic's input is its input plus its cache reads and writes,
    a stream's usage is its last usage event, a cut stream and an error body are failed."""
    from benchmarks.steps import floor_columns

    head = {"ts": "2026-01-01T00:00:00Z", "provider": "p", "model": "m", "team": "t"}
    chunk = {"id": "c1", "choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 9}}
    bodies = [
        {
            "status_code": 200,
            "response": {
                "id": "msg_1",
                "type": "message",
                "usage": {
                    "input_tokens": 100,
                    "cache_read_input_tokens": 50,
                    "cache_creation_input_tokens": 10,
                    "output_tokens": 7,
                },
            },
        },
        {
            "status_code": 200,
            "sse": 'data: {"id":"c1","usage":null}\n\n'
            f"data: {json.dumps(chunk, separators=(',', ':'))}\n\ndata: [DONE]\n\n",
        },
        {"status_code": 200, "sse": 'data: {"id":"c2","usage":null}\n\n'},
        {"status_code": 200, "response": {"type": "error", "code": "server_error"}},
        {
            "status_code": 200,
            "response": {
                "id": "resp_1",
                "object": "response",
                "usage": {
                    "input_tokens": 30,
                    "input_tokens_details": {"cached_tokens": 20},
                    "output_tokens": 5,
                    "output_tokens_details": {"reasoning_tokens": 3},
                },
            },
        },
    ]
    log = tmp_path / "log.jsonl"
    log.write_text(
        "".join(json.dumps(head | {"project": str(n)} | b) + "\n" for n, b in enumerate(bodies))
        + '{"ts": "2026-01-01T00:00:01Z", "provider": "p", "resp\n',  # a line cut short
        encoding="utf-8",
    )
    result = floor_columns(str(tmp_path / "floor.duckdb"), str(log))
    assert result["records"] == 6
    assert result["sums"] == {
        "calls": 5,
        "failed": 2,
        "input_tokens": 160 + 40 + 30,
        "cache_read_tokens": 50 + 20,
        "cache_write_tokens": 10,
        "output_tokens": 7 + 9 + 5,
        "reasoning_tokens": 3,
    }


@pytest.mark.browser
def test_the_browser_measurement_visits_every_page(tmp_path: Path) -> None:
    """benchmarks/browser.py over the mid-month warehouse of the browser test: the first load
    and every sidebar page, cold and warm, each drawn with its charts, the websocket's bytes
    counted and the points of its figures. Nothing here judges how long they took."""
    from dashboard_data import make

    from benchmarks.browser import LINKS, measure

    db, budgets = make("mid_month", tmp_path)
    result = measure(str(db), str(budgets))
    assert result["seconds"] == result["first_load"]["seconds"] > 0
    assert result["first_load"]["bytes"] > 0 and result["second_load"] > 0
    for visit in ("cold", "warm"):
        assert set(result[visit]) == set(LINKS)
        for page, seen in result[visit].items():
            assert seen["seconds"] > 0 and seen["bytes"] > 0, (visit, page)
            assert seen["charts"] >= 1 and seen["points"] >= 1, (visit, page)
    # the overview's daily chart: one bar per day and provider with spend in the period
    assert result["warm"]["overview"]["points"] == result["cold"]["overview"]["points"]
