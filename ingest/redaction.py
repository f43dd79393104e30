"""What counts as a secret in a usage log, and how it is redacted: one definition, used by
the ingest SQL (the ``redact_secrets`` macro, ingest/sql/macros.sql) and by Python (damaged
lines read by the fallback reader, messages that quote a file).

ratecard never keeps an API key. A loaded call keeps only its key's fingerprint
(``api_key_id``); everything ratecard keeps as text of a record it did not load (the raw
line, the reason that quotes a value) and the tags of loaded calls pass through
:data:`PATTERNS` first. A secret is:

- the value of a JSON member whose name ends in ``api key`` (``api_key``, ``apiKey``,
  ``x-api-key``, ``OPENAI_API_KEY``; ``_``, ``-``, ``.`` or a space between the words, or
  none), ``authorization``, ``token``, ``secret`` or ``password`` (``passwd``), in any case
  and with any character written as a ``\\u`` escape. A string value is redacted to its
  closing quote, escaped quotes included, or to the end of the text when the line was cut
  inside it; a number, ``true``/``false``/``null`` or a string inside a string (JSON logged
  as text) to the next ``,``, ``}`` or ``]``; an object or array to the end of the text;
- the same names outside JSON, as in a header or a query string (``x-api-key: …``,
  ``Authorization: Basic …``, ``?api_key=…``), to the end of the value;
- a bearer token anywhere (``Bearer …``);
- a string shaped like a provider's key anywhere: ``sk-``/``sk_``/``rk_`` followed by at least
  six key characters (OpenAI, Anthropic, Stripe-style keys; ``sk-demo-…`` in the sample
  traffic), Slack ``xox?-`` tokens, GitHub ``ghp_``/``github_pat_`` tokens, AWS access key
  ids (``AKIA…``) and Google API keys (``AIza…``).

Each pattern is written in the syntax Python's ``re`` and DuckDB's RE2 share (no
look-behind, ``\\1`` in replacements), so both redact alike; the secrets test checks both
over a corpus of hostile lines. Redaction can only remove text: a word that looks like a key
(``sk-learn-model``) is redacted too, in a quarantined line, which costs nothing.
"""

from __future__ import annotations

import re
from typing import AnyStr

REDACTED = "<redacted>"


def _letter(char: str) -> str:
    """One character of a member name as JSON may write it: itself (any case, the pattern is
    case-insensitive) or a ``\\u`` escape of either case."""
    escapes = {f"{ord(c):04x}" for c in (char.lower(), char.upper())}
    return "(?:" + re.escape(char) + "".join(f"|\\\\u{e}" for e in sorted(escapes)) + ")"


def _word(text: str) -> str:
    return "".join(_letter(c) for c in text)


_SEPARATOR = "(?:[-_. ]|\\\\u00(?:2d|5f|2e|20))?"
_NAMES = "|".join(
    [
        _word("api") + _SEPARATOR + _word("key"),
        _word("authorization"),
        _word("token"),
        _word("secret"),
        _word("password"),
        _word("passwd"),
    ]
)
"""The ends of a secret member's name, each letter possibly \\u-escaped."""

_PLAIN_NAMES = "(?:api[-_. ]?key|authorization|token|secret|password|passwd)"

_NAME = '(?:[^"\\\\]|\\\\[\\s\\S])*?(?:' + _NAMES + ")"
"""A member name's text (any prefix) that ends in a secret's name."""
_VALUE = '(?:"(?:[^"\\\\]|\\\\[\\s\\S]?)*"?|[\\[{][\\s\\S]*|[^,}\\]\\s]+)'
"""A JSON value as far as it goes: a string to its closing quote (escaped quotes included) or
to the end; an object or array to the end; anything else to the next , } or ]."""

PATTERNS: tuple[tuple[str, str], ...] = (
    # a JSON member: the name, then the value. The name's quotes may be escaped, as in JSON
    # logged inside a string.
    ('(?i)(\\\\*"' + _NAME + '\\\\*"\\s*:\\s*)' + _VALUE, '\\1"' + REDACTED + '"'),
    # an OpenTelemetry attribute: {"key": "api_key", "value": {"stringValue": ...}}
    (
        '(?i)("key"\\s*:\\s*"'
        + _NAME
        + '"\\s*,\\s*"value"\\s*:\\s*\\{\\s*"[a-z]+"\\s*:\\s*)'
        + _VALUE,
        '\\1"' + REDACTED + '"',
    ),
    # the same names outside JSON: a header line, a query string, an environment dump
    (
        "(?i)(\\b[a-z0-9_-]*"
        + _PLAIN_NAMES
        + "\\s*[:=]\\s*)[\"']?(?:(?:bearer|basic|token)\\s+)?[^\\s&,;\"'}]+",
        "\\1" + REDACTED,
    ),
    # a bearer token, wherever it is
    ("(?i)(\\bbearer\\s+)[a-z0-9._~+/=-]+", "\\1" + REDACTED),
    # strings shaped like a provider's key, wherever they are
    (
        "\\b(?:sk-|sk_|rk_|xox[abposr]-|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_)[A-Za-z0-9_-]{6,}"
        "|\\bAKIA[0-9A-Z]{16}|\\bAIza[0-9A-Za-z_-]{30,}",
        REDACTED,
    ),
)
"""(pattern, replacement) pairs, applied in this order: the member patterns first, so that a
key's whole value goes, not only the part that looks like a key."""

_COMPILED = tuple((re.compile(pattern), replacement) for pattern, replacement in PATTERNS)
_COMPILED_BYTES = tuple(
    (re.compile(pattern.encode()), replacement.encode()) for pattern, replacement in PATTERNS
)


HINT = (
    "(?i)key|auth|token|secret|passw|bearer|\\\\u|sk-|sk_|rk_|xox|gh[pousr]_|github_pat_|akia|aiza"
)
"""A text without any of these holds no secret of :data:`PATTERNS` (every match contains one):
one quick scan spares the patterns' scans for nearly every text."""
_HINT = re.compile(HINT)
_HINT_BYTES = re.compile(HINT.encode())


def redact(text: str) -> str:
    """``text`` with every secret of :data:`PATTERNS` replaced by ``<redacted>``."""
    return _redacted(text, _HINT, _COMPILED)


def redact_bytes(data: bytes) -> bytes:
    """The same redaction on raw bytes, before they are decoded: invalid UTF-8 in or around
    a key cannot hide it."""
    return _redacted(data, _HINT_BYTES, _COMPILED_BYTES)


def _redacted(
    data: AnyStr,
    hint: re.Pattern[AnyStr],
    patterns: tuple[tuple[re.Pattern[AnyStr], AnyStr], ...],
) -> AnyStr:
    if not hint.search(data):
        return data
    for pattern, replacement in patterns:
        data = pattern.sub(replacement, data)
    return data


def sql_redaction(argument: str) -> str:
    """The SQL expression that redacts the text ``argument`` (a macro parameter's name) with
    :data:`PATTERNS`, for the ``redact_secrets`` macro: the patterns are code, not values."""
    expression = argument
    for pattern, replacement in PATTERNS:
        expression = (
            f"regexp_replace({expression}, {_literal(pattern)}, {_literal(replacement)}, 'g')"
        )
    hint = f"regexp_matches({argument}, {_literal(HINT)})"
    return f"CASE WHEN {hint} THEN {expression} ELSE {argument} END"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
