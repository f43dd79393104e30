"""Property: whatever is done to a record, every reader keeps its accounts.

Hypothesis takes valid records of every format (gateway-log bodies of each provider, SSE
streams, raw bodies, OTLP spans, flat JSONL and CSV), mutates them (a key dropped, a value
replaced by text, a negative, a fraction, null, a list or an object, the line truncated,
bytes that are not UTF-8, the line replaced by noise) and ingests the file. The ingest must
never raise, the batch must satisfy read = loaded + duplicates + quarantined (the table's
CHECK would refuse it otherwise), every line of a one-call format must be counted as a
record, and every quarantined record must carry a reason.
"""

from __future__ import annotations

import copy
import json
from itertools import count
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_readers import ANTHROPIC, CHAT, RESPONSES, logged, otel_line, streamed

from ingest.usage import UsageFormat, ingest_usage

RUNWARE = {
    "data": [
        {
            "taskType": "textInference",
            "taskUUID": "t-1",
            "cost": 0.001,
            "usage": {"promptTokens": 10, "completionTokens": 5, "totalTokens": 15},
        }
    ]
}
FLAT = {
    "call_id": "f-1",
    "ts": "2026-10-01T12:00:00Z",
    "provider": "testgw",
    "model": "tm-1",
    "input_tokens": 100,
    "cache_read_tokens": 10,
    "output_tokens": 20,
}
SPAN = {
    "span_id": "s1",
    "gen_ai.provider.name": "testgw",
    "gen_ai.request.model": "tm-1",
    "gen_ai.usage.input_tokens": 10,
    "gen_ai.usage.output_tokens": 2,
}
STREAM = streamed(
    [{"id": "cs", "choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 2}}, "[DONE]"]
)

# (format, a valid record, whether one line is always exactly one record)
SEEDS: list[tuple[UsageFormat, Any, bool]] = [
    (UsageFormat.GATEWAY_LOG, logged(CHAT), True),
    (UsageFormat.GATEWAY_LOG, logged(RESPONSES), True),
    (UsageFormat.GATEWAY_LOG, logged(ANTHROPIC), True),
    (UsageFormat.GATEWAY_LOG, logged(RUNWARE, provider="runware", model="minimax-m3"), False),
    (UsageFormat.GATEWAY_LOG, logged({"error": {"type": "x"}}, status=500), True),
    (UsageFormat.GATEWAY_LOG, STREAM, True),
    (UsageFormat.RAW_BODY, CHAT | {"created": 1790856000}, True),
    (UsageFormat.OTEL, json.loads(otel_line([dict(SPAN)])), False),
    (UsageFormat.FLAT_JSONL, FLAT, True),
]

NOISE = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@st.composite
def mutated_line(draw: st.DrawFn, record: Any) -> bytes:
    kind = draw(st.sampled_from(["replace", "drop", "truncate", "bytes", "noise", "keep"]))
    document = copy.deepcopy(record)
    if kind in ("replace", "drop"):
        where = draw(st.sampled_from(paths(document)))
        parent = document
        for step in where[:-1]:
            parent = parent[step]
        if kind == "drop" and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(NOISE)
    text = json.dumps(document).encode()
    if kind == "truncate":
        return text[: draw(st.integers(min_value=0, max_value=len(text)))]
    if kind == "bytes":
        at = draw(st.integers(min_value=0, max_value=len(text)))
        return text[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x80\x80"])) + text[at:]
    if kind == "noise":
        return draw(st.binary(max_size=40)).replace(b"\n", b" ").replace(b"\r", b" ")
    return text


@st.composite
def files(draw: st.DrawFn) -> tuple[UsageFormat, list[bytes], bool]:
    fmt, record, one_per_line = draw(st.sampled_from(SEEDS))
    lines = draw(st.lists(mutated_line(record), min_size=1, max_size=6))
    return fmt, lines, one_per_line


NAMES = count()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=files())
def test_no_reader_crashes_or_loses_a_record(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, case: tuple[UsageFormat, list[bytes], bool]
) -> None:
    fmt, lines, one_per_line = case
    path = tmp_path / f"mutated-{next(NAMES)}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    load = ingest_usage(priced, path, fmt=fmt, provider="testgw")
    assert load.records_read == load.loaded + load.duplicates + load.quarantined
    non_blank = sum(1 for line in lines if line.strip(b" \t\r"))  # JSON's blanks
    if one_per_line:
        assert load.records_read == non_blank, lines
    else:
        assert load.records_read >= non_blank, lines
    assert priced.execute(
        "SELECT count(*) FROM quarantine WHERE batch_id = ? AND (reason IS NULL OR reason = '')",
        [load.batch_id],
    ).fetchall() == [(0,)]
    stored = priced.execute(
        "SELECT (SELECT count(*) FROM calls WHERE batch_id = $b) "
        "+ (SELECT count(*) FROM quarantine WHERE batch_id = $b)",
        {"b": load.batch_id},
    ).fetchall()[0][0]
    assert stored == load.loaded + load.quarantined
