"""Load usage logs into the warehouse: one file, one batch, one transaction.

Every record of a file ends up in exactly one place: loaded into ``calls`` (and billed),
counted as a duplicate of a call already there, or quarantined with its line and a reason.
The batch row records the counts, and the table's CHECK holds the conservation line
records_read = loaded + duplicates + quarantined. All the work per record is SQL over the
file (``ingest/sql``); Python only picks the format and runs the steps.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path

import duckdb

from pricing.engine import bill_batches
from warehouse.errors import RatecardError
from warehouse.sql import fetch_one, fetch_value, sql_file


class UsageFormat(StrEnum):
    """The usage-log formats ``ratecard ingest usage`` reads (ARCHITECTURE.md)."""

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


@dataclass(frozen=True)
class UsageLoad:
    """What one file's ingest did; ``records_read = loaded + duplicates + quarantined``."""

    batch_id: int
    source: str
    format: UsageFormat
    records_read: int
    loaded: int
    duplicates: int
    quarantined: int
    billed: int
    unpriced: int


def _open_text(path: Path) -> list[str]:
    """The first few non-blank lines of a file, for format detection (gzip aware)."""
    opener = gzip.open if path.suffix == ".gz" else open
    lines = []
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    lines.append(line)
                if len(lines) >= 20:
                    break
    except (OSError, EOFError) as exc:
        raise RatecardError(f"{path}: cannot read the file: {exc}") from exc
    return lines


_BODY_KEYS = ("usage", "choices", "data", "errors", "error", "object", "type")


def detect_format(path: Path) -> UsageFormat:
    """Tell the format from the file name and its first records.

    A .csv file is flat CSV. For JSONL, the first record that parses decides:
    ``resourceSpans`` means OTLP spans, a ``response`` (or ``sse``) body a gateway log,
    token columns at the top level flat JSONL, and a provider's own body fields (``usage``,
    ``choices``, ``data``, ``error``, ...) a file of raw bodies.
    """
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return UsageFormat.FLAT_CSV
    for line in _open_text(path):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            if "resourceSpans" in record:
                return UsageFormat.OTEL
            if "response" in record or "sse" in record:
                return UsageFormat.GATEWAY_LOG
            if "input_tokens" in record or "output_tokens" in record:
                return UsageFormat.FLAT_JSONL
            if any(key in record for key in _BODY_KEYS):
                return UsageFormat.RAW_BODY
    raise RatecardError(
        f"{path}: cannot tell the format from the first records; name it with --format "
        f"({', '.join(f.value for f in UsageFormat)})"
    )


def _check_csv_header(path: Path) -> None:
    head = _open_text(path)
    if not head:
        return
    header = next(csv.reader([head[0]]))
    unknown = [column for column in header if column.strip() not in FLAT_COLUMNS]
    if unknown:
        raise RatecardError(
            f"{path}: unknown column {unknown[0]!r} in the header; the flat CSV columns are "
            f"{', '.join(FLAT_COLUMNS)}"
        )
    missing = [c for c in ("ts", "provider", "model") if c not in header]
    if missing:
        raise RatecardError(f"{path}: the header has no {missing[0]!r} column")


LINE_DELIM = "\x1f\x1e\x1d\x1c"
"""The column delimiter for reading a JSONL file as one text column per line: four control
characters that valid JSON never holds raw (a single one could sit alone on a garbage line,
which the reader would then take for a blank line)."""

_FRAGMENTS = {
    UsageFormat.GATEWAY_LOG: ["lines", "envelope_gateway_log", "bodies", "validate"],
    UsageFormat.RAW_BODY: ["lines", "envelope_raw_body", "bodies", "validate"],
    UsageFormat.OTEL: ["lines", "extract_otel", "validate"],
    UsageFormat.FLAT_JSONL: ["lines", "extract_flat_jsonl", "validate"],
    UsageFormat.FLAT_CSV: ["extract_flat_csv", "validate"],
}


def _body_shape() -> dict[str, object]:
    """The JSON structure every provider body is parsed into (ingest/sql/body_shape.json)."""
    text = resources.files("ingest").joinpath("sql", "body_shape.json").read_text("utf-8")
    shape: dict[str, object] = json.loads(text)
    return shape


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


def _shapes(sql: str) -> str:
    """The SQL with the JSON structures it parses into filled in, as string literals."""

    def literal(shape: dict[str, object]) -> str:
        return "'" + json.dumps(shape, separators=(",", ":")) + "'"

    body = _body_shape()
    return sql.replace("__BODY_SHAPE__", literal(body)).replace(
        "__ENVELOPE_SHAPE__", literal({**_ENVELOPE_FIELDS, "response": body})
    )


@contextmanager
def _scratch(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Attach a fresh database file beside the warehouse as ``ingest_scratch`` for a file's
    staged records, and delete it afterwards.

    Staged into a TEMP table, ten million records cost 10-15 s more (benchmarks/FINDINGS.md):
    a temporary table over the memory limit spills uncompressed, and the duplicate check and
    the insert into calls read it back slowly. A table in the warehouse itself would do as
    well but leave its blocks free inside the warehouse file (60 % of its size after one
    large file); a separate file is simply deleted. It is written without a write-ahead log
    and detached without a checkpoint: nothing in it outlives the ingest. A warehouse in
    memory stages in the system's temporary folder. A crash can leave a
    ``.ratecard-ingest-*`` folder beside the warehouse: safe to delete.
    """
    path = fetch_value(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    beside = Path(str(path)).resolve().parent if path and path != ":memory:" else None
    folder = Path(tempfile.mkdtemp(prefix=".ratecard-ingest-", dir=beside))
    file = str(folder / "staged.duckdb").replace("'", "''")
    try:
        con.execute("DETACH DATABASE IF EXISTS ingest_scratch")
        con.execute(f"ATTACH '{file}' AS ingest_scratch (RECOVERY_MODE no_wal_writes)")
        try:
            yield
        finally:
            # the file is deleted next: detach it without the checkpoint a detach makes
            # (0.3 s after ten million records; the table dropped first, as before, took as
            # long). The setting is global, so it is restored at once.
            con.execute("SET checkpoint_on_detach = 'DISABLED'")
            try:
                con.execute("DETACH ingest_scratch")
            finally:
                con.execute("RESET checkpoint_on_detach")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _staged_table(columns: list[tuple[object, ...]]) -> str:
    """The scratch table for the staged query's columns (its DESCRIBE rows): as CREATE TABLE
    AS would make it, except that ``call_id`` is stored uncompressed.

    The ids are nearly all distinct, so compressing them (dictionary and FSST) buys little in
    a file that is deleted after the ingest, and the calls table compresses them anyway.
    Writing two million staged records took 2.8 CPU s instead of 3.8, and reading their ids
    back 0.10 instead of 0.16, for a file 35 MB larger (benchmarks/FINDINGS.md).
    """
    definitions = []
    for name, kind, *_ in columns:
        quoted = '"' + str(name).replace('"', '""') + '"'
        compression = " USING COMPRESSION uncompressed" if name == "call_id" else ""
        definitions.append(f"{quoted} {kind}{compression}")
    return f"CREATE TABLE ingest_scratch.staged ({', '.join(definitions)})"


def _stage(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: UsageFormat, provider: str | None
) -> None:
    """Fill ingest_scratch.staged with every record of the file, typed and checked, in a
    transaction of the scratch database (``_scratch``).

    The format's extraction and the shared checks are CTE fragments (``ingest/sql``) run as
    one query, so only the narrow typed columns are materialised; the raw text is kept only
    for records that fail. JSONL lines are read in parallel straight from the file
    (lines.sql) and numbered afterwards by their rows' places in the staged table
    (number_lines.sql), which DuckDB keeps in file order.
    """
    params: dict[str, object] = {"path": str(path)}
    if fmt is UsageFormat.FLAT_CSV:
        _check_csv_header(path)
    else:
        params["delim"] = LINE_DELIM
    if fmt in (UsageFormat.RAW_BODY, UsageFormat.OTEL):
        params["provider"] = provider
    ctes = _shapes(",\n\n".join(sql_file("ingest", name) for name in _FRAGMENTS[fmt]))
    con.execute(sql_file("ingest", "macros"))
    con.execute("BEGIN TRANSACTION")
    try:
        query = (
            f"WITH {ctes}\n"
            # the integer key of a record's id (warehouse/migrations/0007 and 0012), computed
            # once here for the duplicate check (classify.sql) and the calls table, which
            # read it for loadable records only. Not under a CASE: id_key names its argument
            # 15 times, and DuckDB computes the shared MD5 once only in a plain projection
            "SELECT *, id_key(call_id) AS call_key FROM staged"
        )
        con.execute(_staged_table(con.execute(f"DESCRIBE {query}", params).fetchall()))
        # INSERT keeps the query's order, as CREATE TABLE AS did: number_lines.sql needs it
        con.execute(f"INSERT INTO ingest_scratch.staged {query}", params)
        if fmt is not UsageFormat.FLAT_CSV:
            con.execute(sql_file("ingest", "number_lines"))
            # only when a line holds several calls: the shift's join costs 1.5 s at ten
            # million rows even when there is nothing to shift
            if fetch_value(con, "SELECT count(*) FROM ingest_scratch.staged WHERE source_item > 0"):
                con.execute(sql_file("ingest", "shift_after_extra_calls"))
        if fetch_value(con, "SELECT count(*) FROM ingest_rejects"):
            header = 1 if fmt is UsageFormat.FLAT_CSV else 0
            con.execute(sql_file("ingest", "renumber_after_rejects"), {"header": header})
            con.execute(sql_file("ingest", "reject_lines"), {"csv": fmt is UsageFormat.FLAT_CSV})
        con.execute("DELETE FROM ingest_scratch.staged WHERE blank")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


_CALL_COLUMNS = (
    "call_id, ts, provider, model, status, http_status, error_type, input_tokens, "
    "cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, "
    "reasoning_tokens, reported_cost, no_usage_reason, team, project, api_key_id, tags"
)


def ingest_usage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    fmt: UsageFormat | None = None,
    provider: str | None = None,
    bill: bool = True,
    source: str | None = None,
    before_commit: Callable[[duckdb.DuckDBPyConnection, int], None] | None = None,
) -> UsageLoad:
    """Load one usage file as a new batch, and bill it unless ``bill`` is False.

    ``provider`` names the gateway for raw bodies (required) and OTLP spans (overrides the
    span's gen_ai.provider.name). ``source`` replaces the file's path as the batch's source
    (an HTTP pull names the page it fetched). ``before_commit`` runs inside the batch's
    transaction with the new batch id, so that what it writes lands with the batch or not at
    all.
    """
    if not path.is_file():
        raise RatecardError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    if fmt is UsageFormat.RAW_BODY and not provider:
        raise RatecardError(
            f"{path}: a file of raw response bodies does not say which gateway billed them; "
            "name it with --provider (runapi, reapi, vtrix, runware, ...)"
        )
    if provider is not None:
        provider = provider.strip().lower()
    source = source or str(path.resolve())
    started = datetime.now(UTC)
    for table in ("ingest_rejects", "ingest_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    with _scratch(con):
        try:
            _stage(con, path, fmt, provider)
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            if "state machine" in str(exc):
                raise RatecardError(
                    f"{path}: the file mixes line endings (LF and CRLF) or holds a raw "
                    "carriage return, which JSON lines never do; convert it first, e.g. "
                    f"`tr -d '\\r' < {path.name} > fixed.jsonl`"
                ) from exc
            raise RatecardError(f"{path}: cannot read it as {fmt.value}: {exc}") from exc
        # one transaction writes one database: the staged records are read from the scratch
        # database, the batch is written to the warehouse
        con.execute("BEGIN TRANSACTION")
        try:
            batch = _load(con, fmt, source, started, bill)
            if before_commit is not None:
                before_commit(con, batch.batch_id)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute("DROP TABLE IF EXISTS ingest_verdicts")
    return batch


def _load(
    con: duckdb.DuckDBPyConnection,
    fmt: UsageFormat,
    source: str,
    started: datetime,
    bill: bool,
) -> UsageLoad:
    """Classify the staged records and write the batch: calls, quarantine, batch row, bill."""
    con.execute("CREATE OR REPLACE TEMP TABLE ingest_verdicts AS " + sql_file("ingest", "classify"))
    batch_id = int(fetch_value(con, "SELECT nextval('batch_id_seq')"))
    params = {"batch": batch_id, "source": source}
    # everything valid without a verdict is loaded, in file order; the batches CHECK then
    # holds the count of rows really inserted to read = loaded + duplicates + quarantined
    loaded = fetch_value(
        con,
        f"INSERT INTO calls ({_CALL_COLUMNS}, source, source_line, source_item, batch_id, "  # noqa: S608
        f"call_key) SELECT {_CALL_COLUMNS}, $source, source_line, source_item, $batch, "
        "call_key FROM ingest_scratch.staged "
        "ANTI JOIN ingest_verdicts USING (source_line, source_item) WHERE reason IS NULL",
        params,
    )
    # the new calls' token sums per hour, which billing prices (now and at every rebill)
    # when the prices allow, instead of the calls one by one
    con.execute(f"INSERT INTO call_hours {sql_file('ingest', 'call_hours')}", {"batch": batch_id})
    con.execute(
        "INSERT INTO quarantine (batch_id, source, source_line, source_item, call_id, "
        "reason, raw, record_hash) SELECT $batch, $source, source_line, source_item, "
        "call_id, reason, raw, record_hash FROM ingest_verdicts "
        "WHERE outcome = 'quarantine' ORDER BY source_line, source_item",
        params,
    )
    read, duplicates, quarantined = (
        int(n)
        for n in fetch_one(
            con,
            "SELECT (SELECT count(*) FROM ingest_scratch.staged), "
            "count(*) FILTER (WHERE outcome = 'duplicate'), "
            "count(*) FILTER (WHERE outcome = 'quarantine') FROM ingest_verdicts",
        )
    )
    # the verdicts are done with: free their memory for billing (the staged records are on
    # disk, and their database cannot be written in this transaction)
    con.execute("DROP TABLE ingest_verdicts")
    con.execute(
        "INSERT INTO batches (batch_id, kind, source, format, started_at, finished_at, "
        "records_read, loaded, duplicates, quarantined) VALUES ($batch, 'usage', $source, "
        "$format, $started, now(), $read, $loaded, $duplicates, $quarantined)",
        {
            **params,
            "format": fmt.value,
            "started": started,
            "read": read,
            "loaded": loaded,
            "duplicates": duplicates,
            "quarantined": quarantined,
        },
    )
    billed = unpriced = 0
    if bill:
        result = bill_batches(con, batch_id, batch_id)
        billed, unpriced = result.calls, result.unpriced
    return UsageLoad(batch_id, source, fmt, read, loaded, duplicates, quarantined, billed, unpriced)
