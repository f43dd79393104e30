"""Pulling usage exports and price catalogs over HTTP, against a real server on 127.0.0.1.

The server (a thread of http.server) serves a three-page usage export and a catalog, and
can be told to answer a page with 429 + Retry-After, 500, a dropped connection or a slow
response, or to fail until told otherwise. Only the waits between retries are recorded
instead of slept, so the tests stay fast; every request is real.

Under /fault/ it plays the servers a pull must survive without running away: a cursor
cycle, endless empty pages, a drip of one byte at a time (in the body or the headers), a
huge page, a server that is always down, one that never answers. Each fault ends on the
server's side within seconds whatever the client does, so a client without the bound fails
its test instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import chat, file_of
from ingest.catalogs import Catalog, FetchLimits, read_catalog
from ingest.http import RetryPolicy
from ingest.prices import load_points
from ingest.pull import PullLimits, PullStopped, pull_usage
from ratecard.cli import app
from warehouse import RatecardError

TOKEN = "export-token-123"
PAGES: dict[str | None, tuple[list[Any], str | None]] = {
    None: ([chat(call_id="p1a"), chat(call_id="p1b")], "c2"),
    "c2": ([chat(call_id="p2a"), chat(call_id="p2b")], "c3"),
    "c3": ([chat(call_id="p3a")], None),
}
OPENROUTER = {
    "data": [
        {
            "id": "minimax/minimax-m3",
            "canonical_slug": "minimax/minimax-m3-20260101",
            "name": "MiniMax: MiniMax M3",
            "pricing": {
                "prompt": "0.0000003",
                "completion": "0.0000012",
                "input_cache_read": "0.00000006",
                "request": "0",
            },
        },
        {"id": "openrouter/auto", "name": "Auto", "pricing": {"prompt": "-1", "completion": "-1"}},
        {
            "id": "other/model",
            "name": "Other",
            "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        },
    ]
}


class Export:
    """What the server serves, what it was asked, and the faults it is told to play."""

    def __init__(self) -> None:
        self.pages = dict(PAGES)
        self.faults: dict[str | None, list[str]] = {}
        self.requests: list[tuple[str, str | None, str | None]] = []
        self.always_fail: set[str | None] = set()
        self.sent: dict[str, int] = {}
        """Bytes each fault handler got onto the wire before it ended."""
        self.ended: dict[str, threading.Event] = {}
        self.release = threading.Event()
        """Set when the test ends: a hanging handler returns."""

    def ended_event(self, path: str) -> threading.Event:
        return self.ended.setdefault(path, threading.Event())


# /fault/cycle: the first page, then A -> B -> A -> B ...
CYCLE = {None: ("c0", "A"), "A": ("cA", "B"), "B": ("cB", "A")}
DRIP_PAGE = json.dumps({"data": [], "next_cursor": None}).encode()
HUGE = 64 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    export: Export

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _drip(self, path: str, data: bytes, every: float = 0.2) -> None:
        """Write ``data`` a byte at a time; at most 10 s, until the client goes away."""
        sent = 0
        try:
            for byte in data[:50]:
                self.wfile.write(bytes([byte]))
                sent += 1
                if self.export.release.wait(every):
                    break
        except OSError:
            pass
        finally:
            self.export.sent[path] = sent
            self.close_connection = True

    def _fault(self, path: str, cursor: str | None) -> None:
        export = self.export
        count = sum(1 for p, _, _ in export.requests if p == path)
        try:
            if path == "/fault/cycle":  # the server itself ends it after 50 pages
                call, following = CYCLE[cursor]
                self._send(
                    200,
                    {
                        "data": [chat(call_id=call)],
                        "next_cursor": following if count < 50 else None,
                    },
                )
            elif path == "/fault/empty":  # records on the first page and on e2; then nothing
                n = 0 if cursor is None else int(cursor.removeprefix("e"))
                records = [chat(call_id=f"e{n}-{i}") for i in range(2 if n == 0 else 1)]
                ahead = f"e{n + 1}" if n < 400 else None
                self._send(200, {"data": records if n in (0, 2) else [], "next_cursor": ahead})
            elif path == "/fault/drip":  # a page whose body comes one byte at a time
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(DRIP_PAGE)))
                self.end_headers()
                self._drip(path, DRIP_PAGE)
            elif path == "/fault/drip-head":  # and one whose status line and headers do
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(DRIP_PAGE)}\r\n\r\n"
                self._drip(path, head.encode() + DRIP_PAGE)
            elif path == "/fault/huge":  # 64 MB of a valid page, no Content-Length
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                sent = 0
                try:
                    self.wfile.write(b'{"data": [], "next_cursor": null, "pad": "')
                    block = b"x" * 65536
                    while sent < HUGE:
                        self.wfile.write(block)
                        sent += len(block)
                    self.wfile.write(b'"}')
                except OSError:
                    pass
                export.sent[path] = sent
                self.close_connection = True
            elif path == "/fault/huge-declared":  # says it is a gigabyte
                self.send_response(200)
                self.send_header("Content-Length", str(10**9))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(b"{" * 1024)
                self.close_connection = True
            elif path == "/fault/down":  # always 503, asking for half a minute
                self._send(503, {"error": "down"}, {"Retry-After": "30"})
            elif path == "/fault/hang":  # reads the request, never answers (10 s at most)
                export.release.wait(10)
                self.close_connection = True
        finally:
            export.ended_event(path).set()

    def do_GET(self) -> None:
        url = urlparse(self.path)
        cursor = parse_qs(url.query).get("cursor", [None])[0]
        self.export.requests.append((url.path, cursor, self.headers.get("Authorization")))
        if url.path.startswith("/fault/"):
            self._fault(url.path, cursor)
            return
        if url.path == "/catalog/openrouter":
            self._send(200, OPENROUTER)
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"error": "bad token"})
            return
        if cursor in self.export.always_fail:
            self._send(503, {"error": "down"})
            return
        queue = self.export.faults.get(cursor, [])
        fault = queue.pop(0) if queue else None
        if fault == "429":
            self._send(429, {"error": "slow down"}, {"Retry-After": "1"})
        elif fault == "500":
            self._send(500, {"error": "boom"})
        elif fault == "drop":
            self.close_connection = True  # no answer at all: the client sees a disconnect
        else:
            if fault == "slow":
                time.sleep(1.0)  # longer than the client's timeout
            records, next_cursor = self.export.pages[cursor]
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(200, {"data": records, "next_cursor": next_cursor})


@pytest.fixture
def server() -> Iterator[tuple[str, Export]]:
    export = Export()
    handler = type("BoundHandler", (Handler,), {"export": export})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", export
    finally:
        export.release.set()
        httpd.shutdown()
        httpd.server_close()


class Waits(list[float]):
    """Stands in for time.sleep: records each wait between retries."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


FAST = RetryPolicy(attempts=4, backoff=0.05, max_wait=5.0)


def loaded_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY call_id").fetchall()]


def test_pages_are_followed_with_the_token_from_the_environment(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, export = server
    monkeypatch.setenv("EXPORT_TOKEN", TOKEN)
    result = pull_usage(priced, f"{base}/usage", token_env="EXPORT_TOKEN", policy=FAST)
    assert (result.pages, result.records_read, result.loaded, result.finished) == (3, 5, 5, True)
    assert loaded_ids(priced) == ["p1a", "p1b", "p2a", "p2b", "p3a"]
    assert [(path, cursor) for path, cursor, _ in export.requests] == [
        ("/usage", None),
        ("/usage", "c2"),
        ("/usage", "c3"),
    ]
    assert {auth for _, _, auth in export.requests} == {f"Bearer {TOKEN}"}
    assert priced.execute(
        "SELECT cursor, finished, pages, records FROM pull_cursors"
    ).fetchall() == [("c3", True, 3, 5)]
    # each page is a batch named after the page it came from
    assert priced.execute(
        "SELECT source, loaded FROM batches WHERE kind = 'usage' ORDER BY batch_id"
    ).fetchall() == [
        (f"{base}/usage (first page)", 2),
        (f"{base}/usage (cursor c2)", 2),
        (f"{base}/usage (cursor c3)", 1),
    ]

    # the export grows; the next pull re-reads the last page and goes on from there
    export.pages["c3"] = (PAGES["c3"][0], "c4")
    export.pages["c4"] = ([chat(call_id="p4a")], None)
    again = pull_usage(priced, f"{base}/usage", token_env="EXPORT_TOKEN", policy=FAST)
    assert (again.resumed_from, again.pages, again.loaded, again.duplicates) == ("c3", 2, 1, 1)
    assert loaded_ids(priced) == ["p1a", "p1b", "p2a", "p2b", "p3a", "p4a"]


def test_429_500_a_dropped_connection_and_a_slow_answer_are_retried(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, export = server
    monkeypatch.setenv("EXPORT_TOKEN", TOKEN)
    export.faults = {None: ["429", "500"], "c2": ["drop"], "c3": ["slow"]}
    waits = Waits()
    result = pull_usage(
        priced, f"{base}/usage", token_env="EXPORT_TOKEN", policy=FAST, timeout=0.3, sleep=waits
    )
    assert (result.pages, result.loaded, result.duplicates) == (3, 5, 0)
    assert loaded_ids(priced) == ["p1a", "p1b", "p2a", "p2b", "p3a"]
    # Retry-After: 1 is honoured; the others back off 0.05 s, then 0.1 s
    assert waits == [1.0, 0.1, 0.05, 0.05]
    assert [cursor for _, cursor, _ in export.requests] == [
        None,
        None,
        None,
        "c2",
        "c2",
        "c3",
        "c3",
    ]


def test_an_interrupted_pull_resumes_without_gaps_or_duplicates(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, export = server
    monkeypatch.setenv("EXPORT_TOKEN", TOKEN)
    export.always_fail = {"c3"}
    with pytest.raises(
        RatecardError,
        match=r"cursor c3\): HTTP 503 after 4 attempt\(s\); run "
        "the same command again later",
    ):
        pull_usage(priced, f"{base}/usage", token_env="EXPORT_TOKEN", policy=FAST, sleep=Waits())
    assert loaded_ids(priced) == ["p1a", "p1b", "p2a", "p2b"]
    assert priced.execute("SELECT cursor, finished FROM pull_cursors").fetchall() == [("c3", False)]
    export.always_fail = set()
    result = pull_usage(priced, f"{base}/usage", token_env="EXPORT_TOKEN", policy=FAST)
    assert (result.resumed_from, result.pages, result.loaded, result.duplicates) == ("c3", 1, 1, 0)
    assert loaded_ids(priced) == ["p1a", "p1b", "p2a", "p2b", "p3a"]


def test_a_missing_or_wrong_token_says_what_to_do(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = server
    monkeypatch.delenv("EXPORT_TOKEN", raising=False)
    with pytest.raises(RatecardError, match="environment variable EXPORT_TOKEN is not set"):
        pull_usage(priced, f"{base}/usage", token_env="EXPORT_TOKEN")
    monkeypatch.setenv("EXPORT_TOKEN", "wrong")
    with pytest.raises(
        RatecardError,
        match=r"HTTP 401 after 1 attempt\(s\); check the token "
        r"in \$EXPORT_TOKEN",
    ):
        pull_usage(priced, f"{base}/usage", token_env="EXPORT_TOKEN", policy=FAST)
    assert loaded_ids(priced) == []


def test_pull_usage_and_prices_from_the_command_line(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export], tmp_path: Path
) -> None:
    base, _ = server
    db = file_of(priced)
    priced.close()
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["pull", "usage", f"{base}/usage", "--db", db, "--token-env", "EXPORT_TOKEN"],
        env={"EXPORT_TOKEN": TOKEN},
    )
    assert result.exit_code == 0, result.output
    assert "3 pages from the first page; read 5 = loaded 5 + duplicates 0 + quarantined 0" in (
        result.stdout
    )
    result = runner.invoke(
        app,
        [
            "pull",
            "prices",
            "openrouter",
            "--from",
            f"{base}/catalog/openrouter",
            "--match",
            "minimax",
            "--db",
            db,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 models, 1 price points for openrouter" in result.stdout
    con = duckdb.connect(db, read_only=True)
    try:
        assert con.execute(
            "SELECT provider, model, canonical_model, unit_tokens, input_rate, output_rate, "
            "cache_read_rate, request_rate FROM price_points WHERE provider = 'openrouter'"
        ).fetchall() == [
            (
                "openrouter",
                "minimax/minimax-m3",
                "minimax-m3",
                1_000_000,
                Decimal("0.3"),
                Decimal("1.2"),
                Decimal("0.06"),
                None,
            )
        ]
        assert con.execute(
            "SELECT alias, model FROM model_aliases WHERE provider = 'openrouter'"
        ).fetchall() == [("minimax/minimax-m3-20260101", "minimax/minimax-m3")]
    finally:
        con.close()


def test_openrouter_catalog_skips_variable_prices_and_keeps_exact_rates() -> None:
    result = read_catalog(Catalog.OPENROUTER, "openrouter.json", text=json.dumps(OPENROUTER))
    assert [(p.model, p.input_rate, p.output_rate) for p in result.points] == [
        ("minimax/minimax-m3", Decimal("0.3"), Decimal("1.2")),
        ("other/model", Decimal("1"), Decimal("2")),
    ]
    assert result.skipped == [
        ("openrouter/auto", "variable pricing (a negative price): not a rate")
    ]


def test_litellm_catalog_with_long_context_tiers() -> None:
    catalog = {
        "sample_spec": {"input_cost_per_token": 0},
        "minimax/MiniMax-M2": {
            "litellm_provider": "minimax",
            "mode": "chat",
            "input_cost_per_token": 3e-07,
            "output_cost_per_token": 1.2e-06,
            "cache_read_input_token_cost": 3e-08,
            "cache_creation_input_token_cost": 3.75e-07,
            "input_cost_per_token_above_200k_tokens": 6e-07,
            "output_cost_per_token_above_200k_tokens": 2.4e-06,
        },
        "minimax/speech-02-hd": {
            "litellm_provider": "minimax",
            "mode": "audio_speech",
            "input_cost_per_character": 0.0001,
        },
        "gpt-4o": {
            "litellm_provider": "openai",
            "input_cost_per_token": 2.5e-06,
            "output_cost_per_token": 1e-05,
        },
    }
    # the numbers exactly as LiteLLM's file writes them (exponent notation)
    text = json.dumps(catalog)
    result = read_catalog(Catalog.LITELLM, "litellm.json", text=text, match=["minimax"])
    rows = [
        (
            p.provider,
            p.model,
            p.above_input_tokens,
            p.input_rate,
            p.output_rate,
            p.cache_read_rate,
            p.cache_write_rate,
            p.aliases,
        )
        for p in result.points
    ]
    assert rows == [
        (
            "minimax",
            "MiniMax-M2",
            None,
            Decimal("0.3"),
            Decimal("1.2"),
            Decimal("0.03"),
            Decimal("0.375"),
            ("minimax/MiniMax-M2",),
        ),
        # above 200K the tier repeats the rates it does not change
        (
            "minimax",
            "MiniMax-M2",
            200_000,
            Decimal("0.6"),
            Decimal("2.4"),
            Decimal("0.03"),
            Decimal("0.375"),
            ("minimax/MiniMax-M2",),
        ),
    ]


def test_genai_prices_catalog_with_history_and_per_dimension_tiers(
    con: duckdb.DuckDBPyConnection,
) -> None:
    data = [
        {
            "id": "acme",
            "name": "Acme",
            "models": [
                {
                    "id": "acme-1",
                    "match": {"or": [{"equals": "acme-1"}, {"equals": "Acme-One"}]},
                    "prices": [
                        {"prices": {"input_mtok": "1", "output_mtok": "4"}},
                        {
                            "constraint": {"start_date": "2026-06-01"},
                            "prices": {
                                "input_mtok": {
                                    "base": "0.5",
                                    "tiers": [{"start": 100000, "price": "1"}],
                                },
                                "output_mtok": "2",
                                "cache_read_mtok": {
                                    "base": "0.05",
                                    "tiers": [{"start": 200000, "price": "0.1"}],
                                },
                                "requests_kcount": "1.5",
                            },
                        },
                    ],
                },
                {
                    "id": "acme-night",
                    "match": {"equals": "acme-night"},
                    "prices": [
                        {
                            "constraint": {"start_time": "00:00:00", "end_time": "06:00:00"},
                            "prices": {"input_mtok": "1", "output_mtok": "1"},
                        }
                    ],
                },
            ],
        }
    ]
    result = read_catalog(Catalog.GENAI_PRICES, "genai.json", text=json.dumps(data))
    rows = [
        (
            p.effective_from.date().isoformat(),
            p.effective_to.date().isoformat() if p.effective_to else None,
            p.above_input_tokens,
            p.input_rate,
            p.output_rate,
            p.cache_read_rate,
            p.request_rate,
        )
        for p in result.points
    ]
    assert rows == [
        ("1970-01-01", "2026-06-01", None, Decimal("1"), Decimal("4"), None, None),
        (
            "2026-06-01",
            None,
            None,
            Decimal("0.5"),
            Decimal("2"),
            Decimal("0.05"),
            Decimal("0.0015"),
        ),
        (
            "2026-06-01",
            None,
            100_000,
            Decimal("1"),
            Decimal("2"),
            Decimal("0.05"),
            Decimal("0.0015"),
        ),
        (
            "2026-06-01",
            None,
            200_000,
            Decimal("1"),
            Decimal("2"),
            Decimal("0.1"),
            Decimal("0.0015"),
        ),
    ]
    assert result.points[0].aliases == ("Acme-One",)
    assert result.skipped == [
        ("acme: models[1] acme-night", "a time-of-day price cannot be a price point")
    ]
    load = load_points(con, result.points, fmt="catalog:genai-prices")
    assert (load.providers, load.points) == (("acme",), 4)


def test_a_catalog_that_is_not_json_or_not_the_right_shape(tmp_path: Path) -> None:
    with pytest.raises(RatecardError, match="not JSON"):
        read_catalog(Catalog.OPENROUTER, "x", text="<html>")
    with pytest.raises(RatecardError, match="not an OpenRouter model list"):
        read_catalog(Catalog.OPENROUTER, "x", text="[]")
    with pytest.raises(RatecardError, match="no such file"):
        read_catalog(Catalog.LITELLM, str(tmp_path / "missing.json"))


# Faulty servers: each pull below is bounded by the fix under test, and ends on the server's
# side within seconds without it (so the test fails instead of hanging).


def cursor_row(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT cursor, finished, pages FROM pull_cursors").fetchall()


def test_a_cursor_cycle_stops_at_the_first_cursor_read_twice(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export]
) -> None:
    base, export = server
    url = f"{base}/fault/cycle"
    with pytest.raises(PullStopped) as stop:
        pull_usage(priced, url, policy=FAST)
    assert str(stop.value) == (
        f"{url} (cursor B): the export's next cursor, A, is one this pull has read already (a "
        "cursor cycle: it would hand out the same pages for ever); stopped after 3 pages (read "
        "3 = loaded 3 + duplicates 0 + quarantined 0), with this page saved: the next pull "
        "re-reads it; if the export keeps cycling, tell its owner (or start over with --restart)"
    )
    result = stop.value.result
    assert (result.pages, result.loaded, result.duplicates, result.finished) == (3, 3, 0, False)
    assert [c for p, c, _ in export.requests if p == "/fault/cycle"] == [None, "A", "B"]
    assert loaded_ids(priced) == ["c0", "cA", "cB"]
    assert cursor_row(priced) == [("B", False, 3)]

    # the next pull re-reads B, follows it to A (not read in this pull) and stops at B again:
    # nothing is loaded twice, nothing is skipped
    with pytest.raises(PullStopped) as stop:
        pull_usage(priced, url, policy=FAST)
    # what the second pull really did: B and A again, both duplicates, nothing loaded
    assert str(stop.value) == (
        f"{url} (cursor A): the export's next cursor, B, is one this pull has read already (a "
        "cursor cycle: it would hand out the same pages for ever); stopped after 2 pages (read "
        "2 = loaded 0 + duplicates 2 + quarantined 0), with this page saved: the next pull "
        "re-reads it; if the export keeps cycling, tell its owner (or start over with --restart)"
    )
    assert [c for p, c, _ in export.requests if p == "/fault/cycle"][3:] == ["B", "A"]
    assert loaded_ids(priced) == ["c0", "cA", "cB"]
    assert cursor_row(priced) == [("A", False, 5)]


def test_endless_empty_pages_stop_after_max_empty_pages_in_a_row(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export]
) -> None:
    base, export = server
    url = f"{base}/fault/empty"
    with pytest.raises(PullStopped) as stop:
        pull_usage(priced, url, policy=FAST, limits=PullLimits(max_empty_pages=3))
    # e1 is empty, e2 has a record (the run starts again), e3, e4 and e5 are empty
    assert str(stop.value) == (
        f"{url}: 3 pages in a row had no records (from cursor e3 to cursor e5) but each named "
        "a next page; stopped, as such an export may never end; the next pull resumes at "
        "cursor e6: raise --max-empty-pages if the export really has stretches that long"
    )
    assert [c for p, c, _ in export.requests if p == url.removeprefix(base)] == [
        None,
        "e1",
        "e2",
        "e3",
        "e4",
        "e5",
    ]
    assert (stop.value.result.pages, stop.value.result.loaded) == (6, 3)
    assert loaded_ids(priced) == ["e0-0", "e0-1", "e2-0"]
    assert cursor_row(priced) == [("e6", False, 6)]


def test_the_default_bounds_stop_an_endless_export(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export]
) -> None:
    """Without options: 20 empty pages in a row, and 10,000 pages per run."""
    base, export = server
    with pytest.raises(PullStopped, match="20 pages in a row had no records"):
        pull_usage(priced, f"{base}/fault/empty", policy=FAST)
    assert len(export.requests) == 23  # the first page, e1, e2, then e3 to e22
    assert PullLimits().max_pages == 10_000


def test_max_pages_stops_a_run_and_the_next_run_goes_on(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = server
    monkeypatch.setenv("EXPORT_TOKEN", TOKEN)
    url = f"{base}/usage"
    with pytest.raises(PullStopped) as stop:
        pull_usage(
            priced, url, token_env="EXPORT_TOKEN", policy=FAST, limits=PullLimits(max_pages=2)
        )
    assert str(stop.value) == (
        f"{url}: stopped after 2 pages (--max-pages), read 4 = loaded 4 + duplicates 0 + "
        "quarantined 0; the next page (cursor c3) is saved: run the same command again to go "
        "on from it"
    )
    assert loaded_ids(priced) == ["p1a", "p1b", "p2a", "p2b"]
    again = pull_usage(priced, url, token_env="EXPORT_TOKEN", policy=FAST)
    assert (again.resumed_from, again.pages, again.loaded, again.finished) == ("c3", 1, 1, True)


@pytest.mark.parametrize("fault", ["drip", "drip-head"])
def test_a_dripping_server_is_cut_off_at_the_deadline(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export], fault: str
) -> None:
    """One byte every 0.2 s never trips a 3 s read timeout; the deadline cuts the socket."""
    base, export = server
    url = f"{base}/fault/{fault}"
    with pytest.raises(PullStopped) as stop:
        pull_usage(priced, url, timeout=3, policy=FAST, limits=PullLimits(deadline=1))
    # on a loaded machine the second can pass before the request is even sent
    phase = "(while the answer was awaited|before the request)"
    assert re.fullmatch(
        re.escape(f"{url} (first page): stopped at the pull's deadline of 1 s (--deadline), ")
        + phase
        + re.escape(
            "; the 0 pages before this one are loaded and the next pull resumes at this page: "
            "run the same command again, or give it a longer --deadline"
        ),
        str(stop.value),
    )
    assert export.ended_event(f"/fault/{fault}").wait(5)
    head = len(b"HTTP/1.1 200 OK\r\n") if fault == "drip-head" else 0
    # cut off after about five bytes of the 50 it would drip, never retried
    assert export.sent[f"/fault/{fault}"] < head + 15
    assert len(export.requests) == 1
    assert cursor_row(priced) == []


def test_a_hung_server_is_cut_off_at_the_deadline_whatever_the_timeout(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export]
) -> None:
    base, export = server
    with pytest.raises(PullStopped, match=r"deadline of 0.5 s \(--deadline\), while the answer"):
        pull_usage(
            priced, f"{base}/fault/hang", timeout=30, policy=FAST, limits=PullLimits(deadline=0.5)
        )
    assert len(export.requests) == 1
    assert not export.ended_event("/fault/hang").is_set()  # the server still hangs


def test_a_server_that_stays_down_is_not_waited_for_past_the_deadline(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export]
) -> None:
    """503 with Retry-After: 30 and a 10 s deadline: the first wait would pass it."""
    base, export = server
    url = f"{base}/fault/down"
    waits = Waits()
    with pytest.raises(PullStopped) as stop:
        pull_usage(priced, url, policy=RetryPolicy(), sleep=waits, limits=PullLimits(deadline=10))
    assert str(stop.value) == (
        f"{url} (first page): stopped at the pull's deadline of 10 s (--deadline), before try "
        "2, due 30.0 s after HTTP 503; the 0 pages before this one are loaded and the next pull "
        "resumes at this page: run the same command again, or give it a longer --deadline"
    )
    assert (len(export.requests), waits) == (1, [])


def test_a_huge_page_is_refused_without_reading_it_whole(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export]
) -> None:
    base, export = server
    url = f"{base}/fault/huge"
    limits = PullLimits(max_page_bytes=1_000_000)
    with pytest.raises(PullStopped) as stop:
        pull_usage(priced, url, policy=FAST, limits=limits)
    assert str(stop.value) == (
        f"{url} (first page): the answer passed the limit of 1,000,000 bytes "
        "(--max-page-bytes); nothing of this page is loaded and the next pull starts at it "
        "again: raise --max-page-bytes, or ask the export for smaller pages"
    )
    assert export.ended_event("/fault/huge").wait(10)
    # the server could write what the sockets buffer, nowhere near its 64 MB
    assert export.sent["/fault/huge"] < 16 * 1024 * 1024
    assert len(export.requests) == 1  # a bound is not retried

    with pytest.raises(PullStopped, match=r"the answer is 1,000,000,000 bytes, over the limit"):
        pull_usage(priced, f"{base}/fault/huge-declared", policy=FAST, limits=limits)
    assert cursor_row(priced) == []


def test_pull_bounds_from_the_command_line(
    priced: duckdb.DuckDBPyConnection, server: tuple[str, Export]
) -> None:
    base, _ = server
    db = file_of(priced)
    priced.close()
    runner = CliRunner()
    result = runner.invoke(
        app, ["pull", "usage", f"{base}/fault/cycle", "--db", db, "--max-pages", "2"]
    )
    assert result.exit_code == 2, result.output
    # what was loaded, then why it stopped and what to do
    assert f"{base}/fault/cycle: 2 pages from the first page; read 2 = loaded 2" in result.stdout
    assert "stopped after 2 pages (--max-pages)" in result.stderr
    result = runner.invoke(
        app,
        ["pull", "usage", f"{base}/fault/drip", "--db", db, "--timeout", "3", "--deadline", "1"],
    )
    assert result.exit_code == 2, result.output
    assert "stopped at the pull's deadline of 1 s (--deadline)" in result.stderr
    result = runner.invoke(
        app, ["pull", "usage", f"{base}/fault/huge", "--db", db, "--max-page-bytes", "100000"]
    )
    assert result.exit_code == 2, result.output
    assert "the answer passed the limit of 100,000 bytes (--max-page-bytes)" in result.stderr


def test_catalog_downloads_have_the_same_bounds(server: tuple[str, Export], tmp_path: Path) -> None:
    base, _ = server
    small = FetchLimits(max_bytes=100_000)
    with pytest.raises(RatecardError, match=r"passed the limit of 100,000 bytes \(--max-bytes\)"):
        read_catalog(Catalog.OPENROUTER, f"{base}/fault/huge", limits=small)
    with pytest.raises(RatecardError, match=r"deadline of 0.5 s \(--deadline\), while the"):
        read_catalog(Catalog.OPENROUTER, f"{base}/fault/hang", limits=FetchLimits(deadline=0.5))
    with pytest.raises(RatecardError, match=r"deadline of 1 s \(--deadline\), while the"):
        read_catalog(
            Catalog.OPENROUTER, f"{base}/fault/drip", limits=FetchLimits(deadline=1, timeout=3)
        )
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 100_001)
    with pytest.raises(RatecardError, match=r"100,001 bytes, over the limit of 100,000"):
        read_catalog(Catalog.OPENROUTER, str(big), limits=small)


def test_a_binary_catalog_file_stops_with_its_first_bad_byte(tmp_path: Path) -> None:
    binary = tmp_path / "catalog.json"
    binary.write_bytes(b'{"data": [\n\xff\xfe\x00')
    with pytest.raises(RatecardError) as stop:
        read_catalog(Catalog.OPENROUTER, str(binary))
    assert str(stop.value) == (
        f"{binary}: not UTF-8 text (byte 0xff at offset 11): a price catalog (JSON) is a UTF-8 "
        "text file; check that the path names the right file, or save it as UTF-8"
    )
    result = CliRunner().invoke(
        app, ["pull", "prices", "openrouter", "--from", str(binary), "--db", str(tmp_path / "w")]
    )
    assert result.exit_code == 2
    assert "not UTF-8 text (byte 0xff at offset 11)" in result.stderr
