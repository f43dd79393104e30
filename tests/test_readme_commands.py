"""Every command of the README (and of docs/*.md) runs in the suite, as written.

Each fenced ``sh`` block is read line by line (a trailing ``\\`` continues a line) and every
command runs in bash, in order, in a folder laid out like the repository root: its
virtualenv, examples and docs linked, ``data/`` with the shipped sheets and budgets and the
demo warehouse at its default path (``data/warehouse/ratecard.duckdb``). ``ratecard`` is NOT
on PATH: the README's own setup step, ``source .venv/bin/activate``, runs first and is
repeated before every later command, as a user's shell would have it.

- ``https://gateway.example`` is a local usage export on 127.0.0.1 (bearer token checked),
  and the budget webhooks named in ``data/budgets.yml`` point to a local sink. Any other
  URL left in a command fails the test rather than reach the network, and proxies to a dead
  port catch a request a command makes on its own.
- A command must exit 0, or 0 or 1 where its comment says it "exits 1" / "exit 1" (a
  finding, such as a discrepancy); never with a traceback.
- Its output must be readable: the file ``--out`` names is parsed by its suffix (CSV, XLSX
  with openpyxl, Parquet with DuckDB, HTML), otherwise what it printed must not be empty.
- ``not run by the suite: why`` skips a command (in its comment) or a block (in an HTML
  comment on the line before it); the reason is required.

Failures name the file, the line and the command: other changes add commands to these
documents, and the test must say which one broke.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest
import yaml

from conftest import D, chat, sample_warehouse
from reports.period import parse_period
from reports.reconcile import reconcile
from warehouse import connect

pytestmark = pytest.mark.docs_commands  # a process per command: `make test` runs them, not quick

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
"""The documents whose commands must run: the README, and the reference pages in docs/."""
SKIP = "not run by the suite:"
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w-]*)")
SHELLS = {"sh", "bash", "shell"}
BLOCK_SKIP = re.compile(r"<!--\s*" + re.escape(SKIP) + r"\s*(.*?)\s*-->")
MAY_EXIT_1 = re.compile(r"\bexits? 1\b")
DEMO_CALLS = 30_000  # what `make demo` generates
TOKEN = "readme-gateway-token"
LINKED = (".venv", "examples", "notebooks", "docs", "tests")
"""What the commands may read besides data/, linked from the repository. Not the Makefile,
pyproject.toml or .tools/: a command left unmarked (make demo, make test) must fail there,
not reinstall the virtualenv or run the suite from inside it."""


@dataclass(frozen=True)
class Command:
    """One command of a document, as written, with the setup lines before it."""

    path: Path
    line: int
    text: str
    comment: str
    setup: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_setup(self) -> bool:
        return self.text.startswith(("source ", ". "))


def split_comment(text: str) -> tuple[str, str]:
    """A shell line's command and its comment: a ``#`` starting a word outside quotes."""
    quote = ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip(), text[i + 1 :].strip()
    return text.rstrip(), ""


def commands_of(path: Path) -> tuple[list[Command], list[tuple[str, str]]]:
    """The document's commands to run, and those skipped (where, reason)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    commands: list[Command] = []
    skipped: list[tuple[str, str]] = []
    setup: list[str] = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        opening, language = fence.groups()
        start = index
        index += 1
        block: list[tuple[int, str]] = []
        while index < len(lines) and not lines[index].strip().startswith(opening):
            block.append((index + 1, lines[index]))
            index += 1
        index += 1
        if language not in SHELLS:
            continue
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        mark = BLOCK_SKIP.search(before)
        if mark:
            assert mark.group(1), f"{path.name}:{start}: '{SKIP}' needs a reason"
            skipped += [(f"{path.name}:{n}", mark.group(1)) for n, t in block if t.strip()]
            continue
        joined: list[tuple[int, str]] = []
        for number, text in block:
            if joined and joined[-1][1].endswith("\\"):
                joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + text.strip())
            else:
                joined.append((number, text.strip()))
        for number, text in joined:
            command, comment = split_comment(text)
            if not command:
                continue
            if SKIP in comment:
                reason = comment.split(SKIP, 1)[1].strip()
                assert reason, f"{path.name}:{number}: '{SKIP}' needs a reason"
                skipped.append((f"{path.name}:{number}", reason))
                continue
            found = Command(path, number, command, comment, tuple(setup))
            commands.append(found)
            if found.is_setup:
                setup.append(command)
    return commands, skipped


COMMANDS = [c for path in DOCUMENTS for c in commands_of(path)[0]]


def test_the_documents_have_commands_and_every_skip_says_why() -> None:
    commands, skipped = commands_of(ROOT / "README.md")
    assert len(commands) >= 20, "the README's sh blocks were not found"
    assert any(c.is_setup for c in commands), "the README no longer says how to get ratecard"
    assert all(reason for _, reason in skipped)
    # the commands that need the setup step come after it
    first = next(i for i, c in enumerate(commands) if c.is_setup)
    assert all(c.setup for c in commands[first + 1 :])
    assert not any(c.text.startswith("ratecard") for c in commands[:first])


# ---- the local stand-ins ------------------------------------------------------------------

EXPORT_PAGES: dict[str | None, tuple[list[dict[str, Any]], str | None]] = {
    # two pages of a gateway's usage export, after the demo's last day
    None: (
        [
            chat(call_id="gw-1", ts="2026-11-25T09:00:00Z", prompt=4_000, completion=300),
            chat(call_id="gw-2", ts="2026-11-25T09:05:00Z", prompt=9_000, completion=800),
        ],
        "page-2",
    ),
    "page-2": ([chat(call_id="gw-3", ts="2026-11-25T10:00:00Z", prompt=500, completion=40)], None),
}


@dataclass
class Seen:
    """What the local servers were asked."""

    pages: list[str | None] = field(default_factory=list)
    refused: int = 0
    hooks: list[bytes] = field(default_factory=list)


def _server(seen: Seen) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/v1/usage":
                self._answer(404, {"error": "not found"})
            elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                seen.refused += 1
                self._answer(401, {"error": "bad token"})
            else:
                cursor = parse_qs(url.query).get("cursor", [None])[0]
                seen.pages.append(cursor)
                records, following = EXPORT_PAGES[cursor]
                self._answer(200, {"data": records, "next_cursor": following})

        def do_POST(self) -> None:
            seen.hooks.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self._answer(200, {"ok": True})

    return Handler


@dataclass
class Shell:
    """Where the commands run: the folder, the environment, the URLs standing in."""

    cwd: Path
    env: dict[str, str]
    hosts: dict[str, str]
    seen: Seen
    warehouse: Path
    ran: set[str] = field(default_factory=set)
    """The commands run so far (where)."""


def _without_the_virtualenv(path: str) -> str:
    venv = {(ROOT / ".venv" / "bin").resolve(), Path(sys.executable).parent.resolve()}
    return os.pathsep.join(p for p in path.split(os.pathsep) if p and Path(p).resolve() not in venv)


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    folder = tmp_path_factory.mktemp("readme")
    cwd = folder / "repository"
    cwd.mkdir()
    for name in LINKED:
        if (ROOT / name).exists():
            (cwd / name).symlink_to(ROOT / name)
    (cwd / "data" / "warehouse").mkdir(parents=True)
    for entry in (ROOT / "data").iterdir():
        if entry.name not in {"warehouse", "samples"}:
            (cwd / "data" / entry.name).symlink_to(entry)
    warehouse = cwd / "data" / "warehouse" / "ratecard.duckdb"  # the default --db
    shutil.move(sample_warehouse(folder / "demo", DEMO_CALLS), warehouse)

    seen = Seen()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _server(seen))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}"
    budgets = yaml.safe_load((ROOT / "data" / "budgets.yml").read_text(encoding="utf-8"))
    channels = [c for b in budgets["budgets"] for c in b.get("channels", [])]
    hooks = {c["webhook_env"] for c in [*channels, *budgets.get("hygiene_channels", [])]}
    env = {
        name: value
        for name, value in os.environ.items()
        if name != "VIRTUAL_ENV" and not name.startswith("RATECARD_")
    }
    env |= {
        "PATH": _without_the_virtualenv(env.get("PATH", "")),
        "GATEWAY_TOKEN": TOKEN,
        # a request a command makes on its own fails fast instead of leaving the machine
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "ALL_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
        **{name: f"{local}/hooks/{name}" for name in hooks},
    }
    try:
        yield Shell(cwd, env, {"https://gateway.example": local}, seen, warehouse)
    finally:
        server.shutdown()
        server.server_close()


# ---- reading what a command wrote ---------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def out_file(command: str) -> str | None:
    words = shlex.split(command)
    for i, word in enumerate(words):
        if word == "--out" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--out="):
            return word.split("=", 1)[1]
    return None


def read_back(path: Path) -> str:
    """Parse a written file by its suffix; say what it holds, or fail."""
    assert path.is_file() and path.stat().st_size > 0, f"{path.name} was not written"
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), rows[:3]
        return f"{len(rows) - 1} CSV rows"
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:  # a read-only workbook holds its file open until closed
            cells = list(book.worksheets[0].iter_rows(values_only=True))
        finally:
            book.close()
        assert len(cells) >= 2, cells
        return f"{len(cells) - 1} XLSX rows"
    if suffix == ".parquet":
        con = duckdb.connect()
        (count,) = con.execute(
            "SELECT count(*) FROM read_parquet($path)", {"path": str(path)}
        ).fetchall()[0]
        con.close()
        assert count >= 1
        return f"{count} Parquet rows"
    if suffix in (".html", ".htm"):
        parser = _Tags()
        parser.feed(path.read_text(encoding="utf-8"))
        assert {"html", "table"} <= parser.tags, parser.tags
        return "an HTML page with a table"
    return f"{path.stat().st_size} bytes"


def run(command: Command, shell: Shell) -> subprocess.CompletedProcess[str]:
    text = command.text
    for host, local in shell.hosts.items():
        text = text.replace(host, local)
    remote = [u for u in re.findall(r"https?://[^\s'\"]+", text) if "//127.0.0.1" not in u]
    assert not remote, (
        f"{command.where}: `{command.text}` would reach {remote[0]}: give it a local "
        "stand-in in tests/test_readme_commands.py or mark it 'not run by the suite: why'"
    )
    script = "\n".join(["set -eo pipefail", *command.setup, text])
    return subprocess.run(
        ["bash", "-c", script],
        cwd=shell.cwd,
        env=shell.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_the_command_runs_as_written(command: Command, shell: Shell) -> None:
    result = run(command, shell)
    shell.ran.add(command.where)
    said = (result.stdout + result.stderr).strip()
    context = f"{command.where}: `{command.text}` exited {result.returncode}:\n{said[-3000:]}"
    assert "Traceback (most recent call last)" not in said, context
    allowed = {0, 1} if MAY_EXIT_1.search(command.comment) else {0}
    assert result.returncode in allowed, context
    if command.is_setup:
        return
    written = out_file(command.text)
    if written is None:
        assert said, f"{command.where}: `{command.text}` printed nothing"
        return
    try:
        read_back(shell.cwd / written)
    except AssertionError as failure:
        raise AssertionError(f"{command.where}: `{command.text}`: {failure}") from None


def test_the_stand_ins_were_used(shell: Shell) -> None:
    """The pull went through the local export, both pages, with the token."""
    pulls = [c.where for c in COMMANDS if "https://gateway.example" in c.text]
    if not pulls or not set(pulls) <= shell.ran:
        pytest.skip("no command pulling from the gateway ran in this session")
    assert shell.seen.pages[:2] == [None, "page-2"] and shell.seen.refused == 0


def test_the_shipped_invoice_finds_what_examples_readme_says(shell: Shell) -> None:
    con = connect(shell.warehouse, read_only=True)
    result = reconcile(
        con, period=parse_period("2026-10"), invoice=ROOT / "examples/invoices/2026-10.csv"
    )
    con.close()
    assert result.invoice_lines == 11
    assert [
        (d.provider, d.model, d.stated, d.cause.split(":")[0]) for d in result.discrepancies
    ] == [
        ("reapi", "minimax/minimax-m3", D("25.72"), "cache discount missing"),
        ("runapi", "MiniMax-M1", D("1.21"), "cannot compare"),
    ]
