"""Provider comparison: the same calls priced at every provider that sells their model, as
``ratecard compare`` prints it and the dashboard's Compare page shows it.

A quote sums, per provider the calls could have gone to, what they cost where they ran and
what they would have cost there (pricing/reprice.py: that provider's prices in force at each
call's time, its unit, tiers, cache and failure rules). A provider without a price for some
of the calls (their time or size) quotes only the rest and is never ranked cheapest.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from pricing.reprice import CallScope, Repriced, reprice
from reports.files import write_atomically
from reports.finance import zone
from reports.money import plain
from reports.period import Period, midnight
from reports.spreadsheet import neutral
from warehouse.errors import RatecardError


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
class Comparison:
    """The calls of one canonical model and variant, quoted at every provider selling
    ``target_variant`` of that model."""

    canonical: str
    variant: str
    target_variant: str
    quotes: tuple[Quote, ...]


def compare(
    con: duckdb.DuckDBPyConnection,
    canonical: str,
    period: Period,
    *,
    timezone: str = "UTC",
    variant: str | None = None,
    target_variant: str | None = None,
    providers: Sequence[str] = (),
    teams: Sequence[str] = (),
    projects: Sequence[str] = (),
    cache_share: Decimal | None = None,
) -> list[Comparison]:
    """Quote the priced calls of ``canonical`` in ``period`` (whole days in ``timezone``) at
    every provider: for ``variant``, or for each variant the model's calls ran on, priced at
    ``target_variant`` (default: the same variant). ``cache_share`` (0..1) is a what-if:
    that share of every call's input read from the cache."""
    tz = zone(timezone)  # an unknown zone stops here, naming it
    if cache_share is not None and not (cache_share.is_finite() and 0 <= cache_share <= 1):
        raise RatecardError(f"--cache-share: a share from 0 to 1, not {cache_share}")
    ran_on = [
        str(row[0])
        for row in con.execute(
            "SELECT DISTINCT variant FROM reprice_hours WHERE canonical_model = $canonical "
            "ORDER BY variant",
            {"canonical": canonical},
        ).fetchall()
    ]
    if not ran_on:
        known = [
            str(row[0])
            for row in con.execute(
                "SELECT DISTINCT canonical_model FROM reprice_hours ORDER BY 1"
            ).fetchall()
        ]
        raise RatecardError(
            f"--model {canonical}: no priced calls of this model; models with priced calls: "
            + (", ".join(known) or "none (ingest usage and price sheets first)")
        )
    if variant is not None and variant not in ran_on:
        raise RatecardError(
            f"--variant {variant}: no priced {canonical} calls ran on it; they ran on "
            + ", ".join(ran_on)
        )
    if target_variant is not None:
        sold = _variants_on_sale(con, canonical)
        if target_variant not in sold:
            raise RatecardError(
                f"--at-variant {target_variant}: no price sheet sells {canonical} "
                f"{target_variant}; variants on sale: {', '.join(sold)}"
            )
    scope = CallScope(
        start=None if period.start is None else midnight(period.start, tz),
        end=None if period.end_exclusive is None else midnight(period.end_exclusive, tz),
        providers=tuple(providers),
        teams=tuple(teams),
        projects=tuple(projects),
    )
    return [
        Comparison(
            canonical,
            each,
            target_variant or each,
            tuple(
                quotes(
                    reprice(
                        con,
                        canonical,
                        each,
                        scope,
                        target_variant=target_variant,
                        cache_share=cache_share,
                    )
                )
            ),
        )
        for each in ([variant] if variant is not None else ran_on)
    ]


def _variants_on_sale(con: duckdb.DuckDBPyConnection, canonical: str) -> list[str]:
    """The variants of ``canonical`` some price sheet sells."""
    return [
        str(row[0])
        for row in con.execute(
            "SELECT DISTINCT variant FROM price_points WHERE canonical_model = $canonical "
            "ORDER BY 1",
            {"canonical": canonical},
        ).fetchall()
    ]


CSV_COLUMNS = (
    "canonical_model",
    "variant",
    "priced_at_variant",
    "provider",
    "currency",
    "calls",
    "unpriced_calls",
    "actual_cost",
    "repriced_cost",
    "difference",
    "cheapest",
)


def write_comparisons_csv(comparisons: Sequence[Comparison], out: Path) -> None:
    """One row per (variant, provider) with exact amounts, for spreadsheets."""

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for comparison in comparisons:
                for quote in comparison.quotes:
                    writer.writerow(
                        [
                            neutral(comparison.canonical),
                            neutral(comparison.variant),
                            neutral(comparison.target_variant),
                            neutral(quote.provider),
                            neutral(quote.currency or ""),
                            quote.calls,
                            quote.unpriced_calls,
                            plain(quote.actual_cost),
                            plain(quote.repriced_cost),
                            plain(quote.difference),
                            "true" if quote.cheapest else "false",
                        ]
                    )

    write_atomically(out, write)
