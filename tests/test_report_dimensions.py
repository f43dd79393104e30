"""`ratecard report` over every dimension and combination, in every format, on a small
warehouse whose every bill is worked out by hand; each file is parsed back and its lines and
totals are checked against the hand-computed values and against `summary` (which reads the
daily rollup, not the calls: an independent path to the same numbers).

The ledger (frozen test sheets; November 2026, UTC):

    call  team     project  key   provider  wire model              cost
    n1    HOSTILE  ads      sk-a  runapi    MiniMax-M3              1,500 x 0.010 / 1K = 0.015
    n2    search   ranker   sk-b  runapi    MiniMax-M2.7-highspeed  2,000 x 0.020 / 1K = 0.04
    n3    search   ranker   sk-b  reapi     minimax/minimax-m3      see below = 0.003368
    n4    search   indexer  sk-a  runapi    MiniMax-M2.7            (300 + 200) x 0.010 / 1K = 0.005
    n5    HOSTILE  ads      sk-a  runapi    MiniMax-M3              failed (429): free, counted
    n6    search   ranker   sk-b  runapi    MiniMax-M1              no sheet prices it: unpriced

n3 is 10,000 input tokens of which 2,000 cached, 1,000 output, after ReAPI's 2026-10-15 cut:
8,000 x 0.27 / 1M + 2,000 x 0.054 / 1M + 1,000 x 1.10 / 1M = 0.00216 + 0.000108 + 0.0011.
n2 is the highspeed variant, n6 has none (no price point), the others are standard.

plus o1 in October (search/ranker, 2,000 + 500 at runapi M3 = 0.025, the previous period)
and d1 at 2026-12-01T00:00Z, the first instant after November (must not be counted).

HOSTILE is a team named with quotes, an emoji and a leading `=`. The outputs may escape it
against formula injection (by a prefix), so a cell is checked to end with the name, never
to equal its unescaped form.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import TEST_SHEETS, D, chat, error, write_jsonl
from ingest.prices import load_prices
from ingest.usage import ingest_usage
from ratecard.cli import app
from reports.dimensions import DIMENSIONS
from reports.finance import build_report
from reports.period import parse_period
from reports.summary import summarize
from warehouse import connect

HOSTILE = '=1+2 "quoted" 🚀 ops'
KEY_A = "key_" + hashlib.sha256(b"sk-a").hexdigest()[:16]
KEY_B = "key_" + hashlib.sha256(b"sk-b").hexdigest()[:16]
NOVEMBER = parse_period("2026-11")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Bill:
    """One call of the ledger, its tokens and its hand-computed bill (None: unpriced)."""

    call_id: str
    ts: str
    team: str
    project: str
    key: str
    provider: str
    model: str
    canonical_model: str | None
    variant: str | None
    input_tokens: int
    cached: int
    output_tokens: int
    failed: bool
    cost: Decimal | None

    def record(self) -> dict[str, object]:
        """The call as a gateway logs it."""
        api_key = "sk-a" if self.key == KEY_A else "sk-b"
        attribution = {"team": self.team, "project": self.project, "api_key": api_key}
        if self.failed:
            logged = error(429, provider=self.provider, model=self.model, ts=self.ts)
            return logged | attribution | {"call_id": self.call_id}
        logged = chat(
            call_id=self.call_id,
            ts=self.ts,
            provider=self.provider,
            model=self.model,
            prompt=self.input_tokens,
            completion=self.output_tokens,
            cached=self.cached or None,
        )
        return logged | attribution | {"call_id": self.call_id}


# fmt: off
LEDGER = (
    Bill("n1", "2026-11-02T09:00:00Z", HOSTILE,  "ads",     KEY_A, "runapi", "MiniMax-M3",             "minimax-m3",   "standard",  1_000,     0,   500, False, D("0.015")),     # noqa: E501
    Bill("n2", "2026-11-03T09:00:00Z", "search", "ranker",  KEY_B, "runapi", "MiniMax-M2.7-highspeed", "minimax-m2.7", "highspeed", 1_000,     0, 1_000, False, D("0.04")),      # noqa: E501
    Bill("n3", "2026-11-04T09:00:00Z", "search", "ranker",  KEY_B, "reapi",  "minimax/minimax-m3",     "minimax-m3",   "standard",  10_000, 2_000, 1_000, False, D("0.003368")),  # noqa: E501
    Bill("n4", "2026-11-05T09:00:00Z", "search", "indexer", KEY_A, "runapi", "MiniMax-M2.7",           "minimax-m2.7", "standard",  300,       0,   200, False, D("0.005")),     # noqa: E501
    Bill("n5", "2026-11-06T09:00:00Z", HOSTILE,  "ads",     KEY_A, "runapi", "MiniMax-M3",             "minimax-m3",   "standard",  0,         0,     0, True,  D("0")),         # noqa: E501
    Bill("n6", "2026-11-07T09:00:00Z", "search", "ranker",  KEY_B, "runapi", "MiniMax-M1",             None,           None,        400,       0,   100, False, None),           # noqa: E501
)
OUTSIDE = (  # the month before (the report's previous period) and the first instant after
    Bill("o1", "2026-10-20T09:00:00Z", "search", "ranker",  KEY_B, "runapi", "MiniMax-M3",             "minimax-m3",   "standard",  2_000,     0,   500, False, D("0.025")),     # noqa: E501
    Bill("d1", "2026-12-01T00:00:00Z", HOSTILE,  "ads",     KEY_A, "runapi", "MiniMax-M3",             "minimax-m3",   "standard",  100,       0,   100, False, D("0.002")),     # noqa: E501
)
# fmt: on
TOTAL = D("0.063368")  # 0.015 + 0.04 + 0.003368 + 0.005

BYS = [
    *((name,) for name in DIMENSIONS),
    ("provider", "model", "variant"),  # the README's example
    ("team", "project"),
    ("canonical_model", "variant"),
    ("key", "team"),
]
FORMATS = ("csv", "xlsx", "parquet", "html")

Group = tuple[str | None, ...]


@dataclass(frozen=True)
class Expected:
    calls: int
    failed_calls: int
    unpriced_calls: int
    total: Decimal | None


def expected(by: tuple[str, ...]) -> dict[Group, Expected]:
    """The ledger's November calls grouped in Python: the oracle for every `--by`."""
    groups: dict[Group, list[Bill]] = {}
    for bill in LEDGER:
        groups.setdefault(tuple(getattr(bill, name) for name in by), []).append(bill)
    return {
        group: Expected(
            len(bills),
            sum(b.failed for b in bills),
            sum(b.cost is None for b in bills),
            None
            if all(b.cost is None for b in bills)
            else sum((b.cost for b in bills if b.cost is not None), Decimal(0)),
        )
        for group, bills in groups.items()
    }


def printed(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def in_print_order(lines: dict[Group, Expected]) -> list[Group]:
    """Largest total first, unpriced groups last, then by the group's values (NULLs last)."""

    def key(item: tuple[Group, Expected]) -> tuple[object, ...]:
        group, line = item
        return (
            line.total is None,
            -(line.total or 0),
            tuple((v is None, v or "") for v in group),
        )

    return [group for group, _ in sorted(lines.items(), key=key)]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ledger")
    db = folder / "ledger.duckdb"
    con = connect(db)
    load_prices(con, [TEST_SHEETS])
    records = [bill.record() for bill in (*LEDGER, *OUTSIDE)]
    load = ingest_usage(con, write_jsonl(folder / "usage.jsonl", records))
    assert (load.loaded, load.quarantined) == (8, 0)
    con.close()
    return db


@pytest.fixture
def books(ledger: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(ledger, read_only=True)
    yield con
    con.close()


def test_the_ledger_is_billed_as_worked_out_by_hand(books: duckdb.DuckDBPyConnection) -> None:
    bills = dict(
        books.execute(
            "SELECT call_id, total_cost FROM calls_costed WHERE ts >= '2026-11-01' "
            "AND ts < '2026-12-01'"
        ).fetchall()
    )
    assert bills == {b.call_id: b.cost for b in LEDGER}
    report = build_report(books, ("team",), NOVEMBER)
    assert report.total("USD") == TOTAL and report.previous_total("USD") == D("0.025")
    # each component's total, by hand: input 0.01 + 0.02 + 0.00216 + 0.003 = 0.03516; cached
    # 0.000108; output 0.005 + 0.02 + 0.0011 + 0.002 = 0.0281
    sums = {
        name: sum((line.costs[name] or 0 for line in report.lines), Decimal(0))
        for name in ("input_cost", "cache_read_cost", "output_cost", "request_cost")
    }
    assert sums == {
        "input_cost": D("0.03516"),
        "cache_read_cost": D("0.000108"),
        "output_cost": D("0.0281"),
        "request_cost": D("0"),
    }
    assert (report.tokens("input_tokens"), report.tokens("cache_read_tokens")) == (12_700, 2_000)
    assert report.tokens("output_tokens") == 2_800


def test_two_dimensions_by_hand(books: duckdb.DuckDBPyConnection) -> None:
    """Two of the oracle's answers written out, so the oracle itself is checked."""
    variant = {
        line.group: (line.calls, line.total)
        for line in build_report(books, ("variant",), NOVEMBER).lines
    }
    assert variant == {
        ("highspeed",): (1, D("0.04")),
        ("standard",): (4, D("0.023368")),  # n1, n3, n4 and the free failed n5
        (None,): (1, D("0")),  # the unpriced n6: no cost, never $0 in the files
    }
    assert {g: e.total for g, e in expected(("canonical_model",)).items()} == {
        ("minimax-m2.7",): D("0.045"),
        ("minimax-m3",): D("0.018368"),
        (None,): None,
    }


@pytest.mark.parametrize("by", BYS, ids=",".join)
def test_every_dimension_matches_the_oracle_and_the_summary(
    books: duckdb.DuckDBPyConnection, by: tuple[str, ...]
) -> None:
    report = build_report(books, by, NOVEMBER)
    lines = expected(by)
    assert [line.group for line in report.lines] == in_print_order(lines)
    assert {
        line.group: Expected(
            line.calls, line.failed_calls, line.unpriced_calls, line.costs["total_cost"]
        )
        for line in report.lines
    } == lines
    assert report.totals() == (("USD", TOTAL),)

    # summary reads the daily rollup: the same groups, counts and exact costs
    summary = summarize(books, by, NOVEMBER)
    assert {
        row.group: Expected(row.calls, row.failed_calls, row.unpriced_calls, row.cost)
        for row in summary.rows
    } == lines
    assert summary.total_cost == report.total("USD")
    assert (summary.calls, summary.failed_calls, summary.unpriced_calls) == (6, 1, 1)


# ---- the files, parsed back ---------------------------------------------------------------


@dataclass(frozen=True)
class Printed:
    """A file's lines as printed: each group line, the residue line if any, the total."""

    groups: list[tuple[list[str | None], int, int, int, Decimal | None]]
    residue: Decimal | None
    total: tuple[int, int, int, Decimal]


def _amount(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _count(value: object) -> int:
    return int(str(value).replace(",", ""))


def _printed(header: list[str], rows: list[list[object]], width: int) -> Printed:
    """Rows of a CSV, XLSX or HTML table (first column labels the residue and the total)."""
    at = {name: header.index(name) for name in header}
    groups, residue, total = [], None, None
    for row in rows:
        amount = _amount(row[at["total_cost"]])
        if row[0] == "rounding residue":
            residue = amount
            continue
        counts = [_count(row[at[n]]) for n in ("calls", "failed_calls", "unpriced_calls")]
        if row[0] == "total":
            assert amount is not None
            total = (counts[0], counts[1], counts[2], amount)
        else:
            cells = [None if v in (None, "") else str(v) for v in row[:width]]
            groups.append((cells, counts[0], counts[1], counts[2], amount))
    assert total is not None, "no total line"
    return Printed(groups, residue, total)


class _Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def read_back(path: Path, fmt: str, by: tuple[str, ...]) -> Printed:
    width = len(by)
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8") as handle:
            text_header, *text_rows = list(csv.reader(handle))
        return _printed(text_header, [list(r) for r in text_rows], width)
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path)["Report"]
        cells: list[list[object]] = [[c.value for c in row] for row in sheet.iter_rows()]
        return _printed([str(h) for h in cells[0]], cells[1:], width)
    if fmt == "html":
        parser = _Tables()
        parser.feed(path.read_text(encoding="utf-8"))
        (table,) = [
            t for t in parser.tables if t and t[0][: width + 2] == [*by, "currency", "calls"]
        ]
        return _printed(table[0], [list(r) for r in table[1:]], width)
    con = duckdb.connect()
    relation = con.execute("SELECT * FROM read_parquet($path)", {"path": str(path)})
    header = [d[0] for d in relation.description]
    assert header[0] == "line"
    parquet_rows = relation.fetchall()
    assert [r[0] for r in parquet_rows][-1] == "total"
    # the `line` column labels the lines: give them the CSV's shape
    shaped: list[list[object]] = [
        [r[0] if r[0] != "group" else r[1], *r[2:]] if r[0] != "group" else list(r[1:])
        for r in parquet_rows
    ]
    types = con.execute(
        "SELECT DISTINCT typeof(total_cost) FROM read_parquet($path)", {"path": str(path)}
    ).fetchall()
    assert types == [("DECIMAL(38,4)",)]  # the widest minor unit: reports/documents.py
    return _printed(header[1:], shaped, width)


def _shows(cell: str | None, value: str | None) -> bool:
    """A printed group cell shows the value (formula escaping may prefix a hostile name)."""
    return cell is None if value is None else cell is not None and cell.endswith(value)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("by", BYS, ids=",".join)
def test_every_dimension_in_every_format(
    ledger: Path, tmp_path: Path, by: tuple[str, ...], fmt: str
) -> None:
    out = tmp_path / f"report.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            *("report", "--db", str(ledger), "--period", "2026-11", "--by", ",".join(by)),
            *("--format", fmt, "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = expected(by)
    assert f"wrote {len(lines)} lines to {out}: 6 calls, 0.06 USD, 1 unpriced calls" in (
        result.stdout
    )

    shown = read_back(out, fmt, by)
    order = in_print_order(lines)
    assert len(shown.groups) == len(order)
    for (cells, calls, failed, unpriced, amount), group in zip(shown.groups, order, strict=True):
        assert all(_shows(c, v) for c, v in zip(cells, group, strict=True)), (cells, group)
        line = lines[group]
        assert (calls, failed, unpriced) == (line.calls, line.failed_calls, line.unpriced_calls)
        assert amount == (None if line.total is None else printed(line.total)), group
    assert shown.total == (6, 1, 1, printed(TOTAL))
    # the printed lines add up to the printed total, through the residue line if needed
    lines_sum = sum((g[4] for g in shown.groups if g[4] is not None), Decimal(0))
    assert lines_sum + (shown.residue or 0) == printed(TOTAL)
    if lines_sum != printed(TOTAL):
        assert shown.residue == printed(TOTAL) - lines_sum


FOCUS_COLUMN = {  # where a FOCUS row carries each report dimension (FOCUS has no key)
    "team": "json_extract_string(Tags, '$.team')",
    "project": "json_extract_string(Tags, '$.project')",
    "provider": "ProviderName",
    "model": "x_Model",
    "canonical_model": "ServiceName",
    "variant": "x_ModelVariant",
}


@pytest.fixture(scope="module", params=["csv", "parquet"])
def focus_rows(
    request: pytest.FixtureRequest, ledger: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[duckdb.DuckDBPyConnection, str]:
    """November's FOCUS export, read back into a DuckDB table `focus`."""
    out = tmp_path_factory.mktemp("focus") / f"focus.{request.param}"
    result = CliRunner().invoke(
        app,
        [
            *("report", "--db", str(ledger), "--period", "2026-11"),
            *("--format", "focus", "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect()
    reader = (
        "read_csv($path, all_varchar = true)" if out.suffix == ".csv" else "read_parquet($path)"
    )
    con.execute(f"CREATE TABLE focus AS SELECT * FROM {reader}", {"path": str(out)})
    return con, request.param


@pytest.mark.parametrize("by", [b for b in BYS if "key" not in b], ids=",".join)
def test_focus_rows_grouped_by_every_dimension_add_up_to_the_summary(
    focus_rows: tuple[duckdb.DuckDBPyConnection, str],
    books: duckdb.DuckDBPyConnection,
    by: tuple[str, ...],
) -> None:
    """FOCUS has no --by (its rows are per charge): a FinOps tool groups them by the columns
    that carry the dimensions, and each group's cost is the summary's for that group. FOCUS
    states charged usage only, so the groups of only unpriced calls (no cost) are absent."""
    con, _ = focus_rows
    columns = ", ".join(FOCUS_COLUMN[name] for name in by)
    grouped = {
        tuple(row[:-1]): Decimal(row[-1])
        for row in con.execute(
            f"SELECT {columns}, CAST(sum(CAST(BilledCost AS DECIMAL(38, 15))) AS VARCHAR) "
            "FROM focus GROUP BY ALL"
        ).fetchall()
    }
    summary = summarize(books, by, NOVEMBER)
    assert grouped == {row.group: row.cost for row in summary.rows if row.cost is not None}
    assert grouped == {g: e.total for g, e in expected(by).items() if e.total is not None}
    assert sum(grouped.values(), Decimal(0)) == summary.total_cost == TOTAL


def test_focus_rows_carry_the_hostile_team_and_both_variants(
    focus_rows: tuple[duckdb.DuckDBPyConnection, str],
) -> None:
    con, fmt = focus_rows
    tags = con.execute("SELECT json_extract_string(Tags, '$.team') FROM focus").fetchall()
    teams = {team for (team,) in tags}
    # the CSV may escape the hostile name against formula injection, by a prefix
    assert any(team.endswith(HOSTILE) for team in teams) and "search" in teams
    if fmt == "parquet":
        assert HOSTILE in teams
    variants = {v for (v,) in con.execute("SELECT x_ModelVariant FROM focus").fetchall()}
    assert variants == {"standard", "highspeed"}


@pytest.mark.parametrize("by", BYS, ids=",".join)
def test_focus_refuses_by_and_says_how_to_group(
    ledger: Path, tmp_path: Path, by: tuple[str, ...]
) -> None:
    out = tmp_path / "focus.csv"
    result = CliRunner().invoke(
        app,
        [
            *("report", "--db", str(ledger), "--period", "2026-11", "--by", ",".join(by)),
            *("--format", "focus", "--out", str(out)),
        ],
    )
    assert result.exit_code == 2 and not out.exists()
    message = " ".join(result.output.split())
    assert "--by does not apply to --format focus: FOCUS rows are per charge" in message
    assert "group them in your FinOps tool by ProviderName, x_Model" in message
    assert "Traceback" not in result.output
