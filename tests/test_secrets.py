"""No secret is stored, exported or printed: a corpus of hostile lines, each holding keys
that appear nowhere else (every one contains ``zq``), goes through every reader and every
reject path (issue 20, item 3), and then every text and blob column of the warehouse, every
export and every line the CLI printed is searched for them.

What counts as a secret is written down in ingest/redaction.py.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from itertools import count
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import TEST_SHEETS, chat
from ingest.redaction import redact, redact_bytes, sql_redaction
from ratecard import cli
from warehouse import connect

runner = CliRunner()


IDS = count(1)


def envelope(**fields: object) -> dict[str, object]:
    """A gateway-log record, valid unless a field given makes it not."""
    return chat(call_id=f"id-{next(IDS)}") | fields


def dumps(record: object) -> bytes:
    return json.dumps(record).encode()


# each entry: why it is hostile, the line's bytes (no LF), and the secrets in it
JSONL: list[tuple[str, bytes, list[str]]] = [
    (
        "not valid UTF-8: the reader rejects the line",
        dumps(envelope(api_key="sk-live-zq01abcdef"))[:-1] + b', "bad": "\xff\xfe"}',
        ["zq01abcdef"],
    ),
    (
        "raw control characters: the reader rejects the line",
        dumps(envelope(api_key="plainzq02secret"))[:-1] + b', "x": "\x1f\x1e\x1d\x1c"}',
        ["plainzq02secret"],
    ),
    (
        "cut inside the key",
        dumps(envelope(api_key="plainzq03secretvalue"))[:-40].split(b"zq03secret")[0]
        + b"zq03secret",
        ["zq03secret"],
    ),
    (
        "a key with an escaped quote, in a record quarantined for its tokens",
        dumps(envelope(api_key='zq04first"zq04second', status_code=99)),
        ["zq04first", "zq04second"],
    ),
    (
        "an Authorization header with a bearer token, in a record without a model",
        dumps(envelope(model="", headers={"Authorization": "Bearer zq05token.abc-def"})),
        ["zq05token"],
    ),
    (
        "an api_key that is a number",
        dumps(envelope(api_key=7700112233445566, ts="never")),
        ["7700112233445566"],
    ),
    (
        "an api_key that is an object",
        dumps(envelope(api_key={"value": "plainzq07inner", "kind": "x"}, ts="never")),
        ["plainzq07inner"],
    ),
    (
        "a \\u-escaped api_key name",
        dumps(envelope(ts="never")).replace(
            b'"api_key": "sk-test-1"', b'"api\\u005fkey": "plainzq08"'
        ),
        ["plainzq08"],
    ),
    (
        "a \\u-escaped name and value",
        dumps(envelope(ts="never")).replace(
            b'"api_key": "sk-test-1"', b'"\\u0061pi_key": "\\u0070lainzq09esc"'
        ),
        ["zq09esc"],
    ),
    (
        "an sk- key in a provider's error message",
        dumps(envelope(status_code=401, response={"error": "bad key sk-proj-zq10xyzabc"}, ts="x")),
        ["zq10xyzabc"],
    ),
    (
        "a key in the time field, which the reason quotes",
        dumps(envelope(ts="sk-live-zq11intime")),
        ["zq11intime"],
    ),
    (
        "JSON logged inside a string",
        dumps(envelope(request=json.dumps({"api_key": "plainzq12nested"}), ts="x")),
        ["plainzq12nested"],
    ),
    (
        "a raw carriage return: the repaired copy's marker line",
        dumps(envelope(api_key="plainzq13cr"))[:-1] + b', "x": "a\rb"}',
        ["plainzq13cr"],
    ),
    (
        "a query string with a key",
        dumps(envelope(url="https://gw.example/v1?api_key=plainzq14query&x=1", ts="x")),
        ["plainzq14query"],
    ),
    (
        "tags of a loaded call",
        dumps(envelope(tags={"auth": "Bearer zq15tagtoken", "secret": "plainzq15tag"})),
        ["zq15tagtoken", "plainzq15tag"],
    ),
    (
        "a loaded call's key (fingerprinted)",
        dumps(envelope(api_key="plainzq16loaded")),
        ["plainzq16loaded"],
    ),
]

SPAN_KEY = ["plainzq17otel"]
CSV_KEYS = ["plainzq18many", "plainzq19few", "plainzq20enc", "plainzq21bad"]
HEADER_KEY = ["sk-live-zq22header"]
GZ_KEY = ["plainzq23gzcut"]
LONG_KEY = ["sk-live-zq24long"]

SECRETS = [s for _, _, keys in JSONL for s in keys] + SPAN_KEY + CSV_KEYS + HEADER_KEY
SECRETS += GZ_KEY + LONG_KEY


def corpus(folder: Path) -> list[Path]:
    """The hostile files: gateway-log lines, OTLP spans, CSV rows, a CSV whose header is a
    data row, a .gz cut inside a key, and a line over 64 MiB."""
    files = []
    log = folder / "hostile.jsonl"
    log.write_bytes(b"\n".join(line for _, line, _ in JSONL) + b"\n")
    files.append(log)
    spans = folder / "spans.jsonl"
    attribute = {"key": "api_key", "value": {"stringValue": SPAN_KEY[0]}}
    span = {
        "traceId": "t" * 32,
        "spanId": "s1",
        "startTimeUnixNano": "oops",  # quarantined: not a time
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "tm-1"}},
            attribute,
        ],
    }
    spans.write_bytes(dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}) + b"\n")
    files.append(spans)
    rows = folder / "rows.csv"
    rows.write_bytes(
        b"call_id,ts,provider,model,input_tokens,output_tokens,api_key,team\n"
        b"c1,2026-10-01T00:00:00Z,reapi,minimax/minimax-m3,1,1,ok-key,search\n"
        # a comma in a value before the key: one cell too many
        b"c2,2026-10-01T00:00:00Z,reapi,minimax/minimax-m3,1,1,x,plainzq18many,search\n"
        # a cell missing before the key: one too few
        b"c3,2026-10-01T00:00:00Z,reapi,minimax/minimax-m3,1,plainzq19few,search\n"
        b"c4,2026-10-01T00:00:00Z,reapi,minimax/minimax-m3,1,1,plainzq20enc,se\xffarch\n"
        b"c5,2026-10-01T00:00:00Z,reapi,minimax/minimax-m3,-1,1,plainzq21bad,search\n"
    )
    files.append(rows)
    headless = folder / "headless.csv"
    headless.write_bytes(b"sk-live-zq22header,c1,2026-10-01T00:00:00Z,reapi,m,1,1\n")
    files.append(headless)
    # a .gz whose data stops inside a key: the compressor flushed there, as a writer killed
    # mid-line leaves it
    cut = folder / "cut.jsonl.gz"
    whole = b"\n".join(dumps(chat(call_id=f"gz{i}", api_key=GZ_KEY[0])) for i in range(300))
    inside = whole.rindex(GZ_KEY[0].encode()) + 9
    packer = zlib.compressobj(wbits=31)
    cut.write_bytes(packer.compress(whole[:inside]) + packer.flush(zlib.Z_FULL_FLUSH))
    files.append(cut)
    long = folder / "long.jsonl"
    head = dumps(envelope(api_key=LONG_KEY[0]))[:-1] + b', "pad": "'
    long.write_bytes(
        head + b"x" * (65 * 1024 * 1024) + b'"}\n' + dumps(chat(call_id="after")) + b"\n"
    )
    files.append(long)
    return files


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A warehouse that ingested the corpus, with every export written: (the warehouse, the
    folder of exports, everything the CLI printed)."""
    folder = tmp_path_factory.mktemp("secrets")
    db = str(folder / "w.duckdb")
    printed = []

    def run(*args: str) -> int:
        result = runner.invoke(cli.app, [*args, "--db", db], env={"COLUMNS": "200"})
        printed.append(result.output)
        return result.exit_code

    assert run("ingest", "prices", str(TEST_SHEETS)) == 0
    assert run("ingest", "usage", *map(str, corpus(folder))) == 1  # quarantined and refused
    exports = folder / "exports"
    exports.mkdir()
    out = exports.joinpath
    assert run("export", "calls", "--format", "csv", "--out", str(out("calls.csv"))) == 0
    assert run("export", "calls", "--format", "parquet", "--out", str(out("calls.parquet"))) == 0
    for fmt, name in [
        ("csv", "r.csv"),
        ("xlsx", "r.xlsx"),
        ("parquet", "r.parquet"),
        ("html", "r.html"),
    ]:
        assert (
            run(
                "report",
                "--period",
                "2026-10",
                "--by",
                "team,key",
                "--format",
                fmt,
                "--out",
                str(out(name)),
            )
            == 0
        )
    for name in ("focus.csv", "focus.parquet"):
        assert (
            run("report", "--period", "2026-10", "--format", "focus", "--out", str(out(name))) == 0
        )
    run("reconcile", "--out", str(out("discrepancies.csv")))
    run("summary", "--by", "team,key")
    return Path(db), exports, "\n".join(printed)


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return [
        (schema, table, column)
        for schema, table, column in con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND NOT internal "
            "AND (data_type IN ('VARCHAR', 'BLOB', 'JSON') OR data_type LIKE '%[]' "
            "OR data_type LIKE 'STRUCT%' OR data_type LIKE 'MAP%')"
        ).fetchall()
    ]


def test_the_corpus_went_through_every_path(hostile: tuple[Path, Path, str]) -> None:
    db, _, printed = hostile
    con = connect(db, read_only=True)
    reasons = {r for (r,) in con.execute("SELECT DISTINCT reason FROM quarantine").fetchall()}
    con.close()
    for expected in [
        "not valid UTF-8 text",
        "not valid JSON (raw control characters in the line)",
        "not valid JSON (truncated or malformed line)",
        "raw carriage return inside the line (JSON and CSV write it as \\r or in quotes)",
        "more cells than the header has columns",
        "fewer cells than the header has columns",
        "line longer than 64 MiB",
        "ts is not a time: <redacted>",
    ]:
        assert expected in reasons, sorted(reasons)
    assert any(r.startswith("the file ends inside this line: the .gz") for r in reasons)
    assert "headless.csv: unknown column '<redacted>' in the header" in printed.replace("\n", " ")


def test_no_text_or_blob_column_of_the_warehouse_holds_a_secret(
    hostile: tuple[Path, Path, str],
) -> None:
    db, _, _ = hostile
    con = connect(db, read_only=True)
    columns = text_columns(con)
    assert ("main", "quarantine", "raw") in columns and ("main", "calls", "tags") in columns
    for schema, table, column in columns:
        values = con.execute(
            f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}"'
        ).fetchall()
        found = {leak for (value,) in values if value for leak in leaks(value)}
        assert not found, (table, column, found)
    # redaction keeps the rest of the line a person needs
    raws = [raw for (raw,) in con.execute("SELECT raw FROM quarantine").fetchall()]
    assert sum("<redacted>" in raw for raw in raws) >= 15
    assert all('"provider": "reapi"' in raw for raw in raws if raw.startswith('{"ts"'))
    con.close()
    # and the file itself, where an uncompressed string would sit in the clear
    assert leaks(db.read_bytes().decode("latin-1")) == []


def test_no_export_holds_a_secret(hostile: tuple[Path, Path, str]) -> None:
    _, exports, _ = hostile
    names = sorted(p.name for p in exports.iterdir())
    assert len(names) == 9, names
    con = duckdb.connect()
    for path in exports.iterdir():
        if path.suffix == ".parquet":
            text = json.dumps(
                con.execute("SELECT * FROM read_parquet($p)", {"p": str(path)}).fetchall(),
                default=str,
            )
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                text = "".join(archive.read(n).decode("utf-8") for n in archive.namelist())
        else:
            text = path.read_text(encoding="utf-8")
        assert leaks(text) == [], path.name
    con.close()


def test_nothing_the_cli_printed_holds_a_secret(hostile: tuple[Path, Path, str]) -> None:
    _, _, printed = hostile
    assert "read" in printed and "quarantined" in printed
    assert leaks(printed) == []


def test_python_and_sql_redact_the_corpus_alike() -> None:
    con = duckdb.connect()
    con.execute(f"CREATE MACRO redact_secrets(x) AS {sql_redaction('x')}")
    for why, line, keys in JSONL:
        text = line.decode("utf-8", "replace")
        in_sql = con.execute("SELECT redact_secrets($t)", {"t": text}).fetchall()[0][0]
        assert redact(text) == in_sql, why
        assert not any(key in in_sql for key in keys), why
        assert not any(key.encode() in redact_bytes(line) for key in keys), why
    con.close()


@pytest.mark.parametrize(
    "text",
    [
        '{"input_tokens": 12, "prompt_tokens_details": {"cached_tokens": 3}}',
        '{"model": "minimax/minimax-m3", "team": "search", "api_key_id": "key_0123456789abcdef"}',
        "the task-list of sk8 boarders; keys are not tokens",
    ],
)
def test_text_without_a_secret_is_left_as_it_is(text: str) -> None:
    assert redact(text) == text


def test_the_demo_quarantines_no_key(tmp_path: Path) -> None:
    # the demo's sample traffic cuts a few lines short, some inside their key
    db = tmp_path / "demo.duckdb"  # the demo writes its samples beside it
    result = runner.invoke(cli.app, ["demo", "--db", str(db), "--calls", "3000", "--no-dashboard"])
    assert result.exit_code == 0, result.output
    keys = set(
        re.findall(
            rb"sk-demo-[a-z0-9-]+", (tmp_path / "samples").joinpath("gateway.jsonl").read_bytes()
        )
    )
    assert keys
    con = connect(db, read_only=True)
    raws = [raw for (raw,) in con.execute("SELECT raw FROM quarantine").fetchall()]
    con.close()
    # the sample writes compact JSON: "api_key":"sk-demo-…"
    assert raws and any('"api_key":"<redacted>"' in raw for raw in raws)
    for raw in raws:
        assert "sk-" not in raw, raw
        if '"api_key"' in raw:  # the key redacted, or the line cut before any of it
            after = raw.split('"api_key"', 1)[1]
            assert after.startswith(':"<redacted>"') or after in ("", ":", ':"'), raw
    assert not any(key.decode() in result.output for key in keys)
