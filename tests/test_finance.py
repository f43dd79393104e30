"""The month-end report: totals worked out by hand, the rounding residue, the time zone,
every file format, and the golden CSV.

The small warehouse (frozen test sheets): runapi MiniMax-M3 bills 0.010 per 1K tokens, input
and output alike, so a call of 400 + 100 tokens costs exactly 0.005, half a cent.

    team  call  when (UTC)            tokens         cost
    a     a1    2026-10-05 10:00      400 + 100      0.005
    b     b1    2026-10-06 10:00      400 + 100      0.005
    c     c1    2026-10-07 10:00      400 + 100      0.005
    c     c2    2026-10-07 11:00      failed (429)   0      (free, counted)
    c     c3    2026-10-08 10:00      MiniMax-M1     —      (unpriced, counted, no cost)
    a     p1    2026-09-30 22:30      1,000 + 1,000  0.020  (October in Paris, September in UTC)
    b     s1    2026-09-10 10:00      2,000 + 500    0.025  (September: the previous period)

In UTC, October has three half-cent lines: each prints as 0.01, but the total is 0.015,
printed 0.02, so the report shows a rounding residue of -0.01 to keep its lines adding up.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import D, chat, error, file_of, ingest_records
from ratecard.cli import app
from reports.documents import render_html, write_csv, write_parquet, write_xlsx
from reports.finance import build_report, daily_spend, movers, presented, previous_of
from reports.period import Period, parse_period
from warehouse import RatecardError

GOLDEN = Path(__file__).parent / "data" / "golden"


def call(
    call_id: str,
    team: str,
    ts: str,
    prompt: int = 400,
    completion: int = 100,
    model: str = "MiniMax-M3",
) -> dict[str, object]:
    record = chat(
        call_id=call_id, provider="runapi", model=model, prompt=prompt, completion=completion, ts=ts
    )
    return record | {"team": team, "project": f"{team}-app"}


@pytest.fixture
def books(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    failed = error(429, provider="runapi", model="MiniMax-M3", ts="2026-10-07T11:00:00Z")
    ingest_records(
        priced,
        tmp_path,
        [
            call("a1", "a", "2026-10-05T10:00:00Z"),
            call("b1", "b", "2026-10-06T10:00:00Z"),
            call("c1", "c", "2026-10-07T10:00:00Z"),
            failed | {"team": "c", "project": "c-app", "call_id": "c2"},
            call("c3", "c", "2026-10-08T10:00:00Z", model="MiniMax-M1"),
            call("p1", "a", "2026-09-30T22:30:00Z", 1_000, 1_000),
            call("s1", "b", "2026-09-10T10:00:00Z", 2_000, 500),
        ],
    )
    return priced


OCTOBER = parse_period("2026-10")


def test_totals_and_the_rounding_residue(books: duckdb.DuckDBPyConnection) -> None:
    report = build_report(books, ("team",), OCTOBER)
    lines = {line.group: line for line in report.lines}
    assert {
        g: (line.calls, line.failed_calls, line.unpriced_calls) for g, line in lines.items()
    } == {("a",): (1, 0, 0), ("b",): (1, 0, 0), ("c",): (3, 1, 1)}
    assert {g: line.costs["total_cost"] for g, line in lines.items()} == {
        ("a",): D("0.005"),
        ("b",): D("0.005"),
        ("c",): D("0.005"),
    }
    assert lines[("c",)].tokens["input_tokens"] == 800  # c1 400 + the unpriced c3 400
    # the unpriced c3 is counted on c's line: c's priced calls are all in USD
    assert {line.currency for line in report.lines} == {"USD"}
    assert report.currencies == ("USD",) and report.totals() == (("USD", D("0.015")),)

    table = presented(report)
    (block,) = table.blocks
    assert [row[-2] for row in block.rows] == [D("0.01")] * 3
    assert block.residue is not None and block.residue[-2] == D("-0.01")
    assert block.total is not None and block.total[-2] == D("0.02")
    # the printed lines add up to the printed total, column by column
    for column in range(len(table.header) - 6, len(table.header) - 1):
        amounts = [row[column] for row in block.rows] + [block.residue[column]]
        assert sum(a for a in amounts if isinstance(a, Decimal)) == block.total[column]
    assert block.total[:7] == ("total", "USD", 5, 1, 1, 1_600, 0)
    assert table.all_calls is None  # one currency: its total counts every call


def test_the_time_zone_decides_which_month_a_call_is_in(
    books: duckdb.DuckDBPyConnection,
) -> None:
    utc = build_report(books, ("team",), OCTOBER)
    paris = build_report(books, ("team",), OCTOBER, "Europe/Paris")
    assert utc.total("USD") == D("0.015")
    assert paris.total("USD") == D("0.035")  # p1 (0.020) starts 2026-10-01 00:30 in Paris
    # the previous period is September, where p1 is in UTC but not in Paris
    assert utc.previous_total("USD") == D("0.045") and paris.previous_total("USD") == D("0.025")
    with pytest.raises(RatecardError, match="unknown time zone 'Mars/Olympus'"):
        build_report(books, ("team",), OCTOBER, "Mars/Olympus")


def test_month_over_month_and_movers(books: duckdb.DuckDBPyConnection) -> None:
    report = build_report(books, ("team",), OCTOBER)
    assert previous_of(OCTOBER) == parse_period("2026-09")
    assert previous_of(
        Period(date.fromisoformat("2026-10-10"), date.fromisoformat("2026-10-16"))
    ) == Period(date.fromisoformat("2026-10-03"), date.fromisoformat("2026-10-09"))
    # b: 0.025 -> 0.005, a: 0.020 -> 0.005, c: 0 -> 0.005
    assert [(m.group, m.currency, m.change) for m in movers(report)] == [
        (("b",), "USD", D("-0.020")),
        (("a",), "USD", D("-0.015")),
        (("c",), "USD", D("0.005")),
    ]
    days = dict(daily_spend(books, OCTOBER)["USD"])
    assert len(days) == 31 and days["2026-10-05"] == D("0.005") and days["2026-10-08"] == 0


@pytest.fixture
def pinned_zone() -> Iterator[None]:
    """The machine's own zone must not leak into a report: pin an unrelated one."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_csv_matches_the_golden_file(
    books: duckdb.DuckDBPyConnection, tmp_path: Path, pinned_zone: None
) -> None:
    report = build_report(books, ("team", "project"), OCTOBER, "Europe/Paris")
    out = tmp_path / "report.csv"
    write_csv(report, out)
    assert out.read_text(encoding="utf-8") == (GOLDEN / "report-2026-10-paris.csv").read_text(
        encoding="utf-8"
    )


def test_xlsx_parquet_and_html_hold_the_same_numbers(
    books: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    report = build_report(books, ("team",), OCTOBER)
    write_xlsx(report, tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx")["Report"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["team", "currency", "calls", "failed_calls"]
    assert [row[0] for row in values[1:]] == ["a", "b", "c", "rounding residue", "total"]
    assert {row[1] for row in values[1:]} == {"USD"}
    assert {cell.number_format for cell in sheet["R"][1:]} == {"#,##0.00"}  # total_cost
    assert [Decimal(str(row[-2])) for row in values[1:]] == [
        D("0.01"),
        D("0.01"),
        D("0.01"),
        D("-0.01"),
        D("0.02"),
    ]

    write_parquet(report, tmp_path / "r.parquet")
    files = duckdb.connect()
    rows = files.execute(
        f"SELECT line, team, currency, total_cost FROM '{tmp_path / 'r.parquet'}'"
    ).fetchall()
    assert rows == [
        ("group", "a", "USD", D("0.01")),
        ("group", "b", "USD", D("0.01")),
        ("group", "c", "USD", D("0.01")),
        ("rounding residue", None, "USD", D("-0.01")),
        ("total", None, "USD", D("0.02")),
    ]
    # four decimals, the widest minor unit ISO 4217 has: one schema for every currency
    assert files.execute(
        f"SELECT typeof(total_cost) FROM '{tmp_path / 'r.parquet'}' LIMIT 1"
    ).fetchall() == [("DECIMAL(38,4)",)]

    page = render_html(report, daily_spend(books, OCTOBER))
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert "0.02 USD" in page and "rounding residue" in page and "<svg" in page
    assert "-0.02 USD" in page  # b moved from 0.025 to 0.005


def test_report_from_the_command_line(books: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    db = file_of(books)
    books.close()
    runner = CliRunner()
    out = tmp_path / "r.html"
    result = runner.invoke(
        app,
        [
            "report",
            "--db",
            db,
            "--period",
            "2026-10",
            "--by",
            "team",
            "--format",
            "html",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 3 lines" in result.stdout and "1 unpriced calls" in result.stdout
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    result = runner.invoke(
        app,
        [
            "report",
            "--db",
            db,
            "--by",
            "colour",
            "--period",
            "2026-10",
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert result.exit_code == 2 and "--by: unknown or repeated dimension 'colour'" in (
        result.output
    )
    assert not (tmp_path / "x.csv").exists()
    result = runner.invoke(app, ["report", "--db", db, "--out", str(tmp_path / "y.csv")])
    assert result.exit_code == 2 and "a report needs a period" in result.output


def test_the_csv_has_exact_columns_for_finance_tools(
    books: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "r.csv"
    write_csv(build_report(books, ("provider", "model"), OCTOBER), out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [
        (r["provider"], r["model"], r["currency"], r["total_cost"], r["unpriced_calls"])
        for r in rows
    ] == [
        ("runapi", "MiniMax-M3", "USD", "0.02", "0"),  # 0.015 in one line: no residue
        ("runapi", "MiniMax-M1", "", "", "1"),  # no price, so no currency
        ("total", "", "USD", "0.02", "1"),
    ]
