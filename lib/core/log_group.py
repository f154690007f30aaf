"""The one way TAP creates a CloudWatch log group: encrypted with the logs key, retained on purpose."""

from __future__ import annotations

from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.config import PCI_LOG_RETENTION_DAYS

# WAF's required name prefix for every log destination (log groups, buckets, streams).
WAF_LOG_PREFIX = "aws-waf-logs-"


def encrypted_log_group(
    scope: Construct, construct_id: str, *, name: str, key: KmsKey, retention_days: int = PCI_LOG_RETENTION_DAYS
) -> CloudwatchLogGroup:
    """`name` must come from `Names` (recorded and checked); retention defaults to PCI 10.5.1's year."""
    return CloudwatchLogGroup(scope, construct_id, name=name, retention_in_days=retention_days, kms_key_id=key.arn)
