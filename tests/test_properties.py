"""Property: whatever is done to a record, every reader keeps its accounts.

Hypothesis takes valid records of every format (gateway-log bodies of each provider, SSE
streams, raw bodies, OTLP spans, flat JSONL and CSV), mutates them (a key dropped, a value
replaced by text, a negative, a fraction, null, a list or an object, the line truncated,
bytes that are not UTF-8, the line replaced by noise) and ingests the file. The ingest must
never raise, the batch must satisfy read = loaded + duplicates + quarantined (the table's
CHECK would refuse it otherwise), every line of a one-call format must be counted as a
record, and every quarantined record must carry a reason.

A second property damages whole files: bytes a disk, a transfer or an editor can leave (a
CR, a NUL, bytes that are not UTF-8, a byte-order mark) put at random places in a valid
file of every format, plain or gzipped, and the file cut short (the .gz's compressed stream
cut at a random byte). Every line the damage did not touch must load, at its own line
number, and every line that is left must be counted.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import zlib
from itertools import count
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_readers import ANTHROPIC, CHAT, RESPONSES, logged, otel_line, streamed

from conftest import chat
from ingest.usage import UsageFormat, ingest_usage
from warehouse import RatecardError

# `make quick` (RATECARD_QUICK=1) tries a quarter of the examples, the same strategies;
# `make test`, what CI runs, tries them all
SHARE = 4 if os.environ.get("RATECARD_QUICK") else 1

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
    max_examples=120 // SHARE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=files())
@example(case=(UsageFormat.GATEWAY_LOG, [b"\xef\xbb\xbf"], True))  # only a BOM: no record
def test_no_reader_crashes_or_loses_a_record(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, case: tuple[UsageFormat, list[bytes], bool]
) -> None:
    fmt, lines, one_per_line = case
    path = tmp_path / f"mutated-{next(NAMES)}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    load = ingest_usage(priced, path, fmt=fmt, provider="testgw")
    assert load.records_read == load.loaded + load.duplicates + load.quarantined
    # JSON's blanks; a UTF-8 byte order mark opening the file marks the file, not a record
    counted = [lines[0].removeprefix(b"\xef\xbb\xbf"), *lines[1:]] if lines else lines
    non_blank = sum(1 for line in counted if line.strip(b" \t\r"))
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


# ---- damaged files --------------------------------------------------------------------------


def _line(fmt: UsageFormat, call_id: str) -> bytes:
    """A valid record of ``fmt`` with this call id, as one line."""
    if fmt is UsageFormat.GATEWAY_LOG:
        return json.dumps(chat(call_id=call_id)).encode()
    if fmt is UsageFormat.RAW_BODY:
        return json.dumps(CHAT | {"id": call_id, "created": 1790856000}).encode()
    if fmt is UsageFormat.OTEL:
        span = dict(SPAN) | {"span_id": call_id, "gen_ai.response.id": call_id}
        return otel_line([span]).encode()
    if fmt is UsageFormat.FLAT_JSONL:
        return json.dumps(FLAT | {"call_id": call_id}).encode()
    return f"{call_id},2026-10-01T12:00:00Z,testgw,tm-1,100,20,search,sk-test-{call_id}".encode()


CSV_HEADER = b"call_id,ts,provider,model,input_tokens,output_tokens,team,api_key"
DAMAGE = [b"\r", b"\x00", b"\xff", b"\xc3\x28", b"\x80", b"\xef\xbb\xbf", b'"']


@st.composite
def damaged_files(draw: st.DrawFn) -> tuple[UsageFormat, bool, list[str], bytes, set[int]]:
    """A format, whether gzipped, the call id of each line (in order, from line 1), the
    damaged file's bytes and the numbers (from 1) of the lines the damage left as they were."""
    fmt = draw(st.sampled_from(list(UsageFormat)))
    packed = draw(st.booleans())
    count = draw(st.integers(min_value=1, max_value=12))
    ids = [f"r{n}" for n in range(1, count + 1)]
    lines = [_line(fmt, call_id) for call_id in ids]
    header = fmt is UsageFormat.FLAT_CSV
    if header:
        lines.insert(0, CSV_HEADER)
        ids.insert(0, "the header")
    damaged = list(lines)
    touched: set[int] = set()
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if header and index == 0:
            # the header may only get what Excel and Windows give it: a BOM, a CRLF end
            if draw(st.booleans()):
                damaged[0] = b"\xef\xbb\xbf" + damaged[0].removeprefix(b"\xef\xbb\xbf")
            else:
                damaged[0] = damaged[0].removesuffix(b"\r") + b"\r"
            continue
        at = draw(st.integers(min_value=0, max_value=len(damaged[index])))
        damaged[index] = damaged[index][:at] + draw(st.sampled_from(DAMAGE)) + damaged[index][at:]
        touched.add(index)
    data = b"".join(line + b"\n" for line in damaged)
    if draw(st.booleans()):  # cut short
        data = data[: draw(st.integers(min_value=len(damaged[0]) + 1, max_value=len(data)))]
    if packed:
        data = gzip.compress(data)
        if draw(st.booleans()):
            data = data[: draw(st.integers(min_value=10, max_value=len(data)))]
    return fmt, packed, ids, data, {i + 1 for i in range(len(lines)) if i not in touched}


def _readable(data: bytes, packed: bool) -> bytes:
    """What an independent reader gets out of the file: zlib as far as the data goes."""
    return zlib.decompressobj(wbits=31).decompress(data) if packed else data


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(
    max_examples=100 // SHARE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=damaged_files())
def test_damage_costs_only_the_lines_it_touched(
    priced: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    case: tuple[UsageFormat, bool, list[str], bytes, set[int]],
) -> None:
    fmt, packed, ids, data, untouched = case
    suffix = ".csv" if fmt is UsageFormat.FLAT_CSV else ".jsonl"
    path = tmp_path / f"damaged-{next(NAMES)}{suffix}{'.gz' if packed else ''}"
    path.write_bytes(data)
    # the examples share the warehouse: an earlier example's calls would make these duplicates
    priced.execute("DELETE FROM calls; DELETE FROM quarantine")
    readable = _readable(data, packed)
    complete = readable.count(b"\n")  # the lines that arrived whole, with their LF
    if not readable.strip() and packed and _truncated(data):
        with pytest.raises(RatecardError, match="nothing in it can be read"):
            ingest_usage(priced, path, fmt=fmt, provider="testgw")
        return
    if fmt is UsageFormat.FLAT_CSV and complete == 0:
        # the .gz was cut in or right after the header: refused for the columns it names
        # (a column cut short, one missing) or read with no rows
        try:
            load = ingest_usage(priced, path, fmt=fmt, provider="testgw")
        except RatecardError as exc:
            assert "column" in str(exc)
            return
        assert (load.records_read, load.problem is not None) == (0, True)
        return
    load = ingest_usage(priced, path, fmt=fmt, provider="testgw")
    assert load.records_read == load.loaded + load.duplicates + load.quarantined
    # every line that is left is a record: whole ones, and the start of a cut one
    left = readable.split(b"\n")
    if fmt is UsageFormat.FLAT_CSV:
        left = left[1:]
    records = sum(1 for line in left if line.strip(b" \t\r"))
    assert load.records_read == records, (readable, load)
    # every whole line the damage did not touch is loaded at its line number
    first = 2 if fmt is UsageFormat.FLAT_CSV else 1
    expected = {(ids[n - 1], n) for n in untouched if first <= n <= complete}
    loaded = set(
        priced.execute(
            "SELECT call_id, source_line FROM calls WHERE batch_id = ?", [load.batch_id]
        ).fetchall()
    )
    assert expected <= loaded, (readable, sorted(expected - loaded))
    assert priced.execute(
        "SELECT count(*) FROM quarantine WHERE batch_id = ? AND (reason IS NULL OR reason = '')",
        [load.batch_id],
    ).fetchall() == [(0,)]
    assert (load.problem is not None) == (packed and _truncated(data)), load.problem


def _truncated(data: bytes) -> bool:
    inflater = zlib.decompressobj(wbits=31)
    inflater.decompress(data)
    return not inflater.eof


@st.composite
def csv_with_breaks(draw: st.DrawFn) -> tuple[bytes, dict[str, int], dict[int, str]]:
    """A flat CSV whose records are spread over lines: blank lines between them, quoted
    cells holding line breaks (blank lines inside too), rows with too few cells and rows
    whose check fails; with the line each loaded call and each quarantined record starts
    on, counted as the file is written (the oracle)."""
    lines = ["call_id,ts,provider,model,input_tokens,output_tokens,team"]
    loaded: dict[str, int] = {}
    quarantined: dict[int, str] = {}
    for n in range(draw(st.integers(min_value=1, max_value=10))):
        lines += [""] * draw(st.integers(min_value=0, max_value=2))
        at = len(lines) + 1
        kind = draw(st.sampled_from(["ok", "broken", "few cells", "negative"]))
        team = "search"
        if kind == "broken":
            team = (
                '"'
                + "\n".join(
                    draw(st.lists(st.sampled_from(["a", "", "b c"]), min_size=2, max_size=4))
                )
                + '"'
            )
        if kind == "few cells":
            lines.append(f"c{n},2026-10-01T10:00:00Z")
            quarantined[at] = "fewer cells than the header has columns"
            continue
        tokens = "-5" if kind == "negative" else "1000"
        lines += f"c{n},2026-10-01T10:00:00Z,reapi,minimax/minimax-m3,{tokens},0,{team}".split("\n")
        if kind == "negative":
            quarantined[at] = "input tokens are negative: -5"
        else:
            loaded[f"c{n}"] = at
    lines += [""] * draw(st.integers(min_value=0, max_value=2))
    return "\n".join(lines).encode() + b"\n", loaded, quarantined


@settings(
    max_examples=60 // SHARE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=csv_with_breaks(), packed=st.booleans())
def test_csv_records_are_numbered_by_the_line_they_start_on(
    priced: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    case: tuple[bytes, dict[str, int], dict[int, str]],
    packed: bool,
) -> None:
    data, loaded, quarantined = case
    path = tmp_path / f"breaks-{next(NAMES)}.csv{'.gz' if packed else ''}"
    path.write_bytes(gzip.compress(data) if packed else data)
    priced.execute("DELETE FROM calls; DELETE FROM quarantine")
    load = ingest_usage(priced, path, fmt=UsageFormat.FLAT_CSV)
    assert load.records_read == len(loaded) + len(quarantined)
    got = priced.execute("SELECT call_id, source_line FROM calls").fetchall()
    assert dict(got) == loaded, data
    got = priced.execute("SELECT source_line, reason FROM quarantine").fetchall()
    assert dict(got) == quarantined, data
