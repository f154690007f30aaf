"""Where the account's security signals go: EventBridge rules into two encrypted SNS topics.

`security-alerts` takes GuardDuty's high-severity findings and the CloudTrail monitoring alarms;
`compliance` takes AWS Config's compliance changes. The rules are created first, so each topic's
policy names exactly the rules (and this account's alarms) that may publish to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktn_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from lib.core.context import BaselineContext
from lib.core.kms import customer_managed_key
from lib.core.topic import secure_topic

TopicName = Literal["security-alerts", "compliance"]
TOPICS: tuple[TopicName, ...] = ("security-alerts", "compliance")


@dataclass(frozen=True, kw_only=True)
class Route:
    """Events matching `pattern` are published to `topic`."""

    topic: TopicName
    description: str
    pattern: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class SecurityAlertsProps:
    # Keyed by a stable name (also the rule's name part), so adding a route moves no other.
    routes: Mapping[str, Route]


class SecurityAlerts(Construct):
    """`topics` by name, their `key`, and `rules` by route name."""

    def __init__(
        self, scope: Construct, construct_id: str, context: BaselineContext, props: SecurityAlertsProps
    ) -> None:
        super().__init__(scope, construct_id)
        names = context.names
        account = {"aws:SourceAccount": context.account_id}
        self.key = key = customer_managed_key(
            self,
            "key",
            context=context,
            purpose="alerts",
            description="TAP account baseline: security-alert and compliance topics",
            statements=[
                {
                    "Sid": "EventBridgeRulesAndAlarmsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": [context.principal("events"), context.principal("cloudwatch")]},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": account},
                }
            ],
        )
        self.rules = {
            route_name: CloudwatchEventRule(
                self,
                f"{route_name.replace('-', '_')}_rule",
                name=names.make("event_rule", route_name),
                description=route.description,
                event_pattern=json.dumps(route.pattern),
            )
            for route_name, route in props.routes.items()
        }
        self.topics: dict[TopicName, SnsTopic] = {
            topic: secure_topic(
                self,
                topic.replace("-", "_"),
                name=names.make("sns_topic", topic),
                key=key,
                context=context,
                rule_arns=[
                    self.rules[route_name].arn for route_name, route in props.routes.items() if route.topic == topic
                ],
                emails=context.config.security_alert_emails,
            )
            for topic in TOPICS
        }
        for route_name, route in props.routes.items():
            CloudwatchEventTarget(
                self,
                f"{route_name.replace('-', '_')}_target",
                rule=self.rules[route_name].name,
                arn=self.topics[route.topic].arn,
            )
