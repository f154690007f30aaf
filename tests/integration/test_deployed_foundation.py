"""Runs against a deployed environment when configured, else skips with the reason.

Configure with TAP_INTEGRATION_OUTPUTS=<file of `terraform output -json`> and AWS credentials
for the account (region from AWS_REGION or the outputs' profile default).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.checks import bucket_problems, key_problems, vpc_problems

OUTPUTS = os.environ.get("TAP_INTEGRATION_OUTPUTS")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not OUTPUTS, reason="TAP_INTEGRATION_OUTPUTS not set: no deployed environment to check"),
]


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    raw = json.loads(Path(str(OUTPUTS)).read_text())
    return {k: v["value"] if isinstance(v, dict) and "value" in v else v for k, v in raw.items()}


def test_deployed_vpc(outputs: dict[str, Any]) -> None:
    assert vpc_problems(boto3.client("ec2"), outputs["vpc_id"]) == []


def test_deployed_buckets(outputs: dict[str, Any]) -> None:
    s3 = boto3.client("s3")
    problems = [p for name in outputs["bucket_names"].values() for p in bucket_problems(s3, name)]
    problems += bucket_problems(s3, outputs["access_log_bucket_name"], expect_kms=False)
    assert problems == []


def test_deployed_keys(outputs: dict[str, Any]) -> None:
    kms = boto3.client("kms")
    assert [p for arn in outputs["kms_key_arns"].values() for p in key_problems(kms, arn)] == []
