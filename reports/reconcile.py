"""Reconciliation: ratecard's bill against what the providers said (``ratecard reconcile``).

Two comparisons, each with a tolerance:

- **per call**, where the log carries the provider's own cost (Runware ``includeCost``,
  OpenRouter ``usage.cost``): every call whose reported cost differs from the bill;
- **per invoice line**, from an invoice file (CSV with the columns ``provider, period,
  model, amount, currency``; ``period`` is a month ``YYYY-MM`` in UTC; ``model`` a wire id
  or a canonical model with its variant, ``minimax-m2.5-highspeed``, in any case; the lines
  of one provider and month should not overlap): the line's amount against the bill of those
  calls, and the calls of an invoiced provider and month that no line covers.

An invoice line is in one currency, and is compared like with like: only with the calls
billed in its currency (ratecard never converts or adds two currencies). Calls of the line's
provider, month and model billed in a currency no line of theirs is in are a discrepancy of
their own that says so. Every discrepancy names the currency of its amounts.

Each discrepancy gets the likely cause ratecard can detect from the data: a failed call
charged (the amount matches the failed calls billed as if they had succeeded), the cache
discount missing (it matches the bill without the cache-read discount), a price that differs
from the sheet (it matches the provider's reported per-call costs, or a reported cost is off
by a rate), calls missing from the logs (no call at all, or an amount above the bill that
nothing else explains), a model ratecard cannot price. Any discrepancy left makes the
command exit non-zero, so it can gate a month-end close.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb

from pricing.sheet import ISO_4217
from reports.files import write_atomically
from reports.money import plain
from reports.period import Period
from reports.spreadsheet import csv_writer, neutral_row
from warehouse.errors import RatecardError
from warehouse.sql import fetch_one, sql_file

INVOICE_COLUMNS = ("provider", "period", "model", "amount", "currency")
CALL_TOLERANCE = Decimal("0.00001")
"""Per call: a thousandth of a cent absorbs providers printing costs to 8 decimals."""
INVOICE_TOLERANCE = Decimal("0.01")
"""Per invoice line: a cent."""


@dataclass(frozen=True)
class Discrepancy:
    kind: str
    """``call`` or ``invoice``."""
    provider: str
    model: str
    where: str
    """The call id and time, or the invoice line and period."""
    computed: Decimal | None
    stated: Decimal | None
    """What the provider said: the reported cost or the invoiced amount."""
    cause: str
    currency: str | None = None
    """The currency of ``computed`` and ``stated`` (None: a call without a price)."""

    @property
    def difference(self) -> Decimal | None:
        if self.computed is None or self.stated is None:
            return None
        return self.stated - self.computed

    def cells(self, missing: str = "") -> list[str]:
        """The discrepancy as text, in the order of :data:`COLUMNS`; exact amounts."""
        amounts = (self.computed, self.stated, self.difference)
        return [
            self.kind,
            self.provider,
            self.model,
            self.where,
            self.currency or missing,
            *(missing if a is None else plain(a) for a in amounts),
            self.cause,
        ]


COLUMNS = (
    "kind",
    "provider",
    "model",
    "where",
    "currency",
    "computed",
    "stated",
    "difference",
    "cause",
)


@dataclass(frozen=True)
class InvoiceLine:
    line: int
    provider: str
    period: str
    model: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Reconciliation:
    calls_checked: int
    invoice_lines: int
    discrepancies: tuple[Discrepancy, ...]


def _close(a: Decimal | None, b: Decimal | None, tolerance: Decimal) -> bool:
    return a is not None and b is not None and abs(a - b) <= tolerance


def _pct(part: Decimal, whole: Decimal) -> str:
    return f"{(part * 100 / whole):+.1f}%" if whole else "n/a"


def check_calls(
    con: duckdb.DuckDBPyConnection,
    period: Period | None = None,
    tolerance: Decimal = CALL_TOLERANCE,
) -> tuple[int, list[Discrepancy]]:
    """Calls with a reported cost: how many, and those that differ from their bill."""
    period = period or Period()
    params = {"start": period.start, "end": period.end_exclusive}
    checked = int(
        fetch_one(
            con,
            "SELECT count(*) FROM calls WHERE reported_cost IS NOT NULL "
            "AND ($start IS NULL OR ts >= $start) AND ($end IS NULL OR ts < $end)",
            params,
        )[0]
    )
    rows = con.execute(
        sql_file("reports", "reconcile_calls"), {**params, "tolerance": tolerance}
    ).fetchall()
    found = []
    for row in rows:
        call_id, ts, provider, model, status, reported, cost, unpriced_reason = row[:8]
        cached, without_cache, currency = row[8:]
        if unpriced_reason is not None:
            cause = f"cannot compare: {unpriced_reason}"
        elif status == "failed" and reported > tolerance:
            cause = "failed call charged (failed calls are free)"
        elif cached and _close(reported, without_cache, tolerance):
            cause = (
                "cache discount missing: the reported cost bills cached tokens at the input rate"
            )
        else:
            cause = f"price differs from the sheet: reported {_pct(reported - cost, cost)}"
        found.append(
            Discrepancy(
                "call",
                provider,
                model,
                f"{call_id} at {ts.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z",
                None if unpriced_reason else cost,
                reported,
                cause,
                currency,
            )
        )
    return checked, found


def read_invoice(path: Path) -> list[InvoiceLine]:
    """Read and check an invoice file; the first bad line stops it, named with its number.
    Each line's currency is an ISO 4217 code; lines may be in different currencies."""
    if not path.is_file():
        raise RatecardError(f"{path}: no such file")
    lines: list[InvoiceLine] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        unknown = [h for h in header if h not in INVOICE_COLUMNS]
        if unknown:
            raise RatecardError(
                f"{path}: line 1: unknown column {unknown[0]!r}; an invoice file has the "
                f"columns {', '.join(INVOICE_COLUMNS)}"
            )
        missing = [c for c in INVOICE_COLUMNS if c not in header]
        if missing:
            raise RatecardError(f"{path}: line 1: missing column {missing[0]!r}")
        for row in reader:
            number = reader.line_num
            if None in row:
                raise RatecardError(f"{path}: line {number}: more cells than columns")
            cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            where = f"{path}: line {number}"
            period = cells["period"]
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
                raise RatecardError(f"{where}: period must be a month YYYY-MM, not {period!r}")
            try:
                amount = Decimal(cells["amount"])
            except InvalidOperation:
                raise RatecardError(
                    f"{where}: amount is not a number: {cells['amount']!r}"
                ) from None
            if not amount.is_finite():
                raise RatecardError(f"{where}: amount is not a number: {cells['amount']!r}")
            currency = cells["currency"].upper()
            if currency not in ISO_4217:
                raise RatecardError(
                    f"{where}: currency {cells['currency']!r} is not an ISO 4217 code "
                    "(USD, EUR, JPY, ...)"
                )
            if not cells["provider"] or not cells["model"]:
                raise RatecardError(f"{where}: provider and model must not be empty")
            key = (cells["provider"].lower(), period, cells["model"], currency)
            if key in seen:
                raise RatecardError(f"{where}: repeats line {seen[key]} ({', '.join(key)})")
            seen[key] = number
            lines.append(InvoiceLine(number, key[0], period, key[2], amount, currency))
    return lines


def _month(period: str) -> tuple[datetime, datetime]:
    year, month = int(period[:4]), int(period[5:])
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def check_invoice(
    con: duckdb.DuckDBPyConnection,
    lines: list[InvoiceLine],
    tolerance: Decimal = INVOICE_TOLERANCE,
) -> list[Discrepancy]:
    found = []
    query = sql_file("reports", "reconcile_invoice")
    for line in lines:
        start, end = _month(line.period)
        invoiced = sorted(
            {
                other.currency
                for other in lines
                if (other.provider, other.period, other.model.lower())
                == (line.provider, line.period, line.model.lower())
            }
        )
        row = fetch_one(
            con,
            query,
            {
                "provider": line.provider,
                "model": line.model,
                "start": start,
                "end": end,
                "currency": line.currency,
                "invoiced": invoiced,
            },
        )
        calls, unpriced, cost, discount, failed_cost, failed, reported_calls, reported = row[:8]
        elsewhere, elsewhere_currencies, other_currencies = row[8:]
        where = f"invoice line {line.line}, {line.period}"
        if elsewhere and line.currency == invoiced[0]:  # said once, on the first such line
            found.append(
                Discrepancy(
                    "invoice",
                    line.provider,
                    line.model,
                    where,
                    None,
                    None,
                    f"currencies differ: {elsewhere} calls were billed in "
                    f"{elsewhere_currencies}, the invoice is in {', '.join(invoiced)}; not "
                    "compared (ratecard does not convert currencies)",
                    elsewhere_currencies,
                )
            )
        diff = line.amount - cost
        if abs(diff) <= tolerance and not unpriced:
            continue
        if calls == 0 and other_currencies:
            cause = (
                f"no call billed in {line.currency}: the calls of this model were billed in "
                f"{other_currencies}, and are never compared with an amount in another currency"
            )
        elif calls == 0:
            cause = "calls missing from the logs: no call of this model in the period"
        elif unpriced:
            cause = f"cannot compare: {unpriced} of {calls} calls have no price in the sheets"
        elif discount and abs(diff - discount) <= tolerance:
            cause = "cache discount missing: the invoice bills cached tokens at the input rate"
        elif failed and failed_cost and abs(diff - failed_cost) <= tolerance:
            cause = f"failed calls charged: the invoice matches {failed} failed calls billed"
        elif reported_calls == calls and _close(line.amount, reported, tolerance):
            cause = (
                "price differs from the sheet: the invoice matches the provider's reported "
                f"per-call costs ({_pct(diff, cost)} against the sheet)"
            )
        elif diff > 0:
            cause = (
                f"invoice {_pct(diff, cost)} above the bill: calls missing from the logs, "
                "or a price above the sheet's"
            )
        else:
            cause = (
                f"invoice {_pct(diff, cost)} below the bill: a price below the sheet's, or "
                "calls the provider did not bill"
            )
        found.append(
            Discrepancy(
                "invoice", line.provider, line.model, where, cost, line.amount, cause, line.currency
            )
        )
    found.extend(_not_invoiced(con, lines, tolerance))
    return found


def _not_invoiced(
    con: duckdb.DuckDBPyConnection, lines: list[InvoiceLine], tolerance: Decimal
) -> list[Discrepancy]:
    """Billed calls of an invoiced provider and month that no invoice line covers."""
    found = []
    for provider, period in sorted({(line.provider, line.period) for line in lines}):
        start, end = _month(period)
        covered = [
            line.model.lower()
            for line in lines
            if (line.provider, line.period) == (provider, period)
        ]
        rows = con.execute(
            "SELECT c.model, c.currency, count(*), coalesce(sum(c.total_cost), 0) "
            "FROM calls_costed AS c "
            "WHERE c.billed AND c.provider = $provider AND c.ts >= $start AND c.ts < $end "
            "AND NOT list_contains($covered, lower(c.model)) "
            "AND NOT list_contains($covered, lower(coalesce(c.canonical_model || CASE WHEN "
            "c.variant = 'standard' THEN '' ELSE '-' || c.variant END, ''))) "
            "GROUP BY c.model, c.currency ORDER BY c.model, c.currency",
            {"provider": provider, "start": start, "end": end, "covered": covered},
        ).fetchall()
        for model, currency, calls, cost in rows:  # each currency on its own
            if cost > tolerance:
                found.append(
                    Discrepancy(
                        "invoice",
                        provider,
                        model,
                        f"not on the invoice, {period}",
                        cost,
                        Decimal(0),
                        f"on no invoice line: {calls} calls the provider did not bill "
                        "(or billed under another model id)",
                        currency,
                    )
                )
    return found


def reconcile(
    con: duckdb.DuckDBPyConnection,
    *,
    period: Period | None = None,
    invoice: Path | None = None,
    call_tolerance: Decimal = CALL_TOLERANCE,
    invoice_tolerance: Decimal = INVOICE_TOLERANCE,
) -> Reconciliation:
    lines: list[InvoiceLine] = []
    if invoice is not None:
        lines = read_invoice(invoice)
    checked, per_call = check_calls(con, period, call_tolerance)
    per_invoice = check_invoice(con, lines, invoice_tolerance) if lines else []
    return Reconciliation(checked, len(lines), tuple(per_call + per_invoice))


def write_discrepancies(found: tuple[Discrepancy, ...], out: Path) -> None:
    def write(path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv_writer(handle)
            writer.writerow(COLUMNS)
            amounts = [COLUMNS.index(c) for c in ("computed", "stated", "difference")]
            writer.writerows(neutral_row(d.cells(), amounts) for d in found)

    write_atomically(out, write)
