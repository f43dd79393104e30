"""Price sheets as data: strict pydantic models for the YAML and CSV forms, and the flat
price points the billing engine reads.

A YAML sheet holds one provider's prices (``data/price_sheets/<provider>.yml``); the CSV form
holds one price point per row for any number of providers. Both become the same list of
:class:`PricePoint` values and pass through one set of checks (:func:`check_points`), so the
two forms cannot drift apart in what they accept.

Rates are ``Decimal`` in the sheet's unit (per 1,000 or per 1,000,000 tokens) with at most 9
decimal places; a value that would need rounding to fit is refused, not rounded. A rate, and
every other number a person writes in a sheet, is a plain decimal (:func:`plain_number`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal

from babel.numbers import list_currencies
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from warehouse.errors import RatecardError

UNIT_TOKENS: dict[str, int] = {"1K": 1_000, "1M": 1_000_000}
"""The units a rate can be quoted in, as the number of tokens it prices."""


class PriceSheetError(RatecardError):
    """A price sheet that cannot be loaded; names the file, the field and the value."""

    def __init__(self, file: str, field: str, problem: str, value: object = None) -> None:
        self.file, self.field, self.problem, self.value = file, field, problem, value
        # a number as it was written, not as Python's Decimal('0.30')
        written = str(value) if isinstance(value, Decimal) else value
        shown = "" if value is None else f" (value: {written!r})"
        super().__init__(f"{file}: {field}: {problem}{shown}")


PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
"""A plain decimal: an optional minus, digits with no leading zero, an optional point followed
by digits. No exponent, sign, digit separator, base prefix, base-60 or infinity: each of
those reads differently in YAML 1.1, YAML 1.2 or a spreadsheet, and a price is never written
that way on a price page."""


def _not_plain(text: str) -> str:
    """Why ``text`` is not a plain decimal, in the words a sheet's author needs."""
    unsigned = text.lstrip("+-")
    if re.fullmatch(r"0[0-9_]+(\.[0-9]*)?", unsigned):
        return "it has a leading zero, which YAML 1.1 reads as octal (010 is 8)"
    if re.fullmatch(r"0[xXoObB][0-9a-fA-F_]+", unsigned):
        return "it is hexadecimal, octal or binary"
    if re.fullmatch(r"[0-9_]+(:[0-9_]+)+(\.[0-9_]*)?", unsigned):
        return "YAML 1.1 reads it in base 60 (1:30 is 90)"
    if unsigned.lower().lstrip(".") in {"inf", "infinity", "nan"}:
        return "it is not finite"
    if re.fullmatch(r"[0-9._]*[eE][-+]?[0-9]+", unsigned):
        return "it has an exponent"
    if "_" in unsigned:
        return "it has a digit separator"
    if text.startswith("+"):
        return "it has a plus sign"
    if re.fullmatch(r"\.[0-9]+|[0-9]+\.", unsigned):
        return "its point needs digits on both sides"
    return "it is not a number"


def plain_number(value: object) -> object:
    """Before a number field's own checks: text must be a plain decimal (PLAIN_NUMBER), read
    as an exact Decimal; a float (which has already lost the exact value: 0.1 is not 1/10)
    and a boolean are refused. YAML (ingest.exact_yaml) and CSV sheets, budgets' amounts and
    thresholds all pass through here, so they accept the same numbers."""
    if isinstance(value, bool):
        raise ValueError("a boolean, not a number")
    if isinstance(value, float):
        raise ValueError("write numbers as exact decimals (quoted, or read by ratecard's loader)")
    if isinstance(value, str):
        text = value.strip()
        if PLAIN_NUMBER.fullmatch(text):
            return Decimal(text)
        raise ValueError(
            f"not a plain decimal number: {_not_plain(text)}; write digits with an optional "
            "decimal point, as 0.30 or 12"
        )
    return value


def _date_is_midnight_utc(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return f"{value.strip()}T00:00:00Z"
    return value


# the validator after the Field, so that pydantic checks the constraints in its core rather
# than in Python, and writes them as JSON Schema keywords (minimum, not "ge")
Rate = Annotated[
    Decimal,
    Field(ge=0, max_digits=18, decimal_places=9, allow_inf_nan=False),
    BeforeValidator(plain_number),
]
"""A price in the sheet's currency per unit of tokens (or per call for ``request``)."""

EffectiveTime = Annotated[AwareDatetime, BeforeValidator(_date_is_midnight_utc)]
"""An instant with a time zone; a bare date means 00:00 UTC that day."""

ProviderName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
"""The gateway's short name as it appears in usage logs: ``runapi``, ``reapi``, ..."""

ISO_4217 = frozenset(list_currencies())
"""The currency codes CLDR knows (babel's data): ISO 4217's current and historic codes."""


def _iso_4217(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError("not an ISO 4217 currency code (USD, EUR, JPY, ...)")
    return code


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_iso_4217)]
"""An ISO 4217 code, such as USD."""

Unit = Literal["1K", "1M"]
"""The number of tokens a rate prices: 1K = 1,000, 1M = 1,000,000."""

WireId = Annotated[str, Field(min_length=1, max_length=200)]

TokenThreshold = Annotated[int, Field(gt=0), BeforeValidator(plain_number)]
"""A number of input tokens, written as a plain whole number."""


class StrictModel(BaseModel):
    """The base of every configuration file's model (price sheets, budgets): an unknown key
    is an error, a loaded value never changes, and each field's docstring is its
    description in the JSON Schema."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Rates(StrictModel):
    input: Rate
    """Rate for input tokens that were neither read from nor written to the prompt cache."""
    output: Rate
    """Rate for output tokens, reasoning tokens included."""
    cache_read: Rate | None = None
    """Rate for input tokens served from the prompt cache; absent: no discount, input rate."""
    cache_write: Rate | None = None
    """Rate for input tokens written to the prompt cache; absent: input rate. For a provider
    whose cache writes have two lifetimes (Anthropic's 5 minutes and 1 hour), the rate of the
    shorter one."""
    request: Rate | None = None
    """A fee per call in the sheet's currency, independent of tokens; absent: none."""
    cache_write_1h: Rate | None = None
    """Rate for input tokens written to the prompt cache for 1 hour (Anthropic's
    ``cache_creation.ephemeral_1h_input_tokens``); absent: the cache_write rate."""


class Tier(Rates):
    """Prices for a long-context call: they apply to the WHOLE call when its input tokens are
    strictly above the threshold (all-or-nothing); the highest applicable tier wins."""

    above_input_tokens: TokenThreshold
    """The tier applies when a call's input_tokens is strictly greater than this."""


class PricePeriod(Rates):
    """The prices of one model over one period of time."""

    effective_from: EffectiveTime
    """First instant these prices apply (inclusive)."""
    effective_to: EffectiveTime | None = None
    """First instant they no longer apply (exclusive); absent while they are current."""
    tiers: list[Tier] = Field(default_factory=list)
    """Long-context tiers within this period."""
    example: bool = False
    """True when the provider publishes no rate and this one is an example value."""
    note: str | None = None
    """Anything a reader should know about these prices."""
    source: str | None = None
    """Where these prices come from (URL or document), when not the sheet's source."""
    checked_on: date | None = None
    """When they were last checked against the source, when not the sheet's date."""


class ModelPrices(StrictModel):
    id: WireId
    """The model id exactly as sent on the wire to this provider (``MiniMax-M3``)."""
    canonical: WireId
    """The model across providers (``minimax-m3``): what repricing compares on."""
    variant: str = Field(default="standard", min_length=1)
    """The variant of the canonical model (``standard``, ``highspeed``)."""
    aliases: list[WireId] = Field(default_factory=list)
    """Other wire ids this provider accepts for the model (``minimax:m3@0``); calls sent
    with one are priced as this model."""
    unit: Unit
    """What every rate of this model is quoted per."""
    prices: list[PricePeriod] = Field(min_length=1)
    """Its prices over time."""


class PriceSheet(StrictModel):
    """One provider's price sheet."""

    provider: ProviderName
    name: str
    """The provider's display name."""
    currency: Currency = "USD"
    """The currency of every rate in the sheet."""
    failed_calls_billed: bool = False
    """Whether failed calls are charged. Every seed gateway says they are not."""
    source: str
    """Where the prices were taken from: a URL, or the document when it has none."""
    checked_on: date
    """When the prices were last checked against it."""
    notes: str | None = None
    models: list[ModelPrices] = Field(min_length=1)


class PriceRow(Rates):
    """One row of the CSV form (see ARCHITECTURE.md); blank cells are absent values."""

    provider: ProviderName
    model: WireId
    canonical_model: WireId
    variant: str = Field(default="standard", min_length=1)
    unit: Unit
    currency: Currency
    effective_from: EffectiveTime
    effective_to: EffectiveTime | None = None
    above_input_tokens: TokenThreshold | None = None
    failed_calls_billed: bool = False
    example: bool = False
    source: str | None = None
    checked_on: date | None = None
    note: str | None = None
    aliases: str | None = None
    """Other wire ids of the model, separated by ``;``."""


CSV_COLUMNS = tuple(PriceRow.model_fields)
CSV_REQUIRED = (
    "provider",
    "model",
    "canonical_model",
    "unit",
    "currency",
    "effective_from",
    "input",
    "output",
)


@dataclass(frozen=True)
class PricePoint:
    """One price in force for (provider, model) over [effective_from, effective_to), for the
    base price (``above_input_tokens`` None) or one long-context tier."""

    provider: str
    model: str
    canonical_model: str
    variant: str
    unit_tokens: int
    currency: str
    effective_from: datetime
    effective_to: datetime | None
    above_input_tokens: int | None
    input_rate: Decimal
    output_rate: Decimal
    cache_read_rate: Decimal | None
    cache_write_rate: Decimal | None
    request_rate: Decimal | None
    failed_calls_billed: bool
    example_rate: bool
    source: str | None
    checked_on: date | None
    note: str | None
    sheet: str
    """The file the point came from."""
    origin: str
    """Where in that file: ``models[2].prices[0]`` or ``line 7``; used in error messages."""
    aliases: tuple[str, ...] = ()
    """Other wire ids priced as ``model`` at this provider."""
    cache_write_1h_rate: Decimal | None = None
    """Per 1-hour cache-write token; None: the cache-write rate applies."""


def _field_path(loc: Iterable[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(sheet)"


def first_error(error: ValidationError) -> tuple[str, str, object]:
    """Pydantic's first error as (field path, message, offending value or None)."""
    first = error.errors()[0]
    value = first.get("input")
    return (
        _field_path(first["loc"]),
        first["msg"],
        None if isinstance(value, dict | list) else value,
    )


def raise_first(error: ValidationError, file: str, prefix: str = "") -> None:
    """Turn pydantic's first error into a PriceSheetError naming file, field and value."""
    field, message, value = first_error(error)
    if prefix:
        field = f"{prefix}: {field}" if field != "(sheet)" else prefix
    raise PriceSheetError(file, field, message, value) from None


def parse_sheet(data: Any, file: str) -> list[PricePoint]:
    """Validate one provider's sheet (as loaded from YAML) and flatten it to price points."""
    try:
        sheet = PriceSheet.model_validate(data)
    except ValidationError as exc:
        raise_first(exc, file)
        raise  # unreachable: raise_first always raises
    first_index: dict[str, int] = {}
    for index, model in enumerate(sheet.models):
        if model.id in first_index:
            raise PriceSheetError(
                file,
                f"models[{index}].id",
                f"repeats models[{first_index[model.id]}]: list each model "
                "once, with all its periods under prices",
                model.id,
            )
        first_index[model.id] = index
    points = []
    for m_index, model in enumerate(sheet.models):
        for p_index, period in enumerate(model.prices):
            base = PricePoint(
                provider=sheet.provider,
                model=model.id,
                canonical_model=model.canonical,
                variant=model.variant,
                unit_tokens=UNIT_TOKENS[model.unit],
                currency=sheet.currency,
                effective_from=period.effective_from,
                effective_to=period.effective_to,
                above_input_tokens=None,
                input_rate=period.input,
                output_rate=period.output,
                cache_read_rate=period.cache_read,
                cache_write_rate=period.cache_write,
                cache_write_1h_rate=period.cache_write_1h,
                request_rate=period.request,
                failed_calls_billed=sheet.failed_calls_billed,
                example_rate=period.example,
                source=period.source or sheet.source,
                checked_on=period.checked_on or sheet.checked_on,
                note=period.note,
                sheet=file,
                origin=f"models[{m_index}].prices[{p_index}]",
                aliases=tuple(model.aliases),
            )
            points.append(base)
            points.extend(
                replace(
                    base,
                    above_input_tokens=tier.above_input_tokens,
                    input_rate=tier.input,
                    output_rate=tier.output,
                    cache_read_rate=tier.cache_read,
                    cache_write_rate=tier.cache_write,
                    cache_write_1h_rate=tier.cache_write_1h,
                    request_rate=tier.request,
                    origin=f"{base.origin}.tiers[{t_index}]",
                )
                for t_index, tier in enumerate(period.tiers)
            )
    return points


def parse_row(row: dict[str, str], file: str, line: int) -> PricePoint:
    """Validate one CSV row (blank cells absent) into a price point."""
    present = {key: value for key, value in row.items() if value is not None and value != ""}
    try:
        parsed = PriceRow.model_validate(present)
    except ValidationError as exc:
        raise_first(exc, file, prefix=f"line {line}")
        raise
    return PricePoint(
        provider=parsed.provider,
        model=parsed.model,
        canonical_model=parsed.canonical_model,
        variant=parsed.variant,
        unit_tokens=UNIT_TOKENS[parsed.unit],
        currency=parsed.currency,
        effective_from=parsed.effective_from,
        effective_to=parsed.effective_to,
        above_input_tokens=parsed.above_input_tokens,
        input_rate=parsed.input,
        output_rate=parsed.output,
        cache_read_rate=parsed.cache_read,
        cache_write_rate=parsed.cache_write,
        cache_write_1h_rate=parsed.cache_write_1h,
        request_rate=parsed.request,
        failed_calls_billed=parsed.failed_calls_billed,
        example_rate=parsed.example,
        source=parsed.source,
        checked_on=parsed.checked_on,
        note=parsed.note,
        sheet=file,
        origin=f"line {line}",
        aliases=tuple(a.strip() for a in (parsed.aliases or "").split(";") if a.strip()),
    )


def check_points(points: list[PricePoint]) -> None:
    """The rules that span price points, whatever form they came in.

    - a period ends after it starts;
    - one (provider, model) has one canonical model, variant, unit and currency;
    - its base periods do not overlap (a call must have exactly one price);
    - each tier belongs to a base period with the same dates, once per threshold;
    - an alias names one model of its provider and is not itself a model id there;
    - at any time a provider sells a canonical model and variant under one model id (other
      ids it accepts are that model's aliases): two would give a call two prices there.
    """
    by_model: dict[tuple[str, str], list[PricePoint]] = defaultdict(list)
    alias_of: dict[tuple[str, str], PricePoint] = {}
    for point in points:
        for alias in point.aliases:
            other = alias_of.setdefault((point.provider, alias), point)
            if other.model != point.model:
                raise PriceSheetError(
                    point.sheet,
                    f"{point.origin}: aliases",
                    f"is already an alias of {other.model} ({other.origin})",
                    alias,
                )
    for point in points:
        if point.effective_to is not None and point.effective_to <= point.effective_from:
            raise PriceSheetError(
                point.sheet,
                f"{point.origin}: effective_to",
                "must be later than effective_from",
                point.effective_to.isoformat(),
            )
        by_model[(point.provider, point.model)].append(point)
        if (point.provider, point.model) in alias_of:
            claimed = alias_of[(point.provider, point.model)]
            raise PriceSheetError(
                claimed.sheet,
                f"{claimed.origin}: aliases",
                f"names a model that has its own prices at {point.provider} ({point.origin})",
                point.model,
            )

    for (provider, model), group in by_model.items():
        first = group[0]
        for point in group[1:]:
            for attr in ("canonical_model", "variant", "unit_tokens", "currency"):
                if getattr(point, attr) != getattr(first, attr):
                    raise PriceSheetError(
                        point.sheet,
                        f"{point.origin}: {attr}",
                        f"differs from {first.origin} ({getattr(first, attr)!r}) for "
                        f"{provider}/{model}",
                        getattr(point, attr),
                    )

        bases = sorted(
            (p for p in group if p.above_input_tokens is None), key=lambda p: p.effective_from
        )
        for earlier, later in pairwise(bases):
            if overlaps(earlier, later):
                raise PriceSheetError(
                    later.sheet,
                    f"{later.origin}: effective_from",
                    f"overlaps the period of {earlier.origin} for {provider}/{model} "
                    f"(from {earlier.effective_from.isoformat()} to "
                    f"{earlier.effective_to.isoformat() if earlier.effective_to else 'open'})",
                    later.effective_from.isoformat(),
                )

        periods = {(p.effective_from, p.effective_to): p for p in bases}
        seen_tiers: dict[tuple[datetime, datetime | None, int], PricePoint] = {}
        for tier in (p for p in group if p.above_input_tokens is not None):
            assert tier.above_input_tokens is not None
            span = (tier.effective_from, tier.effective_to)
            if span not in periods:
                raise PriceSheetError(
                    tier.sheet,
                    f"{tier.origin}: effective_from",
                    f"a tier of {provider}/{model} needs a base price (no above_input_tokens) "
                    "with the same effective_from and effective_to",
                    tier.effective_from.isoformat(),
                )
            key = (*span, tier.above_input_tokens)
            if key in seen_tiers:
                raise PriceSheetError(
                    tier.sheet,
                    f"{tier.origin}: above_input_tokens",
                    f"repeats {seen_tiers[key].origin} for {provider}/{model}",
                    tier.above_input_tokens,
                )
            seen_tiers[key] = tier

    # per model the periods do not overlap (above), so two overlapping base periods of one
    # provider's canonical model and variant belong to two models
    sold: dict[tuple[str, str, str], list[PricePoint]] = defaultdict(list)
    for point in points:
        if point.above_input_tokens is None:
            sold[(point.provider, point.canonical_model, point.variant)].append(point)
    for (provider, canonical, variant), bases in sold.items():
        bases.sort(key=lambda p: p.effective_from)
        for earlier, later in pairwise(bases):
            if overlaps(earlier, later):
                raise PriceSheetError(
                    later.sheet,
                    f"{later.origin}: canonical_model",
                    f"{provider} already sells {canonical} {variant} as {earlier.model} "
                    f"({earlier.origin}) at that time: list {later.model} in the aliases of "
                    f"{earlier.model} if it is the same model, or give it a variant of its own",
                    canonical,
                )


def overlaps(earlier: PricePoint, later: PricePoint) -> bool:
    """Whether two periods overlap, ``earlier`` starting no later than ``later``."""
    return earlier.effective_to is None or earlier.effective_to > later.effective_from
