"""The CloudTrail monitoring filters match the CloudTrail records they watch for, and not others.

CloudWatch Logs evaluates the patterns; there is no emulator for its JSON filter syntax, so a
small evaluator of the subset TAP uses (`tests/filter_patterns.py`) reads each pattern from the
synthesized JSON, and CloudTrail records shaped like AWS's documented record contents are
matched against it.
"""

from __future__ import annotations

from typing import Any

import pytest

from lib.governance.trail import WATCHES
from tests.conftest import Synthesized, resources
from tests.filter_patterns import Record, matches


def record(event_name: str, source: str = "ec2.amazonaws.com", **fields: Any) -> Record:
    """A CloudTrail record (the fields the filters read), from an IAM role unless told otherwise."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/ops/ana"},
        "eventSource": source,
        "eventName": event_name,
        "eventType": "AwsApiCall",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        **fields,
    }


ROOT = {"type": "Root", "arn": "arn:aws:iam::111122223333:root"}
IAM_USER = {"type": "IAMUser", "userName": "ana"}
# watch -> (records it must match, records it must not)
CASES: dict[str, tuple[list[Record], list[Record]]] = {
    "root_use": (
        [record("ConsoleLogin", "signin.amazonaws.com", userIdentity=ROOT)],
        [
            record("DescribeInstances"),
            # AWS acting for the root user (service-linked calls) is not a use of root.
            record("Decrypt", "kms.amazonaws.com", userIdentity={**ROOT, "invokedBy": "s3.amazonaws.com"}),
            record("AssumeRole", "sts.amazonaws.com", userIdentity=ROOT, eventType="AwsServiceEvent"),
        ],
    ),
    "unauthorized_calls": (
        [
            record("RunInstances", errorCode="Client.UnauthorizedOperation"),
            record("GetObject", "s3.amazonaws.com", errorCode="AccessDenied"),
        ],
        [record("RunInstances"), record("GetObject", "s3.amazonaws.com", errorCode="NoSuchKey")],
    ),
    "console_login_without_mfa": (
        [
            record(
                "ConsoleLogin",
                "signin.amazonaws.com",
                userIdentity=IAM_USER,
                additionalEventData={"MFAUsed": "No"},
                responseElements={"ConsoleLogin": "Success"},
            )
        ],
        [
            record(
                "ConsoleLogin",
                "signin.amazonaws.com",
                userIdentity=IAM_USER,
                additionalEventData={"MFAUsed": "Yes"},
                responseElements={"ConsoleLogin": "Success"},
            ),
            record(
                "ConsoleLogin",
                "signin.amazonaws.com",
                userIdentity=IAM_USER,
                additionalEventData={"MFAUsed": "No"},
                responseElements={"ConsoleLogin": "Failure"},
            ),
        ],
    ),
    "iam_policy_changes": (
        [record("PutRolePolicy", "iam.amazonaws.com"), record("DetachUserPolicy", "iam.amazonaws.com")],
        [record("GetRolePolicy", "iam.amazonaws.com"), record("CreateUser", "iam.amazonaws.com")],
    ),
    "cloudtrail_changes": (
        [record("StopLogging", "cloudtrail.amazonaws.com"), record("UpdateTrail", "cloudtrail.amazonaws.com")],
        [record("LookupEvents", "cloudtrail.amazonaws.com")],
    ),
    "config_changes": (
        [
            record("StopConfigurationRecorder", "config.amazonaws.com"),
            record("DeleteDeliveryChannel", "config.amazonaws.com"),
        ],
        [record("PutEvaluations", "config.amazonaws.com"), record("PutDeliveryChannel", "ec2.amazonaws.com")],
    ),
    "kms_key_changes": (
        [record("ScheduleKeyDeletion", "kms.amazonaws.com"), record("DisableKey", "kms.amazonaws.com")],
        [record("Decrypt", "kms.amazonaws.com"), record("DisableKey", "ec2.amazonaws.com")],
    ),
    "security_group_changes": (
        [record("AuthorizeSecurityGroupIngress"), record("DeleteSecurityGroup")],
        [record("DescribeSecurityGroups")],
    ),
    "nacl_changes": ([record("ReplaceNetworkAclEntry"), record("CreateNetworkAcl")], [record("DescribeNetworkAcls")]),
    "gateway_changes": (
        [record("AttachInternetGateway"), record("DeleteCustomerGateway")],
        [record("DescribeInternetGateways")],
    ),
    "route_table_changes": (
        [record("CreateRoute"), record("DisassociateRouteTable")],
        [record("DescribeRouteTables"), record("CreateRoute", "s3.amazonaws.com")],
    ),
}


def synthesized_patterns(synthesized: Synthesized) -> dict[str, str]:
    filters = resources(synthesized.baseline("full"), "aws_cloudwatch_log_metric_filter")
    return {watch: filters[f"governance_cloudtrail_{watch}_filter"]["pattern"] for watch in WATCHES}


def test_every_watch_has_cases() -> None:
    assert set(CASES) == set(WATCHES)


@pytest.mark.parametrize("watch", sorted(WATCHES))
def test_each_filter_matches_what_it_watches_and_nothing_else(synthesized: Synthesized, watch: str) -> None:
    pattern = synthesized_patterns(synthesized)[watch]
    matching, other = CASES[watch]
    assert all(matches(pattern, r) for r in matching), pattern
    assert not any(matches(pattern, r) for r in other), pattern


def test_the_evaluator_tells_patterns_apart() -> None:
    """The check can fail: a filter that forgot a clause matches what it should not."""
    sloppy = '{ ($.eventName = "ConsoleLogin") && ($.userIdentity.type = "IAMUser") }'
    strict = WATCHES["console_login_without_mfa"].pattern
    with_mfa = CASES["console_login_without_mfa"][1][0]
    assert matches(sloppy, with_mfa) and not matches(strict, with_mfa)
    assert not matches('{ $.errorCode = "AccessDenied*" }', record("GetObject"))  # a missing field never equals
