"""Repricing the same calls at every provider, worked out by hand (tests/dashboard_data.py),
from the hourly sums and call by call; and the cases the hourly sums must not price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboard_data import build

from conftest import D, chat, ingest_records, sample_warehouse, sell_at_odd
from ingest.prices import load_prices
from pricing import reprice as repricing
from pricing.reprice import CallScope, Repriced, from_hours, reprice
from warehouse import connect


@pytest.fixture(params=["hours", "calls"])
def warehouse(
    request: pytest.FixtureRequest,
    priced: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> duckdb.DuckDBPyConnection:
    """The hand-worked calls, repriced from the hourly sums where allowed, or per call."""
    build(priced, tmp_path)
    if request.param == "calls":
        monkeypatch.setattr(repricing, "from_hours", lambda *args, **kwargs: False)
    else:
        assert from_hours(priced, "minimax-m3", "standard", CallScope())
    return priced


def per_call(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> list[Repriced]:
    """``reprice`` made to price call by call."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repricing, "from_hours", lambda *a, **k: False)
        return reprice(con, *args, **kwargs)


def from_sums(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> list[Repriced]:
    """``reprice`` made to read the hourly sums, whether or not they can price exactly."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repricing, "from_hours", lambda *a, **k: True)
        return reprice(con, *args, **kwargs)


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


def odd_cost(rows: list[Repriced]) -> tuple[int, Decimal]:
    (row,) = [r for r in rows if r.target_provider == "odd"]
    return row.priced_calls, row.repriced_cost


def test_a_tier_threshold_inside_a_band_is_priced_per_call(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # odd doubles its rates above 300,000 input tokens: 300,000 is no band edge, so the
    # band (272,000, 512,000] holds calls on both sides of it
    sell_at_odd(
        priced,
        tmp_path,
        "{effective_from: 2026-01-01, input: 1, output: 1, tiers: "
        "[{above_input_tokens: 300000, input: 2, output: 2}]}",
    )
    ingest_records(
        priced,
        tmp_path,
        [chat(prompt=350_000, completion=10, call_id="big"), chat(prompt=280_000, call_id="mid")],
    )
    assert not from_hours(priced, "minimax-m3", "standard", CallScope())
    # big: 350,010 tokens at 2/1M = 0.70002; mid: 280,010 at 1/1M = 0.28001
    assert odd_cost(reprice(priced, "minimax-m3", "standard", CallScope())) == (2, D("0.98003"))
    # what the sums would have said: both at the base rate of their band's smallest call
    assert odd_cost(from_sums(priced, "minimax-m3", "standard", CallScope())) == (
        2,
        D("0.63002"),
    )


def test_a_price_change_within_an_hour_is_priced_per_call(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sell_at_odd(
        priced,
        tmp_path,
        "{effective_from: 2026-01-01, effective_to: '2026-10-01T12:30:00Z', input: 1, "
        "output: 1}, {effective_from: '2026-10-01T12:30:00Z', input: 2, output: 2}",
    )
    ingest_records(
        priced,
        tmp_path,
        [
            chat(ts="2026-10-01T12:10:00Z", prompt=1_000, completion=0, call_id="before"),
            chat(ts="2026-10-01T12:40:00Z", prompt=1_000, completion=0, call_id="after"),
        ],
    )
    assert not from_hours(priced, "minimax-m3", "standard", CallScope())
    # before: 1,000 x 1/1M; after: 1,000 x 2/1M
    assert odd_cost(reprice(priced, "minimax-m3", "standard", CallScope())) == (2, D("0.003"))
    assert odd_cost(from_sums(priced, "minimax-m3", "standard", CallScope())) == (2, D("0.002"))


def test_only_whole_utc_hours_and_no_what_if_read_the_sums(
    priced: duckdb.DuckDBPyConnection,
) -> None:
    def allowed(start: datetime, share: Decimal | None = None) -> bool:
        scope = CallScope(start=start)
        return from_hours(priced, "minimax-m3", "standard", scope, cache_share=share)

    assert allowed(datetime(2026, 10, 1, 12, tzinfo=UTC))
    assert allowed(datetime(2026, 10, 1, 12, tzinfo=timezone(timedelta(hours=2))))
    assert not allowed(datetime(2026, 10, 1, 12, 30, tzinfo=UTC))
    assert not allowed(datetime(2026, 10, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))))
    assert not allowed(datetime(2026, 10, 1, 12, tzinfo=UTC), D("0.5"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_warehouse(tmp_path_factory.mktemp("reprice"))


def test_the_sums_price_the_sample_traffic_exactly_as_per_call(sample: Path) -> None:
    con = connect(sample, read_only=True)
    combos = con.execute(
        "SELECT DISTINCT canonical_model, variant FROM reprice_hours ORDER BY ALL"
    ).fetchall()
    tiered = con.execute(
        "SELECT count(*) FROM reprice_hours WHERE input_band >= 512000"
    ).fetchall()[0][0]
    failed = con.execute("SELECT sum(calls) FROM reprice_hours WHERE failed").fetchall()[0][0]
    assert len(combos) >= 4 and tiered > 0 and failed > 0  # the comparison covers them
    october = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    scopes = [
        CallScope(),
        CallScope(start=october[0], end=october[1]),
        CallScope(providers=("reapi", "runware")),
        CallScope(teams=("search",), start=october[0]),
    ]
    compared = 0
    for canonical, variant in combos:
        for target in {variant, "standard"}:
            for scope in scopes:
                assert from_hours(con, canonical, target, scope)
                expected = per_call(con, canonical, variant, scope, target_variant=target)
                assert reprice(con, canonical, variant, scope, target_variant=target) == expected
                compared += sum(r.priced_calls for r in expected)
    assert compared > 3_000
    con.close()


def test_a_rebill_rebuilds_the_sums(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from pricing.engine import rebill

    build(priced, tmp_path)
    rebill(priced)
    rebill(priced)  # twice: the sums are replaced, never added to
    rows = reprice(priced, "minimax-m3", "standard", CallScope())
    assert rows == per_call(priced, "minimax-m3", "standard", CallScope())
    # the hand-worked totals of test_the_same_calls_at_every_provider
    assert by_target(rows)["reapi"] == (3, 3, D("1.52936"), D("0.11936"))
