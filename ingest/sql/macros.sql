-- Helpers for the staging query, created as temporary macros on the ingesting connection.

-- trim(x), DuckDB's (spaces only, both ends), but only called when the string ends with a
-- space: trim walks every character of the string to find its last non-space. A string
-- that starts with a space and does not end with one, as every `data: {...}` event of a
-- stream does once `data:` is cut off, needs only ltrim, which stops at the first
-- non-space. The ends alone are a constant-time test. The same result for every string,
-- NULL included (ADR 0014).
CREATE OR REPLACE TEMP MACRO trim_spaces(x) AS
    CASE WHEN ends_with(x, ' ') THEN trim(x) WHEN starts_with(x, ' ') THEN ltrim(x) ELSE x END;

-- A JSONL line parsed into `shape` (a json_transform structure), once: a line in braces, as
-- nearly every record is, under TRY; any other line only if it is valid JSON (an object with
-- blanks around it, an array). Checking every line with json_valid first would parse it
-- twice. A malformed line in braces makes DuckDB redo its 2,048-line vector row by row,
-- slower but the same result; truncated lines, the usual kind, end without '}' (ADR 0013).
-- NULL for a line that is not JSON.
CREATE OR REPLACE TEMP MACRO json_line(line, shape) AS
    CASE WHEN starts_with(line, '{') AND ends_with(line, '}')
             THEN TRY(json_transform(line, shape))
         WHEN json_valid(line) THEN json_transform(line, shape)
    END;

-- Whether a line is JSON, given what json_line made of it.
CREATE OR REPLACE TEMP MACRO json_line_valid(line, parsed) AS
    CASE WHEN parsed IS NOT NULL THEN true ELSE json_valid(line) END;

-- Why a line cannot be a record, or NULL: not JSON, or JSON but not an object. The ltrim,
-- which reads the whole line, only for lines not starting with '{' (ADR 0014).
CREATE OR REPLACE TEMP MACRO json_line_problem(line, is_json) AS
    CASE
        WHEN NOT is_json THEN 'not valid JSON (truncated or malformed line)'
        WHEN NOT starts_with(line, '{')
             AND NOT starts_with(ltrim(line, ' ' || chr(9) || chr(13)), '{')
            THEN 'not a JSON object'
    END;

-- Why a whole-number token count cannot be a call's, or NULL: negative, or above most
-- (usage.MAX_TOKENS); value is the count as a BIGINT, NULL when it is beyond one.
CREATE OR REPLACE TEMP MACRO count_out_of_range(label, txt, value, most) AS
    CASE
        WHEN starts_with(txt, '-') AND coalesce(value, -1) < 0
            THEN label || ' tokens are negative: ' || txt
        WHEN coalesce(value, most + 1) > most
            THEN format('{} tokens are too large: {} (at most {} in one call)', label, txt, most)
    END;

-- x with every secret replaced by <redacted>: the patterns of ingest/redaction.py (the values
-- of api_key-like members in any spelling or escaping, bearer tokens, key-shaped strings),
-- filled in when the macros are created. For everything ingest keeps as text of a record it
-- does not load, and for tags.
CREATE OR REPLACE TEMP MACRO redact_secrets(x) AS __REDACT_SECRETS__;
