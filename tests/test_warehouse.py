"""Migrations: a blank file is built to the current schema, an older one is migrated
forward with its data, a newer one is refused."""

from __future__ import annotations

from decimal import Decimal
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
    assert schema_version(con) == SCHEMA_VERSION == len(migrations()) == 9
    assert {
        "schema_migrations",
        "batches",
        "calls",
        "quarantine",
        "price_points",
        "call_bills",
        "bill_points",
        "call_costs",  # a view over the two
        "daily_rollup",
        "model_aliases",
        "pull_cursors",
    } <= tables(con)
    assert con.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall() == [
        (1, "calls_and_prices"),
        (2, "bills_and_rollups"),
        (3, "budgets_and_alerts"),
        (4, "items_aliases_pulls"),
        (5, "hourly_spend"),
        (6, "reprice_hours"),
        (7, "call_keys"),
        (8, "costs_without_ids"),
        (9, "bills_name_their_price_point"),
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


def test_a_billed_warehouse_gets_its_hourly_sums_when_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v4.duckdb"
    old = duckdb.connect(str(path))
    migrate(old, target=4)
    for line, (ts, cost) in enumerate(
        [
            ("2026-10-01 10:05:00+00", "0.5"),
            ("2026-10-01 10:55:00+00", "0.25"),
            ("2026-10-01 11:00:00+00", "1"),
        ],
        start=1,
    ):
        old.execute(
            "INSERT INTO calls (call_id, ts, provider, model, status, input_tokens, "
            "cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, source, "
            "source_line, batch_id, team) VALUES (?, ?, 'reapi', 'm', 'ok', 1, 0, 0, 1, 0, 'f', "
            "?, 7, 'ml')",
            [f"c{line}", ts, line],
        )
        old.execute(
            "INSERT INTO call_costs (call_id, batch_id, source_line, priced, canonical_model, "
            "variant, currency, total_cost) VALUES (?, 7, ?, true, 'minimax-m3', 'standard', "
            "'USD', ?)",
            [f"c{line}", line, cost],
        )
    old.close()
    con = connect(path)
    assert con.execute(
        "SELECT strftime(hour, '%H:%M'), calls, total_cost FROM hourly_spend ORDER BY hour"
    ).fetchall() == [("10:00", 2, Decimal("0.75")), ("11:00", 1, Decimal("1"))]


def test_a_billed_warehouse_gets_its_repricing_sums_when_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v5.duckdb"
    old = duckdb.connect(str(path))
    migrate(old, target=5)
    calls = [
        # ts, status, input, cache read, output, cost (None: unpriced)
        ("2026-10-01 10:05:00+00", "ok", 1_000, 200, 10, "0.5"),
        ("2026-10-01 10:55:00+00", "ok", 3_000, 0, 30, "0.25"),
        ("2026-10-01 10:56:00+00", "failed", 2_000, 0, 0, "0"),
        ("2026-10-01 10:57:00+00", "ok", 600_000, 0, 5, "2"),  # band (524,288, 1,000,000]
        ("2026-10-01 10:58:00+00", "ok", 9, 0, 9, None),
    ]
    for line, (ts, status, tokens, cached, output, cost) in enumerate(calls, start=1):
        old.execute(
            "INSERT INTO calls (call_id, ts, provider, model, status, input_tokens, "
            "cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, source, "
            "source_line, batch_id, team) VALUES (?, ?, 'reapi', 'm', ?, ?, ?, 0, ?, 0, 'f', "
            "?, 7, 'ml')",
            [f"c{line}", ts, status, tokens, cached, output, line],
        )
        old.execute(
            "INSERT INTO call_costs (call_id, batch_id, source_line, priced, canonical_model, "
            "variant, currency, total_cost) VALUES (?, 7, ?, ?, 'minimax-m3', 'standard', "
            "'USD', ?)",
            [f"c{line}", line, cost is not None, cost],
        )
    old.close()
    con = connect(path)
    assert con.execute(
        "SELECT strftime(hour, '%H:%M'), failed, input_band, calls, input_tokens, "
        "cache_read_tokens, output_tokens, total_cost FROM reprice_hours "
        "ORDER BY failed, input_band"
    ).fetchall() == [
        ("10:00", False, -1, 2, 4_000, 200, 40, Decimal("0.75")),
        ("10:00", False, 524_288, 1, 600_000, 0, 5, Decimal("2")),
        ("10:00", True, -1, 1, 2_000, 0, 0, Decimal("0")),
    ]


def test_calls_loaded_before_call_keys_are_still_found_as_duplicates(tmp_path: Path) -> None:
    from conftest import TEST_SHEETS, chat, ingest_records
    from ingest.prices import load_prices

    path = tmp_path / "w.duckdb"
    con = connect(path)
    load_prices(con, [TEST_SHEETS])
    assert con.execute(
        # md5("abc") begins 900150983cd24fb0
        "SELECT id_key('abc'), CAST('0x900150983cd24fb0' AS UBIGINT)"
    ).fetchall() == [(10376663631224000432, 10376663631224000432)]
    first = ingest_records(con, tmp_path, [chat(call_id="k1"), chat(call_id="k2")])
    assert first.loaded == 2
    con.close()
    # back to schema 6: the calls as ingest loaded them then, without keys, and their costs
    # in one table (schema 9 split it), with a copy of the id
    old = duckdb.connect(str(path))
    bills = "SELECT * FROM call_costs ORDER BY source_line"
    costs_before = old.execute(bills).fetchall()
    old.execute("ALTER TABLE calls DROP COLUMN call_key")
    old.execute("DROP MACRO id_key")
    old.execute("CREATE TABLE costs_table AS SELECT * FROM call_costs")
    old.execute("DROP VIEW call_costs")
    old.execute("DROP TABLE call_bills")
    old.execute("DROP TABLE bill_points")
    old.execute("ALTER TABLE costs_table RENAME TO call_costs")
    old.execute("ALTER TABLE call_costs ADD COLUMN call_id VARCHAR")
    old.execute("DELETE FROM schema_migrations WHERE version >= 7")
    old.close()
    # migrates to 7: the keys are backfilled; 8: the copied ids go; 9: the bills name their
    # price point by number, and the call_costs view shows them as they were, point and total
    con = connect(path)
    assert con.execute(bills).fetchall() == costs_before
    assert (
        con.execute(
            "SELECT point_id, canonical_model, unit_tokens, tier_above FROM call_bills "
            "JOIN bill_points USING (point_id)"
        ).fetchall()
        == [(1, "minimax-m3", 1_000_000, None)] * 2
    )
    assert con.execute(
        "SELECT count(*) FROM calls WHERE call_key = id_key(call_id)"
    ).fetchall() == [(2,)]
    assert "call_id" not in [row[0] for row in con.execute("DESCRIBE call_costs").fetchall()]
    assert con.execute(
        "SELECT c.call_id, b.total_cost FROM calls c "
        "JOIN call_costs b USING (batch_id, source_line, source_item) ORDER BY 1"
    ).fetchall() == [("k1", Decimal("0.000042")), ("k2", Decimal("0.000042"))]
    again = ingest_records(con, tmp_path, [chat(call_id="k1"), chat(call_id="k2", prompt=7)])
    assert (again.loaded, again.duplicates, again.quarantined) == (0, 1, 1)  # k2: a conflict
    con.close()
