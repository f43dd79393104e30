"""The Compare and Variants pages' tables and what-ifs: plain, typed logic the pages lay out
(no Streamlit). The comparisons themselves come from reports/compare.py, which
``ratecard compare`` prints, so the page and the command line show the same numbers.

Every table a person reads is rounded by the reports' one rule (reports/money.py): each
amount half-up to the cent; where lines are parts of a whole, a "rounding residue" line
when the rounded lines miss the rounded total by a cent, so they always add up as shown;
a difference of two printed amounts is the difference of the printed amounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from dashboards.display import money
from pricing.reprice import Repriced
from reports.compare import QUOTE_COLUMNS, Comparison, Spend
from reports.money import printed_difference, round_column


def _label(name: str) -> str:
    return name[:1].upper() + name[1:]


QUOTE_TABLE_COLUMNS = tuple(_label(c) for c in QUOTE_COLUMNS if c != "currency")
"""The command line's columns; the currency is in each amount."""

RIGHT_ALIGNED = frozenset(QUOTE_TABLE_COLUMNS[1:]) | {"Calls", "Spend", "Now", "After the move"}
"""The columns of numbers, aligned right although they are shown as formatted text."""


def quote_table(comparison: Comparison) -> pd.DataFrame:
    """A comparison's quotes as the Compare page shows them: the columns of
    ``ratecard compare``, amounts to the cent in each quote's currency."""
    rows = []
    for quote in comparison.quotes:
        percent = quote.difference_percent
        difference = printed_difference(quote.repriced_cost, quote.actual_cost)
        rows.append(
            dict(
                zip(
                    QUOTE_TABLE_COLUMNS,
                    (
                        f"{quote.provider} (cheapest)" if quote.cheapest else quote.provider,
                        f"{quote.ran_here_calls:,}" if quote.ran_here_calls else "—",
                        f"{quote.priced_calls:,}",
                        f"{quote.unpriced_calls:,}",
                        money(quote.actual_cost, quote.currency),
                        money(quote.repriced_cost, quote.currency),
                        money(difference, quote.currency),
                        "—" if percent is None else f"{percent:+.1f}%",
                    ),
                    strict=True,
                )
            )
        )
    return pd.DataFrame(rows, columns=list(QUOTE_TABLE_COLUMNS))


def spend_table(lines: Sequence[Spend], *, with_variant: bool = True) -> pd.DataFrame:
    """Spend lines (variant, provider, calls, cost) with a rounding residue line if the
    rounded lines need one, and the total."""
    costs = round_column(line.cost for line in lines)
    currency = _one_currency(line.currency for line in lines)
    rows = [
        {
            "Variant": line.variant,
            "Ran on": line.provider,
            "Calls": f"{line.calls:,}",
            "Spend": money(rounded, line.currency),
        }
        for line, rounded in zip(lines, costs.lines, strict=True)
    ]
    if costs.residue:
        rows.append(
            {
                "Variant": "rounding residue",
                "Ran on": "",
                "Calls": "",
                "Spend": money(costs.residue, currency),
            }
        )
    rows.append(
        {
            "Variant": "total",
            "Ran on": "",
            "Calls": f"{sum(line.calls for line in lines):,}",
            "Spend": money(costs.total, currency),
        }
    )
    frame = pd.DataFrame(rows, columns=["Variant", "Ran on", "Calls", "Spend"])
    return frame if with_variant else frame.drop(columns="Variant")


def variant_spend_table(spend: pd.DataFrame, currency: str | None) -> pd.DataFrame:
    """The Variants page's spend per provider, model and variant (a frame of
    ``queries.spend_by``), with a rounding residue line if needed, and the total."""
    costs = round_column(spend["cost"])
    rows = [
        {
            "Model": model,
            "Variant": variant,
            "Provider": provider,
            "Calls": f"{calls:,}",
            "Failed calls (free)": f"{failed:,}",
            "Spend": money(rounded, currency),
        }
        for model, variant, provider, calls, failed, rounded in zip(
            spend["canonical_model"],
            spend["variant"],
            spend["provider"],
            spend["calls"],
            spend["failed_calls"],
            costs.lines,
            strict=True,
        )
    ]
    blank = {"Model": "", "Variant": "", "Provider": "", "Calls": "", "Failed calls (free)": ""}
    if costs.residue:
        rows.append({**blank, "Model": "rounding residue", "Spend": money(costs.residue, currency)})
    rows.append(
        {
            **blank,
            "Model": "total",
            "Calls": f"{int(spend['calls'].sum()):,}",
            "Failed calls (free)": f"{int(spend['failed_calls'].sum()):,}",
            "Spend": money(costs.total, currency),
        }
    )
    return pd.DataFrame(rows)


def _one_currency(currencies: Iterable[str | None]) -> str | None:
    found = set(currencies)
    return found.pop() if len(found) == 1 else None


def by_variant(compared: Iterable[Comparison]) -> dict[str, list[Comparison]]:
    """The comparisons grouped by the variant their calls ran on, in the order given."""
    groups: dict[str, list[Comparison]] = {}
    for comparison in compared:
        groups.setdefault(comparison.variant, []).append(comparison)
    return groups


@dataclass(frozen=True)
class VariantMove:
    """Moving a share of one provider's traffic on one variant to another variant at the
    same provider: the traffic's cost now and after, split into the part that stays and
    the part that moves."""

    provider: str
    share: Decimal
    """The share of the traffic moved, 0..1."""
    calls: int
    """The provider's calls of the variant that the other variant has a price for."""
    cost_now: Decimal
    """What those calls cost now, where they ran."""
    moved_cost_after: Decimal
    """What the moved share would cost at the other variant."""
    unpriced_calls: int
    """Calls the other variant has no price for: left out."""

    @property
    def moved_cost_now(self) -> Decimal:
        return self.cost_now * self.share

    @property
    def stays_cost(self) -> Decimal:
        return self.cost_now - self.moved_cost_now

    @property
    def cost_after(self) -> Decimal:
        return self.stays_cost + self.moved_cost_after

    @property
    def saving(self) -> Decimal:
        return self.cost_now - self.cost_after


def variant_move(rows: Iterable[Repriced], provider: str, share: Decimal) -> VariantMove | None:
    """Moving ``share`` (0..1) of ``provider``'s calls to the variant ``rows`` were repriced
    at, at that same provider; None when it does not sell that variant."""
    for row in rows:
        if row.actual_provider == provider and row.target_provider == provider:
            return VariantMove(
                provider,
                share,
                row.priced_calls,
                row.actual_cost_priced,
                row.repriced_cost * share,
                row.unpriced_calls,
            )
    return None


@dataclass(frozen=True)
class MoveFigures:
    """A variant move as the Variants page prints it: amounts to the cent that add up."""

    table: pd.DataFrame
    now: Decimal
    after: Decimal
    saving: Decimal
    """``now - after`` as printed."""


def move_figures(
    move: VariantMove, variant: str, to_variant: str, currency: str | None
) -> MoveFigures:
    """The part that stays and the part that moves, now and after the move, each column
    rounded with its residue so that the lines add up to the totals shown; the saving is
    the difference of the two totals shown."""
    percent = f"{move.share:.0%}"
    rest = f"{1 - move.share:.0%}"
    now = round_column([move.stays_cost, move.moved_cost_now])
    after = round_column([move.stays_cost, move.moved_cost_after])
    rows = [
        {
            "Traffic": f"stays on {variant} ({rest})",
            "Now": now.lines[0],
            "After the move": after.lines[0],
        },
        {
            "Traffic": f"moves to {to_variant} ({percent})",
            "Now": now.lines[1],
            "After the move": after.lines[1],
        },
    ]
    if now.residue or after.residue:
        rows.append(
            {"Traffic": "rounding residue", "Now": now.residue, "After the move": after.residue}
        )
    rows.append({"Traffic": "total", "Now": now.total, "After the move": after.total})
    table = pd.DataFrame(rows)
    for column in ("Now", "After the move"):
        table[column] = [money(v, currency) for v in table[column]]
    return MoveFigures(
        table, now.total, after.total, printed_difference(now.exact_total, after.exact_total)
    )
