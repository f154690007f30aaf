"""Checks of a deployed foundation, read back through the AWS APIs.

Each returns the problems it finds (empty when compliant), so the same functions serve the
live integration test and their own tests on emulated AWS.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def vpc_problems(ec2: Any, vpc_id: str) -> list[str]:
    problems = []
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        value = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[attribute[0].upper() + attribute[1:]][
            "Value"
        ]
        if not value:
            problems.append(f"{vpc_id}: {attribute} is off")
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    if not any(f["TrafficType"] == "ALL" for f in flow_logs):
        problems.append(f"{vpc_id}: no flow log capturing ALL traffic")
    default_sg = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    for group in default_sg:
        if group["IpPermissions"] or group["IpPermissionsEgress"]:
            problems.append(f"{vpc_id}: default security group still has rules")
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    problems += [f"{s['SubnetId']}: assigns public IPs" for s in subnets if s["MapPublicIpOnLaunch"]]
    return problems


def bucket_problems(s3: Any, bucket: str, expect_kms: bool = True) -> list[str]:
    problems = []
    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        if not all(block.values()) or len(block) != 4:
            problems.append(f"{bucket}: public access block incomplete {block}")
    except ClientError:
        problems.append(f"{bucket}: no public access block")
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        algorithm = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
    except ClientError:
        algorithm = "none"
    if algorithm == "none" or (expect_kms and algorithm != "aws:kms"):
        problems.append(f"{bucket}: default encryption is {algorithm}, not aws:kms")
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        problems.append(f"{bucket}: versioning is not enabled")
    try:
        policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        if '"aws:SecureTransport"' not in policy:
            problems.append(f"{bucket}: policy does not deny insecure transport")
    except ClientError:
        problems.append(f"{bucket}: no bucket policy")
    try:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError:
        problems.append(f"{bucket}: no lifecycle configuration")
    return problems


def key_problems(kms: Any, key_arn: str) -> list[str]:
    metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    problems = []
    if metadata["KeyManager"] != "CUSTOMER":
        problems.append(f"{key_arn}: not customer managed")
    if not kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]:
        problems.append(f"{key_arn}: rotation is off")
    return problems
