"""The HTML report's daily chart: round y ticks with gridlines, day labels that never
overlap at any period length (1 day to a year) and stay inside the drawing, checked on the
SVG's geometry and, for the lengths a finance user asks for, as Chromium lays it out."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from test_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS

from conftest import D, sample_warehouse
from reports.charts import LABEL_CHARS, day_columns, group_bars, nice_ticks
from reports.documents import render_html
from reports.finance import build_report, daily_spend
from reports.period import Period
from warehouse import connect

LABEL_PX = 5 * 7 + 4
"""What a day label "10-31" needs at 11px: five glyphs of at most 7px, and a small gap."""


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        ("11.31", "0 2.5 5 7.5 10 12.5"),
        ("38.4", "0 10 20 30 40"),
        ("43.2", "0 10 20 30 40 50"),
        ("100", "0 20 40 60 80 100"),
        ("1234.5", "0 250 500 750 1000 1250"),
        ("1", "0 0.2 0.4 0.6 0.8 1"),
        ("0.0337", "0 0.01 0.02 0.03 0.04"),
        ("0.005", "0 0.001 0.002 0.003 0.004 0.005"),
    ],
)
def test_round_ticks(top: str, ticks: str) -> None:
    assert nice_ticks(D(top)) == [D(t) for t in ticks.split()]


def spend(days: int) -> list[tuple[str, Decimal]]:
    """A period of ``days`` from 2026-10-01, with amounts that vary and a top of 38.41."""
    first = date(2026, 10, 1)
    return [
        (
            str(first + timedelta(days=n)),
            D("38.41") if n == days // 2 else Decimal(n % 7) * D("3.5"),
        )
        for n in range(days)
    ]


def svg_of(days: list[tuple[str, Decimal]]) -> ET.Element:
    return ET.fromstring(day_columns(days, "USD"))


@pytest.mark.parametrize("days", [1, 2, 7, 15, 28, 31, 62, 92, 184, 366])
def test_day_labels_never_overlap_and_stay_inside(days: int) -> None:
    svg = svg_of(spend(days))
    _, _, width, height = (float(v) for v in svg.attrib["viewBox"].split())
    labels = [t for t in svg.iter("text") if t.get("class") == "xtick"]
    centers = [float(t.attrib["x"]) for t in labels]
    assert all(t.get("text-anchor") == "middle" for t in labels)
    assert centers == sorted(centers)
    assert all(b - a >= LABEL_PX for a, b in itertools.pairwise(centers)), centers
    assert all(LABEL_PX / 2 <= x <= width - LABEL_PX / 2 for x in centers), (centers, width)
    assert all(float(t.attrib["y"]) <= height for t in labels)
    # the first and the last day of the period are always labelled
    texts = [t.text for t in labels]
    assert texts[0] == spend(days)[0][0][5:] and texts[-1] == spend(days)[-1][0][5:]
    # and not too sparse: a label per 80px of the drawing at least
    assert len(labels) >= min(days, int(width) // 80)


@pytest.mark.parametrize("days", [1, 15, 31, 92])
def test_the_y_axis_has_round_ticks_and_gridlines(days: int) -> None:
    svg = svg_of(spend(days))
    ticks = [t for t in svg.iter("text") if t.get("class") == "ytick"]
    values = [D(t.text or "") for t in ticks]
    assert values == [D("0"), D("10"), D("20"), D("30"), D("40")]  # top 38.41
    grid = [line for line in svg.iter("line") if line.get("class") == "grid"]
    assert [line.attrib["y1"] for line in grid] == [t.attrib["y"] for t in ticks]
    # the columns stand on the 0 line and reach the tick of their value: 38.41 of 40
    base, top = float(grid[0].attrib["y1"]), float(grid[-1].attrib["y1"])
    rects = svg.findall("rect")
    assert len(rects) == days
    tallest = min(rects, key=lambda r: float(r.attrib["y"]))
    assert float(tallest.attrib["y"]) + float(tallest.attrib["height"]) == pytest.approx(base)
    assert float(tallest.attrib["height"]) == pytest.approx((base - top) * 38.41 / 40, abs=0.1)
    title = tallest.find("title")
    assert title is not None and title.text == f"{spend(days)[days // 2][0]}: 38.41 USD (38.41)"


def test_a_period_without_spend_says_so() -> None:
    assert "No spend in the period." in day_columns([("2026-10-01", D("0"))], "USD")


def test_group_bars_cut_long_labels_and_never_show_an_unpriced_group_as_zero() -> None:
    long = "runapi / MiniMax-M2.7-highspeed / highspeed / search / query-rewrite"
    svg = ET.fromstring(
        group_bars([("a", D("1.005")), (long, D("0.5")), ("runapi / MiniMax-M1", None)], "USD")
    )
    amounts = [t.text for t in svg.iter("text") if t.get("class") == "amount"]
    assert amounts == ["1.01 USD", "0.50 USD", "no price: unpriced"]
    labels = [t for t in svg.iter("text") if t.get("text-anchor") == "end"]
    assert labels[1].text == long[: LABEL_CHARS - 1] + "…"
    title = labels[1].find("title")
    assert title is not None and title.text == long
    widths = [float(r.attrib["width"]) for r in svg.iter("rect")]
    assert widths[1] == pytest.approx(widths[0] * 0.5 / 1.005, abs=0.1) and widths[2] == 0


def test_the_report_page_names_unpriced_groups(sample: Path) -> None:
    """The sample's MiniMax-M1 calls have no price: the bars say so, not $0."""
    con = connect(sample, read_only=True)
    october = Period(date(2026, 10, 1), date(2026, 10, 31))
    page = render_html(build_report(con, ("model",), october), daily_spend(con, october))
    con.close()
    bars = ET.fromstring(re.findall(r'<svg class="chart".*?</svg>', page, re.S)[1])
    shown = {
        (label.text, amount.text)
        for label, amount in zip(
            [t for t in bars.iter("text") if t.get("text-anchor") == "end"],
            [t for t in bars.iter("text") if t.get("class") == "amount"],
            strict=True,
        )
    }
    assert ("MiniMax-M1", "no price: unpriced") in shown


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: `make browser`"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_warehouse(tmp_path_factory.mktemp("charts"))


@pytest.mark.browser
@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2026-11-21", "2026-11-21"),
        ("2026-11-01", "2026-11-15"),
        ("2026-10-01", "2026-10-31"),
        ("2026-08-22", "2026-11-21"),
    ],
    ids=["1-day", "15-days", "31-days", "92-days"],
)
def test_the_chart_as_chromium_draws_it(
    browser: Browser, sample: Path, tmp_path: Path, first: str, last: str
) -> None:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    period = Period(start, end)
    con = connect(sample, read_only=True)
    page_html = render_html(build_report(con, ("team",), period), daily_spend(con, period))
    con.close()
    path = tmp_path / "report.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(path.as_uri())
    chart = page.locator("svg.chart").first
    SHOTS.mkdir(parents=True, exist_ok=True)
    days = (end - start).days + 1
    chart.screenshot(path=str(SHOTS / f"report-daily-{days}-days.png"))
    boxes = page.evaluate(
        """() => {
            const svg = document.querySelector('svg.chart');
            const box = (t) => { const b = t.getBBox(); return [b.x, b.y, b.width, b.height]; };
            return {
                view: [svg.viewBox.baseVal.width, svg.viewBox.baseVal.height],
                x: [...svg.querySelectorAll('text.xtick')].map(box),
                y: [...svg.querySelectorAll('text.ytick')].map(box),
                texts: [...svg.querySelectorAll('text')].map(box),
            };
        }"""
    )
    page.close()
    width, height = boxes["view"]
    x = boxes["x"]
    assert x, "no day labels"
    for (x1, _, w1, _), (x2, _, _, _) in itertools.pairwise(x):
        assert x2 >= x1 + w1 + 2, boxes["x"]  # laid out, with a gap
    for bx, by, bw, bh in boxes["texts"]:  # every text inside the drawing
        assert bx >= 0 and bx + bw <= width and by >= 0 and by + bh <= height, (bx, by, bw, bh)
    y = sorted(boxes["y"], key=lambda b: b[1])
    assert len(y) >= 4
    for (_, y1, _, h1), (_, y2, _, _) in itertools.pairwise(y):
        assert y2 >= y1 + h1, boxes["y"]
