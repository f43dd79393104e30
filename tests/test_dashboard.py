"""Every dashboard page under Streamlit's AppTest, over the hand-computed warehouse of
tests/dashboard_data.py: no exception, the expected figures, filters that change them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dashboard_data import TOTAL, build
from streamlit.testing.v1 import AppTest

from conftest import file_of
from dashboards import queries

APP = str(Path(__file__).resolve().parent.parent / "dashboards" / "app.py")


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
    test = AppTest.from_file(APP, default_timeout=30)
    test.run()
    if page:
        test.switch_page(f"views/{page}.py")
        test.run()
    assert not test.exception, [e.value for e in test.exception]
    return test


def metrics(test: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.proto.help) for m in test.metric}


def test_overview(db: str) -> None:
    test = app()
    shown = metrics(test)
    assert shown["Spend in period"] == ("$5.53", f"Exact: {TOTAL} USD. ")
    assert shown["Calls"][0] == "5"
    assert shown["Failed calls (free)"][0] == "20.0%"
    # the cache saved 40,000 x (0.27 - 0.054) / 1M
    assert shown["Cache savings"][0] == "$0.01" and "0.00864" in shown["Cache savings"][1]
    # period Oct 1-31, data to Oct 22: 5.52936 + 9 days x (0.02936 / 7) = 5.5671085714...
    assert shown["Forecast to period end"][0] == "$5.57"
    assert "5.567108571428" in shown["Forecast to period end"][1]
    assert shown["Input tokens"][0] == "300,100"  # a, b and c 100,000 each, e 100
    assert any("1 call in this selection has no price" in w.value for w in test.warning)
    assert test.get("plotly_chart")


def test_filters_change_the_numbers_and_stay_across_pages(db: str) -> None:
    test = app()
    test.multiselect(key="providers").set_value(["reapi"]).run()
    assert metrics(test)["Spend in period"][0] == "$0.03"  # c alone: 0.02936
    assert metrics(test)["Calls"][0] == "2"
    test.switch_page("views/teams.py").run()
    assert test.multiselect(key="providers").value == ["reapi"]
    frame = test.dataframe[0].value
    assert list(frame["team"]) == ["search"] and list(frame["cost (USD)"]) == [Decimal("0.03")]


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


def test_teams_drill_down(db: str) -> None:
    test = app("teams")
    frame = test.dataframe[0].value
    assert list(frame["team"]) == ["support", "search", "growth"]
    assert list(frame["cost (USD)"]) == [Decimal("4.00"), Decimal("1.53"), Decimal("0.00")]
    test.selectbox(key="drill_team").set_value("search").run()
    assert list(test.dataframe[0].value["project"]) == ["ranker"]
    test.selectbox(key="drill_project").set_value("ranker").run()
    keys = test.dataframe[0].value
    assert len(keys) == 1 and keys["api_key_id"][0].startswith("key_")


def test_data_quality(db: str) -> None:
    test = app("quality")
    unpriced = test.dataframe[0].value
    assert list(unpriced["model"]) == ["MiniMax-M1"] and list(unpriced["calls"]) == [1]
    reasons = test.dataframe[1].value
    assert list(reasons["reason"]) == ["not valid JSON"] and list(reasons["records"]) == [1]
    runs = test.dataframe[2].value
    assert set(runs["kind"]) == {"usage", "prices"}


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
