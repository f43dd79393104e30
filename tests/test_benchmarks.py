"""The benchmark in smoke mode, so that it never rots: every step runs on 20,000 calls (step 3
on 1% more, 200) and the results file comes out whole. The full ten-million run (`make bench`)
stays out of CI and out of `make quick`."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.run import increment, main

pytestmark = pytest.mark.benchmark


def test_benchmark_smoke_run(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    assert (
        main(
            [
                "--calls",
                "20000",
                "--runs",
                "1",
                "--out",
                str(tmp_path / "out"),
                "--results",
                str(results),
            ]
        )
        == 0
    )
    text = results.read_text(encoding="utf-8")
    assert "20,000 calls, median of 1 run(s)" in text
    for row in (
        "1. ingest + bill",
        "floor: bare read_ndjson",
        "floor: bare copy of the calls table",
        "2. rebill every call",
        "floor: bare range-join bill",
        "3. ingest + bill 200 more calls",
        "4. dashboard queries",
        "genai-prices calc_price loop",
    ):
        assert row in text
    assert increment(10_000_000) == 100_000  # the full run's batch is unchanged
    assert text.count("| yes |") + text.count("| **no** |") == 8  # every target judged
    # the scratch table's storage (ADR 0012), judged by the benchmark rather than by a test
    assert (
        "| Staged call ids stored uncompressed, the other text compressed (ADR 0012) | yes |"
        in text
    )
    assert "call_id: Uncompressed" in text
