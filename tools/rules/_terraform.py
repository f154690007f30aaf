"""Reading synthesized Terraform JSON: resources by type, nested blocks, `${type.name.attr}` references."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.rules import STACK_NAMES, Evidence, Outcome, StackName, Stacks, Violation

# cdktn appends a hash of the construct path to nested resources' names ("data_database_cluster_7928814C").
PATH_HASH = re.compile(r"_[0-9A-F]{8}$")


@dataclass(frozen=True)
class Resource:
    stack: StackName
    kind: str
    name: str
    body: Mapping[str, Any]

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.name}"

    @property
    def path(self) -> str:
        """The construct path joined by "_": the name without its hash, the same in every profile."""
        return PATH_HASH.sub("", self.name)

    def evidence(self, attribute: str, value: Any) -> Evidence:
        return Evidence(self.stack, self.address, attribute, json_text(value))

    def violation(self, message: str) -> Violation:
        return Violation(self.stack, self.address, message)


def document(stacks: Stacks, stack: StackName) -> Mapping[str, Any]:
    return stacks.environment if stack == "environment" else stacks.baseline


def of_kind(stacks: Stacks, kind: str, stack: StackName | None = None) -> list[Resource]:
    """Resources of one type, the environment's first; in one stack when `stack` is given."""
    return [
        Resource(name_of_stack, kind, name, body)
        for name_of_stack in STACK_NAMES
        if stack in (None, name_of_stack)
        for name, body in document(stacks, name_of_stack).get("resource", {}).get(kind, {}).items()
    ]


def blocks(value: Any) -> list[Mapping[str, Any]]:
    """A nested block as cdktn writes it (one object, a list of them, or nothing) as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, Mapping) else list(value)


def first(value: Any) -> Mapping[str, Any]:
    """A nested block that occurs at most once, or an empty one."""
    found = blocks(value)
    return found[0] if found else {}


def referenced_name(token: Any, kind: str) -> str | None:
    """The name of the `kind` resource a `${kind.name.attribute}` token points at, if it is one."""
    match = re.search(rf"\$\{{{re.escape(kind)}\.(\w+)\.", token) if isinstance(token, str) else None
    return match.group(1) if match else None


def resolve(stacks: Stacks, stack: StackName, token: Any, kind: str) -> Resource | None:
    """The resource a token in `stack` points at (references never cross stacks)."""
    name = referenced_name(token, kind)
    body = document(stacks, stack).get("resource", {}).get(kind, {}).get(name) if name else None
    return Resource(stack, kind, name, body) if name and body is not None else None


def json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def outcome(
    evidence: Iterable[Evidence], violations: Iterable[Violation], not_applicable: str | None = None
) -> Outcome:
    """Evidence once each (several checks may find the same attribute), in the order found."""
    return Outcome(tuple(dict.fromkeys(evidence)), tuple(dict.fromkeys(violations)), not_applicable)
