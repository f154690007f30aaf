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
from functools import cached_property

from cdktn import TerraformProvider, TerraformStack
from cdktn_provider_aws.cloudwatch_composite_alarm import CloudwatchCompositeAlarm
from cdktn_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktn_provider_aws.cloudwatch_query_definition import CloudwatchQueryDefinition
from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from lib.contracts import log_stream
from lib.core import dashboard
from lib.core.alarms import Alarm, counted_alarm, delivery_stream_alarms, function_alarms, metric_alarm
from lib.core.context import StackContext
from lib.core.dashboard import Graph
from lib.core.function import PythonFunction
from lib.core.kms import customer_managed_key
from lib.core.queries import Query, lines
from lib.core.terraform import US_EAST_1, us_east_1
from lib.core.tier import Tier
from lib.core.topic import secure_topic
from lib.foundation import Keys, Placement
from lib.observability.payment_logs import PaymentLogStream, PaymentLogStreamProps


def transform_alarms(service: str) -> dict[str, Alarm]:
    """The payment-log transform's own counts: a record it could not store (kept unprocessed under
    the error prefix), and a card number it had to mask, which means masking at the source missed
    one: a PCI incident to investigate, whatever else is fine."""
    counted = {"records_failed": log_stream.LOG_RECORDS_FAILED, "card_numbers_masked": log_stream.CARD_NUMBERS_MASKED}
    return {
        name: counted_alarm(log_stream.METRICS_NAMESPACE, metric, service, metric) for name, metric in counted.items()
    }


def function_errors_query(function_log_groups: Sequence[str]) -> Query:
    """002: Lambda errors by function. Powertools' lines and the runtime's own (JSON log format)
    both carry `level`; `@log` is the group, so the function."""
    return Query(
        title="Lambda errors by function",
        log_groups=list(function_log_groups),
        text=lines('filter level = "ERROR"', "stats count(*) as errors by @log", "sort errors desc"),
    )


@dataclass(frozen=True, kw_only=True)
class ObservabilityProps:
    # The tiers built before this one: their alarms are created here, their payment logs streamed.
    tiers: Sequence[Tier]
    placement: Placement
    keys: Keys
    access_log_bucket: S3Bucket


class ObservabilityTier(Tier):
    """`topic`, `metric_alarms` by "<tier>_<alarm>", and `degraded` with its `page_topic` (None
    without a paging alarm)."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, props: ObservabilityProps) -> None:
        super().__init__(scope, construct_id, context)
        names, config = context.names, context.config.observability
        self.payment_logs_stream = self._payment_log_stream(context, props) if config.payment_log_stream else None
        tiers = [*props.tiers, self]
        key = self._alarms_key("key", "alarms", None)
        self.topic = secure_topic(
            self,
            "topic",
            name=names.make("sns_topic", "alarms"),
            key=key,
            context=context,
            rule_arns=[],
            emails=config.alarm_emails,
        )
        # Alarms on metrics published elsewhere (us-east-1) live there, with a topic of their own.
        self.global_topic: SnsTopic | None = None
        self.metric_alarms: dict[str, CloudwatchMetricAlarm] = {}
        paging: list[CloudwatchMetricAlarm] = []
        for tier in tiers:
            for name, alarm in tier.alarms.items():
                key_name = f"{tier.tier_id}_{name}"
                elsewhere = alarm.region is not None and alarm.region != context.region_name
                provider = self._global_provider if elsewhere else None
                topic = self._global_alarms_topic if elsewhere else self.topic
                created = metric_alarm(
                    self,
                    key_name,
                    name=names.make("alarm", tier.tier_id, name.replace("_", "-")),
                    alarm=alarm,
                    topic_arn=topic.arn,
                    provider=provider,
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
        rows = [(tier.tier_id, [*(Graph.of(alarm) for alarm in tier.alarms.values()), *tier.graphs]) for tier in tiers]
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=names.make("dashboard", "overview"),
            dashboard_body=dashboard.body(rows, context.region_name),
        )
        self._save_queries(context, tiers)
        self.export("alarms_topic_arn", self.topic.arn)
        self.export("dashboard_name", self.dashboard.dashboard_name)

    def _alarms_key(self, construct_id: str, purpose: str, provider: TerraformProvider | None) -> KmsKey:
        """A key CloudWatch alarms of this account may publish to an encrypted topic with."""
        return customer_managed_key(
            self,
            construct_id,
            context=self.context,
            purpose=purpose,
            description="The alarms topic: CloudWatch alarms of this account publish into it",
            statements=[
                {
                    "Sid": "CloudWatchAlarmsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": self.context.principal("cloudwatch")},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": self.context.account_id}},
                }
            ],
            provider=provider,
        )

    @cached_property
    def _global_provider(self) -> TerraformProvider:
        return us_east_1(self, self.context.config.default_tags())

    @cached_property
    def _global_alarms_topic(self) -> SnsTopic:
        """us-east-1's alarms topic, for CloudFront's and Route 53's alarms of a stack elsewhere: an
        alarm can only notify a topic in its own region. Same subscribers as the alarms topic."""
        provider, names = self._global_provider, self.context.names
        self.global_topic = secure_topic(
            self,
            "global_topic",
            name=names.make("sns_topic", "alarms", US_EAST_1),
            key=self._alarms_key("global_key", "alarms-global", provider),
            context=self.context,
            rule_arns=[],
            emails=self.context.config.observability.alarm_emails,
            provider=provider,
        )
        return self.global_topic

    def _save_queries(self, context: StackContext, tiers: Sequence[Tier]) -> None:
        """Every tier's saved queries, and errors by function over every function of the stack."""
        functions = [c for c in TerraformStack.of(self).node.find_all() if isinstance(c, PythonFunction)]
        if functions:
            self.save_query("function_errors", function_errors_query([f.log_group.name for f in functions]))
        names = context.names
        for tier in tiers:
            for name, query in tier.queries.items():
                CloudwatchQueryDefinition(
                    self,
                    f"query_{tier.tier_id}_{name}",
                    name=names.record(
                        "query_definition", f"{names.prefix}-{names.suffix}/{tier.tier_id}/{query.title}"
                    ),
                    log_group_names=list(query.log_groups),
                    query_string=query.text,
                )

    def _payment_log_stream(self, context: StackContext, props: ObservabilityProps) -> PaymentLogStream:
        sources = {f"{tier.tier_id}_{name}": group for tier in props.tiers for name, group in tier.payment_logs.items()}
        keys = props.keys
        built = PaymentLogStream(
            self,
            "payment_logs",
            context,
            PaymentLogStreamProps(
                sources=sources,
                placement=props.placement.for_functions("the payment-log transform"),
                s3_key=keys("s3"),
                logs_key=keys("logs"),
                access_log_bucket=props.access_log_bucket,
            ),
        )
        self.watch("payment_log_transform", function_alarms(built.transform.function.function_name))
        self.watch("payment_log_transform", transform_alarms(built.transform.service))
        self.watch("payment_log_stream", delivery_stream_alarms(built.stream.name))
        self.export("payment_logs_bucket", built.bucket.name)
        self.export("payment_logs_stream", built.stream.name)
        return built
