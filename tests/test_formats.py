"""The wire-format registry (ingest/formats.py) and the contract every extractor keeps.

Each format's CTE chain is run over a one-record file of that format written here, and its
``extracted`` records are held to :data:`ingest.formats.EXTRACTED`: the same columns, in the
same order, of the same types, with the record's fields (worked out by hand from the record
below) in the columns validate.sql reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from ingest.formats import (
    EXTRACTED,
    FORMATS,
    NO_RECORDS,
    FormatSpec,
    ProviderOption,
    UsageFormat,
    detect_format,
    spec_of,
)
from ingest.usage import csv_layout, ingest_usage, macros, stage_params
from ratecard.cli import app
from warehouse import RatecardError
from warehouse.sql import sql_file

TS = "2026-10-01T12:00:00Z"
CHAT = {
    "id": "c-1",
    "object": "chat.completion",
    "model": "tm-1",
    "usage": {"prompt_tokens": 120, "completion_tokens": 30},
}
SPAN = {
    "traceId": "t1",
    "spanId": "s1",
    "startTimeUnixNano": "1790856000000000000",  # 2026-10-01 12:00:00 UTC
    "attributes": [
        {"key": k, "value": {"stringValue": v}}
        for k, v in (
            ("gen_ai.response.id", "c-1"),
            ("gen_ai.provider.name", "testgw"),
            ("gen_ai.request.model", "tm-1"),
            ("gen_ai.usage.input_tokens", "120"),
            ("gen_ai.usage.output_tokens", "30"),
        )
    ],
}

SAMPLES: dict[UsageFormat, tuple[str, str]] = {
    # a file name and its one line (after a header for CSV), each the same call:
    # c-1 on testgw's tm-1 at TS, 120 input and 30 output tokens
    UsageFormat.GATEWAY_LOG: (
        "log.jsonl",
        json.dumps({"ts": TS, "provider": "testgw", "model": "tm-1", "response": CHAT}),
    ),
    UsageFormat.RAW_BODY: ("bodies.jsonl", json.dumps(CHAT | {"created": TS})),
    UsageFormat.OTEL: (
        "spans.jsonl",
        json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [SPAN]}]}]}),
    ),
    UsageFormat.FLAT_JSONL: (
        "flat.jsonl",
        json.dumps(
            {
                "call_id": "c-1",
                "ts": TS,
                "provider": "testgw",
                "model": "tm-1",
                "input_tokens": 120,
                "output_tokens": 30,
            }
        ),
    ),
    UsageFormat.FLAT_CSV: (
        "calls.csv",
        f"call_id,ts,provider,model,input_tokens,output_tokens\nc-1,{TS},testgw,tm-1,120,30",
    ),
}


def sample(spec: FormatSpec, folder: Path) -> Path:
    name, text = SAMPLES[spec.format]
    path = folder / name
    path.write_text(text + "\n", encoding="utf-8")
    return path


def extracted(spec: FormatSpec, path: Path) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The columns (name, type) and records of the format's ``extracted`` CTE for the file:
    its CTE chain as ingest runs it."""
    con = duckdb.connect()
    con.execute(macros())
    layout = csv_layout(path) if spec.header_lines else None
    provider = "testgw" if spec.provider is ProviderOption.REQUIRED else None
    query = f"WITH {spec.sql()},\n\n{sql_file('ingest', 'validate')}\nSELECT * FROM extracted"
    result = con.execute(query, stage_params(path, spec, provider, layout))
    columns = [(str(name), str(kind)) for name, kind, *_ in result.description]
    names = [name for name, _ in columns]
    return columns, [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def test_every_format_has_one_entry() -> None:
    assert [spec.format for spec in FORMATS] == [
        UsageFormat.OTEL,  # detection order: the most specific key first
        UsageFormat.GATEWAY_LOG,
        UsageFormat.FLAT_JSONL,
        UsageFormat.RAW_BODY,
        UsageFormat.FLAT_CSV,
    ]
    assert sorted(spec.format for spec in FORMATS) == sorted(UsageFormat)
    assert set(SAMPLES) == set(UsageFormat)


@pytest.mark.parametrize("spec", FORMATS, ids=lambda spec: spec.name)
def test_every_extractor_keeps_the_contract(spec: FormatSpec, tmp_path: Path) -> None:
    columns, rows = extracted(spec, sample(spec, tmp_path))
    assert columns == list(EXTRACTED)
    assert len(rows) == 1
    row = rows[0]
    assert row["problem"] is None and row["blank"] is False and row["source_item"] == 0
    assert row["source_line"] == (2 if spec.header_lines else None)  # JSONL: numbered later
    assert (row["call_id"], row["provider"], row["model"]) == ("c-1", "testgw", "tm-1")
    assert (row["input_txt"], row["output_txt"], row["usage_present"]) == ("120", "30", True)
    # the time as the record wrote it, or (OTLP) its nanoseconds as a time
    assert row["ts_txt"] in (TS, "2026-10-01 12:00:00+00")


@pytest.mark.parametrize("spec", FORMATS, ids=lambda spec: spec.name)
def test_every_format_is_detected_and_loads_its_call(
    spec: FormatSpec, tmp_path: Path, priced: duckdb.DuckDBPyConnection
) -> None:
    path = sample(spec, tmp_path)
    assert detect_format(path) is spec.format
    provider = "testgw" if spec.provider is ProviderOption.REQUIRED else None
    load = ingest_usage(priced, path, provider=provider)
    assert (load.format, load.records_read, load.loaded, load.quarantined) == (spec.format, 1, 1, 0)
    assert priced.execute(
        "SELECT call_id, provider, model, input_tokens, output_tokens, "
        "strftime(ts, '%Y-%m-%dT%H:%M:%SZ') FROM calls"
    ).fetchall() == [("c-1", "testgw", "tm-1", 120, 30, TS)]


def test_a_file_without_records_reads_as_no_records(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n", encoding="utf-8")
    assert detect_format(empty) is NO_RECORDS


def test_a_format_that_needs_the_provider_refuses_a_file_without_it(
    tmp_path: Path, priced: duckdb.DuckDBPyConnection
) -> None:
    required = [spec for spec in FORMATS if spec.provider is ProviderOption.REQUIRED]
    assert [spec.format for spec in required] == [UsageFormat.RAW_BODY]
    path = sample(spec_of(UsageFormat.RAW_BODY), tmp_path)
    with pytest.raises(RatecardError, match="name it with --provider"):
        ingest_usage(priced, path)


def test_the_ingest_help_lists_every_format_from_the_registry() -> None:
    result = CliRunner().invoke(app, ["ingest", "usage", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    for spec in FORMATS:
        assert f"{spec.name} ({spec.summary})" in text
