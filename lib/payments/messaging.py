"""Queues, the payments event bus, routing rules and alert topics (documents 002, 004).

- SQS: the transaction queue and the analytics queue, each with its DLQ (redrive after
  `max_receive_count`), all encrypted with the events key, each admitting only its producers
  (and refusing non-TLS requests).
- EventBridge: the custom bus `<prefix>-payments-<suffix>` encrypted with the events key. On it,
  `payment.succeeded` goes to the analytics queue and `payment.failed` to the alerts and
  failed-transactions topics; on the default bus, RDS failover events go to the alerts topic.
  Every target has a retry policy and its own DLQ.
- SNS: alerts and failed-transactions topics, encrypted, email subscriptions from configuration,
  publishable only by CloudWatch (alarms, this account) and EventBridge (these rules).
"""

from __future__ import annotations

import json
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
from constructs import Construct

from lib.config import PaymentsConfig
from lib.contracts import payments as contract
from lib.core.context import StackContext
from lib.core.queue import SecureQueue, sends_from_rule, work_queue
from lib.core.topic import secure_topic

RULE_PATTERNS: dict[str, dict[str, Any]] = {
    "payment_succeeded": {"source": [contract.EVENT_SOURCE], "detail-type": [contract.PAYMENT_SUCCEEDED]},
    "payment_failed": {"source": [contract.EVENT_SOURCE], "detail-type": [contract.PAYMENT_FAILED]},
    "rds_failover": {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Cluster Event", "RDS DB Instance Event"],
        "detail": {"EventCategories": ["failover"]},
    },
}
# Which topics each rule publishes to.
PUBLISHERS = {"alerts": ["payment_failed", "rds_failover"], "failed-transactions": ["payment_failed"]}
# Six times the processing function's timeout, as AWS recommends for event source mappings.
TRANSACTION_VISIBILITY_SECONDS = 180


class Messaging(Construct):
    """`transaction_queue`, `analytics_queue`, `bus`, `rules` and `topics`, wired by the payments tier."""

    def __init__(
        self, scope: Construct, construct_id: str, context: StackContext, config: PaymentsConfig, events_key: KmsKey
    ) -> None:
        super().__init__(scope, construct_id)
        self._context, self._config, self._key = context, config, events_key
        names = context.names
        self.transaction_queue = work_queue(
            self,
            "transaction_queue",
            names=names,
            purpose="transactions",
            key=events_key,
            max_receive_count=config.max_receive_count,
            visibility_seconds=TRANSACTION_VISIBILITY_SECONDS,
        )
        self.analytics_queue = work_queue(
            self,
            "analytics_queue",
            names=names,
            purpose="analytics",
            key=events_key,
            max_receive_count=config.max_receive_count,
        )
        self.bus = CloudwatchEventBus(
            self,
            "bus",
            name=names.make("event_bus", "payments"),
            kms_key_identifier=events_key.arn,
            description="Payment lifecycle events",
        )
        self.rules = {name: self._rule(name, pattern) for name, pattern in RULE_PATTERNS.items()}
        # Each rule target's dead-letter queue, by "<rule>_to_<target>".
        self.target_dead_letters: dict[str, SecureQueue] = {}
        self._target("payment_succeeded", "analytics", self.analytics_queue.arn)
        self.analytics_queue.allow(sends_from_rule(self.rules["payment_succeeded"].arn, context))
        self.topics: dict[str, SnsTopic] = {
            topic: secure_topic(
                self,
                topic.replace("-", "_"),
                name=names.make("sns_topic", topic),
                key=events_key,
                context=context,
                rule_arns=[self.rules[r].arn for r in rules],
                emails=config.alert_emails,
            )
            for topic, rules in PUBLISHERS.items()
        }
        for topic, rules in PUBLISHERS.items():
            for rule in rules:
                self._target(rule, topic, self.topics[topic].arn)

    def _rule(self, name: str, pattern: dict[str, Any]) -> CloudwatchEventRule:
        # Payment events are on the custom bus; RDS publishes to the account's default bus.
        bus = None if pattern["source"] == ["aws.rds"] else self.bus.name
        return CloudwatchEventRule(
            self,
            name,
            name=self._context.names.make("event_rule", name.replace("_", "-")),
            description=f"Routes {name.replace('_', ' ')} events",
            event_bus_name=bus,
            event_pattern=json.dumps(pattern),
        )

    def _target(self, rule_name: str, target_name: str, target_arn: str) -> None:
        construct_id = f"{rule_name}_to_{target_name.replace('-', '_')}"
        dlq = self.target_dead_letters[construct_id] = SecureQueue(
            self,
            f"{construct_id}_dlq",
            name=self._context.names.make("sqs_queue", "events", rule_name.replace("_", "-"), target_name),
            key=self._key,
        )
        rule = self.rules[rule_name]
        dlq.allow(sends_from_rule(rule.arn, self._context))
        CloudwatchEventTarget(
            self,
            construct_id,
            rule=rule.name,
            event_bus_name=rule.event_bus_name,
            target_id=target_name,
            arn=target_arn,
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_retry_attempts=self._config.event_retry_attempts,
                maximum_event_age_in_seconds=self._config.event_max_age_seconds,
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=dlq.arn),
        )
