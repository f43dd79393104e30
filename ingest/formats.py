"""The usage-log formats ``ratecard ingest usage`` reads: one registry, one contract.

Each format is one :class:`FormatSpec` in :data:`FORMATS`: its name, the SQL fragments
(``ingest/sql``) that turn a file into the ``extracted`` records, the JSON shape its lines
are parsed into, how it is told from a file's first record, whether it needs ``--provider``
and how many header lines come before the first record. Detection, staging, the CLI's help
and the tests all read the registry, so a new format is one SQL file, one registry entry and
its tests (ARCHITECTURE.md, "A wire format").

Every extractor ends in the same ``extracted`` CTE: :data:`EXTRACTED` is that contract
(columns in order, DuckDB types), which validate.sql reads and tests/test_formats.py checks
for every format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from ingest.repair import first_lines
from warehouse.errors import RatecardError
from warehouse.shipped import shipped
from warehouse.sql import sql_file


class UsageFormat(StrEnum):
    """The usage-log formats ``ratecard ingest usage`` reads; how each is read is its entry
    in FORMATS."""

    GATEWAY_LOG = "gateway-log"
    """JSONL, one call per line, with the provider's body under ``response`` (or the raw
    event stream under ``sse``): OpenAI Chat Completions or Responses, Anthropic Messages,
    Runware tasks, OpenRouter usage with cost, or any of their error envelopes."""
    RAW_BODY = "raw-body"
    """JSONL of response bodies exactly as a provider returned them, one per line; the
    provider is named with ``--provider``, model and time come from each body."""
    OTEL = "otel"
    """OpenTelemetry GenAI spans in OTLP/JSON, one export request per line."""
    FLAT_JSONL = "flat-jsonl"
    """JSONL, one normalised call per line."""
    FLAT_CSV = "flat-csv"
    """CSV with a header of normalised column names."""


class ProviderOption(StrEnum):
    """What a format does with ``--provider``."""

    IGNORED = "ignored"
    """The records name their provider; the option is not read."""
    OVERRIDES = "overrides"
    """The records may name it; the option, when given, wins."""
    REQUIRED = "required"
    """The records do not say who billed them: a file without the option is refused."""


FLAT_COLUMNS = (
    "call_id",
    "ts",
    "provider",
    "model",
    "status",
    "status_code",
    "error_type",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "reported_cost",
    "team",
    "project",
    "api_key",
    "api_key_id",
    "tags",
)
"""The normalised call's columns as flat JSONL and flat CSV write them (ARCHITECTURE.md)."""


EXTRACTED = (
    ("source_line", "BIGINT"),  # NULL for line formats: numbered once staged (number_lines.sql)
    ("blank", "BOOLEAN"),  # a blank line: no record, dropped once numbered
    ("source_item", "BIGINT"),  # the call's number within its line, from 0
    ("line", "VARCHAR"),  # the raw text, kept for a record that fails
    ("problem", "VARCHAR"),  # why the line cannot be a record at all, or NULL
    ("call_id", "VARCHAR"),
    ("ts_txt", "VARCHAR"),
    ("provider", "VARCHAR"),
    ("model", "VARCHAR"),
    ("status_txt", "VARCHAR"),  # 'ok' / 'failed' as written, or NULL: derived in validate.sql
    ("http_status_txt", "VARCHAR"),
    ("error_type", "VARCHAR"),
    ("usage_present", "BOOLEAN"),  # the record carries token counts at all
    ("no_usage_reason", "VARCHAR"),  # a success without usage: loaded unpriced, this says why
    ("input_txt", "VARCHAR"),
    ("cache_read_txt", "VARCHAR"),
    ("cache_write_txt", "VARCHAR"),
    ("cache_write_1h_txt", "VARCHAR"),
    ("output_txt", "VARCHAR"),
    ("reasoning_txt", "VARCHAR"),
    ("reported_cost_txt", "VARCHAR"),
    ("team", "VARCHAR"),
    ("project", "VARCHAR"),
    ("api_key", "VARCHAR"),  # redacted to its fingerprint in validate.sql, never stored
    ("api_key_id", "VARCHAR"),
    ("tags", "JSON"),
)
"""The contract every extractor's ``extracted`` CTE keeps: these columns, in this order, of
these types. Counts, times and costs stay text as the record wrote them: validate.sql types
and checks them, once, for every format."""


Shape = Mapping[str, object]


def shape_file(name: str) -> Shape:
    """A JSON structure lines are parsed into, from ``ingest/sql/<name>.json``."""
    text = shipped("ingest", "sql", f"{name}.json").read_text("utf-8")
    shape: dict[str, object] = json.loads(text)
    return shape


@cache
def body_shape() -> Shape:
    """The JSON structure every provider body is parsed into (ingest/sql/body_shape.json)."""
    return shape_file("body_shape")


_ENVELOPE_FIELDS = {
    **dict.fromkeys(
        ("call_id", "ts", "provider", "model", "team", "project", "api_key", "api_key_id"),
        "VARCHAR",
    ),
    "tags": "JSON",
    "status_code": "VARCHAR",
    "sse": "VARCHAR",
}
"""The gateway log's own fields (ARCHITECTURE.md); the body under ``response`` is parsed
into the body shape."""


def envelope_shape() -> Shape:
    """A gateway-log line: its own fields and the provider's body under ``response``."""
    return {**_ENVELOPE_FIELDS, "response": body_shape()}


def flat_shape() -> Shape:
    """A flat JSONL line: the flat columns as text (a JSON number read as its digits), tags
    as JSON."""
    return {column: "JSON" if column == "tags" else "VARCHAR" for column in FLAT_COLUMNS}


def otel_shape() -> Shape:
    """An OTLP/JSON export request (ingest/sql/otel_shape.json)."""
    return shape_file("otel_shape")


Detect = Callable[[Mapping[str, object]], bool]


@dataclass(frozen=True)
class FormatSpec:
    """One wire format: how ingest reads it into the :data:`EXTRACTED` records."""

    format: UsageFormat
    summary: str
    """What the format is, for the command's help (one phrase)."""
    extract: tuple[str, ...]
    """The CTE fragments (``ingest/sql/<name>.sql``), in order, that end in ``extracted``;
    validate.sql follows them. A line format starts with ``lines`` and ``json_lines``."""
    shape: Callable[[], Shape] | None = None
    """The JSON structure each line is parsed into (json_lines.sql), for a line format."""
    detect: Detect | None = None
    """Whether the file's first JSON object that parses is of this format."""
    suffix: str | None = None
    """A file name ending (before .gz) that alone means this format."""
    provider: ProviderOption = ProviderOption.IGNORED
    header_lines: int = 0
    """Lines before the first record. A format with a header is a delimited file read under
    it (extract_flat_csv.sql, usage.csv_layout), not line by line."""

    @property
    def name(self) -> str:
        return self.format.value

    def sql(self) -> str:
        """The format's CTE chain up to ``extracted``, its shapes filled in."""
        return fill_shapes(",\n\n".join(sql_file("ingest", name) for name in self.extract), self)


def _has(*keys: str) -> Detect:
    return lambda record: any(key in record for key in keys)


FORMATS = (
    # detection tries the entries in this order on the first record that parses
    FormatSpec(
        UsageFormat.OTEL,
        "OTLP/JSON GenAI spans",
        ("lines", "json_lines", "extract_otel"),
        otel_shape,
        detect=_has("resourceSpans"),
        provider=ProviderOption.OVERRIDES,
    ),
    FormatSpec(
        UsageFormat.GATEWAY_LOG,
        "any provider body or SSE stream",
        ("lines", "json_lines", "envelope_gateway_log", "bodies"),
        envelope_shape,
        detect=_has("response", "sse"),
    ),
    FormatSpec(
        UsageFormat.FLAT_JSONL,
        "one normalised call per line",
        ("lines", "json_lines", "extract_flat_jsonl"),
        flat_shape,
        detect=_has("input_tokens", "output_tokens"),
    ),
    FormatSpec(
        UsageFormat.RAW_BODY,
        "response bodies as a provider returned them, with --provider",
        ("lines", "json_lines", "envelope_raw_body", "bodies"),
        body_shape,
        detect=_has("usage", "choices", "data", "errors", "error", "object", "type"),
        provider=ProviderOption.REQUIRED,
    ),
    FormatSpec(
        UsageFormat.FLAT_CSV,
        "normalised columns under a header",
        ("extract_flat_csv",),
        suffix=".csv",
        header_lines=1,
    ),
)
"""Every usage format, one entry each."""

SPECS = {spec.format: spec for spec in FORMATS}

NO_RECORDS = UsageFormat.GATEWAY_LOG
"""The format of a file without a single non-blank line: it holds no records, whatever its
format, and reads as an empty batch."""


def spec_of(fmt: UsageFormat) -> FormatSpec:
    return SPECS[fmt]


def format_list() -> str:
    """The formats with what each is, for the command's help (in the order of UsageFormat)."""
    return ", ".join(f"{SPECS[fmt].name} ({SPECS[fmt].summary})" for fmt in UsageFormat)


def fill_shapes(sql: str, spec: FormatSpec) -> str:
    """The SQL with the JSON structures it parses into filled in, as string literals: the
    format's line shape (``__SHAPE__``, json_lines.sql) and the provider body's
    (``__BODY_SHAPE__``, bodies.sql)."""

    def literal(shape: Shape) -> str:
        return "'" + json.dumps(shape, separators=(",", ":")).replace("'", "''") + "'"

    if spec.shape is not None:
        sql = sql.replace("__SHAPE__", literal(spec.shape()))
    return sql.replace("__BODY_SHAPE__", literal(body_shape()))


def detect_format(path: Path) -> UsageFormat:
    """Tell the format from the file name and its first records.

    A name ending in a format's suffix (.csv) is that format. Otherwise the first record that
    parses as a JSON object decides, tried against each format's ``detect`` in the order of
    :data:`FORMATS`: ``resourceSpans`` means OTLP spans, a ``response`` (or ``sse``) body a
    gateway log, token columns at the top level flat JSONL, and a provider's own body fields
    (``usage``, ``choices``, ``data``, ``error``, ...) a file of raw bodies. A file without a
    single non-blank line is :data:`NO_RECORDS`.
    """
    name = path.name.lower().removesuffix(".gz")
    for spec in FORMATS:
        if spec.suffix is not None and name.endswith(spec.suffix):
            return spec.format
    lines = first_lines(path)
    if not lines:
        return NO_RECORDS
    for line in lines:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python goes
            continue
        if isinstance(record, dict):
            for spec in FORMATS:
                if spec.detect is not None and spec.detect(record):
                    return spec.format
    raise RatecardError(
        f"{path}: cannot tell the format from the first records; name it with --format "
        f"({', '.join(f.value for f in UsageFormat)})"
    )
