"""The finance report as files: CSV, XLSX, Parquet and one self-contained HTML page.

Every form shows the same printed table (:func:`reports.finance.presented`): per currency,
the group lines rounded half-up to the currency's minor unit, a "rounding residue" line
when the rounded lines do not add up to the rounded total, and the total; with several
currencies, an "all calls" line last. Every line names its currency in the ``currency``
column. CSV and XLSX label the residue, total and all-calls lines in the first column;
Parquet has a ``line`` column (``group``, ``rounding residue``, ``total``, ``all calls``)
instead. Amounts are written from Decimal: plain digits in CSV (``0.60``, ``31``,
``0.124``), numbers in XLSX shown with their currency's decimals, and in Parquet
DECIMAL(38, 4): four decimals are the widest minor unit ISO 4217 has (CLF, UYW), so every
currency's rounded amount is held exactly and every month's file has the same schema
whatever currencies it holds (a JPY amount is 31.0000, its ``currency`` says JPY); 38
digits hold any sum of the warehouse's DECIMAL(38, 15) costs. The HTML page embeds its
charts as SVG (one per currency) and its styles inline: it opens anywhere, with no network.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import duckdb

from reports.charts import day_columns, group_bars
from reports.dimensions import label
from reports.files import write_atomically
from reports.finance import AMOUNTS, COUNTS, Report, Row, Table, movers, presented, share
from reports.money import WIDEST_MINOR_DIGITS, minor_digits, minor_unit, money_text
from reports.spreadsheet import csv_writer, neutral
from warehouse.errors import RatecardError


class ReportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"
    HTML = "html"
    FOCUS = "focus"
    """A FinOps FOCUS 1.2 dataset (CSV, or Parquet when --out ends in .parquet)."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _rows(table: Table) -> list[Row]:
    return [row for _, row in table.lines()]


def write_csv(report: Report, out: Path) -> None:
    table = presented(report)

    def write(path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv_writer(handle)
            writer.writerow(table.header)
            writer.writerows([_cell(neutral(v)) for v in row] for row in _rows(table))

    write_atomically(out, write)


def _about(report: Report) -> list[tuple[str, str]]:
    units = ", ".join(f"{code} {minor_unit(code)}" for code in report.currencies)
    several = len(report.currencies) > 1
    return [
        ("period", f"{report.period.start} to {report.period.end} ({report.timezone})"),
        ("grouped by", ", ".join(report.by)),
        (
            "currencies" if several else "currency",
            ", ".join(report.currencies)
            + (": each totalled on its own, never added together" if several else ""),
        ),
        (
            "rounding",
            f"each amount half-up to its currency's minor unit ({units}); per currency, a "
            "'rounding residue' line makes the printed lines add up to the printed total",
        ),
        ("failed calls", "free, counted in failed_calls"),
        ("unpriced calls", "no price in the sheets: counted, no cost (never $0)"),
        ("generated", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def write_xlsx(report: Report, out: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    table = presented(report)
    amount_columns = {table.header.index(name) for name in _printed_amounts(table)}
    currency_column = len(report.by)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Report"
    sheet.append(list(table.header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _rows(table):
        sheet.append([v if v != "" else None for v in row])
    for (kind, row), row_cells in zip(table.lines(), sheet.iter_rows(min_row=2), strict=True):
        currency = row[currency_column]
        amounts = _number_format(currency if isinstance(currency, str) else None)
        for index, cell in enumerate(row_cells):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula (reports/spreadsheet.py)
            if index in amount_columns:
                cell.number_format = amounts  # each currency with its own decimals
            elif isinstance(cell.value, int):
                cell.number_format = "#,##0"
            if kind in ("total", "all calls"):
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet("About")
    for key, value in _about(report):
        about.append([key, value])
        for cell in about[about.max_row]:
            cell.data_type = "s"
    write_atomically(out, lambda path: workbook.save(path))


def _number_format(currency: str | None) -> str:
    """A spreadsheet number format with ``currency``'s decimals: #,##0.00, #,##0, #,##0.000."""
    digits = minor_digits(currency)
    return "#,##0" + ("." + "0" * digits if digits else "")


def _printed_amounts(table: Table) -> list[str]:
    renamed = {"cache_read_cost": "cached_input_cost"}
    return [renamed.get(name, name) for name in AMOUNTS]


AMOUNT_TYPE = f"DECIMAL(38, {WIDEST_MINOR_DIGITS})"
"""The Parquet type of every amount: see the module's docstring."""


def write_parquet(report: Report, out: Path) -> None:
    table = presented(report)
    groups = len(report.by)
    counts = groups + 1  # after the groups and the currency
    columns = [
        "line VARCHAR",
        *(f'"{name}" VARCHAR' for name in table.header[:groups]),
        '"currency" VARCHAR',
        *(f'"{name}" BIGINT' for name in table.header[counts : counts + COUNTS]),
        *(
            f'"{name}" {AMOUNT_TYPE}'
            for name in table.header[counts + COUNTS : counts + COUNTS + len(AMOUNTS)]
        ),
        f'"{table.header[-1]}" DECIMAL(7, 2)',
    ]
    rows: list[Row] = [
        (kind, *row) if kind == "group" else (kind, *([None] * groups), *row[groups:])
        for kind, row in table.lines()
    ]
    _check_counts(rows, ["line", *table.header], range(counts + 1, counts + 1 + COUNTS))

    def write(path: Path) -> None:
        con = duckdb.connect()
        try:
            con.execute(f"CREATE TABLE report ({', '.join(columns)})")
            marks = ", ".join("?" for _ in columns)
            con.executemany(f"INSERT INTO report VALUES ({marks})", rows)  # noqa: S608
            con.execute("COPY report TO $path (FORMAT parquet)", {"path": str(path)})
        finally:
            con.close()

    write_atomically(out, write)


_INT64 = 2**63 - 1


def _check_counts(rows: list[tuple[object, ...]], names: list[str], places: range) -> None:
    """Refuse a count that Parquet's INT64 cannot hold (a warehouse loaded before ingest
    capped a call's tokens at usage.MAX_TOKENS can sum beyond it), naming the column."""
    for row in rows:
        for place in places:
            value = row[place]
            if isinstance(value, int) and abs(value) > _INT64:
                raise RatecardError(
                    f"report --format parquet: {names[place]} adds up to {value:,}, more than "
                    "a Parquet INT64 holds; these counts come from calls with impossible "
                    "token counts (see `ratecard export calls`); --format csv or xlsx "
                    "writes them exactly"
                )


# ---- HTML ------------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#1d2433}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
h3{font-size:.95rem;margin:1rem 0 .25rem}
.muted{color:#5b6578}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d8dde6;border-radius:8px;padding:.75rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.3rem}table{border-collapse:collapse;font-size:12.5px}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e6e9ef;text-align:right;white-space:nowrap}
th{background:#f4f6fa;position:sticky;top:0}td.g,th.g{text-align:left}
tr.residue td{color:#8a5a00;font-style:italic}
tr.total td{font-weight:600;border-top:2px solid #1d2433}
.up{color:#b42318}.down{color:#067647}svg text{font:11px system-ui,sans-serif;fill:#1d2433}
svg.chart{display:block;max-width:100%;height:auto}
"""


def _money(amount: Decimal, currency: str) -> str:
    return f"{money_text(amount, currency)} {currency}"


def _label(group: Sequence[str | None]) -> str:
    return " / ".join(label(v) for v in group)


def _change(now: Decimal, before: Decimal, currency: str) -> str:
    diff = now - before
    css = "up" if diff > 0 else "down" if diff < 0 else ""
    pct = f" ({share(diff, before):+}%)" if before else ""
    sign = "+" if diff > 0 else ""
    return f'<span class="{css}">{sign}{_money(diff, currency)}{pct}</span>'


def render_html(report: Report, daily: dict[str, list[tuple[str, Decimal]]]) -> str:
    """The report as one page: per currency its spend and change, its spend per day and by
    group, then the movers of each currency and the printed table (``daily``: the spend
    per day of each currency, :func:`reports.finance.daily_spend`)."""
    table = presented(report)
    several = len(report.currencies) > 1
    cards = []
    for cur in report.currencies:
        total = report.total(cur)
        cards.append((f"Spend, {cur}" if several else "Spend", _money(total, cur)))
        cards.append(
            (
                f"{cur} vs previous period" if several else "vs previous period",
                _change(total, report.previous_total(cur), cur),
            )
        )
    cards += [
        ("Calls", f"{report.count('calls'):,}"),
        ("Failed calls (free)", f"{report.count('failed_calls'):,}"),
        ("Unpriced calls", f"{report.count('unpriced_calls'):,}"),
    ]
    movers_rows = "".join(
        f'<tr><td class="g">{html.escape(_label(m.group))}</td>'
        f"<td>{_money(m.previous, m.currency)}</td><td>{_money(m.current, m.currency)}</td>"
        f"<td>{_change(m.current, m.previous, m.currency)}</td></tr>"
        for m in movers(report)
    )
    head = "".join(
        f'<th class="{"g" if i < len(report.by) else ""}">{html.escape(name)}</th>'
        for i, name in enumerate(table.header)
    )

    def tr(row: Sequence[object], css: str = "") -> str:
        cells = []
        for i, value in enumerate(row):
            text = (
                "" if value is None else (f"{value:,}" if isinstance(value, int) else _cell(value))
            )
            cls = "g" if i < len(report.by) else ""
            cells.append(f'<td class="{cls}">{html.escape(text)}</td>')
        return f'<tr class="{css}">{"".join(cells)}</tr>'

    css = {"group": "", "rounding residue": "residue", "total": "total", "all calls": "total"}
    body = "".join(tr(row, css[kind]) for kind, row in table.lines())
    per_day, by_group = [], []
    for code, lines in report.blocks():
        if code is None:  # beside several currencies, groups of only unpriced calls
            names = ", ".join(_label(line.group) for line in lines[:15])
            by_group.append(f'<p class="muted">No price, so no currency: {html.escape(names)}</p>')
            continue
        heading = f"<h3>{html.escape(code)}</h3>" if several else ""
        per_day.append(heading + day_columns(daily.get(code, []), code))
        bars = [(_label(line.group), line.costs["total_cost"]) for line in lines[:15]]
        by_group.append(heading + group_bars(bars, code))
    about = "".join(
        f'<tr><td class="g">{html.escape(k)}</td><td class="g">{html.escape(v)}</td></tr>'
        for k, v in _about(report)
    )
    title = f"LLM spend {report.period.start} to {report.period.end}"
    never_added = (
        f"<p>Costs in {', '.join(report.currencies)} are totalled apart: amounts in two "
        "currencies are never added.</p>"
        if several
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="muted">Days in {html.escape(report.timezone)}, by {html.escape(", ".join(report.by))};
compared with {report.previous_period.start} to {report.previous_period.end}.</p>{never_added}
<div class="cards">{"".join(f"<div class='card'>{k}<b>{v}</b></div>" for k, v in cards)}</div>
<h2>Spend per day</h2>{"".join(per_day)}
<h2>Spend by {html.escape(", ".join(report.by))}</h2>{"".join(by_group)}
<h2>Top movers against the previous period</h2>
<table><tr><th class="g">group</th><th>previous</th><th>this period</th><th>change</th></tr>
{movers_rows or '<tr><td class="g" colspan="4">No change.</td></tr>'}</table>
<h2>Report</h2><table><tr>{head}</tr>{body}</table>
<h2>About these numbers</h2><table>{about}</table>
</body></html>
"""


def write_html(report: Report, daily: dict[str, list[tuple[str, Decimal]]], out: Path) -> None:
    page = render_html(report, daily)

    def write(path: Path) -> None:
        path.write_text(page, encoding="utf-8")

    write_atomically(out, write)
