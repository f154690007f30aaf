"""The observability tier: every alarm a tier asked for, with actions to the alarms topic; the
documents' thresholds; "payments degraded"; and the coverage rule (no alarmable resource unwatched)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cdktn import App, TerraformStack
from cdktn_provider_aws.provider import AwsProvider
from cdktn_provider_aws.sqs_queue import SqsQueue

from lib.contracts import payments as contract
from lib.core.alarms import Alarm, paging
from lib.core.context import StackContext
from lib.core.tier import Tier
from lib.profiles import load_config
from tests.conftest import PROFILE_NAMES, Document, Synthesized, iter_statements, policy, ref, resources

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
}
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
def test_the_regional_waf_alarms_on_blocked_request_spikes(synthesized: Synthesized, profile: str) -> None:
    doc = synthesized(profile)
    acls = {p: a for p, a in resources(doc, "aws_wafv2_web_acl").items() if a["scope"] == "REGIONAL"}
    alarms = by_metric(doc, "BlockedRequests")
    assert [a["dimensions"]["WebACL"] for a in alarms] == [ref(doc, "aws_wafv2_web_acl", p, "name") for p in acls]
    for alarm in alarms:
        assert alarm["namespace"] == "AWS/WAFV2" and alarm["dimensions"]["Rule"] == "ALL"
        assert alarm["dimensions"]["Region"] == ("ap-southeast-1" if profile == "transactions-pg" else "us-east-1")
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
        if alarm.get("extended_statistic") == "p99"
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
    assert {w["properties"]["region"] for w in graphs} == {region}
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
    order = ["foundation", "data", "payments", "edge", "compute", "governance"]
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
