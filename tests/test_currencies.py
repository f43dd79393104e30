"""Currencies: only ISO 4217 codes load, each amount is rounded to its own currency's minor
unit, and two currencies are never added into one amount (summary, budgets)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import chat, file_of, ingest_records
from ingest.prices import load_prices, read_sheets
from pricing.sheet import PriceSheetError
from ratecard.cli import app
from reports.budgets import Budget, check_budget, load_budgets
from reports.compare import compare
from reports.finance import build_report, presented
from reports.money import minor_unit, money_text, round_column, round_money
from reports.period import parse_period
from reports.summary import summarize
from warehouse import RatecardError

D = Decimal


def sheet(folder: Path, provider: str, currency: str, input_rate: str) -> Path:
    """A one-model sheet: wire id m3, per 1M tokens, output free."""
    path = folder / f"{provider}.yml"
    path.write_text(
        f"provider: {provider}\nname: {provider}\ncurrency: {currency}\nsource: tests\n"
        "checked_on: 2026-11-01\nmodels:\n"
        "  - {id: m3, canonical: minimax-m3, unit: 1M, prices: "
        f"[{{effective_from: 2026-01-01, input: {input_rate}, output: 0}}]}}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("currency", "amount", "rounded", "text"),
    [
        ("USD", "0.005", "0.01", "0.01"),
        ("USD", "1234.5", "1234.50", "1,234.50"),
        ("JPY", "1234.5", "1235", "1,235"),  # no minor unit: whole yen, half up
        ("JPY", "0.49", "0", "0"),
        ("KWD", "1.2345", "1.235", "1.235"),  # fils: three places
        ("BHD", "-0.0005", "-0.001", "-0.001"),  # half away from zero
        ("EUR", "2.675", "2.68", "2.68"),  # exact decimal: never float's 2.67
    ],
)
def test_each_currency_rounds_to_its_own_minor_unit(
    currency: str, amount: str, rounded: str, text: str
) -> None:
    assert round_money(D(amount), currency) == D(rounded)
    assert str(round_money(D(amount), currency)) == rounded
    assert money_text(D(amount), currency) == text


def test_minor_units_come_from_cldr_and_a_column_rounds_in_its_currency() -> None:
    assert (minor_unit("USD"), minor_unit("JPY"), minor_unit("KWD")) == (
        D("0.01"),
        D("1"),
        D("0.001"),
    )
    # three lines of 0.4 yen: each prints 0, the total 1 (1.2 rounded); the residue says so
    column = round_column([D("0.4"), D("0.4"), D("0.4")], "JPY")
    assert (column.lines, column.residue, column.total) == ((D(0), D(0), D(0)), D(1), D(1))


def test_a_sheet_in_a_currency_iso_4217_does_not_know_stops_the_load(tmp_path: Path) -> None:
    path = sheet(tmp_path, "odd", "XYZ", "0.30")
    with pytest.raises(PriceSheetError) as caught:
        read_sheets([path])
    assert str(caught.value) == (
        f"{path}: currency: Value error, not an ISO 4217 currency code (USD, EUR, JPY, ...) "
        "(value: 'XYZ')"
    )
    csv_path = tmp_path / "prices.csv"
    csv_path.write_text(
        "provider,model,canonical_model,unit,currency,effective_from,input,output\n"
        "acme,m,c,1K,XYZ,2026-01-01,1,1\n",
        encoding="utf-8",
    )
    with pytest.raises(PriceSheetError, match=r"line 2: currency: .*not an ISO 4217"):
        read_sheets([csv_path])
    for code in ("JPY", "KWD", "EUR"):
        assert read_sheets([sheet(tmp_path, "odd", code, "1")])[0].currency == code


def test_a_budget_in_a_currency_iso_4217_does_not_know_stops_the_load(tmp_path: Path) -> None:
    path = tmp_path / "budgets.yml"
    path.write_text(
        "budgets:\n  - {name: b, period: monthly, amount: 10, currency: XYZ}\n", encoding="utf-8"
    )
    with pytest.raises(RatecardError, match=r"budgets\[0\]\.currency: .*ISO 4217.*'XYZ'"):
        load_budgets(path)


@pytest.fixture
def three_currencies(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """One call of a million input tokens at each of three gateways: USD 0.60, JPY 30.5 and
    KWD 0.1235 (input rate x 1M tokens / 1M; output free)."""
    load_prices(
        con,
        [
            sheet(tmp_path, "usdgw", "USD", "0.60"),
            sheet(tmp_path, "jpygw", "JPY", "30.5"),
            sheet(tmp_path, "kwdgw", "KWD", "0.1235"),
        ],
    )
    ingest_records(
        con,
        tmp_path,
        [
            chat(provider=p, model="m3", prompt=1_000_000, completion=0, call_id=p)
            for p in ("usdgw", "jpygw", "kwdgw")
        ],
    )
    return con


def test_summary_totals_each_currency_apart_and_never_adds_them(
    three_currencies: duckdb.DuckDBPyConnection,
) -> None:
    result = summarize(three_currencies, ("provider",), parse_period("2026-10"))
    assert result.totals == (("JPY", D("30.5")), ("KWD", D("0.1235")), ("USD", D("0.60")))
    assert result.total_cost is None and result.currency is None
    assert result.by == ("provider", "currency")

    db = file_of(three_currencies)
    three_currencies.close()
    output = CliRunner().invoke(app, ["summary", "--db", db, "--by", "provider"])
    assert output.exit_code == 0, output.output
    lines = {line.split("│")[1].strip(): line for line in output.stdout.splitlines() if "│" in line}
    # each line and total in its own currency's minor unit
    assert lines["usdgw"].split("│")[-2].strip() == "0.60"
    assert lines["jpygw"].split("│")[-2].strip() == "31"
    assert lines["kwdgw"].split("│")[-2].strip() == "0.124"
    assert lines["total USD"].split("│")[-2].strip() == "0.60"
    assert lines["total JPY"].split("│")[-2].strip() == "31"
    assert lines["total KWD"].split("│")[-2].strip() == "0.124"
    assert lines["all calls"].split("│")[-2].strip() == "—"
    assert lines["all calls"].split("│")[3].strip() == "3"
    assert "31.72" not in output.stdout and "31.2235" not in output.stdout
    assert "amounts in two currencies are never added" in output.stdout


def test_a_usd_budget_counts_only_usd_and_says_what_it_left_out(
    three_currencies: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    budget = Budget(name="company", period="monthly", amount=D("100"))
    status = check_budget(three_currencies, budget, datetime(2026, 10, 2, tzinfo=UTC))
    assert (status.spend, status.other_currency_calls, status.unpriced_calls) == (D("0.60"), 2, 0)

    budgets = tmp_path / "budgets.yml"
    budgets.write_text(
        "budgets:\n  - {name: company, period: monthly, amount: 100}\n"
        "  - {name: yen, period: monthly, amount: 1000, currency: JPY}\n",
        encoding="utf-8",
    )
    db = file_of(three_currencies)
    three_currencies.close()
    output = CliRunner().invoke(
        app,
        ["budgets", "check", "--db", db, "--budgets", str(budgets), "--as-of", "2026-10-02T00:00Z"],
    )
    assert output.exit_code == 0, output.output
    rows = [line for line in output.stdout.splitlines() if "│" in line]
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in rows]
    company = next(i for i, row in enumerate(cells) if row[0] == "company")
    assert (cells[company][3], cells[company][6]) == ("0.60", "100 USD")
    assert "2 calls in other currencies not counted" in rows[company + 1]
    yen = next(i for i, row in enumerate(cells) if row[0] == "yen")
    assert (cells[yen][3], cells[yen][6]) == ("31", "1,000 JPY")  # 30.5 yen, in whole yen
    assert "2 calls in other currencies not counted" in rows[yen + 1]


def test_the_finance_report_rounds_to_its_currencys_minor_unit(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load_prices(con, [sheet(tmp_path, "jpygw", "JPY", "30.5")])
    ingest_records(
        con,
        tmp_path,
        [
            chat(provider="jpygw", model="m3", prompt=1_000_000, completion=0, call_id=f"j{n}")
            for n in range(2)
        ],
    )
    report = build_report(con, ("provider",), parse_period("2026-10"))
    table = presented(report)
    assert report.currencies == ("JPY",)
    (block,) = table.blocks
    assert block.total is not None
    total_cost = block.total[table.header.index("total_cost")]
    assert total_cost == D("61")  # 2 x 30.5 yen, in whole yen


def test_the_finance_report_totals_each_currency_apart_in_every_format(
    three_currencies: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """USD 0.60, JPY 30.5 and KWD 0.1235 in one month: a block per currency, each rounded to
    its own minor unit and totalled on its own, and an 'all calls' line that adds no amount.
    The old report refused the month ('report one currency at a time')."""
    from openpyxl import load_workbook

    db = file_of(three_currencies)
    three_currencies.close()
    written, printed = {}, {}
    for fmt in ("csv", "xlsx", "parquet", "html", "focus"):
        out = tmp_path / f"report-{fmt}.{'csv' if fmt == 'focus' else fmt}"
        args = ["report", "--db", db, "--period", "2026-10", "--format", fmt, "--out", str(out)]
        if fmt != "focus":
            args += ["--by", "provider"]
        output = CliRunner().invoke(app, args)
        assert output.exit_code == 0, output.output
        written[fmt], printed[fmt] = out, output.stdout
    assert "3 calls, 31 JPY, 0.124 KWD, 0.60 USD" in printed["csv"]

    expected = [
        ("jpygw", "JPY", "1", "31", "100.00"),  # 30.5 yen, half-up to the yen
        ("total", "JPY", "1", "31", "100.00"),
        ("kwdgw", "KWD", "1", "0.124", "100.00"),  # 0.1235 dinar, to the fils
        ("total", "KWD", "1", "0.124", "100.00"),
        ("usdgw", "USD", "1", "0.60", "100.00"),
        ("total", "USD", "1", "0.60", "100.00"),
        ("all calls", "", "3", "", ""),  # counts every call, adds no amount
    ]
    with written["csv"].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [
        (r["provider"], r["currency"], r["calls"], r["total_cost"], r["share_pct"]) for r in rows
    ] == expected

    sheet = load_workbook(written["xlsx"], read_only=False)["Report"]
    cells = list(sheet.iter_rows(min_row=2))
    header = [c.value for c in sheet[1]]
    at = header.index("total_cost")
    assert [(row[0].value, row[1].value) for row in cells] == [
        (p, c or None) for p, c, _, _, _ in expected
    ]
    assert cells[-1][at].value is None
    assert [D(str(row[at].value)) for row in cells[:-1]] == [
        D(t) for _, _, _, t, _ in expected[:-1]
    ]
    assert [row[at].number_format for row in cells[:-1]] == [
        "#,##0", "#,##0", "#,##0.000", "#,##0.000", "#,##0.00", "#,##0.00"
    ]  # fmt: skip

    files = duckdb.connect()
    parquet = files.execute(
        "SELECT line, provider, currency, calls, total_cost FROM read_parquet($p)",
        {"p": str(written["parquet"])},
    ).fetchall()
    assert parquet == [
        ("group", "jpygw", "JPY", 1, D("31")),
        ("total", None, "JPY", 1, D("31")),
        ("group", "kwdgw", "KWD", 1, D("0.124")),
        ("total", None, "KWD", 1, D("0.124")),
        ("group", "usdgw", "USD", 1, D("0.60")),
        ("total", None, "USD", 1, D("0.60")),
        ("all calls", None, None, 3, None),
    ]

    page = written["html"].read_text(encoding="utf-8")
    for card in ("Spend, JPY<b>31 JPY", "Spend, KWD<b>0.124 KWD", "Spend, USD<b>0.60 USD"):
        assert card in page
    assert "never added" in page
    for summed in ("31.72", "31.7235", "31.2235"):  # no sum across currencies anywhere
        assert summed not in page

    focus = files.execute(
        "SELECT BillingCurrency, CAST(BilledCost AS VARCHAR) FROM read_csv($p, all_varchar=true) "
        "ORDER BY 1",
        {"p": str(written["focus"])},
    ).fetchall()
    assert [(code, D(cost)) for code, cost in focus] == [
        ("JPY", D("30.5")),
        ("KWD", D("0.1235")),
        ("USD", D("0.60")),
    ]


def test_compare_never_subtracts_or_ranks_across_currencies(
    three_currencies: duckdb.DuckDBPyConnection,
) -> None:
    """The three calls of minimax-m3, one billed in each currency, quoted at the three
    gateways: a comparison per billed currency; a difference only in the same currency, and
    no cheapest (each currency has one seller)."""
    found = compare(three_currencies, "minimax-m3", parse_period("2026-10"))
    assert [c.currency for c in found] == ["JPY", "KWD", "USD"]
    by_currency = {c.currency: {q.provider: q for q in c.quotes} for c in found}
    usd = by_currency["USD"]
    assert (usd["usdgw"].actual_cost, usd["usdgw"].repriced_cost) == (D("0.60"), D("0.60"))
    assert usd["usdgw"].difference == D("0")
    # the dollar call at the yen gateway: 30.5 JPY there, never "30.5 - 0.60"
    assert (usd["jpygw"].repriced_cost, usd["jpygw"].currency) == (D("30.5"), "JPY")
    assert usd["jpygw"].difference is None and usd["jpygw"].difference_percent is None
    assert usd["kwdgw"].difference is None
    assert not any(q.cheapest for quotes in by_currency.values() for q in quotes.values())
    assert [r.currency for c in found for r in c.ran_on] == ["JPY", "KWD", "USD"]


def test_compare_prints_each_amount_in_its_own_currency(
    three_currencies: duckdb.DuckDBPyConnection,
) -> None:
    db = file_of(three_currencies)
    three_currencies.close()
    output = CliRunner().invoke(
        app, ["compare", "--db", db, "--model", "minimax-m3", "--period", "2026-10"]
    )
    assert output.exit_code == 0, output.output
    tables = output.stdout.split("priced at standard at every provider selling it")
    usd = next(t for t in tables[1:] if "billed in USD" in tables[tables.index(t) - 1][-200:])
    rows = {
        cells[0]: cells
        for line in usd.splitlines()
        if line.startswith("│")
        for cells in [[c.strip() for c in line.split("│")[1:-1]]]
    }
    # the dollar call at the yen gateway: 0.60 USD where it ran, 31 JPY there, no difference
    assert rows["jpygw"][5:8] == ["0.60 USD", "31 JPY", "—"]
    assert rows["usdgw"][5:8] == ["0.60", "0.60", "0.00"]
    assert rows["kwdgw"][5:8] == ["0.60 USD", "0.124 KWD", "—"]
