"""Budgets: declared in YAML, checked against spend to date and a forecast to period end.

A budget has a scope (any of team, project, key, provider, model; none means all traffic),
a period (monthly, weekly from Monday, or daily) in its own time zone, an amount, and alert
thresholds in percent of the amount.

Rules, as ``ratecard budgets check`` applies them:

- **Spend to date** is the exact sum of the billed calls in scope from the period's start (in
  the budget's time zone) up to the check's time. Unpriced calls are counted, not summed.
- **Forecast to period end**: the one rule of :mod:`reports.forecast`, over the budget's
  scope and local days (the dashboard's Overview forecasts with it too).
- **The instant judged at**: ``--as-of`` if given, else :func:`default_instant` (just
  after the warehouse's latest call when that is earlier than now), the same instant the
  dashboard uses.
- **A threshold t is crossed** when spend >= t % of the amount (exactly at the boundary
  counts). The budget is **exceeded** when spend > amount, and **forecast to exceed** when
  not yet exceeded but the forecast is above the amount.
- **State**, most urgent first: exceeded, forecast to exceed, "<t>% crossed", ok.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
    model_validator,
)

from ingest import exact_yaml
from pricing.sheet import Currency, StrictModel, first_error, plain_number
from reports.forecast import (
    HISTORY_DAYS,
    Selection,
    forecast,
    history_start,
    spend_history,
)
from reports.period import midnight
from warehouse.errors import RatecardError
from warehouse.sql import fetch_value


class BudgetError(RatecardError):
    """A budgets file that cannot be used; names the file, the field and the value."""


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)"
        ) from None
    return name


class Scope(StrictModel):
    """Which calls count against a budget; every key given must match, none means all."""

    team: str | None = None
    project: str | None = None
    key: str | None = None
    """An API key fingerprint (``key_…``) as ratecard stores it, never the key itself."""
    provider: str | None = None
    model: str | None = None
    """A wire model id (``MiniMax-M3``) or a canonical model (``minimax-m3``)."""

    def label(self) -> str:
        parts = [f"{k}={v}" for k, v in self.model_dump().items() if v is not None]
        return ", ".join(parts) or "all traffic"


class Channel(StrictModel):
    """Where a budget's alerts go: a webhook URL, given directly or read from an
    environment variable (for URLs that carry a secret, such as Slack's)."""

    webhook: str | None = Field(default=None, pattern=r"^https?://")
    webhook_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    format: Literal["slack", "json"] = "slack"
    """slack: {"text": …}, which Slack, Mattermost and Teams accept; json: every field."""

    @model_validator(mode="after")
    def _one_target(self) -> Channel:
        if (self.webhook is None) == (self.webhook_env is None):
            raise ValueError("give exactly one of webhook or webhook_env")
        return self

    @property
    def name(self) -> str:
        """The channel's identity in the warehouse: ``env:NAME``, or a fingerprint of the
        whole URL (two Slack hooks share a host, never a URL); never the secret URL."""
        if self.webhook_env:
            return f"env:{self.webhook_env}"
        assert self.webhook is not None
        return hook_fingerprint(self.webhook)

    @property
    def label(self) -> str:
        """How output names the channel: its variable, or its URL's origin and fingerprint."""
        if self.webhook_env:
            return self.name
        assert self.webhook is not None
        return f"{url_origin(self.webhook)}/… ({self.name})"


def hook_fingerprint(url: str) -> str:
    """``hook_`` and the first 16 hex digits of the URL's SHA-256: it tells URLs apart
    without storing one (a Slack webhook URL is its own password)."""
    return "hook_" + hashlib.sha256(url.encode()).hexdigest()[:16]


def url_origin(url: str) -> str:
    """The URL's scheme and host (without any user:password@), all of it output may show."""
    match = re.match(r"^(https?://)(?:[^/?#@]*@)?([^/?#]+)", url)
    return match[1] + match[2] if match else "?"


# plain decimals only, as in price sheets (010, 1:30, 1e3 and .inf are refused)
Amount = Annotated[Decimal, Field(gt=0, decimal_places=6), BeforeValidator(plain_number)]
Threshold = Annotated[int, Field(ge=1, le=1000), BeforeValidator(plain_number)]


class Budget(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    scope: Scope = Field(default_factory=Scope)
    period: Literal["monthly", "weekly", "daily"]
    timezone: Annotated[str, AfterValidator(_zone)] = "UTC"
    amount: Amount
    currency: Currency = "USD"
    """The budget counts only spend in this currency (ISO 4217)."""
    thresholds: list[Threshold] = Field(default_factory=lambda: [50, 80, 100], min_length=1)
    """Alert when spend reaches these percentages of the amount."""
    channels: list[Channel] = Field(default_factory=list)


class BudgetFile(StrictModel):
    budgets: list[Budget] = Field(min_length=1)
    hygiene_channels: list[Channel] = Field(default_factory=list)
    """Where alerts that belong to no budget go: unpriced traffic, failure-rate spikes."""

    @model_validator(mode="after")
    def _unique_names(self) -> BudgetFile:
        names = [b.name for b in self.budgets]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise ValueError(f"budgets[{index}].name {name!r} is used twice")
        return self


def load_budgets(path: Path) -> BudgetFile:
    """Read and validate a budgets file; stop with file, field and value on any problem."""
    try:
        data: Any = exact_yaml.load(path, "a budgets file")
    except FileNotFoundError:
        raise BudgetError(f"{path}: no such file") from None
    except exact_yaml.YAMLError as exc:
        raise BudgetError(f"{path}: not valid YAML: {exc}") from None
    try:
        return BudgetFile.model_validate(data)
    except ValidationError as exc:
        field, message, value = first_error(exc)
        shown = "" if value is None else f" (value: {value!r})"
        raise BudgetError(f"{path}: {field}: {message}{shown}") from None


@dataclass(frozen=True)
class Period:
    start: datetime
    """First instant of the period (UTC), at local midnight in the budget's zone."""
    end: datetime
    """First instant after it."""


def current_period(budget: Budget, as_of: datetime) -> Period:
    """The budget's period that contains ``as_of``, in its time zone."""
    zone = ZoneInfo(budget.timezone)
    local = as_of.astimezone(zone).date()
    if budget.period == "daily":
        first, following = local, local + timedelta(days=1)
    elif budget.period == "weekly":
        first = local - timedelta(days=local.weekday())
        following = first + timedelta(days=7)
    else:
        first = local.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
    return Period(midnight(first, zone), midnight(following, zone))


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    period: Period
    as_of: datetime
    spend: Decimal
    forecast: Decimal
    unpriced_calls: int
    daily: Mapping[date, Decimal]
    """Spend per local day from 29 days before today (the forecast's and anomalies' history)."""
    today: date
    """The check's local date in the budget's zone."""
    history_from: date | None
    """The first local day the scope has calls."""
    hourly: Mapping[tuple[date, datetime], Decimal] = field(default_factory=dict)
    """The period's spend per (local day, UTC hour), for the charts of daily budgets."""
    basis: str = ""
    """What the forecast rests on, in words (reports/forecast.py)."""
    other_currency_calls: int = 0
    """Calls in the period priced in another currency than the budget's: not counted."""

    @property
    def percent(self) -> Decimal:
        return self.spend / self.budget.amount * 100

    @property
    def crossed(self) -> list[int]:
        """Thresholds reached: spend >= t % of the amount."""
        return sorted(
            t for t in set(self.budget.thresholds) if self.spend * 100 >= self.budget.amount * t
        )

    @property
    def exceeded(self) -> bool:
        return self.spend > self.budget.amount

    @property
    def forecast_to_exceed(self) -> bool:
        return not self.exceeded and self.forecast > self.budget.amount

    @property
    def state(self) -> str:
        if self.exceeded:
            return "exceeded"
        if self.forecast_to_exceed:
            return "forecast to exceed"
        if self.crossed:
            return f"{self.crossed[-1]}% crossed"
        return "ok"


def scope_selection(budget: Budget) -> Selection:
    """The calls a budget counts, as the forecast's selection (in the budget's currency)."""
    scope = budget.scope

    def one(value: str | None) -> tuple[str, ...]:
        return () if value is None else (value,)

    return Selection(
        teams=one(scope.team),
        projects=one(scope.project),
        keys=one(scope.key),
        providers=one(scope.provider),
        models=one(scope.model),
        currency=budget.currency,
    )


def check_budget(
    con: duckdb.DuckDBPyConnection,
    budget: Budget,
    as_of: datetime,
    *,
    last_call: datetime | None = None,
) -> BudgetStatus:
    """Spend to date, forecast and state of ``budget`` for its period containing ``as_of``
    (``last_call`` as :func:`reports.forecast.spend_history` takes it)."""
    period = current_period(budget, as_of)
    zone = ZoneInfo(budget.timezone)
    today = as_of.astimezone(zone).date()
    first = period.start.astimezone(zone).date()
    last = (period.end.astimezone(zone) - timedelta(days=1)).date()
    history = spend_history(
        con, scope_selection(budget), zone, history_start(first, as_of, zone), as_of, last_call
    )
    outlook = forecast(history.daily, first, last, as_of, zone, history.first_day)
    unpriced = sum(n for d, n in history.unpriced.items() if d >= first)
    hourly = {key: v for key, v in history.hourly.items() if key[0] >= first}
    return BudgetStatus(
        budget,
        period,
        as_of,
        outlook.to_date,
        outlook.at_period_end,
        unpriced,
        history.daily,
        today,
        history.first_day,
        hourly,
        outlook.basis,
        other_currency_calls=sum(n for d, n in history.other_currency.items() if d >= first),
    )


@dataclass(frozen=True)
class Instant:
    """The instant budgets and forecasts are judged at, and why that one."""

    at: datetime
    reason: str
    """In words: "the latest call loaded" (in the warehouse or the lake), "now" or
    "--as-of"."""

    def label(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} UTC ({self.reason})"


def default_instant(con: duckdb.DuckDBPyConnection, now: datetime) -> Instant:
    """The instant budgets are judged at when none is given (see :func:`judged_at`)."""
    return judged_at(fetch_value(con, "SELECT max(ts) FROM calls"), now)


def judged_at(latest_call: datetime | None, now: datetime) -> Instant:
    """Just after the warehouse's latest call when that is earlier than ``now``, else now.

    Both ``ratecard budgets check`` (without ``--as-of``) and the dashboard judge at this
    instant, so they agree. The latest call rather than the wall clock because the warehouse
    knows nothing after it: judged later, the hours since the last ingest would count as
    spending nothing, the forecast would shrink with them, and a new period would look
    unspent before its first calls are loaded. Now when the data runs past the clock (a
    skewed gateway clock), so that no call from the future counts.
    """
    if latest_call is not None and latest_call < now:
        return Instant(latest_call + timedelta(microseconds=1), "the latest call loaded")
    return Instant(now, "now")


def check_budgets(
    con: duckdb.DuckDBPyConnection, budgets: Sequence[Budget], as_of: datetime
) -> list[BudgetStatus]:
    """Check every budget and record the results in ``budget_checks``."""
    last_call = fetch_value(con, "SELECT max(ts) FROM calls")
    results = [check_budget(con, budget, as_of, last_call=last_call) for budget in budgets]
    con.executemany(
        "INSERT INTO budget_checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [
            (
                r.budget.name,
                r.period.start,
                r.period.end,
                r.as_of,
                r.budget.amount,
                r.budget.currency,
                r.spend,
                r.forecast,
                r.unpriced_calls,
                r.state,
            )
            for r in results
        ],
    )
    return results


@dataclass(frozen=True)
class Anomaly:
    day: date
    spend: Decimal
    baseline: Decimal
    """The median daily spend of the 28 days before."""
    score: Decimal | None
    """The robust z-score, 0.6745 (x - median) / MAD; None when MAD is 0."""


MIN_BASELINE_DAYS = 7
Z_LIMIT = Decimal("3.5")


def spend_anomaly(status: BudgetStatus) -> Anomaly | None:
    """Yesterday's spend (local) if it is far above the 28 days before it.

    Rule: with at least 7 days of history, a robust z-score 0.6745 (x - median) / MAD above
    3.5 (Iglewicz and Hoaglin's cut-off); where the history does not vary (MAD = 0), spend
    above twice a non-zero median.
    """
    day = status.today - timedelta(days=1)
    history = [day - timedelta(days=n) for n in range(1, HISTORY_DAYS + 1)]
    history = [d for d in history if status.history_from is not None and d >= status.history_from]
    if len(history) < MIN_BASELINE_DAYS:
        return None
    values = sorted(status.daily.get(d, Decimal(0)) for d in history)
    median = _median(values)
    mad = _median(sorted(abs(v - median) for v in values))
    spend = status.daily.get(day, Decimal(0))
    if mad:
        score = Decimal("0.6745") * (spend - median) / mad
        return Anomaly(day, spend, median, score) if score > Z_LIMIT else None
    return Anomaly(day, spend, median, None) if median and spend > 2 * median else None


def _median(values: Sequence[Decimal]) -> Decimal:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
