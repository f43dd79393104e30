"""The shapes of the explicit-columns floor (benchmarks/floor_columns.sql), derived from the
body shape ingest parses every provider body into (ingest/sql/body_shape.json, through the
FormatSpec registry's ``envelope_shape``), so that the floor reads every usage field of
every shape ratecard reads, and follows the formats when one is added."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ingest.formats import Shape, envelope_shape

ENVELOPE = ("ts", "provider", "model", "team", "project", "api_key", "status_code", "sse")
"""The gateway log's own fields the floor keeps (attribution, status and the raw stream)."""
BODY = ("id", "type", "error", "usage")
"""The body's fields the floor reads: what tells a call, its failure and its token counts."""


def duckdb_type(shape: object) -> str:
    """A JSON structure (as json_transform takes it) as the DuckDB type read_ndjson takes."""
    if isinstance(shape, str):
        return shape
    if isinstance(shape, list):
        return f"{duckdb_type(shape[0])}[]"
    assert isinstance(shape, Mapping)
    fields = ", ".join(f'"{name}" {duckdb_type(inner)}' for name, inner in shape.items())
    return f"STRUCT({fields})"


def floor_body() -> Shape:
    body = envelope_shape()["response"]
    assert isinstance(body, Mapping)
    return {name: body[name] for name in BODY}


def floor_columns() -> dict[str, str]:
    """read_ndjson's ``columns``: the envelope's fields and the body's, typed."""
    envelope = envelope_shape()
    columns = {name: duckdb_type(envelope[name]) for name in ENVELOPE}
    return columns | {"response": duckdb_type(floor_body())}


def event_shape() -> Shape:
    """A stream event's shape for json_transform: its usage, as in a body."""
    return {"usage": floor_body()["usage"]}


def floor_sql() -> str:
    return Path(__file__).with_name("floor_columns.sql").read_text(encoding="utf-8")
