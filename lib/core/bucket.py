"""The secure bucket: the one block every S3 bucket of TAP is built from.

Every bucket gets: all four public-access blocks, default encryption, versioning, bucket-owner
enforced ownership, a policy denying non-TLS requests, lifecycle rules, object events to
EventBridge, and server access logging into the access-log bucket. Layers that need a service to
deliver into a bucket add statements with `SecureBucket.add_policy_statements`; the bucket
renders one policy from them. Whether a bucket with objects may be destroyed is the lifecycle's call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cdktn_provider_aws.kms_key import KmsKey
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktn_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktn_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktn_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from cdktn_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktn_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktn_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktn_provider_aws.s3_bucket_versioning import S3BucketVersioningA
from constructs import Construct

from lib.config import BucketLifecycle
from lib.core.context import AccountContext, Lifecycle
from lib.core.policies import ResourcePolicy, deny_insecure_transport

Statement = dict[str, Any]

ABORT_INCOMPLETE_UPLOADS_DAYS = 7


@dataclass(frozen=True, kw_only=True)
class ObjectLock:
    """Default retention of each new object version. In COMPLIANCE mode nobody, the root user
    included, can delete a version or shorten its retention before it ends; GOVERNANCE lets
    principals holding s3:BypassGovernanceRetention do so (destroyable environments)."""

    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    days: int


@dataclass(frozen=True, kw_only=True)
class SecureBucketProps:
    name: str
    lifecycle: BucketLifecycle
    # None means SSE-S3; only the server-access-log bucket uses it, because S3 cannot deliver
    # server access logs into an SSE-KMS bucket.
    kms_key: KmsKey | None
    # None only for the access-log bucket itself (it cannot log into itself).
    access_log_bucket: S3Bucket | None
    # CloudFront's standard logs are delivered through an ACL grant, so their bucket must accept
    # ACLs ("BucketOwnerPreferred"); every other bucket disables them.
    object_ownership: str = "BucketOwnerEnforced"
    # Write-once retention of every new object version (audit trails); None for ordinary buckets.
    object_lock: ObjectLock | None = None


class SecureBucket(Construct):
    """An S3 bucket with every PCI-relevant control on; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, lifecycle: Lifecycle, props: SecureBucketProps) -> None:
        super().__init__(scope, construct_id)
        self.kms_key = props.kms_key
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=props.name,
            force_destroy=lifecycle.force_destroy,
            object_lock_enabled=True if props.object_lock is not None else None,
            tags={"Name": props.name},
        )
        bucket_id = self.bucket.id
        if props.object_lock is not None:
            S3BucketObjectLockConfigurationA(
                self,
                "object_lock",
                bucket=bucket_id,
                rule=S3BucketObjectLockConfigurationRuleA(
                    default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode=props.object_lock.mode, days=props.object_lock.days
                    )
                ),
            )
        S3BucketPublicAccessBlock(
            self,
            "public_access_block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        # Services that write through ACLs (CloudFront's standard logs) wait for this resource.
        self.ownership = S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership=props.object_ownership),
        )
        self.versioning = S3BucketVersioningA(
            self, "versioning", bucket=bucket_id, versioning_configuration={"status": "Enabled"}
        )
        default_encryption = (
            S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="aws:kms", kms_master_key_id=props.kms_key.arn
            )
            if props.kms_key is not None
            else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                sse_algorithm="AES256"
            )
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=default_encryption,
                    bucket_key_enabled=props.kms_key is not None,
                )
            ],
        )
        S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=bucket_id, rule=lifecycle_rules(props.lifecycle), depends_on=[self.versioning]
        )
        # Object events go to EventBridge, where monitoring can alert on deletes in log buckets.
        S3BucketNotification(self, "notifications", bucket=bucket_id, eventbridge=True)
        if props.access_log_bucket is not None:
            S3BucketLoggingA(
                self,
                "access_logging",
                bucket=bucket_id,
                target_bucket=props.access_log_bucket.id,
                target_prefix=f"{props.name}/",
            )
        # Services that check the bucket when they are configured (ELB) wait for this resource.
        self.policy_resource = policy = S3BucketPolicy(self, "policy", bucket=bucket_id, policy="{}")
        self.policy = ResourcePolicy(
            lambda document: setattr(policy, "policy", document),
            deny_insecure_transport("s3:*", [self.bucket.arn, f"{self.bucket.arn}/*"]),
        )

    @property
    def name(self) -> str:
        return self.bucket.bucket

    @property
    def arn(self) -> str:
        return self.bucket.arn

    def add_policy_statements(self, *statements: Statement) -> None:
        """Lets the layer that needs a delivery (logs, ALB, WAF, Config) grant it on this bucket."""
        self.policy.add(*statements)


def lifecycle_rules(lifecycle: BucketLifecycle) -> list[S3BucketLifecycleConfigurationRule]:
    """Noncurrent versions always expire; current objects transition/expire as configured."""
    transitions = (
        [
            S3BucketLifecycleConfigurationRuleTransition(
                days=lifecycle.transition_after_days, storage_class=lifecycle.transition_storage_class
            )
        ]
        if lifecycle.transition_after_days is not None
        else None
    )
    expirations = (
        [S3BucketLifecycleConfigurationRuleExpiration(days=lifecycle.expire_after_days)]
        if lifecycle.expire_after_days is not None
        else None
    )
    return [
        S3BucketLifecycleConfigurationRule(
            id="retention",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS
                )
            ],
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=lifecycle.noncurrent_expire_after_days
                )
            ],
            transition=transitions,
            expiration=expirations,
        )
    ]


def grant_server_access_logging(access_logs: SecureBucket, context: AccountContext) -> None:
    """S3 delivers the server access logs of this account's buckets into `access_logs`."""
    access_logs.add_policy_statements(
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": context.principal("logging.s3")},
            "Action": "s3:PutObject",
            "Resource": f"{access_logs.arn}/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": context.account_id},
                "ArnLike": {"aws:SourceArn": f"arn:{context.partition}:s3:::*"},
            },
        }
    )


def grant_log_delivery(bucket: SecureBucket, context: AccountContext) -> None:
    """CloudWatch Logs' vended-log delivery (VPC flow logs, WAF logs) writes into `bucket`, for this
    account's log sources only, under AWSLogs/<account>/. From any of the account's regions: the
    CloudFront web ACL, which lives in us-east-1, delivers into the stack's region."""
    account, source = context.account_id, context.arn("logs", "*", region="*")
    principal = {"Service": context.principal("delivery.logs")}
    bucket.add_policy_statements(
        {
            "Sid": "LogDeliveryWrite",
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:PutObject",
            "Resource": f"{bucket.arn}/AWSLogs/{account}/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"},
                "ArnLike": {"aws:SourceArn": source},
            },
        },
        {
            "Sid": "LogDeliveryAclCheck",
            "Effect": "Allow",
            "Principal": principal,
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket.arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": source}},
        },
    )
