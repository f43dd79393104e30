"""How the dashboard writes an amount for a person to read: no Streamlit, no plotly, so the
pages' tables (dashboards/comparison.py) and figures (dashboards/figures.py) share it."""

from __future__ import annotations

from decimal import Decimal

from reports.money import round_money


def money(amount: Decimal | None, currency: str | None) -> str:
    """An amount for display: rounded half-up to its currency's minor unit, with its
    currency (``$1.50``, ``1,235 JPY``, ``0.124 KWD``)."""
    if amount is None:
        return "—"
    rounded = round_money(amount, currency)
    sign, text = ("-" if rounded < 0 else ""), f"{abs(rounded):,}"
    return f"{sign}${text}" if currency in (None, "USD") else f"{sign}{text} {currency}"
