"""The one error type for invalid configuration, carrying every violation found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Violation:
    """One broken rule: which field or resource, the offending value, the rule, and the rule's id.

    `source` says where the value came from when it was not the profile (a config file and key,
    or an environment variable), so the user knows what to edit.
    """

    field: str
    value: object
    rule: str
    rule_id: str = ""
    source: str | None = None

    def __str__(self) -> str:
        where = f" (from {self.source})" if self.source else ""
        ident = f" [{self.rule_id}]" if self.rule_id else ""
        return f"{self.field} = {self.value!r}{where}: {self.rule}{ident}"

    def from_source(self, source: str | None) -> Violation:
        return replace(self, source=source)


class ConfigError(ValueError):
    """Raised before anything is written, listing all violations at once."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(f"invalid TAP configuration ({len(self.violations)} problem(s)):\n{lines}")
