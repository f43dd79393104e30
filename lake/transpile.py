"""ratecard's DuckDB SQL as Spark SQL: the one definition of each rule, run on Spark.

Billing, the per-call view and the reports are written once, for DuckDB (``pricing/sql``,
``reports/sql``, the warehouse's migrations). The Spark path runs the same text: it is parsed
with SQLGlot, the DuckDB macros it calls (``bill_amounts``, ``input_band``, ...) are expanded
from their definitions in the migrations, and it is written out as Spark SQL, with the few
functions SQLGlot does not carry over mapped by hand below. Nothing here restates a rule; a
change to a ``.sql`` file or a macro reaches both engines, and ``tests/test_lake_billing.py``
fails if the two disagree anywhere.

Exactness is not the transpiler's job but the session's (lake/spark.py): Spark's decimal
arithmetic keeps every product exact only with ``allowPrecisionLoss`` off (ADR 0070).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

from warehouse.db import migrations

_MACRO = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?MACRO\s+(\w+)\s*\(",
    re.IGNORECASE,
)
_VIEW = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)\s+AS\s+", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class Macro:
    """A DuckDB scalar macro: its parameters (with defaults, NULL when none) and body."""

    name: str
    params: tuple[str, ...]
    defaults: tuple[exp.Expr | None, ...]
    body: exp.Expr


def statements(sql: str) -> list[str]:
    """The statements of a SQL script, split at the semicolons outside strings and comments
    (DuckDB's tokenizer rules, as SQLGlot knows them)."""
    tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)
    found, start = [], 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            found.append(sql[start : token.start])
            start = token.end + 1
    found.append(sql[start:])
    return [s.strip() for s in found if s.strip()]


def _strip_comments(sql: str) -> str:
    """The SQL without its -- comments (a -- inside a string literal stays)."""
    out, index, quoted = [], 0, False
    while index < len(sql):
        char = sql[index]
        if char == "'":
            quoted = not quoted  # '' inside a string toggles twice
        elif not quoted and sql.startswith("--", index):
            end = sql.find("\n", index)
            index = len(sql) if end < 0 else end
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _closing(text: str, opening: int) -> int:
    """The index of the parenthesis that closes the one at ``opening``."""
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced parentheses in {text[:80]!r}")


def _split_top(text: str) -> list[str]:
    """Split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _parse_macro(statement: str) -> Macro | None:
    text = _strip_comments(statement)
    match = _MACRO.match(text)
    if match is None:
        return None
    opening = match.end() - 1
    closing = _closing(text, opening)
    params: list[str] = []
    defaults: list[exp.Expr | None] = []
    for part in _split_top(text[opening + 1 : closing]):
        name, _, default = part.partition(":=")
        params.append(name.strip())
        defaults.append(sqlglot.parse_one(default, read="duckdb") if default.strip() else None)
    body = re.sub(r"^\s*AS\s+", "", text[closing + 1 :], flags=re.IGNORECASE)
    return Macro(
        match[1].lower(), tuple(params), tuple(defaults), sqlglot.parse_one(body, "duckdb")
    )


@cache
def _schema_statements() -> tuple[str, ...]:
    """Every statement of the warehouse's migrations, in the order they run."""
    return tuple(s for m in migrations() for s in statements(m.sql))


@cache
def macros() -> dict[str, Macro]:
    """The warehouse's macros as the latest migration defining each leaves them."""
    found: dict[str, Macro] = {}
    for statement in _schema_statements():
        macro = _parse_macro(statement)
        if macro is not None:
            found[macro.name] = macro
    return found


@cache
def view_sql(name: str) -> str:
    """The query of the warehouse view ``name`` as the latest migration defines it."""
    body = None
    for statement in _schema_statements():
        statement = _strip_comments(statement)
        match = _VIEW.match(statement)
        if match is not None and match[1].lower() == name:
            body = statement[match.end() :]
    if body is None:
        raise KeyError(f"no migration defines the view {name}")
    return body


def _bind(macro: Macro, call: exp.Anonymous) -> dict[str, exp.Expr]:
    """The macro's parameters bound to a call's arguments (by position, then by name)."""
    bound: dict[str, exp.Expr] = {}
    position = 0
    for argument in call.expressions:
        if isinstance(argument, exp.PropertyEQ):
            bound[argument.this.name.lower()] = argument.expression
        else:
            bound[macro.params[position].lower()] = argument
            position += 1
    for param, default in zip(macro.params, macro.defaults, strict=True):
        if param.lower() not in bound:
            bound[param.lower()] = default if default is not None else exp.Null()
    return bound


_ATOMS = (exp.Column, exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Func, exp.Dot)


def _wrapped(node: exp.Expr) -> exp.Expr:
    """The expression in parentheses unless it is one term already."""
    return node if isinstance(node, _ATOMS) else exp.paren(node, copy=False)


def _substitute(macro: Macro, call: exp.Anonymous) -> exp.Expr:
    bound = _bind(macro, call)

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            if not node.table and node.name.lower() in bound:
                return _wrapped(bound[node.name.lower()].copy())
            if node.table and not node.args.get("db") and node.table.lower() in bound:
                # parts.input_cost: a field of a struct parameter
                return exp.Dot(
                    this=_wrapped(bound[node.table.lower()].copy()),
                    expression=exp.to_identifier(node.name),
                )
        return node

    return _wrapped(macro.body.copy().transform(replace))


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _struct_fields(node: exp.Expr) -> list[exp.PropertyEQ] | None:
    node = _unparen(node)
    if isinstance(node, exp.Struct) and all(
        isinstance(e, exp.PropertyEQ) for e in node.expressions
    ):
        return list(node.expressions)
    return None


def _simplify_structs(node: exp.Expr) -> exp.Expr:
    """struct_insert(struct_pack(...), k := v) as one struct_pack, and a field of a
    struct_pack as that field's expression: what macros that build structs leave behind."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "struct_insert":
        fields = _struct_fields(node.expressions[0])
        if fields is not None:
            return exp.Struct(expressions=[*fields, *node.expressions[1:]])
    if isinstance(node, exp.Dot):
        fields = _struct_fields(node.this)
        if fields is not None:
            for field in fields:
                if field.this.name.lower() == node.name.lower():
                    return _wrapped(field.expression)
    return node


def expand_macros(tree: exp.Expr) -> exp.Expr:
    """The query with every call of a warehouse macro replaced by the macro's body."""
    known = macros()
    for _ in range(20):  # macros call macros; none nests this deep
        calls = [
            node
            for node in tree.find_all(exp.Anonymous)
            if node.name.lower() in known and node.name.lower() != "struct_insert"
        ]
        if not calls:
            return tree.transform(_simplify_structs)
        tree = tree.transform(
            lambda node: (
                _substitute(known[node.name.lower()], node)
                if isinstance(node, exp.Anonymous) and node.name.lower() in known
                else node
            )
        )
        tree = tree.transform(_simplify_structs)
    raise ValueError("macros nest deeper than 20 levels")


_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


def _java_format(duckdb_format: str) -> str:
    """A strftime format as Spark's datetime pattern: fields mapped, the rest quoted."""
    out, literal = [], ""
    for piece in re.split(r"(%[A-Za-z])", duckdb_format):
        if piece in _STRFTIME:
            if literal:
                out.append("'" + literal.replace("'", "''") + "'")
                literal = ""
            out.append(_STRFTIME[piece])
        elif piece.startswith("%") and len(piece) == 2:
            raise ValueError(f"no Spark pattern for strftime's {piece}")
        else:
            literal += piece
    if literal:
        out.append("'" + literal.replace("'", "''") + "'")
    return "".join(out)


def _function(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _to_spark(node: exp.Expr) -> exp.Expr:
    """One DuckDB construct SQLGlot does not translate (or not as ratecard needs it)."""
    if isinstance(node, exp.CTE) and node.args.get("materialized"):
        node.set("materialized", None)  # Spark has no MATERIALIZED; it plans the CTE once
        return node
    if isinstance(node, exp.DataType):
        if node.this in (exp.DataType.Type.INT128, exp.DataType.Type.UINT128):
            # token sums: exact in a DECIMAL(38, 0), as HUGEINT is in DuckDB
            return exp.DataType.build("DECIMAL(38, 0)")
        if node.this == exp.DataType.Type.UBIGINT:
            return exp.DataType.build("DECIMAL(20, 0)")
        return node
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "epoch_us":
            return _function("unix_micros", *node.expressions)
        if name == "make_timestamptz" and len(node.expressions) == 1:
            return _function("timestamp_micros", *node.expressions)
        return node
    if isinstance(node, exp.TimeToStr):
        pattern = node.args["format"]
        assert isinstance(pattern, exp.Literal)
        return _function("date_format", node.this, exp.Literal.string(_java_format(pattern.this)))
    if isinstance(node, exp.JSONObject):
        # DuckDB writes a NULL value as null; Spark's to_json leaves the key out by default
        pairs: list[exp.Expr] = []
        for pair in node.expressions:
            pairs += [pair.this, pair.expression]
        options = _function(
            "map", exp.Literal.string("ignoreNullFields"), exp.Literal.string("false")
        )
        return _function("to_json", _function("named_struct", *pairs), options)
    return node


def _formats(node: exp.Expr) -> exp.Expr:
    """DuckDB's format('... {} ...', ...) as Spark's format_string('... %s ...', ...)."""
    if isinstance(node, exp.Format) and isinstance(node.this, exp.Literal):
        text = node.this.this.replace("%", "%%").replace("{}", "%s")
        return _function("format_string", exp.Literal.string(text), *node.expressions)
    return node


def _string_aggs(node: exp.Expr) -> exp.Expr:
    """string_agg(DISTINCT x, sep): the distinct values joined, in sorted order."""
    if isinstance(node, exp.GroupConcat):
        value = node.this
        if isinstance(value, exp.Distinct):
            value = value.expressions[0]
            collected = _function("collect_set", value)
        else:
            collected = _function("collect_list", value)
        separator = node.args.get("separator") or exp.Literal.string(",")
        return _function("array_join", _function("array_sort", collected), separator)
    return node


def _column_names(columns: exp.Columns) -> list[str]:
    """The names DuckDB's ``COLUMNS(lambda c: ...)`` selects, when the lambda picks from a
    list of names it spells out (``list_contains(token_counts(), c) AND ...``, the macro
    expanded): DuckDB itself filters that list with the lambda. A lambda that names no list
    of its own would depend on the input's columns, which a query alone does not tell."""
    picker = columns.this
    if not isinstance(picker, exp.Lambda):
        raise ValueError(f"COLUMNS without a lambda: {columns.sql('duckdb')}")
    names = [
        literal.this
        for array in picker.find_all(exp.Array)
        for literal in array.expressions
        if isinstance(literal, exp.Literal) and literal.is_string
    ]
    if not names:
        raise ValueError(f"COLUMNS whose lambda names no columns: {columns.sql('duckdb')}")
    candidates = exp.Array(expressions=[exp.Literal.string(n) for n in dict.fromkeys(names)])
    query = f"SELECT list_filter({candidates.sql('duckdb')}, {picker.sql('duckdb')})"
    con = duckdb.connect()
    try:
        (selected,) = con.execute(query).fetchall()[0]
    finally:
        con.close()
    return [str(name) for name in selected]


def _expand_columns(node: exp.Expr) -> exp.Expr:
    """A projection with ``COLUMNS(lambda ...)`` as one projection per column it selects,
    named after the column as DuckDB names them (Spark has no COLUMNS)."""
    if not isinstance(node, exp.Select):
        return node
    projections: list[exp.Expr] = []
    for projection in node.expressions:
        columns = projection.find(exp.Columns)
        if columns is None:
            projections.append(projection)
            continue
        for name in _column_names(columns):
            one = projection.copy()
            one.find(exp.Columns).replace(exp.column(name))
            projections.append(exp.alias_(_unaliased(one), name))
    node.set("expressions", projections)
    return node


def _unaliased(node: exp.Expr) -> exp.Expr:
    return node.this if isinstance(node, exp.Alias) else node


def spark_tree(sql: str) -> exp.Expr:
    """A DuckDB query (with $parameters) as a SQLGlot tree ready to be written as Spark SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = expand_macros(tree).transform(_expand_columns)
    tree = tree.transform(_formats).transform(_string_aggs).transform(_to_spark)
    return tree


def to_spark(sql: str) -> str:
    """A DuckDB query (with $parameters) as Spark SQL (with :parameters)."""
    return spark_tree(sql).sql(dialect="spark", comments=False)
