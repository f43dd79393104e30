"""Reconciliation finds each planted discrepancy, names its cause, and finds none on clean
data. Bills by hand from the frozen test sheets (per 1M tokens):

    runware  input 0.29, output 1.16, cache read 0.058
    reapi    input 0.30, output 1.20, cache read 0.06 (before 2026-10-15)
    vtrix    input 0.33, output 1.32 (no cache rate)
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import D, file_of, ingest_records, sample_warehouse
from ingest.usage import UsageFormat
from ratecard.cli import app
from reports.reconcile import Discrepancy, reconcile
from warehouse import RatecardError, connect


def flat(call_id: str, provider: str, model: str, ts: str, **fields: Any) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "ts": ts,
        "provider": provider,
        "model": model,
        "team": "platform",
        "project": "agents",
        **fields,
    }


def causes(found: tuple[Discrepancy, ...], kind: str) -> dict[str, str]:
    return {
        d.where.split(" ")[0] if kind == "call" else f"{d.provider}/{d.model}": d.cause
        for d in found
        if d.kind == kind
    }


@pytest.fixture
def books(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    records = [
        # per call, Runware with its reported cost
        # 1,000 x 0.29/1M + 100 x 1.16/1M = 0.000406: reported exactly, and within tolerance
        flat(
            "ok-1",
            "runware",
            "minimax-m3",
            "2026-10-02T10:00:00Z",
            input_tokens=1000,
            output_tokens=100,
            reported_cost="0.000406",
        ),
        flat(
            "ok-2",
            "runware",
            "minimax-m3",
            "2026-10-02T10:01:00Z",
            input_tokens=1000,
            output_tokens=100,
            reported_cost="0.00040600001",
        ),
        # a failed call the provider charged for
        flat(
            "fail-1",
            "runware",
            "minimax-m3",
            "2026-10-02T11:00:00Z",
            status="failed",
            input_tokens=0,
            output_tokens=0,
            reported_cost="0.0002",
        ),
        # 400 x 0.29 + 600 x 0.058 + 100 x 1.16 = 266.8 -> 0.0002668 on the sheet; the
        # provider billed the cached 600 at the input rate: 0.000406
        flat(
            "cache-1",
            "runware",
            "minimax-m3",
            "2026-10-02T12:00:00Z",
            input_tokens=1000,
            cache_read_tokens=600,
            output_tokens=100,
            reported_cost="0.000406",
        ),
        # a different price: 0.0005 against 0.000406 (+23.2 %)
        flat(
            "price-1",
            "runware",
            "minimax-m3",
            "2026-10-02T13:00:00Z",
            input_tokens=1000,
            output_tokens=100,
            reported_cost="0.0005",
        ),
        # a model no sheet prices
        flat(
            "new-1",
            "runware",
            "minimax:m2.7@highspeed",
            "2026-10-02T14:00:00Z",
            input_tokens=1000,
            output_tokens=100,
            reported_cost="0.0003",
        ),
    ]
    # per invoice line. reapi: 100,000 in (50,000 cached) + 10,000 out
    # = 50,000 x 0.30 + 50,000 x 0.06 + 10,000 x 1.20 = 0.015 + 0.003 + 0.012 = 0.030 a call,
    # the cache discount 50,000 x (0.30 - 0.06) = 0.012 a call
    for n in range(10):
        records.append(
            flat(
                f"sep-{n}",
                "reapi",
                "minimax/minimax-m3",
                f"2026-09-0{n % 9 + 1}T10:00:00Z",
                input_tokens=100_000,
                cache_read_tokens=50_000,
                output_tokens=10_000,
            )
        )
        records.append(
            flat(
                f"oct-{n}",
                "reapi",
                "minimax/minimax-m3",
                f"2026-10-0{n % 9 + 1}T10:00:00Z",
                input_tokens=100_000,
                cache_read_tokens=50_000,
                output_tokens=10_000,
            )
        )
        # vtrix: 100,000 x 0.33 + 10,000 x 1.32 = 0.033 + 0.0132 = 0.0462 a call
        records.append(
            flat(
                f"vt-{n}",
                "vtrix",
                "minimax-m3",
                f"2026-10-0{n % 9 + 1}T10:00:00Z",
                input_tokens=100_000,
                output_tokens=10_000,
            )
        )
    # a failed vtrix call that reported usage: free here, 0.0462 if charged
    records.append(
        flat(
            "vt-fail",
            "vtrix",
            "minimax-m3",
            "2026-10-05T11:00:00Z",
            status="failed",
            input_tokens=100_000,
            output_tokens=10_000,
        )
    )
    # runapi: 2,000 tokens x 0.010/1K = 0.020, on no invoice line
    records.append(
        flat(
            "ra-1",
            "runapi",
            "MiniMax-M3",
            "2026-10-03T10:00:00Z",
            input_tokens=1000,
            output_tokens=1000,
        )
    )
    ingest_records(priced, tmp_path, records, name="flat.jsonl", fmt=UsageFormat.FLAT_JSONL)
    return priced


INVOICE = """provider,period,model,amount,currency
reapi,2026-09,minimax/minimax-m3,0.30,USD
reapi,2026-10,minimax-m3,0.42,USD
vtrix,2026-10,minimax-m3,0.5082,USD
runapi,2026-10,MiniMax-M2,12.00,USD
"""


def test_each_planted_discrepancy_is_found_with_its_cause(
    books: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    invoice = tmp_path / "invoice.csv"
    invoice.write_text(INVOICE, encoding="utf-8")
    result = reconcile(books, invoice=invoice)
    assert (result.calls_checked, result.invoice_lines) == (6, 4)
    assert causes(result.discrepancies, "call") == {
        "fail-1": "failed call charged (failed calls are free)",
        "cache-1": "cache discount missing: the reported cost bills cached tokens at the "
        "input rate",
        "price-1": "price differs from the sheet: reported +23.2%",
        "new-1": "cannot compare: no price for model minimax:m2.7@highspeed at runware",
    }
    by_line = {d.where: d for d in result.discrepancies if d.kind == "invoice"}
    assert set(by_line) == {
        "invoice line 3, 2026-10",
        "invoice line 4, 2026-10",
        "invoice line 5, 2026-10",
        "not on the invoice, 2026-10",
    }
    cache = by_line["invoice line 3, 2026-10"]  # the canonical id matches the wire id
    assert (cache.computed, cache.stated, cache.difference) == (D("0.30"), D("0.42"), D("0.12"))
    assert (
        cache.cause == "cache discount missing: the invoice bills cached tokens at the input rate"
    )
    failed = by_line["invoice line 4, 2026-10"]
    assert failed.computed == D("0.4620")
    assert failed.cause == "failed calls charged: the invoice matches 1 failed calls billed"
    assert by_line["invoice line 5, 2026-10"].cause == (
        "calls missing from the logs: no call of this model in the period"
    )
    missing = by_line["not on the invoice, 2026-10"]
    assert (missing.provider, missing.model, missing.computed) == (
        "runapi",
        "MiniMax-M3",
        D("0.020"),
    )


def test_the_causes_are_worked_out_at_the_price_each_call_was_billed_at(
    books: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A sheet loaded after billing, not yet rebilled, changes neither the bills nor what
    they would have been: the cache discount and the failed call charged are worked out at
    the rates of the point each call was billed at, so the causes are those found above."""
    books.execute(
        "UPDATE price_points SET input_rate = input_rate * 2, output_rate = output_rate * 2, "
        "cache_read_rate = cache_read_rate * 2 WHERE provider IN ('runware', 'vtrix', 'reapi')"
    )
    invoice = tmp_path / "invoice.csv"
    invoice.write_text(INVOICE, encoding="utf-8")
    result = reconcile(books, invoice=invoice)
    assert causes(result.discrepancies, "call")["cache-1"] == (
        "cache discount missing: the reported cost bills cached tokens at the input rate"
    )
    assert causes(result.discrepancies, "invoice") == {
        "reapi/minimax-m3": "cache discount missing: the invoice bills cached tokens at the "
        "input rate",
        "vtrix/minimax-m3": "failed calls charged: the invoice matches 1 failed calls billed",
        "runapi/MiniMax-M2": "calls missing from the logs: no call of this model in the period",
        "runapi/MiniMax-M3": "on no invoice line: 1 calls the provider did not bill (or billed "
        "under another model id)",
    }


def test_an_invoice_line_is_compared_only_with_the_calls_billed_in_its_currency(
    books: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """reapi bills minimax-m3 in USD (0.30 in October): a EUR line for them is never set
    against those dollars, and the calls in USD that no line of theirs covers are named."""
    invoice = tmp_path / "invoice.csv"
    invoice.write_text(
        "provider,period,model,amount,currency\nreapi,2026-10,minimax-m3,0.30,EUR\n",
        encoding="utf-8",
    )
    usd_calls = books.execute(
        "SELECT count(*) FROM calls_costed WHERE billed AND provider = 'reapi' "
        "AND canonical_model = 'minimax-m3' AND ts >= '2026-10-01' AND ts < '2026-11-01'"
    ).fetchall()[0][0]
    found = [d for d in reconcile(books, invoice=invoice).discrepancies if d.kind == "invoice"]
    assert [(d.where, d.currency, d.computed, d.stated, d.cause) for d in found] == [
        (
            "invoice line 2, 2026-10",
            "USD",
            None,
            None,
            f"currencies differ: {usd_calls} calls were billed in USD, the invoice is in EUR; "
            "not compared (ratecard does not convert currencies)",
        ),
        (
            "invoice line 2, 2026-10",
            "EUR",
            D("0"),
            D("0.30"),
            "no call billed in EUR: the calls of this model were billed in USD, and are never "
            "compared with an amount in another currency",
        ),
    ]
    # the same amount in USD matches those calls: no discrepancy on the line
    invoice.write_text(
        "provider,period,model,amount,currency\nreapi,2026-10,minimax-m3,0.42,USD\n"
        "reapi,2026-10,minimax-m3,0.30,EUR\n",
        encoding="utf-8",
    )
    lines = {
        d.cause.split(":")[0]
        for d in reconcile(books, invoice=invoice).discrepancies
        if d.where == "invoice line 3, 2026-10"
    }
    assert lines == {"no call billed in EUR"}  # the USD calls are on line 2: not named again


def test_an_invoice_matching_the_reported_costs_points_at_the_price(
    books: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # runware October: bills 0.000406 x 3 + 0 + 0.0002668 = 0.0014848; reported costs add to
    # 0.000406 + 0.00040600001 + 0.0002 + 0.000406 + 0.0005 = 0.00191800001
    invoice = tmp_path / "invoice.csv"
    invoice.write_text(
        "provider,period,model,amount,currency\nrunware,2026-10,minimax-m3,0.00191800001,USD\n",
        encoding="utf-8",
    )
    found = reconcile(books, invoice=invoice, invoice_tolerance=D("0.0000001"))
    line = next(d for d in found.discrepancies if d.where.startswith("invoice line 2"))
    assert line.computed == D("0.0014848")
    assert line.cause.startswith(
        "price differs from the sheet: the invoice matches the provider's reported per-call costs"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("provider,period,model,amount,currency,notes\n", "line 1: unknown column 'notes'"),
        ("provider,period,model,currency\n", "line 1: missing column 'amount'"),
        (
            "provider,period,model,amount,currency\nreapi,2026-13,m,1,USD\n",
            "line 2: period must be a month YYYY-MM, not '2026-13'",
        ),
        (
            "provider,period,model,amount,currency\nreapi,2026-10,m,1,USD\nreapi,2026-10,m,"
            "lots,USD\n",
            "line 3: amount is not a number: 'lots'",
        ),
        (
            "provider,period,model,amount,currency\nreapi,2026-10,m,1,XYZ\n",
            "line 2: currency 'XYZ' is not an ISO 4217 code",
        ),
        (
            "provider,period,model,amount,currency\nreapi,2026-10,m,1,USD\nreapi,2026-10,m,2,USD\n",
            "line 3: repeats line 2",
        ),
    ],
)
def test_a_bad_invoice_names_the_line(
    books: duckdb.DuckDBPyConnection, tmp_path: Path, content: str, message: str
) -> None:
    invoice = tmp_path / "invoice.csv"
    invoice.write_text(content, encoding="utf-8")
    with pytest.raises(RatecardError, match=message.replace("(", r"\(").replace(")", r"\)")):
        reconcile(books, invoice=invoice)


def test_clean_sample_traffic_reconciles_and_the_command_exits_0(tmp_path: Path) -> None:
    db = sample_warehouse(tmp_path)
    con = connect(db)
    # an invoice per provider, model and month, as the provider would send it: our bill,
    # rounded to the cent; Runware bills minimax-m3 once, whichever id the calls used
    rows = con.execute(
        "SELECT c.provider, strftime(c.ts, '%Y-%m'), b.canonical_model || "
        "CASE WHEN b.variant = 'highspeed' THEN '-highspeed' ELSE '' END, "
        "round(sum(b.total_cost), 2) "
        "FROM calls c JOIN call_costs b USING (batch_id, source_line, source_item) "
        "WHERE b.priced GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    con.close()
    invoice = tmp_path / "invoice.csv"
    with invoice.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["provider", "period", "model", "amount", "currency"])
        writer.writerows([*row, "USD"] for row in rows)
    result = CliRunner().invoke(app, ["reconcile", "--db", str(db), "--invoice", str(invoice)])
    assert result.exit_code == 0, result.output
    assert f"and {len(rows)} invoice lines: 0 discrepancies" in result.stdout
    assert Decimal(len(rows)) > 10


def test_the_command_exits_1_and_writes_every_discrepancy(
    books: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    db = file_of(books)
    books.close()
    out = tmp_path / "found.csv"
    result = CliRunner().invoke(app, ["reconcile", "--db", db, "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "4 discrepancies" in result.stdout
    with out.open(newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [(r["kind"], r["computed"], r["stated"], r["difference"]) for r in written][:1] == [
        ("call", "0", "0.0002", "0.0002")
    ]
    result = CliRunner().invoke(app, ["reconcile", "--db", db, "--call-tolerance", "-1"])
    assert result.exit_code == 2 and "must be a non-negative amount" in result.output
