"""Every bucket of every profile carries every control of the secure-bucket block."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Document, Synthesized, find_one, iter_statements, policy, ref, resources

# profile -> bucket purposes (besides access_logs); *_archive buckets are the 12-month archives.
EXPECTED_BUCKETS = {
    "web-mysql": {"assets", "flow_logs"},
    "transactions-pg": {"flow_logs"},
    "secure-platform": {"flow_logs"},
    "portal-cdn": {"assets", "app_logs", "app_logs_archive", "flow_logs"},
    "serverless-payments": {"audit_logs", "flow_logs"},
    "full": {"assets", "app_logs", "app_logs_archive", "audit_logs", "flow_logs"},
}


def buckets(doc: Document) -> dict[str, str]:
    """purpose -> resource name of the aws_s3_bucket."""
    found = {}
    for name in resources(doc, "aws_s3_bucket"):
        if not name.startswith("foundation_storage_"):
            continue  # the edge's and compute's own buckets (tests/unit/test_edge_compute.py)
        purpose = name.removeprefix("foundation_storage_").removesuffix("_bucket")
        found[purpose] = name
    return found


def attached(doc: Document, kind: str, bucket: str) -> dict[str, Any]:
    token = ref(doc, "aws_s3_bucket", bucket)
    (match,) = [r for r in resources(doc, kind).values() if r["bucket"] == token]
    return match


def s3_key_arn(doc: Document) -> str:
    return ref(doc, "aws_kms_key", "foundation_keys_s3", "arn")


def test_profile_buckets(doc: Document, profile: str) -> None:
    assert set(buckets(doc)) == EXPECTED_BUCKETS[profile] | {"access_logs"}


def test_every_bucket_blocks_public_access(doc: Document) -> None:
    for bucket in buckets(doc).values():
        block = attached(doc, "aws_s3_bucket_public_access_block", bucket)
        assert all(
            block[k] is True
            for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        )


def test_every_bucket_enforces_owner_and_versions(doc: Document) -> None:
    for bucket in buckets(doc).values():
        assert (
            attached(doc, "aws_s3_bucket_ownership_controls", bucket)["rule"]["object_ownership"]
            == "BucketOwnerEnforced"
        )
        assert attached(doc, "aws_s3_bucket_versioning", bucket)["versioning_configuration"]["status"] == "Enabled"


def test_buckets_use_the_s3_cmk_with_bucket_keys_except_the_access_log_target(doc: Document) -> None:
    for purpose, bucket in buckets(doc).items():
        (rule,) = attached(doc, "aws_s3_bucket_server_side_encryption_configuration", bucket)["rule"]
        default = rule["apply_server_side_encryption_by_default"]
        if purpose == "access_logs":
            # S3 server access logging only delivers into SSE-S3 buckets (AWS limitation).
            assert default == {"sse_algorithm": "AES256"}
        else:
            assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": s3_key_arn(doc)}
            assert rule["bucket_key_enabled"] is True


def test_every_bucket_sends_object_events_to_eventbridge(doc: Document) -> None:
    for bucket in buckets(doc).values():
        assert attached(doc, "aws_s3_bucket_notification", bucket)["eventbridge"] is True


def test_every_bucket_denies_non_tls_requests(doc: Document) -> None:
    for bucket in buckets(doc).values():
        statements = list(iter_statements(policy(attached(doc, "aws_s3_bucket_policy", bucket))))
        (deny,) = [s for s in statements if s.get("Sid") == "DenyInsecureTransport"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        arn = ref(doc, "aws_s3_bucket", bucket, "arn")
        assert deny["Resource"] == [arn, f"{arn}/*"]


def test_every_bucket_logs_access_to_the_access_log_bucket(doc: Document) -> None:
    all_buckets = buckets(doc)
    target = ref(doc, "aws_s3_bucket", all_buckets["access_logs"])
    for purpose, bucket in all_buckets.items():
        logging = [
            r
            for r in resources(doc, "aws_s3_bucket_logging").values()
            if r["bucket"] == ref(doc, "aws_s3_bucket", bucket)
        ]
        if purpose == "access_logs":
            assert logging == []
        else:
            assert logging[0]["target_bucket"] == target
    access_policy = policy(attached(doc, "aws_s3_bucket_policy", all_buckets["access_logs"]))
    (grant,) = [s for s in iter_statements(access_policy) if s.get("Sid") == "S3ServerAccessLogDelivery"]
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"].startswith("${data.aws_caller_identity")


def lifecycle(doc: Document, bucket: str) -> dict[str, Any]:
    (rule,) = attached(doc, "aws_s3_bucket_lifecycle_configuration", bucket)["rule"]
    assert rule["status"] == "Enabled"
    return dict(rule)


def test_every_bucket_expires_noncurrent_versions_and_stale_uploads(doc: Document) -> None:
    for bucket in buckets(doc).values():
        rule = lifecycle(doc, bucket)
        assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] >= 1
        assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 7


@pytest.mark.parametrize(
    ("profile_name", "purpose", "expire", "transition"),
    [
        ("web-mysql", "flow_logs", 365, (90, "GLACIER_IR")),
        ("web-mysql", "assets", None, None),
        ("portal-cdn", "app_logs", 90, (30, "STANDARD_IA")),
        ("portal-cdn", "app_logs_archive", 365, (90, "GLACIER_IR")),
        ("serverless-payments", "audit_logs", 2555, (90, "GLACIER")),
        ("full", "access_logs", 365, (90, "GLACIER_IR")),
    ],
)
def test_documented_retention(
    synthesized: Synthesized, profile_name: str, purpose: str, expire: int | None, transition: tuple[int, str] | None
) -> None:
    doc = synthesized(profile_name)
    rule = lifecycle(doc, buckets(doc)[purpose])
    assert (rule["expiration"][0]["days"] if "expiration" in rule else None) == expire
    got = (rule["transition"][0]["days"], rule["transition"][0]["storage_class"]) if "transition" in rule else None
    assert got == transition


def test_short_retention_logs_replicate_into_a_year_long_archive(synthesized: Synthesized) -> None:
    doc = synthesized("portal-cdn")
    found = buckets(doc)
    (replication,) = resources(doc, "aws_s3_bucket_replication_configuration").values()
    assert replication["bucket"] == ref(doc, "aws_s3_bucket", found["app_logs"])
    (rule,) = replication["rule"]
    assert rule["status"] == "Enabled"
    assert rule["destination"]["bucket"] == ref(doc, "aws_s3_bucket", found["app_logs_archive"], "arn")
    assert rule["destination"]["encryption_configuration"]["replica_kms_key_id"] == s3_key_arn(doc)
    assert rule["delete_marker_replication"]["status"] == "Disabled"
    assert rule["source_selection_criteria"]["sse_kms_encrypted_objects"]["status"] == "Enabled"
    (role_name,) = [
        n for n in resources(doc, "aws_iam_role") if n.startswith("foundation_storage_app_logs_replication_role")
    ]
    assert replication["role"] == ref(doc, "aws_iam_role", role_name, "arn")
    _, role_policy = find_one(
        doc, "aws_iam_role_policy", lambda n, _p: n.startswith("foundation_storage_app_logs_replication_role_policy")
    )
    for statement in iter_statements(policy(role_policy)):
        assert "*" not in str(statement["Resource"]).replace("/*", "")
        assert all(not a.endswith(":*") and a != "*" for a in statement["Action"])
    # Without a short-retention bucket there is no archive and no replication.
    assert resources(synthesized("web-mysql"), "aws_s3_bucket_replication_configuration") == {}


def test_force_destroy_only_when_destroyable(synthesized: Synthesized) -> None:
    destroyable = synthesized("full")
    protected = synthesized("full", TAP_PROTECTED="true")
    assert all(b["force_destroy"] is True for b in resources(destroyable, "aws_s3_bucket").values())
    assert all(b["force_destroy"] is False for b in resources(protected, "aws_s3_bucket").values())


def test_production_suffix_is_protected_by_default(synthesized: Synthesized) -> None:
    doc = synthesized("web-mysql", ENVIRONMENT_SUFFIX="prod")
    assert all(b["force_destroy"] is False for b in resources(doc, "aws_s3_bucket").values())
