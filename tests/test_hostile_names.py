"""Warehouse text is printed as written: names full of Rich markup, emoji codes, quotes or a
leading ``=`` go through every CLI table and message without being rendered, lost or
crashing the command (ratecard/render.py prints data as text, never as markup)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import TEST_SHEETS, chat, write_jsonl
from ratecard import cli

HOSTILE = [
    "[link=http://evil.example]click[/link]",
    "[bold red]HACKED[/bold red]",
    "a[b]c",
    "[/]",
    "😀 :smile:",
    "\"quoted\" 'x'",
    "=1+1",
]

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A warehouse with one call (100 in, 10 out tokens on reapi) per hostile team/project."""
    path = str(tmp_path / "w.duckdb")
    assert run("ingest", "prices", str(TEST_SHEETS), "--db", path)[0] == 0
    records = [chat(call_id=f"c{i}", team=n, project=n) for i, n in enumerate(HOSTILE)]
    log = write_jsonl(tmp_path / "usage.jsonl", records)
    assert run("ingest", "usage", str(log), "--db", path)[0] == 0
    return path


def test_summary_prints_every_team_as_written(db: str) -> None:
    code, output = run("summary", "--by", "team", "--period", "2026-10", "--db", db)
    assert code == 0, output
    assert "Traceback" not in output and "\x1b" not in output
    for name in HOSTILE:
        row = rf"│ {re.escape(name)} +│     1 │      0 │        0 │       100 │          0 │ "
        assert re.search(row, output), (name, output)
    assert re.search(r"│ total +│     7 │", output)


def test_report_line_compare_and_budgets_print_names_as_written(db: str, tmp_path: Path) -> None:
    out = tmp_path / "r[b]x [red]y.csv"
    code, output = run("report", "--out", str(out), "--period", "2026-10", "--db", db)
    assert code == 0, output
    assert output.strip() == f"wrote 7 lines to {out}: 7 calls, 0.00 USD"

    code, output = run("compare", "--model", "a[b]c", "--period", "2026-10", "--db", db)
    assert code == 2
    assert output.strip() == (
        "error: --model a[b]c: no priced calls of this model; models with priced calls: minimax-m3"
    )

    budgets = tmp_path / "budgets.yml"
    budgets.write_text(
        "budgets:\n"
        "  - name: hostile\n"
        "    scope: {team: '[bold red]HACKED[/bold red]'}\n"
        "    period: monthly\n"
        "    amount: 0.002\n"
        "    thresholds: [1]\n",
        encoding="utf-8",
    )
    code, output = run(
        "budgets",
        "check",
        "--budgets",
        str(budgets),
        "--db",
        db,
        "--as-of",
        "2026-10-02T00:00:00Z",
        "--notify",
    )
    assert code == 0, output
    # the alert's line names the scope as written
    assert re.search(
        r"^alert: Budget hostile \(team=\[bold red\]HACKED\[/bold red\]\): 1% reached — "
        r"0\.00 USD of 0\.00 USD this month\.$",
        output,
        re.M,
    ), output
    assert re.search(
        r"│ hostile +│ team=\[bold red\]HACKED\[/bold red\] +│ monthly from 2026-10-01 UTC +│",
        output,
    ), output


def test_an_error_message_keeps_its_brackets(db: str, tmp_path: Path) -> None:
    budgets = tmp_path / "budgets.yml"
    budgets.write_text(
        "budgets:\n  - name: '[/]'\n    period: monthly\n    amount: 1\n", encoding="utf-8"
    )
    code, output = run("budgets", "check", "--budgets", str(budgets), "--db", db)
    assert code == 2
    assert output.strip() == (
        f"error: {budgets}: budgets[0].name: String should match pattern "
        "'^[A-Za-z0-9][A-Za-z0-9_.-]*$' (value: '[/]')"
    )
