"""The built wheel installs anywhere: in a fresh virtualenv, run from an empty folder, far from
the checkout, ``ratecard demo`` finds its price sheets, SQL, migrations and sample budgets in
the installed package and bills the same sample traffic to the same totals as the checkout.

Offline: uv builds the wheel and installs the locked dependencies from its shared cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ratecard import cli
from reports.money import CENT
from reports.period import parse_period
from reports.summary import summarize
from warehouse import connect

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent
CALLS = 2_000
# the installed dashboard over the demo's warehouse, each page rendered by Streamlit's AppTest
# with the sample budgets the demo shows it; prints each page's subheaders
DASHBOARD = """
import os
from importlib import resources
from streamlit.testing.v1 import AppTest
from ratecard.cli import DASHBOARD, SAMPLE_BUDGETS

with resources.as_file(DASHBOARD) as script, resources.as_file(SAMPLE_BUDGETS) as budgets:
    os.environ["RATECARD_BUDGETS"] = str(budgets)
    app = AppTest.from_file(str(script), default_timeout=120).run()
    for page in ("overview", "compare", "variants", "teams", "budgets", "quality"):
        app.switch_page(f"views/{page}.py").run()
        assert not app.exception, [e.value for e in app.exception]
        print(page, [h.value for h in app.subheader])
"""


def _uv() -> str:
    found = ROOT / ".tools" / "bin" / "uv"
    if found.exists():
        return str(found)
    on_path = shutil.which("uv")
    if on_path is None:
        pytest.fail("uv is missing: run `make .tools/bin/uv`")
    return on_path


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the built wheel and the lock's runtime dependencies only."""
    folder = tmp_path_factory.mktemp("wheel")
    uv = _uv()
    _run([uv, "build", "--wheel", "--offline", "--out-dir", str(folder / "dist")], ROOT)
    (wheel,) = (folder / "dist").glob("ratecard-*.whl")
    # the lock's runtime dependencies, as `uv sync` installs them (from the cache, by URL)
    env = venv_env() | {"UV_PROJECT_ENVIRONMENT": str(folder / "venv")}
    sync = [uv, "sync", "--locked", "--offline", "--no-dev", "--no-install-project", "--quiet"]
    _run([*sync, "--python", sys.executable], ROOT, env)
    # then the wheel alone: an installed copy, not the editable checkout
    python = folder / "venv" / "bin" / "python"
    _run(
        [uv, "pip", "install", "--offline", "--no-deps", "--python", str(python), str(wheel)],
        folder,
        env,
    )
    return folder / "venv"


def venv_env() -> dict[str, str]:
    """The environment without this checkout's virtualenv, so nothing leaks in from it."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["COLUMNS"] = "200"
    return env


def test_the_installed_demo_bills_like_the_checkout(venv: Path, tmp_path: Path) -> None:
    empty = tmp_path / "anywhere"
    empty.mkdir()
    python = str(venv / "bin" / "python")
    # the installed code, not the checkout's, answers
    where = _run([python, "-c", "import ratecard, warehouse; print(warehouse.__file__)"], empty)
    assert Path(where.strip()).is_relative_to(venv)

    output = _run(
        [str(venv / "bin" / "ratecard"), "demo", "--no-dashboard", "--calls", str(CALLS)],
        empty,
        venv_env(),
    )
    assert "price points for reapi, runapi, runware, vtrix" in output
    # the default warehouse and the sample traffic beside it, in the folder it ran from
    db = empty / "data" / "warehouse" / "ratecard.duckdb"
    assert db.is_file()
    assert (empty / "data" / "warehouse" / "samples" / "gateway.jsonl").is_file()

    expected = cli.run_demo(tmp_path / "checkout" / "demo.duckdb", CALLS)
    con = connect(db, read_only=True)
    try:
        installed = summarize(con, ("provider", "variant"), parse_period())
    finally:
        con.close()
    assert installed == expected
    assert expected.total_cost is not None and expected.calls > 0
    assert f"{expected.total_cost.quantize(CENT):,}" in output

    pages = _run([python, "-c", DASHBOARD], empty, venv_env() | {"RATECARD_DB": str(db)})
    budgets = next(line for line in pages.splitlines() if line.startswith("budgets "))
    for name in ("company", "platform", "search-weekly"):  # data/budgets.yml's
        assert f"'{name}'" in budgets, pages
