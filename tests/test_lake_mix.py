"""The embedded path and the lake over the benchmarks' generated traffic, 200,000 calls: the
same calls, quarantine, batches and bills, to the last decimal, before and after a sheet
change that forces a rebill.

The traffic is ratecard/sample.py's, as benchmarks/run.py writes it: the gateway log's
every surface (chat completions, some as event streams and a few cut short, Responses,
Anthropic Messages, failed calls of every status, retries logged twice, lines cut short,
calls above the 512K long-context tier, both sides of ReAPI's 2026-10-15 price change,
MiniMax-M1 that no sheet prices) and the Runware task log. The sheet change lowers ReAPI's
input rate after the cut and raises the tier's, so both bands of two months are rebilled.
Tables are compared whole, as sorted rows of Decimals (tests/test_lake.py's columns).
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_lake import BILL_COLUMNS, CALL_COLUMNS, QUARANTINE_COLUMNS, _lake_view, _rows

from ingest.prices import load_prices
from ingest.usage import ingest_usage
from ratecard import sample
from ratecard.cli import PRICE_SHEETS
from warehouse import connect

pyspark = pytest.importorskip("pyspark")

from lake.bill import bill  # noqa: E402
from lake.ingest import ingest  # noqa: E402
from lake.prices import load_sheets  # noqa: E402

pytestmark = pytest.mark.spark

CALLS = 200_000
BATCH_COUNTS = "source, format, records_read, loaded, duplicates, quarantined"
LAKE_BILLS = (
    f"SELECT {BILL_COLUMNS} FROM lake_bills AS b JOIN lake_calls AS c "
    "USING (batch_id, source_line, source_item)"
)


@pytest.fixture(scope="module")
def mix(
    spark: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, duckdb.DuckDBPyConnection, Path]:
    folder = tmp_path_factory.mktemp("mix")
    files = sample.generate(folder / "traffic", CALLS, workers=2)
    inputs = [files.gateway_log, files.runware_log]
    lake = folder / "lake"
    con = connect(folder / "embedded.duckdb")
    with resources.as_file(PRICE_SHEETS) as sheets:
        load_prices(con, [sheets])
        load_sheets(spark, str(lake), [sheets])
    for path in inputs:
        ingest_usage(con, path)
    ingest(spark, [str(p) for p in inputs], str(lake))
    bill(spark, str(lake))
    _lake_view(con, lake)
    changed = folder / "sheets" / "reapi.yml"
    changed.parent.mkdir()
    sheet = (PRICE_SHEETS / "reapi.yml").read_text(encoding="utf-8")
    assert sheet.count("input: 0.27") == sheet.count("input: 0.54") == 1
    changed.write_text(
        sheet.replace("input: 0.27", "input: 0.25").replace("input: 0.54", "input: 0.58"),
        encoding="utf-8",
    )
    return lake, con, changed


def test_the_mix_has_what_it_is_meant_to(
    mix: tuple[Path, duckdb.DuckDBPyConnection, Path],
) -> None:
    _, con, _ = mix
    facts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE input_tokens > 512000), "
        "count(*) FILTER (WHERE status <> 'ok'), "
        "count(*) FILTER (WHERE provider = 'reapi' AND ts < '2026-10-15'), "
        "count(*) FILTER (WHERE provider = 'reapi' AND ts >= '2026-10-15') FROM calls"
    ).fetchone()
    assert facts is not None
    assert facts[0] > 0.99 * CALLS
    assert all(n > 100 for n in facts[1:]), facts
    duplicates, quarantined = con.execute(
        "SELECT sum(duplicates), sum(quarantined) FROM batches WHERE kind = 'usage'"
    ).fetchone() or (0, 0)
    assert duplicates > 50 and quarantined > 10
    unpriced = con.execute("SELECT count(*) FROM calls_costed WHERE NOT priced").fetchone()
    assert unpriced is not None and unpriced[0] > 100


def test_calls_quarantine_batches_and_bills_are_the_warehouses(
    mix: tuple[Path, duckdb.DuckDBPyConnection, Path],
) -> None:
    _, con, _ = mix
    calls = _rows(con, f"SELECT {CALL_COLUMNS} FROM calls")
    assert _rows(con, f"SELECT {CALL_COLUMNS} FROM lake_calls") == calls
    quarantine = _rows(con, f"SELECT {QUARANTINE_COLUMNS} FROM quarantine")
    assert _rows(con, f"SELECT {QUARANTINE_COLUMNS} FROM lake_quarantine") == quarantine
    batches = _rows(con, f"SELECT {BATCH_COUNTS} FROM batches WHERE kind = 'usage'")
    assert _rows(con, f"SELECT {BATCH_COUNTS} FROM lake_batches") == batches
    embedded = _rows(con, f"SELECT {BILL_COLUMNS} FROM calls_costed WHERE billed")
    assert len(embedded) == len(calls)
    assert _rows(con, LAKE_BILLS) == embedded
    totals = "SELECT sum(total_cost), sum(cache_savings) FROM "
    assert (
        con.execute(totals + "lake_bills").fetchone()
        == con.execute(totals + "calls_costed").fetchone()
    )


def test_after_a_sheet_change_the_rebills_are_the_warehouses(
    spark: Any, mix: tuple[Path, duckdb.DuckDBPyConnection, Path]
) -> None:
    from pricing.engine import rebill

    lake, con, changed = mix
    before = _rows(con, LAKE_BILLS)
    assert load_sheets(spark, str(lake), [changed]) == ["reapi"]
    result = bill(spark, str(lake), rebill=True)
    assert result.partitions == 2  # reapi's October and November
    load_prices(con, [changed])
    rebill(con)
    embedded = _rows(con, f"SELECT {BILL_COLUMNS} FROM calls_costed WHERE billed")
    after = _rows(con, LAKE_BILLS)
    assert after == embedded
    assert after != before
    # a call above the tier after the cut, by hand: its uncached input at the new tier
    # rate, 0.58 per 1M, its cache reads and output (reasoning included) at the tier's
    # unchanged 0.108 and 2.20
    row = con.execute(
        "SELECT c.input_tokens, c.cache_read_tokens, c.output_tokens, "
        "b.total_cost FROM lake_bills AS b JOIN lake_calls AS c "
        "USING (batch_id, source_line, source_item) WHERE c.provider = 'reapi' "
        "AND c.status = 'ok' AND c.input_tokens > 512000 AND c.cache_write_tokens = 0 "
        "AND c.ts >= '2026-10-15' "
        "ORDER BY c.call_id LIMIT 1"
    ).fetchone()
    assert row is not None
    prompt, cached, output, total = row
    expected = (
        (prompt - cached) * Decimal("0.58") + cached * Decimal("0.108") + output * Decimal("2.20")
    ) / 1_000_000
    assert total == expected


@pytest.mark.parametrize(
    ("fmt", "by"), [("csv", "team,project"), ("csv", "provider,model,variant"), ("focus", None)]
)
def test_the_lakes_finance_report_and_focus_rows_are_the_warehouses(
    mix: tuple[Path, duckdb.DuckDBPyConnection, Path], tmp_path: Path, fmt: str, by: str | None
) -> None:
    """ratecard lake report and ratecard report over the same 200,000 calls: the same file,
    line for line (a month with ReAPI's price change and the tier in it)."""
    from typer.testing import CliRunner

    from ratecard.cli import app

    lake, con, _ = mix
    con.execute("CHECKPOINT")
    db = tmp_path / "embedded.duckdb"
    shutil.copyfile(lake.parent / "embedded.duckdb", db)  # the fixture's warehouse, checkpointed
    outputs = []
    for source in (["report", "--db", str(db)], ["lake", "report", "--lake", str(lake)]):
        out = tmp_path / f"{source[0]}.csv"
        extra = [] if by is None else ["--by", by]
        result = CliRunner().invoke(
            app, [*source, "--period", "2026-10", "--format", fmt, "--out", str(out), *extra]
        )
        assert result.exit_code == 0, result.output
        with out.open(encoding="utf-8", newline="") as handle:
            outputs.append(list(csv.reader(handle)))
    embedded, from_lake = outputs
    assert len(embedded) > 5  # the header, the sample's team and project pairs, the total
    assert from_lake == embedded
