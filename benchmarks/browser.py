"""The dashboard measured in a real browser: ``python -m benchmarks.browser DB [BUDGETS]``.

Serves the warehouse DB with ``ratecard dashboard`` on a free 127.0.0.1 port and drives
Debian's headless Chromium through Playwright with the browser test's helpers
(tests/test_browser.py: the same launch arguments, health check and "settled" state). It
measures the first load of the app (from ``goto`` to the overview's charts drawn), then, for
every page of the sidebar, the time from a click on its link to its charts drawn, on a first
visit (cold: the page's queries run) and on a second (warm: Streamlit's caches answer), with
the bytes the server sent the browser over the websocket for each visit and the points the
page's figures hold. Prints one JSON line; benchmarks/run.py runs it as a step
(``--browser``) and prints the table.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize, WebSocket, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    SETTLED,
    dashboard,
)

LINKS = {
    "overview": "Overview",
    "compare": "Compare providers",
    "variants": "Variants",
    "teams": "Teams",
    "budgets": "Budgets",
    "quality": "Data quality",
}
"""Each page (the browser test's PAGES) and its link in the sidebar (dashboards/app.py)."""
ORDER = ("compare", "variants", "teams", "budgets", "quality", "overview")
"""The clicks of one visit round: every page, the first-loaded overview last."""
VIEWPORT: ViewportSize = {"width": 1280, "height": 1000}
TIMEOUT_MS = 120_000

HEADING = """() => document.querySelector('[data-testid="stAppViewContainer"] h1')
    ?.innerText.trim() ?? null"""
DRAWN = f"""left => {{
    const h1 = document.querySelector('[data-testid="stAppViewContainer"] h1');
    return h1 !== null && h1.innerText.trim() !== left && ({SETTLED})();
}}"""
"""A page other than ``left`` (the heading of the page clicked away from) is on screen and
drawn: its heading shown, the script run over, nothing stale left and every chart's SVG in
place (the browser test's SETTLED)."""

POINTS = """() => document.querySelectorAll(
    '[data-testid="stVegaLiteChart"] :is(.mark-rect, .mark-symbol).role-mark > path').length"""
"""The marks the page's charts draw: a bar or a point each (legends not counted)."""
CHARTS = """() => document.querySelectorAll('[data-testid="stVegaLiteChart"]').length"""


class Received:
    """The bytes the dashboard's websocket has sent the browser so far."""

    def __init__(self) -> None:
        self.bytes = 0

    def watch(self, socket: WebSocket) -> None:
        socket.on("framereceived", self.frame)

    def frame(self, payload: str | bytes) -> None:
        self.bytes += len(payload.encode() if isinstance(payload, str) else payload)


def drawn(page: Page, left: str | None) -> None:
    page.wait_for_function(DRAWN, arg=left, timeout=TIMEOUT_MS, polling=20)


def visit(page: Page, received: Received, name: str) -> dict[str, Any]:
    """Click the page's sidebar link and wait until it is drawn: seconds, bytes, points."""
    left = page.evaluate(HEADING)
    before = received.bytes
    started = time.perf_counter()
    page.get_by_role("link", name=LINKS[name], exact=True).click()
    drawn(page, left)
    seconds = time.perf_counter() - started
    page.wait_for_timeout(300)  # a late frame of this visit counts to its bytes
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS)
    return {
        "seconds": seconds,
        "bytes": received.bytes - before,
        "points": int(page.evaluate(POINTS)),
        "charts": int(page.evaluate(CHARTS)),
    }


def measure(db: str, budgets: str) -> dict[str, Any]:
    """First load and every page's click-to-chart, cold and warm, over warehouse ``db``."""
    log_path = Path(db).resolve().parent / f"dashboard-{time.monotonic_ns()}.log"
    try:
        with dashboard(["--db", db, "--budgets", budgets], log_path) as (url, _):
            return drive(url)
    finally:
        log_path.unlink(missing_ok=True)


def drive(url: str) -> dict[str, Any]:
    """The first load (``goto`` to the overview drawn), then two rounds of clicks on every
    page: the first visit of each page cold, the second warm."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport=VIEWPORT)
            received = Received()
            page.on("websocket", received.watch)
            started = time.perf_counter()
            page.goto(url)
            drawn(page, None)
            first = {"seconds": time.perf_counter() - started}
            page.wait_for_timeout(300)
            page.wait_for_function(SETTLED, timeout=TIMEOUT_MS)
            first["bytes"] = received.bytes
            cold = {name: visit(page, received, name) for name in ORDER}
            warm = {name: visit(page, received, name) for name in ORDER}
            page.close()
            # a second browser, its cache empty, on the server the first one warmed up
            context = browser.new_context(viewport=VIEWPORT)
            again = context.new_page()
            started = time.perf_counter()
            again.goto(url)
            drawn(again, None)
            second = time.perf_counter() - started
            context.close()
            return {
                "seconds": first["seconds"],
                "first_load": first,
                "second_load": second,
                "cold": cold,
                "warm": warm,
            }
        finally:
            browser.close()


if __name__ == "__main__":
    budgets = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "data" / "budgets.yml")
    print(json.dumps(measure(sys.argv[1], budgets)))
