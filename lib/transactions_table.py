"""DynamoDB transactions table (document 004): on demand, two GSIs, PITR, streams, CMK, TTL."""

from __future__ import annotations

from dataclasses import dataclass

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

from lib.config import TransactionsTableConfig
from lib.naming import Names

# Index name -> (hash key, range key); every index projects all attributes.
CUSTOMER_INDEX = "customer-id-timestamp-index"  # fraud velocity checks query this one
INDEXES = {
    CUSTOMER_INDEX: ("customer_id", "timestamp"),
    "status-timestamp-index": ("status", "timestamp"),
}
ATTRIBUTE_TYPES = {"transaction_id": "S", "customer_id": "S", "status": "S", "timestamp": "N"}


@dataclass(frozen=True, kw_only=True)
class TableProps:
    config: TransactionsTableConfig
    names: Names
    dynamodb_key: KmsKey
    destroyable: bool


class TransactionsTable(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: TableProps) -> None:
        super().__init__(scope, construct_id)
        names = props.names
        self.table = DynamodbTable(
            self,
            "table",
            name=names.record("dynamodb_table", f"{props.config.base_name}-{names.suffix}"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="transaction_id",
            attribute=[DynamodbTableAttribute(name=name, type=kind) for name, kind in ATTRIBUTE_TYPES.items()],
            global_secondary_index=[
                DynamodbTableGlobalSecondaryIndex(
                    name=index, hash_key=hash_key, range_key=range_key, projection_type="ALL"
                )
                for index, (hash_key, range_key) in INDEXES.items()
            ],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=props.dynamodb_key.arn),
            ttl=DynamodbTableTtl(attribute_name=props.config.ttl_attribute, enabled=True),
            deletion_protection_enabled=not props.destroyable,
        )
