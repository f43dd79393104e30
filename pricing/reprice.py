"""Repricing: what the same calls would have cost at another provider or variant.

Calls are matched to other providers through their canonical model and variant (the
``canonical`` and ``variant`` of the sheets: ``MiniMax-M3`` at RunAPI and
``minimax/minimax-m3`` at ReAPI are both ``minimax-m3``, ``standard``). Each call is priced
at the target's price in force at the call's time, with the target's unit, tiers, cache
rates and failure rule (``pricing/sql/reprice.sql``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import duckdb

from warehouse.sql import sql_file


@dataclass(frozen=True)
class CallScope:
    """Which calls to look at: a time range [start, end) and optional attribution lists."""

    start: datetime | None = None
    end: datetime | None = None
    providers: tuple[str, ...] = field(default=())
    teams: tuple[str, ...] = field(default=())
    projects: tuple[str, ...] = field(default=())

    def params(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "providers": list(self.providers) or None,
            "teams": list(self.teams) or None,
            "projects": list(self.projects) or None,
        }


@dataclass(frozen=True)
class Repriced:
    """The calls that went to ``actual_provider``, priced at ``target_provider``."""

    actual_provider: str
    target_provider: str
    currency: str | None
    calls: int
    priced_calls: int
    """Calls the target has a price for (time, tier); the rest are left out of the sums."""
    actual_cost: Decimal
    """What all these calls cost where they ran."""
    actual_cost_priced: Decimal
    """What the calls priced at the target cost where they ran: the fair comparison."""
    repriced_cost: Decimal

    @property
    def unpriced_calls(self) -> int:
        return self.calls - self.priced_calls


def reprice(
    con: duckdb.DuckDBPyConnection,
    canonical: str,
    variant: str,
    scope: CallScope,
    *,
    target_variant: str | None = None,
    cache_share: Decimal | None = None,
) -> list[Repriced]:
    """Price the billed calls of ``canonical``/``variant`` in ``scope`` at every provider
    selling ``target_variant`` (default: the same variant) of that model.

    ``cache_share`` (0..1) replaces each call's cache reads by that share of its input.
    """
    rows = con.execute(
        sql_file("pricing", "reprice"),
        {
            **scope.params(),
            "canonical": canonical,
            "variant": variant,
            "target_variant": target_variant or variant,
            "cache_share": cache_share,
        },
    ).fetchall()
    return [
        Repriced(
            actual_provider=row[0],
            target_provider=row[1],
            currency=row[2],
            calls=int(row[3]),
            priced_calls=int(row[4]),
            actual_cost=row[5],
            actual_cost_priced=row[6],
            repriced_cost=row[7],
        )
        for row in rows
    ]
