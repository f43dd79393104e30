"""Summary and export: totals worked out by hand, rounding that adds up, exact decimals in
the exported files."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from conftest import chat, error, ingest_records
from reports.export import ExportFormat, export_calls
from reports.money import plain, round_column, round_money
from reports.period import Period, parse_period
from reports.summary import summarize
from warehouse import RatecardError


@pytest.fixture
def traffic(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    ingest_records(
        priced,
        tmp_path,
        [
            # runapi M3 per 1K: (1,000 + 500) x 0.010 / 1K = 0.015
            chat(
                provider="runapi",
                model="MiniMax-M3",
                prompt=1_000,
                completion=500,
                ts="2026-10-01T09:00:00Z",
                call_id="a",
                team="search",
            ),
            # highspeed: (1,000 + 1,000) x 0.020 / 1K = 0.04
            chat(
                provider="runapi",
                model="MiniMax-M2.7-highspeed",
                prompt=1_000,
                completion=1_000,
                ts="2026-10-02T09:00:00Z",
                call_id="b",
                team="support",
            ),
            # reapi after the change: 10,000 x 0.27 / 1M + 1,000 x 1.10 / 1M = 0.0038
            chat(
                prompt=10_000,
                completion=1_000,
                ts="2026-10-20T09:00:00Z",
                call_id="c",
                team="search",
            ),
            error(429, ts="2026-10-21T09:00:00Z"),
            # unpriced, and in November
            chat(
                provider="runapi",
                model="MiniMax-M1",
                ts="2026-11-02T09:00:00Z",
                call_id="d",
                team="growth",
            ),
        ],
    )
    return priced


def test_summary_by_provider_and_variant(traffic: duckdb.DuckDBPyConnection) -> None:
    result = summarize(traffic, ("provider", "variant"), parse_period("2026-10"))
    rows = {r.group: (r.calls, r.failed_calls, r.unpriced_calls, r.cost) for r in result.rows}
    assert rows == {
        ("runapi", "highspeed"): (1, 0, 0, Decimal("0.04")),
        ("runapi", "standard"): (1, 0, 0, Decimal("0.015")),
        ("reapi", "standard"): (2, 1, 0, Decimal("0.0038")),
    }
    assert result.total_cost == Decimal("0.0588")
    assert (result.calls, result.failed_calls, result.unpriced_calls) == (4, 1, 0)
    # 1,000 + 1,000 + 10,000 input tokens (the failed call reports none); 500 + 1,000 + 1,000
    assert (result.input_tokens, result.output_tokens) == (12_000, 2_500)
    assert result.currency == "USD"


def test_summary_shows_unpriced_calls_with_their_reason(traffic: duckdb.DuckDBPyConnection) -> None:
    result = summarize(traffic, ("team",), Period())
    assert result.unpriced_calls == 1
    assert [(u.provider, u.model, u.calls, u.reason) for u in result.unpriced] == [
        ("runapi", "MiniMax-M1", 1, "no price for model MiniMax-M1 at runapi")
    ]
    growth = next(r for r in result.rows if r.group == ("growth",))
    assert (growth.unpriced_calls, growth.cost) == (1, None)


def test_export_adds_up_to_the_summary_exactly(
    traffic: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "calls.csv"
    assert export_calls(traffic, out, ExportFormat.CSV) == 5
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    exported = sum((Decimal(r["total_cost"]) for r in rows if r["total_cost"]), Decimal(0))
    assert exported == summarize(traffic, ("provider",), Period()).total_cost == Decimal("0.0588")
    first = rows[0]
    assert list(first)[:6] == ["call_id", "ts", "provider", "model", "status", "http_status"]
    assert {
        "input_cost",
        "cache_read_cost",
        "cache_write_cost",
        "output_cost",
        "request_cost",
        "total_cost",
        "currency",
        "priced",
    } <= set(first)
    assert first["ts"] == "2026-10-01T09:00:00.000000Z"
    assert first["total_cost"] == "0.015000000000000"  # plain digits, full precision
    assert "e" not in "".join(r["total_cost"] + r["input_cost"] for r in rows).lower()
    unpriced = next(r for r in rows if r["call_id"] == "d")
    assert (unpriced["priced"], unpriced["total_cost"]) == ("false", "")


def test_parquet_export_keeps_decimal_types(
    traffic: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "calls.parquet"
    export_calls(traffic, out, ExportFormat.PARQUET, parse_period("2026-10"))
    check = duckdb.connect()
    types = dict(
        check.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
            [str(out)],
        ).fetchall()
    )
    assert types["total_cost"] == "DECIMAL(38,15)"
    assert check.execute(
        "SELECT count(*), sum(total_cost) FROM read_parquet(?)", [str(out)]
    ).fetchone() == (4, Decimal("0.0588"))
    assert not list(tmp_path.glob(".*partial")), "no partial file left behind"


def test_rounding_residue_keeps_printed_lines_adding_up() -> None:
    # three lines of 0.005: each rounds half-up to 0.01 (0.03 printed), the total 0.015 to
    # 0.02, so a residue of -0.01 is printed on its own line
    column = round_column([Decimal("0.005")] * 3, "USD")
    assert column.lines == (Decimal("0.01"),) * 3
    assert (column.total, column.residue) == (Decimal("0.02"), Decimal("-0.01"))
    assert sum(column.lines) + column.residue == column.total
    assert round_column([Decimal("1.004"), None], "USD").total == Decimal("1.00")
    assert round_money(Decimal("2.345"), "USD") == Decimal("2.35")
    assert plain(Decimal("0E-15")) == "0" and plain(Decimal("1.50000")) == "1.5"


@pytest.mark.parametrize(
    ("month", "start", "end", "expected"),
    [
        ("2026-02", None, None, Period(date(2026, 2, 1), date(2026, 2, 28))),
        ("2026-12", None, None, Period(date(2026, 12, 1), date(2026, 12, 31))),
        (None, "2026-10-01", "2026-10-15", Period(date(2026, 10, 1), date(2026, 10, 15))),
        (None, None, None, Period()),
    ],
)
def test_periods(month: str | None, start: str | None, end: str | None, expected: Period) -> None:
    assert parse_period(month, start, end) == expected


@pytest.mark.parametrize(
    ("month", "start", "end", "message"),
    [
        ("2026-13", None, None, "no month 13"),
        ("Oct", None, None, "expected YYYY-MM"),
        (None, "2026-10-05", "2026-10-01", "before --from"),
        (None, "yesterday", None, "expected a date"),
    ],
)
def test_bad_periods(month: str | None, start: str | None, end: str | None, message: str) -> None:
    with pytest.raises(RatecardError, match=message):
        parse_period(month, start, end)
