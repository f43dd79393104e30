"""Provider and variant comparisons from repriced calls: plain, typed logic the Compare and
Variants pages lay out (no Streamlit)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from pricing.reprice import Repriced


@dataclass(frozen=True)
class Quote:
    """The selection's calls priced at one provider."""

    provider: str
    currency: str | None
    calls: int
    unpriced_calls: int
    """Calls this provider has no price for (their time or size): left out of both sums."""
    actual_cost: Decimal
    """What the calls this provider can price actually cost where they ran."""
    repriced_cost: Decimal
    cheapest: bool = False
    """Lowest repriced cost among the providers that price every call."""

    @property
    def difference(self) -> Decimal:
        return self.repriced_cost - self.actual_cost

    @property
    def difference_percent(self) -> Decimal | None:
        return None if not self.actual_cost else self.difference / self.actual_cost * 100


def quotes(rows: Iterable[Repriced]) -> list[Quote]:
    """One quote per target provider, summed over the providers the calls went to; the
    cheapest complete quote is marked. A provider missing prices for part of the traffic is
    never marked cheapest, since its sum covers fewer calls."""
    totals: dict[str, Quote] = {}
    for row in rows:
        seen = totals.get(row.target_provider)
        totals[row.target_provider] = Quote(
            provider=row.target_provider,
            currency=row.currency or (seen.currency if seen else None),
            calls=row.calls + (seen.calls if seen else 0),
            unpriced_calls=row.unpriced_calls + (seen.unpriced_calls if seen else 0),
            actual_cost=row.actual_cost_priced + (seen.actual_cost if seen else Decimal(0)),
            repriced_cost=row.repriced_cost + (seen.repriced_cost if seen else Decimal(0)),
        )
    ordered = sorted(totals.values(), key=lambda q: q.provider)
    complete = [q for q in ordered if q.unpriced_calls == 0 and q.calls]
    if not complete:
        return ordered
    best = min(complete, key=lambda q: q.repriced_cost)
    return [Quote(**{**q.__dict__, "cheapest": q is best}) for q in ordered]


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
