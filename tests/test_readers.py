"""Every wire shape a gateway produces, read into the normalised call and billed.

Expected bills are worked out by hand from the frozen test sheets (tests/data/price_sheets):
testgw bills per 1K tokens at input 0.500, cache read 0.050, cache write 0.625, output 2.000
and 0.0015 per request, failures included; runapi 0.010 per 1K with no cache discount; reapi
0.30 / 1.20 / cache 0.06 per 1M before 2026-10-15; runware 0.29 / 1.16 per 1M.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import D, costs, file_of, ingest_records, write_jsonl
from ingest.usage import UsageFormat, ingest_usage
from reports.period import parse_period
from reports.summary import summarize
from warehouse import RatecardError

TS = "2026-10-01T12:00:00Z"
NORMALISED = "input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens"


def logged(
    body: dict[str, Any] | str,
    *,
    provider: str = "testgw",
    model: str = "tm-1",
    status: int = 200,
    **extra: Any,
) -> dict[str, Any]:
    """A gateway-log record around a response body."""
    return {
        "ts": TS,
        "provider": provider,
        "model": model,
        "team": "search",
        "project": "ranker",
        "api_key": "sk-test-1",
        "status_code": status,
        "response": body,
        **extra,
    }


def streamed(
    events: list[dict[str, Any] | str],
    *,
    provider: str = "testgw",
    model: str = "tm-1",
    named: bool = False,
) -> dict[str, Any]:
    """A gateway-log record of a streamed call: the raw text/event-stream body."""
    lines = []
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        if named and isinstance(event, dict):
            lines.append(f"event: {event['type']}")
        lines.append(f"data: {data}\n")
    return {
        "ts": TS,
        "provider": provider,
        "model": model,
        "team": "search",
        "project": "ranker",
        "status_code": 200,
        "sse": "\n".join(lines),
    }


def tokens(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple[int, ...]:
    row = con.execute(f"SELECT {NORMALISED} FROM calls WHERE call_id = ?", [call_id]).fetchall()
    assert len(row) == 1, f"{call_id}: {row}"
    return tuple(row[0])


def call(con: duckdb.DuckDBPyConnection, call_id: str) -> dict[str, Any]:
    relation = con.execute("SELECT * FROM calls WHERE call_id = ?", [call_id])
    names = [d[0] for d in relation.description]
    rows = relation.fetchall()
    assert len(rows) == 1, f"{call_id}: {rows}"
    return dict(zip(names, rows[0], strict=True))


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    return [
        (int(line), reason)
        for line, reason in con.execute(
            "SELECT source_line, reason FROM quarantine ORDER BY source_line"
        ).fetchall()
    ]


CHAT = {
    "id": "chat-1",
    "object": "chat.completion",
    "model": "tm-1",
    "choices": [],
    "usage": {
        "prompt_tokens": 1000,
        "completion_tokens": 200,
        "total_tokens": 1200,
        "prompt_tokens_details": {"cached_tokens": 300, "cache_write_tokens": 100},
        "completion_tokens_details": {"reasoning_tokens": 50},
    },
}
ANTHROPIC = {
    "id": "msg-1",
    "type": "message",
    "role": "assistant",
    "model": "tm-1",
    "content": [],
    # input_tokens EXCLUDES the cache reads and writes
    "usage": {
        "input_tokens": 600,
        "cache_read_input_tokens": 300,
        "cache_creation_input_tokens": 100,
        "output_tokens": 200,
    },
}
RESPONSES = {
    "id": "resp-1",
    "object": "response",
    "created_at": 1790856000,
    "status": "completed",
    "model": "tm-1",
    "error": None,
    "output": [],
    "usage": {
        "input_tokens": 1000,
        "input_tokens_details": {"cached_tokens": 300},
        "output_tokens": 200,
        "output_tokens_details": {"reasoning_tokens": 50},
        "total_tokens": 1200,
    },
}


def otel_line(spans: list[dict[str, Any]], resource: dict[str, str] | None = None) -> str:
    def attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for key, value in values.items():
            if isinstance(value, int):
                # OTLP/JSON writes 64-bit integers as strings
                out.append({"key": key, "value": {"intValue": str(value)}})
            else:
                out.append({"key": key, "value": {"stringValue": value}})
        return out

    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": attrs(resource or {})},
                    "scopeSpans": [
                        {
                            "scope": {"name": "test"},
                            "spans": [
                                {
                                    "traceId": "t" * 32,
                                    "spanId": span.pop("span_id"),
                                    "name": "chat",
                                    "kind": 3,
                                    "startTimeUnixNano": span.pop("start", "1790856000000000000"),
                                    "endTimeUnixNano": "1790856001000000000",
                                    "status": span.pop("status", {}),
                                    "attributes": attrs(span),
                                }
                                for span in spans
                            ],
                        }
                    ],
                }
            ]
        }
    )


def test_chat_responses_anthropic_and_otel_normalise_to_the_same_call(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load = ingest_records(priced, tmp_path, [logged(CHAT), logged(ANTHROPIC), logged(RESPONSES)])
    assert (load.records_read, load.loaded, load.quarantined) == (3, 3, 0)
    spans = otel_line(
        [
            {
                "span_id": "s1",
                "gen_ai.provider.name": "testgw",
                "gen_ai.request.model": "tm-1",
                "gen_ai.response.id": "otel-1",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.cache_read.input_tokens": 300,
                "gen_ai.usage.cache_creation.input_tokens": 100,
                "gen_ai.usage.output_tokens": 200,
                "gen_ai.usage.reasoning.output_tokens": 50,
            }
        ]
    )
    path = tmp_path / "spans.jsonl"
    path.write_text(spans + "\n")
    assert ingest_usage(priced, path).format is UsageFormat.OTEL

    assert tokens(priced, "chat-1") == (1000, 300, 100, 200, 50)
    assert tokens(priced, "otel-1") == (1000, 300, 100, 200, 50)
    # Anthropic: 600 + 300 read + 100 written; it reports no reasoning count
    assert tokens(priced, "msg-1") == (1000, 300, 100, 200, 0)
    # Responses has no cache-write count
    assert tokens(priced, "resp-1") == (1000, 300, 0, 200, 50)
    # 600 x 0.5/1K + 300 x 0.05/1K + 100 x 0.625/1K + 200 x 2/1K + 0.0015 fee
    # = 0.3 + 0.015 + 0.0625 + 0.4 + 0.0015
    for call_id in ("chat-1", "otel-1", "msg-1"):
        assert costs(priced, call_id)["total_cost"] == D("0.7790"), call_id
    # 700 x 0.5/1K + 300 x 0.05/1K + 200 x 2/1K + 0.0015 = 0.35 + 0.015 + 0.4 + 0.0015
    assert costs(priced, "resp-1")["total_cost"] == D("0.7665")


def test_streams_of_each_surface_are_billed_from_their_final_usage(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    chat_chunk = {
        "id": "cs-1",
        "object": "chat.completion.chunk",
        "usage": None,
        "choices": [{"index": 0, "delta": {"content": "Hi"}}],
    }
    records = [
        # 1 OpenAI chat: usage only in the final chunk with "choices": []
        streamed(
            [
                chat_chunk,
                chat_chunk
                | {
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 40,
                        "completion_tokens": 7,
                        "prompt_tokens_details": {"cached_tokens": 10},
                    },
                },
                "[DONE]",
            ]
        ),
        # 2 OpenAI Responses: the response.completed event carries the response
        streamed(
            [
                {"type": "response.created", "response": {"id": "rs-1", "status": "in_progress"}},
                {"type": "response.output_text.delta", "delta": "Hi"},
                {
                    "type": "response.completed",
                    "response": {
                        "id": "rs-1",
                        "object": "response",
                        "status": "completed",
                        "usage": {
                            "input_tokens": 20,
                            "output_tokens": 9,
                            "input_tokens_details": {"cached_tokens": 0},
                            "output_tokens_details": {"reasoning_tokens": 4},
                        },
                    },
                },
            ],
            named=True,
        ),
        # 3 Anthropic: message_start has input and cache; message_delta's output is
        # cumulative and replaces the earlier count (12, then 30: 30, not 43)
        streamed(
            [
                {
                    "type": "message_start",
                    "message": {
                        "id": "as-1",
                        "type": "message",
                        "usage": {
                            "input_tokens": 5,
                            "cache_read_input_tokens": 15,
                            "cache_creation_input_tokens": 0,
                            "output_tokens": 1,
                        },
                    },
                },
                {"type": "content_block_delta", "index": 0, "delta": {"text": "Hi"}},
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": None},
                    "usage": {"output_tokens": 12},
                },
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn"},
                    "usage": {"output_tokens": 30},
                },
                {"type": "message_stop"},
            ],
            named=True,
        ),
        # 4 a chat stream that ends with an error event: failed, whatever came before
        streamed(
            [
                chat_chunk | {"id": "cs-err"},
                {"error": {"type": "server_error", "message": "upstream died"}},
            ]
        ),
        # 5 cut before any usage arrived (the last event is truncated): failed
        streamed([chat_chunk | {"id": "cs-cut"}, '{"id": "cs-cut", "choi']),
        # 6 Responses stream that failed
        streamed(
            [
                {
                    "type": "response.failed",
                    "response": {
                        "id": "rs-fail",
                        "object": "response",
                        "status": "failed",
                        "error": {"code": "server_error", "message": "x"},
                        "usage": None,
                    },
                }
            ],
            named=True,
        ),
        # 7 Anthropic stream ending in an error event
        streamed(
            [
                {
                    "type": "message_start",
                    "message": {
                        "id": "as-err",
                        "type": "message",
                        "usage": {"input_tokens": 5, "output_tokens": 1},
                    },
                },
                {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
            ],
            named=True,
        ),
        # 8 garbage where a stream was expected: quarantined
        {"ts": TS, "provider": "testgw", "model": "tm-1", "sse": "<html>502</html>"},
    ]
    load = ingest_records(priced, tmp_path, records)
    assert (load.records_read, load.loaded, load.duplicates, load.quarantined) == (8, 7, 0, 1)
    assert tokens(priced, "cs-1") == (40, 10, 0, 7, 0)
    assert tokens(priced, "rs-1") == (20, 0, 0, 9, 4)
    assert tokens(priced, "as-1") == (20, 15, 0, 30, 0)
    # 30 x 0.5/1K + 10 x 0.05/1K + 7 x 2/1K + 0.0015 = 0.015 + 0.0005 + 0.014 + 0.0015
    assert costs(priced, "cs-1")["total_cost"] == D("0.0310")
    failures = {
        r[0]: r[1:]
        for r in priced.execute(
            "SELECT call_id, status, error_type, input_tokens FROM calls WHERE status = 'failed'"
        ).fetchall()
    }
    assert failures == {
        "cs-err": ("failed", "server_error", 0),
        "cs-cut": ("failed", "stream ended before usage", 0),
        "rs-fail": ("failed", "server_error", 0),
        "as-err": ("failed", "overloaded_error", 0),
    }
    assert quarantined(priced) == [
        (8, "sse holds no readable data events (not an event stream, or every event is broken)")
    ]
    # testgw bills failures (its sheet opts in): the 0.0015 request fee and no tokens
    assert costs(priced, "cs-cut")["total_cost"] == D("0.0015")


def test_runware_tasks_results_errors_and_polls(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    def result(
        uuid: str, prompt: int, completion: int, cost: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "taskType": "textInference",
            "taskUUID": uuid,
            "text": "x",
            "finishReason": "stop",
            "usage": {
                "promptTokens": prompt,
                "completionTokens": completion,
                "totalTokens": prompt + completion,
            },
        }
        if cost is not None:
            item["cost"] = json.loads(cost)  # a JSON number, exactly as written
        return item | extra

    records = [
        # 1 numberResults = 2: two calls from one taskUUID, numbered; AIR model id
        logged(
            {
                "data": [
                    result("task-a", 1000, 100, "0.000406"),
                    result("task-a", 1000, 300, "0.000638"),
                ]
            },
            provider="runware",
            model="minimax:m3@0",
        ),
        # 2 thinking tokens counted on top of completionTokens (the total says so)
        logged(
            {
                "data": [
                    result("task-b", 100, 50)
                    | {
                        "usage": {
                            "promptTokens": 100,
                            "completionTokens": 50,
                            "thinkingTokens": 20,
                            "totalTokens": 170,
                        }
                    }
                ]
            },
            provider="runware",
            model="minimax-m3",
        ),
        # 3 thinking tokens already inside completionTokens
        logged(
            {
                "data": [
                    result("task-c", 100, 50)
                    | {
                        "usage": {
                            "promptTokens": 100,
                            "completionTokens": 50,
                            "thinkingTokens": 20,
                            "totalTokens": 150,
                        }
                    }
                ]
            },
            provider="runware",
            model="minimax-m3",
        ),
        # 4 an error response: failed, free, kept
        logged(
            {
                "errors": [
                    {"code": "invalidModel", "message": "no such model", "taskUUID": "task-d"}
                ]
            },
            provider="runware",
            model="minimax-m3",
            status=400,
        ),
        # 5 an async poll: a processing item is not a call, the finished one is
        logged(
            {
                "data": [
                    {"taskType": "textInference", "taskUUID": "task-e", "status": "processing"},
                    result("task-f", 10, 10, status="success"),
                    {
                        "taskType": "textInference",
                        "taskUUID": "task-g",
                        "status": "error",
                        "error": {"code": "timeout"},
                    },
                ]
            },
            provider="runware",
            model="minimax-m3",
        ),
        # 6 a poll where everything is still in progress: no call yet
        logged(
            {"data": [{"taskType": "textInference", "taskUUID": "task-h", "status": "processing"}]},
            provider="runware",
            model="minimax-m3",
        ),
        # 7 a stream whose last chunk carries usage and cost
        streamed(
            [
                {"taskType": "textInference", "taskUUID": "task-i", "text": "H"},
                result("task-i", 200, 20, "0.0000812"),
            ],
            provider="runware",
            model="minimax-m3",
        ),
        # 8 a model id no sheet maps
        logged(
            {"data": [result("task-j", 10, 10)]}, provider="runware", model="minimax:m2.7@highspeed"
        ),
    ]
    load = ingest_records(priced, tmp_path, records)
    assert (load.records_read, load.loaded, load.duplicates, load.quarantined) == (10, 9, 0, 1)
    assert tokens(priced, "task-a:1") == (1000, 0, 0, 100, 0)
    assert tokens(priced, "task-a:2") == (1000, 0, 0, 300, 0)
    assert call(priced, "task-a:2")["source_item"] == 1
    assert call(priced, "task-a:1")["reported_cost"] == D("0.000406")
    # the AIR id is an alias of minimax-m3: 1000 x 0.29/1M + 300 x 1.16/1M
    assert costs(priced, "task-a:2")["total_cost"] == D("0.000638")
    assert costs(priced, "task-a:2")["canonical_model"] == "minimax-m3"
    assert tokens(priced, "task-b") == (100, 0, 0, 70, 20)
    assert tokens(priced, "task-c") == (100, 0, 0, 50, 20)
    assert (call(priced, "task-d")["status"], call(priced, "task-d")["error_type"]) == (
        "failed",
        "invalidModel",
    )
    assert costs(priced, "task-d")["total_cost"] == 0
    assert call(priced, "task-f")["status"] == "ok"
    assert (call(priced, "task-g")["status"], call(priced, "task-g")["error_type"]) == (
        "failed",
        "timeout",
    )
    assert priced.execute("SELECT count(*) FROM calls WHERE call_id = 'task-e'").fetchall() == [
        (0,)
    ]
    assert tokens(priced, "task-i") == (200, 0, 0, 20, 0)
    assert call(priced, "task-i")["reported_cost"] == D("0.0000812")
    assert quarantined(priced) == [
        (
            6,
            "no finished call in this body: every task result is "
            "still in progress (the final poll result is the call)",
        )
    ]
    unmapped = summarize(priced, ("provider",), parse_period(None, None, None)).unpriced
    assert [(u.provider, u.model, u.calls) for u in unmapped] == [
        ("runware", "minimax:m2.7@highspeed", 1)
    ]


@pytest.mark.parametrize("status", [400, 401, 402, 429, 500])
def test_error_envelopes_are_failed_free_and_kept(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, status: int
) -> None:
    records = [
        logged(
            {"error": {"message": "x", "type": "invalid_request_error", "code": str(status)}},
            provider="reapi",
            model="minimax/minimax-m3",
            status=status,
            call_id="openai",
        ),
        logged(
            {"type": "error", "error": {"type": "rate_limit_error", "message": "x"}},
            provider="runapi",
            model="MiniMax-M3",
            status=status,
            call_id="anthropic",
        ),
        logged(
            {
                "id": "resp-x",
                "object": "response",
                "status": "failed",
                "error": {"code": "server_error", "message": "x"},
                "usage": None,
            },
            provider="runapi",
            model="MiniMax-M3",
            status=status,
            call_id="responses",
        ),
        logged(
            "<html><body>Bad gateway</body></html>",
            provider="reapi",
            model="minimax/minimax-m3",
            status=status,
            call_id="html",
        ),
    ]
    load = ingest_records(priced, tmp_path, records)
    assert (load.loaded, load.quarantined) == (4, 0)
    rows = priced.execute(
        "SELECT calls.call_id, status, http_status, error_type, b.total_cost FROM calls "
        "JOIN call_costs b USING (batch_id, source_line, source_item) ORDER BY source_line"
    ).fetchall()
    assert rows == [
        ("openai", "failed", status, "invalid_request_error", 0),
        ("anthropic", "failed", status, "rate_limit_error", 0),
        ("responses", "failed", status, "server_error", 0),
        ("html", "failed", status, "error page (not JSON)", 0),
    ]


def test_an_html_page_with_a_success_status_is_quarantined(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load = ingest_records(priced, tmp_path, [logged("<html>maintenance</html>")])
    assert (load.loaded, load.quarantined) == (0, 1)
    assert quarantined(priced) == [
        (1, "response is text, not a JSON body (an HTML page?), and status_code is not an error")
    ]


def test_openrouter_usage_cost_is_kept_exactly_as_reported(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    body = {
        "id": "gen-1",
        "object": "chat.completion",
        "model": "minimax/minimax-m3",
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 10,
            "cost": 0.0000123456789,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }
    # the number as the gateway wrote it, never through a float
    line = json.dumps(logged({}, provider="reapi", model="minimax/minimax-m3")).replace(
        '"response": {}',
        '"response": ' + json.dumps(body).replace("1.23456789e-05", "0.0000123456789"),
    )
    ingest_records(priced, tmp_path, [line])
    assert call(priced, "gen-1")["reported_cost"] == D("0.0000123456789")


def test_raw_bodies_take_the_provider_from_the_command_line(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    chat_body = CHAT | {"id": "raw-1", "created": 1790856000}  # 2026-10-01 12:00 UTC
    responses_body = RESPONSES | {"id": "raw-2"}
    path = write_jsonl(tmp_path / "bodies.jsonl", [chat_body, responses_body, ANTHROPIC])
    with pytest.raises(RatecardError, match="--provider"):
        ingest_usage(priced, path)
    load = ingest_usage(priced, path, provider="TestGW")
    assert load.format is UsageFormat.RAW_BODY
    assert (load.loaded, load.quarantined) == (2, 1)
    assert str(call(priced, "raw-1")["ts"].isoformat()) == "2026-10-01T12:00:00+00:00"
    assert call(priced, "raw-1")["provider"] == "testgw"
    assert str(call(priced, "raw-2")["ts"].isoformat()) == "2026-10-01T12:00:00+00:00"
    # an Anthropic body carries no time: nothing to bill it at, so it waits in quarantine
    assert quarantined(priced) == [(3, "missing ts")]


def test_otel_spans_failures_names_and_items(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    line = otel_line(
        [
            {
                "span_id": "a1",
                "gen_ai.system": "TestGW",
                "gen_ai.request.model": "tm-1",
                "gen_ai.response.model": "tm-1-2026",
                "gen_ai.usage.input_tokens": 4_000_000_000,
                "gen_ai.usage.output_tokens": 10,
            },
            {"span_id": "a2", "name": "HTTP POST"},  # no gen_ai attributes: not a call
            {
                "span_id": "a3",
                "gen_ai.provider.name": "testgw",
                "gen_ai.request.model": "tm-1",
                "error.type": "timeout",
                "status": {"code": 2, "message": "deadline"},
            },
            {
                "span_id": "a4",
                "gen_ai.provider.name": "testgw",
                "gen_ai.request.model": "tm-1",
                "status": {"code": "STATUS_CODE_ERROR", "message": "refused"},
            },
        ],
        resource={"ratecard.team": "search", "ratecard.project": "ranker"},
    )
    unrelated = otel_line([{"span_id": "b1", "http.method": "GET"}])
    path = tmp_path / "spans.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(line + "\n" + unrelated + "\n")
    load = ingest_usage(priced, path)
    assert (load.format, load.records_read, load.loaded, load.quarantined) == (
        UsageFormat.OTEL,
        4,
        3,
        1,
    )
    rows = priced.execute(
        "SELECT call_id, source_item, provider, model, status, error_type, input_tokens, team, "
        "ts FROM calls ORDER BY source_item"
    ).fetchall()
    trace = "t" * 32
    assert [r[:8] for r in rows] == [
        (f"{trace}:a1", 0, "testgw", "tm-1", "ok", None, 4_000_000_000, "search"),
        (f"{trace}:a3", 1, "testgw", "tm-1", "failed", "timeout", 0, "search"),
        (f"{trace}:a4", 2, "testgw", "tm-1", "failed", "refused", 0, "search"),
    ]
    assert rows[0][8].isoformat() == "2026-10-01T12:00:00+00:00"
    assert quarantined(priced) == [(2, "no GenAI span (gen_ai.* attributes) in this OTLP export")]


def test_a_span_with_an_empty_or_bad_start_time_is_quarantined_not_fatal(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """An empty startTimeUnixNano (found by the property test) aborted the whole file with
    a cast error; each such span is now quarantined and the good one beside it loads."""
    call = {"gen_ai.provider.name": "testgw", "gen_ai.request.model": "tm-1",
            "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 2}  # fmt: skip
    line = otel_line(
        [
            {"span_id": "e1", "start": "", **call},
            {"span_id": "e2", "start": "soon", **call},
            {"span_id": "e3", **call},
        ]
    )
    path = tmp_path / "spans.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    load = ingest_usage(priced, path)
    assert (load.records_read, load.loaded, load.quarantined) == (3, 1, 2)
    assert sorted(quarantined(priced)) == [(1, "ts is not a time: "), (1, "ts is not a time: soon")]


def test_bad_counts_in_every_shape_are_quarantined_with_the_reason(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    records = [
        logged(ANTHROPIC | {"id": "m1", "usage": {"input_tokens": -5, "output_tokens": 1}}),
        logged(
            ANTHROPIC
            | {
                "id": "m2",
                "usage": {"input_tokens": 5, "cache_read_input_tokens": "lots", "output_tokens": 1},
            }
        ),
        logged(RESPONSES | {"id": "r1", "usage": {"input_tokens": 10, "output_tokens": 2.5}}),
        logged(
            RESPONSES
            | {
                "id": "r2",
                "usage": {
                    "input_tokens": 10,
                    "output_tokens": 2,
                    "input_tokens_details": {"cached_tokens": 11},
                },
            }
        ),
        logged(
            {"data": [{"taskUUID": "t1", "usage": {"promptTokens": [1], "completionTokens": 1}}]}
        ),
    ]
    load = ingest_records(priced, tmp_path, records)
    assert (load.loaded, load.quarantined) == (0, 5)
    assert quarantined(priced) == [
        (1, "input tokens are negative: -5"),
        (2, "cache-read tokens are not a whole number: lots"),
        (3, "output tokens are not a whole number: 2.5"),
        (4, "cache tokens (11 read + 0 written) exceed input tokens (10)"),
        (5, "input tokens are not a whole number: [1]"),
    ]


def test_spaces_around_fields_and_stream_events_are_trimmed_and_other_blanks_kept(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # ingest trims spaces (only spaces, as SQL's trim) from the ends of the envelope's text
    # fields, the id and each event of a stream, calling trim only when an end is a space
    spaced = logged(CHAT | {"id": "  chat-1  "}, provider=" testgw ", model="tm-1 ") | {
        "team": " search",
        "project": "\tranker ",  # a tab is not a space: it stays
    }
    stream = streamed(
        [{"id": "cs-2", "object": "chat.completion.chunk", "usage": None, "choices": []}]
    )
    final = {"id": "cs-2", "choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 7}}
    stream["sse"] += "data:    " + json.dumps(final) + "   \n\ndata:  [DONE]  \n"
    load = ingest_records(priced, tmp_path, [spaced, stream])
    assert (load.loaded, load.quarantined) == (2, 0)
    first = call(priced, "chat-1")
    assert (first["provider"], first["model"], first["team"], first["project"]) == (
        "testgw",
        "tm-1",
        "search",
        "\tranker",
    )
    assert tokens(priced, "cs-2") == (40, 0, 0, 7, 0)
    assert call(priced, "cs-2")["status"] == "ok"


def test_a_stream_that_finished_without_usage_is_a_successful_call_without_a_price(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """An OpenAI chat stream carries usage only when the client asks for
    stream_options.include_usage, which the SDK does not by default. Such a call succeeded
    and the gateway charged it: it used to be recorded as a failed, free call."""
    from dashboards.queries import Filters, unpriced
    from reports.budgets import Budget, Scope, check_budget
    from reports.finance import build_report

    chunk = {
        "id": "cs-nu",
        "object": "chat.completion.chunk",
        "created": 1790856000,
        "model": "tm-1",
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
        "usage": None,
    }
    finished = chunk | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    records = [
        # 1 chat: a finish_reason and [DONE], no usage chunk
        streamed([chunk, finished, "[DONE]"]),
        # 2 chat: the finish_reason alone (a log that kept no [DONE])
        streamed([chunk | {"id": "cs-fin"}, finished | {"id": "cs-fin"}]),
        # 3 chat: [DONE] alone ends a stream normally too
        streamed([chunk | {"id": "cs-done"}, "[DONE]"]),
        # 4 Responses: response.completed with no usage
        streamed(
            [
                {"type": "response.created", "response": {"id": "rs-nu", "status": "in_progress"}},
                {
                    "type": "response.completed",
                    "response": {"id": "rs-nu", "object": "response", "status": "completed"},
                },
            ],
            named=True,
        ),
        # 5 Runware: the final chunk has its finishReason, no usage (includeUsage not asked)
        streamed(
            [
                {"taskType": "textInference", "taskUUID": "task-nu", "delta": {"text": "H"}},
                {"taskType": "textInference", "taskUUID": "task-nu", "finishReason": "stop"},
            ],
            provider="runware",
            model="minimax-m3",
        ),
        # 6 still cut: no finish reason, no [DONE], no usage: failed, free
        streamed([chunk | {"id": "cs-cut"}]),
    ]
    load = ingest_records(priced, tmp_path, records)
    assert (load.records_read, load.loaded, load.quarantined) == (6, 6, 0)
    chat_reason = (
        'stream carried no usage: ask for it with stream_options: {"include_usage": true} '
        "in the request"
    )
    expected = {
        "cs-nu": chat_reason,
        "cs-fin": chat_reason,
        "cs-done": chat_reason,
        "rs-nu": "stream carried no usage: its response.completed event has none "
        "(the gateway dropped it?)",
        "task-nu": "stream carried no usage: ask for it with includeUsage: true in the task",
    }
    rows = priced.execute(
        "SELECT call_id, status, error_type, input_tokens + output_tokens, no_usage_reason, "
        "priced, unpriced_reason, total_cost FROM calls_costed ORDER BY source_line"
    ).fetchall()
    assert rows == [
        *(
            (call_id, "ok", None, 0, reason, False, reason, None)
            for call_id, reason in expected.items()
        ),
        ("cs-cut", "failed", "stream ended before usage", 0, None, True, None, D("0.0015")),
    ]
    # counted wherever unpriced calls are: the summary, the finance report, the dashboard's
    # Data quality page, the budgets
    everything = parse_period(None, None, None)
    summary = summarize(priced, ("provider",), everything)
    assert summary.unpriced_calls == 5
    assert sorted((u.provider, u.reason, u.calls) for u in summary.unpriced) == [
        ("runware", expected["task-nu"], 1),
        ("testgw", chat_reason, 3),
        ("testgw", expected["rs-nu"], 1),
    ]
    report = build_report(priced, ("provider",), parse_period("2026-10", None, None))
    assert {line.group: line.unpriced_calls for line in report.lines} == {
        ("runware",): 1,
        ("testgw",): 4,
    }
    budget = Budget(name="search", scope=Scope(team="search"), period="monthly", amount=D("10"))
    status = check_budget(priced, budget, datetime(2026, 10, 2, tzinfo=UTC))
    assert status.unpriced_calls == 5
    # the dashboard opens the warehouse read-only, by its file: this connection closes first
    db = file_of(priced)
    priced.close()
    quality = unpriced(db, Filters())
    assert sorted(zip(quality["reason"], quality["calls"], strict=True)) == [
        (expected["task-nu"], 1),
        (chat_reason, 3),
        (expected["rs-nu"], 1),
    ]


def test_anthropic_stream_deltas_with_null_counts_leave_them_unchanged(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """The SDK's MessageDeltaUsage serialises every count it does not carry as null; its
    accumulate_event keeps the earlier value for those. json_merge_patch deleted them, and the
    call was quarantined as "successful call without token usage"."""
    start = {
        "type": "message_start",
        "message": {
            "id": "as-null",
            "type": "message",
            "role": "assistant",
            "model": "tm-1",
            "content": [],
            "usage": {
                "input_tokens": 5,
                "cache_read_input_tokens": 15,
                "cache_creation_input_tokens": 10,
                "cache_creation": {"ephemeral_5m_input_tokens": 4, "ephemeral_1h_input_tokens": 6},
                "output_tokens": 1,
            },
        },
    }
    nulls = {
        "input_tokens": None,
        "cache_read_input_tokens": None,
        "cache_creation_input_tokens": None,
        "server_tool_use": None,
        "output_tokens_details": None,
    }
    records = [
        streamed(
            [
                start,
                # a later count replaces the earlier one; a null one leaves it as it was
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": None},
                    "usage": nulls | {"input_tokens": 7, "output_tokens": 12},
                },
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn"},
                    "usage": nulls
                    | {"output_tokens": 30, "output_tokens_details": {"thinking_tokens": 9}},
                },
                {"type": "message_stop"},
            ],
            named=True,
        )
    ]
    load = ingest_records(priced, tmp_path, records)
    assert (load.loaded, load.quarantined) == (1, 0)
    # input 7 + 15 read + 10 written; 6 of the writes for an hour; thinking is reasoning
    assert tokens(priced, "as-null") == (32, 15, 10, 30, 9)
    assert call(priced, "as-null")["cache_write_1h_tokens"] == 6
    # 7 x 0.5/1K + 15 x 0.05/1K + 10 x 0.625/1K (testgw has no 1-hour rate: the cache-write
    # rate) + 30 x 2/1K + 0.0015 = 0.0035 + 0.00075 + 0.00625 + 0.06 + 0.0015
    assert costs(priced, "as-null")["total_cost"] == D("0.0720")


def test_runware_streams_wrapped_in_data_and_envelope_call_ids(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Runware's SDK reads a chunk as `line.get("data") or line`: a stream of
    `data: {"data": {...}}` was billed as a failed $0 call. And the envelope's call_id wins
    over the body's taskUUID, as for every other body."""

    def result(uuid: str, prompt: int, completion: int) -> dict[str, Any]:
        return {
            "taskType": "textInference",
            "taskUUID": uuid,
            "finishReason": "stop",
            "usage": {
                "promptTokens": prompt,
                "completionTokens": completion,
                "totalTokens": prompt + completion,
                "completionTokensDetails": {"reasoningTokens": completion // 5},
            },
            "cost": 0.0000812,
        }

    wrapped = streamed(
        [
            {"data": {"taskType": "textInference", "taskUUID": "task-w", "delta": {"text": "H"}}},
            {"data": result("task-w", 200, 20)},
            "[DONE]",
        ],
        provider="runware",
        model="minimax-m3",
    )
    records = [
        wrapped,
        # two results of one task under the envelope's id: numbered
        logged(
            {"data": [result("task-a", 10, 1), result("task-a", 10, 2)]},
            provider="runware",
            model="minimax-m3",
            call_id="gw-1",
        ),
        # two tasks in one body: numbered too, so that neither is a duplicate of the other
        logged(
            {
                "data": [result("task-b", 10, 3)],
                "errors": [{"code": "timeout", "taskUUID": "task-c"}],
            },
            provider="runware",
            model="minimax-m3",
            call_id="gw-2",
        ),
        # one result: the envelope's id as it is
        logged(
            {"data": [result("task-d", 10, 4)]},
            provider="runware",
            model="minimax-m3",
            call_id="gw-3",
        ),
        # a stream under the envelope's id
        wrapped | {"call_id": "gw-4"},
    ]
    load = ingest_records(priced, tmp_path, records)
    assert (load.records_read, load.loaded, load.quarantined) == (7, 7, 0)
    assert tokens(priced, "task-w") == (200, 0, 0, 20, 4)
    wrapped_call = call(priced, "task-w")
    assert (wrapped_call["status"], wrapped_call["reported_cost"]) == ("ok", D("0.0000812"))
    # 200 x 0.29/1M + 20 x 1.16/1M
    assert costs(priced, "task-w")["total_cost"] == D("0.0000812")
    ids = priced.execute(
        "SELECT call_id, output_tokens, status FROM calls ORDER BY source_line, source_item"
    ).fetchall()
    assert ids == [
        ("task-w", 20, "ok"),
        ("gw-1:1", 1, "ok"),
        ("gw-1:2", 2, "ok"),
        ("gw-2:1", 3, "ok"),
        ("gw-2:2", 0, "failed"),
        ("gw-3", 4, "ok"),
        ("gw-4", 20, "ok"),
    ]


def test_responses_cache_writes_bill_at_the_cache_write_rate(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """usage.input_tokens_details.cache_write_tokens was ignored: billed as plain input."""
    usage = json.loads(json.dumps(RESPONSES["usage"]))
    usage["input_tokens_details"]["cache_write_tokens"] = 100
    body = RESPONSES | {"id": "resp-cw", "usage": usage}
    ingest_records(priced, tmp_path, [logged(body)])
    assert tokens(priced, "resp-cw") == (1000, 300, 100, 200, 50)
    # as the chat body of the same usage: 0.3 + 0.015 + 0.0625 + 0.4 + 0.0015
    assert costs(priced, "resp-cw")["total_cost"] == D("0.7790")


@pytest.mark.parametrize(
    ("fmt", "record", "reason"),
    [
        (
            UsageFormat.FLAT_JSONL,
            {"status": "ok", "status_code": 503},
            "status ok contradicts status_code 503 (an error): correct whichever is wrong",
        ),
        (
            UsageFormat.FLAT_JSONL,
            {"status": "OK", "error_type": "timeout"},
            "status ok contradicts error_type timeout: correct whichever is wrong",
        ),
        (
            UsageFormat.FLAT_CSV,
            {"status": "ok", "status_code": 500},
            "status ok contradicts status_code 500 (an error): correct whichever is wrong",
        ),
    ],
)
def test_a_record_that_says_ok_and_failed_is_quarantined_not_guessed(
    priced: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    fmt: UsageFormat,
    record: dict[str, Any],
    reason: str,
) -> None:
    """`status: ok` with `status_code: 503` was billed as ok. Which one is wrong cannot be
    told from the record; `failed` with a 2xx status_code is no contradiction (a call can
    fail inside a successful HTTP response) and is failed."""
    base = {"ts": TS, "provider": "testgw", "model": "tm-1", "input_tokens": 10, "output_tokens": 2}
    rows = [
        base | {"call_id": "contradiction"} | record,
        base | {"call_id": "failed-200", "status": "failed", "status_code": 200},
        base | {"call_id": "ok-200", "status": "ok", "status_code": 200},
    ]
    if fmt is UsageFormat.FLAT_CSV:
        path = tmp_path / "flat.csv"
        columns = sorted({key for row in rows for key in row})
        lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        load = ingest_usage(priced, path)
    else:
        load = ingest_records(priced, tmp_path, rows, fmt=fmt)
    assert (load.loaded, load.quarantined) == (2, 1)
    assert quarantined(priced) == [(2 if fmt is UsageFormat.FLAT_CSV else 1, reason)]
    assert call(priced, "failed-200")["status"] == "failed"
    assert call(priced, "ok-200")["status"] == "ok"


def test_an_otlp_span_with_status_ok_and_an_error_is_quarantined(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    usage = {
        "gen_ai.provider.name": "testgw",
        "gen_ai.request.model": "tm-1",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 2,
    }
    line = otel_line(
        [
            {"span_id": "o1", "status": {"code": 1}, "error.type": "timeout", **usage},
            {
                "span_id": "o2",
                "status": {"code": "STATUS_CODE_OK"},
                "http.response.status_code": "502",
                **usage,
            },
            {"span_id": "o3", "status": {"code": 1}, **usage},
        ]
    )
    path = tmp_path / "spans.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    load = ingest_usage(priced, path)
    assert (load.loaded, load.quarantined) == (1, 2)
    assert sorted(quarantined(priced)) == [
        (1, "status ok contradicts error_type timeout: correct whichever is wrong"),
        (1, "status ok contradicts status_code 502 (an error): correct whichever is wrong"),
    ]
    assert call(priced, f"{'t' * 32}:o3")["status"] == "ok"
