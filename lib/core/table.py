"""The one way TAP creates a DynamoDB table: on demand, CMK-encrypted, PITR, TTL, protected when it must be."""

from __future__ import annotations

from collections.abc import Mapping

from cdktn_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTableGlobalSecondaryIndex,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.core.context import Lifecycle


def secure_table(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    key: KmsKey,
    lifecycle: Lifecycle,
    hash_key: str,
    attribute_types: Mapping[str, str],
    ttl_attribute: str,
    indexes: Mapping[str, tuple[str, str]] | None = None,
    stream: bool = False,
) -> DynamodbTable:
    """`indexes` maps an index name to (hash key, range key); every index projects all attributes."""
    return DynamodbTable(
        scope,
        construct_id,
        name=name,
        billing_mode="PAY_PER_REQUEST",
        hash_key=hash_key,
        attribute=[DynamodbTableAttribute(name=attr, type=kind) for attr, kind in attribute_types.items()],
        global_secondary_index=[
            DynamodbTableGlobalSecondaryIndex(name=index, hash_key=hk, range_key=rk, projection_type="ALL")
            for index, (hk, rk) in (indexes or {}).items()
        ]
        or None,
        point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
        stream_enabled=stream or None,
        stream_view_type="NEW_AND_OLD_IMAGES" if stream else None,
        server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=key.arn),
        ttl=DynamodbTableTtl(attribute_name=ttl_attribute, enabled=True),
        deletion_protection_enabled=lifecycle.deletion_protection,
    )
