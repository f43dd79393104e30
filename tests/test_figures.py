"""The dashboard's plain functions: comparison logic, figure builders and the table
formatter, without Streamlit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from conftest import D
from dashboards.comparison import variant_move
from dashboards.figures import (
    burn_down,
    by_currency,
    comparison,
    csv_bytes,
    money,
    number_format,
    short_sources,
    spend_over_time,
    table,
)
from pricing.reprice import Repriced
from reports.budgets import Budget, BudgetStatus, current_period
from reports.compare import Comparison, Quote, RanOn, quotes


def row(actual: str, target: str, calls: int, priced: int, cost: str, repriced: str) -> Repriced:
    return Repriced(
        actual, target, "USD", calls, priced, D(cost), D(cost), D(repriced), actual_currency="USD"
    )


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
    assert money(D("2.345"), "USD") == "$2.35"
    assert money(D("-26.525"), "USD") == "-$26.53"
    assert money(D("1234.5"), "EUR") == "1,234.50 EUR"
    assert money(None, "USD") == "—"


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


def wall(year: int, month: int, day: int, hour: int = 0, *rest: int) -> datetime:
    """A wall-clock time as the budget charts draw it (Plotly has no zones)."""
    minute, second, micro = (*rest, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC).replace(tzinfo=None)


def status(period: str, as_of: datetime, zone: str = "UTC", **numbers: Any) -> BudgetStatus:
    """A budget's status as check_budget would give it, with the given spend per local day or
    per (local day, UTC hour)."""
    budget = Budget(name="b", period=period, amount=D("6"), timezone=zone)
    local = ZoneInfo(zone)
    return BudgetStatus(
        budget,
        current_period(budget, as_of),
        as_of,
        numbers.get("spend", D("5")),
        numbers.get("forecast", D("9")),
        0,
        numbers.get("daily", {}),
        as_of.astimezone(local).date(),
        None,
        numbers.get("hourly", {}),
    )


def test_a_daily_budget_is_drawn_by_the_hour_over_its_whole_day() -> None:
    as_of = datetime(2026, 11, 18, 15, 0, 0, 1, tzinfo=UTC)
    hourly = {
        (date(2026, 11, 18), datetime(2026, 11, 18, 9, tzinfo=UTC)): D("1.5"),
        (date(2026, 11, 18), datetime(2026, 11, 18, 15, tzinfo=UTC)): D("2"),
    }
    figure = burn_down(status("daily", as_of, spend=D("3.5"), forecast=D("4.25"), hourly=hourly))
    spend, forecast, amount = figure.data
    # a point at every hour from midnight to the instant judged at, then that instant
    assert list(spend.x)[:2] == [wall(2026, 11, 18, 0), wall(2026, 11, 18, 1)]
    assert len(spend.x) == 17 and spend.x[-1] == wall(2026, 11, 18, 15, 0, 0, 1)
    assert list(spend.y)[9:11] == [0.0, 1.5]  # nothing before 09:00, 1.5 by 10:00
    assert spend.y[-1] == 3.5 and [c[0] for c in spend.customdata][-1] == "3.5"
    # the forecast from then to the end of the day, and the amount across the whole day
    assert list(forecast.x) == [wall(2026, 11, 18, 15, 0, 0, 1), wall(2026, 11, 19)]
    assert list(forecast.y) == [3.5, 4.25]
    assert list(amount.y) == [6.0, 6.0]
    axis = figure.layout.xaxis
    assert tuple(axis.range) == (wall(2026, 11, 18), wall(2026, 11, 19))
    assert axis.tickformat == "%H:%M" and axis.dtick == 3 * 3_600_000  # hours, never 23:59:59.5
    assert figure.layout.yaxis.range == (
        0,
        pytest.approx(6.6),
    )  # above the amount, the highest of the three
    assert "daily, 2026-11-18 (UTC)" in figure.layout.title.text


def test_a_weekly_budget_spans_its_week_in_its_zone_with_the_forecast_inside() -> None:
    # Wednesday Nov 18, 16:00 in Paris (15:00 UTC); the week runs Mon Nov 16 - Sun Nov 22
    as_of = datetime(2026, 11, 18, 15, tzinfo=UTC)
    daily = {date(2026, 11, 16): D("1"), date(2026, 11, 17): D("2"), date(2026, 11, 18): D("4")}
    figure = burn_down(
        status("weekly", as_of, "Europe/Paris", spend=D("7"), forecast=D("12"), daily=daily)
    )
    spend, forecast, _ = figure.data
    # midnights in Paris: 0 at the week's start, 1 by Tuesday, 3 by Wednesday, then 7 now
    assert list(spend.x) == [
        wall(2026, 11, 16),
        wall(2026, 11, 17),
        wall(2026, 11, 18),
        wall(2026, 11, 18, 16),
    ]
    assert list(spend.y) == [0.0, 1.0, 3.0, 7.0]
    start, end = figure.layout.xaxis.range
    assert (start, end) == (wall(2026, 11, 16), wall(2026, 11, 23))
    assert all(start <= x <= end for x in forecast.x)
    assert forecast.x[-1] == end
    assert figure.layout.yaxis.range[1] >= 12 > 6  # the forecast, above the amount, is shown
    assert figure.layout.xaxis.dtick == 86_400_000


def test_a_monthly_budget_spans_its_month() -> None:
    as_of = datetime(2026, 2, 10, 12, tzinfo=UTC)
    figure = burn_down(status("monthly", as_of, daily={date(2026, 2, 3): D("2")}, spend=D("2")))
    spend, forecast, _ = figure.data
    assert tuple(figure.layout.xaxis.range) == (wall(2026, 2, 1), wall(2026, 3, 1))
    assert len(spend.x) == 11  # Feb 1, the midnights of Feb 2-10, and the instant
    assert spend.y[3] == 2.0 and spend.y[2] == 0.0  # by Feb 4 00:00, not yet by Feb 3
    assert forecast.x[-1] == wall(2026, 3, 1)


def test_tables_label_columns_and_round_money_to_the_cent() -> None:
    frame = pd.DataFrame(
        {
            "team": ["platform", "=x"],
            "api_key_id": ["key_1", "key_2"],
            "calls": [81_752_163, 2],
            "cost": [D("231.9"), D("0.005")],
        }
    )
    shown = table(frame, ["team", "api_key_id", "calls", "cost"], "EUR")
    assert list(shown.frame.columns) == ["Team", "API key", "Calls", "Cost"]
    # half-up to the cent, as every report rounds; kept a number so that sorting works
    assert list(shown.frame["Cost"]) == [D("231.90"), D("0.01")]
    assert list(shown.frame["Calls"]) == [81_752_163, 2]
    assert {label: number_format(c.kind, shown.currency) for label, c in shown.columns.items()} == {
        "Team": None,
        "API key": None,
        "Calls": "%,d",
        "Cost": "%,.2f EUR",
    }
    assert number_format("money", "USD") == "$%,.2f"


def test_csv_downloads_are_exact_and_never_run_as_formulas() -> None:
    frame = pd.DataFrame(
        {"team": ['=HYPERLINK("x")', "+1", "plain"], "cost": [D("0E-15"), D("1.234567"), D("2")]}
    )
    text = csv_bytes(frame).decode()
    assert text.endswith("\r\n")
    lines = text.splitlines()
    assert lines == ["team,cost", '"\'=HYPERLINK(""x"")",0', "'+1,1.234567", "plain,2"]


def test_sources_are_shown_under_the_folder_they_share() -> None:
    shown = short_sources(
        [
            "/data/logs/2026-10/usage.jsonl",
            "/data/logs/2026-11/usage.jsonl",
            "/data/sheets/a.yml, /data/sheets/b.yml",
            "https://gateway.example/v1/usage",
        ]
    )
    assert shown.folder == "/data"
    assert shown.names == [
        "logs/2026-10/usage.jsonl",
        "logs/2026-11/usage.jsonl",
        "sheets/a.yml, sheets/b.yml",
        "https://gateway.example/v1/usage",
    ]
    one = short_sources(["/data/logs/usage.jsonl"])
    assert (one.folder, one.names) == ("/data/logs", ["usage.jsonl"])
    apart = short_sources(["/tmp/x.jsonl", "/srv/y.yml"])
    assert (apart.folder, apart.names) == (None, ["/tmp/x.jsonl", "/srv/y.yml"])


def test_spend_over_time_spans_the_period_in_days_and_never_goes_below_zero() -> None:
    failed_only = pd.DataFrame(
        {"day": [date(2026, 11, 3)], "series": ["reapi"], "calls": [2], "cost": [D("0")]}
    )
    figure = spend_over_time(failed_only, "USD", (date(2026, 11, 1), date(2026, 11, 30)))
    assert tuple(figure.layout.xaxis.range) == (wall(2026, 10, 31, 12), wall(2026, 11, 30, 12))
    assert figure.layout.xaxis.tickformat == "%b %-d"  # days, not the hours of a short span
    assert tuple(figure.layout.yaxis.range) == (0, 1)  # all zero: an axis from 0, not -1..1
    week = spend_over_time(failed_only, "USD", (date(2026, 11, 2), date(2026, 11, 8)))
    assert week.layout.xaxis.dtick == 86_400_000


def test_a_single_day_of_spend_is_drawn_as_a_days_bar() -> None:
    # alone on a date axis, a bar without a width is drawn a hairline wide
    one_day = pd.DataFrame(
        {
            "day": [date(2026, 11, 3)] * 2,
            "series": ["reapi", "runapi"],
            "calls": [1, 2],
            "cost": [D("0.5"), D("1.25")],
        }
    )
    figure = spend_over_time(one_day, "USD", (date(2026, 11, 3), date(2026, 11, 3)))
    assert [bar.width for bar in figure.data] == [0.8 * 86_400_000] * 2


def test_a_variant_move_never_saves_across_two_currencies() -> None:
    # runapi's highspeed calls billed in EUR, its standard price in USD: no saving to show
    rows = [
        Repriced(
            "runapi", "runapi", "USD", 4, 4, D("4.0"), D("4.0"), D("2.0"), actual_currency="EUR"
        )
    ]
    assert variant_move(rows, "runapi", Decimal(1), "EUR") is None
    same = [replace(rows[0], currency="EUR")]
    move = variant_move(same, "runapi", Decimal(1), "EUR")
    assert move is not None and move.saving == D("2.0")
    assert variant_move(same, "runapi", Decimal(1), "USD") is None  # no calls billed in USD


def test_rows_by_currency_keep_each_currency_apart() -> None:
    frame = pd.DataFrame(
        {"team": ["a", "a", "b", "c"], "currency": ["USD", "EUR", "USD", None]},
    )
    parts = by_currency(frame, ["EUR", "USD"])
    assert [(code, list(rows["team"])) for code, rows in parts] == [
        ("EUR", ["a"]),
        ("USD", ["a", "b"]),
        (None, ["c"]),  # only unpriced calls: no currency of its own
    ]
    (only,) = by_currency(frame[frame["currency"] != "EUR"], ["USD"])
    assert only[0] == "USD" and list(only[1]["team"]) == ["a", "b", "c"]


def test_every_figure_wears_the_white_template_without_naming_it() -> None:
    """The figures take plotly_white as plotly's default template (dashboards/figures.py,
    ADR 0074): the JSON the browser gets holds the same template as a figure that names it
    in its layout, and not plotly's own default look."""
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    named = go.Figure(layout={"template": pio.templates["plotly_white"]})
    white = json.loads(named.to_json())["layout"]["template"]
    plain_look = json.loads(go.Figure(layout={"template": pio.templates["plotly"]}).to_json())
    assert white != plain_look["layout"]["template"]
    rows = pd.DataFrame(
        {"day": [date(2026, 11, 2)], "series": ["reapi"], "calls": [3], "cost": [D("1.5")]}
    )
    figure = spend_over_time(rows, "USD", (date(2026, 11, 1), date(2026, 11, 30)))
    assert json.loads(figure.to_json())["layout"]["template"] == white
