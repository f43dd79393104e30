"""The month-end review notebook runs, top to bottom, against sample traffic (nbclient), as
Jupyter runs it (from `notebooks/`) and from the repository root, with the warehouse given
through the environment or as a parameter; and `make notebook` serves it.

The notebook is stored without outputs; each test executes a copy in a real Jupyter kernel
and checks what it shows: money to the cent (the exact amounts kept behind it), counts as
whole numbers, and a sentence, not an empty table, when nothing is to reconcile.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import sample_warehouse
from reports.finance import build_report, presented
from reports.money import plain
from reports.period import parse_period
from reports.reconcile import reconcile
from warehouse import connect

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "month_end_review.ipynb"
INVOICE = "examples/invoices/2026-10.csv"  # relative to the repository root
OCTOBER = parse_period("2026-10")
CENTS = re.compile(r"-?\d{1,3}(,\d{3})*\.\d{2}")
WHOLE = re.compile(r"\d{1,3}(,\d{3})*")


def test_the_stored_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_warehouse(tmp_path_factory.mktemp("notebook"))


class _Tables(HTMLParser):
    """The tables of an HTML output: header cells and body rows, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._cell: list[str] | None = None
        self._head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "thead":
            self._head = True
        elif tag == "tbody":
            self._head = False
        elif tag == "tr" and not self._head:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            header, rows = self.tables[-1]
            (header if self._head else rows[-1]).append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@dataclass
class Shown:
    """What an executed notebook showed."""

    printed: str
    tables: list[tuple[list[str], list[list[str]]]]
    markdown: str
    everything: str


def execute(notebook: Any, cwd: Path) -> Shown:
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": cwd}}
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    parser = _Tables()
    for output in outputs:
        parser.feed(output.get("data", {}).get("text/html", ""))
    return Shown(
        printed="".join(o.get("text", "") for o in outputs if o.output_type == "stream"),
        tables=parser.tables,
        markdown="".join(o.get("data", {}).get("text/markdown", "") for o in outputs),
        everything=json.dumps([o for o in outputs], default=str),
    )


def with_parameters(notebook: Any, source: str) -> Any:
    """Inject parameters after the cell tagged `parameters`, as papermill does."""
    (at,) = [i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])]
    notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(source))  # type: ignore[no-untyped-call]
    return notebook


def with_last_cell(notebook: Any, source: str) -> Any:
    notebook.cells.append(nbformat.v4.new_code_cell(source))  # type: ignore[no-untyped-call]
    return notebook


def check_presentation(shown: Shown, sample: Path) -> None:
    """Money to the cent, counts whole, the numbers of the finance report."""
    con = connect(sample, read_only=True)
    expected = presented(build_report(con, ("team", "project"), OCTOBER))
    con.close()
    spend_header, spend = shown.tables[0]
    assert spend_header == list(expected.header)
    assert spend[-1][0] == "total"
    column = {name: i for i, name in enumerate(spend_header)}
    (block,) = expected.blocks  # the sample is billed in USD only
    assert block.total is not None and block.currency == "USD"
    assert spend[-1][column["currency"]] == "USD"
    assert spend[-1][column["total_cost"]] == f"{block.total[column['total_cost']]:,.2f}"
    assert spend[-1][column["calls"]] == f"{block.total[column['calls']]:,}"
    assert spend[-1][column["input_tokens"]] == f"{block.total[column['input_tokens']]:,}"
    money = [n for n in spend_header if n.endswith("_cost")]
    counts = [n for n in spend_header if n.endswith(("calls", "tokens"))]
    assert len(money) == 7 and len(counts) == 9  # with the 1-hour cache writes
    for row in spend:
        assert all(CENTS.fullmatch(row[column[n]]) or not row[column[n]] for n in money), row
        assert all(WHOLE.fullmatch(row[column[n]]) or not row[column[n]] for n in counts), row
    residue = [row for row in spend if row[0] == "rounding residue"]
    if residue:  # a residue line has no counts: blank, not NaN or 0.0
        assert all(residue[0][column[n]] == "" for n in counts)

    movers_header, movers = shown.tables[1]
    assert movers_header == ["team / project", "currency", "previous", "this month", "change"]
    assert movers and all(all(CENTS.fullmatch(cell) for cell in row[2:]) for row in movers)
    assert {row[1] for row in movers} == {"USD"}

    quotes_header, quotes = shown.tables[2]
    assert quotes_header[:7] == [
        "billed in", "provider", "calls", "unpriced calls", "actual", "currency", "repriced"
    ]  # fmt: skip
    assert quotes and all(WHOLE.fullmatch(row[2]) and WHOLE.fullmatch(row[3]) for row in quotes)
    assert all(CENTS.fullmatch(row[4]) and CENTS.fullmatch(row[6]) for row in quotes)
    assert {(row[0], row[5]) for row in quotes} == {("USD", "USD")}

    for noise in ("Columns: []", "Empty DataFrame", "NaN", "<NA>", ".0<", "000000000"):
        assert noise not in shown.everything, noise


@pytest.mark.notebook
def test_from_the_repository_root_with_the_warehouse_from_the_environment(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATECARD_DB", str(sample))
    monkeypatch.setenv("RATECARD_MONTH", "2026-10")
    monkeypatch.delenv("RATECARD_INVOICE", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    with_last_cell(notebook, 'print("exact total", sum(exact["total_cost"].dropna()))')
    shown = execute(notebook, ROOT)

    assert f"{sample}: month-end review of 2026-10" in shown.printed
    check_presentation(shown, sample)
    con = connect(sample, read_only=True)
    report = build_report(con, ("team", "project"), OCTOBER)
    checked = reconcile(con, period=OCTOBER).calls_checked
    con.close()
    # the exact amounts are there behind the rounded table
    assert f"exact total {report.total('USD')}" in shown.printed
    assert len(str(report.total("USD")).split(".")[1]) == 15
    # nothing to reconcile is a sentence
    assert len(shown.tables) == 3
    assert f"**No discrepancies** in 2026-10: {checked:,} calls with a reported cost" in (
        shown.markdown
    )


@pytest.mark.notebook
def test_from_the_notebooks_folder_with_parameters_and_an_invoice(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Jupyter runs it: the kernel in notebooks/. Paths are taken from the repository
    root, so a root-relative warehouse and invoice are found."""
    for name in ("RATECARD_DB", "RATECARD_MONTH", "RATECARD_INVOICE"):
        monkeypatch.delenv(name, raising=False)
    relative = os.path.relpath(sample, ROOT)
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    with_parameters(notebook, f"db = {relative!r}\ninvoice = {INVOICE!r}")
    shown = execute(notebook, ROOT / "notebooks")

    # the month defaults to the last full month before the latest call (2026-11-21)
    assert f"{sample}: month-end review of 2026-10" in shown.printed
    check_presentation(shown, sample)
    con = connect(sample, read_only=True)
    result = reconcile(con, period=OCTOBER, invoice=ROOT / INVOICE)
    con.close()
    assert result.invoice_lines > 0 and result.discrepancies
    assert f"and {result.invoice_lines:,} invoice lines: {len(result.discrepancies)} " in (
        shown.printed
    )
    header, rows = shown.tables[3]
    assert header == [
        "kind", "provider", "model", "where", "currency", "ours", "theirs", "difference", "cause"
    ]  # fmt: skip
    assert len(rows) == len(result.discrepancies)
    # per-call differences are below a cent: shown in full, not rounded away
    for row, found in zip(rows, result.discrepancies, strict=True):
        assert row[:4] == [found.kind, found.provider, found.model, found.where]
        assert row[4] == (found.currency or "")
        assert row[7] == ("" if found.difference is None else plain(found.difference))
        assert row[8] == found.cause


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def jupyter(sample: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`make notebook`'s own commands (make -n), its Jupyter started on a free port."""
    port = free_port()
    commands = subprocess.run(
        ["make", "--no-print-directory", "-n", "notebook", f"NOTEBOOK_PORT={port}", f"DB={sample}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    install, serve = commands[-2:]
    assert "sync --locked" in install and "--group notebook" in install
    token = "notebook-test-token"
    log = (tmp_path / "jupyter.log").open("w")
    server = subprocess.Popen(
        ["bash", "-c", serve],
        cwd=ROOT,
        env={
            **os.environ,
            "JUPYTER_TOKEN": token,
            "BROWSER": "true",  # the browser it opens is `true`
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


@pytest.mark.notebook
def test_make_notebook_serves_it_on_localhost(jupyter: tuple[str, str], sample: Path) -> None:
    url, token = jupyter
    deadline = time.monotonic() + 60
    while True:
        try:
            request = urllib.request.Request(
                f"{url}/api/contents/month_end_review.ipynb?content=0",
                headers={"Authorization": f"token {token}"},
            )
            with urllib.request.urlopen(request, timeout=5) as answer:
                served = json.loads(answer.read())
            break
        except OSError:
            assert time.monotonic() < deadline, "Jupyter did not start"
            time.sleep(0.5)
    assert (served["path"], served["type"]) == ("month_end_review.ipynb", "notebook")
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{url}/api/kernelspecs", headers={"Authorization": f"token {token}"}
        ),
        timeout=5,
    ) as answer:
        assert "python3" in json.loads(answer.read())["kernelspecs"]
