"""The one way TAP creates SNS topics: CMK-encrypted, TLS-only, publishers named explicitly."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from cdktn import TerraformProvider
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.sns_topic import SnsTopic
from cdktn_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktn_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from lib.core.context import AccountContext
from lib.core.policies import Statement, deny_insecure_transport, policy_document


def secure_topic(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    key: KmsKey,
    context: AccountContext,
    rule_arns: Sequence[str],
    emails: Sequence[str],
    provider: TerraformProvider | None = None,
) -> SnsTopic:
    """Publishable only by CloudWatch alarms of this account and the given EventBridge rules (in the
    stack's region unless another region's `provider` is given)."""
    topic = SnsTopic(scope, construct_id, provider=provider, name=name, kms_master_key_id=key.arn)
    publish = {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic.arn}
    statements: list[Statement] = [
        {
            **publish,
            "Sid": "CloudWatchAlarms",
            "Principal": {"Service": context.principal("cloudwatch")},
            "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
        },
        deny_insecure_transport("sns:Publish", [topic.arn]),
    ]
    if rule_arns:
        statements.insert(
            1,
            {
                **publish,
                "Sid": "EventBridgeRules",
                "Principal": {"Service": context.principal("events")},
                "Condition": {"ArnEquals": {"aws:SourceArn": list(rule_arns)}},
            },
        )
    SnsTopicPolicy(
        scope,
        f"{construct_id}_policy",
        provider=provider,
        arn=topic.arn,
        policy=json.dumps(policy_document(statements)),
    )
    # Keyed by the address, so removing one subscriber never re-creates (and re-confirms) the others.
    for email in emails:
        digest = hashlib.sha256(email.lower().encode()).hexdigest()[:10]
        SnsTopicSubscription(
            scope,
            f"{construct_id}_email_{digest}",
            provider=provider,
            topic_arn=topic.arn,
            protocol="email",
            endpoint=email,
        )
    return topic
