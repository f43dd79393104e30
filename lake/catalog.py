"""A DuckDB catalog over a lake: a warehouse file whose tables are views of the lake's Parquet.

``ratecard lake report`` and ``ratecard dashboard --lake`` read a lake with DuckDB, through
the queries they run on the embedded warehouse, unchanged (ADR 0071). :func:`build` writes a
small DuckDB file at this version's schema (every table, view and macro of the migrations)
and replaces the tables the lake holds by views of its files, each with the warehouse
table's columns and types in the warehouse's order (a column the lake does not keep is
NULL):

- ``calls``, ``quarantine``, ``batches``, ``price_points`` (an open end read back as
  'infinity'), ``model_aliases``: the lake's tables of the same names;
- ``daily_rollup``, ``hourly_spend`` and ``reprice_hours``: the lake's ``rollups``,
  ``hourly_spend`` and ``reprice_hours``;
- ``bill_points``: the price points the lake's bills carry, numbered (a table, computed
  once here: the distinct points of the bills), and ``call_bills``: each bill with its
  point's number. The warehouse's calls_costed view then computes each call's amounts from
  its point with the bill's one formula, as on the embedded warehouse.

The tables the lake does not have (budget checks, alerts, call_hours, ...) stay as the
migrations make them, empty. Nothing is copied but the bills' points: the file holds views,
and DuckDB reads the Parquet when a query runs (partitions pruned by its filters). The
catalog names the lake's files by their local path: DuckDB reads a lake on this machine's
file system (a mounted bucket included), not s3a: or hdfs: URIs.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from lake import layout
from warehouse.db import connect
from warehouse.errors import RatecardError

_FROM_LAKE = {
    "calls": "calls",
    "quarantine": "quarantine",
    "batches": "batches",
    "price_points": "price_points",
    "model_aliases": "model_aliases",
    "daily_rollup": "rollups",
    "hourly_spend": "hourly_spend",
    "reprice_hours": "reprice_hours",
}
"""The warehouse's tables that are views of a lake table, by the lake table's name."""

_OPEN_END = {
    "effective_to": f"CASE WHEN effective_to = TIMESTAMPTZ '{layout.OPEN_END.isoformat()}' "
    "THEN 'infinity' ELSE effective_to END"
}
"""price_points' open end, layout.OPEN_END in the lake, as the warehouse's 'infinity'."""

_HIVE_TYPES = "{'provider': VARCHAR, 'month': VARCHAR}"


def local_lake(lake: str) -> Path:
    """The folder of a lake on this machine (a path or a file: URI)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", lake) and not lake.startswith("file:"):
        raise RatecardError(
            f"--lake {lake}: DuckDB reads the lake from this machine's file system; mount "
            "the bucket (or copy the lake's bills and rollups) and give its folder"
        )
    path = Path(re.sub(r"^file:(//)?", "", lake))
    if path.exists() and not path.is_dir():
        raise RatecardError(f"--lake {lake}: a file, not a lake; point --lake at the lake's folder")
    if not (path / "calls").is_dir():
        raise RatecardError(
            f"--lake {lake}: no lake there (no calls/ folder); `ratecard lake ingest` makes one"
        )
    unfinished = sorted((path / layout.JOURNAL).glob("*.json"))
    if unfinished:
        # DuckDB reads the files as they are: half a commit, or old files beside new ones
        raise RatecardError(
            f"--lake {lake}: a lake job is committing, or was killed while it committed "
            f"({unfinished[0]}); wait for it to end, or run `ratecard lake recover --lake "
            f"{lake}` if none is running, then try again"
        )
    return path


def _source(root: Path, name: str) -> str | None:
    """A read_parquet of every file of the lake's table ``name`` (its partition columns
    included, as text), or None when the lake has none."""
    folder = Path(layout.table(str(root), name))
    if not any(folder.rglob("*.parquet")):
        return None
    pattern = str(folder / "**" / "*.parquet").replace("'", "''")
    partitions = (
        f"hive_partitioning = true, hive_types = {_HIVE_TYPES}"
        if name in layout.PARTITIONS
        else "hive_partitioning = false"
    )
    return f"read_parquet('{pattern}', {partitions}, union_by_name = true)"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in con.execute(f"DESCRIBE {relation}").fetchall()]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _as_warehouse(
    con: duckdb.DuckDBPyConnection, table: str, source: str, fixes: dict[str, str] | None = None
) -> str:
    """A SELECT over ``source`` with ``table``'s columns and types, in its order."""
    have = {name for name, _ in _columns(con, f"SELECT * FROM {source}")}  # noqa: S608
    fixes = fixes or {}
    columns = []
    for name, kind in _columns(con, table):
        value = fixes.get(name, _quoted(name) if name in have else "NULL")
        columns.append(f"CAST({value} AS {kind}) AS {_quoted(name)}")
    return f"SELECT {', '.join(columns)} FROM {source}"  # noqa: S608


def build(lake: str, database: Path) -> Path:
    """Write the catalog of ``lake`` to ``database`` (replaced if it exists)."""
    root = local_lake(lake)
    database.unlink(missing_ok=True)
    con = connect(database)
    try:
        for table, name in _FROM_LAKE.items():
            source = _source(root, name)
            if source is None:
                continue  # nothing in the lake yet: the warehouse's empty table
            fixes = _OPEN_END if table == "price_points" else None
            view = _as_warehouse(con, table, source, fixes)
            con.execute(f"DROP TABLE {table}")
            con.execute(f"CREATE VIEW {table} AS {view}")
        bills = _source(root, "bills")
        if bills is not None:
            _bills(con, bills)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return database


def _bills(con: duckdb.DuckDBPyConnection, bills: str) -> None:
    """bill_points from the points the bills carry, call_bills naming them (module doc)."""
    fields = [name for name, _ in _columns(con, "bill_points") if name != "point_id"]
    listed = ", ".join(_quoted(f) for f in fields)
    # names from the migrations' tables and the lake's own folder (_source), no input
    numbered = (
        "INSERT INTO bill_points BY NAME SELECT "  # noqa: S608
        f"CAST(row_number() OVER (ORDER BY {listed}) AS INTEGER) AS point_id, * "
        f"FROM (SELECT DISTINCT {listed} FROM {bills} WHERE priced)"
    )
    con.execute(numbered)
    same = " AND ".join(f"p.{_quoted(f)} IS NOT DISTINCT FROM b.{_quoted(f)}" for f in fields)
    con.execute("DROP TABLE call_bills")
    named = (
        "CREATE VIEW call_bills AS "  # noqa: S608
        "SELECT b.batch_id, b.source_line, b.source_item, p.point_id, b.unpriced_reason "
        f"FROM {bills} AS b LEFT JOIN bill_points AS p ON b.priced AND {same}"
    )
    con.execute(named)
