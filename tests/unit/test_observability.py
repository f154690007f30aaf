"""The observability tier: every alarm a tier asked for, with actions to the alarms topic; the
documents' thresholds; "payments degraded"; and the coverage rule (no alarmable resource unwatched)."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cdktn import App, TerraformStack
from cdktn_provider_aws.provider import AwsProvider
from cdktn_provider_aws.sqs_queue import SqsQueue

from lib.contracts import health
from lib.contracts import payments as contract
from lib.core.alarms import AGENT_MEMORY_METRIC, AGENT_NAMESPACE, Alarm, paging
from lib.core.context import StackContext
from lib.core.tier import Tier
from lib.profiles import load_config
from lib.synth import observability_line
from tests.conftest import PROFILE_NAMES, SUFFIX, Document, Synthesized, iter_statements, policy, ref, resources
from tools.compliance import DOMAIN_CONFIG

# Alarmable resource types: the dimension an alarm names one by, and the attribute it names.
ALARMABLE = {
    "aws_lb": ("LoadBalancer", "arn_suffix"),
    "aws_lb_target_group": ("TargetGroup", "arn_suffix"),
    "aws_autoscaling_group": ("AutoScalingGroupName", "name"),
    "aws_rds_cluster": ("DBClusterIdentifier", "cluster_identifier"),
    # Per node: <group>-001, -002, ...
    "aws_elasticache_replication_group": ("CacheClusterId", "replication_group_id"),
    "aws_dynamodb_table": ("TableName", "name"),
    "aws_sqs_queue": ("QueueName", "name"),
    "aws_lambda_function": ("FunctionName", "function_name"),
    "aws_apigatewayv2_stage": ("Stage", "name"),
    "aws_kinesis_firehose_delivery_stream": ("DeliveryStreamName", "name"),
    "aws_efs_file_system": ("FileSystemId", "id"),
    "aws_cloudfront_distribution": ("DistributionId", "id"),
    "aws_route53_health_check": ("HealthCheckId", "id"),
}
GLOBAL_NAMESPACES = {"AWS/CloudFront", "AWS/Route53"}
STREAM_PATH = "observability_payment_logs_stream"


def published_in_us_east_1(alarm_or_metric: tuple[str, dict[str, str]]) -> bool:
    """CloudFront's and Route 53's metrics, and a CloudFront web ACL's (no Region dimension)."""
    namespace, dimensions = alarm_or_metric
    return namespace in GLOBAL_NAMESPACES or (namespace == "AWS/WAFV2" and "Region" not in dimensions)


# A target group's alarm names its load balancer too, but watches the group.
MORE_SPECIFIC = {"aws_lb": "TargetGroup"}


def unwatched(document: Document) -> list[str]:
    """Addresses of alarmable resources that no alarm telling someone (an action on an SNS topic:
    scaling alarms tell no one) names by the resource's own dimension."""
    told = [
        alarm.get("dimensions", {})
        for alarm in document["resource"].get("aws_cloudwatch_metric_alarm", {}).values()
        if any(action.startswith("${aws_sns_topic.") for action in alarm.get("alarm_actions", []))
    ]

    def watched(kind: str, name: str) -> bool:
        key, attribute = ALARMABLE[kind]
        token = f"${{{kind}.{name}.{attribute}}}"
        return any(
            dimensions.get(key) in (token, f"{token}-001") and MORE_SPECIFIC.get(kind) not in dimensions
            for dimensions in told
        )

    return [
        f"{kind}.{name}" for kind in ALARMABLE for name in document["resource"].get(kind, {}) if not watched(kind, name)
    ]


def tap_alarms(doc: Document) -> dict[str, dict[str, Any]]:
    return {p: a for p, a in resources(doc, "aws_cloudwatch_metric_alarm").items() if p.startswith("observability_")}


def by_metric(doc: Document, metric: str) -> list[dict[str, Any]]:
    return [a for a in tap_alarms(doc).values() if a["metric_name"] == metric]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_no_alarmable_resource_is_left_unwatched(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    assert unwatched(doc) == []
    assert any(resources(doc, kind) for kind in ALARMABLE)


def test_nothing_alarmable_in_the_account_baseline_is_left_unwatched(synthesized: Synthesized) -> None:
    baseline = synthesized.baseline("full")
    assert resources(baseline, "aws_dynamodb_table") and unwatched(baseline) == []


def test_a_scaling_alarm_or_a_target_groups_alarm_does_not_count(synthesized: Synthesized) -> None:
    """Only an alarm that tells someone counts, and only by the resource's own dimension."""
    doc = copy.deepcopy(synthesized("web-mysql"))
    alarms = doc["resource"]["aws_cloudwatch_metric_alarm"]
    for name in [n for n in alarms if n.startswith(("observability_compute_", "observability_edge_load_balancer_elb"))]:
        del alarms[name]
    assert [gap.split(".")[0] for gap in unwatched(doc)] == ["aws_lb", "aws_autoscaling_group"]


def test_the_coverage_rule_finds_a_deliberately_unwatched_queue(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "unwatched")
    AwsProvider(stack, "aws", region="us-east-1")
    SqsQueue(stack, "forgotten", name="forgotten")
    app.synth()
    document = json.loads((tmp_path / "stacks" / "unwatched" / "cdk.tf.json").read_text())
    (address,) = unwatched(document)
    assert address.startswith("aws_sqs_queue.forgotten")


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_alarm_pages_the_alarms_topic_and_says_how_silence_counts(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    topic = ref(doc, "aws_sns_topic", "observability_topic", "arn")
    alarms = tap_alarms(doc)
    assert alarms
    for path, alarm in alarms.items():
        assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic], path
        assert alarm["treat_missing_data"] in {"breaching", "notBreaching"}, path
        assert ("statistic" in alarm) != ("extended_statistic" in alarm), path


def test_the_alarms_topic_is_encrypted_with_a_key_only_this_accounts_alarms_use(synthesized: Synthesized) -> None:
    doc = synthesized("web-mysql")
    topic = resources(doc, "aws_sns_topic")["observability_topic"]
    assert topic["kms_master_key_id"] == ref(doc, "aws_kms_key", "observability_key", "arn")
    statements = {s["Sid"]: s for s in iter_statements(policy(resources(doc, "aws_kms_key")["observability_key"]))}
    alarms = statements["CloudWatchAlarmsOfThisAccount"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "${data.aws_caller_identity.current.account_id}"}
    }


def test_document_000s_alarms(synthesized: Synthesized) -> None:
    doc = synthesized("web-mysql")
    (unhealthy,) = by_metric(doc, "UnHealthyHostCount")
    assert (unhealthy["threshold"], unhealthy["comparison_operator"]) == (0, "GreaterThanThreshold")
    assert (unhealthy["period"], unhealthy["evaluation_periods"]) == (60, 2)
    (cpu,) = [a for a in by_metric(doc, "CPUUtilization") if a["namespace"] == "AWS/RDS"]
    assert (cpu["threshold"], cpu["period"], cpu["evaluation_periods"]) == (80, 300, 2)
    (connections,) = by_metric(doc, "DatabaseConnections")
    assert (connections["threshold"], connections["period"], connections["evaluation_periods"]) == (100, 300, 2)
    cluster = ref(doc, "aws_rds_cluster", "data_database_cluster", "cluster_identifier")
    # The writer's: averaged over the cluster, idle readers would hide a saturated writer.
    assert cpu["dimensions"] == connections["dimensions"] == {"DBClusterIdentifier": cluster, "Role": "WRITER"}


def test_document_004s_latency_is_a_p99_and_its_tables_alarm_on_throttling(synthesized: Synthesized) -> None:
    doc = synthesized("serverless-payments")
    (latency,) = by_metric(doc, "Latency")
    assert latency["extended_statistic"] == "p99" and "statistic" not in latency
    assert latency["threshold"] == 1000  # milliseconds
    assert not by_metric(doc, "ConsumedWriteCapacityUnits")
    table = ref(doc, "aws_dynamodb_table", "data_transactions_table", "name")
    throttles = {
        (a["metric_name"], a["dimensions"].get("GlobalSecondaryIndexName"))
        for a in tap_alarms(doc).values()
        if a["dimensions"].get("TableName") == table
    }
    # The table and each index (an index's throttling has a dimension of its own).
    indexes = {
        i["name"] for i in resources(doc, "aws_dynamodb_table")["data_transactions_table"]["global_secondary_index"]
    }
    assert throttles == {(m, i) for m in ("ReadThrottleEvents", "WriteThrottleEvents") for i in {None, *indexes}}
    assert len(indexes) == 2
    assert len(by_metric(doc, "Errors")) == len(resources(doc, "aws_lambda_function"))


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_waf_alarms_on_blocked_request_spikes(synthesized: Synthesized, profile: str) -> None:
    """Regional web ACLs' metrics carry their region; CloudFront's are published without one."""
    doc = synthesized(profile)
    acls = resources(doc, "aws_wafv2_web_acl")
    alarms = {a["dimensions"]["WebACL"]: a for a in by_metric(doc, "BlockedRequests")}
    assert set(alarms) == {ref(doc, "aws_wafv2_web_acl", p, "name") for p in acls}
    region = "ap-southeast-1" if profile == "transactions-pg" else "us-east-1"
    for path, acl in acls.items():
        alarm = alarms[ref(doc, "aws_wafv2_web_acl", path, "name")]
        assert alarm["namespace"] == "AWS/WAFV2" and alarm["dimensions"]["Rule"] == "ALL"
        assert alarm["dimensions"].get("Region") == (region if acl["scope"] == "REGIONAL" else None)
        assert (alarm["statistic"], alarm["threshold"]) == ("Sum", 100)


def test_failed_payments_are_watched_where_the_functions_count_them(synthesized: Synthesized) -> None:
    doc = synthesized("secure-platform")
    failed = by_metric(doc, contract.PAYMENTS_FAILED)
    assert {a["namespace"] for a in failed} == {contract.METRICS_NAMESPACE}
    services = {
        f["environment"]["variables"]["POWERTOOLS_SERVICE_NAME"]
        for p, f in resources(doc, "aws_lambda_function").items()
        if p in {"payments_functions_transaction_processing_function", "payments_functions_dead_letters_function"}
    }
    assert {a["dimensions"]["service"] for a in failed} == services and len(services) == 2


def test_stuck_payments_are_watched_where_the_dead_letter_consumer_counts_them(synthesized: Synthesized) -> None:
    doc = synthesized("secure-platform")
    (stuck,) = by_metric(doc, contract.PAYMENTS_STUCK)
    consumer = resources(doc, "aws_lambda_function")["payments_functions_dead_letters_function"]
    assert stuck["dimensions"] == {"service": consumer["environment"]["variables"]["POWERTOOLS_SERVICE_NAME"]}
    assert (stuck["namespace"], stuck["statistic"], stuck["threshold"]) == (contract.METRICS_NAMESPACE, "Sum", 0)


COMPUTE_PROFILES = [p for p in PROFILE_NAMES if load_config({"TAP_PROFILE": p}).compute is not None]


@pytest.mark.parametrize("profile", COMPUTE_PROFILES)
def test_every_instance_group_alarms_on_its_agents_memory(synthesized: Synthesized, profile: str) -> None:
    """002: memory as the CloudWatch agent publishes it per group, under a namespace the role pins."""
    doc = synthesized(profile)
    groups = {ref(doc, "aws_autoscaling_group", path, "name") for path in resources(doc, "aws_autoscaling_group")}
    memory = by_metric(doc, AGENT_MEMORY_METRIC)
    assert {a["dimensions"]["AutoScalingGroupName"] for a in memory} == groups
    assert all((a["namespace"], a["threshold"]) == (AGENT_NAMESPACE, 90) for a in memory)
    # Each group's instances are told its name, which the agent puts on the metric.
    templates = resources(doc, "aws_launch_template")
    for path, group in resources(doc, "aws_autoscaling_group").items():
        template = templates[path.removesuffix("_group") + "_launch_template"]
        assert f"readonly GROUP_NAME={group['name']}" in base64.b64decode(template["user_data"]).decode()
    statements = policy(resources(doc, "aws_iam_role_policy")["compute_instance_role_policy"])["Statement"]
    (publish,) = [s for s in statements if s["Sid"] == "PublishAgentMetrics"]
    assert publish["Action"] == ["cloudwatch:PutMetricData"]
    assert publish["Condition"] == {"StringEquals": {"cloudwatch:namespace": AGENT_NAMESPACE}}


@pytest.mark.parametrize("profile", COMPUTE_PROFILES)
def test_document_003s_error_filter_and_performance_metrics_are_alarmed(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    service = f"{load_config({'TAP_PROFILE': profile}).name_prefix}-health-{SUFFIX}"
    (errors_filter,) = resources(doc, "aws_cloudwatch_log_metric_filter").values()
    assert errors_filter["log_group_name"] == ref(doc, "aws_cloudwatch_log_group", "compute_logs_group", "name")
    assert errors_filter["pattern"] == health.ERRORS_PATTERN
    assert errors_filter["metric_transformation"] == {
        "name": health.APPLICATION_ERRORS,
        "namespace": health.NAMESPACE,
        "value": "1",
        "unit": "Count",
        "dimensions": {"service": "$.service"},
    }
    watched = {a["metric_name"]: a for a in tap_alarms(doc).values() if a["namespace"] == health.NAMESPACE}
    assert set(watched) == {health.APPLICATION_ERRORS, health.REQUEST_LATENCY, health.DATABASE_CHECK_TIME}
    assert all(a["dimensions"] == {"service": service} for a in watched.values())
    assert watched[health.REQUEST_LATENCY]["extended_statistic"] == "p99"
    assert watched[health.DATABASE_CHECK_TIME]["extended_statistic"] == "p99"
    # The instances are told the same service name their metrics must carry.
    for template in resources(doc, "aws_launch_template").values():
        assert f"readonly SERVICE_NAME={service}" in base64.b64decode(template["user_data"]).decode()


def test_every_dead_letter_queue_alarms_on_its_first_message(synthesized: Synthesized) -> None:
    doc = synthesized("full")
    dead_letters = {
        ref(doc, "aws_sqs_queue", p, "name")
        for p, q in resources(doc, "aws_sqs_queue").items()
        if "redrive_policy" not in q
    }
    watched = {
        a["dimensions"]["QueueName"]
        for a in by_metric(doc, "ApproximateNumberOfMessagesVisible")
        if a["threshold"] == 0 and a["period"] == 60
    }
    assert watched == dead_letters


def test_payments_degraded_is_any_p99_failed_payment_or_dead_letter(synthesized: Synthesized) -> None:
    doc = synthesized("full")
    (composite,) = resources(doc, "aws_cloudwatch_composite_alarm").values()
    named = set(re.findall(r"aws_cloudwatch_metric_alarm\.(\w+)\.alarm_name", composite["alarm_rule"]))
    paging_alarms = {
        address
        for address, alarm in doc["resource"]["aws_cloudwatch_metric_alarm"].items()
        if (alarm.get("extended_statistic"), alarm["namespace"]) == ("p99", "AWS/ApiGateway")
        or alarm["metric_name"] == contract.PAYMENTS_FAILED
        or (alarm["metric_name"] == "ApproximateNumberOfMessagesVisible" and alarm["threshold"] == 0)
    }
    assert named == paging_alarms
    assert composite["alarm_rule"].count(" OR ") == len(named) - 1
    # The page topic carries only this alarm: one page, however many of its parts fire.
    page = ref(doc, "aws_sns_topic", "observability_page_topic", "arn")
    assert composite["alarm_actions"] == composite["ok_actions"] == [page]
    assert not [a for a in tap_alarms(doc).values() if page in a["alarm_actions"]]


def test_a_profile_without_payments_has_no_composite(synthesized: Synthesized) -> None:
    doc = synthesized("portal-cdn")
    assert not resources(doc, "aws_cloudwatch_composite_alarm")
    assert "observability_page_topic" not in resources(doc, "aws_sns_topic")


def test_the_analytics_queue_read_outside_tap_alarms_only_before_messages_expire(synthesized: Synthesized) -> None:
    doc = synthesized("serverless-payments")
    queue = ref(doc, "aws_sqs_queue", "payments_messaging_analytics_queue", "name")
    (alarm,) = [a for a in tap_alarms(doc).values() if a["dimensions"] == {"QueueName": queue}]
    assert alarm["metric_name"] == "ApproximateAgeOfOldestMessage"
    retention = resources(doc, "aws_sqs_queue")["payments_messaging_analytics_queue"]["message_retention_seconds"]
    assert alarm["threshold"] == retention * 3 // 4


def test_a_cluster_that_may_pause_is_not_alarmed_for_its_silence(synthesized: Synthesized, tmp_path: Path) -> None:
    config = tmp_path / "pausing.toml"
    config.write_text("[database]\nserverless_acu = [0.0, 2.0]\n")

    def database(doc: Document) -> dict[str, dict[str, Any]]:
        return {a["metric_name"]: a for a in tap_alarms(doc).values() if a["namespace"] == "AWS/RDS"}

    paused, running = database(synthesized("web-mysql", TAP_CONFIG=str(config))), database(synthesized("web-mysql"))
    for metric in ("CPUUtilization", "FreeableMemory"):
        assert (running[metric]["treat_missing_data"], paused[metric]["treat_missing_data"]) == (
            "breaching",
            "notBreaching",
        )


def test_an_alarm_with_both_or_neither_statistic_is_refused() -> None:
    with pytest.raises(ValueError, match="a statistic or an extended statistic"):
        Alarm(
            description="x",
            namespace="n",
            metric="m",
            threshold=1,
            extended_statistic="p99",
            treat_missing_data="missing",
        )
    with pytest.raises(ValueError, match="a statistic or an extended statistic"):
        Alarm(description="x", namespace="n", metric="m", threshold=1, statistic=None, treat_missing_data="missing")


def test_a_tier_contributing_one_alarm_twice_is_refused() -> None:
    stack = TerraformStack(App(), "probe")
    context = StackContext.of(load_config({"TAP_PROFILE": "web-mysql"}), account_id="123456789012")
    tier = Tier(stack, "probe", context)
    alarm = Alarm(description="x", namespace="n", metric="m", threshold=1, treat_missing_data="notBreaching")
    tier.watch("queue", {"depth": alarm})
    with pytest.raises(ValueError, match="alarm 'queue_depth' contributed twice"):
        tier.watch("queue", paging({"depth": alarm}))


def dashboard_widgets(doc: Document) -> list[dict[str, Any]]:
    (dashboard,) = resources(doc, "aws_cloudwatch_dashboard").values()
    widgets: list[dict[str, Any]] = json.loads(dashboard["dashboard_body"])["widgets"]
    return widgets


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_dashboard_graphs_only_what_the_stack_has_in_its_region(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    widgets = dashboard_widgets(doc)
    region = "ap-southeast-1" if profile == "transactions-pg" else "us-east-1"
    graphs = [w for w in widgets if w["type"] == "metric"]
    for graph in graphs:
        # CloudFront and Route 53 publish in us-east-1 only; everything else is the stack's.
        namespace, _, *pairs = graph["properties"]["metrics"][0]
        dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
        published = "us-east-1" if published_in_us_east_1((namespace, dimensions)) else region
        assert graph["properties"]["region"] == published, graph
    for reference in re.findall(r"\$\{(aws_\w+)\.(\w+)\.", json.dumps(graphs)):
        kind, name = reference
        assert name in doc["resource"][kind], reference

    # Every alarm is graphed: the same metric with the same dimensions.
    def metric(namespace: str, name: str, *dimensions: str) -> tuple[str, str, frozenset[tuple[str, str]]]:
        return namespace, name, frozenset(zip(dimensions[::2], dimensions[1::2], strict=True))

    graphed = {metric(*w["properties"]["metrics"][0]) for w in graphs}
    for alarm in tap_alarms(doc).values():
        dimensions = [part for pair in alarm["dimensions"].items() for part in pair]
        assert metric(alarm["namespace"], alarm["metric_name"], *dimensions) in graphed, alarm["alarm_name"]


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_the_dashboard_has_a_row_per_tier_and_no_widget_overlaps(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    widgets = dashboard_widgets(doc)
    titles = [w["properties"]["markdown"].removeprefix("## ") for w in widgets if w["type"] == "text"]
    # A row for each tier with something to graph, in the stack's tier order.
    order = ["foundation", "data", "payments", "edge", "compute", "governance", "observability"]
    watching = {tier for tier in order if any(p.startswith(f"observability_{tier}_") for p in tap_alarms(doc))}
    assert titles == [tier for tier in order if tier in watching]
    cells = set()
    for widget in widgets:
        assert widget["x"] + widget["width"] <= 24
        area = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not area & cells, widget
        cells |= area


def test_document_004s_dashboard(synthesized: Synthesized) -> None:
    doc = synthesized("serverless-payments")
    shown = {
        (w["properties"]["metrics"][0][0], w["properties"]["metrics"][0][1], w["properties"]["stat"])
        for w in dashboard_widgets(doc)
        if w["type"] == "metric"
    }
    assert {
        ("AWS/ApiGateway", "Latency", "p99"),
        ("AWS/RDS", "CPUUtilization", "Average"),
        ("AWS/DynamoDB", "ConsumedWriteCapacityUnits", "Sum"),
        ("AWS/DynamoDB", "WriteThrottleEvents", "Sum"),
        ("AWS/Lambda", "Errors", "Sum"),
    } <= shown


WITH_A_DOMAIN = {"TAP_CONFIG": str(DOMAIN_CONFIG)}


def test_document_002s_zone_and_failover_are_watched_too(synthesized: Synthesized) -> None:
    """Its zone, health checks and maintenance page exist once a domain is set."""
    doc = synthesized("secure-platform", **WITH_A_DOMAIN)
    assert resources(doc, "aws_route53_health_check") and unwatched(doc) == []


@pytest.mark.parametrize(("profile", "env"), [("portal-cdn", {}), ("full", {}), ("secure-platform", WITH_A_DOMAIN)])
def test_cloudfront_and_route53_alarms_watch_every_distribution_and_health_check(
    synthesized: Synthesized, profile: str, env: dict[str, str]
) -> None:
    doc = synthesized(profile, **env)
    alarms = tap_alarms(doc)
    rates = {a["dimensions"]["DistributionId"]: a for a in alarms.values() if a["metric_name"] == "5xxErrorRate"}
    distributions = {ref(doc, "aws_cloudfront_distribution", p) for p in resources(doc, "aws_cloudfront_distribution")}
    assert set(rates) == distributions and distributions
    assert all(a["dimensions"]["Region"] == "Global" and a["threshold"] == 5 for a in rates.values())
    checks = {ref(doc, "aws_route53_health_check", p) for p in resources(doc, "aws_route53_health_check")}
    statuses = {a["dimensions"]["HealthCheckId"] for a in alarms.values() if a["metric_name"] == "HealthCheckStatus"}
    assert statuses == checks
    # In a us-east-1 stack they notify the alarms topic like every other alarm (no second topic).
    assert "observability_global_topic" not in resources(doc, "aws_sns_topic")


def test_a_stack_outside_us_east_1_alarms_on_cloudfront_there_with_a_topic_of_its_own(
    synthesized: Synthesized,
) -> None:
    """An alarm lives where its metric is published and notifies a topic in its own region."""
    doc = synthesized("portal-cdn", AWS_REGION="eu-west-1")
    global_topic = ref(doc, "aws_sns_topic", "observability_global_topic", "arn")
    topics = resources(doc, "aws_sns_topic")
    assert topics["observability_global_topic"]["provider"] == "aws.us_east_1"
    assert topics["observability_global_topic"]["kms_master_key_id"] == ref(
        doc, "aws_kms_key", "observability_global_key", "arn"
    )
    assert resources(doc, "aws_kms_key")["observability_global_key"]["provider"] == "aws.us_east_1"
    alarms = tap_alarms(doc)
    for alarm in alarms.values():
        elsewhere = published_in_us_east_1((alarm["namespace"], alarm["dimensions"]))
        assert (alarm.get("provider") == "aws.us_east_1") == elsewhere, alarm["alarm_name"]
        expected = global_topic if elsewhere else ref(doc, "aws_sns_topic", "observability_topic", "arn")
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [expected], alarm["alarm_name"]
    assert any(a["namespace"] == "AWS/CloudFront" for a in alarms.values())


@pytest.mark.parametrize(("profile", "env"), [*((p, {}) for p in PROFILE_NAMES), ("secure-platform", WITH_A_DOMAIN)])
def test_the_summary_line_names_what_the_stack_holds(
    synthesized: Synthesized, profile: str, env: dict[str, str]
) -> None:
    result, doc = synthesized.result(profile, **env)
    line = observability_line(result.config)
    acls = resources(doc, "aws_wafv2_web_acl")
    holds = {
        "CloudFront": bool(resources(doc, "aws_cloudfront_distribution")),
        "Route 53 health checks": bool(resources(doc, "aws_route53_health_check")),
        "the zone's signing": bool(resources(doc, "aws_route53_key_signing_key")),
        "the WAFs": len(acls) == 2,
        "the regional WAF": len(acls) == 1,
        "saved Logs Insights queries": bool(resources(doc, "aws_cloudwatch_query_definition")),
        "payment-log stream": STREAM_PATH in resources(doc, "aws_kinesis_firehose_delivery_stream"),
        "'payments degraded'": bool(resources(doc, "aws_cloudwatch_composite_alarm")),
    }
    assert {what: what in line for what in holds} == holds
