"""IAM policy documents shared by the layers (kept as plain dicts, rendered with json.dumps)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

Statement = dict[str, Any]


def policy_document(statements: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def assume_role_policy(
    service: str, account_id: str | None, source_arn: str | Sequence[str] | None = None
) -> dict[str, Any]:
    """Trust for one AWS service, bound to this account (and source ARN) against confused deputies.

    `account_id` None only for services that supply no aws:SourceAccount when they assume the role.
    """
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    condition: dict[str, Any] = {}
    if account_id is not None:
        condition["StringEquals"] = {"aws:SourceAccount": account_id}
    if source_arn is not None:
        arns = [source_arn] if isinstance(source_arn, str) else list(source_arn)
        condition["ArnLike"] = {"aws:SourceArn": arns[0] if len(arns) == 1 else arns}
    if condition:
        statement["Condition"] = condition
    return policy_document([statement])


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


def via_services(hosts: Sequence[str]) -> dict[str, Any]:
    """The condition that limits KMS use to requests made through these service endpoints."""
    return {"StringEquals": {"kms:ViaService": hosts[0] if len(hosts) == 1 else list(hosts)}}


def key_use(sid: str, actions: Sequence[str], key_arn: str | Sequence[str], hosts: Sequence[str]) -> Statement:
    """Use of a customer-managed key only through the named services (never directly)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": key_arn if isinstance(key_arn, str) else list(key_arn),
        "Condition": via_services(hosts),
    }


KEY_USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


def key_root_statement(account_root: str) -> Statement:
    """The account root administers the key, so IAM can delegate and the key never becomes unmanageable."""
    return {
        "Sid": "AccountRootManagesKey",
        "Effect": "Allow",
        "Principal": {"AWS": account_root},
        "Action": "kms:*",
        "Resource": "*",
    }


def key_via_services_statement(
    account_root: str, account_id: str, hosts: Sequence[str], actions: Sequence[str] = KEY_USE_ACTIONS
) -> Statement:
    """This account's principals may use the key, but only through these services."""
    condition = via_services(hosts)
    condition["StringEquals"]["kms:CallerAccount"] = account_id
    return {
        "Sid": "UseOnlyThroughItsServices",
        "Effect": "Allow",
        "Principal": {"AWS": account_root},
        "Action": list(actions),
        "Resource": "*",
        "Condition": condition,
    }
