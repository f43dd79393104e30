"""The dashboard's plain functions: comparison logic, figure builders and the table
formatter, without Streamlit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from conftest import D
from dashboards.comparison import variant_move
from dashboards.figures import (
    Chart,
    bars,
    burn_down,
    by_currency,
    comparison,
    counts,
    csv_bytes,
    ingest_outcomes,
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


def spec(chart: Chart) -> dict[str, Any]:
    """The chart as Streamlit sends it to the browser: Vega-Lite JSON, checked by Altair
    against Vega-Lite's schema on the way."""
    result: dict[str, Any] = json.loads(json.dumps(chart.to_dict()))
    return result


def rows(chart: Chart) -> list[dict[str, Any]]:
    """The rows the chart draws (those of its top level, which its layers share)."""
    whole = spec(chart)
    return list(whole["datasets"][whole["data"]["name"]])


def layers(chart: Chart) -> list[dict[str, Any]]:
    whole = spec(chart)
    return list(whole.get("layer", [whole]))


def test_spend_over_time_hover_shows_exact_amounts() -> None:
    daily = pd.DataFrame(
        {
            "day": [date(2026, 10, 1), date(2026, 10, 1), date(2026, 10, 2)],
            "series": ["reapi", "runapi", "reapi"],
            "calls": [3, 1, 2],
            "cost": [D("0.000300000000000"), D("1.5"), D("0.0042")],
        }
    )
    chart = spend_over_time(daily)
    drawn = rows(chart)
    assert {r["series"] for r in drawn} == {"reapi", "runapi"}
    reapi = [r for r in drawn if r["series"] == "reapi"]
    assert [r["amount"] for r in reapi] == ["0.0003 USD", "0.0042 USD"]  # exact, never 3e-4
    assert [r["height"] for r in reapi] == [0.0003, 0.0042]
    assert [r["day"] for r in reapi] == ["2026-10-01", "2026-10-02"]
    encoding = spec(chart)["encoding"]
    assert encoding["y"]["stack"] == "zero"
    assert {t["field"] for t in encoding["tooltip"]} == {"day", "series", "amount", "calls"}
    # no period: the days that have spend, and the axis a tenth above the highest day (1.5003)
    assert encoding["x"]["scale"]["domain"] == ["2026-10-01", "2026-10-02"]
    assert encoding["y"]["scale"]["domain"] == [0, pytest.approx(1.65033)]


def test_comparison_groups_a_variant_and_its_what_if() -> None:
    own = Comparison(
        "mx",
        "highspeed",
        "highspeed",
        (RanOn("reapi", 3, D("1.5")),),
        (
            Quote("reapi", "USD", 3, 0, D("1.5"), D("1.5"), 3, D("1.5"), cheapest=True),
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
    chart = comparison([own, what_if])
    bars_layer, labels, rule, note = layers(chart)
    assert labels["encoding"]["text"]["field"] == "label"
    assert bars_layer["encoding"]["x"]["scale"]["domain"] == ["reapi", "runapi"]
    assert bars_layer["encoding"]["xOffset"]["scale"]["domain"] == [
        "at highspeed",
        "at standard (what if)",
    ]
    drawn = {(r["provider"], r["series"]): r for r in rows(chart)}
    # reapi sells no standard: no bar; runapi prices 2 of 3 calls: a pale bar, not ranked
    assert set(drawn) == {
        ("reapi", "at highspeed"),
        ("runapi", "at highspeed"),
        ("runapi", "at standard (what if)"),
    }
    pale = drawn[("runapi", "at standard (what if)")]
    assert (pale["height"], pale["complete"], pale["unpriced"]) == (0.4, False, "1")
    assert drawn[("reapi", "at highspeed")]["label"] == "cheapest"
    assert drawn[("runapi", "at highspeed")]["amount"] == "2.6 USD"  # exact, as every tooltip
    # headroom above the highest bar (2.6), not the plot's edge
    assert bars_layer["encoding"]["y"]["scale"]["domain"] == [0, pytest.approx(2.86)]
    assert bars_layer["encoding"]["fillOpacity"]["condition"]["value"] == 1.0
    # what the calls cost where they ran: a dashed line at 1.5, labelled with the amount
    assert rule["mark"]["type"] == "rule" and note["mark"]["type"] == "text"
    assert spec(chart)["datasets"][rule["data"]["name"]] == [
        {"height": 1.5, "label": "where they ran $1.50"}
    ]


def test_horizontal_bars_keep_the_tables_order_and_exact_amounts() -> None:
    spend = pd.DataFrame(
        {"label": ['=HYPERLINK("x")', "search"], "cost": [D("7.000000001"), D("1.18")]}
    )
    chart = bars(spend, "label", "cost", "Spend by team")
    assert [(r["label"], r["height"], r["amount"]) for r in rows(chart)] == [
        ('=HYPERLINK("x")', 7.000000001, "7.000000001 USD"),
        ("search", 1.18, "1.18 USD"),
    ]
    whole = spec(chart)
    assert whole["encoding"]["y"]["sort"] is None  # the query's order, top first
    assert whole["encoding"]["x"]["scale"]["domain"] == [0, pytest.approx(7.7000000011)]
    # only failed calls: an axis from 0 to 1, not one tick in the middle of the plot
    zero = pd.DataFrame({"label": ["a", "b"], "cost": [D("0"), D("0")]})
    free = bars(zero, "label", "cost", "Spend by team")
    assert spec(free)["encoding"]["x"]["scale"]["domain"] == [0, 1]
    assert whole["height"] == 150 + 45 * 2
    reasons = pd.DataFrame({"reason": ["not valid JSON"], "records": [3]})
    counted = counts(reasons, "reason", "records", "Quarantined records by reason")
    assert rows(counted) == [{"label": "not valid JSON", "count": 3}]
    assert spec(counted)["encoding"]["tooltip"][1]["title"] == "Records"
    assert spec(counted)["encoding"]["x"]["axis"]["tickMinStep"] == 1  # no tick at 0.5 records


def test_ingest_outcomes_stack_every_record_of_each_source() -> None:
    runs = pd.DataFrame(
        {
            "source": ["/logs/a.jsonl", "/logs/b.jsonl"],
            "loaded": [7, 0],
            "duplicates": [1, 9],
            "quarantined": [2, 0],
        }
    )
    chart = ingest_outcomes(runs)
    drawn = [(r["source"], r["outcome"], r["records"]) for r in rows(chart)]
    assert drawn == [
        ("a.jsonl", "loaded", 7),
        ("a.jsonl", "duplicates", 1),
        ("a.jsonl", "quarantined", 2),
        ("b.jsonl", "loaded", 0),
        ("b.jsonl", "duplicates", 9),
        ("b.jsonl", "quarantined", 0),
    ]
    assert spec(chart)["encoding"]["y"]["sort"] == ["a.jsonl", "b.jsonl"]


def wall(year: int, month: int, day: int, hour: int = 0, *rest: int) -> float:
    """A wall-clock time as the budget charts draw it: its digits read as UTC, in ms."""
    minute, second, micro = (*rest, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC).timestamp() * 1000


def instant(moment: dict[str, Any]) -> float:
    """A Vega-Lite DateTime of the charts' UTC time scale, in ms."""
    assert moment["utc"] is True
    return wall(
        moment["year"],
        moment["month"],
        moment["date"],
        moment["hours"],
        moment["minutes"],
        moment["seconds"],
        moment["milliseconds"] * 1000,
    )


def series(chart: Chart) -> dict[str, list[dict[str, Any]]]:
    """The burn-down's points by line: spend, forecast, then the budget's amount."""
    drawn: dict[str, list[dict[str, Any]]] = {}
    for point in rows(chart):
        drawn.setdefault(point["series"], []).append(point)
    return drawn


def x_axis(chart: Chart) -> tuple[list[float], list[float] | None, str]:
    """The time axis of a burn-down: its domain, its tick values (None: Vega's) and format."""
    x = layers(chart)[0]["encoding"]["x"]
    assert x["scale"]["type"] == "utc"
    ticks = x["axis"].get("values")
    domain = [instant(m) for m in x["scale"]["domain"]]
    return domain, None if ticks is None else [instant(t) for t in ticks], x["axis"]["format"]


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
    chart = burn_down(status("daily", as_of, spend=D("3.5"), forecast=D("4.25"), hourly=hourly))
    spend, forecast, amount = series(chart).values()
    # a point at every hour from midnight to the instant judged at, then that instant
    assert [p["moment"] for p in spend][:2] == [wall(2026, 11, 18, 0), wall(2026, 11, 18, 1)]
    assert len(spend) == 17 and spend[-1]["moment"] == wall(2026, 11, 18, 15)  # to the ms
    assert [p["height"] for p in spend][9:11] == [0.0, 1.5]  # nothing before 09:00, 1.5 by 10:00
    assert spend[-1]["height"] == 3.5 and spend[-1]["amount"] == "3.5 USD spent"
    assert spend[-1]["time"] == "2026-11-18 15:00"
    # the forecast from then to the end of the day, and the amount across the whole day
    assert [p["moment"] for p in forecast] == [wall(2026, 11, 18, 15), wall(2026, 11, 19)]
    assert [p["height"] for p in forecast] == [3.5, 4.25]
    # a forecast is an estimate: its tooltip to the cent, never a quotient's 28 digits
    assert [p["amount"] for p in forecast] == ["$3.50 forecast", "$4.25 forecast"]
    assert [p["height"] for p in amount] == [6.0, 6.0]
    assert amount[0]["series"] == "budget $6.00" and not amount[0]["marked"]
    domain, ticks, tick_format = x_axis(chart)
    assert domain == [wall(2026, 11, 18), wall(2026, 11, 19)]
    # hours, never 23:59:59.5: a tick every 3 hours from midnight to midnight
    assert tick_format == "%H:%M"
    assert ticks == [wall(2026, 11, 18) + n * 3 * 3_600_000 for n in range(9)]
    # above the amount, the highest of the three
    assert layers(chart)[0]["encoding"]["y"]["scale"]["domain"] == [0, pytest.approx(6.6)]
    assert spec(chart)["title"]["text"] == ["b: all traffic", "daily, 2026-11-18 (UTC)"]


def test_a_weekly_budget_spans_its_week_in_its_zone_with_the_forecast_inside() -> None:
    # Wednesday Nov 18, 16:00 in Paris (15:00 UTC); the week runs Mon Nov 16 - Sun Nov 22
    as_of = datetime(2026, 11, 18, 15, tzinfo=UTC)
    daily = {date(2026, 11, 16): D("1"), date(2026, 11, 17): D("2"), date(2026, 11, 18): D("4")}
    chart = burn_down(
        status("weekly", as_of, "Europe/Paris", spend=D("7"), forecast=D("12"), daily=daily)
    )
    spend, forecast, _ = series(chart).values()
    # midnights in Paris: 0 at the week's start, 1 by Tuesday, 3 by Wednesday, then 7 now
    assert [p["moment"] for p in spend] == [
        wall(2026, 11, 16),
        wall(2026, 11, 17),
        wall(2026, 11, 18),
        wall(2026, 11, 18, 16),
    ]
    assert [p["height"] for p in spend] == [0.0, 1.0, 3.0, 7.0]
    (start, end), ticks, tick_format = x_axis(chart)
    assert (start, end) == (wall(2026, 11, 16), wall(2026, 11, 23))
    assert all(start <= p["moment"] <= end for p in forecast)
    assert forecast[-1]["moment"] == end
    y = layers(chart)[0]["encoding"]["y"]["scale"]["domain"]
    assert y[1] >= 12 > 6  # the forecast, above the amount, is shown
    assert ticks == [wall(2026, 11, 16 + n) for n in range(7)] + [wall(2026, 11, 23)]
    assert tick_format == "%a %b %-d"


def test_a_monthly_budget_spans_its_month() -> None:
    as_of = datetime(2026, 2, 10, 12, tzinfo=UTC)
    chart = burn_down(status("monthly", as_of, daily={date(2026, 2, 3): D("2")}, spend=D("2")))
    spend, forecast, _ = series(chart).values()
    domain, ticks, _ = x_axis(chart)
    assert domain == [wall(2026, 2, 1), wall(2026, 3, 1)]
    assert ticks is None  # Vega's choice of days over a month
    assert len(spend) == 11  # Feb 1, the midnights of Feb 2-10, and the instant
    assert spend[3]["height"] == 2.0 and spend[2]["height"] == 0.0  # by Feb 4, not by Feb 3
    assert forecast[-1]["moment"] == wall(2026, 3, 1)


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
    # a call logged without a team: "(none)", as `ratecard summary` writes it, whether the
    # query gave None or pandas made it NaN
    teamless = table(pd.DataFrame({"team": [None, float("nan"), "x"]}), ["team"])
    assert list(teamless.frame["Team"]) == ["(none)", "(none)", "x"]


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
    chart = spend_over_time(failed_only, "USD", (date(2026, 11, 1), date(2026, 11, 30)))
    x = spec(chart)["encoding"]["x"]
    november = [(date(2026, 11, 1) + timedelta(days=n)).isoformat() for n in range(30)]
    assert x["type"] == "ordinal" and x["scale"]["domain"] == november  # every day, spend or not
    assert "utcFormat(" in x["axis"]["labelExpr"] and "'%b %-d'" in x["axis"]["labelExpr"]
    # all zero: an axis from 0, not -1..1
    assert spec(chart)["encoding"]["y"]["scale"]["domain"] == [0, 1]
    week = spend_over_time(failed_only, "USD", (date(2026, 11, 2), date(2026, 11, 8)))
    assert len(spec(week)["encoding"]["x"]["scale"]["domain"]) == 7


def test_a_single_day_of_spend_is_drawn_as_a_days_bar() -> None:
    # one day on a band axis: a bar the width of the chart's band, never a hairline
    one_day = pd.DataFrame(
        {
            "day": [date(2026, 11, 3)] * 2,
            "series": ["reapi", "runapi"],
            "calls": [1, 2],
            "cost": [D("0.5"), D("1.25")],
        }
    )
    chart = spend_over_time(one_day, "USD", (date(2026, 11, 3), date(2026, 11, 3)))
    x = spec(chart)["encoding"]["x"]
    assert (x["type"], x["scale"]["domain"]) == ("ordinal", ["2026-11-03"])
    assert [(r["series"], r["height"]) for r in rows(chart)] == [("reapi", 0.5), ("runapi", 1.25)]


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


def expressions(node: object) -> list[str]:
    """Every Vega expression in a spec (filters, label expressions)."""
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("filter", "labelExpr", "expr", "calculate")]
        return [str(v) for v in found] + [e for v in node.values() for e in expressions(v)]
    if isinstance(node, list):
        return [e for v in node for e in expressions(v)]
    return []


HOSTILE = ['=HYPERLINK("http://x")', "<script>alert(1)</script>", 'it\'s \\ "quoted"', "ünï 🚀"]


def test_every_chart_is_valid_vega_lite_over_hostile_names() -> None:
    """Altair checks each chart against Vega-Lite's schema as it serialises it (a wrong
    property fails here, not as a blank chart in the browser); names reach the chart as
    data, never as part of an expression."""
    daily = pd.DataFrame(
        {
            "day": [date(2026, 11, 2)] * 4,
            "series": HOSTILE,
            "calls": [1, 2, 3, 4],
            "cost": [D("1.5"), D("0"), D("0.000000000000001"), D("12345678.123456789012345")],
        }
    )
    spend = daily.rename(columns={"series": "label"})
    runs = pd.DataFrame(
        {"source": HOSTILE, "loaded": [1] * 4, "duplicates": [0] * 4, "quarantined": [2] * 4}
    )
    charts: list[Chart] = [
        spend_over_time(daily, "USD", (date(2026, 11, 1), date(2026, 11, 30))),
        bars(spend, "label", "cost", "Spend by team", "JPY"),
        counts(spend, "label", "calls", "Calls"),
        ingest_outcomes(runs),
        burn_down(status("daily", datetime(2026, 11, 18, 15, tzinfo=UTC))),
        burn_down(status("monthly", datetime(2026, 2, 10, 12, tzinfo=UTC), "Asia/Tokyo")),
    ]
    for chart in charts:
        for expression in expressions(spec(chart)):
            assert not any(name in expression for name in HOSTILE)
    assert {r["label"] for r in rows(charts[1])} == set(HOSTILE)
    assert [r["amount"] for r in rows(charts[1])][3] == "12345678.123456789012345 JPY"
