"""The Config remediation function on moto: each fix once, re-delivery changes nothing, dry run
changes nothing, other rules and malformed or foreign events are left alone."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from lib.contracts import remediation as contract
from tests.handlers import REGION, REMEDIATION_SETTINGS, import_handler

handler_module = import_handler("config_remediation", ["config_remediation"], REMEDIATION_SETTINGS)
EVENTS = Path(__file__).resolve().parents[2] / "fixtures" / "events"

FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:tap-baseline-config-remediation-{REGION}"


@dataclass
class LambdaContextStub:
    function_name: str = "tap-baseline-config-remediation-us-east-1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = FUNCTION_ARN
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class Emulated:
    ec2: Any
    sqs: Any
    notifications: str
    logs: io.StringIO

    def notices(self) -> list[dict[str, Any]]:
        received = self.sqs.receive_message(QueueUrl=self.notifications, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(json.loads(m["Body"])["Message"]) for m in received]

    def audit(self) -> list[dict[str, Any]]:
        records = [json.loads(line) for line in self.logs.getvalue().splitlines() if line.strip()]
        return [r for r in records if r.get("message") == "remediation"]


@pytest.fixture
def emulated(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulated]:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=REMEDIATION_SETTINGS[contract.IDEMPOTENCY_TABLE],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        # EC2 checks that a flow log's destination bucket exists.
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=REMEDIATION_SETTINGS[contract.FLOW_LOG_DESTINATION_ARN].rpartition(":")[2])
        topic = sns.create_topic(Name="tap-baseline-security-alerts-us-east-1")["TopicArn"]
        queue = sqs.create_queue(QueueName="notices")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        monkeypatch.setitem(handler_module.SETTINGS, contract.NOTIFY_TOPIC_ARN, topic)
        monkeypatch.setattr(handler_module, "ec2", ec2)
        monkeypatch.setattr(handler_module, "sns", sns)
        monkeypatch.setattr(handler_module.persistence, "client", boto3.client("dynamodb", region_name=REGION))
        logs = io.StringIO()
        monkeypatch.setattr(handler_module.logger.registered_handler, "stream", logs)
        yield Emulated(ec2, sqs, queue, logs)


def change(
    rule_setting: str, resource_type: str, resource_id: str, compliance: str = "NON_COMPLIANT", **overrides: Any
) -> dict[str, Any]:
    """The documented compliance-change event (fixture), for one of TAP's rules and resources."""
    event = json.loads((EVENTS / "config_compliance_change.json").read_text())
    detail = event["detail"]
    detail.update(
        configRuleName=REMEDIATION_SETTINGS[rule_setting],
        resourceType=resource_type,
        resourceId=resource_id,
        awsAccountId=DEFAULT_ACCOUNT_ID,
    )
    detail["newEvaluationResult"]["complianceType"] = compliance
    event["account"] = DEFAULT_ACCOUNT_ID
    event.update(overrides)
    return event


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return dict(handler_module.handler(copy.deepcopy(event), LambdaContextStub()))


def new_vpc(ec2: Any) -> str:
    return str(ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"])


def flow_logs_of(ec2: Any, vpc_id: str) -> list[dict[str, Any]]:
    return list(ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"])


def test_a_vpc_without_flow_logs_gets_them_once(emulated: Emulated) -> None:
    vpc = new_vpc(emulated.ec2)
    event = change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc)
    first = invoke(event)
    assert first["outcome"] == "applied"
    (flow_log,) = flow_logs_of(emulated.ec2, vpc)
    assert flow_log["TrafficType"] == "ALL" and flow_log["LogDestinationType"] == "s3"
    assert flow_log["LogDestination"] == REMEDIATION_SETTINGS[contract.FLOW_LOG_DESTINATION_ARN]
    # Re-delivery: the first outcome, nothing created, nobody told twice.
    assert invoke(event) == first
    assert len(flow_logs_of(emulated.ec2, vpc)) == 1
    (notice,) = emulated.notices()
    assert notice["action"] == contract.CREATE_FLOW_LOGS and notice["resource_id"] == vpc


def test_a_refused_fix_is_reported_as_failed(emulated: Emulated, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = "arn:aws:s3:::tap-baseline-no-such-bucket"
    monkeypatch.setitem(handler_module.SETTINGS, contract.FLOW_LOG_DESTINATION_ARN, missing)
    vpc = new_vpc(emulated.ec2)
    outcome = invoke(change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc))
    assert outcome["outcome"] == "failed" and "does not exist" in outcome["note"]
    (notice,) = emulated.notices()
    assert notice["outcome"] == "failed"


def test_a_new_evaluation_of_a_fixed_vpc_finds_it_compliant(emulated: Emulated) -> None:
    vpc = new_vpc(emulated.ec2)
    invoke(change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc))
    later = change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc)
    later["detail"]["newEvaluationResult"]["resultRecordedTime"] = "2026-11-24T05:00:00.000Z"
    assert invoke(later)["outcome"] == "already_compliant"
    assert len(flow_logs_of(emulated.ec2, vpc)) == 1


def test_an_unencrypted_volume_is_snapshotted_once_and_reported(emulated: Emulated) -> None:
    volume = emulated.ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=False)["VolumeId"]
    event = change("ENCRYPTED_VOLUMES_RULE", "AWS::EC2::Volume", volume)
    assert invoke(event)["outcome"] == "applied"
    later = change("ENCRYPTED_VOLUMES_RULE", "AWS::EC2::Volume", volume)
    later["detail"]["newEvaluationResult"]["resultRecordedTime"] = "2026-11-24T05:00:00.000Z"
    assert invoke(later)["outcome"] == "already_applied"
    snapshots = emulated.ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": [volume]}])[
        "Snapshots"
    ]
    assert len(snapshots) == 1
    assert {"Key": contract.REMEDIATION_TAG, "Value": volume} in snapshots[0]["Tags"]
    notices = emulated.notices()
    assert len(notices) == 1 and "cannot be encrypted in place" in notices[0]["note"]


def test_unencrypted_rds_storage_is_reported_only(emulated: Emulated) -> None:
    event = change("RDS_STORAGE_ENCRYPTED_RULE", "AWS::RDS::DBCluster", "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY")
    assert invoke(event)["outcome"] == "reported"
    assert invoke(event)["outcome"] == "reported"
    assert len(emulated.notices()) == 1  # the redelivery was answered from the first run


def test_dry_run_changes_nothing_and_says_what_it_would_do(emulated: Emulated, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler_module, "DRY_RUN", True)
    vpc = new_vpc(emulated.ec2)
    assert invoke(change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc))["outcome"] == "dry_run"
    assert flow_logs_of(emulated.ec2, vpc) == []
    (notice,) = emulated.notices()
    assert notice["dry_run"] is True


def test_an_unknown_rule_is_ignored_with_a_log_line(emulated: Emulated) -> None:
    vpc = new_vpc(emulated.ec2)
    event = change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc)
    event["detail"]["configRuleName"] = "someone-elses-rule"
    assert invoke(event) == {"outcome": "ignored", "reason": "no remediation for this rule"}
    assert flow_logs_of(emulated.ec2, vpc) == []
    (record,) = emulated.audit()
    assert record["outcome"] == "ignored" and record["rule"] == "someone-elses-rule"


@pytest.mark.parametrize(
    "where",
    [
        {"account": "210987654321"},
        {"region": "eu-west-1"},
        {"detail_account": "210987654321"},
        {"detail_region": "eu-west-1"},
    ],
)
def test_resources_outside_the_account_and_region_are_never_touched(emulated: Emulated, where: dict[str, str]) -> None:
    vpc = new_vpc(emulated.ec2)
    event = change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc)
    if "detail_account" in where:
        event["detail"]["awsAccountId"] = where["detail_account"]
    elif "detail_region" in where:
        event["detail"]["awsRegion"] = where["detail_region"]
    else:
        event.update(where)
    assert invoke(event)["outcome"] == "ignored"
    assert flow_logs_of(emulated.ec2, vpc) == [] and emulated.notices() == []


def test_a_compliant_result_changes_nothing(emulated: Emulated) -> None:
    vpc = new_vpc(emulated.ec2)
    assert invoke(change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc, compliance="COMPLIANT"))["outcome"] == "ignored"
    assert flow_logs_of(emulated.ec2, vpc) == []


def test_a_malformed_event_is_rejected_without_echoing_it(emulated: Emulated) -> None:
    """AWS's sample of a custom rule's invocation is not a compliance change; nor is garbage."""
    sample = json.loads((EVENTS / "awsConfigRuleConfigurationChanged.json").read_text())
    for event in (sample, {"detail": "DROP TABLE"}, {}):
        assert invoke(event)["outcome"] == "rejected"
    assert "resultToken" not in emulated.logs.getvalue() and "DROP TABLE" not in emulated.logs.getvalue()
    assert {r["outcome"] for r in emulated.audit()} == {"rejected"}


def test_a_resource_of_the_wrong_type_for_the_rule_is_ignored(emulated: Emulated) -> None:
    event = change("FLOW_LOGS_RULE", "AWS::EC2::Volume", "vol-0123456789abcdef0")
    assert invoke(event)["outcome"] == "ignored"


def test_every_action_is_audited_as_one_structured_record(emulated: Emulated) -> None:
    vpc = new_vpc(emulated.ec2)
    invoke(change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc))
    (record,) = emulated.audit()
    assert {k: record[k] for k in ("outcome", "action", "rule", "resource_type", "resource_id", "dry_run")} == {
        "outcome": "applied",
        "action": contract.CREATE_FLOW_LOGS,
        "rule": REMEDIATION_SETTINGS["FLOW_LOGS_RULE"],
        "resource_type": "AWS::EC2::VPC",
        "resource_id": vpc,
        "dry_run": False,
    }


def test_a_resource_gone_before_the_fix_is_ignored(emulated: Emulated) -> None:
    event = change("ENCRYPTED_VOLUMES_RULE", "AWS::EC2::Volume", "vol-0123456789abcdef0")
    outcome = invoke(event)
    assert outcome["outcome"] == "ignored" and "no longer exists (InvalidVolume.NotFound)" in outcome["note"]
    assert emulated.notices() == []


def test_a_fix_aws_refuses_is_reported_with_its_error_code_only(
    emulated: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "secret detail"}}, "CreateFlowLogs")

    monkeypatch.setattr(emulated.ec2, "create_flow_logs", denied)
    vpc = new_vpc(emulated.ec2)
    outcome = invoke(change("FLOW_LOGS_RULE", "AWS::EC2::VPC", vpc))
    assert outcome == {
        "outcome": "failed",
        "action": contract.CREATE_FLOW_LOGS,
        "note": "AWS refused the fix (UnauthorizedOperation)",
    }
    (notice,) = emulated.notices()
    assert notice["outcome"] == "failed" and "secret detail" not in json.dumps(notice)
