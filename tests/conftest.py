"""Fixtures: a fresh warehouse file per test (a copy of one migrated once per session), the
frozen test price sheets, and helpers that write usage records the way gateways and clients
log them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.prices import load_prices
from ingest.usage import UsageFormat, UsageLoad, ingest_usage
from warehouse import connect

TEST_SHEETS = Path(__file__).parent / "data" / "price_sheets"


_TEMPLATE: list[Path] = []
"""Where this session's blank warehouse is (set by the ``template_warehouse`` fixture)."""


@pytest.fixture(scope="session", autouse=True)
def template_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blank warehouse migrated once per session, by the migration runner itself (so it
    holds whatever the migrations build, whatever they are called); tests copy the file."""
    path = tmp_path_factory.mktemp("template") / "warehouse.duckdb"
    connect(path).close()
    _TEMPLATE[:] = [path]
    return path


def blank_warehouse(path: Path) -> Path:
    """A copy of the session's blank warehouse at ``path``: this version's schema, without
    migrating (a test of the migrations or of creating a warehouse connects to a new path)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if _TEMPLATE:  # outside a pytest session, connecting migrates the new file as ever
        shutil.copyfile(_TEMPLATE[0], path)
    return path


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An empty warehouse in a real DuckDB file, at this version's schema."""
    connection = connect(blank_warehouse(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def priced(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A warehouse holding the frozen test price sheets."""
    load_prices(con, [TEST_SHEETS])
    return con


def sell_at_odd(con: duckdb.DuckDBPyConnection, folder: Path, prices: str) -> None:
    """Load a one-model sheet for provider `odd` selling minimax-m3 (wire id m3, per 1M)
    with these periods."""
    path = folder / "odd.yml"
    path.write_text(
        "provider: odd\nname: Odd\nsource: tests\nchecked_on: 2026-11-01\nmodels:\n"
        f"  - {{id: m3, canonical: minimax-m3, unit: 1M, prices: [{prices}]}}\n",
        encoding="utf-8",
    )
    load_prices(con, [path])


def chat(
    *,
    ts: str = "2026-10-01T12:00:00Z",
    provider: str = "reapi",
    model: str = "minimax/minimax-m3",
    prompt: int = 100,
    completion: int = 10,
    cached: int | None = None,
    reasoning: int | None = None,
    call_id: str | None = None,
    team: str = "search",
    project: str = "ranker",
    api_key: str = "sk-test-1",
) -> dict[str, Any]:
    """A gateway-log record of a successful OpenAI chat completion."""
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    body = {
        "id": call_id or f"chatcmpl-{ts}-{model}-{prompt}-{completion}",
        "object": "chat.completion",
        "model": model,
        "choices": [],
        "usage": usage,
    }
    return {
        "ts": ts,
        "provider": provider,
        "model": model,
        "team": team,
        "project": project,
        "api_key": api_key,
        "status_code": 200,
        "response": body,
    }


def error(
    status: int,
    *,
    ts: str = "2026-10-01T12:00:00Z",
    provider: str = "reapi",
    model: str = "minimax/minimax-m3",
) -> dict[str, Any]:
    """A gateway-log record of a failed call with an OpenAI-shaped error envelope."""
    return {
        "ts": ts,
        "provider": provider,
        "model": model,
        "team": "search",
        "project": "ranker",
        "api_key": "sk-test-1",
        "status_code": status,
        "response": {
            "error": {"message": "failed", "type": f"error_{status}", "code": str(status)}
        },
    }


def write_jsonl(path: Path, records: Sequence[dict[str, Any] | str]) -> Path:
    """One record per line; strings are written as they are (for broken lines)."""
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record if isinstance(record, str) else json.dumps(record))
            handle.write("\n")
    return path


def ingest_records(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    records: Sequence[dict[str, Any] | str],
    name: str = "usage.jsonl",
    fmt: UsageFormat | None = None,
) -> UsageLoad:
    return ingest_usage(con, write_jsonl(tmp_path / name, records), fmt=fmt)


def costs(con: duckdb.DuckDBPyConnection, call_id: str) -> dict[str, Any]:
    """The bill of one call, by column name."""
    relation = con.execute(
        "SELECT c.status, b.* FROM call_costs b "
        "JOIN calls c USING (batch_id, source_line, source_item) WHERE c.call_id = ?",
        [call_id],
    )
    names = [d[0] for d in relation.description]
    row = relation.fetchone()
    assert row is not None, f"no bill for {call_id}"
    return dict(zip(names, row, strict=True))


def file_of(con: duckdb.DuckDBPyConnection) -> str:
    """The warehouse file behind a connection, for code that opens it by path."""
    return str(
        con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0][0]
    )


def D(text: str) -> Decimal:
    return Decimal(text)


def sample_warehouse(folder: Path, calls: int = 3_000) -> Path:
    """A warehouse file of the demo's sample traffic under the shipped price sheets."""
    from ratecard import sample
    from ratecard.cli import PRICE_SHEETS

    files = sample.generate(folder / "sample", calls)
    db = blank_warehouse(folder / "sample.duckdb")
    con = connect(db)
    with resources.as_file(PRICE_SHEETS) as sheets:
        load_prices(con, [sheets])
    for path in (files.gateway_log, files.runware_log):
        ingest_usage(con, path)
    con.close()
    return db


def lake_inputs(folder: Path) -> list[Path]:
    """The lake's parity inputs (tests/test_lake*.py): the demo's sample traffic, a
    hand-written log with duplicates, conflicts, bad lines and failed calls, every other wire
    format, and a call whose team and project a spreadsheet would run, in the order both
    paths ingest them."""
    from test_readers import otel_line

    from ratecard import sample

    files = sample.generate(folder / "sample", 400)
    mixed = write_jsonl(
        folder / "mixed.jsonl",
        [
            chat(call_id="h1", prompt=1000, completion=100, cached=200),
            chat(call_id="h2", ts="2026-10-20T08:00:00Z", prompt=1000, completion=100, cached=200),
            chat(call_id="h1", prompt=1000, completion=100, cached=200),  # a duplicate
            chat(call_id="h2", ts="2026-10-20T08:00:00Z", prompt=999),  # a conflict in the file
            '{"ts": "2026-10-01T12:00:00Z", "provider": "reapi"',  # cut short
            error(500),
            chat(call_id="h3", provider="nobody", model="m"),  # no sheet: unpriced
            chat(call_id="h4", ts="2026-11-03T00:00:00Z", provider="runapi", prompt=50),
        ],
    )
    later = write_jsonl(
        folder / "later.jsonl",
        [
            chat(call_id="h1", prompt=1000, completion=100, cached=200),  # seen in mixed
            chat(call_id="h2", ts="2026-10-20T08:00:00Z", prompt=999),  # that conflict again
            chat(call_id="h1", prompt=7),  # a conflict with a call of another file
            '{"ts": "2026-10-01T12:00:00Z", "provider": "reapi"',  # quarantined before
            chat(call_id="h5", ts="2026-12-31T23:59:59Z", prompt=10),
        ],
    )
    flat_csv = folder / "flat.csv"
    flat_csv.write_text(
        "call_id,ts,provider,model,status,input_tokens,output_tokens,team\n"
        "f1,2026-10-02T00:00:00Z,reapi,minimax/minimax-m3,ok,300,30,ops\n"
        "f2,2026-10-02T00:00:00Z,reapi,minimax/minimax-m3,ok,-5,30,ops\n",
        encoding="utf-8",
    )
    flat_jsonl = write_jsonl(
        folder / "flat.jsonl",
        [
            {
                "call_id": "j1",
                "ts": "2026-10-03T00:00:00Z",
                "provider": "vtrix",
                "model": "MiniMax-M3",
                "input_tokens": 1200,
                "output_tokens": 80,
            },
        ],
    )
    otel = folder / "spans.jsonl"
    otel.write_text(
        otel_line(
            [
                {
                    "span_id": "s1",
                    "gen_ai.provider.name": "reapi",
                    "gen_ai.request.model": "minimax/minimax-m3",
                    "gen_ai.response.id": "otel-1",
                    "gen_ai.usage.input_tokens": 400,
                    "gen_ai.usage.output_tokens": 40,
                }
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    # names a spreadsheet would run as formulas: CSVs write them quoted (reports/spreadsheet.py)
    cells = write_jsonl(
        folder / "cells.jsonl",
        [
            chat(
                call_id="x1",
                ts="2026-10-05T09:00:00Z",
                team='=HYPERLINK("http://evil.example","x")',
                project="+SUM(1)",
            )
        ],
    )
    return [files.gateway_log, files.runware_log, mixed, later, flat_csv, flat_jsonl, otel, cells]


def embedded_warehouse(folder: Path, inputs: list[Path]) -> duckdb.DuckDBPyConnection:
    """The embedded warehouse of ``inputs`` under the shipped sheets, to compare a lake with."""
    from ratecard.cli import PRICE_SHEETS

    con = connect(folder / "embedded.duckdb")
    with resources.as_file(PRICE_SHEETS) as sheets:
        load_prices(con, [sheets])
    for path in inputs:
        ingest_usage(con, path)
    return con


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A Spark session in local mode for a lake test module (pyspark imported only here)."""
    from lake.spark import session

    spark = session("local[2]")
    yield spark
    spark.stop()
