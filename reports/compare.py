"""Provider and variant comparison: the same calls priced at every provider that sells their
model, as ``ratecard compare`` prints it, writes it to CSV and the dashboard's Compare page
shows it. All three read :func:`comparisons`, so they cannot disagree.

The calls of one canonical model are compared variant by variant (the variant a call ran on
is part of what was bought). For each variant the selection ran on there is a comparison at
that same variant, and for every variant other than ``standard`` a second one at
``standard``: what that traffic would have cost had it moved (``--at-variant`` picks one
target variant instead).

A comparison says where its calls really ran (:class:`RanOn`: calls and what they cost
there, which adds up to the spend Overview and Teams show for the same calls) and, per
provider selling the target variant, a :class:`Quote`: the calls it can price, what those
calls cost where they ran, what they would have cost at it (pricing/reprice.py: its prices
in force at each call's time, its unit, tiers, cache and failure rules), and how many of
them ran there. A provider without a price for some of the calls (their time or size)
quotes only the rest and is never ranked cheapest.

**Currencies** are never converted or added. The calls of a variant billed in different
currencies (a USD gateway and a JPY one) are compared apart, one comparison per currency
they ran in (:attr:`Comparison.currency`). A provider quoting in another currency than the
calls ran in shows what they would cost there, in its currency, and no difference or
percentage (:attr:`Quote.comparable`).

**Cheapest**: among the quotes that price every call, within one currency, the lowest cost
is marked when some other complete quote in that currency costs more. A model with one
seller, or sellers that all quote the same, has no cheapest.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
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
from warehouse.sql import fetch_value, sql_file

STANDARD = "standard"
"""The variant the what-if moves other variants' traffic to."""


@dataclass(frozen=True)
class RanOn:
    """Where some of a comparison's calls really ran, and what they cost there."""

    provider: str
    calls: int
    cost: Decimal
    currency: str | None = None
    """The currency the calls were billed in there."""


@dataclass(frozen=True)
class Quote:
    """A comparison's calls priced at one provider."""

    provider: str
    currency: str | None
    """The currency of this provider's prices: that of ``repriced_cost`` (None when it has
    a price for none of the calls)."""
    calls: int
    """Every call compared, wherever it ran: priced here or not."""
    unpriced_calls: int
    """Calls this provider has no price for (their time or size): left out of both sums."""
    actual_cost: Decimal
    """What the calls this provider can price cost where they really ran."""
    repriced_cost: Decimal
    """What the same calls would have cost at this provider."""
    ran_here_calls: int = 0
    """Of the calls compared, those that ran at this provider."""
    ran_here_cost: Decimal = Decimal(0)
    """What those cost here."""
    cheapest: bool = False
    """See the module's docstring."""
    actual_currency: str | None = None
    """The currency the calls were billed in where they ran: that of ``actual_cost`` and
    ``ran_here_cost``."""

    @property
    def priced_calls(self) -> int:
        return self.calls - self.unpriced_calls

    @property
    def complete(self) -> bool:
        """Whether this provider prices every call: only then is its sum comparable."""
        return self.calls > 0 and self.unpriced_calls == 0

    @property
    def comparable(self) -> bool:
        """Whether this provider quotes in the currency the calls ran in: only then is its
        cost here set against what they cost."""
        return self.currency is not None and self.currency == self.actual_currency

    @property
    def difference(self) -> Decimal | None:
        """Cost here minus cost where they ran; None across two currencies."""
        return self.repriced_cost - self.actual_cost if self.comparable else None

    @property
    def difference_percent(self) -> Decimal | None:
        difference = self.difference
        if difference is None or not self.actual_cost:
            return None
        return difference / self.actual_cost * 100


def quotes(rows: Iterable[Repriced]) -> list[Quote]:
    """One quote per target provider, summed over the providers the calls ran on (all in
    one currency), with the cheapest in each currency marked (see the module's docstring)."""
    totals: dict[str, Quote] = {}
    for row in rows:
        seen = totals.get(row.target_provider) or Quote(
            row.target_provider, None, 0, 0, Decimal(0), Decimal(0)
        )
        here = row.actual_provider == row.target_provider
        if seen.calls and seen.actual_currency != row.actual_currency:
            raise AssertionError("quotes() sums calls billed in one currency only")
        totals[row.target_provider] = replace(
            seen,
            currency=row.currency or seen.currency,
            actual_currency=row.actual_currency,
            calls=seen.calls + row.calls,
            unpriced_calls=seen.unpriced_calls + row.unpriced_calls,
            actual_cost=seen.actual_cost + row.actual_cost_priced,
            repriced_cost=seen.repriced_cost + row.repriced_cost,
            ran_here_calls=seen.ran_here_calls + (row.calls if here else 0),
            ran_here_cost=seen.ran_here_cost + (row.actual_cost if here else Decimal(0)),
        )
    ordered = sorted(totals.values(), key=lambda q: q.provider)
    cheapest: set[str] = set()
    for currency in {q.currency for q in ordered if q.complete}:  # ranked within a currency
        same = [q for q in ordered if q.complete and q.currency == currency]
        lowest = min(q.repriced_cost for q in same)
        if any(q.repriced_cost != lowest for q in same):  # else one seller, or all the same
            cheapest.update(q.provider for q in same if q.repriced_cost == lowest)
    return [replace(q, cheapest=q.provider in cheapest) for q in ordered]


def ran_on(rows: Iterable[Repriced]) -> tuple[RanOn, ...]:
    """Where the repriced calls really ran: every target provider sees all of them, so the
    rows of any one target say it."""
    listed = list(rows)
    if not listed:
        return ()
    first = min(r.target_provider for r in listed)
    return tuple(
        RanOn(r.actual_provider, r.calls, r.actual_cost, r.actual_currency)
        for r in sorted(listed, key=lambda r: r.actual_provider)
        if r.target_provider == first
    )


@dataclass(frozen=True)
class Comparison:
    """The selection's calls of one canonical model and variant billed in one currency,
    quoted at every provider selling ``target_variant`` of that model."""

    canonical: str
    variant: str
    target_variant: str
    ran_on: tuple[RanOn, ...]
    quotes: tuple[Quote, ...]
    currency: str | None = None
    """The currency the calls were billed in: that of ``actual_cost``."""

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.ran_on)

    @property
    def actual_cost(self) -> Decimal:
        """What all the calls compared cost where they ran."""
        return sum((r.cost for r in self.ran_on), Decimal(0))

    @property
    def what_if(self) -> bool:
        """Priced at another variant than the one the calls ran on."""
        return self.target_variant != self.variant


@dataclass(frozen=True)
class Spend:
    """What the calls of one variant cost at one provider where they ran."""

    variant: str
    provider: str
    calls: int
    cost: Decimal
    currency: str | None


def spend(compared: Iterable[Comparison]) -> list[Spend]:
    """The compared calls once each, per variant and provider they ran on: the selection's
    spend on the model (a variant's what-if compares the same calls again)."""
    seen: dict[tuple[str, str | None], tuple[RanOn, ...]] = {}
    for comparison in compared:
        seen.setdefault((comparison.variant, comparison.currency), comparison.ran_on)
    return [
        Spend(variant, r.provider, r.calls, r.cost, r.currency)
        for variant, currency in sorted(seen, key=lambda key: (variant_order(key[0]), key[1] or ""))
        for r in seen[(variant, currency)]
    ]


def variant_order(variant: str) -> tuple[bool, str]:
    """Standard first, then the other variants by name."""
    return variant != STANDARD, variant


def comparisons(
    con: duckdb.DuckDBPyConnection,
    canonical: str,
    scope: CallScope,
    *,
    variant: str | None = None,
    target_variant: str | None = None,
    cache_share: Decimal | None = None,
) -> list[Comparison]:
    """The priced calls of ``canonical`` in ``scope`` compared: for ``variant`` or each
    variant they ran on, and each currency they were billed in, at ``target_variant`` or
    else at their own variant and, for a variant other than standard, at standard too (when
    some sheet sells it). Variants without calls in the scope are left out.
    ``cache_share`` (0..1) is a what-if: that share of every call's input read from the
    cache."""
    sold = variants_on_sale(con, canonical)
    result = []
    for each in [variant] if variant is not None else variants_run(con, canonical):
        if target_variant is not None:
            targets = [target_variant]
        else:
            targets = [each] + ([STANDARD] if each != STANDARD and STANDARD in sold else [])
        priced: list[tuple[str, list[Repriced]]] = []
        for target in targets:
            rows = reprice(
                con, canonical, each, scope, target_variant=target, cache_share=cache_share
            )
            if not rows:
                break  # no calls of this variant in the scope
            priced.append((target, rows))
        ran_in = {row.actual_currency for _, rows in priced for row in rows}
        for currency in sorted(ran_in, key=lambda code: (code is None, code or "")):
            for target, rows in priced:  # every target sees every call: all have this one
                mine = [row for row in rows if row.actual_currency == currency]
                result.append(
                    Comparison(canonical, each, target, ran_on(mine), tuple(quotes(mine)), currency)
                )
    return result


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
    """:func:`comparisons` for ``ratecard compare``: the options checked, ``period`` as
    whole days in ``timezone``."""
    zone(timezone)  # an unknown zone stops here, naming it
    if cache_share is not None and not (cache_share.is_finite() and 0 <= cache_share <= 1):
        raise RatecardError(f"--cache-share: a share from 0 to 1, not {cache_share}")
    ran = variants_run(con, canonical)
    if not ran:
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
    if variant is not None and variant not in ran:
        raise RatecardError(
            f"--variant {variant}: no priced {canonical} calls ran on it; they ran on "
            + ", ".join(ran)
        )
    if target_variant is not None:
        sold = variants_on_sale(con, canonical)
        if target_variant not in sold:
            raise RatecardError(
                f"--at-variant {target_variant}: no price sheet sells {canonical} "
                f"{target_variant}; variants on sale: {', '.join(sold)}"
            )
    return comparisons(
        con,
        canonical,
        call_scope(period, timezone, providers, teams, projects),
        variant=variant,
        target_variant=target_variant,
        cache_share=cache_share,
    )


def call_scope(
    period: Period,
    timezone: str = "UTC",
    providers: Sequence[str] = (),
    teams: Sequence[str] = (),
    projects: Sequence[str] = (),
) -> CallScope:
    """The calls ``ratecard compare``'s options select: ``period`` as whole days in
    ``timezone``."""
    tz = zone(timezone)
    return CallScope(
        start=None if period.start is None else midnight(period.start, tz),
        end=None if period.end_exclusive is None else midnight(period.end_exclusive, tz),
        providers=tuple(providers),
        teams=tuple(teams),
        projects=tuple(projects),
    )


def calls_without_usage(con: duckdb.DuckDBPyConnection, canonical: str, scope: CallScope) -> int:
    """The successful calls of ``canonical`` in ``scope`` whose logs carry no token usage:
    unpriced, so in no comparison, and said beside it (:func:`without_usage_note`)."""
    return int(
        fetch_value(
            con,
            sql_file("reports", "compare_without_usage"),
            {"canonical": canonical, **scope.params()},
        )
    )


def without_usage_note(calls: int, canonical: str) -> str:
    """What the comparison leaves out when ``calls`` of ``canonical`` carry no usage."""
    return (
        f"{calls:,} more successful {canonical} call{'' if calls == 1 else 's'} in this "
        f"selection {'carries' if calls == 1 else 'carry'} no token usage (a stream whose "
        "client did not ask for it) and cannot be priced anywhere, so the comparison leaves "
        "them out; see the unpriced calls of `ratecard summary` for how to get usage."
    )


def variants_run(con: duckdb.DuckDBPyConnection, canonical: str) -> list[str]:
    """The variants priced calls of ``canonical`` ran on, standard first."""
    return _variants(
        con,
        "SELECT DISTINCT variant FROM reprice_hours WHERE canonical_model = $canonical",
        canonical,
    )


def variants_on_sale(con: duckdb.DuckDBPyConnection, canonical: str) -> list[str]:
    """The variants of ``canonical`` some price sheet sells, standard first."""
    return _variants(
        con,
        "SELECT DISTINCT variant FROM price_points WHERE canonical_model = $canonical",
        canonical,
    )


def _variants(con: duckdb.DuckDBPyConnection, sql: str, canonical: str) -> list[str]:
    found = con.execute(sql, {"canonical": canonical}).fetchall()
    return sorted((str(row[0]) for row in found), key=variant_order)


QUOTE_COLUMNS = (
    "provider",
    "currency",
    "ran here",
    "calls priced",
    "no price here",
    "cost where they ran",
    "cost here",
    "difference",
    "difference %",
)
"""The columns of a comparison's table, on the command line and the Compare page."""

QUOTE_NOTE = (
    "Per provider: how many of the calls ran there; the calls it has a price for (and "
    "those it has none for, left out of its sums); what those calls cost where they really "
    "ran, and what they would have cost there; the difference. A provider without a price "
    "for some calls quotes only the rest and is not ranked; with one seller, or all quoting "
    "the same, none is cheapest. A provider pricing in another currency than the calls were "
    "billed in shows no difference, and is ranked only against quotes in its own currency: "
    "currencies are never converted or added."
)
"""What the numbers of a comparison's table are, wherever it is shown."""


def comparison_title(comparison: Comparison) -> str:
    """The heading of a comparison: which calls, where they ran, at which variant they are
    priced, and the currency they were billed in."""
    ran = ", ".join(f"{r.provider} {r.calls:,}" for r in comparison.ran_on)
    calls = f"{comparison.calls:,} {comparison.variant} call" + (
        "" if comparison.calls == 1 else "s"
    )
    at = (
        f"priced at {comparison.target_variant} (what if they moved)"
        if comparison.what_if
        else f"priced at {comparison.variant}"
    )
    billed = f", billed in {comparison.currency}" if comparison.currency else ""
    return (
        f"{comparison.canonical}: {calls} (ran on {ran}{billed}), {at} at every provider selling it"
    )


CSV_COLUMNS = (
    "canonical_model",
    "variant",
    "priced_at_variant",
    "provider",
    "currency",
    "actual_currency",
    "calls",
    "unpriced_calls",
    "ran_here_calls",
    "ran_here_cost",
    "actual_cost",
    "repriced_cost",
    "difference",
    "cheapest",
)


def write_comparisons_csv(compared: Sequence[Comparison], out: Path) -> None:
    """One row per (variant, currency the calls were billed in, variant priced at, provider)
    with exact amounts, for spreadsheets: the columns of the table ``ratecard compare``
    prints. ``actual_cost`` and ``ran_here_cost`` are in ``actual_currency``,
    ``repriced_cost`` in ``currency``; ``difference`` is empty when the two differ."""

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for comparison in compared:
                for quote in comparison.quotes:
                    writer.writerow(
                        [
                            neutral(comparison.canonical),
                            neutral(comparison.variant),
                            neutral(comparison.target_variant),
                            neutral(quote.provider),
                            neutral(quote.currency or ""),
                            neutral(quote.actual_currency or ""),
                            quote.calls,
                            quote.unpriced_calls,
                            quote.ran_here_calls,
                            plain(quote.ran_here_cost),
                            plain(quote.actual_cost),
                            plain(quote.repriced_cost),
                            "" if quote.difference is None else plain(quote.difference),
                            "true" if quote.cheapest else "false",
                        ]
                    )

    write_atomically(out, write)
