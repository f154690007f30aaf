"""A small evaluator of the CloudWatch Logs JSON filter patterns TAP writes (no emulator reads them).

The subset, per the CloudWatch Logs "Filter pattern syntax" page: `{ ... }` with `$.field = value`,
`!=`, numeric `>`, `>=`, `<`, `<=`, `NOT EXISTS`, `&&`, `||`, parentheses and `*` wildcards in
string values.
"""

from __future__ import annotations

import re
from typing import Any

TOKEN = re.compile(r'\s*(\(|\)|&&|\|\||!=|>=|<=|>|<|=|NOT EXISTS|\$\.[\w.]+|"[^"]*"|[\w.*-]+)')
NUMERIC = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}
Record = dict[str, Any]


def tokens(pattern: str) -> list[str]:
    body = pattern.strip()
    assert body.startswith("{") and body.endswith("}"), pattern
    body = body[1:-1].strip()
    found, position = [], 0
    while position < len(body):
        match = TOKEN.match(body, position)
        assert match is not None, f"cannot read {body[position:]!r} in {pattern!r}"
        found.append(match.group(1))
        position = match.end()
        while position < len(body) and body[position].isspace():
            position += 1
    return found


def lookup(record: Record, path: str) -> tuple[bool, Any]:
    value: Any = record
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def matches(pattern: str, record: Record) -> bool:
    """Recursive descent: `||` of `&&` of terms; a term is a comparison or a parenthesized expression."""
    items, index = tokens(pattern), 0

    def expression() -> bool:
        nonlocal index
        result = conjunction()
        while index < len(items) and items[index] == "||":
            index += 1
            result = conjunction() or result
        return result

    def conjunction() -> bool:
        nonlocal index
        result = term()
        while index < len(items) and items[index] == "&&":
            index += 1
            result = term() and result
        return result

    def term() -> bool:
        nonlocal index
        if items[index] == "(":
            index += 1
            result = expression()
            assert items[index] == ")", pattern
            index += 1
            return result
        field, operator = items[index], items[index + 1]
        index += 2
        exists, value = lookup(record, field)
        if operator == "NOT EXISTS":
            return not exists
        expected = items[index].strip('"')
        index += 1
        if operator in NUMERIC:
            return exists and isinstance(value, int | float) and NUMERIC[operator](float(value), float(expected))
        # CloudWatch's only wildcard is "*" (no "?" or character classes).
        wildcard = "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", expected))
        equal = exists and re.fullmatch(wildcard, str(value)) is not None
        return equal if operator == "=" else not equal

    result = expression()
    assert index == len(items), f"unread tokens in {pattern!r}"
    return result
