"""Migrations: a blank file is built to the current schema, an older one is migrated
forward with its data, a newer one is refused."""

from __future__ import annotations

import hashlib
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
    assert schema_version(con) == SCHEMA_VERSION == len(migrations()) == 15
    assert {
        "schema_migrations",
        "batches",
        "calls",
        "quarantine",
        "price_points",
        "call_bills",
        "bill_points",
        "call_costs",  # a view over the two
        "call_hours",
        "daily_rollup",
        "model_aliases",
        "pull_cursors",
    } <= tables(con)
    applied = con.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
    assert [version for version, _ in applied] == list(range(1, SCHEMA_VERSION + 1))
    assert "cache_write_lifetimes_and_calls_without_usage" in [name for _, name in applied]
    assert applied == [
        (1, "calls_and_prices"),
        (2, "bills_and_rollups"),
        (3, "budgets_and_alerts"),
        (4, "items_aliases_pulls"),
        (5, "hourly_spend"),
        (6, "reprice_hours"),
        (7, "call_keys"),
        (8, "costs_without_ids"),
        (9, "bills_name_their_price_point"),
        (10, "bills_priced_by_their_point"),
        (11, "call_hours"),
        (12, "id_key_from_md5_number"),
        (13, "alert_channels_by_url"),
        (14, "price_changes"),
        (15, "cache_write_lifetimes_and_calls_without_usage"),
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


def test_the_calls_of_a_warehouse_get_their_hourly_token_sums_when_migrated(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v10.duckdb"
    old = duckdb.connect(str(path))
    migrate(old, target=10)
    calls = [
        # ts, status, input, output, reported cost, batch
        ("2026-10-01 10:05:00+00", "ok", 1_000, 10, "0.5", 7),
        ("2026-10-01 10:55:00+00", "ok", 3_000, 30, None, 7),
        ("2026-10-01 10:56:00+00", "failed", 2_000, 0, None, 7),
        ("2026-10-01 10:57:00+00", "ok", 600_000, 5, "2", 7),  # band (524,288, 1,000,000]
        ("2026-10-01 11:00:00+00", "ok", 9, 9, None, 7),
        ("1969-12-31 23:59:59+00", "ok", 4, 4, None, 7),  # the hour before 1970
        ("2026-10-01 10:58:00+00", "ok", 1, 1, None, 8),  # another batch
    ]
    for line, (ts, status, tokens, output, cost, batch) in enumerate(calls, start=1):
        old.execute(
            "INSERT INTO calls (call_id, ts, provider, model, status, input_tokens, "
            "cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, source, "
            "source_line, batch_id, team, reported_cost) VALUES (?, ?, 'reapi', 'm', ?, ?, 0, "
            "0, ?, 0, 'f', ?, ?, 'ml', ?)",
            [f"c{line}", ts, status, tokens, output, line, batch, cost],
        )
    old.close()
    con = connect(path)
    assert con.execute(
        "SELECT batch_id, strftime(hour, '%Y-%m-%d %H:%M'), failed, input_band, calls, "
        "input_tokens, output_tokens, reported_cost FROM call_hours ORDER BY ALL"
    ).fetchall() == [
        (7, "1969-12-31 23:00", False, -1, 1, 4, 4, None),
        (7, "2026-10-01 10:00", False, -1, 2, 4_000, 40, Decimal("0.5")),
        (7, "2026-10-01 10:00", False, 524_288, 1, 600_000, 5, Decimal("2")),
        (7, "2026-10-01 10:00", True, -1, 1, 2_000, 0, None),
        (7, "2026-10-01 11:00", False, -1, 1, 9, 9, None),
        (8, "2026-10-01 10:00", False, -1, 1, 1, 1, None),
    ]


def test_the_key_of_a_call_id_is_the_first_64_bits_of_its_md5(tmp_path: Path) -> None:
    # schema 12 computes id_key from md5_number with its bytes reversed; the keys must stay
    # the ones schema 7 stored (the first 16 hex digits of the MD5), for every kind of id
    con = connect(tmp_path / "w.duckdb")
    ids = [
        "",
        "a",
        "abc",
        "chatcmpl-c99fbb0b551bb41eb1b98045",
        "474ceef6-b524-4968-91fa-44dd6680781e:2",
        "h:" + "f" * 32,
        "é",
        "呼叫-🙂",
        "x" * 10_000,
        *(f"call-{n}" for n in range(2_000)),
    ]
    keys = con.execute(
        "SELECT id_key(id), CAST('0x' || left(md5(id), 16) AS UBIGINT) "
        "FROM unnest($ids) AS t(id) ORDER BY id",
        {"ids": ids},
    ).fetchall()
    oracle = [int(hashlib.md5(i.encode()).hexdigest()[:16], 16) for i in sorted(ids)]
    assert [k for k, _ in keys] == oracle == [schema_7 for _, schema_7 in keys]
    # the byte order matters: some keys have their top bit set, some their lowest byte zero
    assert any(k >= 2**63 for k in oracle) and any(k < 2**63 for k in oracle)
    assert any(k % 256 == 0 for k in oracle)
    assert con.execute("SELECT id_key(NULL)").fetchall() == [(None,)]


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
    old.execute("DROP VIEW calls_costed")
    old.execute("DROP TABLE call_bills")
    old.execute("DROP TABLE bill_points")
    old.execute("ALTER TABLE costs_table RENAME TO call_costs")
    old.execute("ALTER TABLE call_costs ADD COLUMN call_id VARCHAR")
    old.execute("DROP TABLE call_hours")
    old.execute("DROP MACRO price_on_the_grid")
    old.execute("DROP MACRO byte_swap_64")
    old.execute("DROP TABLE price_changes")  # schema 14
    old.execute("DELETE FROM schema_migrations WHERE version >= 7")
    old.close()
    # migrates to 7: the keys are backfilled; 8: the copied ids go; 9: the bills name their
    # price point by number; 10: the points carry the rates and the bills no amounts; 11: the
    # calls' hourly token sums. The call_costs view shows the bills as they were, point and
    # amounts
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


def test_bills_with_stored_amounts_keep_them_when_migrated_to_rated_points(
    tmp_path: Path,
) -> None:
    """Schema 10 stops storing amounts: the migration finds, for every bill of a schema-9
    warehouse, the rates that give back its stored amounts exactly, including bills made at
    a rate the sheets no longer hold."""
    from conftest import sample_warehouse

    path = sample_warehouse(tmp_path)
    old = duckdb.connect(str(path))
    # back to schema 9: the amounts stored in call_bills, points without rates
    schema_9 = next(m.sql for m in migrations() if m.version == 9)
    old.execute(
        "CREATE TABLE points_9 AS SELECT row_number() OVER (ORDER BY canonical_model, variant, "
        "unit_tokens, currency, price_from, tier_above)::INTEGER AS point_id, "
        "* FROM (SELECT DISTINCT canonical_model, variant, unit_tokens, currency, price_from, "
        "tier_above FROM call_costs WHERE priced)"
    )
    old.execute(
        "CREATE TABLE bills_9 AS SELECT b.batch_id, b.source_line, b.source_item, p.point_id, "
        "b.unpriced_reason, b.input_cost, b.cache_read_cost, b.cache_write_cost, "
        "b.output_cost, b.request_cost, b.cache_savings FROM call_costs AS b "
        "LEFT JOIN points_9 AS p ON b.priced AND p.canonical_model = b.canonical_model "
        "AND p.variant = b.variant AND p.unit_tokens = b.unit_tokens "
        "AND p.currency = b.currency AND p.price_from = b.price_from "
        "AND p.tier_above IS NOT DISTINCT FROM b.tier_above"
    )
    for statement in ("DROP VIEW call_costs", "DROP VIEW calls_costed", "DROP TABLE call_bills"):
        old.execute(statement)
    old.execute("DROP TABLE bill_points")
    old.execute("ALTER TABLE points_9 RENAME TO bill_points")
    old.execute("ALTER TABLE bills_9 RENAME TO call_bills")
    old.execute(schema_9[schema_9.index("CREATE VIEW call_costs") :])
    old.execute("DROP TABLE call_hours")  # and schema 11, so that 10 runs again
    old.execute("DROP MACRO price_on_the_grid")
    old.execute("DROP MACRO byte_swap_64")  # and schema 12
    old.execute("DROP TABLE price_changes")  # and schema 14
    old.execute("DELETE FROM schema_migrations WHERE version >= 10")
    # a tenth of the charged calls of one point were billed at twice its input rate, before
    # a sheet change that was never rebilled
    old.execute(
        "UPDATE call_bills SET input_cost = input_cost * 2 WHERE point_id = 1 "
        "AND input_cost > 0 AND source_line % 10 = 0"
    )
    # and one call had a request fee beyond $100 million, to the last of 15 decimals
    old.execute(
        "UPDATE call_bills SET request_cost = 123456789.000000000000001 WHERE rowid = "
        "(SELECT min(rowid) FROM call_bills WHERE point_id IS NOT NULL)"
    )
    bills = "SELECT * FROM call_costs ORDER BY batch_id, source_line, source_item"
    before = old.execute(bills).fetchall()
    assert max(row[16] for row in before if row[3]) > Decimal(123456789)  # total_cost
    before_failed_free = old.execute(
        "SELECT count(*) FROM call_costs JOIN calls USING (batch_id, source_line, source_item) "
        "WHERE status = 'failed' AND total_cost = 0"
    ).fetchall()[0][0]
    assert before_failed_free > 10
    doubled = old.execute(
        "SELECT count(*) FROM call_bills WHERE point_id = 1 AND input_cost > 0 "
        "AND source_line % 10 = 0"
    ).fetchall()[0][0]
    old.close()
    assert doubled > 10 and len(before) > 2_500  # the sample of 3,000 calls

    con = connect(path)
    assert schema_version(con) == SCHEMA_VERSION
    # schema 15 adds the 1-hour part of the cache-write cost, which no call has here
    bills = bills.replace("*", "* EXCLUDE (cache_write_1h_cost)")
    assert con.execute(bills).fetchall() == before
    assert "input_cost" not in [row[0] for row in con.execute("DESCRIBE call_bills").fetchall()]
    # the point billed at two input rates became (at least) two points with rates
    assert con.execute(
        "SELECT count(DISTINCT input_pt) >= 2 FROM bill_points AS p "
        "WHERE (p.canonical_model, p.variant, p.price_from) = (SELECT (canonical_model, variant, "
        "price_from) FROM call_costs WHERE priced ORDER BY canonical_model, variant, "
        "unit_tokens, currency, price_from, tier_above LIMIT 1) AND p.input_pt > 0"
    ).fetchall() == [(True,)]
    # a failed call billed nothing names a point that does not bill failures (FOCUS reads it)
    assert con.execute(
        "SELECT count(*) FILTER (WHERE p.failed_calls_billed), count(*) FROM calls_costed AS c "
        "JOIN bill_points AS p USING (point_id) WHERE c.status = 'failed' AND c.total_cost = 0"
    ).fetchall()[0] == (0, before_failed_free)
    # a rebill prices every call from the sheets again: the doubled bills are gone
    from pricing.engine import rebill

    rebill(con)
    after = con.execute(bills).fetchall()
    assert len(after) == len(before) and after != before
