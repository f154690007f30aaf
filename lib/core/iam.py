"""Service roles: trust for one AWS service in this account, plus a least-privilege inline policy."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from lib.core.policies import Statement, assume_role_policy, policy_document


def service_role(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    service: str,
    account_id: str,
    statements: Sequence[Statement] = (),
    policy_name: str = "least-privilege",
    source_arn: str | Sequence[str] | None = None,
    managed_policy_arns: Sequence[str] = (),
) -> IamRole:
    """The role `<construct_id>`, its inline policy `<construct_id>_policy` and any AWS managed policies."""
    role = IamRole(
        scope,
        construct_id,
        name=name,
        description=description,
        assume_role_policy=json.dumps(assume_role_policy(service, account_id, source_arn)),
    )
    if statements:
        IamRolePolicy(
            scope,
            f"{construct_id}_policy",
            role=role.id,
            name=policy_name,
            policy=json.dumps(policy_document(statements)),
        )
    for index, arn in enumerate(managed_policy_arns):
        IamRolePolicyAttachment(scope, f"{construct_id}_managed_{index}", role=role.name, policy_arn=arn)
    return role


def inline_policy(scope: Construct, role_construct_id: str) -> IamRolePolicy:
    """The inline policy `service_role` made for the role `role_construct_id` in `scope` (for
    resources a service checks against the role's permissions when they are created)."""
    found = scope.node.find_child(f"{role_construct_id}_policy")
    if not isinstance(found, IamRolePolicy):
        raise TypeError(f"{role_construct_id}_policy is not an inline role policy")
    return found
