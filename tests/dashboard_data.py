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

from pathlib import Path

import duckdb

from conftest import chat, error, ingest_records

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
