"""Opening the warehouse: a path with no warehouse is refused by every command that must not
create one, and a command waits a bounded time for another process's lock, saying whom for.

The lock tests run real processes: one holds the file (read-write like an ingest, or
read-only like a dashboard render) until the test tells it to let go."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import TEST_SHEETS, chat, sample_warehouse, write_jsonl
from dashboards import queries
from ratecard import cli
from warehouse import RatecardError, WarehouseLocked, connect
from warehouse.lock import lock_timeout

PROJECT = Path(__file__).resolve().parent.parent
HOLDER = """
import sys
from warehouse import connect
con = connect(sys.argv[1], read_only=sys.argv[2] == "read-only", create=False, wait=0)
print("held", flush=True)
sys.stdin.readline()
con.close()
"""


class Holder:
    """Another process holding the warehouse open until :meth:`release`."""

    def __init__(self, folder: Path, db: Path, mode: str) -> None:
        script = folder / "holder.py"
        script.write_text(HOLDER, encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(db), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == "held\n"
        self.pid = self.process.pid

    def release(self) -> None:
        if self.process.returncode is None:
            self.process.communicate("\n", timeout=60)  # and closes the pipes


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    loaded = CliRunner().invoke(cli.app, ["ingest", "prices", str(TEST_SHEETS), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    return db


@pytest.fixture
def hold(tmp_path: Path, warehouse_file: Path) -> Iterator[list[Holder]]:
    holders: list[Holder] = []
    yield holders
    for holder in holders:
        holder.release()


class Command:
    """``ratecard …`` in its own process, its stderr read line by line as it comes."""

    def __init__(self, *args: str, timeout: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ratecard", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "RATECARD_LOCK_TIMEOUT": timeout, "COLUMNS": "200"},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_line(self, text: str) -> str:
        """The first stderr line containing ``text`` (failing if the command ends first)."""
        while True:
            line = self.lines.get(timeout=120)
            assert line is not None, f"ended without saying {text!r}: {self.stderr}"
            self.stderr.append(line)
            if text in line:
                return line

    def finish(self) -> tuple[int, str, str]:
        assert self.process.stdout is not None and self.process.stderr is not None
        out = self.process.stdout.read()
        self.process.wait(timeout=120)
        while (line := self.lines.get(timeout=60)) is not None:
            self.stderr.append(line)
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode, out, "".join(self.stderr)


@pytest.mark.parametrize(
    ("mode", "args"),
    [
        # a reader while an ingest writes
        ("read-write", ["summary"]),
        ("read-write", ["report", "--out", "{tmp}/report.csv", "--period", "2026-10"]),
        # a writer while another writes, and while a dashboard render reads
        ("read-write", ["ingest", "usage", "{tmp}/usage.jsonl"]),
        ("read-only", ["ingest", "usage", "{tmp}/usage.jsonl"]),
    ],
)
def test_a_command_waits_for_the_lock_saying_who_holds_it(
    tmp_path: Path, warehouse_file: Path, hold: list[Holder], mode: str, args: list[str]
) -> None:
    write_jsonl(tmp_path / "usage.jsonl", [chat()])
    hold.append(Holder(tmp_path, warehouse_file, mode))
    command = Command(
        *[a.format(tmp=tmp_path) for a in args], "--db", str(warehouse_file), timeout="120"
    )
    line = command.wait_for_line("waiting for the warehouse lock")
    assert f"held by PID {hold[0].pid} (holder.py {warehouse_file} {mode})" in line
    assert "up to 120 s (RATECARD_LOCK_TIMEOUT)" in line
    hold[0].release()
    code, out, err = command.finish()
    assert code == 0, err
    assert "Conflicting lock" not in err and "Traceback" not in err
    if args[0] == "ingest":
        assert "read 1 = loaded 1 + duplicates 0 + quarantined 0" in out


def test_a_command_gives_up_after_the_lock_timeout_naming_the_holder(
    tmp_path: Path, warehouse_file: Path, hold: list[Holder]
) -> None:
    hold.append(Holder(tmp_path, warehouse_file, "read-write"))
    command = Command("summary", "--db", str(warehouse_file), timeout="0.5")
    code, _, err = command.finish()
    assert code == 2
    assert (
        f"{warehouse_file}: PID {hold[0].pid} (holder.py {warehouse_file} read-write) has the "
        "warehouse locked; waited 0.5 s for it. Let it finish and run this again, or wait "
        "longer with RATECARD_LOCK_TIMEOUT=<seconds>." in " ".join(err.split())
    )
    assert "Conflicting lock" not in err and "Traceback" not in err


def test_the_dashboard_waits_for_a_writer_and_says_so(tmp_path: Path) -> None:
    db = sample_warehouse(tmp_path, calls=300)
    holder = Holder(tmp_path, db, "read-write")
    told: list[str] = []

    def busy(message: str) -> None:
        told.append(message)
        holder.release()  # the ingest ends while the page waits

    try:
        queries.options.cache_clear()  # type: ignore[attr-defined]
        with queries.session(on_busy=busy):
            options = queries.options(str(db))
    finally:
        holder.release()
    assert options.providers  # the page drew once the writer was done
    assert len(told) == 1
    assert told[0].startswith(f"waiting for the warehouse lock held by PID {holder.pid} ")


def test_the_dashboard_names_a_writer_that_outlasts_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    db = sample_warehouse(tmp_path, calls=300)
    holder = Holder(tmp_path, db, "read-write")
    monkeypatch.setenv("RATECARD_DB", str(db))
    monkeypatch.setenv("RATECARD_LOCK_TIMEOUT", "0.5")
    try:
        queries.options.cache_clear()  # type: ignore[attr-defined]
        app = AppTest.from_file(str(PROJECT / "dashboards" / "app.py"), default_timeout=60)
        app.run()
    finally:
        holder.release()
    assert not app.exception, [e.value for e in app.exception]
    (error,) = [e.value for e in app.error]
    assert f"PID {holder.pid} (holder.py {db} read-write) has the warehouse locked" in error
    assert "RATECARD_LOCK_TIMEOUT" in error


def test_the_lock_timeout_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RATECARD_LOCK_TIMEOUT", raising=False)
    assert lock_timeout() == 120
    monkeypatch.setenv("RATECARD_LOCK_TIMEOUT", "7.5")
    assert lock_timeout() == 7.5
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv("RATECARD_LOCK_TIMEOUT", bad)
        with pytest.raises(RatecardError, match=f"RATECARD_LOCK_TIMEOUT='{bad}': give the"):
            lock_timeout()


def test_connect_without_waiting_names_the_holder(tmp_path: Path, warehouse_file: Path) -> None:
    holder = Holder(tmp_path, warehouse_file, "read-only")
    try:
        with pytest.raises(WarehouseLocked) as caught:
            connect(warehouse_file, wait=0)
    finally:
        holder.release()
    assert caught.value.holder.pid == holder.pid


# Every command that must not create a warehouse, as a user would type it.
NON_CREATING = {
    "bill": ["bill"],
    "bill --rebill": ["bill", "--rebill"],
    "summary": ["summary"],
    "report": ["report", "--out", "{tmp}/report.csv", "--period", "2026-10"],
    "report focus": ["report", "--out", "{tmp}/focus.csv", "--format", "focus"],
    "export calls": ["export", "calls", "--out", "{tmp}/calls.csv"],
    "compare": ["compare", "--model", "minimax-m3"],
    "reconcile": ["reconcile"],
    "budgets check": ["budgets", "check", "--budgets", "{budgets}"],
    "budgets check --notify": ["budgets", "check", "--budgets", "{budgets}", "--notify"],
    "dashboard": ["dashboard"],
}


@pytest.mark.parametrize("command", list(NON_CREATING))
@pytest.mark.parametrize("where", ["missing folder", "missing file", "bare DuckDB file"])
def test_a_command_that_must_not_create_a_warehouse_refuses_a_path_without_one(
    tmp_path: Path, command: str, where: str
) -> None:
    budgets = tmp_path / "budgets.yml"
    budgets.write_text("budgets:\n  - {name: all, period: monthly, amount: 10}\n", encoding="utf-8")
    db = tmp_path / ("typo" if where == "missing folder" else ".") / "x.duckdb"
    if where == "bare DuckDB file":
        import duckdb

        duckdb.connect(str(db)).close()  # a DuckDB file, but no ratecard tables
    args = [a.format(tmp=tmp_path, budgets=budgets) for a in NON_CREATING[command]]
    result = CliRunner().invoke(cli.app, [*args, "--db", str(db)], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    why = "a DuckDB file without ratecard's tables" if where == "bare DuckDB file" else "no such"
    assert f"error: {db}: no warehouse here ({why}" in message
    assert "Create one with `ratecard ingest prices` / `ratecard ingest usage`, `ratecard pull" in (
        message
    )
    assert db.exists() == (where == "bare DuckDB file")
    assert (tmp_path / "typo").exists() is False
    if where == "bare DuckDB file":  # and left as it was, without ratecard's tables
        import duckdb

        bare = duckdb.connect(str(db), read_only=True)
        assert bare.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
        bare.close()


@pytest.mark.parametrize(
    "args",
    [
        ["ingest", "prices", str(TEST_SHEETS)],
        ["ingest", "usage", "{tmp}/usage.jsonl"],
    ],
)
def test_ingest_creates_the_warehouse_and_its_folder(tmp_path: Path, args: list[str]) -> None:
    write_jsonl(tmp_path / "usage.jsonl", [chat()])
    db = tmp_path / "new" / "w.duckdb"
    result = CliRunner().invoke(cli.app, [*[a.format(tmp=tmp_path) for a in args], "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert db.exists()
