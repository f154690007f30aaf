"""Saved CloudWatch Logs Insights queries (document 002's security analysis).

A tier saves the questions about what it owns (`Tier.save_query`); the observability tier creates
each as a query definition under `<prefix>-<suffix>/<tier>/`, so they appear together in the
console's saved queries. A query names the fields of the logs it reads: TAP's own structured lines
(tests check every field against lines the real handlers write) or an AWS format TAP configures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Query:
    """What the query answers, the log groups it reads (names), and its text."""

    title: str
    log_groups: Sequence[str]
    text: str


def lines(*commands: str) -> str:
    """A query's commands, one per line, joined by Logs Insights' pipe."""
    return "\n| ".join(commands)
