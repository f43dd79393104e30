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
