"""The Compare and Variants pages' tables and what-ifs: plain, typed logic the pages lay out
(no Streamlit). The comparisons themselves come from reports/compare.py, which
``ratecard compare`` prints, so the page and the command line show the same numbers.

Every table a person reads is rounded by the reports' one rule (reports/money.py): each
amount half-up to its currency's minor unit; where lines are parts of a whole, a "rounding
residue" line when the rounded lines miss the rounded total by a unit, so they always add
up as shown; a difference of two printed amounts is the difference of the printed amounts.
Amounts in two currencies are never added, subtracted or totalled together.
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
    ``ratecard compare``; what the calls cost where they ran in the currency they were
    billed in, what they would cost at each provider in its own, and a difference only
    where the two are one currency."""
    rows = []
    ran_in = comparison.currency
    for quote in comparison.quotes:
        percent = quote.difference_percent
        difference = None
        if quote.difference is not None:
            difference = printed_difference(quote.repriced_cost, quote.actual_cost, ran_in)
        rows.append(
            dict(
                zip(
                    QUOTE_TABLE_COLUMNS,
                    (
                        f"{quote.provider} (cheapest)" if quote.cheapest else quote.provider,
                        f"{quote.ran_here_calls:,}" if quote.ran_here_calls else "—",
                        f"{quote.priced_calls:,}",
                        f"{quote.unpriced_calls:,}",
                        money(quote.actual_cost, ran_in),
                        money(quote.repriced_cost, quote.currency),
                        money(difference, ran_in),
                        "—" if percent is None else f"{percent:+.1f}%",
                    ),
                    strict=True,
                )
            )
        )
    return pd.DataFrame(rows, columns=list(QUOTE_TABLE_COLUMNS))


def spend_table(lines: Sequence[Spend], *, with_variant: bool = True) -> pd.DataFrame:
    """Spend lines (variant, provider, calls, cost), each currency with a rounding residue
    line if its rounded lines need one, and its total."""
    rows = []
    several = len({line.currency for line in lines}) > 1
    for currency in sorted({line.currency for line in lines}, key=lambda code: code or ""):
        mine = [line for line in lines if line.currency == currency]
        costs = round_column((line.cost for line in mine), currency)
        rows += [
            {
                "Variant": line.variant,
                "Ran on": line.provider,
                "Calls": f"{line.calls:,}",
                "Spend": money(rounded, currency),
            }
            for line, rounded in zip(mine, costs.lines, strict=True)
        ]
        label = f" {currency}" if several and currency else ""
        if costs.residue:
            rows.append(
                {
                    "Variant": f"rounding residue{label}",
                    "Ran on": "",
                    "Calls": "",
                    "Spend": money(costs.residue, currency),
                }
            )
        rows.append(
            {
                "Variant": f"total{label}",
                "Ran on": "",
                "Calls": f"{sum(line.calls for line in mine):,}",
                "Spend": money(costs.total, currency),
            }
        )
    frame = pd.DataFrame(rows, columns=["Variant", "Ran on", "Calls", "Spend"])
    return frame if with_variant else frame.drop(columns="Variant")


def variant_spend_table(spend: pd.DataFrame, currency: str | None) -> pd.DataFrame:
    """The Variants page's spend per provider, model and variant (a frame of
    ``queries.spend_by`` in one currency), with a rounding residue line if needed, and the
    total."""
    costs = round_column(spend["cost"], currency)
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


def by_variant(compared: Iterable[Comparison]) -> dict[tuple[str, str | None], list[Comparison]]:
    """The comparisons grouped by the variant their calls ran on and the currency they were
    billed in (compared apart: never added), in the order given."""
    groups: dict[tuple[str, str | None], list[Comparison]] = {}
    for each in compared:
        groups.setdefault((each.variant, each.currency), []).append(each)
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


def variant_move(
    rows: Iterable[Repriced], provider: str, share: Decimal, currency: str | None = None
) -> VariantMove | None:
    """Moving ``share`` (0..1) of ``provider``'s calls (those billed in ``currency``, when
    given) to the variant ``rows`` were repriced at, at that same provider; None when it
    does not sell that variant in the currency the calls were billed in (a saving across
    two currencies is no saving)."""
    for row in rows:
        if (
            row.actual_provider == provider
            and row.target_provider == provider
            and (currency is None or row.actual_currency == currency)
        ):
            if row.currency is not None and row.currency != row.actual_currency:
                return None
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
    """A variant move as the Variants page prints it: amounts in the currency's minor unit
    that add up."""

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
    now = round_column([move.stays_cost, move.moved_cost_now], currency)
    after = round_column([move.stays_cost, move.moved_cost_after], currency)
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
        table,
        now.total,
        after.total,
        printed_difference(now.exact_total, after.exact_total, currency),
    )
