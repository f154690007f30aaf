"""The observability tier: every alarm a tier asked for, with actions to the alarms topic; the
documents' thresholds; "payments degraded"; and the coverage rule (no alarmable resource unwatched)."""

from __future__ import annotations

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

# Alarmable resource types and the attribute an alarm's dimensions name them by.
ALARMABLE = {
    "aws_lb": "arn_suffix",
    "aws_lb_target_group": "arn_suffix",
    "aws_autoscaling_group": "name",
    "aws_rds_cluster": "cluster_identifier",
    "aws_elasticache_replication_group": "replication_group_id",
    "aws_dynamodb_table": "name",
    "aws_sqs_queue": "name",
    "aws_lambda_function": "function_name",
    "aws_apigatewayv2_stage": "name",
    "aws_kinesis_firehose_delivery_stream": "name",
    "aws_efs_file_system": "id",
}


def unwatched(document: Document) -> list[str]:
    """Addresses of alarmable resources no metric alarm's dimensions name."""
    named = json.dumps(
        [a.get("dimensions", {}) for a in document["resource"].get("aws_cloudwatch_metric_alarm", {}).values()]
    )
    return [
        f"{kind}.{name}"
        for kind, attribute in ALARMABLE.items()
        for name in document["resource"].get(kind, {})
        if f"${{{kind}.{name}.{attribute}}}" not in named
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
    assert cpu["dimensions"] == connections["dimensions"] == {"DBClusterIdentifier": cluster}


def test_document_004s_latency_is_a_p99_and_its_tables_alarm_on_throttling(synthesized: Synthesized) -> None:
    doc = synthesized("serverless-payments")
    (latency,) = by_metric(doc, "Latency")
    assert latency["extended_statistic"] == "p99" and "statistic" not in latency
    assert latency["threshold"] == 1000  # milliseconds
    assert not by_metric(doc, "ConsumedWriteCapacityUnits")
    table = ref(doc, "aws_dynamodb_table", "data_transactions_table", "name")
    throttles = {a["metric_name"] for a in tap_alarms(doc).values() if a["dimensions"] == {"TableName": table}}
    assert throttles == {"ReadThrottleEvents", "WriteThrottleEvents"}
    assert len(by_metric(doc, "Errors")) == len(resources(doc, "aws_lambda_function"))


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
    topic = ref(doc, "aws_sns_topic", "observability_topic", "arn")
    assert composite["alarm_actions"] == composite["ok_actions"] == [topic]


def test_a_profile_without_payments_has_no_composite(synthesized: Synthesized) -> None:
    assert not resources(synthesized("portal-cdn"), "aws_cloudwatch_composite_alarm")


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
