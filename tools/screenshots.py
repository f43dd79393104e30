"""Take the documents' dashboard screenshots again, over the demo warehouse.

    .venv/bin/python tools/screenshots.py          # rewrites docs/images/dashboard-*.png

Builds the demo warehouse (`ratecard demo --no-dashboard`, seeded, so the numbers are the
README's) in a temporary folder laid out like a checkout (data/warehouse/ratecard.duckdb
beside data/budgets.yml), serves it with `ratecard dashboard` on a free 127.0.0.1 port, and
photographs the pages the README and docs/dashboard.md show with Debian's headless Chromium
(/usr/bin/chromium, through Playwright; no browser download), 1280 x 900 px, waiting for
Streamlit to finish drawing as the browser test does (tests/test_browser.py). Look at the
pictures before committing them: the alt texts in the README quote their numbers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGES,
    dashboard,
    settle,
)

IMAGES = ROOT / "docs" / "images"
SHOWN = {  # page (the browser test's PAGES): file
    "overview": "dashboard-overview.png",
    "compare": "dashboard-compare.png",
    "budgets": "dashboard-budgets.png",
}
SIZE = {"width": 1280, "height": 900}


def main() -> None:
    if not CHROMIUM.exists():
        sys.exit("Debian's chromium is missing: `make browser` (apt-get install chromium)")
    folder = Path(tempfile.mkdtemp(prefix="ratecard-"))  # the sidebar shows its path
    try:
        (folder / "data" / "warehouse").mkdir(parents=True)
        shutil.copy(ROOT / "data" / "budgets.yml", folder / "data" / "budgets.yml")
        db = Path("data") / "warehouse" / "ratecard.duckdb"
        demo = [sys.executable, "-m", "ratecard", "demo", "--no-dashboard", "--db", str(db)]
        subprocess.run(demo, cwd=folder, check=True, stdout=subprocess.DEVNULL)
        args = ["--db", str(db), "--budgets", "data/budgets.yml"]
        with dashboard(args, folder / "server.log", cwd=folder) as (url, _):
            shoot(url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def shoot(url: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport=SIZE)
        for name, file in SHOWN.items():
            page.goto(f"{url}/{PAGES[name]}")
            settle(page)
            page.screenshot(path=str(IMAGES / file), animations="disabled", timeout=90_000)
            print(f"{IMAGES / file}")
        browser.close()


if __name__ == "__main__":
    main()
