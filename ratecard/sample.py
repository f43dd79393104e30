"""Deterministic sample traffic: what a company's MiniMax calls through four gateways leave in
its logs over about 90 days.

The same seed always gives the same bytes. Calls are written day by day in time order, so
memory stays bounded by one day's calls whatever the total: the demo writes ~30,000 calls and
the benchmarks ten million with the same code.

What the traffic holds, so that every page and report has something real to show:
- seven team/project workloads with their own keys, models, gateways, prompt sizes, cache
  hit rates and reasoning habits; weekday and weekend levels and a steady growth;
- gateway-log records of every surface the gateways serve: OpenAI chat completions (some as
  event streams, a few cut short), RunAPI's OpenAI Responses and Anthropic Messages bodies,
  and Runware textInference task results with the cost Runware reported (some under the AIR
  model id ``minimax:m3@0``);
- 3-5 % failed calls with each status in the ReAPI document (400, 401, 402, 429, 500);
- cache hits where the gateway caches (ReAPI, Runware), reasoning tokens on M3, calls above
  the 512K long-context tier, both sides of the 2026-10-15 ReAPI price change;
- a little traffic on ``MiniMax-M1``, which no sheet prices (it must show as unpriced),
  retries logged twice (duplicates) and a few lines cut short (quarantined).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import random
import shutil
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from pathlib import Path

START = datetime(2026, 8, 24, tzinfo=UTC)
DAYS = 90
SEED = 20261122


@dataclass(frozen=True)
class Workload:
    team: str
    project: str
    weight: float
    """Share of all calls, relative to the other workloads."""
    routes: tuple[tuple[str, str, float], ...]
    """(provider, wire model id, share) of the workload's calls."""
    input_median: int
    output_median: int
    cache_hit_rate: float
    """Chance a call reuses a cached prefix, where the gateway caches."""
    reasoning_rate: float
    """Chance an M3 call thinks before answering."""
    long_context_rate: float = 0.0
    """Chance an M3 call sends more than 512K input tokens."""
    keys: int = 2


# fmt: off
WORKLOADS = (
    #        team        project          weight  routes: (provider, wire model id, share)
    #        input median, output median, cache-hit rate, reasoning rate, ...
    Workload("search",   "ranker",        3.0, (("reapi", "minimax/minimax-m3", 0.7),
                                                ("vtrix", "minimax-m3", 0.3)),
             6_000, 300, 0.6, 0.3),
    Workload("search",   "query-rewrite", 2.0, (("runapi", "MiniMax-M2.5-highspeed", 0.8),
                                                ("runapi", "MiniMax-M2.5", 0.2)),
             800, 120, 0.0, 0.0),
    Workload("support",  "chatbot",       4.0, (("runapi", "MiniMax-M2.7-highspeed", 0.6),
                                                ("runapi", "MiniMax-M2.7", 0.4)),
             3_000, 400, 0.0, 0.0, keys=3),
    Workload("support",  "triage",        1.0, (("runapi", "MiniMax-M2.1", 0.7),
                                                ("runapi", "MiniMax-M2", 0.3)),
             1_500, 80, 0.0, 0.0, keys=1),
    Workload("platform", "agents",        2.0, (("reapi", "minimax/minimax-m3", 0.5),
                                                ("runapi", "MiniMax-M3", 0.3),
                                                ("runware", "minimax-m3", 0.2)),
             40_000, 2_500, 0.8, 0.8, long_context_rate=0.02),
    Workload("platform", "evals",         1.0, (("runware", "minimax-m3", 0.7),
                                                ("vtrix", "minimax-m3", 0.3)),
             12_000, 1_500, 0.3, 0.6, long_context_rate=0.01),
    Workload("growth",   "copywriter",    1.0, (("runapi", "MiniMax-M2", 0.95),
                                                ("runapi", "MiniMax-M1", 0.05)),
             1_200, 700, 0.0, 0.0, keys=1),
)
# fmt: on

CACHING_PROVIDERS = frozenset({"reapi"})  # Runware's task usage reports no cached tokens
RUNAPI_SURFACES = (0.6, 0.25, 0.15)  # chat completions, responses, anthropic messages
STREAM_SHARE = 0.1  # chat calls logged as their event stream
CUT_STREAM_SHARE = 0.01  # of those, streams cut before the usage arrived
AIR_ID_SHARE = 0.3  # Runware calls logged with the AIR model id
COST_MARK = "__runware_cost__"
FAILURES = (
    (400, "invalid_request_error", "Bad request shape or unsupported parameter"),
    (401, "authentication_error", "Missing or invalid API key"),
    (402, "insufficient_balance", "Insufficient balance: top up to continue"),
    (429, "rate_limit_error", "Per-group rate limit hit: back off and retry"),
    (500, "upstream_error", "Upstream or gateway error: safe to retry"),
)
FAILURE_WEIGHTS = (0.15, 0.05, 0.05, 0.45, 0.30)
FAILURE_RATE = 0.04
DUPLICATE_RATE = 0.001
TRUNCATED_RATE = 0.0002
# business hours carry most traffic (UTC hour weights)
HOUR_WEIGHTS = tuple(0.3 + math.exp(-(((h - 14) / 4.0) ** 2)) for h in range(24))
# What Runware charges per 1M tokens in this simulation (input, cached, output), doubled above
# 512K input tokens; its reported cost is rounded to 1e-8 USD as a provider would print it.
RUNWARE_RATES = (Decimal("0.29"), Decimal("0.058"), Decimal("1.16"))


@dataclass(frozen=True)
class SampleFiles:
    gateway_log: Path
    """RunAPI, ReAPI and Vtrix calls as gateway-log JSONL."""
    runware_log: Path
    """Runware calls as gateway-log JSONL of task results with the reported cost."""
    calls: int
    """Calls generated (each written once; duplicates and cut lines come on top)."""


def day_weights(days: int, start: datetime) -> list[float]:
    """Relative traffic per day: weekends at a third, growing 50 % over the span."""
    weights = []
    for d in range(days):
        weekday = (start + timedelta(days=d)).weekday()
        weights.append((0.35 if weekday >= 5 else 1.0) * (1.0 + 0.5 * d / max(days - 1, 1)))
    return weights


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` over ``weights`` in whole numbers that add up exactly (largest remainder)."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def generate(
    out_dir: Path,
    calls: int = 30_000,
    *,
    seed: int = SEED,
    start: datetime = START,
    days: int = DAYS,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SampleFiles:
    """Write the sample logs for ``calls`` calls into ``out_dir``; same seed, same bytes.

    Each day has its own random stream (seeded by seed and day), so ``workers`` processes
    can write ranges of days side by side; their parts are joined in day order.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    gateway_path, runware_path = out_dir / "gateway.jsonl", out_dir / "runware.jsonl"
    per_day = _apportion(calls, day_weights(days, start))
    if workers <= 1:
        _write_days(gateway_path, runware_path, per_day, 0, start, seed, progress)
        return SampleFiles(gateway_path, runware_path, calls)
    size = -(-days // workers)
    chunks = [
        (
            out_dir / f".part{i}.gateway",
            out_dir / f".part{i}.runware",
            per_day[i * size : (i + 1) * size],
            i * size,
            start,
            seed,
        )
        for i in range(workers)
        if i * size < days
    ]
    with multiprocessing.Pool(len(chunks)) as pool:
        for written in pool.imap(_write_chunk, chunks):
            if progress is not None:
                progress(written)
    for path, parts in (
        (gateway_path, [c[0] for c in chunks]),
        (runware_path, [c[1] for c in chunks]),
    ):
        with path.open("wb") as joined:
            for part in parts:
                with part.open("rb") as piece:
                    shutil.copyfileobj(piece, joined, 16 * 1024 * 1024)
                part.unlink()
    return SampleFiles(gateway_path, runware_path, calls)


def _write_chunk(chunk: tuple[Path, Path, list[int], int, datetime, int]) -> int:
    gateway, runware, per_day, first_day, start, seed = chunk
    _write_days(gateway, runware, per_day, first_day, start, seed, None)
    return sum(per_day)


def _write_days(
    gateway_path: Path,
    runware_path: Path,
    per_day: list[int],
    first_day: int,
    start: datetime,
    seed: int,
    progress: Callable[[int], None] | None,
) -> None:
    workload_cum = list(accumulate(w.weight for w in WORKLOADS))
    hour_cum = list(accumulate(HOUR_WEIGHTS))
    keys = {w: [f"sk-demo-{w.team}-{w.project}-{k + 1}" for k in range(w.keys)] for w in WORKLOADS}
    with (
        gateway_path.open("w", encoding="utf-8") as gateway,
        runware_path.open("w", encoding="utf-8") as runware,
    ):
        for offset, n in enumerate(per_day):
            day = first_day + offset
            rng = random.Random(f"{seed}:{day}")
            day_start = start + timedelta(days=day)
            offsets = sorted(
                bisect(hour_cum, rng.random() * hour_cum[-1]) * 3_600_000 + rng.randrange(3_600_000)
                for _ in range(n)
            )
            for ms in offsets:
                ts = day_start + timedelta(milliseconds=ms)
                workload = WORKLOADS[bisect(workload_cum, rng.random() * workload_cum[-1])]
                line, provider = _call(rng, workload, ts, keys[workload])
                out = runware if provider == "runware" else gateway
                out.write(line)
                roll = rng.random()
                if roll < DUPLICATE_RATE:
                    out.write(line)  # a retry logged twice by the client
                elif roll < DUPLICATE_RATE + TRUNCATED_RATE:
                    out.write(line[: len(line) // 2] + "\n")  # a write cut short
            if progress is not None:
                progress(n)


def _route(rng: random.Random, workload: Workload) -> tuple[str, str]:
    pick, acc = rng.random() * sum(r[2] for r in workload.routes), 0.0
    for provider, model, share in workload.routes:
        acc += share
        if pick < acc:
            return provider, model
    return workload.routes[-1][0], workload.routes[-1][1]


def _call(rng: random.Random, workload: Workload, ts: datetime, keys: list[str]) -> tuple[str, str]:
    """One call as a log line, and the provider it went to."""
    provider, model = _route(rng, workload)
    is_m3 = model.lower().endswith("m3")
    stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    key = keys[rng.randrange(len(keys))]
    failure = rng.choices(FAILURES, FAILURE_WEIGHTS)[0] if rng.random() < FAILURE_RATE else None

    if is_m3 and rng.random() < workload.long_context_rate:
        prompt = rng.randrange(512_001, 980_000)
    else:
        prompt = max(16, int(rng.lognormvariate(math.log(workload.input_median), 0.8)))
    completion = max(1, int(rng.lognormvariate(math.log(workload.output_median), 0.7)))
    cached = 0
    if provider in CACHING_PROVIDERS and rng.random() < workload.cache_hit_rate:
        cached = int(prompt * rng.uniform(0.3, 0.95))
    reasoning = 0
    if is_m3 and rng.random() < workload.reasoning_rate:
        reasoning = int(completion * rng.uniform(0.2, 0.7))

    envelope: dict[str, object] = {
        "ts": stamp,
        "provider": provider,
        "model": model,
        "team": workload.team,
        "project": workload.project,
        "api_key": key,
    }
    if provider == "runware":
        if rng.random() < AIR_ID_SHARE:
            envelope["model"] = "minimax:m3@0"  # the task API's AIR id for the same model
        body = _runware_body(rng, failure, prompt, completion, reasoning)
        status = failure[0] if failure else 200
        line = _line(envelope | {"status_code": status, "response": body})
        # the cost as the JSON number Runware prints, its digits exact (never via a float)
        cost = _runware_cost(prompt, 0, completion)
        return line.replace(f'"{COST_MARK}"', f"{cost:f}"), provider
    surface = "chat"
    if provider == "runapi":  # RunAPI serves the OpenAI Responses and Anthropic surfaces too
        surface = rng.choices(("chat", "responses", "anthropic"), RUNAPI_SURFACES)[0]
    if failure:
        status, kind, message = failure
        if surface == "anthropic":
            error: dict[str, object] = {
                "type": "error",
                "error": {"type": kind, "message": message},
            }
        else:
            error = {"error": {"message": message, "type": kind, "code": str(status)}}
        return _line(envelope | {"status_code": status, "response": error}), provider
    call_id = f"{rng.getrandbits(96):024x}"
    if surface == "responses":
        body = {
            "id": f"resp_{call_id}",
            "object": "response",
            "created_at": int(ts.timestamp()),
            "status": "completed",
            "model": model,
            "usage": {
                "input_tokens": prompt,
                "input_tokens_details": {"cached_tokens": cached},
                "output_tokens": completion,
                "output_tokens_details": {"reasoning_tokens": reasoning},
                "total_tokens": prompt + completion,
            },
        }
    elif surface == "anthropic":
        body = {
            "id": f"msg_{call_id}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "…"}],
            "stop_reason": "end_turn",
            # Anthropic counts input WITHOUT the cache reads
            "usage": {
                "input_tokens": prompt - cached,
                "cache_read_input_tokens": cached,
                "cache_creation_input_tokens": 0,
                "output_tokens": completion,
            },
        }
    else:
        usage: dict[str, object] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if provider in CACHING_PROVIDERS:
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        body = {
            "id": f"chatcmpl-{call_id}",
            "object": "chat.completion",
            "created": int(ts.timestamp()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "…"},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
        if rng.random() < STREAM_SHARE:
            return _line(envelope | {"status_code": 200, "sse": _stream(rng, body)}), provider
    return _line(envelope | {"status_code": 200, "response": body}), provider


def _line(record: dict[str, object]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def _stream(rng: random.Random, body: dict[str, object]) -> str:
    """A chat completion as the event stream it arrived in: content chunks with
    ``"usage": null``, the usage in a final chunk with no choices, then ``[DONE]``; or, for a
    few, a stream cut off before the usage came (a failed call)."""
    head = {"id": body["id"], "object": "chat.completion.chunk", "model": body["model"]}
    chunks = [
        head | {"choices": [{"index": 0, "delta": {"content": "…"}}], "usage": None}
        for _ in range(rng.randint(1, 3))
    ]
    events = [f"data: {json.dumps(c, separators=(',', ':'))}\n\n" for c in chunks]
    if rng.random() < CUT_STREAM_SHARE:
        return "".join(events)
    final = head | {"choices": [], "usage": body["usage"]}
    events.append(f"data: {json.dumps(final, separators=(',', ':'))}\n\n")
    return "".join(events) + "data: [DONE]\n\n"


def _runware_body(
    rng: random.Random,
    failure: tuple[int, str, str] | None,
    prompt: int,
    completion: int,
    reasoning: int,
) -> dict[str, object]:
    """A Runware textInference response, with the cost it reports when includeCost is set."""
    task = _uuid(rng)
    if failure:
        return {"errors": [{"code": failure[1], "message": failure[2], "taskUUID": task}]}
    usage: dict[str, object] = {
        "promptTokens": prompt,
        "completionTokens": completion,
        "totalTokens": prompt + completion,
    }
    if reasoning:
        usage["thinkingTokens"] = reasoning  # already inside completionTokens
    return {
        "data": [
            {
                "taskType": "textInference",
                "taskUUID": task,
                "text": "…",
                "finishReason": "stop",
                "cost": COST_MARK,
                "usage": usage,
            }
        ]
    }


def _runware_cost(prompt: int, cached: int, completion: int) -> Decimal:
    factor = 2 if prompt > 512_000 else 1
    rate_in, rate_cached, rate_out = (r * factor for r in RUNWARE_RATES)
    exact = (prompt - cached) * rate_in + cached * rate_cached + completion * rate_out
    return (exact / 1_000_000).quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"
