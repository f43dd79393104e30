"""Every dashboard page under Streamlit's AppTest: over the hand-computed warehouse of
tests/dashboard_data.py (the expected figures, filters that change them), over the matrix of
warehouses real data makes (no page may break on any of them, every number of the mid-month
one worked out by hand), and the `ratecard dashboard` process itself."""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dashboard_data import (
    MATRIX,
    MID_MONTH_FORECAST,
    MID_MONTH_SPEND,
    TOTAL,
    build,
    m3_call,
    make,
)
from streamlit.testing.v1 import AppTest
from test_browser import dashboard
from typer.testing import CliRunner

from conftest import TEST_SHEETS, file_of, ingest_records
from dashboards import queries, ui
from ratecard import cli

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboards" / "app.py")
PAGES = ["overview", "compare", "variants", "teams", "budgets", "quality"]


@pytest.fixture
def db(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    build(priced, tmp_path)
    path = file_of(priced)
    priced.close()  # the dashboard opens it read-only, as in production
    monkeypatch.setenv("RATECARD_DB", path)
    yield path


def app(page: str | None = None) -> AppTest:
    test = AppTest.from_file(APP, default_timeout=60)
    test.run()
    if page and page != "overview":
        test.switch_page(f"views/{page}.py")
        test.run()
    assert not test.exception, [e.value for e in test.exception]
    return test


def metrics(test: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.proto.help) for m in test.metric}


def formats(test: AppTest, index: int = 0) -> dict[str, str | None]:
    """Each column label of a table and its display format."""
    columns = json.loads(test.dataframe[index].proto.columns)
    return {
        label: column.get("type_config", {}).get("format")
        for label, column in columns.items()
        if not column.get("hidden")
    }


def test_overview(db: str) -> None:
    test = app()
    shown = metrics(test)
    assert shown["Spend in period"] == ("$5.53", f"Exact: {TOTAL} USD.")
    assert shown["Calls"][0] == "5"
    assert shown["Failed calls (free)"][0] == "20.0%"
    # the cache saved 40,000 x (0.27 - 0.054) / 1M
    assert shown["Cache savings"][0] == "$0.01" and "0.00864" in shown["Cache savings"][1]
    # judged just after e (Thursday Oct 22 09:00, 0.375 of the day gone) over Oct 1-21:
    # Thursdays 1.5, 0, 0 (0.5), Fridays 4.0, 0, 0 (4/3), Tuesdays 0, 0, 0.02936; the rest of
    # October: 0.625 x 0.5 + Fridays 23 and 30 at 4/3 + Tuesday 27 at 0.02936 / 3 + Thursday
    # 29 at 0.5 = 3.48895333…, and 5.52936 so far
    assert shown["Forecast to period end"][0] == "$9.02"
    assert "Exact: 9.01831333333" in shown["Forecast to period end"][1]
    assert shown["Input tokens"][0] == "300,100"  # a, b and c 100,000 each, e 100
    assert any("1 call in this selection has no price" in w.value for w in test.warning)
    assert test.get("vega_lite_chart")


def test_filters_change_the_numbers_and_stay_across_pages(db: str) -> None:
    test = app()
    test.multiselect(key="providers").set_value(["reapi"]).run()
    assert metrics(test)["Spend in period"][0] == "$0.03"  # c alone: 0.02936
    assert metrics(test)["Calls"][0] == "2"
    test.switch_page("views/teams.py").run()
    assert test.multiselect(key="providers").value == ["reapi"]
    frame = test.dataframe[0].value
    assert list(frame["Team"]) == ["search"] and list(frame["Cost"]) == [Decimal("0.03")]


def test_compare_providers(db: str) -> None:
    test = app("compare")
    # a 1.5 at runapi, c 0.02936 and the free failure d at reapi
    assert metrics(test)["Spend on minimax-m3"][0] == "$1.53"
    assert [r["Spend"] for r in test.dataframe[0].value.to_dict("records")] == [
        "$0.03",
        "$1.50",
        "$1.53",
    ]
    frame = test.dataframe[1].value.set_index("Provider")
    # hand-computed in tests/test_reprice.py
    assert frame.loc["runware (cheapest)", "Cost here"] == "$0.12"  # 0.11832
    assert frame.loc["reapi", "Cost here"] == "$0.12"  # 0.11936
    assert frame.loc["runapi", "Cost here"] == "$2.60"
    assert set(frame["Cost where they ran"]) == {"$1.53"}  # the same three calls each
    assert list(frame["Ran here"]) == ["2", "1", "—", "—"]  # reapi, runapi, runware, vtrix
    assert set(frame["Calls priced"]) == {"3"}
    test.toggle(key="compare_what_if").set_value(True).run()
    frame = test.dataframe[1].value.set_index("Provider")
    # with half the input cached: runware 0.1044 stays cheapest, reapi 0.1052
    assert "runware (cheapest)" in frame.index
    assert frame.loc["reapi", "Cost here"] == "$0.11"


def test_variants_what_if(db: str) -> None:
    test = app("variants")
    values = metrics(test)
    # half of b's 4.0 moved: 2.0 stays, 2.0 moves and costs 1.0 at the standard rate
    assert values["Highspeed spend now"][0] == "$4.00"
    assert values["After moving 50% to standard"][0] == "$3.00"
    assert values["Saving"][0] == "$1.00"
    test.slider(key="variants_share").set_value(100).run()
    assert metrics(test)["Saving"][0] == "$2.00"


def test_teams_by_team_project_and_key(db: str) -> None:
    test = app("teams")
    assert not test.selectbox, "the sidebar picks teams: this page only picks the level"
    frame = test.dataframe[0].value
    assert list(frame["Team"]) == ["support", "search", "growth"]
    assert list(frame["Cost"]) == [Decimal("4.00"), Decimal("1.53"), Decimal("0.00")]
    test.radio(key="teams_level").set_value("Project").run()
    frame = test.dataframe[0].value
    assert list(zip(frame["Team"], frame["Project"], strict=True)) == [
        ("support", "chatbot"),
        ("search", "ranker"),
        ("growth", "copywriter"),
    ]
    test.multiselect(key="teams").set_value(["search"]).run()
    test.radio(key="teams_level").set_value("API key").run()
    keys = test.dataframe[0].value
    assert list(keys["Team · project"]) == ["search · ranker"]
    assert len(keys) == 1 and keys["API key"][0].startswith("key_")


def test_data_quality(db: str) -> None:
    test = app("quality")
    unpriced = test.dataframe[0].value
    assert list(unpriced["Model"]) == ["MiniMax-M1"] and list(unpriced["Calls"]) == [1]
    reasons = test.dataframe[1].value
    assert list(reasons["Reason"]) == ["not valid JSON"] and list(reasons["Records"]) == [1]
    assert "usage.jsonl:6" in reasons["Example (first record)"][0]  # the file's sixth line
    runs = test.dataframe[2].value
    assert sorted(k.split(",")[0] for k in runs["Kind"]) == ["prices", "usage"]


def test_empty_selection_shows_a_helpful_state(db: str) -> None:
    test = app()
    test.multiselect(key="teams").set_value(["growth"]).run()
    test.multiselect(key="providers").set_value(["reapi"]).run()
    assert not test.exception
    assert any("No calls in this selection" in i.value for i in test.info)


def test_query_results_are_cached_until_the_file_changes(db: str) -> None:
    first = queries.totals(db, queries.Filters())
    assert queries.totals(db, queries.Filters()) is first
    Path(db).touch()
    assert queries.totals(db, queries.Filters()) is not first


# The matrix: every page over every warehouse of dashboard_data.MATRIX.


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("matrix")
    return {name: make(name, folder / name) for name in MATRIX}


def open_warehouse(
    warehouses: dict[str, tuple[Path, Path]], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, budgets = warehouses[name]
    monkeypatch.setenv("RATECARD_DB", str(db))
    monkeypatch.setenv("RATECARD_BUDGETS", str(budgets))


@pytest.mark.parametrize("name", list(MATRIX))
def test_no_page_breaks_on_any_warehouse(
    warehouses: dict[str, tuple[Path, Path]], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_warehouse(warehouses, name, monkeypatch)
    test = AppTest.from_file(APP, default_timeout=60)
    test.run()
    for page in PAGES:
        if page != "overview":
            test.switch_page(f"views/{page}.py").run()
        assert not test.exception, (page, [e.value for e in test.exception])
        # the only error boxes a page shows on purpose: a budget spent beyond its amount
        unexpected = [e.value for e in test.error if not e.value.startswith("Exceeded: ")]
        assert not unexpected, (page, unexpected)
        assert test.title, page  # the page was laid out, not stopped before its title


def test_mid_month_overview(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    open_warehouse(warehouses, "mid_month", monkeypatch)
    test = app()
    # the data starts on Nov 10; the period is still the calendar month of the latest call
    assert test.date_input(key="period").value == (
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    shown = metrics(test)
    assert shown["Spend in period"] == ("$8.18", f"Exact: {MID_MONTH_SPEND} USD.")
    assert shown["Forecast to period end"][0] == "$13.30"
    forecast_help = shown["Forecast to period end"][1]
    assert f"Exact: {MID_MONTH_FORECAST} USD." in forecast_help
    assert "weekday-average forecast, the rule budgets use" in forecast_help
    assert "Judged at 2026-11-18 15:00:00 UTC (the latest call loaded)" in forecast_help
    assert "weekday averages over 8 full days" in forecast_help
    assert shown["Calls"][0] == "7"
    assert shown["Failed calls (free)"] == (
        "14.3%",
        "1 failed call, kept and counted, billed at 0.",
    )
    assert shown["Cache savings"][0] == "$0.03"
    assert "Exact: 0.03456 USD." in shown["Cache savings"][1]
    assert shown["Input tokens"][0] == "861,000"
    assert shown["of which cached"][0] == "160,000"
    assert shown["Output tokens"][0] == "340,500"
    assert shown["of which reasoning"][0] == "20,000"
    warnings = [w.value.split("**")[1] for w in test.warning]
    assert warnings == ["1 call in this selection has no price"]


def test_a_selection_of_only_unpriced_calls_shows_its_spend_unknown_not_zero(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    open_warehouse(warehouses, "only_unpriced", monkeypatch)
    shown = metrics(app())
    for label in ("Spend in period", "Forecast to period end", "Cache savings"):
        assert shown[label] == ("—", ui.UNKNOWN), label


def test_mid_month_teams(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    open_warehouse(warehouses, "mid_month", monkeypatch)
    test = app("teams")
    frame = test.dataframe[0].value
    assert list(frame.columns) == [
        "Team",
        "Cost",
        "Calls",
        "Failed",
        "Unpriced",
        "Input tokens",
        "Cached",
        "Output tokens",
    ]
    rows = [
        (team, cost, calls, unpriced, tokens_in, cached, tokens_out)
        for team, cost, calls, unpriced, tokens_in, cached, tokens_out in zip(
            *(frame[c] for c in frame.columns if c != "Failed"), strict=True
        )
    ]
    assert rows == [
        ("support", Decimal("7.00"), 3, 0, 400_000, 0, 200_000),  # m2 + m6 + m7
        ("search", Decimal("1.18"), 3, 0, 460_000, 160_000, 140_000),  # m1 + m3 = 1.18344, m4
        ("growth", Decimal("0.00"), 1, 1, 1_000, 0, 500),  # m5, without a price
    ]
    assert [round(f, 1) for f in frame["Failed"]] == [0.0, 33.3, 0.0]  # m4 of search's three
    assert formats(test) == {
        "Team": None,
        "Cost": "$%,.2f",
        "Calls": "%,d",
        "Failed": "%.1f%%",
        "Unpriced": "%,d",
        "Input tokens": "%,d",
        "Cached": "%,d",
        "Output tokens": "%,d",
    }
    test.radio(key="teams_level").set_value("Project").run()
    frame = test.dataframe[0].value
    assert list(zip(frame["Project"], frame["Cost"], strict=True)) == [
        ("chatbot", Decimal("7.00")),
        ("ranker", Decimal("1.18")),
        ("copywriter", Decimal("0.00")),
    ]


def test_mid_month_budgets_agree_with_the_command_line(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    open_warehouse(warehouses, "mid_month", monkeypatch)
    test = app("budgets")
    judged = "Judged at 2026-11-18 15:00:00 UTC (the latest call loaded)"
    assert test.caption[0].value.startswith(judged)
    assert [(m.label, m.value) for m in test.metric] == [
        ("Spent this period", "$8.18"),
        ("Forecast to period end", "$13.30"),  # the Overview's, to the cent and beyond
        ("Budget", "$12.00"),
        ("Spent this period", "$5.00"),
        ("Forecast to period end", "$5.75"),
        ("Budget", "$6.00"),
        ("Spent this period", "$2.00"),
        ("Forecast to period end", "$2.75"),
        ("Budget", "$1.50"),
    ]
    assert f"Exact: {MID_MONTH_FORECAST} USD." in test.metric[1].proto.help
    assert "the rule the Overview uses" in test.metric[1].proto.help
    states = [c.value for c in test.caption if c.value.startswith("State:")]
    assert states == [
        "State: **forecast to exceed** — 68.2% spent",
        "State: **80% crossed** — 83.3% spent",
        "State: **exceeded** — 133.3% spent",
    ]
    assert test.warning[0].value == (
        "Forecast to exceed: $13.30 expected by the end of 2026-11-30, above the $12.00 budget."
    )
    assert [e.value for e in test.error] == ["Exceeded: $2.00 spent, 133.3% of the $1.50 budget."]
    assert "this budget's scope this period" in test.warning[1].value
    assert not any("selection" in w.value for w in test.warning)  # budgets ignore the sidebar

    db, budgets = warehouses["mid_month"]
    result = CliRunner().invoke(
        cli.app,
        ["budgets", "check", "--db", str(db), "--budgets", str(budgets)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1, result.output  # support-day is exceeded
    assert f"{judged}." in result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if "│ " in line}
    for budget, spend, forecast, state in [
        ("month-all", "8.18", "13.30", "forecast to exceed"),
        ("support-week", "5.00", "5.75", "80% crossed"),
        ("support-day", "2.00", "2.75", "exceeded"),
    ]:
        assert f" {spend} " in lines[budget] and f" {forecast} " in lines[budget], lines[budget]
        assert state in lines[budget]


def test_mid_month_data_quality(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    open_warehouse(warehouses, "mid_month", monkeypatch)
    test = app("quality")
    unpriced = test.dataframe[0].value
    assert unpriced.to_dict("records") == [
        {
            "Provider": "runapi",
            "Model": "MiniMax-M1",
            "Reason": "no price for model MiniMax-M1 at runapi",
            "Calls": 1,
        }
    ]
    reasons = test.dataframe[1].value
    assert list(zip(reasons["Reason"], reasons["Records"], strict=True)) == [("not valid JSON", 1)]
    assert "mid_month.jsonl:9" in reasons["Example (first record)"][0]
    runs = test.dataframe[2].value.set_index("Kind")
    usage = runs.loc["usage, gateway-log"]
    # nine lines: seven calls, m1 again, one that is not JSON
    assert (usage["Read"], usage["Loaded"], usage["Duplicates"], usage["Quarantined"]) == (
        9,
        7,
        1,
        1,
    )
    # shown under the folder the log shares with the test sheets, in full if that is only /
    # (a checkout under /tmp shares /tmp with pytest's folders)
    log = str(warehouses["mid_month"][0].parent / "mid_month.jsonl")
    shared = os.path.commonpath([log, str(TEST_SHEETS)])
    assert usage["Source"] == (log if shared == "/" else os.path.relpath(log, shared))
    assert formats(test, 2)["Read"] == "%,d"


def test_calls_without_usage_are_explained_wherever_unpriced_calls_are_counted(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two successful streams without usage and one unknown model: three unpriced calls,
    and every page that counts them says what happened to the two and how to get usage."""
    open_warehouse(warehouses, "no_usage", monkeypatch)
    test = app()
    shown = metrics(test)
    assert shown["Spend in period"][0] == "$1.00" and shown["Calls"][0] == "4"
    (warning,) = [w.value for w in test.warning]
    assert warning.startswith("**3 calls in this selection have no price** (2 successful, so ")
    assert "their logs carry no token usage, so what they cost cannot be told; the others: " in (
        warning
    )

    test.switch_page("views/quality.py").run()
    (warning,) = [w.value for w in test.warning]
    assert warning.startswith("**3 calls in this selection have no price** (2 successful")
    (info,) = [i.value for i in test.info]
    assert info.startswith("**2 successful calls without token usage.** They succeeded and ")
    assert 'send `stream_options: {"include_usage": true}` with OpenAI-style chat streams' in info
    unpriced = test.dataframe[0].value
    chat_reason = (
        'stream carried no usage: ask for it with stream_options: {"include_usage": true} '
        "in the request"
    )
    assert unpriced.to_dict("records") == [
        {"Provider": "runapi", "Model": "MiniMax-M3", "Reason": chat_reason, "Calls": 2},
        {
            "Provider": "runapi",
            "Model": "MiniMax-M1",
            "Reason": "no price for model MiniMax-M1 at runapi",
            "Calls": 1,
        },
    ]

    test.switch_page("views/compare.py").run()
    assert not test.exception
    (warning,) = [w.value for w in test.warning]
    assert warning.startswith(
        "2 more successful minimax-m3 calls in this selection carry no token usage"
    )
    assert test.metric[1].value == "1"  # the one priced call is compared

    # budgets count their scope's unpriced calls, without telling the reasons apart
    test.switch_page("views/budgets.py").run()
    budget_warnings = [w.value for w in test.warning if "no price" in w.value]
    assert budget_warnings and all(
        "(unknown model, provider or date, or a successful call whose log carries no token "
        "usage)" in w
        for w in budget_warnings
    ), budget_warnings

    # the command line counts them where the pages do
    db = str(warehouses["no_usage"][0])
    summary = CliRunner().invoke(cli.app, ["summary", "--db", db, "--period", "2026-11"])
    assert summary.exit_code == 0, summary.output
    assert f"runapi/MiniMax-M3: 2 calls — {chat_reason}" in " ".join(summary.output.split())
    compared = CliRunner().invoke(cli.app, ["compare", "--model", "minimax-m3", "--db", db])
    assert compared.exit_code == 0, compared.output
    assert (
        "2 more successful minimax-m3 calls in this selection carry no token usage (a stream "
        "whose client did not ask for it) and cannot be priced anywhere"
    ) in " ".join(compared.output.split())


def test_single_day_forecasts_todays_run_rate(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    open_warehouse(warehouses, "single_day", monkeypatch)
    test = app()
    # 2.00 by 12:00 on the only day: 4.00 a day for the rest of Nov 5 and 25 more days
    assert metrics(test)["Forecast to period end"][0] == "$104.00"
    assert "today's run rate" in metrics(test)["Forecast to period end"][1]
    test.switch_page("views/budgets.py").run()
    assert test.metric[1].label == "Forecast to period end"  # of the monthly budget
    assert test.metric[1].value == "$104.00"


def test_two_currencies_keep_each_budget_in_its_own(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    open_warehouse(warehouses, "two_currencies", monkeypatch)
    test = app("budgets")
    # c2 at eurogw: 100,000 x 0.25/1M + 100,000 x 1.00/1M = 0.125 EUR; c1 1.00 USD
    spent = [m.value for m in test.metric if m.label == "Spent this period"]
    assert spent[0] == "$1.00" and spent[-1] == "0.13 EUR"


def test_two_currencies_are_totalled_and_forecast_apart_on_every_page(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """c1 1.00 USD and c2 0.125 EUR: each page shows each currency on its own, never 1.125."""
    open_warehouse(warehouses, "two_currencies", monkeypatch)
    test = app()
    shown = metrics(test)
    assert shown["Spend in period, EUR"] == ("0.13 EUR", "Exact: 0.125 EUR.")
    assert shown["Spend in period, USD"] == ("$1.00", "Exact: 1 USD.")
    assert "Spend in period" not in shown and "Forecast to period end" not in shown
    # each forecast starts from its own currency's spend so far
    assert "0.13 EUR so far" in shown["Forecast to period end, EUR"][1]
    assert "$1.00 so far" in shown["Forecast to period end, USD"][1]
    assert shown["Calls"][0] == "2"
    assert len(test.get("vega_lite_chart")) == 2  # a chart per currency
    assert not any("1.125" in value or "1.13" in value for value, _ in shown.values())

    test.switch_page("views/teams.py").run()
    assert [list(zip(t.value["Team"], t.value["Cost"], strict=True)) for t in test.dataframe] == [
        [("search", Decimal("0.13"))],
        [("search", Decimal("1.00"))],
    ]
    assert [formats(test, i)["Cost"] for i in range(2)] == ["%,.2f EUR", "$%,.2f"]

    test.switch_page("views/compare.py").run()
    shown = metrics(test)
    assert shown["Spend on minimax-m3, EUR"][0] == "0.13 EUR"
    assert shown["Spend on minimax-m3, USD"][0] == "$1.00"
    spend = [r["Spend"] for r in test.dataframe[0].value.to_dict("records")]
    assert spend == ["0.13 EUR", "0.13 EUR", "$1.00", "$1.00"]  # each line and its total
    eur_calls = test.dataframe[1].value.set_index("Provider")
    # the EUR call quoted at the USD gateways: what it would cost there, no difference
    assert set(eur_calls["Cost where they ran"]) == {"0.13 EUR"}
    assert eur_calls.loc["eurogw", "Difference"] == "0.00 EUR"  # where it ran
    others = eur_calls.drop(index="eurogw")
    assert len(others) >= 2 and set(others["Difference"]) == {"—"}
    assert set(others["Difference %"]) == {"—"}
    assert all(not value.endswith("EUR") for value in others["Cost here"])


def test_odd_team_names_are_shown_as_they_are(
    warehouses: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard_data import ODD_TEAM

    open_warehouse(warehouses, "odd_names", monkeypatch)
    test = app("teams")
    assert ODD_TEAM in list(test.dataframe[0].value["Team"])
    test.multiselect(key="teams").set_value([ODD_TEAM]).run()
    assert not test.exception
    assert list(test.dataframe[0].value["Cost"]) == [Decimal("1.00")]


def test_the_period_follows_a_new_ingest(
    warehouses: dict[str, tuple[Path, Path]],
    monkeypatch: pytest.MonkeyPatch,
    priced: duckdb.DuckDBPyConnection,
    tmp_path: Path,
) -> None:
    """A period kept in the session from before an ingest that no longer fits the data (the
    warehouse now starts and ends in August) is replaced by the new default instead of
    reaching the date widget, which raises on a value outside its bounds."""
    open_warehouse(warehouses, "mid_month", monkeypatch)
    test = app()
    november = (date(2026, 11, 1), date(2026, 11, 30))
    assert test.date_input(key="period").value == november
    ingest_records(priced, tmp_path, [m3_call("aug", "2026-08-20T10:00:00Z", 100_000)])
    august = file_of(priced)
    priced.close()
    monkeypatch.setenv("RATECARD_DB", august)
    test.run()
    assert not test.exception, [e.value for e in test.exception]
    assert test.date_input(key="period").value == (
        date(2026, 8, 1),
        date(2026, 8, 31),
    )
    assert metrics(test)["Spend in period"][0] == "$1.00"
    # a pick of one's own stays while it fits
    test.date_input(key="period").set_value((date(2026, 8, 19), date(2026, 8, 21)))
    test.run()
    assert test.date_input(key="period").value == (
        date(2026, 8, 19),
        date(2026, 8, 21),
    )


# `ratecard dashboard`, the process


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def port_free(port: int) -> bool:
    """Nothing listens on ``port`` and a new server could bind it (SO_REUSEADDR, as servers
    do, past the TIME_WAIT of the connections just closed)."""
    with socket.socket() as client:
        if client.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_dashboard_stops_with_its_streamlit_server(
    warehouses: dict[str, tuple[Path, Path]], stop: signal.Signals, tmp_path: Path
) -> None:
    db, _ = warehouses["mid_month"]
    log = tmp_path / "dashboard.log"
    with dashboard(["--db", str(db)], log) as (url, server):
        streamlit = children(server.pid)
        assert len(streamlit) == 1
        # before any browser came, the server has loaded what the pages import
        # (dashboards/serve.py, ADR 0074): DuckDB's library is mapped, which Streamlit
        # itself never imports
        maps = Path(f"/proc/{streamlit[0]}/maps").read_text()
        assert "_duckdb" in maps, "the pages' modules load only when a visitor comes"
        server.send_signal(stop)
        assert server.wait(timeout=60) == 0, log.read_text()
        assert not alive(streamlit[0]), "the Streamlit child outlived `ratecard dashboard`"
        assert port_free(int(url.rsplit(":", 1)[1]))


def test_a_port_in_use_is_refused_with_what_to_do(
    warehouses: dict[str, tuple[Path, Path]],
) -> None:
    db, _ = warehouses["mid_month"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli.app, ["dashboard", "--db", str(db), "--port", str(port)], env={"COLUMNS": "200"}
        )
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.output
    assert "--port N" in result.output and "make demo PORT=N" in result.output
