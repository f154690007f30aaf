"""Hand-written Terraform JSON for rule tests: only the attributes a rule reads."""

from __future__ import annotations

from typing import Any

from tools.rules import RULES, Outcome, Stacks

Body = dict[str, Any]


def stacks(
    environment: dict[str, dict[str, Body]] | None = None, baseline: dict[str, dict[str, Body]] | None = None
) -> Stacks:
    """Two documents from `{type: {name: body}}` maps."""
    return Stacks({"resource": environment or {}}, {"resource": baseline or {}})


def run(
    rule_id: str,
    environment: dict[str, dict[str, Body]] | None = None,
    baseline: dict[str, dict[str, Body]] | None = None,
) -> Outcome:
    return RULES[rule_id].check(stacks(environment, baseline))


def violated(outcome: Outcome) -> list[str]:
    """The resources an outcome's violations name, in order."""
    return [violation.resource for violation in outcome.violations]


def evidenced(outcome: Outcome) -> set[str]:
    return {evidence.resource for evidence in outcome.evidence}
