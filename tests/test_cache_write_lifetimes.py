"""Anthropic's cache writes of two lifetimes, each at its own rate, everywhere a bill goes.

Anthropic writes the prompt cache for 5 minutes or for 1 hour, at different list prices
(for its mid-size models: input $3, 5-minute writes $3.75, 1-hour writes $6, reads $0.30,
output $15 per million tokens). A call's usage names both parts
(``usage.cache_creation.ephemeral_5m_input_tokens`` / ``ephemeral_1h_input_tokens``); a sheet
gives ``cache_write_1h`` beside ``cache_write``. Expected amounts are worked out by hand.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_focus import UNEVALUABLE, validate

from conftest import TEST_SHEETS as TEST_SHEETS_DIR
from conftest import D, costs, ingest_records
from ingest.prices import load_prices, read_sheets
from ingest.usage import UsageFormat
from pricing.engine import rebill
from pricing.reprice import CallScope, reprice
from reports.export import ExportFormat, export_calls
from reports.finance import build_report
from reports.focus import export_focus
from reports.period import Period, parse_period
from reports.reconcile import InvoiceLine, check_invoice
from warehouse import connect

TS = "2026-10-01T12:00:00Z"
OCTOBER = parse_period("2026-10", None, None)


def sheet(folder: Path, provider: str, rates: str) -> Path:
    path = folder / f"{provider}.yml"
    path.write_text(
        f"provider: {provider}\nname: {provider}\nsource: tests\nchecked_on: 2026-11-01\n"
        "models:\n"
        f"  - {{id: claude-m, canonical: claude-m, unit: 1M, prices: [{{effective_from: "
        f"2026-01-01, {rates}}}]}}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def anthropic(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """`anthro` prices 1-hour writes at their own rate, `other` has no such rate."""
    load_prices(
        con,
        [
            sheet(
                tmp_path,
                "anthro",
                "input: 3.00, output: 15.00, cache_read: 0.30, cache_write: 3.75, "
                "cache_write_1h: 6.00",
            ),
            sheet(
                tmp_path,
                "other",
                "input: 3.50, output: 14.00, cache_read: 0.35, cache_write: 4.00",
            ),
        ],
    )
    return con


def message(call_id: str, provider: str = "anthro") -> dict[str, Any]:
    """A gateway-log record of an Anthropic message: 1,000 fresh input tokens, 2,000 read
    from the cache, 3,000 written to it (1,000 for 5 minutes, 2,000 for an hour), 500 out."""
    return {
        "ts": TS,
        "provider": provider,
        "model": "claude-m",
        "team": "search",
        "project": "ranker",
        "status_code": 200,
        "response": {
            "id": call_id,
            "type": "message",
            "role": "assistant",
            "model": "claude-m",
            "content": [],
            "usage": {
                "input_tokens": 1000,
                "cache_read_input_tokens": 2000,
                "cache_creation_input_tokens": 3000,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": 1000,
                    "ephemeral_1h_input_tokens": 2000,
                },
                "output_tokens": 500,
            },
        },
    }


# at anthro: 1,000 x 3 + 2,000 x 0.30 + 1,000 x 3.75 + 2,000 x 6 + 500 x 15, per 1M
# = 0.003 + 0.0006 + (0.00375 + 0.012) + 0.0075
AT_ANTHRO = D("0.02685")
# at other, no 1-hour rate: every write at 4.00. 0.0035 + 0.0007 + 0.012 + 0.007
AT_OTHER = D("0.0232")


def test_a_sheet_states_a_rate_for_each_lifetime(tmp_path: Path) -> None:
    yaml_point = read_sheets(
        [sheet(tmp_path, "anthro", "input: 3, output: 15, cache_write: 3.75, cache_write_1h: 6")]
    )
    assert (yaml_point[0].cache_write_rate, yaml_point[0].cache_write_1h_rate) == (
        D("3.75"),
        D("6"),
    )
    path = tmp_path / "prices.csv"
    path.write_text(
        "provider,model,canonical_model,unit,currency,effective_from,input,output,cache_write,"
        "cache_write_1h\nanthro,claude-m,claude-m,1M,USD,2026-01-01,3,15,3.75,6.00\n",
        encoding="utf-8",
    )
    assert read_sheets([path])[0].cache_write_1h_rate == D("6.00")
    schema = json.loads(
        (Path(__file__).parent.parent / "data/price_sheets/schema.json").read_text("utf-8")
    )
    assert "cache_write_1h" in schema["$defs"]["PricePeriod"]["properties"]


def test_one_hour_writes_bill_at_their_rate_and_fall_back_to_the_cache_write_rate(
    anthropic: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    ingest_records(anthropic, tmp_path, [message("m-anthro"), message("m-other", "other")])
    row = anthropic.execute(
        "SELECT input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens "
        "FROM calls WHERE call_id = 'm-anthro'"
    ).fetchall()
    assert row == [(6000, 2000, 3000, 2000)]
    bill = costs(anthropic, "m-anthro")
    assert (bill["cache_write_cost"], bill["cache_write_1h_cost"], bill["total_cost"]) == (
        D("0.01575"),
        D("0.012"),
        AT_ANTHRO,
    )
    other = costs(anthropic, "m-other")
    assert (other["cache_write_cost"], other["cache_write_1h_cost"], other["total_cost"]) == (
        D("0.012"),
        D("0.008"),
        AT_OTHER,
    )
    # the daily rollup (from the hourly sums), and both ways of making those sums
    rollup = "SELECT provider, sum(total_cost) FROM daily_rollup GROUP BY 1 ORDER BY 1"
    assert anthropic.execute(rollup).fetchall() == [("anthro", AT_ANTHRO), ("other", AT_OTHER)]
    rebill(anthropic, sum_each_call=True)
    assert anthropic.execute(rollup).fetchall() == [("anthro", AT_ANTHRO), ("other", AT_OTHER)]


def both_lifetimes(anthropic: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """A message writing both cache lifetimes, and a failed call that reports them too."""
    flat_failed = {
        "call_id": "failed-1",
        "ts": TS,
        "provider": "anthro",
        "model": "claude-m",
        "status": "failed",
        "input_tokens": 6000,
        "cache_read_tokens": 2000,
        "cache_write_tokens": 3000,
        "cache_write_1h_tokens": 2000,
        "output_tokens": 500,
    }
    ingest_records(anthropic, tmp_path, [message("m-1")])
    ingest_records(
        anthropic, tmp_path, [flat_failed], name="flat.jsonl", fmt=UsageFormat.FLAT_JSONL
    )


def test_every_output_that_lists_cache_writes_lists_the_one_hour_part(
    anthropic: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    both_lifetimes(anthropic, tmp_path)

    # export calls
    out = tmp_path / "calls.csv"
    export_calls(anthropic, out, ExportFormat.CSV)
    exported = {r["call_id"]: r for r in csv.DictReader(out.read_text("utf-8").splitlines())}
    assert (
        exported["m-1"]["cache_write_1h_tokens"],
        D(exported["m-1"]["cache_write_1h_cost"]),
    ) == (
        "2000",
        D("0.012"),
    )

    # the finance report
    report = build_report(anthropic, ("provider",), OCTOBER)
    (line,) = report.lines
    assert (line.tokens["cache_write_1h_tokens"], line.costs["cache_write_1h_cost"]) == (
        4000,  # the failed call's count too; it costs nothing
        D("0.012"),
    )
    assert line.costs["cache_write_cost"] == D("0.01575") and line.total == AT_ANTHRO

    # FOCUS: each lifetime is a pricing dimension of its own, at its own unit price
    focus = tmp_path / "focus.csv"
    export_focus(anthropic, focus, Period(date(2026, 10, 1), date(2026, 10, 31)))
    rows = {r["SkuMeter"]: r for r in csv.DictReader(focus.read_text("utf-8").splitlines())}
    writes = [
        (m, D(r["ConsumedQuantity"]), D(r["ListUnitPrice"]), D(r["BilledCost"]))
        for m, r in sorted(rows.items())
        if m.startswith("Cache Write")
    ]
    assert writes == [
        ("Cache Write Tokens", D("1000"), D("3.75"), D("0.00375")),
        ("Cache Write Tokens (1 Hour)", D("2000"), D("6"), D("0.012")),
    ]
    assert sum(D(r["BilledCost"]) for r in rows.values()) == AT_ANTHRO

    # repricing at every seller, from the hourly sums and call by call
    for scope in (CallScope(), CallScope(start=datetime(2026, 10, 1, 0, 30, tzinfo=UTC))):
        quotes = {
            r.target_provider: (r.calls, r.repriced_cost)
            for r in reprice(anthropic, "claude-m", "standard", scope)
        }
        # the failed call is free at both (neither bills failures)
        assert quotes == {"anthro": (2, AT_ANTHRO), "other": (2, AT_OTHER)}, scope

    # reconciliation: an invoice that charged the failed call matches "failed calls charged"
    # at the rates of each lifetime
    invoice = InvoiceLine(1, "anthro", "2026-10", "claude-m", AT_ANTHRO * 2, "USD")
    (found,) = check_invoice(anthropic, [invoice])
    assert found.cause == "failed calls charged: the invoice matches 1 failed calls billed"


@pytest.mark.focus_validator
def test_the_one_hour_cache_writes_pass_the_focus_validator(
    anthropic: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    both_lifetimes(anthropic, tmp_path)
    focus = tmp_path / "focus.csv"
    export_focus(anthropic, focus, Period(date(2026, 10, 1), date(2026, 10, 31)))
    _, problems = validate(focus, tmp_path)  # the FinOps Foundation's validator
    assert set(problems) == UNEVALUABLE, problems


def test_one_hour_writes_above_all_writes_are_quarantined(
    anthropic: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    record = message("m-bad")
    record["response"]["usage"]["cache_creation"]["ephemeral_1h_input_tokens"] = 3001
    load = ingest_records(anthropic, tmp_path, [record])
    assert load.quarantined == 1
    assert anthropic.execute("SELECT reason FROM quarantine").fetchall() == [
        ("1-hour cache-write tokens (3001) exceed cache-write tokens (3000)",)
    ]


def test_the_formula_is_one_macro(tmp_path: Path) -> None:
    """Billing, the calls_costed view, repricing and the reconciliation's what-ifs call
    bill_amounts (warehouse/schema.sql); none writes the products out again."""
    root = Path(__file__).parent.parent
    users = [
        root / "pricing/sql/costed.sql",
        root / "pricing/sql/reprice.sql",
        root / "reports/sql/reconcile_invoice.sql",
    ]
    for path in users:
        text = path.read_text("utf-8")
        assert "bill_amounts(" in text, path
        assert "* input_pt" not in text and "* cache_write_pt" not in text, path
    con = connect(tmp_path / "w.duckdb")
    view = con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'calls_costed'"
    ).fetchall()[0][0]
    assert "bill_amounts(" in view and "* input_pt" not in view
    con.close()


def test_bill_amounts_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    rates = (
        "input_pt := 0.000003, cache_read_pt := 0.0000003, cache_write_pt := 0.00000375, "
        "cache_write_1h_pt := 0.000006, output_pt := 0.000015, request_fee := 0.01, "
        "saved_pt := 0.0000027"
    )
    counts = (
        "calls := 2, input_tokens := 6000, cache_read_tokens := 2000, "
        "cache_write_tokens := 3000, cache_write_1h_tokens := 2000, output_tokens := 500"
    )
    charged, free, unpriced = (
        con.execute(
            f"SELECT bill_amounts(charged := {c}, priced := {p}, {counts}, {rates})"
        ).fetchall()[0][0]
        for c, p in (("true", "true"), ("false", "true"), ("false", "false"))
    )
    assert charged == {
        "input_cost": D("0.003"),
        "cache_read_cost": D("0.0006"),
        "cache_write_cost": D("0.01575"),
        "cache_write_1h_cost": D("0.012"),
        "output_cost": D("0.0075"),
        "request_cost": D("0.02"),
        "cache_savings": D("0.0054"),
        "total_cost": D("0.04685"),
    }
    assert set(free.values()) == {Decimal(0)}
    assert set(unpriced.values()) == {None}


LITELLM_EXCERPT = """{
  "anthro/claude-m": {
    "litellm_provider": "anthro",
    "mode": "chat",
    "input_cost_per_token": 3e-06,
    "output_cost_per_token": 1.5e-05,
    "cache_read_input_token_cost": 3e-07,
    "cache_creation_input_token_cost": 3.75e-06,
    "cache_creation_input_token_cost_above_1hr": 6e-06,
    "input_cost_per_token_above_200k_tokens": 6e-06,
    "output_cost_per_token_above_200k_tokens": 2.25e-05,
    "cache_read_input_token_cost_above_200k_tokens": 6e-07,
    "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06,
    "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05
  }
}
"""
"""LiteLLM's model_prices_and_context_window.json, cut to one entry shaped as its Claude
Sonnet 4 entries are (the same numbers): ``…_above_1hr`` is the 1-hour cache-write rate, not
a tier, and ``…_above_1hr_above_200k_tokens`` is that rate in the long-context tier."""


def test_the_litellm_catalog_gives_one_hour_writes_their_rate(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ratecard.cli import app

    catalog = tmp_path / "litellm.json"
    catalog.write_text(LITELLM_EXCERPT, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    # pull needs a warehouse (only ingest creates one)
    made = CliRunner().invoke(app, ["ingest", "prices", str(TEST_SHEETS_DIR), "--db", str(db)])
    assert made.exit_code == 0, made.output
    pulled = CliRunner().invoke(
        app, ["pull", "prices", "litellm", "--from", str(catalog), "--db", str(db)]
    )
    assert pulled.exit_code == 0, pulled.output
    con = connect(db)
    try:
        points = con.execute(
            "SELECT above_input_tokens, input_rate, cache_write_rate, cache_write_1h_rate "
            "FROM price_points WHERE provider = 'anthro' ORDER BY above_input_tokens NULLS FIRST"
        ).fetchall()
        # per 1M tokens, exactly: 6e-06 x 10^6 = 6, 1.2e-05 x 10^6 = 12
        assert points == [(None, D("3"), D("3.75"), D("6")), (200_000, D("6"), D("7.5"), D("12"))]
        ingest_records(con, tmp_path, [message("m-anthro")])
        bill = costs(con, "m-anthro")
        # the 2,000 1-hour writes at 6 per 1M, as the sheet's cache_write_1h would bill them
        assert (bill["cache_write_1h_cost"], bill["total_cost"]) == (D("0.012"), AT_ANTHRO)
    finally:
        con.close()
