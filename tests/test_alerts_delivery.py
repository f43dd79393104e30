"""Webhook delivery under faults: every alert to its own channel, once per URL, with a stable
idempotency key, never holding the warehouse while a hook is slow, and every run bounded.

The hooks are real HTTP servers on 127.0.0.1 that misbehave on purpose: 5xx, hang, answer
after the timeout, drip, accept slowly or never, 429 with Retry-After. Counts are of the
POSTs each path really received."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pytest
from test_budgets import call
from typer.testing import CliRunner

from conftest import TEST_SHEETS, blank_warehouse, file_of, ingest_records
from ingest.prices import load_prices
from ingest.usage import UsageFormat
from ratecard import cli
from reports.alerts import Alert, record
from reports.budgets import Channel, hook_fingerprint
from reports.delivery import Delivery, deliver_pending, idempotency_key
from warehouse import connect

T = TypeVar("T")
KEY = "threshold|ml|2026-10-01T00:00:00+00:00|50"
AS_OF = "2026-10-15T12:00:00Z"
NOW = ("--as-of", AS_OF, "--notify")


def bounded(function: Callable[[], T], limit: float = 60.0) -> T:
    """``function()``, failing the test if it has not returned within ``limit`` seconds: a
    delivery that hangs is a failure here, not a stuck CI job."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(function())
        except BaseException as exc:  # handed to the test below
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"still running after {limit} s"
    if failure:
        raise failure[0]
    return result[0]


Behaviour = Callable[[BaseHTTPRequestHandler, int, threading.Event], None]


def answer(status: int, **headers: str) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler, nth: int, released: threading.Event) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return behave


def hang(handler: BaseHTTPRequestHandler, nth: int, released: threading.Event) -> None:
    """Take the request and never answer (until the test ends)."""
    released.wait()


def late(seconds: float) -> Behaviour:
    """Take the request, and answer 200 only after ``seconds``."""

    def behave(handler: BaseHTTPRequestHandler, nth: int, released: threading.Event) -> None:
        released.wait(seconds)
        answer(200)(handler, nth, released)

    return behave


def busy_then_ok(retry_after: str) -> Behaviour:
    """429 with Retry-After on the first POST, 200 after."""

    def behave(handler: BaseHTTPRequestHandler, nth: int, released: threading.Event) -> None:
        (answer(429, Retry_After=retry_after) if nth == 1 else answer(200))(handler, nth, released)

    return behave


def drip(handler: BaseHTTPRequestHandler, nth: int, released: threading.Event) -> None:
    """Answer one byte every 0.1 s, for ever: no single read ever times out."""
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 1_000_000:
        if released.wait(0.1):
            return
        handler.wfile.write(bytes([byte]))


class Hooks:
    """A real HTTP server on 127.0.0.1 whose paths behave as planned; it keeps every POST
    each path received (body and headers), counted when the request has been read."""

    def __init__(self, behaviours: dict[str, Behaviour]) -> None:
        self.behaviours = behaviours
        self.posts: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = {
            path: [] for path in behaviours
        }
        self.released = threading.Event()
        self.received = threading.Condition()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with hooks.received:
                    hooks.posts[self.path].append((body, dict(self.headers)))
                    nth = len(hooks.posts[self.path])
                    hooks.received.notify_all()
                hooks.behaviours[self.path](self, nth, hooks.released)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def count(self, path: str) -> int:
        return len(self.posts[path])

    def keys(self, path: str) -> list[str]:
        """The alerts a path received, by the alert key in each body (json format) or the
        idempotency key (slack format)."""
        return [body.get("alert", body["idempotency_key"]) for body, _ in self.posts[path]]

    def wait_for(self, path: str, posts: int, limit: float = 60.0) -> None:
        with self.received:
            assert self.received.wait_for(lambda: self.count(path) >= posts, limit)

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[Callable[[dict[str, Behaviour]], Hooks]]:
    started: list[Hooks] = []

    def start(behaviours: dict[str, Behaviour]) -> Hooks:
        started.append(Hooks(behaviours))
        return started[-1]

    yield start
    for server in started:
        server.close()


class RawHook:
    """A socket that accepts connections only after ``delay`` (or never), then answers 200;
    it counts the requests it read."""

    def __init__(self, delay: float | None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.requests = 0
        self.fillers: list[socket.socket] = []
        if delay is None:
            # never accepts, and its one-connection backlog is full: connecting times out
            filler = socket.create_connection(self.sock.getsockname())
            self.fillers.append(filler)
        else:
            threading.Thread(target=self._serve, args=(delay,), daemon=True).start()

    def _serve(self, delay: float) -> None:
        time.sleep(delay)
        try:
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += conn.recv(65536)
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = int(
                        next(
                            line.split(b":")[1]
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length")
                        )
                    )
                    while len(body) < length:
                        body += conn.recv(65536)
                    self.requests += 1
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except OSError:  # closed at the end of the test
            return

    def close(self) -> None:
        for filler in self.fillers:
            filler.close()
        self.sock.close()


def one_alert(con: duckdb.DuckDBPyConnection, *channels: Channel) -> None:
    record(
        con,
        [Alert(KEY, "threshold", "ml", "Budget ml: 50% reached", {"threshold": 50}, channels)],
    )


def deliveries(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT channel, attempts, delivered_at IS NOT NULL, unconfirmed, claimed_by "
        "FROM alert_deliveries ORDER BY channel"
    ).fetchall()


def query(db: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows from the warehouse file at ``db``, opened read-only just for this."""
    reader = duckdb.connect(db, read_only=True)
    try:
        return reader.execute(sql).fetchall()
    finally:
        reader.close()


# Each fault: what the hook does, POSTs it receives in one run, whether the alert counts as
# delivered, unconfirmed (sent, no answer in time: the hook may have it), the error, and the
# waits between attempts. Requests time out after 0.5 s, the run's deadline is 3 s.
FAULTS = {
    # the hook says it failed: two retries, backing off 0.5 then 1 s; pending for next run
    "5xx": (answer(503), 3, False, False, "HTTP 503", [0.5, 1.0]),
    # it took the POST and never answered: not sent twice in a run, the next run sends again
    "hang": (hang, 1, False, True, "ReadTimeout", []),
    # it took the POST and answered after the timeout (it has the alert): once per run, not 3x
    "answer after the timeout": (late(1.5), 1, False, True, "ReadTimeout", []),
    # it answered 429 and asked for a second: waited for, then delivered
    "429 with Retry-After": (busy_then_ok("1"), 2, True, False, None, [1.0]),
    # it asks for longer than the run has left: not waited for, pending for the next run
    "429 beyond the deadline": (
        answer(429, Retry_After="600"),
        1,
        False,
        False,
        "before try 2",
        [],
    ),
    # each byte comes before the read timeout, the answer never ends: the deadline ends it
    "drip": (drip, 1, False, True, "deadline", []),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_is_bounded_and_never_sends_one_post_twice_in_a_run(
    con: duckdb.DuckDBPyConnection,
    hooks: Callable[[dict[str, Behaviour]], Hooks],
    fault: str,
) -> None:
    behaviour, posts, delivered, unconfirmed, error, waits = FAULTS[fault]
    server = hooks({"/hook": behaviour})
    channel = Channel(webhook=server.url("/hook"))
    one_alert(con, channel)
    db = file_of(con)
    slept: list[float] = []

    def run() -> list[Delivery]:
        return deliver_pending(db, [channel], timeout=0.5, deadline=3, sleep=slept.append)

    (result,) = bounded(run)
    assert server.count("/hook") == posts
    assert (result.delivered, result.unconfirmed) == (delivered, unconfirmed)
    assert (error is None) == (result.error is None), result.error
    assert error is None or error in (result.error or ""), result.error
    assert slept == waits
    # the same key in the header and the body (Slack reads no headers), on every POST
    key = idempotency_key(KEY, channel.name)
    assert {headers["Idempotency-Key"] for _, headers in server.posts["/hook"]} == {key}
    assert {body["idempotency_key"] for body, _ in server.posts["/hook"]} == {key}
    # recorded, claim released: the next run retries what is not delivered, and only that
    assert deliveries(con) == [(channel.name, result.attempts, delivered, int(unconfirmed), None)]
    before = server.count("/hook")
    again = bounded(run)
    if delivered:
        assert again == [] and server.count("/hook") == before
    else:
        assert not again[0].delivered and server.count("/hook") - before == posts


@pytest.mark.parametrize(
    ("delay", "posts", "delivered", "error"),
    [
        (0.3, 1, True, None),  # accepts late but within the timeout: delivered once
        (None, 0, False, "ConnectTimeout"),  # never accepts: nothing went out, so retried
    ],
)
def test_a_hook_slow_to_accept(
    con: duckdb.DuckDBPyConnection,
    delay: float | None,
    posts: int,
    delivered: bool,
    error: str | None,
) -> None:
    hook = RawHook(delay)
    try:
        channel = Channel(webhook=hook.url)
        one_alert(con, channel)
        slept: list[float] = []
        (result,) = bounded(
            lambda: deliver_pending(
                file_of(con), [channel], timeout=1.0, deadline=10, sleep=slept.append
            )
        )
        assert (hook.requests, result.delivered) == (posts, delivered)
        if error is None:
            assert result.error is None and result.attempts == 1
        else:
            # a connection never made cannot have been acted on: three attempts
            assert error in (result.error or "") and result.attempts == 3
            assert slept == [0.5, 1.0] and not result.unconfirmed
    finally:
        hook.close()


@pytest.fixture
def two_teams(tmp_path: Path) -> str:
    """Team ml spends $2 a day from Oct 1 to 12 ($24); team other $7 on Oct 10."""
    con = connect(blank_warehouse(tmp_path / "warehouse.duckdb"))
    load_prices(con, [TEST_SHEETS])
    records: list[dict[str, Any] | str] = []
    for n in range(12):
        day = date(2026, 10, 1) + timedelta(days=n)
        records.append(call(day, 2, team="ml"))
    records.append(call(date(2026, 10, 10), 7, team="other"))
    ingest_records(con, tmp_path, records, fmt=UsageFormat.FLAT_JSONL)
    con.close()
    return str(tmp_path / "warehouse.duckdb")


def budgets_file(folder: Path, ml: list[str], other: list[str]) -> str:
    """ml: $20 with thresholds 50 and 100 (24 spent: both, exceeded, so no forecast alert);
    other: $5 with threshold 100 (7 spent). Channels are YAML flow mappings."""
    path = folder / "budgets.yml"
    path.write_text(
        "budgets:\n"
        "  - {name: ml, scope: {team: ml}, period: monthly, amount: 20, thresholds: [50, 100],"
        f" channels: [{', '.join(ml)}]}}\n"
        "  - {name: other, scope: {team: other}, period: monthly, amount: 5, thresholds: [100],"
        f" channels: [{', '.join(other)}]}}\n",
        encoding="utf-8",
    )
    return str(path)


ML_ALERTS = [
    "threshold|ml|2026-10-01T00:00:00+00:00|50",
    "threshold|ml|2026-10-01T00:00:00+00:00|100",
]
OTHER_ALERTS = ["threshold|other|2026-10-01T00:00:00+00:00|100"]


def notify(db: str, budgets: str, *extra: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(
        cli.app,
        [
            "budgets",
            "check",
            "--db",
            db,
            "--budgets",
            budgets,
            "--as-of",
            AS_OF,
            "--notify",
            *extra,
        ],
        env={"COLUMNS": "200", **(env or {})},
    )
    assert result.exit_code == 1, result.output  # both budgets are exceeded
    return result.output


def test_two_slack_hooks_on_one_host_each_get_their_own_alerts_exactly_once(
    two_teams: str, tmp_path: Path, hooks: Callable[[dict[str, Behaviour]], Hooks]
) -> None:
    ml_path, other_path = "/services/T01/B01/ml-secret", "/services/T01/B02/other-secret"
    server = hooks({ml_path: answer(200), other_path: answer(200)})
    budgets = budgets_file(
        tmp_path,
        [f"{{webhook: '{server.url(ml_path)}', format: json}}"],
        [f"{{webhook: '{server.url(other_path)}', format: json}}"],
    )
    output = notify(two_teams, budgets)
    notify(two_teams, budgets)  # a second run sends nothing again
    assert sorted(server.keys(ml_path)) == sorted(ML_ALERTS)
    assert server.keys(other_path) == OTHER_ALERTS
    assert all(body["budget"] == "ml" for body, _ in server.posts[ml_path])
    # the URLs are secrets: named by origin and fingerprint, stored by fingerprint only
    assert f"sent to {server.base}/… ({hook_fingerprint(server.url(ml_path))})" in output
    assert "ml-secret" not in output
    stored = query(two_teams, "SELECT DISTINCT channel, format FROM alert_deliveries")
    assert sorted(stored) == sorted(
        [(hook_fingerprint(server.url(p)), "json") for p in (ml_path, other_path)]
    )
    assert "secret" not in Path(two_teams).read_bytes().decode("latin-1")


def test_channels_holding_one_url_send_each_alert_to_it_once(
    two_teams: str, tmp_path: Path, hooks: Callable[[dict[str, Behaviour]], Hooks]
) -> None:
    server = hooks({"/shared": answer(200)})
    url = server.url("/shared")
    # ml lists two variables holding the URL and the URL itself; other a third variable
    budgets = budgets_file(
        tmp_path,
        ["{webhook_env: ML_A}", "{webhook_env: ML_B}", f"{{webhook: '{url}'}}"],
        ["{webhook_env: OTHER_HOOK}"],
    )
    env = {"ML_A": url, "ML_B": url, "OTHER_HOOK": url}
    output = notify(two_teams, budgets, env=env)
    notify(two_teams, budgets, env=env)
    # one POST per alert: ml's two and other's one, each once
    keys = [body["idempotency_key"] for body, _ in server.posts["/shared"]]
    assert sorted(keys) == sorted(
        [idempotency_key(key, "env:ML_A") for key in ML_ALERTS]
        + [idempotency_key(OTHER_ALERTS[0], "env:OTHER_HOOK")]
    )
    assert "same URL as env:ML_A" in output
    rows = query(
        two_teams,
        "SELECT count(*), count(delivered_at), count(DISTINCT target) FROM alert_deliveries",
    )
    assert rows == [(7, 7, 1)]  # 2 alerts x 3 channels + 1: all settled


def test_a_hung_hook_never_holds_the_warehouse(
    two_teams: str, tmp_path: Path, hooks: Callable[[dict[str, Behaviour]], Hooks]
) -> None:
    server = hooks({"/hung": hang})
    budgets = budgets_file(tmp_path, [f"{{webhook: '{server.url('/hung')}', format: json}}"], [])
    command = [sys.executable, "-m", "ratecard", "budgets", "check", "--db", two_teams]
    command += ["--budgets", budgets, "--as-of", AS_OF, "--notify", "--notify-timeout", "60"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        server.wait_for("/hung", 1)
        # while the hook hangs, the warehouse is free: a writer opens it at once...
        writer = connect(two_teams, create=False, wait=0)
        claimed = writer.execute(
            "SELECT count(*) FROM alert_deliveries WHERE claimed_by IS NOT NULL"
        ).fetchall()
        writer.close()
        assert claimed == [(2,)]  # both of ml's alerts, claimed by the run sending them
        # ...and a second run sends nothing the first one is sending
        assert "sent to" not in notify(two_teams, budgets)
    finally:
        server.released.set()  # the hook hangs up without ever answering
        output = run.communicate(timeout=120)[0].decode()
    assert run.returncode == 1, output
    assert sorted(server.keys("/hung")) == sorted(ML_ALERTS)  # one POST each, ever


class FailOn:
    """A connection that fails the statement that mentions ``table`` (a crash there)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        self.con, self.table = con, table

    def execute(self, query: str, params: object = None) -> duckdb.DuckDBPyConnection:
        if self.table in query and query.lstrip().startswith("INSERT"):
            raise duckdb.IOException("disk full")
        return self.con.execute(query, params)


def test_an_alert_is_recorded_with_its_deliveries_or_not_at_all(
    con: duckdb.DuckDBPyConnection,
) -> None:
    channel = Channel(webhook="https://hooks.example.com/a")
    alert = Alert(KEY, "threshold", "ml", "Budget ml: 50% reached", {}, (channel,))
    with pytest.raises(duckdb.IOException):
        record(FailOn(con, "alert_deliveries"), [alert])  # type: ignore[arg-type]
    assert con.execute("SELECT count(*) FROM alerts").fetchall() == [(0,)]
    # so the next run records it again, with its delivery: the alert is not lost
    assert [a.key for a in record(con, [alert])] == [KEY]
    assert con.execute("SELECT alert_key, channel FROM alert_deliveries").fetchall() == [
        (KEY, channel.name)
    ]


def test_deliveries_recorded_by_host_go_to_their_own_budgets_hook(
    tmp_path: Path, hooks: Callable[[dict[str, Behaviour]], Hooks]
) -> None:
    ml_path, other_path = "/services/T01/B01/ml", "/services/T01/B02/other"
    server = hooks({ml_path: answer(200), other_path: answer(200)})
    legacy = f"{server.base}/..."  # how deliveries named both hooks before schema 13
    # a warehouse upgraded from before schema 13 (the baseline's comment on
    # alert_deliveries): ml's 50% alert reached "the host" and stays under its old name; its
    # 100% alert and other's failed (the host was down) and were renamed host:<base>
    con = connect(tmp_path / "old.duckdb")
    con.execute(
        "INSERT INTO alerts VALUES ($k1, 'threshold', 'ml', 'm', '{}', now()), "
        "($k2, 'threshold', 'ml', 'm', '{}', now()), "
        "($k3, 'threshold', 'other', 'o', '{}', now())",
        {"k1": ML_ALERTS[0], "k2": ML_ALERTS[1], "k3": OTHER_ALERTS[0]},
    )
    con.execute(
        "INSERT INTO alert_deliveries (alert_key, channel, attempts, delivered_at, last_error) "
        "VALUES ($k1, $c, 1, now(), NULL), ($k2, $h, 3, NULL, 'HTTP 503'), "
        "($k3, $h, 3, NULL, 'HTTP 503')",
        {
            "k1": ML_ALERTS[0],
            "k2": ML_ALERTS[1],
            "k3": OTHER_ALERTS[0],
            "c": legacy,
            "h": f"host:{server.base}",
        },
    )
    con.close()
    budgets = budgets_file(
        tmp_path,
        [f"{{webhook: '{server.url(ml_path)}', format: json}}"],
        [f"{{webhook: '{server.url(other_path)}', format: json}}"],
    )
    result = CliRunner().invoke(
        cli.app,
        ["budgets", "check", "--db", str(tmp_path / "old.duckdb"), "--budgets", budgets, *NOW],
    )
    assert result.exit_code == 0, result.output  # this warehouse has no spend
    # each pending alert went to its own budget's hook, once; the delivered one not again
    assert server.keys(ml_path) == [ML_ALERTS[1]]
    assert server.keys(other_path) == OTHER_ALERTS
    rows = query(
        str(tmp_path / "old.duckdb"),
        "SELECT alert_key, channel, attempts, delivered_at IS NOT NULL FROM alert_deliveries "
        "ORDER BY 1",
    )
    assert rows == sorted(
        [
            (ML_ALERTS[0], legacy, 1, True),
            (ML_ALERTS[1], hook_fingerprint(server.url(ml_path)), 4, True),
            (OTHER_ALERTS[0], hook_fingerprint(server.url(other_path)), 4, True),
        ]
    )
