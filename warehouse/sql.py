"""Read the SQL files that live beside each package's code (``<package>/sql/<name>.sql``)."""

from __future__ import annotations

from functools import cache
from typing import Any

import duckdb

from warehouse.shipped import shipped


@cache
def sql_file(package: str, name: str) -> str:
    """The text of ``<package>/sql/<name>.sql``; values go in as $parameters, never as text."""
    return shipped(package, "sql", f"{name}.sql").read_text(encoding="utf-8")


def fetch_one(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> tuple[Any, ...]:
    """The single row a query returns, with its result consumed.

    DuckDB keeps a result open after ``fetchone()`` until a fetch returns nothing, and refuses
    other work on the connection meanwhile; ``fetchall()`` always closes it.
    """
    rows = con.execute(query, params).fetchall()
    if len(rows) != 1:
        raise AssertionError(f"expected one row, got {len(rows)}: {query}")
    return tuple(rows[0])


def fetch_value(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> Any:
    """The single value a query returns (first column of its one row)."""
    return fetch_one(con, query, params)[0]
