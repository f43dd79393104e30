"""Variant moves from repriced calls: plain, typed logic the Variants page lays out (no
Streamlit). Provider quotes, which the command line prints too, are in reports/compare.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from pricing.reprice import Repriced


@dataclass(frozen=True)
class VariantMove:
    """Moving a share of one provider's traffic to another variant at the same provider."""

    provider: str
    moved_cost_now: Decimal
    moved_cost_after: Decimal
    unpriced_calls: int
    """Calls the other variant has no price for: left out."""

    @property
    def saving(self) -> Decimal:
        return self.moved_cost_now - self.moved_cost_after


def variant_move(rows: Iterable[Repriced], provider: str, share: Decimal) -> VariantMove | None:
    """The saving of moving ``share`` (0..1) of ``provider``'s calls to the variant ``rows``
    were repriced at, at that same provider; None when it does not sell that variant."""
    for row in rows:
        if row.actual_provider == provider and row.target_provider == provider:
            return VariantMove(
                provider,
                row.actual_cost_priced * share,
                row.repriced_cost * share,
                row.unpriced_calls,
            )
    return None
