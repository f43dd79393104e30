"""The dashboard in a real browser, over every warehouse of the matrix in
tests/dashboard_data.py: one `ratecard dashboard` per warehouse on a free 127.0.0.1 port,
driven by Debian's headless Chromium through Playwright. No page may show Streamlit's
exception box, a traceback or the Deploy button, and every table must fit the page; a
screenshot of each page of each warehouse lands in test-artifacts/screenshots/<warehouse>/
(the mid-month one at 1280 and 1920 px)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from dashboard_data import MATRIX, make
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
PAGES = {
    "overview": "",
    "compare": "compare",
    "variants": "variants",
    "teams": "teams",
    "budgets": "budgets",
    "quality": "quality",
}  # name: URL path (the default page is served at /)
WIDTHS = {"mid_month": (1280, 1920)}  # the others at 1280 only, to keep the run short
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
# Streamlit has finished the script run (the state its own end-to-end tests wait for) and
# drawn every element (no skeleton, nothing stale from the run before, every Vega-Lite chart
# drawn: Vega's SVG in place)
SETTLED = """() => document.querySelector('[data-testid="stApp"]')
        ?.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && !document.querySelector('[data-stale="true"]')
    && [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
        .every(chart => chart.querySelector('svg.marks'))"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_served(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until the dashboard at ``url`` answers Streamlit's health check (also used by
    tools/screenshots.py); fails with the server's log if it exits or 90 s pass."""
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"dashboard did not start:\n{log_path.read_text()}")
        time.sleep(0.3)


@contextmanager
def dashboard(
    args: Sequence[str], log_path: Path, cwd: Path = ROOT
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``ratecard dashboard ARGS`` on a free 127.0.0.1 port, its output in ``log_path``:
    (its URL, its process) once it answers Streamlit's health check, stopped on leaving
    (also used by tools/screenshots.py and benchmarks/browser.py)."""
    port = free_port()
    command = [sys.executable, "-m", "ratecard", "dashboard", *args, "--port", str(port)]
    with log_path.open("w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_served(url, server, log_path)
            yield url, server
        finally:
            if server.poll() is None:
                server.terminate()  # `ratecard dashboard` stops its Streamlit server with it
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module", params=list(MATRIX))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(warehouse name, URL) of a dashboard serving that warehouse and its budgets; pytest
    runs every test of one warehouse before starting the next one's dashboard."""
    name: str = request.param
    folder = tmp_path_factory.mktemp(f"browser-{name}")
    db, budgets = make(name, folder)
    with dashboard(["--db", str(db), "--budgets", str(budgets)], folder / "server.log") as (
        url,
        _,
    ):
        yield name, url


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
    """Wait until Streamlit has run the page's script and drawn its charts."""
    page.wait_for_selector('[data-testid="stAppViewContainer"] h1', timeout=60_000)
    page.wait_for_timeout(300)  # a rerun starts right after the first paint
    page.wait_for_function(SETTLED, timeout=60_000)


def screenshot(page: Page, path: Path) -> None:
    """The whole page: the app scrolls inside its main block, so grow the window to it."""
    height = page.evaluate(
        "document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight"
    )
    width = page.viewport_size["width"] if page.viewport_size else 1280
    page.set_viewport_size({"width": width, "height": min(int(height) + 120, 8_000)})
    page.wait_for_function(SETTLED, timeout=60_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), animations="disabled", timeout=90_000)


def overflow(page: Page) -> list[int]:
    """How far each table reaches past its frame (a horizontal scroll bar's worth)."""
    widths: list[int] = page.evaluate(
        "[...document.querySelectorAll('.dvn-scroller')].map(s => s.scrollWidth - s.clientWidth)"
    )
    return widths


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_of_every_warehouse_renders_in_chromium(
    browser: Browser, served: tuple[str, str], name: str
) -> None:
    warehouse, url = served
    for width in WIDTHS.get(warehouse, (1280,)):
        page = browser.new_page(viewport={"width": width, "height": 1000})
        try:
            page.goto(f"{url}/{PAGES[name]}")
            settle(page)
            suffix = "" if width == 1280 else f"-{width}"
            screenshot(page, SHOTS / warehouse / f"{name}{suffix}.png")
            where = f"{warehouse}/{name} at {width} px"
            assert page.locator('[data-testid="stException"]').count() == 0, where
            content = page.content()
            assert "Traceback" not in content and "Page not found" not in content, where
            assert page.get_by_text("Deploy", exact=True).count() == 0, where
            # every table fits the page: nothing hidden past a horizontal scroll bar
            assert all(extra <= 1 for extra in overflow(page)), (where, overflow(page))
            if name == "teams":  # the widest table: by key, with team and project
                page.get_by_text("API key", exact=True).click()
                page.wait_for_timeout(300)
                page.wait_for_function(SETTLED, timeout=60_000)
                screenshot(page, SHOTS / warehouse / f"teams-keys{suffix}.png")
                assert all(extra <= 1 for extra in overflow(page)), (where, "by key")
        finally:
            page.close()


def test_a_filter_is_remembered_across_pages(browser: Browser, served: tuple[str, str]) -> None:
    warehouse, url = served
    if warehouse != "mid_month":
        pytest.skip("once is enough: over the mid-month warehouse")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(url)
        settle(page)
        spend = page.locator('[data-testid="stMetricValue"]').first
        assert spend.inner_text() == "$8.18"  # tests/dashboard_data.py
        providers = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Providers")
        providers.locator("input").click()
        page.keyboard.type("reapi")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        # m3 alone: 0.18344 (m4, reapi's other call, failed and free)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stMetricValue\"]').innerText === '$0.18'",
            timeout=60_000,
        )
        page.get_by_role("link", name="Teams").click()
        page.wait_for_url(f"{url}/teams", timeout=60_000)
        settle(page)
        chips = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Providers")
        assert "reapi" in chips.inner_text()
        screenshot(page, SHOTS / warehouse / "teams-filtered.png")
    finally:
        page.close()
