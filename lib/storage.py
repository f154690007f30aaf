"""S3 storage: one secure-bucket building block used for every bucket, and the storage layer.

Every bucket gets: all four public-access blocks, default encryption, versioning, bucket-owner
enforced ownership, a policy denying non-TLS requests, lifecycle rules, object events to
EventBridge, and server access logging into the access-log bucket. Layers that need a service to deliver into a bucket add
statements with `SecureBucket.add_policy_statements`; the bucket renders one policy from them.

PCI-DSS 10.5.1 keeps audit logs 12 months. A bucket whose source document expires objects sooner
keeps the document's value and gets a replicated archive bucket retained for 12 months.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
from cdktn_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktn_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktn_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktn_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktn_provider_aws.s3_bucket_versioning import S3BucketVersioningA
from constructs import Construct

from lib.config import PCI_LOG_RETENTION_DAYS, BucketLifecycle, StorageConfig
from lib.iam import service_role
from lib.naming import Names
from lib.policies import ResourcePolicy, deny_insecure_transport

Statement = dict[str, Any]
ABORT_INCOMPLETE_UPLOADS_DAYS = 7


@dataclass(frozen=True, kw_only=True)
class SecureBucketProps:
    name: str
    lifecycle: BucketLifecycle
    # None means SSE-S3; only the server-access-log bucket uses it, because S3 cannot deliver
    # server access logs into an SSE-KMS bucket.
    kms_key: KmsKey | None
    # None only for the access-log bucket itself (it cannot log into itself).
    access_log_bucket: S3Bucket | None
    force_destroy: bool = False


class SecureBucket(Construct):
    """An S3 bucket with every PCI-relevant control on; see the module docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: SecureBucketProps) -> None:
        super().__init__(scope, construct_id)
        self.kms_key = props.kms_key
        self.bucket = S3Bucket(
            self, "bucket", bucket=props.name, force_destroy=props.force_destroy, tags={"Name": props.name}
        )
        bucket_id = self.bucket.id
        S3BucketPublicAccessBlock(
            self,
            "public_access_block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
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
        policy = S3BucketPolicy(self, "policy", bucket=bucket_id, policy="{}")
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


def needs_archive(lifecycle: BucketLifecycle) -> bool:
    return lifecycle.expire_after_days is not None and lifecycle.expire_after_days < PCI_LOG_RETENTION_DAYS


ARCHIVE_LIFECYCLE = BucketLifecycle(
    expire_after_days=PCI_LOG_RETENTION_DAYS, transition_after_days=90, transition_storage_class="GLACIER_IR"
)


@dataclass(frozen=True, kw_only=True)
class StorageProps:
    config: StorageConfig
    s3_key: KmsKey
    names: Names
    account_id: str
    partition: str
    force_destroy: bool


class Storage(Construct):
    """The access-log bucket, the profile's buckets, and archives for short-retention ones."""

    def __init__(self, scope: Construct, construct_id: str, props: StorageProps) -> None:
        super().__init__(scope, construct_id)
        names = props.names
        self.access_logs = SecureBucket(
            self,
            "access_logs",
            SecureBucketProps(
                name=names.make("s3_bucket", "access-logs"),
                lifecycle=BucketLifecycle(
                    expire_after_days=props.config.access_log_retention_days,
                    transition_after_days=90,
                    transition_storage_class="GLACIER_IR",
                ),
                kms_key=None,
                access_log_bucket=None,
                force_destroy=props.force_destroy,
            ),
        )
        self._grant_server_access_logging(props.account_id, props.partition)
        self.buckets: dict[str, SecureBucket] = {}
        self.archives: dict[str, SecureBucket] = {}
        for purpose, lifecycle in props.config.buckets.items():
            self.buckets[purpose] = self._bucket(purpose, lifecycle, props)
            if needs_archive(lifecycle):
                self.archives[purpose] = self._bucket(f"{purpose}_archive", ARCHIVE_LIFECYCLE, props)
                self._replicate(purpose, props)

    def bucket(self, purpose: str) -> SecureBucket:
        try:
            return self.buckets[purpose]
        except KeyError:
            raise KeyError(f"no {purpose!r} bucket in this profile; it has {sorted(self.buckets)}") from None

    def _bucket(self, purpose: str, lifecycle: BucketLifecycle, props: StorageProps) -> SecureBucket:
        return SecureBucket(
            self,
            purpose,
            SecureBucketProps(
                name=props.names.make("s3_bucket", purpose.replace("_", "-")),
                lifecycle=lifecycle,
                kms_key=props.s3_key,
                access_log_bucket=self.access_logs.bucket,
                force_destroy=props.force_destroy,
            ),
        )

    def _grant_server_access_logging(self, account_id: str, partition: str) -> None:
        self.access_logs.add_policy_statements(
            {
                "Sid": "S3ServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{self.access_logs.arn}/*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::*"},
                },
            }
        )

    def _replicate(self, purpose: str, props: StorageProps) -> None:
        """Copies new objects into the archive; expirations in the source are not replicated."""
        source, archive = self.buckets[purpose], self.archives[purpose]
        key_arn = props.s3_key.arn
        role = service_role(
            self,
            f"{purpose}_replication_role",
            name=props.names.make("iam_role", purpose.replace("_", "-"), "archive"),
            description=f"S3 replication of {source.name} into its 12-month archive",
            service="s3.amazonaws.com",
            account_id=props.account_id,
            policy_name="replicate-to-archive",
            statements=[
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": source.arn,
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ],
                    "Resource": f"{source.arn}/*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
                    "Resource": f"{archive.arn}/*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": key_arn,
                    "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
                },
            ],
        )
        S3BucketReplicationConfigurationA(
            self,
            f"{purpose}_replication",
            bucket=source.bucket.id,
            role=role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id="archive",
                    status="Enabled",
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status="Disabled"
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled"
                        )
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=archive.arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=key_arn
                        ),
                    ),
                )
            ],
            depends_on=[source.versioning, archive.versioning],
        )
