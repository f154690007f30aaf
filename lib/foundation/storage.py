"""The storage layer: the access-log bucket, the profile's buckets, and archives for short-retention ones.

PCI-DSS 10.5.1 keeps audit logs 12 months. A bucket whose source document expires objects sooner
keeps the document's value and gets a replicated archive bucket retained for 12 months.
"""

from __future__ import annotations

from cdktn_provider_aws.kms_key import KmsKey
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
from constructs import Construct

from lib.config import PCI_LOG_LIFECYCLE, PCI_LOG_RETENTION_DAYS, BucketLifecycle
from lib.core.bucket import SecureBucket, SecureBucketProps, grant_server_access_logging
from lib.core.context import StackContext
from lib.core.iam import service_role
from lib.core.policies import key_use


def needs_archive(lifecycle: BucketLifecycle) -> bool:
    return lifecycle.expire_after_days is not None and lifecycle.expire_after_days < PCI_LOG_RETENTION_DAYS


ARCHIVE_LIFECYCLE = PCI_LOG_LIFECYCLE


class Storage(Construct):
    """`buckets` and `archives` keyed by purpose; `access_logs` receives every bucket's access logs."""

    def __init__(self, scope: Construct, construct_id: str, context: StackContext, s3_key: KmsKey) -> None:
        super().__init__(scope, construct_id)
        self._context, self._s3_key = context, s3_key
        config = context.config.storage
        self.access_logs = SecureBucket(
            self,
            "access_logs",
            context.lifecycle,
            SecureBucketProps(
                name=context.names.make("s3_bucket", "access-logs"),
                lifecycle=BucketLifecycle(
                    expire_after_days=config.access_log_retention_days,
                    transition_after_days=90,
                    transition_storage_class="GLACIER_IR",
                ),
                kms_key=None,
                access_log_bucket=None,
            ),
        )
        grant_server_access_logging(self.access_logs, context)
        self.buckets: dict[str, SecureBucket] = {}
        self.archives: dict[str, SecureBucket] = {}
        for purpose, lifecycle in config.buckets.items():
            self.buckets[purpose] = self._bucket(purpose, lifecycle)
            if needs_archive(lifecycle):
                self.archives[purpose] = self._bucket(f"{purpose}_archive", ARCHIVE_LIFECYCLE)
                self._replicate(purpose)

    def bucket(self, purpose: str) -> SecureBucket:
        try:
            return self.buckets[purpose]
        except KeyError:
            raise KeyError(f"no {purpose!r} bucket in this profile; it has {sorted(self.buckets)}") from None

    def _bucket(self, purpose: str, lifecycle: BucketLifecycle) -> SecureBucket:
        return SecureBucket(
            self,
            purpose,
            self._context.lifecycle,
            SecureBucketProps(
                name=self._context.names.make("s3_bucket", purpose.replace("_", "-")),
                lifecycle=lifecycle,
                kms_key=self._s3_key,
                access_log_bucket=self.access_logs.bucket,
            ),
        )

    def _replicate(self, purpose: str) -> None:
        """Copies new objects into the archive; expirations in the source are not replicated."""
        context = self._context
        source, archive = self.buckets[purpose], self.archives[purpose]
        key_arn = self._s3_key.arn
        role = service_role(
            self,
            f"{purpose}_replication_role",
            name=context.names.make("iam_role", purpose.replace("_", "-"), "archive"),
            description=f"S3 replication of {source.name} into its 12-month archive",
            service=context.principal("s3"),
            account_id=context.account_id,
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
                key_use(
                    "ArchiveEncryption",
                    ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    key_arn,
                    [context.region.service_host("s3")],
                ),
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
