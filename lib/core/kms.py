"""The one way TAP creates a customer-managed KMS key: rotated yearly, aliased, policy stated in full.

Every key policy starts with the account root (so IAM can delegate and the key never becomes
unmanageable); the caller adds the services that may use the key and under which conditions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktn import TerraformProvider
from cdktn_provider_aws.kms_alias import KmsAlias
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.core.context import AccountContext
from lib.core.policies import KEY_USE_ACTIONS, Statement, key_root_statement, policy_document


def customer_managed_key(
    scope: Construct,
    construct_id: str,
    *,
    context: AccountContext,
    purpose: str,
    description: str,
    statements: Sequence[Statement],
    provider: TerraformProvider | None = None,
) -> KmsKey:
    """The key `<construct_id>` and its alias `<construct_id>_alias` (`alias/<prefix>-<purpose>-<suffix>`),
    in the stack's region unless another region's `provider` is given."""
    alias = context.names.alias(purpose)
    key = KmsKey(
        scope,
        construct_id,
        provider=provider,
        description=description,
        enable_key_rotation=True,
        rotation_period_in_days=365,
        deletion_window_in_days=context.lifecycle.key_deletion_days,
        policy=json.dumps(policy_document([key_root_statement(context.account_root), *statements])),
        tags={"Name": alias.removeprefix("alias/")},
    )
    KmsAlias(scope, f"{construct_id}_alias", provider=provider, name=alias, target_key_id=key.key_id)
    return key


def log_group_statement(context: AccountContext, sid: str, log_group_name: str) -> Statement:
    """CloudWatch Logs may use the key for exactly one log group (by its encryption context)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": context.principal(f"logs.{context.region_name}")},
        "Action": list(KEY_USE_ACTIONS),
        "Resource": "*",
        "Condition": {
            "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": context.arn("logs", f"log-group:{log_group_name}")}
        },
    }
