"""How the dashboard writes an amount for a person to read: no Streamlit, no plotly, so the
pages' tables (dashboards/comparison.py) and figures (dashboards/figures.py) share it."""

from __future__ import annotations

from decimal import Decimal

from reports.money import round_cents


def money(amount: Decimal | None, currency: str | None = "USD") -> str:
    """An amount for display: rounded half-up to the cent, with its currency."""
    if amount is None:
        return "—"
    rounded = round_cents(amount)
    sign, text = ("-" if rounded < 0 else ""), f"{abs(rounded):,.2f}"
    return f"{sign}${text}" if currency in (None, "USD") else f"{sign}{text} {currency}"
