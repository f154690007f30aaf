"""Reading saved Logs Insights queries (`lib/core/queries.py`) against real log lines.

A query is right for TAP's logs only if every field it reads is in the lines the handlers write,
and its `filter` conditions select them. This reads the small subset of the query language TAP
uses: `fields`, `filter` with `=` joined by `and`, `stats ... by`, `sort`, `limit` and `parse ... as`.
"""

from __future__ import annotations

import re
from typing import Any

from lib.core.queries import Query

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_IDENTIFIER = re.compile(r"[@A-Za-z_][\w.@]*(?!\w*\()")
_KEYWORDS = frozenset({"fields", "filter", "stats", "by", "sort", "desc", "asc", "limit", "parse", "as", "and", "or"})
_EQUALS = re.compile(r'^([\w.]+) = "([^"]*)"$')


def _commands(query: Query) -> list[str]:
    return [command.strip() for command in query.text.split("|")]


def defined_names(query: Query) -> set[str]:
    """Names the query makes itself: `as` aliases, and what `parse` extracts."""
    names: set[str] = set()
    for command in _commands(query):
        for alias in re.findall(r"\bas (\w+(?:\s*,\s*\w+)*)", _STRING.sub('""', command)):
            names.update(name.strip() for name in alias.split(",") if name.strip())
    return names


def fields_read(query: Query) -> set[str]:
    """Log fields the query reads: identifiers that are not keywords, functions, Logs Insights'
    own `@` fields, or names the query defines."""
    found: set[str] = set()
    for command in _commands(query):
        text = _STRING.sub('""', command)
        found.update(
            token
            for token in _IDENTIFIER.findall(text)
            if token not in _KEYWORDS and not token.startswith("@") and not token.isdigit()
        )
    return found - defined_names(query)


def conditions(query: Query) -> dict[str, str]:
    """Every `field = "value"` the query's filters require."""
    required: dict[str, str] = {}
    for command in _commands(query):
        if command.startswith("filter "):
            for part in command.removeprefix("filter ").split(" and "):
                match = _EQUALS.match(part.strip())
                assert match, f"unsupported filter condition {part!r}"
                required[match.group(1)] = match.group(2)
    return required


def value(line: dict[str, Any], path: str) -> Any:
    current: Any = line
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def selects(query: Query, line: dict[str, Any]) -> bool:
    """The line has every field the query reads, and its filters keep it."""
    return all(value(line, field) is not None for field in fields_read(query)) and all(
        value(line, field) == wanted for field, wanted in conditions(query).items()
    )
