"""Import public price catalogs as price points, exactly, with provenance.

Three catalogs, each read from a URL (fetched with retries) or a local file:

- **OpenRouter** ``/api/v1/models``: ``data[].pricing`` holds decimal strings in USD per
  token (``prompt``, ``completion``, ``input_cache_read``, ``input_cache_write``) and per
  request (``request``). Provider ``openrouter``; the model id is OpenRouter's.
- **LiteLLM** ``model_prices_and_context_window.json``: USD per token
  (``input_cost_per_token``, ``output_cost_per_token``, ``cache_read_input_token_cost``,
  ``cache_creation_input_token_cost``, and for 1-hour cache writes
  ``cache_creation_input_token_cost_above_1hr``, the sheet's ``cache_write_1h``) and
  long-context tiers ``*_above_<N>k_tokens`` (``…_above_1hr_above_200k_tokens`` too).
  The provider is the entry's ``litellm_provider``; a key prefixed with it
  (``minimax/MiniMax-M2``) becomes the model ``MiniMax-M2`` with the full key as an alias.
- **genai-prices** data (a JSON list of providers, as the package's updater downloads):
  USD per million tokens (``input_mtok``, ``output_mtok``, ``cache_read_mtok``,
  ``cache_write_mtok``) and per thousand requests (``requests_kcount``), tiers
  ``{"base", "tiers": [{"start", "price"}]}``, price history as a list of prices with a
  ``start_date`` constraint. The provider is genai-prices' provider id; the exact names a
  model's ``match`` lists become aliases.

Numbers are read as Decimal from the JSON text (never through float) and converted to the
sheet's unit by multiplying by a power of ten, which is exact. Every point is stored per
1M tokens. A catalog states prices, not history: a price without a start date applies from
``effective_from`` (by default 1970-01-01, i.e. to all traffic, which is what a "what would
this have cost there" comparison needs), and its note says when it was fetched. An entry
that cannot be expressed as a price point (variable pricing, a time-of-day price, a rate
finer than 9 decimal places per 1M tokens) is skipped and reported, not guessed at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from ingest import http
from ingest.text import decode_text, read_text
from pricing.sheet import PricePoint, Rates, check_points, first_error, overlaps
from warehouse.errors import RatecardError


class Catalog(StrEnum):
    OPENROUTER = "openrouter"
    LITELLM = "litellm"
    GENAI_PRICES = "genai-prices"


DEFAULT_SOURCES = {
    Catalog.OPENROUTER: "https://openrouter.ai/api/v1/models",
    Catalog.LITELLM: "https://raw.githubusercontent.com/BerriAI/litellm/main/"
    "model_prices_and_context_window.json",
    Catalog.GENAI_PRICES: "https://raw.githubusercontent.com/pydantic/genai-prices/main/"
    "prices/data.json",
}

ALL_TIME = datetime(1970, 1, 1, tzinfo=UTC)
PER_MILLION = Decimal(1_000_000)


@dataclass
class CatalogImport:
    """The price points read from one catalog, and the entries passed over with why."""

    catalog: Catalog
    source: str
    points: list[PricePoint] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _decimal(value: Any) -> Decimal | None:
    """A catalog number (JSON number read as Decimal, int, or decimal string) or None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a price: {value!r}")
    if isinstance(value, float):  # only reachable if a caller parsed floats; refuse it
        raise ValueError("a float has already lost the exact price")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a price: {value!r}") from None


def canonical_of(model_id: str) -> tuple[str, str]:
    """(canonical model, variant) for a catalog's model id: the last path segment in lower
    case (``minimax/MiniMax-M3`` is ``minimax-m3``), a ``-highspeed`` suffix as the variant."""
    name = model_id.rsplit("/", 1)[-1].lower()
    if name.endswith("-highspeed"):
        return name.removesuffix("-highspeed"), "highspeed"
    return name, "standard"


class _Builder:
    def __init__(self, result: CatalogImport, fetched_on: date) -> None:
        self.result = result
        self.fetched_on = fetched_on
        self.seen: dict[tuple[str, str], str] = {}
        # the first model seen per (provider, canonical model, variant): a provider sells
        # one at a time (pricing/sheet.py), so another id at the same prices is its alias
        self.sold: dict[tuple[str, str, str], tuple[str, str, list[PricePoint]]] = {}

    def model(
        self,
        entry: str,
        provider: str,
        model: str,
        periods: list[
            tuple[datetime, datetime | None, dict[int | None, dict[str, Decimal | None]]]
        ],
        aliases: Iterable[str] = (),
        note: str = "",
    ) -> None:
        """Add one model's points: per period, the base rates (key None) and tiers."""
        key = (provider, model)
        if key in self.seen:
            self.result.skipped.append((entry, f"the same model as {self.seen[key]}"))
            return
        canonical, variant = canonical_of(model)
        points = []
        for start, end, tiers in periods:
            for above, rates in sorted(tiers.items(), key=lambda t: -1 if t[0] is None else t[0]):
                try:
                    checked = Rates.model_validate(
                        {k: v for k, v in rates.items() if v is not None}
                    )
                except ValidationError as exc:
                    where, message, value = first_error(exc)
                    shown = "" if value is None else f" ({value})"
                    self.result.skipped.append((entry, f"{where}: {message}{shown}"))
                    return
                points.append(
                    PricePoint(
                        provider=provider,
                        model=model,
                        canonical_model=canonical,
                        variant=variant,
                        unit_tokens=1_000_000,
                        currency="USD",
                        effective_from=start,
                        effective_to=end,
                        above_input_tokens=above,
                        input_rate=checked.input,
                        output_rate=checked.output,
                        cache_read_rate=checked.cache_read,
                        cache_write_rate=checked.cache_write,
                        cache_write_1h_rate=checked.cache_write_1h,
                        request_rate=checked.request,
                        failed_calls_billed=False,
                        example_rate=False,
                        source=self.result.source,
                        checked_on=self.fetched_on,
                        note=(note + " " if note else "")
                        + f"imported from {self.result.catalog.value} on {self.fetched_on}",
                        sheet=self.result.source,
                        origin=entry,
                        aliases=tuple(sorted({a for a in aliases if a != model})),
                    )
                )
        sold = (provider, canonical, variant)
        if sold in self.sold:
            first_entry, first_model, first_points = self.sold[sold]
            if _same_prices(first_points, points):
                self._alias(provider, first_model, [model, *aliases])
                self.seen[key] = entry
                return
            if any(
                overlaps(*sorted((a, b), key=lambda p: p.effective_from))
                for a in first_points
                for b in points
            ):
                self.result.skipped.append(
                    (
                        entry,
                        f"{provider} already sells {canonical} {variant} as {first_model} "
                        f"({first_entry}) at other prices; to compare this one, give it a "
                        "variant of its own in a price sheet",
                    )
                )
                return
        else:
            self.sold[sold] = (entry, model, points)
        self.seen[key] = entry
        self.result.points.extend(points)

    def _alias(self, provider: str, model: str, names: Iterable[str]) -> None:
        """Add ``names`` to the aliases of ``provider``'s ``model``."""
        self.result.points = [
            replace(p, aliases=tuple(sorted({*p.aliases, *names} - {model})))
            if (p.provider, p.model) == (provider, model)
            else p
            for p in self.result.points
        ]


def _same_prices(first: list[PricePoint], second: list[PricePoint]) -> bool:
    """Whether two models' points state the same periods, tiers and rates."""

    def prices(points: list[PricePoint]) -> set[tuple[object, ...]]:
        return {
            (
                p.effective_from,
                p.effective_to,
                p.above_input_tokens,
                p.input_rate,
                p.output_rate,
                p.cache_read_rate,
                p.cache_write_rate,
                p.cache_write_1h_rate,
                p.request_rate,
            )
            for p in points
        }

    return prices(first) == prices(second)


def _matches(patterns: list[str], *names: str) -> bool:
    return not patterns or any(p.lower() in n.lower() for p in patterns for n in names if n)


def parse_openrouter(
    data: Any,
    result: CatalogImport,
    match: list[str],
    effective_from: datetime,
    fetched_on: date,
    provider: str | None = None,
) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise RatecardError(f"{result.source}: not an OpenRouter model list (no data array)")
    build = _Builder(result, fetched_on)
    for index, item in enumerate(data["data"]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            result.skipped.append((f"data[{index}]", "no model id"))
            continue
        model = item["id"]
        if not _matches(match, model, str(item.get("name", ""))):
            continue
        pricing = item.get("pricing") or {}
        try:
            per_token = {
                "input": _decimal(pricing.get("prompt")),
                "output": _decimal(pricing.get("completion")),
                "cache_read": _decimal(pricing.get("input_cache_read")),
                "cache_write": _decimal(pricing.get("input_cache_write")),
            }
            request = _decimal(pricing.get("request"))
        except ValueError as exc:
            result.skipped.append((model, str(exc)))
            continue
        if any(v is not None and v < 0 for v in [*per_token.values(), request]):
            result.skipped.append((model, "variable pricing (a negative price): not a rate"))
            continue
        rates: dict[str, Decimal | None] = {
            k: None if v is None else v * PER_MILLION for k, v in per_token.items()
        }
        rates["request"] = request or None
        slug = item.get("canonical_slug")
        build.model(
            model,
            provider or "openrouter",
            model,
            [(effective_from, None, {None: rates})],
            aliases=[slug] if isinstance(slug, str) else [],
        )


_LITELLM_TIER = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|"
    r"cache_creation_input_token_cost|cache_creation_input_token_cost_above_1hr)"
    r"_above_(\d+)k_tokens$"
)
_LITELLM_RATE = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
    # Anthropic's 1-hour cache writes ("above 1hr" is their lifetime, not a tier)
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
}


def parse_litellm(
    data: Any,
    result: CatalogImport,
    match: list[str],
    effective_from: datetime,
    fetched_on: date,
    provider: str | None = None,
) -> None:
    if not isinstance(data, dict):
        raise RatecardError(f"{result.source}: not a LiteLLM price map (expected an object)")
    build = _Builder(result, fetched_on)
    for key, entry in data.items():
        if key == "sample_spec" or not isinstance(entry, dict) or not _matches(match, key):
            continue
        if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
            continue  # images, audio, embeddings without output: not a token-priced chat model
        owner = str(entry.get("litellm_provider") or "litellm")
        name = key.removeprefix(f"{owner}/")
        try:
            base = {rate: _decimal(entry.get(field)) for field, rate in _LITELLM_RATE.items()}
            tiers: dict[int | None, dict[str, Decimal | None]] = {None: base}
            for field_name, value in entry.items():
                found = _LITELLM_TIER.match(field_name)
                if found:
                    threshold = int(found.group(2)) * 1000
                    tier = tiers.setdefault(threshold, dict(base))
                    tier[_LITELLM_RATE[found.group(1)]] = _decimal(value)
        except ValueError as exc:
            result.skipped.append((key, str(exc)))
            continue
        per_million = {
            above: {k: None if v is None else v * PER_MILLION for k, v in rates.items()}
            for above, rates in tiers.items()
        }
        build.model(
            key,
            (provider or owner).lower(),
            name,
            [(effective_from, None, per_million)],
            aliases=[key] if name != key else [],
        )


_GENAI_RATE = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
}


def _genai_tiers(prices: dict[str, Any]) -> dict[int | None, dict[str, Decimal | None]]:
    """genai-prices tiers each dimension separately; a ratecard tier prices the whole call.
    For every threshold any dimension has, each dimension's price is its own highest tier
    at or below that threshold (or its base): the same price genai-prices would pick."""
    per_dimension: dict[str, tuple[Decimal | None, list[tuple[int, Decimal]]]] = {}
    for field_name, rate in _GENAI_RATE.items():
        value = prices.get(field_name)
        if isinstance(value, dict):
            steps: list[tuple[int, Decimal]] = []
            for tier in value.get("tiers", []):
                price = _decimal(tier["price"])
                if price is not None:
                    steps.append((int(tier["start"]), price))
            per_dimension[rate] = (_decimal(value.get("base")), sorted(steps))
        else:
            per_dimension[rate] = (_decimal(value), [])
    thresholds = sorted({start for _, steps in per_dimension.values() for start, _ in steps})
    requests = _decimal(prices.get("requests_kcount"))
    request = None if requests is None else requests / 1000
    out: dict[int | None, dict[str, Decimal | None]] = {}
    for above in [None, *thresholds]:
        rates: dict[str, Decimal | None] = {"request": request or None}
        for rate, (base, steps) in per_dimension.items():
            rates[rate] = base
            for start, price in steps:
                if above is not None and start <= above:
                    rates[rate] = price
        out[above] = rates
    return out


def _equals(clause: Any) -> list[str]:
    """The exact names a genai-prices match clause lists (``equals``, inside ``or``)."""
    if not isinstance(clause, dict):
        return []
    if isinstance(clause.get("equals"), str):
        return [clause["equals"]]
    return [name for inner in clause.get("or", []) for name in _equals(inner)]


def parse_genai_prices(
    data: Any,
    result: CatalogImport,
    match: list[str],
    effective_from: datetime,
    fetched_on: date,
    provider: str | None = None,
) -> None:
    if not isinstance(data, list):
        raise RatecardError(f"{result.source}: not genai-prices data (expected a provider list)")
    build = _Builder(result, fetched_on)
    for owner in data:
        if not isinstance(owner, dict) or not isinstance(owner.get("id"), str):
            continue
        if provider is not None and owner["id"] != provider:
            continue
        for m_index, model in enumerate(owner.get("models", [])):
            model_id = model.get("id") if isinstance(model, dict) else None
            if not isinstance(model_id, str):
                continue
            if not _matches(match, model_id, str(model.get("name", ""))):
                continue
            entry = f"{owner['id']}: models[{m_index}] {model_id}"
            listed = model.get("prices")
            conditional = listed if isinstance(listed, list) else [{"prices": listed}]
            periods = []
            try:
                starts: list[tuple[datetime, dict[str, Any]]] = []
                for item in conditional:
                    constraint = item.get("constraint")
                    if constraint is None:
                        starts.append((effective_from, item["prices"]))
                    elif "start_date" in constraint:
                        day = date.fromisoformat(str(constraint["start_date"]))
                        starts.append(
                            (datetime(day.year, day.month, day.day, tzinfo=UTC), item["prices"])
                        )
                    else:
                        raise ValueError("a time-of-day price cannot be a price point")
                starts.sort(key=lambda s: s[0])
                for index, (start, prices) in enumerate(starts):
                    end = starts[index + 1][0] if index + 1 < len(starts) else None
                    periods.append((start, end, _genai_tiers(prices)))
            except (ValueError, KeyError, TypeError) as exc:
                result.skipped.append((entry, str(exc)))
                continue
            if not all(
                t.get("input") is not None and t.get("output") is not None
                for _, _, tiers in periods
                for t in tiers.values()
            ):
                result.skipped.append((entry, "no input and output token price"))
                continue
            build.model(entry, owner["id"], model_id, periods, aliases=_equals(model.get("match")))
    # an alias must not be another model's own id at the provider
    ids = {(p.provider, p.model) for p in result.points}
    result.points = [
        p if not any((p.provider, a) in ids for a in p.aliases) else _without_aliases(p, ids)
        for p in result.points
    ]


def _without_aliases(point: PricePoint, ids: set[tuple[str, str]]) -> PricePoint:
    return replace(point, aliases=tuple(a for a in point.aliases if (point.provider, a) not in ids))


_PARSERS: dict[Catalog, Callable[..., None]] = {
    Catalog.OPENROUTER: parse_openrouter,
    Catalog.LITELLM: parse_litellm,
    Catalog.GENAI_PRICES: parse_genai_prices,
}


@dataclass(frozen=True)
class FetchLimits:
    """The bounds of one catalog download (the public catalogs are 1-2 MB)."""

    max_bytes: int = 64 * 1024 * 1024
    """The largest catalog read, downloaded (decompressed) or from a file."""
    deadline: float = 300.0
    """Seconds for the whole download, retries and a slow server included."""
    timeout: float = 30.0
    """Seconds per connect or read."""


def fetch_text(
    source: str,
    *,
    limits: FetchLimits = FetchLimits(),
    policy: http.RetryPolicy = http.RetryPolicy(),  # noqa: B008
) -> str:
    """The text at a URL (with retries, within ``limits``) or in a local file."""
    what = "a price catalog (JSON)"
    if not source.startswith(("http://", "https://")):
        path = Path(source)
        if not path.is_file():
            raise RatecardError(f"{source}: no such file (give a URL or a local file)")
        return read_text(path, what, limits.max_bytes)
    with (
        http.Deadline(limits.deadline) as deadline,
        httpx.Client(timeout=limits.timeout, follow_redirects=True) as client,
    ):
        outcome = http.request(
            client, "GET", source, policy=policy, deadline=deadline, max_bytes=limits.max_bytes
        )
    if outcome.limit == "deadline":
        raise RatecardError(
            f"{source}: stopped at the download's deadline of {limits.deadline:g} s "
            f"(--deadline), {outcome.error}; nothing was imported: try again, give a longer "
            "--deadline, or download the file and pass its path with --from"
        )
    if outcome.limit == "size":
        raise RatecardError(
            f"{source}: {outcome.error} (--max-bytes); nothing was imported: raise "
            "--max-bytes if the catalog really is that large"
        )
    if not outcome.ok:
        raise RatecardError(
            f"{source}: {outcome.error} after {outcome.attempts} attempt(s); check the "
            "URL, or download the file and pass its path with --from"
        )
    return decode_text(outcome.body, source, what)


def read_catalog(
    catalog: Catalog,
    source: str | None = None,
    *,
    match: list[str] | None = None,
    provider: str | None = None,
    effective_from: datetime = ALL_TIME,
    fetched_on: date | None = None,
    text: str | None = None,
    limits: FetchLimits = FetchLimits(),
) -> CatalogImport:
    """Read ``catalog`` from ``source`` (its public URL by default) into checked points.

    ``match`` keeps the models whose id or name contains one of the strings (any case);
    ``provider`` renames the provider (OpenRouter, LiteLLM) or picks one (genai-prices).
    """
    where = source or DEFAULT_SOURCES[catalog]
    body = text if text is not None else fetch_text(where, limits=limits)
    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise RatecardError(f"{where}: not JSON ({exc})") from None
    except RecursionError:
        raise RatecardError(f"{where}: not JSON a reader can take (nested too deeply)") from None
    result = CatalogImport(catalog, where)
    _PARSERS[catalog](
        data,
        result,
        match or [],
        effective_from,
        fetched_on or datetime.now(UTC).date(),
        provider,
    )
    check_points(result.points)
    return result
