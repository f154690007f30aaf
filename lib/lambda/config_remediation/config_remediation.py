"""Fixes what AWS Config finds non-compliant where AWS publishes no remediation document.

EventBridge delivers each `Config Rules Compliance Change` that turned NON_COMPLIANT. For TAP's
rules without an AWS Automation document:
- a VPC without flow logs gets them (all traffic, into the baseline's flow-log bucket);
- an unencrypted EBS volume is snapshotted and reported: a volume cannot be encrypted in place
  (copy the snapshot with encryption and replace the volume);
- unencrypted RDS storage is reported: it can only be fixed by restoring into an encrypted copy.

Every step reads the current state first and is tagged with what it remediated, so a re-run does
nothing twice, and a redelivered event returns the first run's outcome (Powertools idempotency).
With DRY_RUN the function changes nothing and reports what it would do. It acts only on
resources of its own account and region, whatever an event says, and logs each decision as one
structured audit record. Anything else (another rule, a compliant result, a malformed event) is
logged and left alone.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Literal

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lib.contracts import remediation as contract

SETTINGS = contract.read_settings("config_remediation", os.environ)
DRY_RUN = SETTINGS[contract.DRY_RUN] == "true"
ACTIONS = contract.rule_actions(SETTINGS)

logger = Logger()
tracer = Tracer()
# Created once per execution environment; tests replace them.
ec2: Any = boto3.client("ec2")
sns: Any = boto3.client("sns")
persistence = DynamoDBPersistenceLayer(table_name=SETTINGS[contract.IDEMPOTENCY_TABLE])
# One outcome per rule, resource and evaluation: a redelivered event, or the same evaluation
# announced twice, is answered from the first run.
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[configRuleName, resourceId, newEvaluationResult.resultRecordedTime]",
    raise_on_no_idempotency_key=True,
)

# Outcomes someone must hear of; "already_compliant", "already_applied" and "ignored" changed nothing.
NOTIFIED = frozenset({"applied", "dry_run", "reported", "failed"})
ResourceId = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9:/_.-]{0,254}$")


class Evaluation(BaseModel):
    complianceType: Literal["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"]
    resultRecordedTime: str | None = None


class ComplianceChange(BaseModel):
    """The `detail` AWS Config documents for a compliance change (only the fields used)."""

    model_config = ConfigDict(extra="ignore")

    messageType: Literal["ComplianceChangeNotification"]
    configRuleName: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    resourceType: str = Field(pattern=r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")
    resourceId: str = ResourceId
    awsAccountId: str = Field(pattern=r"^\d{12}$")
    awsRegion: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    newEvaluationResult: Evaluation


class ComplianceChangeEvent(EventBridgeModel):
    detail: ComplianceChange


def audit(outcome: str, **fields: Any) -> None:
    """One structured record per decision (the audit trail of what the function did and why)."""
    logger.info("remediation", extra={"outcome": outcome, "dry_run": DRY_RUN, **fields})


def home(context: LambdaContext) -> tuple[str, str]:
    """This function's account and region, from its own ARN."""
    _, _, _, region, account, *_ = context.invoked_function_arn.split(":")
    return account, region


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        change = ComplianceChangeEvent.model_validate(event)
    except ValidationError as error:
        # Never echo the event: only which fields were wrong.
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        audit("rejected", reason="not an AWS Config compliance change", invalid_fields=fields)
        return {"outcome": "rejected", "invalid_fields": fields}
    detail = change.detail
    subject = {"rule": detail.configRuleName, "resource_type": detail.resourceType, "resource_id": detail.resourceId}
    account, region = home(context)
    if (detail.awsAccountId, detail.awsRegion) != (account, region) or (change.account, change.region) != (
        account,
        region,
    ):
        audit("ignored", reason="outside this account and region", **subject)
        return {"outcome": "ignored", "reason": "outside this account and region"}
    if detail.newEvaluationResult.complianceType != contract.NON_COMPLIANT:
        audit("ignored", reason=f"result is {detail.newEvaluationResult.complianceType}", **subject)
        return {"outcome": "ignored", "reason": "not non-compliant"}
    action = ACTIONS.get(detail.configRuleName)
    if action is None:
        audit("ignored", reason="no remediation for this rule", **subject)
        return {"outcome": "ignored", "reason": "no remediation for this rule"}
    IDEMPOTENCY.register_lambda_context(context)
    return dict(remediate(change=detail.model_dump(mode="json"), action=action))


@idempotent_function(data_keyword_argument="change", config=IDEMPOTENCY, persistence_store=persistence)
def remediate(change: dict[str, Any], action: str) -> dict[str, Any]:
    detail = ComplianceChange.model_validate(change)
    subject = {"rule": detail.configRuleName, "resource_type": detail.resourceType, "resource_id": detail.resourceId}
    expected = EXPECTED_TYPES[action]
    if detail.resourceType not in expected:
        audit("ignored", reason=f"{action} applies to {sorted(expected)}", action=action, **subject)
        return {"outcome": "ignored", "reason": "unexpected resource type"}
    try:
        outcome, note = ACTION_STEPS[action](detail.resourceId)
    except ClientError as error:
        # Only the error's code: AWS messages can quote request content.
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        outcome, note = (
            ("ignored", f"the resource no longer exists ({code})")
            if code.endswith(".NotFound")
            else (
                "failed",
                f"AWS refused the fix ({code})",
            )
        )
    audit(outcome, action=action, note=note, **subject)
    if outcome in NOTIFIED:
        notify(action, outcome, note, subject)
    return {"outcome": outcome, "action": action, "note": note}


def create_flow_logs(vpc_id: str) -> tuple[str, str]:
    if not re.fullmatch(r"vpc-[0-9a-f]{8,17}", vpc_id):
        return "ignored", "not a VPC id"
    existing = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    if existing:
        return "already_compliant", f"{len(existing)} flow log(s) exist"
    if DRY_RUN:
        return "dry_run", "would create flow logs for all traffic"
    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=SETTINGS[contract.FLOW_LOG_DESTINATION_ARN],
        MaxAggregationInterval=60,
        TagSpecifications=[
            {"ResourceType": "vpc-flow-log", "Tags": [{"Key": contract.REMEDIATION_TAG, "Value": vpc_id}]}
        ],
    )
    if created.get("Unsuccessful"):
        return "failed", "flow logs were refused: " + "; ".join(
            str(item.get("Error", {}).get("Message", "")) for item in created["Unsuccessful"]
        )
    return "applied", f"flow logs {', '.join(created['FlowLogIds'])} created"


def snapshot_volume(volume_id: str) -> tuple[str, str]:
    if not re.fullmatch(r"vol-[0-9a-f]{8,17}", volume_id):
        return "ignored", "not a volume id"
    (volume,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    if volume.get("Encrypted"):
        return "already_compliant", "the volume is encrypted"
    taken = ec2.describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": f"tag:{contract.REMEDIATION_TAG}", "Values": [volume_id]}]
    )["Snapshots"]
    if taken:
        return "already_applied", f"snapshot {taken[0]['SnapshotId']} was taken earlier"
    if DRY_RUN:
        return "dry_run", "would snapshot the volume; it cannot be encrypted in place"
    snapshot = ec2.create_snapshot(
        VolumeId=volume_id,
        Description=f"TAP remediation: unencrypted {volume_id}",
        TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": contract.REMEDIATION_TAG, "Value": volume_id}]}
        ],
    )
    return "applied", (
        f"snapshot {snapshot['SnapshotId']} taken; a volume cannot be encrypted in place: copy the snapshot "
        "with encryption, create a volume from it and replace this one"
    )


def report_database(resource_id: str) -> tuple[str, str]:
    return "reported", "RDS storage cannot be encrypted in place: restore a snapshot into an encrypted copy"


ACTION_STEPS = {
    contract.CREATE_FLOW_LOGS: create_flow_logs,
    contract.SNAPSHOT_VOLUME: snapshot_volume,
    contract.REPORT_DATABASE: report_database,
}
EXPECTED_TYPES = {
    contract.CREATE_FLOW_LOGS: {"AWS::EC2::VPC"},
    contract.SNAPSHOT_VOLUME: {"AWS::EC2::Volume"},
    contract.REPORT_DATABASE: {"AWS::RDS::DBInstance", "AWS::RDS::DBCluster"},
}


def notify(action: str, outcome: str, note: str, subject: dict[str, str]) -> None:
    prefix = "[dry run] " if DRY_RUN else ""
    sns.publish(
        TopicArn=SETTINGS[contract.NOTIFY_TOPIC_ARN],
        Subject=f"{prefix}TAP remediation: {action} {outcome}"[:100],
        Message=json.dumps({"action": action, "outcome": outcome, "note": note, "dry_run": DRY_RUN, **subject}),
    )
