"""Load usage logs into the warehouse: one file, one batch, one transaction.

Every record of a file ends up in exactly one place: loaded into ``calls`` (and billed),
counted as a duplicate of a call already there, or quarantined with its line and a reason.
The batch row records the counts, and the table's CHECK holds the conservation line
records_read = loaded + duplicates + quarantined. All the work per record is SQL over the
file (``ingest/sql``); Python only picks the format and runs the steps. A file DuckDB's
reader refuses (a raw carriage return, a truncated .gz) is read again from a repaired copy
(ingest/repair.py), so one bad spot costs its own line, never the file. An empty file is a
batch of no records.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.csv_lines import RecordLines, physical_lines, record_lines
from ingest.formats import (
    FLAT_COLUMNS,
    FormatSpec,
    ProviderOption,
    UsageFormat,
    detect_format,
    spec_of,
)
from ingest.redaction import redact, sql_redaction
from ingest.repair import (
    LINE_DELIM,
    MAX_LINE,
    RAW_LIMIT,
    READ_BUFFER,
    CarriageReturnScan,
    first_lines,
    repair,
)
from ingest.scratch import scratch_folder
from pricing.engine import bill_batches
from warehouse.errors import RatecardError
from warehouse.sql import fetch_one, fetch_value, sql_file

# the format names and detection live in ingest/formats.py; callers import them from here too
__all__ = ["FLAT_COLUMNS", "UsageFormat", "detect_format"]

NO_USAGE = "stream carried no usage: "
"""How the reason of a successful call without usage begins (its no_usage_reason, which is
also its unpriced_reason; ingest/sql/bodies.sql writes it, followed by how to get usage):
the pages tell such calls from the other unpriced ones by it."""

MAX_TOKENS = 10**12
"""The most tokens of one kind a call may count: a trillion, five orders of magnitude above
any context window, so a record beyond it is a broken one (quarantined as too large). At the
limit, the sums a report makes stay exact in a BIGINT (and Parquet's INT64) for the first
nine million calls of one group."""


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
    problem: str | None = None
    """What kept the end of the file from being read at all (a truncated or corrupt .gz):
    the records before it are counted, the ones after it were never seen."""


def conservation(read: int, loaded: int, duplicates: int, quarantined: int) -> str:
    """The line every ingest and pull prints: where each record it read went."""
    return (
        f"read {read:,} = loaded {loaded:,} + duplicates {duplicates:,} + "
        f"quarantined {quarantined:,}"
    )


@dataclass(frozen=True)
class CsvLayout:
    """How a flat CSV file is written, read from its header line."""

    delimiter: str
    columns: tuple[str, ...]

    @property
    def key_column(self) -> int | None:
        """The api_key column's place (from 0): its cells are redacted from rows the reader
        cannot split (reject_lines.sql)."""
        return self.columns.index("api_key") if "api_key" in self.columns else None


_DELIMITERS = (",", ";", "\t", "|")


def csv_layout(path: Path) -> CsvLayout:
    """The delimiter and columns of a flat CSV file, from its header. The delimiter is the
    first of , ; tab | that splits the header into known column names (a spreadsheet's
    semicolon export reads too); a byte-order mark is dropped. Unknown, repeated or missing
    columns stop the file. A file without a header has no rows."""
    head = first_lines(path, count=1)
    if not head:
        return CsvLayout(",", ("ts", "provider", "model"))
    for delimiter in _DELIMITERS:
        header = [c.strip() for c in next(csv.reader([head[0]], delimiter=delimiter))]
        if len(header) > 1 and all(c in FLAT_COLUMNS for c in header):
            break
    else:
        delimiter = ","
        header = [c.strip() for c in next(csv.reader([head[0]]))]
    unknown = [column for column in header if column not in FLAT_COLUMNS]
    if unknown:
        # the header is text from the file: when it is a data row, it may hold a key
        raise RatecardError(
            redact(
                f"{path}: unknown column {unknown[0]!r} in the header; the flat CSV columns "
                f"are {', '.join(FLAT_COLUMNS)}"
            )
        )
    repeated = [c for c in header if header.count(c) > 1]
    if repeated:
        raise RatecardError(f"{path}: the header names the column {repeated[0]!r} twice")
    missing = [c for c in ("ts", "provider", "model") if c not in header]
    if missing:
        raise RatecardError(f"{path}: the header has no {missing[0]!r} column")
    return CsvLayout(delimiter, tuple(header))


def macros() -> str:
    """macros.sql with the secret patterns (ingest/redaction.py) filled in: code, not values."""
    return sql_file("ingest", "macros").replace("__REDACT_SECRETS__", sql_redaction("x"))


@contextmanager
def _scratch(con: duckdb.DuckDBPyConnection) -> Iterator[Path]:
    """Attach a fresh database file in a private folder beside the warehouse
    (ingest/scratch.py) as ``ingest_scratch`` for a file's staged records; yield the folder
    (where a damaged file's repaired copy goes too), and delete it all afterwards.

    Not a TEMP table: one over the memory limit spills uncompressed, and the duplicate check
    and the insert into calls read it back slowly. Not a table in the warehouse itself: it
    would leave its blocks free inside the warehouse file. A separate file is simply deleted
    (ADR 0011). It is written without a write-ahead log
    and detached without a checkpoint: nothing in it outlives the ingest. A warehouse in
    memory stages in the system's temporary folder. A folder a killed ingest left behind is
    removed by the next ingest beside it.
    """
    path = fetch_value(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    beside = Path(str(path)).resolve().parent if path and path != ":memory:" else None
    with scratch_folder(beside) as folder:
        file = str(folder / "staged.duckdb").replace("'", "''")
        con.execute("DETACH DATABASE IF EXISTS ingest_scratch")
        con.execute(f"ATTACH '{file}' AS ingest_scratch (RECOVERY_MODE no_wal_writes)")
        try:
            yield folder
        finally:
            # the file is deleted next: detach it without the checkpoint a detach makes
            # (dropping the table first does not avoid it). The setting is global, so it is
            # restored at once (ADR 0011).
            con.execute("SET checkpoint_on_detach = 'DISABLED'")
            try:
                con.execute("DETACH ingest_scratch")
            finally:
                con.execute("RESET checkpoint_on_detach")


def _staged_table(columns: list[tuple[object, ...]]) -> str:
    """The scratch table for the staged query's columns (its DESCRIBE rows): as CREATE TABLE
    AS would make it, except that ``call_id`` is stored uncompressed.

    The ids are nearly all distinct, so compressing them (dictionary and FSST) buys little in
    a file that is deleted after the ingest, and the calls table compresses them anyway
    (ADR 0012).
    """
    definitions = []
    for name, kind, *_ in columns:
        quoted = '"' + str(name).replace('"', '""') + '"'
        compression = " USING COMPRESSION uncompressed" if name == "call_id" else ""
        definitions.append(f"{quoted} {kind}{compression}")
    return f"CREATE TABLE ingest_scratch.staged ({', '.join(definitions)})"


USAGE_SUFFIXES = (".jsonl", ".ndjson", ".csv")
"""The names of usage files in a folder given to ``ratecard ingest usage`` (and those + .gz)."""


def usage_files(paths: list[Path]) -> list[Path]:
    """The files a command line names: each file as given, each folder as the usage files in
    it (:data:`USAGE_SUFFIXES`, not hidden, sorted by name; its subfolders are not read).
    A path that does not exist, or a folder without a usage file, stops before anything is
    read: the command line is wrong."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and not p.name.startswith(".")
                and p.name.lower().removesuffix(".gz").endswith(USAGE_SUFFIXES)
            )
            if not found:
                names = ", ".join(f"*{s}" for s in USAGE_SUFFIXES)
                raise RatecardError(
                    f"{path}: is a directory with no usage files in it ({names}, or .gz)"
                )
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise RatecardError(f"{path}: no such file")
    return files


def _unclosed_quote(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether DuckDB's CSV reader met a quote that never closed, or rejected a record of
    several lines: it takes the lines after such a quote into the one rejected record, so
    the file is read from the repaired copy, where the quote costs its own line
    (repair.QuotedCells)."""
    return bool(
        fetch_value(
            con,
            "SELECT count(*) FROM ingest_rejects WHERE contains(csv_line, chr(10)) "
            "OR (error_type = 'UNQUOTED VALUE' AND contains(error_message, 'unterminated'))",
        )
    )


_READ_ERRORS = (duckdb.IOException, duckdb.InvalidInputException)
"""What DuckDB's reader raises for a file it cannot read: a raw CR, a truncated .gz."""


def stage_params(
    path: Path, spec: FormatSpec, provider: str | None, layout: CsvLayout | None
) -> dict[str, object]:
    """The $parameters of a format's CTE chain and validate.sql, for the file at ``path``."""
    params: dict[str, object] = {
        "path": str(path),
        "max_line": MAX_LINE,
        "read_buffer": READ_BUFFER,
        "max_tokens": MAX_TOKENS,
        "raw_limit": RAW_LIMIT,
    }
    if layout is not None:
        params["csv_delim"] = layout.delimiter
        params["csv_columns"] = dict.fromkeys(layout.columns, "VARCHAR")
    else:
        params["delim"] = LINE_DELIM
    if spec.provider is not ProviderOption.IGNORED:
        params["provider"] = provider
    return params


def _stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: FormatSpec,
    provider: str | None,
    layout: CsvLayout | None,
    marker: str,
) -> None:
    """Fill ingest_scratch.staged with every record of the file at ``path``, typed and
    checked, in a transaction of the scratch database (``_scratch``).

    The format's extraction (``spec.extract``) and the shared checks are CTE fragments
    (``ingest/sql``) run as one query, so only the narrow typed columns are materialised; the
    raw text is kept only for records that fail. JSONL lines are read in parallel straight
    from the file (lines.sql) and numbered afterwards by their rows' places in the staged
    table (number_lines.sql), which DuckDB keeps in file order. Lines the reader rejects, and the
    marker lines of a repaired copy (``marker``, ingest/repair.py), are added as quarantined
    records (reject_lines.sql).
    """
    params = stage_params(path, spec, provider, layout)
    ctes = f"{spec.sql()},\n\n{sql_file('ingest', 'validate')}"
    for table in ("ingest_rejects", "ingest_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(macros())
    con.execute("BEGIN TRANSACTION")
    try:
        query = (
            f"WITH {ctes}\n"
            # the integer key of a record's id (id_key, warehouse/schema.sql), computed
            # once here for the duplicate check (classify.sql) and the calls table, which
            # read it for loadable records only. Not under a CASE: id_key names its argument
            # 15 times, and DuckDB computes the shared MD5 once only in a plain projection
            # (ADR 0015)
            "SELECT *, id_key(call_id) AS call_key FROM staged"
        )
        con.execute(_staged_table(con.execute(f"DESCRIBE {query}", params).fetchall()))
        # INSERT keeps the query's order, as CREATE TABLE AS did: number_lines.sql needs it
        con.execute(f"INSERT INTO ingest_scratch.staged {query}", params)
        if layout is None:
            con.execute(sql_file("ingest", "number_lines"))
            # only when a line holds several calls: the shift's join costs time even when
            # there is nothing to shift (ADR 0010)
            if fetch_value(con, "SELECT count(*) FROM ingest_scratch.staged WHERE source_item > 0"):
                con.execute(sql_file("ingest", "shift_after_extra_calls"))
        breaks = None if layout is None else _csv_record_lines(con, path)
        if fetch_value(con, "SELECT count(*) FROM ingest_rejects"):
            con.execute(sql_file("ingest", "renumber_after_rejects"), {"header": spec.header_lines})
            con.execute(
                sql_file("ingest", "reject_lines"),
                {
                    "csv": layout is not None,
                    "marker": marker,
                    "raw_limit": RAW_LIMIT,
                    "csv_delim": None if layout is None else layout.delimiter,
                    "key_column": None if layout is None else layout.key_column,
                    "width": None if layout is None else len(layout.columns),
                },
            )
        if breaks is not None and breaks.shifts:
            con.execute(
                sql_file("ingest", "shift_after_line_breaks"),
                {
                    "records": [r for r, _ in breaks.shifts],
                    "extras": [e for _, e in breaks.shifts],
                },
            )
        con.execute("DELETE FROM ingest_scratch.staged WHERE blank")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _csv_record_lines(con: duckdb.DuckDBPyConnection, path: Path) -> RecordLines | None:
    """Where a CSV file's records start, when the file has more lines than records (a blank
    line, a quoted cell with a line break: ingest/csv_lines.py), with the reader's rejected
    lines renumbered as records, as renumber_after_rejects.sql counts them; None when every
    record is on its own line."""
    # the byte a rejected line is at: the reader's position, past the blank lines it takes
    # into the line's text
    rejects = dict(
        con.execute(
            "SELECT DISTINCT line_byte_position, line_byte_position + length(csv_line) "
            "- length(ltrim(csv_line, chr(10))) FROM ingest_rejects"
        ).fetchall()
    )
    staged = fetch_value(con, "SELECT count(*) FROM ingest_scratch.staged")
    if physical_lines(path) == staged + len(rejects) + 1:  # + 1: the header
        return None
    found = record_lines(path, rejects.values())
    if found.rejected:
        con.execute(
            "UPDATE ingest_rejects AS r SET line = n.record "
            "FROM (SELECT unnest($bytes) AS byte, unnest($records) AS record) AS n "
            "WHERE r.line_byte_position = n.byte",
            {
                "bytes": list(rejects),
                "records": [found.rejected[at] for at in rejects.values()],
            },
        )
    return found


CALL_CONTENT = (
    "struct_pack(ts, provider, model, status, http_status, error_type, input_tokens, "
    "cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, "
    "reasoning_tokens, reported_cost, no_usage_reason, team, project, api_key_id)"
)
"""What makes two records of one call_id the same call (classify.sql, and the lake's
duplicate check, lake/stage.py): every field but the id, the tags and where it was read."""


def classify_sql() -> str:
    """classify.sql with :data:`CALL_CONTENT` filled in."""
    return sql_file("ingest", "classify").replace("__CALL_CONTENT__", CALL_CONTENT)


_CALL_COLUMNS = (
    "call_id, ts, provider, model, status, http_status, error_type, input_tokens, "
    "cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, "
    "reasoning_tokens, reported_cost, no_usage_reason, team, project, api_key_id, tags"
)


@dataclass(frozen=True)
class Staged:
    """A usage file staged in ``ingest_scratch.staged`` (:func:`staged_file`)."""

    format: UsageFormat
    problem: str | None
    """As :attr:`UsageLoad.problem`."""


@contextmanager
def staged_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    fmt: UsageFormat | None = None,
    provider: str | None = None,
) -> Iterator[Staged]:
    """Stage every record of the usage file at ``path`` in ``ingest_scratch.staged``, typed
    and checked (the reason set on each bad one), for the time of the ``with``: the embedded
    ingest loads it from there, and the lake's tasks hand it to Spark (lake/stage.py).

    ``fmt`` and ``provider`` as for :func:`ingest_usage`. A file the reader refuses, or that
    holds a carriage return, is staged from a repaired copy (ingest/repair.py).
    """
    if path.is_dir():
        raise RatecardError(f"{path}: is a directory, not a usage file; name the files in it")
    if not path.is_file():
        raise RatecardError(f"{path}: no such file")
    fmt = fmt or detect_format(path)
    spec = spec_of(fmt)
    if spec.provider is ProviderOption.REQUIRED and not provider:
        raise RatecardError(
            f"{path}: a {fmt.value} file does not say which gateway billed its calls; "
            "name it with --provider (runapi, reapi, vtrix, runware, ...)"
        )
    layout = csv_layout(path) if spec.header_lines else None
    if provider is not None:
        provider = provider.strip().lower()
    # marker lines of a repaired copy start with this: no line of the file can pass for one
    marker = LINE_DELIM + secrets.token_hex(8)
    problem = None
    with _scratch(con) as folder:
        # the file as it is, unless its reader refuses it or it holds a CR anywhere (which
        # the reader does not always notice: repair.CarriageReturnScan), and then the
        # repaired copy
        with CarriageReturnScan(path) as scan:
            try:
                _stage(con, path, spec, provider, layout, marker)
                damaged = scan.found() or (layout is not None and _unclosed_quote(con))
            except _READ_ERRORS:
                damaged = True
        if damaged:
            con.execute("DROP TABLE IF EXISTS ingest_scratch.staged")
            cells = None if layout is None else (layout.delimiter, len(layout.columns))
            repaired = repair(
                path, folder / f"repaired{'.csv' if layout else '.jsonl'}", marker, cells
            )
            problem = repaired.problem
            if problem is not None and repaired.path.stat().st_size == 0:
                raise RatecardError(f"{path}: nothing in it can be read: {problem}") from None
            try:
                _stage(con, repaired.path, spec, provider, layout, marker)
            except _READ_ERRORS as exc:
                # DuckDB's message quotes the line it stopped at: no key may reach the terminal
                raise RatecardError(
                    redact(f"{path}: cannot read it as {fmt.value}: {exc}")
                ) from None
        yield Staged(fmt, problem)


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
    all. A file that cannot be read at all, or whose format or CSV header is wrong, raises
    RatecardError and leaves the warehouse as it was; a damaged one loads all it can.
    """
    source = source or str(path.resolve())
    started = datetime.now(UTC)
    with staged_file(con, path, fmt=fmt, provider=provider) as staged:
        # one transaction writes one database: the staged records are read from the scratch
        # database, the batch is written to the warehouse
        con.execute("BEGIN TRANSACTION")
        try:
            batch = _load(con, staged.format, source, started, bill, staged.problem)
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
    problem: str | None,
) -> UsageLoad:
    """Classify the staged records and write the batch: calls, quarantine, batch row, bill."""
    con.execute("CREATE OR REPLACE TEMP TABLE ingest_verdicts AS " + classify_sql())
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
    con.execute(
        f"INSERT INTO call_hours BY NAME {sql_file('ingest', 'call_hours')}", {"batch": batch_id}
    )
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
    return UsageLoad(
        batch_id, source, fmt, read, loaded, duplicates, quarantined, billed, unpriced, problem
    )
