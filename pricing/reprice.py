"""Repricing: what the same calls would have cost at another provider or variant.

Calls are matched to other providers through their canonical model and variant (the
``canonical`` and ``variant`` of the sheets: ``MiniMax-M3`` at RunAPI and
``minimax/minimax-m3`` at ReAPI are both ``minimax-m3``, ``standard``). Each call is priced
at the target's price in force at the call's time, with the target's unit, tiers, cache
rates and failure rule (``pricing/sql/reprice.sql``).

The bill of a call is linear in its token counts, so the calls of one UTC hour whose input
sizes lie in one tier of the target's prices cost that tier's rates times their summed
tokens. Repricing therefore reads ``reprice_hours`` (token sums per hour and input-size
band, kept by billing) whenever that gives the per-call answer exactly: the time range is
whole UTC hours, every target price starts and ends on a whole hour, and every tier
threshold is a band edge (``input_band`` in warehouse/schema.sql), and each provider's
calls of the model were billed in one currency. Otherwise, and for the cache what-if (a share
of each call's own input), it prices call by call. Both paths
give the same amounts to the last decimal (tests/test_reprice.py).

At any time a provider prices a canonical model and variant under one wire id (its other
ids are ``aliases``; pricing/sheet.py refuses a sheet with two): two would price every call
twice.
Prices loaded before that rule are refused here, naming the provider and its ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import duckdb

from warehouse.errors import RatecardError
from warehouse.sql import fetch_value, sql_file

# The target prices that the hourly sums cannot price exactly: starting or ending within
# an hour, or with a tier threshold inside an input-size band (warehouse/schema.sql).
_PRICES_OFF_THE_GRID = """
SELECT count(*) FROM price_rates
WHERE canonical_model = $canonical AND variant = $target_variant
  AND NOT price_on_the_grid(effective_from, effective_to, tier_lo, tier_hi)
"""


# Providers whose calls of the model and variant were billed in more than one currency (a
# sheet that changed currency): the hourly sums cannot tell them apart, the calls can
_TWO_CURRENCIES = """
SELECT count(*) FROM (
    SELECT provider FROM daily_rollup
    WHERE canonical_model = $canonical AND variant = $variant AND currency IS NOT NULL
    GROUP BY provider HAVING count(DISTINCT currency) > 1
)
"""


# A provider selling the target under two wire ids at once (loaded before the sheets' rule
# in pricing/sheet.py check_points): two base prices of different models whose periods
# overlap; an open period ends at 'infinity'
_TWO_IDS = """
SELECT a.provider, a.model || ', ' || b.model AS models
FROM price_points AS a
JOIN price_points AS b
    ON  b.provider = a.provider
    AND b.canonical_model = a.canonical_model
    AND b.variant = a.variant
    AND a.model < b.model
    AND a.effective_from < b.effective_to AND b.effective_from < a.effective_to
WHERE a.canonical_model = $canonical AND a.variant = $target_variant
  AND a.above_input_tokens IS NULL AND b.above_input_tokens IS NULL
ORDER BY a.provider, a.model, b.model LIMIT 1
"""


def _whole_hour(moment: datetime | None) -> bool:
    if moment is None:
        return True
    utc = moment.astimezone(UTC)
    return utc == utc.replace(minute=0, second=0, microsecond=0)


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
    actual_currency: str | None = None
    """The currency these calls were billed in where they ran: that of ``actual_cost``
    (``currency`` is the target's, that of ``repriced_cost``)."""

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
    target = target_variant or variant
    two_ids = con.execute(_TWO_IDS, {"canonical": canonical, "target_variant": target}).fetchall()
    if two_ids:
        provider, models = two_ids[0]
        raise RatecardError(
            f"{provider} prices {canonical} {target} under more than one id ({models}), so "
            "every call would be priced twice: in its sheet, list the other ids as aliases of "
            "one model (or give each its own variant) and run `ratecard ingest prices` again"
        )
    params: dict[str, object] = {
        **scope.params(),
        "canonical": canonical,
        "variant": variant,
        "target_variant": target,
    }
    if from_hours(con, canonical, target, scope, cache_share=cache_share, variant=variant):
        source = sql_file("pricing", "reprice_hours")
    else:
        source = sql_file("pricing", "reprice_calls")
        params["cache_share"] = cache_share
    rows = con.execute(f"WITH {source},\n{sql_file('pricing', 'reprice')}", params).fetchall()
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
            actual_currency=row[8],
        )
        for row in rows
    ]


def from_hours(
    con: duckdb.DuckDBPyConnection,
    canonical: str,
    target_variant: str,
    scope: CallScope,
    *,
    cache_share: Decimal | None = None,
    variant: str | None = None,
) -> bool:
    """Whether repricing the calls of ``canonical``/``variant`` (default: ``target_variant``)
    at ``target_variant`` prices can read the hourly sums and still give every call's exact
    price and the currency it was billed in (see the module's docstring)."""
    if cache_share is not None or not (_whole_hour(scope.start) and _whole_hour(scope.end)):
        return False
    off_grid = fetch_value(
        con, _PRICES_OFF_THE_GRID, {"canonical": canonical, "target_variant": target_variant}
    )
    mixed = fetch_value(
        con, _TWO_CURRENCIES, {"canonical": canonical, "variant": variant or target_variant}
    )
    return int(off_grid) == 0 and int(mixed) == 0
