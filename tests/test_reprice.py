"""Repricing the same calls at every provider, worked out by hand (tests/dashboard_data.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dashboard_data import build

from conftest import D
from pricing.reprice import CallScope, reprice


@pytest.fixture
def warehouse(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    build(priced, tmp_path)
    return priced


def by_target(rows: list) -> dict[str, tuple[int, int, Decimal, Decimal]]:  # type: ignore[type-arg]
    totals: dict[str, tuple[int, int, Decimal, Decimal]] = {}
    for r in rows:
        calls, priced, actual, repriced = totals.get(r.target_provider, (0, 0, D("0"), D("0")))
        totals[r.target_provider] = (
            calls + r.calls,
            priced + r.priced_calls,
            actual + r.actual_cost,
            repriced + r.repriced_cost,
        )
    return totals


def test_the_same_calls_at_every_provider(warehouse: duckdb.DuckDBPyConnection) -> None:
    # calls a (runapi, 1.5), c (reapi, 0.02936) and the free failure d
    result = by_target(reprice(warehouse, "minimax-m3", "standard", CallScope()))
    actual = D("1.52936")
    assert result == {
        # 150,000 + 110,000 tokens at 0.010/1K
        "runapi": (3, 3, actual, D("2.6")),
        # a before the price cut: 100,000 x 0.30/1M + 50,000 x 1.20/1M = 0.09; c as billed
        "reapi": (3, 3, actual, D("0.11936")),
        # no cache rate: a 0.033 + 0.066; c 100,000 x 0.33/1M + 10,000 x 1.32/1M = 0.0462
        "vtrix": (3, 3, actual, D("0.1452")),
        # a 0.029 + 0.058; c 60,000 x 0.29/1M + 40,000 x 0.058/1M + 10,000 x 1.16/1M
        "runware": (3, 3, actual, D("0.11832")),
    }


def test_cache_hit_what_if(warehouse: duckdb.DuckDBPyConnection) -> None:
    # half of every call's input from the cache: a and c each read 50,000 cached tokens
    rows = reprice(warehouse, "minimax-m3", "standard", CallScope(), cache_share=D("0.5"))
    result = {k: v[3] for k, v in by_target(rows).items()}
    assert result == {
        "runapi": D("2.6"),  # no cache rate: unchanged
        # a 0.015 + 0.003 + 0.06; c 0.0135 + 0.0027 + 0.011
        "reapi": D("0.1052"),
        "vtrix": D("0.1452"),
        # a 0.0145 + 0.0029 + 0.058; c 0.0145 + 0.0029 + 0.0116
        "runware": D("0.1044"),
    }


def test_highspeed_repriced_at_standard(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = reprice(warehouse, "minimax-m2.7", "highspeed", CallScope(), target_variant="standard")
    # b: 200,000 tokens at MiniMax-M2.7's 0.010/1K instead of 0.020/1K
    assert [
        (r.actual_provider, r.target_provider, r.actual_cost, r.repriced_cost) for r in rows
    ] == [("runapi", "runapi", D("4.0"), D("2.0"))]


def test_scope_and_missing_prices(warehouse: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from ingest.prices import load_prices

    late = tmp_path / "late.yml"
    late.write_text(
        "provider: late\nname: Late\nsource: tests\nchecked_on: 2026-11-01\nmodels:\n"
        "  - {id: m3, canonical: minimax-m3, unit: 1M, prices: [{effective_from: 2026-10-15,"
        " input: 1, output: 1}]}\n",
        encoding="utf-8",
    )
    load_prices(warehouse, [late])
    only_reapi = CallScope(providers=("reapi",))
    late_rows = [
        r
        for r in reprice(warehouse, "minimax-m3", "standard", only_reapi)
        if r.target_provider == "late"
    ]
    # c (Oct 20) and d (Oct 21) are after late's start; a is filtered out by provider
    assert [(r.calls, r.priced_calls) for r in late_rows] == [(2, 2)]
    # c: 110,000 tokens at 1 per 1M = 0.11; the failure is free
    assert late_rows[0].repriced_cost == D("0.11")
    before = CallScope(end=datetime(2026, 10, 15, tzinfo=UTC))
    late_rows = [
        r
        for r in reprice(warehouse, "minimax-m3", "standard", before)
        if r.target_provider == "late"
    ]
    # a (Oct 1) has no price at late: counted, not priced, not in the sum
    assert [(r.calls, r.priced_calls, r.unpriced_calls, r.repriced_cost) for r in late_rows] == [
        (1, 0, 1, D("0"))
    ]
