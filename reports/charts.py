"""The HTML report's charts as inline SVG: no script, no network, readable at any period.

The daily chart has a y axis of round steps (1, 2, 2.5 or 5 times a power of ten) with a
gridline and a label at each, and as many day labels as fit without overlapping: every
day, every 2nd or 3rd, weekly, fortnightly… chosen from the period's length, with the last
day always labelled (the label before it gives way if they would touch), and every label
inside the drawing. Pixel positions are
computed from the exact amounts with Decimal (amounts never pass through float); the
labels print money rounded for reading to the currency's minor unit (whole yen, cents, fils),
and each column's tooltip gives its exact amount. A chart shows one currency: the report
draws one per currency.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from reports.money import minor_unit, money_text, plain

WIDTH = 760
"""Width of the drawing (viewBox units; the page scales it down on a narrow screen)."""
FONT_PX = 11
DAY_LABEL_PX = 36
"""Width reserved for a day label ("10-31" at 11px; 32px in DejaVu Sans, Chromium's
fallback, 30px in most UI fonts)."""
LABEL_GAP_PX = 6
DAY_STEPS = (1, 2, 3, 7, 14, 28)
"""Label every Nth day, the smallest N whose labels do not overlap; weeks beyond 3 days."""
NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))
MAX_INTERVALS = 5

_LEFT, _RIGHT, _TOP, _PLOT_H, _BOTTOM = 76, 24, 22, 150, 26
_PX = Decimal("0.1")


def nice_ticks(top: Decimal, least: Decimal = Decimal(0)) -> list[Decimal]:
    """Round tick values from 0 up to the first at or above ``top`` (> 0): 3 to 5 equal
    intervals of 1, 2, 2.5 or 5 times a power of ten, each at least ``least`` (a currency's
    minor unit: no tick at half a yen)."""
    assert top > 0
    magnitude = Decimal(1).scaleb(top.adjusted() - 1)
    while True:
        for nice in NICE:
            step = nice * magnitude
            if step < least:
                continue
            intervals = int((top / step).to_integral_value(rounding=ROUND_CEILING))
            if intervals <= MAX_INTERVALS:
                return [step * n for n in range(intervals + 1)]
        magnitude *= 10


def tick_label(value: Decimal, step: Decimal) -> str:
    """A tick value with the decimals its step needs (25, 2.5, 0.25, 0.005), grouped."""
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # a tick step is finite
    places = max(0, -exponent)
    return f"{value:,.{places}f}"


def day_label_step(days: int, column_px: Decimal) -> int:
    """Label every Nth day: the smallest N of :data:`DAY_STEPS` whose labels, one column
    width apart per day, keep their width and a gap between them."""
    for step in DAY_STEPS:
        if step * column_px >= DAY_LABEL_PX + LABEL_GAP_PX:
            return step
    return max(DAY_STEPS[-1], -(-days // 4))  # beyond two years of days: about 4 labels


def _px(value: Decimal) -> str:
    return plain(value.quantize(_PX, rounding=ROUND_HALF_UP))


def day_columns(days: Sequence[tuple[str, Decimal]], currency: str) -> str:
    """Spend per day (``YYYY-MM-DD``, exact amount) as a column chart."""
    top = max((value for _, value in days), default=Decimal(0))
    if top <= 0:
        return '<p class="muted">No spend in the period.</p>'
    ticks = nice_ticks(top, minor_unit(currency))
    scale = ticks[-1]
    plot_w = Decimal(WIDTH - _LEFT - _RIGHT)
    column_px = plot_w / len(days)
    bar_w = min(column_px * Decimal("0.8"), Decimal(48))
    base = _TOP + _PLOT_H
    height = base + _BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="Spend per day in {html.escape(currency)}">',
        f'<text x="{_LEFT - 8}" y="{_TOP - 10}" text-anchor="end">{html.escape(currency)}</text>',
    ]
    for tick in ticks:
        y = _px(base - _PLOT_H * tick / scale)
        stroke = "#9aa3b2" if tick == 0 else "#e6e9ef"
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y}" y2="{y}" '
            f'stroke="{stroke}"/>'
            f'<text class="ytick" x="{_LEFT - 8}" y="{y}" dy="4" text-anchor="end">'
            f"{tick_label(tick, ticks[1])}</text>"
        )
    for i, (day, value) in enumerate(days):
        h = _PLOT_H * max(value, Decimal(0)) / scale
        x = _LEFT + column_px * i + (column_px - bar_w) / 2
        parts.append(
            f'<rect x="{_px(x)}" y="{_px(base - h)}" width="{_px(bar_w)}" height="{_px(h)}" '
            f'fill="#3b6fd8"><title>{day}: {plain(value)} {html.escape(currency)} '
            f"({money_text(value, currency)})</title></rect>"
        )
    for i in _labelled(len(days), day_label_step(len(days), column_px), column_px):
        center = _LEFT + column_px * i + column_px / 2
        center = min(center, WIDTH - Decimal(DAY_LABEL_PX) / 2 - 1)  # inside the drawing
        parts.append(
            f'<text class="xtick" x="{_px(center)}" y="{base + 17}" text-anchor="middle">'
            f"{days[i][0][5:]}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _labelled(days: int, step: int, column_px: Decimal) -> list[int]:
    """The days that get a label: every ``step``th from the first, and always the last day
    (the period's end), in place of the label before it if the two would be too close."""
    chosen = list(range(0, days, step))
    if chosen[-1] != days - 1:
        if (days - 1 - chosen[-1]) * column_px < DAY_LABEL_PX + LABEL_GAP_PX:
            chosen.pop()
        chosen.append(days - 1)
    return chosen


LABEL_CHARS = 46
"""A group's label is cut (with an ellipsis) beyond what its 300px column holds at 11px;
its tooltip has it whole."""


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def group_bars(items: Sequence[tuple[str, Decimal | None]], currency: str) -> str:
    """A horizontal bar chart: one labelled bar per group, its amount at its end; a group
    whose calls have no price says so instead of showing an amount (never $0)."""
    if not items:
        return '<p class="muted">No spend in the period.</p>'
    top = max((v for _, v in items if v is not None), default=Decimal(0)) or Decimal(1)
    row, label_w, value_w = 22, 300, 130
    bar_w = WIDTH - label_w - value_w
    height = row * len(items) + 4
    money = html.escape(currency)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        'role="img">'
    ]
    for i, (label, value) in enumerate(items):
        y = i * row + 2
        length = bar_w * max(value or Decimal(0), Decimal(0)) / top
        shown = "no price: unpriced" if value is None else f"{money_text(value, currency)} {money}"
        exact = "no price in the sheets" if value is None else f"{plain(value)} {money}"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
            f"{html.escape(_cut(label))}<title>{html.escape(label)}</title></text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{_px(length)}" height="{row - 6}" '
            f'fill="#3b6fd8"><title>{html.escape(label)}: {exact}</title></rect>'
            f'<text class="amount" x="{_px(label_w + length + 6)}" y="{y + 15}">{shown}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
