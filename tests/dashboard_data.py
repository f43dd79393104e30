"""A small warehouse whose every figure is worked out by hand, shared by the repricing and
dashboard tests. All calls are in October 2026 (rates in tests/test_billing.py).

a  runapi MiniMax-M3, Oct 1, search/ranker: 100,000 in + 50,000 out at 0.010/1K = 1.5
b  runapi MiniMax-M2.7-highspeed, Oct 2, support/chatbot: 200,000 tokens at 0.020/1K = 4.0
c  reapi minimax-m3, Oct 20 (after the price cut), search/ranker: 100,000 in of which 40,000
   cached + 10,000 out: 60,000 x 0.27/1M + 40,000 x 0.054/1M + 10,000 x 1.10/1M = 0.02936;
   the cache saved 40,000 x (0.27 - 0.054)/1M = 0.00864
d  reapi 429, Oct 21: failed, free
e  runapi MiniMax-M1, Oct 22, growth/copywriter: no price
f  a line that is not JSON: quarantined

Total 5.52936 over 5 calls, 1 failed, 1 unpriced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from conftest import TEST_SHEETS, blank_warehouse, chat, error, ingest_records, write_jsonl
from ingest.prices import load_prices
from ingest.usage import ingest_usage
from warehouse import connect

TOTAL = "5.52936"


def build(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    ingest_records(
        con,
        tmp_path,
        [
            chat(
                provider="runapi",
                model="MiniMax-M3",
                prompt=100_000,
                completion=50_000,
                ts="2026-10-01T09:00:00Z",
                call_id="a",
                team="search",
                project="ranker",
            ),
            chat(
                provider="runapi",
                model="MiniMax-M2.7-highspeed",
                prompt=100_000,
                completion=100_000,
                ts="2026-10-02T09:00:00Z",
                call_id="b",
                team="support",
                project="chatbot",
            ),
            chat(
                prompt=100_000,
                cached=40_000,
                completion=10_000,
                ts="2026-10-20T09:00:00Z",
                call_id="c",
                team="search",
                project="ranker",
            ),
            error(429, ts="2026-10-21T09:00:00Z"),
            chat(
                provider="runapi",
                model="MiniMax-M1",
                ts="2026-10-22T09:00:00Z",
                call_id="e",
                team="growth",
                project="copywriter",
            ),
            "{not json",
        ],
    )


# The dashboard's matrix: small warehouses of the shapes real data takes and the sample
# generator never makes, each built from a few hand-written records through the real ingest,
# with a budgets file of every period kind. MID_MONTH's every figure is worked out below.

ALL_KINDS = """budgets:
  - {name: month, period: monthly, amount: 12.00}
  - {name: week, period: weekly, timezone: Europe/Paris, amount: 6.00}
  - {name: day, period: daily, amount: 1.50}
"""

# Data from Tuesday Nov 10 to Wednesday Nov 18 2026 (rates in tests/test_billing.py):
# m1 Nov 10 09:00 runapi MiniMax-M3, search/ranker: 60,000 in + 40,000 out at 0.010/1K = 1.00
# m2 Nov 11 10:00 runapi MiniMax-M3, support/chatbot: 150,000 + 50,000 = 2.00
# m3 Nov 12 11:00 reapi minimax-m3, search/ranker: 400,000 in of which 160,000 cached +
#    100,000 out: 240,000 x 0.27/1M + 160,000 x 0.054/1M + 100,000 x 1.10/1M
#    = 0.0648 + 0.00864 + 0.11 = 0.18344; the cache saved 160,000 x (0.27 - 0.054)/1M = 0.03456
# m4 Nov 14 12:00 reapi 500, search/ranker: failed, free
# m5 Nov 16 13:00 runapi MiniMax-M1, growth/copywriter, 1,000 in + 500 out: no price
# m6 Nov 17 14:00 runapi MiniMax-M3, support/chatbot: 200,000 + 100,000 (20,000 reasoning) = 3.00
# m7 Nov 18 15:00 runapi MiniMax-M2.7-highspeed, support/chatbot: 50,000 + 50,000 at 0.020/1K
#    = 2.00
# and m1 again (a duplicate) and a line that is not JSON (quarantined).
# Spend 8.18344 over 7 calls, 1 failed, 1 unpriced; 861,000 input tokens (160,000 cached),
# 340,500 output (20,000 reasoning).
MID_MONTH_SPEND = "8.18344"
# Judged just after m7 (Wednesday Nov 18, 15:00, 0.625 of the day gone), over the full days
# since Nov 10: Tuesdays 1.00 and 3.00 (average 2.00), Wednesday 2.00, Thursday 0.18344, the
# other weekdays 0. The rest of November: 0.375 x 2.00 for Nov 18, then Thursdays Nov 19 and
# 26 at 0.18344, Tuesday 24 and Wednesday 25 at 2.00: 0.75 + 0.36688 + 4 = 5.11688.
MID_MONTH_FORECAST = "13.30032"
MID_MONTH_BUDGETS = """budgets:
  - {name: month-all, period: monthly, amount: 12.00}
  - {name: support-week, scope: {team: support}, period: weekly, amount: 6.00}
  - {name: support-day, scope: {team: support}, period: daily, amount: 1.50}
"""
# month-all: 8.18344 spent (68.2 %), forecast 13.30032 > 12: forecast to exceed.
# support-week (Mon Nov 16 - Sun Nov 22): m6 + m7 = 5.00 (83.3 %: 80 % crossed); support's
#   history from Nov 11 has Wednesday 2.00 and Tuesday 3.00: the rest of Nov 18 at
#   0.375 x 2.00, the rest of the week 0: forecast 5.75, under 6.
# support-day (Nov 18): m7 2.00 > 1.50: exceeded (133.3 %); forecast 2.00 + 0.75 = 2.75.

ODD_TEAM = '=HYPERLINK("x") O\'Brien 🚀 "quoted"'
ODD_PROJECT = "+1 'p' \"q\" 🧪"

EURO_SHEET = """provider: eurogw
name: Euro gateway
currency: EUR
source: tests
checked_on: 2026-11-01
models:
  - {id: minimax-m3, canonical: minimax-m3, unit: 1M,
     prices: [{effective_from: 2026-01-01, input: 0.25, output: 1.00}]}
"""


def m3_call(call_id: str, ts: str, tokens: int, **extra: Any) -> dict[str, Any]:
    """A runapi MiniMax-M3 call of ``tokens`` (half in, half out) at 0.010/1K."""
    return chat(
        provider="runapi",
        model="MiniMax-M3",
        prompt=tokens // 2,
        completion=tokens - tokens // 2,
        ts=ts,
        call_id=call_id,
        **extra,
    )


def stream_without_usage(call_id: str, ts: str) -> dict[str, Any]:
    """A runapi MiniMax-M3 chat stream that finished (stop, [DONE]) without a usage chunk:
    what the OpenAI SDK's default (no stream_options.include_usage) logs."""
    chunk = {
        "id": call_id,
        "object": "chat.completion.chunk",
        "created": 1793000000,
        "model": "MiniMax-M3",
        "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
        "usage": None,
    }
    done = chunk | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    events = [json.dumps(chunk), json.dumps(done), "[DONE]"]
    return {
        "ts": ts,
        "provider": "runapi",
        "model": "MiniMax-M3",
        "team": "search",
        "project": "ranker",
        "status_code": 200,
        "sse": "\n".join(f"data: {event}\n" for event in events),
    }


def _mid_month() -> list[dict[str, Any] | str]:
    m1 = chat(
        provider="runapi",
        model="MiniMax-M3",
        prompt=60_000,
        completion=40_000,
        ts="2026-11-10T09:00:00Z",
        call_id="m1",
    )
    return [
        m1,
        chat(
            provider="runapi",
            model="MiniMax-M3",
            prompt=150_000,
            completion=50_000,
            ts="2026-11-11T10:00:00Z",
            call_id="m2",
            team="support",
            project="chatbot",
        ),
        chat(
            prompt=400_000,
            cached=160_000,
            completion=100_000,
            ts="2026-11-12T11:00:00Z",
            call_id="m3",
        ),
        error(500, ts="2026-11-14T12:00:00Z"),
        chat(
            provider="runapi",
            model="MiniMax-M1",
            prompt=1_000,
            completion=500,
            ts="2026-11-16T13:00:00Z",
            call_id="m5",
            team="growth",
            project="copywriter",
        ),
        chat(
            provider="runapi",
            model="MiniMax-M3",
            prompt=200_000,
            completion=100_000,
            reasoning=20_000,
            ts="2026-11-17T14:00:00Z",
            call_id="m6",
            team="support",
            project="chatbot",
        ),
        chat(
            provider="runapi",
            model="MiniMax-M2.7-highspeed",
            prompt=50_000,
            completion=50_000,
            ts="2026-11-18T15:00:00Z",
            call_id="m7",
            team="support",
            project="chatbot",
        ),
        m1,
        "{not json",
    ]


@dataclass(frozen=True)
class Shape:
    records: list[dict[str, Any] | str]
    budgets: str = ALL_KINDS
    sheet: str | None = None
    """An extra price sheet (YAML) loaded beside the test sheets."""


MATRIX: dict[str, Shape] = {
    "mid_month": Shape(_mid_month(), MID_MONTH_BUDGETS),
    # two calls on Thursday Nov 5 only, 1.00 each: no full day of history, so today's run
    # rate, 2.00 / 0.5 day = 4.00 a day, stands for the rest of November: 2.00 + 0.5 x 4.00 +
    # 25 x 4.00 = 104.00
    "single_day": Shape(
        [
            m3_call("s1", "2026-11-05T09:00:00Z", 100_000),
            m3_call("s2", "2026-11-05T12:00:00Z", 100_000),
        ]
    ),
    "only_failed": Shape(
        [
            error(429, ts="2026-11-03T08:00:00Z"),
            error(500, ts="2026-11-04T08:00:00Z", provider="runapi", model="MiniMax-M3"),
        ]
    ),
    "only_unpriced": Shape(
        [
            chat(provider="runapi", model="MiniMax-M1", ts="2026-11-03T08:00:00Z", call_id="u1"),
            chat(provider="nobody", model="mystery-9", ts="2026-11-04T08:00:00Z", call_id="u2"),
        ]
    ),
    # minimax-m2.5 standard is sold by runapi alone
    "one_seller": Shape(
        [
            chat(
                provider="runapi",
                model="MiniMax-M2.5",
                prompt=50_000,
                completion=50_000,
                ts=f"2026-11-0{d}T10:00:00Z",
                call_id=f"o{d}",
            )
            for d in range(2, 6)
        ]
    ),
    "highspeed_only": Shape(
        [
            chat(
                provider="runapi",
                model="MiniMax-M2.7-highspeed",
                prompt=50_000,
                completion=50_000,
                ts=f"2026-11-0{d}T10:00:00Z",
                call_id=f"h{d}",
                team="support",
                project="chatbot",
            )
            for d in range(2, 6)
        ]
    ),
    # c1 1.00 USD at runapi, c2 0.125 EUR at eurogw, both team search: totalled apart
    "two_currencies": Shape(
        [
            m3_call("c1", "2026-11-02T10:00:00Z", 100_000),
            chat(
                provider="eurogw",
                model="minimax-m3",
                prompt=100_000,
                completion=100_000,
                ts="2026-11-03T10:00:00Z",
                call_id="c2",
            ),
        ],
        ALL_KINDS + "  - {name: euro-month, period: monthly, amount: 5.00, currency: EUR}\n",
        EURO_SHEET,
    ),
    # one priced call (100,000 tokens at 0.010/1K = 1.00), two successful streams without
    # usage (unpriced, never $0) and one unknown model (unpriced)
    "no_usage": Shape(
        [
            m3_call("u1", "2026-11-02T10:00:00Z", 100_000),
            stream_without_usage("u2", "2026-11-03T10:00:00Z"),
            stream_without_usage("u3", "2026-11-04T10:00:00Z"),
            chat(
                provider="runapi",
                model="MiniMax-M1",
                prompt=100,
                completion=100,
                ts="2026-11-05T10:00:00Z",
                call_id="u4",
            ),
        ]
    ),
    "odd_names": Shape(
        [
            m3_call("n1", "2026-11-02T10:00:00Z", 100_000, team=ODD_TEAM, project=ODD_PROJECT),
            m3_call("n2", "2026-11-03T10:00:00Z", 200_000, team="plain", project="plain"),
        ],
        ALL_KINDS
        + "  - name: odd\n    scope: {team: '"
        + ODD_TEAM.replace("'", "''")
        + "'}\n    period: monthly\n    amount: 1.00\n",
    ),
}


def make(name: str, folder: Path) -> tuple[Path, Path]:
    """Build the warehouse ``name`` of :data:`MATRIX` in ``folder``: its file and its budgets
    file."""
    shape = MATRIX[name]
    folder.mkdir(parents=True, exist_ok=True)
    db = blank_warehouse(folder / f"{name}.duckdb")
    con = connect(db)
    try:
        sheets = [TEST_SHEETS]
        if shape.sheet:
            extra = folder / "extra_sheet.yml"
            extra.write_text(shape.sheet, encoding="utf-8")
            sheets.append(extra)
        load_prices(con, sheets)
        ingest_usage(con, write_jsonl(folder / f"{name}.jsonl", shape.records))
    finally:
        con.close()
    budgets = folder / f"{name}-budgets.yml"
    budgets.write_text(shape.budgets, encoding="utf-8")
    return db, budgets
