"""The month-end review notebook runs, top to bottom, against sample traffic (nbclient).

The notebook is stored without outputs; this executes a copy in a real Jupyter kernel with
the warehouse and month given through the environment, and checks what it printed.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import sample_warehouse
from reports.finance import build_report, presented
from reports.period import parse_period
from warehouse import connect

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "month_end_review.ipynb"


def test_the_stored_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_month_end_review_runs_against_sample_traffic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sample_warehouse(tmp_path)
    con = connect(db)
    expected = presented(build_report(con, ("team", "project"), parse_period("2026-10")))
    con.close()

    monkeypatch.setenv("RATECARD_DB", str(db))
    monkeypatch.setenv("RATECARD_MONTH", "2026-10")
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )
    assert f"{db}: month-end review of 2026-10" in printed
    assert f"total {expected.total[-2]} USD" in printed
    assert "calls with a reported cost: 0 discrepancies" in printed
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
