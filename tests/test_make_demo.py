"""``make demo`` installs what the demo needs and never removes what is there: run after
``make test``, it leaves pytest, playwright and ruff in .venv (no reinstall next time)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_make_demo_installs_without_uninstalling_the_dev_tools() -> None:
    recipe = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    (sync,) = [line for line in recipe.splitlines() if " sync " in line]
    command = shlex.split(sync)
    assert "--no-dev" in command  # a fresh machine gets only what the demo needs
    # what that command would do to this .venv, which holds the dev group (pytest runs here)
    result = subprocess.run(
        [*command, "--dry-run"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    plan = result.stdout + result.stderr
    # ratecard itself may be rebuilt (its own metadata changed since the last sync); no other
    # package may go
    removed = [
        line.split()[1].split("=")[0] for line in plan.splitlines() if line.startswith(" - ")
    ]
    assert [name for name in removed if name != "ratecard"] == [], plan
