"""The one way TAP creates SQS queues: CMK-encrypted, TLS-only, producers admitted explicitly.

A work queue always comes with its dead-letter queue (`work_queue`), so a message that keeps
failing is kept for inspection instead of being retried forever or lost.
"""

from __future__ import annotations

import json

from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.sqs_queue import SqsQueue
from cdktn_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from lib.core.context import AccountContext
from lib.core.naming import Names
from lib.core.policies import ResourcePolicy, Statement, deny_insecure_transport

MESSAGE_RETENTION_SECONDS = 4 * 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


class SecureQueue(Construct):
    """An SQS queue with a CMK, a TLS-only policy and, for work queues, a redrive to its DLQ."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        key: KmsKey,
        dlq: SecureQueue | None = None,
        max_receive_count: int = 3,
        visibility_seconds: int = 30,
    ) -> None:
        super().__init__(scope, construct_id)
        redrive = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": max_receive_count}) if dlq else None
        self.dlq = dlq
        self.queue: SqsQueue = SqsQueue(
            self,
            "queue",
            name=name,
            kms_master_key_id=key.arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=DLQ_RETENTION_SECONDS if dlq is None else MESSAGE_RETENTION_SECONDS,
            visibility_timeout_seconds=visibility_seconds,
            redrive_policy=redrive,
        )
        policy = SqsQueuePolicy(self, "policy", queue_url=self.queue.url, policy="{}")
        self.policy = ResourcePolicy(
            lambda document: setattr(policy, "policy", document), deny_insecure_transport("sqs:*", [self.queue.arn])
        )

    @property
    def arn(self) -> str:
        return self.queue.arn

    @property
    def dlq_arn(self) -> str:
        """The dead-letter queue's ARN (work queues have one; see `work_queue`)."""
        if self.dlq is None:
            raise ValueError(f"queue {self.node.id} has no dead-letter queue")
        return self.dlq.arn

    @property
    def url(self) -> str:
        return self.queue.url

    def allow(self, *statements: Statement) -> None:
        """Adds producers; every statement is scoped to this queue."""
        self.policy.add(*({**s, "Resource": self.queue.arn} for s in statements))

    def allow_only_sender(self, role_arn: str) -> None:
        """The role may send; every other principal is refused, whatever its IAM policies say."""
        self.allow(
            {"Sid": "Producer", "Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": "sqs:SendMessage"},
            {
                "Sid": "OnlyTheProducer",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:SendMessage",
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": role_arn}},
            },
        )


def sends_from_rule(rule_arn: str, context: AccountContext) -> Statement:
    """An EventBridge rule delivering into a queue (a target or a target's DLQ)."""
    return {
        "Sid": "EventBridgeRule",
        "Effect": "Allow",
        "Principal": {"Service": context.principal("events")},
        "Action": "sqs:SendMessage",
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }


def work_queue(
    scope: Construct,
    construct_id: str,
    *,
    names: Names,
    purpose: str,
    key: KmsKey,
    max_receive_count: int,
    visibility_seconds: int = 30,
) -> SecureQueue:
    """A queue and its DLQ (`<purpose>-dlq`), redriven after `max_receive_count` receives."""
    dlq = SecureQueue(scope, f"{construct_id}_dlq", name=names.make("sqs_queue", purpose, "dlq"), key=key)
    return SecureQueue(
        scope,
        construct_id,
        name=names.make("sqs_queue", purpose),
        key=key,
        dlq=dlq,
        max_receive_count=max_receive_count,
        visibility_seconds=visibility_seconds,
    )
