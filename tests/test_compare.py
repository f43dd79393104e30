"""Provider and variant comparison over small warehouses built by hand from real sheet files
and a few calls, every figure worked out in the comments: ``ratecard compare`` (its table and
CSV) and the dashboard's Compare and Variants pages, which read the same functions.

Two sheets (written by :func:`sheets`), all rates per token shown per 1M:

alpha (per 1M)  mx standard 1 in / 2 out; mx highspeed (mx-fast) 3 / 6; solo-model 5 / 5
beta  (per 1K)  mx standard 0.002 / 0.003 per 1K = 2 / 3 until 2026-10-15, then
                0.0005 / 0.001 per 1K = 0.5 / 1; mx highspeed (beta/mx-fast) 4 / 2

The October calls (:func:`october`):

c1  alpha mx       Oct 1   1,000,000 in + 100,000 out: 1 + 0.2 = 1.2
c2  alpha mx-fast  Oct 2   1,000,000 in + 500,000 out: 3 + 3 = 6.0 (team fast)
c3  beta  beta/mx  Oct 20  2,000,000 in, after beta's price change: 2 x 0.5 = 1.0
d   beta  beta/mx  Oct 21  429: failed, free
c4  alpha solo     Oct 3   100,000 in + 100,000 out: 0.5 + 0.5 = 1.0 (one seller)

Total 9.2 over 5 calls; on mx 8.2 over 4 (standard 2.2 over 3, highspeed 6.0 over 1).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest
from test_browser import wait_served
from typer.testing import CliRunner

from conftest import TEST_SHEETS, D, blank_warehouse, chat, error, file_of, ingest_records
from dashboards import comparison
from ingest import prices as price_loading
from ingest.catalogs import Catalog, read_catalog
from ingest.prices import load_prices
from pricing import reprice as repricing
from pricing.reprice import Repriced
from ratecard import cli
from reports.compare import compare, quotes, spend
from reports.period import Period
from warehouse import RatecardError, connect

APP = str(Path(__file__).resolve().parent.parent / "dashboards" / "app.py")

ALPHA = """\
provider: alpha
name: Alpha
source: tests
checked_on: 2026-11-01
models:
  - {id: mx, canonical: mx, unit: 1M, prices: [{effective_from: 2026-01-01, input: 1, output: 2}]}
  - {id: mx-fast, canonical: mx, variant: highspeed, unit: 1M,
     prices: [{effective_from: 2026-01-01, input: 3, output: 6}]}
  - {id: solo, canonical: solo-model, unit: 1M,
     prices: [{effective_from: 2026-01-01, input: 5, output: 5}]}
"""
BETA = """\
provider: beta
name: Beta
source: tests
checked_on: 2026-11-01
models:
  - id: beta/mx
    canonical: mx
    unit: 1K
    prices:
      - {effective_from: 2026-01-01, effective_to: 2026-10-15, input: 0.002, output: 0.003}
      - {effective_from: 2026-10-15, input: 0.0005, output: 0.001}
  - {id: beta/mx-fast, canonical: mx, variant: highspeed, unit: 1K,
     prices: [{effective_from: 2026-01-01, input: 0.004, output: 0.002}]}
"""


def sheets(folder: Path) -> Path:
    """The two sheet files above, in a folder of their own."""
    folder.mkdir(exist_ok=True)
    (folder / "alpha.yml").write_text(ALPHA, encoding="utf-8")
    (folder / "beta.yml").write_text(BETA, encoding="utf-8")
    return folder


def october(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    load_prices(con, [sheets(tmp_path / "sheets")])
    ingest_records(
        con,
        tmp_path,
        [
            chat(
                provider="alpha",
                model="mx",
                prompt=1_000_000,
                completion=100_000,
                ts="2026-10-01T10:00:00Z",
                call_id="c1",
            ),
            chat(
                provider="alpha",
                model="mx-fast",
                prompt=1_000_000,
                completion=500_000,
                ts="2026-10-02T10:00:00Z",
                call_id="c2",
                team="fast",
            ),
            chat(
                provider="beta",
                model="beta/mx",
                prompt=2_000_000,
                completion=0,
                ts="2026-10-20T10:00:00Z",
                call_id="c3",
            ),
            error(429, provider="beta", model="beta/mx", ts="2026-10-21T10:00:00Z"),
            chat(
                provider="alpha",
                model="solo",
                prompt=100_000,
                completion=100_000,
                ts="2026-10-03T10:00:00Z",
                call_id="c4",
            ),
        ],
    )


@pytest.fixture(params=["hours", "calls"])
def two_variants(
    request: pytest.FixtureRequest,
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> duckdb.DuckDBPyConnection:
    """The October calls, repriced from the hourly sums (every price here starts on a
    whole hour) or call by call: both must give the hand-worked figures."""
    october(con, tmp_path)
    if request.param == "calls":
        monkeypatch.setattr(repricing, "from_hours", lambda *args, **kwargs: False)
    return con


# (variant, priced at) -> per provider (ran here, priced, where they ran, here, cheapest)
MX = {
    ("standard", "standard"): {
        # c1 1.2 at alpha; c3 at alpha 2,000,000 x 1/1M = 2.0; d free there too
        "alpha": (1, 3, D("2.2"), D("3.2"), True),
        # c1 on Oct 1, before beta's cut: 1,000,000 x 2/1M + 100,000 x 3/1M = 2.3; c3 1.0
        "beta": (2, 3, D("2.2"), D("3.3"), False),
    },
    ("highspeed", "highspeed"): {
        "alpha": (1, 1, D("6.0"), D("6.0"), False),
        # 1,000,000 x 4/1M + 500,000 x 2/1M = 5.0
        "beta": (0, 1, D("6.0"), D("5.0"), True),
    },
    ("highspeed", "standard"): {
        # what if c2 had been standard: 1,000,000 x 1/1M + 500,000 x 2/1M = 2.0 at alpha
        "alpha": (1, 1, D("6.0"), D("2.0"), True),
        # at beta on Oct 2, before its cut: 1,000,000 x 2/1M + 500,000 x 3/1M = 3.5
        "beta": (0, 1, D("6.0"), D("3.5"), False),
    },
}


def test_every_variant_is_compared_with_the_what_if_at_standard(
    two_variants: duckdb.DuckDBPyConnection,
) -> None:
    compared = compare(two_variants, "mx", Period())
    assert {
        (c.variant, c.target_variant): {
            q.provider: (
                q.ran_here_calls,
                q.priced_calls,
                q.actual_cost,
                q.repriced_cost,
                q.cheapest,
            )
            for q in c.quotes
        }
        for c in compared
    } == MX
    # standard first, each variant's own comparison before its what-if
    assert [(c.variant, c.target_variant) for c in compared] == list(MX)
    # where the calls ran: c1 at alpha; c3 and the free failure d at beta; c2 at alpha
    assert [(line.variant, line.provider, line.calls, line.cost) for line in spend(compared)] == [
        ("standard", "alpha", 1, D("1.2")),
        ("standard", "beta", 2, D("1.0")),
        ("highspeed", "alpha", 1, D("6.0")),
    ]
    assert [(c.calls, c.actual_cost) for c in compared] == [
        (3, D("2.2")),
        (1, D("6.0")),
        (1, D("6.0")),
    ]


def test_a_variant_or_a_target_variant_alone(two_variants: duckdb.DuckDBPyConnection) -> None:
    only = compare(two_variants, "mx", Period(), variant="highspeed", target_variant="standard")
    assert [(c.variant, c.target_variant) for c in only] == [("highspeed", "standard")]
    assert {q.provider: q.repriced_cost for q in only[0].quotes} == {
        "alpha": D("2.0"),
        "beta": D("3.5"),
    }
    # the team fast ran only highspeed: no standard comparison is made up for it
    fast = compare(two_variants, "mx", Period(), teams=["fast"])
    assert [(c.variant, c.target_variant, c.actual_cost) for c in fast] == [
        ("highspeed", "highspeed", D("6.0")),
        ("highspeed", "standard", D("6.0")),
    ]


def test_a_model_with_one_seller_has_no_cheapest(two_variants: duckdb.DuckDBPyConnection) -> None:
    (solo,) = compare(two_variants, "solo-model", Period())
    (quote,) = solo.quotes
    # c4: 200,000 tokens at 5/1M, where it ran and there
    assert (quote.provider, quote.calls, quote.actual_cost, quote.repriced_cost) == (
        "alpha",
        1,
        D("1.0"),
        D("1.0"),
    )
    assert not quote.cheapest


def row(actual: str, target: str, calls: int, priced: int, cost: str, repriced: str) -> Repriced:
    return Repriced(actual, target, "USD", calls, priced, D(cost), D(cost), D(repriced))


@pytest.mark.parametrize(
    ("rows", "cheapest"),
    [
        ([row("a", "a", 1, 1, "1", "1")], []),  # one seller: nothing is cheaper
        ([row("a", "a", 1, 1, "1", "1"), row("a", "b", 1, 1, "1", "1")], []),  # a tie
        (
            [
                row("a", "a", 1, 1, "1", "1"),
                row("a", "b", 1, 1, "1", "0.5"),
                row("a", "c", 1, 1, "1", "0.5"),
            ],
            ["b", "c"],  # both at the lowest price
        ),
        # c prices none of the call: it quotes 0 and is not ranked; a and b are
        (
            [
                row("a", "a", 1, 1, "1", "1"),
                row("a", "b", 1, 1, "1", "2"),
                row("a", "c", 1, 0, "1", "0"),
            ],
            ["a"],
        ),
        ([row("a", "a", 1, 1, "1", "1"), row("a", "c", 1, 0, "1", "0")], []),  # one complete
    ],
)
def test_the_cheapest_is_cheaper_than_another_complete_quote(
    rows: list[Repriced], cheapest: list[str]
) -> None:
    assert [q.provider for q in quotes(rows) if q.cheapest] == cheapest


def test_quotes_in_different_currencies_are_not_ranked() -> None:
    euros = Repriced("a", "b", "EUR", 1, 1, D("1"), D("1"), D("0.5"))
    assert not any(q.cheapest for q in quotes([row("a", "a", 1, 1, "1", "1"), euros]))


runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, list(args), env={"COLUMNS": "220"})
    return result.exit_code, result.output


def quotes_csv(path: Path) -> dict[tuple[str, str, str], dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (r["variant"], r["priced_at_variant"], r["provider"]): r for r in csv.DictReader(handle)
        }


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("│┃ ").split("│")]


def test_the_command_line_prints_and_writes_every_variant(
    two_variants: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    db = file_of(two_variants)
    two_variants.close()
    out = tmp_path / "quotes.csv"
    code, output = run(
        "compare", "--model", "mx", "--period", "2026-10", "--db", db, "--out", str(out)
    )
    assert code == 0, output
    written = quotes_csv(out)
    assert {
        key: (
            int(r["ran_here_calls"]),
            int(r["calls"]) - int(r["unpriced_calls"]),
            D(r["actual_cost"]),
            D(r["repriced_cost"]),
            r["cheapest"] == "true",
        )
        for key, r in written.items()
    } == {(v, t, p): quote for (v, t), by in MX.items() for p, quote in by.items()}
    assert written[("standard", "standard", "beta")]["ran_here_cost"] == "1"  # c3 and d
    assert written[("highspeed", "standard", "alpha")]["difference"] == "-4"  # 2.0 - 6.0
    lines = output.splitlines()
    # where the calls ran, adding up to the total: 1.2 + 1.0 + 6.0 = 8.2 over 4 calls
    assert [
        cells(x)
        for x in lines
        if x.startswith("│") and cells(x)[0] in ("standard", "highspeed", "total")
    ][:4] == [
        ["standard", "alpha", "USD", "1", "1.20"],
        ["standard", "beta", "USD", "2", "1.00"],
        ["highspeed", "alpha", "USD", "1", "6.00"],
        ["total", "", "USD", "4", "8.20"],
    ]
    titles = [x for x in lines if x.startswith("mx: ")]
    assert titles == [
        "mx: 3 standard calls (ran on alpha 1, beta 2, billed in USD), priced at standard at "
        "every provider selling it, 2026-10-01 to 2026-10-31 (UTC)",
        "mx: 1 highspeed call (ran on alpha 1, billed in USD), priced at highspeed at every "
        "provider selling it, 2026-10-01 to 2026-10-31 (UTC)",
        "mx: 1 highspeed call (ran on alpha 1, billed in USD), priced at standard (what if they "
        "moved) at every provider selling it, 2026-10-01 to 2026-10-31 (UTC)",
    ]
    rows = [
        cells(x) for x in lines if x.startswith("│") and cells(x)[0].split()[0] in ("alpha", "beta")
    ]
    # provider, currency, ran here, calls priced, no price, where they ran, here, difference, %
    assert rows == [
        # 3.2 - 2.2 = 1.0, 1.0 / 2.2 = +45.5 %; 1.1 / 2.2 = +50.0 %
        ["alpha (cheapest)", "USD", "1", "3", "0", "2.20", "3.20", "1.00", "+45.5%"],
        ["beta", "USD", "2", "3", "0", "2.20", "3.30", "1.10", "+50.0%"],
        # -1.0 / 6.0 = -16.7 %
        ["alpha", "USD", "1", "1", "0", "6.00", "6.00", "0.00", "+0.0%"],
        ["beta (cheapest)", "USD", "—", "1", "0", "6.00", "5.00", "-1.00", "-16.7%"],
        # -4.0 / 6.0 = -66.7 %; -2.5 / 6.0 = -41.7 %
        ["alpha (cheapest)", "USD", "1", "1", "0", "6.00", "2.00", "-4.00", "-66.7%"],
        ["beta", "USD", "—", "1", "0", "6.00", "3.50", "-2.50", "-41.7%"],
    ]
    code, output = run("compare", "--model", "solo-model", "--db", db, "--out", str(out))
    assert code == 0, output
    assert "cheapest" not in output.replace("none is cheapest", "")
    assert quotes_csv(out)[("standard", "standard", "alpha")]["cheapest"] == "false"


# The highspeed-only warehouse: runapi's MiniMax-M2.7 (tests/data/price_sheets), the only
# seller of minimax-m2.7, at 0.020/1K on highspeed and 0.010/1K on standard.
# h1 Nov 1: 2,000,000 in + 92,430 out = 2,092,430 tokens x 0.00002 = 41.8486
# h2 2,000,000 in                                     = 40.0
# h3 1,000,000 in + 1,000,000 out                     = 40.0
# h4 a 500: failed, free
# 4 calls, 6,092,430 tokens: 121.8486 on highspeed, 60.9243 on standard.
HIGHSPEED = D("121.8486")
AT_STANDARD = D("60.9243")


@pytest.fixture
def highspeed_only(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> str:
    load_prices(con, [TEST_SHEETS])
    model = "MiniMax-M2.7-highspeed"
    ingest_records(
        con,
        tmp_path,
        [
            chat(
                provider="runapi",
                model=model,
                prompt=2_000_000,
                completion=92_430,
                ts="2026-11-01T10:00:00Z",
                call_id="h1",
            ),
            chat(
                provider="runapi",
                model=model,
                prompt=2_000_000,
                completion=0,
                ts="2026-11-03T10:00:00Z",
                call_id="h2",
            ),
            chat(
                provider="runapi",
                model=model,
                prompt=1_000_000,
                completion=1_000_000,
                ts="2026-11-04T10:00:00Z",
                call_id="h3",
            ),
            error(500, provider="runapi", model=model, ts="2026-11-05T10:00:00Z"),
        ],
    )
    path = file_of(con)
    con.close()
    return path


def test_highspeed_only_traffic_on_the_command_line(highspeed_only: str, tmp_path: Path) -> None:
    out = tmp_path / "quotes.csv"
    code, output = run(
        "compare", "--model", "minimax-m2.7", "--db", highspeed_only, "--out", str(out)
    )
    assert code == 0, output
    written = quotes_csv(out)
    assert list(written) == [
        ("highspeed", "highspeed", "runapi"),
        ("highspeed", "standard", "runapi"),
    ]
    assert [
        (
            r["calls"],
            r["ran_here_calls"],
            r["actual_cost"],
            r["repriced_cost"],
            r["difference"],
            r["cheapest"],
        )
        for r in written.values()
    ] == [
        ("4", "4", "121.8486", "121.8486", "0", "false"),
        # 60.9243 - 121.8486
        ("4", "4", "121.8486", "60.9243", "-60.9243", "false"),
    ]
    rows = [cells(x) for x in output.splitlines() if x.startswith("│ runapi")]
    assert rows == [
        ["runapi", "USD", "4", "4", "0", "121.85", "121.85", "0.00", "+0.0%"],
        # printed 60.92 - 121.85 = -60.93: the row adds up as printed (exactly -60.9243)
        ["runapi", "USD", "4", "4", "0", "121.85", "60.92", "-60.93", "-50.0%"],
    ]


def page(db: str, monkeypatch: pytest.MonkeyPatch, name: str) -> AppTest:
    monkeypatch.setenv("RATECARD_DB", db)
    test = AppTest.from_file(APP, default_timeout=60)
    test.run()
    test.switch_page(f"views/{name}.py")
    test.run()
    assert not test.exception, [e.value for e in test.exception]
    return test


def metrics(test: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.proto.help) for m in test.metric}


def records(test: AppTest, index: int) -> list[dict[str, str]]:
    frame = test.dataframe[index].value
    return [{str(k): str(v) for k, v in r.items()} for r in frame.to_dict("records")]


def test_compare_page_shows_highspeed_only_traffic(
    highspeed_only: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    test = page(highspeed_only, monkeypatch, "compare")
    assert test.selectbox(key="compare_model").value == "minimax-m2.7"
    shown = metrics(test)
    # the whole spend, as Overview shows it for these calls (all of them are this model)
    assert shown["Spend on minimax-m2.7"] == (
        "$121.85",
        "Exact: 121.8486 USD. What these calls cost where they ran: the same calls and "
        "amount as Overview and Teams show for this model in this selection.",
    )
    assert shown["Calls"][0] == "4"
    assert records(test, 0) == [
        {"Variant": "highspeed", "Ran on": "runapi", "Calls": "4", "Spend": "$121.85"},
        {"Variant": "total", "Ran on": "", "Calls": "4", "Spend": "$121.85"},
    ]
    assert [s.value for s in test.subheader] == [
        "Highspeed traffic: 4 calls, $121.85 where they ran"
    ]
    columns = list(comparison.QUOTE_TABLE_COLUMNS)
    assert records(test, 1) == [
        dict(
            zip(
                columns,
                ["runapi", "4", "4", "0", "$121.85", "$121.85", "$0.00", "+0.0%"],
                strict=True,
            )
        )
    ]
    # the what-if beside it: at runapi's standard rate, half; one seller, so no "(cheapest)"
    assert records(test, 2) == [
        dict(
            zip(
                columns,
                ["runapi", "4", "4", "0", "$121.85", "$60.92", "-$60.93", "-50.0%"],
                strict=True,
            )
        )
    ]
    overview = page(highspeed_only, monkeypatch, "overview")
    assert metrics(overview)["Spend in period"][0] == shown["Spend on minimax-m2.7"][0]


def test_variants_page_what_if_adds_up_as_shown(
    highspeed_only: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    test = page(highspeed_only, monkeypatch, "variants")
    assert records(test, 0) == [
        {
            "Model": "minimax-m2.7",
            "Variant": "highspeed",
            "Provider": "runapi",
            "Calls": "4",
            "Failed calls (free)": "1",
            "Spend": "$121.85",
        },
        {
            "Model": "total",
            "Variant": "",
            "Provider": "",
            "Calls": "4",
            "Failed calls (free)": "1",
            "Spend": "$121.85",
        },
    ]
    # half moved: 121.8486 / 2 = 60.9243 stays and 60.9243 moves, each printed 60.92, so a
    # residue of 0.01 reaches the printed 121.85; after: 60.9243 + 60.9243 / 2 = 91.38645,
    # printed 91.39 = 60.92 + 30.46 (30.46215) + 0.01; saving 121.85 - 91.39 = 30.46
    shown = metrics(test)
    assert shown["Highspeed spend now"][0] == "$121.85"
    assert shown["After moving 50% to standard"][0] == "$91.39"
    assert shown["Saving"] == (
        "$30.46",
        "Spend now minus after the move, as shown. Exact: 30.46215 USD.",
    )
    assert records(test, 1) == [
        {"Traffic": "stays on highspeed (50%)", "Now": "$60.92", "After the move": "$60.92"},
        {"Traffic": "moves to standard (50%)", "Now": "$60.92", "After the move": "$30.46"},
        {"Traffic": "rounding residue", "Now": "$0.01", "After the move": "$0.01"},
        {"Traffic": "total", "Now": "$121.85", "After the move": "$91.39"},
    ]
    # all of it moved: 60.9243 after, printed 60.92; the saving printed 121.85 - 60.92 =
    # 60.93, not the 60.92 the exact 60.9243 rounds to, so that now = after + saving as shown
    test.slider(key="variants_share").set_value(100).run()
    shown = metrics(test)
    assert (shown["Highspeed spend now"][0], shown["After moving 100% to standard"][0]) == (
        "$121.85",
        "$60.92",
    )
    assert shown["Saving"][0] == "$60.93"
    assert records(test, 1) == [
        {"Traffic": "stays on highspeed (0%)", "Now": "$0.00", "After the move": "$0.00"},
        {"Traffic": "moves to standard (100%)", "Now": "$121.85", "After the move": "$60.92"},
        {"Traffic": "total", "Now": "$121.85", "After the move": "$60.92"},
    ]


def test_compare_page_shows_every_variant_of_the_selection(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    october(con, tmp_path)
    db = file_of(con)
    con.close()
    test = page(db, monkeypatch, "compare")
    assert test.selectbox(key="compare_model").value == "mx"
    # 8.2 of the 9.2 Overview shows: all but c4, which is solo-model
    assert metrics(test)["Spend on mx"][0] == "$8.20"
    assert metrics(test)["Calls"][0] == "4"
    assert [r["Spend"] for r in records(test, 0)] == ["$1.20", "$1.00", "$6.00", "$8.20"]
    assert [s.value for s in test.subheader] == [
        "Standard traffic: 3 calls, $2.20 where they ran",
        "Highspeed traffic: 1 call, $6.00 where they ran",
    ]
    tables = [
        [
            (
                r["Provider"],
                r["Ran here"],
                r["Cost where they ran"],
                r["Cost here"],
                r["Difference"],
            )
            for r in records(test, i)
        ]
        for i in (1, 2, 3)
    ]
    assert tables == [
        [
            ("alpha (cheapest)", "1", "$2.20", "$3.20", "$1.00"),
            ("beta", "2", "$2.20", "$3.30", "$1.10"),
        ],
        [
            ("alpha", "1", "$6.00", "$6.00", "$0.00"),
            ("beta (cheapest)", "—", "$6.00", "$5.00", "-$1.00"),
        ],
        [
            ("alpha (cheapest)", "1", "$6.00", "$2.00", "-$4.00"),
            ("beta", "—", "$6.00", "$3.50", "-$2.50"),
        ],
    ]
    # the team that ran only highspeed: its spend, and no standard section made up
    test.multiselect(key="teams").set_value(["fast"]).run()
    assert metrics(test)["Spend on mx"][0] == "$6.00"
    assert [s.value for s in test.subheader] == ["Highspeed traffic: 1 call, $6.00 where they ran"]
    test.multiselect(key="teams").set_value([]).run()
    test.selectbox(key="compare_model").set_value("solo-model").run()
    assert [r["Provider"] for r in records(test, 1)] == ["alpha"]  # one seller: not cheapest
    overview = page(db, monkeypatch, "overview")
    assert metrics(overview)["Spend in period"][0] == "$9.20"


# Two wire ids for one canonical model and variant at one provider.
def dup_sheet(first: str = "", second: str = "2026-01-01") -> str:
    """Provider dup selling minimax-m3 as M3 (until ``first`` if given) and as m3-latest
    (from ``second``), both at 1 per 1M tokens."""
    until = f", effective_to: {first}" if first else ""
    return (
        "provider: dup\nname: Dup\nsource: tests\nchecked_on: 2026-11-01\nmodels:\n"
        "  - {id: M3, canonical: minimax-m3, unit: 1M,"
        f" prices: [{{effective_from: 2026-01-01{until}, input: 1, output: 1}}]}}\n"
        "  - {id: m3-latest, canonical: minimax-m3, unit: 1M,"
        f" prices: [{{effective_from: {second}, input: 1, output: 1}}]}}\n"
    )


TWO_IDS_YAML = dup_sheet()
TWO_IDS_CSV = """\
provider,model,canonical_model,variant,unit,currency,effective_from,input,output
dup,M3,minimax-m3,standard,1M,USD,2026-01-01,1,1
dup,m3-latest,minimax-m3,standard,1M,USD,2026-01-01,1,1
"""


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("dup.yml", TWO_IDS_YAML, "models[1].prices[0]: canonical_model"),
        ("dup.csv", TWO_IDS_CSV, "line 3: canonical_model"),
    ],
)
def test_a_sheet_with_two_ids_for_one_model_is_refused(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    sheet = tmp_path / name
    sheet.write_text(text, encoding="utf-8")
    code, output = run("ingest", "prices", str(sheet), "--db", str(tmp_path / "w.duckdb"))
    assert code == 2
    assert f"{sheet}: {where}: dup already sells minimax-m3 standard as M3" in output
    assert "list m3-latest in the aliases of M3 if it is the same model" in output
    assert "(value: 'minimax-m3')" in output


def test_two_ids_at_different_times_are_a_rename(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sheet = tmp_path / "renamed.yml"
    sheet.write_text(dup_sheet(first="2026-06-01", second="2026-06-01"), encoding="utf-8")
    assert load_prices(con, [sheet]).points == 2
    # 1,000 tokens as M3 in May, 2,000 as m3-latest in July, at 1 per 1M: each call once
    ingest_records(
        con,
        tmp_path,
        [
            chat(provider="dup", model="M3", prompt=1_000, completion=0, ts="2026-05-04T10:00:00Z"),
            chat(
                provider="dup",
                model="m3-latest",
                prompt=2_000,
                completion=0,
                ts="2026-07-04T10:00:00Z",
            ),
        ],
    )
    ((quote,),) = [c.quotes for c in compare(con, "minimax-m3", Period())]
    assert (quote.calls, quote.actual_cost, quote.repriced_cost) == (2, D("0.003"), D("0.003"))


def three_calls(model: str = "M3") -> list[dict[str, object]]:
    # 1,000 input tokens each at 1 per 1M: 0.001 a call, 0.003 together
    return [
        chat(
            provider="dup",
            model=model,
            prompt=1_000,
            completion=0,
            ts=f"2026-10-0{day}T10:00:00Z",
            call_id=f"d{day}",
        )
        for day in (1, 2, 3)
    ]


def test_prices_with_two_ids_loaded_before_the_rule_are_refused_by_compare(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = tmp_path / "dup.yml"
    sheet.write_text(TWO_IDS_YAML, encoding="utf-8")
    with monkeypatch.context() as old:  # as an older ratecard loaded it
        old.setattr(price_loading, "check_points", lambda points: None)
        load_prices(con, [sheet])
    ingest_records(con, tmp_path, three_calls())
    with pytest.raises(
        RatecardError,
        match=r"dup prices minimax-m3 standard under more than one id \(M3, m3-latest\)",
    ):
        compare(con, "minimax-m3", Period())
    db = file_of(con)
    con.close()
    code, output = run("compare", "--model", "minimax-m3", "--db", db)
    assert code == 2 and "list the other ids as aliases" in output, output
    test = page(db, monkeypatch, "compare")
    assert next(e.value for e in test.error).startswith("dup prices minimax-m3 standard")
    assert not test.dataframe


def test_aliases_price_a_second_id_once(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    sheet = tmp_path / "dup.yml"
    sheet.write_text(
        "provider: dup\nname: Dup\nsource: tests\nchecked_on: 2026-11-01\nmodels:\n"
        "  - {id: M3, canonical: minimax-m3, aliases: [m3-latest], unit: 1M,"
        " prices: [{effective_from: 2026-01-01, input: 1, output: 1}]}\n",
        encoding="utf-8",
    )
    load_prices(con, [sheet])
    ingest_records(con, tmp_path, [*three_calls()[:2], *three_calls("m3-latest")[2:]])
    ((quote,),) = [c.quotes for c in compare(con, "minimax-m3", Period())]
    assert (quote.calls, quote.actual_cost, quote.repriced_cost) == (3, D("0.003"), D("0.003"))


def test_a_catalog_with_two_ids_for_one_model_keeps_one_price(tmp_path: Path) -> None:
    def entry(price: str) -> dict[str, object]:
        return {
            "litellm_provider": "gw",
            "input_cost_per_token": Decimal(price),
            "output_cost_per_token": Decimal(price),
        }

    text = json.dumps(
        {
            "gw/MiniMax-M3": entry("1e-06"),
            # the same model, in lower case, at the same price: an alias of the first
            "gw/minimax-m3": entry("1e-06"),
            # the same canonical model in a region, at another price: left out, and said
            "gw/eu/minimax-m3": entry("2e-06"),
        },
        default=str,
    )
    result = read_catalog(
        Catalog.LITELLM,
        "litellm.json",
        text=text.replace('"1e-06"', "1e-06").replace('"2e-06"', "2e-06"),
    )
    assert [(p.model, p.aliases, p.input_rate) for p in result.points] == [
        ("MiniMax-M3", ("gw/MiniMax-M3", "gw/minimax-m3", "minimax-m3"), D("1.000000")),
    ]
    assert result.skipped == [
        (
            "gw/eu/minimax-m3",
            "gw already sells minimax-m3 standard as MiniMax-M3 (gw/MiniMax-M3) at other "
            "prices; to compare this one, give it a variant of its own in a price sheet",
        )
    ]
    db = connect(blank_warehouse(tmp_path / "w.duckdb"))
    price_loading.load_points(db, result.points)
    db.close()


@pytest.mark.browser
def test_compare_and_variants_in_chromium(highspeed_only: str, tmp_path: Path) -> None:
    """The highspeed-only warehouse in the real browser: the figures the AppTest tests read
    are drawn (metrics and headings are text; tables are drawn on a canvas, so they are
    checked in the screenshots test-artifacts/screenshots/compare-*.png)."""
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, free_port

    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            APP,
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        env={**os.environ, "RATECARD_DB": highspeed_only},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_served(url, server, tmp_path / "server.log")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            shown = {}
            for name in ("compare", "variants"):
                tab = browser.new_page(viewport={"width": 1400, "height": 2200})
                tab.goto(f"{url}/{name}")
                # drawn: the chart is there and the script has finished (a first run on a
                # busy machine imports pandas and Altair, hence the generous bound)
                tab.wait_for_selector(
                    '[data-testid="stVegaLiteChart"] svg.marks', timeout=120_000, state="attached"
                )
                tab.wait_for_function(
                    "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
                )
                SHOTS.mkdir(parents=True, exist_ok=True)
                tab.screenshot(path=str(SHOTS / f"compare-highspeed-only-{name}.png"))
                assert tab.locator('[data-testid="stException"]').count() == 0
                values = tab.locator('[data-testid="stMetricValue"]').all_inner_texts()
                labels = tab.locator('[data-testid="stMetricLabel"]').all_inner_texts()
                shown[name] = (dict(zip(labels, values, strict=True)), tab.inner_text("body"))
                tab.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
    compare_metrics, compare_text = shown["compare"]
    assert compare_metrics == {"Spend on minimax-m2.7": "$121.85", "Calls": "4"}
    assert "Highspeed traffic: 4 calls, $121.85 where they ran" in compare_text
    assert "At the standard variant, if it moved there" in compare_text
    variants_metrics, _ = shown["variants"]
    assert variants_metrics == {
        "Highspeed spend now": "$121.85",
        "After moving 50% to standard": "$91.39",
        "Saving": "$30.46",
    }
