"""Migrations: a blank file is built to the current schema, an older one is migrated
forward with its data, a newer one is refused."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse import SCHEMA_VERSION, RatecardError, connect, schema_version
from warehouse.db import migrate, migrations


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }


def test_a_blank_file_gets_every_migration(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    assert schema_version(con) == SCHEMA_VERSION == len(migrations()) == 4
    assert {
        "schema_migrations",
        "batches",
        "calls",
        "quarantine",
        "price_points",
        "call_costs",
        "daily_rollup",
        "model_aliases",
        "pull_cursors",
    } <= tables(con)
    assert con.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall() == [
        (1, "calls_and_prices"),
        (2, "bills_and_rollups"),
        (3, "budgets_and_alerts"),
        (4, "items_aliases_pulls"),
    ]
    assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)


def test_an_older_warehouse_is_migrated_forward_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    assert migrate(old, target=1) == [1]
    old.execute(
        "INSERT INTO batches VALUES (7, 'usage', 'old.jsonl', 'gateway-log', now(), "
        "now(), 1, 1, 0, 0)"
    )
    old.close()
    con = connect(path)
    assert schema_version(con) == SCHEMA_VERSION
    # the batch keeps its counts and gains the column migration 2 added
    assert con.execute("SELECT batch_id, loaded, billed_with_prices FROM batches").fetchall() == [
        (7, 1, None)
    ]
    assert "call_costs" in tables(con)


def test_a_newer_warehouse_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    connect(path).execute("INSERT INTO schema_migrations VALUES (99, 'future', now())").close()
    with pytest.raises(RatecardError, match="schema version 99, written by a newer ratecard"):
        connect(path)


def test_read_only_opening_never_creates_or_migrates(tmp_path: Path) -> None:
    with pytest.raises(RatecardError, match="no warehouse here"):
        connect(tmp_path / "missing.duckdb", read_only=True)
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    migrate(old, target=1)
    old.close()
    with pytest.raises(RatecardError, match="older than this ratecard"):
        connect(path, read_only=True)
