"""The observability tier: every alarm the other tiers asked for, sent to the environment's alarms topic.

Tiers describe the alarms on what they own (`Tier.watch`, `core/alarms.py`); this tier, built
last, creates each as a CloudWatch alarm whose alarm and OK actions go to the encrypted alarms
topic (the team's channel), and composes those marked `pages` into "payments degraded" (a
payment API's p99 latency, a failed payment, or a message in a dead-letter queue), whose actions
alone go to the page topic: the one alarm the person on call is paged with first, however many
of its parts fire. The stack lists no alarm by hand. The environment's dashboard has a row per
tier: a graph for every alarm (its threshold drawn) and the graphs the tier adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktn_provider_aws.cloudwatch_composite_alarm import CloudwatchCompositeAlarm
from cdktn_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from lib.core import dashboard
from lib.core.context import StackContext
from lib.core.dashboard import Graph
from lib.core.kms import customer_managed_key
from lib.core.tier import Tier
from lib.core.topic import secure_topic


@dataclass(frozen=True, kw_only=True)
class ObservabilityProps:
    # The tiers built before this one: their alarms are created here.
    tiers: Sequence[Tier]


class ObservabilityTier(Tier):
    """`topic`, `metric_alarms` by "<tier>_<alarm>", and `degraded` with its `page_topic` (None
    without a paging alarm)."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: ObservabilityProps) -> None:
        super().__init__(scope, construct_id, context)
        names = context.names
        key = customer_managed_key(
            self,
            "key",
            context=context,
            purpose="alarms",
            description="The alarms topic: CloudWatch alarms of this account publish into it",
            statements=[
                {
                    "Sid": "CloudWatchAlarmsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": context.principal("cloudwatch")},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
                }
            ],
        )
        config = context.config.observability
        self.topic = secure_topic(
            self,
            "topic",
            name=names.make("sns_topic", "alarms"),
            key=key,
            context=context,
            rule_arns=[],
            emails=config.alarm_emails,
        )
        self.metric_alarms: dict[str, CloudwatchMetricAlarm] = {}
        paging: list[CloudwatchMetricAlarm] = []
        for tier in props.tiers:
            for name, alarm in tier.alarms.items():
                key_name = f"{tier.tier_id}_{name}"
                created = CloudwatchMetricAlarm(
                    self,
                    key_name,
                    alarm_name=names.make("alarm", tier.tier_id, name.replace("_", "-")),
                    alarm_description=alarm.description,
                    namespace=alarm.namespace,
                    metric_name=alarm.metric,
                    dimensions=dict(alarm.dimensions),
                    statistic=alarm.statistic,
                    extended_statistic=alarm.extended_statistic,
                    period=alarm.period_seconds,
                    evaluation_periods=alarm.evaluation_periods,
                    threshold=alarm.threshold,
                    comparison_operator=alarm.comparison,
                    treat_missing_data=alarm.treat_missing_data,
                    alarm_actions=[self.topic.arn],
                    ok_actions=[self.topic.arn],
                )
                self.metric_alarms[key_name] = created
                if alarm.pages:
                    paging.append(created)
        self.page_topic = (
            secure_topic(
                self,
                "page_topic",
                name=names.make("sns_topic", "page"),
                key=key,
                context=context,
                rule_arns=[],
                emails=config.page_emails,
            )
            if paging
            else None
        )
        self.degraded = (
            CloudwatchCompositeAlarm(
                self,
                "payments_degraded",
                alarm_name=names.make("alarm", "payments-degraded"),
                alarm_description="Payments degraded: API p99 above 1 s, a failed payment, or a dead letter",
                alarm_rule=" OR ".join(f'ALARM("{alarm.alarm_name}")' for alarm in paging),
                alarm_actions=[self.page_topic.arn],
                ok_actions=[self.page_topic.arn],
            )
            if self.page_topic is not None
            else None
        )
        rows = [
            (tier.tier_id, [*(Graph.of(alarm) for alarm in tier.alarms.values()), *tier.graphs]) for tier in props.tiers
        ]
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=names.make("dashboard", "overview"),
            dashboard_body=dashboard.body(rows, context.region_name),
        )
        self.export("alarms_topic_arn", self.topic.arn)
        self.export("dashboard_name", self.dashboard.dashboard_name)
