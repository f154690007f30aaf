"""IAM policy documents shared by the layers (kept as plain dicts, rendered with json.dumps)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

Statement = dict[str, Any]


def policy_document(statements: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def assume_role_policy(service: str, account_id: str, source_arn: str | None = None) -> dict[str, Any]:
    """Trust for one AWS service, bound to this account (and source ARN) against confused deputies."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return policy_document(
        [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", "Condition": condition}]
    )


def deny_insecure_transport(action: str, resources: Sequence[str]) -> Statement:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": list(resources),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class ResourcePolicy:
    """A resource policy other layers extend; re-rendered onto its resource at every addition.

    Lets the layer that needs a delivery (a log service, a producer, a rule) grant it on a
    resource another layer owns, without reaching into that layer.
    """

    def __init__(self, render_into: Callable[[str], None], *statements: Statement) -> None:
        self._render_into = render_into
        self._statements: list[Statement] = list(statements)
        self._render_into(self.document())

    def document(self) -> str:
        return json.dumps(policy_document(self._statements))

    def add(self, *statements: Statement) -> None:
        self._statements.extend(statements)
        self._render_into(self.document())
