"""The one error type for invalid configuration, carrying every violation found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One broken rule: which field or resource, the offending value, and the rule."""

    field: str
    value: object
    rule: str

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}: {self.rule}"


class ConfigError(ValueError):
    """Raised before anything is written, listing all violations at once."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(f"invalid TAP configuration ({len(self.violations)} problem(s)):\n{lines}")
