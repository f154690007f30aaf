"""CloudWatch alarms a tier wants on what it owns, described as data; the observability tier creates them.

Each builder returns alarms keyed by stable names, for one resource kind, with the thresholds
the source documents state (000, 002, 004) or TAP's where they state none. Every alarm states
how missing data counts (`treat_missing_data`): `notBreaching` where silence is the normal state
(no errors, an empty queue), `breaching` where a healthy resource always reports (a target
group's healthy hosts), so a resource that goes quiet is noticed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cdktn import TerraformProvider
from cdktn_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

TreatMissing = Literal["breaching", "notBreaching", "ignore", "missing"]
Comparison = Literal[
    "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"
]
MIB = 1024 * 1024
# What the instances' CloudWatch agent publishes (its configuration is in compute/user_data.sh).
AGENT_NAMESPACE = "CWAgent"
AGENT_MEMORY_METRIC = "mem_used_percent"


@dataclass(frozen=True, kw_only=True)
class Alarm:
    """One metric alarm. Exactly one of `statistic` and `extended_statistic` (percentiles)."""

    description: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    threshold: float
    comparison: Comparison = "GreaterThanThreshold"
    period_seconds: int = 300
    evaluation_periods: int = 2
    statistic: str | None = "Maximum"
    extended_statistic: str | None = None
    treat_missing_data: TreatMissing
    # Part of "payments degraded", the composite alarm a person is paged with first.
    pages: bool = False
    # Where the metric is published, when not in the stack's region: CloudFront and Route 53
    # publish in us-east-1 only, and an alarm must live where its metric does.
    region: str | None = None

    def __post_init__(self) -> None:
        if (self.statistic is None) == (self.extended_statistic is None):
            raise ValueError(f"{self.description}: give a statistic or an extended statistic, not both")


def paging(alarms: Mapping[str, Alarm], *names: str) -> dict[str, Alarm]:
    """The same alarms with those named (every one, when none is) part of the first page."""
    return {key: dataclasses.replace(a, pages=True) if not names or key in names else a for key, a in alarms.items()}


def counted_alarm(namespace: str, metric: str, service: str, what: str, *, pages: bool = False) -> Alarm:
    """Any `metric` a function counted in five minutes: Powertools publishes its metrics with the
    function's service name as their `service` dimension."""
    return Alarm(
        description=f"{service}: {what}",
        namespace=namespace,
        metric=metric,
        dimensions={"service": service},
        statistic="Sum",
        threshold=0,
        evaluation_periods=1,
        treat_missing_data="notBreaching",
        pages=pages,
    )


def function_alarms(function_name: str) -> dict[str, Alarm]:
    """Lambda errors and throttles (002, 004): any in five minutes."""
    dimensions = {"FunctionName": function_name}
    return {
        f"{kind.lower()}": Alarm(
            description=f"{function_name}: {kind.lower()}",
            namespace="AWS/Lambda",
            metric=kind,
            dimensions=dimensions,
            statistic="Sum",
            threshold=0,
            evaluation_periods=1,
            treat_missing_data="notBreaching",  # no invocation, no error
        )
        for kind in ("Errors", "Throttles")
    }


def dead_letter_alarms(queue_name: str) -> dict[str, Alarm]:
    """Any message in a dead-letter queue (002): something failed for good and waits for a person."""
    return {
        "messages": Alarm(
            description=f"{queue_name}: a message reached the dead-letter queue",
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": queue_name},
            threshold=0,
            period_seconds=60,
            evaluation_periods=1,
            treat_missing_data="notBreaching",  # SQS stops reporting an idle, empty queue
        )
    }


def work_queue_alarms(queue_name: str, *, max_age_seconds: int, max_depth: int) -> dict[str, Alarm]:
    """Depth and age of the oldest message (002): consumers stopped or fell behind."""
    dimensions = {"QueueName": queue_name}
    return {
        "age": Alarm(
            description=f"{queue_name}: oldest message older than {max_age_seconds} s",
            namespace="AWS/SQS",
            metric="ApproximateAgeOfOldestMessage",
            dimensions=dimensions,
            threshold=max_age_seconds,
            treat_missing_data="notBreaching",
        ),
        "depth": Alarm(
            description=f"{queue_name}: more than {max_depth} messages waiting",
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions=dimensions,
            threshold=max_depth,
            treat_missing_data="notBreaching",
        ),
    }


def unread_queue_alarms(queue_name: str, retention_seconds: int) -> dict[str, Alarm]:
    """A queue read outside TAP (document 004's analytics consumer): its oldest message nearing
    the retention period, after which SQS deletes it unread."""
    limit = retention_seconds * 3 // 4
    return {
        "expiring": Alarm(
            description=f"{queue_name}: oldest message unread for {limit // 3600} h, expiring at {retention_seconds // 3600} h",
            namespace="AWS/SQS",
            metric="ApproximateAgeOfOldestMessage",
            dimensions={"QueueName": queue_name},
            threshold=limit,
            treat_missing_data="notBreaching",
        )
    }


def table_alarms(table_name: str, indexes: Sequence[str] = ()) -> dict[str, Alarm]:
    """Throttled reads and writes (004), on the table and on each global secondary index (an
    index's throttling is reported under its own dimension, and a low-cardinality index key is
    where a hot partition shows first).

    Document 004 alarms on ConsumedWriteCapacityUnits, which measures use, not refusal: an
    on-demand table consuming a lot is healthy. Throttle events are what callers feel, so TAP
    alarms on ReadThrottleEvents and WriteThrottleEvents (the table-level throttle metrics;
    ThrottledRequests needs an operation dimension per API call).
    """
    targets: dict[str, dict[str, str]] = {"": {"TableName": table_name}}
    targets.update({f"{index}_": {"TableName": table_name, "GlobalSecondaryIndexName": index} for index in indexes})
    return {
        f"{prefix}{kind.lower()}": Alarm(
            description=f"{table_name} {dimensions.get('GlobalSecondaryIndexName', '')}: {kind}".replace("  ", " "),
            namespace="AWS/DynamoDB",
            metric=kind,
            dimensions=dimensions,
            statistic="Sum",
            threshold=0,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
        )
        for prefix, dimensions in targets.items()
        for kind in ("ReadThrottleEvents", "WriteThrottleEvents")
    }


def aurora_alarms(cluster_identifier: str, *, has_readers: bool, pauses: bool) -> dict[str, Alarm]:
    """CPU > 80 % and connections > 100 over 2 x 5 min on the writer (000, 004: averaged over the
    whole cluster, idle readers would hide a saturated writer); replica lag; freeable memory.

    A Serverless v2 cluster that may pause (0 ACU) reports nothing while paused, so its silence
    is not counted against it.
    """
    dimensions = {"DBClusterIdentifier": cluster_identifier}
    writer = {**dimensions, "Role": "WRITER"}
    always_reports: TreatMissing = "notBreaching" if pauses else "breaching"
    alarms = {
        "cpu": Alarm(
            description=f"{cluster_identifier}: writer CPU above 80 %",
            namespace="AWS/RDS",
            metric="CPUUtilization",
            dimensions=writer,
            statistic="Average",
            threshold=80,
            treat_missing_data=always_reports,  # a running cluster always reports
        ),
        "connections": Alarm(
            description=f"{cluster_identifier}: more than 100 connections to the writer",
            namespace="AWS/RDS",
            metric="DatabaseConnections",
            dimensions=writer,
            statistic="Average",
            threshold=100,
            treat_missing_data="notBreaching",
        ),
        "freeable_memory": Alarm(
            description=f"{cluster_identifier}: less than 256 MiB freeable memory",
            namespace="AWS/RDS",
            metric="FreeableMemory",
            dimensions=dimensions,
            statistic="Minimum",
            threshold=256 * MIB,
            comparison="LessThanThreshold",
            treat_missing_data=always_reports,
        ),
    }
    if has_readers:
        alarms["replica_lag"] = Alarm(
            description=f"{cluster_identifier}: a reader more than 1 s behind the writer",
            namespace="AWS/RDS",
            metric="AuroraReplicaLagMaximum",
            dimensions=dimensions,
            threshold=1000,  # milliseconds
            treat_missing_data="notBreaching",
        )
    return alarms


def redis_alarms(group_id: str, node_count: int) -> dict[str, Alarm]:
    """Engine CPU above 80 % and any eviction, per node: ElastiCache reports per node, and names a
    group's nodes `<group>-001`, `-002`, ..."""
    alarms: dict[str, Alarm] = {}
    for number in range(1, node_count + 1):
        node = f"{group_id}-{number:03d}"
        dimensions = {"CacheClusterId": node}
        alarms[f"node{number}_engine_cpu"] = Alarm(
            description=f"{node}: Redis engine CPU above 80 %",
            namespace="AWS/ElastiCache",
            metric="EngineCPUUtilization",
            dimensions=dimensions,
            statistic="Average",
            threshold=80,
            treat_missing_data="breaching",
        )
        alarms[f"node{number}_evictions"] = Alarm(
            description=f"{node}: keys evicted for memory",
            namespace="AWS/ElastiCache",
            metric="Evictions",
            dimensions=dimensions,
            statistic="Sum",
            threshold=0,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
        )
    return alarms


def file_system_alarms(file_system_id: str) -> dict[str, Alarm]:
    """Near the I/O limit of a General Purpose file system. TAP's use elastic throughput, which has
    no burst credits to run out of (the issue's burst-credit alarm applies to bursting mode only)."""
    return {
        "io_limit": Alarm(
            description=f"{file_system_id}: above 90 % of its I/O limit",
            namespace="AWS/EFS",
            metric="PercentIOLimit",
            dimensions={"FileSystemId": file_system_id},
            threshold=90,
            treat_missing_data="notBreaching",  # reported only while there is I/O
        )
    }


def target_group_alarms(load_balancer_suffix: str, target_group_suffix: str, label: str) -> dict[str, Alarm]:
    """Any unhealthy target over 2 x 60 s (000)."""
    return {
        f"{label}_unhealthy": Alarm(
            description=f"{label} target group: an unhealthy host",
            namespace="AWS/ApplicationELB",
            metric="UnHealthyHostCount",
            dimensions={"LoadBalancer": load_balancer_suffix, "TargetGroup": target_group_suffix},
            threshold=0,
            period_seconds=60,
            treat_missing_data="breaching",  # reported every minute while the group has targets
        )
    }


def load_balancer_alarms(load_balancer_suffix: str) -> dict[str, Alarm]:
    """5xx answered by the load balancer itself (no healthy target, or a target that failed)."""
    return {
        "elb_5xx": Alarm(
            description="load balancer: more than 10 of its own 5xx in 5 min",
            namespace="AWS/ApplicationELB",
            metric="HTTPCode_ELB_5XX_Count",
            dimensions={"LoadBalancer": load_balancer_suffix},
            statistic="Sum",
            threshold=10,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
        )
    }


# Blocked requests in 5 minutes that make a spike worth a look (TAP's; 002 names no number).
WAF_BLOCKED_SPIKE = 100


def web_acl_alarms(web_acl_name: str, region: str | None) -> dict[str, Alarm]:
    """A spike of requests a WAF blocked (002): an attack, or a rule refusing real users. A
    regional web ACL's metrics carry its `region`; CloudFront's (None) are published in us-east-1
    without one. "ALL" sums every rule."""
    dimensions = {"WebACL": web_acl_name, **({"Region": region} if region is not None else {}), "Rule": "ALL"}
    return {
        "blocked_spike": Alarm(
            description=f"{web_acl_name}: more than {WAF_BLOCKED_SPIKE} requests blocked in 5 min",
            namespace="AWS/WAFV2",
            metric="BlockedRequests",
            dimensions=dimensions,
            statistic="Sum",
            threshold=WAF_BLOCKED_SPIKE,
            evaluation_periods=1,
            treat_missing_data="notBreaching",  # nothing blocked, nothing reported
            region=None if region is not None else GLOBAL_METRICS_REGION,
        )
    }


def instance_group_alarms(group_name: str) -> dict[str, Alarm]:
    """The group's CPU above 80 % over 2 x 5 min (002): scaling has not kept up. Its memory (002)
    above 90 %, as the CloudWatch agent reports it per group: the agent counts used memory as
    total minus available, so the page cache does not count and 90 % is real pressure."""
    dimensions = {"AutoScalingGroupName": group_name}
    return {
        "cpu": Alarm(
            description=f"{group_name}: CPU above 80 %",
            namespace="AWS/EC2",
            metric="CPUUtilization",
            dimensions=dimensions,
            statistic="Average",
            threshold=80,
            treat_missing_data="breaching",
        ),
        "memory": Alarm(
            description=f"{group_name}: memory above 90 %",
            namespace=AGENT_NAMESPACE,
            metric=AGENT_MEMORY_METRIC,
            dimensions=dimensions,
            statistic="Average",
            threshold=90,
            # No data means no agent reporting: the instances are gone or the agent is down.
            treat_missing_data="breaching",
        ),
    }


def api_stage_alarms(api_id: str, stage: str) -> dict[str, Alarm]:
    """p99 latency above 1 s (004: a percentile, never an average) and 5xx answers."""
    dimensions = {"ApiId": api_id, "Stage": stage}
    return {
        "latency_p99": Alarm(
            description=f"API {stage}: p99 latency above 1 s",
            namespace="AWS/ApiGateway",
            metric="Latency",
            dimensions=dimensions,
            statistic=None,
            extended_statistic="p99",
            threshold=1000,
            treat_missing_data="notBreaching",  # no requests, no latency
        ),
        "5xx": Alarm(
            description=f"API {stage}: 5xx answers",
            namespace="AWS/ApiGateway",
            metric="5xx",
            dimensions=dimensions,
            statistic="Sum",
            threshold=0,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
        ),
    }


def delivery_stream_alarms(stream_name: str) -> dict[str, Alarm]:
    """Firehose delivery failing or falling behind."""
    dimensions = {"DeliveryStreamName": stream_name}
    return {
        "delivery_success": Alarm(
            description=f"{stream_name}: deliveries to S3 failing",
            namespace="AWS/Firehose",
            metric="DeliveryToS3.Success",
            dimensions=dimensions,
            # Firehose retries a failed put itself: only a sustained failure rate matters.
            statistic="Average",
            threshold=0.99,
            comparison="LessThanThreshold",
            evaluation_periods=3,
            treat_missing_data="notBreaching",  # nothing to deliver
        ),
        "data_freshness": Alarm(
            description=f"{stream_name}: oldest record undelivered for 15 min",
            namespace="AWS/Firehose",
            metric="DeliveryToS3.DataFreshness",
            dimensions=dimensions,
            threshold=900,
            treat_missing_data="notBreaching",
        ),
    }


# CloudFront's and Route 53's metrics exist in us-east-1 only.
GLOBAL_METRICS_REGION = "us-east-1"


def distribution_alarms(distribution_id: str) -> dict[str, Alarm]:
    """A distribution answering 5xx to more than 5 % of requests over 2 x 5 min. No requests, no
    data: not an outage of the distribution."""
    return {
        "5xx_rate": Alarm(
            description=f"CloudFront {distribution_id}: 5xx above 5 % of requests",
            namespace="AWS/CloudFront",
            metric="5xxErrorRate",
            dimensions={"DistributionId": distribution_id, "Region": "Global"},
            statistic="Average",
            threshold=5,
            treat_missing_data="notBreaching",
            region=GLOBAL_METRICS_REGION,
        )
    }


def health_check_alarms(health_check_id: str, what: str) -> dict[str, Alarm]:
    """A Route 53 health check unhealthy for 2 minutes. Route 53 reports every check every minute:
    silence means the check is gone, which is breaching."""
    return {
        "status": Alarm(
            description=f"Route 53 health check of {what}: unhealthy",
            namespace="AWS/Route53",
            metric="HealthCheckStatus",
            dimensions={"HealthCheckId": health_check_id},
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=1,
            period_seconds=60,
            treat_missing_data="breaching",
            region=GLOBAL_METRICS_REGION,
        )
    }


def dnssec_alarms(zone_id: str) -> dict[str, Alarm]:
    """Once the DS record is published, a signing fault makes the name unresolvable for validating
    resolvers: Route 53 reports both conditions in us-east-1, and only while signing is on."""
    return {
        slug: Alarm(
            description=f"Route 53 {metric} for the zone: fix signing before resolvers refuse the name",
            namespace="AWS/Route53",
            metric=metric,
            dimensions={"HostedZoneId": zone_id},
            statistic="Maximum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=1,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
            region=GLOBAL_METRICS_REGION,
        )
        for metric, slug in (
            ("DNSSECInternalFailure", "dnssec_internal_failure"),
            ("DNSSECKeySigningKeysNeedingAction", "dnssec_ksk_needs_action"),
        )
    }


def metric_alarm(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    alarm: Alarm,
    topic_arn: str,
    provider: TerraformProvider | None = None,
) -> CloudwatchMetricAlarm:
    """`alarm` as a CloudWatch alarm whose alarm and OK actions notify `topic_arn`."""
    return CloudwatchMetricAlarm(
        scope,
        construct_id,
        provider=provider,
        alarm_name=name,
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
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
    )
