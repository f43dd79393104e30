"""The import layering of ARCHITECTURE.md, beyond import-linter's static check: loading the
lower layers must not load the UI libraries at run time either."""

from __future__ import annotations

import subprocess
import sys


def test_core_layers_do_not_load_streamlit() -> None:
    code = (
        "import sys, warehouse, pricing.engine, pricing.sheet, ingest.usage, ingest.prices, "
        "reports.summary, reports.export; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'plotly'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
