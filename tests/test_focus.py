"""The FOCUS 1.2 export: rows worked out by hand, and the FinOps Foundation's own validator.

The validator (focus-validator 2.2, in its own Python 3.12 virtualenv that ``make test``
builds: ``make focus-validator``) is run on CSV and Parquet exports. It exits 0 even when
rules fail, so the test reads its JUnit report. It also reads a data file relative to its
working directory, so it runs from its site-packages folder.

One rule cannot pass for any dataset and is expected: InvoiceId-C-005-C says InvoiceId MUST
NOT be null "when the charge is associated with an invoice", and InvoiceId-C-004-C that it
MUST be null when it is not; the validator checks C-005 without its condition. ratecard's
rows are computed costs, not invoice lines, so InvoiceId is null and C-004 passes.
"""

from __future__ import annotations

import csv
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest

from conftest import D, chat, error, ingest_records, sell_at_odd
from reports.focus import APPLICABILITY, export_focus
from reports.period import parse_period

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = ROOT / ".tools" / "focus-validator" / "bin" / "focus-validator"
UNEVALUABLE = {"InvoiceId-C-005-C"}


def validate(data: Path, tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The validator's summary counts and every failed or errored rule with its message."""
    assert VALIDATOR.exists(), f"{VALIDATOR} is missing: run `make focus-validator`"
    site = subprocess.run(
        [
            str(VALIDATOR.parent / "python"),
            "-c",
            "import focus_validator, os; print(os.path.dirname(os.path.dirname("
            "focus_validator.__file__)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    report = tmp_path / f"{data.name}.xml"
    run = subprocess.run(
        [
            str(VALIDATOR),
            "--data-file",
            str(data),
            "--validate-version",
            "1.2",
            "--block-download",
            "--output-type",
            "unittest",
            "--output-destination",
            str(report),
            "--applicability-criteria",
            ",".join(APPLICABILITY),
        ],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert report.exists(), f"the validator wrote no report:\n{run.stdout}\n{run.stderr}"
    root = ET.parse(report).getroot()
    problems = {}
    for case in root.iter("testcase"):
        for outcome in case:
            if outcome.tag in ("failure", "error"):
                rule = (case.get("name") or "").split(" :: ")[0]
                problems[rule] = outcome.get("message") or outcome.tag
    return dict(root.attrib), problems


@pytest.fixture
def usage(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    testgw = chat(
        call_id="t1",
        provider="testgw",
        model="tm-1",
        prompt=1_000,
        completion=200,
        cached=300,
        ts="2026-10-03T08:00:00Z",
    )
    testgw["response"]["usage"]["prompt_tokens_details"]["cache_write_tokens"] = 100
    ingest_records(
        priced,
        tmp_path,
        [
            testgw,
            # testgw bills failures: its request fee, no tokens
            error(500, provider="testgw", model="tm-1", ts="2026-10-03T09:00:00Z"),
            # reapi: a free failure, a long-context call (tier) and calls either side of the
            # 2026-10-15 price change
            error(429, ts="2026-10-03T09:30:00Z"),
            chat(
                call_id="r1",
                prompt=600_000,
                completion=1_000,
                cached=100_000,
                ts="2026-10-03T10:00:00Z",
            ),
            chat(call_id="r2", prompt=10_000, completion=500, ts="2026-10-14T23:59:59Z"),
            chat(call_id="r3", prompt=10_000, completion=500, ts="2026-10-15T00:00:00Z"),
            chat(call_id="u1", provider="runapi", model="MiniMax-M1", ts="2026-10-04T00:00:00Z"),
            chat(call_id="late", ts="2026-11-01T00:00:00Z"),
        ],
    )
    return priced


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_rows_hold_hand_computed_quantities_prices_and_costs(
    usage: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "focus.csv"
    # testgw 5 dimensions; reapi: r1 3 (no cache writes), r2 and r3 2 each; failures at
    # reapi are free and u1 is unpriced: no rows
    assert export_focus(usage, out, parse_period("2026-10")) == 12
    rows = rows_of(out)
    testgw = {r["SkuMeter"]: r for r in rows if r["ProviderName"] == "testgw"}
    # t1: 1,000 input = 600 fresh + 300 cached + 100 written, 200 output, at 1K-token rates
    expected = {
        "Input Tokens": ("600.0", "0.600000", "0.500000000", "0.300000000000000"),
        "Cached Input Tokens": ("300.0", "0.300000", "0.050000000", "0.015000000000000"),
        "Cache Write Tokens": ("100.0", "0.100000", "0.625000000", "0.062500000000000"),
        "Output Tokens": ("200.0", "0.200000", "2.000000000", "0.400000000000000"),
        # the failed call is billed at testgw: two requests at 0.0015
        "Requests": ("2.0", "2.000000", "0.001500000", "0.003000000000000"),
    }
    assert {
        meter: (r["ConsumedQuantity"], r["PricingQuantity"], r["ListUnitPrice"], r["BilledCost"])
        for meter, r in testgw.items()
    } == expected
    assert {r["PricingUnit"] for r in testgw.values()} == {"1000 Tokens", "Requests"}
    first = testgw["Input Tokens"]
    assert (
        first["ChargePeriodStart"],
        first["ChargePeriodEnd"],
        first["BillingPeriodStart"],
        first["BillingPeriodEnd"],
    ) == (
        "2026-10-03T00:00:00Z",
        "2026-10-04T00:00:00Z",
        "2026-10-01T00:00:00Z",
        "2026-11-01T00:00:00Z",
    )
    assert first["Tags"] == '{"team":"search","project":"ranker"}'
    assert first["ChargeCategory"] == "Usage" and first["ServiceCategory"] == (
        "AI and Machine Learning"
    )
    # r1 is above the 512K tier: its rows carry the tier's prices and their own SkuPriceId
    tier = [r for r in rows if r["SkuPriceId"].endswith(":above-512000")]
    assert {(r["SkuMeter"], r["ListUnitPrice"]) for r in tier} == {
        ("Input Tokens", "0.600000000"),
        ("Cached Input Tokens", "0.120000000"),
        ("Output Tokens", "2.400000000"),
    }
    # r2 and r3, one second apart, are priced before and after the price change
    r2_r3 = sorted(
        (r["ChargePeriodStart"][:10], r["ListUnitPrice"])
        for r in rows
        if r["SkuMeter"] == "Input Tokens"
        and r["ProviderName"] == "reapi"
        and "above" not in r["SkuPriceId"]
        and r["ChargePeriodStart"] >= "2026-10-14"
    )
    assert r2_r3 == [("2026-10-14", "0.300000000"), ("2026-10-15", "0.270000000")]
    # every row: cost = unit price x pricing quantity, exactly
    for r in rows:
        assert D(r["ListUnitPrice"]) * D(r["PricingQuantity"]) == D(r["ListCost"]), r
    # the export's costs add up to the warehouse's billed total for October, unpriced aside
    billed = usage.execute(
        "SELECT sum(b.total_cost) FROM calls c JOIN call_costs b "
        "USING (batch_id, source_line, source_item) WHERE c.ts >= '2026-10-01' "
        "AND c.ts < '2026-11-01' AND b.priced"
    ).fetchall()[0][0]
    assert sum(D(r["BilledCost"]) for r in rows) == billed


def test_a_bill_made_before_a_sheet_change_is_exported_at_its_own_price(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """FOCUS rows take their unit prices from the point each bill names (bill_points), not
    from the sheets now loaded: a bill not yet rebilled after its sheet was replaced is still
    exported, at the price it was billed at, and its cost is still price x quantity."""
    sell_at_odd(priced, tmp_path, "{effective_from: 2026-01-02, input: 1, output: 4}")
    call = chat(call_id="o1", provider="odd", model="m3", prompt=2_000, completion=500)
    ingest_records(priced, tmp_path, [call | {"ts": "2026-10-03T08:00:00Z"}])
    # the sheet now starts in June at other prices: the January point is gone from the sheets
    sell_at_odd(priced, tmp_path, "{effective_from: 2026-06-01, input: 3, output: 9}")
    out = tmp_path / "focus.csv"
    assert export_focus(priced, out, parse_period("2026-10")) == 2
    assert sorted(
        (r["SkuMeter"], r["ListUnitPrice"], r["PricingQuantity"], r["BilledCost"], r["SkuPriceId"])
        for r in rows_of(out)
    ) == [
        # 2,000 input at $1/M, 500 output at $4/M: the January prices the bill used
        ("Input Tokens", "1.000000000", "0.002000", "0.002000000000000",
         "odd:m3:input@2026-01-02T00:00:00Z"),
        ("Output Tokens", "4.000000000", "0.000500", "0.002000000000000",
         "odd:m3:output@2026-01-02T00:00:00Z"),
    ]  # fmt: skip


@pytest.mark.focus_validator
def test_the_official_validator_passes_csv_and_parquet(
    usage: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    for name in ("focus.csv", "focus.parquet"):
        out = tmp_path / name
        export_focus(usage, out, parse_period("2026-10"))
        summary, problems = validate(out, tmp_path)
        assert set(problems) == UNEVALUABLE, (name, problems)
        # the rules really ran: hundreds of checks, most of them passed, not skipped
        tests, skipped = int(summary["tests"]), int(summary["skipped"])
        assert tests > 500 and tests - skipped - len(problems) > 150, summary


@pytest.mark.focus_validator
def test_the_validator_catches_a_broken_export(
    usage: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Without this, a validator that reported nothing would pass the test above."""
    good = tmp_path / "good.csv"
    export_focus(usage, good, parse_period("2026-10"))
    rows = rows_of(good)
    broken = tmp_path / "broken.csv"
    with broken.open("w", newline="", encoding="utf-8") as handle:
        fields = [f for f in rows[0] if f != "ChargeCategory"]
        writer = csv.DictWriter(handle, fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row | {"BillingCurrency": "dollars"})
    _, problems = validate(broken, tmp_path)
    assert any(
        rule.startswith("ChargeCategory") or "ChargeCategory" in message
        for rule, message in problems.items()
    ), problems
    assert any(rule.startswith("BillingCurrency") for rule in problems), problems


def test_an_export_needs_a_period(usage: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from warehouse import RatecardError

    with pytest.raises(RatecardError, match="needs a period"):
        export_focus(usage, tmp_path / "f.csv", parse_period(None, None, None))
    assert not (tmp_path / "f.csv").exists()
