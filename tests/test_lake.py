"""The lake (lake/, ADR 0070): ingest and billing on Apache Spark in local mode give what the
embedded DuckDB path gives, to the last decimal, over the same files.

One Spark session serves the module (it takes tens of seconds to start). The inputs are the
demo's sample traffic (OpenAI chat and responses, Anthropic messages, streams, Runware
tasks) under the shipped sheets, a hand-written log with duplicates, conflicts inside a file
and across files, bad lines and failed calls, and the flat CSV, flat JSONL and OTLP formats.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import chat, write_jsonl
from conftest import embedded_warehouse as _warehouse
from conftest import lake_inputs as _inputs
from ingest.prices import load_prices
from ratecard.cli import PRICE_SHEETS

pyspark = pytest.importorskip("pyspark")

from lake.bill import bill  # noqa: E402
from lake.ingest import ingest  # noqa: E402
from lake.prices import load_sheets  # noqa: E402

pytestmark = pytest.mark.spark

CALL_COLUMNS = (
    "source, source_line, source_item, call_id, ts, provider, model, status, http_status, "
    "error_type, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, "
    "output_tokens, reasoning_tokens, reported_cost, no_usage_reason, team, project, "
    "api_key_id, CAST(tags AS VARCHAR) AS tags"
)
QUARANTINE_COLUMNS = "source, source_line, source_item, call_id, reason, raw, record_hash"
BILL_COLUMNS = (
    "source, source_line, source_item, canonical_model, variant, unit_tokens, currency, "
    "price_from, tier_above, priced, unpriced_reason, input_cost, cache_read_cost, "
    "cache_write_cost, cache_write_1h_cost, output_cost, request_cost, total_cost, "
    "cache_savings"
)


def _lake_view(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    for name in ("calls", "quarantine", "batches", "bills"):
        con.execute(
            f"CREATE OR REPLACE VIEW lake_{name} AS SELECT * FROM read_parquet("
            f"'{lake}/{name}/**/*.parquet', hive_partitioning = true, union_by_name = true)"
        )


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(query).fetchall(), key=repr)


@pytest.fixture(scope="module")
def lake_and_warehouse(
    spark: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, duckdb.DuckDBPyConnection, list[Path]]:
    folder = tmp_path_factory.mktemp("lake")
    inputs = _inputs(folder)
    lake = folder / "lake"
    with resources.as_file(PRICE_SHEETS) as sheets:
        load_sheets(spark, str(lake), [sheets])
    ingest(spark, [str(p) for p in inputs], str(lake))
    bill(spark, str(lake))
    con = _warehouse(folder, inputs)
    _lake_view(con, lake)
    return lake, con, inputs


def test_calls_quarantine_and_batches_are_the_warehouses(
    lake_and_warehouse: tuple[Path, duckdb.DuckDBPyConnection, list[Path]],
) -> None:
    _, con, inputs = lake_and_warehouse
    calls = _rows(con, f"SELECT {CALL_COLUMNS} FROM calls")
    assert len(calls) > 400
    assert _rows(con, f"SELECT {CALL_COLUMNS} FROM lake_calls") == calls
    quarantine = _rows(con, f"SELECT {QUARANTINE_COLUMNS} FROM quarantine")
    assert _rows(con, f"SELECT {QUARANTINE_COLUMNS} FROM lake_quarantine") == quarantine
    counts = "source, format, records_read, loaded, duplicates, quarantined"
    batches = _rows(con, f"SELECT {counts} FROM batches WHERE kind = 'usage'")
    assert _rows(con, f"SELECT {counts} FROM lake_batches") == batches
    # worked out by hand from the files: mixed.jsonl loads h1, h2, the failed call, h3 and
    # h4, has one duplicate (h1), and quarantines the conflict and the cut line; later.jsonl
    # loads h5 only: h1 and the conflict and the cut line again are duplicates, h1 with 7
    # tokens is a conflict with mixed.jsonl's
    by_file = {Path(r[0]).name: r[2:] for r in batches}
    assert by_file["mixed.jsonl"] == (8, 5, 1, 2)
    assert by_file["later.jsonl"] == (5, 1, 3, 1)
    assert by_file["flat.csv"] == (2, 1, 0, 1)
    reasons = dict(
        con.execute(
            "SELECT call_id, reason FROM lake_quarantine WHERE call_id IS NOT NULL"
        ).fetchall()
    )
    assert reasons["h1"].startswith(f"conflict: call_id h1 was already loaded from {inputs[2]}")
    assert reasons["h2"].startswith("conflict: call_id h2 appears at line 2 of this file")


def test_bills_are_the_warehouses_to_the_last_decimal(
    lake_and_warehouse: tuple[Path, duckdb.DuckDBPyConnection, list[Path]],
) -> None:
    _, con, _ = lake_and_warehouse
    embedded = _rows(
        con,
        f"SELECT {BILL_COLUMNS} FROM calls_costed WHERE billed",
    )
    assert len(embedded) > 400
    lake = _rows(
        con,
        f"SELECT {BILL_COLUMNS} FROM lake_bills AS b JOIN lake_calls AS c "
        "USING (batch_id, source_line, source_item)",
    )
    assert lake == embedded
    total = con.execute("SELECT sum(total_cost) FROM lake_bills").fetchone()
    assert total is not None
    assert total[0] == con.execute("SELECT sum(total_cost) FROM calls_costed").fetchone()[0]  # type: ignore[index]
    # by hand at reapi's sheet: 800 input x 0.30 + 200 cached x 0.06 + 100 output x 1.20,
    # per 1M; after the cut of 2026-10-15, 0.27, 0.054 and 1.10
    costs = dict(
        con.execute(
            "SELECT c.call_id, b.total_cost FROM lake_bills AS b JOIN lake_calls AS c "
            "USING (batch_id, source_line, source_item) WHERE c.call_id IN ('h1', 'h2', 'h3')"
        ).fetchall()
    )
    assert costs == {"h1": Decimal("0.000372"), "h2": Decimal("0.0003368"), "h3": None}


def test_reingest_changes_nothing(
    spark: Any, lake_and_warehouse: tuple[Path, duckdb.DuckDBPyConnection, list[Path]]
) -> None:
    lake, con, inputs = lake_and_warehouse
    before = [_rows(con, f"SELECT * FROM lake_{name}") for name in ("calls", "quarantine", "bills")]
    batches = _rows(con, "SELECT * FROM lake_batches")
    loads = ingest(spark, [str(p) for p in inputs], str(lake))
    assert all(load.duplicates == load.records_read for load in loads)
    assert sum(load.records_read for load in loads) > 400
    # the lake's batches are the ones it had and one more per file, all duplicates
    added = [row for row in _rows(con, "SELECT * FROM lake_batches") if row not in batches]
    assert len(added) == len(inputs) == len(_rows(con, "SELECT * FROM lake_batches")) / 2
    assert sorted((r[2], r[6], r[7], r[8], r[9]) for r in added) == sorted(
        (r[2], r[6], 0, r[6], 0) for r in batches
    )
    result = bill(spark, str(lake))
    assert result.calls == 0
    after = [_rows(con, f"SELECT * FROM lake_{name}") for name in ("calls", "quarantine", "bills")]
    assert after == before
    assert not (lake / "_staging").exists() or not any((lake / "_staging").iterdir())


def _bill_files(lake: Path) -> dict[str, set[str]]:
    return {
        folder.relative_to(lake / "bills").as_posix(): {f.name for f in folder.glob("*.parquet")}
        for folder in (lake / "bills").glob("provider=*/month=*")
    }


def test_rebill_touches_only_the_partitions_a_price_change_can(
    spark: Any,
    lake_and_warehouse: tuple[Path, duckdb.DuckDBPyConnection, list[Path]],
    tmp_path: Path,
) -> None:
    from pricing.engine import rebill

    lake, con, _ = lake_and_warehouse
    sheet = (PRICE_SHEETS / "reapi.yml").read_text(encoding="utf-8")
    assert sheet.count("input: 0.27") == 1
    # reapi's price from 2026-10-15 on, open-ended, gets a lower input rate
    changed = tmp_path / "reapi.yml"
    changed.write_text(sheet.replace("input: 0.27", "input: 0.25"), encoding="utf-8")
    before = _bill_files(lake)
    assert load_sheets(spark, str(lake), [changed]) == ["reapi"]
    assert bill(spark, str(lake)).stale == 3  # reapi's October, November and December
    result = bill(spark, str(lake), rebill=True)
    assert result.partitions == 3
    after = _bill_files(lake)
    touched = {p for p in after if after[p] != before[p]}
    assert touched == {
        "provider=reapi/month=2026-10",
        "provider=reapi/month=2026-11",
        "provider=reapi/month=2026-12",
    }
    assert before.keys() == after.keys()
    load_prices(con, [changed])
    rebill(con)
    embedded = _rows(con, f"SELECT {BILL_COLUMNS} FROM calls_costed WHERE billed")
    assert (
        _rows(
            con,
            f"SELECT {BILL_COLUMNS} FROM lake_bills AS b JOIN lake_calls AS c "
            "USING (batch_id, source_line, source_item)",
        )
        == embedded
    )
    # h2 (2026-10-20) at the new rate: 800 x 0.25 + 200 x 0.054 + 100 x 1.10, per 1M
    h2 = con.execute(
        "SELECT b.total_cost FROM lake_bills AS b JOIN lake_calls AS c "
        "USING (batch_id, source_line, source_item) WHERE c.call_id = 'h2'"
    ).fetchall()
    assert h2 == [(Decimal("0.0003208"),)]


def test_the_command_line_ingests_bills_and_refuses_a_bad_file(spark: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ratecard.cli import app

    log = write_jsonl(tmp_path / "day.jsonl", [chat(call_id="x1"), "not json"])
    lake = tmp_path / "lake"
    runner = CliRunner()
    ingested = runner.invoke(app, ["lake", "ingest", str(log), "--lake", str(lake)])
    assert ingested.exit_code == 1, ingested.output  # a record was quarantined
    assert "read 2 = loaded 1 + duplicates 0 + quarantined 1" in ingested.output
    billed = runner.invoke(
        app, ["lake", "bill", "--lake", str(lake), "--prices", str(PRICE_SHEETS)]
    )
    assert billed.exit_code == 0, billed.output
    assert "billed 1 calls in 1 partitions" in billed.output
    header = tmp_path / "bad.csv"
    header.write_text("when,who\n1,2\n", encoding="utf-8")
    refused = runner.invoke(app, ["lake", "ingest", str(header), "--lake", str(lake)])
    assert refused.exit_code == 2
    assert "unknown column 'when' in the header" in refused.stderr
    assert len(list((lake / "batches").glob("*.parquet"))) == 1  # nothing written
