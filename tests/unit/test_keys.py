"""KMS keys: the documented set per profile, rotation, aliases, and least-privilege policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lib.core.context import StackContext
from lib.foundation.keys import key_statements
from lib.profiles import load_config
from tests.conftest import SUFFIX, Document, Synthesized, name_prefix, policy, ref, resources
from tools.compliance import DOMAIN_CONFIG

EXPECTED_PURPOSES = {
    "web-mysql": {"database", "s3", "logs", "secrets", "compute"},
    "transactions-pg": {"database", "efs", "cache", "s3", "logs", "secrets"},
    "secure-platform": {"database", "s3", "parameters", "events", "logs", "secrets", "dynamodb", "compute"},
    "portal-cdn": {"database", "s3", "logs", "secrets", "compute"},
    "serverless-payments": {"database", "dynamodb", "s3", "secrets", "logs", "parameters", "events", "compute"},
    "full": {"database", "s3", "logs", "secrets", "parameters", "events", "efs", "cache", "dynamodb", "compute"},
}
# Services allowed as principals on each purpose's key (beyond the account root).
SERVICE_PRINCIPALS = {
    "logs": {"logs.{region}.amazonaws.com"},
    "s3": {"delivery.logs.amazonaws.com"},
    "events": {"events.amazonaws.com", "cloudwatch.amazonaws.com"},
}
ACCOUNT = "${data.aws_caller_identity.current.account_id}"
# Profiles with a CloudFront distribution by default (003's CDN, full's); 002's maintenance page
# needs a domain.
DISTRIBUTIONS = frozenset({"portal-cdn", "full"})


def keys(doc: Document) -> dict[str, dict[str, Any]]:
    found = {}
    for path, key in resources(doc, "aws_kms_key").items():
        if path.startswith("foundation_keys_"):  # the edge's us-east-1 keys are tested with it
            found[path.removeprefix("foundation_keys_")] = key
    return found


def test_profile_key_set(doc: Document, profile: str) -> None:
    assert set(keys(doc)) == EXPECTED_PURPOSES[profile]


def test_every_key_rotates_yearly(doc: Document) -> None:
    for key in keys(doc).values():
        assert key["enable_key_rotation"] is True
        assert key["rotation_period_in_days"] == 365


def test_every_key_has_its_alias_with_the_profile_prefix(doc: Document, profile: str) -> None:
    prefix = name_prefix(profile)
    aliases = {a["name"]: a["target_key_id"] for a in resources(doc, "aws_kms_alias").values()}
    # A created zone's keys live in us-east-1 with the edge (document 002's DNSSEC and query logs);
    # the governance tier's keys are its own (backups, the data-event trail).
    own_keys = {
        "edge_hosted_zone_signing_key": "dnssec",
        "edge_hosted_zone_query_log_key": "query-logs",
        "governance_backup_key": "backup",
        "governance_data_events_key": "trail",
        "observability_key": "alarms",
    }
    for path in resources(doc, "aws_kms_key"):
        purpose = own_keys.get(path) or path.removeprefix("foundation_keys_")
        assert aliases[f"alias/{prefix}-{purpose}-{SUFFIX}"] == ref(doc, "aws_kms_key", path, "key_id")
    assert len(aliases) == len(resources(doc, "aws_kms_key"))


def test_key_policies_grant_root_and_only_the_purposes_services(doc: Document, profile: str) -> None:
    region = "ap-southeast-1" if profile == "transactions-pg" else "us-east-1"
    for purpose, key in keys(doc).items():
        statements = policy(key)["Statement"]
        root = f"arn:aws:iam::{ACCOUNT}:root"
        assert statements[0]["Principal"] == {"AWS": root}
        services = set()
        for statement in statements:
            service = statement["Principal"].get("Service", [])
            services |= {service} if isinstance(service, str) else set(service)
        expected = {p.format(region=region) for p in SERVICE_PRINCIPALS.get(purpose, set())}
        if purpose == "s3" and profile in DISTRIBUTIONS:
            expected.add("cloudfront.amazonaws.com")  # reads through origin access control
        assert services == expected, purpose
        for statement in statements:
            if statement["Principal"] == {"AWS": "*"}:
                # Only the compute key's Auto Scaling statements, bound to its service-linked role
                # by condition (tests/unit/test_edge_compute.py).
                assert purpose == "compute" and statement["Sid"].startswith("AutoScaling")
                assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"].endswith("/AWSServiceRoleForAutoScaling")
                assert statement["Condition"]["StringEquals"] == {"kms:CallerAccount": ACCOUNT}
                continue
            assert statement["Principal"] != "*"
            if "Service" in statement["Principal"]:
                assert statement.get("Condition"), f"{purpose}: service statement without a condition"
                assert "kms:*" not in statement["Action"]
            elif statement["Sid"] == "UseOnlyThroughItsServices":
                assert statement["Condition"]["StringEquals"]["kms:CallerAccount"] == ACCOUNT
                assert statement["Condition"]["StringEquals"]["kms:ViaService"]


def context(region: str) -> StackContext:
    config = load_config({"TAP_PROFILE": "full", "ENVIRONMENT_SUFFIX": SUFFIX, "AWS_REGION": region})
    return StackContext.of(config, account_id="111122223333")


def test_logs_key_is_bound_to_this_accounts_log_groups() -> None:
    (logs,) = [
        s
        for s in key_statements("logs", context("eu-west-1"))
        if s["Principal"].get("Service") == "logs.eu-west-1.amazonaws.com"
    ]
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:111122223333:log-group:*"}
    }


def test_database_key_is_usable_only_through_rds_and_secrets_manager() -> None:
    statements = key_statements("database", context("us-east-1"))
    (via,) = [s for s in statements if s["Sid"] == "UseOnlyThroughItsServices"]
    # RDS for storage and Performance Insights; Secrets Manager for the RDS-managed master secret.
    assert via["Condition"]["StringEquals"]["kms:ViaService"] == [
        "rds.us-east-1.amazonaws.com",
        "secretsmanager.us-east-1.amazonaws.com",
    ]
    assert not [s for s in statements if "Service" in s["Principal"]]


def test_deletion_window_follows_the_environment_mode(synthesized: Synthesized) -> None:
    assert {k["deletion_window_in_days"] for k in keys(synthesized("full")).values()} == {7}
    assert {k["deletion_window_in_days"] for k in keys(synthesized("full", TAP_PROTECTED="true")).values()} == {30}


@pytest.mark.parametrize(
    ("profile", "config"), [("portal-cdn", None), ("full", None), ("secure-platform", DOMAIN_CONFIG)]
)
def test_cloudfront_log_delivery_may_use_the_s3_key_for_its_log_bucket_only(
    synthesized: Synthesized, profile: str, config: Path | None
) -> None:
    doc = synthesized(profile, **({"TAP_CONFIG": str(config)} if config else {}))
    key = resources(doc, "aws_kms_key")["foundation_keys_s3"]
    (delivery,) = [s for s in policy(key)["Statement"] if s.get("Sid") == "CloudFrontStandardLogDelivery"]
    # The bucket the distributions really log into (read from the document, not rebuilt).
    bucket = f"arn:aws:s3:::{resources(doc, 'aws_s3_bucket')['edge_cdn_logs_bucket']['bucket']}"
    assert delivery["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, f"{bucket}/*"]}}
    assert delivery["Action"] == "kms:GenerateDataKey*"


def test_profiles_without_a_distribution_give_cloudfront_nothing(synthesized: Synthesized) -> None:
    # secure-platform without a domain has no maintenance distribution, so nothing for CloudFront.
    for profile in ("web-mysql", "secure-platform"):
        key = resources(synthesized(profile), "aws_kms_key")["foundation_keys_s3"]
        assert not [s for s in policy(key)["Statement"] if "CloudFront" in s.get("Sid", "")], profile
