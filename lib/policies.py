"""IAM policy documents shared by the layers (kept as plain dicts, rendered with json.dumps)."""

from __future__ import annotations

from collections.abc import Sequence
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
