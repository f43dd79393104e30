"""The dashboard in a real browser: `ratecard dashboard` on a free 127.0.0.1 port, driven by
Debian's headless Chromium through Playwright. Every page must render its Plotly charts
without an error box; a screenshot of each lands in test-artifacts/screenshots/."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from ingest.prices import load_prices
from ingest.usage import ingest_usage
from ratecard.sample import generate
from warehouse import connect

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
PAGES = {
    "overview": "",
    "compare": "compare",
    "variants": "variants",
    "budgets": "budgets",
    "teams": "teams",
    "quality": "quality",
}  # name: URL path (the default page is served at /)
# what a root, offline, headless Chromium needs here (see the env notes in the README)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "warehouse.duckdb"
    con = connect(db)
    load_prices(con, [ROOT / "data" / "price_sheets"])
    files = generate(folder / "samples", 3_000)
    for path in (files.gateway_log, files.runware_log):
        ingest_usage(con, path)
    con.close()
    port = free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "ratecard", "dashboard", "--db", str(db), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"dashboard did not start:\n{(folder / 'server.log').read_text()}"
                )
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


def settle(page: Page) -> None:
    """Wait until Streamlit has finished running the script and drawn the charts."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=30_000)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000, state="attached")
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_in_chromium(browser: Browser, dashboard_url: str, name: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{dashboard_url}/{PAGES[name]}")
        settle(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator(".js-plotly-plot").count() >= 1
        assert "Traceback" not in page.content()
        assert "Page not found" not in page.content()
    finally:
        page.close()


def test_a_filter_is_remembered_across_pages(browser: Browser, dashboard_url: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(dashboard_url)
        settle(page)
        before = page.locator('[data-testid="stMetricValue"]').first.inner_text()
        providers = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Providers")
        providers.locator("input").click()
        page.keyboard.type("reapi")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.wait_for_function(
            "(before) => { const m = document.querySelector('[data-testid=\"stMetricValue\"]');"
            " return m && m.innerText !== before; }",
            arg=before,
            timeout=30_000,
        )
        page.get_by_role("link", name="Teams").click()
        page.wait_for_url(f"{dashboard_url}/teams", timeout=30_000)
        settle(page)
        chips = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Providers")
        assert "reapi" in chips.inner_text()
        page.screenshot(path=str(SHOTS / "teams-filtered.png"), full_page=True)
    finally:
        page.close()
