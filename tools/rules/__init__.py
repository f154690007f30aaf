"""TAP's own compliance rules: what Checkov cannot see in the synthesized Terraform JSON.

Checkov checks resources one at a time and only those that exist, so it never fails a missing
trail or detector, and it skips whole families of settings (see ../shared/pci/uncovered.md).
Each rule here is one pure function over an environment's two synthesized documents, in its own
module exposing `RULE`, with a stable id and the PCI DSS v4.0 requirements it evidences. The
compliance gate (tools/compliance.py) runs them next to Checkov under the same baseline.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

StackName = Literal["environment", "baseline"]
STACK_NAMES: tuple[StackName, ...] = ("environment", "baseline")


@dataclass(frozen=True)
class Stacks:
    """The synthesized JSON of one environment stack and its account baseline stack."""

    environment: Mapping[str, Any]
    baseline: Mapping[str, Any]


@dataclass(frozen=True)
class Evidence:
    """What satisfies a rule, shown to an assessor: one attribute of one resource."""

    stack: str
    resource: str
    attribute: str
    value: str


@dataclass(frozen=True)
class Violation:
    """What breaks a rule; `resource` is a Terraform address, or only the type when it is missing."""

    stack: str
    resource: str
    message: str


@dataclass(frozen=True)
class Outcome:
    evidence: tuple[Evidence, ...] = ()
    violations: tuple[Violation, ...] = ()
    not_applicable: str | None = None

    @property
    def passed(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    requirements: tuple[str, ...]
    source: Literal["aws", "judgement"]
    basis: str
    verify_in_account: str
    check: Callable[[Stacks], Outcome]
    # With source "aws": the AWS Config rules whose published PCI DSS v4.0 mapping (in
    # compliance/pci/config_rules_pci40.json) gives `requirements`; tests hold the two together.
    config_rules: tuple[str, ...] = ()


def _discover() -> dict[str, Rule]:
    """Every public module of this package is one rule, so adding a module is all it takes."""
    found: list[Rule] = []
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            found.append(importlib.import_module(f"{__name__}.{module.name}").RULE)
    ids = [rule.id for rule in found]
    duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise ValueError(f"rule ids used twice: {duplicates}")
    return {rule.id: rule for rule in sorted(found, key=lambda rule: rule.id)}


RULES: Mapping[str, Rule] = _discover()


def evaluate(stacks: Stacks) -> dict[str, Outcome]:
    """Every rule's outcome on one environment, keyed by rule id."""
    return {rule_id: rule.check(stacks) for rule_id, rule in RULES.items()}
