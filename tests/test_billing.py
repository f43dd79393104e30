"""Bills worked out by hand, one call at a time, against the frozen test sheets.

Rates used (tests/data/price_sheets):
- reapi minimax/minimax-m3, per 1M: before 2026-10-15 input 0.30, output 1.20, cache-read
  0.06 (above 512K input: 0.60 / 2.40 / 0.12); from 2026-10-15 0.27 / 1.10 / 0.054
  (above 512K: 0.54 / 2.20 / 0.108).
- runapi, per 1K, input = output: MiniMax-M3 0.010, MiniMax-M2.7-highspeed 0.020; no cache rate.
- vtrix minimax-m3, per 1M: input 0.33, output 1.32, no cache rate.
- runware minimax-m3, per 1M: input 0.29, output 1.16, cache-read 0.058.
- testgw tm-1, per 1K: input 0.5, output 2.0, cache-read 0.05, cache-write 0.625, request
  0.0015 per call, failed calls billed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pytest

from conftest import D, chat, costs, error, ingest_records, sell_at_odd
from ingest.usage import UsageFormat
from pricing.engine import rebill
from warehouse import connect


class Case(NamedTuple):
    name: str
    record: dict[str, Any]
    input_cost: Decimal
    cache_read_cost: Decimal
    output_cost: Decimal
    total_cost: Decimal


CASES = [
    # the ReAPI document's formula: (12,000 - 2,000) x 0.30 / 1M = 0.003;
    # 2,000 x 0.06 / 1M = 0.00012; 900 x 1.20 / 1M = 0.00108 (reasoning is inside output)
    Case(
        "reapi formula",
        chat(prompt=12_000, cached=2_000, completion=900, reasoning=300),
        D("0.003"),
        D("0.00012"),
        D("0.00108"),
        D("0.0042"),
    ),
    # the ReAPI document's own response: 12 x 0.30 / 1M, 9 x 1.20 / 1M
    Case(
        "reapi doc example",
        chat(prompt=12, completion=9, cached=0),
        D("0.0000036"),
        D("0"),
        D("0.0000108"),
        D("0.0000144"),
    ),
    # RunAPI per 1K: 1,234 x 0.010 / 1K = 0.01234; 567 x 0.010 / 1K = 0.00567
    Case(
        "runapi per 1K",
        chat(provider="runapi", model="MiniMax-M3", prompt=1_234, completion=567),
        D("0.01234"),
        D("0"),
        D("0.00567"),
        D("0.01801"),
    ),
    # highspeed at 0.020 / 1K: 2,000 -> 0.04, 500 -> 0.01
    Case(
        "runapi highspeed",
        chat(provider="runapi", model="MiniMax-M2.7-highspeed", prompt=2_000, completion=500),
        D("0.04"),
        D("0"),
        D("0.01"),
        D("0.05"),
    ),
    # RunAPI caches nothing: 3,000 cached tokens still bill at 0.010 / 1K = 0.03
    Case(
        "cache reads, runapi has no cache rate",
        chat(provider="runapi", model="MiniMax-M3", prompt=5_000, cached=3_000, completion=100),
        D("0.02"),
        D("0.03"),
        D("0.001"),
        D("0.051"),
    ),
    # Vtrix has no cache rate: 6,000 x 0.33 / 1M = 0.00198; 4,000 x 0.33 / 1M = 0.00132;
    # 1,000 x 1.32 / 1M = 0.00132
    Case(
        "cache reads, vtrix has no cache rate",
        chat(provider="vtrix", model="minimax-m3", prompt=10_000, cached=4_000, completion=1_000),
        D("0.00198"),
        D("0.00132"),
        D("0.00132"),
        D("0.00462"),
    ),
    # Runware: 15,000 x 0.29 / 1M = 0.00435; 5,000 x 0.058 / 1M = 0.00029;
    # 2,000 x 1.16 / 1M = 0.00232
    Case(
        "runware",
        chat(provider="runware", model="minimax-m3", prompt=20_000, cached=5_000, completion=2_000),
        D("0.00435"),
        D("0.00029"),
        D("0.00232"),
        D("0.00696"),
    ),
    # exactly at the tier threshold the base price applies: 512,000 x 0.27 / 1M = 0.13824;
    # 1,000 x 1.10 / 1M = 0.0011
    Case(
        "tier threshold 512,000: base",
        chat(ts="2026-11-01T00:00:00Z", prompt=512_000, completion=1_000),
        D("0.13824"),
        D("0"),
        D("0.0011"),
        D("0.13934"),
    ),
    # one token above, the tier prices the whole call: 512,001 x 0.54 / 1M = 0.27648054;
    # 1,000 x 2.20 / 1M = 0.0022
    Case(
        "tier threshold 512,001: tier",
        chat(ts="2026-11-01T00:00:00Z", prompt=512_001, completion=1_000),
        D("0.27648054"),
        D("0"),
        D("0.0022"),
        D("0.27868054"),
    ),
    # the tier's cache rate too: (600,000 - 400,000) x 0.60 / 1M = 0.12; 400,000 x 0.12 / 1M
    # = 0.048; 200,000 x 2.40 / 1M = 0.48
    Case(
        "tier with cache reads",
        chat(prompt=600_000, cached=400_000, completion=200_000),
        D("0.12"),
        D("0.048"),
        D("0.48"),
        D("0.648"),
    ),
    # one microsecond before the 2026-10-15 price change: 100,000 x 0.30 / 1M = 0.03;
    # 10,000 x 1.20 / 1M = 0.012
    Case(
        "just before the price change",
        chat(ts="2026-10-14T23:59:59.999999Z", prompt=100_000, completion=10_000),
        D("0.03"),
        D("0"),
        D("0.012"),
        D("0.042"),
    ),
    # at the change and one microsecond after: 100,000 x 0.27 / 1M; 10,000 x 1.10 / 1M
    Case(
        "at the price change",
        chat(ts="2026-10-15T00:00:00Z", prompt=100_000, completion=10_000),
        D("0.027"),
        D("0"),
        D("0.011"),
        D("0.038"),
    ),
    Case(
        "just after the price change",
        chat(ts="2026-10-15T00:00:00.000001Z", prompt=100_000, completion=10_000),
        D("0.027"),
        D("0"),
        D("0.011"),
        D("0.038"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bill_worked_out_by_hand(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, case: Case
) -> None:
    ingest_records(priced, tmp_path, [case.record])
    bill = costs(priced, case.record["response"]["id"])
    assert bill["priced"] is True
    assert bill["input_cost"] == case.input_cost
    assert bill["cache_read_cost"] == case.cache_read_cost
    assert bill["output_cost"] == case.output_cost
    assert bill["total_cost"] == case.total_cost
    assert bill["cache_write_cost"] == 0 and bill["request_cost"] == 0


def test_cache_savings(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest_records(
        priced,
        tmp_path,
        [
            # reapi: 2,000 cached tokens at 0.30 instead of 0.06 per 1M save 2,000 x 0.24 / 1M
            chat(prompt=12_000, cached=2_000, completion=900, call_id="s1"),
            # runapi has no cache rate: cached tokens bill at the input rate and save nothing
            chat(provider="runapi", model="MiniMax-M3", prompt=5_000, cached=3_000, call_id="s2"),
        ],
    )
    assert costs(priced, "s1")["cache_savings"] == D("0.00048")
    assert costs(priced, "s2")["cache_savings"] == 0
    assert priced.execute("SELECT sum(cache_savings) FROM daily_rollup").fetchall() == [
        (D("0.00048"),)
    ]


def test_amounts_are_exact_decimals(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest_records(priced, tmp_path, [chat(prompt=1, completion=0, call_id="tiny")])
    types = dict(
        priced.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'call_costs' AND column_name LIKE '%cost'"
        ).fetchall()
    )
    assert set(types.values()) == {"DECIMAL(38,15)"}
    # one token at 0.30 per 1M is 3e-7 exactly: no float would give this
    assert costs(priced, "tiny")["total_cost"] == Decimal("0.0000003")


@pytest.mark.parametrize("status", [400, 401, 402, 429, 500])
def test_failed_calls_are_free_and_kept(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, status: int
) -> None:
    load = ingest_records(priced, tmp_path, [error(status)])
    assert (load.loaded, load.quarantined) == (1, 0)
    row = priced.execute(
        "SELECT c.status, c.http_status, c.error_type, b.priced, b.total_cost, b.input_cost "
        "FROM calls c JOIN call_costs b USING (batch_id, source_line, source_item)"
    ).fetchone()
    assert row == ("failed", status, f"error_{status}", True, 0, 0)


def test_cache_write_request_fee_and_billed_failures(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    ok = {
        "call_id": "tg-ok",
        "ts": "2026-10-01T00:00:00Z",
        "provider": "testgw",
        "model": "tm-1",
        "status": "ok",
        "input_tokens": 10_000,
        "cache_read_tokens": 2_000,
        "cache_write_tokens": 3_000,
        "output_tokens": 1_000,
    }
    failed = {
        "call_id": "tg-failed",
        "ts": "2026-10-01T00:00:01Z",
        "provider": "testgw",
        "model": "tm-1",
        "status": "failed",
        "status_code": 500,
        "input_tokens": 100,
        "output_tokens": 0,
    }
    ingest_records(priced, tmp_path, [ok, failed], fmt=UsageFormat.FLAT_JSONL)
    bill = costs(priced, "tg-ok")
    # per 1K: 5,000 uncached x 0.5 = 2.5; 2,000 x 0.05 = 0.1; 3,000 x 0.625 = 1.875;
    # 1,000 x 2.0 = 2; plus 0.0015 per call
    assert (
        bill["input_cost"],
        bill["cache_read_cost"],
        bill["cache_write_cost"],
        bill["output_cost"],
        bill["request_cost"],
        bill["total_cost"],
    ) == (D("2.5"), D("0.1"), D("1.875"), D("2"), D("0.0015"), D("6.4765"))
    # this sheet bills failures: 100 x 0.5 / 1K = 0.05, plus the request fee
    assert costs(priced, "tg-failed")["total_cost"] == D("0.0515")


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            chat(provider="runapi", model="MiniMax-M1", call_id="u1"),
            "no price for model MiniMax-M1 at runapi",
        ),
        (
            chat(provider="acme", model="minimax-m3", call_id="u2"),
            "no price sheet for provider acme",
        ),
        (
            chat(ts="2025-12-31T23:59:59Z", call_id="u3"),
            "no price for reapi/minimax/minimax-m3 in force at the call's time",
        ),
        (
            error(429, provider="runapi", model="MiniMax-M1") | {"call_id": "u4"},
            "no price for model MiniMax-M1 at runapi",
        ),
        (
            # a wire id the sheet lists as an alias is a known model
            chat(provider="runware", model="minimax:m3@0", ts="2025-12-31T23:59:59Z", call_id="u5"),
            "no price for runware/minimax:m3@0 in force at the call's time",
        ),
    ],
    ids=[
        "unknown model",
        "unknown provider",
        "before any price",
        "failed, unknown model",
        "alias, before any price",
    ],
)
def test_unpriced_calls_are_null_and_flagged(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, record: dict[str, Any], reason: str
) -> None:
    ingest_records(priced, tmp_path, [record])
    call_id = record.get("call_id") or record["response"]["id"]
    bill = costs(priced, call_id)
    assert bill["priced"] is False
    assert bill["unpriced_reason"] == reason
    assert bill["total_cost"] is None and bill["input_cost"] is None
    rollup = priced.execute("SELECT sum(unpriced_calls), sum(total_cost) FROM daily_rollup")
    assert rollup.fetchone() == (1, None)


def test_rebill_applies_a_changed_sheet_to_every_call(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    ingest_records(
        priced,
        tmp_path,
        [chat(provider="runapi", model="MiniMax-M3", prompt=1_000, completion=1_000, call_id="r1")],
    )
    assert costs(priced, "r1")["total_cost"] == D("0.02")
    priced.execute("UPDATE price_points SET input_rate = 0.015 WHERE model = 'MiniMax-M3'")
    assert costs(priced, "r1")["total_cost"] == D("0.02"), "bills change only on rebill"
    result = rebill(priced)
    assert (result.calls, result.unpriced) == (1, 0)
    # 1,000 x 0.015 / 1K + 1,000 x 0.010 / 1K
    assert costs(priced, "r1")["total_cost"] == D("0.025")
    assert priced.execute("SELECT count(*), sum(total_cost) FROM daily_rollup").fetchone() == (
        1,
        D("0.025"),
    )


def test_the_hourly_sums_bill_each_call_by_its_own_price_point(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # the hourly sums bill the summed tokens of the calls that share a price point: one
    # hour of one team here holds three points (a price change at 12:30, a tier above
    # 300,000 input tokens that is no input-band edge) and a free failure
    sell_at_odd(
        priced,
        tmp_path,
        "{effective_from: 2026-01-01, effective_to: '2026-10-01T12:30:00Z', input: 1, "
        "output: 1}, {effective_from: '2026-10-01T12:30:00Z', input: 2, output: 2, tiers: "
        "[{above_input_tokens: 300000, input: 4, output: 4}]}",
    )

    def odd(ts: str, prompt: int, completion: int, call_id: str) -> dict[str, Any]:
        return chat(
            ts=ts, prompt=prompt, completion=completion, call_id=call_id, provider="odd", model="m3"
        )

    ingest_records(
        priced,
        tmp_path,
        [
            odd("2026-10-01T12:10:00Z", prompt=1_000, completion=0, call_id="a"),
            odd("2026-10-01T12:40:00Z", prompt=1_000, completion=0, call_id="b"),
            odd("2026-10-01T12:41:00Z", prompt=280_000, completion=10, call_id="c"),
            odd("2026-10-01T12:45:00Z", prompt=350_000, completion=10, call_id="d"),
            error(500, ts="2026-10-01T12:50:00Z", provider="odd", model="m3") | {"call_id": "e"},
        ],
    )
    # a: 1,000 x 1/1M = 0.001; b: 1,000 x 2/1M = 0.002; c: 280,010 x 2/1M = 0.56002;
    # d: 350,010 x 4/1M = 1.40004; e failed: free
    assert [costs(priced, c)["total_cost"] for c in "abcde"] == [
        D("0.001"),
        D("0.002"),
        D("0.56002"),
        D("1.40004"),
        D("0"),
    ]
    assert priced.execute(
        "SELECT hour, sum(calls), sum(total_cost) FROM hourly_spend GROUP BY hour"
    ).fetchall() == [(datetime(2026, 10, 1, 12, tzinfo=UTC), 5, D("1.96306"))]
    assert priced.execute(
        "SELECT day, sum(calls), sum(failed_calls), sum(input_cost), sum(output_cost), "
        "sum(total_cost) FROM daily_rollup GROUP BY day"
    ).fetchall() == [
        (
            date(2026, 10, 1),
            5,
            1,
            # inputs: 0.001 + 0.002 + 0.56 + 1.4; outputs: 0.00002 + 0.00004
            D("1.963"),
            D("0.00006"),
            D("1.96306"),
        )
    ]
    # band (272,000, 512,000] holds c and d, one at each side of the tier: 630,020 tokens
    assert priced.execute(
        "SELECT input_band, failed, calls, input_tokens + output_tokens, total_cost "
        "FROM reprice_hours ORDER BY input_band, failed"
    ).fetchall() == [
        (-1, False, 2, 2_000, D("0.003")),
        (-1, True, 1, 0, D("0")),
        (272_000, False, 2, 630_020, D("1.96006")),
    ]


def test_an_hour_before_1970_is_the_hour_it_starts(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # the hourly sums count hours in microseconds since 1970, rounded down also below zero
    sell_at_odd(priced, tmp_path, "{effective_from: 1969-01-01, input: 1, output: 1}")
    ingest_records(
        priced,
        tmp_path,
        [chat(ts="1969-12-31T23:30:00Z", prompt=1_000, completion=0, provider="odd", model="m3")],
    )
    assert priced.execute("SELECT hour, calls, total_cost FROM hourly_spend").fetchall() == [
        (datetime(1969, 12, 31, 23, tzinfo=UTC), 1, D("0.001"))
    ]


def test_a_bill_names_its_price_point_until_it_is_rebilled(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    def point(call_id: str) -> tuple[Any, ...]:
        bill = costs(priced, call_id)
        return bill["canonical_model"], bill["unit_tokens"], bill["price_from"], bill["total_cost"]

    def points_beyond_the_sheets() -> int:
        return int(
            priced.execute(
                "SELECT (SELECT count(*) FROM bill_points) - count(*) FROM (SELECT DISTINCT "
                "canonical_model, variant, unit_tokens, currency, effective_from, "
                "above_input_tokens, failed_calls_billed, input_pt, cache_read_pt, "
                "cache_write_pt, output_pt, request_fee FROM price_rates)"
            ).fetchall()[0][0]
        )

    def odd(call_id: str) -> dict[str, Any]:
        return chat(call_id=call_id, provider="odd", model="m3", prompt=1_000, completion=0)

    sell_at_odd(priced, tmp_path, "{effective_from: 2026-01-02, input: 1, output: 1}")
    ingest_records(priced, tmp_path, [odd("old")])
    jan, jun = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    assert point("old") == ("minimax-m3", 1_000_000, jan, D("0.001"))
    assert points_beyond_the_sheets() == 0
    # the sheet is replaced: its January point is gone from price_points, not from the bill
    sell_at_odd(priced, tmp_path, "{effective_from: 2026-06-01, input: 3, output: 3}")
    ingest_records(priced, tmp_path, [odd("new")])
    assert point("old") == ("minimax-m3", 1_000_000, jan, D("0.001"))
    assert point("new") == ("minimax-m3", 1_000_000, jun, D("0.003"))
    assert points_beyond_the_sheets() == 1
    rebill(priced)
    assert point("old") == point("new") == ("minimax-m3", 1_000_000, jun, D("0.003"))
    assert points_beyond_the_sheets() == 0  # a rebill numbers the current points afresh


def test_a_rate_changed_in_place_is_a_new_point_and_old_bills_keep_theirs(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A bill's amounts come from its point's rates (call_bills stores none): a sheet that
    changes a rate without a new start date must not change the bills made before it."""

    def bill(call_id: str) -> tuple[Any, ...]:
        row = costs(priced, call_id)
        return row["input_cost"], row["output_cost"], row["cache_read_cost"], row["total_cost"]

    def odd(call_id: str) -> dict[str, Any]:
        return chat(
            call_id=call_id, provider="odd", model="m3", prompt=1_000, cached=400, completion=20
        )

    sheet = "{effective_from: 2026-01-02, input: %s, output: 5, cache_read: 0.5}"
    sell_at_odd(priced, tmp_path, sheet % 1)
    ingest_records(priced, tmp_path, [odd("before")])
    # 600 fresh input tokens at $1/M, 20 output at $5/M, 400 cache reads at $0.5/M
    assert bill("before") == (D("0.0006"), D("0.0001"), D("0.0002"), D("0.0009"))
    sell_at_odd(priced, tmp_path, sheet % 2)  # the same start, input now $2/M
    ingest_records(priced, tmp_path, [odd("after")])
    assert bill("before") == (D("0.0006"), D("0.0001"), D("0.0002"), D("0.0009"))
    assert bill("after") == (D("0.0012"), D("0.0001"), D("0.0002"), D("0.0015"))
    assert costs(priced, "before")["cache_savings"] == D("0.0002")  # 400 x ($1 - $0.5)/M
    assert costs(priced, "after")["cache_savings"] == D("0.0006")  # 400 x ($2 - $0.5)/M
    rebill(priced)
    assert bill("before") == bill("after") == (D("0.0012"), D("0.0001"), D("0.0002"), D("0.0015"))


def test_every_bills_amounts_add_up_to_the_daily_rollup(tmp_path: Path) -> None:
    """The views compute each call's amounts (warehouse/schema.sql) with the formula
    billing prices the hourly sums with (pricing/sql/costed.sql), written twice: over the
    demo's traffic (tiers, cache, failures, per-task prices, unpriced calls), every day,
    provider, model and attribution adds up to the same amounts both ways. (Per-request
    fees, which the demo's sheets do not have, are tested above.)"""
    from conftest import sample_warehouse

    con = duckdb.connect(str(sample_warehouse(tmp_path)), read_only=True)
    components = (
        "input_cost", "cache_read_cost", "cache_write_cost", "output_cost", "request_cost",
        "total_cost", "cache_savings",
    )  # fmt: skip
    sums = ", ".join(f"sum({name})" for name in components)
    keys = "provider, model, canonical_model, variant, team, project, api_key_id, currency"
    from_calls = con.execute(
        f"SELECT CAST(ts AS DATE), {keys}, count(*), {sums} FROM calls_costed "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    from_rollup = con.execute(
        f"SELECT day, {keys}, sum(calls), {sums} FROM daily_rollup GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert from_calls == from_rollup
    assert len(from_calls) > 100
    charged = con.execute(
        "SELECT count(*) FILTER (WHERE cache_read_cost > 0), count(*) FILTER (WHERE NOT "
        "priced), count(*) FILTER (WHERE status = 'failed' AND total_cost = 0) "
        "FROM calls_costed"
    ).fetchone()
    assert charged is not None and min(charged) > 0, charged  # every kind of amount is there


def test_on_the_hour_grid_the_hourly_sums_are_priced_from_the_calls_token_sums(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Ingest keeps each batch's token sums per hour and input band (call_hours); billing
    prices those when every price covers whole hours and whole bands, and sums the calls
    again when one does not (a price change at 12:30). Which one it read shows when the
    stored sums are made to disagree with the calls."""
    sell_at_odd(priced, tmp_path, "{effective_from: 2026-01-01, input: 1, output: 1}")

    def odd(ts: str, prompt: int, call_id: str) -> dict[str, Any]:
        return chat(ts=ts, prompt=prompt, completion=0, call_id=call_id, provider="odd", model="m3")

    ingest_records(
        priced,
        tmp_path,
        [
            odd("2026-10-01T12:10:00Z", 1_000, "a"),
            odd("2026-10-01T12:50:00Z", 3_000, "b"),
            odd("2026-10-01T12:55:00Z", 40_000, "c"),  # band (32,768, 128,000]
            odd("2026-10-01T13:00:00Z", 5_000, "d"),
        ],
    )
    assert priced.execute(
        "SELECT strftime(hour, '%H'), input_band, calls, input_tokens FROM call_hours ORDER BY ALL"
    ).fetchall() == [("12", -1, 2, 4_000), ("12", 32_768, 1, 40_000), ("13", -1, 1, 5_000)]
    # 4,000 + 40,000 tokens at $1/M in hour 12, 5,000 in hour 13
    spend = (
        "SELECT strftime(hour, '%H'), sum(calls), sum(total_cost) FROM hourly_spend "
        "GROUP BY 1 ORDER BY 1"
    )
    assert priced.execute(spend).fetchall() == [("12", 3, D("0.044")), ("13", 1, D("0.005"))]

    priced.execute("UPDATE call_hours SET input_tokens = input_tokens * 2 WHERE input_band = -1")
    rebill(priced)
    assert priced.execute(spend).fetchall() == [("12", 3, D("0.048")), ("13", 1, D("0.01"))]
    rebill(priced, sum_each_call=True)
    assert priced.execute(spend).fetchall() == [("12", 3, D("0.044")), ("13", 1, D("0.005"))]

    # a price change at 12:30: b and c cost $2/M, a row of call_hours mixes two prices
    sell_at_odd(
        priced,
        tmp_path,
        "{effective_from: 2026-01-01, effective_to: '2026-10-01T12:30:00Z', input: 1, "
        "output: 1}, {effective_from: '2026-10-01T12:30:00Z', input: 2, output: 2}",
    )
    rebill(priced)  # 1,000 x 1 + (3,000 + 40,000) x 2 per million; 5,000 x 2
    assert priced.execute(spend).fetchall() == [("12", 3, D("0.087")), ("13", 1, D("0.01"))]


def test_hourly_sums_from_call_hours_equal_those_from_every_call(tmp_path: Path) -> None:
    """Over the demo's traffic (every gateway, tiers, cache, failures, per-task prices,
    unpriced calls) the rollups priced from call_hours are those priced call by call."""
    from conftest import sample_warehouse

    con = connect(sample_warehouse(tmp_path))
    # the shipped sheets are on the grid, so ingest billed from call_hours
    assert con.execute(
        "SELECT count(*) FROM price_rates "
        "WHERE NOT price_on_the_grid(effective_from, effective_to, tier_lo, tier_hi)"
    ).fetchall() == [(0,)]
    assert (
        con.execute(
            "SELECT sum(calls), sum(input_tokens), sum(output_tokens), sum(reported_cost) "
            "FROM call_hours"
        ).fetchall()
        == con.execute(
            "SELECT count(*), sum(input_tokens), sum(output_tokens), sum(reported_cost) FROM calls"
        ).fetchall()
    )
    tables = ("daily_rollup", "hourly_spend", "reprice_hours")

    def rollups() -> list[list[tuple[Any, ...]]]:
        return [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables]

    from_call_hours = rollups()
    rebill(con, sum_each_call=True)
    from_calls = rollups()
    assert from_call_hours == from_calls
    assert min(len(rows) for rows in from_calls) > 100
    rebill(con)
    assert rollups() == from_calls
    con.close()


def test_a_price_point_is_defined_once_as_a_bill_points_row(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """pricing/sql/points.sql is the one match of a rate to its bill point: its `point` has
    bill_points' columns (but the number) by name and in order, so the points billing adds
    and the points it finds are compared field by field; a base price's NULL tier matches."""
    from warehouse.sql import sql_file

    columns = [r[0] for r in priced.execute("DESCRIBE bill_points").fetchall()]
    fields = priced.execute(
        f"WITH {sql_file('pricing', 'points')} SELECT struct_keys(point) FROM rate_points LIMIT 1"
    ).fetchall()[0][0]
    assert fields == [c for c in columns if c != "point_id"]
    ingest_records(priced, tmp_path, [chat(call_id="p1")])
    # every rate of the sheets has found its point (tiers NULL included), and a rebill adds
    # none: billing the same sheets again names the same points
    found = (
        f"WITH {sql_file('pricing', 'points')} SELECT count(*), count(p.point_id), "
        "count(*) FILTER (WHERE r.above_input_tokens IS NULL) FROM rate_points AS r "
        "LEFT JOIN known_points AS p ON p.point = r.point"
    )
    rates, matched, base = priced.execute(found).fetchall()[0]
    assert rates == matched and base > 0
    before = priced.execute("SELECT * FROM bill_points ORDER BY point_id").fetchall()
    rebill(priced)
    assert priced.execute("SELECT * FROM bill_points ORDER BY point_id").fetchall() == before
