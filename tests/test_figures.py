"""The dashboard's plain functions: comparison logic and figure builders, without Streamlit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from conftest import D
from dashboards.comparison import variant_move
from dashboards.figures import comparison, money, spend_over_time
from pricing.reprice import Repriced
from reports.compare import Comparison, Quote, RanOn, quotes


def row(actual: str, target: str, calls: int, priced: int, cost: str, repriced: str) -> Repriced:
    return Repriced(actual, target, "USD", calls, priced, D(cost), D(cost), D(repriced))


def test_quotes_sum_over_where_calls_ran_and_rank_only_complete_ones() -> None:
    rows = [
        row("runapi", "reapi", 2, 2, "1.0", "0.10"),
        row("reapi", "reapi", 1, 1, "0.5", "0.05"),
        row("runapi", "late", 2, 1, "1.0", "0.01"),  # late prices only one of the calls
        row("reapi", "runapi", 1, 1, "0.5", "2.00"),
    ]
    by_provider = {q.provider: q for q in quotes(rows)}
    reapi = by_provider["reapi"]
    assert (reapi.calls, reapi.actual_cost, reapi.repriced_cost) == (3, D("1.5"), D("0.15"))
    assert (reapi.ran_here_calls, reapi.ran_here_cost) == (1, D("0.5"))
    assert reapi.difference == D("-1.35")
    assert reapi.difference_percent == D("-90")
    assert reapi.cheapest
    # the cheapest sum, but it leaves a call out: never ranked
    assert by_provider["late"].unpriced_calls == 1 and not by_provider["late"].cheapest
    assert not by_provider["runapi"].cheapest


def test_variant_move_is_a_share_of_the_same_provider() -> None:
    rows = [row("runapi", "runapi", 4, 4, "4.0", "2.0"), row("other", "runapi", 1, 1, "9", "9")]
    move = variant_move(rows, "runapi", Decimal("0.25"))
    assert move is not None
    # a quarter of 4.0 moves (1.00) and costs 0.50 after: 3.00 + 0.50 = 3.50
    assert (move.moved_cost_now, move.moved_cost_after, move.cost_after, move.saving) == (
        D("1.00"),
        D("0.50"),
        D("3.50"),
        D("0.50"),
    )
    assert variant_move(rows, "vtrix", Decimal(1)) is None


def test_money_rounds_half_up_and_keeps_the_sign_outside() -> None:
    assert money(D("2.345")) == "$2.35"
    assert money(D("-26.525")) == "-$26.53"
    assert money(D("1234.5"), "EUR") == "1,234.50 EUR"
    assert money(None) == "—"


def test_spend_over_time_hover_shows_exact_amounts() -> None:
    daily = pd.DataFrame(
        {
            "day": [date(2026, 10, 1), date(2026, 10, 1), date(2026, 10, 2)],
            "series": ["reapi", "runapi", "reapi"],
            "calls": [3, 1, 2],
            "cost": [D("0.000300000000000"), D("1.5"), D("0.0042")],
        }
    )
    figure = spend_over_time(daily)
    traces = {trace.name: trace for trace in figure.data}
    assert set(traces) == {"reapi", "runapi"}
    assert [c[0] for c in traces["reapi"].customdata] == ["0.0003", "0.0042"]
    assert figure.layout.barmode == "stack"


def test_comparison_groups_a_variant_and_its_what_if() -> None:
    own = Comparison(
        "mx",
        "highspeed",
        "highspeed",
        (RanOn("reapi", 3, D("1.5")),),
        (
            Quote("reapi", "USD", 3, 0, D("1.5"), D("1.5"), 3, D("1.5")),
            Quote("runapi", "USD", 3, 0, D("1.5"), D("2.6"), cheapest=False),
        ),
    )
    what_if = Comparison(
        "mx",
        "highspeed",
        "standard",
        own.ran_on,
        (Quote("runapi", "USD", 3, 1, D("1.0"), D("0.4"), cheapest=False),),
    )
    figure = comparison([own, what_if])
    bars = {bar.name: bar for bar in figure.data}
    assert list(bars) == ["at highspeed", "at standard (what if)"]
    assert list(bars["at highspeed"].x) == ["reapi", "runapi"]
    # reapi sells no standard: no bar; runapi prices 2 of 3 calls: hatched
    assert list(bars["at standard (what if)"].y) == [None, 0.4]
    assert list(bars["at standard (what if)"].marker.pattern.shape) == ["", "/"]
    assert figure.layout.shapes[0].y0 == 1.5  # what the calls cost where they ran
