"""The integration checks themselves, proven on moto: compliant resources pass, others fail."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.integration.checks import bucket_problems, key_problems, vpc_problems

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def emulated_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def secure_bucket(s3: object, name: str, key_arn: str) -> None:
    s3.create_bucket(Bucket=name)  # type: ignore[attr-defined]
    s3.put_public_access_block(  # type: ignore[attr-defined]
        Bucket=name,
        PublicAccessBlockConfiguration={
            k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        },
    )
    s3.put_bucket_encryption(  # type: ignore[attr-defined]
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})  # type: ignore[attr-defined]
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))  # type: ignore[attr-defined]
    s3.put_bucket_lifecycle_configuration(  # type: ignore[attr-defined]
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "r",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                }
            ]
        },
    )


def test_bucket_checks() -> None:
    s3, kms = boto3.client("s3", region_name=REGION), boto3.client("kms", region_name=REGION)
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    secure_bucket(s3, "tap-flow-logs-dev", key_arn)
    assert bucket_problems(s3, "tap-flow-logs-dev") == []
    s3.create_bucket(Bucket="tap-plain-dev")
    found = bucket_problems(s3, "tap-plain-dev")
    assert any("public access block" in p for p in found)
    assert any("default encryption is none" in p for p in found)
    assert any("versioning" in p for p in found)
    assert any("no bucket policy" in p for p in found)
    assert any("lifecycle" in p for p in found)


def test_key_checks() -> None:
    kms = boto3.client("kms", region_name=REGION)
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    assert key_problems(kms, key_arn) == [f"{key_arn}: rotation is off"]
    kms.enable_key_rotation(KeyId=key_arn)
    assert key_problems(kms, key_arn) == []


def test_vpc_checks() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    found = vpc_problems(ec2, vpc_id)
    assert f"{vpc_id}: enableDnsHostnames is off" in found
    assert f"{vpc_id}: no flow log capturing ALL traffic" in found
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    s3.create_bucket(Bucket="tap-flow-logs-dev")
    ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::tap-flow-logs-dev",
    )
    (default_sg,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    for permissions, revoke in (
        (default_sg["IpPermissions"], ec2.revoke_security_group_ingress),
        (default_sg["IpPermissionsEgress"], ec2.revoke_security_group_egress),
    ):
        if permissions:
            revoke(GroupId=default_sg["GroupId"], IpPermissions=permissions)
    assert vpc_problems(ec2, vpc_id) == []
