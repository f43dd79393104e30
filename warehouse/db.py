"""Open a warehouse file, migrate it forward, and refuse one written by a newer ratecard.

Migrations are the numbered files in ``warehouse/migrations`` (``0001_name.sql``, ...). Each
runs once, in its own transaction, and is recorded in ``schema_migrations``. Sessions always
run in UTC so that timestamps print and group by day the same way on every machine.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from warehouse.errors import RatecardError
from warehouse.sql import fetch_value

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The migrations shipped with this version, in order."""
    found = []
    for entry in resources.files("warehouse.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise AssertionError(f"migrations must be numbered 1..n without gaps: {found}")
    return found


SCHEMA_VERSION = len(migrations())
DEFAULT_MEMORY_LIMIT = "1GB"


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to this warehouse (0 for a blank file)."""
    # duckdb_tables() answers in well under a millisecond; information_schema takes ~20 ms
    exists = fetch_value(
        con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations'"
    )
    if exists == 0:
        return 0
    return int(fetch_value(con, "SELECT coalesce(max(version), 0) FROM schema_migrations"))


def migrate(con: duckdb.DuckDBPyConnection, *, target: int = SCHEMA_VERSION) -> list[int]:
    """Apply the migrations above the warehouse's version up to ``target``; return them."""
    current = schema_version(con)
    applied = []
    for migration in migrations():
        if current < migration.version <= target:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(migration.sql)
                con.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) "
                    "VALUES ($version, $name, now())",
                    {"version": migration.version, "name": migration.name},
                )
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
            applied.append(migration.version)
    return applied


def connect(
    path: str | Path, *, read_only: bool = False, wait: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at ``path``, creating and migrating it as needed.

    A read-only connection never migrates: it refuses a warehouse that is not at this
    version's schema, since the queries would not match its tables. ``wait`` is how many
    seconds to keep trying while another process holds the file's write lock.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise RatecardError(
            f"{path}: no warehouse here. Create one with `ratecard demo` or "
            "`ratecard ingest prices`/`ingest usage`."
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise RatecardError(f"{path}: cannot open the warehouse: {exc}") from exc
            time.sleep(0.2)
    con.execute("SET TimeZone = 'UTC'")
    # ingest numbers a file's lines by the places of its staged rows (number_lines.sql),
    # which DuckDB keeps in file order only with this setting (its default)
    con.execute("SET preserve_insertion_order = true")
    # DuckDB would take up to 80 % of RAM; ratecard keeps it to 1 GB (RATECARD_MEMORY_LIMIT
    # to change it) and lets larger work spill to a temporary folder beside the warehouse.
    # Ingesting ten million calls then peaks at 1.2 GB instead of 10 GB, for 17 % more time.
    con.execute(
        "SET memory_limit = $limit",
        {"limit": os.environ.get("RATECARD_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)},
    )
    version = schema_version(con)
    if version > SCHEMA_VERSION:
        con.close()
        raise RatecardError(
            f"{path}: this warehouse has schema version {version}, written by a newer ratecard; "
            f"this one knows versions up to {SCHEMA_VERSION}. Upgrade ratecard to open it."
        )
    if version < SCHEMA_VERSION:
        if read_only:
            con.close()
            raise RatecardError(
                f"{path}: schema version {version} is older than this ratecard's "
                f"{SCHEMA_VERSION}; open it once read-write (any ingest or `ratecard bill`) to "
                "migrate it."
            )
        migrate(con)
    return con
