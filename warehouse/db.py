"""Open a warehouse file, migrate it forward, and refuse one written by a newer ratecard.

Migrations are the numbered files in ``warehouse/migrations`` (``NNNN_name.sql``), numbered
without gaps from the baseline, ``0015_baseline.sql``: the schema that the fifteen migrations
written before the first release built, squashed into one (ADR 0060). A blank file gets the
baseline and every migration after it; a warehouse those fifteen migrations built is at
version 15, the baseline's, and gets the ones after it; a warehouse at an older version is
refused with what to do. Each migration runs once, in its own transaction, and is recorded
in ``schema_migrations``. Sessions always run in UTC so that timestamps print and group by
day the same way on every machine. Opening waits for another process's lock for a bounded
time (:mod:`warehouse.lock`).
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.errors import RatecardError
from warehouse.lock import lock_timeout, open_waiting
from warehouse.shipped import shipped
from warehouse.sql import fetch_value

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


BASELINE_VERSION = 15
"""The version of the baseline schema, the first migration shipped: the oldest version of a
warehouse this ratecard opens."""
BEFORE_THE_BASELINE = "b1b3e63"
"""The last commit of ratecard with the migrations before the baseline, which upgrades a
warehouse of an older version to the baseline's."""


def migrations() -> list[Migration]:
    """The migrations shipped with this version, in order: the baseline, then each after it."""
    found = []
    for entry in shipped("warehouse", "migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(BASELINE_VERSION, BASELINE_VERSION + len(found)))
    if [m.version for m in found] != expected or found[0].name != "baseline":
        raise AssertionError(
            f"migrations must be the baseline {BASELINE_VERSION} and the numbers after it, "
            f"without gaps: {[(m.version, m.name) for m in found]}"
        )
    return found


SCHEMA_VERSION = migrations()[-1].version
DEFAULT_MEMORY_LIMIT = "1GB"


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to this warehouse (0 for a blank file)."""
    # duckdb_tables(), not information_schema: this runs on every connection, and the
    # dashboard opens one per page (ADR 0035)
    exists = fetch_value(
        con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations'"
    )
    if exists == 0:
        return 0
    return int(fetch_value(con, "SELECT coalesce(max(version), 0) FROM schema_migrations"))


def migrate(con: duckdb.DuckDBPyConnection, shipped: list[Migration] | None = None) -> list[int]:
    """Apply the migrations (``shipped``: those of this version) above the warehouse's
    version, a blank one's from the baseline on; return their versions.

    The caller has refused a warehouse older than the baseline (:func:`too_old`).
    """
    current = schema_version(con)
    applied = []
    for migration in migrations() if shipped is None else shipped:
        if migration.version > current:
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


def too_old(path: Path, version: int) -> RatecardError:
    """The refusal of a warehouse older than the baseline, which this ratecard cannot upgrade."""
    return RatecardError(
        f"{path}: schema version {version} is older than {BASELINE_VERSION}, the oldest this "
        f"ratecard upgrades: open it once read-write with ratecard at commit "
        f"{BEFORE_THE_BASELINE} (any ingest or `ratecard bill`), which brings it to "
        f"{BASELINE_VERSION}, or build a new warehouse from the same logs and price sheets."
    )


def missing(path: Path, why: str = "no such file") -> RatecardError:
    """The refusal of a path that holds no warehouse: only ingest, pull and demo create one."""
    return RatecardError(
        f"{path}: no warehouse here ({why}). Create one with `ratecard ingest prices` / "
        "`ratecard ingest usage`, `ratecard pull …` or `ratecard demo`, or point --db (or "
        "RATECARD_DB) at an existing warehouse."
    )


def connect(
    path: str | Path,
    *,
    read_only: bool = False,
    create: bool = True,
    wait: float | None = None,
    on_wait: Callable[[str], object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at ``path``, migrating it as needed and creating it if ``create``.

    Without ``create`` (the command line's default, for every command but ingest, pull and
    demo) a missing file, or a DuckDB file without ratecard's tables, is refused rather
    than made into an empty warehouse that would report nothing spent. A read-only
    connection never creates or migrates: it refuses a warehouse that is not at this
    version's schema, since the queries would not match its tables. ``wait`` is how many
    seconds to keep trying while another process holds a conflicting lock (by default
    RATECARD_LOCK_TIMEOUT, 120 s); ``on_wait`` hears whom it is waiting for.
    """
    path = Path(path)
    if path.is_dir():
        raise missing(path, "a folder")
    if not path.exists():
        if read_only or not create:
            raise missing(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    timeout = lock_timeout() if wait is None else wait
    con = open_waiting(path, read_only=read_only, timeout=timeout, on_wait=on_wait)
    con.execute("SET TimeZone = 'UTC'")
    # ingest numbers a file's lines by the places of its staged rows (number_lines.sql),
    # which DuckDB keeps in file order only with this setting (its default), ADR 0010
    con.execute("SET preserve_insertion_order = true")
    # DuckDB would take up to 80 % of RAM; ratecard keeps it to 1 GB (RATECARD_MEMORY_LIMIT
    # to change it) and lets larger work spill to a temporary folder beside the warehouse,
    # ADR 0006.
    con.execute(
        "SET memory_limit = $limit",
        {"limit": os.environ.get("RATECARD_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)},
    )
    version = schema_version(con)
    if version == 0 and (read_only or not create):
        con.close()
        raise missing(path, "a DuckDB file without ratecard's tables")
    if 0 < version < BASELINE_VERSION:
        con.close()
        raise too_old(path, version)
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


_open_transactions: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in one transaction: all of its writes land, or none do.

    Inside another ``transaction`` on the same connection it joins that one (DuckDB has no
    nested transactions), so a function can promise atomicity and still be part of a larger
    unit of work.
    """
    if con in _open_transactions:
        yield
        return
    con.execute("BEGIN TRANSACTION")
    _open_transactions.add(con)
    try:
        yield
    except BaseException:
        _open_transactions.discard(con)
        con.execute("ROLLBACK")
        raise
    _open_transactions.discard(con)
    con.execute("COMMIT")
