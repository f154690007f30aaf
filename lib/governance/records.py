"""Where the account baseline keeps its audit records: an access-log bucket, then one bucket per record.

Baseline buckets carry the account id in their names: one baseline exists per account and region,
and bucket names are unique across all of AWS. Every record is kept for PCI DSS 10.5.1's year,
three months of it at hand.
"""

from __future__ import annotations

from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.config import PCI_LOG_LIFECYCLE
from lib.core.bucket import ObjectLock, SecureBucket, SecureBucketProps, grant_server_access_logging
from lib.core.context import AccountContext


class AuditRecords(Construct):
    """`access_logs` receives the server access logs of every bucket made by `bucket`."""

    def __init__(self, scope: Construct, construct_id: str, context: AccountContext) -> None:
        super().__init__(scope, construct_id)
        self._context = context
        self.access_logs = SecureBucket(
            self,
            "access_logs",
            context.lifecycle,
            SecureBucketProps(
                name=self._name("access-logs"), lifecycle=PCI_LOG_LIFECYCLE, kms_key=None, access_log_bucket=None
            ),
        )
        grant_server_access_logging(self.access_logs, context)

    def bucket(self, purpose: str, key: KmsKey, object_lock: ObjectLock | None = None) -> SecureBucket:
        """A KMS-encrypted bucket for one kind of record (`purpose`, in snake case, is its construct id)."""
        return SecureBucket(
            self,
            purpose,
            self._context.lifecycle,
            SecureBucketProps(
                name=self._name(purpose.replace("_", "-")),
                lifecycle=PCI_LOG_LIFECYCLE,
                kms_key=key,
                access_log_bucket=self.access_logs.bucket,
                object_lock=object_lock,
            ),
        )

    def _name(self, purpose: str) -> str:
        return self._context.names.make_in_account("s3_bucket", purpose, account_id=self._context.account_id)
