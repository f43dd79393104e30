"""The fault suite: each defect found by trying ratecard under faults and hostile input
(issue 20: formula injection, one bad spot losing a file, impossible counts, directories,
empty files, planted symlinks, scratch folders of killed ingests) as the case that showed
it, run as a user runs it where that is how it was found.

Bills from the frozen test sheets: reapi minimax/minimax-m3 0.30 input, 1.20 output per 1M.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import TEST_SHEETS, blank_warehouse, chat, file_of, ingest_records, write_jsonl
from ingest.usage import UsageFormat, ingest_usage
from ratecard import cli
from reports.files import write_atomically
from warehouse import RatecardError, connect

runner = CliRunner()
PREFIX = ".ratecard-ingest-"  # the scratch folders' names (ingest/scratch.py)

EVIL = '=HYPERLINK("http://evil.example","x")'
FORMULAS = [EVIL, "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def rows(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> list[Any]:
    return con.execute(query, params).fetchall()


def good_lines(n: int, prefix: str = "g") -> list[bytes]:
    return [json.dumps(chat(call_id=f"{prefix}{i}")).encode() for i in range(1, n + 1)]


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(blank_warehouse(tmp_path / "w.duckdb"))
    assert run("ingest", "prices", str(TEST_SHEETS), "--db", path)[0] == 0
    return path


# ---- 2. files finance opens never run a formula ---------------------------------------------


@pytest.fixture
def hostile(tmp_path: Path, db: str) -> str:
    """A warehouse whose teams, projects and ids are formulas, with a reported cost below
    the bill (a negative difference) and a rounding residue in the report."""
    records = [
        chat(call_id=f"c{i}", team=text, project=text, prompt=1_000 * (i + 1), completion=7)
        for i, text in enumerate(FORMULAS)
    ]
    flat = {
        "call_id": EVIL,
        "ts": "2026-10-03T00:00:00Z",
        "provider": "reapi",
        "model": "minimax/minimax-m3",
        "input_tokens": 500_000,
        "output_tokens": 0,
        "reported_cost": "0.14",  # billed 500,000 x 0.30 / 1M = 0.15: the difference is -0.01
        "team": "@team",
    }
    log = write_jsonl(tmp_path / "hostile.jsonl", records)
    assert run("ingest", "usage", str(log), "--db", db)[0] == 0
    flat_log = write_jsonl(tmp_path / "flat.jsonl", [flat])
    assert run("ingest", "usage", str(flat_log), "--db", db)[0] == 0
    return db


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def formula_cells(table: list[list[str]]) -> list[str]:
    return [
        cell for row in table for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    ]


def test_the_csv_report_quotes_formula_text_and_keeps_numbers(hostile: str, tmp_path: Path) -> None:
    out = tmp_path / "report.csv"
    code, output = run("report", "--db", hostile, "--period", "2026-10", "--out", str(out))
    assert code == 0, output
    table = read_csv(out)
    teams = {row[0] for row in table[1:-1] if row[0] not in ("rounding residue",)}
    assert {"'" + text for text in FORMULAS} | {"'@team"} <= teams
    # the only cells still starting like a formula are negative numbers (none here but the
    # rounding residue, if any): each is a number
    for cell in formula_cells(table):
        float(cell)


def test_the_xlsx_report_keeps_formula_text_in_text_cells(hostile: str, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    code, output = run(
        "report", "--db", hostile, "--period", "2026-10", "--format", "xlsx", "--out", str(out)
    )
    assert code == 0, output
    with zipfile.ZipFile(out) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in archive.read(n) for n in sheets)
    sheet = load_workbook(out)["Report"]
    teams = {c.value: c.data_type for c in sheet["A"][1:]}
    assert teams[EVIL] == "s" and teams["@team"] == "s"  # the text itself, as text
    header = [cell.value for cell in sheet[1]]
    calls = sheet.cell(row=2, column=header.index("calls") + 1)
    assert calls.data_type == "n" and isinstance(calls.value, int) and calls.value > 0  # numbers


def test_export_calls_csv_quotes_formula_text(hostile: str, tmp_path: Path) -> None:
    out = tmp_path / "calls.csv"
    code, output = run("export", "calls", "--db", hostile, "--format", "csv", "--out", str(out))
    assert code == 0, output
    with out.open(newline="", encoding="utf-8") as handle:
        calls = list(csv.DictReader(handle))
    assert {c["team"] for c in calls} == {"'" + text for text in [*FORMULAS, "@team"]}
    assert {c["call_id"] for c in calls} >= {"'" + EVIL, "c0"}
    assert formula_cells([list(c.values()) for c in calls]) == []


def test_reconcile_out_quotes_text_and_keeps_a_negative_difference_a_number(
    hostile: str, tmp_path: Path
) -> None:
    out = tmp_path / "discrepancies.csv"
    code, output = run("reconcile", "--db", hostile, "--out", str(out))
    assert code == 1, output
    header, *found = read_csv(out)
    (row,) = found
    line = dict(zip(header, row, strict=True))
    assert line["where"] == "'" + EVIL + " at 2026-10-03 00:00:00Z"
    assert (line["computed"], line["stated"], line["difference"]) == ("0.15", "0.14", "-0.01")


def test_compare_out_quotes_formula_text_and_keeps_negative_amounts_numbers(
    db: str, tmp_path: Path
) -> None:
    # a canonical model and a variant come from the sheets, which any text may name
    for provider, rate in (("evila", "0.2"), ("evilb", "0.1")):
        sheet = tmp_path / f"{provider}.yml"
        sheet.write_text(
            f"provider: {provider}\nname: Evil\nsource: tests\nchecked_on: 2026-11-01\n"
            f"models:\n  - id: m3\n    canonical: '{EVIL}'\n    variant: '@fast'\n"
            f"    unit: 1M\n    prices: [{{effective_from: 2026-01-01, input: {rate}, "
            f"output: {rate}}}]\n",
            encoding="utf-8",
        )
        code, output = run("ingest", "prices", str(sheet), "--db", db)
        assert code == 0, output
    call = chat(call_id="q1", provider="evila", model="m3", prompt=1_000_000, completion=0)
    log = write_jsonl(tmp_path / "log.jsonl", [call])
    assert run("ingest", "usage", str(log), "--db", db)[0] == 0
    out = tmp_path / "quotes.csv"
    code, output = run(
        "compare", "--db", db, "--model", EVIL, "--period", "2026-10", "--out", str(out)
    )
    assert code == 0, output
    header, *table = read_csv(out)
    quotes = {r[header.index("provider")]: dict(zip(header, r, strict=True)) for r in table}
    cheaper = quotes["evilb"]
    assert (cheaper["canonical_model"], cheaper["variant"]) == ("'" + EVIL, "'@fast")
    # 1M input tokens at 0.1 instead of 0.2: 0.1 less, a number
    assert (cheaper["actual_cost"], cheaper["repriced_cost"], cheaper["difference"]) == (
        "0.2",
        "0.1",
        "-0.1",
    )


def test_the_dashboard_download_quotes_formula_text(
    hostile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit
    from streamlit.testing.v1 import AppTest

    downloads: list[bytes] = []
    original = streamlit.download_button

    def spy(label: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        downloads.append(data)
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    monkeypatch.setenv("RATECARD_DB", hostile)
    app = AppTest.from_file(str(cli.DASHBOARD), default_timeout=30)
    app.run()
    app.switch_page("views/teams.py").run()
    assert not app.exception, [e.value for e in app.exception]
    table = list(csv.DictReader(io.StringIO(downloads[-1].decode("utf-8"), newline="")))
    assert {r["team"] for r in table} == {"'" + t for t in [*FORMULAS, "@team"]}
    assert all(not r["cost"].startswith("'") for r in table)


# ---- 4. nothing lost on one bad spot --------------------------------------------------------


def test_one_raw_carriage_return_in_2001_lines_costs_one_line(db: str, tmp_path: Path) -> None:
    lines = good_lines(2001)
    lines[1000] = lines[1000].replace(b'"team": "search"', b'"team": "sea\rrch"')
    path = tmp_path / "cr.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, output = run("ingest", "usage", str(path), "--db", db)
    assert code == 1, output
    assert "read 2,001 = loaded 2,000 + duplicates 0 + quarantined 1" in output
    con = connect(db, read_only=True)
    assert rows(con, "SELECT source_line, reason FROM quarantine") == [
        (1001, "raw carriage return inside the line (JSON and CSV write it as \\r or in quotes)")
    ]
    assert rows(con, "SELECT count(*), max(source_line) FROM calls") == [(2000, 2001)]
    con.close()


SCAN_MEMORY = """
import sys
from pathlib import Path
from ingest.repair import CarriageReturnScan

class Scan(CarriageReturnScan):
    _WINDOW = 4 * 1024 * 1024

def peak_kb():  # this process's own peak (ru_maxrss would count its parent's before exec)
    status = Path("/proc/self/status").read_text()
    return int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1])

before = peak_kb()
with Scan(Path(sys.argv[1])) as scan:
    found = scan.found()
print(found, (peak_kb() - before) // 1024)
"""


def test_the_carriage_return_scan_holds_one_window_of_a_big_file(tmp_path: Path) -> None:
    # the pages of a file mapped whole count as the process's memory: the ten-million-call
    # log (4.7 GB) made ingest peak at 4.8 GB. 96 MiB scanned in 4 MiB windows, the CR in
    # the last one, must cost a few windows' worth, not the file
    path = tmp_path / "big.jsonl"
    with path.open("wb") as out:
        line = b"x" * 1023 + b"\n"
        for _ in range(96 * 1024 - 1):
            out.write(line)
        out.write(b"\r" + line[1:])
    child = subprocess.run(
        [sys.executable, "-c", SCAN_MEMORY, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    found, grown_mb = child.stdout.split()
    assert found == "True"
    assert int(grown_mb) < 32, f"the scan grew the process by {grown_mb} MB"


def test_a_truncated_gz_loads_its_complete_first_half(db: str, tmp_path: Path) -> None:
    data = b"\n".join(good_lines(4000)) + b"\n"
    packed = gzip.compress(data)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    # what an independent decompressor gets out of the half: the oracle for what must load
    readable = zlib.decompressobj(wbits=31).decompress(packed[: len(packed) // 2])
    complete = readable.count(b"\n")
    assert 1000 < complete < 4000
    code, output = run("ingest", "usage", str(path), "--db", db)
    assert code == 1, output
    assert "the .gz file is truncated" in output
    con = connect(db, read_only=True)
    assert rows(con, "SELECT count(*), max(source_line) FROM calls") == [(complete, complete)]
    partial = rows(con, "SELECT source_line, reason FROM quarantine")
    assert [line for line, _ in partial] == [complete + 1]
    assert partial[0][1].startswith("the file ends inside this line: the .gz file is truncated")
    con.close()


def test_an_excel_csv_with_a_byte_order_mark_loads(db: str, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        b"\xef\xbb\xbfcall_id,ts,provider,model,input_tokens,output_tokens\r\n"
        b"x1,2026-10-01T10:00:00Z,reapi,minimax/minimax-m3,1000000,0\r\n"
    )
    code, output = run("ingest", "usage", str(path), "--db", db)
    assert code == 0, output
    assert "(flat-csv): read 1 = loaded 1 + duplicates 0 + quarantined 0" in output
    con = connect(db, read_only=True)
    assert rows(con, "SELECT call_id, source_line FROM calls") == [("x1", 2)]
    con.close()


UNCLOSED = (
    'unclosed quote: a cell opens with " and no later line closes it into a row of the '
    'header\'s cells; close the quote, or write a quote inside a cell as two ("")'
)


def test_an_unclosed_quote_in_a_csv_costs_only_its_own_line(db: str, tmp_path: Path) -> None:
    """DuckDB's reader takes every line after an unclosed quote into one rejected record:
    the rest of the file was lost. A cell may still hold a line break in quotes (RFC 4180):
    the two-line row g8 loads as one call. Every g row: 1,000 in at reapi 0.30 / 1M."""

    def good(i: int, team: str = "search") -> str:
        return f"g{i},2026-10-0{i}T10:00:00Z,reapi,minimax/minimax-m3,1000,0,{team}"

    lines = [
        "call_id,ts,provider,model,input_tokens,output_tokens,team",
        good(1),
        good(2),
        'bad1,2026-10-09T10:00:00Z,reapi,minimax/minimax-m3,1000,0,"search',  # line 4
        good(3),
        good(4),
        'bad2,2026-10-09T11:00:00Z,reapi,minimax/minimax-m3,"1000,0,search',  # line 7
        good(5),
        good(6),
        good(7),
        good(8, '"two\nlines"'),  # lines 11-12: one row whose quote closes on the next line
    ]
    path = tmp_path / "quotes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = run("ingest", "usage", str(path), "--db", db)
    assert code == 1, output  # some were quarantined
    assert "(flat-csv): read 10 = loaded 8 + duplicates 0 + quarantined 2" in output
    con = connect(db, read_only=True)
    assert rows(con, "SELECT source_line, reason, raw FROM quarantine ORDER BY 1") == [
        (4, UNCLOSED, lines[3]),
        (7, UNCLOSED, lines[6]),
    ]
    assert rows(con, "SELECT call_id, source_line, team FROM calls ORDER BY source_line") == [
        ("g1", 2, "search"),
        ("g2", 3, "search"),
        ("g3", 5, "search"),
        ("g4", 6, "search"),
        ("g5", 8, "search"),
        ("g6", 9, "search"),
        ("g7", 10, "search"),
        ("g8", 11, "two\nlines"),
    ]
    assert rows(
        con,
        "SELECT records_read, loaded, duplicates, quarantined FROM batches WHERE kind = 'usage'",
    ) == [(10, 8, 0, 2)]
    assert rows(con, "SELECT sum(total_cost) FROM calls_costed") == [(Decimal("0.0024"),)]
    con.close()


@pytest.mark.parametrize("packed", [False, True], ids=["csv", "csv.gz"])
@pytest.mark.parametrize("unclosed", [False, True], ids=["read", "repaired"])
def test_csv_records_keep_the_lines_they_start_on(
    db: str, tmp_path: Path, packed: bool, unclosed: bool
) -> None:
    """DuckDB's CSV reader numbers rows: a blank line, or a quoted cell holding line breaks,
    made every later record's line too low. Each record here is quarantined or loaded at the
    line an editor shows it on, read as it is or from the repaired copy an unclosed quote
    sends the file to, plain or compressed."""
    good = "{},2026-10-01T10:00:00Z,reapi,minimax/minimax-m3,1000,0,{}"
    lines = [
        "call_id,ts,provider,model,input_tokens,output_tokens,team",  # 1
        good.format("g1", "search"),  # 2
        "",  # 3: blank, no record
        good.format("g2", '"two'),  # 4
        'lines"',  # 5: g2's cell goes on
        "bad,row",  # 6: too few cells
        good.format("g3", '"three'),  # 7
        "",  # 8: inside g3's quoted cell
        'lines"',  # 9
        good.format("neg", "x").replace(",1000,", ",-5,"),  # 10: quarantined by its check
        "",  # 11
        "",  # 12
        (good.format("open", '"search') if unclosed else good.format("g4", "search")),  # 13
        good.format("g5", "search"),  # 14
    ]
    data = ("\n".join(lines) + "\n\n").encode()
    path = tmp_path / f"breaks.csv{'.gz' if packed else ''}"
    path.write_bytes(gzip.compress(data) if packed else data)
    code, output = run("ingest", "usage", str(path), "--db", db)
    assert code == 1, output
    con = connect(db, read_only=True)
    assert rows(con, "SELECT call_id, source_line FROM calls ORDER BY source_line") == [
        ("g1", 2),
        ("g2", 4),
        ("g3", 7),
        *([] if unclosed else [("g4", 13)]),
        ("g5", 14),
    ]
    assert rows(con, "SELECT source_line, reason FROM quarantine ORDER BY 1") == [
        (6, "fewer cells than the header has columns"),
        (10, "input tokens are negative: -5"),
        *([(13, UNCLOSED)] if unclosed else []),
    ]
    con.close()


def test_deep_nesting_in_the_first_lines_is_quarantined_not_a_traceback(
    db: str, tmp_path: Path
) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000 + b"\n" + good_lines(1)[0] + b"\n")
    code, output = run("ingest", "usage", str(path), "--db", db)
    assert "Traceback" not in output and "RecursionError" not in output
    assert code == 1, output
    assert "(gateway-log): read 2 = loaded 1 + duplicates 0 + quarantined 1" in output


def test_an_empty_file_does_not_stop_the_files_after_it(db: str, tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [chat(call_id="a1")])
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    b = write_jsonl(tmp_path / "b.jsonl", [chat(call_id="b1")])
    code, output = run("ingest", "usage", str(a), str(empty), str(b), "--db", db)
    assert code == 0, output
    assert "empty.jsonl (gateway-log): read 0 = loaded 0 + duplicates 0 + quarantined 0" in output
    con = connect(db, read_only=True)
    assert rows(con, "SELECT call_id FROM calls ORDER BY 1") == [("a1",), ("b1",)]
    assert rows(con, "SELECT records_read FROM batches WHERE kind = 'usage' ORDER BY batch_id") == [
        (1,),
        (0,),
        (1,),
    ]
    con.close()


def test_a_refused_file_does_not_stop_the_others_and_the_exit_status_says_so(
    db: str, tmp_path: Path
) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [chat(call_id="a1")])
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,provider,model,colour\n", encoding="utf-8")
    b = write_jsonl(tmp_path / "b.jsonl", [chat(call_id="b1")])
    code, output = run("ingest", "usage", str(a), str(bad), str(b), "--db", db)
    assert code == 1, output
    assert "bad.csv: unknown column 'colour'" in output and "1 of 3 files refused" in output
    con = connect(db, read_only=True)
    assert rows(con, "SELECT call_id FROM calls ORDER BY 1") == [("a1",), ("b1",)]
    con.close()
    # every file refused: nothing was loaded, a usage error
    code, output = run("ingest", "usage", str(bad), "--db", db)
    assert code == 2 and "1 of 1 files refused" in output
    # a path that does not exist stops the command before anything is read
    code, output = run("ingest", "usage", str(a), str(tmp_path / "nope.jsonl"), "--db", db)
    assert code == 2 and "nope.jsonl: no such file" in output


# ---- 11. smaller ---------------------------------------------------------------------------


def test_a_count_beyond_the_limit_is_quarantined_as_too_large(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    load = ingest_records(
        priced,
        tmp_path,
        [
            chat(call_id="big", prompt=2**62),
            chat(call_id="huge", completion=10**30),
            chat(call_id="edge", prompt=10**12, completion=0),  # the limit itself loads
            chat(call_id="neg", prompt=-(10**30)),
        ],
    )
    assert (load.loaded, load.quarantined) == (1, 3)
    assert rows(priced, "SELECT call_id FROM calls") == [("edge",)]
    assert [r for (r,) in rows(priced, "SELECT reason FROM quarantine ORDER BY source_line")] == [
        "input tokens are too large: 4611686018427387904 (at most 1000000000000 in one call)",
        "output tokens are too large: " + str(10**30) + " (at most 1000000000000 in one call)",
        "input tokens are negative: -" + str(10**30),
    ]


def test_a_parquet_report_of_impossible_counts_says_why_instead_of_crashing(
    db: str, tmp_path: Path
) -> None:
    # twenty calls of 10^18 tokens each, in a warehouse loaded before ingest had its limit:
    # their sum is beyond INT64, which Parquet's counts are
    log = write_jsonl(tmp_path / "log.jsonl", [chat(call_id=f"h{i}") for i in range(20)])
    assert run("ingest", "usage", str(log), "--db", db)[0] == 0
    con = connect(db)
    con.execute("UPDATE calls SET input_tokens = 10^18::BIGINT")
    con.close()
    out = tmp_path / "r.parquet"
    code, output = run(
        "report", "--db", db, "--period", "2026-10", "--format", "parquet", "--out", str(out)
    )
    assert code == 2, output
    assert "Traceback" not in output and "INT128" not in output
    assert "input_tokens adds up to 20,000,000,000,000,000,000" in output
    assert not out.exists()
    # the same report as CSV holds the exact sum
    code, output = run(
        "report", "--db", db, "--period", "2026-10", "--out", str(tmp_path / "r.csv")
    )
    assert code == 0, output
    assert "20000000000000000000" in (tmp_path / "r.csv").read_text(encoding="utf-8")


def test_a_folder_is_read_as_its_usage_files(db: str, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_jsonl(logs / "2026-10-02.jsonl", [chat(call_id="d2")])
    (logs / "2026-10-01.jsonl.gz").write_bytes(
        gzip.compress(json.dumps(chat(call_id="d1")).encode() + b"\n")
    )
    (logs / "notes.txt").write_text("not a log", encoding="utf-8")
    (logs / ".hidden.jsonl").write_text("{}", encoding="utf-8")
    (logs / "nested").mkdir()
    write_jsonl(logs / "nested" / "x.jsonl", [chat(call_id="nested")])
    code, output = run("ingest", "usage", str(logs), "--db", db)
    assert code == 0, output
    con = connect(db, read_only=True)
    assert [
        s.rsplit("/", 1)[1]
        for (s,) in rows(con, "SELECT source FROM batches WHERE kind = 'usage' ORDER BY batch_id")
    ] == [
        "2026-10-01.jsonl.gz",
        "2026-10-02.jsonl",
    ]
    con.close()
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    code, output = run("ingest", "usage", str(empty), "--db", db)
    assert code == 2 and "empty-folder: is a directory with no usage files in it" in output
    with pytest.raises(RatecardError, match="is a directory, not a usage file"):
        ingest_usage(connect(blank_warehouse(tmp_path / "x.duckdb")), logs)


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("empty.jsonl", b"", UsageFormat.GATEWAY_LOG),
        ("blank.jsonl", b"\n \n\t\n", UsageFormat.GATEWAY_LOG),
        ("empty.csv", b"", UsageFormat.FLAT_CSV),
        ("header-only.csv", b"ts,provider,model\n", UsageFormat.FLAT_CSV),
        ("empty.jsonl.gz", gzip.compress(b""), UsageFormat.GATEWAY_LOG),
    ],
)
def test_an_empty_file_is_a_batch_of_no_records(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, content: bytes, fmt: UsageFormat
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    load = ingest_usage(priced, path)
    assert (load.format, load.records_read, load.loaded, load.problem) == (fmt, 0, 0, None)
    assert rows(priced, "SELECT records_read FROM batches WHERE batch_id = ?", [load.batch_id]) == [
        (0,)
    ]


def test_out_never_writes_through_a_planted_symlink(db: str, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = tmp_path / "report.csv"
    # the names the old writer used, and a symlink at the target itself
    (tmp_path / ".report.csv.partial").symlink_to(victim)
    code, output = run("report", "--db", db, "--period", "2026-10", "--out", str(out))
    assert code == 0, output
    assert victim.read_text(encoding="utf-8") == "precious"
    assert out.is_file() and not out.is_symlink()
    assert out.read_text(encoding="utf-8").startswith("team,project,")
    # a symlink at --out is replaced, not followed
    link = tmp_path / "calls.csv"
    link.symlink_to(victim)
    code, output = run("export", "calls", "--db", db, "--out", str(link))
    assert code == 0, output
    assert victim.read_text(encoding="utf-8") == "precious" and not link.is_symlink()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert leftovers == [".report.csv.partial"]  # only the planted one


def test_an_atomic_write_gets_the_permissions_of_a_new_or_the_old_file(tmp_path: Path) -> None:
    def write(text: str) -> Callable[[Path], None]:
        def fill(path: Path) -> None:
            path.write_text(text, encoding="utf-8")

        return fill

    umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.csv"
        write_atomically(fresh, write("a"))
        assert fresh.stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.csv"
        kept.write_text("old", encoding="utf-8")
        kept.chmod(0o640)
        write_atomically(kept, write("new"))
        assert (kept.read_text(encoding="utf-8"), kept.stat().st_mode & 0o777) == ("new", 0o640)
    finally:
        os.umask(umask)
    with pytest.raises(RuntimeError):
        write_atomically(kept, lambda path: (_ for _ in ()).throw(RuntimeError("boom")))
    assert kept.read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.csv", "kept.csv"]


HOLD_SCRATCH = """
import os, signal, sys
from pathlib import Path
from ingest.scratch import scratch_folder
with scratch_folder(Path(sys.argv[1])) as folder:
    (folder / "staged.duckdb").write_bytes(b"x" * 1000)
    print(folder, flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.readline()
"""


def test_the_scratch_folder_of_a_killed_ingest_is_removed_by_the_next_one(
    priced: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    beside = Path(file_of(priced)).parent

    def holder(mode: str) -> tuple[subprocess.Popen[str], Path]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD_SCRATCH, str(beside), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert process.stdout is not None
        return process, Path(process.stdout.readline().strip())

    killed, dead_folder = holder("die")
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert dead_folder.is_dir()  # what a kill -9 leaves behind
    live, live_folder = holder("wait")
    old_style = beside / f"{PREFIX}abc123"  # an older ratecard's, untouched for two hours
    old_style.mkdir()
    (old_style / "staged.duckdb").write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for entry in (old_style / "staged.duckdb", old_style):
        os.utime(entry, (two_hours_ago, two_hours_ago))
    try:
        load = ingest_records(priced, tmp_path, [chat(call_id="s1")])
        assert load.loaded == 1
        assert not dead_folder.exists() and not old_style.exists()
        assert live_folder.is_dir()  # its owner is still at work
    finally:
        live.communicate("\n", timeout=60)
    assert live.returncode == 0
    assert not live_folder.exists()
    assert [p for p in beside.iterdir() if p.name.startswith(PREFIX)] == []
