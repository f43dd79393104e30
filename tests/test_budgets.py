"""Budgets, forecasts and alerts, against figures worked out by hand and real HTTP
receivers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import D, file_of, ingest_records
from ingest.usage import UsageFormat
from ratecard import cli
from reports.alerts import Alert, budget_alerts, hygiene_alerts, record
from reports.budgets import (
    Budget,
    BudgetError,
    BudgetStatus,
    Channel,
    Instant,
    Period,
    Scope,
    check_budget,
    current_period,
    judged_at,
    load_budgets,
    spend_anomaly,
)
from reports.delivery import claim, deliver_pending, idempotency_key
from reports.forecast import forecast

AS_OF = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)  # a Thursday, half gone


def call(day: date, dollars: int, *, hour: int = 9, team: str = "ml") -> dict[str, Any]:
    """A RunAPI MiniMax-M3 call costing ``dollars``: 100,000 tokens per dollar at 0.010/1K."""
    return {
        "call_id": f"{team}-{day}-{hour}",
        "ts": f"{day}T{hour:02d}:00:00Z",
        "provider": "runapi",
        "model": "MiniMax-M3",
        "status": "ok",
        "input_tokens": 50_000 * dollars,
        "output_tokens": 50_000 * dollars,
        "team": team,
    }


@pytest.fixture
def spend(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Team ml spends $1 each weekday and $3 each weekend day from Sep 1 to Oct 14, and $2
    on the morning of Thursday Oct 15."""
    records: list[dict[str, Any] | str] = []
    day = date(2026, 9, 1)
    while day <= date(2026, 10, 14):
        records.append(call(day, 3 if day.weekday() >= 5 else 1))
        day += timedelta(days=1)
    records.append(call(date(2026, 10, 15), 2, hour=8))
    records.append(call(date(2026, 10, 15), 5, hour=13))  # after the check's time: not counted
    records.append(call(date(2026, 10, 10), 7, team="other"))  # another team
    ingest_records(priced, tmp_path, records, fmt=UsageFormat.FLAT_JSONL)
    return priced


def ml_budget(amount: str, thresholds: list[int] | None = None, **extra: Any) -> Budget:
    return Budget(
        name="ml",
        scope=Scope(team="ml"),
        period="monthly",
        amount=Decimal(amount),
        thresholds=thresholds or [50, 80, 100],
        **extra,
    )


def test_spend_to_date_and_weekday_forecast(spend: duckdb.DuckDBPyConnection) -> None:
    status = check_budget(spend, ml_budget("100", [20, 24, 50]), AS_OF)
    # Oct 1-14: ten weekdays at $1 and four weekend days at $3, then $2 on Oct 15's morning
    assert status.spend == D("24")
    # the rest of Thursday: $1 x 0.5; Oct 16-31: eleven weekdays at $1, five weekend days at
    # $3 (the weekday averages of Sep 17 - Oct 14)
    assert status.forecast == D("50.5")
    # 24 is exactly 24 % of 100: that threshold counts as crossed
    assert status.crossed == [20, 24]
    assert status.state == "24% crossed" and not status.exceeded


def test_states(spend: duckdb.DuckDBPyConnection) -> None:
    assert check_budget(spend, ml_budget("50"), AS_OF).state == "forecast to exceed"
    assert check_budget(spend, ml_budget("24"), AS_OF).state == "forecast to exceed"  # 24 = 24
    assert check_budget(spend, ml_budget("23.99"), AS_OF).state == "exceeded"
    assert check_budget(spend, ml_budget("60"), AS_OF).state == "ok"


def test_a_first_call_today_forecasts_todays_run_rate(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """With no full day of history, today's spend per share of today gone stands for every
    day left, not the spend spread over the empty days since the period began."""
    ingest_records(
        priced, tmp_path, [call(date(2026, 10, 15), 2, hour=8)], fmt=UsageFormat.FLAT_JSONL
    )
    status = check_budget(priced, ml_budget("100"), AS_OF)
    # $2 by noon: $4 a day, for the other half of Oct 15 and 16 more days
    assert status.spend == D("2") and status.forecast == D("68")
    assert "today's run rate" in status.basis


@pytest.mark.parametrize(
    ("first", "last", "to_date", "rest", "basis"),
    [
        # the period is over: what it cost (seven weekdays, three weekend days), nothing more
        (date(2026, 10, 1), date(2026, 10, 10), "16", "0", "the period is over"),
        # a period ahead: every one of its days at its weekday's average, none of today
        (date(2026, 10, 19), date(2026, 10, 25), "0", "11", "weekday averages over 28 full days"),
        # the period of today: Monday to Wednesday so far; half of Thursday, Friday to Sunday
        (date(2026, 10, 12), date(2026, 10, 18), "3", "7.5", "weekday averages over 28 full days"),
    ],
)
def test_the_forecast_of_any_period_around_the_instant(
    first: date, last: date, to_date: str, rest: str, basis: str
) -> None:
    # $1 each weekday and $3 each weekend day since September; $0 so far on Thursday Oct 15
    daily = {
        date(2026, 9, 1) + timedelta(days=n): D(
            "3" if (date(2026, 9, 1) + timedelta(days=n)).weekday() >= 5 else "1"
        )
        for n in range(44)
    }
    daily[date(2026, 10, 15)] = D("0")
    outlook = forecast(daily, first, last, AS_OF, ZoneInfo("UTC"), date(2026, 9, 1))
    assert (outlook.to_date, outlook.rest, outlook.basis) == (D(to_date), D(rest), basis)
    assert outlook.at_period_end == D(to_date) + D(rest)


def test_budgets_are_judged_after_the_latest_call_unless_it_is_later_than_now() -> None:
    latest = datetime(2026, 11, 21, 23, 55, tzinfo=UTC)
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert judged_at(latest, now) == Instant(
        latest + timedelta(microseconds=1), "the latest call loaded"
    )
    # data past the clock (a gateway's skewed clock): now, so that no future call counts
    assert judged_at(now + timedelta(minutes=5), now) == Instant(now, "now")
    assert judged_at(None, now) == Instant(now, "now")


def test_periods_follow_the_budget_time_zone() -> None:
    paris = dict(name="b", amount=Decimal(1), timezone="Europe/Paris")
    as_of = datetime(2026, 10, 25, 23, 30, tzinfo=UTC)  # Monday Oct 26, 00:30 in Paris
    weekly = current_period(Budget(period="weekly", **paris), as_of)
    # Paris leaves summer time on Oct 25: the week starts at 00:00 CET (23:00 UTC)
    assert weekly == Period(
        datetime(2026, 10, 25, 23, tzinfo=UTC), datetime(2026, 11, 1, 23, tzinfo=UTC)
    )
    monthly = current_period(Budget(period="monthly", **paris), as_of)
    assert monthly.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # Oct 1, 00:00 CEST
    daily = current_period(Budget(period="daily", name="d", amount=Decimal(1)), as_of)
    assert daily == Period(datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC))


def status_with(daily: dict[date, Decimal], today: date) -> BudgetStatus:
    budget = ml_budget("100")
    start = datetime(2026, 10, 1, tzinfo=UTC)
    return BudgetStatus(
        budget, Period(start, start), start, D("0"), D("0"), 0, daily, today, min(daily)
    )


def test_anomaly_by_robust_z_score() -> None:
    today = date(2026, 10, 30)
    base = {today - timedelta(days=n): D(str(1 + n % 3)) for n in range(2, 30)}  # 1, 2, 3, …
    # median 2, MAD 1: z = 0.6745 x (10 - 2) / 1 = 5.396 > 3.5
    found = spend_anomaly(status_with(base | {today - timedelta(days=1): D("10")}, today))
    assert found is not None and found.score == D("5.3960") and found.baseline == D("2")
    # z = 0.6745 x 4 = 2.698: not unusual
    assert spend_anomaly(status_with(base | {today - timedelta(days=1): D("6")}, today)) is None
    # fewer than 7 days of history: no judgement
    short = {today - timedelta(days=n): D("1") for n in range(1, 5)}
    assert spend_anomaly(status_with(short | {today - timedelta(days=1): D("50")}, today)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "scope: {team: a, colour: red}",
            "budgets[0].scope.colour: Extra inputs are not permitted",
        ),
        ("amount: -5", "budgets[0].amount: Input should be greater than 0 (value: -5)"),
        ("thresholds: [50, 1001]", "budgets[0].thresholds[1]: Input should be less than or equal"),
        ("thresholds: [0]", "budgets[0].thresholds[0]: Input should be greater than or equal to 1"),
        ("timezone: Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("period: yearly", "budgets[0].period: Input should be 'monthly', 'weekly' or 'daily'"),
        ("channels: [{webhook: 'https://x', webhook_env: X}]", "exactly one of webhook"),
    ],
)
def test_bad_budget_files_name_file_field_and_value(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "budgets.yml"
    body = {"name": "b", "period": "monthly", "amount": "10"}
    key = text.split(":")[0]
    lines = [
        f"  - {k}: {v}" if i == 0 else f"    {k}: {v}"
        for i, (k, v) in enumerate((k, v) for k, v in body.items() if k != key)
    ]
    path.write_text("budgets:\n" + "\n".join(lines) + f"\n    {text}\n", encoding="utf-8")
    with pytest.raises(BudgetError) as caught:
        load_budgets(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_amounts_are_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "budgets.yml"
    path.write_text("budgets:\n  - {name: a, period: daily, amount: 0.10}\n", encoding="utf-8")
    assert load_budgets(path).budgets[0].amount == Decimal("0.10")
    path.write_text(
        "budgets:\n  - {name: a, period: daily, amount: 1}\n"
        "  - {name: a, period: daily, amount: 2}\n",
        encoding="utf-8",
    )
    with pytest.raises(BudgetError, match="'a' is used twice"):
        load_budgets(path)


def test_the_shipped_budgets_file_loads() -> None:
    budgets = load_budgets(Path(__file__).resolve().parent.parent / "data" / "budgets.yml")
    assert len(budgets.budgets) == 5


def test_each_threshold_fires_once_across_runs(spend: duckdb.DuckDBPyConnection) -> None:
    budget = ml_budget("30", [50, 80, 100])
    first = record(spend, budget_alerts(spend, check_budget(spend, budget, AS_OF)))
    # 24 of 30 is 80 %: 50 and 80 crossed at once, and the forecast (50.5) is above 30;
    # 80 is sent, 50 is recorded as covered by it
    assert sorted(a.key for a in first) == [
        "forecast|ml|2026-10-01T00:00:00+00:00|1",
        "threshold|ml|2026-10-01T00:00:00+00:00|80",
    ]
    threshold = next(a for a in first if a.kind == "threshold")
    assert threshold.message == (
        "Budget ml (team=ml): 80% reached — 24.00 USD of 30.00 USD this month."
    )
    again = record(spend, budget_alerts(spend, check_budget(spend, budget, AS_OF)))
    assert again == []
    assert spend.execute("SELECT count(*) FROM alerts").fetchall() == [(3,)]
    assert spend.execute("SELECT message FROM alerts WHERE alert_key LIKE '%|50'").fetchall() == [
        (
            "Budget ml (team=ml): 50% reached — 24.00 USD of 30.00 USD this month. "
            "Covered by the 80% alert, not sent.",
        )
    ]


def test_thresholds_crossed_at_once_send_the_highest_and_cover_the_rest(
    spend: duckdb.DuckDBPyConnection,
) -> None:
    def sent(amount: str) -> list[str]:
        status = check_budget(spend, ml_budget(amount, [50, 80, 100]), AS_OF)
        return [
            a.message for a in record(spend, budget_alerts(spend, status)) if a.kind == "threshold"
        ]

    # spend is 24.00: of 40 that is 60 % (50 crossed); of 20, 120 % (80 and 100 too)
    assert sent("40") == ["Budget ml (team=ml): 50% reached — 24.00 USD of 40.00 USD this month."]
    assert sent("20") == ["Budget ml (team=ml): 100% reached — 24.00 USD of 20.00 USD this month."]
    assert sent("30") == []  # 80 % was covered by the 100 % alert: never sent later
    for period, words in (("weekly", "this week"), ("daily", "today")):
        budget = ml_budget("0.01", [100]).model_copy(update={"period": period})
        status = check_budget(spend, budget, AS_OF)
        (alert,) = [a for a in budget_alerts(spend, status) if a.kind == "threshold"]
        assert alert.message.endswith(f" USD of 0.01 USD {words}."), alert.message


def test_deliveries_go_in_the_order_alerts_were_raised(spend: duckdb.DuckDBPyConnection) -> None:
    channel = Channel(webhook="http://127.0.0.1:9/hook")
    keys = [f"threshold|ml|2026-10-01T00:00:00+00:00|{t}" for t in (50, 80, 100)]
    record(spend, [Alert(key, "threshold", "ml", key, {}, (channel,)) for key in keys])
    claimed = claim(spend, [channel], lease=60)
    assert [p.alert_key for p in claimed.pending] == keys  # not 100, 50, 80 (by key)


def test_forecast_fires_again_only_after_it_clears(spend: duckdb.DuckDBPyConnection) -> None:
    def forecast_alerts(amount: str) -> list[str]:
        status = check_budget(spend, ml_budget(amount, [100]), AS_OF)
        return [a.key for a in record(spend, budget_alerts(spend, status)) if a.kind == "forecast"]

    assert forecast_alerts("40") == ["forecast|ml|2026-10-01T00:00:00+00:00|1"]
    assert forecast_alerts("40") == []  # still forecast to exceed: same episode
    assert forecast_alerts("90") == []  # cleared: the episode closes
    assert forecast_alerts("40") == ["forecast|ml|2026-10-01T00:00:00+00:00|2"]


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers with the planned statuses in turn."""

    def __init__(self, statuses: list[int], retry_after: str | None = None) -> None:
        self.statuses = list(statuses)
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                receiver.headers.append(dict(self.headers))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if retry_after and status == 429:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.close()


@pytest.fixture
def silent() -> Iterator[str]:
    """A socket that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    sock.close()


def test_delivery_retries_then_succeeds_and_never_sends_twice(
    spend: duckdb.DuckDBPyConnection,
    receivers: list[Receiver],
    silent: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flaky = Receiver([500, 500, 200])
    busy = Receiver([429, 200], retry_after="2")
    receivers += [flaky, busy]
    monkeypatch.setenv("BUSY_HOOK", busy.url)
    channels = [
        Channel(webhook=flaky.url, format="json"),
        Channel(webhook_env="BUSY_HOOK"),
        Channel(webhook=silent),
        Channel(webhook_env="UNSET_HOOK"),
    ]
    budget = ml_budget("100", [20], channels=channels)
    record(spend, budget_alerts(spend, check_budget(spend, budget, AS_OF)))
    waits: list[float] = []
    db = file_of(spend)
    results = {d.channel: d for d in deliver_pending(db, channels, timeout=0.5, sleep=waits.append)}
    # 500, 500, then 200: delivered on the third attempt, backing off 0.5 s then 1 s
    assert (results[channels[0].name].delivered, results[channels[0].name].attempts) == (True, 3)
    assert results[channels[1].name].delivered and 2.0 in waits  # Retry-After honoured
    assert flaky.bodies[-1]["threshold"] == 20 and flaky.bodies[-1]["spend"] == "24"
    assert busy.bodies[-1]["text"].startswith("ratecard: Budget ml (team=ml): 20% reached")
    # the same key in the header and the body, on every attempt
    key = idempotency_key("threshold|ml|2026-10-01T00:00:00+00:00|20", channels[0].name)
    assert {h["Idempotency-Key"] for h in flaky.headers} == {key}
    assert {b["idempotency_key"] for b in flaky.bodies} == {key}
    assert busy.bodies[-1]["idempotency_key"] != key
    # the silent one timed out, the unset one had no URL: recorded, not lost, others went on
    assert not results[channels[2].name].delivered
    assert "Timeout" in (results[channels[2].name].error or "")
    assert results[channels[3].name].error == "environment variable UNSET_HOOK is not set"

    monkeypatch.setenv("UNSET_HOOK", flaky.url)
    second = {d.channel: d for d in deliver_pending(db, channels, timeout=0.5, sleep=waits.append)}
    # only what failed is retried; what was delivered is never sent again
    assert set(second) == {channels[2].name, channels[3].name}
    # UNSET_HOOK now holds the URL that has the alert already: not sent to it twice
    assert second[channels[3].name].delivered
    assert second[channels[3].name].error == f"same URL as {channels[0].name}"
    assert len(busy.bodies) == 2 and len(flaky.bodies) == 3


def test_hygiene_alerts(priced: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    records: list[dict[str, Any] | str] = []
    for n in range(28):  # 100 calls a day at reapi, 2 % failed, until a bad day
        day = date(2026, 10, 1) + timedelta(days=n)
        failed = 20 if n == 27 else 2
        for i in range(100):
            records.append(
                {
                    "call_id": f"r{n}-{i}",
                    "ts": f"{day}T10:00:00Z",
                    "provider": "reapi",
                    "model": "minimax/minimax-m3",
                    "status": "failed" if i < failed else "ok",
                    "input_tokens": 10,
                    "output_tokens": 1,
                }
            )
    records.append(
        {
            "call_id": "u",
            "ts": "2026-10-28T11:00:00Z",
            "provider": "runapi",
            "model": "MiniMax-M1",
            "status": "ok",
            "input_tokens": 1,
            "output_tokens": 1,
        }
    )
    ingest_records(priced, tmp_path, records, fmt=UsageFormat.FLAT_JSONL)
    alerts = hygiene_alerts(priced, datetime(2026, 10, 29, 8, tzinfo=UTC), [])
    assert [a.key for a in alerts] == ["unpriced|2026-10-28", "failure_spike|reapi|2026-10-28"]
    assert "runapi/MiniMax-M1: 1" in alerts[0].message
    assert "20.0% of 100 calls failed" in alerts[1].message


def test_unpriced_alerts_cover_every_day_not_yet_alerted(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # unpriced calls on 18-20 Nov (the demo's) and on 20 Oct, more than 31 days before
    days = {"2026-10-20": 1, "2026-11-18": 2, "2026-11-19": 1, "2026-11-20": 3}
    records: list[dict[str, Any] | str] = [
        {
            "call_id": f"u{day}-{i}",
            "ts": f"{day}T11:00:00Z",
            "provider": "runapi",
            "model": "MiniMax-M1",
            "status": "ok",
            "input_tokens": 1,
            "output_tokens": 1,
        }
        for day, count in days.items()
        for i in range(count)
    ]
    ingest_records(priced, tmp_path, records, fmt=UsageFormat.FLAT_JSONL)
    # judged at 24 Nov, days after the last run that could have seen them
    alerts = hygiene_alerts(priced, datetime(2026, 11, 24, 8, tzinfo=UTC), [])
    assert [(a.key, a.payload["calls"]) for a in alerts] == [
        ("unpriced|2026-11-18", 2),
        ("unpriced|2026-11-19", 1),
        ("unpriced|2026-11-20", 3),
    ]
    # one message for the three days none of which was alerted before: the newest's, naming
    # the others, which are recorded as covered
    assert [a.covered for a in alerts] == [True, True, False]
    assert alerts[2].message == (
        "3 calls on 2026-11-20 have no price (cost unknown, not counted): runapi/MiniMax-M1: "
        "3. Add the models to a price sheet, then `ratecard bill --rebill`. Earlier days not "
        "alerted before: 2026-11-18 (2 calls); 2026-11-19 (1 call)."
    )
    assert [d["day"] for d in alerts[2].payload["earlier_days"]] == ["2026-11-18", "2026-11-19"]
    assert [a.key for a in record(priced, alerts)] == ["unpriced|2026-11-20"]
    # the next run finds the same days already alerted: nothing is sent twice
    again = hygiene_alerts(priced, datetime(2026, 11, 25, 8, tzinfo=UTC), [])
    assert len(again) == 3 and record(priced, again) == []
    assert not any(a.covered for a in again)  # all recorded: nothing to merge
    # a late ingest adds one call on 21 Nov: that day alone, in the singular
    ingest_records(
        priced,
        tmp_path,
        [
            {
                "call_id": "late",
                "ts": "2026-11-21T09:00:00Z",
                "provider": "runapi",
                "model": "MiniMax-M1",
                "status": "ok",
                "input_tokens": 1,
                "output_tokens": 1,
            }
        ],
        fmt=UsageFormat.FLAT_JSONL,
    )
    late = record(priced, hygiene_alerts(priced, datetime(2026, 11, 26, 8, tzinfo=UTC), []))
    assert [a.message for a in late] == [
        "1 call on 2026-11-21 has no price (cost unknown, not counted): runapi/MiniMax-M1: 1. "
        "Add the models to a price sheet, then `ratecard bill --rebill`."
    ]


def test_a_failure_spike_on_a_day_no_run_judged_is_still_alerted(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    # 100 calls a day at reapi, 2 failed, for 40 days; 30 failed on 20 Oct and 25 on 25 Oct,
    # and no run judged either day: the run of 1 Nov finds both
    records: list[dict[str, Any] | str] = []
    bad = {date(2026, 10, 20): 30, date(2026, 10, 25): 25}
    for n in range(40):
        day = date(2026, 9, 22) + timedelta(days=n)
        failed = bad.get(day, 2)
        records += [
            {
                "call_id": f"r{n}-{i}",
                "ts": f"{day}T10:00:00Z",
                "provider": "reapi",
                "model": "minimax/minimax-m3",
                "status": "failed" if i < failed else "ok",
                "input_tokens": 10,
                "output_tokens": 1,
            }
            for i in range(100)
        ]
    ingest_records(priced, tmp_path, records, fmt=UsageFormat.FLAT_JSONL)
    alerts = hygiene_alerts(priced, datetime(2026, 11, 1, 8, tzinfo=UTC), [])
    assert [(a.key, a.covered) for a in alerts] == [
        ("failure_spike|reapi|2026-10-20", True),
        ("failure_spike|reapi|2026-10-25", False),
    ]
    # 25 Oct's baseline: the median of the 28 days before, 2 % (20 Oct's 30 % is one of them)
    assert alerts[1].message == (
        "reapi: 25.0% of 100 calls failed on 2026-10-25, against a typical 2.0%. Failed calls "
        "are free, but check the gateway's status. It also spiked on 2026-10-20 (30.0%)."
    )
    assert [a.key for a in record(priced, alerts)] == ["failure_spike|reapi|2026-10-25"]
    assert record(priced, hygiene_alerts(priced, datetime(2026, 11, 2, 8, tzinfo=UTC), [])) == []


def test_budgets_check_command(spend: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    db = file_of(spend)
    spend.close()
    budgets = tmp_path / "budgets.yml"
    budgets.write_text(
        "budgets:\n  - {name: ml, scope: {team: ml}, period: monthly, "
        "amount: 20}\n  - {name: other, scope: {team: other}, "
        "period: monthly, amount: 20}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    args = [
        "budgets",
        "check",
        "--db",
        db,
        "--budgets",
        str(budgets),
        "--as-of",
        "2026-10-15T12:00:00Z",
    ]
    result = runner.invoke(cli.app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output  # ml spent 24 of 20
    assert "exceeded" in result.output and "24.00" in result.output
    assert "Judged at 2026-10-15 12:00:00 UTC (--as-of)." in result.output
    # without --as-of: just after the latest call (ml's at 13:00 on Oct 15), as the dashboard
    default = runner.invoke(cli.app, args[:-2], env={"COLUMNS": "200"})
    assert "Judged at 2026-10-15 13:00:00 UTC (the latest call loaded)." in (default.output)
    assert " 29.00 " in default.output  # and the 13:00 call counts: 22 + 2 + 5
    result = runner.invoke(cli.app, [*args, "--notify"], env={"COLUMNS": "200"})
    assert "alert: Budget ml (team=ml): 100% reached" in result.output
    again = runner.invoke(cli.app, [*args, "--notify"], env={"COLUMNS": "200"})
    assert "alert:" not in again.output  # nothing fires twice
    assert (
        runner.invoke(
            cli.app, ["budgets", "check", "--db", db, "--budgets", str(tmp_path / "none.yml")]
        ).exit_code
        == 2
    )


def test_budgets_page(
    spend: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    db = file_of(spend)
    spend.close()
    budgets = tmp_path / "budgets.yml"
    budgets.write_text(
        "budgets:\n  - {name: ml, scope: {team: ml}, period: monthly, amount: 40}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RATECARD_DB", db)
    monkeypatch.setenv("RATECARD_BUDGETS", str(budgets))
    app = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "dashboards" / "app.py"), default_timeout=30
    )
    app.run()
    app.switch_page("views/budgets.py").run()
    assert not app.exception, [e.value for e in app.exception]
    shown = {m.label: m.value for m in app.metric}
    # as of the latest call (Oct 15, 13:00 + 1 µs): Oct 1-14 $22, Oct 15 $2 + $5 = $29
    assert shown["Spent this period"] == "$29.00"
    assert shown["Budget"] == "$40.00"
    assert any("Forecast to exceed" in w.value for w in app.warning)
    assert app.get("vega_lite_chart")
    budgets.write_text("budgets: [oops", encoding="utf-8")
    app.run()
    assert any("not valid YAML" in i.value for i in app.info)


def test_concurrent_runs_send_each_alert_once(
    spend: duckdb.DuckDBPyConnection, tmp_path: Path, receivers: list[Receiver]
) -> None:
    import subprocess
    import sys

    db = file_of(spend)
    spend.close()
    hook = Receiver([])
    receivers.append(hook)
    budgets = tmp_path / "budgets.yml"
    budgets.write_text(
        "budgets:\n  - name: ml\n    scope: {team: ml}\n    period: monthly\n"
        "    amount: 30\n    channels:\n      - {webhook: '" + hook.url + "', format: json}\n",
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "ratecard",
        "budgets",
        "check",
        "--db",
        db,
        "--budgets",
        str(budgets),
        "--as-of",
        "2026-10-15T12:00:00Z",
        "--notify",
    ]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0].decode() for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    # 24 of 30: thresholds 50 and 80 at once (80 sent, 50 covered), and the forecast
    # (50.5 > 30): two alerts, once each
    keys = sorted(body["alert"] for body in hook.bodies)
    assert keys == [
        "forecast|ml|2026-10-01T00:00:00+00:00|1",
        "threshold|ml|2026-10-01T00:00:00+00:00|80",
    ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns"])
def test_hourly_sums_and_calls_give_the_same_days(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, zone: str
) -> None:
    """Budget days come from whole UTC hours where the zone allows it (Paris: +1/+2 h) and
    from the calls themselves where it does not (Kolkata +5:30, St John's -2:30): the same
    spend per local day either way, checked against the calls summed here directly."""
    records: list[dict[str, Any] | str] = []
    for n in range(96):  # a call every 43 minutes over three days, across local midnights
        moment = datetime(2026, 10, 13, tzinfo=UTC) + timedelta(minutes=43 * n)
        records.append(
            call(moment.date(), 1 + n % 3, hour=moment.hour)
            | {"call_id": f"h{n}", "ts": moment.isoformat().replace("+00:00", "Z")}
        )
    ingest_records(priced, tmp_path, records, fmt=UsageFormat.FLAT_JSONL)
    last_call = datetime(2026, 10, 15, 20, 5, tzinfo=UTC)  # n = 95
    # mid-hour after the last call: with last_call known, that hour from the sums too; and
    # 19:10, with a call at 19:22 in the same hour: that hour from the calls, whatever is known
    for as_of in (
        datetime(2026, 10, 15, 20, 17, tzinfo=UTC),
        datetime(2026, 10, 15, 19, 10, tzinfo=UTC),
    ):
        expected = {
            day: Decimal(cost)
            for day, cost in priced.execute(
                "SELECT CAST(timezone($tz, c.ts) AS DATE), sum(b.total_cost) FROM calls c "
                "JOIN call_costs b USING (batch_id, source_line, source_item) "
                "WHERE c.ts < $as_of GROUP BY 1",
                {"tz": zone, "as_of": as_of},
            ).fetchall()
        }
        for known in (None, last_call):
            status = check_budget(priced, ml_budget("1000", timezone=zone), as_of, last_call=known)
            assert {d: v for d, v in status.daily.items() if v} == expected, (as_of, known)
