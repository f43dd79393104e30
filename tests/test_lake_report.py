"""The lake's rollups, reports and dashboard (lake/bill.py, lake/catalog.py, ADR 0071) give what
the embedded warehouse gives over the same inputs (tests/conftest.py's lake_inputs), to the
last decimal: its daily_rollup and hourly_spend rows, `ratecard report`'s lines in CSV and
Parquet, its FOCUS rows, and the dashboard's pages over a lake in a real browser.
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import embedded_warehouse, file_of, lake_inputs
from ratecard.cli import PRICE_SHEETS, app
from warehouse import connect

pyspark = pytest.importorskip("pyspark")

from lake.bill import bill  # noqa: E402
from lake.ingest import ingest  # noqa: E402
from lake.prices import load_sheets  # noqa: E402

pytestmark = pytest.mark.spark

DAY_KEYS = (
    "day, provider, model, canonical_model, variant, team, project, api_key_id, currency, "
    "unpriced_reason"
)
DAY_SUMS = (
    "calls, failed_calls, unpriced_calls, input_tokens, cache_read_tokens, cache_write_tokens, "
    "output_tokens, reasoning_tokens, input_cost, cache_read_cost, cache_write_cost, "
    "output_cost, request_cost, total_cost, cache_savings, reported_cost"
)
HOUR_KEYS = "hour, provider, model, canonical_model, team, project, api_key_id, currency"
HOUR_SUMS = "calls, unpriced_calls, total_cost"
REPRICE_KEYS = "hour, provider, canonical_model, variant, team, project, failed, input_band"
REPRICE_SUMS = (
    "calls, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, "
    "output_tokens, total_cost"
)


@pytest.fixture(scope="module")
def parity(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A lake and the embedded warehouse file of the same inputs, both billed."""
    folder = tmp_path_factory.mktemp("lake-report")
    inputs = lake_inputs(folder)
    lake = folder / "lake"
    with resources.as_file(PRICE_SHEETS) as sheets:
        load_sheets(spark, str(lake), [sheets])
    ingest(spark, [str(p) for p in inputs], str(lake))
    bill(spark, str(lake))
    con = embedded_warehouse(folder, inputs)
    db = Path(file_of(con))
    con.close()  # the commands open it themselves, read-only
    return lake, db


def _summed(con: duckdb.DuckDBPyConnection, table: str, keys: str, sums: str) -> list[Any]:
    """A rollup's rows summed over the batches (the lake's and the warehouse's batch ids
    differ), in one order."""
    totals = ", ".join(f"sum({name}) AS {name}" for name in sums.split(", "))
    return con.execute(f"SELECT {keys}, {totals} FROM {table} GROUP BY ALL ORDER BY ALL").fetchall()


def _lake_table(lake: Path, name: str) -> str:
    return (
        f"read_parquet('{lake}/{name}/**/*.parquet', hive_partitioning = true, "
        "hive_types = {'provider': VARCHAR, 'month': VARCHAR})"
    )


def test_rollups_are_the_warehouses_and_exactly_typed(
    parity: tuple[Path, Path],
) -> None:
    lake, db = parity
    con = connect(db, read_only=True)
    days = _summed(con, "daily_rollup", DAY_KEYS, DAY_SUMS)
    assert len(days) > 20
    assert _summed(con, _lake_table(lake, "rollups"), DAY_KEYS, DAY_SUMS) == days
    hours = _summed(con, "hourly_spend", HOUR_KEYS, HOUR_SUMS)
    assert _summed(con, _lake_table(lake, "hourly_spend"), HOUR_KEYS, HOUR_SUMS) == hours
    repricing = _summed(con, "reprice_hours", REPRICE_KEYS, REPRICE_SUMS)
    assert len(repricing) > 20
    assert _summed(con, _lake_table(lake, "reprice_hours"), REPRICE_KEYS, REPRICE_SUMS) == repricing
    # by hand at reapi's sheet (tests/test_lake.py): h2 alone on 2026-10-20, 800 input x
    # 0.27 + 200 cached x 0.054 + 100 output x 1.10 per 1M; h5 alone on 2026-12-31, 10 x 0.27
    # + 10 x 1.10 per 1M; h3 at a provider without a sheet, unpriced (NULL, never 0)
    picked = con.execute(
        f"SELECT day, provider, sum(calls), sum(unpriced_calls), sum(total_cost) "
        f"FROM {_lake_table(lake, 'rollups')} WHERE team = 'search' AND ((provider = 'reapi' "
        "AND day IN ('2026-10-20', '2026-12-31')) OR provider = 'nobody') GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert [(str(d), *rest) for d, *rest in picked] == [
        ("2026-10-01", "nobody", 1, 1, None),
        ("2026-10-20", "reapi", 1, 0, Decimal("0.0003368")),
        ("2026-12-31", "reapi", 1, 0, Decimal("0.0000137")),
    ]
    # every partition of the bills has its rollups, and only those; the repricing hours
    # only where calls were priced (not at the provider without a sheet)
    partitions = {
        name: {p.relative_to(lake / name) for p in (lake / name).glob("*/*")}
        for name in ("bills", "rollups", "hourly_spend", "reprice_hours")
    }
    assert partitions["rollups"] == partitions["hourly_spend"] == partitions["bills"]
    assert partitions["reprice_hours"] == partitions["bills"] - {
        Path("provider=nobody/month=2026-10")
    }
    # the Parquet types: exact decimals and integers, never a double or a 128-bit integer
    rollup = pq.read_schema(next((lake / "rollups").rglob("*.parquet")))
    assert str(rollup.field("total_cost").type) == "decimal128(38, 15)"
    assert str(rollup.field("input_tokens").type) == "decimal128(38, 0)"
    assert str(rollup.field("calls").type) == "int64"
    spend = pq.read_schema(next((lake / "hourly_spend").rglob("*.parquet")))
    assert str(spend.field("total_cost").type) == "decimal128(38, 15)"
    assert all(
        "double" not in str(t) and "float" not in str(t) for t in (*rollup.types, *spend.types)
    )
    con.close()


def _report(
    tmp_path: Path, source: list[str], name: str, fmt: str, *extra: str
) -> tuple[Path, str]:
    out = tmp_path / name
    result = CliRunner().invoke(
        app, [*source, "--period", "2026-10", "--format", fmt, "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("by", ["team,project", "provider,model,variant", "canonical_model"])
def test_lake_report_lines_are_the_embedded_reports(
    parity: tuple[Path, Path], tmp_path: Path, by: str
) -> None:
    lake, db = parity
    embedded = ["report", "--db", str(db)]
    lake_report = ["lake", "report", "--lake", str(lake)]
    mine, _ = _report(tmp_path, lake_report, "lake.csv", "csv", "--by", by)
    theirs, _ = _report(tmp_path, embedded, "embedded.csv", "csv", "--by", by)
    rows = _csv_rows(mine)
    assert rows == _csv_rows(theirs)
    assert len(rows) > 3
    mine_parquet, _ = _report(tmp_path, lake_report, "lake.parquet", "parquet", "--by", by)
    theirs_parquet, _ = _report(tmp_path, embedded, "embedded.parquet", "parquet", "--by", by)
    assert pq.read_table(mine_parquet).equals(pq.read_table(theirs_parquet))
    assert pq.read_table(mine_parquet).num_rows == len(rows) - 1


def test_lake_report_by_team_by_hand(parity: tuple[Path, Path], tmp_path: Path) -> None:
    lake, _ = parity
    out, printed = _report(
        tmp_path, ["lake", "report", "--lake", str(lake)], "team.csv", "csv", "--by", "provider"
    )
    rows = {row[0]: row for row in _csv_rows(out)}
    header = _csv_rows(out)[0]
    # the unknown provider's call (h3) is counted and unpriced, never $0
    nobody = dict(zip(header, rows["nobody"], strict=True))
    assert (nobody["calls"], nobody["unpriced_calls"], nobody["total_cost"]) == ("1", "1", "")
    assert "total" in rows
    assert printed.startswith("wrote ")
    # a team a spreadsheet would run as a formula is written as text, as by `ratecard report`
    out, _ = _report(tmp_path, ["lake", "report", "--lake", str(lake)], "cells.csv", "csv")
    teams = [row[:2] for row in _csv_rows(out)]
    assert ['\'=HYPERLINK("http://evil.example","x")', "'+SUM(1)"] in teams


def test_lake_focus_rows_are_the_embedded_focus_export(
    parity: tuple[Path, Path], tmp_path: Path
) -> None:
    lake, db = parity
    for name in ("focus.csv", "focus.parquet"):
        fmt = "focus"
        mine, printed = _report(
            tmp_path, ["lake", "report", "--lake", str(lake)], f"lake-{name}", fmt
        )
        theirs, _ = _report(tmp_path, ["report", "--db", str(db)], name, fmt)
        if name.endswith(".csv"):
            rows = _csv_rows(mine)
            assert rows == _csv_rows(theirs)
            assert len(rows) > 10
            assert f"{len(rows) - 1:,} FOCUS 1.2 rows" in printed
        else:  # the same columns, types and values (a view of the lake's Parquet declares
            # no NOT NULL, so the nullability of a column may differ)
            lake_rows, embedded_rows = pq.read_table(mine), pq.read_table(theirs)
            assert lake_rows.schema.names == embedded_rows.schema.names
            assert lake_rows.schema.types == embedded_rows.schema.types
            assert lake_rows.to_pylist() == embedded_rows.to_pylist()
            assert lake_rows.num_rows > 10


def test_lake_report_refuses_what_the_report_refuses(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(
        app, ["lake", "report", "--lake", str(tmp_path), "--period", "2026-10", "--out", "x.csv"]
    )
    assert missing.exit_code == 2
    assert "no lake there" in missing.stderr
    remote = runner.invoke(
        app,
        ["lake", "report", "--lake", "s3a://b/l", "--period", "2026-10", "--out", "x.csv"],
    )
    assert remote.exit_code == 2
    assert "this machine's file system" in remote.stderr


@pytest.mark.browser
def test_the_dashboard_over_a_lake_renders_every_page_in_chromium(
    parity: tuple[Path, Path], tmp_path: Path
) -> None:
    """`ratecard dashboard --lake` in Debian's chromium: every page renders without
    Streamlit's exception box, and shows the lake's numbers (screenshots in
    test-artifacts/screenshots/lake/)."""
    from playwright.sync_api import sync_playwright
    from test_browser import (
        CHROMIUM,
        CHROMIUM_ARGS,
        PAGES,
        ROOT,
        SHOTS,
        dashboard,
        screenshot,
        settle,
    )

    lake, _ = parity
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make browser` (apt-get install chromium)")
    budgets = ROOT / "data" / "budgets.yml"
    args = ["--lake", str(lake), "--budgets", str(budgets)]
    with dashboard(args, tmp_path / "server.log") as (url, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        texts = {}
        for name, path in PAGES.items():
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{url}/{path}")
            settle(page)
            screenshot(page, SHOTS / "lake" / f"{name}.png")
            assert page.locator('[data-testid="stException"]').count() == 0, name
            texts[name] = page.inner_text("body")
            assert "Traceback" not in page.content(), name
            page.close()
        browser.close()
    # the lake's numbers, on the pages that read them (the sidebar's default period is the
    # month of the latest call, December: h5 alone, 10 input and 10 output tokens at reapi)
    assert "Spend overview" in texts["overview"]
    assert "Input tokens\n\n10" in texts["overview"] or "Input tokens\n10" in texts["overview"]
    assert "conflict" in texts["quality"] and "later.jsonl" in texts["quality"]
    assert "No priced minimax-m3 calls" not in texts["compare"]
    assert "company" in texts["budgets"]
    assert f"Lake: {lake}" in " ".join(texts["overview"].split())  # not the catalog's file


def test_a_rebill_rebuilds_the_rollups_of_the_partitions_it_bills(
    spark: Any, parity: tuple[Path, Path], tmp_path: Path
) -> None:
    """On copies of the lake and the warehouse: reapi's price from 2026-10-15 on gets a
    lower input rate; after `lake bill --rebill` and the embedded rebill, the rollups agree
    again, only reapi's partitions were rewritten, and the report lines are the embedded's."""
    from ingest.prices import load_prices
    from pricing.engine import rebill

    lake_before, db_before = parity
    lake, db = tmp_path / "lake", tmp_path / "embedded.duckdb"
    shutil.copytree(lake_before, lake)
    shutil.copy(db_before, db)
    sheet = (PRICE_SHEETS / "reapi.yml").read_text(encoding="utf-8")
    changed = tmp_path / "reapi.yml"
    changed.write_text(sheet.replace("input: 0.27", "input: 0.25"), encoding="utf-8")

    def files(name: str) -> dict[str, set[str]]:
        return {
            f.relative_to(lake / name).as_posix(): {p.name for p in f.glob("*.parquet")}
            for f in (lake / name).glob("provider=*/month=*")
        }

    before = {name: files(name) for name in ("rollups", "hourly_spend", "reprice_hours")}
    load_sheets(spark, str(lake), [changed])
    assert bill(spark, str(lake), rebill=True).partitions == 3
    for name, old in before.items():
        new = files(name)
        assert {p for p in new if new[p] != old[p]} == {
            f"provider=reapi/month=2026-{m}" for m in ("10", "11", "12")
        }, name
    con = connect(db)
    load_prices(con, [changed])
    rebill(con)
    for table, name, keys, sums in (
        ("daily_rollup", "rollups", DAY_KEYS, DAY_SUMS),
        ("hourly_spend", "hourly_spend", HOUR_KEYS, HOUR_SUMS),
        ("reprice_hours", "reprice_hours", REPRICE_KEYS, REPRICE_SUMS),
    ):
        assert _summed(con, _lake_table(lake, name), keys, sums) == _summed(
            con, table, keys, sums
        ), name
    # h2 (2026-10-20) at the new rate: 800 x 0.25 + 200 x 0.054 + 100 x 1.10, per 1M
    h2 = con.execute(
        f"SELECT sum(total_cost) FROM {_lake_table(lake, 'rollups')} "
        "WHERE provider = 'reapi' AND team = 'search' AND day = '2026-10-20'"
    ).fetchall()
    assert h2 == [(Decimal("0.0003208"),)]
    con.close()
    mine, _ = _report(tmp_path, ["lake", "report", "--lake", str(lake)], "lake.csv", "csv")
    theirs, _ = _report(tmp_path, ["report", "--db", str(db)], "embedded.csv", "csv")
    assert _csv_rows(mine) == _csv_rows(theirs)
