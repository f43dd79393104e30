"""The sample traffic generator: deterministic, and it holds what the demo must show."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from ratecard.sample import generate


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    one = generate(tmp_path / "one", 3_000, seed=5)
    two = generate(tmp_path / "two", 3_000, seed=5)
    other = generate(tmp_path / "other", 3_000, seed=6)
    assert digest(one.gateway_log) == digest(two.gateway_log)
    assert digest(one.runware_log) == digest(two.runware_log)
    assert digest(one.gateway_log) != digest(other.gateway_log)
    # days written by parallel workers join into the very same bytes
    parallel = generate(tmp_path / "parallel", 3_000, seed=5, workers=3)
    assert digest(parallel.gateway_log) == digest(one.gateway_log)
    assert digest(parallel.runware_log) == digest(one.runware_log)


def test_the_traffic_holds_what_the_demo_shows(tmp_path: Path) -> None:
    files = generate(tmp_path, 20_000)
    records, broken = [], 0
    for path in (files.gateway_log, files.runware_log):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                broken += 1
    unique = {json.dumps(r, sort_keys=True) for r in records}
    assert len(unique) == 20_000, "every call once; the rest are logged-twice retries"
    assert 0 < broken < 40 and len(records) - len(unique) > 0

    statuses = Counter(r.get("status_code", 200) for r in records)
    failed = sum(n for status, n in statuses.items() if status >= 400)
    assert 0.03 <= failed / len(records) <= 0.05
    assert {400, 401, 402, 429, 500} <= set(statuses)
    assert {r["provider"] for r in records} == {"runapi", "reapi", "vtrix", "runware"}
    assert {"MiniMax-M2.5-highspeed", "MiniMax-M2.7-highspeed", "MiniMax-M1"} <= {
        r["model"] for r in records
    }
    bodies = [r["response"] for r in records if isinstance(r.get("response"), dict)]
    usages = [b["usage"] for b in bodies if "prompt_tokens" in b.get("usage", {})]
    assert any(u["prompt_tokens"] > 512_000 for u in usages)
    assert any(u.get("prompt_tokens_details", {}).get("cached_tokens", 0) > 0 for u in usages)
    assert any("completion_tokens_details" in u for u in usages)
    # every surface the gateways serve: chat, Responses, Anthropic, Runware tasks, streams
    assert {b.get("object") for b in bodies} >= {"chat.completion", "response"}
    assert any(b.get("type") == "message" for b in bodies)
    assert any(b.get("type") == "error" for b in bodies)
    tasks = [item for b in bodies for item in b.get("data", [])]
    assert tasks and all(isinstance(t["cost"], float) and t["taskUUID"] for t in tasks)
    assert any(b.get("errors") for b in bodies)
    assert any(r["model"] == "minimax:m3@0" for r in records)
    streams = [r["sse"] for r in records if "sse" in r]
    assert streams and any("[DONE]" not in s for s in streams)
    days = sorted(r["ts"][:10] for r in records)
    assert days[0] < "2026-10-15" <= days[-1], "traffic spans the ReAPI price change"
    assert len(set(days)) == 90
    assert len({(r["team"], r["project"]) for r in records}) == 7
