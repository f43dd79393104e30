"""ratecard's bill against an independent oracle: the genai-prices library.

genai-prices' own MiniMax prices are imported through ``ingest.catalogs`` (its JSON data
form, built here from the installed package), thousands of calls are generated in every
normalised shape (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages, OTLP
spans, flat JSONL) across its MiniMax models and both sides of the 512K-token tier, and
each call's cost must equal genai-prices' ``calc_price`` for the same usage to the last
decimal. genai-prices is a dev dependency only.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from genai_prices import Usage, calc_price
from genai_prices import types as genai
from genai_prices.data import providers

from conftest import write_jsonl
from ingest.catalogs import Catalog, read_catalog
from ingest.prices import load_points
from ingest.usage import ingest_usage

CALLS = 3000


def _clause(clause: Any) -> dict[str, Any]:
    if isinstance(clause, genai.ClauseOr):
        return {"or": [_clause(c) for c in clause.or_]}
    if isinstance(clause, genai.ClauseEquals):
        return {"equals": clause.equals}
    if isinstance(clause, genai.ClauseContains):
        return {"contains": clause.contains}
    if isinstance(clause, genai.ClauseStartsWith):
        return {"starts_with": clause.starts_with}
    raise AssertionError(f"unexpected clause {clause!r}")


def _price(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    assert isinstance(value, genai.TieredPrices)
    return {
        "base": str(value.base),
        "tiers": [{"start": t.start, "price": str(t.price)} for t in value.tiers],
    }


def _prices(prices: Any) -> Any:
    if isinstance(prices, list):
        return [
            {
                "constraint": None
                if c.constraint is None
                else {"start_date": c.constraint.start_date.isoformat()},
                "prices": _prices(c.prices),
            }
            for c in prices
        ]
    return {
        k: _price(v) for k, v in vars(prices).items() if not k.startswith("_") and v is not None
    }


def genai_minimax_json() -> str:
    """genai-prices' MiniMax provider in the JSON form of its data file."""
    provider = next(p for p in providers if p.id == "minimax")
    return json.dumps(
        [
            {
                "id": provider.id,
                "name": provider.name,
                "models": [
                    {
                        "id": m.id,
                        "name": m.name,
                        "match": _clause(m.match),
                        "prices": _prices(m.prices),
                    }
                    for m in provider.models
                ],
            }
        ]
    )


WIRE_IDS = [
    "MiniMax-M3",
    "minimax-m3",
    "MiniMax-M2.7",
    "minimax-m2.7",
    "MiniMax-M2.7-highspeed",
    "MiniMax-M2.5",
    "MiniMax-M2",
    "MiniMax-M3.1-Flash",
    "minimax-m1",
    "M2-her",
    "minimax-01",
]
SHAPES = ["chat", "responses", "anthropic", "otel", "flat"]


@dataclass
class Generated:
    call_id: str
    shape: str
    model: str
    ts: datetime
    input_tokens: int
    cache_read: int
    cache_write: int
    output_tokens: int
    reasoning: int


def generate(seed: int = 2026) -> list[Generated]:
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    calls = []
    for n in range(CALLS):
        shape = SHAPES[n % len(SHAPES)]
        roll = rng.random()
        if roll < 0.1:
            total = rng.randint(400_000, 1_000_000)  # long context, around the 512K tier
        elif roll < 0.12:
            total = rng.choice([512_000, 512_001])  # the boundary itself
        else:
            total = rng.randint(0, 60_000)
        write = 0 if shape == "responses" else rng.choice([0, 0, rng.randint(0, total // 10)])
        read = rng.randint(0, total - write) if rng.random() < 0.6 else 0
        output = rng.randint(0, 20_000)
        reasoning = rng.randint(0, output) if shape != "anthropic" else 0
        calls.append(
            Generated(
                f"o{n}",
                shape,
                rng.choice(WIRE_IDS),
                start + timedelta(seconds=rng.randint(0, 30 * 86400)),
                total,
                read,
                write,
                output,
                reasoning,
            )
        )
    return calls


def record(call: Generated) -> dict[str, Any]:
    ts = call.ts.isoformat().replace("+00:00", "Z")
    envelope = {"ts": ts, "provider": "minimax", "model": call.model, "status_code": 200}
    if call.shape == "chat":
        body = {
            "id": call.call_id,
            "object": "chat.completion",
            "usage": {
                "prompt_tokens": call.input_tokens,
                "completion_tokens": call.output_tokens,
                "prompt_tokens_details": {
                    "cached_tokens": call.cache_read,
                    "cache_write_tokens": call.cache_write,
                },
                "completion_tokens_details": {"reasoning_tokens": call.reasoning},
            },
        }
    elif call.shape == "responses":
        body = {
            "id": call.call_id,
            "object": "response",
            "status": "completed",
            "usage": {
                "input_tokens": call.input_tokens,
                "output_tokens": call.output_tokens,
                "input_tokens_details": {"cached_tokens": call.cache_read},
                "output_tokens_details": {"reasoning_tokens": call.reasoning},
            },
        }
    elif call.shape == "anthropic":
        body = {
            "id": call.call_id,
            "type": "message",
            "usage": {
                "input_tokens": call.input_tokens - call.cache_read - call.cache_write,
                "cache_read_input_tokens": call.cache_read,
                "cache_creation_input_tokens": call.cache_write,
                "output_tokens": call.output_tokens,
            },
        }
    else:
        return {
            "call_id": call.call_id,
            "ts": ts,
            "provider": "minimax",
            "model": call.model,
            "input_tokens": call.input_tokens,
            "cache_read_tokens": call.cache_read,
            "cache_write_tokens": call.cache_write,
            "output_tokens": call.output_tokens,
            "reasoning_tokens": call.reasoning,
        }
    return envelope | {"response": body}


def span(call: Generated) -> str:
    nanos = int(call.ts.timestamp()) * 1_000_000_000

    def attr(key: str, value: int | str) -> dict[str, Any]:
        kind = "intValue" if isinstance(value, int) else "stringValue"
        return {"key": key, "value": {kind: str(value)}}

    attrs = [
        attr("gen_ai.provider.name", "minimax"),
        attr("gen_ai.request.model", call.model),
        attr("gen_ai.response.id", call.call_id),
        attr("gen_ai.usage.input_tokens", call.input_tokens),
        attr("gen_ai.usage.cache_read.input_tokens", call.cache_read),
        attr("gen_ai.usage.cache_creation.input_tokens", call.cache_write),
        attr("gen_ai.usage.output_tokens", call.output_tokens),
        attr("gen_ai.usage.reasoning.output_tokens", call.reasoning),
    ]
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": []},
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "a" * 32,
                                    "spanId": call.call_id,
                                    "name": "chat",
                                    "startTimeUnixNano": str(nanos),
                                    "attributes": attrs,
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    )


def test_every_call_costs_what_genai_prices_says(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    catalog = read_catalog(
        Catalog.GENAI_PRICES, "genai-prices (installed package)", text=genai_minimax_json()
    )
    assert not catalog.skipped
    load_points(con, catalog.points, fmt="catalog:genai-prices")

    calls = generate()
    logs = [record(c) for c in calls if c.shape not in ("otel", "flat")]
    flat = [record(c) for c in calls if c.shape == "flat"]
    spans = [span(c) for c in calls if c.shape == "otel"]
    loads = [
        ingest_usage(con, write_jsonl(tmp_path / "gateway.jsonl", logs)),
        ingest_usage(con, write_jsonl(tmp_path / "flat.jsonl", flat)),
        ingest_usage(con, write_jsonl(tmp_path / "spans.jsonl", spans)),
    ]
    assert sum(load.loaded for load in loads) == CALLS
    assert sum(load.unpriced for load in loads) == 0

    billed = {
        call_id: (total, tokens)
        for call_id, total, *tokens in con.execute(
            "SELECT c.call_id, b.total_cost, c.input_tokens, c.cache_read_tokens, "
            "c.cache_write_tokens, c.output_tokens FROM calls c "
            "JOIN call_costs b USING (batch_id, source_line, source_item)"
        ).fetchall()
    }
    mismatches = []
    for call in calls:
        total, tokens = billed[call.call_id]
        # every shape normalised to the same counts
        assert tokens == [
            call.input_tokens,
            call.cache_read,
            call.cache_write,
            call.output_tokens,
        ], call
        expected = calc_price(
            Usage(
                input_tokens=call.input_tokens,
                cache_read_tokens=call.cache_read,
                cache_write_tokens=call.cache_write,
                output_tokens=call.output_tokens,
            ),
            call.model,
            provider_id="minimax",
            genai_request_timestamp=call.ts,
        ).total_price
        if total != expected:
            mismatches.append((call, total, expected))
    assert mismatches == []
    # the test covers what it claims: every shape, long context above and below the tier
    assert {c.shape for c in calls} == set(SHAPES)
    assert any(c.input_tokens > 512_000 for c in calls)
    assert any(c.input_tokens == 512_000 for c in calls)
