"""The import layering of ARCHITECTURE.md, beyond import-linter's static check: loading the
lower layers must not load the UI libraries at run time either."""

from __future__ import annotations

import json
import subprocess
import sys


def test_core_layers_do_not_load_streamlit() -> None:
    code = (
        "import sys, warehouse, pricing.engine, pricing.sheet, ingest.usage, ingest.prices, "
        "reports.summary, reports.export; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'altair'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def loaded_ui_libraries(modules: str) -> list[str]:
    """The UI libraries (streamlit, altair) a fresh interpreter loads to import ``modules``."""
    code = (
        f"import json, sys, {modules}; "
        "top = {m.split('.')[0] for m in sys.modules}; "
        "print(json.dumps(sorted(top & {'streamlit', 'altair'})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    found: list[str] = json.loads(result.stdout)
    return found


def test_the_dashboards_logic_runs_without_streamlit() -> None:
    # queries and comparison are plain logic the pages lay out; figures draws with Altair only
    assert loaded_ui_libraries("dashboards.queries, dashboards.comparison") == []
    assert loaded_ui_libraries("dashboards.figures") == ["altair"]
