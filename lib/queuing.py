"""Queues, the payments event bus, routing rules and alert topics (documents 002, 004).

- SQS: the transaction queue and the analytics queue, each with its DLQ (redrive after
  `max_receive_count`), all encrypted with the events key, each admitting only its producers
  (and refusing non-TLS requests).
- EventBridge: the custom bus `payments-<suffix>` encrypted with the events key. On it,
  `payment.succeeded` goes to the analytics queue and `payment.failed` to the alerts and
  failed-transactions topics; on the default bus, RDS failover events go to the alerts topic.
  Every target has a retry policy and its own DLQ.
- SNS: alerts and failed-transactions topics, encrypted, email subscriptions from configuration,
  publishable only by CloudWatch (alarms, this account) and EventBridge (these rules).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktn_provider_aws.cloudwatch_event_bus import CloudwatchEventBus
from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
)
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.sns_topic import SnsTopic
from cdktn_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktn_provider_aws.sns_topic_subscription import SnsTopicSubscription
from cdktn_provider_aws.sqs_queue import SqsQueue
from cdktn_provider_aws.sqs_queue_policy import SqsQueuePolicy
from constructs import Construct

from lib.config import PaymentsConfig
from lib.naming import Names
from lib.policies import ResourcePolicy, Statement, deny_insecure_transport, policy_document

EVENT_SOURCE = "tap.payments"  # the payment functions' events (payments_common.EVENT_SOURCE)
RULE_PATTERNS: dict[str, dict[str, Any]] = {
    "payment_succeeded": {"source": [EVENT_SOURCE], "detail-type": ["payment.succeeded"]},
    "payment_failed": {"source": [EVENT_SOURCE], "detail-type": ["payment.failed"]},
    "rds_failover": {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Cluster Event", "RDS DB Instance Event"],
        "detail": {"EventCategories": ["failover"]},
    },
}
MESSAGE_RETENTION_SECONDS = 4 * 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
# Six times the processing function's timeout, as AWS recommends for event source mappings.
TRANSACTION_VISIBILITY_SECONDS = 180


def sends_from_rule(rule_arn: str) -> Statement:
    return {
        "Sid": "EventBridgeRule",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }


class SecureQueue(Construct):
    """An SQS queue with the events key, TLS-only policy and (optionally) a redrive DLQ."""

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


@dataclass(frozen=True, kw_only=True)
class MessagingProps:
    config: PaymentsConfig
    names: Names
    events_key: KmsKey
    account_id: str


class Messaging(Construct):
    """`transaction_queue`, `analytics_queue`, `bus` and the topics are wired by the stack."""

    def __init__(self, scope: Construct, construct_id: str, props: MessagingProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        names, key, config = props.names, props.events_key, props.config
        self.transaction_dlq = SecureQueue(
            self, "transaction_dlq", name=names.make("sqs_queue", "transactions-dlq"), key=key
        )
        self.transaction_queue = SecureQueue(
            self,
            "transaction_queue",
            name=names.make("sqs_queue", "transactions"),
            key=key,
            dlq=self.transaction_dlq,
            max_receive_count=config.max_receive_count,
            visibility_seconds=TRANSACTION_VISIBILITY_SECONDS,
        )
        self.analytics_dlq = SecureQueue(self, "analytics_dlq", name=names.make("sqs_queue", "analytics-dlq"), key=key)
        self.analytics_queue = SecureQueue(
            self,
            "analytics_queue",
            name=names.make("sqs_queue", "analytics"),
            key=key,
            dlq=self.analytics_dlq,
            max_receive_count=config.max_receive_count,
        )
        self.bus = CloudwatchEventBus(
            self,
            "bus",
            name=names.record("event_bus", f"payments-{names.suffix}"),
            kms_key_identifier=key.arn,
            description="Payment lifecycle events",
        )
        self.rules = {name: self._rule(name, pattern) for name, pattern in RULE_PATTERNS.items()}
        self._target("payment_succeeded", "analytics", self.analytics_queue.queue.arn)
        self.analytics_queue.allow(sends_from_rule(self.rules["payment_succeeded"].arn))
        publishers = {"alerts": ["payment_failed", "rds_failover"], "failed-transactions": ["payment_failed"]}
        self.topics = {
            topic: self._topic(topic, [self.rules[r].arn for r in rules]) for topic, rules in publishers.items()
        }
        for topic, rules in publishers.items():
            for rule in rules:
                self._target(rule, topic, self.topics[topic].arn)

    def _topic(self, purpose: str, rule_arns: list[str]) -> SnsTopic:
        names, construct_id, account = self._props.names, purpose.replace("-", "_"), self._props.account_id
        topic = SnsTopic(
            self, construct_id, name=names.make("sns_topic", purpose), kms_master_key_id=self._props.events_key.arn
        )
        publish = {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic.arn}
        statements: list[Statement] = [
            {
                **publish,
                "Sid": "CloudWatchAlarms",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            },
            {
                **publish,
                "Sid": "EventBridgeRules",
                "Principal": {"Service": "events.amazonaws.com"},
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}},
            },
            deny_insecure_transport("sns:Publish", [topic.arn]),
        ]
        SnsTopicPolicy(self, f"{construct_id}_policy", arn=topic.arn, policy=json.dumps(policy_document(statements)))
        for index, email in enumerate(self._props.config.alert_emails):
            SnsTopicSubscription(
                self, f"{construct_id}_email_{index}", topic_arn=topic.arn, protocol="email", endpoint=email
            )
        return topic

    def _rule(self, name: str, pattern: dict[str, Any]) -> CloudwatchEventRule:
        # Payment events are on the custom bus; RDS publishes to the account's default bus.
        bus = None if pattern["source"] == ["aws.rds"] else self.bus.name
        return CloudwatchEventRule(
            self,
            name,
            name=self._props.names.make("event_rule", name.replace("_", "-")),
            description=f"Routes {name.replace('_', ' ')} events",
            event_bus_name=bus,
            event_pattern=json.dumps(pattern),
        )

    def _target(self, rule_name: str, target_name: str, target_arn: str) -> None:
        construct_id = f"{rule_name}_to_{target_name.replace('-', '_')}"
        dlq = SecureQueue(
            self,
            f"{construct_id}_dlq",
            name=self._props.names.make("sqs_queue", "events", rule_name.replace("_", "-"), target_name),
            key=self._props.events_key,
        )
        rule = self.rules[rule_name]
        dlq.allow(sends_from_rule(rule.arn))
        CloudwatchEventTarget(
            self,
            construct_id,
            rule=rule.name,
            event_bus_name=rule.event_bus_name,
            target_id=target_name,
            arn=target_arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_retry_attempts=self._props.config.event_retry_attempts,
                maximum_event_age_in_seconds=self._props.config.event_max_age_seconds,
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=dlq.queue.arn),
        )
