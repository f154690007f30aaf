"""The baseline's EventBridge patterns, taken from the synthesized JSON, matched by EventBridge (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import Synthesized, resources

REGION = "us-east-1"


@pytest.fixture
def routed(synthesized: Synthesized) -> Iterator[Any]:
    """Each baseline rule on the default bus, delivering into a queue of its own; yields a sender
    that returns which rules received the event."""
    baseline = synthesized.baseline("full")
    rules = {
        path.removeprefix("governance_").removeprefix("alerts_").removesuffix("_rule"): rule["event_pattern"]
        for path, rule in resources(baseline, "aws_cloudwatch_event_rule").items()
    }
    assert set(rules) == {"guardduty_findings", "config_compliance", "remediation"}
    with mock_aws():
        events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
        queues = {}
        for name, pattern in rules.items():
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name=name, EventPattern=pattern)
            events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
            queues[name] = url

        def send(source: str, detail_type: str, detail: dict[str, Any]) -> set[str]:
            events.put_events(Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}])
            return {name for name, url in queues.items() if sqs.receive_message(QueueUrl=url).get("Messages")}

        yield send


def finding(severity: float) -> dict[str, Any]:
    return {
        "schemaVersion": "2.0",
        "accountId": "111122223333",
        "region": REGION,
        "type": "Recon:EC2/PortProbeUnprotectedPort",
        "severity": severity,
    }


@pytest.mark.parametrize(("severity", "alerted"), [(8.0, True), (7.0, True), (9.5, True), (5.0, False), (2.0, False)])
def test_only_high_and_critical_guardduty_findings_alert(routed: Any, severity: float, alerted: bool) -> None:
    received = routed("aws.guardduty", "GuardDuty Finding", finding(severity))
    assert received == ({"guardduty_findings"} if alerted else set())


def compliance_change(compliance: str, rule: str = "tap-baseline-encrypted-volumes-us-east-1") -> dict[str, Any]:
    """The documented body of a compliance change (AWS Config Developer Guide, "Example Configuration
    Rule Compliance Change Notification"), as EventBridge carries it in `detail`."""
    return {
        "resourceId": "vol-0123456789abcdef0",
        "awsRegion": REGION,
        "awsAccountId": "111122223333",
        "configRuleName": rule,
        "recordVersion": "1.0",
        "configRuleARN": f"arn:aws:config:{REGION}:111122223333:config-rule/config-rule-abc123",
        "messageType": "ComplianceChangeNotification",
        "newEvaluationResult": {"complianceType": compliance, "resultRecordedTime": "2026-11-24T03:00:00.000Z"},
        "resourceType": "AWS::EC2::Volume",
    }


@pytest.mark.parametrize(
    ("compliance", "rule", "received"),
    [
        ("NON_COMPLIANT", "tap-baseline-encrypted-volumes-us-east-1", {"config_compliance", "remediation"}),
        ("NON_COMPLIANT", "tap-baseline-vpc-flow-logs-enabled-us-east-1", {"config_compliance", "remediation"}),
        ("COMPLIANT", "tap-baseline-encrypted-volumes-us-east-1", {"config_compliance"}),
        # Remediated by AWS's Automation documents, not by the function.
        ("NON_COMPLIANT", "tap-baseline-s3-bucket-versioning-enabled-us-east-1", {"config_compliance"}),
        ("NON_COMPLIANT", "someone-elses-rule", {"config_compliance"}),
    ],
)
def test_compliance_changes_reach_the_topic_and_the_remediation_function(
    routed: Any, compliance: str, rule: str, received: set[str]
) -> None:
    """Every change is announced; only non-compliant results of the function's rules invoke it."""
    assert routed("aws.config", "Config Rules Compliance Change", compliance_change(compliance, rule)) == received


def test_other_config_and_guardduty_events_are_not_routed(routed: Any) -> None:
    assert (
        routed("aws.config", "Config Configuration Item Change", {"messageType": "ConfigurationItemChangeNotification"})
        == set()
    )
    assert routed("aws.guardduty", "GuardDuty Malware Protection Object Scan Result", {"severity": 8.0}) == set()
